"""CRM presets: small realistic Salesforce and HubSpot exports -> hand-written canonical rows.

The fixture exports live in ``tests/data/presets/{salesforce,hubspot}``. Export
timestamps ending in ``Z`` are UTC; the dataset time zone is Asia/Tokyo (UTC+9), so
``2025-04-01T00:30:00.000Z`` is ``2025-04-01 09:30`` (the arithmetic is next to each
expected row).
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.errors import ConfigError, Problem, SchemaError
from pipelinekit.io.presets import (
    HUBSPOT,
    PRESETS,
    SALESFORCE,
    CollapseRepeats,
    Fill,
    Keep,
    Lookup,
    Preset,
    TableMap,
    apply_preset,
    read_preset,
)

DATA = Path(__file__).parent.parent / "data" / "presets"
SF = DATA / "salesforce"
HS = DATA / "hubspot"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as plain Python values: None for every kind of missing."""
    out = []
    for row in frame[columns].astype(object).to_dict("records"):
        clean = {}
        for key, value in row.items():
            if value is None or value is pd.NA or value is pd.NaT or value != value:
                clean[key] = None
            elif isinstance(value, pd.Timestamp):
                clean[key] = value.to_pydatetime()
            else:
                clean[key] = value
        out.append(clean)
    return out


def found(problems: list[Problem] | tuple[Problem, ...]) -> list[tuple[Any, ...]]:
    return [(p.table, p.column, p.rule, p.severity, p.row, p.id, p.value) for p in problems]


def copy_export(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def sf() -> Any:
    return read_preset(SF, "salesforce")


@pytest.fixture(scope="module")
def hs() -> Any:
    return read_preset(HS, "hubspot")


# ------------------------------------------------------------------- salesforce


def test_salesforce_leads(sf: Any) -> None:
    cols = ["lead_id", "account_id", "owner_id", "created_at", "origin", "source"]
    cols += ["campaign_id", "action_status", "title"]
    assert records(sf.leads, cols) == [
        # CreatedDate 00:30Z -> 09:30 JST; converted: account B1; Web -> inbound
        {
            "lead_id": "00Q0000000000D1",
            "account_id": "0010000000000B1",
            "owner_id": "0050000000000A1",
            "created_at": t("2025-04-01 09:30"),
            "origin": "inbound",
            "source": "Web",
            "campaign_id": None,
            "action_status": "qualified",  # Closed - Converted
            "title": "部長",
        },
        # 2025-04-02 15:10Z + 9 h = 2025-04-03 00:10 JST (the local day changes);
        # campaign: earliest CampaignMember row, C1 on 04-03 before C2 on 04-10
        {
            "lead_id": "00Q0000000000D2",
            "account_id": None,
            "owner_id": "0050000000000A1",
            "created_at": t("2025-04-03 00:10"),
            "origin": "inbound",  # Trade Show
            "source": "Trade Show",
            "campaign_id": "7010000000000C1",
            "action_status": "working",  # Working - Contacted
            "title": None,
        },
        # owned by a queue (00G...): no rep owner
        {
            "lead_id": "00Q0000000000D3",
            "account_id": None,
            "owner_id": None,
            "created_at": t("2025-04-04 10:00"),
            "origin": "outbound",  # Cold Call
            "source": "Cold Call",
            "campaign_id": None,
            "action_status": "new",  # Open - Not Contacted
            "title": "Manager",
        },
        # empty LeadSource -> outbound (created by a rep)
        {
            "lead_id": "00Q0000000000D4",
            "account_id": None,
            "owner_id": "0050000000000A2",
            "created_at": t("2025-04-05 12:00"),
            "origin": "outbound",
            "source": None,
            "campaign_id": None,
            "action_status": "recycled",  # Nurturing
            "title": None,
        },
        # 2025-04-06 23:00Z -> 04-07 08:00; status "Meeting Requested" unknown -> default new
        {
            "lead_id": "00Q0000000000D5",
            "account_id": None,
            "owner_id": "0050000000000A1",
            "created_at": t("2025-04-07 08:00"),
            "origin": "inbound",  # Webinar
            "source": "Webinar",
            "campaign_id": None,
            "action_status": "new",
            "title": "CTO",
        },
    ]


def test_salesforce_activities(sf: Any) -> None:
    cols = ["activity_id", "lead_id", "account_id", "owner_id", "occurred_at"]
    cols += ["channel", "direction", "outcome", "duration_s"]
    rows = [
        # Tasks first (file order; T5 is a to-do and T6 an internal call: skipped).
        # occurred_at = CompletedDateTime, else CreatedDate: 01:05Z -> 10:05 JST
        ("00T0000000000T1", "00Q0000000000D1", None, "A1", "2025-04-01 10:05", "call",
         "outbound", "connected", 185.0),
        # email task: no CompletedDateTime -> CreatedDate 01:10Z; outbound, sent
        ("00T0000000000T2", "00Q0000000000D1", None, "A1", "2025-04-01 10:10", "email",
         "outbound", "sent", None),
        ("00T0000000000T3", "00Q0000000000D2", None, "A1", "2025-04-03 09:21", "call",
         "outbound", "voicemail", 0.0),
        # WhoId is a Contact (003...): the activity stays on its account; 通話 -> connected
        ("00T0000000000T4", None, "0010000000000B2", "A1", "2025-04-04 14:05", "call",
         "inbound", "connected", 300.0),
        ("00T0000000000T7", "00Q0000000000D3", None, "A1", "2025-04-07 09:00", "email",
         "outbound", "sent", None),
        # the Event: a held outbound meeting; 60 minutes x 60 = 3600 s
        ("00U0000000000V1", "00Q0000000000D1", "0010000000000B1", "A2", "2025-04-08 14:00",
         "meeting", "outbound", "held", 3600.0),
    ]  # fmt: skip
    users = {"A1": "0050000000000A1", "A2": "0050000000000A2"}
    expected = [
        dict(zip(cols, (*row[:3], users[row[3]], t(row[4]), *row[5:]), strict=True)) for row in rows
    ]
    assert records(sf.activities, cols) == expected


def test_salesforce_opportunities_and_stage_history(sf: Any) -> None:
    cols = ["opportunity_id", "lead_id", "created_at", "origin", "validated_at", "stage"]
    cols += ["closed_at", "is_won", "amount", "probability", "campaign_id"]
    assert records(sf.opportunities, cols) == [
        # lead: D1's ConvertedOpportunityId; valid when it entered Needs Analysis
        # (06:00Z -> 15:00); Probability 100 -> 1.0
        {
            "opportunity_id": "0060000000000E1",
            "lead_id": "00Q0000000000D1",
            "created_at": t("2025-04-02 11:00"),
            "origin": "inbound",
            "validated_at": t("2025-04-08 15:00"),
            "stage": "Closed Won",
            "closed_at": t("2025-05-20 00:00"),
            "is_won": True,
            "amount": 1_200_000.0,
            "probability": 1.0,
            "campaign_id": None,
        },
        # open: CloseDate 2025-06-30 is a forecast -> no closed_at, is_won unknown;
        # 70 x 0.01 = 0.7 exactly
        {
            "opportunity_id": "0060000000000E2",
            "lead_id": None,
            "created_at": t("2025-04-10 12:00"),
            "origin": "outbound",
            "validated_at": t("2025-04-20 12:00"),  # Proposal/Price Quote
            "stage": "Proposal/Price Quote",
            "closed_at": None,
            "is_won": None,
            "amount": 500_000.0,
            "probability": 0.7,
            "campaign_id": "7010000000000C2",
        },
        # lost from Prospecting: never valid
        {
            "opportunity_id": "0060000000000E3",
            "lead_id": None,
            "created_at": t("2025-04-15 09:00"),
            "origin": "inbound",  # Partner Referral
            "validated_at": None,
            "stage": "Closed Lost",
            "closed_at": t("2025-05-01 00:00"),
            "is_won": False,
            "amount": 300_000.0,
            "probability": 0.0,
            "campaign_id": None,
        },
    ]
    # the amount edit on E1 (H2, Prospecting again) is collapsed; file order otherwise
    assert records(sf.stage_changes, ["opportunity_id", "stage", "entered_at"]) == [
        {"opportunity_id": "0060000000000E1", "stage": "Closed Won",
         "entered_at": t("2025-05-20 10:00")},
        {"opportunity_id": "0060000000000E1", "stage": "Prospecting",
         "entered_at": t("2025-04-02 11:00")},
        {"opportunity_id": "0060000000000E1", "stage": "Needs Analysis",
         "entered_at": t("2025-04-08 15:00")},
        {"opportunity_id": "0060000000000E2", "stage": "Prospecting",
         "entered_at": t("2025-04-10 12:00")},
        {"opportunity_id": "0060000000000E2", "stage": "Proposal/Price Quote",
         "entered_at": t("2025-04-20 12:00")},
        {"opportunity_id": "0060000000000E3", "stage": "Prospecting",
         "entered_at": t("2025-04-15 09:00")},
        {"opportunity_id": "0060000000000E3", "stage": "Closed Lost",
         "entered_at": t("2025-05-01 09:00")},
    ]  # fmt: skip


def test_salesforce_accounts_reps_campaigns(sf: Any) -> None:
    assert records(sf.accounts, ["account_id", "region", "employees", "annual_revenue"]) == [
        {"account_id": "0010000000000B1", "region": "Tokyo", "employees": 250,
         "annual_revenue": 1_200_000_000.0},
        # no BillingState -> BillingCountry
        {"account_id": "0010000000000B2", "region": "Japan", "employees": 1200,
         "annual_revenue": None},
    ]  # fmt: skip
    # Data Loader headers (ID, USERROLE.NAME) match case-insensitively; the
    # integration user without a role is skipped
    assert records(sf.reps, ["rep_id", "name", "role"]) == [
        {"rep_id": "0050000000000A1", "name": "佐藤 花子", "role": "inside"},
        {"rep_id": "0050000000000A2", "name": "鈴木 一郎", "role": "field"},
        {"rep_id": "0050000000000A4", "name": "田中 次郎", "role": "manager"},
    ]
    assert records(sf.campaigns, ["campaign_id", "channel", "started_on"]) == [
        {"campaign_id": "7010000000000C1", "channel": "Trade Show", "started_on": t("2025-04-01")},
        {"campaign_id": "7010000000000C2", "channel": "Webinar", "started_on": t("2025-04-10")},
    ]


def test_salesforce_warnings(sf: Any) -> None:
    assert sf.validated
    assert found(sf.warnings) == [
        ("leads", "action_status", "unmapped_value", "warning", 5, "00Q0000000000D5",
         "Meeting Requested"),
        ("opportunities", "quantity", "missing_source_column", "warning", None, None, None),
    ]  # fmt: skip
    assert "Lead.Status" in sf.warnings[0].message
    assert "(1 row; left missing)" in sf.warnings[0].message
    assert "TotalOpportunityQuantity" in sf.warnings[1].message


# ---------------------------------------------------------------------- hubspot


def test_hubspot_leads_and_accounts(hs: Any) -> None:
    cols = ["lead_id", "account_id", "owner_id", "created_at", "origin", "action_status", "title"]
    assert records(hs.leads, cols) == [
        {"lead_id": "101", "account_id": "5001", "owner_id": "9001",
         "created_at": t("2025-04-01 09:30"), "origin": "inbound",  # ORGANIC_SEARCH
         "action_status": "qualified", "title": "部長"},  # OPEN_DEAL
        {"lead_id": "102", "account_id": "5002", "owner_id": "9001",
         "created_at": t("2025-04-02 10:00"), "origin": "outbound",  # OFFLINE
         "action_status": "working", "title": None},  # ATTEMPTED_TO_CONTACT
        # 14:59Z + 9 h = 23:59 JST, still 04-03; no lead status -> default new
        {"lead_id": "103", "account_id": None, "owner_id": "9001",
         "created_at": t("2025-04-03 23:59"), "origin": "inbound",
         "action_status": "new", "title": "Engineer"},
        # WEBINAR_FOLLOW_UP is not in the preset: warning, default new
        {"lead_id": "104", "account_id": None, "owner_id": "9002",
         "created_at": t("2025-04-05 11:00"), "origin": "inbound",
         "action_status": "new", "title": None},
    ]  # fmt: skip
    assert records(hs.accounts, ["account_id", "region", "is_target", "target_tier"]) == [
        {"account_id": "5001", "region": "東京都", "is_target": True, "target_tier": "1"},
        {"account_id": "5002", "region": "Japan", "is_target": False, "target_tier": None},
    ]
    assert records(hs.reps, ["rep_id", "role"]) == [
        {"rep_id": "9001", "role": "inside"},
        {"rep_id": "9002", "role": "field"},  # 9003 has no team: skipped
    ]


def test_hubspot_activities(hs: Any) -> None:
    cols = ["activity_id", "lead_id", "owner_id", "occurred_at", "channel", "direction"]
    cols += ["outcome", "duration_s"]
    rows = [
        # calls (203 was canceled: skipped); duration ms / 1000: 184000 -> 184.0
        ("201", "101", "9001", "2025-04-01 09:45", "call", "outbound", "connected", 184.0),
        ("202", "102", "9001", "2025-04-02 11:00", "call", "outbound", "no_answer", 0.0),
        # a disposition label instead of its id; 95500 ms -> 95.5 s
        ("204", "103", "9001", "2025-04-04 10:00", "call", "inbound", "connected", 95.5),
        # emails (304 is still scheduled: skipped)
        ("301", "101", "9001", "2025-04-01 10:00", "email", "outbound", "sent", None),
        ("302", "102", "9001", "2025-04-02 10:30", "email", "outbound", "bounced", None),
        # an incoming email is the prospect's reply
        ("303", "101", None, "2025-04-02 14:00", "email", "inbound", "replied", None),
        # meetings (404 canceled: skipped); no outcome -> scheduled
        ("401", "101", "9002", "2025-04-08 14:00", "meeting", "outbound", "held", None),
        ("402", "102", "9002", "2025-04-09 14:00", "meeting", "outbound", "no_show", None),
        ("403", "103", "9002", "2025-04-10 14:00", "meeting", "outbound", "scheduled", None),
    ]
    expected = [dict(zip(cols, (*r[:3], t(r[3]), *r[4:]), strict=True)) for r in rows]
    assert records(hs.activities, cols) == expected


def test_hubspot_deals_and_stage_history(hs: Any) -> None:
    cols = ["opportunity_id", "lead_id", "created_at", "validated_at", "stage", "closed_at"]
    cols += ["is_won", "probability"]
    assert records(hs.opportunities, cols) == [
        # valid from the first entry into Presentation Scheduled: 06:00Z -> 15:00
        {"opportunity_id": "601", "lead_id": "101", "created_at": t("2025-04-02 11:00"),
         "validated_at": t("2025-04-08 15:00"), "stage": "Closed Won",
         "closed_at": t("2025-05-20 09:00"), "is_won": True, "probability": 1.0},
        # open: closedate is a forecast
        {"opportunity_id": "602", "lead_id": "102", "created_at": t("2025-04-09 14:00"),
         "validated_at": t("2025-04-15 10:00"), "stage": "Presentation Scheduled",
         "closed_at": None, "is_won": None, "probability": 0.6},
        {"opportunity_id": "603", "lead_id": "103", "created_at": t("2025-04-10 09:00"),
         "validated_at": None, "stage": "Closed Lost",
         "closed_at": t("2025-04-25 09:00"), "is_won": False, "probability": 0.0},
        # a custom pipeline's stage id is kept as written (and reported)
        {"opportunity_id": "604", "lead_id": "104", "created_at": t("2025-04-12 10:00"),
         "validated_at": None, "stage": "987654321",
         "closed_at": None, "is_won": None, "probability": 0.2},
    ]  # fmt: skip
    history = records(hs.stage_changes, ["opportunity_id", "stage"])
    # 601's repeated presentationscheduled row is collapsed: 9 rows -> 8
    assert [(r["opportunity_id"], r["stage"]) for r in history] == [
        ("601", "Appointment Scheduled"),
        ("601", "Presentation Scheduled"),
        ("601", "Closed Won"),
        ("602", "Appointment Scheduled"),
        ("602", "Presentation Scheduled"),
        ("603", "Appointment Scheduled"),
        ("603", "Closed Lost"),
        ("604", "987654321"),
    ]


def test_hubspot_warnings(hs: Any) -> None:
    assert found(hs.warnings) == [
        ("leads", "action_status", "unmapped_value", "warning", 4, "104", "WEBINAR_FOLLOW_UP"),
        ("stage_changes", "stage", "unmapped_value", "warning", 9, None, "987654321"),
        ("opportunities", "stage", "unmapped_value", "warning", 4, "604", "987654321"),
    ]


# ------------------------------------------------------------ unmapped and errors


def test_unmapped_required_values_are_errors_listed_once_per_value(tmp_path: Path) -> None:
    folder = copy_export(SF, tmp_path / "sf")
    # two leads with an unknown LeadSource, one task with an unknown TaskSubtype
    edit(folder, "Lead.csv", ",Trade Show,", ",Seminar,")
    edit(folder, "Lead.csv", ",Cold Call,", ",seminar ,")
    edit(folder, "Task.csv", ",ListEmail,", ",LINE,")
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "salesforce")
    err = info.value
    assert found(err.errors) == [
        # one problem per distinct value (matched trimmed, case-insensitively)
        ("leads", "origin", "unmapped_value", "error", 2, "00Q0000000000D2", "Seminar"),
        ("activities", "channel", "unmapped_value", "error", 7, "00T0000000000T7", "LINE"),
    ]
    assert "(2 rows; left missing)" in err.errors[0].message
    assert err.totals[("leads", "origin", "unmapped_value")] == 2
    # the blanked required cells are not reported a second time as required_value
    assert not [p for p in err.problems if p.rule == "required_value"]
    assert ("leads", "origin", "required_value") not in err.totals
    assert "Lead.LeadSource" in str(err)
    assert "LINE" in str(err)


def test_schema_problems_point_back_to_export_rows(tmp_path: Path) -> None:
    folder = copy_export(SF, tmp_path / "sf")
    # T3 is the 3rd data row of Task.csv and the 3rd mapped activity; T7 is the 7th
    # data row but the 5th mapped activity (T5 and T6 are skipped)
    edit(folder, "Task.csv", "2025-04-07T00:00:00.000Z", "07/04/2025")
    edit(folder, "Opportunity.csv", ",500000,70,", ",500000,170,")
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "salesforce")
    errors = info.value.errors
    assert found(errors) == [
        ("activities", "occurred_at", "unparseable_timestamp", "error", 7, "00T0000000000T7",
         "07/04/2025"),
        # 170 x 0.01 = 1.7 is outside [0, 1]
        ("opportunities", "probability", "out_of_range", "error", 2, "0060000000000E2", "1.7"),
    ]  # fmt: skip
    assert errors[0].message.endswith("[Task.csv]")


def test_missing_required_source_column_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "sf"
    folder.mkdir()
    (folder / "Lead.csv").write_text("Id,LeadSource\n00Q1,Web\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "salesforce")
    errors = info.value.errors
    assert [(p.table, p.column, p.rule) for p in errors] == [
        ("leads", "created_at", "missing_source_column")
    ]
    assert "Lead has no column CreatedDate" in errors[0].message


def test_missing_lead_export_and_duplicate_files(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an export", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "hubspot")
    assert [(p.table, p.rule) for p in info.value.problems] == [("leads", "missing_source_file")]
    assert "contacts.csv" in info.value.problems[0].message

    folder = copy_export(HS, tmp_path / "hs")
    pl.read_csv(folder / "calls.csv", infer_schema=False).write_parquet(folder / "CALLS.parquet")
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "hubspot")
    assert [(p.table, p.rule, p.value) for p in info.value.errors] == [
        ("calls", "duplicate_source_file", "CALLS.parquet")
    ]


def test_cp932_export(tmp_path: Path) -> None:
    folder = tmp_path / "sf"
    folder.mkdir()
    text = "Id,CreatedDate,LeadSource,Title\n00Q1,2025/04/01 9:30,テレアポ,部長\n"
    (folder / "Lead.csv").write_bytes(text.encode("cp932"))
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "salesforce")
    assert [p.rule for p in info.value.errors] == ["encoding_error"]
    ds = read_preset(folder, "salesforce", encoding="cp932")
    assert records(ds.leads, ["created_at", "origin", "title"]) == [
        {"created_at": t("2025-04-01 09:30"), "origin": "outbound", "title": "部長"}
    ]


def test_strict_makes_orphans_errors(tmp_path: Path) -> None:
    folder = copy_export(HS, tmp_path / "hs")
    edit(folder, "contacts.csv", ",9002,,lead", ",9009,,lead")  # 104's owner is unknown
    ds = read_preset(folder, "hubspot")
    assert ("leads", "owner_id", "orphan_fk", "warning", 4, "104", "9009") in found(ds.warnings)
    with pytest.raises(SchemaError) as info:
        read_preset(folder, "hubspot", strict=True)
    assert found(info.value.errors) == [
        ("leads", "owner_id", "orphan_fk", "error", 4, "104", "9009")
    ]


# -------------------------------------------------------------- in-memory input


def _sources(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        path.name.removesuffix(".csv"): pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.csv"))
    }


def _same(left: Any, right: Any) -> None:
    for name, frame in left:
        pd.testing.assert_frame_equal(frame, right.table(name), check_dtype=True)


@pytest.mark.parametrize("folder", [SF, HS], ids=["salesforce", "hubspot"])
def test_apply_preset_on_frames_equals_reading_files(folder: Path) -> None:
    preset = folder.name
    from_files = read_preset(folder, preset)
    sources = _sources(folder)
    before = {name: frame.copy(deep=True) for name, frame in sources.items()}
    from_frames = apply_preset(sources, preset)
    _same(from_files, from_frames)
    for name, frame in sources.items():  # the inputs are not modified
        pd.testing.assert_frame_equal(frame, before[name])
    # polars frames with typed columns (Int64 ids, floats) give the same tables
    typed = {name: pl.from_pandas(frame) for name, frame in sources.items()}
    if preset == "hubspot":
        typed["calls"] = typed["calls"].with_columns(
            pl.col("hs_object_id").cast(pl.Int64),
            pl.col("hs_call_duration").cast(pl.Float64, strict=False),
        )
    _same(from_files, apply_preset(typed, preset))


def test_source_names_match_case_insensitively() -> None:
    lead = pd.DataFrame({"id": ["00Q1"], "createddate": ["2025-04-01"], "leadsource": ["web"]})
    ds = apply_preset({"LEAD": lead}, SALESFORCE)
    assert records(ds.leads, ["lead_id", "origin", "source"]) == [
        {"lead_id": "00Q1", "origin": "inbound", "source": "web"}
    ]


# ----------------------------------------------------------- adapting a preset


def test_adapt_a_preset_with_evolve(tmp_path: Path) -> None:
    """A user's org: a custom ABM flag on Account and a custom lead source."""
    folder = copy_export(SF, tmp_path / "sf")
    edit(folder, "Account.csv", ",Type\n", ",Type,Target_Account__c\n")
    edit(folder, "Account.csv", ",Customer\n", ",Customer,true\n")
    edit(folder, "Account.csv", ",Prospect\n", ",Prospect,false\n")
    edit(folder, "Lead.csv", ",Webinar,", ",Seminar,")
    accounts = SALESFORCE.tables["accounts"][0]
    leads = SALESFORCE.tables["leads"][0]
    mine = attrs.evolve(
        SALESFORCE,
        name="my-org",
        tables={
            **SALESFORCE.tables,
            "accounts": attrs.evolve(
                accounts, columns={**accounts.columns, "is_target": "Target_Account__c"}
            ),
            "leads": attrs.evolve(
                leads,
                values={
                    **leads.values,
                    "origin": {**leads.values["origin"], "Seminar": "inbound"},
                    "action_status": {
                        **leads.values["action_status"],
                        "Meeting Requested": "working",
                    },
                },
            ),
        },
    )  # fmt: skip
    ds = read_preset(folder, mine)
    assert ds.accounts["is_target"].tolist() == [True, False]
    assert ds.leads["origin"].tolist()[-1] == "inbound"
    assert ds.leads["action_status"].tolist()[-1] == "working"
    # the built-in preset is unchanged
    assert "Seminar" not in SALESFORCE.tables["leads"][0].values["origin"]


def test_a_preset_of_your_own() -> None:
    people = pd.DataFrame(
        {
            "person": ["p1", "p2", "p3"],
            "since": ["2025-04-01 09:00", "2025-04-02 10:00", "2025-04-03 11:00"],
            "channel": ["Form", "Call list", "form"],
            "deal": ["d1", None, None],
        }
    )
    deals = pd.DataFrame(
        {
            "deal": ["d1", "d2"],
            "opened": ["2025-04-05", "2025-04-06"],
            "state": ["won", "open"],
            "closed": ["2025-04-20", "2025-05-31"],
        }
    )
    preset = Preset(
        name="mycrm",
        tables={
            "leads": TableMap(
                source="people",
                columns={
                    "lead_id": "person",
                    "created_at": "since",
                    "origin": "channel",
                    "_deal": "deal",
                },
                values={"origin": {"form": "inbound", "call list": "outbound"}},
            ),
            "opportunities": TableMap(
                source="deals",
                columns={
                    "opportunity_id": "deal",
                    "created_at": "opened",
                    "closed_at": "closed",
                    "is_won": "state",
                    "_state": "state",
                },
                values={"is_won": {"won": "true", "lost": "false", "open": None}},
                derive=(
                    Keep(column="closed_at", when={"_state": ("won", "lost")}),
                    Lookup(column="lead_id", table="leads", match="_deal", on="opportunity_id",
                           value="lead_id"),
                ),
            ),
        },
    )  # fmt: skip
    ds = apply_preset({"people": people, "deals": deals}, preset)
    assert ds.leads["origin"].tolist() == ["inbound", "outbound", "inbound"]
    assert "_deal" not in ds.leads.columns  # helper columns are dropped
    assert records(ds.opportunities, ["opportunity_id", "lead_id", "closed_at", "is_won"]) == [
        {"opportunity_id": "d1", "lead_id": "p1", "closed_at": t("2025-04-20"), "is_won": True},
        {"opportunity_id": "d2", "lead_id": None, "closed_at": None, "is_won": None},
    ]


def test_fill_keep_collapse_rules() -> None:
    rows = pd.DataFrame(
        {
            "id": ["a1", "a2", "a3", "a4"],
            "lead": ["L1", "C9", "L1", "L1"],
            "at": ["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-04"],
            "kind": ["mail", "call", "call", "mail"],
            "result": [None, "ok", None, "bounce"],
        }
    )
    leads = pd.DataFrame({"id": ["L1"], "at": ["2025-04-01"], "origin": ["inbound"]})
    preset = Preset(
        name="rules",
        tables={
            "leads": TableMap(
                source="leads", columns={"lead_id": "id", "created_at": "at", "origin": "origin"}
            ),
            "activities": TableMap(
                source="acts",
                columns={
                    "activity_id": "id",
                    "lead_id": "lead",
                    "account_id": "lead",
                    "occurred_at": "at",
                    "channel": "kind",
                    "outcome": "result",
                },
                constants={"direction": "outbound"},
                values={
                    "channel": {"mail": "email", "call": "call"},
                    "outcome": {"ok": "connected", "bounce": "bounced"},
                },
                derive=(
                    Keep(column="lead_id", prefixes=("L",)),
                    Keep(column="account_id", prefixes=("C",)),
                    Fill(column="outcome", value="sent", when={"channel": "email"}),
                    Fill(column="outcome", value="no_answer"),
                ),
            ),
        },
    )
    ds = apply_preset({"leads": leads, "acts": rows}, preset)
    assert records(ds.activities, ["activity_id", "lead_id", "account_id", "outcome"]) == [
        {"activity_id": "a1", "lead_id": "L1", "account_id": None, "outcome": "sent"},
        {"activity_id": "a2", "lead_id": None, "account_id": "C9", "outcome": "connected"},
        {"activity_id": "a3", "lead_id": "L1", "account_id": None, "outcome": "no_answer"},
        {"activity_id": "a4", "lead_id": "L1", "account_id": None, "outcome": "bounced"},
    ]
    # account C9 is not in the (absent) accounts table
    assert found(ds.warnings) == [
        ("activities", "account_id", "orphan_fk", "warning", 2, "a2", "C9")
    ]


def test_collapse_orders_by_time_not_by_text() -> None:
    # as text "2025/4/9" sorts after "2025/4/11"; as timestamps it comes first
    history = pd.DataFrame(
        {
            "opp": ["o1", "o1", "o1", "o1"],
            "stage": ["B", "A", "A", "a"],
            "at": ["2025/4/10", "2025/4/11", "2025/4/9", "2025/4/12"],
        }
    )
    preset = Preset(
        name="history",
        tables={
            "leads": TableMap(
                source="leads", columns={"lead_id": "id", "created_at": "at", "origin": "o"}
            ),
            "opportunities": TableMap(
                source="opps", columns={"opportunity_id": "id", "created_at": "at"}
            ),
            "stage_changes": TableMap(
                source="history",
                columns={"opportunity_id": "opp", "stage": "stage", "entered_at": "at"},
                derive=(
                    CollapseRepeats(key="opportunity_id", value="stage", order_by="entered_at"),
                ),
            ),
        },
    )
    leads = pd.DataFrame({"id": ["L1"], "at": ["2025-04-01"], "o": ["inbound"]})
    opps = pd.DataFrame({"id": ["o1"], "at": ["2025-04-09"]})
    ds = apply_preset({"leads": leads, "opps": opps, "history": history}, preset)
    # by time: A (4/9), B (4/10), A (4/11), a (4/12: repeats A, case-insensitively);
    # the kept rows stay in file order
    assert ds.stage_changes["stage"].tolist() == ["B", "A", "A"]
    assert ds.stage_changes["entered_at"].dt.day.tolist() == [10, 11, 9]


# ------------------------------------------------------------- preset checking


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Preset(name="x", tables={}), "at least one table"),
        (
            lambda: Preset(name="x", tables={"reps": TableMap(source="u", columns={})}),
            "leads table must be mapped",
        ),
        (
            lambda: Preset(name="x", tables={"lead": TableMap(source="u", columns={})}),
            "unknown table 'lead'",
        ),
        (
            lambda: Preset(
                name="x",
                tables={"leads": TableMap(source="u", columns={"lead_id": "a", "origin": "b"})},
            ),
            "required column(s) created_at are not mapped",
        ),
        (
            lambda: Preset(
                name="x",
                tables={
                    "leads": TableMap(
                        source="u",
                        columns={"lead_id": "a", "created_at": "b", "origin": "c", "stauts": "d"},
                    )
                },
            ),
            "'stauts' not a column of leads",
        ),
        (
            lambda: Preset(
                name="x",
                tables={
                    "leads": TableMap(
                        source="u",
                        columns={"lead_id": "a", "created_at": "b", "origin": "c"},
                        derive=(
                            Lookup(column="campaign_id", table="_members", match="l", on="lead_id",
                                   value="c"),
                        ),
                    )
                },
            ),
            "Lookup reads table '_members', not in the preset",
        ),
        (
            lambda: Preset(
                name="x",
                tables={
                    "leads": TableMap(
                        source="u",
                        columns={"lead_id": "a", "created_at": "b", "origin": "c"},
                        scale={"lead_id": 0},
                    )
                },
            ),
            "scale['lead_id'] must be a positive number",
        ),
    ],
)  # fmt: skip
def test_malformed_presets_are_config_errors(make: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="preset must be one of 'salesforce', 'hubspot'"):
        read_preset(SF, "pipedrive")
    with pytest.raises(ConfigError, match="encoding="):
        read_preset(SF, "salesforce", encoding="nope")
    with pytest.raises(ConfigError, match="does not exist"):
        read_preset(tmp_path / "missing", "salesforce")
    with pytest.raises(ConfigError, match="tz="):
        read_preset(SF, "salesforce", tz="Mars/Olympus")
    with pytest.raises(ConfigError, match="sources must be a mapping"):
        apply_preset([("Lead", None)], "salesforce")  # type: ignore[arg-type]


def test_builtin_presets_are_plain_data() -> None:
    assert PRESETS == {"salesforce": SALESFORCE, "hubspot": HUBSPOT}
    assert [m.source for m in HUBSPOT.tables["activities"]] == ["calls", "emails", "meetings"]
    # every built-in enum translation lands on a canonical value
    from pipelinekit.schema import TABLES

    for preset in PRESETS.values():
        for table, maps in preset.tables.items():
            for table_map in maps:
                for column, mapping in table_map.values.items():
                    if table in TABLES and TABLES[table].column(column).enum:
                        allowed = set(TABLES[table].column(column).enum)
                        assert set(mapping.values()) - {None} <= allowed, (table, column)


# -------------------------------------------------------------------- properties


_RAW = st.sampled_from(["Web", " web ", "WEB", "Cold Call", "cold call", "Seminar", "x", ""])


# each example maps and validates a whole dataset (~0.1 s): 60 examples keep it fast
@settings(max_examples=60, deadline=None)
@given(st.lists(_RAW, min_size=1, max_size=12))
def test_unmapped_values_are_counted_exactly(sources: list[str]) -> None:
    leads = pd.DataFrame(
        {
            "Id": [f"00Q{i}" for i in range(len(sources))],
            "CreatedDate": ["2025-04-01"] * len(sources),
            "LeadSource": sources,
        }
    )
    known = {"web": "inbound", "cold call": "outbound", "": "outbound"}  # "" -> Fill
    unknown = [s for s in sources if s.strip().casefold() not in known]
    if not unknown:
        ds = apply_preset({"Lead": leads}, "salesforce")
        expected = [known[s.strip().casefold()] for s in sources]
        assert ds.leads["origin"].tolist() == expected
        return
    with pytest.raises(SchemaError) as info:
        apply_preset({"Lead": leads}, "salesforce")
    unmapped = [p for p in info.value.problems if p.rule == "unmapped_value"]
    assert sorted(p.value for p in unmapped) == sorted({s.strip() for s in unknown})
    assert info.value.totals[("leads", "origin", "unmapped_value")] == len(unknown)
    for p in unmapped:  # the first row holding the value, 1-based
        first = next(i for i, s in enumerate(sources) if s.strip() == p.value)
        assert (p.row, p.id) == (first + 1, f"00Q{first}")
    assert {p.rule for p in info.value.errors} == {"unmapped_value"}


def test_probability_percent_scales_exactly() -> None:
    # every whole percent: k x 0.01 in decimal arithmetic is the float nearest k / 100
    percents = list(range(101))
    opportunity = pd.DataFrame(
        {
            "Id": [f"006{k}" for k in percents],
            "CreatedDate": ["2025-04-01"] * len(percents),
            "Probability": [str(k) for k in percents],
        }
    )
    lead = pd.DataFrame({"Id": ["00Q1"], "CreatedDate": ["2025-04-01"], "LeadSource": ["Web"]})
    ds = apply_preset({"Lead": lead, "Opportunity": opportunity}, "salesforce")
    assert ds.opportunities["probability"].tolist() == [k / 100 for k in percents]


# -------------------------------------------------------------------------- CLI


def test_cli_validate_and_report_with_a_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SF), "--preset", "salesforce"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "unmapped_value" in err
    assert "'Meeting Requested'" in err
    assert "ok:" in err
    assert "(5 leads, 2 warnings)" in err

    code = main(["report", str(HS), "--preset", "hubspot", "--format", "json",
                 "--as-of", "2025-05-31"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)["summary"]
    # 4 contacts, 3 inbound; deals 601 (won, 1.2M), 602, 603 (lost), 604
    assert (summary["leads"], summary["inbound_leads"], summary["sqls"]) == (4, 3, 4)
    assert (summary["won"], summary["won_amount"]) == (1, 1_200_000.0)
    # calls 201, 202, 204; connected: 201 and 204
    assert (summary["calls"], summary["connected_calls"]) == (3, 2)
    # target account 5001: deal 601
    assert summary["target_account_sqls"] == 1


def test_cli_preset_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = copy_export(SF, tmp_path / "sf")
    edit(folder, "Task.csv", ",ListEmail,", ",LINE,")
    assert main(["validate", str(folder), "--preset", "salesforce", "--errors", "json"]) == 2
    _, err = capsys.readouterr()
    problems = json.loads(err)
    errors = [p for p in problems if p["severity"] == "error"]
    assert [(p["table"], p["column"], p["rule"], p["value"]) for p in errors] == [
        ("activities", "channel", "unmapped_value", "LINE")
    ]
    assert main(["report", "--preset", "hubspot"]) == 2
    _, err = capsys.readouterr()
    assert "--preset needs DATA_DIR" in err


def test_salesforce_opportunity_history_feeds_past_states(sf: Any) -> None:
    # OpportunityHistory rows become opportunity_history (every row, file order) with
    # the forecast category from its API value (Forecast = commit, BestCase = best_case)
    rows = records(
        sf.opportunity_history,
        ["opportunity_id", "changed_at", "amount", "expected_close_on", "forecast_category"],
    )
    assert len(rows) == 8
    assert rows[3] == {
        "opportunity_id": "0060000000000E1",
        "changed_at": t("2025-04-08 15:00"),
        "amount": 1_200_000.0,
        "expected_close_on": t("2025-06-30"),
        "forecast_category": "best_case",
    }
    assert [r["forecast_category"] for r in rows[4:6]] == ["pipeline", "commit"]
    opps = records(sf.opportunities, ["expected_close_on", "forecast_category"])
    assert opps == [
        {"expected_close_on": t("2025-05-20"), "forecast_category": "closed"},
        {"expected_close_on": t("2025-06-30"), "forecast_category": "commit"},
        {"expected_close_on": t("2025-05-01"), "forecast_category": "omitted"},
    ]
    # E1 on 2 April (Tokyo): 1,000,000 (H1), raised to 1,200,000 on 3 April (H2)
    snap = pk.pipeline_snapshot(
        sf.opportunities, history=sf.opportunity_history, on=("2025-04-02", "2025-04-03")
    )
    e1 = snap[snap["opportunity_id"] == "0060000000000E1"]
    assert e1["amount"].tolist() == [1_000_000.0, 1_200_000.0]
