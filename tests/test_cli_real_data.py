"""The command line on real-world exports: plausibility warnings, an opportunities-only
export, missing and unreadable files, tables without data. Hand-built CSV files in
temporary directories; expected values worked out by hand in the comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelinekit.cli import main
from pipelinekit.reporting.availability import ACTIVITY_KPIS

ACCOUNTS = "account_id,name,is_target\nA1,Acme,true\nA2,Beta,false\n"
REPS = "rep_id,role,segment,monthly_sql_capacity\nF1,field,1-30,\nF2,field,,1\n"
# as of 2025-04-30: 3 SQLs; O1 valid + won 1000 (F2), O2 lost (F2), O3 valid, open (F1)
OPPORTUNITIES = (
    "opportunity_id,lead_id,account_id,owner_id,created_at,validated_at,closed_at,is_won,amount\n"
    "O1,L1,A1,F2,2025-04-03 10:00,2025-04-05,2025-04-20 10:00,true,1000\n"
    "O2,L2,A2,F2,2025-04-04 10:00,,2025-04-25,false,500\n"
    "O3,L3,A1,F1,2025-04-05 10:00,2025-04-06,,,2000\n"
)
LEADS_HEADER = "lead_id,account_id,owner_id,created_at,origin\n"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def opportunities_only(tmp_path: Path) -> Path:
    """accounts, reps, opportunities and a header-only leads.csv (no activities)."""
    return write(
        tmp_path / "export",
        {
            "accounts.csv": ACCOUNTS,
            "reps.csv": REPS,
            "opportunities.csv": OPPORTUNITIES,
            "leads.csv": LEADS_HEADER,
        },
    )


# ------------------------------------------------------- opportunities only


def test_opportunities_only_export_report(
    capsys: pytest.CaptureFixture[str], opportunities_only: Path
) -> None:
    code, out, err = run(
        capsys, "report", str(opportunities_only), "--as-of", "2025-04-30", "--format", "json"
    )
    assert code == 0, err
    # one input warning, about the empty leads table; no orphan key per opportunity
    assert "1 problem in the input (0 errors, 1 warning)" in err
    assert "empty_table" in err
    assert "orphan_fk" not in err
    summary = json.loads(out)["summary"]
    # lead counts 0, lead rates undefined (0/0) under the default zero_division
    assert (summary["leads"], summary["inbound_leads"]) == (0, 0)
    assert summary["lead_to_sql_rate"] == {"numerator": 0, "denominator": 0, "value": None}
    # every opportunity, allocation and account KPI is computed
    assert (summary["sqls"], summary["valid_opportunities"], summary["won"]) == (3, 2, 1)
    assert summary["won_amount"] == 1000.0
    assert summary["sql_to_valid_rate"]["numerator"] == 2
    assert summary["sql_to_valid_rate"]["denominator"] == 3
    assert summary["valid_to_won_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert summary["win_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert summary["sql_over_capacity_rep_months"] == 1  # F2: 2 SQLs in April > 1
    assert summary["target_account_sqls"] == 2  # O1, O3 (A1)
    assert summary["target_account_won_amount"] == 1000.0
    # no activities at all: not available, not 0
    assert all(summary[key] is None for key in ACTIVITY_KPIS)


def test_opportunities_only_export_sections_and_formats(
    capsys: pytest.CaptureFixture[str], opportunities_only: Path
) -> None:
    code, out, _ = run(
        capsys, "report", str(opportunities_only), "--as-of", "2025-04-30", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    funnel = doc["sections"]["funnel"]["tables"]
    assert all(rows == [] for rows in funnel.values())  # no leads: no invented bottleneck
    assert doc["sections"]["pipeline"]["tables"]["win rate"][0]["rate"] == 0.5
    assert doc["sections"]["allocation"]["tables"]["load"]
    assert doc["warnings"][0].startswith("the leads table has no rows")
    assert "activities table is absent or empty" in doc["warnings"][1]
    for fmt in ("text", "markdown", "html"):
        code, out, err = run(
            capsys, "report", str(opportunities_only), "--as-of", "2025-04-30", "--format", fmt
        )
        assert code == 0, (fmt, err)
        assert "n/a" in out
    code, out, _ = run(capsys, "report", str(opportunities_only), "--as-of", "2025-04-30")
    line = next(x for x in out.splitlines() if x.startswith("5C2M compliance"))
    assert "n/a" in line
    assert "%" not in line


def test_opportunities_only_export_is_valid_even_strict(
    capsys: pytest.CaptureFixture[str], opportunities_only: Path
) -> None:
    for strict in ((), ("--strict",)):
        code, _, err = run(capsys, "validate", str(opportunities_only), *strict)
        assert code == 0, err
        assert "is valid (0 leads, 1 warnings)" in err


def test_missing_leads_file_is_an_error_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "export",
        {"accounts.csv": ACCOUNTS, "reps.csv": REPS, "opportunities.csv": OPPORTUNITIES},
    )
    code, _, err = run(capsys, "validate", str(folder), "--errors", "json")
    assert code == 2
    problems = json.loads(err)
    # one problem: no orphan key per opportunity for the leads that could not be read
    assert [(p["table"], p["rule"]) for p in problems] == [("leads", "missing_table")]
    assert "is this the directory of the export?" in problems[0]["hint"]


# ------------------------------------------------------- plausibility rules


@pytest.fixture
def closed_before_created(tmp_path: Path) -> Path:
    # O1 won, closed the day before it was created (a rep typed the close date);
    # O2 won after 10 days
    return write(
        tmp_path / "export",
        {
            "leads.csv": "lead_id,created_at,origin\n"
            "L1,2025-04-01,inbound\nL2,2025-04-01,outbound\n",
            "opportunities.csv": "opportunity_id,lead_id,created_at,closed_at,is_won,amount\n"
            "O1,L1,2025-04-03 10:00,2025-04-02 10:00,true,100\n"
            "O2,L2,2025-04-01 09:00,2025-04-11 09:00,true,200\n",
        },
    )


def test_plausibility_rule_is_a_warning(
    capsys: pytest.CaptureFixture[str], closed_before_created: Path
) -> None:
    code, _, err = run(capsys, "validate", str(closed_before_created))
    assert code == 0
    assert "[warning] opportunities.closed_at closed_before_created: 1 row" in err
    assert "row 1 (id O1)" in err
    assert "--strict" in err  # the hint says how to make it an error


def test_plausibility_rule_is_an_error_when_strict(
    capsys: pytest.CaptureFixture[str], closed_before_created: Path
) -> None:
    for command in ("validate", "report"):
        code, out, err = run(capsys, command, str(closed_before_created), "--strict")
        assert code == 2
        assert out == ""
        assert "[error] opportunities.closed_at closed_before_created" in err


def test_report_leaves_the_negative_cycle_out_and_says_so(
    capsys: pytest.CaptureFixture[str], closed_before_created: Path
) -> None:
    code, out, err = run(
        capsys, "report", str(closed_before_created), "--as-of", "2025-04-30", "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["won"] == 2  # the row is kept
    pipeline = doc["sections"]["pipeline"]
    # the cycle is O2's 10 days, not the mean of 10 and -0.96
    assert pipeline["tables"]["sales cycle"] == [
        {"won_count": 2, "median_cycle_days": 10.0, "mean_cycle_days": 10.0}
    ]
    assert any("1 won deal(s) closed before they were created" in n for n in pipeline["notes"])
    assert any("left out of the cycle days" in n for n in doc["sections"]["mix"]["notes"])


# ------------------------------------------------- unreadable table files


def test_zero_byte_table_is_one_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = write(
        tmp_path / "export",
        {
            "leads.csv": "lead_id,created_at,origin,account_id\nL1,2025-04-01,inbound,A1\n"
            "L2,2025-04-02,inbound,A2\n",
            "accounts.csv": b"",
            "opportunities.csv": "opportunity_id,lead_id,account_id,created_at\n"
            "O1,L1,A1,2025-04-03\n",
        },
    )
    code, _, err = run(capsys, "validate", str(folder), "--errors", "json")
    assert code == 2
    problems = json.loads(err)
    # no orphan key for the leads and the opportunity that refer to the accounts
    assert [(p["table"], p["rule"]) for p in problems] == [("accounts", "empty_file")]


def test_wrongly_encoded_table_is_one_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "export",
        {
            "leads.csv": "lead_id,created_at,origin,account_id\nL1,2025-04-01,inbound,A1\n",
            "accounts.csv": "account_id,name\r\nA1,株式会社アクメ\r\n".encode("cp932"),
        },
    )
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 2
    assert "1 problem in the input (1 error, 0 warnings)" in err
    assert "accounts encoding_error" in err
    assert "orphan_fk" not in err
    code, _, err = run(capsys, "validate", str(folder), "--encoding", "cp932")
    assert code == 0, err


# --------------------------------------------------------- no data is not zero


def test_no_activities_file_gives_na_not_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "export",
        {
            "leads.csv": "lead_id,created_at,origin\n"
            "L1,2025-04-01,inbound\nL2,2025-04-01,inbound\n",
            "opportunities.csv": "opportunity_id,lead_id,created_at\nO1,L1,2025-04-03\n",
        },
    )
    code, out, err = run(capsys, "report", str(folder), "--as-of", "2025-04-30", "--lang", "ja")
    assert code == 0, err
    for label in ("5C2M遵守率", "当日アプローチ率", "案件化率"):
        line = next(x for x in out.splitlines() if x.startswith(label))
        assert "n/a" in line, line
        assert "%" not in line, line
    assert "算出不可" in out
    code, out, _ = run(capsys, "report", str(folder), "--as-of", "2025-04-30", "--format", "json")
    summary = json.loads(out)["summary"]
    assert summary["cadence_5c2m_rate"] is None
    assert summary["sql_to_valid_rate"] is None  # validated_at absent: not 0/1
    assert summary["lead_to_sql_rate"]["value"] == 0.5  # measured: L1 of 2 leads
