"""Opportunity history carried forward: every opportunity's state at the end of given
days (DESIGN section 7).

:func:`opportunity_states_on` is the one place that reads ``opportunity_history``
(and ``stage_changes``, read as history rows that carry only a stage). Pipeline
snapshots, trends and waterfalls, quota coverage and forecast accuracy all build on
it.

Rules (DESIGN section 7):

- **Day boundary**: the end of day d is d + 1 at 00:00:00 (exclusive), naive
  wall-clock time in the dataset time zone; 23:59:59 belongs to d.
- **State on day d**, field by field for :data:`HISTORY_FIELDS`: the value of the
  last history row with ``changed_at`` before the end of d whose cell for that field
  is not empty. Rows are ordered by ``changed_at``, then ``opportunity_history``
  before ``stage_changes``, then file order (the input's row order): of two rows
  with the same timestamp the later one in the file wins. An empty cell never
  erases a value. Without such a row the field is the opportunities row's value.
- **Open / won / lost** never come from history: open on d = ``created_at`` before
  the end of d and ``closed_at`` missing or on/after it; won = closed by then with
  ``is_won``; lost = closed by then and not won.
- History rows of unknown opportunities (orphans) are ignored; rows dated after the
  day are ignored for that day.

Examples
--------
>>> import pandas as pd, narwhals as nw
>>> from datetime import date
>>> opps = nw.from_native(pd.DataFrame({"opportunity_id": ["O1"],
...     "created_at": pd.to_datetime(["2025-03-01 10:00"]),
...     "closed_at": pd.to_datetime(["2025-04-10"]), "is_won": [True],
...     "stage": ["won"], "amount": [120.0]})).lazy()
>>> hist = nw.from_native(pd.DataFrame({"opportunity_id": ["O1", "O1"],
...     "changed_at": pd.to_datetime(["2025-03-01 10:00:00", "2025-03-20 23:59:59"]),
...     "stage": ["list", "quote"], "amount": [100.0, None]})).lazy()
>>> days = [date(2025, 3, 19), date(2025, 3, 20), date(2025, 4, 30)]
>>> states = opportunity_states_on(opps, days=days, history=hist).collect()
>>> states.sort("day").select("stage", "amount", "status").rows()
[('list', 100.0, 'open'), ('quote', 100.0, 'open'), ('quote', 100.0, 'won')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import flag, require_columns
from pipelinekit.periods import parse_as_of
from pipelinekit.types import Freq

__all__ = [
    "HISTORY_FIELDS",
    "STATE_COLUMNS",
    "check_days",
    "day_spine",
    "opportunity_states_on",
    "snapshot_days",
]

#: The opportunity fields that history rows carry, with their dtype in the states.
HISTORY_FIELDS: dict[str, Any] = {
    "stage": nw.String(),
    "amount": nw.Float64(),
    "expected_close_on": nw.Datetime("us"),
    "probability": nw.Float64(),
    "forecast_category": nw.String(),
}

#: Columns :func:`opportunity_states_on` adds to the opportunity columns.
STATE_COLUMNS = ("day", "open_flag", "won_flag", "lost_flag", "status")

_ORDER = ["__pk_at", "__pk_src", "__pk_row"]


def check_days(days: Iterable[date | datetime | str]) -> tuple[date, ...]:
    """Distinct calendar days, sorted (dates, datetimes or ISO strings).

    >>> check_days(["2025-04-02", date(2025, 4, 1), "2025-04-02"])
    (datetime.date(2025, 4, 1), datetime.date(2025, 4, 2))
    """
    return tuple(sorted({parse_as_of(d) for d in days}))


def _period_end(day: date, freq: Freq) -> date:
    """Last day of the ``freq`` period containing ``day`` (ISO weeks end on Sunday)."""
    if freq == "day":
        return day
    if freq == "week":
        return day + timedelta(days=6 - day.weekday())
    months = {"month": 1, "quarter": 3, "year": 12}[freq]
    first_month = (day.month - 1) // months * months + 1
    month = first_month + months  # first month of the next period (13 = next January)
    year = day.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1) - timedelta(days=1)


def snapshot_days(first: date, last: date, freq: Freq) -> tuple[date, ...]:
    """The days a range is read at: every day (``"day"``), else the last day of each
    ``freq`` period that overlaps ``[first, last]``, the last one cut at ``last``.

    >>> snapshot_days(date(2025, 10, 1), date(2025, 10, 15), "week")
    (datetime.date(2025, 10, 5), datetime.date(2025, 10, 12), datetime.date(2025, 10, 15))
    >>> snapshot_days(date(2025, 11, 20), date(2026, 1, 10), "month")
    (datetime.date(2025, 11, 30), datetime.date(2025, 12, 31), datetime.date(2026, 1, 10))
    """
    days: list[date] = []
    day = first
    while day <= last:
        end = min(_period_end(day, freq), last)
        days.append(end)
        day = end + timedelta(days=1)
    return tuple(days)


def day_spine(like: nw.LazyFrame[Any], days: Sequence[date]) -> nw.LazyFrame[Any]:
    """``day`` (midnight) and ``__pk_end`` (the next midnight) for each of ``days``, on
    the engine of ``like``."""
    starts = [datetime(d.year, d.month, d.day) for d in days]
    return _compat.from_columns(
        like,
        {"day": starts, "__pk_end": [s + timedelta(days=1) for s in starts]},
        {"day": nw.Datetime("us"), "__pk_end": nw.Datetime("us")},
    )


def _history_rows(
    frame: nw.LazyFrame[Any], *, at: str, source: int, table: str
) -> nw.LazyFrame[Any]:
    """History rows in one shape: id, time, table rank, file order, the fields."""
    require_columns(frame, table, ("opportunity_id", at))
    names = frame.collect_schema().names()
    numbered = _compat.with_row_order(frame, "__pk_row")
    fields = [
        (nw.col(name) if name in names else nw.lit(None)).cast(dtype).alias(name)
        for name, dtype in HISTORY_FIELDS.items()
    ]
    return numbered.select(
        nw.col("opportunity_id").cast(nw.String),
        nw.col(at).cast(nw.Datetime("us")).alias("__pk_at"),
        nw.lit(source).cast(nw.Int64).alias("__pk_src"),
        nw.col("__pk_row").cast(nw.Int64),
        *fields,
    ).filter(~nw.col("opportunity_id").is_null() & ~nw.col("__pk_at").is_null())


def _history_union(
    history: nw.LazyFrame[Any] | None, stage_changes: nw.LazyFrame[Any] | None
) -> nw.LazyFrame[Any] | None:
    """The rows of both history tables in one shape (``None`` without either)."""
    parts = []
    if history is not None:
        parts.append(_history_rows(history, at="changed_at", source=1, table="opportunity_history"))
    if stage_changes is not None:
        parts.append(_history_rows(stage_changes, at="entered_at", source=2, table="stage_changes"))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")


def _carried_to_days(base: nw.LazyFrame[Any], rows: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per (opportunity, day) of ``base`` each field's last non-empty history value
    before the end of the day (null without one), as ``__pk_h_<field>``.

    The day rows join the history rows as marker rows timed at the end of their day,
    ordered before any history row of that same instant (a change at the next
    midnight belongs to the next day); a forward fill per opportunity along
    :data:`_ORDER` then carries every field into the markers. This costs one sort of
    (history rows + opportunity-days) instead of a join of every history row with
    every day.
    """
    markers = base.select(
        nw.col("opportunity_id"),
        nw.col("day"),
        nw.col("__pk_end").alias("__pk_at"),
        nw.lit(0).cast(nw.Int64).alias("__pk_src"),
        nw.lit(0).cast(nw.Int64).alias("__pk_row"),
        *[nw.lit(None).cast(dtype).alias(name) for name, dtype in HISTORY_FIELDS.items()],
    )
    changes = rows.select(
        nw.col("opportunity_id"),
        nw.lit(None).cast(nw.Datetime("us")).alias("day"),
        nw.col("__pk_at"),
        nw.col("__pk_src"),
        nw.col("__pk_row"),
        *[nw.col(name) for name in HISTORY_FIELDS],
    )
    both = nw.concat([markers, changes], how="vertical")
    filled = both.with_columns(
        nw.col(name).fill_null(strategy="forward").over("opportunity_id", order_by=_ORDER)
        for name in HISTORY_FIELDS
    )
    return filled.filter(nw.col("__pk_src") == 0).select(
        nw.col("opportunity_id"),
        nw.col("day"),
        *[nw.col(name).alias(f"__pk_h_{name}") for name in HISTORY_FIELDS],
    )


def opportunity_states_on(
    opportunities: nw.LazyFrame[Any],
    *,
    days: Sequence[date],
    history: nw.LazyFrame[Any] | None = None,
    stage_changes: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """Every opportunity's state at the end of each of ``days``.

    Parameters
    ----------
    opportunities
        Canonical opportunities (lazy, timestamps already naive local time); needs
        ``opportunity_id``, ``created_at``, ``closed_at`` and ``is_won``.
    days
        The days (calendar dates) to read the state at; repeats count once.
    history
        Optional ``opportunity_history`` (``opportunity_id``, ``changed_at`` and any of
        :data:`HISTORY_FIELDS`), in file order (as given: call before any filter or
        join, since the file order breaks timestamp ties).
    stage_changes
        Optional ``stage_changes`` (``opportunity_id``, ``stage``, ``entered_at``), read
        as history rows that carry only a stage.

    Returns
    -------
    Lazy frame, one row per (day, opportunity created before the end of that day):
    ``day`` (Datetime, midnight), every opportunities column with
    :data:`HISTORY_FIELDS` replaced by their values at the end of the day (absent
    ones added; ``expected_close_on`` as a midnight Datetime), ``closed_at`` and
    ``validated_at`` null unless before the end of the day, 0/1 ``open_flag``,
    ``won_flag``, ``lost_flag`` (Int64) and ``status`` (``"open"``, ``"won"``,
    ``"lost"``). Rows are not sorted.
    """
    require_columns(
        opportunities, "opportunities", ("opportunity_id", "created_at", "closed_at", "is_won")
    )
    names = opportunities.collect_schema().names()
    spine = day_spine(opportunities, check_days(days))
    opps = opportunities.with_columns(
        nw.col("opportunity_id").cast(nw.String),
        *[
            (nw.col(name) if name in names else nw.lit(None)).cast(dtype).alias(name)
            for name, dtype in HISTORY_FIELDS.items()
        ],
    )
    base = opps.join(spine, how="cross").filter(nw.col("created_at") < nw.col("__pk_end"))
    rows = _history_union(history, stage_changes)
    if rows is not None:
        at_day = _carried_to_days(base, rows)
        base = base.join(at_day, on=["opportunity_id", "day"], how="left").with_columns(
            *[
                nw.coalesce(nw.col(f"__pk_h_{name}"), nw.col(name)).cast(dtype).alias(name)
                for name, dtype in HISTORY_FIELDS.items()
            ]
        )
        base = base.drop(*[f"__pk_h_{name}" for name in HISTORY_FIELDS])
    end = nw.col("__pk_end")
    closed = (nw.col("closed_at") < end).fill_null(value=False)
    won = closed & nw.col("is_won").fill_null(value=False)
    undone = [nw.when(closed).then(nw.col("closed_at")).alias("closed_at")]
    if "validated_at" in names:
        undone.append(
            nw.when(nw.col("validated_at") < end).then(nw.col("validated_at")).alias("validated_at")
        )
    status = nw.when(~closed).then(nw.lit("open")).when(won).then(nw.lit("won"))
    return (
        base.with_columns(
            *undone,
            flag(~closed).alias("open_flag"),
            flag(won).alias("won_flag"),
            flag(closed & ~won).alias("lost_flag"),
            status.otherwise(nw.lit("lost")).cast(nw.String).alias("status"),
        )
        .drop("__pk_end")
        .select("day", *names, *[n for n in HISTORY_FIELDS if n not in names], *STATE_COLUMNS[1:])
    )
