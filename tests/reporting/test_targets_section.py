"""Report section ``targets`` on the bundled sample: which quotas each table shows,
the roll-ups against the per-row metric, and what the section says without quotas or
forecast categories."""

from __future__ import annotations

from datetime import date

import attrs
import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit.reporting.context import SectionContext
from pipelinekit.reporting.model import Section
from pipelinekit.reporting.sections.targets import build

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def sample() -> pk.Dataset:
    return pk.sample_dataset()


@pytest.fixture(scope="module")
def section(sample: pk.Dataset) -> Section:
    return build(SectionContext.build(sample, AS_OF))


def _keys(section: Section) -> list[str]:
    return [note.key for note in section.notes]


def test_current_quotas_are_those_whose_period_contains_as_of(
    section: Section, sample: pk.Dataset
) -> None:
    table = section.tables["quota attainment"]
    quotas = sample.quotas
    current = quotas[
        (quotas["period_start"] <= "2025-12-31") & (quotas["period_end"] >= "2025-12-31")
    ]
    assert len(table) == len(current) > 0
    # months and the quarter, by their first day (the KPI table's period key)
    assert set(table["period"]) == {pd.Timestamp("2025-12-01"), pd.Timestamp("2025-10-01")}
    assert "period_end" not in table


def test_team_rollup_is_the_sum_of_its_reps(section: Section) -> None:
    rows = section.tables["quota attainment"]
    reps = rows[rows["owner_id"].notna()]
    by_team = section.tables["attainment by team"].set_index(["team", "metric"])
    for (team, metric), members in reps.groupby(["team", "metric"]):
        row = by_team.loc[(team, metric)]
        assert row["quota_count"] == len(members)
        assert row["actual"] == pytest.approx(members["actual"].sum())
        assert row["attainment"] == pytest.approx(members["actual"].sum() / members["target"].sum())


def test_team_quota_equals_its_reps_actuals(section: Section) -> None:
    rows = section.tables["quota attainment"]
    won = rows[rows["metric"] == "won_amount"]
    for team, members in won[won["owner_id"].notna()].groupby("team"):
        quarter = won[won["owner_id"].isna() & (won["team"] == team)]
        assert len(quarter) == 1
        # the quarter's actual covers October to December; the month only December
        assert quarter["actual"].iloc[0] >= members["actual"].sum()


def test_coverage_and_forecast_tables(section: Section) -> None:
    coverage = section.tables["pipeline coverage"]
    assert set(coverage["period"]) == {pd.Timestamp("2025-12-01"), pd.Timestamp("2025-10-01")}
    met = coverage["remaining"] <= 0
    assert coverage.loc[met, "coverage"].isna().all()
    assert (coverage.loc[~met, "coverage"] >= 0).all()
    accuracy = section.tables["forecast accuracy by period"]
    assert list(accuracy["period"]) == sorted(accuracy["period"])
    assert len(accuracy) == 12  # every month of 2025 has ended by as_of
    owners = section.tables["forecast accuracy by owner"]
    # errors are taken per quota row: the owners' sums equal the periods' sums
    assert owners["abs_error"].sum() == pytest.approx(accuracy["abs_error"].sum())
    assert "targets_forecast" in _keys(section)
    assert [c.table for c in section.charts] == ["won amount against quota"]


def test_without_quotas_the_section_says_so(sample: pk.Dataset) -> None:
    empty = attrs.evolve(sample, quotas=None)
    built = build(SectionContext.build(empty, AS_OF))
    assert built.tables == {}
    assert _keys(built) == ["targets_definition", "targets_no_quotas"]


def test_without_forecast_categories_accuracy_is_not_shown(sample: pk.Dataset) -> None:
    opps = sample.opportunities.drop(columns="forecast_category")
    history = sample.opportunity_history.drop(columns="forecast_category")
    data = attrs.evolve(sample, opportunities=opps, opportunity_history=history)
    built = build(SectionContext.build(data, AS_OF))
    assert "forecast accuracy by period" not in built.tables
    assert "targets_no_forecast_category" in _keys(built)
    assert "quota attainment" in built.tables


def test_zero_targets_are_noted(sample: pk.Dataset) -> None:
    quotas = sample.quotas.copy()
    quotas.loc[quotas.index[:3], "target"] = 0.0
    built = build(SectionContext.build(attrs.evolve(sample, quotas=quotas), AS_OF))
    notes = {note.key: note for note in built.notes}
    assert notes["targets_zero_target"].params["rows"] == 3
    assert pd.isna(built.tables["attainment by period"]["attainment"]).sum() == 0


def test_every_table_reaches_the_kpi_table(sample: pk.Dataset) -> None:
    report = pk.report(sample, as_of=AS_OF, sections=["targets"])
    kpis = pk.kpi_table(report)
    section = report.sections[0]
    assert set(kpis["table"]) == set(section.tables)
    attainment = kpis[(kpis["table"] == "quota attainment") & (kpis["kpi"] == "attainment")]
    assert len(attainment) == len(section.tables["quota attainment"])
    assert set(attainment["period"]) == {pd.Timestamp("2025-12-01"), pd.Timestamp("2025-10-01")}
