"""The report's charts as inline SVG, drawn in Python (no JavaScript, no network).

:func:`render_chart` draws one :class:`~pipelinekit.reporting.model.Chart` of a
section table: ``bar`` (grouped when there are several series), ``hbar`` (one row
per category, for long labels), ``stacked_bar``, ``line``, ``heatmap``, ``funnel`` and
``waterfall`` (the first and last rows are totals from zero, the rows between signed
steps from the running total: increases green, decreases in the accent colour).
Every chart has axes or labels, a legend when there is more than one thing to tell
apart, a tooltip on every mark (an SVG ``<title>``: exact value, numerator /
denominator and interval when the table has them) and the Okabe-Ito colour-blind-safe
palette; heatmaps use the viridis scale. A ``reference`` column is drawn as a dashed
target and bars above it are highlighted; ``y = "rate"`` (or ``"<name>_rate"``) draws
the 95% interval from ``ci_low``/``ci_high`` (or ``<name>_ci_low``/``<name>_ci_high``).

Examples
--------
>>> import pandas as pd
>>> from pipelinekit.reporting.model import Chart
>>> table = pd.DataFrame({"rep_id": ["a", "b"], "sql_count": [5, 9], "capacity": [6, 6]})
>>> svg = render_chart(Chart(kind="bar", table="load", x="rep_id", y="sql_count",
...                          reference="capacity"), table)
>>> svg.startswith("<svg"), svg.count("<rect class=\\"pk-mark\\"")
(True, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

import attrs
import pandas as pd

from pipelinekit.glossary import Lang, column_label, ui, value_label
from pipelinekit.reporting.model import Chart, format_number

__all__ = ["ACCENT", "PALETTE", "VIRIDIS", "render_chart"]

#: Okabe-Ito palette (colour-blind safe), in series order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
#: Highlight for values above their reference and for the funnel's lowest step.
ACCENT = "#D55E00"
#: Viridis, 9 stops from low to high (perceptually uniform, colour-blind safe).
VIRIDIS = (
    "#440154",
    "#472d7b",
    "#3b528b",
    "#2c728e",
    "#21918c",
    "#28ae80",
    "#5ec962",
    "#addc30",
    "#fde725",
)
_INK = "#1f2933"
_MUTED = "#66727f"
_GRID = "#e3e7ec"
_REFERENCE = "#222222"
_DASH: dict[str, Any] = {"stroke_width": 2, "stroke_dasharray": "5 3"}
_FONT = 12
_WIDTH = 640


# ---------------------------------------------------------------------------- data


@attrs.frozen
class _Series:
    name: str
    color: str
    values: list[float | None]
    low: list[float | None] | None
    high: list[float | None] | None
    rows: list[dict[str, Any] | None]


@attrs.frozen
class _Data:
    chart: Chart
    lang: Lang
    categories: list[Any]
    labels: list[str]
    series: list[_Series]
    reference: list[float | None] | None

    def fmt(self, value: float | None, *, compact: bool = False) -> str:
        return format_number(value, percent=self.chart.percent, compact=compact, lang=self.lang)


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value != value


def _ordered(values: Sequence[Any]) -> list[Any]:
    """Distinct values: sorted when numbers or times, else in order of appearance."""
    seen: dict[Any, None] = {}
    for value in values:
        seen.setdefault(None if _is_missing(value) else value, None)
    keys = list(seen)
    present = [k for k in keys if k is not None]
    numeric = all(isinstance(k, (int, float)) and not isinstance(k, bool) for k in present)
    timely = all(isinstance(k, (datetime, date)) for k in present)
    if present and (numeric or timely):
        keys = sorted(present) + ([None] if None in seen else [])
    return keys


def _period_format(values: Sequence[Any]) -> str:
    stamps = [v for v in values if isinstance(v, datetime)]
    if stamps and all(v.time() == datetime.min.time() for v in stamps):
        if all((v.month, v.day) == (1, 1) for v in stamps):
            return "%Y"
        if all(v.day == 1 for v in stamps):
            return "%Y-%m"
        return "%Y-%m-%d"
    return "%Y-%m-%d %H:%M"


def _category_label(column: str, value: Any, lang: Lang, period_format: str) -> str:
    if value is None:
        return ui("na", lang)
    if isinstance(value, datetime):
        return value.strftime(period_format)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value_label(column, value, lang)


def _ci_columns(y: str, columns: Sequence[str]) -> tuple[str, str] | None:
    if y != "rate" and not y.endswith("_rate"):
        return None
    base = y[: -len("rate")]
    low, high = f"{base}ci_low", f"{base}ci_high"
    return (low, high) if low in columns and high in columns else None


def _check_columns(chart: Chart, table: pd.DataFrame) -> None:
    have = [str(c) for c in table.columns]
    needed = [chart.x, *chart.y_columns, chart.series, chart.reference, chart.value]
    if chart.kind == "heatmap" and chart.value is None:
        _fail(chart, "a heatmap needs value= (the column that colours the cells)")
    if chart.kind in ("heatmap", "funnel", "waterfall") and len(chart.y_columns) > 1:
        _fail(chart, f"a {chart.kind} takes one y column")
    if chart.kind == "waterfall" and (chart.series is not None or chart.reference is not None):
        _fail(chart, "a waterfall has no series and no reference")
    if chart.series is not None and len(chart.y_columns) > 1:
        _fail(chart, "give either several y columns or series=, not both")
    if chart.kind == "funnel" and chart.series is not None:
        _fail(chart, "a funnel has no series")
    for column in needed:
        if column is not None and column not in have:
            _fail(chart, f"no column {column!r}; the table has {have}")


def _fail(chart: Chart, message: str) -> None:
    from pipelinekit.errors import ConfigError

    raise ConfigError(f"chart {chart.title or chart.kind!r} of table {chart.table!r}: {message}")


def _prepare(chart: Chart, table: pd.DataFrame, lang: Lang) -> _Data:
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]
    categories = _ordered([r[chart.x] for r in records])
    fmt = _period_format(categories)
    labels = [_category_label(chart.x, c, lang, fmt) for c in categories]
    index = {c: i for i, c in enumerate(categories)}

    def key(row: dict[str, Any]) -> Any:
        value = row[chart.x]
        return None if _is_missing(value) else value

    def build(name: str, color: str, y: str, rows: list[dict[str, Any]]) -> _Series:
        values: list[float | None] = [None] * len(categories)
        placed: list[dict[str, Any] | None] = [None] * len(categories)
        ci = _ci_columns(y, list(rows[0]) if rows else [])
        low: list[float | None] | None = [None] * len(categories) if ci else None
        high: list[float | None] | None = [None] * len(categories) if ci else None
        for row in rows:
            i = index[key(row)]
            if placed[i] is not None:
                continue  # the first row of an (x, series) pair wins
            values[i], placed[i] = _num(row[y]), row
            if ci and low is not None and high is not None:
                low[i], high[i] = _num(row[ci[0]]), _num(row[ci[1]])
        return _Series(name, color, values, low, high, placed)

    series: list[_Series] = []
    if chart.series is not None:
        names = _ordered([r[chart.series] for r in records])
        for n, name in enumerate(names):
            rows = [
                r
                for r in records
                if (None if _is_missing(r[chart.series]) else r[chart.series]) == name
            ]
            text = _category_label(chart.series, name, lang, _period_format(names))
            series.append(build(text, PALETTE[n % len(PALETTE)], chart.y_columns[0], rows))
    else:
        for n, y in enumerate(chart.y_columns):
            series.append(build(column_label(y, lang), PALETTE[n % len(PALETTE)], y, records))
    reference: list[float | None] | None = None
    if chart.reference is not None:
        reference = [None] * len(categories)
        for row in records:
            i = index[key(row)]
            if reference[i] is None:
                reference[i] = _num(row[chart.reference])
    return _Data(chart, lang, categories, labels, series, reference)


# ----------------------------------------------------------------------------- svg


def _attrs(**values: Any) -> str:
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return " ".join(parts)


def _el(tag: str, inner: str = "", **values: Any) -> str:
    """An SVG element; ``inner`` is already-escaped markup (e.g. a ``<title>``)."""
    return f"<{tag} {_attrs(**values)}>{inner}</{tag}>" if inner else f"<{tag} {_attrs(**values)}/>"


def _text(x: float, y: float, content: str, **extra: Any) -> str:
    extra.setdefault("font_size", _FONT)
    extra.setdefault("fill", _INK)
    return f"<text {_attrs(x=x, y=y, **extra)}>{escape(content)}</text>"


def _tip(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _text_width(text: str, size: float = _FONT) -> float:
    import unicodedata

    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (0.58 * (len(text) - wide) + 1.0 * wide)


def _truncate(text: str, width: float, size: float = _FONT) -> str:
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _svg(chart: Chart, width: float, height: float, body: list[str], lang: Lang) -> str:
    title = chart.title or column_label(chart.y_columns[0], lang)
    head = _attrs(
        viewBox=f"0 0 {width:.0f} {height:.0f}",
        width=f"{width:.0f}",
        height=f"{height:.0f}",
        role="img",
        aria_label=title,
        class_="pk-chart",
        data_kind=chart.kind,
        font_family="system-ui, -apple-system, 'Segoe UI', 'Hiragino Sans', 'Noto Sans CJK JP', "
        "Meiryo, sans-serif",
    )
    return f"<svg {head}>{_tip(title)}{''.join(body)}</svg>"


def _empty(chart: Chart, lang: Lang) -> str:
    body = [_text(_WIDTH / 2, 40, ui("no_data", lang), text_anchor="middle", fill=_MUTED)]
    return _svg(chart, _WIDTH, 70, body, lang)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    magnitude = math.pow(10.0, math.floor(math.log10(raw)))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: Sequence[float], *, zero: bool = True) -> tuple[float, float, list[float]]:
    """A nice axis range covering ``values`` and its ticks."""
    low = min([*values, 0.0] if zero else values)
    high = max([*values, 0.0] if zero else values)
    if high == low:
        high = low + (1.0 if low == 0 else abs(low))
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    count = round((stop - start) / step)
    return start, stop, [start + i * step for i in range(count + 1)]


def _tick_label(data: _Data, value: float, step: float) -> str:
    if data.chart.percent:
        return f"{value:.0%}" if step >= 0.01 else f"{value:.1%}"
    return format_number(value, compact=True, lang=data.lang)


def _tooltip(data: _Data, i: int, series: _Series, value: float | None) -> str:
    chart = data.chart
    parts = [data.labels[i]]
    if len(data.series) > 1:
        parts.append(series.name)
    text = " · ".join(parts) + f": {data.fmt(value)}"
    row = series.rows[i]
    if row is not None and _num(row.get("denominator")) is not None:
        text += f" ({format_number(row['numerator'])} / {format_number(row['denominator'])})"
    if series.low is not None and series.high is not None:
        low, high = series.low[i], series.high[i]
        if low is not None and high is not None:
            text += f", {ui('ci', data.lang)} {data.fmt(low)}–{data.fmt(high)}"
    if data.reference is not None and chart.reference is not None:
        text += f"; {column_label(chart.reference, data.lang)} {data.fmt(data.reference[i])}"
    return text


def _legend(items: list[tuple[str, str]], x: float, y: float, width: float) -> list[str]:
    """Legend swatches in a row (wrapping); ``kind`` is a colour, ``dash`` or ``ci``."""
    out, cx, cy = [], x, y
    for name, kind in items:
        w = 18 + _text_width(name) + 16
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        if kind == "dash":
            out.append(
                _el("line", x1=cx, y1=cy - 4, x2=cx + 14, y2=cy - 4, stroke=_REFERENCE, **_DASH)
            )
        elif kind == "ci":
            out.append(_whisker(cy - 10, cy + 2, cx + 7, horizontal=False, cls=None))
        else:
            out.append(_el("rect", x=cx, y=cy - 10, width=14, height=12, rx=2, fill=kind))
        out.append(_text(cx + 18, cy, name, fill=_MUTED))
        cx += w
    return out


def _legend_items(data: _Data, *, above: bool) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if len(data.series) > 1:
        items += [(s.name, s.color) for s in data.series]
    if data.reference is not None and data.chart.reference is not None:
        ref = column_label(data.chart.reference, data.lang)
        items.append((ref, "dash"))
        if above:
            items.append((ui("above", data.lang, name=ref), ACCENT))
    if any(s.low is not None for s in data.series) and data.chart.kind != "line":
        items.append((ui("ci", data.lang), "ci"))
    return items


def _legend_height(items: list[tuple[str, str]], width: float) -> float:
    if not items:
        return 8.0
    rows, cx = 1, 0.0
    for name, _ in items:
        w = 18 + _text_width(name) + 16
        if cx + w > width and cx > 0:
            rows, cx = rows + 1, 0.0
        cx += w
    return 8.0 + 18 * rows


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _all_values(data: _Data, *, stacked: bool = False) -> list[float]:
    if stacked:
        n = len(data.categories)
        totals = [sum(max(s.values[i] or 0.0, 0.0) for s in data.series) for i in range(n)]
        return totals
    values: list[float] = []
    for s in data.series:
        values += _finite(s.values)
        if s.high is not None:
            values += _finite(s.high)
        if s.low is not None:
            values += _finite(s.low)
    if data.reference is not None:
        values += _finite(data.reference)
    return values


# ---------------------------------------------------------------------------- bars


def _above(data: _Data, i: int, value: float | None) -> bool:
    if data.reference is None or value is None or len(data.series) > 1:
        return False
    ref = data.reference[i]
    return ref is not None and value > ref


def _bars(data: _Data, *, horizontal: bool, stacked: bool) -> str:
    n, k = len(data.categories), len(data.series)
    values = _all_values(data, stacked=stacked)
    if not values:
        return _empty(data.chart, data.lang)
    lo, hi, ticks = _scale(values)
    above_any = any(_above(data, i, data.series[0].values[i]) for i in range(n))
    items = _legend_items(data, above=above_any)
    legend_h = _legend_height(items, _WIDTH - 20)
    show_values = n * (1 if stacked else k) <= (30 if horizontal else 16)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    body: list[str] = []
    if horizontal:
        label_w = min(max(_text_width(s) for s in data.labels) + 12, 230)
        left, right = 10 + label_w, 64.0
        band = 16.0 * (1 if stacked else k) + 10
        top, plot_h = legend_h + 4, band * n
        height = top + plot_h + 28
        plot_w = _WIDTH - left - right

        def pos(v: float) -> float:
            return left + (v - lo) / (hi - lo) * plot_w

        for t in ticks:
            body.append(_el("line", x1=pos(t), y1=top, x2=pos(t), y2=top + plot_h, stroke=_GRID))
            body.append(
                _text(
                    pos(t),
                    top + plot_h + 16,
                    _tick_label(data, t, step),
                    text_anchor="middle",
                    fill=_MUTED,
                    font_size=11,
                )
            )
        for i, name in enumerate(data.labels):
            y0 = top + i * band + 5
            body.append(
                _text(
                    left - 8,
                    y0 + (band - 10) / 2 + 4,
                    _truncate(name, label_w - 8),
                    text_anchor="end",
                )
                + (_tip(name) if _truncate(name, label_w - 8) != name else "")
            )
            body += _bar_marks(
                data,
                i,
                y0,
                band - 10,
                pos,
                horizontal=True,
                stacked=stacked,
                show_values=show_values,
            )
        body.append(_el("line", x1=pos(0), y1=top, x2=pos(0), y2=top + plot_h, stroke=_MUTED))
    else:
        axes, grid = _vertical_axes(data, lo, hi, ticks, legend_h)
        body += grid
        height = axes.height
        # value labels above the bars: all of them or none (when one would not fit)
        thick = axes.slot * 0.72 / (1 if stacked else k)
        shown = [data.fmt(v, compact=True) for s in data.series for v in _finite(s.values)]
        widest = max((_text_width(t, 11) for t in shown), default=0.0)
        show_values = show_values and (stacked or widest <= thick - 2)
        for i in range(n):
            group = axes.slot * 0.72
            start = axes.left + i * axes.slot + (axes.slot - group) / 2
            body += _bar_marks(
                data,
                i,
                start,
                group,
                axes.y,
                horizontal=False,
                stacked=stacked,
                show_values=show_values,
            )
        body.append(
            _el("line", x1=axes.left, y1=axes.y(0), x2=axes.right, y2=axes.y(0), stroke=_MUTED)
        )
    body += _legend(items, 10, 14, _WIDTH - 20)
    return _svg(data.chart, _WIDTH, height, body, data.lang)


@attrs.frozen
class _Axes:
    """A vertical plot area: categories in equal slots along x, a linear y scale."""

    left: float
    top: float
    width: float
    plot_h: float
    lo: float
    hi: float
    slot: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    def x(self, i: int) -> float:
        return self.left + self.slot * (i + 0.5)

    def y(self, value: float) -> float:
        return self.top + self.plot_h - (value - self.lo) / (self.hi - self.lo) * self.plot_h


def _vertical_axes(
    data: _Data, lo: float, hi: float, ticks: list[float], legend_h: float
) -> tuple[_Axes, list[str]]:
    """The axes of a vertical chart and their grid, tick and category labels.

    Category labels stay flat when they fit; periods and numbers that do not fit are
    thinned out, other labels truncated to their slot or, in narrow slots, slanted.
    """
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    tick_labels = [_tick_label(data, t, step) for t in ticks]
    left = max(_text_width(t, 11) for t in tick_labels) + 16
    top, plot_h = legend_h + 10, 200.0
    width = _WIDTH - left - 14
    slot = width / len(data.labels)
    widest = max(_text_width(s, 11) for s in data.labels)
    ordered = all(isinstance(c, (int, float, date)) for c in data.categories if c is not None)
    slant = widest > slot - 4 and not ordered and slot < 48
    every = 1
    if slant:
        every = max(1, math.ceil(14 / slot))
    elif widest > slot - 4 and ordered:
        every = max(1, math.ceil((widest + 8) / slot))
    bottom = 26 + (min(widest, 90) * 0.6 if slant else 0)
    axes = _Axes(left, top, width, plot_h, lo, hi, slot, top + plot_h + bottom)
    out: list[str] = []
    for t, text in zip(ticks, tick_labels, strict=True):
        out.append(_el("line", x1=left, y1=axes.y(t), x2=axes.right, y2=axes.y(t), stroke=_GRID))
        out.append(
            _text(left - 6, axes.y(t) + 4, text, text_anchor="end", fill=_MUTED, font_size=11)
        )
    for i, name in enumerate(data.labels):
        if i % every:
            continue
        cx, cy = axes.x(i), top + plot_h + 15
        if slant:
            turn = f"rotate(-35 {cx:.1f} {cy:.1f})"
            short = _truncate(name, 90, 11)
            out.append(_text(cx, cy, short, text_anchor="end", font_size=11, transform=turn))
        else:
            short = name if ordered else _truncate(name, slot - 4, 11)
            out.append(_text(cx, cy, short, text_anchor="middle", font_size=11))
        if short != name:
            out[-1] = out[-1].replace("</text>", f"{_tip(name)}</text>")
    return axes, out


def _bar_marks(
    data: _Data,
    i: int,
    start: float,
    size: float,
    pos: Callable[[float], float],
    *,
    horizontal: bool,
    stacked: bool,
    show_values: bool,
) -> list[str]:
    """Marks of category ``i``: bars (side by side or stacked), intervals, reference."""
    out: list[str] = []
    k = len(data.series)
    base = 0.0
    for j, series in enumerate(data.series):
        value = series.values[i]
        if value is None:
            continue
        if stacked:
            a, b = pos(base), pos(base + max(value, 0.0))
            base += max(value, 0.0)
            offset, thick = start, size
        else:
            a, b = pos(0.0), pos(value)
            thick = size / k
            offset = start + j * thick
        color = ACCENT if _above(data, i, value) else series.color
        lo_, hi_ = sorted((a, b))
        length, breadth = max(hi_ - lo_, 0.5), max(thick - 2, 1.0)
        rect: dict[str, float] = (
            {"x": lo_, "y": offset + 1, "width": length, "height": breadth}
            if horizontal
            else {"x": offset + 1, "y": lo_, "width": breadth, "height": length}
        )
        tip = _tip(_tooltip(data, i, series, value))
        out.append(_el("rect", tip, class_="pk-mark", **rect, fill=color))
        if series.low is not None and series.high is not None:
            low, high = series.low[i], series.high[i]
            if low is not None and high is not None:
                out.append(_whisker(pos(low), pos(high), offset + thick / 2, horizontal))
        label = data.fmt(value, compact=True)
        if show_values and not stacked:
            end = b if series.high is None or series.high[i] is None else pos(series.high[i] or 0.0)
            if horizontal:
                out.append(
                    _text(max(b, end) + 5, offset + thick / 2 + 4, label, font_size=11, fill=_MUTED)
                )
            else:
                out.append(
                    _text(
                        offset + thick / 2,
                        min(b, end) - 5,
                        label,
                        text_anchor="middle",
                        font_size=11,
                        fill=_MUTED,
                    )
                )
    if stacked and show_values and base > 0:
        label = data.fmt(base, compact=True)
        if horizontal:
            out.append(_text(pos(base) + 5, start + size / 2 + 4, label, font_size=11, fill=_MUTED))
        else:
            out.append(
                _text(
                    start + size / 2,
                    pos(base) - 5,
                    label,
                    text_anchor="middle",
                    font_size=11,
                    fill=_MUTED,
                )
            )
    if data.reference is not None and data.reference[i] is not None:
        r = pos(data.reference[i] or 0.0)
        pad = size * 0.12
        line: dict[str, float] = (
            {"x1": r, "y1": start - pad, "x2": r, "y2": start + size + pad}
            if horizontal
            else {"x1": start - pad, "y1": r, "x2": start + size + pad, "y2": r}
        )
        name = column_label(data.chart.reference or "", data.lang)
        text = f"{data.labels[i]}: {name} {data.fmt(data.reference[i])}"
        out.append(
            _el("line", _tip(text), class_="pk-reference", **line, stroke=_REFERENCE, **_DASH)
        )
    return out


def _whisker(a: float, b: float, at: float, horizontal: bool, cls: str | None = "pk-ci") -> str:
    """An interval from ``a`` to ``b`` with caps, across the bar centre ``at``."""
    c0, c1 = at - 3.5, at + 3.5
    if horizontal:
        d = f"M{a:.1f} {at:.1f}H{b:.1f}M{a:.1f} {c0:.1f}V{c1:.1f}M{b:.1f} {c0:.1f}V{c1:.1f}"
    else:
        d = f"M{at:.1f} {a:.1f}V{b:.1f}M{c0:.1f} {a:.1f}H{c1:.1f}M{c0:.1f} {b:.1f}H{c1:.1f}"
    return _el("path", class_=cls, d=d, stroke=_INK, stroke_width=1.2, fill="none")


# ---------------------------------------------------------------------------- line


def _line(data: _Data) -> str:
    values = _all_values(data)
    if not values:
        return _empty(data.chart, data.lang)
    lo, hi, ticks = _scale(values)
    items = _legend_items(data, above=False)
    if any(s.low is not None for s in data.series):
        items.append((ui("ci", data.lang), "#c9d6e3"))
    legend_h = _legend_height(items, _WIDTH - 20)
    axes, body = _vertical_axes(data, lo, hi, ticks, legend_h)
    height = axes.height
    px, py = axes.x, axes.y
    body.append(_el("line", x1=axes.left, y1=py(lo), x2=axes.right, y2=py(lo), stroke=_MUTED))
    for series in data.series:
        if series.low is not None and series.high is not None:
            body += _band(series, px, py)
    if data.reference is not None:
        for path in _paths(data.reference, px, py):
            body.append(
                _el("path", class_="pk-reference", d=path, stroke=_REFERENCE, fill="none", **_DASH)
            )
    for series in data.series:
        for path in _paths(series.values, px, py):
            body.append(_el("path", d=path, stroke=series.color, stroke_width=2.2, fill="none"))
        for i, value in enumerate(series.values):
            if value is None:
                continue
            tip = _tip(_tooltip(data, i, series, value))
            point = {"cx": px(i), "cy": py(value), "r": 3.5}
            body.append(_el("circle", tip, class_="pk-mark", **point, fill=series.color))
    body += _legend(items, 10, 14, _WIDTH - 20)
    return _svg(data.chart, _WIDTH, height, body, data.lang)


def _paths(
    values: Sequence[float | None], px: Callable[[int], float], py: Callable[[float], float]
) -> list[str]:
    """SVG path data for each run of consecutive known values (missing values are gaps)."""
    paths, current = [], ""
    for i, value in enumerate(values):
        if value is None:
            if current:
                paths.append(current)
            current = ""
            continue
        current += f"{'L' if current else 'M'}{px(i):.1f} {py(value):.1f}"
    if current:
        paths.append(current)
    # a lone point still shows: as a dot via the marks, the path is harmless
    return paths


def _band(series: _Series, px: Callable[[int], float], py: Callable[[float], float]) -> list[str]:
    if series.low is None or series.high is None:
        return []
    out: list[str] = []
    run: list[tuple[int, float, float]] = []
    for i in range(len(series.values)):
        low, high = series.low[i], series.high[i]
        if low is None or high is None:
            if len(run) > 1:
                out.append(_band_path(run, px, py))
            run = []
        else:
            run.append((i, low, high))
    if len(run) > 1:
        out.append(_band_path(run, px, py))
    return out


def _band_path(
    run: list[tuple[int, float, float]], px: Callable[[int], float], py: Callable[[float], float]
) -> str:
    upper = [f"{px(i):.1f} {py(h):.1f}" for i, _, h in run]
    lower = [f"{px(i):.1f} {py(lo):.1f}" for i, lo, _ in reversed(run)]
    return (
        f'<path class="pk-ci" d="M{"L".join(upper + lower)}Z" fill="#c9d6e3" fill-opacity="0.6"/>'
    )


# ------------------------------------------------------------------------- heatmap


def _viridis(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    f = t - i
    a, b = VIRIDIS[i], VIRIDIS[i + 1]
    rgb = [round(int(a[k : k + 2], 16) * (1 - f) + int(b[k : k + 2], 16) * f) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _heatmap(chart: Chart, table: pd.DataFrame, lang: Lang) -> str:
    assert chart.value is not None
    y_column = chart.y_columns[0]
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]
    xs, ys = _ordered([r[chart.x] for r in records]), _ordered([r[y_column] for r in records])
    x_labels = [_category_label(chart.x, v, lang, _period_format(xs)) for v in xs]
    y_labels = [_category_label(y_column, v, lang, _period_format(ys)) for v in ys]
    cells: dict[tuple[Any, Any], dict[str, Any]] = {}
    for row in records:
        cell_key = tuple(None if _is_missing(row[c]) else row[c] for c in (chart.x, y_column))
        cells.setdefault((cell_key[0], cell_key[1]), row)
    values = _finite([_num(r[chart.value]) for r in cells.values()])
    if not values:
        return _empty(chart, lang)
    vmin, vmax = min(values), max(values)
    span = (vmax - vmin) or 1.0

    def fmt(v: float | None, compact: bool = False) -> str:
        return format_number(v, percent=chart.percent, compact=compact, lang=lang)

    label_w = min(max(_text_width(s) for s in y_labels) + 12, 200)
    left, right, top = 10 + label_w, 10.0, 24.0
    plot_w = _WIDTH - left - right
    cell_w = plot_w / len(xs)
    cell_h = min(max(cell_w * 0.75, 18.0), 30.0)
    plot_h = cell_h * len(ys)
    body: list[str] = []
    every = max(1, math.ceil((max(_text_width(s, 11) for s in x_labels) + 6) / cell_w))
    for i, name in enumerate(x_labels):
        if i % every == 0:
            body.append(
                _text(
                    left + (i + 0.5) * cell_w,
                    top - 8,
                    _truncate(name, cell_w * every, 11),
                    text_anchor="middle",
                    font_size=11,
                    fill=_MUTED,
                )
            )
    for j, name in enumerate(y_labels):
        body.append(
            _text(
                left - 8,
                top + (j + 0.5) * cell_h + 4,
                _truncate(name, label_w - 8),
                text_anchor="end",
            )
        )
        for i, xv in enumerate(xs):
            found = cells.get((xv, ys[j]))
            value = None if found is None else _num(found[chart.value])
            t = 0.0 if value is None else (value - vmin) / span
            fill = "#eef0f3" if value is None else _viridis(t)
            tip = f"{y_labels[j]} · {x_labels[i]}: {fmt(value)}"
            if found is not None and _num(found.get("denominator")) is not None:
                tip += f" ({format_number(found['numerator'])} / "
                tip += f"{format_number(found['denominator'])})"
            x0, y0 = left + i * cell_w, top + j * cell_h
            cell = {"width": cell_w - 1, "height": cell_h - 1}
            body.append(
                _el("rect", _tip(tip), class_="pk-mark", x=x0 + 0.5, y=y0 + 0.5, **cell, fill=fill)
            )
            if value is not None and cell_w >= 34:
                text = f"{value:.0%}" if chart.percent else fmt(value, compact=True)
                body.append(
                    _text(
                        x0 + cell_w / 2,
                        y0 + cell_h / 2 + 4,
                        text,
                        text_anchor="middle",
                        font_size=10,
                        fill="#ffffff" if t < 0.55 else _INK,
                    )
                )
    # legend: ten steps from min to max
    ly = top + plot_h + 14
    steps = 10
    lw = min(240.0, plot_w)
    for s in range(steps):
        swatch = _viridis(s / (steps - 1))
        body.append(
            _el(
                "rect",
                x=left + s * lw / steps,
                y=ly,
                width=lw / steps + 0.5,
                height=10,
                fill=swatch,
            )
        )
    body.append(_text(left, ly + 24, fmt(vmin), font_size=11, fill=_MUTED))
    body.append(_text(left + lw, ly + 24, fmt(vmax), font_size=11, fill=_MUTED, text_anchor="end"))
    body.append(
        _text(left + lw + 10, ly + 9, column_label(chart.value, lang), font_size=11, fill=_MUTED)
    )
    return _svg(chart, _WIDTH, ly + 34, body, lang)


# -------------------------------------------------------------------------- funnel


def _funnel(data: _Data) -> str:
    values = data.series[0].values
    known = _finite(values)
    if not known or max(known) <= 0:
        return _empty(data.chart, data.lang)
    first = next((v for v in values if v is not None), None)
    steps: list[float | None] = [None]
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        steps.append(b / a if a and b is not None else None)
    finite_steps = [(s, i) for i, s in enumerate(steps) if s is not None]
    lowest = min(finite_steps)[1] if finite_steps else None
    label_w = min(max(_text_width(s) for s in data.labels) + 12, 170)
    right_w = 190.0
    left, top, row_h = 10 + label_w, 12.0, 34.0
    plot_w = _WIDTH - left - right_w - 10
    peak = max(known)
    body: list[str] = []
    for i, (name, value) in enumerate(zip(data.labels, values, strict=True)):
        y0 = top + i * row_h
        body.append(
            _text(
                left - 8,
                y0 + row_h / 2 + 3,
                _truncate(name, label_w - 8),
                text_anchor="end",
                font_weight="600",
            )
        )
        if value is None:
            continue
        w = max(value / peak * plot_w, 2.0)
        x0 = left + (plot_w - w) / 2
        color = ACCENT if i == lowest else PALETTE[0]
        tip = f"{name}: {format_number(value)}"
        if first:
            tip += f" ({value / first:.1%} {ui('of_first', data.lang)})"
        if steps[i] is not None:
            tip += f"; {data.labels[i - 1]} → {name}: {steps[i]:.1%}"
        body.append(
            _el(
                "rect",
                _tip(tip),
                class_="pk-mark",
                x=x0,
                y=y0 + 3,
                width=w,
                height=row_h - 8,
                fill=color,
            )
        )
        count = format_number(value)
        inside = _text_width(count, 12) + 8 < w
        body.append(
            _text(
                left + plot_w / 2,
                y0 + row_h / 2 + 3,
                count,
                text_anchor="middle",
                font_weight="600",
                fill="#ffffff" if inside else _INK,
            )
            if inside
            else _text(x0 + w + 6, y0 + row_h / 2 + 3, count, font_weight="600")
        )
        rx = left + plot_w + 14
        share = f"{value / first:.1%}" if first else ""
        body.append(_text(rx, y0 + row_h / 2 + 3, share, font_weight="600"))
        if steps[i] is not None:
            step_text = f"↓ {steps[i]:.1%}"
            extra = {"fill": ACCENT, "font_weight": "600"} if i == lowest else {"fill": _MUTED}
            body.append(_text(rx + 52, y0 + row_h / 2 + 3, step_text, **extra))
            if i == lowest:
                body.append(
                    _text(
                        rx + 52 + _text_width(step_text) + 10,
                        y0 + row_h / 2 + 3,
                        ui("lowest_step", data.lang),
                        fill=ACCENT,
                        font_size=10,
                    )
                )
    height = top + row_h * len(values) + 8
    return _svg(data.chart, _WIDTH, height, body, data.lang)


# ----------------------------------------------------------------------- waterfall

#: Colour of a waterfall's increases (its decreases use :data:`ACCENT`).
_INCREASE = PALETTE[2]


def _waterfall_bars(values: Sequence[float | None]) -> list[tuple[float, float, str] | None]:
    """(from, to, kind) per row: the first and last rows are totals drawn from zero
    (``"total"``), the rows between steps from the running total (``"up"`` /
    ``"down"``); a missing value draws nothing (a missing total counts as 0)."""
    bars: list[tuple[float, float, str] | None] = []
    running, last = 0.0, len(values) - 1
    for i, value in enumerate(values):
        if i == 0 or i == last:
            running = value or 0.0
            bars.append(None if value is None else (0.0, value, "total"))
        elif value is None:
            bars.append(None)
        else:
            bars.append((running, running + value, "up" if value >= 0 else "down"))
            running += value
    return bars


def _waterfall(data: _Data) -> str:
    values = data.series[0].values
    bars = _waterfall_bars(values)
    ends = [v for bar in bars if bar is not None for v in bar[:2]]
    if not ends:
        return _empty(data.chart, data.lang)
    lo, hi, ticks = _scale(ends)
    colors = {"total": PALETTE[0], "up": _INCREASE, "down": ACCENT}
    names = {"total": "total", "up": "increase", "down": "decrease"}
    drawn = {bar[2] for bar in bars if bar is not None}
    items = [(ui(names[k], data.lang), colors[k]) for k in ("total", "up", "down") if k in drawn]
    legend_h = _legend_height(items, _WIDTH - 20)
    axes, body = _vertical_axes(data, lo, hi, ticks, legend_h)
    thick = axes.slot * 0.64
    labels = [None if b is None else data.fmt(b[1] - b[0], compact=True) for b in bars]
    widest = max((_text_width(t, 11) + 8 for t in labels if t), default=0.0)
    show_values = widest <= axes.slot - 2
    previous: tuple[float, float] | None = None  # (x of the right edge, level)
    for i, bar in enumerate(bars):
        if bar is None:
            continue
        start, stop, kind = bar
        x0 = axes.x(i) - thick / 2
        top, bottom = sorted((axes.y(start), axes.y(stop)))
        change = stop - start
        text = f"{data.labels[i]}: "
        if kind == "total":
            text += data.fmt(change)
        else:
            sign = "+" if change > 0 else "−" if change < 0 else ""
            text += f"{sign}{data.fmt(abs(change))} → {data.fmt(stop)}"
        rect = {"x": x0, "y": top, "width": thick, "height": max(bottom - top, 0.5)}
        body.append(_el("rect", _tip(text), class_="pk-mark", **rect, fill=colors[kind]))
        if previous is not None:
            px, level = previous
            body.append(
                _el(
                    "line",
                    x1=px,
                    y1=axes.y(level),
                    x2=x0,
                    y2=axes.y(level),
                    stroke=_MUTED,
                    stroke_width=1,
                    stroke_dasharray="3 2",
                )
            )
        previous = (x0 + thick, stop)
        if show_values:
            label = labels[i] or ""
            if kind == "up" and change > 0:
                label = "+" + label
            elif kind == "down":
                label = "−" + label.lstrip("-")
            below = kind == "total" and stop < 0
            y = bottom + 13 if below else top - 5
            body.append(_text(axes.x(i), y, label, text_anchor="middle", font_size=11, fill=_MUTED))
    body.append(_el("line", x1=axes.left, y1=axes.y(0), x2=axes.right, y2=axes.y(0), stroke=_MUTED))
    body += _legend(items, 10, 14, _WIDTH - 20)
    return _svg(data.chart, _WIDTH, axes.height, body, data.lang)


# --------------------------------------------------------------------------- entry


def render_chart(chart: Chart, table: pd.DataFrame, *, lang: Lang = "en") -> str:
    """Draw ``chart`` from ``table`` as an ``<svg>`` element (inline in html).

    Raises ConfigError when the chart names a column the table lacks. An empty table
    (or one whose values are all missing) gives a small "no data" placeholder.
    """
    _check_columns(chart, table)
    if chart.kind == "heatmap":
        return _heatmap(chart, table, lang)
    data = _prepare(chart, table, lang)
    if not data.categories:
        return _empty(chart, lang)
    if chart.kind == "line":
        return _line(data)
    if chart.kind == "funnel":
        return _funnel(data)
    if chart.kind == "waterfall":
        return _waterfall(data)
    return _bars(data, horizontal=chart.kind == "hbar", stacked=chart.kind == "stacked_bar")
