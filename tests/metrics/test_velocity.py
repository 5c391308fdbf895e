"""Lead velocity rate on hand-written leads and opportunities."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import pandas as pd
import pytest

from pipelinekit import ConfigError
from pipelinekit.metrics.velocity import lead_velocity_rate
from pipelinekit.rates import ZeroDenominatorError

Z = NormalDist().inv_cdf(0.975)


def ts(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    # SQL months (first opportunity per lead): Jan 2, Feb 0, Mar 4, Apr (partial) 1
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series([f"L{i}" for i in range(1, 9)], dtype="str"),
            "created_at": ts(["2025-01-02"] * 4 + ["2025-02-10"] * 4),
            "origin": pd.Series(["inbound", "outbound"] * 4, dtype="str"),
        }
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": pd.Series([f"O{i}" for i in range(1, 10)], dtype="str"),
            "lead_id": pd.Series(
                ["L1", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8"], dtype="str"
            ),
            "created_at": ts(
                [
                    "2025-01-10",
                    "2025-03-01",  # L1's second opportunity: not a new SQL
                    "2025-01-31 23:59",
                    "2025-03-03",
                    "2025-03-04",
                    "2025-03-05",
                    "2025-03-31 23:59:59",
                    "2025-04-10",
                    "2025-04-16",  # after as_of: not counted
                ]
            ),
        }
    )
    return leads, opps


def rows(frame: pd.DataFrame, *columns: str) -> list[list[Any]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame[list(columns)].values]


def test_month_over_month_growth_excluding_the_partial_month() -> None:
    leads, opps = data()
    lvr = lead_velocity_rate(leads, opps, as_of="2025-04-15")
    got = rows(lvr, "qualified_count", "previous_count", "rate")
    # Jan 2 (no previous month), Feb 0 (0/2 - 1 = -1), Mar 4 (previous 0: NaN)
    assert got[0] == [2, None, None]
    assert got[1] == [0, 2, -1.0]
    assert got[2] == [4, 0, None]
    assert len(got) == 3  # April is partial: left out
    assert lvr["period"].dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02", "2025-03"]


def test_partial_month_prorated_and_its_interval() -> None:
    leads, opps = data()
    lvr = lead_velocity_rate(leads, opps, as_of="2025-04-15", partial="prorate")
    april = lvr.iloc[-1]
    # 1 SQL in 15 of 30 days -> 2 projected; LVR = 2 / 4 - 1 = -0.5
    assert april["observed_share"] == pytest.approx(0.5)
    assert april["projected_count"] == pytest.approx(2.0)
    assert april["rate"] == pytest.approx(-0.5)
    # interval: q = 1 of n = 5 (Wilson), ratio = p / ((1 - p) * 0.5)
    n, p = 5, 1 / 5
    center = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    low, high = center - half, center + half
    assert april["ci_low"] == pytest.approx(low / ((1 - low) * 0.5) - 1)
    assert april["ci_high"] == pytest.approx(high / ((1 - high) * 0.5) - 1)


def test_zero_previous_month_under_each_policy() -> None:
    leads, opps = data()
    zero = lead_velocity_rate(leads, opps, as_of="2025-03-31", zero_division="0")
    assert zero["rate"].tolist()[1:] == [-1.0, 0.0]  # March after an empty February: 0
    with pytest.raises(ZeroDenominatorError):
        lead_velocity_rate(leads, opps, as_of="2025-03-31", zero_division="raise")
    # a complete current month is kept: 31 March is the month's last day
    full = lead_velocity_rate(leads, opps, as_of="2025-03-31")
    assert full["qualified_count"].tolist() == [2, 0, 4]


def test_other_stages_and_breakdowns() -> None:
    leads, opps = data()
    plain = lead_velocity_rate(leads, opps, as_of="2025-03-31", stage="lead")
    assert plain["qualified_count"].tolist() == [4, 4, 0]
    assert plain["rate"].tolist() == pytest.approx([math.nan, 0.0, -1.0], nan_ok=True)
    by = lead_velocity_rate(leads, opps, as_of="2025-03-31", by="origin")
    got = {
        (o, p.strftime("%m")): q
        for o, p, q in zip(by["origin"], by["period"], by["qualified_count"], strict=True)
    }
    # inbound (odd leads): L1 in January, L3 and L5 in March, L7 after as_of;
    # outbound (even): L2 on 31 January, L4 and L6 (23:59:59 on 31 March) in March
    assert got == {
        ("inbound", "01"): 1,
        ("inbound", "02"): 0,
        ("inbound", "03"): 2,
        ("outbound", "01"): 1,
        ("outbound", "02"): 0,
        ("outbound", "03"): 2,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": "touched"}, "stage must be one of"),
        ({"partial": "drop"}, "partial must be one of"),
        ({"by": "rate"}, "output column name"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    leads, opps = data()
    with pytest.raises(ConfigError, match=message):
        lead_velocity_rate(leads, opps, as_of="2025-03-31", **kwargs)
