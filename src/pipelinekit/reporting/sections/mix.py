"""Report section ``mix``: monthly inbound / outbound share of SQLs, origin comparison."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.mix import ORIGINS, origin_comparison, sql_mix
from pipelinekit.periods import last_full_month
from pipelinekit.reporting.availability import DataGaps, without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


#: Columns of the origin comparison -> what the data must have for them to be measured.
_COLUMN_NEEDS = {
    "opportunities.validated_at": ("valid_count", "valid_rate", "valid_ci_low", "valid_ci_high"),
    "opportunities.is_won": (
        *("won_count", "win_rate", "win_ci_low", "win_ci_high"),
        *("median_cycle_days", "mean_cycle_days"),
    ),
}


def _without_unmeasured(
    comparison: pd.DataFrame, gaps: DataGaps
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The comparison with the columns the data cannot measure set to missing (never a
    0% SQL->valid rate when validated_at is empty everywhere), and their names."""
    out = comparison.copy()
    cleared: list[str] = []
    for what, columns in _COLUMN_NEEDS.items():
        if gaps.has(what):
            continue
        for column in columns:
            if column.endswith("_count"):
                out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
            else:
                out[column] = float("nan")
        cleared += [c for c in columns if not c.endswith(("_count", "_ci_low", "_ci_high"))]
    return out, tuple(cleared)


def build(ctx: SectionContext) -> Section:
    """The report's SQL mix section: monthly inbound/outbound share, origin comparison.

    Tables: ``share by month`` (the last 12 months up to ``as_of``: SQLs, SQLs per
    origin and the inbound / outbound shares), ``origin comparison``
    (:func:`origin_comparison` as of ``as_of``).

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> list(section.tables)
    ['share by month', 'origin comparison']
    """
    opps, leads = ctx.table("opportunities"), ctx.table("leads")
    kw: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    mix = to_pandas(sql_mix(leads, opps, **kw))
    wide = mix.pivot_table(
        index="period", columns="origin", values="numerator", aggfunc="sum", fill_value=0
    )
    monthly = wide.rename(columns=lambda c: f"{c}_count").reset_index()
    monthly.columns.name = None
    count_columns = [c for c in monthly.columns if c.endswith("_count")]
    monthly.insert(1, "sql_count", monthly[count_columns].sum(axis=1))
    for origin in ORIGINS:
        column = f"{origin}_count"
        if column not in monthly:
            monthly[column] = 0
        monthly[f"{origin}_share"] = monthly[column] / monthly["sql_count"]
    monthly = monthly.tail(12).reset_index(drop=True)
    comparison = to_pandas(origin_comparison(leads, opps, **kw))
    excluded = int(comparison.pop("excluded_negative_count").sum())
    month = last_full_month(ctx.as_of)
    notes: tuple[Note, ...] = (
        Note("mix_origin"),
        Note("mix_comparison", {"as_of": ctx.as_of.isoformat()}),
        Note("last_full_month", {"month": f"{month:%Y-%m}"}),
    )
    if excluded:
        notes += (Note("mix_cycle_excluded_negative", {"excluded": excluded}),)
    comparison, unmeasured = _without_unmeasured(comparison, ctx.gaps)
    if unmeasured:
        notes += (Note("columns_not_available", {"columns": unmeasured}),)
    tables, missing = without_rows(
        {"share by month": monthly, "origin comparison": comparison}, ctx.gaps, "opportunities"
    )
    notes += missing
    return Section(
        key="mix",
        title="SQL mix",
        tables=tables,
        notes=notes,
        charts=(
            Chart(
                kind="stacked_bar",
                table="share by month",
                x="period",
                y=("inbound_count", "outbound_count"),
                title="SQLs by origin per month",
            ),
            Chart(
                kind="line",
                table="share by month",
                x="period",
                y="inbound_share",
                percent=True,
                title="Inbound share of SQLs",
            ),
        ),
    )
