"""The report as a Python object: summary KPIs plus titled sections of tidy tables."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal

import attrs
import pandas as pd

from pipelinekit.rates import Rate

__all__ = ["Chart", "Report", "Section", "SectionBuilder"]

REPORT_SCHEMA_VERSION = 1


ChartKind = Literal["bar", "hbar", "stacked_bar", "line", "heatmap", "funnel"]


@attrs.frozen(kw_only=True)
class Chart:
    """How to draw one of a section's tables (renderers that can draw use it).

    ``table`` names a table of the section; ``x``/``y`` are its columns, ``series``
    splits lines or stacked bars, ``reference`` is a column drawn as a target line
    (e.g. capacity), ``value`` colours heatmap cells.
    """

    kind: ChartKind
    table: str
    x: str
    y: str
    title: str = ""
    series: str | None = None
    reference: str | None = None
    value: str | None = None
    percent: bool = False


@attrs.frozen(kw_only=True, eq=False)
class Section:
    """One report section: a key, a title, named tidy tables (pandas) and charts."""

    key: str
    title: str
    tables: dict[str, pd.DataFrame] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()
    charts: tuple[Chart, ...] = ()


#: A section builder takes the validated dataset and the as_of day.
SectionBuilder = Callable[[Any, date], Section]


@attrs.frozen(kw_only=True, eq=False)
class Report:
    """The KPI report of one dataset as of one day.

    ``summary`` maps the DESIGN section 4 keys to numbers and :class:`Rate` objects;
    ``sections`` hold the detailed tables. Render with :meth:`to_json`,
    :meth:`to_text` or :meth:`to_markdown`.
    """

    as_of: date
    as_of_source: str
    tz: str
    summary: dict[str, Rate | int | float]
    sections: tuple[Section, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (NaN as None) with a stable layout."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "as_of": self.as_of.isoformat(),
            "as_of_source": self.as_of_source,
            "tz": self.tz,
            "summary": {k: _json_value(v) for k, v in self.summary.items()},
            "sections": {
                s.key: {
                    "title": s.title,
                    "notes": list(s.notes),
                    "tables": {name: _records(frame) for name, frame in s.tables.items()},
                }
                for s in self.sections
            },
            "warnings": list(self.warnings),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (deterministic: same data -> same bytes)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_text(self) -> str:
        """A plain-text rendering (fixed-width tables)."""
        from pipelinekit.reporting.render import render_text

        return render_text(self)

    def to_markdown(self) -> str:
        """A Markdown rendering."""
        from pipelinekit.reporting.render import render_markdown

        return render_markdown(self)

    def section(self, key: str) -> Section:
        """The section called ``key``."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; have {[s.key for s in self.sections]}")


def _json_value(value: Any) -> Any:
    if isinstance(value, Rate):
        return value.to_dict()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _cell(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return _cell(value.item())
    return value


def plain_rows(frame: pd.DataFrame) -> Sequence[Sequence[str]]:
    """Frame cells formatted as short strings for text and markdown tables."""
    return [[format_cell(v) for v in row] for row in frame.itertuples(index=False)]


def format_cell(value: Any) -> str:
    """Format one table cell: ints plain, floats 4 significant, times ISO."""
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
