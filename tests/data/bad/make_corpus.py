"""Write the bad-input corpus: one directory per case with its table files and expected.json.

Run ``python tests/data/bad/make_corpus.py`` to (re)write every case directory next to
this script. The expected problem lists below are written by hand from DESIGN.md and
the rule ids of :mod:`pipelinekit.validation` / :mod:`pipelinekit.io.files`; they are
never produced by running the code. ``tests/test_bad_corpus.py`` reads the directories.

``expected.json`` fields:

- ``description``: what the case is about;
- ``problems``: the exact problem list, in reported order; each with ``table``,
  ``column``, ``rule``, ``row``, ``id``, ``severity`` and, where it matters, ``value``;
- ``exit_code``: of ``pipelinekit validate`` (2 when any problem is an error, else 0);
- ``canonical`` (optional, lenient cases): table -> column -> expected canonical values,
  written as text (``None`` for missing, timestamps ``YYYY-MM-DD HH:MM:SS``);
- ``encoding`` (optional): the ``encoding=`` to read with; ``also`` (optional): the
  same fields for a second read with another encoding.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

LEADS = "lead_id,created_at,origin\nL1,2025-04-01 09:00,inbound\nL2,2025-04-02 10:00,outbound\n"
ACCOUNTS = "account_id,name\nA1,Acme\nA2,Beta\n"
REPS = "rep_id,role\nR1,inside\nR2,field\n"
OPPS_HEAD = "opportunity_id,lead_id,created_at"
ACTS_HEAD = "activity_id,lead_id,occurred_at,channel,direction,outcome"

CASES: list[dict[str, Any]] = []


def p(
    table: str,
    column: str | None,
    rule: str,
    row: int | None = None,
    id: str | None = None,
    severity: str = "error",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "table": table,
        "column": column,
        "rule": rule,
        "row": row,
        "id": id,
        "severity": severity,
        **extra,
    }


def case(
    name: str,
    description: str,
    files: dict[str, str | bytes],
    problems: list[dict[str, Any]],
    **extra: Any,
) -> None:
    exit_code = 2 if any(q["severity"] == "error" for q in problems) else 0
    CASES.append(
        {
            "name": name,
            "files": files,
            "expected": {
                "description": description,
                "problems": problems,
                "exit_code": extra.pop("exit_code", exit_code),
                **extra,
            },
        }
    )


# ------------------------------------------------------------------ valid baseline
case("valid_minimal", "only leads with the required columns: valid", {"leads.csv": LEADS}, [])

# ------------------------------------------------------------------ shape
case(
    "missing_column_leads_origin",
    "leads without the required origin column",
    {"leads.csv": "lead_id,created_at\nL1,2025-04-01\n"},
    [p("leads", "origin", "missing_column")],
)
case(
    "missing_column_activities_channel",
    "activities without the required channel column",
    {
        "leads.csv": LEADS,
        "activities.csv": "activity_id,lead_id,occurred_at,direction,outcome\n"
        "X1,L1,2025-04-01 10:00,outbound,connected\n",
    },
    [p("activities", "channel", "missing_column")],
)
case(
    "missing_column_stage_changes",
    "stage_changes without entered_at; its opportunity is absent too (orphan)",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD}\nO1,L1,2025-04-03\n",
        "stage_changes.csv": "opportunity_id,stage\nO1,list\nO9,list\n",
    },
    [
        p("stage_changes", "entered_at", "missing_column"),
        p("stage_changes", "opportunity_id", "orphan_fk", 2, None, "warning", value="O9"),
    ],
)
case(
    "required_value_missing",
    "a lead without lead_id and one without created_at",
    {"leads.csv": "lead_id,created_at,origin\n,2025-04-01,inbound\nL2,,inbound\n"},
    [
        p("leads", "lead_id", "required_value", 1, None),
        p("leads", "created_at", "required_value", 2, "L2"),
    ],
)

# ------------------------------------------------------------------ types
case(
    "wrong_dtype_int",
    "employees is not a number",
    {"leads.csv": LEADS, "accounts.csv": "account_id,employees\nA1,abc\nA2,40\n"},
    [p("accounts", "employees", "bad_type", 1, "A1", value="abc")],
)
case(
    "wrong_dtype_int_fraction",
    "an int column with 12.0 (lenient: 12) and 12.5 (not a whole number)",
    {"leads.csv": LEADS, "accounts.csv": "account_id,employees\nA1,12.0\nA2,12.5\n"},
    [p("accounts", "employees", "bad_type", 2, "A2", value="12.5")],
)
case(
    "int_written_as_float",
    "lenient: 12.0 and 1e3 in an int column are 12 and 1000",
    {"leads.csv": LEADS, "accounts.csv": "account_id,employees\nA1,12.0\nA2,1e3\n"},
    [],
    canonical={"accounts": {"employees": ["12", "1000"]}},
)
case(
    "wrong_dtype_float",
    "amount written as 12k",
    {"leads.csv": LEADS, "opportunities.csv": f"{OPPS_HEAD},amount\nO1,L1,2025-04-03,12k\n"},
    [p("opportunities", "amount", "bad_type", 1, "O1", value="12k")],
)
case(
    "wrong_dtype_bool",
    "is_target is maybe",
    {"leads.csv": LEADS, "accounts.csv": "account_id,is_target\nA1,maybe\nA2,true\n"},
    [p("accounts", "is_target", "bad_type", 1, "A1", value="maybe")],
)
case(
    "booleans_yes_no_1_0",
    "lenient: yes/no/1/0/TRUE/False in any case; empty takes the default false",
    {
        "leads.csv": LEADS,
        "accounts.csv": "account_id,is_target\nA1,yes\nA2,No\nA3,1\nA4,0\nA5,TRUE\nA6,\n",
    },
    [],
    canonical={"accounts": {"is_target": ["True", "False", "True", "False", "True", "False"]}},
)
case(
    "thousands_separator",
    "employees 1,200 (quoted) is reported, not guessed",
    {"leads.csv": LEADS, "accounts.csv": 'account_id,employees\nA1,"1,200"\nA2,5\n'},
    [p("accounts", "employees", "thousands_separator", 1, "A1", value="1,200")],
)

# ------------------------------------------------------------------ enums
case(
    "unknown_enum",
    "origin web is not inbound/outbound",
    {"leads.csv": "lead_id,created_at,origin\nL1,2025-04-01,inbound\nL2,2025-04-01,web\n"},
    [p("leads", "origin", "unknown_enum", 2, "L2", value="web")],
)
case(
    "mixed_case_enums",
    "lenient: enums are trimmed and lower-cased (Inbound, ' OUTBOUND ')",
    {"leads.csv": "lead_id,created_at,origin\nL1,2025-04-01,Inbound\nL2,2025-04-01, OUTBOUND \n"},
    [],
    canonical={"leads": {"origin": ["inbound", "outbound"]}},
)
case(
    "outcome_channel_mismatch",
    "an email that was 'connected'",
    {
        "leads.csv": LEADS,
        "activities.csv": f"{ACTS_HEAD}\nX1,L1,2025-04-01 10:00,email,outbound,connected\n",
    },
    [p("activities", "outcome", "outcome_channel_mismatch", 1, "X1", value="connected")],
)

# ------------------------------------------------------------------ keys
case(
    "duplicate_ids_leads",
    "lead L1 twice: the second occurrence is reported",
    {"leads.csv": "lead_id,created_at,origin\nL1,2025-04-01,inbound\nL1,2025-04-02,inbound\n"},
    [p("leads", "lead_id", "duplicate_id", 2, "L1", value="L1")],
)
case(
    "duplicate_ids_activities",
    "activity X1 three times",
    {
        "leads.csv": LEADS,
        "activities.csv": f"{ACTS_HEAD}\nX1,L1,2025-04-01 10:00,call,outbound,busy\n"
        "X1,L1,2025-04-01 11:00,call,outbound,busy\nX1,L2,2025-04-02 11:00,call,outbound,busy\n",
    },
    [
        p("activities", "activity_id", "duplicate_id", 2, "X1", value="X1"),
        p("activities", "activity_id", "duplicate_id", 3, "X1", value="X1"),
    ],
)
case(
    "orphan_lead_to_account",
    "a lead's account_id not in accounts (warning, row kept)",
    {
        "leads.csv": "lead_id,created_at,origin,account_id\nL1,2025-04-01,inbound,A1\n"
        "L2,2025-04-01,inbound,A9\n",
        "accounts.csv": ACCOUNTS,
    },
    [p("leads", "account_id", "orphan_fk", 2, "L2", "warning", value="A9")],
)
case(
    "orphan_lead_to_rep",
    "a lead's owner_id not in reps",
    {
        "leads.csv": "lead_id,created_at,origin,owner_id\nL1,2025-04-01,inbound,R1\n"
        "L2,2025-04-01,inbound,R9\n",
        "reps.csv": REPS,
    },
    [p("leads", "owner_id", "orphan_fk", 2, "L2", "warning", value="R9")],
)
case(
    "orphan_lead_to_campaign",
    "a lead's campaign_id not in a non-empty campaigns table",
    {
        "leads.csv": "lead_id,created_at,origin,campaign_id\nL1,2025-04-01,inbound,C1\n"
        "L2,2025-04-01,inbound,C9\n",
        "campaigns.csv": "campaign_id,name\nC1,Spring\n",
    },
    [p("leads", "campaign_id", "orphan_fk", 2, "L2", "warning", value="C9")],
)
case(
    "campaign_fk_without_campaigns",
    "lenient: campaign_id is not checked when no campaigns table is given",
    {"leads.csv": "lead_id,created_at,origin,campaign_id\nL1,2025-04-01,inbound,C9\n"},
    [],
)
case(
    "orphan_activity_to_lead",
    "an activity of an unknown lead",
    {
        "leads.csv": LEADS,
        "activities.csv": f"{ACTS_HEAD}\nX1,L1,2025-04-01 10:00,call,outbound,busy\n"
        "X2,L9,2025-04-01 11:00,call,outbound,busy\n",
    },
    [p("activities", "lead_id", "orphan_fk", 2, "X2", "warning", value="L9")],
)
case(
    "orphan_activity_to_rep",
    "an activity owned by an unknown rep",
    {
        "leads.csv": LEADS,
        "reps.csv": REPS,
        "activities.csv": f"{ACTS_HEAD},owner_id\nX1,L1,2025-04-01 10:00,call,outbound,busy,R7\n",
    },
    [p("activities", "owner_id", "orphan_fk", 1, "X1", "warning", value="R7")],
)
case(
    "activity_without_parent",
    "an activity with neither lead_id nor account_id",
    {
        "leads.csv": LEADS,
        "activities.csv": f"{ACTS_HEAD}\nX1,,2025-04-01 10:00,call,outbound,busy\n",
    },
    [p("activities", "lead_id", "activity_without_parent", 1, "X1")],
)
case(
    "orphan_opportunity_to_lead",
    "an opportunity of an unknown lead",
    {"leads.csv": LEADS, "opportunities.csv": f"{OPPS_HEAD}\nO1,L1,2025-04-03\nO2,L7,2025-04-03\n"},
    [p("opportunities", "lead_id", "orphan_fk", 2, "O2", "warning", value="L7")],
)
case(
    "orphan_opportunity_to_account",
    "an opportunity of an unknown account",
    {
        "leads.csv": LEADS,
        "accounts.csv": ACCOUNTS,
        "opportunities.csv": "opportunity_id,account_id,created_at\nO1,A3,2025-04-03\n",
    },
    [p("opportunities", "account_id", "orphan_fk", 1, "O1", "warning", value="A3")],
)
case(
    "orphan_stage_change_to_opportunity",
    "a stage change of an unknown opportunity",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD}\nO1,L1,2025-04-03\n",
        "stage_changes.csv": "opportunity_id,stage,entered_at\nO1,list,2025-04-03\n"
        "O5,list,2025-04-04\n",
    },
    [p("stage_changes", "opportunity_id", "orphan_fk", 2, None, "warning", value="O5")],
)
case(
    "orphan_fk_parent_table_absent",
    "foreign keys to an absent parent table are all orphans",
    {"leads.csv": "lead_id,created_at,origin,owner_id\nL1,2025-04-01,inbound,R1\n"},
    [p("leads", "owner_id", "orphan_fk", 1, "L1", "warning", value="R1")],
)

# ------------------------------------------------------------------ row rules
case(
    "closed_before_created",
    "lenient: closed_at on a day before created_at is a plausibility warning; kept",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},closed_at\nO1,L1,2025-04-03 10:00,2025-04-02 10:00\n",
    },
    [p("opportunities", "closed_at", "closed_before_created", 1, "O1", "warning")],
    canonical={"opportunities": {"closed_at": ["2025-04-02 10:00:00"]}},
)
case(
    "closed_same_day_date_only",
    "lenient: a date-only closed_at on the created day is not before it",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},closed_at\nO1,L1,2025-04-03 15:00,2025-04-03\n",
    },
    [],
)
case(
    "validated_before_created",
    "lenient: validated_at before created_at is a plausibility warning; kept",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},validated_at\nO1,L1,2025-04-03 10:00,2025-04-01 10:00\n",
    },
    [p("opportunities", "validated_at", "validated_before_created", 1, "O1", "warning")],
    canonical={"opportunities": {"validated_at": ["2025-04-01 10:00:00"]}},
)
case(
    "won_without_closed_at",
    "is_won true and no closed_at",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},is_won,closed_at\nO1,L1,2025-04-03,true,\n"
        "O2,L2,2025-04-03,false,\n",
    },
    [p("opportunities", "is_won", "won_without_closed", 1, "O1")],
)
case(
    "negative_amount",
    "amount -500",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},amount\nO1,L1,2025-04-03,-500\nO2,L2,2025-04-03,0\n",
    },
    [p("opportunities", "amount", "negative_value", 1, "O1", value="-500.0")],
)
case(
    "probability_out_of_range",
    "probability 1.5 and -0.1",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},probability\nO1,L1,2025-04-03,1.5\n"
        "O2,L2,2025-04-03,-0.1\n",
    },
    [
        p("opportunities", "probability", "out_of_range", 1, "O1", value="1.5"),
        p("opportunities", "probability", "out_of_range", 2, "O2", value="-0.1"),
    ],
)
case(
    "capacity_not_positive",
    "monthly_sql_capacity must be > 0",
    {"leads.csv": LEADS, "reps.csv": "rep_id,role,monthly_sql_capacity\nR1,inside,0\n"},
    [p("reps", "monthly_sql_capacity", "out_of_range", 1, "R1", value="0")],
)

# ------------------------------------------------------------------ numbers
case(
    "nan_is_missing",
    "lenient: NaN / NULL / N/A in a number column are missing values",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},amount\nO1,L1,2025-04-03,NaN\nO2,L2,2025-04-03,NULL\n",
    },
    [],
    canonical={"opportunities": {"amount": [None, None]}},
)
case(
    "inf_numbers",
    "inf and -Infinity are not finite",
    {
        "leads.csv": LEADS,
        "opportunities.csv": f"{OPPS_HEAD},amount\nO1,L1,2025-04-03,inf\n"
        "O2,L2,2025-04-03,-Infinity\n",
    },
    [
        p("opportunities", "amount", "non_finite", 1, "O1", value="inf"),
        p("opportunities", "amount", "non_finite", 2, "O2", value="-Infinity"),
    ],
)

# ------------------------------------------------------------------ timestamps
case(
    "unparseable_date",
    "created_at 'yesterday'",
    {"leads.csv": "lead_id,created_at,origin\nL1,yesterday,inbound\n"},
    [p("leads", "created_at", "unparseable_timestamp", 1, "L1", value="yesterday")],
)
case(
    "impossible_date",
    "2025-02-30 and 2025-13-01 do not exist",
    {
        "leads.csv": "lead_id,created_at,origin\nL1,2025-02-30,inbound\nL2,2025-13-01,inbound\n"
        "L3,2025-04-01 25:00,inbound\n",
    },
    [
        p("leads", "created_at", "unparseable_timestamp", 1, "L1", value="2025-02-30"),
        p("leads", "created_at", "unparseable_timestamp", 2, "L2", value="2025-13-01"),
        p("leads", "created_at", "unparseable_timestamp", 3, "L3", value="2025-04-01 25:00"),
    ],
)
case(
    "mixed_time_zones_and_naive",
    "offsets are converted to Asia/Tokyo; a naive value among them is a warning",
    {
        "leads.csv": "lead_id,created_at,origin\nL1,2025-04-01T00:30:00Z,inbound\n"
        "L2,2025-04-01T10:00:00+09:00,inbound\nL3,2025-04-01T08:00:00-0500,inbound\n"
        "L4,2025-04-01 12:00,inbound\n",
    },
    [p("leads", "created_at", "mixed_timestamp_zones", 4, "L4", "warning")],
    canonical={
        "leads": {
            "created_at": [
                "2025-04-01 09:30:00",
                "2025-04-01 10:00:00",
                "2025-04-01 22:00:00",
                "2025-04-01 12:00:00",
            ]
        }
    },
)
case(
    "dates_far_in_future",
    "a lead created in 2150 and one in 1985 (warnings, kept)",
    {"leads.csv": "lead_id,created_at,origin\nL1,2150-01-01,inbound\nL2,1985-06-01,inbound\n"},
    [
        p("leads", "created_at", "implausible_date", 1, "L1", "warning"),
        p("leads", "created_at", "implausible_date", 2, "L2", "warning"),
    ],
)
case(
    "japanese_excel_timestamps",
    "lenient: 2025/4/1 9:05 and 2025/04/01 are read",
    {"leads.csv": "lead_id,created_at,origin\nL1,2025/4/1 9:05,inbound\nL2,2025/04/01,inbound\n"},
    [],
    canonical={"leads": {"created_at": ["2025-04-01 09:05:00", "2025-04-01 00:00:00"]}},
)

# ------------------------------------------------------------------ files
case(
    "empty_leads_header_only",
    "lenient: leads.csv has only its header: valid, one warning",
    {"leads.csv": "lead_id,created_at,origin\n"},
    [p("leads", None, "empty_table", severity="warning")],
)
case(
    "opportunities_only_export",
    "lenient: header-only leads.csv, opportunities with lead ids: one warning, no orphans",
    {
        "leads.csv": "lead_id,created_at,origin\n",
        "accounts.csv": ACCOUNTS,
        "reps.csv": REPS,
        "opportunities.csv": "opportunity_id,lead_id,account_id,owner_id,created_at\n"
        "O1,L7,A1,R2,2025-04-03\nO2,L8,A2,R2,2025-04-04\n",
    },
    [p("leads", None, "empty_table", severity="warning")],
)
case(
    "header_only_other_table",
    "lenient: activities.csv with only its header is an empty table",
    {"leads.csv": LEADS, "activities.csv": f"{ACTS_HEAD}\n"},
    [],
)
case(
    "zero_byte_leads",
    "leads.csv is 0 bytes",
    {"leads.csv": b""},
    [p("leads", None, "empty_file")],
)
case(
    "zero_byte_other_table",
    "reps.csv is 0 bytes",
    {"leads.csv": LEADS, "reps.csv": b""},
    [p("reps", None, "empty_file")],
)
case(
    "zero_byte_parent_table_no_cascade",
    "accounts.csv is 0 bytes: one problem, no orphan key for the leads that refer to it",
    {
        "leads.csv": "lead_id,created_at,origin,account_id,owner_id\n"
        "L1,2025-04-01,inbound,A1,R1\nL2,2025-04-01,inbound,A2,R9\n",
        "accounts.csv": b"",
        "reps.csv": REPS,
    },
    [
        p("accounts", None, "empty_file"),
        p("leads", "owner_id", "orphan_fk", 2, "L2", "warning", value="R9"),
    ],
)
_ACCOUNTS_SJIS = "account_id,name\r\nA1,株式会社アクメ\r\n"
case(
    "wrong_encoding_parent_table_no_cascade",
    "accounts.csv is cp932: one encoding error, no orphan key for the leads and "
    "opportunities that refer to it",
    {
        "leads.csv": "lead_id,created_at,origin,account_id\nL1,2025-04-01,inbound,A1\n",
        "accounts.csv": _ACCOUNTS_SJIS.encode("cp932"),
        "opportunities.csv": "opportunity_id,lead_id,account_id,created_at\nO1,L1,A1,2025-04-03\n",
    },
    [p("accounts", None, "encoding_error")],
)
case(
    "blank_lines_only",
    "leads.csv holds only blank lines: no header",
    {"leads.csv": "\n\n\n"},
    [p("leads", None, "empty_file")],
)
case(
    "leads_missing_from_directory",
    "no leads file: one error with a hint, no orphan key per activity",
    {"activities.csv": f"{ACTS_HEAD}\nX1,L1,2025-04-01 10:00,call,outbound,busy\n"},
    [p("leads", None, "missing_table")],
)
case(
    "extra_unknown_table",
    "notes.csv is not a canonical table: warning, ignored",
    {"leads.csv": LEADS, "notes.csv": "x\n1\n"},
    [p("notes", None, "unknown_table", severity="warning")],
)
case(
    "duplicate_table_file",
    "leads.csv and leads.csv.gz both present",
    {"leads.csv": LEADS, "leads.csv.gz": gzip.compress(LEADS.encode(), mtime=0)},
    [p("leads", None, "duplicate_table_file")],
)
case(
    "corrupt_gzip",
    "activities.csv.gz is not gzip data",
    {"leads.csv": LEADS, "activities.csv.gz": b"not gzip at all"},
    [p("activities", None, "unreadable_file")],
)
case(
    "ragged_row",
    "a row with more fields than the header",
    {"leads.csv": "lead_id,created_at,origin\nL1,2025-04-01,inbound,extra\n"},
    [p("leads", None, "unreadable_file")],
)
case(
    "bom_and_crlf",
    "lenient: a UTF-8 BOM and CRLF line ends are read as plain UTF-8",
    {"leads.csv": b"\xef\xbb\xbf" + LEADS.replace("\n", "\r\n").encode()},
    [],
    canonical={"leads": {"lead_id": ["L1", "L2"], "origin": ["inbound", "outbound"]}},
)
_SJIS = "lead_id,created_at,origin,title\r\nL1,2025/4/1 9:05,inbound,営業部長\r\n"
case(
    "shift_jis_excel_export",
    "cp932 file from Japanese Excel: utf-8 fails with a hint; encoding='cp932' reads it",
    {"leads.csv": _SJIS.encode("cp932")},
    [p("leads", None, "encoding_error")],
    also={
        "encoding": "cp932",
        "problems": [],
        "exit_code": 0,
        "canonical": {"leads": {"title": ["営業部長"], "created_at": ["2025-04-01 09:05:00"]}},
    },
)
case(
    "quoted_newlines",
    "lenient: a quoted title with a line break is one cell; rows stay numbered by record",
    {
        "leads.csv": 'lead_id,created_at,origin,title\nL1,2025-04-01,inbound,"Head of\nSales"\n'
        "L2,2025-04-01,web,staff\n",
    },
    [p("leads", "origin", "unknown_enum", 2, "L2", value="web")],
    canonical=None,
)
case(
    "very_long_strings",
    "lenient: a 200 000-character title is kept as it is",
    {"leads.csv": f"lead_id,created_at,origin,title\nL1,2025-04-01,inbound,{'x' * 200_000}\n"},
    [],
)
case(
    "duplicated_column_names",
    "origin twice in the header: the first one is used",
    {"leads.csv": "lead_id,origin,created_at,origin\nL1,inbound,2025-04-01,web\n"},
    [p("leads", "origin", "duplicate_column")],
)
case(
    "na_tokens",
    "lenient: NA, N/A, null, None in optional columns are missing",
    {
        "leads.csv": "lead_id,created_at,origin,priority,source\nL1,2025-04-01,inbound,NA,N/A\n"
        "L2,2025-04-01,inbound,null,None\n",
    },
    [],
    canonical={"leads": {"priority": [None, None], "source": [None, None]}},
)
case(
    "several_problems_one_file",
    "every problem of one file is reported together",
    {
        "leads.csv": "lead_id,created_at,origin,priority\nL1,2025-04-01,web,focus\n"
        "L1,not a date,inbound,urgent\nL3,2025-02-29,,focus\n",
    },
    [
        p("leads", "created_at", "unparseable_timestamp", 2, "L1", value="not a date"),
        p("leads", "created_at", "unparseable_timestamp", 3, "L3", value="2025-02-29"),
        p("leads", "origin", "unknown_enum", 1, "L1", value="web"),
        p("leads", "priority", "unknown_enum", 2, "L1", value="urgent"),
        p("leads", "origin", "required_value", 3, "L3"),
        p("leads", "lead_id", "duplicate_id", 2, "L1", value="L1"),
    ],
)
case(
    "problems_in_several_tables",
    "problems of several files are reported in one run",
    {
        "leads.csv": "lead_id,created_at,origin\nL1,2025-04-01,inbound\n",
        "accounts.csv": "account_id,employees\nA1,-3\n",
        "reps.csv": "rep_id,role\nR1,boss\n",
    },
    [
        p("accounts", "employees", "negative_value", 1, "A1", value="-3"),
        p("reps", "role", "unknown_enum", 1, "R1", value="boss"),
    ],
)


def write(root: Path = HERE) -> list[Path]:
    """Write every case directory under ``root`` (replacing old ones)."""
    written = []
    for spec in CASES:
        folder = root / spec["name"]
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, content in spec["files"].items():
            data = content.encode() if isinstance(content, str) else content
            (folder / name).write_bytes(data)
        expected = {k: v for k, v in spec["expected"].items() if v is not None}
        text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
        (folder / "expected.json").write_text(text, encoding="utf-8")
        written.append(folder)
    return written


if __name__ == "__main__":
    print(f"wrote {len(write())} cases")
