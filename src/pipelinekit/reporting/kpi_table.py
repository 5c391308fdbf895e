"""One tidy long table of every KPI in a report, for BI tools.

Schema (version :data:`KPI_SCHEMA_VERSION`), one row per KPI value:

================  ========  ==============================================================
column            type      meaning
================  ========  ==============================================================
schema_version    int       :data:`KPI_SCHEMA_VERSION`; a change of columns or meaning
                            raises it
as_of             date      the report's as-of date
section           text      ``summary`` or the section key (``funnel``, ``cadence``, ...)
table             text      the section table (``summary`` for the summary)
kpi               text      the measure: a summary key, or the table's column name
                            (``rate`` for a rate with its counts and interval,
                            ``connect_rate``, ``sql_count``, ``median_days``, ...)
period            date      the period start for tables by period or cohort (a date
                            column), else null
dim_1_name ...    text      up to three other dimensions of the row (``owner_id``,
dim_3_value                 ``source``, ``stage``, ...), name and value as text; null
                            when the table has fewer
value             float     the KPI's value; null when undefined (e.g. a rate of 0/0)
                            or not available (the data lacks its input; the report's
                            warnings say why)
numerator         float     a rate's numerator, else null
denominator       float     a rate's denominator, else null
ci_low, ci_high   float     a rate's confidence interval, else null
================  ========  ==============================================================

Rules: a rate is a ``rate`` column (or ``<name>_rate``) whose table also has the
matching ``numerator`` / ``denominator`` and ``ci_low`` / ``ci_high`` (or
``<name>_ci_low`` / ``<name>_ci_high``) columns; those fill one row together. Every
other numeric column is one KPI row with ``value`` only. Text, date and boolean columns
and the integer keys ``hour``, ``weekday``, ``day`` and ``rank`` are dimensions. Tables
with more than three dimensions besides the period are row lists (work queues, stale
deals), not KPIs, and are left out; they stay in the per-table export. Rows are in
report order, so the same report gives the same table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.rates import Rate
from pipelinekit.reporting.model import Report

__all__ = ["KPI_COLUMNS", "KPI_SCHEMA_VERSION", "kpi_table"]

#: Version of the long table's schema (columns and their meaning).
KPI_SCHEMA_VERSION = 1

MAX_DIMENSIONS = 3
_PERIOD_COLUMNS = ("period", "cohort")
_INTEGER_KEYS = frozenset({"hour", "weekday", "day", "rank"})
_RATE_PARTS = ("numerator", "denominator", "ci_low", "ci_high")

KPI_COLUMNS = (
    "schema_version",
    "as_of",
    "section",
    "table",
    "kpi",
    "period",
    *(f"dim_{i}_{part}" for i in range(1, MAX_DIMENSIONS + 1) for part in ("name", "value")),
    "value",
    *_RATE_PARTS,
)
_NUMBERS = ("value", *_RATE_PARTS)


def kpi_table(report: Report) -> pd.DataFrame:
    """Every KPI of ``report`` as one long table (schema in the module documentation).

    >>> import pipelinekit as pk
    >>> rep = pk.report(pk.sample_dataset(), as_of="2025-12-31", sections="summary,cadence")
    >>> kpis = kpi_table(rep)
    >>> row = kpis[(kpis["table"] == "overall") & (kpis["kpi"] == "rate")].iloc[0]
    >>> bool(row["value"] == row["numerator"] / row["denominator"])
    True
    >>> sorted(set(kpis["section"]))
    ['cadence', 'summary']
    """
    rows: list[dict[str, Any]] = []
    base = {"schema_version": KPI_SCHEMA_VERSION, "as_of": report.as_of}
    for key, item in report.summary.items():
        row = {**base, "section": "summary", "table": "summary", "kpi": key}
        if isinstance(item, Rate):
            row.update(
                value=item.value,
                numerator=item.numerator,
                denominator=item.denominator,
                ci_low=item.ci_low,
                ci_high=item.ci_high,
            )
        else:
            # a KPI the data cannot answer (None) is a missing value, never 0
            row["value"] = float("nan") if item is None else float(item)
        rows.append(row)
    for section in report.sections:
        for name, frame in section.tables.items():
            rows.extend(_table_rows(frame, {**base, "section": section.key, "table": name}))
    out = pd.DataFrame(rows, columns=list(KPI_COLUMNS))
    out["schema_version"] = out["schema_version"].astype("int64")
    out["as_of"] = pd.to_datetime(out["as_of"]).astype("datetime64[us]")
    out["period"] = pd.to_datetime(out["period"]).astype("datetime64[us]")
    for column in KPI_COLUMNS:
        if column.startswith("dim_") or column in ("section", "table", "kpi"):
            out[column] = out[column].astype("object").where(out[column].notna(), None)
    return out.astype(dict.fromkeys(_NUMBERS, "float64"))


def _is_dimension(frame: pd.DataFrame, column: str) -> bool:
    dtype = frame[column].dtype
    if column in _INTEGER_KEYS:
        return True
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _rate_groups(columns: list[str]) -> dict[str, dict[str, str]]:
    """``rate`` columns with their counts and interval columns, by rate column."""
    present = set(columns)
    groups: dict[str, dict[str, str]] = {}
    for column in columns:
        if column == "rate":
            parts = {p: p for p in _RATE_PARTS if p in present}
        elif column.endswith("_rate"):
            stem = column.removesuffix("_rate")
            parts = {p: f"{stem}_{p}" for p in ("ci_low", "ci_high") if f"{stem}_{p}" in present}
        else:
            continue
        if "ci_low" in parts and "ci_high" in parts:
            groups[column] = parts
    return groups


def _table_rows(frame: pd.DataFrame, base: dict[str, Any]) -> list[dict[str, Any]]:
    columns = [str(c) for c in frame.columns]
    period = next(
        (
            c
            for c in _PERIOD_COLUMNS
            if c in columns and pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
        ),
        None,
    )
    dimensions = [c for c in columns if c != period and _is_dimension(frame, c)]
    if len(dimensions) > MAX_DIMENSIONS:
        return []
    groups = _rate_groups(columns)
    in_groups = {part for parts in groups.values() for part in parts.values()}
    measures = [
        c
        for c in columns
        if c != period and c not in dimensions and (c in groups or c not in in_groups)
    ]
    rows = []
    for record in frame.to_dict("records"):
        keys = dict(base)
        if period is not None:
            keys["period"] = _missing_to_none(record[period])
        for i, dim in enumerate(dimensions, start=1):
            keys[f"dim_{i}_name"] = dim
            value = _missing_to_none(record[dim])
            keys[f"dim_{i}_value"] = None if value is None else str(value)
        for measure in measures:
            row = {**keys, "kpi": measure, "value": _number(record[measure])}
            for part, column in groups.get(measure, {}).items():
                row[part] = _number(record[column])
            rows.append(row)
    return rows


def _missing_to_none(value: Any) -> Any:
    return None if value is None or value is pd.NaT or bool(pd.isna(value)) else value


def _number(value: Any) -> float | None:
    value = _missing_to_none(value)
    return None if value is None else float(value)
