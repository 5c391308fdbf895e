"""The opportunity stage funnel on hand-written opportunities and stage histories."""

from __future__ import annotations

import os
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from pipelinekit import ConfigError, SchemaError
from pipelinekit.metrics.stages import stage_bottleneck, stage_funnel
from pipelinekit.rates import ZeroDenominatorError, wilson_interval
from pipelinekit.sample import generate_sample

from ..strategies import datasets

STAGES = ["list", "proposal", "opportunity", "quote", "won"]


def ts(*values: str | None) -> pd.Series:
    parsed: Any = pd.to_datetime(list(values))  # type: ignore[arg-type]
    return pd.Series(parsed, dtype="datetime64[us]")


def opportunities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series(["O1", "O2", "O3", "O4", "O5", "O6"], dtype="str"),
            "created_at": ts(*["2025-04-01"] * 6),
            "stage": pd.Series(
                ["won", "quote", "lost", "proposal", None, "opportunity"], dtype="str"
            ),
            "product": pd.Series(["a", "a", "b", "b", None, "a"], dtype="str"),
            "amount": [5e5, 2e6, 2e6, 12e6, None, 5e5],
        }
    )


def stage_changes() -> pd.DataFrame:
    rows = [
        # O1: every stage, in order
        ("O1", "list", "2025-04-01"),
        ("O1", "proposal", "2025-04-02"),
        ("O1", "opportunity", "2025-04-03"),
        ("O1", "quote", "2025-04-05"),
        ("O1", "won", "2025-04-10"),
        # O2: proposal and opportunity never recorded
        ("O2", "list", "2025-04-01"),
        ("O2", "quote", "2025-04-04"),
        # O3: lost after reaching opportunity
        ("O3", "list", "2025-04-01"),
        ("O3", "proposal", "2025-04-03"),
        ("O3", "opportunity", "2025-04-05"),
        ("O3", "lost", "2025-04-09"),
        # O4: went to quote, then back to proposal (its current stage)
        ("O4", "list", "2025-04-01"),
        ("O4", "proposal", "2025-04-02"),
        ("O4", "quote", "2025-04-06"),
        # O6: proposal recorded before list
        ("O6", "list", "2025-04-02"),
        ("O6", "proposal", "2025-04-01"),
        ("O6", "opportunity", "2025-04-04"),
        # O5: no history
    ]
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series([r[0] for r in rows], dtype="str"),
            "stage": pd.Series([r[1] for r in rows], dtype="str"),
            "entered_at": ts(*[r[2] for r in rows]),
        }
    )


def column(table: pd.DataFrame, name: str) -> list[Any]:
    return table[name].tolist()


def test_inferred_from_the_current_stage() -> None:
    f = stage_funnel(opportunities())
    # reached: O1 won(4), O2 quote(3), O4 proposal(1), O6 opportunity(2);
    # O3 lost and O5 unknown count at the first stage only
    assert column(f, "stage") == STAGES
    assert column(f, "count") == [6, 4, 3, 2, 1]
    assert column(f, "lost_count") == [1, 0, 0, 0, 0]  # O3, stage lost at unknown
    assert column(f, "step_denominator") == [6, 6, 4, 3, 2]
    assert column(f, "step_rate") == pytest.approx([1, 4 / 6, 3 / 4, 2 / 3, 1 / 2])
    assert column(f, "overall_rate") == pytest.approx([1, 4 / 6, 3 / 6, 2 / 6, 1 / 6])
    low, high = wilson_interval(3, 4)
    assert (f["step_ci_low"].iloc[2], f["step_ci_high"].iloc[2]) == pytest.approx((low, high))


def test_inferred_with_history() -> None:
    f = stage_funnel(opportunities(), stage_changes=stage_changes())
    # reached = max(current stage, furthest recorded stage):
    # O1 4, O2 3, O3 2 (lost there), O4 3 (quote recorded), O5 0, O6 2
    assert column(f, "count") == [6, 5, 5, 3, 1]
    assert column(f, "lost_count") == [0, 0, 1, 0, 0]
    assert column(f, "step_rate") == pytest.approx([1, 5 / 6, 1, 3 / 5, 1 / 3])


def test_strict_counts_only_recorded_in_order_entries() -> None:
    f = stage_funnel(opportunities(), stage_changes=stage_changes(), mode="strict")
    # O1 4; O2 0 (no proposal entry); O3 2 (lost there); O4 1 (no opportunity entry);
    # O5 0 (entered the first stage at created_at); O6 0 (proposal before list)
    assert column(f, "count") == [6, 3, 2, 1, 1]
    assert column(f, "lost_count") == [0, 0, 1, 0, 0]


def test_as_of_rewinds_the_pipeline_with_the_history() -> None:
    opps = pd.concat(
        [
            opportunities(),
            pd.DataFrame(
                {
                    "opportunity_id": pd.Series(["O7"], dtype="str"),
                    "created_at": ts("2025-04-20"),
                    "stage": pd.Series(["won"], dtype="str"),
                }
            ),
        ],
        ignore_index=True,
    )
    f = stage_funnel(opps, stage_changes=stage_changes(), as_of="2025-04-04")
    # entries before 04-05 00:00; current = latest entry; O7 is created later, left out
    # O1 opportunity (2; quote is entered at 04-05 00:00, the cut-off); O2 quote (3);
    # O3 proposal (1, not lost yet); O4 proposal (1); O5 no entry (0); O6 opportunity (2)
    assert column(f, "count") == [6, 5, 3, 1, 0]
    assert column(f, "lost_count") == [0] * 5


def test_missing_stage_falls_back_to_the_latest_entry() -> None:
    opps = opportunities().drop(columns="stage")
    f = stage_funnel(opps, stage_changes=stage_changes())
    # current stages from history: O1 won, O2 quote, O3 lost, O4 quote, O6 opportunity
    # (latest by time is opportunity 04-04); O5 has none
    assert column(f, "count") == [6, 5, 5, 3, 1]
    assert column(f, "lost_count") == [0, 0, 1, 0, 0]


def test_breakdown_sums_to_the_total() -> None:
    f = stage_funnel(opportunities(), by="product")
    # a: O1 4, O2 3, O6 2; b: O3 lost, O4 1; missing: O5
    assert f["product"].iloc[::5].tolist()[:2] == ["a", "b"]
    assert pd.isna(f["product"].iloc[10])
    assert column(f, "count") == [3, 3, 3, 2, 1, 2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    total = f.groupby("stage_index")["count"].sum().tolist()
    assert total == column(stage_funnel(opportunities()), "count")
    banded = stage_funnel(opportunities(), by="amount_band")
    assert set(banded["amount_band"].dropna()) == {"<1M", "1M-3M", "10M+"}


def test_stage_bottleneck() -> None:
    assert stage_bottleneck(stage_funnel(opportunities()))["stage"].tolist() == ["won"]  # 1/2
    with_history = stage_bottleneck(stage_funnel(opportunities(), stage_changes=stage_changes()))
    assert with_history[["from_stage", "stage", "numerator", "denominator"]].values.tolist() == [
        ["quote", "won", 1, 3]
    ]
    per = stage_bottleneck(stage_funnel(opportunities(), by="product"), by="product")
    # a: 3/3, 3/3, 2/3, 1/2 -> won at 1/2; b: 1/2, 0/1 -> opportunity at 0; missing: 0/1
    assert per["stage"].tolist() == ["won", "opportunity", "proposal"]


def test_custom_stage_names() -> None:
    opps = pd.DataFrame(
        {
            "opportunity_id": ["A", "B", "C"],
            "created_at": ts(*["2025-04-01"] * 3),
            "stage": ["demo", "closed won", "closed lost"],
        }
    )
    f = stage_funnel(opps, stages=("new", "demo", "closed won"), lost_stage="closed lost")
    assert column(f, "count") == [3, 2, 1]
    assert column(f, "lost_count") == [1, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stages": ("list",)}, "at least two"),
        ({"stages": ("list", "list")}, "distinct"),
        ({"lost_stage": "won"}, "must not be one of stages"),
        ({"lost_stage": ""}, "lost_stage must be a non-empty"),
        ({"mode": "strict"}, "needs stage_changes"),
        ({"as_of": "2025-04-04"}, "as_of needs stage_changes"),
        ({"mode": "exact"}, "mode must be one of"),
        ({"by": "stage"}, "output column"),
        ({"by": "region"}, "unknown column"),
        ({"zero_division": "x"}, "zero_division"),
        ({"confidence": 0}, "confidence"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        stage_funnel(opportunities(), **kwargs)


def test_unknown_stage_values_are_listed() -> None:
    opps = opportunities()
    opps.loc[0, "stage"] = "negotiation"
    with pytest.raises(ConfigError, match=r"opportunities\.stage has value.*'negotiation'"):
        stage_funnel(opps)
    history = stage_changes()
    history.loc[0, "stage"] = "closed"
    with pytest.raises(ConfigError, match=r"stage_changes\.stage has value.*'closed'"):
        stage_funnel(opportunities(), stage_changes=history)


def test_missing_columns() -> None:
    with pytest.raises(SchemaError, match="stage"):
        stage_funnel(opportunities().drop(columns="stage"))
    with pytest.raises(SchemaError, match="entered_at"):
        stage_funnel(opportunities(), stage_changes=stage_changes().drop(columns="entered_at"))


def test_zero_division_raise() -> None:
    opps = opportunities().iloc[[2]]  # only the lost one: every later step has 0 / 0
    with pytest.raises(ZeroDenominatorError):
        stage_funnel(opps, zero_division="raise")
    assert np.isnan(stage_funnel(opps)["step_rate"].iloc[2])


def test_engines_agree_on_the_sample() -> None:
    d = generate_sample(leads=400, seed=3)
    opps, history = d["opportunities"], d["stage_changes"]
    expected = stage_funnel(opps, stage_changes=history, by="product", mode="strict")
    lazy = stage_funnel(
        pl.from_pandas(opps).lazy(),
        stage_changes=pl.from_pandas(history).lazy(),
        by="product",
        mode="strict",
    )
    assert isinstance(lazy, pl.LazyFrame)
    con = duckdb.connect()
    relation = stage_funnel(
        con.from_df(opps), stage_changes=con.from_df(history), by="product", mode="strict"
    )
    for got in (lazy.collect().to_pandas(), relation.df()):
        for name in ("product", "stage"):
            got[name] = got[name].astype("str")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


def test_inputs_are_not_modified() -> None:
    opps, history = opportunities(), stage_changes()
    before = (opps.copy(deep=True), history.copy(deep=True))
    stage_funnel(opps, stage_changes=history, mode="strict", by="product", as_of="2025-04-05")
    pd.testing.assert_frame_equal(opps, before[0])
    pd.testing.assert_frame_equal(history, before[1])


# ------------------------------------------------------------------ properties

#: Three stage-funnel calls per example (about 0.15 s): 50 examples keep this file near
#: 30 s; the lead-funnel invariants the issue asks for run 200 each in
#: test_funnel_properties.py.
EXAMPLES = int(os.environ.get("PIPELINEKIT_PROPERTY_EXAMPLES", "50"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(datasets(max_opportunities=6))
def test_stage_funnel_invariants(tables: dict[str, pd.DataFrame]) -> None:
    opps, history = tables["opportunities"], tables["stage_changes"]
    current = stage_funnel(opps, by="product")
    inferred = stage_funnel(opps, stage_changes=history, by="product")
    strict = stage_funnel(opps, stage_changes=history, by="product", mode="strict")
    lost = int((opps["stage"] == "lost").sum())
    for table in (current, inferred, strict):
        assert table["lost_count"].sum() == lost
        for _, group in table.groupby("product", dropna=False):
            counts = group["count"].to_numpy()
            assert (np.diff(counts) <= 0).all()  # never rise
            assert (group["step_numerator"] <= group["step_denominator"]).all()
            assert (
                (group["step_rate"] >= 0) & (group["step_rate"] <= 1) | group["step_rate"].isna()
            ).all()
        assert table.loc[table["stage_index"] == 0, "count"].sum() == len(opps)
    assert (strict["count"].to_numpy() <= inferred["count"].to_numpy()).all()
    assert (current["count"].to_numpy() <= inferred["count"].to_numpy()).all()
