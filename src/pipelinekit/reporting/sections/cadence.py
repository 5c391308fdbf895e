"""Report section ``cadence``: 5C2M compliance by owner and month, early follow-up."""

from __future__ import annotations

from typing import Any

from pipelinekit.metrics.cadence import Cadence, cadence_summary, early_follow_up
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


def build(ctx: SectionContext) -> Section:
    """5C2M compliance overall, by owner and by lead created month; early follow-up by
    owner. The per-lead statuses are computed once (shared facts) for the three
    summaries. Without any activity the tables have no rows and a note says the
    section is not available (not 0% compliance).

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> list(section.tables)
    ['overall', 'by_owner', 'by_month', 'early_follow_up_by_owner']
    """
    leads, acts = ctx.table("leads"), ctx.table("activities")
    cadence = Cadence()
    follow_up: dict[str, Any] = {"touches": 5, "days": 7}
    common: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz, "facts": ctx.facts}
    tables = {
        "overall": cadence_summary(leads, acts, by=(), cadence=cadence, **common),
        "by_owner": cadence_summary(leads, acts, by="owner_id", cadence=cadence, **common),
        "by_month": cadence_summary(leads, acts, by=(), freq="month", cadence=cadence, **common),
        "early_follow_up_by_owner": early_follow_up(
            leads, acts, as_of=ctx.as_of, tz=ctx.tz, facts=ctx.facts, **follow_up
        ),
    }
    notes: tuple[Note, ...] = (
        Note(
            "cadence_definition",
            {
                "label": cadence.label,
                "window_days": cadence.window_days,
                "as_of": ctx.as_of.isoformat(),
                "calls": cadence.calls,
                "mails": cadence.mails,
            },
        ),
        Note("cadence_excluded"),
        Note("early_follow_up", follow_up),
    )
    frames = {name: to_pandas(frame) for name, frame in tables.items()}
    frames, missing = without_rows(frames, ctx.gaps, "activities")
    notes += missing
    return Section(
        key="cadence",
        title="Cadence compliance (5C2M)",
        tables=frames,
        notes=notes,
        charts=(
            Chart(
                kind="hbar",
                table="by_owner",
                x="owner_id",
                y="rate",
                percent=True,
                title="5C2M compliance by owner",
            ),
            Chart(
                kind="line",
                table="by_month",
                x="period",
                y="rate",
                percent=True,
                title="5C2M compliance by lead created month",
            ),
        ),
    )
