"""The report's sections, in report order: each ``build(ctx) -> Section``.

A section module calls public metric functions (with the run's shared facts) and
shapes their results into tables, notes and charts; it computes no KPI of its own.
``summary`` is not a section module: :mod:`pipelinekit.reporting.summary` builds it.

>>> list(SECTIONS)[:3]
['funnel', 'activity', 'cadence']
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pipelinekit.dataset import Dataset
from pipelinekit.errors import ConfigError
from pipelinekit.periods import parse_as_of
from pipelinekit.reporting.context import SectionContext
from pipelinekit.reporting.model import Section
from pipelinekit.reporting.sections import (
    abm,
    activity,
    allocation,
    assets,
    cadence,
    campaigns,
    conversion,
    funnel,
    history,
    mix,
    pipeline,
    queues,
    targets,
)
from pipelinekit.types import AsOf

__all__ = ["SECTIONS", "SectionBuild", "build_section"]

#: A section builder: the run's context in, one section out.
SectionBuild = Callable[[SectionContext], Section]

#: Every section by key, in report order.
SECTIONS: dict[str, SectionBuild] = {
    "funnel": funnel.build,
    "activity": activity.build,
    "cadence": cadence.build,
    "queues": queues.build,
    "assets": assets.build,
    "allocation": allocation.build,
    "mix": mix.build,
    "abm": abm.build,
    "campaigns": campaigns.build,
    "pipeline": pipeline.build,
    "conversion": conversion.build,
    "history": history.build,
    "targets": targets.build,
}


def build_section(key: str, dataset: Dataset, as_of: AsOf | date) -> Section:
    """One section of the report on ``dataset`` as of ``as_of`` (its own facts).

    >>> import pipelinekit as pk
    >>> build_section("assets", pk.sample_dataset(), "2025-12-31").key
    'assets'
    """
    if key not in SECTIONS:
        raise ConfigError(f"section: unknown key {key!r}; choose from {', '.join(SECTIONS)}")
    return SECTIONS[key](SectionContext.build(dataset, parse_as_of(as_of)))
