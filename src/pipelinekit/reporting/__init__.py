"""The KPI report: assemble (``build``), model (``Report``) and render."""

from pipelinekit.reporting.build import SECTION_BUILDERS, build_report, latest_date
from pipelinekit.reporting.model import Chart, Report, Section
from pipelinekit.reporting.summary import SUMMARY_KEYS, summary

__all__ = [
    "SECTION_BUILDERS",
    "SUMMARY_KEYS",
    "Chart",
    "Report",
    "Section",
    "build_report",
    "latest_date",
    "summary",
]
