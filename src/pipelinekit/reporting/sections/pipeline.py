"""Report section ``pipeline``: open pipeline, win rate, cycle, velocity, stale deals."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.outcomes import (
    pipeline_velocity,
    sales_cycle,
    win_rate,
)
from pipelinekit.metrics.pipeline import (
    open_pipeline,
    stale_opportunities,
    time_in_stage,
)
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


def build(ctx: SectionContext) -> Section:
    """The report's pipeline section as of ``as_of``.

    Tables: ``open pipeline by stage`` (stage as of ``as_of`` from the stage history
    when there is one), ``win rate`` (by count and by amount), ``sales cycle``,
    ``velocity``, ``win rate by source``, ``time in stage`` (with a stage history),
    ``stale opportunities`` (the 10 most idle; the note gives the total). Won deals
    closed before they were created are left out of the cycle; a note counts them.

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> section.tables["win rate"]["weight"].tolist()
    ['count', 'amount']
    """
    opps = ctx.table("opportunities")
    history = ctx.table("stage_changes")
    history = history if ctx.has_rows("stage_changes") else None
    kw: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    rates = [
        to_pandas(win_rate(opps, weight=w, **kw)).assign(weight=w) for w in ("count", "amount")
    ]
    win = pd.concat(rates, ignore_index=True)
    stale = to_pandas(
        stale_opportunities(ctx.table("activities"), opps, stage_changes=history, **kw)
    )
    cycle = to_pandas(sales_cycle(opps, **kw))
    excluded = int(cycle["excluded_negative_count"].sum())
    tables = {
        "open pipeline by stage": to_pandas(open_pipeline(opps, stage_changes=history, **kw)),
        "win rate": win[["weight", "numerator", "denominator", "rate", "ci_low", "ci_high"]],
        # the count of won deals left out of the cycle is a note, not a column
        "sales cycle": cycle.drop(columns="excluded_negative_count"),
        "velocity": to_pandas(pipeline_velocity(opps, **kw)).drop(
            columns="excluded_negative_count"
        ),
        "win rate by source": to_pandas(
            win_rate(opps, leads=ctx.table("leads"), by="source", **kw)
        ),
    }
    if history is not None:
        tables["time in stage"] = to_pandas(time_in_stage(history, **kw))
    tables["stale opportunities"] = stale.head(10)[
        ["opportunity_id", "owner_id", "stage", "amount", "last_activity_at", "idle_days"]
    ]
    notes: tuple[Note, ...] = (
        Note("pipeline_as_of", {"as_of": ctx.as_of.isoformat()}),
        Note("pipeline_velocity"),
        Note("pipeline_stale", {"stale": len(stale), "days": 30}),
    )
    if excluded:
        notes += (Note("cycle_excluded_negative", {"excluded": excluded}),)
    # what the data cannot measure is left empty, never shown as 0 or 0%
    if not ctx.gaps.has("opportunities.amount"):
        opened = tables["open pipeline by stage"].copy()
        opened["open_amount"] = float("nan")
        tables["open pipeline by stage"] = opened
        notes += (Note("columns_not_available", {"columns": ("open_amount",)}),)
    if not ctx.gaps.has("activities"):
        notes = tuple(n for n in notes if n.key != "pipeline_stale")
    for what, names in (
        ("activities", ("stale opportunities",)),
        ("opportunities.is_won", ("win rate", "sales cycle", "velocity", "win rate by source")),
        ("opportunities", None),
    ):
        tables, missing = without_rows(tables, ctx.gaps, what, names)
        notes += missing
    charts = (
        Chart(
            kind="bar",
            table="open pipeline by stage",
            x="stage",
            y="open_amount",
            title="Open pipeline amount by stage",
        ),
        Chart(
            kind="hbar",
            table="win rate by source",
            x="source",
            y="rate",
            percent=True,
            title="Win rate by source",
        ),
    )
    return Section(key="pipeline", title="Pipeline", tables=tables, notes=notes, charts=charts)
