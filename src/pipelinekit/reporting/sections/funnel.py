"""Report section ``funnel``: the lead funnel overall and by origin, with bottlenecks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.funnel import bottleneck, funnel
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]

_SHOWN = [
    "stage",
    "count",
    "step_rate",
    "step_ci_low",
    "step_ci_high",
    "overall_rate",
    "median_days",
    "p90_days",
]
_BOTTLENECK = ["origin", "from_stage", "stage", "numerator", "denominator", "rate"]


def build(ctx: SectionContext) -> Section:
    """The lead funnel (cohort view, inferred) overall and by origin, with bottlenecks.

    Tables: ``overall`` and ``by_origin`` (stage, count, step and overall rates with
    95% intervals, median and p90 days from the previous stage) and ``bottleneck``
    (the lowest step overall and per origin).

    Examples
    --------
    >>> from datetime import date
    >>> from pipelinekit import Dataset
    >>> from pipelinekit.sample import generate_sample
    >>> ds = Dataset(**generate_sample(leads=300, seed=2))
    >>> sorted(build(SectionContext.build(ds, date(2025, 12, 31))).tables)
    ['bottleneck', 'by_origin', 'overall']
    """
    journey = ctx.native(ctx.facts.journey())
    overall = to_pandas(funnel(journey, as_of=ctx.as_of))
    by_origin = to_pandas(funnel(journey, by="origin", as_of=ctx.as_of))
    low_all = to_pandas(bottleneck(overall)).assign(origin="all")
    low_origin = to_pandas(bottleneck(by_origin, by="origin"))
    lows = pd.concat([low_all[low_origin.columns], low_origin], ignore_index=True)[
        [*_BOTTLENECK, "ci_low", "ci_high"]
    ]
    notes = (Note("funnel_counts"), *[_bottleneck_note(row) for row in _records(lows)])
    return Section(
        key="funnel",
        title="Lead funnel (cohort by lead created date, inferred stages)",
        tables={
            "overall": overall[_SHOWN],
            "by_origin": by_origin[["origin", *_SHOWN]],
            "bottleneck": lows,
        },
        notes=notes,
        charts=(
            Chart(
                kind="funnel",
                table="overall",
                x="stage",
                y="count",
                title="Lead funnel: leads reaching each stage",
            ),
            Chart(
                kind="bar",
                table="by_origin",
                x="stage",
                y="overall_rate",
                series="origin",
                percent=True,
                title="Share of leads reaching each stage, by origin",
            ),
        ),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _bottleneck_note(row: dict[str, Any]) -> Note:
    params = {k: row[k] for k in (*_BOTTLENECK[1:], "ci_low", "ci_high")}
    if row["origin"] == "all":
        return Note("funnel_bottleneck_overall", params)
    return Note("funnel_bottleneck_origin", {**params, "origin": row["origin"]})
