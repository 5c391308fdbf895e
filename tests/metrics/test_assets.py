"""Lead inflow against a target: shortfall and suggested activity multiplier."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError
from pipelinekit.metrics.assets import lead_inflow
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

from .activity_builders import leads, on_engines, unchanged

T = pd.Timestamp


def table(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
        for row in frame[list(columns)].itertuples(index=False)
    ]


# 2025-01-10 Fri, 01-11 Sat, 01-12 Sun, 01-13 Mon (Coming of Age Day), 01-14 Tue
LEADS = leads(
    {"lead_id": "A1", "created_at": "2025-01-10 09:00"},
    {"lead_id": "A2", "created_at": "2025-01-10 23:59", "origin": "outbound"},
    {"lead_id": "A3", "created_at": "2025-01-13 10:00"},
    {"lead_id": "A4", "created_at": "2025-01-14 10:00"},
    {"lead_id": "A5", "created_at": "2025-01-20 10:00"},
)


def test_daily_inflow_with_every_day_listed() -> None:
    got = on_engines(lead_inflow, LEADS, target=2, as_of="2025-01-14")
    assert table(got, "period", "lead_count", "target", "shortfall", "attainment", "is_short",
                 "multiplier") == [
        (T("2025-01-10"), 2, 2.0, 0.0, 1.0, 0, 1.0),
        (T("2025-01-11"), 0, 2.0, 2.0, 0.0, 1, 2.0),  # nothing came in: high end of the band
        (T("2025-01-12"), 0, 2.0, 2.0, 0.0, 1, 2.0),
        (T("2025-01-13"), 1, 2.0, 1.0, 0.5, 1, 2.0),  # 2 / 1 = 2.0
        (T("2025-01-14"), 1, 2.0, 1.0, 0.5, 1, 2.0),
    ]  # fmt: skip


def test_business_days_only() -> None:
    got = on_engines(lead_inflow, LEADS, target=2, as_of="2025-01-14", business_days=True)
    # weekend and the Monday holiday get a target of 0: never short
    assert table(got, "period", "lead_count", "target", "is_short", "attainment",
                 "multiplier") == [
        (T("2025-01-10"), 2, 2.0, 0, 1.0, 1.0),
        (T("2025-01-11"), 0, 0.0, 0, None, 1.0),
        (T("2025-01-12"), 0, 0.0, 0, None, 1.0),
        (T("2025-01-13"), 1, 0.0, 0, None, 1.0),
        (T("2025-01-14"), 1, 2.0, 1, 0.5, 2.0),
    ]  # fmt: skip


def test_multiplier_band() -> None:
    many = leads(*[{"created_at": f"2025-02-{d:02d} 10:00"} for d in (1,) * 9 + (2,) * 6
                   + (3,) * 4 + (5,) * 12])  # fmt: skip
    got = lead_inflow(many, target=10, start="2025-02-01", as_of="2025-02-05")
    assert table(got, "lead_count", "shortfall", "multiplier") == [
        (9, 1.0, 1.5),  # 10 / 9 = 1.11 -> raised to 1.5
        (6, 4.0, pytest.approx(10 / 6)),  # inside the band
        (4, 6.0, 2.0),  # 10 / 4 = 2.5 -> capped at 2.0
        (0, 10.0, 2.0),  # nothing: 2.0
        (12, 0.0, 1.0),  # target met
    ]
    wide = lead_inflow(many, target=10, start="2025-02-01", as_of="2025-02-05",
                       multiplier_band=(1.2, 3.0))  # fmt: skip
    assert wide["multiplier"].tolist() == [1.2, pytest.approx(10 / 6), 2.5, 3.0, 1.0]


def test_target_frame_per_period() -> None:
    targets = pd.DataFrame({"period": pd.to_datetime(["2025-01-06", "2025-01-13"]),
                            "target": [3.0, 5.0]})  # fmt: skip
    got = on_engines(lambda le, t: lead_inflow(le, freq="week", target=t), LEADS, targets)
    # ISO weeks: 01-06 (A1 A2), 01-13 (A3 A4), 01-20 (A5, no target)
    assert table(got, "period", "lead_count", "target", "shortfall", "is_short",
                 "multiplier") == [
        (T("2025-01-06"), 2, 3.0, 1.0, 1, 1.5),
        (T("2025-01-13"), 2, 5.0, 3.0, 1, 2.0),
        (T("2025-01-20"), 1, None, None, 0, None),
    ]  # fmt: skip
    daily = pd.DataFrame({"period": pd.date_range("2025-01-06", "2025-01-19"), "target": 0.5})
    weekly = lead_inflow(LEADS, freq="week", target=daily, as_of="2025-01-19")
    assert weekly["target"].tolist() == [3.5, 3.5]  # daily targets summed into weeks


def test_origin_start_and_as_of() -> None:
    inbound = lead_inflow(LEADS, freq="month", origin="inbound")
    assert table(inbound, "period", "lead_count", "target") == [(T("2025-01-01"), 4, None)]
    window = lead_inflow(LEADS, start="2025-01-13", as_of="2025-01-13", target=1)
    assert table(window, "period", "lead_count", "is_short") == [(T("2025-01-13"), 1, 0)]
    later = lead_inflow(LEADS, freq="month", start="2024-12-15", as_of="2025-02-10", target=4)
    # a scalar target is per period, whatever the number of days in it
    assert table(later, "period", "lead_count", "target", "shortfall", "multiplier") == [
        (T("2024-12-01"), 0, 4.0, 4.0, 2.0),
        (T("2025-01-01"), 5, 4.0, 0.0, 1.0),
        (T("2025-02-01"), 0, 4.0, 4.0, 2.0),
    ]


def test_empty_leads() -> None:
    empty = LEADS.iloc[:0]
    assert len(lead_inflow(empty, target=3)) == 0
    got = lead_inflow(empty, target=3, start="2025-01-01", as_of="2025-01-03")
    assert table(got, "lead_count", "shortfall", "multiplier") == [(0, 3.0, 2.0)] * 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"multiplier_band": (2.0, 1.5)}, "multiplier_band must be a pair"),
        ({"multiplier_band": (0.5, 2.0)}, "multiplier_band must be a pair"),
        ({"multiplier_band": 1.5}, "multiplier_band must be a pair"),
        ({"target": -1}, "target must be a finite number >= 0"),
        ({"target": math.inf}, "target must be a finite number >= 0"),
        ({"target": True}, "target must be a number >= 0 or a frame"),
        ({"freq": "hour"}, "freq must be one of"),
        ({"freq": "month", "business_days": True}, "business_days=True needs freq='day'"),
        ({"business_days": 1}, "business_days must be True or False"),
        ({"business_days": True, "country": "ZZ"}, "country must be"),
        ({"origin": "web"}, "origin must be one of"),
        ({"start": "someday"}, "as_of must be a date"),
    ],
)
def test_parameters_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        lead_inflow(LEADS, **options)


def test_target_frame_needs_columns_and_leads_need_created_at() -> None:
    with pytest.raises(SchemaError, match="target"):
        lead_inflow(LEADS, target=pd.DataFrame({"period": pd.to_datetime(["2025-01-01"])}))
    with pytest.raises(SchemaError, match="created_at"):
        lead_inflow(LEADS.drop(columns=["created_at"]), target=1)


def test_inputs_are_not_mutated() -> None:
    targets = pd.DataFrame({"period": pd.to_datetime(["2025-01-06"]), "target": [3.0]})
    unchanged(lead_inflow, LEADS, target=2)
    unchanged(lambda le, t: lead_inflow(le, freq="week", target=t), LEADS, targets)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 40), max_size=30),
    st.integers(0, 5),
    st.sampled_from(["day", "week", "month"]),
)
def test_inflow_properties(offsets: list[int], target: int, freq: str) -> None:
    start = datetime(2025, 3, 1)
    le = leads(*[{"created_at": start + timedelta(days=o, hours=o % 24)} for o in offsets])
    got = lead_inflow(le, freq=freq, target=target, start="2025-03-01", as_of="2025-04-10")
    assert got["lead_count"].sum() == len(offsets)  # every lead in exactly one period
    assert got["period"].is_monotonic_increasing
    assert got["period"].is_unique
    short = got["lead_count"] < got["target"]
    assert (got["is_short"] == short.astype(int)).all()
    assert (got["shortfall"] >= 0).all()
    assert got.loc[short, "multiplier"].between(1.5, 2.0).all()
    assert (got.loc[~short, "multiplier"] == 1.0).all()
    assert (got["target"] == float(target)).all()  # per period, not per day
    if freq == "day":
        assert len(got) == 41  # 03-01 .. 04-10, empty days included


def test_report_section_on_sample() -> None:
    ds = Dataset(**generate_sample(leads=300, seed=2))
    section = build_section("assets", ds, date(2025, 12, 31))
    assert section.key == "assets"
    assert len(section.tables["inflow_by_month"]) == 12
    assert section.tables["inflow_by_month"]["lead_count"].sum() == 300
    assert len(section.tables["inbound_inflow_last_12_weeks"]) in (12, 13)
