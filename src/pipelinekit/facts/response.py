"""The per-lead response fact: when the lead started and when it was first touched.

Speed to lead, same-day and next-business-day approach and the untouched-inbound queue
all read it (DESIGN section 3): ``start_at`` is the lead's creation (or its first web
signal), ``first_touch_at`` the first outbound touch at or after it and
``first_touch_from_day_at`` the first outbound touch at or after the start of the
creation day (dataset time zone).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import narwhals as nw

from pipelinekit._exprs import touch, when_flag
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.lead_activity import ResponsePart, lead_activity, with_lead_activity

__all__ = ["first_signal", "lead_response"]


def first_signal(
    acts: nw.LazyFrame[Any], signal: str, *, page_views: int, burst_days: int
) -> nw.LazyFrame[Any]:
    """Per lead: ``start_at`` = time of its first web signal of the given kind.

    A page-view burst happens at the page view that completes ``page_views`` page
    views within ``burst_days`` days (the earliest counted one is less than
    ``burst_days`` days before it); ties on time are ordered by ``activity_id``.
    """
    web = acts.filter(
        ~nw.col("lead_id").is_null() & (nw.col("channel") == "web").fill_null(value=False)
    )
    if signal != "page_view_burst":
        hits = web.filter((nw.col("outcome") == signal).fill_null(value=False))
        return hits.group_by("lead_id").agg(nw.col("occurred_at").min().alias("start_at"))
    views = web.filter((nw.col("outcome") == "page_view").fill_null(value=False))
    earliest = (
        nw.col("occurred_at")
        .shift(page_views - 1)
        .over("lead_id", order_by=["occurred_at", "activity_id"])
    )
    bursts = views.with_columns(earliest.alias("_earliest")).filter(
        ~nw.col("_earliest").is_null()
        & (nw.col("occurred_at") < nw.col("_earliest") + timedelta(days=burst_days))
    )
    return bursts.group_by("lead_id").agg(nw.col("occurred_at").min().alias("start_at"))


def lead_response(
    leads: nw.LazyFrame[Any],
    acts: nw.LazyFrame[Any],
    *,
    signal: str | None = None,
    page_views: int = 5,
    burst_days: int = 14,
    per_lead: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """Leads with ``start_at`` (creation or first signal), ``day_start`` (midnight of
    the creation day), ``first_touch_at`` (first outbound touch at or after
    ``start_at``) and ``first_touch_from_day_at`` (first outbound touch at or after
    ``day_start``). Leads without the signal are dropped in signal mode.

    ``acts`` are the entered activities (naive local time, already cut); without a
    signal, ``per_lead`` may give the leads' precomputed
    :class:`~pipelinekit.facts.lead_activity.ResponsePart`.
    """
    day_start = nw.col("created_at").dt.truncate("1d").cast(nw.Datetime("us")).alias("day_start")
    if signal is None:
        starts = leads.with_columns(nw.col("created_at").alias("start_at"), day_start)
        if per_lead is None:
            per_lead = lead_activity(activity_facts(acts, leads, cutoff=None), [ResponsePart()])
        return with_lead_activity(starts, per_lead, [ResponsePart()]).rename(
            {"first_touch_at_or_after": "first_touch_at"}
        )
    first = first_signal(acts, signal, page_views=page_views, burst_days=burst_days)
    starts = leads.join(first, on="lead_id", how="inner").with_columns(day_start)
    touches = acts.filter(touch() & ~nw.col("lead_id").is_null()).select("lead_id", "occurred_at")
    firsts = (
        starts.select("lead_id", "start_at", "day_start")
        .join(touches, on="lead_id", how="inner")
        .with_columns(
            when_flag(nw.col("occurred_at") >= nw.col("start_at"), nw.col("occurred_at")).alias(
                "first_touch_at"
            ),
            when_flag(nw.col("occurred_at") >= nw.col("day_start"), nw.col("occurred_at")).alias(
                "first_touch_from_day_at"
            ),
        )
        .group_by("lead_id")
        .agg(nw.col("first_touch_at").min(), nw.col("first_touch_from_day_at").min())
    )
    return starts.join(firsts, on="lead_id", how="left").with_columns(
        nw.col("first_touch_at").cast(nw.Datetime("us")),
        nw.col("first_touch_from_day_at").cast(nw.Datetime("us")),
    )
