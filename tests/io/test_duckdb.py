"""Reading a dataset from a DuckDB database file: the same tables give the same dataset.

The bundled sample is written into a temporary database twice: in ``main`` as the
text cells the CSV reader sees (``read_tables``), and in schema ``crm`` as the typed
canonical frames of ``pk.sample_dataset()`` (TIMESTAMP, BOOLEAN, BIGINT, DOUBLE
columns). Both must give exactly the tables, the warnings and the report of the CSV
directory; the bad-input corpus must give exactly the directory's problems; and the
database file is never written.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.errors import ConfigError, Problem, SchemaError, UnsupportedEngineError
from pipelinekit.io import is_database_path, open_database, read_tables
from pipelinekit.io.files import read_file
from pipelinekit.io.presets import read_preset
from pipelinekit.schema import TABLES

AS_OF = "2025-12-31"
CORPUS = Path(__file__).parents[1] / "data" / "bad"
SF = Path(__file__).parents[1] / "data" / "presets" / "salesforce"


def sample_dir() -> Path:
    return Path(str(resources.files("pipelinekit") / "data" / "sample"))


def write_tables(
    path: Path, tables: Mapping[str, Any], *, schema: str = "main", names: Mapping[str, str] = {}
) -> Path:
    """Write frames into ``path`` (created if needed) as tables of ``schema``."""
    with duckdb.connect(str(path)) as con:
        ((catalog,),) = con.execute("SELECT current_database()").fetchall()
        where = f'"{catalog}"."{schema}"'  # a schema named like the file is ambiguous alone
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {where}")
        for table, frame in tables.items():
            con.register("__frame", frame)
            name = names.get(table, table)
            con.execute(f'CREATE TABLE {where}."{name}" AS SELECT * FROM __frame')
            con.unregister("__frame")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fields(problems: Any) -> list[tuple[Any, ...]]:
    return [(p.table, p.column, p.rule, p.row, p.id, p.value, p.severity) for p in problems]


def same_tables(left: pk.Dataset, right: pk.Dataset) -> None:
    for name, frame in left:
        other = right.table(name)
        if isinstance(frame, pd.DataFrame):
            pd.testing.assert_frame_equal(frame, other, check_dtype=True)
        else:
            assert frame.equals(other), name
            assert frame.schema == other.schema, name


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as text tables in ``main`` and as typed tables in ``crm``."""
    path = tmp_path_factory.mktemp("db") / "crm.duckdb"
    text, problems = read_tables(sample_dir())
    assert problems == []
    write_tables(path, text)
    write_tables(path, dict(pk.sample_dataset()), schema="crm")
    return path


@pytest.fixture(scope="module")
def from_csv() -> pk.Dataset:
    return pk.read_dataset(sample_dir())


@pytest.fixture(scope="module")
def csv_report(from_csv: pk.Dataset) -> str:
    return str(pk.report(from_csv, as_of=AS_OF).to_json())


# ------------------------------------------------------------- the same tables


def test_schema_columns_are_text_in_main_and_typed_in_crm(database: Path) -> None:
    query = (
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = 'opportunities'"
    )
    with duckdb.connect(str(database), read_only=True) as con:
        kinds = dict(con.execute(query, ["main"]).fetchall())
        typed = dict(con.execute(query, ["crm"]).fetchall())
    assert {kinds["created_at"], kinds["is_won"], kinds["amount"]} == {"VARCHAR"}
    assert (typed["created_at"], typed["is_won"], typed["amount"]) == (
        "TIMESTAMP",
        "BOOLEAN",
        "DOUBLE",
    )


@pytest.mark.parametrize("schema", [None, "crm"], ids=["main-text", "crm-typed"])
def test_database_gives_the_csv_tables(
    database: Path, from_csv: pk.Dataset, schema: str | None
) -> None:
    ds = pk.read_dataset(database, schema=schema)
    assert ds.validated
    assert ds.tz == from_csv.tz
    same_tables(from_csv, ds)
    assert ds.warnings == from_csv.warnings == ()


def test_polars_backend_gives_the_csv_polars_tables(database: Path) -> None:
    from_csv = pk.read_dataset(sample_dir(), backend="polars")
    for schema in (None, "crm"):
        ds = pk.read_dataset(database, schema=schema, backend="polars")
        assert isinstance(ds.leads, pl.DataFrame)
        same_tables(from_csv, ds)


def test_report_json_is_identical_to_the_csv_report(database: Path, csv_report: str) -> None:
    ds = pk.read_dataset(database)
    assert pk.report(ds, as_of=AS_OF).to_json() == csv_report
    summary = json.loads(csv_report)["summary"]
    assert summary["leads"] == 2000  # a report with numbers, not an empty one


def test_cli_report_with_schema_is_identical(
    capsys: pytest.CaptureFixture[str], database: Path, csv_report: str
) -> None:
    before = digest(database)
    code, out, err = run(capsys, "report", str(database), "--schema", "crm",
                         "--format", "json", "--as-of", AS_OF, "--quiet")  # fmt: skip
    assert (code, err) == (0, "")
    assert out == csv_report + "\n"
    code, out, err = run(capsys, "validate", str(database), "--schema", "CRM")
    assert (code, out) == (0, "")
    assert err == f"ok: {database} is valid (2000 leads, 0 warnings)\n"
    assert digest(database) == before


def test_the_database_file_is_never_written(database: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    path.write_bytes(database.read_bytes())
    before = digest(path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    pk.read_dataset(path)
    pk.read_dataset(path, schema="crm", backend="polars")
    with pytest.raises(ConfigError):
        pk.read_dataset(path, schema="nope")
    assert main(["validate", str(path), "--schema", "crm"]) == 0
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no .wal, no .tmp


# --------------------------------------------------- names, views, typed columns


def hand_database(path: Path) -> Path:
    """Leads under a mixed-case name, activities as an upper-case view."""
    with duckdb.connect(str(path)) as con:
        con.execute("""
            CREATE TYPE origin_kind AS ENUM ('inbound', 'outbound');
            CREATE TABLE "Leads" (lead_id VARCHAR, created_at TIMESTAMPTZ,
                                  origin origin_kind, note INTERVAL);
            INSERT INTO "Leads" VALUES
                ('L1', '2025-04-01 00:30:00+00', 'inbound', INTERVAL 2 DAY),
                ('L2', '2025-04-02 15:10:00+00', 'outbound', NULL);
            CREATE TABLE raw_calls AS SELECT * FROM (VALUES
                ('A1', 'L1', TIMESTAMP '2025-04-01 10:00', 'call', 'outbound', 'connected',
                 95.5::DECIMAL(8, 1))
            ) t(activity_id, lead_id, occurred_at, channel, direction, outcome, duration_s);
            CREATE VIEW "ACTIVITIES" AS SELECT * FROM raw_calls;
            CREATE TABLE Opportunities AS SELECT 'O1' AS opportunity_id, 'L1' AS lead_id,
                DATE '2025-04-03' AS created_at, 1200000.50::DECIMAL(18, 2) AS amount,
                3::HUGEINT AS quantity, 70::DECIMAL(5, 0) / 100 AS probability;
        """)
    return path


def test_names_match_case_insensitively_views_count_and_types_are_read(
    tmp_path: Path,
) -> None:
    path = hand_database(tmp_path / "hand.ddb")
    ds = pk.read_dataset(path)
    leads = ds.leads
    # TIMESTAMPTZ instants -> Asia/Tokyo wall clock: 00:30Z + 9 h, 15:10Z + 9 h (next day)
    assert leads["created_at"].tolist() == [
        pd.Timestamp("2025-04-01 09:30"),
        pd.Timestamp("2025-04-03 00:10"),
    ]
    assert leads["origin"].tolist() == ["inbound", "outbound"]  # ENUM values
    # an INTERVAL extra column is kept as its text
    assert (leads["note"].iloc[0], leads["note"].isna().tolist()) == ("2 days", [False, True])
    acts = ds.activities
    assert acts[["activity_id", "outcome", "duration_s"]].values.tolist() == [
        ["A1", "connected", 95.5]
    ]
    opp = ds.opportunities.iloc[0]
    # DECIMAL amount and probability, HUGEINT quantity: numbers; DATE -> midnight
    assert (opp["amount"], opp["quantity"], opp["probability"]) == (1200000.5, 3, 0.7)
    assert opp["created_at"] == pd.Timestamp("2025-04-03")
    # raw_calls is a table whose name is not canonical: ignored, with a warning
    assert fields(ds.warnings) == [
        ("raw_calls", None, "unknown_table", None, None, None, "warning")
    ]
    assert ds.warnings[0].message == "main.raw_calls in hand.ddb: unknown table, ignored"


def test_any_duckdb_file_is_a_database(tmp_path: Path) -> None:
    path = hand_database(tmp_path / "export.db")  # not a .duckdb name: read by its header
    assert is_database_path(path)
    assert not is_database_path(tmp_path)
    assert is_database_path(tmp_path / "absent.duckdb")
    assert len(pk.read_dataset(path).leads) == 2


def test_decimal_ids_with_fractions_are_problems_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "d.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("""
            CREATE TABLE leads AS SELECT 'L1' AS lead_id, TIMESTAMP '2025-04-01' AS created_at,
                'inbound' AS origin;
            CREATE TABLE opportunities AS SELECT 'O1' AS opportunity_id,
                TIMESTAMP '2025-04-02' AS created_at, 2.5::DECIMAL(4, 1) AS quantity;
        """)
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path)
    assert fields(caught.value.problems) == [
        ("opportunities", "quantity", "bad_type", 1, "O1", "2.5", "error")
    ]


# ------------------------------------------------ the bad corpus: same problems


def _table_level_cases() -> list[str]:
    """Corpus cases whose files all read (their problems are the tables' own)."""
    cases = []
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "expected.json").is_file()):
        encoding = json.loads((folder / "expected.json").read_text()).get("encoding", "utf-8")
        _, problems = read_tables(folder, encoding=encoding)
        if all(p.rule in ("unknown_table", "missing_table") for p in problems):
            cases.append(folder.name)
    return cases


TABLE_CASES = _table_level_cases()


def _read(path: Path, **options: Any) -> tuple[pk.Dataset | None, list[Problem]]:
    try:
        ds = pk.read_dataset(path, **options)
    except SchemaError as err:
        return None, err.problems
    return ds, list(ds.warnings)


def test_most_of_the_corpus_is_compared() -> None:
    assert len(TABLE_CASES) >= 45
    assert {"unknown_enum", "orphan_activity_to_lead", "leads_missing_from_directory"} <= set(
        TABLE_CASES
    )


@pytest.mark.parametrize("name", TABLE_CASES)
def test_corpus_case_gives_the_same_problems(name: str, tmp_path: Path) -> None:
    folder = CORPUS / name
    encoding = json.loads((folder / "expected.json").read_text()).get("encoding", "utf-8")
    tables, problems = read_tables(folder, encoding=encoding)
    for unknown in (p.table for p in problems if p.rule == "unknown_table"):  # notes.csv too
        tables[unknown] = read_file(unknown, folder / f"{unknown}.csv", encoding, "pandas", [])
    path = write_tables(tmp_path / "case.duckdb", tables)
    want_ds, want = _read(folder, encoding=encoding)
    got_ds, got = _read(path)
    assert fields(got) == fields(want)
    # the tables' own problems say the same; the reader's name the table instead of a file
    reader_rules = ("unknown_table", "missing_table")
    rows = [(p.message, p.hint) for p in want if p.rule not in reader_rules]
    assert [(p.message, p.hint) for p in got if p.rule not in reader_rules] == rows
    assert (got_ds is None) == (want_ds is None)
    if got_ds is not None and want_ds is not None:
        same_tables(want_ds, got_ds)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3", "", "NA"]),
            st.sampled_from(["2025-04-01 09:30", "2025-04-01T00:30:00Z", "x", "", "2025-02-30"]),
            st.sampled_from(["inbound", " Outbound ", "web", "", "NULL"]),
        ),
        max_size=6,
    )
)
def test_any_text_leads_table_reads_as_from_csv(
    rows: list[tuple[str, str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("leads")
    lines = ["lead_id,created_at,origin", *(",".join(r) for r in rows)]
    (folder / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables, _ = read_tables(folder)
    path = write_tables(folder.parent / f"{folder.name}.duckdb", tables)
    want_ds, want = _read(folder)
    got_ds, got = _read(path)
    assert fields(got) == fields(want)
    assert [p.message for p in got] == [p.message for p in want]
    if got_ds is not None and want_ds is not None:
        same_tables(want_ds, got_ds)


# -------------------------------------------------------------- CRM preset names


def sf_sources(typed: bool) -> dict[str, pd.DataFrame]:
    """The Salesforce fixture export as frames: all text, or typed by DuckDB's sniffer."""
    frames = {}
    with duckdb.connect() as con:
        for file in sorted(SF.glob("*.csv")):
            frames[file.stem] = con.sql(
                f"SELECT * FROM read_csv('{file}', all_varchar = {str(not typed).lower()})"
            ).df()
    return frames


@pytest.fixture(scope="module")
def sf_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sf") / "salesforce.duckdb"
    # export names in other letter cases: matched case-insensitively
    names = {"Lead": "LEAD", "Task": "task", "OpportunityHistory": "opportunityhistory"}
    write_tables(path, sf_sources(typed=False), names=names)
    write_tables(path, sf_sources(typed=True), schema="typed", names=names)
    return path


@pytest.mark.parametrize("schema", [None, "typed"])
def test_preset_named_database_reads_like_the_export(sf_database: Path, schema: str | None) -> None:
    from_files = read_preset(SF, "salesforce")
    ds = pk.read_dataset(sf_database, preset="salesforce", schema=schema)
    same_tables(from_files, ds)
    assert fields(ds.warnings) == fields(from_files.warnings)
    # problems point back to the table instead of the file
    table = f"[{schema or 'main'}.LEAD]"
    assert any(table in p.message for p in ds.warnings)
    messages = [p.message.replace(table, "[Lead.csv]") for p in ds.warnings]
    assert messages == [p.message for p in from_files.warnings]
    assert read_preset(sf_database, "salesforce", schema=schema).leads.equals(ds.leads)


def test_preset_database_with_polars_backend(sf_database: Path) -> None:
    pandas = pk.read_dataset(sf_database, preset="salesforce")
    ds = pk.read_dataset(sf_database, preset="salesforce", backend="polars")
    for name, frame in ds:
        assert isinstance(frame, pl.DataFrame)
        assert frame.equals(pl.from_pandas(pandas.table(name))), name


def test_cli_preset_database(capsys: pytest.CaptureFixture[str], sf_database: Path) -> None:
    code, out, err = run(capsys, "validate", str(sf_database), "--preset", "salesforce",
                         "--schema", "typed")  # fmt: skip
    assert (code, out) == (0, "")
    assert err.endswith(f"ok: {sf_database} is valid (5 leads, 2 warnings)\n")
    assert "[typed.LEAD]" in err  # the unmapped status points at the table


def test_typed_integer_ids_with_gaps_stay_whole_through_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "hs.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("""
            CREATE TABLE Contacts AS SELECT * FROM (VALUES
                (101, '2025-04-01', 'OFFLINE', 5001),
                (102, '2025-04-02', 'OFFLINE', NULL)
            ) t(hs_object_id, createdate, hs_analytics_source, associatedcompanyid)
        """)
    ds = pk.read_dataset(path, preset="hubspot")
    # BIGINT ids: "5001", not "5001.0" (a column with a gap is not read through floats)
    assert ds.leads["lead_id"].tolist() == ["101", "102"]
    assert (ds.leads["account_id"].iloc[0], ds.leads["account_id"].isna().tolist()) == (
        "5001",
        [False, True],
    )


def test_preset_without_the_lead_table_lists_the_tables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sources = sf_sources(typed=False)
    path = write_tables(tmp_path / "sf.duckdb", {"Task": sources["Task"], "User": sources["User"]})
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path, preset="salesforce")
    (problem,) = caught.value.problems
    assert (problem.table, problem.rule) == ("leads", "missing_source_table")
    assert problem.message == (
        "no table Lead for the leads table in schema main of sf.duckdb, as preset "
        "'salesforce' expects; tables found: Task, User"
    )
    code, _, err = run(capsys, "report", str(path), "--preset", "salesforce")
    assert code == 2
    assert "tables found: Task, User" in err
    assert "Traceback" not in err


# -------------------------------------------------------------------- errors


def test_missing_leads_table_lists_the_tables_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sample = dict(pk.sample_dataset())
    path = write_tables(tmp_path / "crm.duckdb", {"reps": sample["reps"]}, schema="sales")
    write_tables(path, {"accounts": sample["accounts"], "Notes": sample["campaigns"]})
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path)
    assert fields(caught.value.problems) == [
        ("Notes", None, "unknown_table", None, None, None, "warning"),
        ("leads", None, "missing_table", None, None, None, "error"),
    ]
    missing = caught.value.problems[1]
    assert missing.message == (
        "no leads table in schema main of crm.duckdb; tables found: accounts, Notes"
    )
    code, out, err = run(capsys, "validate", str(path), "--schema", "sales")
    assert (code, out) == (2, "")
    assert err.startswith("error: invalid input\n")
    assert "no leads table in schema sales of crm.duckdb; tables found: reps" in err
    assert "Traceback" not in err


def test_a_leads_table_in_another_schema_is_pointed_at(tmp_path: Path) -> None:
    sample = dict(pk.sample_dataset())
    path = write_tables(tmp_path / "crm.duckdb", {"LEADS": sample["leads"]}, schema="sales")
    write_tables(path, {"reps": sample["reps"]})
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path)
    assert caught.value.problems[0].message == (
        "no leads table in schema main of crm.duckdb; tables found: reps "
        "(schema sales has a table leads: pass schema='sales', --schema sales)"
    )
    assert len(pk.read_dataset(path, schema="sales").leads) == 2000
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path, preset="hubspot")
    assert caught.value.problems[0].message == (
        "no table contacts for the leads table in schema main of crm.duckdb, as preset "
        "'hubspot' expects; tables found: reps"
    )


def test_unknown_schema_lists_the_schemas_and_their_tables(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        pk.read_dataset(database, schema="sales")
    # the fixture wrote the sample's files in main and every canonical table in crm
    files = ", ".join(sorted(name for name, _ in read_tables(sample_dir())[0].items()))
    tables = ", ".join(sorted(TABLES))
    assert "leads, opportunities" in files
    assert str(caught.value) == (
        f"schema 'sales' is not in crm.duckdb; its schemas (and tables): crm ({tables}); "
        f"main ({files})"
    )
    code, out, err = run(capsys, "report", str(database), "--schema", "sales")
    assert (code, out) == (2, "")
    assert err == f"error: {caught.value}\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("leads.duckdb", b"lead_id,created_at,origin\nL1,2025-04-01,inbound\n", "no DuckDB header"),
        ("empty.ddb", b"", "empty"),
        ("notes.txt", b"hello, this is not a database file at all", "no DuckDB header"),
    ],
)
def test_a_file_that_is_not_a_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        pk.read_dataset(path)
    assert str(caught.value).startswith(
        f"{name} is not a directory of tables and not a DuckDB database file ({message})"
    )
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert err == f"error: {caught.value}\n"
    assert path.read_bytes() == content


def test_absent_database_and_schema_with_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"database file '.*absent\.duckdb' does not exist"):
        pk.read_dataset(tmp_path / "absent.duckdb")
    assert not (tmp_path / "absent.duckdb").exists()  # not created by opening it
    with pytest.raises(ConfigError, match="schema='crm' names a schema of a DuckDB database"):
        pk.read_dataset(sample_dir(), schema="crm")
    with pytest.raises(ConfigError, match="schema='crm' names a schema of a DuckDB database"):
        read_preset(SF, "salesforce", schema="crm")
    code, out, err = run(capsys, "validate", str(sample_dir()), "--schema", "crm")
    assert (code, out) == (2, "")
    assert err == (
        f"error: --schema names a schema of a DuckDB database file, but {sample_dir()} is a "
        "directory of tables; drop --schema, or pass the database file\n"
    )
    code, _, err = run(capsys, "report", "--schema", "crm")
    assert code == 2
    assert err == "error: --schema needs DATA_DIR, a DuckDB database file\n"


def test_output_over_the_database_is_refused(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    before = digest(database)
    code, _, err = run(capsys, "report", str(database), "-o", str(database))
    assert code == 2
    assert err == f"error: --output must not overwrite the database {database}\n"
    db_named_like_export = database.parent / "pipelinekit.duckdb"
    db_named_like_export.write_bytes(database.read_bytes())
    code, _, err = run(capsys, "report", str(db_named_like_export), "--tables-dir",
                       str(database.parent), "--tables-format", "duckdb")  # fmt: skip
    assert code == 2
    assert "--tables-dir must not overwrite the database" in err
    assert digest(database) == digest(db_named_like_export) == before


def test_a_view_duckdb_cannot_read_is_one_problem(tmp_path: Path) -> None:
    path = hand_database(tmp_path / "hand.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE raw_calls")  # the ACTIVITIES view now reads nothing
    with pytest.raises(SchemaError) as caught:
        pk.read_dataset(path)
    (problem,) = caught.value.errors
    assert (problem.table, problem.rule) == ("activities", "unreadable_table")
    assert problem.message.startswith("cannot read main.ACTIVITIES: Catalog Error")


def test_a_database_open_for_writing_is_a_clear_error(tmp_path: Path) -> None:
    path = hand_database(tmp_path / "busy.duckdb")
    with duckdb.connect(str(path)), pytest.raises(ConfigError) as caught:
        pk.read_dataset(path)
    assert str(caught.value).startswith("cannot open busy.duckdb as a DuckDB database: ")


def test_bad_schema_argument(database: Path) -> None:
    with pytest.raises(ConfigError, match="schema must be a schema name, got ''"):
        pk.read_dataset(database, schema="")


def test_without_duckdb_the_error_names_the_extra(
    capsys: pytest.CaptureFixture[str], database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    with pytest.raises(UnsupportedEngineError) as caught:
        pk.read_dataset(database)
    assert str(caught.value) == (
        "reading crm.duckdb needs DuckDB, which is not installed: "
        'pip install "pipelinekit[engines]"'
    )
    code, out, err = run(capsys, "report", str(database))
    assert (code, out) == (2, "")
    assert err == f"error: {caught.value}\n"
    # a directory still reads without DuckDB
    assert len(pk.read_dataset(sample_dir()).leads) == 2000


def test_open_database_yields_the_schema(database: Path) -> None:
    with open_database(database, schema="CRM") as db:
        assert (db.schema, db.where) == ("crm", "schema crm of crm.duckdb")
        assert db.find("LEADS") == "leads"
        assert db.find("notes") is None
        rel = db.relation("leads")
        assert rel.aggregate("count(*)").fetchall() == [(2000,)]
    with pytest.raises(duckdb.ConnectionException):
        rel.fetchall()  # closed with the block: nothing stays open on the file


def test_sample_timestamps_survive_as_typed_values(database: Path) -> None:
    ds = pk.read_dataset(database, schema="crm")
    first = ds.leads.sort_values("created_at").iloc[0]
    assert first["created_at"] == pd.Timestamp(datetime(2025, 1, 1, 9, 3, 39))
