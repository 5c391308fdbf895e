"""Targets: quota attainment and pace, pipeline coverage and forecast accuracy on
hand-written data (expected values worked out by hand next to the data), an
independent plain-Python reading of DESIGN section 7 on the bundled sample, and
roll-up properties."""

from __future__ import annotations

import math
import os
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit import ConfigError, SchemaError
from pipelinekit.rates import ZeroDenominatorError

EXAMPLES = int(os.environ.get("PIPELINEKIT_PROPERTY_EXAMPLES", "20"))


def _ts(values: list[str | None]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601")


def _opps(rows: list[tuple[Any, ...]], **extra: list[Any]) -> pd.DataFrame:
    """(id, owner, created, closed, is_won, amount, expected_close, category)."""
    ids, owners, created, closed, won, amount, expected, category = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "opportunity_id": list(ids),
            "owner_id": list(owners),
            "created_at": _ts(list(created)),
            "closed_at": _ts(list(closed)),
            "is_won": pd.array(list(won), dtype="boolean"),
            "amount": pd.array(list(amount), dtype="Float64"),
            "expected_close_on": _ts(list(expected)),
            "forecast_category": list(category),
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


def _quotas(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(owner_id, team, period_start, period_end, metric, target)."""
    owners, teams, starts, ends, metrics, targets = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "owner_id": list(owners),
            "team": list(teams),
            "period_start": _ts(list(starts)),
            "period_end": _ts(list(ends)),
            "metric": list(metrics),
            "target": [float(t) for t in targets],
        }
    )


OCT = ("2025-10-01", "2025-10-31")
NOV = ("2025-11-01", "2025-11-30")

REPS = pd.DataFrame(
    {"rep_id": ["R1", "R2", "R3"], "role": ["field"] * 3, "team": ["east", "east", "west"]}
)

# Won deals by owner and close day (amounts by hand):
#   R1: O1 300 (Oct 10), O2 200 (Oct 31 23:59:59: still October), O3 50 (Nov 1 00:00)
#   R2: O4 100 (Oct 20), O5 lost (Oct 21), O6 open
#   R3: O7 700 (Oct 5)
OPPS = _opps(
    [
        ("O1", "R1", "2025-09-01", "2025-10-10", True, 300.0, "2025-10-10", "closed"),
        ("O2", "R1", "2025-10-02", "2025-10-31 23:59:59", True, 200.0, "2025-10-31", "closed"),
        ("O3", "R1", "2025-10-03", "2025-11-01 00:00:00", True, 50.0, "2025-11-01", "closed"),
        ("O4", "R2", "2025-09-15", "2025-10-20", True, 100.0, "2025-10-20", "closed"),
        ("O5", "R2", "2025-10-05", "2025-10-21", False, 400.0, "2025-10-21", "omitted"),
        ("O6", "R2", "2025-10-06", None, None, 250.0, "2025-11-15", "commit"),
        ("O7", "R3", "2025-08-01", "2025-10-05", True, 700.0, "2025-10-05", "closed"),
    ]
)


def _row(frame: pd.DataFrame, **where: Any) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column].isna() if value is None else frame[column] == value
    picked = frame[mask]
    assert len(picked) == 1, picked
    return picked.iloc[0]


# ------------------------------------------------------------------ attainment


def test_won_amount_and_count_per_rep_with_inclusive_period_end():
    quotas = _quotas(
        [
            ("R1", None, *OCT, "won_amount", 1000),
            ("R1", None, *OCT, "won_count", 4),
            ("R1", None, *NOV, "won_amount", 100),
            ("R2", None, *OCT, "won_amount", 400),
        ]
    )
    out = pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-11-30")
    # Sorted by level, holder, metric, then period.
    assert list(out["metric"]) == ["won_amount", "won_amount", "won_count", "won_amount"]
    oct_amount = _row(out, owner_id="R1", metric="won_amount", period_start=pd.Timestamp(OCT[0]))
    assert oct_amount["actual"] == 500.0  # O1 300 + O2 200 (23:59:59 on the last day)
    assert oct_amount["attainment"] == 0.5
    assert oct_amount["status"] == "closed"
    assert oct_amount["elapsed_share"] == 1.0
    assert _row(out, owner_id="R1", metric="won_count")["actual"] == 2.0
    assert _row(out, owner_id="R1", period_start=pd.Timestamp(NOV[0]))["actual"] == 50.0  # O3
    r2 = _row(out, owner_id="R2")
    assert (r2["actual"], r2["attainment"]) == (100.0, 0.25)  # the lost O5 does not count


def test_actuals_stop_at_the_end_of_as_of():
    quotas = _quotas([("R1", None, *OCT, "won_amount", 1000)])
    out = pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-10-30")
    row = out.iloc[0]
    assert row["actual"] == 300.0  # O2 closes on Oct 31
    assert row["status"] == "open"
    assert row["elapsed_share"] == pytest.approx(30 / 31)
    assert row["expected_to_date"] == pytest.approx(1000 * 30 / 31)
    assert row["pace"] == pytest.approx(300 / (1000 * 30 / 31))


def test_future_period_has_no_pace():
    quotas = _quotas([("R1", None, "2026-01-01", "2026-01-31", "won_amount", 100)])
    row = pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-12-31").iloc[0]
    assert row["status"] == "future"
    assert row["elapsed_share"] == 0.0
    assert row["actual"] == 0.0
    assert math.isnan(row["pace"])


def test_pace_by_business_days_uses_the_holiday_calendar():
    # October 2025 in Japan: 23 weekdays, Sports Day (Mon Oct 13) off = 22 business days.
    # Oct 1..15: weekdays 1-3, 6-10, 13-15 = 11, minus Oct 13 = 10.
    quotas = _quotas([("R1", None, *OCT, "won_amount", 2200)])
    row = pk.quota_attainment(
        quotas, opportunities=OPPS, as_of="2025-10-15", pace="business_days"
    ).iloc[0]
    assert row["elapsed_share"] == pytest.approx(10 / 22)
    assert row["expected_to_date"] == pytest.approx(1000.0)
    assert row["pace"] == pytest.approx(0.3)  # O1 300 by Oct 15
    us = pk.quota_attainment(
        quotas, opportunities=OPPS, as_of="2025-10-15", pace="business_days", country="US"
    ).iloc[0]
    # US: Columbus Day (Oct 13) is a federal holiday too: same 10 / 22.
    assert us["elapsed_share"] == pytest.approx(10 / 22)


def test_sqls_and_meetings_held_count_in_the_period():
    acts = pd.DataFrame(
        {
            "activity_id": ["A1", "A2", "A3", "A4", "A5"],
            "lead_id": ["L1"] * 5,
            "owner_id": ["R1", "R1", "R1", "R2", "R1"],
            "occurred_at": _ts(
                [
                    "2025-10-01 09:00",
                    "2025-10-31 23:59:59",
                    "2025-10-15",
                    "2025-10-15",
                    "2025-11-01 00:00",
                ]
            ),
            "channel": ["meeting", "meeting", "meeting", "meeting", "meeting"],
            "outcome": ["held", "held", "no_show", "held", "held"],
        }
    )
    quotas = _quotas(
        [
            ("R1", None, *OCT, "meetings_held", 4),
            ("R1", None, *OCT, "sqls", 4),
            ("R2", None, *OCT, "sqls", 0),
        ]
    )
    out = pk.quota_attainment(quotas, opportunities=OPPS, activities=acts, as_of="2025-12-31")
    meetings = _row(out, owner_id="R1", metric="meetings_held")
    assert (meetings["actual"], meetings["attainment"]) == (2.0, 0.5)  # A1, A2
    assert _row(out, owner_id="R1", metric="sqls")["actual"] == 2.0  # O2, O3 created in Oct
    r2 = _row(out, owner_id="R2", metric="sqls")
    assert r2["actual"] == 2.0
    assert math.isnan(r2["attainment"])
    with pytest.raises(ConfigError, match="activities="):
        pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-12-31")


def test_team_quota_sums_its_reps_and_rollups_are_sums_not_means():
    quotas = _quotas(
        [
            ("R1", None, *OCT, "won_amount", 1000),  # 500 -> 50 %
            ("R2", None, *OCT, "won_amount", 100),  # 100 -> 100 %
            ("R3", None, *OCT, "won_amount", 700),  # 700 -> 100 %
            (None, "east", *OCT, "won_amount", 900),
        ]
    )
    out = pk.quota_attainment(quotas, opportunities=OPPS, reps=REPS, as_of="2025-11-30")
    east = _row(out, level="team")
    assert (east["team"], east["actual"]) == ("east", 600.0)
    assert pd.isna(east["owner_id"])
    assert _row(out, owner_id="R1")["team"] == "east"
    rolled = pk.quota_attainment(
        quotas, opportunities=OPPS, reps=REPS, as_of="2025-11-30", rollup="team"
    )
    rep_east = _row(rolled, level="rep", team="east")
    assert rep_east["quota_count"] == 2
    assert (rep_east["target"], rep_east["actual"]) == (1100.0, 600.0)
    assert rep_east["attainment"] == pytest.approx(600 / 1100)  # not (0.5 + 1.0) / 2
    assert _row(rolled, level="team", team="east")["actual"] == 600.0
    assert _row(rolled, level="rep", team="west")["attainment"] == 1.0
    everything = pk.quota_attainment(
        quotas.iloc[:3], opportunities=OPPS, reps=REPS, as_of="2025-11-30", rollup=["period_start"]
    )
    assert len(everything) == 1
    assert everything.iloc[0]["attainment"] == pytest.approx(1300 / 1800)


def test_zero_division_policy_for_a_zero_target():
    quotas = _quotas([("R1", None, *OCT, "won_amount", 0)])
    kwargs: dict[str, Any] = {"opportunities": OPPS, "as_of": "2025-11-30"}
    assert math.isnan(pk.quota_attainment(quotas, **kwargs)["attainment"].iloc[0])
    zero = pk.quota_attainment(quotas, zero_division="0", **kwargs)
    assert zero["attainment"].iloc[0] == 0.0
    with pytest.raises(ZeroDenominatorError):
        pk.quota_attainment(quotas, zero_division="raise", **kwargs)


def test_won_amount_is_read_as_of_the_day_from_history():
    history = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O1"],
            "changed_at": _ts(["2025-09-01", "2025-12-05"]),
            "amount": [300.0, 999.0],
        }
    )
    quotas = _quotas([("R1", None, *OCT, "won_amount", 1000)])
    before = pk.quota_attainment(quotas, opportunities=OPPS, history=history, as_of="2025-11-30")
    assert before["actual"].iloc[0] == 500.0  # the change on Dec 5 is after as_of
    after = pk.quota_attainment(quotas, opportunities=OPPS, history=history, as_of="2025-12-31")
    assert after["actual"].iloc[0] == 999.0 + 200.0


def test_bad_quotas_are_one_error_listing_every_row():
    quotas = pd.DataFrame(
        {
            "owner_id": ["R1", None, "R1", "R1"],
            "team": [None, None, None, None],
            "period_start": _ts(["2025-10-01", "2025-10-01", "2025-10-31", "2025-10-01"]),
            "period_end": _ts(["2025-10-31", "2025-10-31", "2025-10-01", "2025-10-31"]),
            "metric": ["won_amount", "won_amount", "calls", "won_amount"],
            "target": [1.0, 1.0, -1.0, 2.0],
        }
    )
    with pytest.raises(SchemaError) as raised:
        pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-11-30")
    found = {(p.rule, p.row) for p in raised.value.problems}
    assert found == {
        ("quota_holder", 2),
        ("unknown_enum", 3),
        ("bad_target", 3),
        ("period_end_before_start", 3),
        ("duplicate_quota", 4),
    }


def test_team_quotas_need_reps_with_a_team_column():
    quotas = _quotas([(None, "east", *OCT, "won_amount", 1)])
    with pytest.raises(ConfigError, match="team quotas need reps="):
        pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-11-30")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rollup": "region"}, "rollup"),
        ({"pace": "weeks"}, "pace"),
        ({"country": "XX"}, "country"),
        ({"zero_division": "inf"}, "zero_division"),
        ({"as_of": "yesterday"}, "as_of|date"),
    ],
)
def test_parameters_are_checked_early(kwargs: dict[str, Any], match: str):
    quotas = _quotas([("R1", None, *OCT, "won_amount", 1)])
    call = {"opportunities": OPPS, "as_of": "2025-11-30", **kwargs}
    with pytest.raises(ConfigError, match=match):
        pk.quota_attainment(quotas, **call)


def test_inputs_are_not_modified_and_row_order_does_not_matter():
    quotas = _quotas(
        [("R1", None, *OCT, "won_amount", 1000), ("R2", None, *OCT, "won_amount", 400)]
    )
    copies = quotas.copy(), OPPS.copy()
    first = pk.quota_attainment(quotas, opportunities=OPPS, as_of="2025-11-30")
    pd.testing.assert_frame_equal(quotas, copies[0])
    pd.testing.assert_frame_equal(OPPS, copies[1])
    shuffled = pk.quota_attainment(
        quotas.iloc[::-1], opportunities=OPPS.sample(frac=1, random_state=3), as_of="2025-11-30"
    )
    pd.testing.assert_frame_equal(first, shuffled)


# ------------------------------------------------------------------ coverage


def test_coverage_reads_open_deals_expected_in_the_current_period():
    opps = _opps(
        [
            ("P1", "R1", "2025-10-01", None, None, 500.0, "2025-11-20", "commit"),
            ("P2", "R1", "2025-10-01", None, None, 300.0, "2025-11-02", "omitted"),  # overdue
            ("P3", "R1", "2025-10-01", None, None, 900.0, "2025-12-01", "commit"),  # next month
            ("P4", "R1", "2025-10-01", "2025-11-03", True, 400.0, "2025-11-03", "closed"),
            ("P5", "R1", "2025-10-01", "2025-11-04", False, 100.0, "2025-11-04", "closed"),
            ("P6", "R2", "2025-10-01", None, None, 200.0, "2025-11-25", "pipeline"),
            ("P7", "R2", "2025-10-01", "2025-06-01", True, 50.0, "2025-06-01", "closed"),
        ]
    )
    quotas = _quotas(
        [
            ("R1", None, *NOV, "won_amount", 1000),
            ("R2", None, *NOV, "won_amount", 100),
            ("R1", None, *OCT, "won_amount", 1000),  # not the period of as_of
            ("R1", None, *NOV, "won_count", 3),  # not won_amount
        ]
    )
    out = pk.pipeline_coverage(quotas, opportunities=opps, as_of="2025-11-10")
    assert len(out) == 2
    r1 = _row(out, owner_id="R1")
    # pipeline P1 + P2 = 800; remaining 1000 - 400 (P4) = 600.
    assert (r1["pipeline"], r1["pipeline_count"], r1["remaining"]) == (800.0, 2, 600.0)
    assert r1["coverage"] == pytest.approx(800 / 600)
    # Trailing 365 days: P4, P7 won, P5 lost -> 2 / 3; coverage needed 1.5.
    assert r1["win_rate"] == pytest.approx(2 / 3)
    assert r1["coverage_needed"] == pytest.approx(1.5)
    assert r1["pipeline_needed"] == pytest.approx(900.0)
    r2 = _row(out, owner_id="R2")
    assert (r2["pipeline"], r2["remaining"]) == (200.0, 100.0)
    without = pk.pipeline_coverage(
        quotas, opportunities=opps, as_of="2025-11-10", exclude_categories=["omitted"]
    )
    assert _row(without, owner_id="R1")["pipeline"] == 500.0
    short = pk.pipeline_coverage(quotas, opportunities=opps, as_of="2025-11-10", win_rate_days=30)
    assert _row(short, owner_id="R1")["win_rate"] == pytest.approx(1 / 2)  # P7 left out
    rolled = pk.pipeline_coverage(
        quotas, opportunities=opps, as_of="2025-11-10", rollup="period_end"
    )
    assert rolled.iloc[0]["coverage"] == pytest.approx(1000 / (1100 - 400))


def test_coverage_is_undefined_when_the_target_is_met():
    opps = _opps(
        [
            ("P1", "R1", "2025-10-01", "2025-11-03", True, 1200.0, "2025-11-03", "closed"),
            ("P2", "R1", "2025-10-01", None, None, 300.0, "2025-11-20", "commit"),
        ]
    )
    quotas = _quotas([("R1", None, *NOV, "won_amount", 1000)])
    row = pk.pipeline_coverage(quotas, opportunities=opps, as_of="2025-11-10").iloc[0]
    assert row["remaining"] == -200.0
    assert math.isnan(row["coverage"])
    assert row["pipeline_needed"] == 0.0
    with pytest.raises(ZeroDenominatorError):
        pk.pipeline_coverage(quotas, opportunities=opps, as_of="2025-11-10", zero_division="raise")


def test_coverage_uses_expected_close_and_category_as_of_the_day():
    opps = _opps([("P1", "R1", "2025-10-01", None, None, 500.0, "2025-12-20", "omitted")])
    history = pd.DataFrame(
        {
            "opportunity_id": ["P1", "P1"],
            "changed_at": _ts(["2025-10-01", "2025-11-15"]),
            "expected_close_on": _ts(["2025-11-20", "2025-12-20"]),
            "forecast_category": ["commit", "omitted"],
        }
    )
    quotas = _quotas([("R1", None, *NOV, "won_amount", 1000)])
    on_10th = pk.pipeline_coverage(
        quotas, opportunities=opps, history=history, as_of="2025-11-10"
    ).iloc[0]
    assert on_10th["pipeline"] == 500.0  # expected Nov 20 as of Nov 10
    on_20th = pk.pipeline_coverage(
        quotas, opportunities=opps, history=history, as_of="2025-11-20"
    ).iloc[0]
    assert on_20th["pipeline"] == 0.0  # pushed to December on Nov 15


# ------------------------------------------------------------------ forecast accuracy

# Snapshot day for October with days_before=10: Oct 21.
#   F1 R1 commit at s (history), won Oct 28 for 400 -> open part 400
#   F2 R1 won Oct 15 for 100 (by s) -> closed part 100
#   F3 R1 best_case at s, won Oct 30 for 250 -> only in commit_best_case
#   F4 R1 commit at s, expected Nov 5 at s -> outside the period: not forecast
#   F5 R2 commit at s, lost Oct 25 (300) -> forecast 300, actual 0
FORECAST_OPPS = _opps(
    [
        ("F1", "R1", "2025-09-01", "2025-10-28", True, 400.0, "2025-10-28", "closed"),
        ("F2", "R1", "2025-09-02", "2025-10-15", True, 100.0, "2025-10-15", "closed"),
        ("F3", "R1", "2025-09-03", "2025-10-30", True, 250.0, "2025-10-30", "closed"),
        ("F4", "R1", "2025-09-04", None, None, 600.0, "2025-11-05", "commit"),
        ("F5", "R2", "2025-09-05", "2025-10-25", False, 300.0, "2025-10-25", "omitted"),
    ],
    probability=[0.5, 1.0, 0.2, 0.8, 0.4],
)
FORECAST_HISTORY = pd.DataFrame(
    {
        "opportunity_id": ["F1", "F3", "F5", "F1", "F3", "F5"],
        "changed_at": _ts(
            ["2025-09-01", "2025-09-03", "2025-09-05", "2025-10-28", "2025-10-30", "2025-10-25"]
        ),
        "forecast_category": ["commit", "best_case", "commit", "closed", "closed", "omitted"],
        "probability": [0.5, 0.2, 0.4, 1.0, 1.0, 0.0],
    }
)
FORECAST_QUOTAS = _quotas(
    [
        ("R1", None, *OCT, "won_amount", 1000),
        ("R2", None, *OCT, "won_amount", 500),
        ("R1", None, *NOV, "won_amount", 1000),  # not ended by as_of
    ]
)


def _forecast(**kwargs: Any) -> pd.DataFrame:
    return pk.forecast_accuracy(  # type: ignore[no-any-return]
        FORECAST_QUOTAS,
        opportunities=FORECAST_OPPS,
        history=FORECAST_HISTORY,
        as_of="2025-11-10",
        days_before=10,
        **kwargs,
    )


def test_commit_forecast_against_won_amount():
    out = _forecast()
    assert len(out) == 2
    r1 = _row(out, owner_id="R1")
    assert r1["snapshot_on"] == pd.Timestamp("2025-10-21")
    assert (r1["forecast_open"], r1["forecast_closed"], r1["forecast"]) == (400.0, 100.0, 500.0)
    assert r1["actual"] == 750.0  # F1 400 + F2 100 + F3 250
    assert (r1["error"], r1["abs_error"]) == (-250.0, 250.0)
    assert r1["accuracy"] == pytest.approx(1 - 250 / 750)
    assert r1["bias"] == pytest.approx(-250 / 750)
    r2 = _row(out, owner_id="R2")
    assert (r2["forecast"], r2["actual"], r2["abs_error"]) == (300.0, 0.0, 300.0)
    assert math.isnan(r2["accuracy"])
    assert math.isnan(r2["bias"])


def test_forecast_kinds():
    best = _row(_forecast(forecast="commit_best_case"), owner_id="R1")
    assert best["forecast_open"] == 650.0  # F1 400 + F3 250
    weighted = _forecast(forecast="weighted")
    # At s: F1 400 x 0.5, F3 250 x 0.2, F4 outside the period; F5 300 x 0.4.
    assert _row(weighted, owner_id="R1")["forecast_open"] == pytest.approx(250.0)
    assert _row(weighted, owner_id="R2")["forecast_open"] == pytest.approx(120.0)


def test_rollup_takes_errors_per_row_before_summing():
    rolled = _forecast(rollup="period_start").iloc[0]
    # R1 under-forecast by 250, R2 over-forecast by 300: WAPE = 550 / 750, not 50 / 750.
    assert rolled["quota_count"] == 2
    assert (rolled["forecast"], rolled["actual"], rolled["abs_error"]) == (800.0, 750.0, 550.0)
    assert rolled["wape"] == pytest.approx(550 / 750)
    assert rolled["accuracy"] == pytest.approx(1 - 550 / 750)
    assert rolled["bias"] == pytest.approx(50 / 750)


def test_forecast_needs_its_columns():
    with pytest.raises(SchemaError, match="forecast_category"):
        pk.forecast_accuracy(
            FORECAST_QUOTAS,
            opportunities=FORECAST_OPPS.drop(columns="forecast_category"),
            as_of="2025-11-10",
        )
    with pytest.raises(ConfigError, match="forecast"):
        pk.forecast_accuracy(
            FORECAST_QUOTAS, opportunities=FORECAST_OPPS, as_of="2025-11-10", forecast="gut"
        )


# ------------------------------------------------------------------ the bundled sample


@pytest.fixture(scope="module")
def sample() -> pk.Dataset:
    return pk.sample_dataset()


def _plain_won(ds: pk.Dataset, as_of: date) -> dict[tuple[str, date], float]:
    """Won amount per owner and close day by a plain loop (complete history: the
    sample's amounts as of the last day are the table's amounts)."""
    out: dict[tuple[str, date], float] = {}
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    for row in ds.opportunities.itertuples():
        if pd.notna(row.is_won) and bool(row.is_won) and row.closed_at < end:
            key = (row.owner_id, row.closed_at.date())
            amount = 0.0 if pd.isna(row.amount) else float(row.amount)
            out[key] = out.get(key, 0.0) + amount
    return out


def test_sample_attainment_matches_a_plain_loop(sample: pk.Dataset):
    as_of = date(2025, 12, 31)
    quotas = sample.quotas
    assert quotas is not None
    assert len(quotas) > 0
    out = pk.quota_attainment(
        quotas,
        opportunities=sample.opportunities,
        activities=sample.activities,
        reps=sample.reps,
        history=sample.opportunity_history,
        stage_changes=sample.stage_changes,
        as_of=as_of,
    )
    assert len(out) == len(quotas)
    won = _plain_won(sample, as_of)
    checked = 0
    for row in out[(out["metric"] == "won_amount") & (out["level"] == "rep")].itertuples():
        start, end = row.period_start.date(), row.period_end.date()
        expected = math.fsum(
            v for (owner, day), v in won.items() if owner == row.owner_id and start <= day <= end
        )
        assert row.actual == pytest.approx(expected), (row.owner_id, start)
        checked += 1
    assert checked > 10


# ------------------------------------------------------------------ properties

OWNERS = ("R1", "R2", "R3")
DAY0 = date(2025, 1, 1)


@st.composite
def quota_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for i in range(n):
        created = DAY0 + timedelta(days=draw(st.integers(0, 150)))
        closed = draw(st.one_of(st.none(), st.integers(0, 90)))
        won = None if closed is None else draw(st.booleans())
        rows.append(
            (
                f"O{i}",
                draw(st.sampled_from(OWNERS)),
                created.isoformat(),
                None if closed is None else (created + timedelta(days=closed)).isoformat(),
                won,
                draw(st.one_of(st.none(), st.integers(0, 1000).map(float))),
                (created + timedelta(days=draw(st.integers(0, 120)))).isoformat(),
                draw(st.sampled_from(["commit", "best_case", "pipeline", None])),
            )
        )
    opps = (
        _opps(rows)
        if rows
        else pd.DataFrame(
            {
                "opportunity_id": pd.Series([], dtype="object"),
                "owner_id": pd.Series([], dtype="object"),
                "created_at": pd.Series([], dtype="datetime64[us]"),
                "closed_at": pd.Series([], dtype="datetime64[us]"),
                "is_won": pd.array([], dtype="boolean"),
                "amount": pd.array([], dtype="Float64"),
                "expected_close_on": pd.Series([], dtype="datetime64[us]"),
                "forecast_category": pd.Series([], dtype="object"),
            }
        )
    )
    months = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
    quota_rows = [
        (
            owner,
            None,
            date(2025, m, 1).isoformat(),
            (date(2025, m + 1, 1) - timedelta(days=1)).isoformat(),
            "won_amount",
            draw(st.integers(0, 2000)),
        )
        for owner in OWNERS
        for m in months
    ]
    return _quotas(quota_rows), opps


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=quota_cases(), as_of=st.integers(0, 200))
def test_rollup_equals_the_sum_of_its_parts(case: tuple[pd.DataFrame, pd.DataFrame], as_of: int):
    quotas, opps = case
    day = DAY0 + timedelta(days=as_of)
    parts = pk.quota_attainment(quotas, opportunities=opps, reps=REPS, as_of=day)
    rolled = pk.quota_attainment(quotas, opportunities=opps, reps=REPS, as_of=day, rollup="team")
    for team, members in parts.groupby("team"):
        row = _row(rolled, team=team)
        assert row["actual"] == pytest.approx(members["actual"].sum())
        assert row["target"] == pytest.approx(members["target"].sum())
        assert row["quota_count"] == len(members)
    assert (parts["actual"] >= 0).all()
    # Actuals never fall as as_of moves on (complete history: amounts are fixed).
    later = pk.quota_attainment(quotas, opportunities=opps, as_of=day + timedelta(days=30))
    assert (later["actual"].to_numpy() >= parts["actual"].to_numpy()).all()
    accuracy = pk.forecast_accuracy(quotas, opportunities=opps, as_of=day, rollup="period_start")
    for row in accuracy.itertuples():
        assert row.abs_error >= abs(row.error) - 1e-9  # errors never cancel in a roll-up


def test_day_boundaries_follow_the_dataset_time_zone():
    # Edge dataset (UTC instants, Berlin zone): O1 is won at 22:30 UTC on 31 May, that
    # is 00:30 on 1 June in Berlin; O6 at 23:00 UTC on 30 Nov = 1 Dec 00:00 in Berlin.
    from ..engines.datasets import edge_dataset

    data = edge_dataset()
    t = data.tables
    out = pk.quota_attainment(
        t["quotas"],
        opportunities=t["opportunities"],
        activities=t["activities"],
        reps=t["reps"],
        as_of=data.as_of,
        tz=data.tz,
    )
    won = out[(out["metric"] == "won_amount") & (out["level"] == "rep")]
    actual = dict(zip(won["period_start"].dt.strftime("%Y-%m"), won["actual"], strict=True))
    assert actual == {"2025-05": 0.0, "2025-06": 3e6, "2025-11": 0.0, "2025-12": 0.0}
    team_q2 = _row(out, level="team", period_start=pd.Timestamp("2025-04-01"))
    assert team_q2["actual"] == 3e6
    assert team_q2["attainment"] == 0.75
    assert _row(out, metric="meetings_held")["actual"] == 1.0
