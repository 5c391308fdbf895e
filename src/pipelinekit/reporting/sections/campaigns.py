"""Report section ``campaigns``: conversion per campaign, per year, per IS owner, alerts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelinekit.metrics.campaigns import (
    NO_CAMPAIGN,
    campaign_alerts,
    campaign_member_cvr,
    campaign_performance,
)
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


_REPORT_MIN_LEADS = 10


def build(ctx: SectionContext) -> Section:
    """The campaigns section of the report as of ``as_of``.

    Tables: ``campaigns`` (:func:`campaign_performance` with names), ``by_year`` (the
    yearly view), ``member_cvr`` (the 15 campaign x IS owner pairs with >= 10 leads and
    the highest lift, :func:`campaign_member_cvr`) and ``alerts`` (the flagged rows of
    :func:`campaign_alerts` by month, most recent first, at most 20). Leads without a
    campaign show as ``(no campaign)``.

    Examples
    --------
    >>> from datetime import date
    >>> from pipelinekit import Dataset
    >>> from pipelinekit.sample import generate_sample
    >>> ds = Dataset(**generate_sample(leads=300, seed=1))
    >>> section = build(SectionContext.build(ds, date(2025, 12, 31)))
    >>> section.key, list(section.tables)
    ('campaigns', ['campaigns', 'by_year', 'member_cvr', 'alerts'])
    """

    leads, opportunities, campaigns = (
        ctx.table(n) for n in ("leads", "opportunities", "campaigns")
    )
    common: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz}
    shown = ["campaign_id", "lead_count", "sql_count", "won_count", "won_amount", "rate"]
    names = to_pandas(campaigns)
    names = (
        names[["campaign_id", "name"]]
        if "name" in names.columns
        else names[["campaign_id"]].assign(name=None)
    )
    table = to_pandas(campaign_performance(leads, opportunities, campaigns=campaigns, **common))
    table = table.merge(names, on="campaign_id", how="left")[
        ["campaign_id", "name", *shown[1:], "ci_low", "ci_high"]
    ]
    by_year = to_pandas(
        campaign_performance(leads, opportunities, campaigns=campaigns, freq="year", **common)
    )[["campaign_id", "period", *shown[1:]]]
    by_year["period"] = pd.to_datetime(by_year["period"]).dt.strftime("%Y")
    members = to_pandas(campaign_member_cvr(leads, opportunities, **common))
    members = (
        members[members["lead_count"] >= _REPORT_MIN_LEADS]
        .sort_values(
            ["lift", "campaign_id", "owner_id"], ascending=[False, True, True], kind="mergesort"
        )
        .head(15)[
            ["campaign_id", "owner_id", "lead_count", "sql_count", "rate", "campaign_rate", "lift"]
        ]
    )
    alerts = to_pandas(campaign_alerts(leads, opportunities, campaigns=campaigns, **common))
    alerts = (
        alerts[alerts["alert"]]
        .sort_values(["period", "campaign_id"], ascending=[False, True], kind="mergesort")
        .head(20)[["campaign_id", "period", "previous_rate", "rate", "change", "z", "p_value"]]
    )
    alerts["period"] = pd.to_datetime(alerts["period"]).dt.strftime("%Y-%m")
    tables = {"campaigns": table, "by_year": by_year, "member_cvr": members, "alerts": alerts}
    for frame in tables.values():
        frame["campaign_id"] = frame["campaign_id"].fillna(NO_CAMPAIGN)
    notes = (
        Note("campaign_cvr", {"as_of": ctx.as_of.isoformat(), "no_campaign": NO_CAMPAIGN}),
        Note("campaign_member_cvr", {"min_leads": _REPORT_MIN_LEADS}),
        Note("campaign_alerts", {"points": 5}),
    )
    return Section(
        key="campaigns",
        title="Campaigns",
        tables={name: frame.reset_index(drop=True) for name, frame in tables.items()},
        notes=notes,
        charts=(
            Chart(
                kind="hbar",
                table="campaigns",
                x="name",
                y="rate",
                percent=True,
                title="SQL CVR by campaign",
            ),
        ),
    )
