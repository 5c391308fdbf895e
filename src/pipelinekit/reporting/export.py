"""Export the report's tables for spreadsheets and BI tools: CSV, Parquet or DuckDB.

Every section table is written as ``<section>__<table>``, beside ``kpis``, the long
table of every KPI (:func:`pipelinekit.reporting.kpi_table.kpi_table`, schema
documented and versioned there). CSV text cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are
prefixed with a single quote, the OWASP recommendation against CSV injection; numbers
are written as numbers. Parquet and DuckDB keep the values as they are. Every file is
replaced atomically: a reader sees the previous export or the whole new one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from pipelinekit._atomic import write_atomic, write_text_atomic
from pipelinekit._checks import check_choice
from pipelinekit.reporting.kpi_table import kpi_table
from pipelinekit.reporting.model import Report

__all__ = [
    "DUCKDB_FILE",
    "TABLE_FORMATS",
    "neutralise_cell",
    "safe_frame",
    "write_tables",
    "write_tables_csv",
]

TableFormat = Literal["csv", "parquet", "duckdb"]
#: Formats of :func:`write_tables`.
TABLE_FORMATS: tuple[TableFormat, ...] = ("csv", "parquet", "duckdb")
#: File name of the DuckDB export inside the output directory.
DUCKDB_FILE = "pipelinekit.duckdb"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Prefix a text cell that starts like a formula with ``'``; other values unchanged.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")"), neutralise_cell("-5"), neutralise_cell(-5)
    ('\\'=HYPERLINK("http://x")', "'-5", -5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (see :func:`neutralise_cell`)."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name].dtype):
            out[name] = out[name].map(neutralise_cell, na_action="ignore")
    out.columns = [str(neutralise_cell(str(c))) for c in out.columns]
    return out


def write_tables_csv(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every section table to ``out_dir/<section>__<table>.csv`` atomically.

    Returns the paths written, in report order.

    >>> import tempfile, pipelinekit as pk
    >>> rep = pk.report(pk.sample_dataset(), as_of="2025-06-30")
    >>> paths = write_tables_csv(rep, tempfile.mkdtemp())
    >>> paths[0].name
    'funnel__overall.csv'
    """
    folder = Path(out_dir)
    written = []
    for section in report.sections:
        for name, frame in section.tables.items():
            text = safe_frame(frame).to_csv(index=False, lineterminator="\n")
            written.append(write_text_atomic(folder / f"{section.key}__{name}.csv", text))
    return written


def _named_tables(report: Report) -> dict[str, pd.DataFrame]:
    tables = {
        f"{section.key}__{name}": frame
        for section in report.sections
        for name, frame in section.tables.items()
    }
    tables["kpis"] = kpi_table(report)
    return tables


def write_tables(
    report: Report, out_dir: str | os.PathLike[str], *, format: TableFormat = "csv"
) -> list[Path]:
    """Write every section table and the long ``kpis`` table into ``out_dir``.

    Parameters
    ----------
    report
        A built report.
    out_dir
        The output directory (created when missing).
    format
        ``"csv"`` (formula-safe, one ``<section>__<table>.csv`` per table),
        ``"parquet"`` (one ``.parquet`` per table) or ``"duckdb"`` (one database
        file, :data:`DUCKDB_FILE`, one table per section table; needs the
        ``engines`` extra).

    Returns the paths written, in report order (the database file once for DuckDB).

    >>> import tempfile, pipelinekit as pk
    >>> rep = pk.report(pk.sample_dataset(), as_of="2025-06-30", sections="summary,cadence")
    >>> [p.name for p in write_tables(rep, tempfile.mkdtemp(), format="parquet")][-2:]
    ['cadence__early_follow_up_by_owner.parquet', 'kpis.parquet']
    """
    format = check_choice("format", format, TABLE_FORMATS)
    folder = Path(out_dir)
    tables = _named_tables(report)
    if format == "csv":
        return [
            write_text_atomic(
                folder / f"{name}.csv", safe_frame(frame).to_csv(index=False, lineterminator="\n")
            )
            for name, frame in tables.items()
        ]
    if format == "parquet":
        return [
            write_atomic(folder / f"{name}.parquet", _parquet_writer(frame))
            for name, frame in tables.items()
        ]
    return [write_atomic(folder / DUCKDB_FILE, lambda tmp: _write_duckdb(tables, tmp))]


def _parquet_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_parquet(path, index=False)

    return write


def _write_duckdb(tables: dict[str, pd.DataFrame], path: Path) -> None:
    try:
        import duckdb
    except ImportError as exc:
        raise ImportError(
            "format='duckdb' needs DuckDB: pip install 'pipelinekit[engines]'"
        ) from exc
    con = duckdb.connect(str(path))
    try:
        for name, frame in tables.items():
            con.register("__pk_export", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM __pk_export')
            con.unregister("__pk_export")
    finally:
        con.close()
