"""Conversion over time: cohort conversion curves with right-censoring (DESIGN section 8).

A plain conversion rate makes young cohorts look worse only because their leads have
had less time. A conversion curve answers "what share of leads reaches the stage
within *t* days" for every *t*, and treats leads whose time has not come yet as
*censored*, not as failures.

Definitions (the cut-off is C = the end of the ``as_of`` day, dataset time zone):

- **Leads**: created before C. **Cohort**: the calendar ``freq`` period (default
  month) of ``created_at`` in the dataset time zone, plus an all-leads row
  (``period`` null) for every ``by`` group.
- **Event** (``stage``): ``sql`` = the lead's earliest opportunity ``created_at``;
  ``valid`` = the earliest ``validated_at`` of its opportunities; ``won`` = the
  earliest ``closed_at`` among its won opportunities. Only opportunities created
  before C count, and a validation or close only when it is before C.
- **Competing event** (``competing="lost"``, won curve only): the lead has no win,
  at least one opportunity, and every opportunity closed before C without
  ``is_won``; its time is the latest of those closes. A lead with an open
  opportunity, or none, is censored (disqualification has no timestamp, so it is not
  a competing event).
- **Day index** t = floor((event - created_at) / 24 h), computed on instants (a
  daylight-saving change does not move an event into another day); t = 0 is
  "within 24 hours". A lead without an observed event is censored on day
  floor((C - created_at) / 24 h).
- **At risk on day t**: leads whose event, competing event or censoring day is
  >= t (a lead censored on day t is still at risk on t: events come before
  censoring on the same day).
- **Excluded**: a lead whose event (or competing event) is before its
  ``created_at`` leaves that curve only and is counted in
  ``excluded_negative_count``.

Estimators (d_t events, c_t competing events, n_t at risk on day t):

- **Kaplan-Meier** (one event): S(t) = prod over u <= t of (1 - d_u / n_u); the
  curve is F(t) = 1 - S(t). Pointwise interval: Greenwood's variance
  sum d_u / (n_u (n_u - d_u)) on the log(-log S) scale (Kalbfleisch-Prentice), so
  the band stays inside [0, 1].
- **Aalen-Johansen** (``competing``): with S the Kaplan-Meier survival from either
  event, F(t) = sum over u <= t of S(u - 1) d_u / n_u (competing leads leave the
  risk set without being counted as censored). Pointwise interval: the delta-method
  variance (Marubini and Valsecchi; the formula of SAS PROC LIFETEST and lifelines)
  on the log(-log F) scale.
- The value is null on a day where nobody is at risk (it is never carried forward),
  unless every lead has already had an event (S reached 0): then the curve has
  reached its final value. The interval is null where its transform is undefined
  (F = 0, F = 1, or no variance yet).
- **Median time to convert**: the first t with F(t) >= 1/2, else null (not reached
  within the horizon or not estimable). Its interval (from the pointwise band, as
  R's ``survfit``): low = the first t whose upper band is >= 1/2, high = the first t
  whose lower band is >= 1/2 (null: beyond the horizon). Comparisons with 1/2 allow
  1e-12 for floating-point rounding. When fewer than half of the leads ever convert
  (usual for SQLs) the summary's ``converted_median_days`` answers "how long do the
  converting leads take": the first t with F(t) >= F(horizon) / 2.

When every lead's censoring day is past the horizon the curve at the horizon is
exactly the plain share of leads that converted within horizon + 1 days.

The per-lead work (event times, day indices, counts per cohort and day) runs on the
caller's engine; the product-limit recursion is a running sum over days
(``cum_sum`` of log factors), so the whole curve stays on the engine too.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
...     "created_at": pd.to_datetime(["2025-04-01 09:00"] * 4)})
>>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "lead_id": ["L1", "L2"],
...     "created_at": pd.to_datetime(["2025-04-01 15:00", "2025-04-03 10:00"])})
>>> curve = conversion_curve(leads, opps, as_of="2025-04-30", freq=None, horizon=3)
>>> curve[["day", "at_risk_count", "event_count", "rate"]]
   day  at_risk_count  event_count  rate
0    0              4            1  0.25
1    1              3            0  0.25
2    2              3            1  0.50
3    3              2            0  0.50
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from statistics import NormalDist
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import (
    check_by,
    check_choice,
    check_confidence,
    check_int,
    check_optional_freq,
)
from pipelinekit._exprs import flag, require_columns
from pipelinekit.facts import Facts, shared
from pipelinekit.instants import DAY_US, instant_of, with_instants
from pipelinekit.periods import as_of_cutoff, period_start
from pipelinekit.types import DEFAULT_TZ, AsOf, By, Freq

__all__ = ["STAGES", "conversion_curve", "conversion_curve_summary"]

FrameT = TypeVar("FrameT")

#: Target stages of a curve.
Stage = Literal["sql", "valid", "won"]
STAGES: tuple[str, ...] = get_args(Stage)
#: Competing events (for the won curve).
Competing = Literal["lost"]

#: Output columns a ``by`` column may not be called.
RESERVED = (
    "period",
    "day",
    "at_risk_count",
    "event_count",
    "competing_count",
    "censored_count",
    "rate",
    "ci_low",
    "ci_high",
    "lead_count",
    "excluded_negative_count",
    "median_days",
    "median_low_days",
    "median_high_days",
    "converted_median_days",
)
#: Tolerance of the comparisons with 1/2 (median and its interval).
HALF = 0.5 - 1e-12

_P = "__pk_part"


def _check(
    stage: object,
    competing: object,
    by: object,
    freq: object,
    horizon: object,
    confidence: object,
) -> tuple[Stage, Competing | None, tuple[str, ...], Freq | None, int, float]:
    chosen: Stage = check_choice("stage", stage, STAGES)
    rival: Competing | None = (
        None if competing is None else check_choice("competing", competing, ("lost",))
    )
    if rival is not None and chosen != "won":
        from pipelinekit.errors import ConfigError

        raise ConfigError(
            f"competing={rival!r} needs stage='won' (lost is the competing outcome of a win); "
            f"got stage={chosen!r}"
        )
    keys = check_by("by", by, reserved=RESERVED)
    return (
        chosen,
        rival,
        keys,
        check_optional_freq(freq),
        check_int("horizon", horizon),
        check_confidence(confidence),
    )


def _lead_rows(
    leads: nw.LazyFrame[Any],
    opportunities: nw.LazyFrame[Any],
    *,
    stage: Stage,
    competing: Competing | None,
    keys: Sequence[str],
    freq: Freq | None,
    horizon: int,
    cutoff: datetime,
    tz: str,
) -> nw.LazyFrame[Any]:
    """One row per lead (twice with a cohort: its cohort and all leads) with the day it
    leaves the risk set (``horizon + 1`` past the horizon or when excluded) and 0/1
    flags ``ev``, ``comp``, ``cens``, ``excl``."""
    needed = {"sql": (), "valid": ("validated_at",), "won": ("closed_at", "is_won")}[stage]
    require_columns(leads, "leads", ("lead_id", "created_at", *keys))
    require_columns(opportunities, "opportunities", ("lead_id", "created_at", *needed))
    if competing is not None:
        require_columns(opportunities, "opportunities", ("closed_at", "is_won"))
    leads = _compat.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    opportunities = _compat.to_local_naive(
        opportunities,
        ["created_at", *(c for c in ("validated_at", "closed_at") if c in needed or competing)],
        tz=tz,
        table="opportunities",
    )
    opps = opportunities.filter(~nw.col("lead_id").is_null() & (nw.col("created_at") < cutoff))
    closed = (nw.col("closed_at") < cutoff).fill_null(value=False) if stage == "won" else None
    if stage == "sql":
        event = nw.col("created_at")
    elif stage == "valid":
        event = nw.when(nw.col("validated_at") < cutoff).then(nw.col("validated_at"))
    else:
        assert closed is not None
        won = closed & nw.col("is_won").fill_null(value=False)
        event = nw.when(won).then(nw.col("closed_at"))
    columns = [event.cast(nw.Datetime("us")).alias("__pk_ev_at")]
    aggs = [nw.col("__pk_ev_at").min()]
    if competing is not None:
        assert closed is not None
        lost = closed & ~nw.col("is_won").fill_null(value=False)
        columns += [
            nw.when(lost).then(nw.col("closed_at")).cast(nw.Datetime("us")).alias("__pk_lost_at"),
            flag(~closed).alias("__pk_open"),
            nw.lit(1).cast(nw.Int64).alias("__pk_opps"),
        ]
        aggs += [
            nw.col("__pk_lost_at").max(),
            nw.col("__pk_open").sum(),
            nw.col("__pk_opps").sum(),
        ]
    per_lead = opps.with_columns(*columns).group_by("lead_id").agg(*aggs)
    base = leads.filter(nw.col("created_at") < cutoff).select(
        nw.col("lead_id"), nw.col("created_at"), *[nw.col(k) for k in keys]
    )
    joined = base.join(per_lead, on="lead_id", how="left")
    if competing is not None:
        no_win = nw.col("__pk_ev_at").is_null()
        none_open = nw.col("__pk_open").fill_null(0) == 0
        all_closed = none_open & (nw.col("__pk_opps").fill_null(0) > 0)
        rival: nw.Expr = nw.when(no_win & all_closed).then(nw.col("__pk_lost_at"))
    else:
        rival = nw.lit(None).cast(nw.Datetime("us"))
    joined = joined.with_columns(rival.cast(nw.Datetime("us")).alias("__pk_comp_at"))
    cut_us = (instant_of(cutoff, tz) - datetime(1970, 1, 1)) // _ONE_US
    instants = {"created_at": "__pk_c_us", "__pk_ev_at": "__pk_e_us"}
    if competing is not None:
        instants["__pk_comp_at"] = "__pk_k_us"
    timed = with_instants(joined, instants, tz=tz, last_year=cutoff.year)
    if competing is None:
        timed = timed.with_columns(nw.lit(None).cast(nw.Int64).alias("__pk_k_us"))
    has_ev = ~nw.col("__pk_ev_at").is_null()
    has_comp = ~nw.col("__pk_comp_at").is_null()
    negative = (has_ev & (nw.col("__pk_e_us") < nw.col("__pk_c_us"))) | (
        has_comp & (nw.col("__pk_k_us") < nw.col("__pk_c_us"))
    )
    timed = timed.with_columns(
        flag(negative).alias("excl"),
        ((nw.col("__pk_e_us") - nw.col("__pk_c_us")) // DAY_US).alias("__pk_e_day"),
        ((nw.col("__pk_k_us") - nw.col("__pk_c_us")) // DAY_US).alias("__pk_k_day"),
        ((nw.lit(cut_us) - nw.col("__pk_c_us")) // DAY_US).alias("__pk_cut_day"),
    )
    kept = nw.col("excl") == 0
    exit_day = nw.coalesce(nw.col("__pk_e_day"), nw.col("__pk_k_day"), nw.col("__pk_cut_day"))
    past = ~kept | (exit_day > horizon)
    rows = timed.with_columns(
        nw.when(past).then(nw.lit(horizon + 1)).otherwise(exit_day).cast(nw.Int64).alias("day"),
        flag(kept & has_ev).alias("ev"),
        flag(kept & ~has_ev & has_comp).alias("comp"),
        flag(kept & ~has_ev & ~has_comp).alias("cens"),
    )
    group = [nw.col(k) for k in keys]
    counts = [nw.col(c).cast(nw.Int64) for c in ("day", "ev", "comp", "cens", "excl")]
    if freq is None:
        return rows.select(*group, *counts)
    cohort = period_start(nw.col("created_at"), freq).alias("period")
    everyone = nw.lit(None).cast(nw.Datetime("us")).alias("period")
    return nw.concat(
        [rows.select(*group, cohort, *counts), rows.select(*group, everyone, *counts)],
        how="vertical",
    )


_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1) - datetime(1970, 1, 1)


def _curve_table(
    rows: nw.LazyFrame[Any],
    *,
    group: Sequence[str],
    horizon: int,
    competing: bool,
    confidence: float,
) -> nw.LazyFrame[Any]:
    """Per group and day 0..horizon: counts, the estimator and its band, plus the
    group's ``lead_count`` and ``excluded_negative_count`` (``day`` horizon + 1 kept)."""
    flags = ("ev", "comp", "cens", "excl")
    part = [*group, _P]
    rows = rows.with_columns(nw.lit(1).cast(nw.Int64).alias(_P))
    groups = rows.select(*[nw.col(k) for k in part]).unique()
    spine = _compat.integer_range(groups, horizon + 2, "day")
    grid = groups.join(spine, how="cross").select(
        *[nw.col(k) for k in part],
        nw.col("day"),
        *[nw.lit(0).cast(nw.Int64).alias(f) for f in flags],
    )
    cells = (
        nw.concat([rows.select(*part, "day", *flags), grid], how="vertical")
        .group_by(*part, "day")
        .agg(*[nw.col(f).sum() for f in flags])
    )

    def running(expr: nw.Expr) -> nw.Expr:
        return expr.cum_sum().over(*part, order_by="day")

    ev, comp, cens = nw.col("ev"), nw.col("comp"), nw.col("cens")
    n, d = nw.col("n"), nw.col("d")
    table = (
        cells.with_columns(
            (ev + comp + cens).cast(nw.Int64).alias("exits"),
            (ev + comp).cast(nw.Int64).alias("d"),
        )
        .with_columns(
            nw.col("exits").sum().over(*part).alias("lead_count"),
            nw.col("excl").sum().over(*part).alias("excluded_negative_count"),
            running(nw.col("exits")).alias("cum_exits"),
        )
        .with_columns(
            (nw.col("lead_count") - nw.col("cum_exits") + nw.col("exits")).cast(nw.Int64).alias("n")
        )
        .with_columns(
            flag((n > 0) & (d == n)).alias("zero_here"),
            nw.when((n > 0) & (d < n))
            .then((1.0 - d.cast(nw.Float64) / n.cast(nw.Float64)).log())
            .otherwise(0.0)
            .alias("log_term"),
            nw.when((n > 0) & (d < n))
            .then(d.cast(nw.Float64) / (n * (n - d)).cast(nw.Float64))
            .otherwise(0.0)
            .alias("green"),
            nw.when(n > 0)
            .then(ev.cast(nw.Float64) / n.cast(nw.Float64))
            .otherwise(0.0)
            .alias("h1"),
        )
        .with_columns(
            running(nw.col("log_term")).alias("cum_log"),
            running(nw.col("zero_here")).alias("zeros"),
            running(nw.col("green")).alias("greenwood"),
        )
        .with_columns(
            nw.when(nw.col("zeros") > 0).then(0.0).otherwise(nw.col("cum_log").exp()).alias("surv"),
            nw.when(nw.col("zeros") - nw.col("zero_here") > 0)
            .then(0.0)
            .otherwise((nw.col("cum_log") - nw.col("log_term")).exp())
            .alias("surv_prev"),
        )
    )
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    visible = (n > 0) | (nw.col("zeros") > 0)
    if not competing:
        table = table.with_columns((1.0 - nw.col("surv")).alias("value"))
        log_s = nw.col("cum_log")
        se = nw.col("greenwood").sqrt() / (-log_s)
        defined = visible & (nw.col("zeros") == 0) & (log_s < 0) & (nw.col("greenwood") > 0)
        low = 1.0 - (log_s * (-z * se).exp()).exp()
        high = 1.0 - (log_s * (z * se).exp()).exp()
    else:
        table = _aalen_johansen(table, running)
        f = nw.col("value")
        log_f = f.log()
        se = nw.col("variance").sqrt() / (f * (-log_f))
        defined = visible & (f > 0) & (f < 1) & (nw.col("variance") > 0)
        low = (log_f * (z * se).exp()).exp()
        high = (log_f * (-z * se).exp()).exp()
    return table.with_columns(
        nw.when(visible).then(nw.col("value")).cast(nw.Float64).alias("rate"),
        nw.when(defined).then(low).cast(nw.Float64).alias("ci_low"),
        nw.when(defined).then(high).cast(nw.Float64).alias("ci_high"),
    )


def _aalen_johansen(table: nw.LazyFrame[Any], running: Any) -> nw.LazyFrame[Any]:
    """Add ``value`` (cumulative incidence of the event) and its delta-method ``variance``.

    Var F(t) = sum_j [F(t) - F(t_j)]^2 d_j / (n_j (n_j - d_j))
             + sum_j S(t_j - 1)^2 e_j (n_j - e_j) / n_j^3
             - 2 sum_j [F(t) - F(t_j)] S(t_j - 1) e_j / n_j^2,
    over days t_j <= t (d_j all events, e_j events of interest), expanded into running
    sums so that it is one pass over the days.
    """
    n = nw.col("n").cast(nw.Float64)
    e = nw.col("ev").cast(nw.Float64)
    sp = nw.col("surv_prev")
    f = nw.col("value")
    positive = nw.col("n") > 0
    table = table.with_columns(running(sp * nw.col("h1")).alias("value"))
    table = table.with_columns(
        running(f * nw.col("green")).alias("v_b"),
        running(f * f * nw.col("green")).alias("v_c"),
        running(nw.when(positive).then(sp * sp * e * (n - e) / (n * n * n)).otherwise(0.0)).alias(
            "v_d"
        ),
        running(nw.when(positive).then(sp * e / (n * n)).otherwise(0.0)).alias("v_e"),
        running(nw.when(positive).then(f * sp * e / (n * n)).otherwise(0.0)).alias("v_g"),
    )
    variance = (
        f * f * nw.col("greenwood")
        - 2.0 * f * nw.col("v_b")
        + nw.col("v_c")
        + nw.col("v_d")
        - 2.0 * (f * nw.col("v_e") - nw.col("v_g"))
    )
    return table.with_columns(nw.when(variance > 0).then(variance).otherwise(0.0).alias("variance"))


def _curve(
    function: str,
    leads: Any,
    opportunities: Any,
    *,
    as_of: AsOf,
    stage: object,
    competing: object,
    by: object,
    freq: object,
    horizon: object,
    confidence: object,
    tz: str,
    facts: Facts | None,
) -> tuple[_compat.Session, nw.LazyFrame[Any], tuple[str, ...], int]:
    chosen, rival, keys, period, days, level = _check(
        stage, competing, by, freq, horizon, confidence
    )
    cutoff = as_of_cutoff(as_of)
    (lf_leads, lf_opps), session = _compat.enter([leads, opportunities], function=function)
    group = (*keys, *(("period",) if period else ()))
    fact_key: Hashable = ("conversion_curve", chosen, rival, keys, period, days, level, cutoff, tz)
    table = shared(
        facts,
        fact_key,
        lambda: _curve_table(
            _lead_rows(
                lf_leads,
                lf_opps,
                stage=chosen,
                competing=rival,
                keys=keys,
                freq=period,
                horizon=days,
                cutoff=cutoff,
                tz=tz,
            ),
            group=group,
            horizon=days,
            competing=rival is not None,
            confidence=level,
        ),
    )
    return session, table, group, days


def conversion_curve(
    leads: FrameT,
    opportunities: Any,
    *,
    as_of: AsOf,
    stage: Stage = "sql",
    competing: Competing | None = None,
    by: By = (),
    freq: Freq | None = "month",
    horizon: int = 90,
    confidence: float = 0.95,
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """Cumulative share of leads reaching a stage within t days, per cohort (コンバージョン曲線).

    Kaplan-Meier with right-censoring at the end of ``as_of``; with
    ``competing="lost"`` (won curve) Aalen-Johansen cumulative incidence. See the
    module documentation for every definition and edge rule.

    Parameters
    ----------
    leads, opportunities
        Canonical tables, any supported frame (same library). Leads need ``lead_id``,
        ``created_at`` and the ``by`` columns; opportunities ``lead_id``,
        ``created_at`` and, per stage, ``validated_at`` or ``closed_at``/``is_won``.
    as_of
        Required: the last day observed (events on or after the next midnight are
        censored).
    stage
        ``"sql"`` (default), ``"valid"`` or ``"won"``.
    competing
        ``"lost"`` for the won curve with lost as a competing event; ``None``
        (default): one event, Kaplan-Meier.
    by
        Lead columns to split by (``"origin"``, ``["source", "owner_id"]``, ...).
    freq
        Cohort period of ``created_at`` (default ``"month"``); ``None``: only the
        all-leads curve, without a ``period`` column.
    horizon
        Last day index of the curve (default 90): rows for t = 0..horizon.
    confidence
        Level of the pointwise band, default 0.95.
    tz
        Dataset time zone (cohorts, the cut-off, and instants for the day index).
    facts
        Precomputed facts of the same tables; the curve is then computed once for
        :func:`conversion_curve_summary` too.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``period`` (cohort start; null on
    the all-leads rows; only with ``freq``), ``day``, ``at_risk_count``,
    ``event_count``, ``competing_count`` (0 without ``competing``),
    ``censored_count``, ``rate`` (the estimated cumulative share F(t); null where
    nobody is at risk), ``ci_low``, ``ci_high``; sorted by the groups (all-leads
    last) and day.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...     "created_at": pd.to_datetime(["2025-03-10", "2025-04-02", "2025-04-28"])})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L2"],
    ...     "created_at": pd.to_datetime(["2025-04-05 12:00"])})
    >>> curve = conversion_curve(leads, opps, as_of="2025-04-30", horizon=5)
    >>> curve[curve["day"] == 3][["period", "at_risk_count", "event_count", "rate"]]
           period  at_risk_count  event_count      rate
    3  2025-03-01              1            0  0.000000
    9  2025-04-01              2            1  0.500000
    15        NaT              3            1  0.333333
    """
    session, table, group, days = _curve(
        "conversion_curve",
        leads,
        opportunities,
        as_of=as_of,
        stage=stage,
        competing=competing,
        by=by,
        freq=freq,
        horizon=horizon,
        confidence=confidence,
        tz=tz,
        facts=facts,
    )
    result = (
        table.filter(nw.col("day") <= days)
        .select(
            *[nw.col(k) for k in group],
            nw.col("day").cast(nw.Int64),
            nw.col("n").cast(nw.Int64).alias("at_risk_count"),
            nw.col("ev").cast(nw.Int64).alias("event_count"),
            nw.col("comp").cast(nw.Int64).alias("competing_count"),
            nw.col("cens").cast(nw.Int64).alias("censored_count"),
            nw.col("rate"),
            nw.col("ci_low"),
            nw.col("ci_high"),
        )
        .sort([*group, "day"], nulls_last=True)
    )
    return session.finish(result)  # type: ignore[no-any-return]


def conversion_curve_summary(
    leads: FrameT,
    opportunities: Any,
    *,
    as_of: AsOf,
    stage: Stage = "sql",
    competing: Competing | None = None,
    by: By = (),
    freq: Freq | None = "month",
    horizon: int = 90,
    confidence: float = 0.95,
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """One row per cohort of :func:`conversion_curve`: counts, the value at the horizon
    and the median time to convert with its interval (コンバージョン日数の中央値).

    Parameters are those of :func:`conversion_curve`.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``period`` (null: all leads; only
    with ``freq``), ``lead_count`` (leads on the curve), ``excluded_negative_count``
    (leads left out: event before ``created_at``), ``event_count``,
    ``competing_count`` and ``censored_count`` (leaving the risk set on days
    0..horizon), ``rate``, ``ci_low``, ``ci_high`` (the curve at the horizon; null
    when nobody is at risk then), ``median_days`` (first day with F >= 1/2),
    ``median_low_days`` and ``median_high_days`` (its interval; see the module
    documentation) and ``converted_median_days`` (the first day with
    F >= F(horizon) / 2: the median time to convert of the leads that convert within
    the horizon; null when F(horizon) is null or 0).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00"] * 4)})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "lead_id": ["L1", "L2", "L3"],
    ...     "created_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-03 10:00",
    ...                                   "2025-03-30 10:00"])})
    >>> s = conversion_curve_summary(leads, opps, as_of="2025-04-30", freq=None, horizon=10)
    >>> s[["lead_count", "excluded_negative_count", "event_count", "rate", "median_days"]]
       lead_count  excluded_negative_count  event_count      rate  median_days
    0           3                        1            2  0.666667            2
    """
    session, table, group, days = _curve(
        "conversion_curve_summary",
        leads,
        opportunities,
        as_of=as_of,
        stage=stage,
        competing=competing,
        by=by,
        freq=freq,
        horizon=horizon,
        confidence=confidence,
        tz=tz,
        facts=facts,
    )
    day = nw.col("day")
    at_horizon = day == days
    marked = table.filter(day <= days).with_columns(
        nw.when(nw.col("rate") >= HALF).then(day).alias("__pk_median"),
        nw.when(nw.col("ci_high") >= HALF).then(day).alias("__pk_median_low"),
        nw.when(nw.col("ci_low") >= HALF).then(day).alias("__pk_median_high"),
        nw.when(at_horizon).then(nw.col("rate")).alias("__pk_rate"),
        nw.when(at_horizon).then(nw.col("ci_low")).alias("__pk_ci_low"),
        nw.when(at_horizon).then(nw.col("ci_high")).alias("__pk_ci_high"),
    )
    final = nw.col("__pk_final")
    reached = (final > 0) & (nw.col("rate") >= final / 2.0 - 1e-12)
    marked = marked.with_columns(
        nw.col("__pk_rate").max().over(*group, _P).alias("__pk_final")
    ).with_columns(nw.when(reached).then(day).alias("__pk_converted_median"))
    summary = (
        marked.group_by(*group, _P)
        .agg(
            nw.col("lead_count").max(),
            nw.col("excluded_negative_count").max(),
            nw.col("ev").sum(),
            nw.col("comp").sum(),
            nw.col("cens").sum(),
            nw.col("__pk_rate").max(),
            nw.col("__pk_ci_low").max(),
            nw.col("__pk_ci_high").max(),
            nw.col("__pk_median").min(),
            nw.col("__pk_median_low").min(),
            nw.col("__pk_median_high").min(),
            nw.col("__pk_converted_median").min(),
        )
        .select(
            *[nw.col(k) for k in group],
            nw.col("lead_count").cast(nw.Int64),
            nw.col("excluded_negative_count").cast(nw.Int64),
            nw.col("ev").cast(nw.Int64).alias("event_count"),
            nw.col("comp").cast(nw.Int64).alias("competing_count"),
            nw.col("cens").cast(nw.Int64).alias("censored_count"),
            nw.col("__pk_rate").cast(nw.Float64).alias("rate"),
            nw.col("__pk_ci_low").cast(nw.Float64).alias("ci_low"),
            nw.col("__pk_ci_high").cast(nw.Float64).alias("ci_high"),
            nw.col("__pk_median").cast(nw.Int64).alias("median_days"),
            nw.col("__pk_median_low").cast(nw.Int64).alias("median_low_days"),
            nw.col("__pk_median_high").cast(nw.Int64).alias("median_high_days"),
            nw.col("__pk_converted_median").cast(nw.Int64).alias("converted_median_days"),
        )
    )
    if group:
        summary = summary.sort(list(group), nulls_last=True)
    return session.finish(summary)  # type: ignore[no-any-return]
