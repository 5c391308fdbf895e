"""Calendar periods and the ``as_of`` cut-off, on naive wall-clock timestamps.

All timestamps inside pipelinekit are naive wall-clock time in the dataset time zone
(converted once at entry), so bucketing is plain truncation.

Examples
--------
>>> from datetime import date
>>> as_of_cutoff(date(2025, 3, 31))
datetime.datetime(2025, 4, 1, 0, 0)
>>> as_of_cutoff("2025-03-31T15:00")
datetime.datetime(2025, 4, 1, 0, 0)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, get_args

import narwhals as nw

from pipelinekit.errors import ConfigError

__all__ = ["Freq", "as_of_cutoff", "check_freq", "parse_as_of", "period_start"]

Freq = Literal["day", "week", "month", "quarter", "year"]

_TRUNCATE = {"day": "1d", "month": "1mo", "quarter": "1q", "year": "1y"}


def check_freq(freq: str) -> Freq:
    """Validate a ``freq`` argument."""
    allowed = get_args(Freq)
    if freq not in allowed:
        raise ConfigError(f"freq must be one of {', '.join(map(repr, allowed))}; got {freq!r}")
    return freq  # type: ignore[return-value]


def parse_as_of(as_of: date | datetime | str) -> date:
    """The calendar day of an ``as_of`` argument (a date, datetime or ISO string)."""
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    if isinstance(as_of, str):
        try:
            return datetime.fromisoformat(as_of.strip()).date()
        except ValueError:
            raise ConfigError(f"as_of must be a date like '2025-03-31'; got {as_of!r}") from None
    raise ConfigError(f"as_of must be a date, datetime or ISO string; got {type(as_of).__name__}")


def as_of_cutoff(as_of: date | datetime | str) -> datetime:
    """The exclusive end of the ``as_of`` day: a row counts when its time is before it."""
    day = parse_as_of(as_of)
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def period_start(expr: nw.Expr, freq: Freq) -> nw.Expr:
    """Start of the ``freq`` period containing each naive timestamp.

    Weeks are ISO weeks starting on Monday.
    """
    check_freq(freq)
    if freq != "week":
        return expr.dt.truncate(_TRUNCATE[freq])
    day = expr.dt.truncate("1d")
    weekday = expr.dt.weekday()  # 1 = Monday ... 7 = Sunday
    result = nw.when(weekday == 1).then(day)
    for k in range(2, 8):
        result = result.when(weekday == k).then(day - timedelta(days=k - 1))
    return result
