"""Report section ``activity``: connect rates by direction, hour and weekday, talk time,
email engagement, speed to lead and approach rates."""

from __future__ import annotations

from typing import Any

from pipelinekit.metrics.activity import (
    call_connect_sql_chain,
    connect_rate,
    email_engagement,
    talk_time,
)
from pipelinekit.metrics.approach import (
    next_business_day_rate,
    same_day_approach_rate,
    speed_to_lead,
)
from pipelinekit.reporting.availability import without_rows
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["build"]


#: Calls an hour needs before the report names it the best hour (avoids noise).
_MIN_CALLS_FOR_BEST_HOUR = 30


def build(ctx: SectionContext) -> Section:
    """The report's activity section: connect rates by direction, hour and weekday,
    talk time per owner, email engagement per month and speed to lead per source.

    Without any activity the tables have no rows and a note says the section is not
    available (no invented zero calls or 0% approach rates).

    Examples
    --------
    >>> from datetime import date
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> section.tables["connect_by_direction"]["direction"].tolist()
    ['inbound', 'outbound']
    """
    acts = ctx.table("activities")
    leads = ctx.table("leads")
    opts: dict[str, Any] = {"as_of": ctx.as_of, "tz": ctx.tz, "facts": ctx.facts}
    tables = {
        "connect_by_direction": connect_rate(acts, by="direction", **opts),
        "outbound_connect_by_hour": connect_rate(acts, by="hour", direction="outbound", **opts),
        "outbound_connect_by_weekday": connect_rate(
            acts, by="weekday", direction="outbound", **opts
        ),
        "outbound_connect_by_weekday_hour": connect_rate(
            acts, by=["weekday", "hour"], direction="outbound", **opts
        ),
        "talk_time_by_owner": talk_time(acts, by="owner_id", **opts),
        "call_connect_sql_by_month": call_connect_sql_chain(
            acts, ctx.table("opportunities"), freq="month", as_of=ctx.as_of, tz=ctx.tz
        ),
        "email_by_month": email_engagement(acts, freq="month", **opts),
        "speed_to_lead_hours_by_source": speed_to_lead(
            leads, acts, by="source", unit="hours", **opts
        ),
        "same_day_approach_by_source": same_day_approach_rate(leads, acts, by="source", **opts),
        "next_business_day_approach_by_source": next_business_day_rate(
            leads, acts, by="source", **opts
        ),
    }
    frames = {name: to_pandas(frame) for name, frame in tables.items()}
    email = frames["email_by_month"]
    frames["email_by_month"] = email.loc[
        :, ["period", "sent_count", "delivered_count", "open_rate", "click_rate", "reply_rate"]
    ]
    hour = frames["outbound_connect_by_hour"]
    notes = [Note("connect_definition"), Note("hours_local")]
    frames, missing = without_rows(frames, ctx.gaps, "activities")
    notes += missing
    hour = frames["outbound_connect_by_hour"]
    active = hour[hour["denominator"] >= _MIN_CALLS_FOR_BEST_HOUR]
    if len(active):
        best = active.sort_values(["rate", "hour"], ascending=[False, True]).iloc[0]
        notes.append(
            Note(
                "best_hour",
                {
                    "hour": int(best["hour"]),
                    "rate": float(best["rate"]),
                    "numerator": int(best["numerator"]),
                    "denominator": int(best["denominator"]),
                },
            )
        )
    charts = (
        Chart(
            kind="heatmap",
            table="outbound_connect_by_weekday_hour",
            x="hour",
            y="weekday",
            value="rate",
            percent=True,
            title="Outbound connect rate by weekday and hour",
        ),
        Chart(
            kind="bar",
            table="outbound_connect_by_hour",
            x="hour",
            y="rate",
            percent=True,
            title="Outbound connect rate by hour",
        ),
        Chart(
            kind="bar",
            table="outbound_connect_by_weekday",
            x="weekday",
            y="rate",
            percent=True,
            title="Outbound connect rate by weekday",
        ),
        Chart(
            kind="hbar",
            table="same_day_approach_by_source",
            x="source",
            y="rate",
            percent=True,
            title="Same-day approach rate by source",
        ),
    )
    return Section(
        key="activity",
        title="Activity and connect",
        tables=frames,
        notes=tuple(notes),
        charts=charts,
    )
