"""``make bench``: pipelinekit vs hand-written pandas / polars / DuckDB SQL.

Generates the synthetic datasets with ``pipelinekit sample --format parquet`` into
``benchmarks/data/`` (reused when present), then measures, each in a fresh process
(:mod:`measure`): the full report (read + validate + report), the journey, the
funnel by campaign x month, 5C2M compliance and SQL allocation by rep x month,
through pipelinekit on pandas, polars and DuckDB inputs and hand-written in each
(:mod:`handwritten`); and building frames from Lead / Activity objects. The
hand-written results must equal pipelinekit's (checked here). Prints the table and
writes ``benchmarks/results/latest.json``.

Options: ``--sizes 100k,1m`` (also ``5m``), ``--repeat N`` (best of N; default 3 at
100k, 2 above), ``--only journey,funnel`` to run a subset, ``--no-objects``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
SIZES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}
KPIS = ("journey", "funnel", "cadence", "allocation")
ENGINES = ("pandas", "polars", "duckdb")
SEED = 7

TARGETS = {
    "polars_ratio_max": 1.2,
    "duckdb_ratio_max": 1.2,
    "pandas_speedup_min": 3.0,
    "report_seconds_max": 15.0,
    "memory_ratio_max": 3.0,
    "objects_seconds_max": 1.0,
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def ensure_data(size: str) -> Path:
    """The size's Parquet dataset and its journey (generated once, then reused)."""
    folder = DATA / f"leads_{size}"
    if not (folder / "activities.parquet").exists():
        print(f"generating {size} leads into {folder} ...", flush=True)
        cmd = [sys.executable, "-m", "pipelinekit.cli", "sample", str(folder)]
        cmd += ["--leads", str(SIZES[size]), "--seed", str(SEED), "--format", "parquet"]
        subprocess.run(cmd, check=True, env=_env())
    journey = DATA / f"leads_{size}_journey.parquet"
    if not journey.exists():
        code = (
            "import polars as pl, pipelinekit as pk, sys; from datetime import date; "
            "d = sys.argv[1]; t = {n: pl.read_parquet(f'{d}/{n}.parquet') for n in "
            "('leads', 'activities', 'opportunities')}; "
            "pk.journey(t['leads'], t['activities'], t['opportunities'], "
            "as_of=date(2025, 12, 31)).write_parquet(sys.argv[2])"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(folder), str(journey)], check=True, env=_env()
        )
    return folder


def measure(kpi: str, impl: str, engine: str, data: Path, out: Path, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "measure.py"), kpi, impl, engine, str(data)]
    cmd += ["--out", str(out), "--repeat", str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement failed: {' '.join(cmd)}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def check_equal(kpi: str, outputs: dict[str, Path]) -> str:
    """Every output equals pipelinekit-on-polars (rows in any order, dtypes normalised)."""
    if kpi == "report":
        return _check_reports(outputs)
    import polars as pl
    from tests.engines.engines import assert_frames_equal

    reference = pl.read_parquet(outputs["pipelinekit/polars"])
    for name, path in outputs.items():
        assert_frames_equal(pl.read_parquet(path), reference, label=f"{kpi} {name}")
    return f"{len(outputs)} results equal ({reference.height} rows)"


def _check_reports(outputs: dict[str, Path]) -> str:
    reports = {name: json.loads(path.read_text()) for name, path in outputs.items()}
    reference = reports["pipelinekit/polars"]["summary"]
    for name, report in reports.items():
        for key, want in reference.items():
            got = report["summary"][key]
            assert _close(got, want), f"report {name}: summary[{key!r}] {got!r} != {want!r}"
    return f"{len(outputs)} summaries equal"


def _close(a: Any, b: Any) -> bool:
    if isinstance(b, dict):
        return isinstance(a, dict) and all(_close(a.get(k), v) for k, v in b.items())
    if isinstance(b, float) or isinstance(a, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _exponent(small: float, large: float, factor: float) -> float:
    return math.log(large / small) / math.log(factor)


def summarise(results: dict[str, Any], sizes: list[str]) -> dict[str, Any]:
    """Ratios against every target, per KPI and size."""
    out: dict[str, Any] = {}
    for size in sizes:
        rows = results[size]
        for kpi in KPIS:
            r = rows.get(kpi)
            if not r:
                continue
            t = {k: v["seconds"] for k, v in r.items()}
            mem = {k: v["peak_bytes"] / v["input_bytes"] for k, v in r.items()}
            out.setdefault(size, {})[kpi] = {
                "polars_ratio": t["pipelinekit/polars"] / t["hand/polars"],
                "duckdb_ratio": t["pipelinekit/duckdb"] / t["hand/duckdb"],
                "pandas_speedup": t["hand/pandas"] / t["pipelinekit/pandas"],
                "memory_ratio": {k: mem[k] for k in mem if k.startswith("pipelinekit")},
            }
        if "report" in rows:
            out.setdefault(size, {})["report"] = {
                k: v["seconds"] for k, v in rows["report"].items()
            }
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        factor = SIZES[large] / SIZES[small]
        exps: dict[str, dict[str, float]] = {}
        for kpi in (*KPIS, "report"):
            a, b = results[small].get(kpi), results[large].get(kpi)
            if not a or not b:
                continue
            exps[kpi] = {
                k: _exponent(a[k]["seconds"], b[k]["seconds"], factor) for k in a if k in b
            }
        out["scaling_exponent"] = {"from": small, "to": large, "by_kpi": exps}
    return out


def _fmt_s(seconds: float) -> str:
    return f"{seconds:7.2f}" if seconds >= 0.1 else f"{seconds:7.3f}"


def print_table(results: dict[str, Any], sizes: list[str], summary: dict[str, Any]) -> None:
    cols = [f"{i}/{e}" for i in ("pipelinekit", "hand") for e in ENGINES]
    heads = ["pk pandas", "pk polars", "pk duckdb", "pd hand", "pl hand", "sql hand"]
    print()
    print(f"{'KPI':12s}{'size':>6s}" + "".join(f"{h:>10s}" for h in heads), end="")
    print(f"{'pl ratio':>10s}{'db ratio':>10s}{'pd speedup':>11s}{'peak/in':>9s}")
    for size in sizes:
        for kpi in KPIS:
            r = results[size].get(kpi)
            if not r:
                continue
            s = summary[size][kpi]
            peak = max(s["memory_ratio"].values())
            print(
                f"{kpi:12s}{size:>6s}" + "".join(f"{_fmt_s(r[c]['seconds']):>10s}" for c in cols),
                end="",
            )
            print(
                f"{s['polars_ratio']:10.2f}{s['duckdb_ratio']:10.2f}{s['pandas_speedup']:11.2f}"
                f"{peak:9.2f}"
            )
    print()
    for size in sizes:
        rep = results[size].get("report")
        if rep:
            text = ", ".join(
                f"{k.split('/')[1]} {v['seconds']:.1f} s (peak {v['peak_bytes'] / 2**30:.2f} GiB,"
                f" {v['peak_bytes'] / v['input_bytes']:.1f}x input)"
                for k, v in rep.items()
            )
            print(f"full report {size}: {text}")
        objs = results[size].get("objects")
        if objs:
            text = ", ".join(
                f"{v['rows']:,} {k.split('/')[1]} in {v['seconds']:.2f} s" for k, v in objs.items()
            )
            print(f"objects -> frame {size}: {text}")
    exps = summary.get("scaling_exponent")
    if exps:
        print(f"\nscaling exponent {exps['from']} -> {exps['to']} (1.0 = linear):")
        for kpi, by in exps["by_kpi"].items():
            pk = {k.split("/")[1]: v for k, v in by.items() if k.startswith("pipelinekit")}
            print(f"  {kpi:12s}" + "  ".join(f"{e} {v:.2f}" for e, v in pk.items()))


def markdown(record: dict[str, Any]) -> str:
    """The measured tables as Markdown (for docs/performance.md and the README)."""
    results, summary = record["results"], record["summary"]
    sizes = [s for s in SIZES if s in results]
    lines = [
        "| KPI | leads | pipelinekit pandas | pipelinekit polars | pipelinekit DuckDB "
        "| hand pandas | hand polars | hand DuckDB SQL | polars ratio | DuckDB ratio "
        "| pandas speed-up | peak / input |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cols = [f"{i}/{e}" for i in ("pipelinekit", "hand") for e in ENGINES]
    for kpi in KPIS:
        for size in sizes:
            r = results[size].get(kpi)
            if not r:
                continue
            s = summary[size][kpi]
            peak = max(s["memory_ratio"].values())
            times = " | ".join(f"{r[c]['seconds']:.2f} s" for c in cols)
            lines.append(
                f"| {kpi} | {size} | {times} | {s['polars_ratio']:.2f} | "
                f"{s['duckdb_ratio']:.2f} | {s['pandas_speedup']:.1f}x | {peak:.1f}x |"
            )
    lines += [
        "",
        "| full report (read + validate + report) | leads | seconds | peak memory | peak / input |",
        "|---|---|---:|---:|---:|",
    ]
    for size in sizes:
        for name, v in results[size].get("report", {}).items():
            lines.append(
                f"| {name.split('/')[1]} | {size} | {v['seconds']:.1f} s | "
                f"{v['peak_bytes'] / 2**30:.2f} GiB | {v['peak_bytes'] / v['input_bytes']:.1f}x |"
            )
    lines += ["", "| objects -> frame | leads | objects | seconds |", "|---|---|---:|---:|"]
    for size in sizes:
        for name, v in results[size].get("objects", {}).items():
            what = name.split("/")[1]
            lines.append(f"| {what} | {size} | {v['rows']:,} | {v['seconds']:.2f} s |")
    exps = summary.get("scaling_exponent")
    if exps:
        lines += [
            "",
            f"| scaling exponent {exps['from']} -> {exps['to']} | pandas | polars | DuckDB |",
            "|---|---:|---:|---:|",
        ]
        for kpi, by in exps["by_kpi"].items():
            vals = " | ".join(f"{by.get(f'pipelinekit/{e}', math.nan):.2f}" for e in ENGINES)
            lines.append(f"| {kpi} | {vals} |")
    machine = record["machine"]
    lines += [
        "",
        f"Measured {record['created']} on {machine['cpus']} CPUs ({machine['platform']}), "
        f"load average before {_loads(machine['load_average_before'])}, "
        f"after {_loads(machine['load_average_after'])}.",
    ]
    return "\n".join(lines)


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _load() -> list[float]:
    return list(os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--only", default="")
    parser.add_argument("--no-objects", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables of --output as Markdown"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.output.read_text())))
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    wanted = [k for k in ("report", *KPIS) if not only or k in only]
    load_before = _load()
    started = time.time()
    results: dict[str, Any] = {}
    checks: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="pipelinekit-bench-") as tmp:
        for size in sizes:
            data = ensure_data(size)
            repeat = args.repeat or (3 if SIZES[size] <= 100_000 else 2)
            results[size] = {}
            checks[size] = {}
            for kpi in wanted:
                impls = ("pipelinekit",) if kpi == "report" else ("pipelinekit", "hand")
                outputs: dict[str, Path] = {}
                for impl in impls:
                    for engine in ENGINES:
                        name = f"{impl}/{engine}"
                        out = Path(tmp) / f"{size}-{kpi}-{impl}-{engine}.out"
                        print(f"{size:>5s} {kpi:11s} {name:20s}", end="", flush=True)
                        reps = 1 if kpi == "report" else repeat
                        r = measure(kpi, impl, engine, data, out, reps)
                        print(f"{r['seconds']:8.3f} s  peak {r['peak_bytes'] / 2**20:8.0f} MiB")
                        results[size].setdefault(kpi, {})[name] = r
                        outputs[name] = out
                checks[size][kpi] = check_equal(kpi, outputs)
                print(f"      {kpi}: {checks[size][kpi]}")
            if not args.no_objects and not only:
                for what in ("leads", "activities"):
                    out = Path(tmp) / f"{size}-objects-{what}.out"
                    r = measure("objects", "pipelinekit", what, data, out, 1)
                    print(
                        f"{size:>5s} objects {what:10s} {r['rows']:>10,} rows {r['seconds']:8.3f} s"
                    )
                    results[size].setdefault("objects", {})[f"pipelinekit/{what}"] = r
    summary = summarise(results, sizes) if not only or set(KPIS) <= only else {}
    if summary:
        print_table(results, sizes, summary)
    load_after = _load()
    print(f"\nload average before {load_before}, after {load_after}; {os.cpu_count()} CPUs")
    record = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "versions": _versions(),
        "seconds_total": round(time.time() - started, 1),
        "as_of": "2025-12-31",
        "targets": TARGETS,
        "results": results,
        "equality_checks": checks,
        "summary": summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"wrote {shown}")


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("pipelinekit", "narwhals", "polars", "pandas", "duckdb", "pyarrow", "numpy")
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except Exception:  # not installed
            out[name] = "not installed"
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    main()
