"""Assemble the report: the summary and the sections, each fact computed once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit.dataset import TABLE_NAMES, Dataset
from pipelinekit.errors import ConfigError
from pipelinekit.periods import parse_as_of
from pipelinekit.reporting.availability import data_gaps
from pipelinekit.reporting.context import SectionContext
from pipelinekit.reporting.model import Report, Section
from pipelinekit.reporting.sections import SECTIONS
from pipelinekit.reporting.summary import summary
from pipelinekit.types import AsOf

__all__ = ["SECTION_KEYS", "build_report", "latest_date"]

#: Every part of the report in order: the summary, then the sections.
SECTION_KEYS: tuple[str, ...] = ("summary", *SECTIONS)

_EVENT_COLUMNS = {
    "leads": ("created_at",),
    "activities": ("occurred_at",),
    "opportunities": ("created_at", "validated_at", "closed_at"),
    "stage_changes": ("entered_at",),
}

#: Called with (step, done, total) before each part of the report is computed.
Progress = Callable[[str, int, int], None]


def latest_date(dataset: Dataset) -> date | None:
    """Date of the latest event timestamp in the data (``None`` if there is none).

    The report's default ``as_of``: never the system clock, so a re-run on the same
    data gives the same numbers.

    >>> import pipelinekit as pk
    >>> pk.latest_date(pk.sample_dataset())
    datetime.date(2025, 12, 31)
    """
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


def check_sections(sections: Sequence[str] | str | None) -> tuple[str, ...]:
    """The report parts to compute, in report order (``None``: all of them).

    >>> check_sections("funnel,summary")
    ('summary', 'funnel')
    """
    if sections is None:
        return SECTION_KEYS
    names = (
        [s.strip() for s in sections.split(",")] if isinstance(sections, str) else list(sections)
    )
    unknown = [n for n in names if n not in SECTION_KEYS]
    if unknown or not names:
        raise ConfigError(
            f"sections: unknown section(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(SECTION_KEYS)}"
        )
    return tuple(k for k in SECTION_KEYS if k in names)


def build_report(
    dataset: Dataset,
    *,
    as_of: AsOf | None = None,
    sections: Sequence[str] | str | None = None,
    progress: Progress | None = None,
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
        The parts to compute: ``"summary"`` and section keys (:data:`SECTION_KEYS`),
        as a sequence or a comma-separated string; ``None`` (default) computes all.
        Only what is asked is computed.
    progress
        Called with ``(part, done, total)`` before each part is computed.
    summary_options
        Passed to :func:`~pipelinekit.reporting.summary.summary` (cadence and capacity
        settings, ``zero_division``).

    Examples
    --------
    >>> import pipelinekit as pk
    >>> rep = build_report(pk.sample_dataset(), sections="summary,funnel")
    >>> rep.as_of_source, [s.key for s in rep.sections]
    ('latest timestamp in the data', ['funnel'])
    """
    parts = check_sections(sections)
    if as_of is None:
        day = latest_date(dataset)
        if day is None:
            raise ConfigError("as_of: the data has no timestamps; pass as_of explicitly")
        source = "latest timestamp in the data"
    else:
        day = parse_as_of(as_of)
        source = "given"
    # pandas, pyarrow and DuckDB tables are converted to polars once for all sections
    working = attrs.evolve(dataset, **engine.working_tables(_given_tables(dataset)))
    context = SectionContext.build(working, day)
    built: list[Section] = []
    result_summary: dict[str, Any] = {}
    gaps = context.gaps
    if "capacity_bands" in summary_options:
        gaps = data_gaps(context.tables, capacity_bands=summary_options["capacity_bands"])
    for done, key in enumerate(parts):
        if progress is not None:
            progress(key, done, len(parts))
        if key == "summary":
            result_summary = summary(
                working, as_of=day, facts=context.facts, gaps=gaps, **summary_options
            )
        else:
            built.append(SECTIONS[key](context))
    if progress is not None:
        progress("done", len(parts), len(parts))
    return Report(
        as_of=day,
        as_of_source=source,
        tz=dataset.tz,
        summary=result_summary,
        sections=tuple(built),
        warnings=tuple(p.message for p in dataset.warnings),
        data_warnings=gaps.notes,
    )


def _given_tables(dataset: Dataset) -> dict[str, Any]:
    """The tables the dataset was given (absent ones stay ``None``)."""
    return {name: getattr(dataset, name) for name in TABLE_NAMES}
