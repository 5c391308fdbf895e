"""Every default and null rule of DESIGN section 3, pinned: a change fails here first.

Behaviour tests for the rules a signature cannot show (the capacity band of a rep
without its own capacity, a missing ``is_target``), then the documented defaults of
each public function checked against the values DESIGN states.
"""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit.metrics.cadence import Cadence

AS_OF = "2025-04-30"


def _opportunities(owner: str, count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [f"O{i}" for i in range(count)],
            "owner_id": owner,
            "created_at": pd.Timestamp("2025-04-10 10:00"),
        }
    )


@pytest.mark.parametrize(
    ("segment", "capacity"), [("1-30", 60), ("31-299", 45), ("300-999", 40), ("1000+", 30)]
)
def test_capacity_band_of_a_rep_without_its_own_capacity(segment: str, capacity: int) -> None:
    reps = pd.DataFrame(
        {
            "rep_id": ["R1"],
            "role": ["fs"],
            "segment": [segment],
            "monthly_sql_capacity": [float("nan")],
        }
    )
    at = pk.sql_allocation(reps, _opportunities("R1", capacity), as_of=AS_OF)
    row = at[at["rep_id"] == "R1"].iloc[-1]
    assert row["capacity"] == capacity
    assert row["status"] != "over"
    over = pk.sql_allocation(reps, _opportunities("R1", capacity + 1), as_of=AS_OF)
    assert over[over["rep_id"] == "R1"].iloc[-1]["status"] == "over"


def test_own_capacity_wins_over_the_band() -> None:
    reps = pd.DataFrame(
        {"rep_id": ["R1"], "role": ["fs"], "segment": ["31-299"], "monthly_sql_capacity": [3.0]}
    )
    at = pk.sql_allocation(reps, _opportunities("R1", 4), as_of=AS_OF)
    assert at.iloc[-1]["capacity"] == 3
    assert at.iloc[-1]["status"] == "over"


def test_a_missing_is_target_is_not_a_target() -> None:
    accounts = pd.DataFrame(
        {"account_id": ["A1", "A2", "A3"], "is_target": pd.array([True, None, False], "boolean")}
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "account_id": ["A1", "A2", "A3"],
            "created_at": pd.to_datetime(["2025-04-01"] * 3),
        }
    )
    acts = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype=object),
            "account_id": pd.Series([], dtype=object),
            "channel": pd.Series([], dtype=object),
            "direction": pd.Series([], dtype=object),
            "outcome": pd.Series([], dtype=object),
            "is_key_person": pd.Series([], dtype=bool),
            "occurred_at": pd.Series([], dtype="datetime64[ns]"),
        }
    )
    opps = pd.DataFrame({"lead_id": ["L2"], "created_at": pd.to_datetime(["2025-04-05"])})
    out = pk.abm_summary(accounts, leads, acts, opps, as_of=AS_OF).set_index("metric")
    # one target account (A1): its lead is 1 of 3, the SQL of A2 is not a target's
    assert (out.loc["leads", "numerator"], out.loc["leads", "denominator"]) == (1, 3)
    assert out.loc["sqls", "numerator"] == 0
    assert out.loc["lead_coverage", "denominator"] == 1


def _default(function: Any, name: str) -> Any:
    return inspect.signature(function).parameters[name].default


def test_documented_defaults() -> None:
    assert pk.metrics.allocation.DEFAULT_CAPACITY_BANDS == {
        "1-30": 60,
        "31-299": 45,
        "300-999": 40,
        "1000+": 30,
    }
    cadence = Cadence()
    assert (cadence.calls, cadence.mails, cadence.window_days) == (5, 2, 14)
    assert cadence.excluded_statuses == ()
    assert (_default(pk.early_follow_up, "touches"), _default(pk.early_follow_up, "days")) == (5, 7)
    assert _default(pk.stale_opportunities, "days") == 30
    assert _default(pk.focus_due, "horizon_days") == 60
    assert (_default(pk.hot_leads, "page_views"), _default(pk.hot_leads, "lookback_days")) == (
        5,
        14,
    )
    assert _default(pk.win_rate, "weight") == "count"


def test_every_rate_defaults_to_nan_on_zero_and_a_95_percent_interval() -> None:
    checked = 0
    for name in pk.__all__:
        function = getattr(pk, name)
        if not inspect.isfunction(function):
            continue
        parameters = inspect.signature(function).parameters
        if "zero_division" in parameters:
            assert parameters["zero_division"].default == "nan", name
            checked += 1
        if "confidence" in parameters:
            assert parameters["confidence"].default == 0.95, name
    assert checked > 10
    assert pk.rate(0, 0).value != pk.rate(0, 0).value  # NaN
    low, high = pk.wilson_interval(12, 40)
    assert (round(low, 4), round(high, 4)) == (0.1807, 0.4543)  # p = 0.3, n = 40, z = 1.96, by hand
