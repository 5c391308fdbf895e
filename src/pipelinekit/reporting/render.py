"""Text, rich-terminal and Markdown renderings of a :class:`~pipelinekit.reporting.model.Report`.

Every renderer shows the same content in the same order: the heading (as_of, its
source, the time zone), the summary KPIs (rates with numerator / denominator and the
95% interval), then each section's notes and tables, with labels in ``lang``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from pipelinekit.glossary import (
    Lang,
    check_lang,
    column_label,
    label,
    section_title,
    table_label,
    ui,
)
from pipelinekit.rates import Rate
from pipelinekit.reporting.model import format_number, plain_rows

if TYPE_CHECKING:
    from pipelinekit.reporting.model import Report, Section

__all__ = [
    "display_table",
    "heading",
    "render_markdown",
    "render_rich",
    "render_text",
    "section_notes",
    "summary_rows",
]


def summary_rows(report: Report, lang: Lang = "en") -> list[tuple[str, str, str]]:
    """(label, value, detail) per summary key; rates show n/d and the 95% interval."""
    rows = []
    for key, value in report.summary.items():
        if value is None:
            rows.append((label(key, lang), format_number(None), ui("not_available", lang)))
        elif isinstance(value, Rate):
            detail = f"{format_number(value.numerator)} / {format_number(value.denominator)}"
            if value.denominator:
                detail += f"  [{value.ci_low:.1%}, {value.ci_high:.1%}]"
            rows.append((label(key, lang), format(value), detail))
        else:
            rows.append((label(key, lang), format_number(value), ""))
    return rows


def heading(report: Report, lang: Lang = "en") -> str:
    """The line under the title: as_of, where it came from, the time zone."""
    source = ui(report.as_of_source, lang)
    return ui("as_of", lang, date=report.as_of.isoformat(), source=source, tz=report.tz)


def display_table(
    frame: pd.DataFrame, lang: Lang = "en"
) -> tuple[list[str], Sequence[Sequence[str]]]:
    """Header labels and formatted cells of a section table in ``lang``."""
    return [column_label(str(c), lang) for c in frame.columns], plain_rows(frame, lang)


def section_notes(section: Section, lang: Lang = "en") -> list[str]:
    """The section's notes in ``lang``."""
    return section.note_texts(lang)


def _width(text: str) -> int:
    # East Asian wide characters take two columns in a terminal.
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [_width(h) for h in header]
    for row in rows:
        widths = [max(w, _width(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def _summary_header(lang: Lang) -> list[str]:
    return [ui("kpi", lang), ui("value", lang), ui("detail", lang)]


def render_text(report: Report, lang: Lang = "en") -> str:
    """Plain fixed-width text: the summary, then each section's notes and tables."""
    lang = check_lang(lang)
    lines = [ui("title", lang), heading(report, lang), ""]
    lines += _fixed_width(_summary_header(lang), summary_rows(report, lang))
    for section in report.sections:
        lines += ["", f"== {section_title(section.key, section.title, lang)} =="]
        lines += [f"   {n}" for n in section_notes(section, lang)]
        for name, frame in section.tables.items():
            lines += ["", f"-- {table_label(name, lang, section=section.key)} --"]
            if frame.empty:
                lines.append(f"({ui('no_rows', lang)})")
            else:
                lines += _fixed_width(*display_table(frame, lang))
    warnings = report.warning_texts(lang)
    if warnings:
        lines += ["", f"== {ui('warnings', lang)} ==", *[f"   {w}" for w in warnings]]
    return "\n".join(lines) + "\n"


def render_rich(report: Report, lang: Lang = "en", *, width: int | None = None) -> str:
    """The text report with ``rich`` tables and colours, for a terminal (ANSI codes).

    ``width`` is the terminal width (default: detected, else 120).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    lang = check_lang(lang)
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, width=width or _terminal_width(), highlight=False
    )
    console.print(Text(ui("title", lang), style="bold"))
    console.print(Text(heading(report, lang), style="dim"))
    summary = Table(box=box.SIMPLE_HEAD, title=ui("summary", lang), title_justify="left")
    summary.add_column(ui("kpi", lang))
    summary.add_column(ui("value", lang), justify="right", style="bold")
    summary.add_column(ui("detail", lang), style="dim")
    for row in summary_rows(report, lang):
        summary.add_row(*row)
    console.print(summary)
    for section in report.sections:
        console.rule(Text(section_title(section.key, section.title, lang), style="bold cyan"))
        for note in section_notes(section, lang):
            console.print(Text(note, style="italic"))
        for name, frame in section.tables.items():
            table = Table(
                box=box.SIMPLE_HEAD,
                title=table_label(name, lang, section=section.key),
                title_justify="left",
                title_style="bold",
            )
            header, rows = display_table(frame, lang)
            for column, text in zip(frame.columns, header, strict=True):
                numeric = pd.api.types.is_numeric_dtype(frame[column])
                table.add_column(text, justify="right" if numeric else "left", overflow="fold")
            for cells in rows:
                table.add_row(*cells)
            if frame.empty:
                console.print(Text(f"{table.title}: {ui('no_rows', lang)}", style="dim"))
            else:
                console.print(table)
    for warning in report.warning_texts(lang):
        console.print(Text(warning, style="yellow"))
    return buffer.getvalue()


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 40)).columns


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def esc(cell: str) -> str:
        # Cells are data: no raw html, no table breaks.
        text = cell.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(esc(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *["| " + " | ".join(esc(c) for c in r) + " |" for r in rows],
    ]


def render_markdown(report: Report, lang: Lang = "en") -> str:
    """GitHub-flavoured Markdown: the summary table, then each section's tables."""
    lang = check_lang(lang)
    lines = [f"# {ui('title', lang)}", "", f"_{heading(report, lang)}_", ""]
    lines += [f"## {ui('summary', lang)}", ""]
    lines += _md_table(_summary_header(lang), summary_rows(report, lang))
    for section in report.sections:
        lines += ["", f"## {section_title(section.key, section.title, lang)}", ""]
        lines += [f"> - {n}" for n in section_notes(section, lang)]
        for name, frame in section.tables.items():
            lines += ["", f"### {table_label(name, lang, section=section.key)}", ""]
            if frame.empty:
                lines.append(f"_{ui('no_rows', lang)}_")
            else:
                lines += _md_table(*display_table(frame, lang))
    warnings = report.warning_texts(lang)
    if warnings:
        lines += ["", f"## {ui('warnings', lang)}", "", *[f"- {w}" for w in warnings]]
    return "\n".join(lines) + "\n"
