"""Campaign metrics: performance, member CVR and alerts by hand, edges, engines, properties."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import Campaign, ConfigError, Lead, Opportunity, SchemaError
from pipelinekit.metrics.campaigns import (
    campaign_alerts,
    campaign_member_cvr,
    campaign_performance,
    two_proportion_z_test,
)
from pipelinekit.rates import ZeroDenominatorError
from pipelinekit.reporting.sections import build_section
from pipelinekit.schema import from_objects

from .test_abm import normalise, to_duckdb

AS_OF = date(2025, 4, 30)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _lead(lid: str, campaign: str | None, owner: str | None, day: str) -> Lead:
    return Lead(
        lead_id=lid, campaign_id=campaign, owner_id=owner, created_at=t(day), origin="inbound"
    )


def tiny() -> dict[str, pd.DataFrame]:
    leads = [
        _lead("L1", "C1", "R1", "2025-03-05"),
        _lead("L2", "C1", "R1", "2025-03-06"),
        _lead("L3", "C1", "R2", "2025-04-02"),
        _lead("L4", "C1", "R2", "2025-04-03"),
        _lead("L5", "C2", "R1", "2025-04-04"),
        _lead("L6", None, "R2", "2025-04-05"),  # no campaign
        _lead("L7", "C1", None, "2025-04-06"),  # no IS owner
        _lead("L8", "C2", "R1", "2025-05-03"),  # after as_of
    ]
    opportunities = [
        Opportunity(
            opportunity_id="O1",
            lead_id="L1",
            created_at=t("2025-03-20"),
            closed_at=t("2025-04-10"),
            is_won=True,
            amount=1_000_000.0,
        ),
        Opportunity(opportunity_id="O2", lead_id="L3", created_at=t("2025-04-05")),
        Opportunity(opportunity_id="O3", lead_id="L5", created_at=t("2025-05-02")),  # late
        Opportunity(
            opportunity_id="O4",
            lead_id="L6",
            created_at=t("2025-04-10"),
            closed_at=t("2025-04-20"),
            is_won=True,
            amount=500_000.0,
        ),
        Opportunity(
            opportunity_id="O5",
            lead_id="L6",
            created_at=t("2025-04-12"),
            closed_at=t("2025-04-25"),
            is_won=True,
            amount=200_000.0,
        ),
        Opportunity(
            opportunity_id="O6",
            account_id="A1",
            created_at=t("2025-04-01"),
            closed_at=t("2025-04-02"),
            is_won=True,
            amount=9e6,
        ),  # no lead
        Opportunity(
            opportunity_id="O7",
            lead_id="L2",
            created_at=t("2025-04-15"),
            closed_at=t("2025-05-10"),
            is_won=True,
            amount=3e6,
        ),  # won after as_of
    ]
    campaigns = [Campaign(campaign_id=c, name=f"campaign {c}") for c in ("C1", "C2", "C3")]
    return {
        "leads": from_objects(leads, Lead),
        "opportunities": from_objects(opportunities, Opportunity),
        "campaigns": from_objects(campaigns, Campaign),
    }


def rows_of(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame[columns].values.tolist()]


COUNTS = ["campaign_id", "lead_count", "sql_count", "won_count", "won_amount"]


def test_campaign_performance_by_hand() -> None:
    data = tiny()
    out = campaign_performance(
        data["leads"], data["opportunities"], campaigns=data["campaigns"], as_of=AS_OF
    )
    assert list(out.columns) == [*COUNTS, "numerator", "denominator", "rate", "ci_low", "ci_high"]
    assert rows_of(out, [*COUNTS, "rate"]) == [
        # L1 L2 L3 L4 L7; SQL L1 (O1) L2 (O7) L3 (O2); won L1 (O7 closes after as_of)
        ["C1", 5, 3, 1, 1e6, 0.6],
        ["C2", 1, 0, 0, 0.0, 0.0],  # L5: its opportunity O3 is after as_of
        ["C3", 0, 0, 0, 0.0, None],  # listed, no leads: 0 / 0 -> NaN
        [None, 1, 1, 1, 7e5, 1.0],  # L6: two won opportunities, one won lead, 0.5M + 0.2M
    ]
    assert (out["numerator"] == out["sql_count"]).all()
    assert (out["denominator"] == out["lead_count"]).all()
    without_table = campaign_performance(data["leads"], data["opportunities"], as_of=AS_OF)
    assert rows_of(without_table, ["campaign_id"]) == [["C1"], ["C2"], [None]]


def test_campaign_with_no_leads_follows_zero_division() -> None:
    data = tiny()
    args = (data["leads"], data["opportunities"])
    named = {"campaigns": data["campaigns"]}
    zero = campaign_performance(*args, **named, as_of=AS_OF, zero_division="0")
    c3 = zero[zero["campaign_id"] == "C3"].iloc[0]
    assert c3["rate"] == 0.0
    assert math.isnan(c3["ci_low"])
    with pytest.raises(ZeroDenominatorError):
        campaign_performance(*args, **named, as_of=AS_OF, zero_division="raise")
    campaign_performance(
        data["leads"], data["opportunities"], as_of=AS_OF, zero_division="raise"
    )  # every campaign of the leads has leads


def test_campaign_performance_by_month_and_year() -> None:
    data = tiny()
    args = (data["leads"], data["opportunities"])
    named = {"campaigns": data["campaigns"]}
    monthly = campaign_performance(*args, **named, freq="month", as_of=AS_OF)
    march, april = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")
    assert rows_of(monthly, ["campaign_id", "period", "lead_count", "sql_count", "won_count"]) == [
        ["C1", march, 2, 2, 1],  # L1 L2 (their SQLs and L1's win come later: cohort view)
        ["C1", april, 3, 1, 0],  # L3 L4 L7
        ["C2", march, 0, 0, 0],
        ["C2", april, 1, 0, 0],
        ["C3", march, 0, 0, 0],
        ["C3", april, 0, 0, 0],
        [None, march, 0, 0, 0],
        [None, april, 1, 1, 1],
    ]
    yearly = campaign_performance(*args, **named, freq="year", as_of=AS_OF)
    overall = campaign_performance(*args, **named, as_of=AS_OF)
    assert yearly["period"].eq(pd.Timestamp("2025-01-01")).all()
    assert rows_of(yearly, COUNTS) == rows_of(overall, COUNTS)


def test_campaign_member_cvr_by_hand() -> None:
    data = tiny()
    out = campaign_member_cvr(data["leads"], data["opportunities"], as_of=AS_OF)
    assert rows_of(
        out,
        [
            "campaign_id",
            "owner_id",
            "lead_count",
            "sql_count",
            "campaign_lead_count",
            "campaign_sql_count",
        ],
    ) == [
        ["C1", "R1", 2, 2, 5, 3],  # L1 L2, both SQL
        ["C1", "R2", 2, 1, 5, 3],  # L3 (SQL) L4
        ["C1", None, 1, 0, 5, 3],  # L7
        ["C2", "R1", 1, 0, 1, 0],
        [None, "R2", 1, 1, 1, 1],
    ]
    assert out["rate"].tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0, 1.0])
    assert out["campaign_rate"].tolist() == pytest.approx([0.6, 0.6, 0.6, 0.0, 1.0])
    # lift = member rate / campaign rate: 1 / 0.6, 0.5 / 0.6, 0 / 0.6; C2's rate is 0 -> null
    lift = out["lift"].tolist()
    assert lift[:3] == pytest.approx([5 / 3, 5 / 6, 0.0])
    assert math.isnan(lift[3])
    assert lift[4] == pytest.approx(1.0)


# ------------------------------------------------------------------- alerts


def alert_data(months: tuple[str, str] = ("2025-03-10", "2025-04-10")) -> dict[str, pd.DataFrame]:
    """(campaign, leads and SQLs in the first period, in the second)."""
    plan = [
        ("C1", 100, 10, 100, 25),
        ("C2", 50, 5, 50, 8),
        ("C3", 2000, 200, 2000, 240),
        ("C4", 10, 1, 0, 0),
    ]
    lead_rows, opp_rows = [], []
    for campaign, n1, x1, n2, x2 in plan:
        for when, n, x in ((months[0], n1, x1), (months[1], n2, x2)):
            for i in range(n):
                lid = f"{campaign}-{when}-{i}"
                lead_rows.append(
                    {
                        "lead_id": lid,
                        "campaign_id": campaign,
                        "owner_id": "R1",
                        "created_at": pd.Timestamp(when),
                    }
                )
                if i < x:
                    opp_rows.append({"lead_id": lid, "created_at": pd.Timestamp(when)})
    return {"leads": pd.DataFrame(lead_rows), "opportunities": pd.DataFrame(opp_rows)}


def test_campaign_alerts_by_hand() -> None:
    data = alert_data()
    out = campaign_alerts(data["leads"], data["opportunities"], as_of=AS_OF)
    assert out["campaign_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert out["period"].eq(pd.Timestamp("2025-04-01")).all()
    assert out["previous_period"].eq(pd.Timestamp("2025-03-01")).all()
    rows = out.set_index("campaign_id")
    # C1: p1 = 10/100 = 0.10, p2 = 25/100 = 0.25, pooled p = 35/200 = 0.175,
    #     se = sqrt(0.175 * 0.825 * (1/100 + 1/100)) = sqrt(0.0028875) = 0.0537355,
    #     z = 0.15 / 0.0537355 = 2.79145, p = 2 (1 - Phi(2.79145)) = 0.00525 < 0.05, and the
    #     change 0.15 >= 0.05 -> alert
    assert rows.loc["C1", "z"] == pytest.approx(2.79145, abs=1e-5)
    assert rows.loc["C1", "p_value"] == pytest.approx(0.005247, abs=1e-6)
    assert rows.loc["C1", "change"] == pytest.approx(0.15)
    assert bool(rows.loc["C1", "alert"])
    # C2: p1 = 0.10, p2 = 0.16, p = 13/100 = 0.13, se = sqrt(0.13 * 0.87 * 0.04) = 0.0672607,
    #     z = 0.06 / 0.0672607 = 0.89205, p = 0.372 -> not significant, no alert
    assert rows.loc["C2", "z"] == pytest.approx(0.89205, abs=1e-5)
    assert not rows.loc["C2", "alert"]
    # C3: p1 = 0.10, p2 = 0.12, p = 440/4000 = 0.11, se = sqrt(0.11 * 0.89 * 0.001) = 0.0098944,
    #     z = 2.0213, p = 0.0432 < 0.05 but the change 0.02 < min_effect 0.05 -> no alert
    assert rows.loc["C3", "z"] == pytest.approx(2.0213, abs=1e-4)
    assert rows.loc["C3", "p_value"] < 0.05
    assert not rows.loc["C3", "alert"]
    # C4: no leads in April -> no test, no alert
    assert pd.isna(rows.loc["C4", "z"])
    assert pd.isna(rows.loc["C4", "change"])
    assert pd.isna(rows.loc["C4", "rate"])
    assert not rows.loc["C4", "alert"]
    assert out["alert"].dtype == bool


def test_alert_thresholds_are_configurable() -> None:
    data = alert_data()
    args = (data["leads"], data["opportunities"])
    small_effect = campaign_alerts(*args, min_effect=0.01, as_of=AS_OF).set_index("campaign_id")
    assert small_effect["alert"].to_dict() == {"C1": True, "C2": False, "C3": True, "C4": False}
    strict = campaign_alerts(*args, alpha=0.01, min_effect=0.01, as_of=AS_OF)
    assert strict.set_index("campaign_id")["alert"].to_dict() == {
        "C1": True,
        "C2": False,
        "C3": False,
        "C4": False,  # C3's p = 0.043 > 0.01
    }


def test_yearly_alerts() -> None:
    data = alert_data(("2024-06-10", "2025-03-10"))
    out = campaign_alerts(data["leads"], data["opportunities"], freq="year", as_of=AS_OF)
    assert out["period"].eq(pd.Timestamp("2025-01-01")).all()
    assert out["previous_period"].eq(pd.Timestamp("2024-01-01")).all()
    assert out.set_index("campaign_id")["alert"].to_dict() == {
        "C1": True,
        "C2": False,
        "C3": False,
        "C4": False,
    }


def test_p_value_expression_matches_normal_dist() -> None:
    data = alert_data()
    out = campaign_alerts(data["leads"], data["opportunities"], as_of=AS_OF)
    for row in out.itertuples(index=False):
        z, p = two_proportion_z_test(
            row.previous_numerator, row.previous_denominator, row.numerator, row.denominator
        )
        if math.isnan(z):
            assert pd.isna(row.z)
            assert pd.isna(row.p_value)
        else:
            assert row.z == pytest.approx(z)
            assert row.p_value == pytest.approx(p, abs=1e-6)
    for z in (0.0, 0.5, 1.96, 3.0, 6.0):
        exact = 2 * (1 - NormalDist().cdf(z))
        frame = pl.DataFrame({"z": [z]})
        import narwhals as nw

        from pipelinekit.metrics.campaigns import _two_sided_p

        got = nw.from_native(frame).select(_two_sided_p(nw.col("z"))).item()
        assert got == pytest.approx(exact, rel=2e-7, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"min_effect": -0.1}, "min_effect"),
        ({"min_effect": "big"}, "min_effect"),
        ({"freq": "decade"}, "freq"),
        ({"zero_division": "skip"}, "zero_division"),
    ],
)
def test_alert_parameters_are_validated(kwargs: dict[str, Any], message: str) -> None:
    data = alert_data()
    options: dict[str, Any] = {"as_of": AS_OF, **kwargs}
    with pytest.raises(ConfigError, match=message):
        campaign_alerts(data["leads"], data["opportunities"], **options)


def test_missing_campaign_column_is_a_schema_error() -> None:
    data = tiny()
    with pytest.raises(SchemaError, match="campaign_id"):
        campaign_performance(
            data["leads"].drop(columns="campaign_id"), data["opportunities"], as_of=AS_OF
        )


# ------------------------------------------------------------------ engines

CALLS = {
    "performance": lambda d: campaign_performance(
        d["leads"], d["opportunities"], campaigns=d["campaigns"], freq="month", as_of=AS_OF
    ),
    "member_cvr": lambda d: campaign_member_cvr(d["leads"], d["opportunities"], as_of=AS_OF),
    "alerts": lambda d: campaign_alerts(
        d["leads"],
        d["opportunities"],
        campaigns=d["campaigns"],
        alpha=0.5,
        min_effect=0.0,
        as_of=AS_OF,
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_polars_eager_and_lazy_agree_with_pandas(name: str) -> None:
    data = tiny()
    expected = CALLS[name](data)
    eager = CALLS[name]({k: pl.from_pandas(v) for k, v in data.items()})
    lazy = CALLS[name]({k: pl.from_pandas(v).lazy() for k, v in data.items()})
    assert isinstance(eager, pl.DataFrame)
    assert isinstance(lazy, pl.LazyFrame)
    assert normalise(eager) == normalise(expected)
    assert normalise(lazy) == normalise(expected)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_duckdb_agrees_with_pandas(name: str) -> None:
    data = tiny()
    assert normalise(CALLS[name](to_duckdb(data))) == normalise(CALLS[name](data))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inputs_are_not_mutated(name: str) -> None:
    data = tiny()
    before = {k: v.copy(deep=True) for k, v in data.items()}
    CALLS[name](data)
    for key, frame in data.items():
        pd.testing.assert_frame_equal(frame, before[key])


def test_report_section_on_the_tiny_dataset() -> None:
    from pipelinekit import Dataset

    section = build_section("campaigns", Dataset(**tiny()), AS_OF)
    assert section.key == "campaigns"
    table = section.tables["campaigns"]
    assert table["campaign_id"].tolist() == ["C1", "C2", "C3", "(no campaign)"]
    assert table["name"].tolist()[:3] == ["campaign C1", "campaign C2", "campaign C3"]
    assert section.tables["member_cvr"].empty  # no pair has 10 leads


def test_report_section_without_data() -> None:
    from pipelinekit import Dataset
    from pipelinekit.schema import empty_frame

    section = build_section("campaigns", Dataset(leads=empty_frame("leads")), AS_OF)
    assert all(frame.empty for frame in section.tables.values())


# ---------------------------------------------------------------- properties


@st.composite
def funnels(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    n = draw(st.integers(0, 30))
    leads = [
        _lead(
            f"L{i}",
            draw(st.sampled_from([None, "C1", "C2", "C3"])),
            draw(st.sampled_from([None, "R1", "R2"])),
            (datetime(2025, 1, 1) + timedelta(days=draw(st.integers(0, 150)))).isoformat(),
        )
        for i in range(n)
    ]
    opportunities = []
    for i in range(draw(st.integers(0, 20))):
        created = datetime(2025, 1, 1) + timedelta(days=draw(st.integers(0, 150)))
        closed = draw(st.none() | st.integers(0, 30))
        opportunities.append(
            Opportunity(
                opportunity_id=f"O{i}",
                lead_id=draw(st.sampled_from([None, *[f"L{k}" for k in range(n)]])),
                created_at=created,
                closed_at=None if closed is None else created + timedelta(days=closed),
                is_won=None if closed is None else draw(st.booleans()),
                amount=float(draw(st.integers(0, 3))),
            )
        )
    campaigns = [Campaign(campaign_id=c) for c in ("C1", "C2", "C4")]
    return {
        "leads": from_objects(leads, Lead),
        "opportunities": from_objects(opportunities, Opportunity),
        "campaigns": from_objects(campaigns, Campaign),
    }


@settings(max_examples=60, deadline=None)
@given(funnels())
def test_campaign_counts_add_up(data: dict[str, pd.DataFrame]) -> None:
    leads, opps = data["leads"], data["opportunities"]
    perf = campaign_performance(leads, opps, campaigns=data["campaigns"], as_of=AS_OF)
    in_time = leads[leads["created_at"] < pd.Timestamp("2025-05-01")]
    assert perf["lead_count"].sum() == len(in_time)
    assert (perf["won_count"] <= perf["sql_count"]).all()
    assert (perf["sql_count"] <= perf["lead_count"]).all()
    rates = perf["rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    assert {"C1", "C2", "C4"} <= set(perf["campaign_id"].dropna())  # listed ones always appear
    members = campaign_member_cvr(leads, opps, as_of=AS_OF)
    assert members["lead_count"].sum() == len(in_time)
    by_campaign = perf.set_index(perf["campaign_id"].fillna("<none>"))
    for campaign, group in members.groupby(members["campaign_id"].fillna("<none>")):
        assert group["lead_count"].sum() == by_campaign.loc[campaign, "lead_count"]
        assert group["sql_count"].sum() == by_campaign.loc[campaign, "sql_count"]
        # the campaign average is the lead-weighted mean of its members' rates
        weighted = (group["rate"] * group["lead_count"]).sum() / group["lead_count"].sum()
        assert group["campaign_rate"].iloc[0] == pytest.approx(weighted)


@settings(max_examples=40, deadline=None)
@given(funnels(), st.floats(0.001, 0.5), st.floats(0.0, 0.5))
def test_alerts_follow_their_definition(
    data: dict[str, pd.DataFrame], alpha: float, min_effect: float
) -> None:
    out = campaign_alerts(
        data["leads"],
        data["opportunities"],
        campaigns=data["campaigns"],
        alpha=alpha,
        min_effect=min_effect,
        as_of=AS_OF,
    )
    critical = NormalDist().inv_cdf(1 - alpha / 2)
    for row in out.itertuples(index=False):
        z, p = two_proportion_z_test(
            row.previous_numerator, row.previous_denominator, row.numerator, row.denominator
        )
        if math.isnan(z):
            assert pd.isna(row.z)
            assert not row.alert
            continue
        assert row.z == pytest.approx(z)
        assert row.p_value == pytest.approx(p, abs=1e-6)
        expected = abs(z) > critical and abs(row.change) >= min_effect - 1e-12
        assert row.alert == expected


@settings(max_examples=10, deadline=None)
@given(funnels())
def test_polars_agrees_on_random_data(data: dict[str, pd.DataFrame]) -> None:
    lazy = {k: pl.from_pandas(v).lazy() for k, v in data.items()}
    for name, call in CALLS.items():
        assert normalise(call(lazy)) == normalise(call(data)), name
