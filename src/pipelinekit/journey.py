"""The lead journey: one row per lead with its stage timestamps and activity counts.

Every funnel and conversion metric starts from this table (DESIGN section 3).

Columns added to the lead's own columns:

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

from datetime import date, datetime
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import connect, flag, is_outbound, require_columns, touch, when_flag
from pipelinekit.periods import as_of_cutoff

__all__ = ["JOURNEY_COLUMNS", "journey", "journey_frames"]

FrameT = TypeVar("FrameT")

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


def journey(
    leads: FrameT,
    activities: Any,
    opportunities: Any,
    *,
    as_of: date | datetime | str | None = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """One row per lead with stage timestamps and activity counts.

    Parameters
    ----------
    leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    as_of
        Ignore everything after the end of this day. ``None`` keeps every row.
    tz
        Dataset time zone; tz-aware timestamp columns are converted to it.

    Returns
    -------
    Frame of the caller's kind: the lead columns followed by :data:`JOURNEY_COLUMNS`,
    sorted by ``lead_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "origin": ["inbound", "outbound"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-02 10:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1"], "channel": ["call", "call"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["no_answer", "connected"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-02 11:00"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "amount": [1e6], "is_won": [True],
    ...     "created_at": pd.to_datetime(["2025-04-03"]), "validated_at": [pd.NaT],
    ...     "closed_at": pd.to_datetime(["2025-05-01"])})
    >>> j = journey(leads, acts, opps)
    >>> j[["lead_id", "touch_count", "connect_count", "won_amount"]]
      lead_id  touch_count  connect_count  won_amount
    0      L1            2              1   1000000.0
    1      L2            0              0         0.0
    """
    (lf_leads, lf_acts, lf_opps), session = _compat.enter(
        [leads, activities, opportunities], function="journey"
    )
    result = journey_frames(lf_leads, lf_acts, lf_opps, as_of=as_of, tz=tz)
    return session.finish(result.sort("lead_id"))  # type: ignore[no-any-return]


def journey_frames(
    leads: nw.LazyFrame[Any],
    activities: nw.LazyFrame[Any],
    opportunities: nw.LazyFrame[Any],
    *,
    as_of: date | datetime | str | None = None,
    tz: str = "Asia/Tokyo",
) -> nw.LazyFrame[Any]:
    """:func:`journey` on narwhals lazy frames already on one engine (unsorted)."""
    require_columns(leads, "leads", LEAD_COLUMNS)
    require_columns(activities, "activities", ACTIVITY_COLUMNS)
    require_columns(opportunities, "opportunities", OPPORTUNITY_COLUMNS)
    leads = _compat.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    activities = _compat.to_local_naive(activities, ["occurred_at"], tz=tz, table="activities")
    opportunities = _compat.to_local_naive(
        opportunities, ["created_at", "validated_at", "closed_at"], tz=tz, table="opportunities"
    )
    cutoff = as_of_cutoff(as_of) if as_of is not None else None
    if cutoff is not None:
        leads = leads.filter(nw.col("created_at") < cutoff)
        activities = activities.filter(nw.col("occurred_at") < cutoff)
        opportunities = opportunities.filter(nw.col("created_at") < cutoff)
    lead_names = leads.collect_schema().names()
    acts = activity_summary(activities)
    opps = opportunity_summary(opportunities, cutoff=cutoff)
    joined = leads.join(acts, on="lead_id", how="left").join(opps, on="lead_id", how="left")
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


def activity_summary(activities: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per lead: first touch / connect time and activity counts (activities with a lead)."""
    flagged = activities.filter(~nw.col("lead_id").is_null()).with_columns(
        flag(touch()).alias("touch_count"),
        flag(is_outbound("call")).alias("call_count"),
        flag(is_outbound("email")).alias("email_count"),
        flag(is_outbound("meeting")).alias("meeting_count"),
        flag(connect()).alias("connect_count"),
        when_flag(touch(), nw.col("occurred_at")).alias("first_touch_at"),
        when_flag(connect(), nw.col("occurred_at")).alias("first_connect_at"),
    )
    return flagged.group_by("lead_id").agg(
        nw.col("first_touch_at").min(),
        nw.col("first_connect_at").min(),
        *[nw.col(c).sum() for c in ("touch_count", "call_count", "email_count")],
        nw.col("meeting_count").sum(),
        nw.col("connect_count").sum(),
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
