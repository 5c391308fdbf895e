"""Report section ``queues``: leads waiting per queue and owner, the top rows of each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from pipelinekit.metrics.queues import (
    QUEUES,
    do_not_pursue_review,
    focus_due,
    hot_leads,
    overdue_next_activity,
    queue_counts,
    recycle_due,
    recycle_reasons,
    untouched_inbound,
)
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


#: Rows shown of each queue.
_TOP = 10


_SHOWN: dict[str, tuple[str, ...]] = {
    "untouched_inbound": ("lead_id", "owner_id", "created_at", "source", "waiting_hours"),
    "overdue_next_activity": ("lead_id", "owner_id", "next_activity_on", "overdue_days"),
    "focus_due": ("lead_id", "owner_id", "next_activity_on", "due_in_days"),
    "do_not_pursue_review": (
        "lead_id",
        "owner_id",
        "action_status",
        "last_activity_at",
        "last_activity_channel",
        "touch_count",
    ),
    "recycle_due": ("lead_id", "owner_id", "recycle_on", "recycle_reason", "days_since_due"),
    "hot_leads": ("lead_id", "owner_id", "signal_at", "page_view_count", "since_signal_hours"),
}


#: Queues that need the activities (touches, web signals) to be measured at all.
_ACTIVITY_QUEUES = ("untouched_inbound", "hot_leads")
_ACTIVITY_TABLES = tuple(f"top_{name}" for name in _ACTIVITY_QUEUES)


def build(ctx: SectionContext) -> Section:
    """The report's queue section: leads per queue and owner, the top rows of each
    queue and the recycle reasons.

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> section.tables["counts"].columns.tolist()
    ['queue', 'lead_count']
    """
    leads, acts = ctx.table("leads"), ctx.table("activities")
    opts: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz, "facts": ctx.facts}
    per_owner = to_pandas(queue_counts(leads, acts, **opts))
    # the totals are the per-owner counts summed (every lead has one owner or none):
    # one pass over the six queues instead of two
    totals = per_owner.groupby("queue", sort=False, as_index=False)["lead_count"].sum()
    sizes = dict(zip(totals["queue"], totals["lead_count"], strict=True))
    counts = totals.set_index("queue").reindex(list(QUEUES), fill_value=0).reset_index()
    tables: dict[str, Any] = {"counts": counts}
    wide = per_owner.assign(owner_id=per_owner["owner_id"].fillna("(none)")).pivot_table(
        index="owner_id", columns="queue", values="lead_count", aggfunc="sum", fill_value=0
    )
    owners = sorted(o for o in wide.index if o != "(none)") + [
        o for o in wide.index if o == "(none)"
    ]  # leads without an owner last
    wide = wide.reindex(index=owners, columns=list(QUEUES), fill_value=0).astype("int64")
    tables["counts_by_owner"] = wide.reset_index().rename_axis(columns=None)
    functions: dict[str, Callable[..., Any]] = {
        "untouched_inbound": untouched_inbound,
        "overdue_next_activity": overdue_next_activity,
        "focus_due": focus_due,
        "do_not_pursue_review": do_not_pursue_review,
        "recycle_due": recycle_due,
        "hot_leads": hot_leads,
    }
    for name, function in functions.items():
        rows = to_pandas(function(leads, acts, **opts))
        tables[f"top_{name}"] = rows.loc[:, list(_SHOWN[name])].head(_TOP).reset_index(drop=True)
    tables["recycle_reasons"] = to_pandas(recycle_reasons(leads, as_of=ctx.as_of, tz=ctx.tz))
    notes: tuple[Note, ...] = (
        Note("queues_as_of", {"as_of": ctx.as_of.isoformat(), "top": _TOP}),
        Note(
            "queues_waiting",
            {"untouched": sizes.get("untouched_inbound", 0), "hot": sizes.get("hot_leads", 0)},
        ),
        Note("queues_definitions", {"page_views": 5, "lookback_days": 14, "horizon_days": 60}),
    )
    if not ctx.gaps.has("activities"):
        # without any activity, "not touched" and "no web signal" are not measured:
        # those two queues are not available (null counts, no rows), not every lead / 0
        tables, missing = without_rows(tables, ctx.gaps, "activities", _ACTIVITY_TABLES)
        unknown = list(_ACTIVITY_QUEUES)
        counts = tables["counts"].astype({"lead_count": "Int64"})
        counts.loc[counts["queue"].isin(unknown), "lead_count"] = pd.NA
        by_owner = tables["counts_by_owner"].astype(dict.fromkeys(unknown, "Int64"))
        by_owner.loc[:, unknown] = pd.NA
        tables["counts"], tables["counts_by_owner"] = counts, by_owner
        notes = (notes[0], *missing, notes[2])
    charts = (
        Chart(
            kind="hbar",
            table="counts",
            x="queue",
            y="lead_count",
            title="Leads waiting in each queue",
        ),
        Chart(
            kind="stacked_bar",
            table="counts_by_owner",
            x="owner_id",
            y=tuple(QUEUES),
            title="Leads waiting per queue and owner",
        ),
    )
    return Section(key="queues", title="Work queues", tables=tables, notes=notes, charts=charts)
