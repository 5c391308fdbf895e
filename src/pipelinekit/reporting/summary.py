"""The report's ``summary``: the headline KPIs of DESIGN section 4, as of a day.

Every key is computed as of the end of the ``as_of`` day: a row counts when its own
date (leads ``created_at``, activities ``occurred_at``, opportunities ``created_at``)
is before ``as_of + 1 day``; an opportunity validated or closed later is an SQL that
is not yet valid or closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import (
    email_reached,
    flag,
    is_call,
    is_email_delivered,
    touch,
)
from pipelinekit.dataset import Dataset
from pipelinekit.facts import Facts
from pipelinekit.metrics.allocation import DEFAULT_CAPACITY_BANDS, monthly_capacity
from pipelinekit.metrics.cadence import cadence_window_counts
from pipelinekit.periods import as_of_cutoff, parse_as_of, period_start
from pipelinekit.rates import Rate, ZeroDivision, rate

__all__ = ["SUMMARY_KEYS", "summary"]

#: Keys of the summary object, in report order (DESIGN section 4).
SUMMARY_KEYS = (
    "leads",
    "inbound_leads",
    "touched_leads",
    "connected_leads",
    "sqls",
    "valid_opportunities",
    "won",
    "won_amount",
    "calls",
    "connected_calls",
    "call_connect_rate",
    "talk_time_s",
    "emails_delivered",
    "email_open_rate",
    "email_click_rate",
    "lead_to_sql_rate",
    "sql_to_valid_rate",
    "valid_to_won_rate",
    "win_rate",
    "same_day_approach_rate",
    "cadence_5c2m_rate",
    "sql_over_capacity_rep_months",
    "target_account_sqls",
    "target_account_won_amount",
)


def _scalar_row(frame: nw.LazyFrame[Any], *exprs: nw.Expr) -> dict[str, Any]:
    row = frame.select(*exprs).collect().rows(named=True)[0]
    return {k: (0 if v is None else _compat.python_value(v)) for k, v in row.items()}


def summary(
    dataset: Dataset,
    *,
    as_of: date | datetime | str,
    cadence_calls: int = 5,
    cadence_mails: int = 2,
    cadence_window_days: int = 14,
    capacity_bands: Mapping[str, int] = DEFAULT_CAPACITY_BANDS,
    zero_division: ZeroDivision = "nan",
    facts: Facts | None = None,
) -> dict[str, Rate | int | float]:
    """Headline KPIs as of the end of ``as_of`` (keys :data:`SUMMARY_KEYS`).

    Counts are ``int``, amounts and talk time ``float``, rates :class:`Rate`.
    ``facts`` (built from the same dataset as of the same day, as the report passes)
    shares the per-lead journey with the report's sections.

    Examples
    --------
    >>> import pipelinekit as pk
    >>> s = summary(pk.sample_dataset(), as_of="2025-12-31")
    >>> list(s) == list(SUMMARY_KEYS)
    True
    >>> 0 <= s["lead_to_sql_rate"].value <= 1
    True
    """
    cutoff = as_of_cutoff(as_of)
    if facts is None:
        names = ("leads", "activities", "opportunities", "accounts", "reps")
        lazies, _ = _compat.enter([dataset.table(n) for n in names], function="summary")
        facts = Facts(
            dict(zip(names, lazies, strict=True)), as_of=parse_as_of(as_of), tz=dataset.tz
        )
    all_leads, all_opps = facts.table("leads"), facts.table("opportunities")
    accounts, reps = facts.table("accounts"), facts.table("reps")
    leads = all_leads.filter(nw.col("created_at") < cutoff)
    acts = facts.table("activities").filter(nw.col("occurred_at") < cutoff)
    opps = all_opps.filter(nw.col("created_at") < cutoff)

    out: dict[str, Any] = {}
    out.update(_lead_counts(facts.journey()))
    out.update(_activity_counts(acts))
    out.update(_opportunity_counts(opps, cutoff))
    out["same_day"] = _same_day_touched(leads, acts)
    out.update(
        _cadence_counts(
            leads, acts, cutoff, calls=cadence_calls, mails=cadence_mails, days=cadence_window_days
        )
    )
    out["sql_over_capacity_rep_months"] = _over_capacity(opps, reps, capacity_bands)
    out.update(_target_account(opps, all_leads, accounts, cutoff))

    def r(num: str, den: str) -> Rate:
        return rate(out[num], out[den], zero_division=zero_division)

    result: dict[str, Rate | int | float] = {
        "leads": out["leads"],
        "inbound_leads": out["inbound_leads"],
        "touched_leads": out["touched_leads"],
        "connected_leads": out["connected_leads"],
        "sqls": out["sqls"],
        "valid_opportunities": out["valid_opportunities"],
        "won": out["won"],
        "won_amount": float(out["won_amount"]),
        "calls": out["calls"],
        "connected_calls": out["connected_calls"],
        "call_connect_rate": r("connected_calls", "calls"),
        "talk_time_s": float(out["talk_time_s"]),
        "emails_delivered": out["emails_delivered"],
        "email_open_rate": r("emails_opened", "emails_delivered"),
        "email_click_rate": r("emails_clicked", "emails_delivered"),
        "lead_to_sql_rate": r("leads_with_sql", "leads"),
        "sql_to_valid_rate": r("valid_opportunities", "sqls"),
        "valid_to_won_rate": r("valid_won", "valid_opportunities"),
        "win_rate": r("won", "closed"),
        "same_day_approach_rate": r("same_day", "inbound_leads"),
        "cadence_5c2m_rate": r("cadence_compliant", "cadence_eligible"),
        "sql_over_capacity_rep_months": out["sql_over_capacity_rep_months"],
        "target_account_sqls": out["target_account_sqls"],
        "target_account_won_amount": float(out["target_account_won_amount"]),
    }
    return {k: _plain(v) for k, v in result.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Rate):
        return value
    if isinstance(value, float):
        return value
    return int(value)


def _lead_counts(journey: nw.LazyFrame[Any]) -> dict[str, Any]:
    return _scalar_row(
        journey,
        nw.len().alias("leads"),
        flag(nw.col("origin") == "inbound").sum().alias("inbound_leads"),
        flag(~nw.col("first_touch_at").is_null()).sum().alias("touched_leads"),
        flag(~nw.col("first_connect_at").is_null()).sum().alias("connected_leads"),
        flag(nw.col("opportunity_count") > 0).sum().alias("leads_with_sql"),
    )


def _activity_counts(acts: nw.LazyFrame[Any]) -> dict[str, Any]:
    connected_call = is_call() & (nw.col("outcome") == "connected").fill_null(value=False)
    flagged = acts.with_columns(
        flag(is_call()).alias("calls"),
        flag(connected_call).alias("connected_calls"),
        nw.when(is_call()).then(nw.col("duration_s").cast(nw.Float64)).alias("talk"),
        flag(is_email_delivered()).alias("emails_delivered"),
        flag(email_reached(("opened", "clicked", "replied"))).alias("emails_opened"),
        flag(email_reached(("clicked", "replied"))).alias("emails_clicked"),
    )
    names = ("calls", "connected_calls", "emails_delivered", "emails_opened", "emails_clicked")
    return _scalar_row(
        flagged,
        *[nw.col(n).sum() for n in names],
        nw.col("talk").sum().alias("talk_time_s"),
    )


def _opportunity_counts(opps: nw.LazyFrame[Any], cutoff: datetime) -> dict[str, Any]:
    valid = (nw.col("validated_at") < cutoff).fill_null(value=False)
    closed = (nw.col("closed_at") < cutoff).fill_null(value=False)
    won = closed & nw.col("is_won").fill_null(value=False)
    flagged = opps.with_columns(
        flag(valid).alias("valid_opportunities"),
        flag(closed).alias("closed"),
        flag(won).alias("won"),
        flag(won & valid).alias("valid_won"),
        nw.when(won).then(nw.col("amount").cast(nw.Float64)).alias("won_amount"),
    )
    names = ("valid_opportunities", "closed", "won", "valid_won", "won_amount")
    return _scalar_row(flagged, nw.len().alias("sqls"), *[nw.col(n).sum() for n in names])


def _same_day_touched(leads: nw.LazyFrame[Any], acts: nw.LazyFrame[Any]) -> int:
    inbound = leads.filter((nw.col("origin") == "inbound").fill_null(value=False)).select(
        nw.col("lead_id"), nw.col("created_at").dt.truncate("1d").alias("day")
    )
    touch_days = (
        acts.filter(touch() & ~nw.col("lead_id").is_null())
        .select(nw.col("lead_id"), nw.col("occurred_at").dt.truncate("1d").alias("day"))
        .unique(["lead_id", "day"])
    )
    hit = inbound.join(touch_days, on=["lead_id", "day"], how="inner")
    return int(_scalar_row(hit, nw.col("lead_id").n_unique().alias("n"))["n"])


def _cadence_counts(
    leads: nw.LazyFrame[Any],
    acts: nw.LazyFrame[Any],
    cutoff: datetime,
    *,
    calls: int,
    mails: int,
    days: int,
) -> dict[str, Any]:
    counts = cadence_window_counts(leads, acts, window=timedelta(days=days), cutoff=cutoff)
    eligible = (nw.col("window_closed") == 1) & (nw.col("connects") == 0)
    compliant = eligible & (nw.col("calls") >= calls) & (nw.col("mails") >= mails)
    return _scalar_row(
        counts,
        flag(eligible).sum().alias("cadence_eligible"),
        flag(compliant).sum().alias("cadence_compliant"),
    )


def _over_capacity(
    opps: nw.LazyFrame[Any], reps: nw.LazyFrame[Any], bands: Mapping[str, int]
) -> int:
    per_month = (
        opps.filter(~nw.col("owner_id").is_null())
        .with_columns(period_start(nw.col("created_at"), "month").alias("month"))
        .group_by("owner_id", "month")
        .agg(nw.len().alias("sqls"))
    )
    capacity = monthly_capacity(reps, bands).rename({"rep_id": "owner_id"})
    joined = per_month.join(capacity, on="owner_id", how="inner")
    over = (nw.col("sqls") > nw.col("capacity")).fill_null(value=False)
    return int(_scalar_row(joined, flag(over).sum().alias("n"))["n"])


def _target_account(
    opps: nw.LazyFrame[Any],
    all_leads: nw.LazyFrame[Any],
    accounts: nw.LazyFrame[Any],
    cutoff: datetime,
) -> dict[str, Any]:
    lead_accounts = all_leads.select(
        nw.col("lead_id"), nw.col("account_id").alias("lead_account_id")
    )
    targets = accounts.filter(nw.col("is_target").fill_null(value=False)).select(
        nw.col("account_id").alias("opp_account"), nw.lit(1).cast(nw.Int64).alias("is_target_flag")
    )
    closed = (nw.col("closed_at") < cutoff).fill_null(value=False)
    won = closed & nw.col("is_won").fill_null(value=False)
    joined = (
        opps.join(lead_accounts, on="lead_id", how="left")
        .with_columns(
            nw.coalesce(nw.col("account_id"), nw.col("lead_account_id")).alias("opp_account")
        )
        .join(targets, on="opp_account", how="left")
        .with_columns(nw.col("is_target_flag").fill_null(0))
    )
    is_target = nw.col("is_target_flag") == 1
    return _scalar_row(
        joined,
        flag(is_target).sum().alias("target_account_sqls"),
        nw.when(is_target & won)
        .then(nw.col("amount").cast(nw.Float64))
        .sum()
        .alias("target_account_won_amount"),
    )
