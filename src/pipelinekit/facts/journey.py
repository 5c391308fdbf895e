"""The per-lead journey fact: stage timestamps and activity counts, one row per lead.

Every funnel and conversion metric starts from this fact (DESIGN section 3); the public
:func:`pipelinekit.journey` returns it in the caller's kind of frame. Columns added to
the lead's own columns are :data:`JOURNEY_COLUMNS`:

=====================  ==============================================================
``first_touch_at``     earliest outbound call, email or meeting (any outcome; it may
                       precede ``created_at``)
``first_connect_at``   earliest connect: connected call, replied email, held meeting
``sql_at``             earliest opportunity ``created_at`` (the SQL hand-off)
``validated_at``       earliest ``validated_at`` of its opportunities
``won_at``             earliest ``closed_at`` of its won opportunities
``won_amount``         sum of ``amount`` over its won opportunities (0.0 if none)
``opportunity_count``  opportunities created from the lead
``touch_count``        outbound calls + emails + meetings
``call_count``         outbound calls
``email_count``        outbound emails
``meeting_count``      outbound meetings
``connect_count``      connects, either direction
=====================  ==============================================================

With ``as_of``, rows dated after the end of that day are ignored: leads created,
activities occurred and opportunities created later are dropped, and validation or
closing after it is treated as not (yet) happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import require_columns, when_flag
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.lead_activity import JourneyPart, lead_activity
from pipelinekit.periods import as_of_cutoff
from pipelinekit.types import DEFAULT_TZ, AsOf

__all__ = [
    "ACTIVITY_COLUMNS",
    "JOURNEY_COLUMNS",
    "LEAD_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "journey_frames",
    "opportunity_summary",
]

#: Columns the journey adds after the lead's own columns, in order.
JOURNEY_COLUMNS = (
    "first_touch_at",
    "first_connect_at",
    "sql_at",
    "validated_at",
    "won_at",
    "won_amount",
    "opportunity_count",
    "touch_count",
    "call_count",
    "email_count",
    "meeting_count",
    "connect_count",
)
_COUNTS = JOURNEY_COLUMNS[6:]

LEAD_COLUMNS = ("lead_id", "created_at")
ACTIVITY_COLUMNS = ("lead_id", "occurred_at", "channel", "direction", "outcome")
OPPORTUNITY_COLUMNS = ("lead_id", "created_at", "validated_at", "closed_at", "is_won", "amount")


def journey_frames(
    leads: nw.LazyFrame[Any],
    activities: nw.LazyFrame[Any],
    opportunities: nw.LazyFrame[Any],
    *,
    as_of: AsOf | None = None,
    tz: str = DEFAULT_TZ,
    lead_rows: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """The journey on narwhals lazy frames already on one engine (unsorted).

    ``lead_rows``: the leads' :class:`~pipelinekit.facts.lead_activity.JourneyPart`
    (cut at the same ``as_of``) when it is already computed.
    """
    require_columns(leads, "leads", LEAD_COLUMNS)
    require_columns(activities, "activities", ACTIVITY_COLUMNS)
    require_columns(opportunities, "opportunities", OPPORTUNITY_COLUMNS)
    leads = _compat.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    opportunities = _compat.to_local_naive(
        opportunities, ["created_at", "validated_at", "closed_at"], tz=tz, table="opportunities"
    )
    cutoff = as_of_cutoff(as_of) if as_of is not None else None
    if lead_rows is None:
        activities = _compat.to_local_naive(activities, ["occurred_at"], tz=tz, table="activities")
        lead_rows = lead_activity(activity_facts(activities, cutoff=cutoff), [JourneyPart()])
    if cutoff is not None:
        leads = leads.filter(nw.col("created_at") < cutoff)
        opportunities = opportunities.filter(nw.col("created_at") < cutoff)
    lead_names = leads.collect_schema().names()
    opps = opportunity_summary(opportunities, cutoff=cutoff)
    joined = leads.join(lead_rows, on="lead_id", how="left").join(opps, on="lead_id", how="left")
    return joined.select(
        *[nw.col(c) for c in lead_names],
        nw.col("first_touch_at").cast(nw.Datetime("us")),
        nw.col("first_connect_at").cast(nw.Datetime("us")),
        nw.col("sql_at").cast(nw.Datetime("us")),
        nw.col("validated_at").cast(nw.Datetime("us")),
        nw.col("won_at").cast(nw.Datetime("us")),
        nw.col("won_amount").fill_null(0.0).cast(nw.Float64),
        *[nw.col(c).fill_null(0).cast(nw.Int64) for c in _COUNTS],
    )


def opportunity_summary(
    opportunities: nw.LazyFrame[Any], *, cutoff: datetime | None
) -> nw.LazyFrame[Any]:
    """Per lead: SQL, validation and win times, won amount, opportunity count."""
    validated = nw.col("validated_at")
    closed = nw.col("closed_at")
    if cutoff is not None:
        validated = nw.when(validated < cutoff).then(validated)
        closed = nw.when(closed < cutoff).then(closed)
    won = nw.col("is_won").fill_null(value=False) & ~closed.is_null()
    flagged = opportunities.filter(~nw.col("lead_id").is_null()).with_columns(
        validated.alias("validated_at"),
        when_flag(won, closed).alias("won_at"),
        nw.when(won)
        .then(nw.col("amount").cast(nw.Float64).fill_null(0.0))
        .otherwise(0.0)
        .alias("won_amount"),
        nw.lit(1).cast(nw.Int64).alias("opportunity_count"),
    )
    return flagged.group_by("lead_id").agg(
        nw.col("created_at").min().alias("sql_at"),
        nw.col("validated_at").min(),
        nw.col("won_at").min(),
        nw.col("won_amount").sum(),
        nw.col("opportunity_count").sum(),
    )
