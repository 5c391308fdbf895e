"""Text and Markdown renderings of a :class:`~pipelinekit.reporting.model.Report`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipelinekit.glossary import Lang, label
from pipelinekit.rates import Rate
from pipelinekit.reporting.model import format_cell, plain_rows

if TYPE_CHECKING:
    from pipelinekit.reporting.model import Report

__all__ = ["render_markdown", "render_text", "summary_rows"]


def summary_rows(report: Report, lang: Lang = "en") -> list[tuple[str, str, str]]:
    """(label, value, detail) per summary key; rates show n/d and the 95% interval."""
    rows = []
    for key, value in report.summary.items():
        if isinstance(value, Rate):
            detail = f"{format_cell(value.numerator)} / {format_cell(value.denominator)}"
            if value.denominator:
                detail += f"  [{value.ci_low:.1%}, {value.ci_high:.1%}]"
            rows.append((label(key, lang), format(value), detail))
        else:
            rows.append((label(key, lang), format_cell(value), ""))
    return rows


def _fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def _heading(report: Report) -> str:
    return f"as of {report.as_of.isoformat()} ({report.as_of_source}), time zone {report.tz}"


def render_text(report: Report, lang: Lang = "en") -> str:
    """Plain fixed-width text: the summary, then each section's tables."""
    lines = ["pipelinekit KPI report", _heading(report), ""]
    lines += _fixed_width(["KPI", "value", "detail"], summary_rows(report, lang))
    for section in report.sections:
        lines += ["", f"== {section.title} =="]
        lines += [f"   {n}" for n in section.notes]
        for name, frame in section.tables.items():
            lines += ["", f"-- {name} --"]
            if frame.empty:
                lines.append("(no rows)")
            else:
                lines += _fixed_width([str(c) for c in frame.columns], plain_rows(frame))
    return "\n".join(lines) + "\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    return [
        "| " + " | ".join(esc(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *["| " + " | ".join(esc(c) for c in r) + " |" for r in rows],
    ]


def render_markdown(report: Report, lang: Lang = "en") -> str:
    """GitHub-flavoured Markdown: the summary table, then each section's tables."""
    lines = ["# pipelinekit KPI report", "", f"_{_heading(report)}_", "", "## Summary", ""]
    lines += _md_table(["KPI", "value", "detail"], summary_rows(report, lang))
    for section in report.sections:
        lines += ["", f"## {section.title}", ""]
        lines += [f"> {n}" for n in section.notes]
        for name, frame in section.tables.items():
            lines += ["", f"### {name}", ""]
            if frame.empty:
                lines.append("_no rows_")
            else:
                lines += _md_table([str(c) for c in frame.columns], plain_rows(frame))
    return "\n".join(lines) + "\n"
