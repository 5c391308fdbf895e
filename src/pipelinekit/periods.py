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

import functools
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit.errors import ConfigError
from pipelinekit.types import Freq

__all__ = [
    "CALENDAR_YEARS",
    "DEFAULT_COUNTRY",
    "Freq",
    "as_of_cutoff",
    "business_days",
    "check_country",
    "check_freq",
    "elapsed_seconds",
    "epoch_microseconds",
    "epoch_seconds",
    "holiday_dates",
    "is_business_day",
    "is_business_day_expr",
    "last_full_month",
    "next_business_day",
    "next_business_day_start",
    "parse_as_of",
    "period_start",
]


_TRUNCATE = {"day": "1d", "month": "1mo", "quarter": "1q", "year": "1y"}


def check_freq(freq: str) -> Freq:
    """Validate a ``freq`` argument."""
    allowed = get_args(Freq)
    if freq not in allowed:
        raise ConfigError(f"freq must be one of {', '.join(map(repr, allowed))}; got {freq!r}")
    return freq  # type: ignore[return-value]


def parse_as_of(as_of: date | datetime | str) -> date:
    """The calendar day of an ``as_of`` argument (a date, datetime or string).

    Strings take the spellings the data accepts: ISO-8601 (``2025-03-31``,
    ``2025-03-31T18:00:00+09:00``) or slashes (``2025/03/31``, ``2025/03/31 18:00``).
    A time of day is dropped: the whole day counts.

    >>> parse_as_of("2025/3/31"), parse_as_of("2025-03-31 23:59")
    (datetime.date(2025, 3, 31), datetime.date(2025, 3, 31))
    """
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    if isinstance(as_of, str):
        day = _parse_day(as_of.strip())
        if day is None:
            raise ConfigError(
                f"as_of must be a date like '2025-03-31' or '2025/03/31'; got {as_of!r}"
            )
        return day
    raise ConfigError(f"as_of must be a date, datetime or ISO string; got {type(as_of).__name__}")


_SLASHED = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _parse_day(text: str) -> date | None:
    """The day of an ISO-8601 or ``YYYY/MM/DD[ HH:MM[:SS]]`` string, else None."""
    slashed = _SLASHED.fullmatch(text)
    try:
        if slashed:
            year, month, day = (int(part) for part in slashed.groups()[:3])
            return date(year, month, day)
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def as_of_cutoff(as_of: date | datetime | str) -> datetime:
    """The exclusive end of the ``as_of`` day: a row counts when its time is before it."""
    day = parse_as_of(as_of)
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def period_start(expr: nw.Expr, freq: Freq) -> nw.Expr:
    """Start of the ``freq`` period containing each naive timestamp.

    Weeks are ISO weeks starting on Monday.
    """
    check_freq(freq)
    # cast: PySpark's date_trunc returns a zoned TIMESTAMP even for naive input
    if freq != "week":
        return expr.dt.truncate(_TRUNCATE[freq]).cast(nw.Datetime("us"))
    day = expr.dt.truncate("1d")
    weekday = _compat.iso_weekday(expr)  # 1 = Monday ... 7 = Sunday
    result = nw.when(weekday == 1).then(day)
    for k in range(2, 8):
        result = result.when(weekday == k).then(day - timedelta(days=k - 1))
    return result.cast(nw.Datetime("us"))


def last_full_month(as_of: date) -> date:
    """Last day of the last calendar month that has ended by the end of ``as_of``.

    >>> last_full_month(date(2025, 12, 15)), last_full_month(date(2025, 12, 31))
    (datetime.date(2025, 11, 30), datetime.date(2025, 12, 31))
    """
    if (as_of + timedelta(days=1)).day == 1:
        return as_of
    return as_of.replace(day=1) - timedelta(days=1)


# ------------------------------------------------------------------ elapsed time


def epoch_seconds(expr: nw.Expr) -> nw.Expr:
    """Seconds since 1970-01-01 of each naive timestamp, as Float64.

    Built from the calendar fields with integer arithmetic (the Julian day number), so
    it runs on every engine, including those without ``dt.total_seconds`` or
    ``dt.timestamp`` (ENGINES rule 5). Valid for years 1..9999.
    """
    y = expr.dt.year().cast(nw.Int64)
    m = expr.dt.month().cast(nw.Int64)
    d = expr.dt.day().cast(nw.Int64)
    a = (14 - m) // 12
    yy = y + 4800 - a
    mm = m + 12 * a - 3
    julian_day = d + (153 * mm + 2) // 5 + 365 * yy + yy // 4 - yy // 100 + yy // 400 - 32045
    seconds = (
        (julian_day - 2_440_588) * 86_400
        + expr.dt.hour().cast(nw.Int64) * 3_600
        + expr.dt.minute().cast(nw.Int64) * 60
        + expr.dt.second().cast(nw.Int64)
    )
    return seconds.cast(nw.Float64) + expr.dt.microsecond().cast(nw.Float64) / 1_000_000.0


_EPOCH = datetime(1970, 1, 1)


def epoch_microseconds(
    expr: nw.Expr, *, implementation: nw.Implementation | None = None
) -> nw.Expr:
    """Microseconds since 1970-01-01 of each naive timestamp, as an exact Int64.

    On engines with exact native durations (``implementation`` polars or DuckDB) one
    subtraction; elsewhere the calendar arithmetic of :func:`epoch_seconds` kept in
    integers. Both are exact, so every engine gives the same whole microseconds.
    """
    if implementation is not None and _compat.has_exact_durations(implementation):
        return (expr - nw.lit(_EPOCH)).dt.total_microseconds().cast(nw.Int64)
    y = expr.dt.year().cast(nw.Int64)
    m = expr.dt.month().cast(nw.Int64)
    d = expr.dt.day().cast(nw.Int64)
    a = (14 - m) // 12
    yy = y + 4800 - a
    mm = m + 12 * a - 3
    julian_day = d + (153 * mm + 2) // 5 + 365 * yy + yy // 4 - yy // 100 + yy // 400 - 32045
    seconds = (
        (julian_day - 2_440_588) * 86_400
        + expr.dt.hour().cast(nw.Int64) * 3_600
        + expr.dt.minute().cast(nw.Int64) * 60
        + expr.dt.second().cast(nw.Int64)
    )
    return seconds * 1_000_000 + expr.dt.microsecond().cast(nw.Int64)


def elapsed_seconds(start: nw.Expr, end: nw.Expr) -> nw.Expr:
    """``end - start`` in seconds (Float64; null when either side is null)."""
    return epoch_seconds(end) - epoch_seconds(start)


# ------------------------------------------------------------------ business days

#: Country whose public holidays define business days unless told otherwise.
DEFAULT_COUNTRY = "JP"
#: Years whose public holidays the engine-side expressions know; outside this span
#: only weekends are non-business days.
CALENDAR_YEARS = range(2000, 2051)


def check_country(country: str) -> str:
    """Validate a ``country`` argument: an ISO code known to the ``holidays`` package."""
    _holiday_set(country, CALENDAR_YEARS.start, CALENDAR_YEARS.start)
    return country


@functools.lru_cache(maxsize=32)
def _holiday_set(country: str, first_year: int, last_year: int) -> frozenset[date]:
    import holidays

    if not isinstance(country, str):
        raise ConfigError(f"country must be an ISO country code like 'JP'; got {country!r}")
    try:
        calendar = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError:
        raise ConfigError(
            f"country must be a country code known to the holidays package, like 'JP'; "
            f"got {country!r}"
        ) from None
    return frozenset(calendar.keys())


def _holidays_between(start: date, end: date, country: str) -> frozenset[date]:
    return _holiday_set(country, start.year, end.year)


def _as_day(value: date | datetime | str, name: str) -> date:
    try:
        return parse_as_of(value)
    except ConfigError:
        raise ConfigError(f"{name} must be a date like '2025-03-31'; got {value!r}") from None


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def holiday_dates(
    start: date | datetime | str, end: date | datetime | str, *, country: str = DEFAULT_COUNTRY
) -> list[date]:
    """Public holidays of ``country`` from ``start`` to ``end`` (both included), sorted.

    Examples
    --------
    >>> [d.isoformat() for d in holiday_dates("2025-05-01", "2025-05-31")]
    ['2025-05-03', '2025-05-04', '2025-05-05', '2025-05-06']
    """
    first, last = _as_day(start, "start"), _as_day(end, "end")
    found = _holidays_between(first, last, check_country(country))
    return sorted(d for d in found if first <= d <= last)


def is_business_day(day: date | datetime | str, *, country: str = DEFAULT_COUNTRY) -> bool:
    """Whether ``day`` is a weekday and not a public holiday of ``country``.

    Examples
    --------
    >>> is_business_day("2025-01-13")  # Coming of Age Day (a Monday)
    False
    >>> is_business_day("2025-01-14")
    True
    """
    d = _as_day(day, "day")
    return d.weekday() < 5 and d not in _holidays_between(d, d, check_country(country))


def business_days(
    start: date | datetime | str, end: date | datetime | str, *, country: str = DEFAULT_COUNTRY
) -> list[date]:
    """Business days from ``start`` to ``end`` (both included): weekdays that are not
    public holidays of ``country`` (Japanese calendar by default).

    Examples
    --------
    >>> [d.isoformat() for d in business_days("2025-01-10", "2025-01-14")]
    ['2025-01-10', '2025-01-14']
    """
    first, last = _as_day(start, "start"), _as_day(end, "end")
    found = _holidays_between(first, last, check_country(country))
    return [d for d in _days(first, last) if d.weekday() < 5 and d not in found]


def next_business_day(day: date | datetime | str, *, country: str = DEFAULT_COUNTRY) -> date:
    """The first business day strictly after the calendar day of ``day``.

    Examples
    --------
    >>> next_business_day("2025-01-10")  # Friday before Coming of Age Day
    datetime.date(2025, 1, 14)
    """
    d = _as_day(day, "day") + timedelta(days=1)
    while not is_business_day(d, country=country):
        d += timedelta(days=1)
    return d


@functools.lru_cache(maxsize=32)
def _weekday_holidays(country: str) -> tuple[datetime, ...]:
    """Public holidays on weekdays within :data:`CALENDAR_YEARS`, as midnight timestamps."""
    found = _holiday_set(country, CALENDAR_YEARS.start, CALENDAR_YEARS.stop - 1)
    return tuple(datetime(d.year, d.month, d.day) for d in sorted(found) if d.weekday() < 5)


def _weekend_offset(day: date) -> int:
    """Days to the next weekday: Friday 3, Saturday 2, otherwise 1."""
    return {4: 3, 5: 2}.get(day.weekday(), 1)


@functools.lru_cache(maxsize=32)
def _holiday_offsets(country: str) -> tuple[tuple[int, tuple[datetime, ...]], ...]:
    """Days of :data:`CALENDAR_YEARS` whose next business day is pushed back by a public
    holiday, grouped by the offset (in days) to their next business day."""
    found = _holiday_set(country, CALENDAR_YEARS.start, CALENDAR_YEARS.stop - 1)
    by_offset: dict[int, list[datetime]] = {}
    for d in _days(date(CALENDAR_YEARS.start, 1, 1), date(CALENDAR_YEARS.stop - 1, 12, 31)):
        offset = 1
        while (d + timedelta(days=offset)).weekday() >= 5 or d + timedelta(days=offset) in found:
            offset += 1
        if offset != _weekend_offset(d):
            by_offset.setdefault(offset, []).append(datetime(d.year, d.month, d.day))
    return tuple((k, tuple(v)) for k, v in sorted(by_offset.items()))


def next_business_day_start(expr: nw.Expr, *, country: str = DEFAULT_COUNTRY) -> nw.Expr:
    """Midnight of the first business day after the calendar day of each timestamp.

    An engine-portable expression (Japanese calendar by default): a short
    ``when/then`` chain with ``is_in`` over the days of :data:`CALENDAR_YEARS` whose
    next business day is pushed back by a public holiday (grouped by how many days it
    is away), then weekend arithmetic on ``dt.weekday`` for every other day. The end
    of the next business day is this value ``+ timedelta(days=1)``.

    Examples
    --------
    >>> import pandas as pd, narwhals as nw
    >>> df = nw.from_native(pd.DataFrame({"t": pd.to_datetime(["2025-01-10 23:59"])}))
    >>> df.select(next_business_day_start(nw.col("t"))).to_native()["t"].tolist()
    [Timestamp('2025-01-14 00:00:00')]
    """
    day = expr.dt.truncate("1d")
    result = None
    for offset, days in _holiday_offsets(check_country(country)):
        hit = day.is_in(list(days))
        result = (nw.when if result is None else result.when)(hit).then(
            day + timedelta(days=offset)
        )
    weekday = _compat.iso_weekday(day)  # 1 = Monday ... 7 = Sunday
    chain = nw.when if result is None else result.when
    return (
        chain(weekday == 5)
        .then(day + timedelta(days=3))
        .when(weekday == 6)
        .then(day + timedelta(days=2))
        .otherwise(day + timedelta(days=1))
    )


def is_business_day_expr(expr: nw.Expr, *, country: str = DEFAULT_COUNTRY) -> nw.Expr:
    """Whether the calendar day of each naive timestamp is a business day (Boolean).

    Weekends by ``dt.weekday``; public holidays of ``country`` within
    :data:`CALENDAR_YEARS` by ``is_in`` (portable on every engine).

    Examples
    --------
    >>> import pandas as pd, narwhals as nw
    >>> df = nw.from_native(pd.DataFrame({"t": pd.to_datetime(["2025-01-13", "2025-01-14"])}))
    >>> df.select(is_business_day_expr(nw.col("t"))).to_native()["t"].tolist()
    [False, True]
    """
    holidays = _weekday_holidays(check_country(country))
    day = expr.dt.truncate("1d")
    return (_compat.iso_weekday(day) <= 5) & ~day.is_in(list(holidays))
