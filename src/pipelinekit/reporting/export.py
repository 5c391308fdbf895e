"""Export the report's tables as CSV files that are safe to open in a spreadsheet.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are prefixed with a single quote, the
OWASP recommendation against CSV injection. Numbers are written as numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from pipelinekit._atomic import write_text_atomic
from pipelinekit.reporting.model import Report

__all__ = ["neutralise_cell", "safe_frame", "write_tables_csv"]

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
