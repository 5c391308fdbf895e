"""Monthly quotas of the generated sample (the ``quotas`` table, DESIGN section 7).

Field reps carry a monthly ``won_amount`` quota, inside reps a monthly
``meetings_held`` quota, and each field team a quarterly ``won_amount`` quota equal to
the sum of its reps' monthly targets. A rep's target for a month is the rep's
average actual over that month and its two neighbours times a factor drawn from
``default_rng([seed, 18])`` (0.6 to 1.5), rounded (amounts to 100,000, meetings to 1,
at least one step): targets follow the ramp of the data, and some reps beat their
quota while others miss it. Quotas are drawn last from their own stream: the
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


def _targets(rng: np.random.Generator, monthly: pd.DataFrame, step: float) -> pd.DataFrame:
    """Targets from ``monthly`` actuals (one row per owner, one column per month)."""
    smooth = monthly.T.rolling(3, center=True, min_periods=1).mean().T
    factor = rng.uniform(0.6, 1.5, size=smooth.shape)
    raw = smooth.to_numpy(dtype=np.float64) * factor
    values = np.maximum(np.round(raw / step), 1.0) * step
    return pd.DataFrame(values, index=monthly.index, columns=monthly.columns)


def _monthly(
    frame: pd.DataFrame, when: str, value: pd.Series, owners: pd.Series, months: list[pd.Timestamp]
) -> pd.DataFrame:
    """Sum of ``value`` per owner and calendar month of ``when``."""
    month = frame[when].dt.to_period("M").dt.to_timestamp()
    table = value.groupby([frame["owner_id"], month]).sum().unstack(fill_value=0)
    return table.reindex(index=owners, columns=months, fill_value=0.0).astype(np.float64)


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
    held = activities[(activities["channel"] == "meeting") & (activities["outcome"] == "held")]
    amount = won["amount"].fillna(0.0).astype(np.float64)
    amount_target = _targets(rng, _monthly(won, "closed_at", amount, field, months), _AMOUNT_STEP)
    ones = pd.Series(1.0, index=held.index)
    meeting_target = _targets(rng, _monthly(held, "occurred_at", ones, inside, months), _COUNT_STEP)
    rows: list[tuple[object, ...]] = []
    for month in months:
        end = month + pd.offsets.MonthEnd(0)
        rows += [(r, None, month, end, "won_amount", amount_target.at[r, month]) for r in field]
        rows += [
            (r, None, month, end, "meetings_held", meeting_target.at[r, month]) for r in inside
        ]
    team_of = reps.set_index("rep_id")["team"]
    for quarter in sorted({m.to_period("Q") for m in months}):
        start, end = quarter.start_time.normalize(), quarter.end_time.normalize()
        in_quarter = [m for m in months if start <= m <= end]
        for team in sorted(team_of[field].dropna().unique()):
            members = [r for r in field if team_of[r] == team]
            target = float(amount_target.loc[members, in_quarter].to_numpy().sum())
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
