"""Report section ``conversion``: conversion over time, stage-to-win odds, attribution.

The section comes last, after ``pipeline``: it looks at the lead funnel, the pipeline
and the campaigns over time, so it reads best once the reader has seen those three
sections' snapshot numbers; its tables are per cohort, per stage and per campaign.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipelinekit.metrics.attribution import MODELS, campaign_attribution
from pipelinekit.metrics.curves import conversion_curve, conversion_curve_summary
from pipelinekit.metrics.transitions import (
    stage_transitions,
    stage_win_probability,
    win_probability_calibration,
)
from pipelinekit.metrics.velocity import lead_velocity_rate
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["HORIZON", "UNATTRIBUTED", "build"]

#: Days of the SQL conversion curve.
HORIZON = 90
#: Days of the report's curve chart (weekly, plus the horizon).
CHART_DAYS = (*range(0, HORIZON, 7), HORIZON)
#: Milestones of the cohort table.
MILESTONES = (7, 30, HORIZON)
#: Campaign label of opportunities without any campaign touch.
UNATTRIBUTED = "(unattributed)"
_LOOKBACK = 90


_COUNTS = frozenset(
    {
        "lead_count",
        "event_count",
        "censored_count",
        "excluded_negative_count",
        "converted_median_days",
        "day",
        "at_risk_count",
        "entered_count",
        "exit_count",
        "open_count",
        "numerator",
        "denominator",
        "qualified_count",
        "previous_count",
    }
)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as nullable Int64 whatever engine computed them (a missing count would
    otherwise turn a pandas column into floats on some engines only)."""
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if column in _COUNTS:
            out[column] = pd.array(
                [None if pd.isna(v) else int(v) for v in out[column]], dtype="Int64"
            )
    return out


def _cohort(period: Any) -> str:
    if period is None or period is pd.NaT or (isinstance(period, float) and math.isnan(period)):
        return "all"
    return pd.Timestamp(period).strftime("%Y-%m")


def _curve_tables(ctx: SectionContext) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    leads, opps = ctx.table("leads"), ctx.table("opportunities")
    kw: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz, "horizon": HORIZON}
    summary = to_pandas(conversion_curve_summary(leads, opps, facts=ctx.facts, **kw))
    curve = to_pandas(conversion_curve(leads, opps, facts=ctx.facts, **kw))
    curve["cohort"] = [_cohort(p) for p in curve["period"]]
    summary["cohort"] = [_cohort(p) for p in summary["period"]]
    wide = summary[
        [
            "cohort",
            "lead_count",
            "excluded_negative_count",
            "event_count",
            "censored_count",
            "converted_median_days",
            "median_days",
        ]
    ]
    for day in MILESTONES:
        values = curve.loc[curve["day"] == day, ["cohort", "rate"]].rename(
            columns={"rate": f"day_{day}_rate"}
        )
        wide = wide.merge(values, on="cohort", how="left")
    bands = summary[["cohort", "ci_low", "ci_high"]]
    wide = wide.merge(bands, on="cohort", how="left")
    cohorts = sorted((c for c in wide["cohort"] if c != "all"), reverse=True)
    # no leads (an empty leads table): no curve at all, not even the all-leads row
    ordered = ["all", *cohorts] if (wide["cohort"] == "all").any() else cohorts
    wide = wide.set_index("cohort").loc[ordered].reset_index()
    by_cohort = wide[
        [
            "cohort",
            "lead_count",
            "event_count",
            *[f"day_{d}_rate" for d in MILESTONES],
            "ci_low",
            "ci_high",
            "converted_median_days",
            "censored_count",
            "excluded_negative_count",
        ]
    ]
    # the chart: all leads and every third cohort back from the latest
    shown = ["all", *cohorts[::3][:4]]
    points = curve[curve["cohort"].isin(shown) & curve["day"].isin(CHART_DAYS)]
    points = points.assign(order=points["cohort"].map({c: i for i, c in enumerate(shown)}))
    points = points.sort_values(["order", "day"], kind="mergesort")[
        ["cohort", "day", "at_risk_count", "rate", "ci_low", "ci_high"]
    ]
    rows = summary[summary["cohort"] == "all"]
    everyone = rows.iloc[0] if len(rows) else None
    facts = {
        "as_of": ctx.as_of.isoformat(),
        "horizon": HORIZON,
        "rate": None if everyone is None else everyone["rate"],
        "days": None if everyone is None else everyone["converted_median_days"],
        "excluded": 0 if everyone is None else int(everyone["excluded_negative_count"]),
    }
    return by_cohort, points.reset_index(drop=True), facts


def _stage_tables(ctx: SectionContext) -> dict[str, pd.DataFrame]:
    if not ctx.has_rows("stage_changes"):
        return {}
    history, opps = ctx.table("stage_changes"), ctx.table("opportunities")
    kw: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    odds = to_pandas(stage_win_probability(history, opportunities=opps, **kw))
    tables = {
        "stage_win": odds[
            [
                "stage",
                "kind",
                "entered_count",
                "exit_count",
                "open_count",
                "p_win",
                "p_lost",
                "p_unresolved",
                "mean_days",
                "expected_days_to_close",
            ]
        ],
        "transitions": to_pandas(stage_transitions(history, opportunities=opps, **kw)),
    }
    names = to_pandas(opps).columns
    if "probability" in names:
        calibration = to_pandas(win_probability_calibration(opps, history, **kw))
        tables["calibration"] = calibration[
            [
                *("stage", "open_count", "crm_probability", "p_win"),
                *("numerator", "denominator", "rate", "ci_low", "ci_high", "gap"),
            ]
        ]
    return tables


def _attribution_tables(ctx: SectionContext) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    leads, opps = ctx.table("leads"), ctx.table("opportunities")
    members = ctx.table("campaign_members") if ctx.given("campaign_members") else None
    credit = to_pandas(
        campaign_attribution(
            leads,
            opps,
            campaign_members=members,
            as_of=ctx.as_of,
            lookback=_LOOKBACK,
            tz=ctx.tz,
        )
    )
    names = to_pandas(ctx.table("campaigns"))
    names = (
        names[["campaign_id", "name"]]
        if "name" in names.columns
        else names[["campaign_id"]].assign(name=None)
    )
    credit["campaign_id"] = (
        credit["campaign_id"].astype(object).where(credit["campaign_id"].notna(), UNATTRIBUTED)
    )
    tables: dict[str, pd.DataFrame] = {}
    for measure, table in (
        ("sql_credit", "attribution_sqls"),
        ("won_amount_credit", "attribution_won_amount"),
    ):
        wide = credit.pivot_table(
            index="campaign_id", columns="model", values=measure, aggfunc="sum", sort=False
        ).reset_index()
        wide.columns.name = None
        # no opportunity to credit: the pivot has no model columns, the table no rows
        wide = wide.reindex(columns=["campaign_id", *MODELS])
        wide = wide.merge(names, on="campaign_id", how="left")
        wide["order"] = wide["campaign_id"] == UNATTRIBUTED
        wide = wide.sort_values(
            ["order", "linear", "campaign_id"], ascending=[True, False, True], kind="mergesort"
        )
        tables[table] = wide[["campaign_id", "name", *MODELS]].reset_index(drop=True)
    # first-touch credits are 0 or 1 per opportunity: their sum is the SQL count exactly
    first = credit[credit["model"] == "first"]
    unattributed = first[first["campaign_id"] == UNATTRIBUTED]
    params = {
        "as_of": ctx.as_of.isoformat(),
        "lookback": _LOOKBACK,
        "sqls": int(first["sql_credit"].sum()),
        "unattributed": int(unattributed["opportunity_count"].sum()),
        "label": UNATTRIBUTED,
    }
    return tables, params


def build(ctx: SectionContext) -> Section:
    """The conversion-over-time section of the report as of ``as_of``.

    Tables: ``sql_curve_by_cohort`` (per month of lead creation and all leads: the
    Kaplan-Meier share that became SQLs by day 7, 30 and 90, the 95% band at day 90,
    the median days of the converting leads), ``sql_curve`` (the curve of all leads
    and every third cohort, weekly points, for the chart), ``stage_win`` (win
    probability and expected days to close per stage, with a stage history),
    ``transitions`` (stage-to-stage rates), ``calibration`` (the CRM's probability
    against the history, with a ``probability`` column), ``attribution_sqls`` and
    ``attribution_won_amount`` (SQL count and won amount credited to each campaign
    under each model) and ``lead_velocity`` (month-over-month growth of SQLs, full
    months).

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> list(section.tables)[:3]
    ['sql_curve_by_cohort', 'sql_curve', 'stage_win']
    """
    by_cohort, points, curve_params = _curve_tables(ctx)
    tables: dict[str, pd.DataFrame] = {"sql_curve_by_cohort": by_cohort, "sql_curve": points}
    stage_tables = _stage_tables(ctx)
    tables.update(stage_tables)
    attribution, attribution_params = _attribution_tables(ctx)
    tables.update(attribution)
    velocity = to_pandas(
        lead_velocity_rate(
            ctx.table("leads"), ctx.table("opportunities"), as_of=ctx.as_of, tz=ctx.tz
        )
    ).tail(12)
    velocity = velocity[
        ["period", "qualified_count", "previous_count", "rate", "ci_low", "ci_high"]
    ].reset_index(drop=True)
    velocity["period"] = pd.to_datetime(velocity["period"]).dt.strftime("%Y-%m")
    tables["lead_velocity"] = velocity
    notes = [Note("conversion_curve", curve_params)]
    if curve_params["days"] is not None and not pd.isna(curve_params["days"]):
        notes.append(Note("conversion_median", {**curve_params, "days": int(curve_params["days"])}))
    if stage_tables:
        notes.append(Note("stage_win"))
    notes.append(Note("attribution", attribution_params))
    if not ctx.given("campaign_members"):
        notes.append(Note("attribution_fallback"))
    notes.append(Note("lead_velocity"))
    charts = [
        Chart(
            kind="line",
            table="sql_curve",
            x="day",
            y="rate",
            series="cohort",
            percent=True,
            title="SQL conversion curve by lead cohort",
        )
    ]
    if stage_tables:
        charts.append(
            Chart(
                kind="hbar",
                table="stage_win",
                x="stage",
                y="p_win",
                percent=True,
                title="Win probability by stage",
            )
        )
    return Section(
        key="conversion",
        title="Conversion over time",
        tables={name: _typed(frame) for name, frame in tables.items()},
        notes=tuple(notes),
        charts=tuple(charts),
    )
