"""Readers of canonical tables: a directory of CSV / Parquet files named after the
tables, or a DuckDB database file holding them.

>>> from pipelinekit.io import DATABASE_SUFFIXES, SUFFIXES
>>> SUFFIXES, DATABASE_SUFFIXES
(('.csv', '.csv.gz', '.parquet'), ('.duckdb', '.ddb'))
"""

from __future__ import annotations

from pipelinekit.io.database import (
    DATABASE_SUFFIXES,
    is_database_path,
    open_database,
    read_database_tables,
)
from pipelinekit.io.files import SUFFIXES, read_dataset_tables, read_tables

__all__ = [
    "DATABASE_SUFFIXES",
    "SUFFIXES",
    "is_database_path",
    "open_database",
    "read_database_tables",
    "read_dataset_tables",
    "read_tables",
]
