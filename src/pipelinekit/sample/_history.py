"""Opportunity history: how each deal's stage, amount, close date, probability and
forecast category changed (the ``opportunity_history`` table), and the close date and
forecast category the opportunities row holds at the end.

Drawn from its own random stream, ``default_rng([seed, 17])``, so every other table
and every other column of ``opportunities`` is the same with or without it. Each deal
has a complete history (a row at creation, as Salesforce records it), so its state on
any past day can be read back exactly:

- **Creation** (``created_at``): stage ``list``, the first amount estimate, the first
  close date (about six weeks out, a third of them on a month end), probability 10%,
  forecast category ``pipeline``.
- **Stage entries** (the ``stage_changes`` times): the stage, its probability and its
  forecast category (proposal ``pipeline``, opportunity ``best_case``, quote
  ``commit``, a quarter of quotes ``best_case``).
- **Slipped close dates**: a deal still open around its close date (from two days
  before to a week after it) gets a new one two to six weeks later; up to three
  times. These rows carry only the close date.
- **Amount changes**: about a third of the deals past ``list`` started from a
  different estimate, revised at one of their stage entries; a quarter of the won
  deals change their amount when they are signed (on the closing row).
- **Close**: ``won`` or ``lost``, probability 1 or 0, category ``closed`` or
  ``omitted``, and the close date set to the closing day (a deal that closes early is
  pulled into that day's period).

The opportunities row holds the last value of every field. Rows are in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelinekit.sample._common import _DAY, F64, I64
from pipelinekit.sample._frames import _date_col, _frame, _id_col, _label_col, _ts_col
from pipelinekit.sample._opportunities import _Opps
from pipelinekit.sample._random import _office_time, _Span, _to_business_day
from pipelinekit.sample._vocab import (
    _FC_BEST_CASE,
    _FC_CLOSED,
    _FC_OMITTED,
    _FORECAST_CATEGORIES,
    _STAGE_FORECAST,
    _STAGE_PROBABILITY,
    _STAGE_WON,
    _STAGES,
)

#: Stream id of the history: ``default_rng([seed, STREAM])``.
STREAM = 17
_MAX_SLIPS = 3
_QUOTE = 3


@dataclass(frozen=True)
class _History:
    """History rows (``-1`` / NaN = empty cell) and each deal's final close date and
    forecast category."""

    opp: I64
    at: I64
    stage: I64
    amount: F64
    close_day: I64
    probability: F64
    forecast: I64
    final_close_day: I64
    final_forecast: I64


def _month_end(days: I64) -> I64:
    """The last day of each day's month."""
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    end: I64 = ((month + 1).astype("datetime64[D]").astype(np.int64) - 1).astype(np.int64)
    return end


def _close_date(rng: np.random.Generator, days: I64) -> I64:
    """A close date a rep would type: the month end for a third, else a business day."""
    return np.where(
        rng.random(len(days)) < 0.35, _month_end(days), _to_business_day(rng, days)
    ).astype(np.int64)


def _slips(
    rng: np.random.Generator, created: I64, close_t: I64, first: I64
) -> tuple[list[I64], list[I64], list[I64], I64]:
    """Close dates moved out while the deal stays open: (opp, at, new day) per round,
    and each deal's last close date."""
    m = len(created)
    close_day, last_t = first.copy(), created.copy()
    active = np.ones(m, dtype=np.bool_)
    opp_parts, at_parts, day_parts = [], [], []
    for _ in range(_MAX_SLIPS):
        notice = _to_business_day(rng, close_day + rng.integers(-2, 8, m))
        t = _office_time(rng, notice)
        new = close_day + np.clip(np.round(rng.lognormal(np.log(21.0), 0.5, m)), 7, 90)
        new = _close_date(rng, new.astype(np.int64))
        # still open when the rep moves the date (and inside the data window)
        moved = active & (t > last_t) & (t < close_t) & (new > close_day)
        (idx,) = np.nonzero(moved)
        opp_parts.append(idx)
        at_parts.append(t[idx])
        day_parts.append(new[idx])
        close_day = np.where(moved, new, close_day)
        last_t = np.where(moved, t, last_t)
        active = moved
    return opp_parts, at_parts, day_parts, close_day


def _make_history(span: _Span, opps: _Opps, seed: int) -> _History:
    """The history rows of every opportunity (in time order)."""
    rng = np.random.default_rng([seed, STREAM])
    m = len(opps.created)
    idx = np.arange(m, dtype=np.int64)
    closed = opps.result >= 0
    won = opps.result == _STAGE_WON
    close_t = np.where(closed, opps.times[:, 4], span.end_s)

    # close dates: the first plan, then slips while the deal stays open
    plan = np.clip(np.round(rng.lognormal(np.log(42.0), 0.45, m)), 14, 180).astype(np.int64)
    first = _close_date(rng, opps.created // _DAY + plan)
    slip_opp, slip_at, slip_day, open_close_day = _slips(rng, opps.created, close_t, first)

    # amounts: a different first estimate revised at a stage entry; a discount at signing
    final = opps.amount
    known = ~np.isnan(final)
    signed = known & won & (rng.random(m) < 0.25)
    before_signing = np.where(
        signed, np.round(final / rng.uniform(0.85, 0.97, m), -3), final
    ).astype(np.float64)
    revised = known & (opps.reached >= 1) & (rng.random(m) < 0.35)
    revise_stage = 1 + np.floor(rng.random(m) * np.maximum(opps.reached, 1)).astype(np.int64)
    estimate = np.round(before_signing * rng.lognormal(0.0, 0.2, m), -3)
    estimate = np.where(estimate == before_signing, before_signing + 10_000, estimate)
    first_amount = np.where(revised, np.maximum(estimate, 100_000.0), before_signing)

    quote_best_case = rng.random(m) < 0.25
    stage_probability = np.asarray(_STAGE_PROBABILITY)
    stage_forecast = np.asarray(_STAGE_FORECAST)

    def stage_fields(k: int, rows: I64) -> tuple[F64, I64]:
        """Probability and forecast category of entering stage ``k`` (the open deal's
        current probability at its last stage)."""
        current = ~closed[rows] & (opps.reached[rows] == k)
        probability = np.where(current, opps.probability[rows], stage_probability[k])
        forecast = np.full(len(rows), stage_forecast[k], dtype=np.int64)
        if k == _QUOTE:
            forecast = np.where(quote_best_case[rows], _FC_BEST_CASE, forecast)
        return probability.astype(np.float64), forecast

    parts: list[tuple[I64, I64, I64, F64, I64, F64, I64]] = []
    # creation rows
    probability, forecast = stage_fields(0, idx)
    parts.append(
        (idx, opps.created, np.zeros(m, dtype=np.int64), first_amount, first, probability,
         forecast)
    )  # fmt: skip
    # later stage entries
    for k in range(1, 4):
        (rows,) = np.nonzero(opps.reached >= k)
        probability, forecast = stage_fields(k, rows)
        amount = np.where(revised[rows] & (revise_stage[rows] == k), before_signing[rows], np.nan)
        parts.append(
            (rows, opps.times[rows, k], np.full(len(rows), k, dtype=np.int64), amount,
             np.full(len(rows), -1, dtype=np.int64), probability, forecast)
        )  # fmt: skip
    # slipped close dates
    for rows, at, day in zip(slip_opp, slip_at, slip_day, strict=True):
        n = len(rows)
        parts.append(
            (rows, at, np.full(n, -1, dtype=np.int64), np.full(n, np.nan), day,
             np.full(n, np.nan), np.full(n, -1, dtype=np.int64))
        )  # fmt: skip
    # the close
    (rows,) = np.nonzero(closed)
    close_day = opps.times[rows, 4] // _DAY
    parts.append(
        (rows, opps.times[rows, 4], opps.result[rows],
         np.where(signed[rows], final[rows], np.nan), close_day, opps.probability[rows],
         np.where(won[rows], _FC_CLOSED, _FC_OMITTED).astype(np.int64))
    )  # fmt: skip
    columns = [np.concatenate([p[i] for p in parts]) for i in range(7)]
    order = np.lexsort((columns[0], columns[1]))  # by time, then opportunity
    opp, at, stage, amount, day, probability, forecast = (c[order] for c in columns)

    # the forecast category of each deal's last row that sets one
    last = np.full(m, -1, dtype=np.int64)
    (sets,) = np.nonzero(forecast >= 0)
    np.maximum.at(last, opp[sets], sets)
    final_forecast = np.where(last >= 0, forecast[np.maximum(last, 0)], -1).astype(np.int64)
    final_close_day = np.where(closed, opps.times[:, 4] // _DAY, open_close_day)
    return _History(
        opp=opp.astype(np.int64),
        at=at.astype(np.int64),
        stage=stage.astype(np.int64),
        amount=amount.astype(np.float64),
        close_day=day.astype(np.int64),
        probability=probability.astype(np.float64),
        forecast=forecast.astype(np.int64),
        final_close_day=final_close_day.astype(np.int64),
        final_forecast=final_forecast,
    )


def _opportunity_history_frame(h: _History, opportunity_width: int) -> pd.DataFrame:
    """The ``opportunity_history`` table of a generated dataset."""
    return _frame(
        "opportunity_history",
        {
            "opportunity_id": _id_col("opp-", h.opp, opportunity_width),
            "changed_at": _ts_col(h.at),
            "stage": _label_col(_STAGES, h.stage),
            "amount": pd.Series(h.amount, dtype="float64"),
            "expected_close_on": _date_col(h.close_day),
            "probability": pd.Series(h.probability, dtype="float64"),
            "forecast_category": _label_col(_FORECAST_CATEGORIES, h.forecast),
        },
    )


def _history_columns(h: _History) -> dict[str, pd.Series]:
    """The columns the history adds to ``opportunities``: the last close date and
    forecast category."""
    return {
        "expected_close_on": _date_col(h.final_close_day),
        "forecast_category": _label_col(_FORECAST_CATEGORIES, h.final_forecast),
    }
