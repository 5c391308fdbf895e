"""Funnel exclusion steps and per-step conversion windows: hand-computed cases (each
edge spelled out next to its data), a plain-Python reading of the rules checked on
the bundled sample, and properties on generated datasets."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import pipelinekit as pk
from pipelinekit import ConfigError, FunnelExclusion
from pipelinekit.metrics.funnel import STAGE_COLUMNS

from ..strategies import datasets

EXAMPLES = int(os.environ.get("PIPELINEKIT_PROPERTY_EXAMPLES", "15"))
WRONG_NUMBER = FunnelExclusion(
    between=("touched", "connected"), channel="call", outcome="wrong_number"
)
D0 = datetime(2025, 4, 1, 9, 0)


def day(n: float) -> datetime:
    return D0 + timedelta(days=n)


def _journey(rows: dict[str, tuple[Any, ...]]) -> pd.DataFrame:
    """lead -> (created, touched, connected, sql) in days after D0 (None = never)."""
    out = {"lead_id": list(rows)}
    for k, stage in enumerate(("lead", "touched", "connected", "sql")):
        out[STAGE_COLUMNS[stage]] = pd.to_datetime(
            [None if v[k] is None else day(v[k]) for v in rows.values()]
        )
    return pd.DataFrame(out)


def _calls(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "activity_id": [f"A{i}" for i in range(len(rows))],
            "lead_id": [r[0] for r in rows],
            "occurred_at": pd.to_datetime([day(r[1]) for r in rows]),
            "channel": "call",
            "direction": "outbound",
            "outcome": [r[2] for r in rows],
        }
    )


STAGES = ("lead", "touched", "connected", "sql")


def _counts(table: pd.DataFrame, column: str = "count") -> list[int]:
    return table[column].astype(int).tolist()


# ------------------------------------------------------------------ exclusions


def test_exclusion_between_touched_and_connected_by_hand() -> None:
    journey = _journey(
        {
            "L1": (0, 1, 3, 5),  # wrong number on day 2: excluded at connected, even if it converts
            "L2": (0, 1, 4, None),  # wrong number at the touch itself (e_a <= t): excluded
            "L3": (0, 1, 3, 6),  # wrong number at the very instant of the connect: not excluded
            "L4": (0, 1, None, None),  # never connected, wrong number on day 9: excluded
            "L5": (0, 1, None, None),  # never connected, no wrong number: dropped
            "L6": (0, 2, 4, None),  # wrong number on day 1, before its touch: not excluded
        }
    )
    calls = _calls(
        [
            ("L1", 2, "wrong_number"),
            ("L2", 1, "wrong_number"),
            ("L3", 3, "wrong_number"),
            ("L4", 9, "wrong_number"),
            ("L5", 2, "no_answer"),  # another outcome: not an exclusion
            ("L6", 1, "wrong_number"),
        ]
    )
    out = pk.funnel(journey, stages=STAGES, exclusions=WRONG_NUMBER, activities=calls)
    assert out["stage"].tolist() == list(STAGES)
    assert _counts(out) == [6, 6, 2, 1]  # connected: L3, L6; sql: L3
    assert _counts(out, "excluded") == [0, 0, 3, 0]  # L1, L2, L4
    connected = out.iloc[2]
    # reached + excluded + dropped = entered the step
    assert connected["step_denominator"] == 6
    assert connected["step_numerator"] + connected["excluded"] + 1 == 6  # L5 dropped
    without = pk.funnel(journey, stages=STAGES)
    assert "excluded" not in without.columns
    assert _counts(without) == [6, 6, 4, 2]


def test_exclusions_after_as_of_do_not_count() -> None:
    journey = _journey({"L1": (0, 1, None, None), "L2": (0, 1, None, None)})
    calls = _calls([("L1", 2, "wrong_number"), ("L2", 40, "wrong_number")])
    as_of = day(10).date()
    out = pk.funnel(journey, stages=STAGES, exclusions=WRONG_NUMBER, activities=calls, as_of=as_of)
    assert _counts(out, "excluded") == [0, 0, 1, 0]  # L2's call is after as_of


def test_the_earliest_exclusion_wins_and_counts_once() -> None:
    journey = _journey({"L1": (0, 1, 3, 5)})
    calls = _calls([("L1", 0.5, "busy"), ("L1", 2, "wrong_number")])
    busy = FunnelExclusion(between=("lead", "touched"), channel="call", outcome="busy")
    out = pk.funnel(journey, stages=STAGES, exclusions=[WRONG_NUMBER, busy], activities=calls)
    assert _counts(out) == [1, 0, 0, 0]
    assert _counts(out, "excluded") == [0, 1, 0, 0]


def test_exclusion_arguments_are_checked() -> None:
    journey = _journey({"L1": (0, 1, 3, 5)})
    with pytest.raises(ConfigError, match="activities="):
        pk.funnel(journey, stages=STAGES, exclusions=WRONG_NUMBER)
    with pytest.raises(ConfigError, match="between"):
        pk.funnel(
            journey,
            stages=STAGES,
            activities=_calls([]),
            exclusions=FunnelExclusion(between=("sql", "touched"), outcome="busy"),
        )
    with pytest.raises(ConfigError, match="outcome"):
        FunnelExclusion(between=("lead", "touched"), outcome="wrongnumber")
    with pytest.raises(ConfigError, match="channel, an outcome or a direction"):
        FunnelExclusion(between=("lead", "touched"))


# ------------------------------------------------------------------ step windows


def test_step_windows_by_hand() -> None:
    journey = _journey(
        {
            "L1": (0, 1, 10, 12),  # touched in 1 day, connected 9 days later: all within
            "L2": (0, 2, 3, 4),  # touched exactly 2 days later: the window end is exclusive
            "L3": (0, 1, 20, 21),  # connected 19 days after the touch: misses, and sql too
            "L4": (0, 1.5, 2, 40),  # sql 38 days after the connect: no sql window, counts
        }
    )
    windows = {"touched": 2, "connected": 14}
    out = pk.funnel(journey, stages=STAGES, step_windows=windows)
    assert _counts(out) == [4, 3, 2, 2]  # touched: L1, L3, L4; connected: L1, L4
    same = pk.funnel(journey, stages=STAGES, step_windows=[2, 14, None])
    pd.testing.assert_frame_equal(out, same)
    # with the funnel window (from the entry) as well: L4's sql on day 40 is out of 30
    both = pk.funnel(journey, stages=STAGES, step_windows=windows, window=30)
    assert _counts(both) == [4, 3, 2, 1]


def test_step_window_arguments_are_checked() -> None:
    journey = _journey({"L1": (0, 1, 3, 5)})
    with pytest.raises(ConfigError, match="not a stage after the entry"):
        pk.funnel(journey, stages=STAGES, step_windows={"lead": 3})
    with pytest.raises(ConfigError, match="one window per step"):
        pk.funnel(journey, stages=STAGES, step_windows=[1, 2])
    with pytest.raises(ConfigError, match="step_windows"):
        pk.funnel(journey, stages=STAGES, step_windows={"touched": -1})


# ------------------------------------------------------------------ the bundled sample

AS_OF = "2025-12-31"


def _plain_counts(
    journey: pd.DataFrame,
    activities: pd.DataFrame,
    stages: tuple[str, ...],
    cutoff: datetime,
    windows: dict[str, int],
    exclusions: list[FunnelExclusion],
) -> tuple[list[int], list[int]]:
    """Inferred reach times, then step windows, then exclusions, lead by lead."""
    n = len(stages)
    marks: dict[str, list[tuple[datetime, int]]] = {}
    for row in activities.itertuples():
        for j, x in enumerate(exclusions):
            if all(
                getattr(row, f) == getattr(x, f)
                for f in ("channel", "outcome", "direction")
                if getattr(x, f) is not None
            ):
                marks.setdefault(row.lead_id, []).append((row.occurred_at.to_pydatetime(), j))
    counts, excluded = [0] * n, [0] * n
    for row in journey.itertuples():
        t = []
        for s in stages:
            v = getattr(row, STAGE_COLUMNS[s])
            t.append(None if pd.isna(v) or v >= cutoff else v.to_pydatetime())
        later = [min([v for v in t[k:] if v is not None], default=None) for k in range(n)]
        anchor = t[0] if t[0] is not None else later[1]
        if anchor is None or anchor >= cutoff:
            continue
        e = [anchor] + [None if later[k] is None else max(anchor, later[k]) for k in range(1, n)]
        for k in range(1, n):
            w = windows.get(stages[k])
            ok = e[k - 1] is not None and (
                w is None or (e[k] is not None and e[k] < e[k - 1] + timedelta(days=w))
            )
            if not ok:
                e[k] = None
        at = n
        for when, j in marks.get(row.lead_id, []):
            a, b = (stages.index(s) for s in exclusions[j].between)
            end = e[b] if e[b] is not None else cutoff
            if e[a] is not None and e[b - 1] is not None and e[a] <= when < end:
                at = min(at, b)
        for k in range(n):
            if k >= at:
                e[k] = None
            counts[k] += e[k] is not None
        if at < n:
            excluded[at] += 1
    return counts, excluded


def test_sample_matches_a_plain_python_reading() -> None:
    ds = pk.sample_dataset()
    journey = pk.journey(ds.leads, ds.activities, ds.opportunities, as_of=AS_OF)
    bounced = FunnelExclusion(between=("touched", "sql"), channel="email", outcome="bounced")
    exclusions = [WRONG_NUMBER, bounced]
    windows = {"touched": 3, "sql": 60}
    stages = ("lead", "touched", "connected", "sql", "valid")
    out = pk.funnel(
        journey,
        stages=stages,
        as_of=AS_OF,
        exclusions=exclusions,
        step_windows=windows,
        activities=ds.activities,
    )
    cutoff = datetime(2026, 1, 1)
    counts, excluded = _plain_counts(journey, ds.activities, stages, cutoff, windows, exclusions)
    assert _counts(out) == counts
    assert _counts(out, "excluded") == excluded
    assert sum(excluded) > 100  # the sample has wrong numbers and bounces to exclude


# ------------------------------------------------------------------ properties


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables=datasets(max_leads=8, max_activities=20, max_opportunities=4))
def test_exclusions_and_step_windows_only_lower_counts(tables: dict[str, pd.DataFrame]) -> None:
    journey = pk.journey(tables["leads"], tables["activities"], tables["opportunities"])
    acts = tables["activities"]
    plain = pk.funnel(journey)
    excluded = pk.funnel(journey, exclusions=WRONG_NUMBER, activities=acts)
    stepped = pk.funnel(journey, step_windows={"touched": 1, "sql": 10})
    huge = pk.funnel(journey, step_windows=[36500] * 5)
    for table in (plain, excluded, stepped):
        counts = _counts(table)
        assert all(b <= a for a, b in itertools.pairwise(counts))
    assert (excluded["count"] <= plain["count"]).all()
    assert (stepped["count"] <= plain["count"]).all()
    pd.testing.assert_frame_equal(huge, plain)
    # reached + excluded + dropped = the step's entrants, so reached + excluded <= entrants
    step = excluded.iloc[1:]
    assert (step["step_numerator"] + step["excluded"] <= step["step_denominator"]).all()
    assert excluded["excluded"].sum() <= plain["count"].iloc[0]
