"""Work queues as of a day: membership and urgency order by hand, the issue's edges,
monotonicity in ``as_of`` (where it holds), queue counts, engines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError
from pipelinekit.metrics.queues import (
    QUEUES,
    do_not_pursue_review,
    focus_due,
    hot_leads,
    overdue_next_activity,
    queue_counts,
    recycle_due,
    recycle_reasons,
    untouched_inbound,
)
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

from .activity_builders import acts, call, email, leads, on_engines, unchanged, web

AS_OF = "2025-04-20"  # a Sunday; the cutoff is 2025-04-21 00:00
NO_ACTS = acts()


def ids(frame: pd.DataFrame) -> list[str]:
    return frame["lead_id"].tolist()


# --------------------------------------------------------------------------- untouched


UNTOUCHED_LEADS = leads(
    {"lead_id": "Q1", "owner_id": "R1", "created_at": "2025-04-20 09:00"},  # today, untouched
    {"lead_id": "Q2", "created_at": "2025-04-18 23:59", "action_status": "working"},
    {"lead_id": "Q3", "owner_id": "R2", "created_at": "2025-04-15 10:00"},
    {"lead_id": "Q4", "created_at": "2025-04-10 10:00", "action_status": "disqualified"},
    {"lead_id": "Q5", "created_at": "2025-04-10 10:00", "origin": "outbound"},
    {"lead_id": "Q6", "created_at": "2025-04-21 08:00"},  # after as_of
    {"lead_id": "Q7", "created_at": "2025-04-16 10:00"},
)
UNTOUCHED_ACTS = acts(
    call("Q2", "2025-04-19 00:01"),  # the day after creation: out of the queue since
    call("Q3", "2025-04-14 10:00"),  # a touch before the creation day does not count
    call(None, "2025-04-16 10:00", account_id="A1"),  # account-level call
    call("Q7", "2025-04-16 09:00", direction="inbound", outcome="connected"),  # not a touch
    web("Q7", "2025-04-16 09:30"),  # not a touch either
)


def test_untouched_inbound_by_hand() -> None:
    got = on_engines(untouched_inbound, UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF)
    # newest first: Q1 (created today), Q7 (an inbound call and a web visit are not
    # touches), Q3 (04-15, touched only before its creation day); Q2 was touched 00:01 the
    # day after its creation; Q4 disqualified, Q5 outbound, Q6 created after as_of
    assert ids(got) == ["Q1", "Q7", "Q3"]
    assert got["waiting_hours"].tolist() == [
        pytest.approx(15.0),  # 04-20 09:00 -> 04-21 00:00
        pytest.approx(4 * 24 + 14),
        pytest.approx(5 * 24 + 14),  # 04-15 10:00 -> 04-21 00:00
    ]
    assert got["last_touch_at"].iloc[2] == pd.Timestamp("2025-04-14 10:00")
    recent = untouched_inbound(UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF, lookback_days=5)
    assert ids(recent) == ["Q1", "Q7"]  # created from 04-16 00:00 on
    assert list(got.columns[:4]) == ["lead_id", "owner_id", "account_id", "created_at"]


def test_untouched_inbound_is_not_monotone() -> None:
    # Q2 is in the queue on its creation day and leaves it once touched the next day
    assert "Q2" in ids(untouched_inbound(UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of="2025-04-18"))
    assert "Q2" not in ids(untouched_inbound(UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF))
    every = untouched_inbound(UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF, statuses=None)
    assert ids(every) == ["Q1", "Q7", "Q3", "Q4"]  # disqualified Q4 listed too


# --------------------------------------------------------------------------- next activity

PLAN_LEADS = leads(
    {"lead_id": "P1", "owner_id": "R1", "action_status": "working",
     "next_activity_on": "2025-04-19", "created_at": "2025-04-01"},  # overdue 1 day
    {"lead_id": "P2", "action_status": "connected", "next_activity_on": "2025-04-20",
     "priority": "focus", "created_at": "2025-04-01"},  # due today: not overdue
    {"lead_id": "P3", "action_status": "new", "next_activity_on": "2025-04-01",
     "priority": "focus", "created_at": "2025-03-01"},  # overdue 19 days
    {"lead_id": "P4", "action_status": "qualified", "next_activity_on": "2025-04-01",
     "priority": "focus", "created_at": "2025-03-01"},  # closed status
    {"lead_id": "P5", "action_status": "working", "next_activity_on": "2025-06-19",
     "priority": "focus", "created_at": "2025-04-01"},  # 60 days ahead: due within horizon
    {"lead_id": "P6", "action_status": "working", "next_activity_on": "2025-06-20",
     "priority": "focus", "created_at": "2025-04-01"},  # 61 days: not yet
    {"lead_id": "P7", "action_status": "working", "next_activity_on": "2025-04-25",
     "priority": "non_focus", "created_at": "2025-04-01"},
    {"lead_id": "P8", "action_status": "working", "priority": "focus",
     "created_at": "2025-04-01"},  # no next activity date
    {"lead_id": "P9", "action_status": "working", "next_activity_on": "2025-04-02",
     "created_at": "2025-04-25"},  # created after as_of
)  # fmt: skip
PLAN_ACTS = acts(call("P1", "2025-04-10 10:00"), call("P1", "2025-04-25 10:00"))


def test_overdue_next_activity_by_hand() -> None:
    got = on_engines(overdue_next_activity, PLAN_LEADS, PLAN_ACTS, as_of=AS_OF)
    assert ids(got) == ["P3", "P1"]  # most overdue first; P2 due today; P4 qualified
    assert got["overdue_days"].tolist() == [19, 1]
    # the touch after as_of is ignored
    assert got["last_touch_at"].tolist()[1] == pd.Timestamp("2025-04-10 10:00")


def test_focus_due_by_hand() -> None:
    got = on_engines(focus_due, PLAN_LEADS, PLAN_ACTS, as_of=AS_OF)
    # P3 overdue (-19), P2 due today (0), P5 in 60 days; P6 61 days; P7 not focus; P8 no date
    assert ids(got) == ["P3", "P2", "P5"]
    assert got["due_in_days"].tolist() == [-19, 0, 60]
    assert ids(focus_due(PLAN_LEADS, PLAN_ACTS, as_of=AS_OF, horizon_days=61)) == [
        "P3", "P2", "P5", "P6",
    ]  # fmt: skip
    assert ids(focus_due(PLAN_LEADS, PLAN_ACTS, as_of=AS_OF, statuses=None)) == [
        "P3", "P4", "P2", "P5",
    ]  # fmt: skip


# --------------------------------------------------------------------------- do not pursue

DNP_LEADS = leads(
    {"lead_id": "D1", "action_status": "no_action_needed", "memo": "student",
     "created_at": "2025-04-01"},
    {"lead_id": "D2", "action_status": "not_pursued_after_connect", "memo": "competitor",
     "created_at": "2025-04-01"},
    {"lead_id": "D3", "action_status": "no_action_needed", "created_at": "2025-04-02"},
    {"lead_id": "D4", "action_status": "working", "created_at": "2025-04-02"},
)  # fmt: skip
DNP_ACTS = acts(
    call("D1", "2025-04-02 10:00", activity_id="x1"),
    email("D1", "2025-04-03 10:00", "replied", direction="inbound", activity_id="x2"),
    # D3: two activities at the same time; the tie is broken by activity_id (y2 last)
    call("D3", "2025-04-05 10:00", activity_id="y1"),
    email("D3", "2025-04-05 10:00", activity_id="y2"),
    email("D3", "2025-04-25 10:00", activity_id="y3"),  # after as_of
)


def test_do_not_pursue_review_by_hand() -> None:
    got = on_engines(do_not_pursue_review, DNP_LEADS, DNP_ACTS, as_of=AS_OF)
    assert ids(got) == ["D3", "D1", "D2"]  # latest activity first, none last
    assert got["last_activity_channel"].tolist()[:2] == ["email", "email"]
    assert got["last_activity_direction"].tolist()[:2] == ["outbound", "inbound"]
    assert got["touch_count"].tolist() == [2, 1, 0]
    assert got["connect_count"].tolist() == [0, 1, 0]  # D1's inbound reply is a connect
    assert got["memo"].tolist()[1:] == ["student", "competitor"]  # extra column passed through
    assert got["last_activity_at"].iloc[0] == pd.Timestamp("2025-04-05 10:00")
    only = do_not_pursue_review(DNP_LEADS, DNP_ACTS, as_of=AS_OF, statuses=["no_action_needed"])
    assert ids(only) == ["D3", "D1"]


# --------------------------------------------------------------------------- recycle

RECYCLE_LEADS = leads(
    {"lead_id": "Y1", "owner_id": "R1", "action_status": "recycled", "source": "ads",
     "recycle_on": "2025-04-20", "recycle_reason": "timing", "created_at": "2025-01-10"},
    {"lead_id": "Y2", "owner_id": "R1", "action_status": "recycled", "source": "ads",
     "recycle_on": "2025-04-01", "recycle_reason": "budget", "created_at": "2025-01-11"},
    {"lead_id": "Y3", "owner_id": "R2", "action_status": "recycled", "source": "seminar",
     "recycle_on": "2025-04-21", "recycle_reason": "timing", "created_at": "2025-02-01"},
    {"lead_id": "Y4", "owner_id": "R2", "action_status": "working", "source": "ads",
     "recycle_on": "2025-04-01", "recycle_reason": "budget", "created_at": "2025-02-01"},
    {"lead_id": "Y5", "owner_id": "R2", "action_status": "recycled", "source": "seminar",
     "created_at": "2025-02-03"},  # no date, no reason
)  # fmt: skip


def test_recycle_due_by_hand() -> None:
    got = on_engines(recycle_due, RECYCLE_LEADS, NO_ACTS, as_of=AS_OF)
    assert ids(got) == ["Y2", "Y1"]  # recycle_on reached; Y3 tomorrow; Y4 not recycled
    assert got["days_since_due"].tolist() == [19, 0]
    assert got["recycle_reason"].tolist() == ["budget", "timing"]


def test_recycle_reasons_by_hand() -> None:
    got = on_engines(recycle_reasons, RECYCLE_LEADS, as_of=AS_OF)
    # recycled leads: Y1 timing, Y2 budget, Y3 timing, Y5 missing -> most frequent first
    assert got["recycle_reason"].fillna("-").tolist() == ["timing", "budget", "-"]
    assert got["lead_count"].tolist() == [2, 1, 1]
    assert got["share"].tolist() == [0.5, 0.25, 0.25]
    due = recycle_reasons(RECYCLE_LEADS, as_of=AS_OF, due_only=True)
    assert got.columns.tolist() == due.columns.tolist()
    assert due["recycle_reason"].tolist() == ["budget", "timing"]  # ties by reason name
    by_source = recycle_reasons(RECYCLE_LEADS, as_of=AS_OF, by="source")
    assert by_source[["source", "lead_count"]].values.tolist() == [
        ["ads", 1], ["ads", 1], ["seminar", 1], ["seminar", 1],
    ]  # fmt: skip
    assert by_source["share"].tolist() == [0.5, 0.5, 0.5, 0.5]


# --------------------------------------------------------------------------- hot leads

HOT_LEADS = leads(
    *[{"lead_id": f"H{i}", "owner_id": "R1", "action_status": "working",
       "created_at": "2025-03-01"} for i in range(1, 6)],
    {"lead_id": "H6", "action_status": "qualified", "created_at": "2025-03-01"},
    {"lead_id": "H7", "owner_id": "R2", "action_status": "recycled", "created_at": "2025-03-01"},
)  # fmt: skip
HOT_ACTS = acts(
    # H1: five page views, two at the same time; no touch -> hot at the 5th (10:03)
    *[web("H1", f"2025-04-15 10:0{m}", activity_id=f"h1{k}")
      for k, m in enumerate([0, 1, 1, 2, 3])],
    # H2: link click, then touched: not hot
    web("H2", "2025-04-16 09:00", "link_click"), call("H2", "2025-04-16 10:00"),
    # H3: 4 views, a touch, then 5 fresh views: hot at the 5th fresh view (04-14 11:00)
    *[web("H3", f"2025-04-10 1{h}:00") for h in range(4)],
    call("H3", "2025-04-12 10:00"),
    *[web("H3", t) for t in ("2025-04-13 10:00", "2025-04-13 11:00", "2025-04-13 12:00",
                             "2025-04-14 10:00", "2025-04-14 11:00")],
    # H4: six page views before the lookback (04-07 00:00): not hot
    *[web("H4", f"2025-04-0{d} 10:00") for d in range(1, 7)],
    # H5: link click and a touch at the very same time: not after the touch -> not hot
    web("H5", "2025-04-19 12:00", "link_click"), call("H5", "2025-04-19 12:00"),
    # H6: qualified: excluded by default
    web("H6", "2025-04-19 12:00", "link_click"),
    # H7: a link click (04-18 08:00) earlier than its 5th page view
    web("H7", "2025-04-18 08:00", "link_click"),
    *[web("H7", f"2025-04-18 1{h}:00") for h in range(5)],
)  # fmt: skip


def test_hot_leads_by_hand() -> None:
    got = on_engines(hot_leads, HOT_LEADS, HOT_ACTS, as_of=AS_OF)
    assert ids(got) == ["H7", "H1", "H3"]  # the most recent signal first
    assert got["signal_at"].tolist() == [
        pd.Timestamp("2025-04-18 08:00"),
        pd.Timestamp("2025-04-15 10:03"),
        pd.Timestamp("2025-04-14 11:00"),
    ]
    assert got["page_view_count"].tolist() == [5, 5, 5]  # fresh views only for H3
    assert got["link_click_count"].tolist() == [1, 0, 0]
    # from the signal to the end of as_of (04-21 00:00)
    assert got["since_signal_hours"].tolist() == pytest.approx([2 * 24 + 16, 5 * 24 + 13.95,
                                                                6 * 24 + 13])  # fmt: skip
    assert got["last_touch_at"].iloc[2] == pd.Timestamp("2025-04-12 10:00")


def test_hot_leads_thresholds_and_lookback() -> None:
    six = hot_leads(HOT_LEADS, HOT_ACTS, as_of=AS_OF, page_views=6)
    assert ids(six) == ["H7"]  # the link click still counts
    longer = hot_leads(HOT_LEADS, HOT_ACTS, as_of=AS_OF, lookback_days=20)
    assert "H4" in ids(longer)  # 04-01.. now inside the lookback
    every = hot_leads(HOT_LEADS, HOT_ACTS, as_of=AS_OF, statuses=None)
    assert "H6" in ids(every)
    # not monotone: H1 is hot on 04-15 but 14 days later its views fall out of the lookback
    assert "H1" in ids(hot_leads(HOT_LEADS, HOT_ACTS, as_of="2025-04-15"))
    assert "H1" not in ids(hot_leads(HOT_LEADS, HOT_ACTS, as_of="2025-04-30"))


# --------------------------------------------------------------------------- counts


def test_queue_counts_match_the_queues() -> None:
    tables = generate_sample(leads=300, seed=4)
    le, ac = tables["leads"], tables["activities"]
    as_of = "2025-10-15"
    totals = queue_counts(le, ac, as_of=as_of, by=())
    functions = {
        "untouched_inbound": untouched_inbound,
        "overdue_next_activity": overdue_next_activity,
        "focus_due": focus_due,
        "do_not_pursue_review": do_not_pursue_review,
        "recycle_due": recycle_due,
        "hot_leads": hot_leads,
    }
    assert list(functions) == list(QUEUES)
    expected = {name: len(f(le, ac, as_of=as_of)) for name, f in functions.items()}
    got = dict(zip(totals["queue"], totals["lead_count"], strict=True))
    assert got == {k: v for k, v in expected.items() if v}
    per_owner = on_engines(queue_counts, le, ac, as_of=as_of)
    assert per_owner.groupby("queue", sort=False)["lead_count"].sum().to_dict() == got


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call_it", "message"),
    [
        (lambda: focus_due(PLAN_LEADS, PLAN_ACTS, as_of=AS_OF, horizon_days=-1),
         "horizon_days must be an integer >= 0"),
        (lambda: untouched_inbound(UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF,
                                   lookback_days=0), "lookback_days must be an integer >= 1"),
        (lambda: hot_leads(HOT_LEADS, HOT_ACTS, as_of=AS_OF, page_views=0),
         "page_views must be"),
        (lambda: hot_leads(HOT_LEADS, HOT_ACTS, as_of=AS_OF, lookback_days="14"),
         "lookback_days must be"),
        (lambda: recycle_due(RECYCLE_LEADS, NO_ACTS, as_of=AS_OF, statuses=["gone"]),
         "statuses must be action_status values"),
        (lambda: recycle_reasons(RECYCLE_LEADS, as_of=AS_OF, due_only="yes"),
         "due_only must be True or False"),
        (lambda: recycle_reasons(RECYCLE_LEADS, as_of=AS_OF, by="nope"), "by names unknown"),
        (lambda: queue_counts(RECYCLE_LEADS, NO_ACTS, as_of=AS_OF, by="nope"),
         "by names unknown"),
        (lambda: overdue_next_activity(PLAN_LEADS, PLAN_ACTS, as_of="tomorrow"),
         "as_of must be a date"),
    ],
)  # fmt: skip
def test_parameters_are_validated(call_it: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call_it()


def test_missing_columns_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="next_activity_on"):
        overdue_next_activity(PLAN_LEADS.drop(columns=["next_activity_on"]), PLAN_ACTS,
                              as_of=AS_OF)  # fmt: skip
    with pytest.raises(SchemaError, match="activity_id"):
        hot_leads(HOT_LEADS, HOT_ACTS.drop(columns=["activity_id"]), as_of=AS_OF)


def test_inputs_are_not_mutated() -> None:
    unchanged(untouched_inbound, UNTOUCHED_LEADS, UNTOUCHED_ACTS, as_of=AS_OF)
    unchanged(overdue_next_activity, PLAN_LEADS, PLAN_ACTS, as_of=AS_OF)
    unchanged(focus_due, PLAN_LEADS, PLAN_ACTS, as_of=AS_OF)
    unchanged(do_not_pursue_review, DNP_LEADS, DNP_ACTS, as_of=AS_OF)
    unchanged(recycle_due, RECYCLE_LEADS, NO_ACTS, as_of=AS_OF)
    unchanged(recycle_reasons, RECYCLE_LEADS, as_of=AS_OF)
    unchanged(hot_leads, HOT_LEADS, HOT_ACTS, as_of=AS_OF)
    unchanged(queue_counts, HOT_LEADS, HOT_ACTS, as_of=AS_OF)


# --------------------------------------------------------------------------- monotone

START = datetime(2025, 3, 1)
_STATUSES = ["new", "working", "connected", "no_action_needed", "not_pursued_after_connect",
             "recycled", "qualified"]  # fmt: skip


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    def day(lo: int, hi: int) -> datetime | None:
        return draw(st.one_of(st.none(), st.integers(lo, hi).map(lambda d: START + timedelta(d))))

    lead_rows = [
        {
            "lead_id": f"L{i}",
            "origin": draw(st.sampled_from(["inbound", "outbound"])),
            "action_status": draw(st.sampled_from(_STATUSES)),
            "priority": draw(st.sampled_from(["focus", "non_focus", None])),
            "created_at": START + timedelta(hours=8 * draw(st.integers(0, 150))),
            "next_activity_on": day(0, 120),
            "recycle_on": day(0, 90),
            "recycle_reason": draw(st.sampled_from(["timing", "budget", None])),
        }
        for i in range(draw(st.integers(1, 6)))
    ]
    act_rows = [
        {
            "lead_id": draw(st.sampled_from([r["lead_id"] for r in lead_rows])),
            "occurred_at": START + timedelta(hours=8 * draw(st.integers(0, 180))),
            "channel": (channel := draw(st.sampled_from(["call", "email", "web"]))),
            "direction": "inbound" if channel == "web" else "outbound",
            "outcome": {"call": "no_answer", "email": "sent", "web": "page_view"}[channel],
        }
        for _ in range(draw(st.integers(0, 15)))
    ]
    return leads(*lead_rows), acts(*act_rows)


MONOTONE = [overdue_next_activity, focus_due, do_not_pursue_review, recycle_due]


@settings(max_examples=25, deadline=None)  # four queues, two days each
@given(datasets(), st.integers(0, 60), st.integers(1, 60))
def test_monotone_queues_only_grow_with_as_of(
    data: tuple[pd.DataFrame, pd.DataFrame], first: int, later: int
) -> None:
    le, ac = data
    early = (START + timedelta(days=first)).date()
    late = early + timedelta(days=later)
    for function in MONOTONE:
        before = set(ids(function(le, ac, as_of=early)))
        after = set(ids(function(le, ac, as_of=late)))
        assert before <= after, function.__name__


@settings(max_examples=30, deadline=None)
@given(datasets(), st.integers(0, 100))
def test_queue_membership_matches_plain_python(
    data: tuple[pd.DataFrame, pd.DataFrame], offset: int
) -> None:
    le, ac = data
    as_of = (START + timedelta(days=offset)).date()
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    day = cutoff - timedelta(days=1)
    live = le[le.created_at < cutoff]
    open_ = live[live.action_status.isin(["new", "working", "connected"])]
    overdue = open_[open_.next_activity_on < day]
    assert set(ids(overdue_next_activity(le, ac, as_of=as_of))) == set(overdue.lead_id)
    recycled = live[(live.action_status == "recycled") & (live.recycle_on <= day)]
    assert set(ids(recycle_due(le, ac, as_of=as_of))) == set(recycled.lead_id)
    touches = ac[(ac.channel != "web") & (ac.occurred_at < cutoff)]
    waiting = [
        r.lead_id for r in live.itertuples()
        if r.origin == "inbound" and r.action_status in ("new", "working")
        and not ((touches.lead_id == r.lead_id)
                 & (touches.occurred_at >= r.created_at.normalize())).any()
    ]  # fmt: skip
    assert set(ids(untouched_inbound(le, ac, as_of=as_of))) == set(waiting)


# --------------------------------------------------------------------------- report


def test_report_section_on_sample() -> None:
    ds = Dataset(**generate_sample(leads=300, seed=2))
    section = build_section("queues", ds, date(2025, 12, 31))
    assert section.key == "queues"
    counts = section.tables["counts"]
    assert counts["queue"].tolist() == list(QUEUES)
    for name in QUEUES:
        top = section.tables[f"top_{name}"]
        assert len(top) <= 10
        assert len(top) == min(10, int(counts.set_index("queue").loc[name, "lead_count"]))
    assert "recycle_reasons" in section.tables
    wide = section.tables["counts_by_owner"]  # one row per owner, one column per queue
    assert list(wide.columns) == ["owner_id", *QUEUES]
    assert wide[list(QUEUES)].sum().tolist() == counts["lead_count"].tolist()
