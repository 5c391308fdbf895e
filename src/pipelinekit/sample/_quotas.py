"""Monthly quotas of the generated sample (the ``quotas`` table, DESIGN section 7).

Field reps carry a monthly ``won_amount`` quota, inside reps a monthly
``meetings_held`` quota, and each field team a quarterly ``won_amount`` quota equal to
the sum of its reps' monthly targets. A target is the rep's average monthly actual
over the whole window times a factor drawn from ``default_rng([seed, 18])`` (0.7 to
1.4), rounded (amounts to 100,000, meetings to 1, at least one step), so some reps
beat their quota and some miss it. Quotas are drawn last from their own stream: the
other tables do not change with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelinekit.sample._random import _Span

_AMOUNT_STEP = 100_000.0
_COUNT_STEP = 1.0


def _months(span: _Span) -> list[pd.Timestamp]:
    first = pd.Timestamp(span.start_s, unit="s").normalize()
    last = pd.Timestamp(span.end_s - 1, unit="s")
    return list(pd.date_range(first, last, freq="MS"))


def _targets(
    rng: np.random.Generator, monthly_total: pd.Series, n_months: int, step: float
) -> pd.Series:
    factor = rng.uniform(0.7, 1.4, size=len(monthly_total))
    raw = monthly_total.to_numpy(dtype=np.float64) / n_months * factor
    return pd.Series(np.maximum(np.round(raw / step), 1.0) * step, index=monthly_total.index)


def _quotas_frame(
    span: _Span,
    reps: pd.DataFrame,
    opportunities: pd.DataFrame,
    activities: pd.DataFrame,
    seed: int,
) -> pd.DataFrame:
    """The ``quotas`` table of a generated dataset."""
    rng = np.random.default_rng([seed, 18])
    months = _months(span)
    field = reps.loc[reps["role"] == "field", "rep_id"]
    inside = reps.loc[reps["role"] == "inside", "rep_id"]
    won = opportunities[opportunities["is_won"].fillna(False).astype(bool)]
    won_total = won.groupby("owner_id")["amount"].sum().reindex(field, fill_value=0.0)
    held = activities[(activities["channel"] == "meeting") & (activities["outcome"] == "held")]
    held_total = held.groupby("owner_id").size().reindex(inside, fill_value=0)
    amount_target = _targets(rng, won_total, len(months), _AMOUNT_STEP)
    meeting_target = _targets(rng, held_total.astype(float), len(months), _COUNT_STEP)
    rows: list[tuple[object, object, pd.Timestamp, pd.Timestamp, str, float]] = []
    for month in months:
        end = month + pd.offsets.MonthEnd(0)
        rows += [(r, None, month, end, "won_amount", amount_target[r]) for r in field]
        rows += [(r, None, month, end, "meetings_held", meeting_target[r]) for r in inside]
    team_of = reps.set_index("rep_id")["team"]
    for quarter in sorted({m.to_period("Q") for m in months}):
        start, end = quarter.start_time.normalize(), quarter.end_time.normalize()
        in_quarter = sum(1 for m in months if start <= m <= end)
        for team in sorted(team_of[field].dropna().unique()):
            members = [r for r in field if team_of[r] == team]
            target = float(sum(amount_target[r] for r in members)) * in_quarter
            rows.append((None, team, start, end, "won_amount", target))
    frame = pd.DataFrame(
        rows, columns=["owner_id", "team", "period_start", "period_end", "metric", "target"]
    )
    return frame.astype(
        {
            "owner_id": "str",
            "team": "str",
            "period_start": "datetime64[us]",
            "period_end": "datetime64[us]",
            "metric": "str",
            "target": "float64",
        }
    )
