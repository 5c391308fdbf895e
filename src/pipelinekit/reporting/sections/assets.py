"""Report section ``assets``: lead inflow per month and per week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelinekit.metrics.assets import lead_inflow
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


def build(ctx: SectionContext) -> Section:
    """The report's assets section: lead inflow per month (all and inbound) and per
    week for inbound leads over the last 12 weeks.

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> list(section.tables)
    ['inflow_by_month', 'inbound_inflow_by_month', 'inbound_inflow_last_12_weeks']
    """
    leads = ctx.table("leads")
    opts: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    weeks_start = ctx.as_of - timedelta(days=7 * 12 - 1)
    tables = {
        "inflow_by_month": lead_inflow(leads, freq="month", **opts),
        "inbound_inflow_by_month": lead_inflow(leads, freq="month", origin="inbound", **opts),
        "inbound_inflow_last_12_weeks": lead_inflow(
            leads, freq="week", origin="inbound", start=weeks_start, **opts
        ),
    }
    frames = {}
    for name, frame in tables.items():
        frames[name] = to_pandas(frame).loc[:, ["period", "lead_count"]]
    notes = (Note("inflow_definition"),)
    return Section(key="assets", title="Lead inflow (assets)", tables=frames, notes=notes)
