"""The report's ``summary``: the headline KPIs of DESIGN section 4, as of a day.

Every key is computed as of the end of the ``as_of`` day: a row counts when its own
date (leads ``created_at``, activities ``occurred_at``, opportunities ``created_at``)
is before ``as_of + 1 day``; an opportunity validated or closed later is an SQL that
is not yet valid or closed.

No data is not zero: a key whose input table is absent or empty, or whose defining
column is empty in every row, is ``None`` (not available; see
:mod:`pipelinekit.reporting.availability`), never an invented 0 or 0%.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import (
    flag,
)
from pipelinekit.dataset import Dataset
from pipelinekit.facts import Facts
from pipelinekit.facts.opportunities import with_resolved_account, with_target_flag
from pipelinekit.metrics.allocation import DEFAULT_CAPACITY_BANDS, capacity_overruns
from pipelinekit.metrics.cadence import Cadence, cadence_summary
from pipelinekit.periods import as_of_cutoff, parse_as_of
from pipelinekit.rates import Rate, ZeroDivision, rate
from pipelinekit.reporting.availability import DataGaps, data_gaps

__all__ = ["SUMMARY_KEYS", "summary"]

_TABLES = ("leads", "activities", "opportunities", "accounts", "reps")

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
    gaps: DataGaps | None = None,
) -> dict[str, Rate | int | float | None]:
    """Headline KPIs as of the end of ``as_of`` (keys :data:`SUMMARY_KEYS`).

    Counts are ``int``, amounts and talk time ``float``, rates :class:`Rate`; a KPI
    the data cannot answer is ``None`` (for example every activity KPI when there are
    no activities; :func:`~pipelinekit.reporting.availability.data_gaps` says why).
    An empty leads table is not a gap: lead counts are 0 and lead rates undefined.
    ``facts`` (built from the same dataset as of the same day, as the report passes)
    shares the per-lead journey with the report's sections; ``gaps`` (from the same
    tables) saves computing them again.

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
    day = parse_as_of(as_of)
    natives = {n: dataset.table(n) for n in _TABLES}
    if facts is None:
        facts = Facts(natives, as_of=day, tz=dataset.tz)
    else:
        natives = {n: facts.native(n) for n in _TABLES}
    cadence = Cadence(calls=cadence_calls, mails=cadence_mails, window_days=cadence_window_days)
    common: dict[str, Any] = {"as_of": day, "tz": dataset.tz, "facts": facts}

    out: dict[str, Any] = {}
    out.update(_lead_counts(facts.journey()))
    out.update(_activity_counts(facts.activities()))
    out.update(_opportunity_counts(facts, cutoff))
    out["same_day"] = _same_day_touched(facts.activities(), cutoff)
    compliance = nw.from_native(
        cadence_summary(natives["leads"], natives["activities"], by=(), cadence=cadence, **common)
    )
    numerator, denominator = _first_row(compliance, "numerator", "denominator")
    out["cadence_compliant"], out["cadence_eligible"] = numerator, denominator
    overruns = capacity_overruns(
        natives["reps"],
        natives["opportunities"],
        as_of=day,
        capacity_bands=capacity_bands,
        tz=dataset.tz,
    )
    out["sql_over_capacity_rep_months"] = _row_count(overruns)

    def r(num: str, den: str) -> Rate:
        return rate(out[num], out[den], zero_division=zero_division)

    result: dict[str, Rate | int | float | None] = {
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
    if gaps is None:
        gaps = data_gaps({n: dataset.table(n) for n in _TABLES}, capacity_bands=capacity_bands)
    return {k: None if k in gaps.unavailable else _plain(v) for k, v in result.items()}


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


def _activity_counts(activity_rows: nw.LazyFrame[Any]) -> dict[str, Any]:
    """Calls, connects, talk time and email counts from the activity fact."""
    flags = {
        "calls": "is_call",
        "connected_calls": "is_connected_call",
        "emails_delivered": "is_email_delivered",
        "emails_opened": "is_email_opened",
        "emails_clicked": "is_email_clicked",
    }
    return _scalar_row(
        activity_rows.with_columns(
            *[flag(nw.col(column)).alias(name) for name, column in flags.items()],
            nw.when(nw.col("is_call")).then(nw.col("duration_s").cast(nw.Float64)).alias("talk"),
        ),
        *[nw.col(name).sum() for name in flags],
        nw.col("talk").sum().alias("talk_time_s"),
    )


def _opportunity_counts(facts: Facts, cutoff: datetime) -> dict[str, Any]:
    """SQLs, valid, closed, won (and their amount) and the target accounts' share, from
    the opportunity state (accounts resolved through the lead)."""
    state = with_target_flag(
        with_resolved_account(facts.opportunity_state(), facts.table("leads")),
        facts.table("accounts"),
    )
    won = nw.col("won_flag") == 1
    target = nw.col("target_flag") == 1
    flagged = state.with_columns(
        flag((nw.col("won_flag") == 1) & (nw.col("valid_flag") == 1)).alias("valid_won"),
        nw.when(won).then(nw.col("amount").cast(nw.Float64)).alias("won_amount"),
        nw.when(won & target).then(nw.col("amount").cast(nw.Float64)).alias("target_won_amount"),
    )
    return _scalar_row(
        flagged,
        nw.len().alias("sqls"),
        nw.col("valid_flag").sum().alias("valid_opportunities"),
        nw.col("closed_flag").sum().alias("closed"),
        nw.col("won_flag").sum().alias("won"),
        nw.col("valid_won").sum(),
        nw.col("won_amount").sum(),
        nw.col("target_flag").sum().alias("target_account_sqls"),
        nw.col("target_won_amount").sum().alias("target_account_won_amount"),
    )


def _same_day_touched(activity_rows: nw.LazyFrame[Any], cutoff: datetime) -> int:
    """Inbound leads created by ``cutoff`` with an outbound touch on their creation day."""
    created = nw.col("lead_created_at")
    hit = activity_rows.filter(
        nw.col("is_touch")
        & (nw.col("lead_origin") == "inbound").fill_null(value=False)
        & (created < cutoff).fill_null(value=False)
        & (nw.col("day") == created.dt.truncate("1d")).fill_null(value=False)
    )
    return int(_scalar_row(hit, nw.col("lead_id").n_unique().alias("n"))["n"])


def _first_row(frame: Any, *columns: str) -> tuple[Any, ...]:
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    row = eager.select(*columns).rows(named=True)[0]
    return tuple(0 if row[c] is None else _compat.python_value(row[c]) for c in columns)


def _row_count(native: Any) -> int:
    frame = nw.from_native(native)
    lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
    return int(_compat.python_value(lazy.select(nw.len()).collect().item()))
