"""The report's once-per-job conversion of the tables to polars."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa

from pipelinekit import Dataset, sample_dataset
from pipelinekit._compat import working_tables
from pipelinekit.reporting.build import build_report

LEADS = pd.DataFrame({"lead_id": ["L1", "L2"], "n": [1, 2]})


def test_pandas_pyarrow_and_duckdb_become_polars_with_the_same_rows() -> None:
    con = duckdb.connect()
    for given in (LEADS, pa.Table.from_pandas(LEADS), con.from_df(LEADS)):
        out = working_tables({"leads": given, "reps": None})
        assert isinstance(out["leads"], pl.DataFrame)
        assert out["leads"].to_dict(as_series=False) == {"lead_id": ["L1", "L2"], "n": [1, 2]}
        assert out["reps"] is None


def test_polars_and_mixed_libraries_are_left_as_given() -> None:
    lazy = pl.from_pandas(LEADS).lazy()
    assert working_tables({"leads": lazy})["leads"] is lazy
    mixed = {"leads": LEADS, "reps": pl.from_pandas(LEADS)}
    out = working_tables(mixed)
    assert out["leads"] is LEADS
    assert out["reps"] is mixed["reps"]


def test_something_that_is_not_a_frame_is_left_for_the_functions_to_refuse() -> None:
    given = {"leads": [{"lead_id": "L1"}], "reps": LEADS}
    out = working_tables(given)
    assert out["leads"] is given["leads"]
    assert out["reps"] is LEADS


def test_the_callers_tables_are_not_changed() -> None:
    before = LEADS.copy()
    working_tables({"leads": LEADS})
    pd.testing.assert_frame_equal(LEADS, before)


def test_report_on_pandas_equals_report_on_polars() -> None:
    pandas_ds = sample_dataset()
    polars_ds = Dataset(
        **{n: pl.from_pandas(t) for n, t in pandas_ds.tables().items()}, tz=pandas_ds.tz
    )
    day = date(2025, 12, 31)
    assert (
        build_report(pandas_ds, as_of=day).to_json() == build_report(polars_ds, as_of=day).to_json()
    )
