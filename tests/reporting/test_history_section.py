"""Report section ``history``: the quarter's waterfall and the weekly trend on the
bundled sample, and what it says when the data lacks a history or close dates."""

from __future__ import annotations

from datetime import date

import attrs
import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit.metrics.history import pipeline_movement, pipeline_trend
from pipelinekit.reporting.context import SectionContext
from pipelinekit.reporting.model import Section
from pipelinekit.reporting.sections.history import build, quarter_of

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def sample() -> pk.Dataset:
    return pk.sample_dataset()


@pytest.fixture(scope="module")
def section(sample: pk.Dataset) -> Section:
    return build(SectionContext.build(sample, AS_OF))


def test_quarter_of() -> None:
    assert quarter_of(date(2025, 1, 1)) == (date(2025, 1, 1), date(2025, 3, 31))
    assert quarter_of(date(2025, 6, 30)) == (date(2025, 4, 1), date(2025, 6, 30))
    assert quarter_of(date(2025, 12, 31)) == (date(2025, 10, 1), date(2025, 12, 31))


def test_waterfall_table_reconciles_and_matches_the_metric(
    section: Section, sample: pk.Dataset
) -> None:
    table = section.tables["quarter waterfall"].set_index("part")
    # signed amounts: start + every flow = end
    flows = table.loc[table.index.difference(["start", "end"]), "amount"].sum()
    assert table.loc["start", "amount"] + flows == table.loc["end", "amount"]
    want = pipeline_movement(
        sample.opportunities,
        history=sample.opportunity_history,
        stage_changes=sample.stage_changes,
        start="2025-09-30",
        end="2025-12-31",
        close_period=("2025-10-01", "2025-12-31"),
    ).iloc[0]
    assert table.loc["start", "amount"] == want["start"]
    assert table.loc["won", "amount"] == -want["won"]
    assert table.loc["pushed_out", "opportunity_count"] == want["pushed_out_count"]
    assert (table.loc[["amount_down", "pushed_out", "won", "lost"], "amount"] <= 0).all()
    by_owner = section.tables["quarter waterfall by owner"]
    assert by_owner["end_amount"].sum() == table.loc["end", "amount"]
    assert by_owner["won_amount"].sum() == -table.loc["won", "amount"]


def test_trend_ends_at_today_and_matches_the_waterfall(
    section: Section, sample: pk.Dataset
) -> None:
    trend = section.tables["pipeline trend"]
    assert trend["on_day"].iloc[-1] == pd.Timestamp(AS_OF)
    assert len(trend) == 27  # 26 Sundays and as_of
    last = trend.iloc[-1]
    waterfall = section.tables["quarter waterfall"].set_index("part")
    assert last["quarter_open_amount"] == waterfall.loc["end", "amount"]
    assert last["quarter_open_count"] == waterfall.loc["end", "opportunity_count"]
    # today's open pipeline is the opportunities table's open deals
    opps = sample.opportunities
    open_now = opps[opps["closed_at"].isna()]
    assert last["open_count"] == len(open_now)
    assert last["open_amount"] == open_now["amount"].sum()
    # the pipeline at the quarter's opening is the waterfall's start
    opening = pipeline_trend(
        opps,
        history=sample.opportunity_history,
        on=("2025-09-30", "2025-09-30"),
        close_period=("2025-10-01", "2025-12-31"),
    )
    assert opening["open_amount"].iloc[0] == waterfall.loc["start", "amount"]


def test_slipped_deals_are_pushed_out(section: Section) -> None:
    slipped = section.tables["slipped deals"]
    assert (
        len(slipped)
        == section.tables["quarter waterfall"]
        .set_index("part")
        .loc["pushed_out", "opportunity_count"]
    )
    assert (slipped["expected_close_on_start"] <= pd.Timestamp("2025-12-31")).all()
    assert (slipped["expected_close_on_end"] > pd.Timestamp("2025-12-31")).all()
    assert slipped["amount_start"].is_monotonic_decreasing


def test_charts_and_notes(section: Section) -> None:
    assert [c.kind for c in section.charts] == ["waterfall", "line"]
    assert [n.key for n in section.notes] == [
        "history_definition",
        "history_waterfall",
        "history_trend",
    ]
    text = section.note_texts("ja")[1]
    assert "2025-10-01～2025-12-31" in text


def test_the_html_report_draws_the_waterfall_and_the_trend(sample: pk.Dataset) -> None:
    html = pk.report(sample, as_of=AS_OF, sections="history").to_html()
    assert 'data-chart-kind="waterfall"' in html
    assert 'data-chart-kind="line"' in html
    ja = pk.report(sample, as_of=AS_OF, sections="history").to_html(lang="ja")
    assert "四半期パイプラインの増減" in ja


def test_without_history_past_days_use_the_current_rows(sample: pk.Dataset) -> None:
    bare = attrs.evolve(sample, opportunity_history=None, stage_changes=None)
    section = build(SectionContext.build(bare, AS_OF))
    assert "history_no_history" in [n.key for n in section.notes]
    assert "quarter waterfall" in section.tables


def test_without_close_dates_only_the_total_trend(sample: pk.Dataset) -> None:
    opps = sample.opportunities.assign(expected_close_on=pd.NaT)
    bare = attrs.evolve(sample, opportunities=opps, opportunity_history=None)
    section = build(SectionContext.build(bare, AS_OF))
    assert list(section.tables) == ["pipeline trend"]
    assert "history_no_close_dates" in [n.key for n in section.notes]
    assert list(section.tables["pipeline trend"].columns) == ["on_day", "open_count", "open_amount"]


def test_without_opportunities(sample: pk.Dataset) -> None:
    bare = attrs.evolve(sample, opportunities=None, opportunity_history=None, stage_changes=None)
    section = build(SectionContext.build(bare, AS_OF))
    assert section.tables == {}
    assert [n.key for n in section.notes] == ["history_definition", "history_no_opportunities"]
