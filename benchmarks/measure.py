"""One measurement in a fresh process: load the inputs, time one KPI, report JSON.

``python benchmarks/measure.py KPI IMPL ENGINE DATA_DIR --out RESULT [--repeat N]``

- KPI: ``report`` (read + validate + report), ``journey``, ``funnel``, ``cadence``,
  ``allocation``, or ``objects`` (Lead / Activity objects -> frames);
- IMPL: ``pipelinekit`` or ``hand`` (hand-written, :mod:`handwritten`);
- ENGINE: ``pandas``, ``polars`` or ``duckdb`` (the input frames' library).

Prints one JSON object: ``seconds`` (best of the repeats), ``all_seconds``,
``peak_bytes`` (peak resident memory while the KPI ran, above the process's memory
before its inputs were loaded: the inputs plus everything the computation held at
once) and ``input_bytes`` (the inputs' in-memory Arrow size). Peak memory comes from
the kernel (``VmHWM``, reset after loading), so it counts Arrow, polars and DuckDB
buffers that ``tracemalloc`` cannot see. The result is written to ``RESULT``
(Parquet, or JSON for the report) for the equality check.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

AS_OF = date(2025, 12, 31)
TABLES = {
    "report": ("leads", "activities", "opportunities", "accounts", "reps", "campaigns"),
    "journey": ("leads", "activities", "opportunities"),
    "funnel": ("journey",),
    "cadence": ("leads", "activities"),
    "allocation": ("opportunities", "reps"),
}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux: peak since process start
        Path("/proc/self/clear_refs").write_text("5")


def _path(data: Path, table: str) -> Path:
    if table == "journey":
        return data.parent / f"{data.name}_journey.parquet"
    return data / f"{table}.parquet"


def load(engine: str, data: Path, names: tuple[str, ...]) -> tuple[dict[str, Any], Any]:
    """The tables as frames of ``engine`` (DuckDB: in-memory tables on one connection)."""
    if engine == "pandas":
        import pandas as pd

        return {n: pd.read_parquet(_path(data, n)) for n in names}, None
    if engine == "polars":
        import polars as pl

        return {n: pl.read_parquet(_path(data, n)) for n in names}, None
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for n in names:
        con.execute(f"CREATE TABLE {n} AS SELECT * FROM read_parquet('{_path(data, n)}')")
    return {n: con.table(n) for n in names}, con


def input_bytes(data: Path, names: tuple[str, ...]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_table(_path(data, n)).nbytes for n in names)


def pipelinekit_call(kpi: str, engine: str, frames: dict[str, Any], con: Any) -> Any:
    import pipelinekit as pk

    if kpi == "journey":
        out = pk.journey(
            frames["leads"], frames["activities"], frames["opportunities"], as_of=AS_OF
        )
    elif kpi == "funnel":
        out = pk.funnel(frames["journey"], by="campaign_id", freq="month", as_of=AS_OF)
    elif kpi == "cadence":
        out = pk.cadence_compliance(frames["leads"], frames["activities"], as_of=AS_OF)
    elif kpi == "allocation":
        out = pk.sql_allocation(frames["opportunities"], frames["reps"], as_of=AS_OF)
    else:
        raise ValueError(kpi)
    if engine == "duckdb":
        return out.to_arrow_table()  # materialise the lazy relation
    return out


def report_run(engine: str, data: Path) -> dict[str, Any]:
    """Read + validate + report (+ render as JSON), as the CLI does."""
    import pipelinekit as pk
    from pipelinekit.reporting.build import build_report

    if engine in ("pandas", "polars"):
        ds = pk.read_dataset(data, backend=engine)
    else:
        from pipelinekit.validation import validate_tables

        frames, _con = load("duckdb", data, (*TABLES["report"], "stage_changes"))
        validate_tables(frames)  # every problem found, as read_dataset does
        ds = pk.Dataset(**frames, validated=True)
    report = build_report(ds, as_of=AS_OF)
    return json.loads(report.to_json())  # type: ignore[no-any-return]


def _write(result: Any, out: Path) -> None:
    if isinstance(result, dict):
        out.write_text(json.dumps(result, default=str))
        return
    import narwhals as nw
    import pyarrow.parquet as pq

    frame = nw.from_native(result)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    pq.write_table(frame.to_arrow(), out)


def objects_run(data: Path, what: str) -> tuple[float, int]:
    """Build domain objects from the Parquet data (not timed), time ``from_objects``."""
    import attrs
    import pyarrow.parquet as pq

    from pipelinekit import domain
    from pipelinekit.schema import TABLES as SPECS
    from pipelinekit.schema import from_objects

    cls = domain.Lead if what == "leads" else domain.Activity
    spec = SPECS[what]
    table = pq.read_table(data / f"{what}.parquet", columns=spec.names)
    enums = {c.name: {m.value: m for m in _enum_of(cls, c.name)} for c in spec.columns if c.enum}
    objects: list[Any] = []
    gc.disable()
    with attrs.validators.disabled():
        for batch in table.to_batches(max_chunksize=500_000):
            cols = []
            for c in spec.columns:
                values = batch.column(c.name).to_pylist()
                if c.kind == "date":
                    values = [None if v is None else v.date() for v in values]
                if c.name in enums:
                    lookup = enums[c.name]
                    values = [None if v is None else lookup[v] for v in values]
                cols.append(values)
            names = spec.names
            objects.extend(
                cls(**dict(zip(names, row, strict=True))) for row in zip(*cols, strict=True)
            )
            del cols
    gc.enable()
    del table
    gc.collect()
    start = time.perf_counter()
    frame = from_objects(objects, cls)
    seconds = time.perf_counter() - start
    return seconds, len(frame)


def _enum_of(cls: type, name: str) -> Any:
    import typing

    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kpi")
    parser.add_argument("impl", choices=["pipelinekit", "hand"])
    parser.add_argument("engine", choices=["pandas", "polars", "duckdb", "leads", "activities"])
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    import duckdb  # noqa: F401  - import every library before the baseline
    import narwhals  # noqa: F401
    import pandas  # noqa: F401
    import polars  # noqa: F401
    import pyarrow  # noqa: F401

    import pipelinekit  # noqa: F401

    if args.kpi == "objects":
        seconds, rows = objects_run(args.data, args.engine)
        print(json.dumps({"seconds": seconds, "all_seconds": [seconds], "rows": rows}))
        return
    baseline_kb = _status_kb("VmRSS")
    names = TABLES[args.kpi]
    size = input_bytes(args.data, (*names, "stage_changes") if args.kpi == "report" else names)
    times: list[float] = []
    result: Any = None
    if args.kpi == "report":
        _reset_peak()
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = report_run(args.engine, args.data)
            times.append(time.perf_counter() - start)
            gc.collect()
    else:
        frames, con = load(args.engine, args.data, names)
        from handwritten import IMPLEMENTATIONS

        def run() -> Any:
            if args.impl == "pipelinekit":
                return pipelinekit_call(args.kpi, args.engine, frames, con)
            hand = IMPLEMENTATIONS[args.kpi][args.engine]
            return hand(con, AS_OF) if args.engine == "duckdb" else hand(frames, AS_OF)

        gc.collect()
        _reset_peak()
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - start)
            if len(times) < args.repeat:
                result = None
                gc.collect()
    peak_kb = _status_kb("VmHWM")
    _write(result, args.out)
    print(
        json.dumps(
            {
                "seconds": min(times),
                "all_seconds": times,
                "peak_bytes": (peak_kb - baseline_kb) * 1024,
                "input_bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
