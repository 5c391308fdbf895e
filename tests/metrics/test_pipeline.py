"""Pipeline KPIs: by hand on a tiny pipeline, properties, engines, purity."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError
from pipelinekit.metrics.outcomes import (
    average_won_amount,
    pipeline_velocity,
    sales_cycle,
    win_rate,
    win_rate_by,
)
from pipelinekit.metrics.pipeline import (
    open_pipeline,
    stale_opportunities,
    time_in_stage,
    weighted_pipeline,
)
from pipelinekit.rates import ZeroDenominatorError
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

AS_OF = date(2025, 4, 30)
T = pd.Timestamp


def ts(values: Sequence[Any]) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values), dtype="object")).astype("datetime64[us]")


def text(values: Sequence[Any]) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def missing(value: object) -> bool:
    """True for None and NaN cells."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def collected(result: object, *, lazy: bool) -> pd.DataFrame:
    """The pandas view of a polars result, checking it is lazy or eager as asked."""
    if lazy:
        assert isinstance(result, pl.LazyFrame)
        return result.collect().to_pandas()
    assert isinstance(result, pl.DataFrame)
    return result.to_pandas()


def small_sample() -> Dataset:
    tables: dict[str, Any] = generate_sample(leads=400, seed=3)
    return Dataset(**tables)


COLUMNS = [
    "opportunity_id",
    "lead_id",
    "account_id",
    "owner_id",
    "created_at",
    "closed_at",
    "is_won",
    "amount",
    "stage",
    "product",
    "quantity",
    "first_meeting_attendees",
    "probability",
]
ROWS = [
    # O1 won in 10 days; O2 lost; O3 open; O4 open as of 04-30 (won on 05-05);
    # O5 won in 30 days without an amount; O6 after as_of; O7 lost (is_won missing);
    # O8 open, no amount, no probability; O9 won in 2.5 days, no lead, no account
    ("O1", "L1", "A1", "F1", "2025-04-01 09:00", "2025-04-11 09:00", True, 100.0, "won",
     "a", 5, 2, 1.0),
    ("O2", "L2", None, "F1", "2025-04-01 09:00", "2025-04-21 09:00", False, 300.0, "lost",
     "a", 60, 1, 0.0),
    ("O3", "L3", "A2", "F2", "2025-04-05 10:00", None, None, 200.0, "proposal",
     "b", None, None, 0.5),
    ("O4", None, "A1", "F2", "2025-04-10 10:00", "2025-05-05 10:00", True, 400.0, "won",
     "b", 20, 3, 0.8),
    ("O5", "L1", "A1", "F1", "2025-03-01 00:00", "2025-03-31 00:00", True, None, "won",
     "a", None, 2, 1.0),
    ("O6", "L2", "A2", "F1", "2025-05-02 10:00", None, None, 999.0, "list",
     "a", 1, 1, 0.1),
    ("O7", "L3", None, "F2", "2025-04-20 10:00", "2025-04-25 10:00", None, 50.0, "lost",
     "b", 15, None, 0.0),
    ("O8", "L4", "A3", "F2", "2025-03-15 10:00", None, None, None, "list",
     "b", None, None, None),
    ("O9", None, None, None, "2025-04-01 00:00", "2025-04-03 12:00", True, 60.0, "won",
     "b", 100, 1, 1.0),
]  # fmt: skip


def opportunities() -> pd.DataFrame:
    cols = list(zip(*ROWS, strict=True))
    data = dict(zip(COLUMNS, cols, strict=True))
    return pd.DataFrame(
        {
            **{
                c: text(list(data[c]))
                for c in ("opportunity_id", "lead_id", "account_id", "owner_id", "stage", "product")
            },
            "created_at": ts(list(data["created_at"])),
            "closed_at": ts(list(data["closed_at"])),
            "is_won": pd.array(data["is_won"], dtype="boolean"),
            "amount": pd.Series(data["amount"], dtype="float64"),
            "quantity": pd.array(data["quantity"], dtype="Int64"),
            "first_meeting_attendees": pd.array(data["first_meeting_attendees"], dtype="Int64"),
            "probability": pd.Series(data["probability"], dtype="float64"),
        }
    )


OPPS = opportunities()
LEADS = pd.DataFrame(
    {
        "lead_id": text(["L1", "L2", "L3", "L4"]),
        "account_id": text(["A1", "A2", "A2", "A3"]),
        "origin": text(["inbound", "outbound", "inbound", "outbound"]),
        "source": text(["web", "event", "web", None]),
        "department": text(["it", "sales", "it", None]),
        "title": text(["manager", "staff", "staff", None]),
    }
)
ACCOUNTS = pd.DataFrame(
    {
        "account_id": text(["A1", "A2", "A3"]),
        "industry": text(["it", "retail", "it"]),
        "region": text(["kanto", "kansai", "kanto"]),
        "employees": pd.array([20, 500, 1500], dtype="Int64"),
    }
)
STAGES = pd.DataFrame(
    {
        "opportunity_id": text(["O1", "O1", "O2", "O2", "O2", "O3", "O3", "O4", "O4", "O4"]),
        "stage": text(["list", "won", "list", "proposal", "lost", "list", "proposal", "list",
                       "quote", "won"]),
        "entered_at": ts(["2025-04-01 09:00", "2025-04-11 09:00", "2025-04-01 09:00",
                          "2025-04-03 09:00", "2025-04-21 09:00", "2025-04-05 10:00",
                          "2025-04-10 10:00", "2025-04-10 10:00", "2025-04-20 10:00",
                          "2025-05-05 10:00"]),
    }
)  # fmt: skip
ACTIVITIES = pd.DataFrame(
    {
        "activity_id": text(["a1", "a2", "a3", "a4", "a5"]),
        "lead_id": text(["L3", None, "L4", None, "L3"]),
        "account_id": text([None, "A3", None, "A1", None]),
        "occurred_at": ts(["2025-03-31 10:00", "2025-03-31 10:00", "2025-04-20 10:00",
                           "2025-04-01 10:00", "2025-05-01 10:00"]),
        "channel": text(["call", "email", "web", "call", "call"]),
        "direction": text(["outbound", "outbound", "inbound", "outbound", "outbound"]),
        "outcome": text(["no_answer", "sent", "page_view", "connected", "busy"]),
    }
)  # fmt: skip


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


# --------------------------------------------------------------------- by hand


def test_open_pipeline_by_current_stage() -> None:
    # open as of 04-30: O3 (200), O4 (400; closes 05-05), O8 (no amount -> 0)
    out = open_pipeline(OPPS, as_of=AS_OF)
    assert records(out) == [
        {"stage": "list", "open_count": 1, "open_amount": 0.0},
        {"stage": "proposal", "open_count": 1, "open_amount": 200.0},
        {"stage": "won", "open_count": 1, "open_amount": 400.0},  # current stage of O4
    ]
    total = open_pipeline(OPPS, as_of=AS_OF, by=())
    assert records(total) == [{"open_count": 3, "open_amount": 600.0}]


def test_open_pipeline_with_stage_history_reads_the_stage_as_of() -> None:
    # O3 proposal (04-10), O4 quote (04-20; its won entry is 05-05), O8 has no history
    out = open_pipeline(OPPS, stage_changes=STAGES, as_of=AS_OF)
    assert records(out) == [
        {"stage": "proposal", "open_count": 1, "open_amount": 200.0},
        {"stage": "quote", "open_count": 1, "open_amount": 400.0},
        {"stage": None, "open_count": 1, "open_amount": 0.0},
    ]


def test_weighted_pipeline() -> None:
    # O3 200 x 0.5 + O4 400 x 0.8 + O8 (no probability) 0 = 420
    out = weighted_pipeline(OPPS, as_of=AS_OF)
    assert records(out) == [
        {"open_count": 3, "open_amount": 600.0, "weighted_amount": 420.0,
         "missing_probability_count": 1}
    ]  # fmt: skip
    percent = OPPS.assign(probability=OPPS["probability"] * 100)
    again = weighted_pipeline(percent, as_of=AS_OF, probability_scale="0-100")
    assert again["weighted_amount"].tolist() == pytest.approx([420.0])
    with pytest.raises(ConfigError, match="probability_scale"):
        weighted_pipeline(percent, as_of=AS_OF)
    with pytest.raises(ConfigError, match="probability_scale"):
        weighted_pipeline(OPPS, as_of=AS_OF, probability_scale="percent")  # type: ignore[arg-type]


def test_win_rate_by_count_and_amount() -> None:
    # closed by 04-30: O1 won, O2 lost, O5 won, O7 lost (is_won missing), O9 won -> 3 / 5
    out = win_rate(OPPS, as_of=AS_OF)
    r = records(out)[0]
    assert (r["numerator"], r["denominator"], r["rate"]) == (3, 5, 0.6)
    assert r["ci_low"] < 0.6 < r["ci_high"]
    # by amount over closed deals with an amount (O5 has none): (100 + 60) / (100+300+50+60)
    amount = records(win_rate(OPPS, as_of=AS_OF, weight="amount"))[0]
    assert (amount["numerator"], amount["denominator"]) == (160.0, 510.0)
    assert amount["rate"] == pytest.approx(160 / 510)
    assert amount["ci_low"] is None
    assert amount["ci_high"] is None
    # as of 04-10 only O5 (won 03-31) and O9 (won 04-03) are closed
    early = records(win_rate(OPPS, as_of="2025-04-10"))[0]
    assert (early["numerator"], early["denominator"]) == (2, 2)


def test_win_rate_zero_denominator_policy() -> None:
    # by current stage: list (O8) and proposal (O3) have nothing closed
    out = win_rate(OPPS, as_of=AS_OF, by="stage").set_index("stage")
    assert out.loc["lost", "denominator"] == 2
    assert out.loc["lost", "rate"] == 0.0
    assert out.loc["won", "rate"] == 1.0  # O1 O5 O9 closed and won; O4 still open
    assert out.loc["proposal", "denominator"] == 0
    assert missing(out.loc["proposal", "rate"])
    assert missing(out.loc["proposal", "ci_low"])
    zero = win_rate(OPPS, as_of=AS_OF, by="stage", zero_division="0").set_index("stage")
    assert zero.loc["proposal", "rate"] == 0.0
    assert missing(zero.loc["proposal", "ci_low"])
    with pytest.raises(ZeroDenominatorError, match="win_rate"):
        win_rate(OPPS, as_of=AS_OF, by="stage", zero_division="raise")
    win_rate(OPPS, as_of=AS_OF, zero_division="raise")  # no zero denominator: fine


def test_win_rate_by_product() -> None:
    out = win_rate(OPPS, as_of=AS_OF, by="product")
    # a: O1 W, O2 L, O5 W -> 2/3; b: O7 L, O9 W -> 1/2 (O3 O4 O8 open)
    assert [(r["product"], r["numerator"], r["denominator"]) for r in records(out)] == [
        ("a", 2, 3),
        ("b", 1, 2),
    ]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # closed: O1 (L1 web, W), O2 (L2 event, L), O5 (L1 web, W), O7 (L3 web, L),
        # O9 (no lead, W) -> event 0/1, web 2/3, no lead 1/1
        ("source", [("event", 0, 1), ("web", 2, 3), (None, 1, 1)]),
        # account: O1 O5 A1 it; O2 (none -> lead L2 -> A2) and O7 (-> L3 -> A2) retail;
        # O9 no account and no lead
        ("industry", [("it", 2, 2), ("retail", 0, 2), (None, 1, 1)]),
        # A1 20 employees, A2 500, A3 1500 (only the open O8: nothing closed, 0 / 0)
        ("employee_band", [("1-30", 2, 2), ("1000+", 0, 0), ("300-999", 0, 2), (None, 1, 1)]),
        ("region", [("kansai", 0, 2), ("kanto", 2, 2), (None, 1, 1)]),
        # attendees: O2 1 L, O9 1 W; O1 O5 2 W; O4 3 (open, 0 / 0); O7 missing L
        ("first_meeting_attendees", [(1, 1, 2), (2, 2, 2), (3, 0, 0), (None, 0, 1)]),
        # quantity: O1 5 W, O7 15 L, O9 100 W, O2 60 L, O5 missing W
        (
            "quantity_band",
            [("1-9", 1, 1), ("10-49", 0, 1), ("100+", 1, 1), ("50-99", 0, 1), (None, 1, 1)],
        ),
        # origin: opportunity origin else the lead's: O1 O5 O7 inbound, O2 outbound, O9 none
        ("origin", [("inbound", 2, 3), ("outbound", 0, 1), (None, 1, 1)]),
    ],
)
def test_win_rate_by_breakdowns(by: str, expected: list[tuple[Any, int, int]]) -> None:
    out = win_rate(OPPS, leads=LEADS, accounts=ACCOUNTS, by=by, as_of=AS_OF)
    got = [(r[by], r["numerator"], r["denominator"]) for r in records(out)]
    assert got == expected


def test_win_rate_needs_the_tables_its_breakdowns_use() -> None:
    with pytest.raises(ConfigError, match="accounts"):
        win_rate(OPPS, leads=LEADS, by="industry", as_of=AS_OF)
    with pytest.raises(ConfigError, match="leads"):
        win_rate(OPPS, by="source", as_of=AS_OF)
    with pytest.raises(ConfigError, match="nonsense"):
        win_rate(OPPS, by="nonsense", as_of=AS_OF)
    # accounts without leads: the opportunity's own account_id only (O2, O7 -> null;
    # retail holds only the open O3)
    out = win_rate(OPPS, accounts=ACCOUNTS, by="industry", as_of=AS_OF)
    got = [(r["industry"], r["denominator"]) for r in records(out)]
    assert got == [("it", 2), ("retail", 0), (None, 3)]


def test_win_rate_by_is_a_deprecated_alias_of_win_rate() -> None:
    with pytest.warns(DeprecationWarning, match="win_rate_by is deprecated"):
        old = win_rate_by(OPPS, LEADS, ACCOUNTS, by=["industry", "source"], as_of=AS_OF)
    new = win_rate(OPPS, leads=LEADS, accounts=ACCOUNTS, by=["industry", "source"], as_of=AS_OF)
    pd.testing.assert_frame_equal(old, new)
    with pytest.warns(DeprecationWarning, match="win_rate_by"), pytest.raises(ConfigError):
        win_rate_by(OPPS, LEADS, by=(), as_of=AS_OF)


def test_average_won_amount_and_sales_cycle() -> None:
    # won by 04-30: O1 100, O5 (no amount), O9 60 -> 160 / 2 deals with an amount
    assert records(average_won_amount(OPPS, as_of=AS_OF)) == [
        {"won_count": 3, "won_amount": 160.0, "average_won_amount": 80.0}
    ]
    # cycles 10, 30 and 2.5 days -> median 10, mean 42.5 / 3
    cycle = records(sales_cycle(OPPS, as_of=AS_OF))[0]
    assert cycle["won_count"] == 3
    assert cycle["median_cycle_days"] == pytest.approx(10.0)
    assert cycle["mean_cycle_days"] == pytest.approx(42.5 / 3)
    # product a: 10 and 30 -> median 20 (mean of the middle two); b: 2.5
    by_product = sales_cycle(OPPS, as_of=AS_OF, by="product")
    assert by_product["median_cycle_days"].tolist() == pytest.approx([20.0, 2.5])
    # nothing won yet -> missing, not 0
    none = records(sales_cycle(OPPS, as_of="2025-03-30"))[0]
    assert none["won_count"] == 0
    assert none["median_cycle_days"] is None
    assert records(average_won_amount(OPPS, as_of="2025-03-30"))[0]["average_won_amount"] is None


def test_sales_cycle_leaves_out_deals_closed_before_created() -> None:
    opps = pd.DataFrame(
        {
            "opportunity_id": text(["O1", "O2", "O3", "O4", "O5"]),
            "created_at": ts(
                [
                    T("2025-04-01"),
                    T("2025-04-01"),
                    T("2025-04-10 15:00"),
                    T("2025-04-10 15:00"),
                    T("2025-04-05"),
                ]
            ),
            # O1 10 days; O2 30 days; O3 closed the day before creation: left out;
            # O4 a date-only close on the creation day: 0 days, not negative;
            # O5 lost and closed before creation: not a won deal, not counted
            "closed_at": ts(
                [
                    T("2025-04-11"),
                    T("2025-05-01"),
                    T("2025-04-09 10:00"),
                    T("2025-04-10"),
                    T("2025-04-01"),
                ]
            ),
            "is_won": pd.array([True, True, True, True, False], dtype="boolean"),
            "amount": [100.0, 50.0, 70.0, 30.0, 10.0],
            "product": text(["a", "a", "a", "b", "b"]),
        }
    )
    # won: O1, O2, O3, O4; cycles 10, 30, 0 -> median 10, mean 40 / 3; 1 excluded
    assert records(sales_cycle(opps, as_of="2025-05-31")) == [
        {
            "won_count": 4,
            "median_cycle_days": 10.0,
            "mean_cycle_days": pytest.approx(40 / 3),
            "excluded_negative_count": 1,
        }
    ]
    by_product = records(sales_cycle(opps, as_of="2025-05-31", by="product"))
    # a: 10, 30 (O3 out) -> median 20; b: O4 0 days
    assert [
        (r["product"], r["median_cycle_days"], r["excluded_negative_count"]) for r in by_product
    ] == [
        ("a", 20.0, 1),
        ("b", 0.0, 0),
    ]
    # every won deal closed before it was created: no cycle (null), never a negative one
    only = records(sales_cycle(opps[opps["opportunity_id"] == "O3"], as_of="2025-05-31"))[0]
    assert (only["won_count"], only["excluded_negative_count"]) == (1, 1)
    assert only["median_cycle_days"] is None
    assert only["mean_cycle_days"] is None
    # velocity: the mean cycle is 40 / 3 days, not (40 - 1.21) / 4 (O3 averaged in)
    velocity = records(pipeline_velocity(opps, as_of="2025-05-31"))[0]
    assert velocity["mean_cycle_days"] == pytest.approx(40 / 3)
    assert velocity["excluded_negative_count"] == 1


def test_pipeline_velocity() -> None:
    # 3 open x 0.6 win rate x 80 average won / (42.5 / 3) mean days = 144 / 14.1667
    r = records(pipeline_velocity(OPPS, as_of=AS_OF))[0]
    assert r["open_count"] == 3
    assert (r["win_rate"], r["average_won_amount"]) == (0.6, 80.0)
    assert r["velocity_per_day"] == pytest.approx(3 * 0.6 * 80 / (42.5 / 3))
    # before anything closed: undefined
    assert records(pipeline_velocity(OPPS, as_of="2025-03-20"))[0]["velocity_per_day"] is None


def test_stale_opportunities_by_activity() -> None:
    out = stale_opportunities(ACTIVITIES, OPPS, as_of=AS_OF)
    # O8: last activity a2 on its account A3 on 03-31 -> 30 days -> stale (>= 30);
    # O3: a1 on its lead 03-31 predates its creation 04-05 -> idle 25 days;
    # O4: a4 on account A1 04-01, created 04-10 -> idle 20 days. a3 is web, a5 after as_of.
    assert out["opportunity_id"].tolist() == ["O8"]
    r = records(out)[0]
    assert (r["idle_days"], r["last_activity_at"]) == (30, T("2025-03-31 10:00"))
    assert (r["no_recent_activity"], r["past_stage_age"]) == (True, False)
    wider = stale_opportunities(ACTIVITIES, OPPS, as_of=AS_OF, days=20)
    assert wider["opportunity_id"].tolist() == ["O8", "O3", "O4"]  # most idle first
    assert wider["idle_days"].tolist() == [30, 25, 20]


def test_stale_opportunities_by_stage_age() -> None:
    out = stale_opportunities(
        ACTIVITIES, OPPS, stage_changes=STAGES, as_of=AS_OF, stage_ages={"proposal": 14}
    )
    # O3 in proposal since 04-10: 20 days > 14
    assert out["opportunity_id"].tolist() == ["O8", "O3"]
    o3 = records(out)[1]
    assert (o3["stage"], o3["stage_age_days"], o3["expected_stage_days"]) == ("proposal", 20, 14)
    assert (o3["no_recent_activity"], o3["past_stage_age"]) == (False, True)
    with pytest.raises(ConfigError, match="stage_changes"):
        stale_opportunities(ACTIVITIES, OPPS, as_of=AS_OF, stage_ages={"proposal": 14})
    with pytest.raises(ConfigError, match="stage_ages"):
        stale_opportunities(
            ACTIVITIES, OPPS, stage_changes=STAGES, as_of=AS_OF, stage_ages={"proposal": -1}
        )
    with pytest.raises(ConfigError, match="days"):
        stale_opportunities(ACTIVITIES, OPPS, as_of=AS_OF, days=0)


def test_time_in_stage() -> None:
    out = time_in_stage(STAGES, as_of=AS_OF)
    # list: O1 10 d, O2 2 d, O3 5 d, O4 10 d -> median (5 + 10) / 2, mean 27 / 4
    # proposal: O2 18 d (04-03 -> 04-21), O3 still there; quote: O4 still there (won 05-05)
    assert records(out) == [
        {"stage": "list", "entered_count": 4, "exited_count": 4, "current_count": 0,
         "median_days": 7.5, "mean_days": 6.75},
        {"stage": "proposal", "entered_count": 2, "exited_count": 1, "current_count": 1,
         "median_days": 18.0, "mean_days": 18.0},
        {"stage": "quote", "entered_count": 1, "exited_count": 0, "current_count": 1,
         "median_days": None, "mean_days": None},
    ]  # fmt: skip
    everything = time_in_stage(STAGES, as_of=AS_OF, terminal_stages=())
    assert "won" in set(everything["stage"])


def test_tz_aware_input_is_converted_to_the_dataset_zone() -> None:
    utc = OPPS.copy()
    for column in ("created_at", "closed_at"):
        utc[column] = utc[column].dt.tz_localize("Asia/Tokyo").dt.tz_convert("UTC")
    pd.testing.assert_frame_equal(win_rate(utc, as_of=AS_OF), win_rate(OPPS, as_of=AS_OF))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: win_rate(OPPS, as_of="someday"), "as_of"),
        (lambda: win_rate(OPPS, as_of=AS_OF, weight="value"), "weight"),  # type: ignore[arg-type]
        (
            lambda: win_rate(OPPS, as_of=AS_OF, zero_division="inf"),  # type: ignore[arg-type]
            "zero_division",
        ),
        (lambda: win_rate(OPPS, as_of=AS_OF, confidence=1.5), "confidence"),
        (lambda: open_pipeline(OPPS, as_of=AS_OF, by=["stage", "stage"]), "by"),
    ],
)
def test_bad_parameters_name_the_parameter(call: Any, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        call()


def test_missing_columns_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="is_won"):
        win_rate(OPPS.drop(columns=["is_won"]), as_of=AS_OF)
    with pytest.raises(SchemaError, match="probability"):
        weighted_pipeline(OPPS.drop(columns=["probability"]), as_of=AS_OF)


# ------------------------------------------------------------- engines, purity

CALLS: list[Callable[..., Any]] = [
    lambda o, lead, a, s, acts: open_pipeline(o, stage_changes=s, as_of=AS_OF),
    lambda o, lead, a, s, acts: weighted_pipeline(o, as_of=AS_OF, by="product"),
    lambda o, lead, a, s, acts: win_rate(o, as_of=AS_OF, by="stage"),
    lambda o, lead, a, s, acts: win_rate(o, as_of=AS_OF, weight="amount"),
    lambda o, lead, a, s, acts: win_rate(
        o, leads=lead, accounts=a, by=["industry", "source"], as_of=AS_OF
    ),
    lambda o, lead, a, s, acts: average_won_amount(o, as_of=AS_OF, by="product"),
    lambda o, lead, a, s, acts: sales_cycle(o, as_of=AS_OF, by="product"),
    lambda o, lead, a, s, acts: pipeline_velocity(o, as_of=AS_OF),
    lambda o, lead, a, s, acts: stale_opportunities(
        acts, o, stage_changes=s, as_of=AS_OF, days=20, stage_ages={"proposal": 14}
    ),
    lambda o, lead, a, s, acts: time_in_stage(s, as_of=AS_OF),
]
TABLES = (OPPS, LEADS, ACCOUNTS, STAGES, ACTIVITIES)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("call", CALLS)
def test_polars_eager_and_lazy_agree_with_pandas(call: Any, lazy: bool) -> None:
    expected = call(*TABLES)
    frames = [pl.from_pandas(f) for f in TABLES]
    got = call(*[f.lazy() for f in frames]) if lazy else call(*frames)
    pd.testing.assert_frame_equal(collected(got, lazy=lazy), expected, check_dtype=False)


def test_shuffled_input_gives_the_same_output() -> None:
    shuffled = [f.sample(frac=1, random_state=7) for f in TABLES]
    for call in CALLS:
        pd.testing.assert_frame_equal(call(*shuffled), call(*TABLES))


def test_functions_do_not_mutate_inputs() -> None:
    copies = [f.copy(deep=True) for f in TABLES]
    for call in CALLS:
        call(*copies)
    for before, after in zip(TABLES, copies, strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_report_section_tables() -> None:
    ds = small_sample()
    section = build_section("pipeline", ds, date(2025, 10, 15))
    assert section.key == "pipeline"
    assert {"open pipeline by stage", "win rate", "sales cycle", "velocity",
            "stale opportunities"} <= set(section.tables)  # fmt: skip
    assert len(section.tables["stale opportunities"]) <= 10


# ------------------------------------------------------------------ properties


@st.composite
def pipelines(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 20))
    start = datetime(2025, 1, 1)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        created = start + timedelta(hours=draw(st.integers(0, 24 * 120)))
        # a few closes before creation: kept by validation (a warning), never in a cycle
        closed = draw(st.one_of(st.none(), st.integers(-24 * 10, 24 * 90)))
        rows.append(
            {
                "opportunity_id": f"O{i:02d}",
                "created_at": created,
                "closed_at": None if closed is None else created + timedelta(hours=closed),
                "is_won": draw(st.sampled_from([True, False, None])) if closed is not None
                else None,
                "amount": draw(st.one_of(st.none(), st.sampled_from([10.0, 25.0, 100.0]))),
                "product": draw(st.sampled_from(["a", "b", None])),
            }
        )  # fmt: skip
    return pd.DataFrame(
        {
            "opportunity_id": text([r["opportunity_id"] for r in rows]),
            "created_at": ts([r["created_at"] for r in rows]),
            "closed_at": ts([r["closed_at"] for r in rows]),
            "is_won": pd.array([r["is_won"] for r in rows], dtype="boolean"),
            "amount": pd.Series([r["amount"] for r in rows], dtype="float64"),
            "product": text([r["product"] for r in rows]),
        }
    )


def reference(
    opps: pd.DataFrame, as_of: date, product: str | None, *, every_product: bool = False
) -> dict[str, Any]:
    """Plain-Python win rate and cycle days of one product group (or of all)."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    closed = won = excluded = 0
    cycles = []
    for r in records(opps):
        if r["created_at"] >= cutoff or (r["product"] != product and not every_product):
            continue
        if r["closed_at"] is not None and r["closed_at"] < cutoff:
            closed += 1
            if r["is_won"]:
                won += 1
                days = (r["closed_at"] - r["created_at"]).total_seconds() / 86_400
                midnight = any(t.hour == t.minute == 0 for t in (r["closed_at"], r["created_at"]))
                same_day = r["closed_at"].date() == r["created_at"].date()
                if days >= 0 or (midnight and same_day):
                    cycles.append(max(days, 0.0))
                else:
                    excluded += 1
    return {"won": won, "closed": closed, "cycles": cycles, "excluded": excluded}


# Each call costs ~0.1 s of expression building on tiny data; 40 examples keep the file
# under 30 s.
@settings(max_examples=40, deadline=None)
@given(pipelines(), st.dates(date(2025, 1, 1), date(2025, 6, 30)))
def test_win_rate_and_cycle_match_a_reference(opps: pd.DataFrame, as_of: date) -> None:
    rates = records(win_rate(opps, as_of=as_of, by="product"))
    cycle_frame = sales_cycle(opps, as_of=as_of, by="product")
    cycles = {r["product"]: r for r in records(cycle_frame)}
    every = reference(opps, as_of, None, every_product=True)
    # per-group numerators and denominators sum to the totals
    assert sum(r["numerator"] for r in rates) == every["won"]
    assert sum(r["denominator"] for r in rates) == every["closed"]
    for r in rates:
        ref = reference(opps, as_of, r["product"])
        assert (r["numerator"], r["denominator"]) == (ref["won"], ref["closed"])
        if ref["closed"]:
            assert r["ci_low"] <= r["rate"] <= r["ci_high"]
        c = cycles[r["product"]]
        assert (c["won_count"], c["excluded_negative_count"]) == (ref["won"], ref["excluded"])
        if ref["cycles"]:
            assert c["median_cycle_days"] == pytest.approx(statistics.median(ref["cycles"]))
            assert c["mean_cycle_days"] == pytest.approx(statistics.mean(ref["cycles"]))
        else:
            assert c["median_cycle_days"] is None
    lazy = sales_cycle(pl.from_pandas(opps).lazy(), as_of=as_of, by="product")
    pd.testing.assert_frame_equal(
        nw.from_native(lazy).collect().to_pandas(), cycle_frame, check_dtype=False
    )


@st.composite
def histories(draw: st.DrawFn) -> pd.DataFrame:
    rows: list[tuple[str, str, datetime]] = []
    for i in range(draw(st.integers(0, 6))):
        t = datetime(2025, 4, 1)
        for _ in range(draw(st.integers(1, 4))):
            t += timedelta(hours=draw(st.integers(1, 24 * 20)))
            rows.append((f"O{i}", draw(st.sampled_from(["list", "proposal", "won"])), t))
    return pd.DataFrame(
        {
            "opportunity_id": text([r[0] for r in rows]),
            "stage": text([r[1] for r in rows]),
            "entered_at": ts([r[2] for r in rows]),
        }
    )


@settings(max_examples=60, deadline=None)
@given(histories(), st.dates(date(2025, 4, 1), date(2025, 6, 30)))
def test_time_in_stage_matches_a_reference(changes: pd.DataFrame, as_of: date) -> None:
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    stays: dict[str, list[float | None]] = {}
    for _, group in changes.groupby("opportunity_id"):
        entries = sorted(
            (r["entered_at"], r["stage"]) for r in records(group) if r["entered_at"] < cutoff
        )
        for k, (entered, stage) in enumerate(entries):
            if stage == "won":
                continue
            left = entries[k + 1][0] if k + 1 < len(entries) else None
            days = None if left is None else (left - entered).total_seconds() / 86_400
            stays.setdefault(stage, []).append(days)
    out = {r["stage"]: r for r in records(time_in_stage(changes, as_of=as_of))}
    assert set(out) == set(stays)
    for stage, values in stays.items():
        done = [v for v in values if v is not None]
        r = out[stage]
        assert (r["entered_count"], r["exited_count"]) == (len(values), len(done))
        if done:
            assert r["median_days"] == pytest.approx(statistics.median(done))
            assert r["mean_days"] == pytest.approx(statistics.mean(done))
