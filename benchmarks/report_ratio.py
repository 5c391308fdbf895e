"""The report's end-to-end time against the 24 summary KPIs hand-written in polars.

``python benchmarks/report_ratio.py [--sizes 1m] [--formats parquet,csv] [--rounds 3]``

For each dataset (``benchmarks/data/leads_<size>`` in Parquet, and a CSV copy
written next to it on first use) it runs, interleaved round by round so that the
load of a shared machine hits every command alike:

- ``pipelinekit report DIR --format json`` (read + validate + every section + JSON),
- ``pipelinekit report DIR --sections summary --format json``,
- ``python benchmarks/summary_polars.py DIR AS_OF`` (the yardstick),

each in a fresh process, and prints the median wall time of each and the ratios
report / polars and summary / polars per round and as medians. Peak memory is the
child's maximum resident set size. Results go to ``benchmarks/results/report_ratio.json``.
The summary of the report is checked against the hand-written one (all 24 keys).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
AS_OF = "2025-12-31"
SIZES = {"100k": 100_000, "1m": 1_000_000}
TABLES = ("leads", "activities", "opportunities", "accounts", "reps", "campaigns")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env


def dataset(size: str, form: str) -> Path:
    """The Parquet dataset of ``size`` (generated once), or its CSV copy."""
    folder = DATA / f"leads_{size}"
    if not (folder / "activities.parquet").exists():
        cmd = [sys.executable, "-m", "pipelinekit.cli", "sample", str(folder)]
        cmd += ["--leads", str(SIZES[size]), "--seed", "7", "--format", "parquet"]
        subprocess.run(cmd, check=True, env=_env())
    if form == "parquet":
        return folder
    csv = DATA / f"leads_{size}_csv"
    if not (csv / "activities.csv").exists():
        import polars as pl

        csv.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.parquet"):
            pl.read_parquet(path).write_csv(csv / f"{path.stem}.csv")
    return csv


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS GiB, stdout) of one fresh process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
        out.seek(0)
        text = out.read().decode()
    return seconds, usage.ru_maxrss / 2**20, text


def commands(folder: Path, out: Path) -> dict[str, list[str]]:
    report = [sys.executable, "-m", "pipelinekit.cli", "report", str(folder), "--as-of", AS_OF]
    report += ["--format", "json", "--quiet"]
    return {
        "report": [*report, "-o", str(out / "report.json")],
        "summary": [*report, "--sections", "summary", "-o", str(out / "summary.json")],
        "polars": [sys.executable, str(HERE / "summary_polars.py"), str(folder), AS_OF],
    }


def same_summary(report_json: Path, polars_text: str) -> list[str]:
    """Summary keys whose values differ between the report and the hand-written code."""
    got = json.loads(report_json.read_text())["summary"]
    want = json.loads(polars_text)
    differ = []
    for key, value in want.items():
        mine = got.get(key)
        if isinstance(value, dict):  # a rate: compare its counts and value
            mine = mine or {}
            keys = ("numerator", "denominator", "value")
            if any(_differs(mine.get(k), value.get(k)) for k in keys):
                differ.append(key)
            continue
        if _differs(mine, value):
            differ.append(key)
    return differ


def _differs(mine: Any, value: Any) -> bool:
    if mine is None or value is None:
        return mine is not value
    return abs(float(mine) - float(value)) > 1e-9 * max(1.0, abs(float(value)))


def measure(size: str, form: str, rounds: int) -> dict[str, Any]:
    folder = dataset(size, form)
    times: dict[str, list[float]] = {"report": [], "summary": [], "polars": []}
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cmds = commands(folder, out)
        polars_text = ""
        for _ in range(rounds):
            for name, cmd in cmds.items():
                seconds, peak, text = timed(cmd)
                times[name].append(seconds)
                memory[name] = max(memory.get(name, 0.0), peak)
                if name == "polars":
                    polars_text = text
        differ = same_summary(out / "report.json", polars_text)
    ratios = {
        name: [a / b for a, b in zip(times[name], times["polars"], strict=True)]
        for name in ("report", "summary")
    }
    input_gib = sum(p.stat().st_size for p in folder.iterdir()) / 2**30
    return {
        "size": size,
        "format": form,
        "rounds": rounds,
        "seconds": times,
        "median_seconds": {k: statistics.median(v) for k, v in times.items()},
        "ratios": ratios,
        "median_ratio": {k: statistics.median(v) for k, v in ratios.items()},
        "peak_gib": memory,
        "files_gib": input_gib,
        "summary_keys_differing": differ,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = [
        measure(size, form, args.rounds)
        for size in args.sizes.split(",")
        for form in args.formats.split(",")
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report_ratio.json").write_text(
        json.dumps({"load_average": os.getloadavg(), "results": results}, indent=2, sort_keys=True)
    )
    print("| data | report | summary only | hand polars | report / polars | summary / polars |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        m, q = r["median_seconds"], r["median_ratio"]
        print(
            f"| {r['size']} {r['format']} | {m['report']:.1f} s | {m['summary']:.1f} s | "
            f"{m['polars']:.1f} s | {q['report']:.2f} | {q['summary']:.2f} |"
        )
        if r["summary_keys_differing"]:
            print(f"  summary keys differing: {r['summary_keys_differing']}")


if __name__ == "__main__":
    main()
