"""The KPI report: assemble (``build``), model (``Report``) and render."""

from pipelinekit.report.build import SECTION_BUILDERS, build_report, latest_date
from pipelinekit.report.model import Report, Section
from pipelinekit.report.summary import SUMMARY_KEYS, summary

__all__ = [
    "SECTION_BUILDERS",
    "SUMMARY_KEYS",
    "Report",
    "Section",
    "build_report",
    "latest_date",
    "summary",
]
