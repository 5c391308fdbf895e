"""Report section ``allocation``: last full month's SQL load per FS rep, concentration,
idle capacity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelinekit.metrics.allocation import (
    DEFAULT_CAPACITY_BANDS,
    idle_capacity,
    sql_allocation,
    sql_concentration,
)
from pipelinekit.periods import last_full_month
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


def build(ctx: SectionContext) -> Section:
    """The report's SQL allocation section: last full month's load, concentration, idle.

    Tables: ``load`` (every FS rep in the last full month), ``concentration`` (per
    month, the last 12 months up to ``as_of``), ``idle capacity`` (per segment, last
    full month).

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> list(section.tables)
    ['load', 'concentration', 'idle capacity']
    """
    month_end = last_full_month(ctx.as_of)
    month = datetime(month_end.year, month_end.month, 1)
    opps, reps = ctx.table("opportunities"), ctx.table("reps")
    kw: dict[str, Any] = {"tz": ctx.tz}
    load = to_pandas(sql_allocation(reps, opps, as_of=month_end, **kw))
    load = load[load["period"] == month].drop(columns=["period", "partial"])
    concentration = to_pandas(sql_concentration(reps, opps, as_of=ctx.as_of, **kw)).tail(12)
    idle = to_pandas(idle_capacity(reps, opps, as_of=month_end, **kw))
    idle = idle[idle["period"] == month].drop(columns=["period"])
    over = int((load["status"] == "over").sum())
    unknown = int((load["status"] == "unknown").sum())
    notes: tuple[Note, ...] = (
        Note(
            "allocation_load",
            {
                "month": f"{month:%Y-%m}",
                "as_of": ctx.as_of.isoformat(),
                "over": over,
                "unknown": unknown,
            },
        ),
        Note("allocation_capacity", {"bands": str(dict(DEFAULT_CAPACITY_BANDS))}),
        Note("concentration"),
    )
    tables = {
        "load": load.reset_index(drop=True),
        "concentration": concentration.reset_index(drop=True),
        "idle capacity": idle.reset_index(drop=True),
    }
    # no SQLs or no reps in the data: loads of 0 were never measured
    for what in ("opportunities", "reps"):
        tables, missing = without_rows(tables, ctx.gaps, what)
        notes += missing
    if not (ctx.gaps.has("opportunities") and ctx.gaps.has("reps")):
        notes = notes[1:]  # the load note would count reps over capacity in no data
    return Section(
        key="allocation",
        title="SQL allocation",
        tables=tables,
        notes=notes,
        charts=(
            Chart(
                kind="bar",
                table="load",
                x="rep_id",
                y="sql_count",
                reference="capacity",
                title="SQL load vs capacity per rep (last full month)",
            ),
            Chart(
                kind="line",
                table="concentration",
                x="period",
                y="top_rep_share",
                percent=True,
                title="Top-rep share of SQLs by month",
            ),
        ),
    )
