"""Readers of canonical tables: a directory of CSV / Parquet files named after the tables.

>>> from pipelinekit.io import SUFFIXES
>>> SUFFIXES
('.csv', '.csv.gz', '.parquet')
"""

from __future__ import annotations

from pipelinekit.io.files import SUFFIXES, read_dataset_tables, read_tables

__all__ = ["SUFFIXES", "read_dataset_tables", "read_tables"]
