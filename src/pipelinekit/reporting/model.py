"""The report as a Python object: summary KPIs plus titled sections of tidy tables."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pandas as pd

from pipelinekit.rates import Rate
from pipelinekit.reporting.notes import Note

if TYPE_CHECKING:
    from pipelinekit.glossary import Lang

__all__ = ["CHART_KINDS", "Chart", "Note", "Report", "Section", "SectionBuilder"]

REPORT_SCHEMA_VERSION = 1


ChartKind = Literal["bar", "hbar", "stacked_bar", "line", "heatmap", "funnel", "waterfall"]

#: The chart kinds the html renderer draws.
CHART_KINDS: tuple[ChartKind, ...] = (
    "bar",
    "hbar",
    "stacked_bar",
    "line",
    "heatmap",
    "funnel",
    "waterfall",
)


def _y_columns(value: str | Sequence[str]) -> str | tuple[str, ...]:
    if isinstance(value, str):
        return value
    columns = tuple(value)
    return columns[0] if len(columns) == 1 else columns


def _check_kind(instance: Chart, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in CHART_KINDS:
        from pipelinekit.errors import ConfigError

        raise ConfigError(f"Chart.kind: expected one of {list(CHART_KINDS)}, got {value!r}")


@attrs.frozen(kw_only=True)
class Chart:
    """How to draw one of a section's tables (the html report draws it as inline SVG).

    ``table`` names a table of the section. ``x`` is the category (or period) column:
    the bars of ``bar``/``stacked_bar``, the rows of ``hbar``, the stages of ``funnel``,
    the points of ``line``, the columns of a ``heatmap``, the steps of a ``waterfall``
    (first and last rows totals, the rows between signed changes). ``y`` is the
    measured column;
    several columns (a tuple) draw one series each from a wide table, while ``series``
    names a column that splits a long table into series (grouped bars, stacked bars,
    lines). For a ``heatmap`` ``y`` is the row column and ``value`` colours the cells.
    ``reference`` is a column drawn as a dashed target per x (e.g. capacity); bars above
    it are highlighted. ``percent`` formats values as percentages. When ``y`` is
    ``rate`` or ``<name>_rate`` and the table has ``ci_low``/``ci_high`` (or
    ``<name>_ci_low``/``<name>_ci_high``), the 95% interval is drawn too.

    Examples
    --------
    >>> Chart(kind="bar", table="load", x="rep_id", y="sql_count", reference="capacity").y
    'sql_count'
    >>> Chart(kind="line", table="t", x="period", y=["a", "b"]).y_columns
    ('a', 'b')
    """

    kind: ChartKind = attrs.field(validator=_check_kind)
    table: str
    x: str
    y: str | tuple[str, ...] = attrs.field(converter=_y_columns)
    title: str = ""
    series: str | None = None
    reference: str | None = None
    value: str | None = None
    percent: bool = False

    @property
    def y_columns(self) -> tuple[str, ...]:
        """``y`` as a tuple of column names."""
        return (self.y,) if isinstance(self.y, str) else self.y


@attrs.frozen(kw_only=True, eq=False)
class Section:
    """One report section: a key, a title, named tidy tables (pandas), notes and charts.

    ``notes`` are :class:`~pipelinekit.reporting.notes.Note` objects (a glossary key
    and its values), rendered in the report's language.
    """

    key: str
    title: str
    tables: dict[str, pd.DataFrame] = attrs.field(factory=dict)
    notes: tuple[Note, ...] = ()
    charts: tuple[Chart, ...] = ()

    def note_texts(self, lang: Lang = "en") -> list[str]:
        """The section's notes as text in ``lang``."""
        return [note.text(lang) for note in self.notes]


#: A section builder takes the validated dataset and the as_of day.
SectionBuilder = Callable[[Any, date], Section]


@attrs.frozen(kw_only=True, eq=False)
class Report:
    """The KPI report of one dataset as of one day.

    ``summary`` maps the DESIGN section 4 keys to numbers and :class:`Rate` objects,
    or ``None`` for a KPI the data cannot answer (not available: its input table is
    absent or empty, or its defining column empty in every row; null in JSON, ``n/a``
    in the renderings); ``sections`` hold the detailed tables. ``warnings`` are the
    input's warnings (from validation); ``data_warnings`` say, as notes in the report's
    language, which KPIs are not available and why. Render with :meth:`to_json`,
    :meth:`to_text`, :meth:`to_markdown` or :meth:`to_html` (``lang="ja"`` for
    Japanese labels); in Jupyter the report displays itself as html.
    """

    as_of: date
    as_of_source: str
    tz: str
    summary: dict[str, Rate | int | float | None]
    sections: tuple[Section, ...] = ()
    warnings: tuple[str, ...] = ()
    data_warnings: tuple[Note, ...] = ()

    def warning_texts(self, lang: Lang = "en") -> list[str]:
        """The input warnings, then the data warnings in ``lang``."""
        return [*self.warnings, *(note.text(lang) for note in self.data_warnings)]

    def to_dict(self, *, lang: Lang | None = None) -> dict[str, Any]:
        """A JSON-ready dictionary (NaN as None) with a stable layout.

        Keys are always English; with ``lang`` a ``labels`` object maps the summary
        keys, section keys, table names and column names to display labels in that
        language.
        """
        doc: dict[str, Any] = {
            "schema_version": REPORT_SCHEMA_VERSION,
            "as_of": self.as_of.isoformat(),
            "as_of_source": self.as_of_source,
            "tz": self.tz,
            "summary": {k: _json_value(v) for k, v in self.summary.items()},
            "sections": {
                s.key: {
                    "title": s.title,
                    "notes": s.note_texts(),
                    "tables": {name: _records(frame) for name, frame in s.tables.items()},
                }
                for s in self.sections
            },
            "warnings": self.warning_texts(),
        }
        if lang is not None:
            from pipelinekit.glossary import check_lang, report_labels

            doc["labels"] = report_labels(
                check_lang(lang),
                summary_keys=self.summary,
                sections=[
                    (s.key, s.title, {n: [str(c) for c in f.columns] for n, f in s.tables.items()})
                    for s in self.sections
                ],
            )
        return doc

    def summary_frame(self, *, lang: Lang = "en") -> pd.DataFrame:
        """The summary as a tidy table: one row per KPI, in report order.

        Columns: ``key``, ``label`` (in ``lang``), ``value``, ``numerator``,
        ``denominator``, ``ci_low``, ``ci_high``. Rates fill every column (an
        undefined rate has a NaN value and its counts); counts and amounts fill
        ``value`` only; a KPI that is not available is NaN in every column.

        >>> import pipelinekit as pk
        >>> frame = pk.report(pk.sample_dataset(), sections="summary").summary_frame()
        >>> list(frame.columns)
        ['key', 'label', 'value', 'numerator', 'denominator', 'ci_low', 'ci_high']
        >>> row = frame.set_index("key").loc["win_rate"]
        >>> bool(row["value"] == row["numerator"] / row["denominator"])
        True
        """
        from pipelinekit.glossary import check_lang, label

        lang = check_lang(lang)
        nan = float("nan")
        rows = []
        for key, item in self.summary.items():
            if isinstance(item, Rate):
                numbers = (item.value, item.numerator, item.denominator, item.ci_low, item.ci_high)
            elif item is None:
                numbers = (nan, nan, nan, nan, nan)
            else:
                numbers = (float(item), nan, nan, nan, nan)
            rows.append((key, label(key, lang), *numbers))
        columns = ["key", "label", "value", "numerator", "denominator", "ci_low", "ci_high"]
        return pd.DataFrame(rows, columns=columns).astype(dict.fromkeys(columns[2:], "float64"))

    def to_json(self, *, indent: int | None = 2, lang: Lang | None = None) -> str:
        """The report as JSON text (deterministic: same data -> same bytes).

        ``lang`` adds the ``labels`` object (see :meth:`to_dict`).
        """
        return json.dumps(
            self.to_dict(lang=lang), indent=indent, ensure_ascii=False, allow_nan=False
        )

    def to_text(self, *, lang: Lang = "en") -> str:
        """A plain-text rendering (fixed-width tables) with labels in ``lang``."""
        from pipelinekit.reporting.render import render_text

        return render_text(self, lang=lang)

    def to_markdown(self, *, lang: Lang = "en") -> str:
        """A Markdown rendering with labels in ``lang``."""
        from pipelinekit.reporting.render import render_markdown

        return render_markdown(self, lang=lang)

    def to_html(self, *, lang: Lang = "en") -> str:
        """One self-contained html page: KPI cards, then each section's notes, charts
        (inline SVG) and tables. Nothing is loaded from the network when viewed."""
        from pipelinekit.reporting.html import render_html

        return render_html(self, lang=lang)

    def _repr_html_(self) -> str:
        """Rich display in Jupyter: the html report as a fragment (scoped styles)."""
        from pipelinekit.reporting.html import render_html_fragment

        return render_html_fragment(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def section(self, key: str) -> Section:
        """The section called ``key``."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; have {[s.key for s in self.sections]}")


def _json_value(value: Any) -> Any:
    if isinstance(value, Rate):
        return {k: _json_float(v) for k, v in value.to_dict().items()}
    return _json_float(_cell(value))


def _json_float(value: Any) -> Any:
    # 12 significant digits: engines that sum in parallel differ in the last bits of a
    # float from run to run; the JSON must not (same data -> same bytes).
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _json_float(_cell(v)) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return _cell(value.item())
    return value


_PERCENT_NAMES = frozenset(
    {"rate", "share", "ci_low", "ci_high", "load", "utilization"}
    | {"p_win", "p_lost", "p_unresolved", "crm_probability", "gap"}
)
_PERCENT_SUFFIXES = ("_rate", "_share", "_ci_low", "_ci_high", "_coverage")


def is_percent_column(name: str) -> bool:
    """Whether a column holds a proportion shown as a percentage (``rate``, ``*_share``…).

    >>> is_percent_column("step_rate"), is_percent_column("sql_count")
    (True, False)
    """
    return name in _PERCENT_NAMES or name.endswith(_PERCENT_SUFFIXES)


def format_number(
    value: Any, *, percent: bool = False, compact: bool = False, lang: Lang = "en"
) -> str:
    """A number for people: ``12.4%``, ``1,234``, ``0.523``; ``compact`` gives ``77.7M``
    (``7,774万`` in Japanese); missing and non-finite values give ``n/a``.

    >>> format_number(0.12345, percent=True), format_number(1234567.0), format_number(None)
    ('12.3%', '1,234,567', 'n/a')
    >>> format_number(77739000.0, compact=True), format_number(77739000.0, compact=True, lang="ja")
    ('77.7M', '7,774万')
    """
    value = _cell(value)
    if value is None or isinstance(value, str):
        return "n/a" if value is None else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if percent:
        return f"{value:.1%}"
    if compact:
        return _compact(float(value), lang)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _compact(value: float, lang: Lang) -> str:
    units = ((1e8, "億"), (1e4, "万")) if lang == "ja" else ((1e9, "B"), (1e6, "M"), (1e3, "k"))
    for unit, name in units:
        if abs(value) >= unit:
            scaled = value / unit
            if abs(scaled) >= 100:
                return f"{scaled:,.0f}{name}"
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + name
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_cell(value: Any, column: str = "", lang: Lang = "en") -> str:
    """Format one table cell for display: proportions of percent columns as ``12.4%``,
    ints with separators, midnight times as dates, missing as ``n/a``; category values
    of known columns (stage, origin, queue, weekday…) get their glossary label.

    >>> format_cell(0.25, "rate"), format_cell(pd.Timestamp("2025-01-01")), format_cell(None)
    ('25.0%', '2025-01-01', 'n/a')
    >>> format_cell("valid", "stage", "ja")
    '有効商談'
    """
    if value is pd.NaT:
        return "n/a"
    if isinstance(value, (pd.Timestamp, datetime)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    cell = _cell(value)
    from pipelinekit.glossary import VALUE_COLUMNS, value_label

    if column in VALUE_COLUMNS and isinstance(cell, (str, int)) and not isinstance(cell, bool):
        return value_label(column, cell, lang)
    return format_number(cell, percent=is_percent_column(column))


def plain_rows(frame: pd.DataFrame, lang: Lang = "en") -> Sequence[Sequence[str]]:
    """Frame cells formatted as short strings (see :func:`format_cell`)."""
    columns = [str(c) for c in frame.columns]
    return [
        [format_cell(v, c, lang) for v, c in zip(row, columns, strict=True)]
        for row in frame.itertuples(index=False)
    ]
