"""Assemble the report: validate-free computation of the summary and the sections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit.dataset import TABLE_NAMES, Dataset
from pipelinekit.metrics.abm import report_section as abm_section
from pipelinekit.metrics.activity import report_section as activity_section
from pipelinekit.metrics.allocation import report_section as allocation_section
from pipelinekit.metrics.assets import report_section as assets_section
from pipelinekit.metrics.cadence import report_section as cadence_section
from pipelinekit.metrics.campaigns import report_section as campaigns_section
from pipelinekit.metrics.funnel import report_section as funnel_section
from pipelinekit.metrics.mix import report_section as mix_section
from pipelinekit.metrics.pipeline import report_section as pipeline_section
from pipelinekit.metrics.queues import report_section as queues_section
from pipelinekit.periods import parse_as_of
from pipelinekit.reporting.model import Report, SectionBuilder
from pipelinekit.reporting.summary import summary

__all__ = ["SECTION_BUILDERS", "build_report", "latest_date"]

#: Section builders run by :func:`build_report`, in report order: each metric module's
#: ``report_section(dataset, as_of)``.
SECTION_BUILDERS: list[SectionBuilder] = [
    funnel_section,
    activity_section,
    cadence_section,
    queues_section,
    assets_section,
    allocation_section,
    mix_section,
    abm_section,
    campaigns_section,
    pipeline_section,
]

_EVENT_COLUMNS = {
    "leads": ("created_at",),
    "activities": ("occurred_at",),
    "opportunities": ("created_at", "validated_at", "closed_at"),
    "stage_changes": ("entered_at",),
}


def latest_date(dataset: Dataset) -> date | None:
    """Date of the latest event timestamp in the data (None if there is none)."""
    latest: datetime | None = None
    for table, columns in _EVENT_COLUMNS.items():
        frame = nw.from_native(dataset.table(table))
        names = set(frame.columns)
        present = [c for c in columns if c in names]
        if not present:
            continue
        lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
        row = lazy.select(*[nw.col(c).max() for c in present]).collect().rows()[0]
        for value in row:
            if value is not None and value == value and (latest is None or value > latest):
                latest = value
    return None if latest is None else latest.date()


def build_report(
    dataset: Dataset,
    *,
    as_of: date | datetime | str | None = None,
    sections: Sequence[SectionBuilder] | None = None,
    **summary_options: Any,
) -> Report:
    """Compute the KPI report of a (validated) dataset.

    Parameters
    ----------
    dataset
        Canonical tables; validate them first (``Dataset.validate``) for clear errors.
        pandas, pyarrow and DuckDB tables are converted to polars once, before the
        first section (when polars is installed), since every section reads them;
        polars and PySpark tables are used as given. The dataset is not changed.
    as_of
        Day the report is computed for. ``None`` uses the date of the latest
        timestamp in the data (never the system clock) and says so in the report.
    sections
        Section builders to run; default :data:`SECTION_BUILDERS`.
    summary_options
        Passed to :func:`~pipelinekit.reporting.summary.summary` (cadence and capacity
        settings, ``zero_division``).

    Examples
    --------
    >>> import pipelinekit as pk
    >>> rep = build_report(pk.sample_dataset())
    >>> rep.as_of_source
    'latest timestamp in the data'
    """
    if as_of is None:
        day = latest_date(dataset)
        if day is None:
            from pipelinekit.errors import ConfigError

            raise ConfigError("as_of: the data has no timestamps; pass as_of explicitly")
        source = "latest timestamp in the data"
    else:
        day = parse_as_of(as_of)
        source = "given"
    builders = SECTION_BUILDERS if sections is None else sections
    # pandas, pyarrow and DuckDB tables are converted to polars once for all sections
    dataset = attrs.evolve(dataset, **engine.working_tables(_given_tables(dataset)))
    return Report(
        as_of=day,
        as_of_source=source,
        tz=dataset.tz,
        summary=summary(dataset, as_of=day, **summary_options),
        sections=tuple(b(dataset, day) for b in builders),
        warnings=tuple(p.message for p in dataset.warnings),
    )


def _given_tables(dataset: Dataset) -> dict[str, Any]:
    """The tables the dataset was given (absent ones stay ``None``)."""
    return {name: getattr(dataset, name) for name in TABLE_NAMES}
