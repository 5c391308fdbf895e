"""Elapsed time on instants: naive wall-clock timestamps back to points on the time line.

Inside pipelinekit every timestamp is naive wall-clock time in the dataset time zone
(converted once at entry). Durations that DESIGN defines "on instants" (the day index
of a conversion curve, time in stage, the time-decay age of a campaign touch) must not
gain or lose an hour across a daylight-saving change, so they are computed on the
instants these wall-clock values denote: ``instant = wall clock - UTC offset``.

The UTC offset of a zone is piecewise constant in wall-clock time; :func:`utc_offsets`
lists its pieces and :func:`with_instants` applies them on the engine with an equi-join
on the year (a small table of each year's offset changes) and a short ``when/then``
chain: no time-zone support is needed on the engine. A wall-clock time
that occurs twice (the repeated hour when clocks go back) is read as its first
occurrence and one that does not exist (the skipped hour) with the offset before the
change, as :mod:`zoneinfo` does with ``fold=0``. Zones without changes in the span
(``Asia/Tokyo`` since 1951) need no chain: the instant is the wall clock minus a
constant, so differences of wall-clock times are already differences of instants.

Examples
--------
>>> from datetime import datetime
>>> utc_offsets("Asia/Tokyo", 2000, 2030)
((None, 32400000000),)
>>> pieces = utc_offsets("Europe/Berlin", 2025, 2025)
>>> [(p[0].isoformat() if p[0] else None, p[1] // 3_600_000_000) for p in pieces]
[(None, 1), ('2025-03-30T03:00:00', 2), ('2025-10-26T03:00:00', 1)]
>>> instant_of(datetime(2025, 3, 30, 3, 30), "Europe/Berlin")  # 01:30 UTC
datetime.datetime(2025, 3, 30, 1, 30)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import narwhals as nw

from pipelinekit import _compat
from pipelinekit.errors import ConfigError
from pipelinekit.periods import epoch_microseconds

__all__ = [
    "DAY_US",
    "FIRST_YEAR",
    "instant_of",
    "utc_offsets",
    "with_instants",
]

#: Microseconds in 24 hours.
DAY_US = 86_400_000_000
#: First year whose offset changes are spelled out (earlier times use that year's).
FIRST_YEAR = 1990

_EPOCH = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"tz must be an IANA time zone name such as 'Asia/Tokyo'; got {tz!r}"
        ) from exc


def _offset_us(zone: ZoneInfo, utc: datetime) -> int:
    aware = utc.replace(tzinfo=timezone.utc).astimezone(zone)
    offset = aware.utcoffset()
    assert offset is not None
    return offset // _US


@functools.lru_cache(maxsize=64)
def utc_offsets(
    tz: str, first_year: int, last_year: int
) -> tuple[tuple[datetime | None, int], ...]:
    """The UTC offset of ``tz`` in microseconds, piece by piece in wall-clock time.

    Each piece is ``(wall-clock start, offset)``; the first piece starts at ``None``
    (any earlier time) and covers everything before the next one. Changes from
    ``first_year`` to ``last_year`` (both included) are listed; times outside use the
    nearest piece. A piece starts where its wall-clock time is unambiguous: after the
    skipped hour of a spring-forward change, after the repeated hour of a fall-back one.
    """
    zone = _zone(tz)
    start = datetime(first_year, 1, 1)
    stop = datetime(last_year + 1, 1, 1)
    pieces: list[tuple[datetime | None, int]] = [(None, _offset_us(zone, start))]
    step = timedelta(days=1)
    at, before = start, pieces[0][1]
    while at < stop:
        nxt = at + step
        after = _offset_us(zone, nxt)
        if before != after:
            low, high = at, nxt  # the change happens in (low, high] (UTC)
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if _offset_us(zone, mid) == before:
                    low = mid
                else:
                    high = mid
            change = high.replace(microsecond=0)
            wall = change + timedelta(microseconds=max(before, after))
            pieces.append((wall, after))
        at, before = nxt, after
    return tuple(pieces)


def instant_of(local: datetime, tz: str) -> datetime:
    """The naive UTC instant of a naive wall-clock time in ``tz`` (``fold=0``)."""
    aware = local.replace(tzinfo=_zone(tz), fold=0)
    offset = aware.utcoffset()
    assert offset is not None
    return local - offset


def with_instants(
    frame: nw.LazyFrame[Any],
    columns: Mapping[str, str],
    *,
    tz: str,
    last_year: int,
) -> nw.LazyFrame[Any]:
    """``frame`` with, for each ``source -> alias`` of ``columns``, an Int64 column
    ``alias``: microseconds since 1970-01-01 UTC of the instant the naive wall-clock
    time in ``source`` denotes (null stays null).

    ``last_year`` bounds the offset changes spelled out (the year of the cut-off is
    enough: later times are not observed). In a zone with one offset from
    :data:`FIRST_YEAR` to ``last_year`` the instant is the wall clock minus that
    offset; otherwise each column is joined on its (clamped) year with a small table of
    that year's offset changes.
    """
    impl = frame.implementation
    pieces = utc_offsets(tz, FIRST_YEAR, max(last_year, FIRST_YEAR))
    if len(pieces) == 1:
        return frame.with_columns(
            *[
                (epoch_microseconds(nw.col(src), implementation=impl) - pieces[0][1]).alias(alias)
                for src, alias in columns.items()
            ]
        )
    years = range(FIRST_YEAR, max(last_year, FIRST_YEAR) + 1)
    table = _year_table(pieces, years)
    width = max((len(changes) for _, _, changes in table), default=0)
    data: dict[str, list[Any]] = {"__pk_tz_year": [y for y, _, _ in table]}
    data["__pk_tz_o0"] = [o0 for _, o0, _ in table]
    for i in range(width):
        data[f"__pk_tz_b{i}"] = [c[i][0] if i < len(c) else None for _, _, c in table]
        data[f"__pk_tz_o{i + 1}"] = [c[i][1] if i < len(c) else None for _, _, c in table]
    schema = dict.fromkeys(data, nw.Int64())
    offsets = _compat.from_columns(frame, data, schema)
    helper = list(data)
    out = frame
    for src, alias in columns.items():
        local = epoch_microseconds(nw.col(src), implementation=impl)
        year = nw.col(src).dt.year().cast(nw.Int64).clip(years.start, years.stop - 1)
        out = out.with_columns(year.alias("__pk_tz_year")).join(
            offsets, on="__pk_tz_year", how="left"
        )
        chain: Any = nw.when(nw.col(f"__pk_tz_b{width - 1}") <= local).then(
            local - nw.col(f"__pk_tz_o{width}")
        )
        for i in range(width - 2, -1, -1):
            chain = chain.when(nw.col(f"__pk_tz_b{i}") <= local).then(
                local - nw.col(f"__pk_tz_o{i + 1}")
            )
        instant: nw.Expr = chain.otherwise(local - nw.col("__pk_tz_o0"))
        out = out.with_columns(instant.cast(nw.Int64).alias(alias)).drop(*helper)
    return out


def _year_table(
    pieces: tuple[tuple[datetime | None, int], ...], years: range
) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Per year: the offset at its first instant and its changes (wall-clock us, offset)."""
    out = []
    for year in years:
        first = datetime(year, 1, 1)
        offset = pieces[0][1]
        changes: list[tuple[int, int]] = []
        for start, value in pieces[1:]:
            assert start is not None
            if start <= first:
                offset = value
            elif start < datetime(year + 1, 1, 1):
                changes.append(((start - _EPOCH) // _US, value))
        out.append((year, offset, changes))
    return out
