"""Activity KPIs: volume, talk time, connect rates, email, speed to lead, approach rates.

Hand-computed values on a tiny dataset (arithmetic in comments), the issue's edge
cases, property tests against plain-Python references, and pandas / polars / DuckDB
agreement.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError, rate
from pipelinekit.metrics.activity import (
    activity_volume,
    call_connect_sql_chain,
    connect_rate,
    email_engagement,
    talk_time,
)
from pipelinekit.metrics.approach import (
    next_business_day_rate,
    same_day_approach_rate,
    speed_to_lead,
)
from pipelinekit.rates import ZeroDenominatorError
from pipelinekit.reporting.sections import build_section
from pipelinekit.reporting.summary import summary
from pipelinekit.sample import generate_sample

from .activity_builders import acts, call, email, leads, meeting, on_engines, opps, unchanged, web

# Weekdays: 2025-01-10 Fri, 2025-01-13 Mon = Coming of Age Day (holiday), 2025-04-01 Tue,
# 2025-04-05 Sat, 2025-04-07 Mon, 2025-04-08 Tue.
LEADS = leads(
    {"lead_id": "L1", "owner_id": "R1", "source": "web_form", "campaign_id": "C1",
     "department": "sales", "created_at": "2025-04-01 09:00"},
    {"lead_id": "L2", "owner_id": "R1", "source": "ads", "campaign_id": "C2",
     "department": "it", "created_at": "2025-04-01 23:59"},
    {"lead_id": "L3", "owner_id": "R2", "origin": "outbound", "source": "list",
     "department": "sales", "created_at": "2025-04-02 10:00"},
    {"lead_id": "L4", "owner_id": "R2", "source": "web_form", "department": "it",
     "created_at": "2025-01-10 18:00"},
    {"lead_id": "L5", "owner_id": "R2", "source": "ads", "created_at": "2025-04-03 10:00"},
    {"lead_id": "L6", "owner_id": "R1", "source": "ads", "campaign_id": "C1",
     "created_at": "2025-04-07 12:00"},
)  # fmt: skip
ACTS = acts(
    call("L1", "2025-04-01 10:00", "connected", duration_s=300.0, owner_id="R1", activity_id="a01"),
    call("L1", "2025-04-01 10:00", "no_answer", duration_s=5.0, owner_id="R1", activity_id="a02"),
    call("L2", "2025-04-02 00:01", duration_s=10.0, owner_id="R1", activity_id="a03"),
    email("L2", "2025-04-02 09:00", "sent", owner_id="R1", activity_id="a04"),
    email("L2", "2025-04-03 09:00", "opened", owner_id="R1", activity_id="a05"),
    email("L3", "2025-04-02 11:00", "bounced", owner_id="R2", activity_id="a06"),
    email("L3", "2025-04-03 11:00", "clicked", owner_id="R2", activity_id="a07"),
    email("L3", "2025-04-04 11:00", "replied", owner_id="R2", activity_id="a08"),
    email("L3", "2025-04-04 12:00", "replied", direction="inbound", owner_id="R2",
          activity_id="a09"),
    call(None, "2025-04-05 10:00", "connected", duration_s=120.0, owner_id="R2",
         account_id="A1", activity_id="a10"),  # account-level BDR call, no lead
    call("L1", "2025-04-06 15:00", "connected", direction="inbound", duration_s=60.0,
         owner_id="R1", activity_id="a11"),
    call("L4", "2025-01-14 09:00", "busy", owner_id="R2", activity_id="a12"),
    meeting("L1", "2025-04-08 14:00", "held", owner_id="R1", activity_id="a13"),
    email("L6", "2025-04-07 11:00", "sent", owner_id="R1", activity_id="a15"),  # before created
    call("L6", "2025-04-08 12:00", duration_s=0.0, owner_id="R1", activity_id="a16"),
)  # fmt: skip
OPPS = opps(
    {"opportunity_id": "O1", "lead_id": "L1", "created_at": "2025-04-10 10:00"},
    {"opportunity_id": "O2", "lead_id": "L3", "created_at": "2025-05-02 10:00"},
)


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """Selected columns as tuples, missing values as None (for exact comparisons)."""
    out = []
    for rec in frame[list(columns)].itertuples(index=False):
        out.append(
            tuple(
                None
                if (isinstance(v, float) and math.isnan(v))
                or v is pd.NaT
                or v is None
                or (isinstance(v, str) and v == "nan")
                else v
                for v in rec
            )
        )
    return out


# --------------------------------------------------------------------------- volume


def test_activity_volume_by_channel_and_month() -> None:
    got = on_engines(activity_volume, ACTS, freq="month", by="channel")
    assert rows(got, "channel", "period", "activity_count", "connect_count") == [
        ("call", pd.Timestamp("2025-01-01"), 1, 0),  # a12
        # a01 a02 a03 a10 a11 a16; connects a01 a10 a11 (a10 has no lead, still counted)
        ("call", pd.Timestamp("2025-04-01"), 6, 3),
        ("email", pd.Timestamp("2025-04-01"), 7, 2),  # a04-a09 a15; replies a08 a09
        ("meeting", pd.Timestamp("2025-04-01"), 1, 1),  # a13 held
    ]


def test_activity_volume_defaults_per_owner_channel_direction_day() -> None:
    got = on_engines(activity_volume, ACTS)
    assert list(got.columns) == [
        "owner_id", "channel", "direction", "period", "activity_count", "connect_count",
    ]  # fmt: skip
    first = got.iloc[0]
    # R1 call inbound on 2025-04-06 (a11) sorts before outbound ("inbound" < "outbound")
    assert (first["owner_id"], first["channel"], first["direction"]) == ("R1", "call", "inbound")
    r1_calls = got[(got.owner_id == "R1") & (got.channel == "call") & (got.direction == "outbound")]
    assert r1_calls["activity_count"].tolist() == [2, 1, 1]  # a01+a02 (dup time), a03, a16
    assert got["activity_count"].sum() == 15  # every activity (no web rows)


def test_activity_volume_as_of_and_channels() -> None:
    got = activity_volume(ACTS, freq=None, by=(), as_of="2025-04-01")
    assert rows(got, "activity_count", "connect_count") == [(3, 1)]  # a12, a01, a02
    assert len(activity_volume(ACTS, channels=("web",))) == 0


# --------------------------------------------------------------------------- talk time


def test_talk_time_per_owner() -> None:
    got = on_engines(talk_time, ACTS)
    assert rows(got, *got.columns) == [
        # R1: a01 300 + a02 5 + a03 10 + a11 60 + a16 0 = 375 over 5 calls, 2 connects
        ("R1", 5, 2, 3, 375.0, 75.0, 187.5),
        # R2: a10 120 + a12 (no duration -> 0) over 2 calls, 1 connect
        ("R2", 2, 1, 1, 120.0, 60.0, 120.0),
    ]


def test_talk_time_outbound_only_and_no_connects() -> None:
    got = talk_time(ACTS, by=("owner_id",), direction="outbound", as_of="2025-04-04")
    # as of 04-04: R1 a01 a02 a03 (315 s, 1 connect); R2 a12 only (no connect -> NaN)
    assert rows(got, "owner_id", "call_count", "talk_time_s", "talk_time_per_connect_s") == [
        ("R1", 3, 315.0, 315.0),
        ("R2", 1, 0.0, None),
    ]


# --------------------------------------------------------------------------- connect rate


def test_connect_rate_by_direction() -> None:
    got = on_engines(connect_rate, ACTS, by="direction")
    assert list(got.columns) == ["direction", "numerator", "denominator", "rate", "ci_low",
                                 "ci_high"]  # fmt: skip
    # inbound: a11 connected; outbound: a01 a02 a03 a10 a12 a16, connected a01 a10
    assert rows(got, "direction", "numerator", "denominator") == [
        ("inbound", 1, 1),
        ("outbound", 2, 6),
    ]
    expected = rate(2, 6)
    out = got.iloc[1]
    assert out["rate"] == pytest.approx(expected.value)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))


def test_connect_rate_hour_weekday_heatmap() -> None:
    got = on_engines(connect_rate, ACTS, by=("weekday", "hour"), direction="outbound")
    assert rows(got, "weekday", "hour", "numerator", "denominator") == [
        (2, 9, 0, 1),  # Tue 2025-01-14 09:00 a12
        (2, 10, 1, 2),  # Tue 2025-04-01 10:00 a01 (connected) and a02, same timestamp
        (2, 12, 0, 1),  # Tue 2025-04-08 12:00 a16
        (3, 0, 0, 1),  # Wed 2025-04-02 00:01 a03
        (6, 10, 1, 1),  # Sat 2025-04-05 10:00 a10 (no lead)
    ]
    heatmap = got.pivot(index="weekday", columns="hour", values="rate")
    assert heatmap.loc[2, 10] == 0.5


def test_connect_rate_by_department_joins_leads() -> None:
    got = on_engines(lambda a, le: connect_rate(a, by="department", leads=le), ACTS, LEADS)
    assert rows(got, "department", "numerator", "denominator") == [
        ("it", 0, 2),  # a03 (L2), a12 (L4)
        ("sales", 2, 3),  # a01 a02 a11 (L1)
        (None, 1, 2),  # a10 (no lead) and a16 (L6 without department): last
    ]


def test_connect_rate_per_period_and_zero_division() -> None:
    got = connect_rate(ACTS, freq="month")
    assert rows(got, "period", "numerator", "denominator") == [
        (pd.Timestamp("2025-01-01"), 0, 1),
        (pd.Timestamp("2025-04-01"), 3, 6),
    ]
    empty = connect_rate(ACTS, as_of="2024-12-31")  # nothing yet: one row, 0 / 0
    assert rows(empty, "numerator", "denominator") == [(0, 0)]
    assert math.isnan(empty["rate"].iloc[0])
    assert math.isnan(empty["ci_low"].iloc[0])
    assert connect_rate(ACTS, as_of="2024-12-31", zero_division="0")["rate"].tolist() == [0.0]
    with pytest.raises(ZeroDenominatorError):
        connect_rate(ACTS, as_of="2024-12-31", zero_division="raise")
    # a01 a10 a11 connected out of 7 calls
    assert connect_rate(ACTS, zero_division="raise")["rate"].tolist() == [pytest.approx(3 / 7)]


# --------------------------------------------------------------------------- chain


def test_call_connect_sql_chain() -> None:
    got = on_engines(call_connect_sql_chain, ACTS, OPPS)
    assert rows(got, "period", "call_count", "connect_count", "sql_count", "connect_rate",
                "sql_per_connect") == [
        (pd.Timestamp("2025-01-01"), 1, 0, 0, 0.0, None),  # a12; no connect -> no ratio
        (pd.Timestamp("2025-04-01"), 6, 3, 1, 0.5, pytest.approx(1 / 3)),  # O1
        (pd.Timestamp("2025-05-01"), 0, 0, 1, None, None),  # O2 only
    ]  # fmt: skip
    outbound = call_connect_sql_chain(ACTS, OPPS, direction="outbound", as_of="2025-04-30")
    assert rows(outbound, "call_count", "connect_count", "sql_count", "sql_per_connect") == [
        (1, 0, 0, None),
        (5, 2, 1, 0.5),  # a01 a02 a03 a10 a16; O2 after as_of
    ]
    with pytest.raises(ZeroDenominatorError):
        call_connect_sql_chain(ACTS, OPPS, zero_division="raise")


# --------------------------------------------------------------------------- email


def test_email_engagement_overall() -> None:
    got = on_engines(email_engagement, ACTS)
    # outbound emails: a04 sent, a05 opened, a06 bounced, a07 clicked, a08 replied, a15 sent
    assert rows(got, "sent_count", "bounced_count", "delivered_count", "opened_count",
                "clicked_count", "replied_count") == [(6, 1, 5, 3, 2, 1)]  # fmt: skip
    assert rows(got, "open_rate", "click_rate", "reply_rate") == [(0.6, 0.4, 0.2)]
    expected = rate(3, 5)
    assert got["open_ci_low"].iloc[0] == pytest.approx(expected.ci_low)


def test_email_engagement_by_campaign_and_per_lead() -> None:
    got = on_engines(lambda a, le: email_engagement(a, by="campaign_id", leads=le), ACTS, LEADS)
    assert rows(got, "campaign_id", "sent_count", "delivered_count", "opened_count",
                "open_rate", "reply_rate") == [
        ("C1", 1, 1, 0, 0.0, 0.0),  # a15 (L6)
        ("C2", 2, 2, 1, 0.5, 0.0),  # a04 a05 (L2)
        (None, 3, 2, 2, 1.0, 0.5),  # L3: a06 bounced, a07 clicked, a08 replied
    ]  # fmt: skip
    per_lead = on_engines(email_engagement, ACTS, denominator="leads")
    # leads emailed: L2 (delivered, opened), L3 (bounced + delivered, replied), L6 (sent)
    assert rows(per_lead, "sent_count", "bounced_count", "delivered_count", "opened_count",
                "clicked_count", "replied_count") == [(3, 1, 3, 2, 1, 1)]  # fmt: skip
    assert per_lead["open_rate"].iloc[0] == pytest.approx(2 / 3)


def test_email_engagement_by_owner_and_month() -> None:
    got = email_engagement(ACTS, by="owner_id", freq="month")
    assert rows(got, "owner_id", "period", "sent_count", "delivered_count", "opened_count") == [
        ("R1", pd.Timestamp("2025-04-01"), 3, 3, 1),  # a04 a05 a15
        ("R2", pd.Timestamp("2025-04-01"), 3, 2, 2),  # a06 a07 a08 (a09 inbound: no send)
    ]


# --------------------------------------------------------------------------- speed to lead


def test_speed_to_lead_overall_quantiles() -> None:
    got = on_engines(speed_to_lead, LEADS, ACTS, by=())
    # inbound leads and minutes to the first outbound touch at/after creation:
    # L1 09:00 -> a01 10:00 = 60; L2 23:59 -> a03 00:01 = 2; L4 Fri 18:00 -> a12 Tue 09:00
    # = 87 h = 5220; L6 12:00 -> a16 next day 12:00 = 1440 (a15 11:00 is before creation);
    # L5 not touched. Sorted [2, 60, 1440, 5220]:
    # median h = 3 * .5 = 1.5 -> 60 + .5 * 1380 = 750; p75 h = 2.25 -> 1440 + .25 * 3780
    # = 2385; p90 h = 2.7 -> 1440 + .7 * 3780 = 4086
    assert rows(got, *got.columns) == [
        (5, 4, pytest.approx(750.0), pytest.approx(2385.0), pytest.approx(4086.0))
    ]
    assert list(got.columns) == ["lead_count", "touched_count", "median_minutes",
                                 "p75_minutes", "p90_minutes"]  # fmt: skip


def test_speed_to_lead_per_owner_in_hours() -> None:
    got = on_engines(speed_to_lead, LEADS, ACTS, unit="hours")
    # R1: [2, 60, 1440] min; median 60 min = 1 h; p75 h = 1.5 -> 60 + .5 * 1380 = 750 min
    # = 12.5 h; p90 h = 1.8 -> 60 + .8 * 1380 = 1164 min = 19.4 h
    # R2: L4 5220 min = 87 h; L5 untouched
    assert rows(got, *got.columns) == [
        ("R1", 3, 3, pytest.approx(1.0), pytest.approx(12.5), pytest.approx(19.4)),
        ("R2", 2, 1, 87.0, 87.0, 87.0),
    ]


def test_speed_to_lead_by_source_and_period() -> None:
    got = speed_to_lead(LEADS, ACTS, by="source", freq="month", unit="s")
    assert rows(got, "source", "period", "lead_count", "touched_count", "median_s") == [
        ("ads", pd.Timestamp("2025-04-01"), 3, 2, pytest.approx((120 + 86400) / 2)),  # L2 L6
        ("web_form", pd.Timestamp("2025-01-01"), 1, 1, 87 * 3600.0),  # L4
        ("web_form", pd.Timestamp("2025-04-01"), 1, 1, 3600.0),  # L1
    ]


SIGNAL_LEADS = leads(
    {"lead_id": "S1", "origin": "outbound", "created_at": "2025-04-01 09:00"},
    {"lead_id": "S2", "created_at": "2025-04-01 09:00"},
    {"lead_id": "S3", "created_at": "2025-04-01 09:00"},
)
SIGNAL_ACTS = acts(
    # S1: five page views, two at the same time; the fifth (10:20) completes the burst
    web("S1", "2025-04-10 10:00", activity_id="w1"),
    web("S1", "2025-04-10 10:05", activity_id="w2"),
    web("S1", "2025-04-10 10:05", activity_id="w3"),
    web("S1", "2025-04-10 10:10", activity_id="w4"),
    web("S1", "2025-04-10 10:20", activity_id="w5"),
    call("S1", "2025-04-10 09:00", activity_id="x0"),  # before the signal: not counted
    call("S1", "2025-04-10 11:20", activity_id="x1"),  # 60 min after the burst
    # S2: five page views 4 days apart: the first and fifth are 16 days apart: no burst
    *[web("S2", f"2025-04-{d:02d} 10:00", activity_id=f"v{d}") for d in (10, 14, 18, 22, 26)],
    web("S2", "2025-04-12 09:00", "link_click", activity_id="k1"),
    email("S2", "2025-04-12 09:30", activity_id="x2"),  # 30 min after the click
    web("S3", "2025-04-12 09:00", "form_submit", activity_id="f1"),  # never touched
)


def test_speed_to_lead_from_web_signals() -> None:
    burst = on_engines(speed_to_lead, SIGNAL_LEADS, SIGNAL_ACTS, signal="page_view_burst",
                       origin=None, by=())  # fmt: skip
    assert rows(burst, "lead_count", "touched_count", "median_minutes") == [(1, 1, 60.0)]
    click = speed_to_lead(SIGNAL_LEADS, SIGNAL_ACTS, signal="link_click", origin=None, by=())
    assert rows(click, "lead_count", "touched_count", "median_minutes") == [(1, 1, 30.0)]
    form = speed_to_lead(SIGNAL_LEADS, SIGNAL_ACTS, signal="form_submit", origin=None, by=())
    assert rows(form, "lead_count", "touched_count", "median_minutes") == [(1, 0, None)]
    # the default origin keeps inbound leads only: S1 (outbound) drops out of the burst view
    inbound = speed_to_lead(SIGNAL_LEADS, SIGNAL_ACTS, signal="page_view_burst", by=())
    assert rows(inbound, "lead_count") == [(0,)]
    wider = speed_to_lead(SIGNAL_LEADS, SIGNAL_ACTS, signal="page_view_burst", origin=None,
                          by=(), burst_days=17)  # fmt: skip
    # with 17 days S2's fifth view (04-26 10:00) completes a burst; untouched after it
    assert rows(wider, "lead_count", "touched_count") == [(2, 1)]


# --------------------------------------------------------------------------- approach rates


def test_same_day_approach_rate_calendar_day() -> None:
    got = on_engines(same_day_approach_rate, LEADS, ACTS)
    # inbound: L1 yes (a01 same day), L2 no (created 23:59, touched 00:01 next day), L4 no,
    # L5 no, L6 yes (a15 is on the creation date, before created_at: counts, as in summary)
    assert rows(got, "numerator", "denominator") == [(2, 5)]
    by_owner = same_day_approach_rate(LEADS, ACTS, by="owner_id")
    assert rows(by_owner, "owner_id", "numerator", "denominator") == [("R1", 2, 3), ("R2", 0, 2)]
    early = same_day_approach_rate(LEADS, ACTS, as_of="2025-04-01")
    assert rows(early, "numerator", "denominator") == [(1, 3)]  # L1 L2 L4 created by then


def test_next_business_day_rate_japanese_calendar() -> None:
    got = on_engines(next_business_day_rate, LEADS, ACTS, as_of="2025-04-30")
    # deadlines (end of the next business day): L1, L2 (Tue) -> end of Wed 04-02: touched;
    # L4 Fri 01-10, Mon 01-13 is a holiday -> end of Tue 01-14: a12 on 01-14 counts;
    # L5 Thu 04-03 -> end of Fri 04-04: never touched; L6 Mon -> end of Tue: a15/a16
    assert rows(got, "numerator", "denominator") == [(4, 5)]
    # as of 04-04 L6 is not created yet; L5's deadline (end of 04-04) has just passed
    assert rows(next_business_day_rate(LEADS, ACTS, as_of="2025-04-04"),
                "numerator", "denominator") == [(3, 4)]  # fmt: skip
    # as of 04-03 L5's deadline is still ahead: not counted
    assert rows(next_business_day_rate(LEADS, ACTS, as_of="2025-04-03"),
                "numerator", "denominator") == [(3, 3)]  # fmt: skip


def test_next_business_day_skips_weekend_and_holiday() -> None:
    le = leads(
        {"lead_id": "H1", "created_at": "2025-01-10 18:00"},  # Fri before Mon holiday
        {"lead_id": "H2", "created_at": "2025-01-17 18:00"},  # ordinary Fri
        {"lead_id": "H3", "created_at": "2025-05-02 23:59"},  # Fri before Golden Week
        {"lead_id": "H4", "created_at": "2025-01-11 10:00"},  # Sat: next business day Tue
    )
    ac = acts(
        call("H1", "2025-01-14 23:59"),  # Tue: in time
        call("H2", "2025-01-21 00:00"),  # Tue 00:00: Mon was the deadline
        call("H3", "2025-05-07 10:00"),  # Wed: 05-03..05-06 are holidays: in time
        call("H4", "2025-01-14 12:00"),  # Tue: in time (Mon 01-13 holiday)
    )
    got = next_business_day_rate(le, ac, as_of="2025-06-30", by=())
    assert rows(got, "numerator", "denominator") == [(3, 4)]
    flags = {
        lead: next_business_day_rate(le[le.lead_id == lead], ac, as_of="2025-06-30")[
            "numerator"
        ].iloc[0]
        for lead in ("H1", "H2", "H3", "H4")
    }
    assert flags == {"H1": 1, "H2": 0, "H3": 1, "H4": 1}
    # a calendar without Japanese holidays: H1's deadline is Mon 01-13 -> missed
    us = next_business_day_rate(le, ac, as_of="2025-06-30", country="US")
    assert rows(us, "numerator") == [(1,)]  # H3 only (US: Tue 01-14 too late for H4 too)


def test_same_day_rate_matches_report_summary_on_sample() -> None:
    tables = generate_sample(leads=300, seed=5)
    as_of = "2025-09-30"
    expected = summary(Dataset(**tables), as_of=as_of)["same_day_approach_rate"]
    got = same_day_approach_rate(tables["leads"], tables["activities"], as_of=as_of)
    assert rows(got, "numerator", "denominator") == [(expected.numerator, expected.denominator)]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call_it", "message"),
    [
        (lambda: connect_rate(ACTS, by="nope"), "by names unknown column 'nope'"),
        (lambda: connect_rate(ACTS, by=["owner_id", "owner_id"]), "by names a column twice"),
        (lambda: connect_rate(ACTS, by="period"), "use freq="),
        (lambda: connect_rate(ACTS, direction="sideways"), "direction must be one of"),
        (lambda: connect_rate(ACTS, freq="hour"), "freq must be one of"),
        (lambda: connect_rate(ACTS, zero_division="inf"), "zero_division must be one of"),
        (lambda: connect_rate(ACTS, by="department"), "by names unknown column"),
        (lambda: activity_volume(ACTS, channels=("fax",)), "channels must be one of"),
        (lambda: email_engagement(ACTS, denominator="sent"), "denominator must be one of"),
        (lambda: speed_to_lead(LEADS, ACTS, unit="weeks"), "unit must be one of"),
        (lambda: speed_to_lead(LEADS, ACTS, signal="tweet"), "signal must be one of"),
        (lambda: speed_to_lead(LEADS, ACTS, page_views=0), "page_views must be an integer"),
        (lambda: speed_to_lead(LEADS, ACTS, origin="web"), "origin must be one of"),
        (lambda: speed_to_lead(LEADS, ACTS, by="hour"), "by names unknown column 'hour'"),
        (lambda: next_business_day_rate(LEADS, ACTS, as_of="x"), "as_of must be a date"),
        (lambda: next_business_day_rate(LEADS, ACTS, as_of="2025-04-30", country="ZZ"),
         "country must be"),
    ],
)  # fmt: skip
def test_parameters_are_validated(call_it: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call_it()


def test_missing_columns_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="outcome"):
        connect_rate(ACTS.drop(columns=["outcome"]))
    with pytest.raises(SchemaError, match="duration_s"):
        talk_time(ACTS.drop(columns=["duration_s"]))
    with pytest.raises(SchemaError, match="created_at"):
        speed_to_lead(LEADS.drop(columns=["created_at"]), ACTS)


def test_inputs_are_not_mutated() -> None:
    unchanged(activity_volume, ACTS)
    unchanged(talk_time, ACTS)
    unchanged(connect_rate, ACTS, by=("weekday", "hour"))
    unchanged(lambda a, le: connect_rate(a, by="department", leads=le), ACTS, LEADS)
    unchanged(call_connect_sql_chain, ACTS, OPPS)
    unchanged(email_engagement, ACTS, denominator="leads")
    unchanged(speed_to_lead, LEADS, ACTS)
    unchanged(speed_to_lead, SIGNAL_LEADS, SIGNAL_ACTS, signal="page_view_burst", origin=None)
    unchanged(same_day_approach_rate, LEADS, ACTS)
    unchanged(next_business_day_rate, LEADS, ACTS, as_of="2025-04-30")


def test_tz_aware_activities_are_converted() -> None:
    aware = ACTS.assign(occurred_at=ACTS["occurred_at"].dt.tz_localize("Asia/Tokyo"))
    aware = aware.assign(occurred_at=aware["occurred_at"].dt.tz_convert("UTC"))
    got = connect_rate(aware, by=("weekday", "hour"), direction="outbound")
    assert got.equals(connect_rate(ACTS, by=("weekday", "hour"), direction="outbound"))


# --------------------------------------------------------------------------- properties

START = datetime(2025, 3, 28)
_OUTCOMES = {
    "call": ["connected", "no_answer", "busy"],
    "email": ["bounced", "sent", "opened", "clicked", "replied"],
    "meeting": ["held", "no_show"],
    "web": ["page_view", "link_click"],
}


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A few leads and activities on a small time grid (ties and day boundaries)."""
    n_leads = draw(st.integers(1, 5))
    lead_rows = [
        {
            "lead_id": f"L{i}",
            "owner_id": draw(st.sampled_from(["R1", "R2", None])),
            "origin": draw(st.sampled_from(["inbound", "outbound"])),
            "created_at": START + timedelta(hours=6 * draw(st.integers(0, 40))),
        }
        for i in range(n_leads)
    ]
    act_rows = []
    for k in range(draw(st.integers(0, 25))):
        channel = draw(st.sampled_from(sorted(_OUTCOMES)))
        act_rows.append(
            {
                "activity_id": f"a{k:03d}",
                "lead_id": draw(st.sampled_from([*(r["lead_id"] for r in lead_rows), None])),
                "owner_id": draw(st.sampled_from(["R1", "R2"])),
                "occurred_at": START + timedelta(hours=6 * draw(st.integers(0, 50))),
                "channel": channel,
                "direction": draw(st.sampled_from(["outbound", "inbound"])),
                "outcome": draw(st.sampled_from(_OUTCOMES[channel])),
                "duration_s": float(draw(st.integers(0, 600))) if channel == "call" else None,
            }
        )
    return leads(*lead_rows), acts(*act_rows)


@settings(max_examples=100, deadline=None)
@given(datasets())
def test_call_counts_match_a_plain_python_count(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, activities = data
    calls = activities[activities.channel == "call"]
    got = connect_rate(activities, by="direction")
    expect = {d: ((g.outcome == "connected").sum(), len(g)) for d, g in calls.groupby("direction")}
    assert {r.direction: (r.numerator, r.denominator) for r in got.itertuples()} == expect
    talk = talk_time(activities, by=())
    assert rows(talk, "call_count", "connect_count") == [
        (len(calls), (calls.outcome == "connected").sum())
    ]
    assert talk["disconnect_count"].iloc[0] == len(calls) - talk["connect_count"].iloc[0]
    assert talk["talk_time_s"].iloc[0] == pytest.approx(calls["duration_s"].fillna(0).sum())


@settings(max_examples=30, deadline=None)  # ~0.1 s per call: three Wilson intervals
@given(datasets())
def test_email_counts_are_nested(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, activities = data
    for mode in ("delivered", "leads"):
        e = email_engagement(activities, by=(), denominator=mode).iloc[0]
        assert e.replied_count <= e.clicked_count <= e.opened_count <= e.delivered_count
        assert e.delivered_count <= e.sent_count
    e = email_engagement(activities, by=()).iloc[0]
    assert e.delivered_count + e.bounced_count == e.sent_count
    sent = activities[(activities.channel == "email") & (activities.direction == "outbound")]
    assert e.sent_count == len(sent)


def _reference_speed(le: pd.DataFrame, ac: pd.DataFrame) -> list[float]:
    touches = ac[(ac.direction == "outbound") & ac.channel.isin(["call", "email", "meeting"])]
    out = []
    for lead in le[le.origin == "inbound"].itertuples():
        after = touches[
            (touches.lead_id == lead.lead_id) & (touches.occurred_at >= lead.created_at)
        ]
        if len(after):
            out.append((after.occurred_at.min() - lead.created_at).total_seconds() / 60)
    return out


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_speed_to_lead_matches_numpy(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    le, ac = data
    got = speed_to_lead(le, ac, by=()).iloc[0]
    values = _reference_speed(le, ac)
    assert got.lead_count == (le.origin == "inbound").sum()
    assert got.touched_count == len(values)
    if values:
        expected = np.quantile(values, [0.5, 0.75, 0.9])
        assert [got.median_minutes, got.p75_minutes, got.p90_minutes] == pytest.approx(
            list(expected)
        )
    else:
        assert math.isnan(got.median_minutes)


@settings(max_examples=30, deadline=None)  # the holiday calendar makes this ~0.2 s a call
@given(datasets())
def test_same_day_never_exceeds_next_business_day(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    le, ac = data
    as_of = "2025-06-30"  # every deadline has passed
    same = same_day_approach_rate(le, ac, as_of=as_of).iloc[0]
    nbd = next_business_day_rate(le, ac, as_of=as_of).iloc[0]
    assert same.denominator == nbd.denominator == (le.origin == "inbound").sum()
    assert same.numerator <= nbd.numerator
    # plain-Python same-day count: a touch dated on the creation date
    days: dict[str, set[Any]] = defaultdict(set)
    for a in ac.itertuples():
        if a.direction == "outbound" and a.channel != "web" and isinstance(a.lead_id, str):
            days[a.lead_id].add(a.occurred_at.date())
    inbound = le[le.origin == "inbound"]
    assert same.numerator == sum(
        r.created_at.date() in days[r.lead_id] for r in inbound.itertuples()
    )


# --------------------------------------------------------------------------- report


def test_report_section_on_sample() -> None:
    ds = Dataset(**generate_sample(leads=300, seed=2))
    section = build_section("activity", ds, datetime(2025, 12, 31).date())
    assert section.key == "activity"
    assert {"connect_by_direction", "outbound_connect_by_hour"} <= set(section.tables)
    by_direction = section.tables["connect_by_direction"]
    assert by_direction["direction"].tolist() == ["inbound", "outbound"]
    heatmap = section.tables.pop("outbound_connect_by_weekday_hour")
    assert len(heatmap) <= 7 * 24
    assert set(heatmap["weekday"]) <= set(range(1, 8))
    assert all(len(t) <= 31 for t in section.tables.values())
    assert any("Best outbound hour" in n for n in section.note_texts())
