"""How fast leads are approached: speed to lead (from creation or a web signal to the
first outbound touch), same-day approach rate and next-business-day approach rate
(DESIGN section 3; Japanese business days by default)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_confidence
from pipelinekit._exprs import (
    flag,
)
from pipelinekit.facts import Facts
from pipelinekit.facts.lead_activity import ResponsePart
from pipelinekit.facts.response import lead_response
from pipelinekit.metrics._lead_frames import (
    ORIGINS,
    aggregate,
    check_count,
    check_keys,
    check_keys_present,
    check_option,
    enter_activities,
    enter_leads,
    finish_sorted,
    int_counts,
    optional_cutoff,
    optional_freq,
    with_one,
    with_period,
    with_rates,
)
from pipelinekit.periods import (
    DEFAULT_COUNTRY,
    Freq,
    check_country,
    elapsed_seconds,
    next_business_day_start,
)
from pipelinekit.rates import (
    ZeroDivision,
    check_zero_division,
)
from pipelinekit.types import AsOf, By

__all__ = [
    "Signal",
    "TimeUnit",
    "next_business_day_rate",
    "same_day_approach_rate",
    "speed_to_lead",
]

FrameT = TypeVar("FrameT")

Signal = Literal["page_view_burst", "link_click", "form_submit"]


TimeUnit = Literal["s", "minutes", "hours", "days"]


_UNIT_SECONDS: dict[str, float] = {"s": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}


_QUANTILES = (("median", 0.5), ("p75", 0.75), ("p90", 0.9))


def _quantile_aggs(
    frame: nw.LazyFrame[Any],
    value: str,
    partition: Sequence[str],
    tiebreak: str,
    quantiles: Sequence[tuple[str, float]],
) -> tuple[nw.LazyFrame[Any], list[nw.Expr], list[nw.Expr]]:
    """Prepare linear-interpolation quantiles (numpy's default method) of ``value``.

    Portable on every engine: ranks come from an ordered cumulative sum, the two
    neighbouring order statistics and the fraction are picked with flags and
    aggregated with ``max``, and the interpolation runs after the aggregation, so
    pandas, polars and DuckDB give the same numbers. Returns the frame with helper
    columns, the aggregations for ``group_by(partition)``, and the expressions that
    compute each quantile (named after the ``quantiles`` names) after it.
    """
    has = flag(~nw.col(value).is_null())
    frame = frame.with_columns(has.alias("_has"))
    order = [value, tiebreak]
    frame = frame.with_columns(
        nw.col("_has").cum_sum().over(*partition, order_by=order).cast(nw.Int64).alias("_rank"),
        nw.col("_has").sum().over(*partition).cast(nw.Int64).alias("_n"),
    )
    aggs: list[nw.Expr] = []
    finals: list[nw.Expr] = []
    index = (nw.col("_rank") - 1).cast(nw.Float64)  # 0-based position among values
    present = nw.col("_has") == 1
    for name, q in quantiles:
        h = (nw.col("_n") - 1).cast(nw.Float64) * q
        low = present & (index <= h) & (index + 1 > h)
        high = present & (index - 1 <= h) & (index > h)
        aggs += [
            nw.when(low).then(nw.col(value)).max().alias(f"_{name}_lo"),
            nw.when(high).then(nw.col(value)).max().alias(f"_{name}_hi"),
            nw.when(low).then(h - index).max().alias(f"_{name}_frac"),
        ]
        lo, hi = nw.col(f"_{name}_lo"), nw.col(f"_{name}_hi")
        finals.append(
            (lo + nw.col(f"_{name}_frac") * (nw.coalesce(hi, lo) - lo)).cast(nw.Float64).alias(name)
        )
    return frame, aggs, finals


def speed_to_lead(
    leads: FrameT,
    activities: Any,
    *,
    signal: Signal | None = None,
    by: By = ("owner_id",),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    unit: TimeUnit = "minutes",
    page_views: int = 5,
    burst_days: int = 14,
    as_of: AsOf | None = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Distribution of the time to the first outbound touch (スピード・トゥ・リード).

    The clock starts at lead creation (``signal=None``) or at the lead's first web
    signal: ``"link_click"``, ``"form_submit"`` or ``"page_view_burst"`` (the page view
    completing ``page_views`` page views within ``burst_days`` days). It stops at the
    first outbound call, email or meeting at or after the start; touches before the
    start do not count. Leads not touched yet are counted in ``lead_count`` but have
    no time (they are not in the quantiles).

    Quantiles are linear interpolations between order statistics (numpy's default
    ``"linear"`` method), computed with portable window expressions so every engine
    gives the same numbers.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    signal
        ``None`` (from creation, default), ``"page_view_burst"``, ``"link_click"`` or
        ``"form_submit"``. Leads without the signal are left out.
    by
        Lead columns to group by, e.g. ``"owner_id"`` (default) or ``"source"``.
    freq
        Period of the start time (creation or signal); ``None``: no period column.
    origin
        ``"inbound"`` (default, as DESIGN defines speed to lead), ``"outbound"`` or
        ``None`` for every lead (useful with a web signal).
    unit
        Unit of the times: ``"s"``, ``"minutes"`` (default), ``"hours"``, ``"days"``.
    page_views, burst_days
        Burst definition for ``signal="page_view_burst"`` (default 5 views in 14 days).
    as_of
        Ignore leads and activities after the end of this day.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``lead_count``, ``touched_count``, ``median_<unit>``, ``p75_<unit>``,
    ``p90_<unit>`` (``unit`` ``"s"`` gives ``median_s``).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "owner_id": ["R1"] * 3,
    ...     "origin": ["inbound"] * 3,
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 10:00",
    ...                                   "2025-04-01 11:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["call", "email"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["busy", "sent"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 09:10", "2025-04-01 10:30"])})
    >>> speed_to_lead(leads, acts)  # doctest: +NORMALIZE_WHITESPACE
      owner_id  lead_count  touched_count  median_minutes  p75_minutes  p90_minutes
    0       R1           3              2            20.0         25.0         28.0
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    kind = check_option("signal", signal, get_args(Signal), optional=True)
    wanted_origin = check_option("origin", origin, ORIGINS, optional=True)
    time_unit = check_option("unit", unit, get_args(TimeUnit))
    page_views = check_count("page_views", page_views, minimum=1)
    burst_days = check_count("burst_days", burst_days, minimum=1)
    cutoff = optional_cutoff(as_of)
    (lf_leads, lf_acts), session = _compat.enter([leads, activities], function="speed_to_lead")
    lead_frame = enter_leads(lf_leads, cutoff=cutoff, tz=tz, origin=wanted_origin)
    check_keys_present(keys, lead_frame.collect_schema().names(), name="by")
    acts = enter_activities(
        lf_acts, cutoff=cutoff, tz=tz, required=("activity_id",) if kind else ()
    )
    shared = None if kind is not None else _shared_response(facts, cutoff, tz, leads, activities)
    response = lead_response(
        lead_frame,
        acts,
        signal=kind,
        page_views=page_views,
        burst_days=burst_days,
        per_lead=shared,
    )
    response, group = with_period(response, "start_at", keys, period_freq)
    elapsed = elapsed_seconds(nw.col("start_at"), nw.col("first_touch_at"))
    response = with_one(response).with_columns(
        (elapsed / _UNIT_SECONDS[time_unit]).alias("_elapsed"),
        flag(~nw.col("first_touch_at").is_null()).alias("touched_count"),
    )
    partition = list(group) or ["_all"]
    if not group:
        response = response.with_columns(nw.lit(1).cast(nw.Int64).alias("_all"))
    names = [(f"{name}_{time_unit}", q) for name, q in _QUANTILES]
    response, quantile_aggs, quantile_exprs = _quantile_aggs(
        response, "_elapsed", partition, "lead_id", names
    )
    table = aggregate(
        response,
        group,
        nw.col("_one").sum().alias("lead_count"),
        nw.col("touched_count").sum(),
        *quantile_aggs,
    )
    table = table.select(*group, *int_counts("lead_count", "touched_count"), *quantile_exprs)
    return finish_sorted(session, table, group)  # type: ignore[no-any-return]


def _shared_response(
    facts: Facts | None, cutoff: datetime | None, tz: str, leads: Any, activities: Any
) -> nw.LazyFrame[Any] | None:
    """The report's per-lead response part, when ``facts`` covers these tables."""
    if facts is None or not facts.serves(cutoff, tz, leads=leads, activities=activities):
        return None
    return facts.lead_activity(ResponsePart())


def _approach_rate(
    function: str,
    leads: Any,
    activities: Any,
    *,
    by: By,
    freq: Freq | None,
    origin: str | None,
    as_of: AsOf | None,
    zero_division: ZeroDivision,
    confidence: float,
    tz: str,
    country: str | None,
    facts: Facts | None,
) -> Any:
    """Share of leads with an outbound touch dated from their creation day up to the
    end of the same day (``country=None``) or of the next business day."""
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted_origin = check_option("origin", origin, ORIGINS, optional=True)
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    if country is not None:
        check_country(country)
    cutoff = optional_cutoff(as_of)
    (lf_leads, lf_acts), session = _compat.enter([leads, activities], function=function)
    lead_frame = enter_leads(lf_leads, cutoff=cutoff, tz=tz, origin=wanted_origin)
    check_keys_present(keys, lead_frame.collect_schema().names(), name="by")
    acts = enter_activities(lf_acts, cutoff=cutoff, tz=tz)
    response = lead_response(
        lead_frame, acts, per_lead=_shared_response(facts, cutoff, tz, leads, activities)
    )
    if country is None:
        deadline = nw.col("day_start") + timedelta(days=1)
    else:
        deadline = next_business_day_start(nw.col("created_at"), country=country) + timedelta(
            days=1
        )
    response = response.with_columns(deadline.cast(nw.Datetime("us")).alias("deadline"))
    if cutoff is not None:
        response = response.filter(nw.col("deadline") <= cutoff)
    response, group = with_period(response, "created_at", keys, period_freq)
    in_time = (nw.col("first_touch_from_day_at") < nw.col("deadline")).fill_null(value=False)
    response = with_one(response).with_columns(flag(in_time).alias("numerator"))
    table = aggregate(
        response, group, nw.col("numerator").sum(), nw.col("_one").sum().alias("denominator")
    )
    table = with_rates(
        table.select(*group, *int_counts("numerator", "denominator")),
        "numerator",
        "denominator",
        zero_division,
        confidence=confidence,
    )
    return finish_sorted(session, table, group, zero_division=zero_division)


def same_day_approach_rate(
    leads: FrameT,
    activities: Any,
    *,
    by: By = (),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    as_of: AsOf | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Share of leads with an outbound touch on their creation date (即日アプローチ率).

    The creation date is the calendar day in the dataset time zone: a lead created at
    23:59 and touched at 00:01 the next day was not approached the same day. A touch
    earlier on the creation day than ``created_at`` counts too (as in the report
    summary's ``same_day_approach_rate``).

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    by
        Lead columns to group by (e.g. ``"owner_id"``, ``"source"``); default none.
    freq
        Period of ``created_at``; ``None``: no period column.
    origin
        ``"inbound"`` (default), ``"outbound"`` or ``None`` (every lead).
    as_of
        Leads created and touches made after the end of this day are ignored.
    zero_division
        Rate of a group without leads: ``"nan"`` (default), ``"0"``, ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``numerator`` (leads approached the same day), ``denominator`` (leads),
    ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "origin": ["inbound"] * 2,
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 23:59"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["call"] * 2,
    ...     "direction": ["outbound"] * 2, "outcome": ["busy", "busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 09:30", "2025-04-02 00:01"])})
    >>> same_day_approach_rate(leads, acts)[["numerator", "denominator", "rate"]]
       numerator  denominator  rate
    0          1            2   0.5
    """
    return _approach_rate(  # type: ignore[no-any-return]
        "same_day_approach_rate",
        leads,
        activities,
        by=by,
        freq=freq,
        origin=origin,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
        country=None,
        facts=facts,
    )


def next_business_day_rate(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    by: By = (),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    country: str = DEFAULT_COUNTRY,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Share of leads approached by the end of the next business day (翌営業日対応率).

    A lead counts as approached when it has an outbound touch dated from its creation
    date up to the end of the first business day after it (weekends and public
    holidays of ``country`` skipped; Japanese calendar by default). A lead created on
    the Friday before a Monday holiday has until the end of Tuesday. Only leads whose
    deadline has passed by the end of ``as_of`` are counted.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the rate is computed for.
    by
        Lead columns to group by; default none.
    freq
        Period of ``created_at``; ``None``: no period column.
    origin
        ``"inbound"`` (default), ``"outbound"`` or ``None`` (every lead).
    country
        Holiday calendar (a code known to the ``holidays`` package), default ``"JP"``.
    zero_division
        Rate of a group without leads: ``"nan"`` (default), ``"0"``, ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``numerator``, ``denominator``, ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "origin": ["inbound"],
    ...     "created_at": pd.to_datetime(["2025-01-10 18:00"])})  # Friday; Monday is a holiday
    >>> acts = pd.DataFrame({"lead_id": ["L1"], "channel": ["call"],
    ...     "direction": ["outbound"], "outcome": ["busy"],
    ...     "occurred_at": pd.to_datetime(["2025-01-14 17:00"])})  # Tuesday
    >>> next_business_day_rate(leads, acts, as_of="2025-01-31")["rate"].tolist()
    [1.0]
    """
    return _approach_rate(  # type: ignore[no-any-return]
        "next_business_day_rate",
        leads,
        activities,
        by=by,
        freq=freq,
        origin=origin,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
        country=country,
        facts=facts,
    )
