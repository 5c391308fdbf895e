"""Report section ``targets``: quota attainment and pace, pipeline coverage and
forecast accuracy (:mod:`pipelinekit.metrics.targets`).

The section reads the ``quotas`` table. "Current" quotas are those whose period
contains ``as_of``; the attainment trend rolls up every period that has started by
then. Forecast accuracy covers the ``won_amount`` quota periods that ended by
``as_of``, with the commit forecast read :data:`FORECAST_DAYS_BEFORE` days before
each period's end.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipelinekit.metrics.targets import forecast_accuracy, pipeline_coverage, quota_attainment
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["FORECAST_DAYS_BEFORE", "build"]

#: Days before a period's end that the forecast is read.
FORECAST_DAYS_BEFORE = 30

_QUOTA_COLUMNS = [
    "owner_id",
    "team",
    "metric",
    "period_start",
    "period_end",
    "target",
    "actual",
    "attainment",
    "pace",
]


_PERIOD_COLUMNS = [
    "metric",
    "period_start",
    "period_end",
    "quota_count",
    "target",
    "actual",
    "attainment",
]


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    """A quota period as its first day in one ``period`` column (the KPI table's period
    key; the period's end is left out: every table lists whole quota periods)."""
    out = frame.reset_index(drop=True).copy()
    out = out.drop(columns=[c for c in ("period_end",) if c in out])
    if "period_start" in out:
        out = out.rename(columns={"period_start": "period"})
        out["period"] = pd.to_datetime(out["period"]).astype("datetime64[us]")
    for column in ("quota_count", "pipeline_count"):
        if column in out:
            out[column] = pd.array([int(v) for v in out[column]], dtype="Int64")
    return out


def _current(frame: pd.DataFrame, ctx: SectionContext) -> pd.DataFrame:
    day = pd.Timestamp(ctx.as_of)
    return frame[(frame["period_start"] <= day) & (frame["period_end"] >= day)]


def build(ctx: SectionContext) -> Section:
    """The report's targets section as of ``as_of``.

    Tables: ``quota attainment`` (every rep and team quota whose period contains
    ``as_of``), ``attainment by team`` (rep quotas of those periods summed by team),
    ``attainment by period`` (rep quotas summed by metric and period, every period
    started by ``as_of``), ``pipeline coverage`` (``won_amount`` quotas of the current
    period), ``forecast accuracy by period`` and ``forecast accuracy by owner`` (ended
    ``won_amount`` periods, errors per quota row before summing).

    Examples
    --------
    >>> import pipelinekit as pk
    >>> from datetime import date
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> sorted(section.tables)[:2]
    ['attainment by period', 'attainment by team']
    """
    notes: list[Note] = [Note("targets_definition")]
    if not ctx.has_rows("quotas"):
        notes.append(Note("targets_no_quotas"))
        return Section(key="targets", title="Targets", notes=tuple(notes))
    quotas, opps = ctx.table("quotas"), ctx.table("opportunities")
    kw: dict[str, Any] = {
        "opportunities": opps,
        "reps": ctx.table("reps"),
        "history": ctx.table("opportunity_history"),
        "stage_changes": ctx.table("stage_changes"),
        "as_of": ctx.as_of,
        "tz": ctx.tz,
        "facts": ctx.facts,
    }
    activities = ctx.table("activities")
    rows = to_pandas(quota_attainment(quotas, activities=activities, **kw))
    tables: dict[str, pd.DataFrame] = {}
    charts: list[Chart] = []
    current = _current(rows, ctx)
    tables["quota attainment"] = _dates(current[_QUOTA_COLUMNS])
    rep_rows = current[current["level"] == "rep"]
    if len(rep_rows):
        by_team = to_pandas(
            quota_attainment(
                quotas, activities=activities, rollup=["team", "period_start", "period_end"], **kw
            )
        )
        by_team = _current(by_team[by_team["level"] == "rep"], ctx)
        tables["attainment by team"] = _dates(
            by_team[["team", "metric", "quota_count", "target", "actual", "attainment", "pace"]]
        )
        won = rep_rows[rep_rows["metric"] == "won_amount"]
        if len(won):
            tables["won amount against quota"] = _dates(won[["owner_id", "target", "actual"]])
            charts.append(
                Chart(
                    kind="bar",
                    table="won amount against quota",
                    x="owner_id",
                    y="actual",
                    reference="target",
                    title="Won amount against quota (current period)",
                )
            )
    started = rows[(rows["level"] == "rep") & (rows["status"] != "future")]
    if len(started):
        by_period = to_pandas(
            quota_attainment(
                quotas, activities=activities, rollup=["period_start", "period_end"], **kw
            )
        )
        by_period = by_period[
            (by_period["level"] == "rep") & (by_period["period_start"] <= pd.Timestamp(ctx.as_of))
        ]
        tables["attainment by period"] = _dates(
            by_period[
                [
                    "metric",
                    "period_start",
                    "period_end",
                    "quota_count",
                    "target",
                    "actual",
                    "attainment",
                ]
            ]
        )
    zero = int((rows["target"] == 0).sum())
    if zero:
        notes.append(Note("targets_zero_target", {"rows": zero}))
    coverage = to_pandas(pipeline_coverage(quotas, **kw))
    if len(coverage):
        tables["pipeline coverage"] = _dates(
            coverage[
                [
                    "owner_id",
                    "team",
                    "period_start",
                    "period_end",
                    "remaining",
                    "pipeline",
                    "coverage",
                    "coverage_needed",
                    "pipeline_needed",
                ]
            ]
        )
        met = int((coverage["remaining"] <= 0).sum())
        win_rate = float(coverage["win_rate"].iloc[0])
        needed = float(coverage["coverage_needed"].iloc[0])
        notes.append(
            Note(
                "targets_coverage",
                {
                    "win_rate": None if math.isnan(win_rate) else win_rate,
                    "needed": "n/a" if math.isnan(needed) else f"{needed:.1f}x",
                    "met": met,
                },
            )
        )
    notes.extend(_forecast(ctx, quotas, kw, tables))
    return Section(
        key="targets",
        title="Targets",
        tables=tables,
        notes=tuple(notes),
        charts=tuple(charts),
    )


def _forecast(
    ctx: SectionContext, quotas: Any, kw: dict[str, Any], tables: dict[str, pd.DataFrame]
) -> list[Note]:
    """The forecast-accuracy tables (added to ``tables``) and their notes."""
    opps = ctx.facts.table("opportunities")
    if "forecast_category" not in opps.collect_schema().names():
        return [Note("targets_no_forecast_category")]
    common = {**kw, "days_before": FORECAST_DAYS_BEFORE}
    by_period = to_pandas(
        forecast_accuracy(quotas, rollup=["period_start", "period_end"], **common)
    )
    by_period = by_period[by_period["level"] == "rep"]
    if not len(by_period):
        return []
    measures = ["forecast", "actual", "abs_error", "wape", "accuracy", "bias"]
    tables["forecast accuracy by period"] = _dates(
        by_period[["period_start", "period_end", "quota_count", *measures]]
    )
    by_owner = to_pandas(forecast_accuracy(quotas, rollup=["owner_id"], **common))
    by_owner = by_owner[by_owner["level"] == "rep"]
    tables["forecast accuracy by owner"] = _dates(by_owner[["owner_id", "quota_count", *measures]])
    total = to_pandas(forecast_accuracy(quotas, rollup="metric", **common))
    wape = float(total.loc[total["level"] == "rep", "wape"].iloc[0])
    return [
        Note(
            "targets_forecast",
            {
                "days": FORECAST_DAYS_BEFORE,
                "periods": len(by_period),
                "wape": None if math.isnan(wape) else wape,
            },
        )
    ]
