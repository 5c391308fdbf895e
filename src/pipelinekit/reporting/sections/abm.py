"""Report section ``abm``: the target-account panel, BDR and nurturing KPIs, fit scores."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.abm import (
    COVERAGE_METRICS,
    VOLUME_METRICS,
    abm_summary,
    target_account_panel,
)
from pipelinekit.metrics.bdr import (
    bdr_kpis,
    nurturing_kpis,
)
from pipelinekit.metrics.scoring import target_suggestions
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]

_SUGGESTION_COLUMNS = [
    "rank",
    "account_id",
    "industry",
    "employee_band",
    "revenue_band",
    "denominator",
    "score",
]


def _month_label(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["period"] = pd.to_datetime(out["period"]).dt.strftime("%Y-%m")
    return out


def _monthly_panel(monthly: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """Per period (last ``months``): target leads, SQLs, wins, won amount, shares, coverage."""
    shown = ("leads", "sqls", "won", "won_amount")
    metrics = [*VOLUME_METRICS, *COVERAGE_METRICS]
    numerator = monthly.pivot(index="period", columns="metric", values="numerator")
    rate = monthly.pivot(index="period", columns="metric", values="rate")
    numerator, rate = numerator.reindex(columns=metrics), rate.reindex(columns=metrics)
    table = pd.DataFrame({"period": numerator.index})
    for metric in shown:
        table[metric] = numerator[metric].to_numpy()
        table[f"{metric}_share"] = rate[metric].to_numpy()
    table["touch_coverage"] = rate["touch_coverage"].to_numpy()
    return table.tail(months).reset_index(drop=True)


def build(ctx: SectionContext) -> Section:
    """The target panel as of the report day.

    Tables: ``targets`` (:func:`abm_summary` up to the day), ``monthly`` (target
    leads, SQLs, wins and their shares, last 12 months), ``bdr`` (:func:`bdr_kpis` by
    month, last 12 months), ``nurturing`` (:func:`nurturing_kpis`), ``accounts`` (the
    20 target accounts with the most won amount, SQLs and leads) and
    ``fit_suggestions`` (the 10 best-scoring non-customer accounts,
    :func:`~pipelinekit.metrics.scoring.target_suggestions`). The as-of tables are
    prepared once (shared facts) for the five ABM calls.

    Examples
    --------
    >>> from datetime import date
    >>> from pipelinekit import Dataset
    >>> from pipelinekit.sample import generate_sample
    >>> ds = Dataset(**generate_sample(leads=300, seed=1))
    >>> section = build(SectionContext.build(ds, date(2025, 12, 31)))
    >>> section.key, list(section.tables)
    ('abm', ['targets', 'monthly', 'bdr', 'nurturing', 'accounts', 'fit_suggestions'])
    """
    tables = [ctx.table(n) for n in ("accounts", "leads", "activities", "opportunities")]
    accounts, leads, _, opportunities = tables
    common: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    shared: dict[str, Any] = {**common, "facts": ctx.facts}
    targets = to_pandas(abm_summary(*tables, **shared))
    monthly = to_pandas(abm_summary(*tables, freq="month", **shared))
    bdr = _month_label(to_pandas(bdr_kpis(*tables, freq="month", **shared)).tail(12))
    nurturing = to_pandas(nurturing_kpis(*tables, **shared))
    panel = to_pandas(target_account_panel(*tables, **shared))
    n_targets = len(panel)
    uncovered = int((panel["lead_count"] == 0).sum()) if n_targets else 0
    top_accounts = panel.sort_values(
        ["won_amount", "sql_count", "lead_count", "account_id"],
        ascending=[False, False, False, True],
        kind="mergesort",
    ).head(20)
    suggestions = to_pandas(
        target_suggestions(accounts, opportunities, leads=leads, top=10, **common)
    )
    notes: tuple[Note, ...] = (
        Note(
            "abm_targets",
            {"targets": n_targets, "uncovered": uncovered, "as_of": ctx.as_of.isoformat()},
        ),
        Note("abm_denominators"),
        Note("abm_fit"),
    )
    frames = {
        "targets": targets.reset_index(drop=True),
        "monthly": _month_label(_monthly_panel(monthly)),
        "bdr": bdr.reset_index(drop=True),
        "nurturing": nurturing.reset_index(drop=True),
        "accounts": top_accounts.reset_index(drop=True),
        "fit_suggestions": suggestions[_SUGGESTION_COLUMNS].reset_index(drop=True),
    }
    # no target account flagged (or no accounts): the panel's zeros were never measured
    for what, names in (
        ("activities", ("bdr",)),
        ("accounts", None),
        ("accounts.is_target", ("targets", "monthly", "bdr", "nurturing", "accounts")),
    ):
        frames, missing = without_rows(frames, ctx.gaps, what, names)
        notes += missing
    return Section(
        key="abm",
        title="ABM target accounts",
        tables=frames,
        notes=notes,
        charts=(
            Chart(
                kind="hbar",
                table="targets",
                x="metric",
                y="rate",
                percent=True,
                title="Target accounts' share of the totals",
            ),
            Chart(
                kind="line",
                table="monthly",
                x="period",
                y=("leads_share", "sqls_share"),
                percent=True,
                title="Target-account share of leads and SQLs by month",
            ),
            Chart(
                kind="hbar",
                table="accounts",
                x="name",
                y="won_amount",
                title="Top target accounts by won amount",
            ),
        ),
    )
