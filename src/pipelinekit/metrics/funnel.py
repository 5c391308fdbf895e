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
from enum import Enum
from typing import Any, Literal, TypeVar, get_args

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_choice, check_window
from pipelinekit._exprs import flag, require_columns
from pipelinekit.breakdowns import check_by, with_breakdown_columns
from pipelinekit.domain import Channel, Direction, Outcome
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._funnel_engine import (
    ANCHOR_COL,
    ANCHOR_PERIOD_COL,
    DURATION_US_COL,
    FUNNEL_COLUMNS,
    ID_COL,
    K_COL,
    MEASURES,
    QUANTILES,
    REACH_AT_COL,
    REACH_PREV_AT_COL,
    REACHED_COL,
    REACHED_PREV_COL,
    RESERVED,
    Mode,
    aggregate_stages,
    bottleneck_frames,
    finish_stage_table,
    quantile_columns,
    raise_on_zero,
    with_rank_columns,
)
from pipelinekit.periods import Freq, as_of_cutoff, check_freq, epoch_microseconds, period_start
from pipelinekit.rates import (
    ZeroDivision,
    check_confidence,
    check_zero_division,
)

__all__ = [
    "DEFAULT_STAGES",
    "EXCLUDED",
    "FUNNEL_COLUMNS",
    "STAGE_COLUMNS",
    "FunnelExclusion",
    "Mode",
    "Stage",
    "View",
    "bottleneck",
    "bottleneck_frames",
    "funnel",
    "funnel_frames",
]

FrameT = TypeVar("FrameT")

Stage = Literal["lead", "touched", "connected", "sql", "valid", "won"]
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


_MAX_WINDOW = timedelta(days=365 * 1000)


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
    step_windows: tuple[timedelta | None, ...] = ()
    exclusions: tuple[FunnelExclusion, ...] = ()

    @property
    def measures(self) -> tuple[str, ...]:
        return (*MEASURES, EXCLUDED) if self.exclusions else MEASURES


#: The output column of leads dropped by an exclusion (only with ``exclusions``).
EXCLUDED = "excluded"
_EXCLUDED_AT = "__pk_x"
_EXCLUDED_COL = "__pk_excluded"


@attrs.frozen(kw_only=True)
class FunnelExclusion:
    """An exclusion step of :func:`funnel`: leads with a matching activity between two
    stages drop out of the funnel from the second stage on.

    A lead is excluded at stage ``between[1]`` when it reached ``between[0]`` (at
    ``e_a``), was still in the funnel at the stage before ``between[1]``, and has an
    activity matching every given field (``channel``, ``outcome``, ``direction``)
    with ``e_a <= occurred_at < e_b``, where ``e_b`` is its reach time of
    ``between[1]`` or, when it has not reached it, the end of ``as_of`` (no bound
    without ``as_of``). An activity at the very instant it reaches ``between[1]``
    does not exclude it. Excluded leads are counted in the ``excluded`` column of
    that stage, not as drop-offs.

    >>> x = FunnelExclusion(between=("lead", "touched"), channel="call", outcome="wrong_number")
    >>> x.between, x.outcome
    (('lead', 'touched'), 'wrong_number')
    """

    between: tuple[str, str] = attrs.field(converter=tuple)
    channel: str | None = None
    outcome: str | None = None
    direction: str | None = None

    def __attrs_post_init__(self) -> None:
        if len(self.between) != 2:
            raise ConfigError(f"FunnelExclusion.between must be two stages; got {self.between!r}")
        fields: dict[str, type[Enum]] = {
            "channel": Channel,
            "outcome": Outcome,
            "direction": Direction,
        }
        given = {name: getattr(self, name) for name in fields if getattr(self, name) is not None}
        if not given:
            raise ConfigError("FunnelExclusion needs a channel, an outcome or a direction")
        for name, value in given.items():
            allowed = [m.value for m in fields[name]]
            check_choice(f"FunnelExclusion.{name}", value, allowed)

    def predicate(self) -> nw.Expr:
        """The activity rows this exclusion matches (null-safe)."""
        parts = [
            (nw.col(name) == value).fill_null(value=False)
            for name in ("channel", "outcome", "direction")
            if (value := getattr(self, name)) is not None
        ]
        return nw.all_horizontal(*parts, ignore_nulls=False)


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


def _check_step_windows(
    stages: tuple[str, ...], step_windows: object
) -> tuple[timedelta | None, ...]:
    """Per stage, the window from the previous stage (None: no limit; the entry none)."""
    if step_windows is None:
        return ()
    if isinstance(step_windows, Mapping):
        unknown = [s for s in step_windows if s not in stages[1:]]
        if unknown:
            raise ConfigError(
                f"step_windows: {', '.join(map(repr, unknown))} is not a stage after the "
                f"entry; choose from {', '.join(map(repr, stages[1:]))}"
            )
        given = [step_windows.get(s) for s in stages[1:]]
    elif isinstance(step_windows, Sequence) and not isinstance(step_windows, str):
        given = list(step_windows)
        if len(given) != len(stages) - 1:
            raise ConfigError(
                f"step_windows: give one window per step ({len(stages) - 1} for "
                f"{len(stages)} stages) or a mapping stage -> window; got {len(given)}"
            )
    else:
        raise ConfigError(
            f"step_windows must be a mapping stage -> window or a sequence; got {step_windows!r}"
        )
    return (None, *[check_window(f"step_windows[{i + 1}]", w) for i, w in enumerate(given)])


def _check_exclusions(
    stages: tuple[str, ...], exclusions: object, activities: object
) -> tuple[FunnelExclusion, ...]:
    if exclusions is None:
        return ()
    items = (exclusions,) if isinstance(exclusions, FunnelExclusion) else exclusions
    if not isinstance(items, Sequence) or not all(isinstance(x, FunnelExclusion) for x in items):
        raise ConfigError(
            f"exclusions must be FunnelExclusion objects (or a sequence of them); got "
            f"{exclusions!r}"
        )
    for item in items:
        a, b = item.between
        if a not in stages or b not in stages or stages.index(a) >= stages.index(b):
            raise ConfigError(
                f"FunnelExclusion.between={item.between!r}: two stages of the funnel, in "
                f"order; stages are {', '.join(map(repr, stages))}"
            )
    if items and activities is None:
        raise ConfigError("exclusions need activities= (the activities they match)")
    return tuple(items)


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
    step_windows: object = None,
    exclusions: object = None,
    activities: object = None,
) -> _Options:
    checked = _check_stages(stages)
    return _Options(
        stages=checked,
        step_windows=_check_step_windows(checked, step_windows),
        exclusions=_check_exclusions(checked, exclusions, activities),
        by=check_by(by, reserved=RESERVED),
        freq=None if freq is None else check_freq(freq),
        mode=check_choice("mode", mode, get_args(Mode)),
        window=check_window("window", window),
        view=check_choice("view", view, get_args(View)),
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
    step_windows: Mapping[str, timedelta | int | None]
    | Sequence[timedelta | int | None]
    | None = None,
    exclusions: FunnelExclusion | Sequence[FunnelExclusion] | None = None,
    activities: Any = None,
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
    step_windows
        Per-step conversion windows: a mapping stage -> window (timedelta or whole
        days; stages after the entry) or one window per step in stage order (None =
        no limit). A stage counts only when reached before the previous stage's reach
        time + its window (end exclusive, as ``window``); a lead that misses a step
        reaches no later stage. Combines with ``window`` (both must hold).
    exclusions
        :class:`FunnelExclusion` steps (one or a sequence): leads with a matching
        activity between two stages drop out from the second stage on and are
        counted in an extra ``excluded`` column of that stage. Needs ``activities``.
    activities
        Canonical activities (``lead_id``, ``occurred_at`` and the columns the
        exclusions match), same frame library as ``journey``.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``period`` (with ``freq``),
    ``stage``, ``stage_index`` (0 = entry), ``count`` (with ``exclusions``, then
    ``excluded``: the leads that reached the previous stage and were excluded at
    this one, so ``step_denominator = step_numerator + excluded + dropped``),
    ``step_numerator``,
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
        step_windows=step_windows,
        exclusions=exclusions,
        activities=activities,
    )
    acts = activities if opts.exclusions else None
    extra = [t for t in (accounts, opportunities, acts) if t is not None]
    lazies, session = engine.enter([journey, *extra], function="funnel")
    it = iter(lazies[1:])
    lf_accounts = next(it) if accounts is not None else None
    lf_opps = next(it) if opportunities is not None else None
    lf_acts = next(it) if acts is not None else None
    result = _funnel(
        lazies[0], opts, accounts=lf_accounts, opportunities=lf_opps, activities=lf_acts
    )
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
    step_windows: Mapping[str, timedelta | int | None]
    | Sequence[timedelta | int | None]
    | None = None,
    exclusions: FunnelExclusion | Sequence[FunnelExclusion] | None = None,
    activities: nw.LazyFrame[Any] | None = None,
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
        step_windows=step_windows,
        exclusions=exclusions,
        activities=activities,
    )
    return _funnel(
        journey, opts, accounts=accounts, opportunities=opportunities, activities=activities
    )


# ------------------------------------------------------------------ the funnel engine


def _funnel(
    journey: nw.LazyFrame[Any],
    opts: _Options,
    *,
    accounts: nw.LazyFrame[Any] | None,
    opportunities: nw.LazyFrame[Any] | None,
    activities: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    columns = [STAGE_COLUMNS[s] for s in opts.stages]
    require_columns(journey, "journey", ["lead_id", *columns])
    journey = engine.to_local_naive(journey, columns, tz=opts.tz, table="journey")
    journey = with_breakdown_columns(
        journey, opts.by, accounts=accounts, opportunities=opportunities
    )
    wide = _reach(journey, columns, opts)
    if opts.step_windows:
        wide = _step_windows(wide, opts)
    if opts.exclusions:
        assert activities is not None
        wide = _excluded(wide, activities, opts)
    if opts.freq is not None:  # the anchor's period once per lead, not once per stage
        wide = wide.with_columns(
            period_start(nw.col("__pk_e0"), opts.freq).alias(ANCHOR_PERIOD_COL)
        )
    long = engine.fan_out(_long(engine.fan_out(wide), len(columns), opts.by))
    excluded = nw.col(_EXCLUDED_COL)
    period = opts.freq is not None
    keys = [*opts.by, *(["period"] if period else []), "mature"]
    if opts.view == "cohort":
        pieces = _piece(
            long,
            opts,
            key_time=ANCHOR_COL,
            measures={
                "count": nw.col(REACHED_COL),
                "step_numerator": nw.col(REACHED_COL),
                "step_denominator": nw.col(REACHED_PREV_COL),
                "overall_numerator": nw.col(REACHED_COL),
                "overall_denominator": nw.lit(1),
                EXCLUDED: excluded,
            },
            quantiles=True,
        )
    else:
        pieces = [
            *_piece(
                long.filter(nw.col(REACHED_COL) == 1),
                opts,
                key_time=REACH_AT_COL,
                measures={"count": nw.lit(1)},
            ),
            *_piece(
                long.filter(nw.col(REACHED_PREV_COL) == 1),
                opts,
                key_time=REACH_PREV_AT_COL,
                measures={
                    "step_numerator": nw.col(REACHED_COL),
                    "step_denominator": nw.lit(1),
                    EXCLUDED: excluded,
                },
                quantiles=True,
            ),
            *_piece(
                long,
                opts,
                key_time=ANCHOR_COL,
                measures={
                    "overall_numerator": nw.col(REACHED_COL),
                    "overall_denominator": nw.lit(1),
                },
            ),
        ]
    table = aggregate_stages(
        pieces,
        keys,
        opts.stages,
        quantiles=True,
        complete=opts.view == "period",
        measures=opts.measures,
    )
    return finish_stage_table(
        table,
        leading=keys[:-1],
        counts=("count", EXCLUDED) if opts.exclusions else ("count",),
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
        nw.col("lead_id").alias(ID_COL),
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
        nw.col(ID_COL),
        *[nw.col(b) for b in opts.by],
        *[nw.col(c).cast(nw.Datetime("us")) for c in e],
        *[
            epoch_microseconds(nw.col(c), implementation=journey.implementation).alias(f"__pk_u{k}")
            for k, c in enumerate(e)
        ],
    )


def _stage_kept(k: int, kept: nw.Expr) -> list[nw.Expr]:
    """Stage ``k``'s reach time and its epoch microseconds, kept where ``kept`` holds."""
    return [
        nw.when(kept).then(nw.col(f"__pk_e{k}")).alias(f"__pk_e{k}"),
        nw.when(kept).then(nw.col(f"__pk_u{k}")).alias(f"__pk_u{k}"),
    ]


def _step_windows(wide: nw.LazyFrame[Any], opts: _Options) -> nw.LazyFrame[Any]:
    """Each stage reached before the previous one's reach time + its step window; a
    lead that misses a step reaches no later stage (stages are applied in order)."""
    for k in range(1, len(opts.stages)):
        previous, current = nw.col(f"__pk_e{k - 1}"), nw.col(f"__pk_e{k}")
        window = opts.step_windows[k]
        kept = ~previous.is_null()
        if window is not None:
            kept = kept & (current < previous + window).fill_null(value=False)
        wide = wide.with_columns(*_stage_kept(k, kept))
    return wide


def _excluded(
    wide: nw.LazyFrame[Any], activities: nw.LazyFrame[Any], opts: _Options
) -> nw.LazyFrame[Any]:
    """Per lead the stage it is excluded at (``_EXCLUDED_AT``; the earliest one), and
    every stage from there on not reached (see :class:`FunnelExclusion`)."""
    n = len(opts.stages)
    fields = {
        f for x in opts.exclusions for f in ("channel", "outcome", "direction") if getattr(x, f)
    }
    require_columns(activities, "activities", ["lead_id", "occurred_at", *sorted(fields)])
    acts = engine.to_local_naive(activities, ["occurred_at"], tz=opts.tz, table="activities")
    id_type = wide.collect_schema()[ID_COL]
    marks = [flag(x.predicate()).alias(f"__pk_xm{j}") for j, x in enumerate(opts.exclusions)]
    acts = (
        acts.filter(~nw.col("lead_id").is_null())
        .select(
            nw.col("lead_id").cast(id_type).alias(ID_COL),
            nw.col("occurred_at").cast(nw.Datetime("us")).alias("__pk_at"),
            *marks,
        )
        .filter(
            nw.any_horizontal(
                *[nw.col(f"__pk_xm{j}") == 1 for j in range(len(marks))], ignore_nulls=True
            )
        )
    )
    # The activities are stacked under the leads (not joined), so the leads' plan is
    # read once: each lead's reach times reach its activity rows by a window over the
    # lead id (a join of the leads with themselves multiplies the SQL plans).
    schema = wide.collect_schema()
    kind = "__pk_kind"
    leads = wide.with_columns(
        nw.lit(0).cast(nw.Int64).alias(kind),
        nw.lit(None).cast(nw.Datetime("us")).alias("__pk_at"),
        *[nw.lit(0).cast(nw.Int64).alias(f"__pk_xm{j}") for j in range(len(marks))],
    )
    rows = acts.with_columns(
        nw.lit(1).cast(nw.Int64).alias(kind),
        *[nw.lit(None).cast(dtype).alias(name) for name, dtype in schema.items() if name != ID_COL],
    ).select(*leads.collect_schema().names())
    both = nw.concat([leads, rows], how="vertical")
    e = [nw.col(f"__pk_e{k}").max().over(ID_COL) for k in range(n)]
    at = nw.col("__pk_at")
    hits = []
    for j, exclusion in enumerate(opts.exclusions):
        a, b = (opts.stages.index(s) for s in exclusion.between)
        inside = (at >= e[a]) & ~e[b - 1].is_null()
        if opts.cutoff is not None:
            inside = inside & (at < nw.coalesce(e[b], nw.lit(opts.cutoff)))
        else:
            inside = inside & (e[b].is_null() | (at < e[b]))
        hit = (nw.col(f"__pk_xm{j}") == 1) & inside.fill_null(value=False)
        hits.append(nw.when(hit).then(nw.lit(b)).otherwise(nw.lit(n)).cast(nw.Int64))
    first = (
        # one exclusion: its hit itself (PySpark's least() needs two columns)
        both.with_columns(
            (hits[0] if len(hits) == 1 else nw.min_horizontal(*hits)).alias("__pk_hit")
        )
        .with_columns(nw.col("__pk_hit").min().over(ID_COL).alias(_EXCLUDED_AT))
        .filter(nw.col(kind) == 0)
        .with_columns(
            nw.when(nw.col(_EXCLUDED_AT) < n).then(nw.col(_EXCLUDED_AT)).alias(_EXCLUDED_AT)
        )
        .select(*schema.names(), _EXCLUDED_AT)
    )
    before = [
        _stage_kept(k, nw.col(_EXCLUDED_AT).is_null() | (nw.col(_EXCLUDED_AT) > k))
        for k in range(1, n)
    ]
    return first.with_columns(*[expr for pair in before for expr in pair])


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
            nw.col(ID_COL),
            *[nw.col(b) for b in by],
            nw.lit(k).cast(nw.Int64).alias(K_COL),
            nw.col(e[k]).alias(REACH_AT_COL),
            nw.col(e[max(k - 1, 0)]).alias(REACH_PREV_AT_COL),
            nw.col(e[0]).alias(ANCHOR_COL),
            *([nw.col(ANCHOR_PERIOD_COL)] if ANCHOR_PERIOD_COL in names else []),
            flag(~nw.col(e[k]).is_null()).alias(REACHED_COL),
            flag(~nw.col(e[max(k - 1, 0)]).is_null()).alias(REACHED_PREV_COL),
            (nw.col(u[k]) - nw.col(u[k - 1]) if k else nw.lit(None))
            .cast(nw.Int64)
            .alias(DURATION_US_COL),
            *(
                [flag((nw.col(_EXCLUDED_AT) == k).fill_null(value=False)).alias(_EXCLUDED_COL)]
                if _EXCLUDED_AT in names
                else []
            ),
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
    return (nw.col(ANCHOR_COL) + opts.window <= opts.cutoff).fill_null(value=False)


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
        precomputed = key_time == ANCHOR_COL and ANCHOR_PERIOD_COL in long.collect_schema().names()
        period = (
            nw.col(ANCHOR_PERIOD_COL) if precomputed else period_start(nw.col(key_time), opts.freq)
        )
        keyed = keyed.with_columns(period.alias("period"))
    keyed = keyed.with_columns(_mature(opts).alias("mature"))
    keys = [*opts.by, *(["period"] if opts.freq else []), "mature"]
    main = keyed.select(
        *[nw.col(k) for k in keys],
        nw.col(K_COL),
        *[measures.get(m, nw.lit(0)).cast(nw.Int64).alias(m) for m in opts.measures],
        *quantile_columns(present=False),
    )
    if not quantiles:
        return [main]
    # the order statistics come from the converted rows only: ranking them alone (not
    # every entrant of every stage) is several times cheaper and gives the same ranks
    converted = keyed.filter((nw.col(REACHED_COL) == 1) & ~nw.col(DURATION_US_COL).is_null())
    helpers = [f"{q}_{side}" for q in QUANTILES for side in ("lo", "hi")]
    ranked = (
        with_rank_columns(converted, [*keys, K_COL])
        # only the rows at a needed rank carry a value: at most six per group and stage
        .filter(nw.any_horizontal(*[~nw.col(h).is_null() for h in helpers], ignore_nulls=True))
        .select(
            *[nw.col(k) for k in keys],
            nw.col(K_COL),
            *[nw.lit(0).cast(nw.Int64).alias(m) for m in opts.measures],
            *quantile_columns(present=True),
        )
    )
    return [main, ranked]


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
