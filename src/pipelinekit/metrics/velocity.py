"""Lead velocity rate: month-over-month growth of qualified leads.

A lead is *qualified* in the calendar month (dataset time zone) of its stage event:
``sql`` (default) = its earliest opportunity's ``created_at``; ``valid`` = the
earliest ``validated_at``; ``won`` = the earliest ``closed_at`` of a won opportunity;
``lead`` = its own ``created_at`` (plain lead growth). Only leads created and events
dated before the cut-off C (the end of the ``as_of`` day) count.

LVR(m) = q(m) / q(m - 1) - 1 for q the qualified leads of a month. Months run from
the first month with a lead (or an event) to the month of ``as_of``; months without
qualified leads are listed with 0. The first month has no previous month: its rate is
null. A previous month with 0 follows ``zero_division`` (NaN, 0 or an error).

The month of ``as_of`` is partial unless ``as_of`` is its last day:

- ``partial="exclude"`` (default): it is left out;
- ``partial="prorate"``: its count is scaled to the whole month,
  q * days in month / days observed (``projected_count``), and the rate uses that.

Interval: conditional on q(m) + q(m - 1) = n, q(m) is binomial with
p = r e / (r e + 1), r the ratio of the monthly rates and e the share of month m
observed (1 for full months); the Wilson interval of p, mapped through
r = p / ((1 - p) e), gives the interval of the ratio and so of LVR = r - 1.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4", "L5"],
...     "created_at": pd.to_datetime(["2025-01-05", "2025-01-06", "2025-02-01",
...                                   "2025-02-02", "2025-02-03"])})
>>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4", "O5"],
...     "lead_id": ["L1", "L2", "L3", "L4", "L5"],
...     "created_at": pd.to_datetime(["2025-01-10", "2025-01-20", "2025-02-10",
...                                   "2025-02-11", "2025-02-12"])})
>>> lead_velocity_rate(leads, opps, as_of="2025-03-10")[["period", "qualified_count",
...     "previous_count", "rate"]]
      period  qualified_count  previous_count  rate
0 2025-01-01                2            <NA>   NaN
1 2025-02-01                3               2   0.5
"""

from __future__ import annotations

import calendar
from datetime import datetime
from statistics import NormalDist
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_by, check_choice, check_confidence, check_zero_division
from pipelinekit._exprs import require_columns
from pipelinekit.periods import as_of_cutoff, parse_as_of
from pipelinekit.rates import raise_on_zero_denominator
from pipelinekit.types import DEFAULT_TZ, AsOf, By, ZeroDivision

__all__ = ["lead_velocity_rate"]

FrameT = TypeVar("FrameT")

QualifiedStage = Literal["sql", "valid", "won", "lead"]
Partial = Literal["exclude", "prorate"]

RESERVED = (
    "period",
    "qualified_count",
    "projected_count",
    "previous_count",
    "observed_share",
    "rate",
    "ci_low",
    "ci_high",
)

#: First month of the calendar spine (January 1900, as year * 12 + month - 1).
_FIRST_MONTH = 1900 * 12


def _month_index(expr: nw.Expr) -> nw.Expr:
    return (expr.dt.year().cast(nw.Int64) * 12 + expr.dt.month().cast(nw.Int64) - 1).cast(nw.Int64)


def lead_velocity_rate(
    leads: FrameT,
    opportunities: Any,
    *,
    as_of: AsOf,
    stage: QualifiedStage = "sql",
    partial: Partial = "exclude",
    by: By = (),
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """Month-over-month growth of qualified leads (リードベロシティレート, LVR).

    Parameters
    ----------
    leads, opportunities
        Canonical tables, any supported frame (same library). Leads need
        ``lead_id``, ``created_at`` and the ``by`` columns; opportunities
        ``lead_id``, ``created_at`` and, per stage, ``validated_at`` or
        ``closed_at``/``is_won``.
    as_of
        Required: the last day observed.
    stage
        ``"sql"`` (default), ``"valid"``, ``"won"`` or ``"lead"``.
    partial
        The month of ``as_of`` when it is not complete: ``"exclude"`` (default) or
        ``"prorate"``.
    by
        Lead columns to split by.
    zero_division
        Rate after a month with 0 qualified leads: ``"nan"`` (default), ``"0"``,
        ``"raise"``.
    confidence
        Level of the interval, default 0.95.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per ``by`` group and month: ``period``
    (month start), ``qualified_count``, ``observed_share`` (share of the month
    observed: 1 except a prorated current month), ``projected_count``
    (``qualified_count / observed_share``), ``previous_count`` (null for the first
    month), ``rate`` (LVR), ``ci_low``, ``ci_high``; sorted by groups and month.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...     "created_at": pd.to_datetime(["2025-01-05", "2025-02-03", "2025-02-10"])})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L1"],
    ...     "created_at": pd.to_datetime(["2025-01-07"])})
    >>> lvr = lead_velocity_rate(leads, opps, as_of="2025-02-14", stage="lead",
    ...                          partial="prorate")
    >>> lvr[["period", "qualified_count", "projected_count", "rate"]]
          period  qualified_count  projected_count  rate
    0 2025-01-01                1              1.0   NaN
    1 2025-02-01                2              4.0   3.0
    """
    chosen = check_choice("stage", stage, get_args(QualifiedStage))
    mode = check_choice("partial", partial, get_args(Partial))
    keys = check_by("by", by, reserved=RESERVED)
    zero_division = check_zero_division(zero_division)
    level = check_confidence(confidence)
    day = parse_as_of(as_of)
    cutoff = as_of_cutoff(day)
    (lf_leads, lf_opps), session = _compat.enter(
        [leads, opportunities], function="lead_velocity_rate"
    )
    needed = {"sql": (), "lead": (), "valid": ("validated_at",), "won": ("closed_at", "is_won")}
    require_columns(lf_leads, "leads", ("lead_id", "created_at", *keys))
    require_columns(lf_opps, "opportunities", ("lead_id", "created_at", *needed[chosen]))
    lf_leads = _compat.to_local_naive(lf_leads, ["created_at"], tz=tz, table="leads")
    lf_opps = _compat.to_local_naive(
        lf_opps, ["created_at", *needed[chosen][:1]], tz=tz, table="opportunities"
    )
    base = lf_leads.filter(nw.col("created_at") < cutoff).select(
        nw.col("lead_id"), nw.col("created_at"), *[nw.col(k) for k in keys]
    )
    if chosen == "lead":
        events = base.with_columns(nw.col("created_at").alias("__pk_at"))
    else:
        opps = lf_opps.filter(~nw.col("lead_id").is_null() & (nw.col("created_at") < cutoff))
        if chosen == "sql":
            moment = nw.col("created_at")
        elif chosen == "valid":
            moment = nw.when(nw.col("validated_at") < cutoff).then(nw.col("validated_at"))
        else:
            won = (nw.col("closed_at") < cutoff).fill_null(value=False) & nw.col(
                "is_won"
            ).fill_null(value=False)
            moment = nw.when(won).then(nw.col("closed_at"))
        first = (
            opps.select(nw.col("lead_id"), moment.cast(nw.Datetime("us")).alias("__pk_at"))
            .group_by("lead_id")
            .agg(nw.col("__pk_at").min())
        )
        events = base.join(first, on="lead_id", how="inner").filter(~nw.col("__pk_at").is_null())
    counts = (
        events.with_columns(
            _month_index(nw.col("__pk_at")).alias("__pk_m"), nw.lit(1).cast(nw.Int64).alias("q")
        )
        .group_by(*keys, "__pk_m")
        .agg(nw.col("q").sum())
    )
    current = day.year * 12 + day.month - 1
    start = base.select(_month_index(nw.col("created_at")).min().alias("__pk_first"))
    groups = base.select(*[nw.col(k) for k in keys]).unique() if keys else None
    months = list(range(_FIRST_MONTH, current + 1))
    calendar_table = _compat.from_columns(
        base,
        {"__pk_m": months, "period": [datetime(m // 12, m % 12 + 1, 1) for m in months]},
        {"__pk_m": nw.Int64(), "period": nw.Datetime("us")},
    )
    spine = (
        calendar_table.join(start, how="cross")
        .filter(nw.col("__pk_m") >= nw.col("__pk_first"))
        .select("__pk_m")
    )
    grid = spine if groups is None else groups.join(spine, how="cross")
    filled = (
        nw.concat(
            [
                counts.select(*keys, "__pk_m", nw.col("q").cast(nw.Int64)),
                grid.select(*keys, "__pk_m", nw.lit(0).cast(nw.Int64).alias("q")),
            ],
            how="vertical",
        )
        .group_by(*keys, "__pk_m")
        .agg(nw.col("q").sum())
        .with_columns(nw.lit(1).cast(nw.Int64).alias("__pk_p"))
    )
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    complete = day.day == days_in_month
    share = 1.0 if complete else day.day / days_in_month
    if not complete and mode == "exclude":
        filled = filled.filter(nw.col("__pk_m") < current)
    part = [*keys, "__pk_p"]
    q = nw.col("q")
    observed = nw.when(nw.col("__pk_m") == current).then(nw.lit(share)).otherwise(nw.lit(1.0))
    table = filled.with_columns(
        q.shift(1).over(*part, order_by="__pk_m").alias("__pk_prev"),
        nw.col("__pk_m").shift(1).over(*part, order_by="__pk_m").alias("__pk_prev_m"),
        observed.cast(nw.Float64).alias("observed_share"),
    )
    adjacent = (nw.col("__pk_prev_m") == nw.col("__pk_m") - 1).fill_null(value=False)
    prev = nw.when(adjacent).then(nw.col("__pk_prev"))
    table = table.with_columns(prev.cast(nw.Int64).alias("previous_count"))
    table = _with_growth(table, zero_division=zero_division, confidence=level)
    result = (
        table.join(calendar_table, on="__pk_m", how="left")
        .sort([*keys, "__pk_m"], nulls_last=True)
        .select(
            *[nw.col(k) for k in keys],
            nw.col("period"),
            q.cast(nw.Int64).alias("qualified_count"),
            nw.col("observed_share").cast(nw.Float64),
            (q.cast(nw.Float64) / nw.col("observed_share"))
            .cast(nw.Float64)
            .alias("projected_count"),
            nw.col("previous_count"),
            nw.col("rate"),
            nw.col("ci_low"),
            nw.col("ci_high"),
        )
    )
    if zero_division == "raise":
        raise_on_zero_denominator(
            session.collect(result).with_columns(nw.col("previous_count").fill_null(1)),
            "previous_count",
            "lead_velocity_rate",
        )
    return session.finish(result)  # type: ignore[no-any-return]


def _with_growth(
    table: nw.LazyFrame[Any], *, zero_division: ZeroDivision, confidence: float
) -> nw.LazyFrame[Any]:
    """``rate`` = q / (previous * share) - 1 and its interval (see the module docs)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    q = nw.col("q").cast(nw.Float64)
    prev = nw.col("previous_count").cast(nw.Float64)
    share = nw.col("observed_share")
    has_prev = ~nw.col("previous_count").is_null()
    positive = has_prev & (nw.col("previous_count") > 0)
    zero_value = 0.0 if zero_division == "0" else None
    rate = (
        nw.when(positive)
        .then(q / (prev * share) - 1.0)
        .when(has_prev)
        .then(nw.lit(zero_value, dtype=nw.Float64()))
    )
    n = q + prev
    p = q / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt() / (1 + z * z / n)
    table = table.with_columns(
        rate.cast(nw.Float64).alias("rate"),
        nw.when(positive).then(nw.max_horizontal(center - half, nw.lit(0.0))).alias("__pk_lo"),
        nw.when(positive).then(nw.min_horizontal(center + half, nw.lit(1.0))).alias("__pk_hi"),
    )
    lo, hi = nw.col("__pk_lo"), nw.col("__pk_hi")
    return table.with_columns(
        (lo / ((1.0 - lo) * share) - 1.0).cast(nw.Float64).alias("ci_low"),
        nw.when(hi < 1.0).then(hi / ((1.0 - hi) * share) - 1.0).cast(nw.Float64).alias("ci_high"),
    )
