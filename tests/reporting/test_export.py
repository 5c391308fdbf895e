"""Tables out for BI: the long KPI table and the CSV / Parquet / DuckDB exports."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelinekit.cli import main
from pipelinekit.errors import ConfigError
from pipelinekit.rates import Rate
from pipelinekit.reporting.export import DUCKDB_FILE, write_tables
from pipelinekit.reporting.kpi_table import KPI_COLUMNS, KPI_SCHEMA_VERSION, kpi_table
from pipelinekit.reporting.model import Report


def _table(report: Report, section: str, name: str) -> pd.DataFrame:
    return next(s for s in report.sections if s.key == section).tables[name]


def _kpis(kpis: pd.DataFrame, section: str, table: str) -> pd.DataFrame:
    return kpis[(kpis["section"] == section) & (kpis["table"] == table)]


def test_schema_is_pinned(sample_report: Report) -> None:
    kpis = kpi_table(sample_report)
    assert tuple(kpis.columns) == KPI_COLUMNS
    assert KPI_SCHEMA_VERSION == 1
    assert set(kpis["schema_version"]) == {1}
    assert str(kpis["as_of"].dtype) == "datetime64[us]"
    assert str(kpis["period"].dtype) == "datetime64[us]"
    for column in ("value", "numerator", "denominator", "ci_low", "ci_high"):
        assert str(kpis[column].dtype) == "float64", column
    assert set(kpis["as_of"].dt.date) == {sample_report.as_of}


def test_summary_rows_equal_the_summary(sample_report: Report) -> None:
    rows = _kpis(kpi_table(sample_report), "summary", "summary").set_index("kpi")
    assert list(rows.index) == list(sample_report.summary)
    for key, item in sample_report.summary.items():
        got = rows.loc[key]
        if isinstance(item, Rate):
            assert got["numerator"] == item.numerator
            assert got["denominator"] == item.denominator
            if item.denominator:
                assert got["value"] == pytest.approx(item.numerator / item.denominator)
        else:
            assert got["value"] == float(item)
            assert math.isnan(got["numerator"])


def test_a_rate_table_gives_one_row_per_rate_with_its_counts(sample_report: Report) -> None:
    frame = _table(sample_report, "activity", "outbound_connect_by_weekday")
    rows = _kpis(kpi_table(sample_report), "activity", "outbound_connect_by_weekday")
    # seven weekdays, one rate each: counts and interval on the same row
    assert len(rows) == len(frame) == 7
    assert set(rows["kpi"]) == {"rate"}
    assert set(rows["dim_1_name"]) == {"weekday"}
    assert rows["dim_2_name"].isna().all()
    for record in frame.to_dict("records"):
        row = rows[rows["dim_1_value"] == str(record["weekday"])].iloc[0]
        assert row["numerator"] == record["numerator"]
        assert row["denominator"] == record["denominator"]
        assert row["ci_low"] == pytest.approx(record["ci_low"])
        assert row["ci_high"] == pytest.approx(record["ci_high"])


def test_prefixed_rates_and_plain_measures(sample_report: Report) -> None:
    frame = _table(sample_report, "mix", "origin comparison")
    rows = _kpis(kpi_table(sample_report), "mix", "origin comparison")
    # per origin: sql_count, valid_count, valid_rate (+ interval), closed_count,
    # won_count, win_rate (+ interval), median and mean cycle days
    expected_kpis = [
        "sql_count",
        "valid_count",
        "valid_rate",
        "closed_count",
        "won_count",
        "win_rate",
        "median_cycle_days",
        "mean_cycle_days",
    ]
    assert len(rows) == len(frame) * len(expected_kpis)
    first = frame.iloc[0]
    mine = rows[rows["dim_1_value"] == str(first["origin"])].set_index("kpi")
    assert list(mine.index) == expected_kpis
    assert mine.loc["win_rate", "ci_low"] == pytest.approx(first["win_ci_low"])
    assert mine.loc["valid_rate", "ci_high"] == pytest.approx(first["valid_ci_high"])
    assert math.isnan(mine.loc["sql_count", "ci_low"])
    assert mine.loc["sql_count", "value"] == first["sql_count"]


def test_periods_are_dates_and_row_lists_are_left_out(sample_report: Report) -> None:
    kpis = kpi_table(sample_report)
    by_month = _kpis(kpis, "cadence", "by_month")
    frame = _table(sample_report, "cadence", "by_month")
    assert sorted(set(by_month["period"])) == sorted(pd.to_datetime(frame["period"]))
    assert by_month["dim_1_name"].isna().all()
    assert _kpis(kpis, "queues", "top_untouched_inbound").empty
    assert not _kpis(kpis, "queues", "counts").empty


def test_same_report_same_table(sample_report: Report) -> None:
    pd.testing.assert_frame_equal(kpi_table(sample_report), kpi_table(sample_report))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_exports_round_trip(sample_report: Report, tmp_path: Path, fmt: str) -> None:
    paths = write_tables(sample_report, tmp_path, format=fmt)  # type: ignore[arg-type]
    names = [p.name for p in paths]
    assert names[-1] == f"kpis.{fmt}"
    assert len(names) == sum(len(s.tables) for s in sample_report.sections) + 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    if fmt == "parquet":
        back = pd.read_parquet(tmp_path / "cadence__by_owner.parquet")
        pd.testing.assert_frame_equal(back, _table(sample_report, "cadence", "by_owner"))
        kpis = pd.read_parquet(tmp_path / "kpis.parquet")
        assert len(kpis) == len(kpi_table(sample_report))


def test_duckdb_export_has_one_table_per_section_table(
    sample_report: Report, tmp_path: Path
) -> None:
    (path,) = write_tables(sample_report, tmp_path, format="duckdb")
    assert path.name == DUCKDB_FILE
    with duckdb.connect(str(path), read_only=True) as con:
        names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        counted = con.execute('SELECT count(*), sum(value) FROM "kpis"').fetchone()
        owners = con.execute('SELECT count(*) FROM "cadence__by_owner"').fetchone()
    expected = {f"{s.key}__{n}" for s in sample_report.sections for n in s.tables} | {"kpis"}
    assert names == expected
    kpis = kpi_table(sample_report)
    assert counted is not None
    assert counted[0] == len(kpis)
    assert counted[1] == pytest.approx(kpis["value"].sum())
    assert owners == (len(_table(sample_report, "cadence", "by_owner")),)
    # a second export replaces the file as a whole
    write_tables(sample_report, tmp_path, format="duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == [DUCKDB_FILE]


def test_unknown_format_is_refused(sample_report: Report, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="format must be one of"):
        write_tables(sample_report, tmp_path, format="xlsx")  # type: ignore[arg-type]


def test_cli_writes_parquet_tables(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    code = main(
        [
            "report",
            "--as-of",
            "2025-06-30",
            "--sections",
            "summary,cadence",
            "--tables-dir",
            str(out),
            "--tables-format",
            "parquet",
            "-o",
            str(tmp_path / "r.txt"),
        ]
    )
    assert code == 0
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert set(kpis["section"]) == {"summary", "cadence"}
    assert (out / "cadence__overall.parquet").exists()
