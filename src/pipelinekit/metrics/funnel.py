"""The lead funnel: stage counts, step and overall conversion, time to convert.

One engine answers every conversion rate of DESIGN section 3 (商談化率 lead -> SQL,
案件化率 SQL -> valid opportunity, 受注率, stage-to-stage CV rates) from the lead
journey (:func:`pipelinekit.journey.journey`).

Stages and their journey timestamps
-----------------------------------
``lead`` = ``created_at``, ``touched`` = ``first_touch_at``, ``connected`` =
``first_connect_at``, ``sql`` = ``sql_at``, ``valid`` = ``validated_at``,
``won`` = ``won_at``. ``stages`` picks an ordered subset (at least two, in this
order); the first one is the funnel's *entry* and its time the lead's *anchor*.

Modes
-----
``inferred`` (default)
    A lead reached stage *k* when stage *k* or any later stage has a timestamp.
    Its reach time is the earliest of those timestamps, but never before the
    anchor: ``e_k = max(anchor, min(t_k, ..., t_last))``. So counts never rise
    along the funnel and times to convert are never negative (an activity logged
    before the lead was created counts as a touch at creation, 0 days).
    ``anchor = t_first`` (else the earliest later timestamp).
``strict``
    Only recorded timestamps in non-decreasing order count: stage *k* is reached
    when ``t_first <= t_2 <= ... <= t_k`` are all present; ``e_k = t_k``.
    Every strict count is at most the inferred count.

Window
------
With ``window`` (a :class:`~datetime.timedelta`, or whole days), a later stage
counts only when ``e_k < anchor + window`` (end exclusive, as the cadence window).
The entry stage always counts.

As of
-----
With ``as_of``, timestamps at or after the end of that day are treated as not (yet)
happened; leads whose entry is after it are left out.

Views
-----
``cohort`` (default)
    Leads are grouped by the ``freq`` period of their anchor. ``count`` is the
    number of the cohort's leads that reached the stage; the step rate is
    ``count_k / count_{k-1}`` and the overall rate ``count_k / count_first``, so the
    overall rate is the product of the step rates.
``period``
    ``count`` is the number of stage *k* events (reach times) in the period. A
    ratio of two event counts is not a proportion (March can have more SQLs than
    leads), so the rates stay proportions of one population: the step rate of
    stage *k* in period *P* is, of the leads that reached stage *k-1* in *P*, the
    share that reached stage *k* (at any time up to ``as_of``, within the window);
    the overall rate is, of the leads whose entry is in *P*, the share that reached
    stage *k*. ``step_denominator`` is therefore the previous stage's ``count``.

Maturity
--------
A result row is ``mature`` when every lead it counts has had its full ``window``
by the end of ``as_of``. Without ``window`` or without ``as_of`` every row is
mature. With ``freq``, maturity is a property of the period: mature when
``period end + window <= end of as_of``. Without ``freq``, leads are split by their
own window (``anchor + window <= end of as_of``) into a mature and an immature row
per stage, so immature leads are flagged and never mixed into the mature rates.

Time to convert
---------------
``median_days``, ``p75_days``, ``p90_days``: quantiles of ``e_k - e_{k-1}`` in days
over the leads counted in ``step_numerator`` (linear interpolation between order
statistics, numpy's default method). Durations are whole microseconds, ranked with
ordered windows, aggregated with plain ``min`` and interpolated in integers, so
pandas, polars and DuckDB give bit-identical numbers. (narwhals' ``quantile`` inside
``group_by().agg()`` was measured: DuckDB supports only linear interpolation and
differs from polars in the last bits; pandas' ``nearest`` differs from polars'.)

Examples
--------
>>> import pandas as pd
>>> j = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-01", "2025-04-02", "2025-04-03"]),
...     "first_touch_at": pd.to_datetime(["2025-04-01 12:00", "2025-04-02 12:00", None, None]),
...     "first_connect_at": pd.to_datetime(["2025-04-03", None, None, None]),
...     "sql_at": pd.to_datetime(["2025-04-05", None, None, None]),
...     "validated_at": pd.to_datetime([None] * 4), "won_at": pd.to_datetime([None] * 4)})
>>> f = funnel(j)
>>> f[["stage", "count", "step_rate", "overall_rate"]]
       stage  count  step_rate  overall_rate
0       lead      4        1.0          1.00
1    touched      2        0.5          0.50
2  connected      1        0.5          0.25
3        sql      1        1.0          0.25
4      valid      0        0.0          0.00
5        won      0        NaN          0.00
>>> bottleneck(f)[["from_stage", "stage", "rate"]]
  from_stage  stage  rate
0        sql  valid   0.0
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._exprs import flag, require_columns
from pipelinekit.breakdowns import check_by, with_breakdown_columns
from pipelinekit.errors import ConfigError
from pipelinekit.periods import Freq, as_of_cutoff, check_freq, epoch_microseconds, period_start
from pipelinekit.rates import (
    ZeroDenominatorError,
    ZeroDivision,
    check_confidence,
    check_zero_division,
    rate_columns,
    with_rate_columns,
)

__all__ = [
    "DEFAULT_STAGES",
    "FUNNEL_COLUMNS",
    "STAGE_COLUMNS",
    "Mode",
    "Stage",
    "View",
    "bottleneck",
    "bottleneck_frames",
    "check_window",
    "funnel",
    "funnel_frames",
]

FrameT = TypeVar("FrameT")

Stage = Literal["lead", "touched", "connected", "sql", "valid", "won"]
Mode = Literal["inferred", "strict"]
View = Literal["cohort", "period"]

#: Journey timestamp of each stage, in funnel order.
STAGE_COLUMNS: Mapping[str, str] = {
    "lead": "created_at",
    "touched": "first_touch_at",
    "connected": "first_connect_at",
    "sql": "sql_at",
    "valid": "validated_at",
    "won": "won_at",
}
DEFAULT_STAGES: tuple[Stage, ...] = ("lead", "touched", "connected", "sql", "valid", "won")

#: Rate columns, in output order, of every funnel-like table.
STEP_COLUMNS = ("step_numerator", "step_denominator", "step_rate", "step_ci_low", "step_ci_high")
OVERALL_COLUMNS = tuple(c.replace("step_", "overall_") for c in STEP_COLUMNS)
#: Time-to-convert quantiles: output column -> q as a fraction (numerator, denominator).
QUANTILES: Mapping[str, tuple[int, int]] = {
    "median_days": (1, 2),
    "p75_days": (3, 4),
    "p90_days": (9, 10),
}
#: Columns of :func:`funnel` after the ``by`` columns and ``period``.
FUNNEL_COLUMNS = (
    "stage",
    "stage_index",
    "count",
    *STEP_COLUMNS,
    *OVERALL_COLUMNS,
    *QUANTILES,
    "mature",
)
#: Names a ``by`` column may not take (output and internal columns).
RESERVED = (*FUNNEL_COLUMNS, "period", "lost_count", "from_stage", "numerator", "denominator")

_US_PER_DAY = 86_400_000_000
_NEVER = 2**62  # sorts after every real duration in microseconds
_MAX_WINDOW = timedelta(days=365 * 1000)

# Internal column names of the long (lead x stage) frame.
_K = "__pk_k"
_R = "__pk_r"
_R_PREV = "__pk_r_prev"
_E = "__pk_e"
_E_PREV = "__pk_e_prev"
_ANCHOR = "__pk_anchor"
_US = "__pk_us"
_ANCHOR_PERIOD = "__pk_anchor_period"
_ID = "__pk_id"
#: Measures summed per (group, stage); every piece of the long frame carries all of them.
_MEASURES = (
    "count",
    "step_numerator",
    "step_denominator",
    "overall_numerator",
    "overall_denominator",
)


@attrs.frozen(kw_only=True)
class _Options:
    stages: tuple[str, ...]
    by: tuple[str, ...]
    freq: Freq | None
    mode: Mode
    window: timedelta | None
    view: View
    cutoff: datetime | None
    zero_division: ZeroDivision
    confidence: float
    tz: str


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _check_stages(stages: Sequence[str]) -> tuple[str, ...]:
    names = (stages,) if isinstance(stages, str) else tuple(stages)
    known = tuple(STAGE_COLUMNS)
    unknown = [s for s in names if s not in known]
    if unknown:
        raise ConfigError(
            f"stages: unknown stage(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(map(repr, known))}"
        )
    if len(names) < 2:
        raise ConfigError(f"stages needs at least two stages; got {list(names)}")
    order = [known.index(s) for s in names]
    if any(b <= a for a, b in itertools.pairwise(order)):
        raise ConfigError(
            f"stages must be distinct and in funnel order ({' -> '.join(known)}); got {list(names)}"
        )
    return names


def check_window(window: timedelta | int | None) -> timedelta | None:
    """Validate a conversion window: positive whole days or a positive timedelta."""
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, (int, timedelta)):
        raise ConfigError(
            f"window must be a datetime.timedelta, a number of days (int) or None; got {window!r}"
        )
    value = timedelta(days=window) if isinstance(window, int) else window
    if value <= timedelta(0) or value > _MAX_WINDOW:
        raise ConfigError(f"window must be positive and at most 1000 years; got {window!r}")
    return value


def _options(
    *,
    stages: Sequence[str],
    by: str | Sequence[str],
    freq: str | None,
    mode: str,
    window: timedelta | int | None,
    view: str,
    as_of: date | datetime | str | None,
    zero_division: str,
    confidence: float,
    tz: str,
) -> _Options:
    return _Options(
        stages=_check_stages(stages),
        by=check_by(by, reserved=RESERVED),
        freq=None if freq is None else check_freq(freq),
        mode=_check_choice("mode", mode, get_args(Mode)),
        window=check_window(window),
        view=_check_choice("view", view, get_args(View)),
        cutoff=None if as_of is None else as_of_cutoff(as_of),
        zero_division=check_zero_division(zero_division),
        confidence=check_confidence(confidence),
        tz=tz,
    )


def funnel(
    journey: FrameT,
    *,
    stages: Sequence[Stage] = DEFAULT_STAGES,
    by: str | Sequence[str] = (),
    freq: Freq | None = None,
    mode: Mode = "inferred",
    window: timedelta | int | None = None,
    view: View = "cohort",
    as_of: date | datetime | str | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    accounts: Any = None,
    opportunities: Any = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Stage counts, step and overall conversion and time to convert (ファネル).

    Parameters
    ----------
    journey
        The lead journey (:func:`pipelinekit.journey`), any supported frame; needs
        ``lead_id`` and the timestamp column of every stage in ``stages``.
    stages
        Ordered subset of ``lead``, ``touched``, ``connected``, ``sql``, ``valid``,
        ``won`` (at least two, in this order), e.g. ``("lead", "sql")`` for the
        lead -> SQL rate or ``("sql", "valid", "won")``.
    by
        Columns to break down by: journey columns (``origin``, ``source``,
        ``campaign_id``, ``owner_id``, ``department``, ``title``), account columns
        with ``accounts`` (``industry``, ``region``, ``employee_band``,
        ``is_target``, ...) and first-opportunity columns with ``opportunities``
        (``product``, ``amount_band``, ...); see
        :func:`pipelinekit.breakdowns.with_breakdown_columns`.
    freq
        ``"day"``, ``"week"`` (ISO, Monday), ``"month"``, ``"quarter"``, ``"year"``
        or ``None`` (no ``period`` column).
    mode
        ``"inferred"`` (a later stage implies the earlier ones) or ``"strict"``
        (only recorded, in-order timestamps); see the module documentation.
    window
        Conversion window after the entry stage (timedelta or whole days); a later
        stage counts only when reached before ``anchor + window``. ``None``: no limit.
    view
        ``"cohort"`` (group leads by the period of their entry) or ``"period"``
        (count stage events in the period they happened).
    as_of
        Ignore events after the end of this day and flag cohorts whose window has
        not elapsed by then. ``None``: every row counts and every cohort is mature.
    zero_division
        Rate for a zero denominator: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson intervals, default 0.95.
    accounts, opportunities
        Optional tables (same frame library as ``journey``) for ``by`` columns.
    tz
        Time zone that tz-aware stage timestamps are converted to (naive ones are
        taken as local wall-clock time).

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``period`` (with ``freq``),
    ``stage``, ``stage_index`` (0 = entry), ``count``, ``step_numerator``,
    ``step_denominator``, ``step_rate``, ``step_ci_low``, ``step_ci_high``, the same
    five ``overall_*`` columns, ``median_days``, ``p75_days``, ``p90_days`` and
    ``mature``; one row per group, period and stage (zero rows included), sorted
    by the ``by`` columns, ``period``, ``mature`` and ``stage_index``. The entry
    stage's step and overall rates are ``count / count``.

    Examples
    --------
    >>> import pandas as pd
    >>> j = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "origin": ["in", "in", "out"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-05-01"]),
    ...     "sql_at": pd.to_datetime(["2025-04-03", None, "2025-05-08"])})
    >>> funnel(j, stages=("lead", "sql"), by="origin")[
    ...     ["origin", "stage", "count", "step_rate", "median_days"]]
      origin stage  count  step_rate  median_days
    0     in  lead      2        1.0          NaN
    1     in   sql      1        0.5          2.0
    2    out  lead      1        1.0          NaN
    3    out   sql      1        1.0          7.0
    """
    opts = _options(
        stages=stages,
        by=by,
        freq=freq,
        mode=mode,
        window=window,
        view=view,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
    )
    extra = [t for t in (accounts, opportunities) if t is not None]
    lazies, session = engine.enter([journey, *extra], function="funnel")
    it = iter(lazies[1:])
    lf_accounts = next(it) if accounts is not None else None
    lf_opps = next(it) if opportunities is not None else None
    result = _funnel(lazies[0], opts, accounts=lf_accounts, opportunities=lf_opps)
    if opts.zero_division == "raise":
        raise_on_zero(session, result, ("step_denominator", "overall_denominator"), "funnel")
    return session.finish(result)  # type: ignore[no-any-return]


def funnel_frames(
    journey: nw.LazyFrame[Any],
    *,
    stages: Sequence[Stage] = DEFAULT_STAGES,
    by: str | Sequence[str] = (),
    freq: Freq | None = None,
    mode: Mode = "inferred",
    window: timedelta | int | None = None,
    view: View = "cohort",
    as_of: date | datetime | str | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    accounts: nw.LazyFrame[Any] | None = None,
    opportunities: nw.LazyFrame[Any] | None = None,
    tz: str = "Asia/Tokyo",
) -> nw.LazyFrame[Any]:
    """:func:`funnel` on narwhals lazy frames already on one engine (sorted).

    ``zero_division="raise"`` is not checked here (the frame is lazy).
    """
    opts = _options(
        stages=stages,
        by=by,
        freq=freq,
        mode=mode,
        window=window,
        view=view,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
    )
    return _funnel(journey, opts, accounts=accounts, opportunities=opportunities)


def raise_on_zero(
    session: engine.Session, result: nw.LazyFrame[Any], columns: Sequence[str], what: str
) -> None:
    """Raise :class:`ZeroDenominatorError` if a row has a zero in one of ``columns``.

    This evaluates the (lazy) result once; it serves ``zero_division="raise"``.
    """
    zero = nw.any_horizontal(*[nw.col(c) == 0 for c in columns], ignore_nulls=True)
    n = session.collect(result.filter(zero).select(nw.len().alias("n"))).item(0, "n")
    if n:
        raise ZeroDenominatorError(
            f"{what}: {n} row(s) with a zero denominator (zero_division='raise')"
        )


# ------------------------------------------------------------------ the funnel engine


def _funnel(
    journey: nw.LazyFrame[Any],
    opts: _Options,
    *,
    accounts: nw.LazyFrame[Any] | None,
    opportunities: nw.LazyFrame[Any] | None,
) -> nw.LazyFrame[Any]:
    columns = [STAGE_COLUMNS[s] for s in opts.stages]
    require_columns(journey, "journey", ["lead_id", *columns])
    journey = engine.to_local_naive(journey, columns, tz=opts.tz, table="journey")
    journey = with_breakdown_columns(
        journey, opts.by, accounts=accounts, opportunities=opportunities
    )
    wide = _reach(journey, columns, opts)
    if opts.freq is not None:  # the anchor's period once per lead, not once per stage
        wide = wide.with_columns(period_start(nw.col("__pk_e0"), opts.freq).alias(_ANCHOR_PERIOD))
    long = engine.fan_out(_long(engine.fan_out(wide), len(columns), opts.by))
    period = opts.freq is not None
    keys = [*opts.by, *(["period"] if period else []), "mature"]
    if opts.view == "cohort":
        pieces = _piece(
            long,
            opts,
            key_time=_ANCHOR,
            measures={
                "count": nw.col(_R),
                "step_numerator": nw.col(_R),
                "step_denominator": nw.col(_R_PREV),
                "overall_numerator": nw.col(_R),
                "overall_denominator": nw.lit(1),
            },
            quantiles=True,
        )
    else:
        pieces = [
            *_piece(
                long.filter(nw.col(_R) == 1),
                opts,
                key_time=_E,
                measures={"count": nw.lit(1)},
            ),
            *_piece(
                long.filter(nw.col(_R_PREV) == 1),
                opts,
                key_time=_E_PREV,
                measures={"step_numerator": nw.col(_R), "step_denominator": nw.lit(1)},
                quantiles=True,
            ),
            *_piece(
                long,
                opts,
                key_time=_ANCHOR,
                measures={"overall_numerator": nw.col(_R), "overall_denominator": nw.lit(1)},
            ),
        ]
    table = aggregate_stages(
        pieces, keys, opts.stages, quantiles=True, complete=opts.view == "period"
    )
    return finish_stage_table(
        table,
        leading=keys[:-1],
        counts=("count",),
        trailing=(*QUANTILES, "mature"),
        sort_keys=keys,
        zero_division=opts.zero_division,
        confidence=opts.confidence,
    )


def _reach(journey: nw.LazyFrame[Any], columns: Sequence[str], opts: _Options) -> nw.LazyFrame[Any]:
    """Per lead: reach time ``e_k`` of every stage (null = not reached), entrants only.

    Reach times are non-decreasing along the stages in both modes, so the ``as_of``
    cut-off and the window can be applied to each stage on its own afterwards.
    """
    n = len(columns)
    t = [f"__pk_t{k}" for k in range(n)]
    e = [f"__pk_e{k}" for k in range(n)]
    frame = journey.select(
        nw.col("lead_id").alias(_ID),
        *[nw.col(b) for b in opts.by],
        *[nw.col(c).alias(t[k]) for k, c in enumerate(columns)],
    )
    if opts.mode == "inferred":
        m = [f"__pk_m{k}" for k in range(n)]
        frame = frame.with_columns(nw.col(t[n - 1]).alias(m[n - 1]))
        for k in range(n - 2, 0, -1):
            frame = frame.with_columns(nw.min_horizontal(t[k], m[k + 1]).alias(m[k]))
        frame = frame.with_columns(nw.coalesce(nw.col(t[0]), nw.col(m[1])).alias(e[0]))
        anchor = nw.col(e[0])
        frame = frame.with_columns(
            *[
                nw.when(nw.col(m[k]) < anchor).then(anchor).otherwise(nw.col(m[k])).alias(e[k])
                for k in range(1, n)
            ]
        )
    else:
        frame = frame.with_columns(nw.col(t[0]).alias(e[0]))
        for k in range(1, n):
            in_order = ~nw.col(e[k - 1]).is_null() & (nw.col(t[k]) >= nw.col(e[k - 1]))
            frame = frame.with_columns(nw.when(in_order).then(nw.col(t[k])).alias(e[k]))
    limits = []
    if opts.cutoff is not None:
        frame = frame.filter(nw.col(e[0]) < opts.cutoff)
        limits.append(nw.lit(opts.cutoff))
    if opts.window is not None:
        limits.append(nw.col(e[0]) + opts.window)
    if limits:
        frame = frame.with_columns(
            *[
                nw.when(
                    nw.all_horizontal(*[nw.col(e[k]) < lim for lim in limits], ignore_nulls=False)
                )
                .then(nw.col(e[k]))
                .alias(e[k])
                for k in range(1, n)
            ]
        )
    # whole microseconds since the epoch, exact integers computed once per lead and
    # stage, so ranks and interpolation agree on every engine
    return frame.filter(~nw.col(e[0]).is_null()).select(
        nw.col(_ID),
        *[nw.col(b) for b in opts.by],
        *[nw.col(c).cast(nw.Datetime("us")) for c in e],
        *[
            epoch_microseconds(nw.col(c), implementation=journey.implementation).alias(f"__pk_u{k}")
            for k, c in enumerate(e)
        ],
    )


def _long(wide: nw.LazyFrame[Any], n: int, by: Sequence[str]) -> nw.LazyFrame[Any]:
    """One row per entrant and stage: reached flags, reach times, days from the previous.

    The per-stage logic is written once on the long frame (not once per stage), which
    keeps the query small for every engine.
    """
    e = [f"__pk_e{k}" for k in range(n)]
    u = [f"__pk_u{k}" for k in range(n)]
    names = wide.collect_schema().names()
    parts = [
        wide.select(
            nw.col(_ID),
            *[nw.col(b) for b in by],
            nw.lit(k).cast(nw.Int64).alias(_K),
            nw.col(e[k]).alias(_E),
            nw.col(e[max(k - 1, 0)]).alias(_E_PREV),
            nw.col(e[0]).alias(_ANCHOR),
            *([nw.col(_ANCHOR_PERIOD)] if _ANCHOR_PERIOD in names else []),
            flag(~nw.col(e[k]).is_null()).alias(_R),
            flag(~nw.col(e[max(k - 1, 0)]).is_null()).alias(_R_PREV),
            (nw.col(u[k]) - nw.col(u[k - 1]) if k else nw.lit(None)).cast(nw.Int64).alias(_US),
        )
        for k in range(n)
    ]
    return nw.concat(parts, how="vertical")


def _period_floor(moment: datetime, freq: Freq) -> datetime:
    """Start of the ``freq`` period containing ``moment`` (Python scalar)."""
    day = datetime(moment.year, moment.month, moment.day)
    if freq == "day":
        return day
    if freq == "week":
        return day - timedelta(days=day.weekday())
    if freq == "month":
        return day.replace(day=1)
    if freq == "quarter":
        return day.replace(month=3 * ((moment.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def _mature(opts: _Options) -> nw.Expr:
    """Maturity of a piece row (see the module documentation), from its key period."""
    if opts.window is None or opts.cutoff is None:
        return nw.lit(value=True)
    if opts.freq is not None:
        # period end + window <= cutoff  <=>  period < the period containing cutoff - window
        last = _period_floor(opts.cutoff - opts.window, opts.freq)
        return (nw.col("period") < last).fill_null(value=False)
    return (nw.col(_ANCHOR) + opts.window <= opts.cutoff).fill_null(value=False)


def _piece(
    long: nw.LazyFrame[Any],
    opts: _Options,
    *,
    key_time: str,
    measures: Mapping[str, nw.Expr],
    quantiles: bool = False,
) -> list[nw.LazyFrame[Any]]:
    """Rows of ``long`` keyed by the period of ``key_time``, with every measure column
    (and, with ``quantiles``, a second piece carrying the order statistics)."""
    keyed = long
    if opts.freq is not None:
        precomputed = key_time == _ANCHOR and _ANCHOR_PERIOD in long.collect_schema().names()
        period = (
            nw.col(_ANCHOR_PERIOD) if precomputed else period_start(nw.col(key_time), opts.freq)
        )
        keyed = keyed.with_columns(period.alias("period"))
    keyed = keyed.with_columns(_mature(opts).alias("mature"))
    keys = [*opts.by, *(["period"] if opts.freq else []), "mature"]
    main = keyed.select(
        *[nw.col(k) for k in keys],
        nw.col(_K),
        *[measures.get(m, nw.lit(0)).cast(nw.Int64).alias(m) for m in _MEASURES],
        *_quantile_columns(present=False),
    )
    if not quantiles:
        return [main]
    # the order statistics come from the converted rows only: ranking them alone (not
    # every entrant of every stage) is several times cheaper and gives the same ranks
    converted = keyed.filter((nw.col(_R) == 1) & ~nw.col(_US).is_null())
    helpers = [f"{q}_{side}" for q in QUANTILES for side in ("lo", "hi")]
    ranked = (
        with_rank_columns(converted, [*keys, _K])
        # only the rows at a needed rank carry a value: at most six per group and stage
        .filter(nw.any_horizontal(*[~nw.col(h).is_null() for h in helpers], ignore_nulls=True))
        .select(
            *[nw.col(k) for k in keys],
            nw.col(_K),
            *[nw.lit(0).cast(nw.Int64).alias(m) for m in _MEASURES],
            *_quantile_columns(present=True),
        )
    )
    return [main, ranked]


def with_rank_columns(frame: nw.LazyFrame[Any], partition: Sequence[str]) -> nw.LazyFrame[Any]:
    """Add the order statistics each time-to-convert quantile needs.

    Within ``partition``, the converted rows (``_R == 1``) are ranked by their time
    to convert in whole microseconds (ties by lead id). For ``q = a / b`` and ``n``
    converted rows, linear interpolation needs the values at ranks
    ``lo = floor((n-1)a/b) + 1`` and ``hi = ceil((n-1)a/b) + 1``; each becomes a
    "microseconds or null" column, later aggregated with ``min``.
    """
    converted = (nw.col(_R) == 1) & ~nw.col(_US).is_null()
    ranked = frame.with_columns(
        nw.when(converted).then(nw.col(_US)).otherwise(_NEVER).alias("__pk_order"),
        nw.lit(1).cast(nw.Int64).alias("__pk_one"),
    ).with_columns(
        nw.col("__pk_one")
        .cum_sum()
        .over(*partition, order_by=["__pk_order", _ID])
        .cast(nw.Int64)
        .alias("__pk_rank"),
        nw.col(_R).sum().over(*partition).cast(nw.Int64).alias("__pk_n"),
    )
    exprs = []
    for name, (a, b) in QUANTILES.items():
        scaled = (nw.col("__pk_n") - 1) * a
        for side, rank in (("lo", scaled // b + 1), ("hi", (scaled + (b - 1)) // b + 1)):
            exprs.append(
                nw.when(converted & (nw.col("__pk_rank") == rank))
                .then(nw.col(_US))
                .alias(f"{name}_{side}")
            )
    return ranked.with_columns(*exprs)


def _quantile_columns(*, present: bool) -> list[nw.Expr]:
    out = []
    for name in QUANTILES:
        for side in ("lo", "hi"):
            col = f"{name}_{side}"
            expr = nw.col(col) if present else nw.lit(None)
            out.append(expr.cast(nw.Int64).alias(col))
    return out


def aggregate_stages(
    pieces: Sequence[nw.LazyFrame[Any]],
    keys: Sequence[str],
    stages: Sequence[str],
    *,
    quantiles: bool = False,
    complete: bool = False,
    measures: Sequence[str] = _MEASURES,
) -> nw.LazyFrame[Any]:
    """Sum the measure columns of ``pieces`` per (keys, stage), one row per stage.

    Every piece has exactly the columns ``keys``, the stage index, ``measures`` (and
    the quantile helper columns when ``quantiles``), in this order. With
    ``complete``, every group found gets a row for every stage (zero counts), for
    pieces that do not already carry every stage of every group. Only plain sums
    and minimums are aggregated (ENGINES rule 2), and no join touches the group
    keys, which may be null.
    """
    helper = [f"{q}_{side}" for q in QUANTILES for side in ("lo", "hi")] if quantiles else []
    aggs = [*[nw.col(m).sum() for m in measures], *[nw.col(h).min() for h in helper]]
    # sums come back Int128 on DuckDB: cast before stacking with the Int64 grid
    summed = (
        nw.concat(list(pieces), how="vertical")
        .group_by(*keys, _K)
        .agg(*aggs)
        .with_columns(*[nw.col(m).cast(nw.Int64) for m in measures])
    )
    if complete:
        groups = summed.select(*[nw.col(k) for k in keys]).unique()
        grid = [
            groups.with_columns(
                nw.lit(k).cast(nw.Int64).alias(_K),
                *[nw.lit(0).cast(nw.Int64).alias(m) for m in measures],
                *[nw.lit(None).cast(nw.Int64).alias(h) for h in helper],
            )
            for k in range(len(stages))
        ]
        columns = [*keys, _K, *measures, *helper]
        both = [summed.select(*columns), *[g.select(*columns) for g in grid]]
        summed = nw.concat(both, how="vertical").group_by(*keys, _K).agg(*aggs)
    stage_name: Any = None
    for k, name in enumerate(stages):
        stage_name = (nw.when if stage_name is None else stage_name.when)(nw.col(_K) == k).then(
            nw.lit(name)
        )
    out = summed.with_columns(
        stage_name.cast(nw.String).alias("stage"),
        nw.col(_K).cast(nw.Int64).alias("stage_index"),
        *[nw.col(m).cast(nw.Int64) for m in measures],
    )
    if quantiles:
        out = out.with_columns(*_interpolated())
    return out


def _interpolated() -> list[nw.Expr]:
    """Quantile in days from the order statistics, exactly the same on every engine.

    ``lo + (hi - lo) * r / b`` with ``r = (n-1)a mod b`` is computed as the integer
    ``lo * (b - r) + hi * r`` (exact), then converted to days by one multiplication
    with the reciprocal of ``b`` microseconds-per-day. A multiplication, not a
    division: polars divides by a constant by multiplying with its reciprocal while
    DuckDB divides, which differ in the last bit; one explicit multiplication is the
    same IEEE operation everywhere.
    """
    n = nw.col("step_numerator")
    exprs: list[nw.Expr] = []
    for name, (a, b) in QUANTILES.items():
        r = ((n - 1) * a) % b
        weighted = nw.col(f"{name}_lo") * (b - r) + nw.col(f"{name}_hi") * r
        value = nw.when(n > 0).then(weighted.cast(nw.Float64) * (1.0 / (b * _US_PER_DAY)))
        exprs.append(value.cast(nw.Float64).alias(name))
    return exprs


def finish_stage_table(
    table: nw.LazyFrame[Any],
    *,
    leading: Sequence[str],
    counts: Sequence[str],
    trailing: Sequence[str],
    sort_keys: Sequence[str],
    zero_division: ZeroDivision,
    confidence: float,
) -> nw.LazyFrame[Any]:
    """Add the step and overall Rate columns; select, cast and sort the output.

    Columns: ``leading`` (group keys), ``stage``, ``stage_index``, ``counts``, the
    step and overall Rate columns, ``trailing``; sorted by ``sort_keys`` then
    ``stage_index``, nulls last.
    """
    for prefix in ("step_", "overall_"):
        table = with_rate_columns(
            table,
            f"{prefix}numerator",
            f"{prefix}denominator",
            zero_division=zero_division,
            confidence=confidence,
            prefix=prefix,
        )
    ordered = [
        *leading,
        "stage",
        "stage_index",
        *counts,
        *STEP_COLUMNS,
        *OVERALL_COLUMNS,
        *trailing,
    ]
    casts: dict[str, Any] = {
        "stage": nw.String,
        "stage_index": nw.Int64,
        "mature": nw.Boolean,
        **dict.fromkeys(counts, nw.Int64),
        **dict.fromkeys((*STEP_COLUMNS[:2], *OVERALL_COLUMNS[:2]), nw.Int64),
        **dict.fromkeys((*STEP_COLUMNS[2:], *OVERALL_COLUMNS[2:], *QUANTILES), nw.Float64),
    }
    exprs = [nw.col(c).cast(casts[c]) if c in casts else nw.col(c) for c in ordered]
    return table.select(*exprs).sort(*sort_keys, "stage_index", nulls_last=True)


# ------------------------------------------------------------------ bottleneck


def bottleneck(
    funnel_table: FrameT,
    *,
    by: str | Sequence[str] = (),
    confidence: float = 0.95,
) -> FrameT:
    """The stage step with the lowest step conversion, overall or per group (ボトルネック).

    Parameters
    ----------
    funnel_table
        A table from :func:`funnel` or :func:`pipelinekit.metrics.stages.stage_funnel`
        (any supported frame); needs ``stage``, ``stage_index``,
        ``step_numerator``, ``step_denominator`` and the ``by`` columns.
    by
        Columns of ``funnel_table`` to find a bottleneck for each group of;
        ``()`` (default) gives one overall bottleneck. Rows are summed over every
        other column first (counts add up across groups and periods), so a funnel
        computed ``by="source"`` gives both the per-source and the overall answer.
    confidence
        Level of the Wilson interval of the recomputed rate, default 0.95.

    Returns
    -------
    Frame of the caller's kind with the ``by`` columns, ``from_stage``, ``stage``
    (the step's target stage), ``stage_index``, ``numerator``, ``denominator``,
    ``rate``, ``ci_low``, ``ci_high``; one row per group, sorted by ``by``.

    Notes
    -----
    Steps with a zero denominator carry no evidence and are never the bottleneck;
    a group whose every step has a zero denominator has no row. Ties go to the
    earlier step. When the table has a ``mature`` column and ``by`` does not name
    it, only mature rows are used (immature cohorts are not mixed in).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"source": ["ads"] * 3 + ["web"] * 3,
    ...     "stage": ["lead", "touched", "sql"] * 2, "stage_index": [0, 1, 2] * 2,
    ...     "step_numerator": [10, 8, 2, 10, 4, 2], "step_denominator": [10, 10, 8, 10, 10, 4]})
    >>> bottleneck(t, by="source")[["source", "from_stage", "stage", "rate"]]
      source from_stage  stage  rate
    0    ads    touched    sql  0.25
    1    web       lead  touched  0.40
    >>> bottleneck(t)[["stage", "numerator", "denominator"]]
      stage  numerator  denominator
    0   sql          4           12
    """
    names = check_by(by)
    conf = check_confidence(confidence)
    (lf,), session = engine.enter([funnel_table], function="bottleneck")
    return session.finish(bottleneck_frames(lf, by=names, confidence=conf))  # type: ignore[no-any-return]


def bottleneck_frames(
    table: nw.LazyFrame[Any], *, by: Sequence[str] = (), confidence: float = 0.95
) -> nw.LazyFrame[Any]:
    """:func:`bottleneck` on a narwhals lazy frame (sorted by ``by``)."""
    names = check_by(by)
    require_columns(
        table, "funnel", ["stage", "stage_index", "step_numerator", "step_denominator", *names]
    )
    if "mature" in table.collect_schema().names() and "mature" not in names:
        table = table.filter(nw.col("mature").fill_null(value=False))
    group = [*names] if names else ["__pk_all"]
    summed = (
        table.with_columns(nw.lit(1).alias("__pk_all"))
        .group_by(*group, "stage_index")
        .agg(
            nw.col("stage").min(),
            nw.col("step_numerator").sum().alias("numerator"),
            nw.col("step_denominator").sum().alias("denominator"),
        )
        .with_columns(
            nw.col("stage").shift(1).over(*group, order_by="stage_index").alias("from_stage")
        )
        .filter((nw.col("stage_index") > 0) & (nw.col("denominator") > 0))
        .with_columns(*rate_columns("numerator", "denominator", confidence=confidence))
    )
    lowest = summed.filter(nw.col("rate") == nw.col("rate").min().over(*group))
    first = lowest.filter(nw.col("stage_index") == nw.col("stage_index").min().over(*group))
    return first.select(
        *[nw.col(b) for b in names],
        nw.col("from_stage").cast(nw.String),
        nw.col("stage").cast(nw.String),
        nw.col("stage_index").cast(nw.Int64),
        nw.col("numerator").cast(nw.Int64),
        nw.col("denominator").cast(nw.Int64),
        *[nw.col(c).cast(nw.Float64) for c in ("rate", "ci_low", "ci_high")],
    ).sort(*names, "stage_index", nulls_last=True)
