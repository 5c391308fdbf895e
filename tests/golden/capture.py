"""Write the golden outputs: every registered public call and the full report.

``python -m tests.golden.capture`` recomputes them from the code as it stands and
writes ``tests/golden/data``. The files committed there were written before the
facts-layer refactor; ``tests/golden/test_golden.py`` checks that today's code gives
the same values (frames exactly, report JSON byte for byte).
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys
from datetime import date
from typing import Any

import pandas as pd

from pipelinekit import Dataset, sample_dataset
from pipelinekit.reporting.build import build_report
from pipelinekit.sample import generate_sample
from tests.engines.datasets import edge_dataset
from tests.engines.datasets import sample_dataset as small_sample
from tests.engines.registry import REGISTRY
from tests.engines.runner import EngineInputs, call

DATA = pathlib.Path(__file__).parent / "data"
#: The generated large dataset: seed and size (its tables are hashed, not stored).
LARGE = {"leads": 100_000, "seed": 20251231}
LARGE_AS_OF = date(2025, 12, 31)


def table_digest(frame: pd.DataFrame) -> str:
    """A stable digest of a table's values (column names, dtypes as text, cells)."""
    text = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
    return hashlib.sha256(text.encode()).hexdigest()


def plain(result: Any) -> Any:
    """A call's result as picklable pandas objects and plain values."""
    if isinstance(result, pd.DataFrame):
        return result.reset_index(drop=True)
    if isinstance(result, dict) and "sections" in result:
        return {
            "summary": {k: _value(v) for k, v in result["summary"].items()},
            "sections": {
                s.key: {n: t.reset_index(drop=True) for n, t in s.tables.items()}
                for s in result["sections"]
            },
        }
    if isinstance(result, dict):
        return {k: _value(v) for k, v in result.items()}
    if hasattr(result, "tables") and hasattr(result, "key"):
        return {n: t.reset_index(drop=True) for n, t in result.tables.items()}
    return _value(result)


def _value(value: Any) -> Any:
    if hasattr(value, "to_dict") and not isinstance(value, pd.DataFrame):
        return value.to_dict()
    return value


def capture_calls() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for data in (small_sample(), edge_dataset()):
        inputs = EngineInputs(data, "pandas")
        for name, recipes in REGISTRY.items():
            for recipe in recipes:
                key = f"{data.name}|{name}|{recipe.label}"
                out[key] = plain(call(name, recipe, inputs))
    return out


def capture_reports() -> dict[str, str]:
    bundled = sample_dataset()
    report = build_report(bundled)
    reports = {"bundled": report.to_json()}
    (DATA / "report_bundled.txt").write_text(report.to_text() + "\n")
    tables = generate_sample(**LARGE)
    large = Dataset(**tables, tz="Asia/Tokyo")
    reports["large"] = build_report(large, as_of=LARGE_AS_OF).to_json()
    digests = {name: table_digest(frame) for name, frame in sorted(tables.items())}
    (DATA / "large_tables.json").write_text(json.dumps(digests, indent=2) + "\n")
    return reports


def store(value: Any, frames: pathlib.Path, counter: list[int]) -> Any:
    """``value`` as JSON, each frame written to ``frames`` as Parquet (exact floats)."""
    if isinstance(value, pd.DataFrame):
        counter[0] += 1
        name = f"{counter[0]:04d}.parquet"
        value.to_parquet(frames / name, index=False)
        return {"__frame__": name}
    if isinstance(value, dict):
        return {str(k): store(v, frames, counter) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def main() -> None:
    frames = DATA / "frames"
    frames.mkdir(parents=True, exist_ok=True)
    for old in frames.glob("*.parquet"):
        old.unlink()
    calls = capture_calls()
    index = store(calls, frames, [0])
    (DATA / "calls.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    for name, text in capture_reports().items():
        (DATA / f"report_{name}.json").write_text(text + "\n")
    print(f"{len(calls)} calls", file=sys.stderr)


if __name__ == "__main__":
    main()
