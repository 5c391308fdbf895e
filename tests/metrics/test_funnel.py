"""The lead funnel on tiny hand-written journeys, with the expected tables worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

from pipelinekit import ConfigError, Dataset, SchemaError, journey
from pipelinekit.breakdowns import with_breakdown_columns
from pipelinekit.metrics.funnel import bottleneck, funnel
from pipelinekit.rates import ZeroDenominatorError, wilson_interval
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

from ..tiny import AS_OF, tiny_dataset

H = 1 / 24  # one hour in days


def ts(*values: str | None) -> pd.Series:
    parsed: Any = pd.to_datetime(list(values))  # type: ignore[arg-type]
    return pd.Series(parsed, dtype="datetime64[us]")


def tiny_journey() -> pd.DataFrame:
    """Five leads; the comments give each lead's inferred and strict story.

    L1  every stage in order: touch +1h, connect +23h, sql +1d, valid +2d, won +5d
    L2  touched a day BEFORE it was created, connected 2 days after creation
        inferred: touched at creation (0 days); strict: stops at lead
    L3  only an SQL, 2 days after creation
        inferred: touched, connected and sql all at the SQL time; strict: stops at lead
    L4  nothing after creation
    L5  created in May, touched +1h
    """
    return pd.DataFrame(
        {
            "lead_id": pd.Series(["L1", "L2", "L3", "L4", "L5"], dtype="str"),
            "origin": pd.Series(["inbound", "outbound", "inbound", "outbound", None], dtype="str"),
            "created_at": ts(
                "2025-04-01 09:00",
                "2025-04-02 09:00",
                "2025-04-03 09:00",
                "2025-04-10 09:00",
                "2025-05-02 09:00",
            ),
            "first_touch_at": ts(
                "2025-04-01 10:00", "2025-04-01 09:00", None, None, "2025-05-02 10:00"
            ),
            "first_connect_at": ts("2025-04-02 09:00", "2025-04-04 09:00", None, None, None),
            "sql_at": ts("2025-04-03 09:00", None, "2025-04-05 09:00", None, None),
            "validated_at": ts("2025-04-05 09:00", None, None, None, None),
            "won_at": ts("2025-04-10 09:00", None, None, None, None),
        }
    )


STAGES = ["lead", "touched", "connected", "sql", "valid", "won"]


def column(table: pd.DataFrame, name: str) -> list[object]:
    return table[name].tolist()


# ------------------------------------------------------------------ cohort, inferred


def test_inferred_cohort_counts_rates_and_days_by_hand() -> None:
    f = funnel(tiny_journey())
    assert column(f, "stage") == STAGES
    assert column(f, "stage_index") == [0, 1, 2, 3, 4, 5]
    # touched: L1, L2 (inferred at creation), L3 (implied by its SQL), L5
    # connected: L1, L2, L3 (implied); sql: L1, L3; valid, won: L1
    assert column(f, "count") == [5, 4, 3, 2, 1, 1]
    assert column(f, "step_numerator") == [5, 4, 3, 2, 1, 1]
    assert column(f, "step_denominator") == [5, 5, 4, 3, 2, 1]
    assert column(f, "step_rate") == pytest.approx([1, 4 / 5, 3 / 4, 2 / 3, 1 / 2, 1])
    assert column(f, "overall_denominator") == [5] * 6
    assert column(f, "overall_rate") == pytest.approx([1, 4 / 5, 3 / 5, 2 / 5, 1 / 5, 1 / 5])
    low, high = wilson_interval(4, 5)
    assert (f.loc[1, "step_ci_low"], f.loc[1, "step_ci_high"]) == pytest.approx((low, high))
    assert column(f, "mature") == [True] * 6
    # touched days: L2 0, L1 1h, L5 1h, L3 2d -> sorted [0, H, H, 2], n = 4
    #   median: position 1.5 -> H; p75: 2.25 -> H + 0.25 (2 - H); p90: 2.7 -> H + 0.7 (2 - H)
    # connected days (from touched): L3 0, L1 23h, L2 2d -> [0, 23H, 2]
    #   median 23H; p75: position 1.5 -> 23H + 0.5 (2 - 23H); p90: 1.8 -> 23H + 0.8 (2 - 23H)
    # sql days (from connected): L3 0, L1 1 -> median 0.5, p75 0.75, p90 0.9
    # valid: L1 2 days; won: L1 5 days
    assert pd.isna(f["median_days"].iloc[0])
    assert column(f, "median_days")[1:] == pytest.approx([H, 23 * H, 0.5, 2, 5])
    assert column(f, "p75_days")[1:] == pytest.approx(
        [H + 0.25 * (2 - H), 23 * H + 0.5 * (2 - 23 * H), 0.75, 2, 5]
    )
    assert column(f, "p90_days")[1:] == pytest.approx(
        [H + 0.7 * (2 - H), 23 * H + 0.8 * (2 - 23 * H), 0.9, 2, 5]
    )


def test_output_columns_and_dtypes() -> None:
    f = funnel(tiny_journey(), by="origin", freq="month")
    assert list(f.columns) == [
        "origin",
        "period",
        "stage",
        "stage_index",
        "count",
        "step_numerator",
        "step_denominator",
        "step_rate",
        "step_ci_low",
        "step_ci_high",
        "overall_numerator",
        "overall_denominator",
        "overall_rate",
        "overall_ci_low",
        "overall_ci_high",
        "median_days",
        "p75_days",
        "p90_days",
        "mature",
    ]
    assert str(f["count"].dtype) == "int64"
    assert str(f["step_rate"].dtype) == "float64"
    assert str(f["period"].dtype).startswith("datetime64")
    assert f["mature"].dtype == bool


def test_strict_mode_counts_only_in_order_records() -> None:
    f = funnel(tiny_journey(), mode="strict")
    # touched: L1 (10:00 >= 09:00), L5; L2 touched before creation, L3 has no touch
    # connected, sql, valid, won: L1 only (L5 has no connect)
    assert column(f, "count") == [5, 2, 1, 1, 1, 1]
    assert column(f, "step_rate") == pytest.approx([1, 2 / 5, 1 / 2, 1, 1, 1])
    # touched days: L1 1h, L5 1h -> every quantile H; connected: L1 23h
    assert column(f, "median_days")[1:3] == pytest.approx([H, 23 * H])


def test_cohort_by_month_and_origin() -> None:
    f = funnel(tiny_journey(), freq="month")
    # April: L1 L2 L3 L4; May: L5
    april = f[f["period"] == pd.Timestamp("2025-04-01")]
    may = f[f["period"] == pd.Timestamp("2025-05-01")]
    assert column(april, "count") == [4, 3, 3, 2, 1, 1]
    assert column(may, "count") == [1, 1, 0, 0, 0, 0]
    # May: touched 1/1, connected 0/1, then zero denominators
    assert column(may, "step_rate")[:3] == pytest.approx([1.0, 1.0, 0.0])
    assert may["step_rate"].iloc[3:].isna().all()
    by_origin = funnel(tiny_journey(), by="origin")
    # inbound: L1 L3; outbound: L2 L4; missing origin: L5 (a group of its own, last)
    assert by_origin["origin"].iloc[::6].tolist()[:2] == ["inbound", "outbound"]
    assert pd.isna(by_origin["origin"].iloc[12])
    assert column(by_origin, "count") == [2, 2, 2, 2, 1, 1, 2, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0]


def test_stage_subset_lead_to_sql() -> None:
    f = funnel(tiny_journey(), stages=("lead", "sql"))
    # sql: L1 (2 days after creation), L3 (2 days)
    assert column(f, "stage") == ["lead", "sql"]
    assert column(f, "count") == [5, 2]
    assert f.loc[1, "step_rate"] == pytest.approx(2 / 5)
    assert f.loc[1, "median_days"] == pytest.approx(2.0)


def test_stage_subset_may_start_after_lead() -> None:
    f = funnel(tiny_journey(), stages=("sql", "valid", "won"))
    # entrants: leads with an SQL (L1, L3); valid: L1
    assert column(f, "count") == [2, 1, 1]
    assert column(f, "step_rate") == pytest.approx([1, 0.5, 1])


# ------------------------------------------------------------------ window, as_of, maturity


def test_window_is_end_exclusive() -> None:
    f = funnel(tiny_journey(), window=2)
    # L1: limit 04-03 09:00 -> touch, connect count; the SQL at exactly 04-03 09:00 does not
    # L2: limit 04-04 09:00 -> touched (at creation) counts; the connect at the limit does not
    # L3: its implied stages are reached at 04-05 09:00, the limit -> only the lead counts
    # L5: touched +1h
    assert column(f, "count") == [5, 3, 1, 0, 0, 0]
    assert column(funnel(tiny_journey(), window=timedelta(days=2)), "count") == [5, 3, 1, 0, 0, 0]


def test_as_of_ignores_later_events_and_leads() -> None:
    f = funnel(tiny_journey(), as_of="2025-04-02")
    # entrants created before 04-03 00:00: L1, L2
    # L1: touch and connect (04-02 09:00) count, the SQL on 04-03 does not
    # L2: touched at creation; its connect on 04-04 is after as_of
    assert column(f, "count") == [2, 2, 1, 0, 0, 0]


def test_a_lead_created_after_as_of_is_out_even_if_touched_before() -> None:
    j = tiny_journey()
    f = funnel(j, as_of=date(2025, 4, 1))  # L2 was touched on 04-01 but created on 04-02
    assert column(f, "count") == [1, 1, 0, 0, 0, 0]


def test_maturity_without_freq_splits_leads_by_their_own_window() -> None:
    f = funnel(tiny_journey(), window=2, as_of="2025-05-02")
    # end of as_of: 05-03 00:00; L5 (05-02 09:00 + 2 days) is immature, L1-L4 mature
    immature, mature = f.iloc[:6], f.iloc[6:]
    assert column(immature, "mature") == [False] * 6
    assert column(immature, "count") == [1, 1, 0, 0, 0, 0]
    assert column(mature, "mature") == [True] * 6
    assert column(mature, "count") == [4, 2, 1, 0, 0, 0]  # as in test_window_is_end_exclusive


@pytest.mark.parametrize(
    ("as_of", "april_mature", "may_mature"),
    [
        # April ends 05-01 00:00; + 2 days = 05-03 00:00 must be <= the end of as_of
        ("2025-05-01", {False}, set()),  # end of as_of 05-02 00:00; L5 not created yet
        ("2025-05-02", {True}, {False}),  # end of as_of 05-03 00:00
    ],
)
def test_maturity_with_freq_is_a_property_of_the_period(
    as_of: str, april_mature: set[bool], may_mature: set[bool]
) -> None:
    f = funnel(tiny_journey(), freq="month", window=2, as_of=as_of)
    april = f[f["period"] == pd.Timestamp("2025-04-01")]
    may = f[f["period"] == pd.Timestamp("2025-05-01")]
    assert set(april["mature"]) == april_mature
    assert set(may["mature"]) == may_mature


def test_without_window_every_cohort_is_mature() -> None:
    f = funnel(tiny_journey(), freq="month", as_of="2025-05-02")
    assert f["mature"].all()


# ------------------------------------------------------------------ period view


def period_journey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series(["P1", "P2", "P3"], dtype="str"),
            "created_at": ts("2025-03-30", "2025-03-31", "2025-04-01"),
            "sql_at": ts("2025-04-02", None, "2025-04-01"),
        }
    )


def test_period_view_counts_events_and_keeps_rates_proportions() -> None:
    f = funnel(period_journey(), stages=("lead", "sql"), freq="month", view="period")
    march, april = f.iloc[:2], f.iloc[2:]
    # events: March has 2 leads and no SQL; April has 1 lead and 2 SQLs (P1, P3)
    assert column(march, "count") == [2, 0]
    assert column(april, "count") == [1, 2]
    # step rate of sql in a month: of the leads created that month, the share with an SQL
    # March: P1 of P1, P2 -> 1/2 (P1's SQL in April still counts); April: P3 of P3 -> 1/1
    assert column(march, "step_numerator") == [2, 1]
    assert column(march, "step_denominator") == [2, 2]
    assert column(april, "step_numerator") == [1, 1]
    assert column(april, "step_denominator") == [1, 1]
    assert column(march, "overall_rate") == pytest.approx([1.0, 0.5])
    # days: P1 took 3 days (March row), P3 0 days (April row)
    assert march["median_days"].iloc[1] == pytest.approx(3.0)
    assert april["median_days"].iloc[1] == pytest.approx(0.0)


def test_period_view_rows_for_periods_with_events_only() -> None:
    j = period_journey().iloc[[0]]  # P1: lead in March, SQL in April
    f = funnel(j, stages=("lead", "sql"), freq="month", view="period")
    assert column(f, "count") == [1, 0, 0, 1]
    # April has an SQL event but no entrants: its rates have zero denominators
    assert column(f, "step_denominator") == [1, 1, 0, 0]
    assert np.isnan(f["overall_rate"].iloc[2])


def test_cohort_view_of_the_same_journey() -> None:
    f = funnel(period_journey(), stages=("lead", "sql"), freq="month")
    assert column(f, "count") == [2, 1, 1, 1]  # March cohort: P1 P2 -> P1; April: P3 -> P3


# ------------------------------------------------------------------ zero division, confidence


def test_zero_division_policies() -> None:
    j = tiny_journey().iloc[[3]]  # L4: nothing after creation
    nan = funnel(j, stages=("lead", "touched", "connected"))
    assert column(nan, "count") == [1, 0, 0]
    assert nan["step_rate"].iloc[1] == 0.0
    assert np.isnan(nan["step_rate"].iloc[2])
    zero = funnel(j, stages=("lead", "touched", "connected"), zero_division="0")
    assert zero["step_rate"].iloc[2] == 0.0
    assert np.isnan(zero["step_ci_low"].iloc[2])
    with pytest.raises(ZeroDenominatorError, match="funnel: 1 row"):
        funnel(j, stages=("lead", "touched", "connected"), zero_division="raise")
    funnel(j, stages=("lead", "touched"), zero_division="raise")  # no zero denominator


def test_confidence_level_changes_the_interval() -> None:
    wide = funnel(tiny_journey(), confidence=0.99)
    narrow = funnel(tiny_journey(), confidence=0.8)
    assert (wide["step_ci_high"] - wide["step_ci_low"]).iloc[1] > (
        narrow["step_ci_high"] - narrow["step_ci_low"]
    ).iloc[1]
    low, high = wilson_interval(4, 5, confidence=0.8)
    assert (narrow["step_ci_low"].iloc[1], narrow["step_ci_high"].iloc[1]) == pytest.approx(
        (low, high)
    )


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stages": ("lead", "meeting")}, "stages: unknown stage"),
        ({"stages": ("sql", "lead")}, "funnel order"),
        ({"stages": ("lead", "lead")}, "funnel order"),
        ({"stages": ("lead",)}, "at least two"),
        ({"mode": "loose"}, "mode must be one of 'inferred', 'strict'"),
        ({"view": "daily"}, "view must be one of 'cohort', 'period'"),
        ({"window": 0}, "window must be positive"),
        ({"window": timedelta(days=-1)}, "window must be positive"),
        ({"window": "7"}, "window must be a datetime.timedelta"),
        ({"window": True}, "window must be a datetime.timedelta"),
        ({"freq": "hour"}, "freq must be one of"),
        ({"zero_division": "skip"}, "zero_division must be one of"),
        ({"confidence": 1.5}, "confidence must be strictly between 0 and 1"),
        ({"by": "stage"}, "is an output column name"),
        ({"by": ["origin", "origin"]}, "must not repeat"),
        ({"as_of": "yesterday"}, "as_of must be a date"),
    ],
)
def test_bad_parameters_raise_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        funnel(tiny_journey(), **kwargs)  # type: ignore[arg-type]


def test_unknown_by_lists_the_available_columns() -> None:
    with pytest.raises(ConfigError) as info:
        funnel(tiny_journey(), by="industry")
    text = str(info.value)
    assert "unknown column(s) 'industry'" in text
    assert "available: created_at, first_connect_at" in text
    assert "pass accounts= for account columns" in text


def test_missing_stage_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="sql_at"):
        funnel(tiny_journey().drop(columns="sql_at"))
    funnel(tiny_journey().drop(columns="sql_at"), stages=("lead", "touched"))  # not needed


# ------------------------------------------------------------------ breakdown joins


def test_breakdown_by_account_columns_via_accounts() -> None:
    ds = tiny_dataset()
    j = journey(ds.leads, ds.activities, ds.opportunities, as_of=AS_OF)
    f = funnel(j, stages=("lead", "sql"), by="employee_band", accounts=ds.accounts, as_of=AS_OF)
    # L1 -> A1 (20 employees): SQL O1; L2, L4 -> A2 (500): no SQL by as_of (O5 is later);
    # L3 -> A3 (1500): SQL O3; L6 has no account: SQL O6. L5 is created after as_of.
    assert f["employee_band"].tolist()[:6] == [
        "1-30",
        "1-30",
        "1000+",
        "1000+",
        "300-999",
        "300-999",
    ]
    assert f["employee_band"].iloc[6:].isna().all()
    assert column(f, "count") == [1, 1, 1, 1, 2, 0, 1, 1]
    by_target = funnel(j, stages=("lead", "sql"), by="is_target", accounts=ds.accounts)
    # False (A2, A3): L2 L3 L4 -> SQL L3; True (A1): L1 -> SQL; no account: L6 -> SQL
    assert column(by_target, "count") == [3, 1, 1, 1, 1, 1]


def test_breakdown_by_product_of_the_first_opportunity() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["L1", "L2", "L3"], dtype="str"),
            "created_at": ts("2025-04-01", "2025-04-01", "2025-04-01"),
            "sql_at": ts("2025-04-02", "2025-04-03", None),
        }
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": pd.Series(["O2", "O1", "O3", "O4"], dtype="str"),
            "lead_id": pd.Series(["L1", "L1", "L2", None], dtype="str"),
            "created_at": ts("2025-04-05", "2025-04-02", "2025-04-03", "2025-04-01"),
            "product": pd.Series(["pro", "basic", "pro", "basic"], dtype="str"),
            "owner_id": pd.Series(["F1", "F2", "F1", "F1"], dtype="str"),
        }
    )
    f = funnel(leads, stages=("lead", "sql"), by="product", opportunities=opps)
    # L1's first opportunity is O1 (04-02, basic); L2 -> O3 (pro); L3 has none
    assert f["product"].tolist()[:4] == ["basic", "basic", "pro", "pro"]
    assert column(f, "count") == [1, 1, 1, 1, 1, 0]
    # opportunity columns whose name the journey already has are prefixed
    lf = with_breakdown_columns(
        _lazy(leads.assign(owner_id="R1")), ["opportunity_owner_id"], opportunities=_lazy(opps)
    )
    out = lf.collect().to_native().sort("lead_id")
    assert out["opportunity_owner_id"].to_list() == ["F2", "F1", None]


def test_breakdown_ties_on_created_at_go_to_the_smaller_opportunity_id() -> None:
    leads = pd.DataFrame({"lead_id": ["L1"], "created_at": ts("2025-04-01")})
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O9", "O1"],
            "lead_id": ["L1", "L1"],
            "created_at": ts("2025-04-02", "2025-04-02"),
            "product": ["b", "a"],
        }
    )
    out = with_breakdown_columns(_lazy(leads), "product", opportunities=_lazy(opps))
    assert out.collect().to_native()["product"].to_list() == ["a"]


def _lazy(frame: pd.DataFrame) -> nw.LazyFrame[Any]:
    return nw.from_native(pl.from_pandas(frame)).lazy()


# ------------------------------------------------------------------ bottleneck


def test_bottleneck_overall_and_per_group() -> None:
    f = funnel(tiny_journey(), by="origin")
    # overall steps (summed over origins) are those of the ungrouped funnel:
    # 4/5, 3/4, 2/3, 1/2, 1/1 -> sql -> valid at 1/2
    overall = bottleneck(f)
    assert overall[["from_stage", "stage", "numerator", "denominator"]].values.tolist() == [
        ["sql", "valid", 1, 2]
    ]
    per = bottleneck(f, by="origin")
    # inbound (L1, L3): 2/2, 2/2, 2/2, 1/2, 1/1 -> valid at 1/2
    # outbound (L2, L4): 1/2, 1/1, 0/1, then zero denominators -> sql at 0/1
    # missing origin (L5): 1/1, 0/1 -> connected at 0/1
    assert per["origin"].tolist()[:2] == ["inbound", "outbound"]
    assert pd.isna(per["origin"].iloc[2])
    assert per["stage"].tolist() == ["valid", "sql", "connected"]
    assert per["rate"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    low, high = wilson_interval(1, 2)
    assert (per["ci_low"].iloc[0], per["ci_high"].iloc[0]) == pytest.approx((low, high))


def test_bottleneck_ties_go_to_the_earlier_step() -> None:
    table = pd.DataFrame(
        {
            "stage": ["a", "b", "c"],
            "stage_index": [0, 1, 2],
            "step_numerator": [4, 2, 1],
            "step_denominator": [4, 4, 2],
        }
    )
    assert bottleneck(table)["stage"].tolist() == ["b"]  # b 2/4 == c 1/2


def test_bottleneck_skips_immature_rows_unless_grouped_by_maturity() -> None:
    f = funnel(tiny_journey(), window=2, as_of="2025-05-02")
    # mature (L1-L4) steps: 2/4, 1/2, 0/1 -> sql at 0/1
    assert bottleneck(f)["stage"].tolist() == ["sql"]
    both = bottleneck(f, by="mature")
    # immature (L5): 1/1 touched, then 0/1 connected
    assert both["mature"].tolist() == [False, True]
    assert both["stage"].tolist() == ["connected", "sql"]


def test_bottleneck_of_an_all_zero_funnel_is_empty() -> None:
    empty = funnel(tiny_journey().iloc[0:0])
    assert len(bottleneck(empty)) == 0
    assert list(bottleneck(empty).columns) == [
        "from_stage",
        "stage",
        "stage_index",
        "numerator",
        "denominator",
        "rate",
        "ci_low",
        "ci_high",
    ]


def test_bottleneck_needs_a_funnel_table() -> None:
    with pytest.raises(SchemaError, match="step_denominator"):
        bottleneck(pd.DataFrame({"stage": ["a"], "stage_index": [0], "step_numerator": [1]}))


# ------------------------------------------------------------------ engines, purity


def test_empty_journey_gives_an_empty_table() -> None:
    f = funnel(tiny_journey().iloc[0:0], by="origin", freq="week")
    assert len(f) == 0
    assert "median_days" in f.columns


def test_polars_eager_and_lazy_inputs_give_the_same_table() -> None:
    expected = funnel(tiny_journey(), by="origin", freq="week", window=3, as_of="2025-05-02")
    frame = pl.from_pandas(tiny_journey())
    eager = funnel(frame, by="origin", freq="week", window=3, as_of="2025-05-02")
    lazy = funnel(frame.lazy(), by="origin", freq="week", window=3, as_of="2025-05-02")
    assert isinstance(eager, pl.DataFrame)
    assert isinstance(lazy, pl.LazyFrame)
    for result in (eager, lazy.collect()):
        got = result.to_pandas()
        got["stage"] = got["stage"].astype("str")
        got["origin"] = got["origin"].astype("str")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_duckdb_input_gives_identical_numbers() -> None:
    j = journey_of_sample()
    expected = funnel(j, by="origin", freq="month", window=30, as_of="2025-12-31")
    con = duckdb.connect()
    relation = con.from_df(j)
    result = funnel(relation, by="origin", freq="month", window=30, as_of="2025-12-31")
    assert isinstance(result, duckdb.DuckDBPyRelation)
    got = result.df()
    got["period"] = got["period"].astype("datetime64[us]")
    for name in ("origin", "stage"):
        got[name] = got[name].astype("str")
    # quantiles are built from order statistics, so they match to the last bit
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


def journey_of_sample() -> pd.DataFrame:
    d = generate_sample(leads=300, seed=5)
    return journey(d["leads"], d["activities"], d["opportunities"])


def test_inputs_are_not_modified() -> None:
    j = tiny_journey()
    before = j.copy(deep=True)
    funnel(j, by="origin", freq="month", window=2, as_of="2025-05-02", view="period")
    bottleneck(funnel(j))
    pd.testing.assert_frame_equal(j, before)


def test_tz_aware_stage_columns_are_converted() -> None:
    j = tiny_journey()
    aware = j.copy()
    for name in ("created_at", "first_touch_at"):
        aware[name] = j[name].dt.tz_localize("Asia/Tokyo").dt.tz_convert("UTC")
    pd.testing.assert_frame_equal(
        funnel(aware, stages=("lead", "touched"), freq="day"),
        funnel(j, stages=("lead", "touched"), freq="day"),
    )


# ------------------------------------------------------------------ report section


def test_report_section_on_the_sample() -> None:
    tables: dict[str, Any] = dict(generate_sample(leads=400, seed=11))
    ds = Dataset(**tables)
    section = build_section("funnel", ds, date(2025, 12, 31))
    assert section.key == "funnel"
    assert list(section.tables) == ["overall", "by_origin", "bottleneck"]
    overall = section.tables["overall"]
    assert overall["stage"].tolist() == STAGES
    assert overall["count"].is_monotonic_decreasing
    assert set(section.tables["by_origin"]["origin"]) == {"inbound", "outbound"}
    assert section.tables["bottleneck"]["origin"].tolist()[0] == "all"
    assert any("Overall bottleneck" in note for note in section.note_texts())
    # the overall counts are the sum of the per-origin counts
    by_origin = section.tables["by_origin"].groupby("stage", sort=False)["count"].sum()
    assert by_origin.tolist() == overall["count"].tolist()
