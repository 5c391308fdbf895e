"""Per-lead activity facts: everything the metrics aggregate per lead, in one pass.

Several metrics summarise a lead's activities: the journey (first touch, first connect,
counts), the cadence windows (calls, mails, ... in the first N days), the response
(first touch at or after creation, or from the creation day's start) and the work
queues (last touch). Each asks for a *part* (:class:`JourneyPart`, :class:`WindowPart`,
:class:`ResponsePart`, :class:`LastTouchPart`); :func:`lead_activity` computes any set
of parts in a single ``group_by(lead_id)`` over the activity fact
(:func:`~pipelinekit.facts.activities.activity_facts`, with its lead columns). A report
asks for every part it will need at once, so the activities are grouped per lead once
instead of once per metric.

Examples
--------
>>> import pandas as pd
>>> from pipelinekit.facts.activities import activity_facts
>>> acts = nw.from_native(pd.DataFrame({"lead_id": ["L1", "L1", "L1"],
...     "channel": ["call", "call", "email"], "direction": ["outbound"] * 3,
...     "outcome": ["busy", "connected", "sent"],
...     "occurred_at": pd.to_datetime(["2025-03-31 10:00", "2025-04-01 10:00",
...                                    "2025-04-20 10:00"])})).lazy()
>>> leads = nw.from_native(pd.DataFrame({"lead_id": ["L1"],
...     "created_at": pd.to_datetime(["2025-04-01 09:00"])})).lazy()
>>> rows = activity_facts(acts, leads, cutoff=None)
>>> out = lead_activity(rows, [JourneyPart(), WindowPart(14)]).collect()
>>> out.select("touch_count", "w14_calls", "w14_mails", "w14_connects").rows()
[(3, 1, 0, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import attrs
import narwhals as nw

from pipelinekit._exprs import flag, when_flag

__all__ = [
    "JourneyPart",
    "LastTouchPart",
    "LeadActivityPart",
    "ResponsePart",
    "WindowPart",
    "lead_activity",
    "part_columns",
    "with_lead_activity",
]

_TIME = nw.Datetime("us")
#: Journey count column -> the activity flag it counts.
_JOURNEY_COUNTS = {
    "touch_count": "is_touch",
    "call_count": "is_outbound_call",
    "email_count": "is_outbound_email",
    "meeting_count": "is_outbound_meeting",
    "connect_count": "is_connect",
}
#: Window count column (after the ``w{days}_`` prefix) -> the activity flag it counts.
_WINDOW_COUNTS = {
    "calls": "is_outbound_call",
    "mails": "is_outbound_email",
    "meetings": "is_outbound_meeting",
    "touches": "is_touch",
    "connects": "is_connect",
}


@attrs.frozen
class JourneyPart:
    """First touch and connect times and activity counts of the lead journey.

    Columns: ``first_touch_at``, ``first_connect_at`` (any time, also before the
    lead's creation), ``touch_count``, ``call_count``, ``email_count`` and
    ``meeting_count`` (outbound), ``connect_count`` (either direction).
    """

    def rows(self) -> list[nw.Expr]:
        """Row-level columns to aggregate."""
        occurred = nw.col("occurred_at")
        return [
            *[flag(nw.col(f)).alias(name) for name, f in _JOURNEY_COUNTS.items()],
            when_flag(nw.col("is_touch"), occurred).alias("first_touch_at"),
            when_flag(nw.col("is_connect"), occurred).alias("first_connect_at"),
        ]

    def aggregations(self) -> list[nw.Expr]:
        """The per-lead aggregations."""
        return [
            nw.col("first_touch_at").min(),
            nw.col("first_connect_at").min(),
            *[nw.col(name).sum() for name in _JOURNEY_COUNTS],
        ]

    def outputs(self) -> list[nw.Expr]:
        """The output columns, typed (leads without activity get 0 and null)."""
        return [
            nw.col("first_touch_at").cast(_TIME),
            nw.col("first_connect_at").cast(_TIME),
            *[nw.col(name).fill_null(0).cast(nw.Int64) for name in _JOURNEY_COUNTS],
        ]


@attrs.frozen
class WindowPart:
    """Outbound activity in ``[created_at, created_at + days)`` (the cadence window).

    Columns (prefix ``w{days}_``): ``calls``, ``mails``, ``meetings``, ``touches``
    (outbound), ``connects`` and ``connected_at`` (the first connect in the window).
    """

    days: int

    @property
    def prefix(self) -> str:
        """The column prefix of this window."""
        return f"w{self.days}_"

    def _inside(self) -> nw.Expr:
        occurred, created = nw.col("occurred_at"), nw.col("lead_created_at")
        inside = (occurred >= created) & (occurred < created + timedelta(days=self.days))
        return inside.fill_null(value=False)

    def rows(self) -> list[nw.Expr]:
        """Row-level columns to aggregate."""
        inside, p = self._inside(), self.prefix
        return [
            *[flag(inside & nw.col(f)).alias(p + name) for name, f in _WINDOW_COUNTS.items()],
            when_flag(inside & nw.col("is_connect"), nw.col("occurred_at")).alias(
                p + "connected_at"
            ),
        ]

    def aggregations(self) -> list[nw.Expr]:
        """The per-lead aggregations."""
        p = self.prefix
        return [*[nw.col(p + n).sum() for n in _WINDOW_COUNTS], nw.col(p + "connected_at").min()]

    def outputs(self) -> list[nw.Expr]:
        """The output columns, typed (leads without activity get 0 and null)."""
        p = self.prefix
        return [
            *[nw.col(p + n).fill_null(0).cast(nw.Int64) for n in _WINDOW_COUNTS],
            nw.col(p + "connected_at").cast(_TIME),
        ]


@attrs.frozen
class ResponsePart:
    """The first outbound touch at or after creation (``first_touch_at_or_after``) and
    the first from the start of the creation day (``first_touch_from_day_at``)."""

    def rows(self) -> list[nw.Expr]:
        """Row-level columns to aggregate."""
        occurred, created = nw.col("occurred_at"), nw.col("lead_created_at")
        touch = nw.col("is_touch")
        after = (occurred >= created).fill_null(value=False)
        from_day = (occurred >= created.dt.truncate("1d")).fill_null(value=False)
        return [
            when_flag(touch & after, occurred).alias("first_touch_at_or_after"),
            when_flag(touch & from_day, occurred).alias("first_touch_from_day_at"),
        ]

    def aggregations(self) -> list[nw.Expr]:
        """The per-lead aggregations."""
        return [nw.col("first_touch_at_or_after").min(), nw.col("first_touch_from_day_at").min()]

    def outputs(self) -> list[nw.Expr]:
        """The output columns, typed."""
        return [
            nw.col("first_touch_at_or_after").cast(_TIME),
            nw.col("first_touch_from_day_at").cast(_TIME),
        ]


@attrs.frozen
class LastTouchPart:
    """The last outbound touch (``last_touch_at``), any time up to the cut-off."""

    def rows(self) -> list[nw.Expr]:
        """Row-level columns to aggregate."""
        return [when_flag(nw.col("is_touch"), nw.col("occurred_at")).alias("last_touch_at")]

    def aggregations(self) -> list[nw.Expr]:
        """The per-lead aggregations."""
        return [nw.col("last_touch_at").max()]

    def outputs(self) -> list[nw.Expr]:
        """The output columns, typed."""
        return [nw.col("last_touch_at").cast(_TIME)]


#: Any of the parts above.
LeadActivityPart = JourneyPart | WindowPart | ResponsePart | LastTouchPart


def lead_activity(
    activity_rows: nw.LazyFrame[Any], parts: Iterable[LeadActivityPart]
) -> nw.LazyFrame[Any]:
    """``lead_id`` and the columns of every part, one row per lead with an activity.

    ``activity_rows`` is the activity fact with its lead columns, already cut at the
    as-of day. Leads without any activity have no row: join this on ``lead_id`` and
    fill (each part's counts are 0, its times null).
    """
    unique = _unique(parts)
    rows = [e for part in unique for e in part.rows()]
    aggs = [e for part in unique for e in part.aggregations()]
    return (
        activity_rows.filter(~nw.col("lead_id").is_null())
        .select(nw.col("lead_id"), *rows)
        .group_by("lead_id")
        .agg(*aggs)
    )


def with_lead_activity(
    leads: nw.LazyFrame[Any], per_lead: nw.LazyFrame[Any], parts: Sequence[LeadActivityPart]
) -> nw.LazyFrame[Any]:
    """``leads`` with the columns of ``parts`` from ``per_lead`` (0 / null when none)."""
    unique = _unique(parts)
    outputs = [e for part in unique for e in part.outputs()]
    names = leads.collect_schema().names()
    wanted = [c for part in unique for c in part_columns(part)]
    joined = leads.join(per_lead.select("lead_id", *wanted), on="lead_id", how="left")
    return joined.select(*[nw.col(c) for c in names if c not in wanted], *outputs)


def part_columns(part: LeadActivityPart) -> list[str]:
    """The output column names of ``part``.

    >>> part_columns(WindowPart(7))[:2]
    ['w7_calls', 'w7_mails']
    """
    if isinstance(part, JourneyPart):
        return ["first_touch_at", "first_connect_at", *_JOURNEY_COUNTS]
    if isinstance(part, WindowPart):
        return [part.prefix + n for n in (*_WINDOW_COUNTS, "connected_at")]
    if isinstance(part, ResponsePart):
        return ["first_touch_at_or_after", "first_touch_from_day_at"]
    return ["last_touch_at"]


def _unique(parts: Iterable[LeadActivityPart]) -> list[LeadActivityPart]:
    return list(dict.fromkeys(parts))
