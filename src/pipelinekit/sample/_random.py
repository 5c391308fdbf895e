"""Small vectorised random helpers: picks, office hours, business days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelinekit.sample._common import _DAY, _HOUR, F64, I64
from pipelinekit.sample._vocab import _OFFICE_HOURS

# ------------------------------------------------------------------ small helpers


@dataclass(frozen=True)
class _Span:
    """The data window ``[start_s, end_s)`` in naive epoch seconds."""

    start_s: int
    end_s: int

    @property
    def start_day(self) -> int:
        return self.start_s // _DAY

    @property
    def end_day(self) -> int:
        """First day after the window."""
        return self.end_s // _DAY


def _span(start: str, months: int) -> _Span:
    """Parse ``start`` (a date) and compute the window of ``months`` months."""
    ts = pd.Timestamp(start)
    if ts.tzinfo is not None:
        msg = f"start must be a naive date (wall-clock time), got {start!r}"
        raise ValueError(msg)
    ts = ts.normalize()
    end = ts + pd.DateOffset(months=months)
    epoch = pd.Timestamp(0)
    return _Span(
        int((ts - epoch) // pd.Timedelta(seconds=1)),
        int((end - epoch) // pd.Timedelta(seconds=1)),
    )


def _pick(rng: np.random.Generator, weights: Sequence[float] | F64, n: int) -> I64:
    """Draw ``n`` category codes with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def _pick_rows(rng: np.random.Generator, p: F64) -> I64:
    """One draw per row of a (rows x categories) probability matrix."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cdf[:, -1]
    codes: I64 = np.minimum((u[:, None] >= cdf).sum(axis=1), p.shape[1] - 1).astype(np.int64)
    return codes


def _with_missing(rng: np.random.Generator, codes: I64, p_missing: float) -> I64:
    return np.where(rng.random(len(codes)) < p_missing, -1, codes).astype(np.int64)


def _weekday(days: I64) -> I64:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _to_business_day(rng: np.random.Generator, days: I64, p_shift: float = 1.0) -> I64:
    """Move weekend days to the following Monday (with probability ``p_shift``)."""
    wd = _weekday(days)
    shift = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    if p_shift < 1.0:
        shift = np.where(rng.random(len(days)) < p_shift, shift, 0)
    return (days + shift).astype(np.int64)


def _clock(rng: np.random.Generator, hour_weights: Sequence[float], n: int) -> I64:
    """Seconds after midnight with the given hour-of-day profile."""
    return _pick(rng, hour_weights, n) * _HOUR + rng.integers(0, _HOUR, n)


def _office_time(rng: np.random.Generator, days: I64) -> I64:
    """A working-hours timestamp on each of ``days``."""
    return days * _DAY + _clock(rng, _OFFICE_HOURS, len(days))


def _within_office_hours(rng: np.random.Generator, t: I64) -> I64:
    """Times outside 8:00-20:00 or at weekends move to the next business morning."""
    day = t // _DAY
    off = (_hour(t) < 8) | (_hour(t) >= 20) | (_weekday(day) >= 5)
    next_day = _to_business_day(rng, np.where(_hour(t) < 8, day, day + 1))
    morning = next_day * _DAY + 9 * _HOUR + rng.integers(0, 2 * _HOUR, len(t))
    return np.where(off, morning, t).astype(np.int64)


def _hour(t: I64) -> I64:
    return (t % _DAY) // _HOUR
