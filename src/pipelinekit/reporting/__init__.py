"""The KPI report: assemble (``build``), model (``Report``), sections and renderers."""

from pipelinekit.reporting.build import SECTION_KEYS, build_report, latest_date
from pipelinekit.reporting.export import write_tables
from pipelinekit.reporting.kpi_table import KPI_SCHEMA_VERSION, kpi_table
from pipelinekit.reporting.model import Chart, Report, Section
from pipelinekit.reporting.notes import Note
from pipelinekit.reporting.summary import SUMMARY_KEYS, summary

__all__ = [
    "KPI_SCHEMA_VERSION",
    "SECTION_KEYS",
    "SUMMARY_KEYS",
    "Chart",
    "Note",
    "Report",
    "Section",
    "build_report",
    "kpi_table",
    "latest_date",
    "summary",
    "write_tables",
]
