"""The html report: one self-contained page (inline CSS, inline SVG charts, no network).

The page shows, in order: the heading (as_of, its source, the time zone), the KPI
cards of the summary (rates with value, numerator / denominator and the 95% interval),
a table of contents, then every section with its notes, its charts (drawn by
:mod:`pipelinekit.reporting.charts` from the section's ``Chart`` specs) and its tables.
Tables a chart already draws, and long ones, are folded (``<details>``). A few lines
of inline JavaScript make table columns sortable; nothing else needs script, and no
URL is ever loaded. Every string from the data is escaped.

Examples
--------
>>> import pipelinekit as pk
>>> from pipelinekit.sample import generate_sample
>>> rep = pk.report(pk.Dataset(**generate_sample(leads=200, seed=1)), as_of="2025-06-30",
...                 sections="summary")
>>> page = render_html(rep, lang="ja")
>>> page.startswith("<!DOCTYPE html>"), "商談化率" in page, "http" in page
(True, True, False)
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelinekit.glossary import (
    GLOSSARY,
    Lang,
    chart_title,
    check_lang,
    column_label,
    label,
    section_title,
    table_label,
    ui,
)
from pipelinekit.rates import Rate
from pipelinekit.reporting.charts import render_chart
from pipelinekit.reporting.model import format_cell, format_number
from pipelinekit.reporting.render import heading, section_notes

if TYPE_CHECKING:
    from pipelinekit.reporting.model import Report, Section

__all__ = ["CARD_GROUPS", "render_html", "render_html_fragment"]

#: The KPI cards, grouped; summary keys not listed here go to a last group.
CARD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "volume",
        (
            "leads",
            "inbound_leads",
            "touched_leads",
            "connected_leads",
            "sqls",
            "valid_opportunities",
            "won",
            "won_amount",
        ),
    ),
    ("conversion", ("lead_to_sql_rate", "sql_to_valid_rate", "valid_to_won_rate", "win_rate")),
    ("execution", ("same_day_approach_rate", "cadence_5c2m_rate", "sql_over_capacity_rep_months")),
    (
        "activity",
        (
            "calls",
            "connected_calls",
            "call_connect_rate",
            "talk_time_s",
            "emails_delivered",
            "email_open_rate",
            "email_click_rate",
        ),
    ),
    ("abm", ("target_account_sqls", "target_account_won_amount")),
)

#: Tables with at most this many rows are shown open unless a chart draws them.
OPEN_ROWS = 15

_CSS = """
.pk-report{--ink:#1f2933;--muted:#66727f;--line:#e3e7ec;--bg:#f4f6f9;--card:#fff;
 --blue:#0072B2;--accent:#D55E00;color:var(--ink);background:var(--bg);
 font:14px/1.45 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",
 Meiryo,sans-serif;padding:24px 28px 40px;max-width:1320px;margin:0 auto}
.pk-report *{box-sizing:border-box}
.pk-report h1{font-size:26px;margin:0 0 2px;letter-spacing:-.01em}
.pk-report h2{font-size:20px;margin:0 0 10px}
.pk-report h3{font-size:15px;margin:0 0 10px}
.pk-report .pk-sub{color:var(--muted);margin:0 0 18px}
.pk-report .pk-warn{background:#fff4e5;border-left:4px solid var(--accent);padding:8px 12px;
 margin:0 0 16px;border-radius:4px}
.pk-report .pk-summary{display:flex;flex-wrap:wrap;gap:0 22px}
.pk-report .pk-group{margin:0 0 14px}
.pk-report .pk-group h3{color:var(--muted);text-transform:uppercase;font-size:12px;
 letter-spacing:.06em;margin:0 0 6px}
.pk-report .pk-cards{display:flex;flex-wrap:wrap;gap:8px}
.pk-report .pk-card{background:var(--card);border:1px solid var(--line);border-radius:8px;
 padding:9px 11px;box-shadow:0 1px 2px rgba(16,24,40,.04);width:150px}
.pk-report .pk-card.pk-alert{border-color:var(--accent);box-shadow:inset 4px 0 0 var(--accent)}
.pk-report .pk-card .pk-label{color:var(--muted);font-size:12.5px;line-height:1.3;
 min-height:2.6em}
.pk-report .pk-card .pk-value{font-size:22px;font-weight:650;letter-spacing:-.01em;
 font-variant-numeric:tabular-nums}
.pk-report .pk-card .pk-detail{color:var(--muted);font-size:11px;white-space:nowrap;
 overflow:hidden;text-overflow:ellipsis;
 font-variant-numeric:tabular-nums}
.pk-report .pk-meter{position:relative;height:6px;background:#e9edf2;border-radius:3px;
 margin:6px 0 4px}
.pk-report .pk-meter .pk-fill{position:absolute;left:0;top:0;bottom:0;background:var(--blue);
 border-radius:3px}
.pk-report .pk-meter .pk-ci{position:absolute;top:-3px;bottom:-3px;border-left:2px solid #1f2933;
 border-right:2px solid #1f2933;opacity:.55}
.pk-report nav.pk-toc{margin:8px 0 18px;display:flex;flex-wrap:wrap;gap:6px}
.pk-report nav.pk-toc a{background:var(--card);border:1px solid var(--line);border-radius:16px;
 padding:3px 12px;color:var(--ink);text-decoration:none;font-size:13px}
.pk-report nav.pk-toc a:hover{border-color:var(--blue);color:var(--blue)}
.pk-report .pk-section{background:var(--card);border:1px solid var(--line);border-radius:10px;
 padding:18px 20px;margin:0 0 18px}
.pk-report .pk-notes{margin:0 0 14px;padding-left:18px;color:var(--muted)}
.pk-report .pk-notes li{margin:2px 0}
.pk-report .pk-charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));
 gap:16px;margin:0 0 12px;align-items:start}
.pk-report .pk-tables{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}
.pk-report .pk-tables>details{flex:0 1 auto;max-width:100%;min-width:260px}
.pk-report figure.pk-figure{margin:0;border:1px solid var(--line);border-radius:8px;
 padding:10px 12px 6px}
.pk-report figure.pk-figure figcaption{font-weight:600;margin:0 0 4px}
.pk-report svg.pk-chart{width:100%;height:auto;display:block}
.pk-report svg.pk-chart .pk-mark:hover{opacity:.8;stroke:#1f2933;stroke-width:1}
.pk-report details{margin:8px 0;border-top:1px solid var(--line);padding-top:6px}
.pk-report details>summary{cursor:pointer;font-weight:600;padding:2px 0}
.pk-report details>summary .pk-rows{color:var(--muted);font-weight:400;font-size:12px;
 margin-left:6px}
.pk-report .pk-scroll{overflow-x:auto;margin:6px 0 4px}
.pk-report table.pk-table{border-collapse:collapse;font-size:12.5px;
 font-variant-numeric:tabular-nums;min-width:40%}
.pk-report table.pk-table th,.pk-report table.pk-table td{padding:4px 10px;
 border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
.pk-report table.pk-table th{background:#f7f9fb;position:sticky;top:0;cursor:pointer;
 user-select:none;font-weight:600}
.pk-report table.pk-table td.pk-num{text-align:right}
.pk-report table.pk-table td.pk-na{color:#9aa5b1}
.pk-report table.pk-table tbody tr:hover{background:#f4f8fc}
.pk-report .pk-empty{color:var(--muted);font-style:italic}
.pk-report footer{color:var(--muted);font-size:12px;margin-top:22px}
@media print{.pk-report{background:#fff}.pk-report details{display:block}
 .pk-report nav.pk-toc{display:none}}
"""

# Sorting by a click on a header: optional comfort, nothing depends on it.
_SCRIPT = """
document.querySelectorAll("table.pk-table").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      function key(row) {
        var cell = row.cells[col];
        var raw = cell.getAttribute("data-sort");
        return raw === null ? cell.textContent : raw;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var nx = parseFloat(x), ny = parseFloat(y);
        var both = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny);
        var c = both ? nx - ny : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def render_html(report: Report, lang: Lang = "en") -> str:
    """The report as one self-contained html document (see the module docstring)."""
    lang = check_lang(lang)
    title = f"{ui('title', lang)} · {report.as_of.isoformat()}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_CSS}body{{margin:0;background:#f4f6f9}}</style>\n</head>\n<body>\n"
        f"{_body(report, lang)}\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def render_html_fragment(report: Report, lang: Lang = "en") -> str:
    """The report as an html fragment with scoped styles and no script (for Jupyter)."""
    lang = check_lang(lang)
    return f"<style>{_CSS}</style>\n{_body(report, lang)}"


def _body(report: Report, lang: Lang) -> str:
    parts = [f'<div class="pk-report" lang="{lang}">']
    parts.append(f"<header><h1>{escape(ui('title', lang))}</h1>")
    parts.append(f'<p class="pk-sub">{escape(heading(report, lang))}</p></header>')
    warnings = report.warning_texts(lang)
    if warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
        parts.append(
            f'<div class="pk-warn"><strong>{escape(ui("warnings", lang))}</strong>'
            f"<ul>{items}</ul></div>"
        )
    parts.append(_cards(report, lang))
    if report.sections:
        links = "".join(
            f'<a href="#{_anchor(s.key)}">{escape(section_title(s.key, s.title, lang))}</a>'
            for s in report.sections
        )
        parts.append(f'<nav class="pk-toc" aria-label="{escape(ui("contents", lang))}">')
        parts.append(f"{links}</nav>")
    parts += [_section(s, lang) for s in report.sections]
    from pipelinekit import __version__

    parts.append(f"<footer>{escape(ui('footer', lang, version=__version__))}</footer></div>")
    return "\n".join(parts)


def _anchor(key: str) -> str:
    return "pk-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


# --------------------------------------------------------------------------- cards


def _cards(report: Report, lang: Lang) -> str:
    listed = {k for _, keys in CARD_GROUPS for k in keys}
    groups = [(name, [k for k in keys if k in report.summary]) for name, keys in CARD_GROUPS]
    rest = [k for k in report.summary if k not in listed]
    if rest:
        groups.append(("other", rest))
    out = [f'<section class="pk-summary" aria-label="{escape(ui("summary", lang))}">']
    for name, keys in groups:
        if not keys:
            continue
        cards = "".join(_card(k, report.summary[k], lang) for k in keys)
        out.append(
            f'<div class="pk-group"><h3>{escape(ui(name, lang))}</h3>'
            f'<div class="pk-cards">{cards}</div></div>'
        )
    out.append("</section>")
    return "\n".join(out)


def _card(key: str, value: Rate | int | float | None, lang: Lang) -> str:
    term = GLOSSARY.get(key)
    tip = f' title="{escape(term.definition)}"' if term else ""
    classes = "pk-card"
    if key == "sql_over_capacity_rep_months" and isinstance(value, (int, float)) and value > 0:
        classes += " pk-alert"
    inner = [f'<div class="pk-label">{escape(label(key, lang))}</div>']
    if value is None:
        inner.append(f'<div class="pk-value">{escape(format_number(None))}</div>')
        inner.append(f'<div class="pk-detail">{escape(ui("not_available", lang))}</div>')
    elif isinstance(value, Rate):
        inner.append(f'<div class="pk-value">{escape(format(value))}</div>')
        inner.append(_meter(value))
        detail = f"{format_number(value.numerator)} / {format_number(value.denominator)}"
        inner.append(f'<div class="pk-detail">{escape(detail)}</div>')
        if value.denominator:
            ci = f"{ui('ci_short', lang)} {value.ci_low:.1%}–{value.ci_high:.1%}"
            inner.append(f'<div class="pk-detail">{escape(ci)}</div>')
    else:
        amount = key.endswith("amount")
        shown = format_number(value, compact=amount, lang=lang)
        full = format_number(value)
        inner.append(f'<div class="pk-value" title="{escape(full)}">{escape(shown)}</div>')
        if key.endswith("_s") and isinstance(value, (int, float)) and math.isfinite(value):
            hours = f"≈ {value / 3600:,.0f} h" if lang == "en" else f"約{value / 3600:,.0f}時間"
            inner.append(f'<div class="pk-detail">{escape(hours)}</div>')
        elif amount:
            inner.append(f'<div class="pk-detail">{escape(full)}</div>')
    return f'<div class="{classes}" data-key="{escape(key)}"{tip}>{"".join(inner)}</div>'


def _meter(value: Rate) -> str:
    if math.isnan(value.value):
        return '<div class="pk-meter"></div>'
    fill = f'<div class="pk-fill" style="width:{_pct(value.value)}"></div>'
    ci = ""
    if value.denominator and not math.isnan(value.ci_low):
        width = max(value.ci_high - value.ci_low, 0.0)
        ci = f'<div class="pk-ci" style="left:{_pct(value.ci_low)};width:{_pct(width)}"></div>'
    return f'<div class="pk-meter">{fill}{ci}</div>'


def _pct(x: float) -> str:
    return f"{min(max(x, 0.0), 1.0) * 100:.1f}%"


# ------------------------------------------------------------------------ sections


def _section(section: Section, lang: Lang) -> str:
    title = section_title(section.key, section.title, lang)
    out = [f'<section class="pk-section" id="{_anchor(section.key)}">']
    out.append(f"<h2>{escape(title)}</h2>")
    notes = section_notes(section, lang)
    if notes:
        out.append('<ul class="pk-notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes))
        out.append("</ul>")
    charted = set()
    figures = []
    for chart in section.charts:
        frame = section.tables.get(chart.table)
        if frame is None:
            from pipelinekit.errors import ConfigError

            raise ConfigError(
                f"section {section.key!r}: chart on unknown table {chart.table!r}; "
                f"have {list(section.tables)}"
            )
        charted.add(chart.table)
        caption = chart_title(chart.title, lang) if chart.title else ""
        caption = caption or table_label(chart.table, lang, section=section.key)
        figures.append(
            f'<figure class="pk-figure" data-chart-kind="{escape(chart.kind)}">'
            f"<figcaption>{escape(caption)}</figcaption>"
            f"{render_chart(chart, frame, lang=lang)}</figure>"
        )
    if figures:
        out.append('<div class="pk-charts">' + "".join(figures) + "</div>")
    out.append('<div class="pk-tables">')
    for name, frame in section.tables.items():
        is_open = name not in charted and len(frame) <= OPEN_ROWS
        out.append(_table(table_label(name, lang, section=section.key), frame, lang, is_open))
    out.append("</div></section>")
    return "\n".join(out)


def _table(title: str, frame: pd.DataFrame, lang: Lang, is_open: bool) -> str:
    rows = ui("rows", lang, n=f"{len(frame):,}")
    head = (
        f"<details{' open' if is_open else ''}><summary>{escape(title)}"
        f'<span class="pk-rows">{escape(rows)}</span></summary>'
    )
    if frame.empty:
        return f'{head}<p class="pk-empty">{escape(ui("no_rows", lang))}</p></details>'
    columns = [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    th = "".join(
        f'<th scope="col" title="{escape(c)}">{escape(column_label(c, lang))}</th>' for c in columns
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = [_td(v, c, n, lang) for v, c, n in zip(row, columns, numeric, strict=True)]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'{head}<div class="pk-scroll"><table class="pk-table"><thead><tr>{th}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></details>"
    )


def _td(value: Any, column: str, numeric: bool, lang: Lang) -> str:
    text = format_cell(value, column, lang)
    classes = []
    sort = ""
    if numeric:
        classes.append("pk-num")
        number = _sort_number(value)
        sort = f' data-sort="{number}"' if number is not None else ' data-sort=""'
    elif isinstance(value, pd.Timestamp) and value is not pd.NaT:
        sort = f' data-sort="{escape(value.isoformat())}"'
    if text == "n/a":
        classes.append("pk-na")
    cls = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{cls}{sort}>{escape(text)}</td>"


def _sort_number(value: Any) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return f"{number:.12g}" if math.isfinite(number) else None
