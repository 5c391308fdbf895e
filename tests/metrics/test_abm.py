"""ABM metrics: hand-computed values on a tiny dataset, edges, engines and properties."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import Account, Activity, ConfigError, Lead, Opportunity, SchemaError
from pipelinekit.metrics.abm import (
    COVERAGE_METRICS,
    VOLUME_METRICS,
    abm_before_after,
    abm_summary,
    target_account_panel,
)
from pipelinekit.metrics.bdr import (
    bdr_kpis,
    nurturing_kpis,
)
from pipelinekit.rates import ZeroDenominatorError
from pipelinekit.reporting.sections import build_section
from pipelinekit.schema import from_objects

AS_OF = date(2025, 4, 30)
NAN = math.nan


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _act(
    aid: str,
    lead: str | None,
    when: str,
    channel: str,
    outcome: str,
    *,
    account: str | None = None,
    direction: str = "outbound",
    owner: str | None = None,
    key_person: bool = False,
) -> Activity:
    return Activity(
        activity_id=aid,
        lead_id=lead,
        account_id=account,
        owner_id=owner,
        occurred_at=t(when),
        channel=channel,
        direction=direction,
        outcome=outcome,
        is_key_person=key_person,
    )


def tiny() -> dict[str, pd.DataFrame]:
    """Targets T1 (tier 1), T2 (tier 2, no lead by as_of), T3 (no tier, nothing at all)."""
    accounts = [
        Account(account_id="T1", name="Target One", is_target=True, target_tier="1"),
        Account(account_id="T2", name="Target Two", is_target=True, target_tier="2"),
        Account(account_id="T3", name="Target Three", is_target=True),
        Account(account_id="N1", name="Other"),
    ]
    leads = [
        Lead(
            lead_id="L1",
            account_id="T1",
            owner_id="R1",
            created_at=t("2025-03-10T10:00"),
            origin="inbound",
        ),
        Lead(
            lead_id="L2",
            account_id="T1",
            owner_id="R2",
            created_at=t("2025-04-02T10:00"),
            origin="inbound",
        ),
        Lead(
            lead_id="L3",
            account_id="N1",
            owner_id="R1",
            created_at=t("2025-04-03T10:00"),
            origin="outbound",
        ),
        Lead(lead_id="L4", created_at=t("2025-04-05T10:00"), origin="inbound"),  # no account
        Lead(
            lead_id="L5", account_id="T2", created_at=t("2025-05-02T10:00"), origin="outbound"
        ),  # after as_of
        Lead(
            lead_id="L7",
            account_id="T1",
            owner_id="R2",
            created_at=t("2025-04-20T10:00"),
            origin="inbound",
        ),
        Lead(lead_id="L8", account_id="T1", created_at=t("2025-04-22T10:00"), origin="inbound"),
    ]
    activities = [
        _act("a1", "L1", "2025-03-11T10:00", "call", "connected", owner="R1", key_person=True),
        _act("a2", "L1", "2025-04-01T10:00", "email", "sent", owner="R1"),
        # account-level BDR calls on T2, no lead
        _act("a3", None, "2025-04-10T10:00", "call", "no_answer", account="T2", owner="R3"),
        _act(
            "a4",
            None,
            "2025-04-11T10:00",
            "call",
            "connected",
            account="T2",
            owner="R3",
            key_person=True,
        ),
        _act("a5", "L3", "2025-04-04T10:00", "call", "connected", owner="R1", key_person=True),
        _act("a6", "L2", "2025-04-06T10:00", "email", "replied", direction="inbound"),
        _act("a7", "L4", "2025-04-06T11:00", "call", "no_answer", owner="R1"),
        # on L5 (created after as_of, account T2): the activity itself is before as_of
        _act("a8", "L5", "2025-04-20T10:00", "call", "busy", owner="R3"),
        _act("a9", "L1", "2025-05-03T10:00", "call", "connected", owner="R1"),  # after as_of
        _act("a10", "L7", "2025-04-21T10:00", "email", "sent", owner="R2"),
    ]
    opportunities = [
        Opportunity(
            opportunity_id="O1",
            lead_id="L1",
            created_at=t("2025-03-20T10:00"),
            validated_at=t("2025-03-25T10:00"),
            closed_at=t("2025-04-10T10:00"),
            is_won=True,
            amount=1_000_000.0,
        ),
        # no lead: the account comes from the opportunity
        Opportunity(
            opportunity_id="O2",
            account_id="T2",
            created_at=t("2025-04-12T10:00"),
            validated_at=t("2025-04-15T10:00"),
            closed_at=t("2025-05-05T10:00"),
            is_won=True,
            amount=2_000_000.0,
        ),  # won after as_of
        Opportunity(
            opportunity_id="O3",
            lead_id="L3",
            created_at=t("2025-04-08T10:00"),
            validated_at=t("2025-04-09T10:00"),
            closed_at=t("2025-04-20T10:00"),
            is_won=True,
            amount=3_000_000.0,
        ),
        Opportunity(opportunity_id="O4", lead_id="L4", created_at=t("2025-04-09T10:00")),
        # its own account (N1) wins over its lead's (T1)
        Opportunity(
            opportunity_id="O5",
            lead_id="L2",
            account_id="N1",
            created_at=t("2025-04-15T10:00"),
            closed_at=t("2025-04-25T10:00"),
            is_won=False,
            amount=500_000.0,
        ),
        Opportunity(opportunity_id="O6", lead_id="L1", created_at=t("2025-05-10T10:00")),
    ]
    return {
        "accounts": from_objects(accounts, Account),
        "leads": from_objects(leads, Lead),
        "activities": from_objects(activities, Activity),
        "opportunities": from_objects(opportunities, Opportunity),
    }


def four(data: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    return data["accounts"], data["leads"], data["activities"], data["opportunities"]


def pairs(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {row.metric: (row.numerator, row.denominator) for row in frame.itertuples(index=False)}


# metric -> (targets, all) as of 2025-04-30
EXPECTED_SUMMARY = {
    "leads": (4, 6),  # T1: L1 L2 L7 L8; all: + L3 (N1), L4 (no account); L5 after as_of
    "touched_accounts": (2, 3),  # T1 (a1 a2 a10), T2 (a3 a4 a8), N1 (a5); a7 has no account
    "connects": (3, 4),  # a1 (T1), a4 (T2), a6 inbound reply (T1); + a5 (N1)
    "key_person_connects": (2, 3),  # a1, a4; + a5 (N1)
    "sqls": (2, 5),  # O1 (T1 via L1), O2 (T2, no lead); + O3 O5 (N1), O4 (none); O6 after
    "valid_opportunities": (2, 3),  # O1, O2; + O3
    "won": (1, 2),  # O1; + O3 (O2 closes after as_of, O5 lost)
    "won_amount": (1_000_000, 4_000_000),  # O1; + O3 3M
    "lead_coverage": (1, 3),  # T1 of T1 T2 T3 (T2's only lead L5 is after as_of)
    "touch_coverage": (2, 3),  # T1, T2
    "sql_coverage": (2, 3),  # T1 (O1), T2 (O2)
}


def test_metric_order() -> None:
    assert tuple(EXPECTED_SUMMARY) == (*VOLUME_METRICS, *COVERAGE_METRICS)


def test_abm_summary_by_hand() -> None:
    out = abm_summary(*four(tiny()), as_of=AS_OF)
    assert list(out.columns) == ["metric", "numerator", "denominator", "rate", "ci_low", "ci_high"]
    assert pairs(out) == EXPECTED_SUMMARY
    assert out["rate"].tolist() == pytest.approx(
        [4 / 6, 2 / 3, 3 / 4, 2 / 3, 2 / 5, 2 / 3, 1 / 2, 0.25, 1 / 3, 2 / 3, 2 / 3]
    )
    amount = out[out["metric"] == "won_amount"].iloc[0]
    assert math.isnan(amount["ci_low"])
    assert math.isnan(amount["ci_high"])
    leads = out[out["metric"] == "leads"].iloc[0]
    assert leads["ci_low"] < 4 / 6 < leads["ci_high"]


def test_abm_summary_by_tier_by_hand() -> None:
    out = abm_summary(*four(tiny()), by="target_tier", as_of=AS_OF)
    assert list(out.columns)[:2] == ["target_tier", "metric"]
    assert out["target_tier"].iloc[:11].tolist() == ["1"] * 11
    assert out["target_tier"].iloc[11:22].tolist() == ["2"] * 11
    assert out["target_tier"].iloc[22:].isna().all()  # T3 has no tier: its own block, last
    tier1 = pairs(out.iloc[:11])
    tier2 = pairs(out.iloc[11:22])
    untiered = pairs(out.iloc[22:])
    assert tier1 == {
        "leads": (4, 6),
        "touched_accounts": (1, 3),
        "connects": (2, 4),  # a1 a6
        "key_person_connects": (1, 3),
        "sqls": (1, 5),
        "valid_opportunities": (1, 3),
        "won": (1, 2),
        "won_amount": (1e6, 4e6),
        "lead_coverage": (1, 1),
        "touch_coverage": (1, 1),
        "sql_coverage": (1, 1),
    }
    assert tier2 == {
        "leads": (0, 6),
        "touched_accounts": (1, 3),
        "connects": (1, 4),  # a4
        "key_person_connects": (1, 3),
        "sqls": (1, 5),
        "valid_opportunities": (1, 3),
        "won": (0, 2),
        "won_amount": (0, 4e6),
        "lead_coverage": (0, 1),
        "touch_coverage": (1, 1),
        "sql_coverage": (1, 1),
    }
    # the target without anything appears with zeros
    assert all(num == 0 for num, _ in untiered.values())
    assert untiered["lead_coverage"] == (0, 1)


def test_abm_summary_by_month_by_hand() -> None:
    out = abm_summary(*four(tiny()), freq="month", as_of=AS_OF)
    assert list(out.columns)[:2] == ["period", "metric"]
    assert sorted(set(out["period"])) == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")]
    march = pairs(out[out["period"] == pd.Timestamp("2025-03-01")])
    april = pairs(out[out["period"] == pd.Timestamp("2025-04-01")])
    assert march == {
        "leads": (1, 1),
        "touched_accounts": (1, 1),
        "connects": (1, 1),  # L1, a1
        "key_person_connects": (1, 1),
        "sqls": (1, 1),
        "valid_opportunities": (1, 1),  # O1
        "won": (0, 0),
        "won_amount": (0, 0),  # O1 closes in April
        "lead_coverage": (1, 3),
        "touch_coverage": (1, 3),
        "sql_coverage": (1, 3),
    }
    assert april == {
        "leads": (3, 5),  # L2 L7 L8 of L2 L3 L4 L7 L8
        "touched_accounts": (2, 3),
        "connects": (2, 3),  # a4 a6 of a4 a5 a6
        "key_person_connects": (1, 2),  # a4 of a4 a5
        "sqls": (1, 4),  # O2 of O2 O3 O4 O5
        "valid_opportunities": (1, 2),  # O2 of O2 O3
        "won": (1, 2),
        "won_amount": (1e6, 4e6),  # O1 and O3 closed in April
        "lead_coverage": (1, 3),
        "touch_coverage": (2, 3),
        "sql_coverage": (1, 3),
    }
    won_march = out[(out["metric"] == "won") & (out["period"] == pd.Timestamp("2025-03-01"))]
    assert math.isnan(won_march["rate"].iloc[0])  # 0 / 0 -> NaN by default


def test_zero_division_policies() -> None:
    data = four(tiny())
    zero = abm_summary(*data, freq="month", as_of=AS_OF, zero_division="0")
    first = zero[(zero["metric"] == "won") & (zero["period"] == pd.Timestamp("2025-03-01"))]
    assert first["rate"].iloc[0] == 0.0
    assert math.isnan(first["ci_low"].iloc[0])  # no evidence either way
    with pytest.raises(ZeroDenominatorError):
        abm_summary(*data, freq="month", as_of=AS_OF, zero_division="raise")
    abm_summary(*data, as_of=AS_OF, zero_division="raise")  # no zero denominator here


def test_target_account_panel_by_hand() -> None:
    out = target_account_panel(*four(tiny()), as_of=AS_OF)
    assert out["account_id"].tolist() == ["T1", "T2", "T3"]
    assert out["target_tier"].tolist()[:2] == ["1", "2"]
    assert pd.isna(out["target_tier"].iloc[2])
    rows = out.set_index("account_id")
    # T1: leads L1 L2 L7 L8; touches a1 a2 a10; connects a1 a6; key person a1; SQL O1 (O5 is
    # N1's by its own account_id); O1 valid and won (1M)
    assert rows.loc["T1"].drop(["name", "target_tier"]).tolist() == [4, 3, 2, 1, 1, 1, 1, 1e6]
    # T2: no lead by as_of; touches a3 a4 (no lead) and a8 (via L5); connect a4; SQL O2
    # (no lead) valid, won only after as_of
    assert rows.loc["T2"].drop(["name", "target_tier"]).tolist() == [0, 3, 1, 1, 1, 1, 0, 0.0]
    # T3: nothing at all, still listed with zeros
    assert rows.loc["T3"].drop(["name", "target_tier"]).tolist() == [0] * 7 + [0.0]
    assert pd.api.types.is_integer_dtype(out["lead_count"])
    assert out["won_amount"].dtype == "float64"


def test_bdr_kpis_by_hand() -> None:
    data = four(tiny())
    total = bdr_kpis(*data, as_of=AS_OF)
    # outbound calls to targets: a1 (T1), a3 a4 (T2, no lead), a8 (T2 via L5) -> 4 on 2
    # accounts; key-person connects a1 a4; appointments = SQLs of targets O1 O2
    assert total.to_dict("records") == [
        {
            "call_count": 4,
            "called_account_count": 2,
            "key_person_connect_count": 2,
            "appointment_count": 2,
        }
    ]
    owners = bdr_kpis(*data, by="owner_id", as_of=AS_OF)
    assert owners["owner_id"].tolist()[:2] == ["R1", "R3"]
    assert pd.isna(owners["owner_id"][2])
    assert owners.drop(columns="owner_id").values.tolist() == [
        [1, 1, 1, 1],  # R1: a1; O1 via its lead L1 (owner R1)
        [3, 1, 1, 0],  # R3: a3 a4 a8 on T2; a4 key person
        [0, 0, 0, 1],  # O2 has no lead, so no IS owner
    ]
    monthly = bdr_kpis(*data, freq="month", as_of=AS_OF)
    assert monthly["period"].tolist() == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")]
    assert monthly["call_count"].tolist() == [1, 3]  # a1 | a3 a4 a8
    assert monthly["appointment_count"].tolist() == [1, 1]  # O1 | O2


def test_nurturing_kpis_by_hand() -> None:
    data = four(tiny())
    out = nurturing_kpis(*data, as_of=AS_OF)
    assert out[["metric", "numerator", "denominator"]].values.tolist() == [
        # target leads L1 L2 L7 L8: approached L1 (touch), L2 (its SQL O5 implies it), L7
        # (touch); appointments L1 L2
        ["appointment_rate", 2, 3],
        ["sql_to_valid_rate", 2, 2],  # target SQLs O1 O2 are both valid (案件化率)
        ["valid_to_won_rate", 1, 2],  # O1 won; O2 closes after as_of (成約率)
    ]
    tiers = nurturing_kpis(*data, by="target_tier", as_of=AS_OF)
    assert tiers[["numerator", "denominator"]].values.tolist() == [
        [2, 3],
        [1, 1],
        [1, 1],  # tier 1 (T1)
        [0, 0],
        [1, 1],
        [0, 1],  # tier 2 (T2: no lead by as_of, O2 valid not won)
        [0, 0],
        [0, 0],
        [0, 0],  # T3 without a tier
    ]
    assert tiers["rate"].isna().tolist() == [False] * 3 + [True, False, False] + [True] * 3


def test_abm_before_after_by_hand() -> None:
    data = tiny()
    out = abm_before_after(
        data["leads"],
        data["activities"],
        data["opportunities"],
        target_accounts=["T1", "T2"],
        start_date="2025-04-01",
        window_days=30,
        as_of=AS_OF,
    )
    # before = [03-02, 04-01), after = [04-01, 05-01)
    assert out["window_days"].tolist() == [30] * 11
    got = {r.metric: (r.before, r.after) for r in out.itertuples(index=False)}
    assert got == {
        "leads": (1, 3),  # L1 | L2 L7 L8
        "touched_accounts": (1, 2),  # T1 | T1 T2
        "connects": (1, 2),  # a1 | a4 a6
        "key_person_connects": (1, 1),  # a1 | a4
        "sqls": (1, 1),  # O1 | O2 (O5 belongs to N1)
        "valid_opportunities": (1, 1),  # O1 03-25 | O2 04-15
        "won": (0, 1),  # O1 closed 04-10
        "won_amount": (0, 1e6),
        "lead_coverage": (0.5, 0.5),  # T1 of 2 | T1 of 2
        "touch_coverage": (0.5, 1.0),
        "sql_coverage": (0.5, 0.5),  # T1 | T2
    }
    rows = out.set_index("metric")
    assert rows.loc["leads", "difference"] == 2
    assert rows.loc["leads", "lift"] == 3
    assert pd.isna(rows.loc["won", "lift"])  # before = 0


def test_abm_before_after_shortens_both_windows_at_as_of() -> None:
    data = tiny()
    out = abm_before_after(
        data["leads"],
        data["activities"],
        data["opportunities"],
        target_accounts=["T1"],
        start_date=date(2025, 4, 1),
        as_of=date(2025, 4, 15),
    )
    # only 15 days after the start are observed: before = [03-17, 04-01), after = [04-01, 04-16)
    rows = out.set_index("metric")
    assert rows["window_days"].eq(15).all()
    assert (rows.loc["leads", "before"], rows.loc["leads", "after"]) == (0, 1)  # L1 03-10 out
    assert (rows.loc["sqls", "before"], rows.loc["sqls", "after"]) == (1, 0)  # O1 03-20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_accounts": []}, "target_accounts"),
        ({"target_accounts": "T1"}, "target_accounts"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": 1.5}, "window_days"),
        ({"start_date": "2025-05-01"}, "start_date"),  # after as_of
        ({"start_date": "soon"}, "start_date"),
    ],
)
def test_abm_before_after_validates(kwargs: dict[str, Any], message: str) -> None:
    data = tiny()
    options: dict[str, Any] = {
        "target_accounts": ["T1"],
        "start_date": "2025-04-01",
        "as_of": AS_OF,
        **kwargs,
    }
    with pytest.raises(ConfigError, match=message):
        abm_before_after(data["leads"], data["activities"], data["opportunities"], **options)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"freq": "fortnight"}, "freq"),
        ({"by": "industry"}, "by"),
        ({"by": ["target_tier", "industry"]}, "by"),
        ({"zero_division": "inf"}, "zero_division"),
        ({"as_of": "someday"}, "as_of"),
    ],
)
def test_abm_summary_validates_parameters(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"as_of": AS_OF, **kwargs}
    with pytest.raises(ConfigError, match=message):
        abm_summary(*four(tiny()), **options)


def test_deprecated_flags_still_group_and_warn() -> None:
    data = four(tiny())
    for function, flag, column in (
        (abm_summary, "by_tier", "target_tier"),
        (nurturing_kpis, "by_tier", "target_tier"),
        (bdr_kpis, "by_owner", "owner_id"),
    ):
        with pytest.warns(DeprecationWarning, match=f"{flag}= is deprecated"):
            old = function(*data, as_of=AS_OF, **{flag: True})
        new = function(*data, as_of=AS_OF, by=column)
        pd.testing.assert_frame_equal(old, new)
        assert column in new.columns
        assert column not in function(*data, as_of=AS_OF).columns


def test_missing_required_columns_raise_schema_error() -> None:
    accounts, leads, acts, opps = four(tiny())
    with pytest.raises(SchemaError, match="is_target"):
        abm_summary(accounts.drop(columns="is_target"), leads, acts, opps, as_of=AS_OF)
    with pytest.raises(SchemaError, match="channel"):
        bdr_kpis(accounts, leads, acts.drop(columns="channel"), opps, as_of=AS_OF)


def test_absent_optional_columns_count_as_missing() -> None:
    accounts, leads, acts, opps = four(tiny())
    out = abm_summary(
        accounts,
        leads,
        acts.drop(columns=["is_key_person", "account_id"]),
        opps.drop(columns="account_id"),
        as_of=AS_OF,
    )
    got = pairs(out)
    assert got["key_person_connects"] == (0, 0)
    # without activities.account_id a3 a4 (no lead) have no account: T2 touched via a8 only
    assert got["touched_accounts"] == (2, 3)
    # without opportunities.account_id O2 has no account and O5 follows its lead L2 to T1
    assert got["sqls"] == (2, 5)  # O1 O5


# ------------------------------------------------------------------ engines


def normalise(frame: Any) -> list[dict[str, Any]]:
    native = nw.from_native(frame)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    records = native.to_pandas().astype(object).to_dict(orient="records")
    out = []
    for rec in records:
        clean = {}
        for key, value in rec.items():
            if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
                value = None
            elif isinstance(value, float):
                value = round(value, 9)
            elif isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            clean[key] = value
        out.append(clean)
    return out


CALLS = {
    "abm_summary": lambda d: abm_summary(*four(d), freq="month", by="target_tier", as_of=AS_OF),
    "target_account_panel": lambda d: target_account_panel(*four(d), as_of=AS_OF),
    "bdr_kpis": lambda d: bdr_kpis(*four(d), by="owner_id", freq="week", as_of=AS_OF),
    "nurturing_kpis": lambda d: nurturing_kpis(*four(d), freq="month", as_of=AS_OF),
    "abm_before_after": lambda d: abm_before_after(
        d["leads"],
        d["activities"],
        d["opportunities"],
        target_accounts=["T1", "T2"],
        start_date="2025-04-01",
        window_days=20,
        as_of=AS_OF,
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_polars_eager_and_lazy_agree_with_pandas(name: str) -> None:
    data = tiny()
    expected = CALLS[name](data)
    assert isinstance(expected, pd.DataFrame)
    eager = CALLS[name]({k: pl.from_pandas(v) for k, v in data.items()})
    lazy = CALLS[name]({k: pl.from_pandas(v).lazy() for k, v in data.items()})
    assert isinstance(eager, pl.DataFrame)
    assert isinstance(lazy, pl.LazyFrame)
    assert normalise(eager) == normalise(expected)
    assert normalise(lazy) == normalise(expected)


def to_duckdb(data: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The tables as DuckDB relations on one in-memory connection."""
    import duckdb

    con = duckdb.connect()
    return {k: con.from_arrow(pl.from_pandas(v).to_arrow()) for k, v in data.items()}


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


@pytest.mark.parametrize("name", sorted(CALLS))
def test_row_order_does_not_matter(name: str) -> None:
    data = tiny()
    shuffled = {
        k: v.sample(frac=1.0, random_state=7).reset_index(drop=True) for k, v in data.items()
    }
    assert normalise(CALLS[name](shuffled)) == normalise(CALLS[name](data))


def test_report_section_on_the_tiny_dataset() -> None:
    from pipelinekit import Dataset

    section = build_section("abm", Dataset(**tiny()), AS_OF)
    assert section.key == "abm"
    assert pairs(section.tables["targets"]) == EXPECTED_SUMMARY
    assert section.tables["accounts"]["account_id"].tolist() == ["T1", "T2", "T3"]
    assert "3 target accounts; 2 without any lead" in section.note_texts()[0]
    for frame in section.tables.values():
        assert isinstance(frame, pd.DataFrame)


def test_report_section_tables_equal_the_public_calls() -> None:
    # the section prepares the tables once and computes five tables from them; each
    # must be exactly what the public function returns
    from pipelinekit import Dataset
    from pipelinekit.sample import generate_sample

    ds = Dataset(**generate_sample(leads=400, seed=3))
    day = date(2025, 12, 31)
    section = build_section("abm", ds, day)
    four = (ds.accounts, ds.leads, ds.activities, ds.opportunities)
    opts = {"as_of": day, "tz": ds.tz}
    pd.testing.assert_frame_equal(section.tables["targets"], abm_summary(*four, **opts))
    nurturing = nurturing_kpis(*four, **opts)
    pd.testing.assert_frame_equal(section.tables["nurturing"], nurturing)
    panel = target_account_panel(*four, **opts)
    top = section.tables["accounts"]
    assert len(top) == min(20, len(panel))
    got = top.set_index("account_id").sort_index()
    want = panel.set_index("account_id").loc[got.index]
    pd.testing.assert_frame_equal(got, want)
    bdr = bdr_kpis(*four, freq="month", **opts).tail(12).reset_index(drop=True)
    shown = section.tables["bdr"]
    assert shown[list(bdr.columns[1:])].equals(bdr[list(bdr.columns[1:])])
    monthly = abm_summary(*four, freq="month", **opts)
    leads_per_month = monthly[monthly["metric"] == "leads"].tail(len(section.tables["monthly"]))
    assert section.tables["monthly"].iloc[:, 1].tolist() == leads_per_month["numerator"].tolist()


def test_report_section_without_data() -> None:
    from pipelinekit import Dataset
    from pipelinekit.schema import empty_frame

    section = build_section("abm", Dataset(leads=empty_frame("leads")), AS_OF)
    assert section.tables["accounts"].empty
    assert section.tables["monthly"].empty
    assert section.tables["targets"]["denominator"].eq(0).all()


# ---------------------------------------------------------------- properties

START = datetime(2025, 3, 1)
PROPERTY_AS_OF = date(2025, 4, 15)
_CHANNEL_OUTCOMES = [
    ("call", "connected"),
    ("call", "no_answer"),
    ("email", "sent"),
    ("email", "replied"),
    ("meeting", "held"),
    ("meeting", "no_show"),
    ("web", "page_view"),
]


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    n_accounts = draw(st.integers(0, 5))
    account_ids = [f"A{i}" for i in range(n_accounts)]
    maybe_account = st.sampled_from([None, *account_ids, "A9"])  # A9: not in accounts
    accounts = [
        Account(
            account_id=a,
            is_target=draw(st.booleans()),
            target_tier=draw(st.sampled_from([None, "1", "2"])),
        )
        for a in account_ids
    ]
    day = st.integers(0, 70)
    n_leads = draw(st.integers(0, 8))
    lead_ids = [f"L{i}" for i in range(n_leads)]
    leads = [
        Lead(
            lead_id=lid,
            account_id=draw(maybe_account),
            created_at=START + timedelta(days=draw(day)),
            origin="inbound",
            owner_id=draw(st.sampled_from([None, "R1", "R2"])),
        )
        for lid in lead_ids
    ]
    maybe_lead = st.sampled_from([None, *lead_ids])
    activities = []
    for i in range(draw(st.integers(0, 12))):
        lead, account = draw(maybe_lead), draw(maybe_account)
        if lead is None and account is None:
            account = "A0"
        channel, outcome = draw(st.sampled_from(_CHANNEL_OUTCOMES))
        activities.append(
            Activity(
                activity_id=f"a{i}",
                lead_id=lead,
                account_id=account,
                owner_id=draw(st.sampled_from([None, "R1", "R3"])),
                occurred_at=START + timedelta(days=draw(day), hours=draw(st.integers(0, 23))),
                channel=channel,
                direction=draw(st.sampled_from(["outbound", "inbound"])),
                outcome=outcome,
                is_key_person=draw(st.booleans()),
            )
        )
    opportunities = []
    for i in range(draw(st.integers(0, 6))):
        created = START + timedelta(days=draw(day))
        validated = draw(st.none() | st.integers(0, 30))
        closed = draw(st.none() | st.integers(0, 40))
        won = draw(st.none() | st.booleans()) if closed is not None else None
        opportunities.append(
            Opportunity(
                opportunity_id=f"O{i}",
                lead_id=draw(maybe_lead),
                account_id=draw(maybe_account),
                created_at=created,
                validated_at=None if validated is None else created + timedelta(days=validated),
                closed_at=None if closed is None else created + timedelta(days=closed),
                is_won=won,
                amount=float(draw(st.integers(0, 5))) * 1e5,
            )
        )
    return {
        "accounts": from_objects(accounts, Account),
        "leads": from_objects(leads, Lead),
        "activities": from_objects(activities, Activity),
        "opportunities": from_objects(opportunities, Opportunity),
    }


def reference_summary(data: dict[str, pd.DataFrame], as_of: date) -> dict[str, tuple[float, float]]:
    """Plain-Python abm_summary (freq=None, no tiers) written from the definitions."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {
                k: (None if (v is None or v is pd.NaT or v is pd.NA or v != v) else v)
                for k, v in rec.items()
            }
            for rec in frame.astype(object).to_dict(orient="records")
        ]

    targets = {a["account_id"] for a in rows(data["accounts"]) if a["is_target"]}
    all_leads = rows(data["leads"])
    lead_account = {lead["lead_id"]: lead["account_id"] for lead in all_leads}
    leads = [lead for lead in all_leads if lead["created_at"] < cutoff]
    acts = [a for a in rows(data["activities"]) if a["occurred_at"] < cutoff]
    opps = [o for o in rows(data["opportunities"]) if o["created_at"] < cutoff]

    def account(row: dict[str, Any]) -> Any:
        return (
            row["account_id"] if row["account_id"] is not None else lead_account.get(row["lead_id"])
        )

    def connect(a: dict[str, Any]) -> bool:
        return (a["channel"], a["outcome"]) in {
            ("call", "connected"),
            ("email", "replied"),
            ("meeting", "held"),
        }

    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def add(metric: str, acc: Any, value: float = 1.0) -> None:
        counts[metric][1] += value
        if acc in targets:
            counts[metric][0] += value

    for lead in leads:
        add("leads", lead["account_id"])
    touched = {
        account(a)
        for a in acts
        if a["direction"] == "outbound" and a["channel"] in ("call", "email", "meeting")
    }
    for acc in touched - {None}:
        add("touched_accounts", acc)
    for a in acts:
        if connect(a):
            add("connects", account(a))
            if a["is_key_person"]:
                add("key_person_connects", account(a))
    for o in opps:
        add("sqls", account(o))
        if o["validated_at"] is not None and o["validated_at"] < cutoff:
            add("valid_opportunities", account(o))
        if o["is_won"] is True and o["closed_at"] < cutoff:
            add("won", account(o))
            add("won_amount", account(o), o["amount"] or 0.0)
    n_targets = float(len(targets))
    covered = {
        "lead_coverage": {lead["account_id"] for lead in leads},
        "touch_coverage": touched,
        "sql_coverage": {account(o) for o in opps},
    }
    out = {m: (counts[m][0], counts[m][1]) for m in VOLUME_METRICS}
    for metric, accounts in covered.items():
        out[metric] = (float(len(accounts & targets)), n_targets)
    return out


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_summary_matches_reference_and_shares_are_bounded(data: dict[str, pd.DataFrame]) -> None:
    out = abm_summary(*four(data), as_of=PROPERTY_AS_OF)
    got, expected = pairs(out), reference_summary(data, PROPERTY_AS_OF)
    assert list(got) == list(expected)
    for metric, value in expected.items():
        assert got[metric] == pytest.approx(value), metric
    assert (out["numerator"] <= out["denominator"]).all()  # target counts <= totals
    rates = out["rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    assert out["rate"].isna().eq(out["denominator"] == 0).all()


@settings(max_examples=20, deadline=None)
@given(datasets(), st.sampled_from(["week", "month"]))
def test_periods_and_tiers_add_up(data: dict[str, pd.DataFrame], freq: str) -> None:
    total = pairs(abm_summary(*four(data), as_of=PROPERTY_AS_OF))
    tiers = abm_summary(*four(data), by="target_tier", as_of=PROPERTY_AS_OF)
    periods = abm_summary(*four(data), freq=freq, as_of=PROPERTY_AS_OF)  # type: ignore[arg-type]
    additive = (
        "leads",
        "connects",
        "key_person_connects",
        "sqls",
        "valid_opportunities",
        "won",
        "won_amount",
    )
    for metric in additive:
        in_tiers = tiers.loc[tiers["metric"] == metric, "numerator"].sum()
        in_periods = periods.loc[periods["metric"] == metric, "numerator"].sum()
        assert in_tiers == pytest.approx(total[metric][0])
        assert in_periods == pytest.approx(total[metric][0])
        assert periods.loc[periods["metric"] == metric, "denominator"].sum() == pytest.approx(
            total[metric][1]
        )
    coverage = tiers[tiers["metric"] == "lead_coverage"]
    assert coverage["denominator"].sum() == total["lead_coverage"][1]  # every target once
    assert (periods["numerator"] <= periods["denominator"]).all()


@settings(max_examples=10, deadline=None)
@given(datasets())
def test_polars_agrees_on_random_data(data: dict[str, pd.DataFrame]) -> None:
    lazy = {k: pl.from_pandas(v).lazy() for k, v in data.items()}
    for name in ("abm_summary", "bdr_kpis", "nurturing_kpis", "target_account_panel"):
        assert normalise(CALLS[name](lazy)) == normalise(CALLS[name](data)), name


@settings(max_examples=20, deadline=None)
@given(datasets(), st.randoms(use_true_random=False))
def test_shuffled_rows_give_the_same_panel(
    data: dict[str, pd.DataFrame], rnd: random.Random
) -> None:
    shuffled = {
        k: v.sample(frac=1.0, random_state=rnd.randrange(2**31)).reset_index(drop=True)
        for k, v in data.items()
    }
    for name in ("target_account_panel", "bdr_kpis"):
        assert normalise(CALLS[name](shuffled)) == normalise(CALLS[name](data))
