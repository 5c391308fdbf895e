"""Reading a data directory: file names, CSV text edge cases, Parquet, file problems."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd
import polars as pl
import pytest

from pipelinekit.errors import ConfigError, Problem, SchemaError
from pipelinekit.io import read_dataset_tables, read_tables

Backend = Literal["pandas", "polars"]

LEADS_CSV = "lead_id,created_at,origin\nL1,2025-04-01 09:30,inbound\nL2,2025/4/2,Outbound\n"

Found = tuple[str, str | None, str]


def _found(problems: list[Problem]) -> list[Found]:
    return [(p.table, p.column, p.rule) for p in problems]


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _records(frame: Any) -> list[dict[str, Any]]:
    if isinstance(frame, pl.DataFrame):
        return frame.to_dicts()
    return [
        {k: (None if v is None or v != v else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


@pytest.fixture(params=["pandas", "polars"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return cast(Backend, request.param)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


# ------------------------------------------------------------------- CSV text


def test_csv_is_read_as_text_with_missing_tokens(tmp_path: Path, backend: Backend) -> None:
    _write(tmp_path, "leads.csv", "lead_id,employees,region,note\nL1,12,NA,\nL2,1.50,n/a, x \n")
    tables, problems = read_tables(tmp_path, backend=backend)
    assert problems == []
    frame = tables["leads"]
    assert isinstance(frame, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    assert _records(frame) == [
        {"lead_id": "L1", "employees": "12", "region": None, "note": None},
        {"lead_id": "L2", "employees": "1.50", "region": None, "note": " x "},
    ]


def test_utf8_bom_crlf_and_quoted_newlines(tmp_path: Path, backend: Backend) -> None:
    text = 'lead_id,created_at,origin,title\r\nL1,2025-04-01,inbound,"Head of\r\nSales"\r\n'
    _write(tmp_path, "leads.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    tables, problems = read_tables(tmp_path, backend=backend)
    assert problems == []
    assert _records(tables["leads"]) == [
        {
            "lead_id": "L1",
            "created_at": "2025-04-01",
            "origin": "inbound",
            "title": "Head of\r\nSales",
        }
    ]


def test_cp932_file(tmp_path: Path, backend: Backend) -> None:
    text = "lead_id,created_at,origin,department\nL1,2025/4/1 9:00,inbound,営業部\n"
    _write(tmp_path, "leads.csv", text.encode("cp932"))
    tables, problems = read_tables(tmp_path, encoding="cp932", backend=backend)
    assert problems == []
    assert _records(tables["leads"])[0]["department"] == "営業部"


def test_decoding_failure_names_the_file_and_the_option(tmp_path: Path) -> None:
    text = "lead_id,created_at,origin,department\nL1,2025/4/1 9:00,inbound,営業部\n"
    _write(tmp_path, "leads.csv", text.encode("cp932"))
    tables, problems = read_tables(tmp_path)
    assert tables == {}
    assert _found(problems) == [("leads", None, "encoding_error")]
    assert "leads.csv is not valid utf-8" in problems[0].message
    assert problems[0].hint is not None
    assert "--encoding cp932" in problems[0].hint


def test_header_only_file_is_an_empty_table(tmp_path: Path, backend: Backend) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    header = "activity_id,lead_id,occurred_at,channel,direction,outcome\r\n"
    _write(tmp_path, "activities.csv", header)
    result = read_dataset_tables(tmp_path, backend=backend)
    assert len(result.tables["activities"]) == 0
    assert result.warnings == []


def test_zero_byte_file_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    _write(tmp_path, "reps.csv", b"")
    tables, problems = read_tables(tmp_path)
    assert "reps" not in tables
    assert _found(problems) == [("reps", None, "empty_file")]
    assert "reps.csv" in problems[0].message


def test_malformed_csv_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", 'lead_id,origin\nL1,inbound\nL2,inbound,extra\n"L3,x\n')
    tables, problems = read_tables(tmp_path)
    assert tables == {}
    assert _found(problems) == [("leads", None, "unreadable_file")]


def test_extra_field_in_the_first_row_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", "lead_id,origin\nL1,inbound,extra\nL2,inbound\n")
    tables, problems = read_tables(tmp_path)
    assert tables == {}
    assert _found(problems) == [("leads", None, "unreadable_file")]
    assert "more fields than the header" in problems[0].message


def test_duplicate_header_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", "lead_id,origin,origin\nL1,inbound,web\n")
    _tables, problems = read_tables(tmp_path)
    assert _found(problems) == [("leads", "origin", "duplicate_column")]


def test_header_names_are_trimmed(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", " lead_id , created_at,origin \nL1,2025-04-01,inbound\n")
    tables, _problems = read_tables(tmp_path)
    assert list(tables["leads"].columns) == ["lead_id", "created_at", "origin"]


def test_gzipped_csv(tmp_path: Path, backend: Backend) -> None:
    _write(tmp_path, "leads.csv.gz", gzip.compress(LEADS_CSV.encode("utf-8")))
    result = read_dataset_tables(tmp_path, backend=backend)
    created = result.tables["leads"]["created_at"].to_list()
    assert created == [datetime(2025, 4, 1, 9, 30), datetime(2025, 4, 2)]


# ----------------------------------------------------------------- file names


def test_missing_leads_file(tmp_path: Path) -> None:
    _write(tmp_path, "reps.csv", "rep_id,role\nR1,inside\n")
    tables, problems = read_tables(tmp_path)
    assert set(tables) == {"reps"}
    assert _found(problems) == [("leads", None, "missing_table")]


def test_missing_leads_file_is_reported_once(tmp_path: Path) -> None:
    _write(tmp_path, "reps.csv", "rep_id,role\nR1,inside\n")
    with pytest.raises(SchemaError) as err:
        read_dataset_tables(tmp_path)
    assert _found(err.value.problems) == [("leads", None, "missing_table")]


def test_unknown_table_file_is_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    _write(tmp_path, "contacts.csv", "contact_id\nC1\n")
    _write(tmp_path, "README.md", "not a table")
    _write(tmp_path, ".leads.csv.swp", "editor file")
    result = read_dataset_tables(tmp_path)
    assert _found(result.warnings) == [("contacts", None, "unknown_table")]
    assert result.warnings[0].message == "contacts.csv: unknown table, ignored"
    assert result.totals == {("contacts", "", "unknown_table"): 1}


def test_two_files_for_one_table_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    _write(tmp_path, "reps.csv", "rep_id,role\nR1,inside\n")
    _write(tmp_path, "reps.csv.gz", gzip.compress(b"rep_id,role\nR1,inside\n"))
    tables, problems = read_tables(tmp_path)
    assert "reps" not in tables
    assert _found(problems) == [("reps", None, "duplicate_table_file")]
    assert "reps.csv, reps.csv.gz" in problems[0].message


# -------------------------------------------------------------------- Parquet


def test_parquet_keeps_types(tmp_path: Path, backend: Backend) -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "created_at": pd.to_datetime(["2025-04-01T00:30:00Z", "2025-04-02T00:00:00Z"]),
            "origin": ["inbound", "outbound"],
        }
    )
    accounts = pd.DataFrame({"account_id": ["A1"], "employees": [12], "is_target": [True]})
    leads.to_parquet(tmp_path / "leads.parquet")
    accounts.to_parquet(tmp_path / "accounts.parquet")
    result = read_dataset_tables(tmp_path, backend=backend)
    assert result.tables["leads"]["created_at"].to_list() == [
        datetime(2025, 4, 1, 9, 30),
        datetime(2025, 4, 2, 9, 0),
    ]
    assert result.tables["accounts"]["employees"].to_list() == [12]


def test_broken_parquet_is_an_error(tmp_path: Path, backend: Backend) -> None:
    _write(tmp_path, "leads.parquet", b"PAR1 this is not parquet")
    tables, problems = read_tables(tmp_path, backend=backend)
    assert tables == {}
    assert _found(problems) == [("leads", None, "unreadable_file")]


# ------------------------------------------------------- read + validate


def test_file_and_table_problems_are_raised_together(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", "lead_id,created_at,origin\nL1,2025-02-30,web\n")
    _write(tmp_path, "reps.csv", b"")
    _write(tmp_path, "notes.csv", "x\n1\n")
    with pytest.raises(SchemaError) as err:
        read_dataset_tables(tmp_path)
    assert [(p.table, p.column, p.rule, p.row) for p in err.value.problems] == [
        ("notes", None, "unknown_table", None),
        ("reps", None, "empty_file", None),
        ("leads", "created_at", "unparseable_timestamp", 1),
        ("leads", "origin", "unknown_enum", 1),
    ]
    assert err.value.totals[("reps", "", "empty_file")] == 1


def test_file_error_alone_raises(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    _write(tmp_path, "reps.csv", b"")
    with pytest.raises(SchemaError) as err:
        read_dataset_tables(tmp_path)
    assert _found(err.value.problems) == [("reps", None, "empty_file")]


def test_read_dataset_tables_strict(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", "lead_id,created_at,origin,owner_id\nL1,2025-04-01,inbound,R9\n")
    _write(tmp_path, "reps.csv", "rep_id,role\nR1,inside\n")
    lenient = read_dataset_tables(tmp_path)
    assert [(p.rule, p.severity) for p in lenient.warnings] == [("orphan_fk", "warning")]
    with pytest.raises(SchemaError):
        read_dataset_tables(tmp_path, strict=True)


def test_nothing_is_written_into_the_data_directory(tmp_path: Path) -> None:
    _write(tmp_path, "leads.csv", LEADS_CSV)
    _write(tmp_path, "reps.csv.gz", gzip.compress(b"rep_id,role\nR1,inside\n"))
    pd.DataFrame({"account_id": ["A1"]}).to_parquet(tmp_path / "accounts.parquet")
    before = _snapshot(tmp_path)
    read_dataset_tables(tmp_path, backend="pandas")
    read_dataset_tables(tmp_path, backend="polars")
    assert _snapshot(tmp_path) == before


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_tables(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="backend"):
        read_tables(tmp_path, backend="spark")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="encoding"):
        read_tables(tmp_path, encoding="klingon")
