"""5C2M cadence compliance: 5 outbound calls and 2 outbound mails for leads not yet
connected, within a window after lead creation (DESIGN section 3).

A lead's window is ``[created_at, created_at + window)``. A lead is *eligible* when
the window has ended by the end of the ``as_of`` day and it had no connect inside
the window; it is *compliant* when it is eligible and reached the required calls
and mails inside the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import narwhals as nw

from pipelinekit._exprs import connect, flag, is_outbound

__all__ = ["cadence_window_counts"]


def cadence_window_counts(
    leads: nw.LazyFrame[Any],
    activities: nw.LazyFrame[Any],
    *,
    window: timedelta,
    cutoff: datetime | None,
) -> nw.LazyFrame[Any]:
    """Per lead: outbound ``calls``, ``mails`` and ``connects`` inside its window.

    Returns every lead of ``leads`` with ``lead_id``, ``created_at``,
    ``window_end``, ``window_closed`` (0/1: the window ended by ``cutoff``) and the
    three counts (0 when none). Timestamps must already be naive local time.
    """
    base = leads.select(
        nw.col("lead_id"),
        nw.col("created_at"),
        (nw.col("created_at") + window).alias("window_end"),
    )
    acts = activities.filter(~nw.col("lead_id").is_null()).select(
        nw.col("lead_id"),
        nw.col("occurred_at"),
        flag(is_outbound("call")).alias("calls"),
        flag(is_outbound("email")).alias("mails"),
        flag(connect()).alias("connects"),
    )
    inside = (
        base.join(acts, on="lead_id", how="inner")
        .filter(
            (nw.col("occurred_at") >= nw.col("created_at"))
            & (nw.col("occurred_at") < nw.col("window_end"))
        )
        .group_by("lead_id")
        .agg(nw.col("calls").sum(), nw.col("mails").sum(), nw.col("connects").sum())
    )
    closed = nw.lit(1) if cutoff is None else flag(nw.col("window_end") <= cutoff)
    return base.join(inside, on="lead_id", how="left").select(
        nw.col("lead_id"),
        nw.col("created_at"),
        nw.col("window_end"),
        closed.cast(nw.Int64).alias("window_closed"),
        *[nw.col(c).fill_null(0).cast(nw.Int64) for c in ("calls", "mails", "connects")],
    )
