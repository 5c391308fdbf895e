"""CRM presets on warehouse-synced tables (Fivetran, Airbyte, Stitch layouts): the
test export fixtures rewritten the way syncs write them (snake_case columns, tables
named ``sf_lead_data`` / ``deal`` / ``engagement_call``, HubSpot ``property_*``
columns) read to the same canonical tables; deleted rows, the ``user_role`` table,
the ``TaskSubtype`` fallbacks, "did you mean" and the CLI on a synced directory."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.errors import SchemaError
from pipelinekit.io.presets import read_preset
from pipelinekit.io.presets.model import name_key

DATA = Path(__file__).resolve().parents[1] / "data" / "presets"
SF, HS = DATA / "salesforce", DATA / "hubspot"
TABLES = (
    "leads",
    "activities",
    "opportunities",
    "accounts",
    "reps",
    "campaigns",
    "stage_changes",
    "opportunity_history",
)


def snake(name: str) -> str:
    """An API name the way a sync writes it: ``CreatedDate`` -> ``created_date``."""
    name = name.replace(".", "_")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return name.lower()


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


def salesforce_sync(tmp: Path) -> Path:
    """The Salesforce fixture as a Fivetran sync: ``sf_<object>_data.csv`` files,
    snake_case columns, ``is_deleted`` / ``_fivetran_*`` columns, and the user's role
    in a ``user_role`` table."""
    out = tmp / "sf_sync"
    out.mkdir()
    for file in sorted(SF.glob("*.csv")):
        frame = _read(file)
        if file.stem == "User":
            roles = sorted(set(frame["USERROLE.NAME"]) - {""})
            ids = {role: f"00E{i:012d}" for i, role in enumerate(roles, start=1)}
            frame["user_role_id"] = frame.pop("USERROLE.NAME").map(ids).fillna("")
            _write(
                pd.DataFrame({"id": list(ids.values()), "name": list(ids)}),
                out / "sf_user_role_data.csv",
            )
        frame.columns = [snake(c) if c.upper() != c else c.lower() for c in frame.columns]
        frame["is_deleted"] = "false"
        frame["_fivetran_deleted"] = "false"
        frame["_fivetran_synced"] = "2025-06-01 00:00:00"
        _write(frame, out / f"sf_{snake(file.stem)}_data.csv")
    return out


def hubspot_sync(tmp: Path) -> Path:
    """The HubSpot fixture as a Fivetran sync: singular table names, engagement
    tables, ``property_*`` columns and ``deal_stage`` (``value``, ``date_entered``)."""
    out = tmp / "hs_sync"
    out.mkdir()
    names = {
        "contacts": "contact",
        "companies": "company",
        "deals": "deal",
        "owners": "owner",
        "calls": "engagement_call",
        "emails": "engagement_email",
        "meetings": "engagement_meeting",
        "deal_stage_history": "deal_stage",
    }
    keys = {"contact_id", "company_id", "deal_id", "id", "email", "team"}
    for file in sorted(HS.glob("*.csv")):
        frame = _read(file)
        if file.stem == "deal_stage_history":
            frame = frame.rename(columns={"dealstage": "value", "timestamp": "date_entered"})
        else:
            rename = {"hs_object_id": "id"} if file.stem != "deals" else {"hs_object_id": "deal_id"}
            frame = frame.rename(columns=rename)
            frame.columns = [c if c in keys else f"property_{c}" for c in frame.columns]
        frame["_fivetran_synced"] = "2025-06-01 00:00:00"
        _write(frame, out / f"{names[file.stem]}.csv")
    return out


def _same_tables(a: pk.Dataset, b: pk.Dataset) -> None:
    for table in TABLES:
        left, right = getattr(a, table), getattr(b, table)
        if left is None or right is None:
            assert left is None, table
            assert right is None, table
            continue
        pd.testing.assert_frame_equal(left, right, obj=table)


def _rules(ds: pk.Dataset) -> list[tuple[str, str | None, str]]:
    return [(p.table, p.column, p.rule) for p in ds.warnings]


def test_name_key_joins_api_and_sync_names() -> None:
    assert snake("CallDurationInSeconds") == "call_duration_in_seconds"
    assert name_key("CallDurationInSeconds") == name_key("call_duration_in_seconds")
    assert name_key("OpportunityHistory") == name_key("opportunity_history")
    assert name_key("Lead") != name_key("LeadHistory")


def test_salesforce_sync_reads_like_the_export(tmp_path: Path) -> None:
    export = read_preset(SF, "salesforce")
    synced = read_preset(salesforce_sync(tmp_path), "salesforce")
    _same_tables(export, synced)
    # the same warnings (no deleted rows, no unknown _fivetran columns)
    assert _rules(synced) == _rules(export)
    # the role came through user_role: 3 users with a role, the admin without one skipped
    assert synced.reps["role"].tolist() == ["inside", "field", "manager"]


def test_hubspot_sync_reads_like_the_export(tmp_path: Path) -> None:
    export = read_preset(HS, "hubspot")
    synced = read_preset(hubspot_sync(tmp_path), "hubspot")
    _same_tables(export, synced)
    assert _rules(synced) == _rules(export)


def test_deleted_rows_are_left_out_and_counted(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    tasks = _read(folder / "sf_task_data.csv")
    tasks.loc[0, "is_deleted"] = "true"  # the first call (T1)
    tasks.loc[1, "_fivetran_deleted"] = "TRUE"  # the first email (T2)
    _write(tasks, folder / "sf_task_data.csv")
    export = read_preset(SF, "salesforce")
    synced = read_preset(folder, "salesforce")
    gone = {"00T0000000000T1", "00T0000000000T2"}
    assert set(export.activities["activity_id"]) - set(synced.activities["activity_id"]) == gone
    assert len(synced.activities) == len(export.activities) - 2
    deleted = [p for p in synced.warnings if p.rule == "deleted_rows"]
    assert len(deleted) == 1
    assert deleted[0].table == "activities"
    assert deleted[0].value == "2"
    assert "Task: 2 rows marked deleted" in deleted[0].message


def test_tasks_without_subtype_fall_back_to_type_then_subject(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    tasks = _read(folder / "sf_task_data.csv")
    subtype = tasks.pop("task_subtype")
    with_type = tasks.assign(type=subtype.map({"Call": "Call", "Email": "Email"}).fillna("Other"))
    _write(with_type, folder / "sf_task_data.csv")
    export = read_preset(SF, "salesforce")
    by_type = read_preset(folder, "salesforce")
    fallback = [p for p in by_type.warnings if p.rule == "fallback_source_column"]
    assert [(p.table, p.column) for p in fallback] == [("activities", "channel")]
    assert "read from type instead" in fallback[0].message
    # the to-dos (Type Other, TaskSubtype Task) are left out by their subjects
    same = export.activities.reset_index(drop=True)
    pd.testing.assert_frame_equal(by_type.activities.reset_index(drop=True), same)
    # no Type either: the Subject tells calls ("Call ...") and emails ("Email: ...")
    _write(tasks, folder / "sf_task_data.csv")
    by_subject = read_preset(folder, "salesforce")
    assert by_subject.activities["channel"].tolist() == export.activities["channel"].tolist()
    unclassified = [p for p in by_subject.warnings if p.rule == "unclassified_rows"]
    todo = int((subtype == "Task").sum())
    assert [p.value for p in unclassified] == ([str(todo)] if todo else [])


def test_a_missing_column_gets_a_did_you_mean(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    leads = _read(folder / "sf_lead_data.csv").rename(columns={"created_date": "create_date"})
    _write(leads, folder / "sf_lead_data.csv")
    with pytest.raises(SchemaError) as raised:
        read_preset(folder, "salesforce")
    (missing,) = [
        p
        for p in raised.value.problems
        if p.rule == "missing_source_column" and p.severity == "error"
    ]
    assert (missing.table, missing.column) == ("leads", "created_at")
    assert "did you mean create_date?" in missing.message


def test_two_files_for_one_object_are_an_error(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    shutil.copy(folder / "sf_lead_data.csv", folder / "lead.csv")
    with pytest.raises(SchemaError) as raised:
        read_preset(folder, "salesforce")
    (dup,) = [p for p in raised.value.problems if p.rule == "duplicate_source_file"]
    assert "lead.csv" in dup.message
    assert "sf_lead_data.csv" in dup.message


def test_cli_validates_and_reports_a_synced_export_with_an_empty_lead_table(
    tmp_path: Path, capsys: Any
) -> None:
    folder = salesforce_sync(tmp_path)
    leads = _read(folder / "sf_lead_data.csv")
    _write(leads.head(0), folder / "sf_lead_data.csv")  # opportunities-only export
    opps = _read(folder / "sf_opportunity_data.csv")
    # a deal entered after the fact: closed a day before it was created
    opps.loc[0, "close_date"] = "2025-04-01"
    _write(opps, folder / "sf_opportunity_data.csv")
    assert main(["validate", str(folder), "--preset", "salesforce"]) == 0
    said = capsys.readouterr()
    text = said.out + said.err
    assert "closed_before_created" in text
    assert "is valid (0 leads" in text
    out = tmp_path / "report.json"
    code = main(["report", str(folder), "--preset", "salesforce", "--as-of", "2025-06-30",
                 "--format", "json", "-o", str(out)])  # fmt: skip
    assert code == 0
    assert out.stat().st_size > 0
    assert main(["validate", str(folder), "--preset", "salesforce", "--strict"]) == 2


def test_a_range_error_shows_the_value_as_exported(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    opps = _read(folder / "sf_opportunity_data.csv")
    opps.loc[0, "probability"] = "1000"  # a percentage typed with an extra zero
    _write(opps, folder / "sf_opportunity_data.csv")
    with pytest.raises(SchemaError) as raised:
        read_preset(folder, "salesforce")
    (problem,) = [p for p in raised.value.problems if p.rule == "out_of_range"]
    assert problem.value == "10.0"
    assert "(1000 in the export, scaled)" in problem.message


def test_a_missing_leads_export_lists_the_files_found(tmp_path: Path) -> None:
    folder = salesforce_sync(tmp_path)
    (folder / "sf_lead_data.csv").unlink()
    with pytest.raises(SchemaError) as raised:
        read_preset(folder, "salesforce")
    (problem,) = [p for p in raised.value.problems if p.rule == "missing_source_file"]
    assert "files found: sf_account_data.csv, sf_campaign_data.csv" in problem.message


def test_a_synced_duckdb_database_reads_like_the_export(tmp_path: Path) -> None:
    import duckdb  # the engines extra, installed by make test

    folder = salesforce_sync(tmp_path)
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA salesforce")
        for file in sorted(folder.glob("*.csv")):
            con.execute(
                f"CREATE TABLE salesforce.{file.stem} AS "
                f"SELECT * FROM read_csv('{file}', all_varchar = true)"
            )
    synced = read_preset(path, "salesforce", schema="salesforce")
    _same_tables(read_preset(SF, "salesforce"), synced)


def test_cli_validates_and_reports_a_synced_hubspot_export(tmp_path: Path, capsys: Any) -> None:
    folder = hubspot_sync(tmp_path)
    contacts = _read(folder / "contact.csv")
    contacts["_fivetran_deleted"] = ["true"] + ["false"] * (len(contacts) - 1)
    _write(contacts, folder / "contact.csv")
    assert main(["validate", str(folder), "--preset", "hubspot"]) == 0
    said = capsys.readouterr()
    text = said.out + said.err
    assert "deleted_rows" in text
    assert f"is valid ({len(contacts) - 1} leads" in text
    out = tmp_path / "report.html"
    code = main(["report", str(folder), "--preset", "hubspot", "--as-of", "2025-06-30",
                 "--format", "html", "-o", str(out)])  # fmt: skip
    assert code == 0
    assert "<html" in out.read_text(encoding="utf-8")


def test_hubspot_sync_with_association_and_team_tables(tmp_path: Path) -> None:
    """Fivetran keeps an engagement's or a deal's contact and company, and an owner's
    team, in tables of their own; they fill the same canonical columns."""
    folder = hubspot_sync(tmp_path)
    links: dict[str, list[dict[str, str]]] = {}
    for table, key in [
        ("engagement_call", "engagement_id"),
        ("engagement_email", "engagement_id"),
        ("engagement_meeting", "engagement_id"),
        ("deal", "deal_id"),
    ]:
        frame = _read(folder / f"{table}.csv").rename(columns={"id": key})
        prefix = "engagement" if key == "engagement_id" else "deal"
        for other in ("contact_id", "company_id"):
            rows = frame[[key, other]]
            links.setdefault(f"{prefix}_{other[:-3]}", []).extend(rows.to_dict("records"))
        _write(frame.drop(columns=["contact_id", "company_id"]), folder / f"{table}.csv")
    for name, rows in links.items():
        value = f"{name.split('_')[1]}_id"
        # a later second association of the first record: the first row wins
        extra = [{**rows[0], value: "0"}]
        _write(pd.DataFrame(rows + extra), folder / f"{name}.csv")
    owners = _read(folder / "owner.csv").rename(columns={"id": "owner_id"})
    teams = sorted(set(owners["team"]) - {""})
    team_ids = {team: str(100 + i) for i, team in enumerate(teams)}
    _write(pd.DataFrame({"id": list(team_ids.values()), "name": teams}), folder / "team.csv")
    member = owners[owners["team"] != ""]
    _write(
        pd.DataFrame(
            {
                "owner_id": list(member["owner_id"]) * 2,
                "team_id": [team_ids[t] for t in member["team"]] + ["999"] * len(member),
                "is_team_primary": ["true"] * len(member) + ["false"] * len(member),
            }
        ),
        folder / "owner_team.csv",
    )
    _write(owners.drop(columns="team"), folder / "owner.csv")
    export = read_preset(HS, "hubspot")
    synced = read_preset(folder, "hubspot")
    _same_tables(export, synced)
