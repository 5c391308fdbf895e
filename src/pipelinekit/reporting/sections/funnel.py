"""Report section ``funnel``: the lead funnel overall and by origin, with bottlenecks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.funnel import DEFAULT_STAGES, bottleneck, funnel
from pipelinekit.reporting.availability import DataGaps
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

#: Funnel stages -> what the data must have for the stage to be shown (DataGaps names).
_STAGE_NEEDS = {
    "touched": ("activities",),
    "connected": ("activities",),
    "sql": ("opportunities",),
    "valid": ("opportunities", "opportunities.validated_at"),
    "won": ("opportunities", "opportunities.is_won"),
}


def funnel_stages(gaps: DataGaps) -> tuple[str, ...]:
    """The default funnel stages the data has: a stage whose input is missing (no
    activities for touched / connected, no validated_at for valid, ...) is left out
    rather than shown as 0 (and so can never be the bottleneck).

    >>> funnel_stages(DataGaps(missing=frozenset({"activities"})))
    ('lead', 'sql', 'valid', 'won')
    """
    return tuple(
        s for s in DEFAULT_STAGES if all(gaps.has(need) for need in _STAGE_NEEDS.get(s, ()))
    )


def build(ctx: SectionContext) -> Section:
    """The lead funnel (cohort view, inferred) overall and by origin, with bottlenecks.

    Tables: ``overall`` and ``by_origin`` (stage, count, step and overall rates with
    95% intervals, median and p90 days from the previous stage) and ``bottleneck``
    (the lowest step overall and per origin). Stages the data has no input for are
    left out (:func:`funnel_stages`) and a note names them; with fewer than two
    stages left the tables have no rows.

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
    stages = funnel_stages(ctx.gaps)
    left_out = tuple(s for s in DEFAULT_STAGES if s not in stages)
    usable = len(stages) >= 2
    kw: dict[str, Any] = {"as_of": ctx.as_of, "stages": stages if usable else DEFAULT_STAGES}
    overall = to_pandas(funnel(journey, **kw))
    by_origin = to_pandas(funnel(journey, by="origin", **kw))
    low_all = to_pandas(bottleneck(overall)).assign(origin="all")
    low_origin = to_pandas(bottleneck(by_origin, by="origin"))
    lows = pd.concat([low_all[low_origin.columns], low_origin], ignore_index=True)[
        [*_BOTTLENECK, "ci_low", "ci_high"]
    ]
    notes: tuple[Note, ...] = (Note("funnel_counts"),)
    if not usable:
        # nothing to compare: no rows rather than a funnel of invented zeros
        overall, by_origin, lows = overall.head(0), by_origin.head(0), lows.head(0)
        notes += (Note("funnel_not_available"),)
    elif left_out:
        notes += (Note("funnel_stages_left_out", {"stages": left_out}),)
    notes += tuple(_bottleneck_note(row) for row in _records(lows))
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
