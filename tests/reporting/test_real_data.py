"""Real data in, honest numbers out: the report on data with gaps.

Hand-built variations of the tiny dataset (``tests/tiny.py``, whose summary is worked
out by hand there): a table with no rows, a column empty in every row, an empty leads
table. What the data cannot answer is not available (None / null / n/a, with a
warning naming what is missing), never an invented 0 or 0%; a count that is truly
zero stays 0.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

import attrs
import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit import Rate
from pipelinekit.reporting.availability import (
    ACTIVITY_KPIS,
    OPPORTUNITY_KPIS,
    TARGET_KPIS,
    data_gaps,
)
from pipelinekit.reporting.build import build_report
from pipelinekit.reporting.sections import build_section
from pipelinekit.reporting.summary import SUMMARY_KEYS, summary

from ..tiny import AS_OF, EXPECTED_SUMMARY, tiny_dataset


def _with(ds: pk.Dataset, table: str, **columns: Any) -> pk.Dataset:
    frame = ds.table(table).copy()
    for name, value in columns.items():
        frame[name] = pd.Series([value] * len(frame), dtype=frame[name].dtype)
    return attrs.evolve(ds, **{table: frame})


def _without_rows(ds: pk.Dataset, *tables: str) -> pk.Dataset:
    return attrs.evolve(ds, **{t: ds.table(t).head(0) for t in tables})


def _check(result: dict[str, Any], unavailable: set[str], changed: dict[str, Any]) -> None:
    """Every key: None when unavailable, else the hand value (``changed`` overrides)."""
    assert list(result) == list(SUMMARY_KEYS)
    expected = {**EXPECTED_SUMMARY, **changed}
    for key in SUMMARY_KEYS:
        got = result[key]
        if key in unavailable:
            assert got is None, key
            continue
        want = expected[key]
        if isinstance(want, tuple):
            assert isinstance(got, Rate), key
            assert (got.numerator, got.denominator) == want, key
            assert math.isnan(got.value) if not want[1] else got.value == want[0] / want[1]
        else:
            assert got == pytest.approx(want), key


def _warned(report: Any) -> list[tuple[str, tuple[str, ...]]]:
    return [(n.key, tuple(n.params["kpis"])) for n in report.data_warnings]


# ----------------------------------------------------------------- the summary


def test_complete_data_has_every_kpi() -> None:
    report = build_report(tiny_dataset(), as_of=AS_OF, sections="summary")
    _check(report.summary, set(), {})
    assert report.data_warnings == ()


def test_no_activities_makes_the_activity_kpis_not_available() -> None:
    ds = _without_rows(tiny_dataset(), "activities")
    report = build_report(ds, as_of=AS_OF, sections="summary")
    # 5C2M would be 0/3 (0%) and same-day approach 0/4: invented, so None
    _check(report.summary, set(ACTIVITY_KPIS), {})
    assert _warned(report) == [("na_table", ACTIVITY_KPIS)]
    assert report.data_warnings[0].params["table"] == "activities"


def test_activities_absent_is_the_same_as_empty() -> None:
    ds = attrs.evolve(tiny_dataset(), activities=None)
    _check(summary(ds, as_of=AS_OF), set(ACTIVITY_KPIS), {})


_TAKES = {
    "activities": set(ACTIVITY_KPIS),
    "opportunities": set(OPPORTUNITY_KPIS),
    "accounts": set(TARGET_KPIS),
    "reps": {"sql_over_capacity_rep_months"},
}
_SUBSETS = [
    combo for n in range(len(_TAKES) + 1) for combo in itertools.combinations(sorted(_TAKES), n)
]


@pytest.mark.parametrize("emptied", _SUBSETS, ids=lambda c: "+".join(c) or "none")
def test_every_missing_table_takes_exactly_its_kpis(emptied: tuple[str, ...]) -> None:
    # each of the 16 combinations of empty tables: a KPI is None exactly when one of
    # its input tables has no rows, and every other KPI keeps its hand-computed value
    ds = _without_rows(tiny_dataset(), *emptied)
    unavailable = set().union(*(_TAKES[t] for t in emptied))
    _check(summary(ds, as_of=AS_OF), unavailable, {})


def test_validated_at_empty_everywhere() -> None:
    ds = _with(tiny_dataset(), "opportunities", validated_at=pd.NaT)
    report = build_report(ds, as_of=AS_OF, sections="summary")
    valid = {"valid_opportunities", "sql_to_valid_rate", "valid_to_won_rate"}
    # SQL -> valid would be 0/5; the win rate (1/3) does not need validated_at
    _check(report.summary, valid, {})
    assert _warned(report) == [
        ("na_column", ("valid_opportunities", "sql_to_valid_rate", "valid_to_won_rate"))
    ]
    assert report.data_warnings[0].params["where"] == "opportunities.validated_at"


def test_is_won_empty_everywhere_while_deals_are_closed() -> None:
    ds = _with(tiny_dataset(), "opportunities", is_won=pd.NA)
    result = summary(ds, as_of=AS_OF)
    # every close would be a loss: win rate 0/3 invented
    won = {"won", "won_amount", "valid_to_won_rate", "win_rate", "target_account_won_amount"}
    _check(result, won, {})


def test_nothing_closed_is_a_true_zero() -> None:
    # no closes at all: 0 won is measured, the win rate is undefined (0/0), not n/a
    ds = _with(tiny_dataset(), "opportunities", is_won=pd.NA, closed_at=pd.NaT)
    result = summary(ds, as_of=AS_OF)
    _check(
        result,
        set(),
        {
            "won": 0,
            "won_amount": 0.0,
            "valid_to_won_rate": (0, 3),
            "win_rate": (0, 0),
            "target_account_won_amount": 0.0,
        },
    )


def test_amount_empty_everywhere() -> None:
    ds = _with(tiny_dataset(), "opportunities", amount=float("nan"))
    _check(summary(ds, as_of=AS_OF), {"won_amount", "target_account_won_amount"}, {})


def test_no_target_account_and_no_capacity() -> None:
    ds = _with(tiny_dataset(), "accounts", is_target=False)
    ds = _with(ds, "reps", segment=None, monthly_sql_capacity=pd.NA)
    report = build_report(ds, as_of=AS_OF, sections="summary")
    _check(
        report.summary,
        {"target_account_sqls", "target_account_won_amount", "sql_over_capacity_rep_months"},
        {},
    )
    assert [n.key for n in report.data_warnings] == ["na_targets", "na_capacity"]


def test_talk_time_without_any_duration() -> None:
    ds = _with(tiny_dataset(), "activities", duration_s=float("nan"))
    _check(summary(ds, as_of=AS_OF), {"talk_time_s"}, {})


def test_activities_without_calls_count_zero_calls() -> None:
    # the activities table has rows (emails only): 0 calls is a measured zero and
    # the connect rate is undefined (0/0), not "not available"
    ds = tiny_dataset()
    emails = ds.activities[ds.activities["channel"] == "email"].reset_index(drop=True)
    result = summary(attrs.evolve(ds, activities=emails), as_of=AS_OF)
    assert result["calls"] == 0
    assert result["talk_time_s"] == 0.0
    rate = result["call_connect_rate"]
    assert isinstance(rate, Rate)
    assert (rate.numerator, rate.denominator) == (0, 0)


def test_no_opportunities() -> None:
    ds = _without_rows(tiny_dataset(), "opportunities")
    _check(summary(ds, as_of=AS_OF), set(OPPORTUNITY_KPIS), {})


def test_empty_leads_table_keeps_every_opportunity_kpi() -> None:
    # lead counts 0, lead rates undefined (0/0) under zero_division; every opportunity
    # KPI computed. Target-account SQLs: only O4 has its own account (A1); O1 and O2
    # reached A1 through their lead, which is not in the data. Calls count every call.
    ds = _without_rows(tiny_dataset(), "leads")
    lead_based = {
        "leads": 0,
        "inbound_leads": 0,
        "touched_leads": 0,
        "connected_leads": 0,
        "lead_to_sql_rate": (0, 0),
        "same_day_approach_rate": (0, 0),
        "cadence_5c2m_rate": (0, 0),
        "target_account_sqls": 1,
        "target_account_won_amount": 0.0,
    }
    report = build_report(ds, as_of=AS_OF)
    _check(report.summary, set(), lead_based)
    zero = summary(ds, as_of=AS_OF, zero_division="0")["lead_to_sql_rate"]
    assert isinstance(zero, Rate)
    assert zero.value == 0.0
    funnel = report.section("funnel")
    assert all(len(frame) == 0 for frame in funnel.tables.values())  # no bottleneck


# --------------------------------------------------------------- renderings


@pytest.fixture(scope="module")
def no_activities() -> pk.Dataset:
    return _without_rows(tiny_dataset(), "activities")


def test_json_writes_null_and_the_warning(no_activities: pk.Dataset) -> None:
    report = build_report(no_activities, as_of=AS_OF)
    doc = json.loads(report.to_json())
    assert doc["summary"]["calls"] is None
    assert doc["summary"]["cadence_5c2m_rate"] is None
    assert doc["summary"]["leads"] == 5
    # an undefined rate keeps its counts; a rate not available is null as a whole
    assert doc["summary"]["win_rate"] == {
        "numerator": 1,
        "denominator": 3,
        "value": pytest.approx(1 / 3),
    }
    assert any("activities table is absent or empty" in w for w in doc["warnings"])
    frame = report.summary_frame().set_index("key")
    assert frame.drop(columns="label").loc["cadence_5c2m_rate"].isna().all()


def test_text_markdown_html_show_na(no_activities: pk.Dataset) -> None:
    report = build_report(no_activities, as_of=AS_OF, sections="summary,cadence")
    text = report.to_text()
    line = next(x for x in text.splitlines() if x.startswith("5C2M compliance"))
    assert re.split(r"\s{2,}", line)[1:] == ["n/a", "not available (see warnings)"]
    assert "0.0%" not in line
    assert "activities table is absent or empty" in text.split("== Warnings ==")[1]
    markdown = report.to_markdown()
    assert "| 5C2M compliance | n/a | not available (see warnings) |" in markdown
    html = report.to_html()
    card = re.search(r'data-key="cadence_5c2m_rate".*?</div></div>', html)
    assert card is not None
    assert ">n/a<" in card.group(0)


def test_japanese_report_translates_the_gap_notes(no_activities: pk.Dataset) -> None:
    ds = _with(no_activities, "opportunities", validated_at=pd.NaT)
    report = build_report(ds, as_of=AS_OF)
    english = {t for s in report.sections for t in s.note_texts("en")}
    english |= {n.text("en") for n in report.data_warnings}
    japanese = [t for s in report.sections for t in s.note_texts("ja")]
    japanese += [n.text("ja") for n in report.data_warnings]
    assert report.data_warnings
    for text in japanese:
        assert text not in english, text
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text
    assert "算出不可" in report.to_text(lang="ja")


# ----------------------------------------------------------------- sections


def _section(ds: pk.Dataset, key: str) -> Any:
    return build_section(key, ds, AS_OF)


def test_funnel_leaves_out_stages_without_data(no_activities: pk.Dataset) -> None:
    section = _section(no_activities, "funnel")
    assert section.tables["overall"]["stage"].tolist() == ["lead", "sql", "valid", "won"]
    # lead -> sql 3/5 (L1 L3 L6), sql -> valid 2/3 (L1, L6; O3 validated after as_of),
    # valid -> won 1/2 (L1): the bottleneck is valid -> won, never an invented touch step
    overall = section.tables["overall"].set_index("stage")
    assert overall["count"].tolist() == [5, 3, 2, 1]
    low = section.tables["bottleneck"].set_index("origin").loc["all"]
    assert (low["from_stage"], low["stage"]) == ("valid", "won")
    keys = [n.key for n in section.notes]
    assert "funnel_stages_left_out" in keys
    left_out = next(n for n in section.notes if n.key == "funnel_stages_left_out")
    assert left_out.params["stages"] == ("touched", "connected")


def test_funnel_without_validated_at_has_no_valid_stage() -> None:
    ds = _with(tiny_dataset(), "opportunities", validated_at=pd.NaT)
    overall = _section(ds, "funnel").tables["overall"]
    assert "valid" not in overall["stage"].tolist()
    assert overall["stage"].tolist() == ["lead", "touched", "connected", "sql", "won"]


def test_funnel_with_one_stage_left_has_no_rows() -> None:
    ds = _without_rows(tiny_dataset(), "activities", "opportunities")
    section = _section(ds, "funnel")
    assert all(len(frame) == 0 for frame in section.tables.values())
    assert "funnel_not_available" in [n.key for n in section.notes]


@pytest.mark.parametrize("key", ["cadence", "activity"])
def test_activity_sections_without_activities_have_no_rows(
    no_activities: pk.Dataset, key: str
) -> None:
    section = _section(no_activities, key)
    assert all(len(frame) == 0 for frame in section.tables.values())
    assert section.notes[-1].key == "section_not_available"
    assert section.notes[-1].params == {"table": "activities"}


def test_queues_without_activities_do_not_invent_untouched_leads(
    no_activities: pk.Dataset,
) -> None:
    section = _section(no_activities, "queues")
    counts = section.tables["counts"].set_index("queue")["lead_count"]
    assert pd.isna(counts["untouched_inbound"])
    assert pd.isna(counts["hot_leads"])
    assert len(section.tables["top_untouched_inbound"]) == 0
    assert "queues_waiting" not in [n.key for n in section.notes]


def test_mix_without_validated_at_leaves_the_valid_rate_empty() -> None:
    ds = _with(tiny_dataset(), "opportunities", validated_at=pd.NaT)
    section = _section(ds, "mix")
    comparison = section.tables["origin comparison"]
    assert comparison["valid_rate"].isna().all()
    assert comparison["valid_count"].isna().all()
    assert comparison["win_rate"].notna().any()
    note = next(n for n in section.notes if n.key == "columns_not_available")
    assert note.params["columns"] == ("valid_rate",)


def test_pipeline_without_amounts_or_outcomes() -> None:
    ds = _with(tiny_dataset(), "opportunities", amount=float("nan"), is_won=pd.NA)
    section = _section(ds, "pipeline")
    opened = section.tables["open pipeline by stage"]
    assert opened["open_count"].sum() == 2  # O3 and O4 open at the end of 04-30
    assert opened["open_amount"].isna().all()  # not 0
    for name in ("win rate", "sales cycle", "velocity", "win rate by source"):
        assert len(section.tables[name]) == 0, name
    keys = [n.key for n in section.notes]
    assert "columns_not_available" in keys
    note = next(n for n in section.notes if n.key == "tables_not_available")
    assert note.params["what"] == "opportunities.is_won"


def test_sections_of_the_sample_have_no_gap_notes() -> None:
    gaps = data_gaps(pk.sample_dataset().tables())
    assert gaps.missing == frozenset()
    assert gaps.notes == ()


# ------------------------------------------------------- negative durations


def test_pipeline_section_counts_deals_closed_before_created() -> None:
    ds = tiny_dataset()
    opps = ds.opportunities.copy()
    # O1 (won) closed the day before it was created: kept, out of the cycle
    opps.loc[opps["opportunity_id"] == "O1", "closed_at"] = pd.Timestamp("2025-04-02 10:00")
    section = _section(attrs.evolve(ds, opportunities=opps), "pipeline")
    cycle = section.tables["sales cycle"]
    assert cycle["won_count"].tolist() == [1]
    assert cycle["median_cycle_days"].isna().all()
    assert "excluded_negative_count" not in cycle.columns
    note = next(n for n in section.notes if n.key == "cycle_excluded_negative")
    assert note.params == {"excluded": 1}
    assert "1 won deal(s) closed before they were created" in note.text()
