"""Pipeline history: snapshots, trends and the waterfall on a hand-written history
(values computed by hand next to the data), plus an independent plain-Python reading
of DESIGN section 7 checked on random histories."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit import ConfigError
from pipelinekit.domain import Opportunity, OpportunityHistory, StageChange
from pipelinekit.facts import Facts
from pipelinekit.metrics.history import (
    MOVEMENT_PARTS,
    pipeline_movement,
    pipeline_movement_deals,
    pipeline_snapshot,
    pipeline_trend,
)
from pipelinekit.schema import from_objects

from ..engines.engines import assert_same_result, convert_tables
from ..strategies import HISTORY_DAYS, START, opportunity_histories

EXAMPLES = int(os.environ.get("PIPELINEKIT_PROPERTY_EXAMPLES", "40"))
FIELDS = ("stage", "amount", "expected_close_on", "probability", "forecast_category")
Q4 = ("2025-10-01", "2025-12-31")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _opp(
    oid: str,
    created: str,
    *,
    closed: str | None = None,
    won: bool | None = None,
    amount: float | None = None,
    close_on: str | None = None,
    stage: str | None = None,
    owner: str = "F1",
) -> Opportunity:
    return Opportunity(
        opportunity_id=oid,
        owner_id=owner,
        created_at=_dt(created),
        closed_at=None if closed is None else _dt(closed),
        is_won=won,
        amount=amount,
        expected_close_on=None if close_on is None else date.fromisoformat(close_on),
        stage=stage,
    )


def _row(oid: str, at: str, **fields: Any) -> OpportunityHistory:
    close_on = fields.pop("close_on", None)
    if close_on is not None:
        fields["expected_close_on"] = date.fromisoformat(close_on)
    return OpportunityHistory(opportunity_id=oid, changed_at=_dt(at), **fields)


# The waterfall of Q4 2025 between the ends of a = 2025-10-01 and b = 2025-11-30; the
# opportunities rows hold today's values (the export), the history how they got there.
OPPS = [
    # D1: created and won inside the window: created 100, won 100
    _opp(
        "D1",
        "2025-10-05 10:00",
        closed="2025-11-20 15:00",
        won=True,
        amount=100,
        close_on="2025-11-20",
        stage="won",
    ),
    # D2: close date moved out of Q4 (10-15) and back in (11-25): unchanged at b
    _opp("D2", "2025-09-01 10:00", amount=200, close_on="2025-12-05", stage="quote"),
    # D3: stage regression quote -> proposal; expected on the last day of Q4 (inclusive)
    _opp("D3", "2025-09-01 11:00", amount=900, close_on="2025-12-31", stage="proposal"),
    # D4: amount 300 -> 250 on the closing day, won that evening
    _opp(
        "D4",
        "2025-08-01 10:00",
        closed="2025-10-31 18:00",
        won=True,
        amount=250,
        close_on="2025-10-31",
        stage="won",
    ),
    # D5: two rows at the same instant (400 then 450 in the file): 450 counts
    _opp("D5", "2025-09-10 10:00", amount=450, close_on="2025-12-20", stage="proposal"),
    # D6: pulled into Q4 only at 2025-12-01 00:00 (after b): not in the waterfall
    _opp("D6", "2025-09-15 10:00", amount=550, close_on="2025-12-15", stage="list"),
    # D7: no history at all: its current row on every day
    _opp("D7", "2025-09-20 10:00", amount=600, close_on="2025-12-01", stage="quote"),
    # D8: lost inside the window
    _opp(
        "D8",
        "2025-07-01 10:00",
        closed="2025-10-20 12:00",
        won=False,
        amount=700,
        close_on="2025-10-20",
        stage="lost",
    ),
    # D9: pulled in from January at 23:59:59 on b (the change belongs to b)
    _opp("D9", "2025-09-05 10:00", amount=800, close_on="2025-12-20", stage="quote"),
    # D10: closed before a: out of scope
    _opp(
        "D10",
        "2025-06-01 10:00",
        closed="2025-09-15 10:00",
        won=True,
        amount=50,
        close_on="2025-09-15",
        stage="won",
    ),
    # D11: created after b: out of scope
    _opp("D11", "2025-12-05 10:00", amount=60, close_on="2025-12-20", stage="list"),
    # D13: pushed out to January (11-28), then its amount rose (not booked)
    _opp("D13", "2025-08-15 10:00", amount=1100, close_on="2026-01-31", stage="quote"),
]
HISTORY = [
    _row("D1", "2025-10-05 10:00", stage="list", amount=100, close_on="2025-11-15"),
    _row("D1", "2025-11-20 15:00", stage="won", close_on="2025-11-20"),
    _row("D2", "2025-09-01 10:00", stage="list", amount=200, close_on="2025-11-10"),
    _row("D2", "2025-10-15 09:00", close_on="2026-01-15"),
    _row("D2", "2025-11-25 09:00", stage="quote", close_on="2025-12-05"),
    _row("D3", "2025-09-01 11:00", stage="list", amount=900, close_on="2025-12-31"),
    _row("D3", "2025-10-10 11:00", stage="quote"),
    _row("D3", "2025-10-20 11:00", stage="proposal"),
    _row("D4", "2025-08-01 10:00", stage="list", amount=300, close_on="2025-10-31"),
    _row("D4", "2025-10-31 09:00", amount=250),
    _row("D4", "2025-10-31 18:00", stage="won"),
    _row("D5", "2025-09-10 10:00", stage="list", amount=380, close_on="2025-12-20"),
    _row("D5", "2025-10-10 12:00", stage="proposal", amount=400),
    _row("D5", "2025-10-10 12:00", amount=450),
    _row("D6", "2025-09-15 10:00", stage="list", amount=500, close_on="2026-02-01"),
    _row("D6", "2025-12-01 00:00", amount=550, close_on="2025-12-15"),
    _row("D8", "2025-07-01 10:00", stage="list", amount=700, close_on="2025-10-20"),
    _row("D8", "2025-10-20 12:00", stage="lost"),
    _row("D9", "2025-09-05 10:00", stage="list", amount=800, close_on="2026-01-20"),
    _row("D9", "2025-11-30 23:59:59", stage="quote", close_on="2025-12-20"),
    _row("D13", "2025-08-15 10:00", stage="quote", amount=1000, close_on="2025-11-30"),
    _row("D13", "2025-11-28 10:00", close_on="2026-01-31"),
    _row("D13", "2025-11-29 10:00", amount=1100),
    _row("DX", "2025-10-02 10:00", stage="list", amount=5, close_on="2025-10-30"),  # orphan
]


def frames(
    opps: Sequence[Opportunity] = OPPS, history: Sequence[OpportunityHistory] = HISTORY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return from_objects(list(opps), Opportunity), from_objects(list(history), OpportunityHistory)


def state(snapshot: pd.DataFrame, oid: str) -> dict[str, Any]:
    rows = snapshot[snapshot["opportunity_id"] == oid]
    assert len(rows) == 1, oid
    return {k: (None if pd.isna(v) else v) for k, v in rows.iloc[0].to_dict().items()}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --------------------------------------------------------------------------- waterfall


def test_waterfall_per_deal_hand_computed() -> None:
    opps, history = frames()
    deals = pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=Q4
    ).set_index("opportunity_id")
    # D6 (moved in after b), D10 (closed before a), D11 (created after b) and the
    # orphan DX are not in S or E
    assert sorted(deals.index) == ["D1", "D13", "D2", "D3", "D4", "D5", "D7", "D8", "D9"]
    parts = {oid: {p: row[p] for p in MOVEMENT_PARTS if row[p]} for oid, row in deals.iterrows()}
    assert parts == {
        "D1": {"created": 100, "won": 100},
        "D2": {"start": 200, "end": 200},  # out on 10-15, back on 11-25
        "D3": {"start": 900, "end": 900},
        "D4": {"start": 300, "amount_down": 50, "won": 250},  # 300 + 0 - 50 - 250 = 0
        "D5": {"start": 380, "amount_up": 70, "end": 450},  # 450 - 380
        "D7": {"start": 600, "end": 600},
        "D8": {"start": 700, "lost": 700},
        "D9": {"pulled_in": 800, "end": 800},
        "D13": {"start": 1000, "pushed_out": 1000},  # 1100 later is not booked
    }
    assert deals["category"].to_dict() == {
        "D1": "created+won",
        "D13": "pushed_out",
        "D2": "unchanged",
        "D3": "unchanged",
        "D4": "amount_down+won",
        "D5": "amount_up",
        "D7": "unchanged",
        "D8": "lost",
        "D9": "pulled_in",
    }
    assert deals.loc["D1", "stage_start"] is pd.NA or pd.isna(deals.loc["D1", "stage_start"])
    assert deals.loc["D3", ["stage_start", "stage_end"]].tolist() == ["list", "proposal"]
    assert deals.loc["D2", "expected_close_on_start"] == ts("2025-11-10")
    assert deals.loc["D2", "expected_close_on_end"] == ts("2025-12-05")
    assert deals.loc["D4", ["amount_start", "amount_end", "status"]].tolist() == [300, 250, "won"]
    for oid, row in deals.iterrows():
        flow = (
            row["start"]
            + row["created"]
            + row["pulled_in"]
            + row["amount_up"]
            - row["amount_down"]
            - row["pushed_out"]
            - row["won"]
            - row["lost"]
        )
        assert flow == row["end"], oid


def test_waterfall_total_hand_computed() -> None:
    opps, history = frames()
    total = pipeline_movement(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=Q4
    )
    assert len(total) == 1
    got = total.iloc[0].to_dict()
    # start: D2 200 + D3 900 + D4 300 + D5 380 + D7 600 + D8 700 + D13 1000 = 4080
    # end: D2 200 + D3 900 + D5 450 + D7 600 + D9 800 = 2950
    # 4080 + 100 + 800 + 70 - 50 - 1000 - (100 + 250) - 700 = 2950
    assert {p: got[p] for p in MOVEMENT_PARTS} == {
        "start": 4080.0,
        "created": 100.0,
        "pulled_in": 800.0,
        "amount_up": 70.0,
        "amount_down": 50.0,
        "pushed_out": 1000.0,
        "won": 350.0,
        "lost": 700.0,
        "end": 2950.0,
    }
    assert {p: got[f"{p}_count"] for p in MOVEMENT_PARTS} == {
        "start": 7,
        "created": 1,
        "pulled_in": 1,
        "amount_up": 1,
        "amount_down": 1,
        "pushed_out": 1,
        "won": 2,
        "lost": 1,
        "end": 5,  # 7 + 1 + 1 - 1 - 2 - 1
    }
    assert str(total["start"].dtype) == "float64"
    assert pd.api.types.is_integer_dtype(total["end_count"])


def test_waterfall_start_and_end_are_the_trend_of_the_period() -> None:
    # the waterfall's start and end are the open pipeline expected to close in Q4 on
    # a and on b, as pipeline_trend reads it
    opps, history = frames()
    total = pipeline_movement(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=Q4
    )
    trend = pipeline_trend(
        opps, history=history, on=("2025-10-01", "2025-11-30"), freq="day", close_period=Q4
    ).set_index("day")
    assert trend.loc[ts("2025-10-01"), "open_amount"] == total.loc[0, "start"]
    assert trend.loc[ts("2025-11-30"), "open_amount"] == total.loc[0, "end"]
    assert trend.loc[ts("2025-11-30"), "open_count"] == total.loc[0, "end_count"]


def test_close_date_moved_out_and_back_in() -> None:
    opps, history = frames()
    # by the end of October D2 expects January: pushed out, 200 (amount at a)
    october = pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-10-31", close_period=Q4
    ).set_index("opportunity_id")
    assert october.loc["D2", ["category", "start", "pushed_out", "end"]].tolist() == [
        "pushed_out",
        200.0,
        200.0,
        0.0,
    ]
    # from the end of October to the end of November it came back: pulled in
    november = pipeline_movement_deals(
        opps, history=history, start="2025-10-31", end="2025-11-30", close_period=Q4
    ).set_index("opportunity_id")
    assert november.loc["D2", ["category", "start", "pulled_in", "end"]].tolist() == [
        "pulled_in",
        0.0,
        200.0,
        200.0,
    ]
    snap = pipeline_snapshot(opps, history=history, on=("2025-10-14", "2025-11-25"))
    d2 = snap[snap["opportunity_id"] == "D2"].set_index("day")["expected_close_on"]
    assert d2[ts("2025-10-14")] == ts("2025-11-10")
    assert d2[ts("2025-10-15")] == ts("2026-01-15")
    assert d2[ts("2025-11-24")] == ts("2026-01-15")
    assert d2[ts("2025-11-25")] == ts("2025-12-05")


def test_stage_regression() -> None:
    opps, history = frames()
    snap = pipeline_snapshot(opps, history=history, on=("2025-10-09", "2025-10-20"))
    d3 = snap[snap["opportunity_id"] == "D3"].set_index("day")["stage"]
    assert d3[ts("2025-10-09")] == "list"
    assert d3[ts("2025-10-10")] == "quote"
    assert d3[ts("2025-10-19")] == "quote"
    assert d3[ts("2025-10-20")] == "proposal"  # back one stage


def test_amount_changed_on_the_closing_day() -> None:
    opps, history = frames()
    before = state(pipeline_snapshot(opps, history=history, on="2025-10-30"), "D4")
    assert (before["status"], before["amount"], before["closed_at"]) == ("open", 300.0, None)
    closing = state(pipeline_snapshot(opps, history=history, on="2025-10-31"), "D4")
    assert (closing["status"], closing["stage"], closing["amount"]) == ("won", "won", 250.0)
    assert closing["closed_at"] == ts("2025-10-31 18:00")
    # a waterfall ending on the closing day books the cut and the win at the new amount
    deals = pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-10-31", close_period=Q4
    ).set_index("opportunity_id")
    assert deals.loc["D4", ["start", "amount_down", "won", "end"]].tolist() == [
        300.0,
        50.0,
        250.0,
        0.0,
    ]


def test_equal_timestamps_break_ties_by_file_order() -> None:
    opps, history = frames()
    assert state(pipeline_snapshot(opps, history=history, on="2025-10-10"), "D5")["amount"] == 450.0
    # the same two rows the other way round in the file: the later one (400) wins
    swapped = list(HISTORY)
    i = next(k for k, r in enumerate(swapped) if r.opportunity_id == "D5" and r.amount == 400)
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    _, history2 = frames(history=swapped)
    got = state(pipeline_snapshot(opps, history=history2, on="2025-10-10"), "D5")
    # an empty cell never erases a value: the stage of the 400 row stays
    assert (got["amount"], got["stage"]) == (400.0, "proposal")


def test_rows_after_the_day_are_ignored() -> None:
    opps, history = frames()
    # D6: its row at 2025-12-01 00:00 belongs to December 1st, not to November 30th
    on_b = state(pipeline_snapshot(opps, history=history, on="2025-11-30"), "D6")
    assert (on_b["amount"], on_b["expected_close_on"]) == (500.0, ts("2026-02-01"))
    next_day = state(pipeline_snapshot(opps, history=history, on="2025-12-01"), "D6")
    assert (next_day["amount"], next_day["expected_close_on"]) == (550.0, ts("2025-12-15"))
    # D9: a change at 23:59:59 belongs to its day
    assert (
        state(pipeline_snapshot(opps, history=history, on="2025-11-30"), "D9")["stage"] == "quote"
    )
    assert state(pipeline_snapshot(opps, history=history, on="2025-11-29"), "D9")["stage"] == "list"


def test_a_deal_without_history_uses_its_current_row() -> None:
    opps, history = frames()
    snap = pipeline_snapshot(opps, history=history, on=("2025-09-19", "2025-10-01"))
    d7 = snap[snap["opportunity_id"] == "D7"]
    # not there before its creation day; on every later day its current values
    assert d7["day"].min() == ts("2025-09-20")
    assert set(d7["stage"]) == {"quote"}
    assert set(d7["amount"]) == {600.0}
    assert set(d7["expected_close_on"]) == {ts("2025-12-01")}


def test_a_deal_created_and_closed_inside_the_window() -> None:
    opps, history = frames()
    snap = pipeline_snapshot(opps, history=history, on=("2025-10-04", "2025-11-20"), freq="week")
    d1 = snap[snap["opportunity_id"] == "D1"].set_index("day")
    # weeks end on Sundays: 10-05 (its creation day) ... 11-16, then 11-20 (the range end)
    assert d1.index.tolist()[0] == ts("2025-10-05")
    assert d1.loc[ts("2025-11-16"), ["status", "expected_close_on"]].tolist() == [
        "open",
        ts("2025-11-15"),
    ]
    assert d1.loc[ts("2025-11-20"), ["status", "expected_close_on"]].tolist() == [
        "won",
        ts("2025-11-20"),
    ]


def test_orphan_history_rows_are_ignored() -> None:
    opps, history = frames()
    snap = pipeline_snapshot(opps, history=history, on="2025-11-30")
    assert "DX" not in set(snap["opportunity_id"])


def test_orphan_history_rows_are_warned_by_validation() -> None:
    opps, history = frames()
    leads = pd.DataFrame(
        {"lead_id": ["L1"], "created_at": [pd.Timestamp("2025-01-01")], "origin": ["inbound"]}
    )
    ds = pk.Dataset(leads=leads, opportunities=opps, opportunity_history=history).validate()
    orphans = [w for w in ds.warnings if w.table == "opportunity_history"]
    assert [(w.column, w.rule) for w in orphans] == [("opportunity_id", "orphan_fk")]
    with pytest.raises(pk.SchemaError, match="opportunity_history"):
        pk.Dataset(leads=leads, opportunities=opps, opportunity_history=history).validate(
            strict=True
        )


# --------------------------------------------------------------------------- snapshot


def test_snapshot_columns_and_order() -> None:
    opps, history = frames()
    snap = pipeline_snapshot(opps, history=history, on="2025-10-10", by="owner_id")
    assert snap.columns.tolist() == [
        "day",
        "opportunity_id",
        "owner_id",
        "created_at",
        "closed_at",
        "status",
        "stage",
        "amount",
        "probability",
        "expected_close_on",
        "forecast_category",
    ]
    # created by the end of 10-10: everything but D11; sorted by day, id
    assert snap["opportunity_id"].tolist() == sorted(
        ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10", "D13"]
    )
    assert state(snap, "D10")["status"] == "won"
    assert state(snap, "D8")["status"] == "open"  # lost only on 10-20


def test_snapshot_days_of_a_range() -> None:
    opps, history = frames()
    days = lambda **kw: sorted(set(pipeline_snapshot(opps, history=history, **kw)["day"]))  # noqa: E731
    assert days(on=("2025-10-01", "2025-10-03")) == [
        ts("2025-10-01"),
        ts("2025-10-02"),
        ts("2025-10-03"),
    ]
    assert days(on=("2025-10-15", "2025-12-10"), freq="month") == [
        ts("2025-10-31"),
        ts("2025-11-30"),
        ts("2025-12-10"),
    ]


def test_stage_changes_count_as_stage_only_history() -> None:
    opps, history = frames()
    changes = from_objects(
        [
            StageChange(opportunity_id="D7", stage="list", entered_at=_dt("2025-09-20 10:00")),
            StageChange(opportunity_id="D7", stage="quote", entered_at=_dt("2025-10-15 10:00")),
            # same instant as D3's quote row: stage_changes come after opportunity_history
            StageChange(
                opportunity_id="D3", stage="opportunity", entered_at=_dt("2025-10-10 11:00")
            ),
        ],
        StageChange,
    )
    snap = pipeline_snapshot(opps, history=history, on="2025-10-14", stage_changes=changes)
    d7 = state(snap, "D7")
    # the stage from stage_changes, the other fields still from the current row
    assert (d7["stage"], d7["amount"]) == ("list", 600.0)
    assert state(snap, "D3")["stage"] == "opportunity"
    # stage_changes alone (no opportunity_history) work too
    alone = pipeline_snapshot(opps, on="2025-10-14", stage_changes=changes)
    assert state(alone, "D7")["stage"] == "list"
    assert state(alone, "D5")["amount"] == 450.0  # no history: the current row


def test_time_zone_of_aware_inputs() -> None:
    # 2025-10-10 15:30 UTC is 2025-10-11 00:30 in Tokyo: the change belongs to 10-11
    opps = from_objects([_opp("T1", "2025-10-01 00:00", amount=10, close_on="2025-12-01")])
    history = from_objects(
        [
            _row("T1", "2025-10-01 00:00", amount=10),
            _row("T1", "2025-10-10 15:30", amount=20),
        ]
    )
    for frame, col in ((opps, "created_at"), (history, "changed_at")):
        frame[col] = frame[col].dt.tz_localize("UTC")
    snap = pipeline_snapshot(opps, history=history, on=("2025-10-10", "2025-10-11"))
    assert snap["amount"].tolist() == [10.0, 20.0]
    assert pipeline_snapshot(opps, history=history, on="2025-10-10", tz="UTC")[
        "amount"
    ].tolist() == [20.0]


def test_facts_give_the_same_states() -> None:
    opps, history = frames()
    leads = pd.DataFrame({"lead_id": pd.Series([], dtype="str")})
    facts = Facts(
        {"leads": leads, "opportunities": opps, "opportunity_history": history},
        as_of=date(2025, 11, 30),
        tz="Asia/Tokyo",
    )
    facts.plan_history_days([date(2025, 10, 1), date(2025, 11, 30)])
    kw: dict[str, Any] = {"start": "2025-10-01", "end": "2025-11-30", "close_period": Q4}
    shared = pipeline_movement(opps, history=history, facts=facts, **kw)
    pd.testing.assert_frame_equal(shared, pipeline_movement(opps, history=history, **kw))
    snap = pipeline_snapshot(opps, history=history, on="2025-11-30", facts=facts)
    pd.testing.assert_frame_equal(snap, pipeline_snapshot(opps, history=history, on="2025-11-30"))
    assert len(facts._built) == 1  # one computation of the two planned days
    # facts of other tables are not used
    other = pipeline_snapshot(opps, on="2025-11-30", facts=facts)
    assert state(other, "D6")["amount"] == 550.0  # no history: the current row


# --------------------------------------------------------------------------- trend


def test_trend_by_stage_for_the_quarter_hand_computed() -> None:
    opps, history = frames()
    trend = pipeline_trend(
        opps,
        history=history,
        on=("2025-10-01", "2025-10-31"),
        freq="week",
        by="stage",
        close_period=Q4,
    )
    got = {
        (r.day.date().isoformat(), r.stage): (r.open_count, r.open_amount)
        for r in trend.itertuples(index=False)
    }
    # open at the end of the day and expected (that day) to close in Q4:
    # 10-05: list D1 100, D2 200, D3 900, D4 300, D5 380, D8 700; quote D7 600, D13 1000
    #        (D6 and D9 expect 2026)
    # 10-12: D3 -> quote (10-10), D5 -> proposal 450 (10-10, tie: 450)
    # 10-19: D2 expects January (10-15)
    # 10-26: D8 lost (10-20), D3 back to proposal (10-20)
    # 10-31: D4 won at 18:00
    assert got == {
        ("2025-10-05", "list"): (6, 2580.0),
        ("2025-10-05", "proposal"): (0, 0.0),
        ("2025-10-05", "quote"): (2, 1600.0),
        ("2025-10-12", "list"): (4, 1300.0),
        ("2025-10-12", "proposal"): (1, 450.0),
        ("2025-10-12", "quote"): (3, 2500.0),
        ("2025-10-19", "list"): (3, 1100.0),
        ("2025-10-19", "proposal"): (1, 450.0),
        ("2025-10-19", "quote"): (3, 2500.0),
        ("2025-10-26", "list"): (2, 400.0),
        ("2025-10-26", "proposal"): (2, 1350.0),
        ("2025-10-26", "quote"): (2, 1600.0),
        ("2025-10-31", "list"): (1, 100.0),
        ("2025-10-31", "proposal"): (2, 1350.0),
        ("2025-10-31", "quote"): (2, 1600.0),
    }
    assert trend.columns.tolist() == ["day", "stage", "open_count", "open_amount"]
    assert pd.api.types.is_integer_dtype(trend["open_count"])


def test_trend_of_every_open_deal() -> None:
    opps, history = frames()
    trend = pipeline_trend(opps, history=history, on=("2025-12-01", "2025-12-07"), freq="week")
    # end of 12-07: open D2 200, D3 900, D5 450, D6 550, D7 600, D9 800, D11 60, D13 1100
    assert trend.to_dict("list") == {
        "day": [ts("2025-12-07")],
        "open_count": [8],
        "open_amount": [4660.0],
    }


def test_a_missing_amount_counts_one_and_adds_zero() -> None:
    opps, history = frames(
        opps=[
            _opp("M1", "2025-10-02 10:00", close_on="2025-11-01"),
            _opp("M2", "2025-10-02 10:00", amount=70, close_on="2025-11-01"),
        ],
        history=[],
    )
    trend = pipeline_trend(opps, history=history, on=("2025-10-02", "2025-10-02"), close_period=Q4)
    assert trend[["open_count", "open_amount"]].values.tolist() == [[2, 70.0]]
    total = pipeline_movement(
        opps, history=history, start="2025-10-01", end="2025-10-31", close_period=Q4
    )
    assert total.loc[0, ["created_count", "created", "end_count", "end"]].tolist() == [
        2,
        70.0,
        2,
        70.0,
    ]
    # its category names its non-zero parts: none, so "unchanged" though it was created
    deals = pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-10-31", close_period=Q4
    ).set_index("opportunity_id")
    assert deals["category"].to_dict() == {"M1": "unchanged", "M2": "created"}
    # a missing expected close date is in no period
    opps["expected_close_on"] = opps["expected_close_on"].where(opps["opportunity_id"] != "M1")
    trend = pipeline_trend(opps, history=history, on=("2025-10-02", "2025-10-02"), close_period=Q4)
    assert trend[["open_count", "open_amount"]].values.tolist() == [[1, 70.0]]


def test_movement_by_owner_and_empty_groups() -> None:
    opps, history = frames()
    opps.loc[opps["opportunity_id"].isin(["D5", "D9"]), "owner_id"] = "F2"
    by_owner = pipeline_movement(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=Q4, by="owner_id"
    ).set_index("owner_id")
    assert by_owner.loc["F2", ["start", "amount_up", "pulled_in", "end"]].tolist() == [
        380.0,
        70.0,
        800.0,
        1250.0,
    ]
    assert by_owner["end"].sum() == 2950.0
    # no deal in the period: one row of zeros
    later = ("2027-01-01", "2027-03-31")
    empty = pipeline_movement(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=later
    )
    assert empty[list(MOVEMENT_PARTS)].values.tolist() == [[0.0] * len(MOVEMENT_PARTS)]


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda o, h: pipeline_snapshot(o, history=h, on="2025-10-01", freq="week"),
            "freq needs a range",
        ),
        (
            lambda o, h: pipeline_snapshot(o, history=h, on=("2025-10-02", "2025-10-01")),
            "after the last",
        ),
        (lambda o, h: pipeline_snapshot(o, history=h, on="2025-10-01", freq="fortnight"), "freq"),
        (
            lambda o, h: pipeline_trend(o, history=h, on="2025-10-01", freq="week"),
            "freq needs a range",
        ),
        (lambda o, h: pipeline_trend(o, history=h, on=("2025-10-01",)), "on must be a"),
        (
            lambda o, h: pipeline_movement(
                o, history=h, start="2025-10-02", end="2025-10-02", close_period=Q4
            ),
            "start must be before end",
        ),
        (
            lambda o, h: pipeline_movement(
                o, history=h, start="2025-10-01", end="2025-10-02", close_period="2025-10-01"
            ),
            "close_period must be a",
        ),
        (lambda o, h: pipeline_snapshot(o, history=h, on="2025-10-01", by="status"), "by"),
        (lambda o, h: pipeline_snapshot(o, history=h, on="2025-10-01", by="region"), "region"),
    ],
)
def test_bad_parameters_name_the_parameter(call: Any, message: str) -> None:
    opps, history = frames()
    with pytest.raises((ConfigError, pk.SchemaError), match=message):
        call(opps, history)


def test_inputs_are_not_mutated_and_kinds_are_kept() -> None:
    import polars as pl

    opps, history = frames()
    before = (opps.copy(), history.copy())
    pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-11-30", close_period=Q4
    )
    pd.testing.assert_frame_equal(opps, before[0])
    pd.testing.assert_frame_equal(history, before[1])
    lazy = pipeline_snapshot(
        pl.from_pandas(opps).lazy(), history=pl.from_pandas(history).lazy(), on=Q4
    )
    assert isinstance(lazy, pl.LazyFrame)


# ------------------------------------------------------------ independent reference


def _day_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def _value(v: Any) -> Any:
    return None if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)) else v


def reference_states(tables: Mapping[str, pd.DataFrame], day: date) -> dict[str, dict[str, Any]]:
    """DESIGN section 7, one deal at a time: per field the last non-empty cell of the
    history rows before the end of ``day`` (by time, opportunity_history before
    stage_changes, then file order), else the opportunities row."""
    end = _day_end(day)
    rows: list[tuple[datetime, int, int, str, dict[str, Any]]] = []
    for i, r in enumerate(tables["opportunity_history"].to_dict("records")):
        cells = {f: _value(r[f]) for f in FIELDS}
        rows.append((r["changed_at"], 0, i, r["opportunity_id"], cells))
    changes = tables.get("stage_changes")
    for i, r in enumerate([] if changes is None else changes.to_dict("records")):
        rows.append((r["entered_at"], 1, i, r["opportunity_id"], {"stage": r["stage"]}))
    rows.sort(key=lambda x: x[:3])
    out = {}
    for o in tables["opportunities"].to_dict("records"):
        if not o["created_at"] < end:
            continue
        values = {f: _value(o[f]) for f in FIELDS}
        for at, _, _, oid, cells in rows:
            if oid == o["opportunity_id"] and at < end:
                values.update({f: v for f, v in cells.items() if v is not None})
        closed = _value(o["closed_at"]) is not None and o["closed_at"] < end
        won = closed and _value(o["is_won"]) is True
        values["status"] = "won" if won else "lost" if closed else "open"
        values["closed_at"] = o["closed_at"] if closed else None
        out[o["opportunity_id"]] = values
    return out


def reference_waterfall(
    tables: Mapping[str, pd.DataFrame], a: date, b: date, period: tuple[date, date]
) -> dict[str, dict[str, float]]:
    """The DESIGN section 7 waterfall, written out deal by deal."""
    at_a, at_b = reference_states(tables, a), reference_states(tables, b)

    def in_p(s: dict[str, Any]) -> bool:
        close_on = s["expected_close_on"]
        return close_on is not None and period[0] <= close_on.date() <= period[1]

    def amount(s: dict[str, Any]) -> float:
        return 0.0 if s["amount"] is None else float(s["amount"])

    out = {}
    for oid, sb in at_b.items():
        sa = at_a.get(oid)
        if sb["closed_at"] is not None and sb["closed_at"] < _day_end(a):
            continue  # closed by the end of a: out of scope
        created = sa is None
        s_in = sa is not None and sa["status"] == "open" and in_p(sa)
        e_in = in_p(sb)
        if not (s_in or e_in):
            continue
        parts = dict.fromkeys(MOVEMENT_PARTS, 0.0)
        if s_in:
            parts["start"] = amount(sa)  # type: ignore[arg-type]
        if created and e_in:
            parts["created"] = amount(sb)
        if not created and not s_in and e_in:
            parts["pulled_in"] = amount(sb)
        if s_in and not e_in:
            parts["pushed_out"] = amount(sa)  # type: ignore[arg-type]
        if s_in and e_in:
            delta = amount(sb) - amount(sa)  # type: ignore[arg-type]
            parts["amount_up"], parts["amount_down"] = max(delta, 0.0), max(-delta, 0.0)
        if e_in and sb["status"] != "open":
            parts[sb["status"]] = amount(sb)
        if e_in and sb["status"] == "open":
            parts["end"] = amount(sb)
        out[oid] = parts
    return out


def _days(draw: st.DrawFn) -> tuple[date, date]:
    a = draw(st.integers(0, HISTORY_DAYS - 1))
    b = draw(st.integers(a + 1, HISTORY_DAYS + 2))
    return (START + timedelta(days=a)).date(), (START + timedelta(days=b)).date()


_PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_PROPERTY
@given(tables=opportunity_histories(), data=st.data())
def test_waterfall_reconciles_and_matches_the_reference(
    tables: dict[str, pd.DataFrame], data: st.DataObject
) -> None:
    a, b = _days(data.draw)
    first = data.draw(st.integers(0, HISTORY_DAYS))
    period = (START + timedelta(days=first), START + timedelta(days=first + 30))
    p = (period[0].date(), period[1].date())
    kw: dict[str, Any] = {"start": a, "end": b, "close_period": p}
    opps, history, changes = (
        tables[k] for k in ("opportunities", "opportunity_history", "stage_changes")
    )
    deals = pipeline_movement_deals(opps, history=history, stage_changes=changes, **kw)
    total = pipeline_movement(opps, history=history, stage_changes=changes, **kw)
    want = reference_waterfall(tables, a, b, p)
    got = {r["opportunity_id"]: {k: r[k] for k in MOVEMENT_PARTS} for r in deals.to_dict("records")}
    assert got == want
    # per deal and in total, exactly (whole-number amounts)
    for row in [*deals.to_dict("records"), *total.to_dict("records")]:
        flow = (
            row["start"]
            + row["created"]
            + row["pulled_in"]
            + row["amount_up"]
            - row["amount_down"]
            - row["pushed_out"]
            - row["won"]
            - row["lost"]
        )
        assert flow == row["end"]
    for part in MOVEMENT_PARTS:
        assert total.loc[0, part] == sum(d[part] for d in want.values())
    counts = total.iloc[0]
    assert (
        counts["start_count"]
        + counts["created_count"]
        + counts["pulled_in_count"]
        - counts["pushed_out_count"]
        - counts["won_count"]
        - counts["lost_count"]
        == counts["end_count"]
    )


@_PROPERTY
@given(tables=opportunity_histories(), data=st.data())
def test_snapshot_matches_the_reference(
    tables: dict[str, pd.DataFrame], data: st.DataObject
) -> None:
    day = (START + timedelta(days=data.draw(st.integers(0, HISTORY_DAYS)))).date()
    snap = pipeline_snapshot(
        tables["opportunities"],
        history=tables["opportunity_history"],
        on=day,
        stage_changes=tables["stage_changes"],
    )
    want = reference_states(tables, day)
    assert snap["opportunity_id"].tolist() == sorted(want)
    for row in snap.to_dict("records"):
        expected = want[row["opportunity_id"]]
        for name in (*FIELDS, "status", "closed_at"):
            assert _value(row[name]) == expected[name], (row["opportunity_id"], name)


@_PROPERTY
@given(tables=opportunity_histories(), data=st.data())
def test_a_snapshot_never_depends_on_later_rows(
    tables: dict[str, pd.DataFrame], data: st.DataObject
) -> None:
    day = (START + timedelta(days=data.draw(st.integers(0, HISTORY_DAYS)))).date()
    end = _day_end(day)
    opps, history, changes = (
        tables[k] for k in ("opportunities", "opportunity_history", "stage_changes")
    )
    snap = pipeline_snapshot(opps, history=history, on=day, stage_changes=changes)
    # drop every row dated after the day, and every opportunity created after it
    kept = pipeline_snapshot(
        opps[opps["created_at"] < end],
        history=history[history["changed_at"] < end],
        on=day,
        stage_changes=changes[changes["entered_at"] < end],
    )
    pd.testing.assert_frame_equal(snap, kept)
    # or rewrite them: later rows say something else entirely
    later = history["changed_at"] >= end
    scrambled = history.copy()
    scrambled.loc[later, "amount"] = 99_999.0
    scrambled.loc[later, "stage"] = "scrambled"
    scrambled.loc[later, "expected_close_on"] = pd.Timestamp(day)
    pd.testing.assert_frame_equal(
        snap, pipeline_snapshot(opps, history=scrambled, on=day, stage_changes=changes)
    )


@_PROPERTY
@given(tables=opportunity_histories(complete=True))
def test_with_complete_history_the_last_snapshot_is_the_current_row(
    tables: dict[str, pd.DataFrame],
) -> None:
    opps = tables["opportunities"]
    as_of = (START + timedelta(days=HISTORY_DAYS + 1)).date()
    snap = pipeline_snapshot(opps, history=tables["opportunity_history"], on=as_of).set_index(
        "opportunity_id"
    )
    current = opps.set_index("opportunity_id").loc[snap.index]
    for name in FIELDS:
        assert [_value(v) for v in snap[name]] == [_value(v) for v in current[name]], name


@settings(
    max_examples=max(EXAMPLES // 5, 5),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables=opportunity_histories(), data=st.data())
def test_random_histories_agree_on_polars_and_duckdb(
    tables: dict[str, pd.DataFrame], data: st.DataObject
) -> None:
    a, b = _days(data.draw)
    p = (a, b + timedelta(days=20))

    def run(t: Mapping[str, Any]) -> list[Any]:
        opps, history, changes = t["opportunities"], t["opportunity_history"], t["stage_changes"]
        return [
            pipeline_snapshot(opps, history=history, on=(a, b), freq="week", stage_changes=changes),
            pipeline_trend(
                opps, history=history, on=(a, b), freq="day", by="stage", close_period=p
            ),
            pipeline_movement_deals(
                opps, history=history, start=a, end=b, close_period=p, stage_changes=changes
            ),
        ]

    want = run(tables)
    for engine in ("polars-lazy", "duckdb"):
        for got, expected in zip(run(convert_tables(engine, tables)), want, strict=True):
            assert_same_result(got, expected, label=engine)
