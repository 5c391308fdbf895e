"""Stage transitions and the absorbing chain on hand-written stage histories."""

from __future__ import annotations

import math
from datetime import date
from statistics import NormalDist
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError
from pipelinekit.metrics.transitions import (
    stage_transitions,
    stage_win_probability,
    win_probability_calibration,
)

from ..strategies import datasets

Z = NormalDist().inv_cdf(0.975)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out (independent of pipelinekit.rates)."""
    p = k / n
    center = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(center - half, 0.0), min(center + half, 1.0)


def history(rows: list[tuple[str, str, str]], *, at: str = "entered_at") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series([r[0] for r in rows], dtype="str"),
            "stage": pd.Series([r[1] for r in rows], dtype="str"),
            at: pd.Series(pd.to_datetime([r[2] for r in rows]), dtype="datetime64[us]"),
        }
    )


CHAIN = [
    # O1: list -> proposal -> won
    ("O1", "list", "2025-04-01"),
    ("O1", "proposal", "2025-04-03"),
    ("O1", "Closed Won", "2025-04-10"),
    # O2: list -> (repeated list: an amount edit) -> proposal -> lost
    ("O2", "list", "2025-04-01"),
    ("O2", "list", "2025-04-02"),
    ("O2", "proposal", "2025-04-05"),
    ("O2", "lost", "2025-04-07"),
    # O3: list -> lost, then reopened (ignored, counted)
    ("O3", "list", "2025-04-01"),
    ("O3", "LOST ", "2025-04-04"),
    ("O3", "proposal", "2025-04-08"),
    # O4: a regression: list -> proposal -> list -> proposal -> won
    ("O4", "list", "2025-04-01"),
    ("O4", "proposal", "2025-04-02"),
    ("O4", "list", "2025-04-04"),
    ("O4", "proposal", "2025-04-06"),
    ("O4", "won", "2025-04-09"),
    # O5: a skip: list -> quote -> won
    ("O5", "list", "2025-04-01"),
    ("O5", "quote", "2025-04-02"),
    ("O5", "won", "2025-04-05"),
    # O6: still open in list (censored); its win comes after the cut-off
    ("O6", "list", "2025-04-01"),
    ("O6", "won", "2025-05-15"),
]
AS_OF = "2025-04-30"


def test_transition_counts_rates_and_wilson_intervals() -> None:
    table = stage_transitions(history(CHAIN), as_of=AS_OF)
    got = {
        (r.from_stage, r.to_stage): (r.numerator, r.denominator)
        for r in table.itertuples(index=False)
    }
    # exits of list: O1, O2, O3, O4 twice, O5 = 6 (O6 is open: censored, not a stay)
    # exits of proposal: O1 won, O2 lost, O4 -> list, O4 won = 4; quote: O5 won = 1
    assert got == {
        ("list", "LOST "): (1, 6),
        ("list", "proposal"): (4, 6),
        ("list", "quote"): (1, 6),
        ("proposal", "Closed Won"): (1, 4),
        ("proposal", "list"): (1, 4),
        ("proposal", "lost"): (1, 4),
        ("proposal", "won"): (1, 4),
        ("quote", "won"): (1, 1),
    }
    for row in table.itertuples(index=False):
        low, high = wilson(row.numerator, row.denominator)
        assert row.rate == pytest.approx(row.numerator / row.denominator)
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high), rel=1e-12)
    # mean days before each move: list -> proposal: O1 2, O2 4 (from its first list
    # entry), O4 1 and 2 -> 9 / 4
    mean = table.set_index(["from_stage", "to_stage"])["mean_days"]
    assert mean[("list", "proposal")] == pytest.approx(9 / 4)
    assert mean[("quote", "won")] == pytest.approx(3.0)


def test_rates_out_of_a_stage_add_up_to_one() -> None:
    table = stage_transitions(history(CHAIN), as_of=AS_OF)
    assert table.groupby("from_stage")["rate"].sum().tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_win_probability_from_the_absorbing_chain() -> None:
    odds = stage_win_probability(history(CHAIN), as_of=AS_OF).set_index("stage")
    # x_l = 4/6 x_p + 1/6 x_q (+ 1/6 lost), x_p = 2/4 + 1/4 x_l (+ 1/4 lost), x_q = 1
    # -> x_l = 1/2 + x_l / 6 -> x_l = 3/5, x_p = 1/2 + 3/20 = 13/20
    assert odds.loc["list", "p_win"] == pytest.approx(3 / 5)
    assert odds.loc["proposal", "p_win"] == pytest.approx(13 / 20)
    assert odds.loc["quote", "p_win"] == pytest.approx(1.0)
    assert odds.loc["list", "p_lost"] == pytest.approx(2 / 5)
    assert odds.loc["list", "p_unresolved"] == pytest.approx(0.0)
    # entries, exits and open entries per stage; O6 is still open in list
    assert odds.loc["list", ["entered_count", "exit_count", "open_count"]].tolist() == [7, 6, 1]
    # won/lost rows: absorbing; O3's reopened row after its loss is ignored and counted
    assert odds.loc["LOST ", "kind"] == "lost"
    assert odds.loc["LOST ", "ignored_after_close_count"] == 1
    assert odds.loc["Closed Won", "kind"] == "won"
    assert odds.loc["won", "p_win"] == 1.0


def test_expected_days_to_close_by_hand() -> None:
    rows = [
        ("O1", "proposal", "2025-04-01"),
        ("O1", "quote", "2025-04-05"),
        ("O1", "won", "2025-04-15"),
        ("O2", "proposal", "2025-04-01"),
        ("O2", "lost", "2025-04-03"),
        ("O3", "quote", "2025-04-20"),
    ]
    odds = stage_win_probability(history(rows), as_of=AS_OF).set_index("stage")
    # quote: O1 10 days to its exit, O3 open since 04-20 -> 11 days of exposure to
    # the cut-off (05-01): mean time in quote = 21 days / 1 exit; quote always wins
    assert odds.loc["quote", "mean_days"] == pytest.approx(21.0)
    assert odds.loc["quote", "expected_days_to_close"] == pytest.approx(21.0)
    # proposal: (4 + 2) / 2 = 3 days; closes surely: 3 + 1/2 * 21 = 13.5
    assert odds.loc["proposal", "expected_days_to_close"] == pytest.approx(13.5)
    # conditional on winning, through quote only: 3 + 21
    assert odds.loc["proposal", "expected_days_to_win"] == pytest.approx(24.0)


def test_unresolved_stages_and_a_loop_that_never_closes() -> None:
    rows = [
        # negotiation is entered but never left: unresolved
        ("O1", "list", "2025-04-01"),
        ("O1", "negotiation", "2025-04-02"),
        ("O2", "list", "2025-04-01"),
        ("O2", "won", "2025-04-03"),
        # a and b only ever move to each other: no way to close
        ("O3", "a", "2025-04-01"),
        ("O3", "b", "2025-04-02"),
        ("O3", "a", "2025-04-03"),
        ("O3", "b", "2025-04-04"),
    ]
    odds = stage_win_probability(history(rows), as_of=AS_OF).set_index("stage")
    assert odds.loc["list", ["p_win", "p_unresolved"]].tolist() == pytest.approx([0.5, 0.5])
    for stage in ("negotiation", "a", "b"):
        assert pd.isna(odds.loc[stage, "p_win"]), stage
        assert pd.isna(odds.loc[stage, "p_unresolved"]), stage


def test_ties_follow_file_order_and_rows_after_the_cut_off_are_ignored() -> None:
    same_time = [("O1", "list", "2025-04-01 09:00"), ("O1", "lost", "2025-04-01 09:00")]
    forward = stage_transitions(history(same_time), as_of=AS_OF)
    assert forward[["from_stage", "to_stage"]].values.tolist() == [["list", "lost"]]
    backward = stage_transitions(history(same_time[::-1]), as_of=AS_OF)
    assert backward.empty  # lost first: the path ends there, the list row is ignored
    odds = stage_win_probability(history(same_time[::-1]), as_of=AS_OF).set_index("stage")
    assert odds.loc["lost", "ignored_after_close_count"] == 1
    early = stage_transitions(history(CHAIN), as_of="2025-04-04")
    # by 04-04 (exclusive end 04-05): O1 list -> proposal, O2 list (repeat), O3 list ->
    # lost, O4 list -> proposal -> list, O5 list -> quote
    got = {(r.from_stage, r.to_stage): r.numerator for r in early.itertuples(index=False)}
    assert got == {
        ("list", "proposal"): 2,
        ("list", "LOST "): 1,
        ("list", "quote"): 1,
        ("proposal", "list"): 1,
    }


def test_opportunities_filter_and_by_columns() -> None:
    opps = pd.DataFrame(
        {
            "opportunity_id": pd.Series(["O1", "O2", "O4", "O5"], dtype="str"),
            "created_at": pd.Series(pd.to_datetime(["2025-04-01"] * 4), dtype="datetime64[us]"),
            "product": pd.Series(["a", "b", "a", "b"], dtype="str"),
        }
    )
    table = stage_transitions(history(CHAIN), opportunities=opps, as_of=AS_OF, by="product")
    got = {
        (r.product, r.from_stage, r.to_stage): r.numerator for r in table.itertuples(index=False)
    }
    # O3 and O6 are not in opportunities: their rows are ignored
    assert got == {
        ("a", "list", "proposal"): 2 + 0 + 1,  # O1 once, O4 twice
        ("a", "proposal", "Closed Won"): 1,
        ("a", "proposal", "list"): 1,
        ("a", "proposal", "won"): 1,
        ("b", "list", "proposal"): 1,
        ("b", "list", "quote"): 1,
        ("b", "proposal", "lost"): 1,
        ("b", "quote", "won"): 1,
    }


def test_another_history_table_with_empty_stages() -> None:
    # an opportunity history: changed_at, and rows that changed another field only
    rows = history(
        [
            ("O1", "list", "2025-04-01"),
            ("O1", "list", "2025-04-02"),
            ("O1", "quote", "2025-04-03"),
        ],
        at="changed_at",
    )
    rows.loc[1, "stage"] = None
    table = stage_transitions(rows, as_of=AS_OF, at="changed_at")
    assert table[["from_stage", "to_stage", "mean_days"]].values.tolist() == [
        ["list", "quote", 2.0]
    ]


def test_calibration_against_the_crm_probability() -> None:
    opps = pd.DataFrame(
        {
            "opportunity_id": pd.Series([f"O{i}" for i in range(1, 7)], dtype="str"),
            "created_at": pd.Series(pd.to_datetime(["2025-04-01"] * 6), dtype="datetime64[us]"),
            "probability": [1.0, 0.0, 0.0, 1.0, 1.0, 0.1],
        }
    )
    table = win_probability_calibration(opps, history(CHAIN), as_of=AS_OF).set_index("stage")
    # open deals at the cut-off: O6 in list (probability 0.1)
    assert table.loc["list", "open_count"] == 1
    assert table.loc["list", "crm_probability"] == pytest.approx(0.1)
    # closed paths through list: O1 won, O2 lost, O3 lost, O4 won, O5 won -> 3/5
    assert (table.loc["list", "numerator"], table.loc["list", "denominator"]) == (3, 5)
    assert table.loc["list", "p_win"] == pytest.approx(3 / 5)
    assert table.loc["list", "gap"] == pytest.approx(0.1 - 3 / 5)
    assert pd.isna(table.loc["quote", "crm_probability"])  # nobody open in quote


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"won_stages": ()}, "won_stages must be one or more"),
        ({"won_stages": "won", "lost_stages": ["Won"]}, "share"),
        ({"by": "product"}, "by needs opportunities"),
        ({"at": ""}, "at must be"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        stage_transitions(history(CHAIN), as_of=AS_OF, **kwargs)


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(datasets(max_leads=6, max_opportunities=8), st.dates(date(2025, 1, 10), date(2025, 8, 1)))
def test_transition_rates_out_of_each_stage_sum_to_one(
    tables: dict[str, pd.DataFrame], as_of: date
) -> None:
    table = stage_transitions(
        tables["stage_changes"], opportunities=tables["opportunities"], as_of=as_of
    )
    for _, part in table.groupby("from_stage"):
        assert part["rate"].sum() == pytest.approx(1.0)
        assert (part["denominator"] == part["numerator"].sum()).all()
    odds = stage_win_probability(
        tables["stage_changes"], opportunities=tables["opportunities"], as_of=as_of
    )
    known = odds.dropna(subset=["p_win"])
    total = known["p_win"] + known["p_lost"] + known["p_unresolved"]
    assert total.tolist() == pytest.approx([1.0] * len(known))
    assert ((known["p_win"] >= -1e-12) & (known["p_win"] <= 1 + 1e-12)).all()
