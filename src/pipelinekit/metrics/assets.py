"""Assets: lead inflow against a target, shortfall and the suggested activity multiplier.

Leads are the inside-sales team's assets (資産). When a period's inflow falls short of
its target, the team compensates with more outbound activity on the leads it has:
the suggested multiplier is ``target / lead_count`` clipped into the band
``multiplier_band`` (default 1.5x-2x; 2x when no lead came in), and 1.0 when the
target is met.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 10:00",
...                                   "2025-04-03 11:00"])})
>>> lead_inflow(leads, target=2, as_of="2025-04-03")
      period  lead_count  target  shortfall  attainment  is_short  multiplier
0 2025-04-01           2     2.0        0.0         1.0         0         1.0
1 2025-04-02           0     2.0        2.0         0.0         1         2.0
2 2025-04-03           1     2.0        1.0         0.5         1         2.0
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import require_columns
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._lead_frames import (
    ORIGINS,
    check_option,
    enter_leads,
    finish_sorted,
    int_counts,
    with_one,
)
from pipelinekit.periods import (
    DEFAULT_COUNTRY,
    Freq,
    as_of_cutoff,
    check_country,
    check_freq,
    is_business_day_expr,
    parse_as_of,
    period_start,
)
from pipelinekit.types import AsOf

__all__ = ["DEFAULT_MULTIPLIER_BAND", "lead_inflow"]

FrameT = TypeVar("FrameT")

#: Suggested activity multiplier band for periods that fall short (DESIGN section 3).
DEFAULT_MULTIPLIER_BAND = (1.5, 2.0)


def _check_band(band: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ConfigError(
            f"multiplier_band must be a pair (low, high) with 1 <= low <= high; got {band!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and 1.0 <= low <= high):
        raise ConfigError(
            f"multiplier_band must be a pair (low, high) with 1 <= low <= high; got {band!r}"
        )
    return low, high


def _scalar_target(target: Any) -> float | None:
    """The target as a number, or None when it is a frame."""
    if isinstance(target, bool):
        raise ConfigError(f"target must be a number >= 0 or a frame; got {target!r}")
    if isinstance(target, (int, float)):
        if not math.isfinite(float(target)) or target < 0:
            raise ConfigError(f"target must be a finite number >= 0; got {target!r}")
        return float(target)
    return None


def _day_grid(like: nw.LazyFrame[Any], first: datetime, last: datetime) -> nw.LazyFrame[Any]:
    """Every midnight from ``first`` to ``last`` as column ``day``, on ``like``'s engine.

    Built from one-row literal frames: ``k`` two-row frames of bits are cross-joined
    (2**k rows) and each bit adds ``2**i`` days (ENGINES: only ``+ timedelta``).
    """
    days = (last - first).days + 1
    bits = max(1, math.ceil(math.log2(days))) if days > 1 else 1
    one = like.select(nw.len().alias("_x"))
    grid = one.select(nw.lit(first).cast(nw.Datetime("us")).alias("day"))
    for i in range(bits):
        name = f"_b{i}"
        pair = nw.concat(
            [one.select(nw.lit(v).cast(nw.Int64).alias(name)) for v in (0, 1)], how="vertical"
        )
        grid = grid.join(pair, how="cross").with_columns(
            nw.when(nw.col(name) == 1)
            .then(nw.col("day") + timedelta(days=2**i))
            .otherwise(nw.col("day"))
            .cast(nw.Datetime("us"))
            .alias("day")
        )
    return grid.filter(nw.col("day") <= last).select("day")


def _bounds(
    session: _compat.Session, leads: nw.LazyFrame[Any], start: Any, as_of: Any
) -> tuple[datetime, datetime] | None:
    """First and last day of the grid: ``start`` / ``as_of`` or the leads' range."""
    first = None if start is None else parse_as_of(start)
    last = None if as_of is None else parse_as_of(as_of)
    if first is None or last is None:
        row = session.collect(
            leads.select(
                nw.col("created_at").min().alias("first"), nw.col("created_at").max().alias("last")
            )
        ).rows(named=True)[0]
        first = first or (None if row["first"] is None else row["first"].date())
        last = last or (None if row["last"] is None else row["last"].date())
    if first is None or last is None or first > last:
        return None
    return datetime(first.year, first.month, first.day), datetime(last.year, last.month, last.day)


def lead_inflow(
    leads: FrameT,
    *,
    freq: Freq = "day",
    target: float | Any | None = None,
    multiplier_band: tuple[float, float] = DEFAULT_MULTIPLIER_BAND,
    origin: str | None = None,
    start: AsOf | None = None,
    as_of: AsOf | None = None,
    business_days: bool = False,
    country: str = DEFAULT_COUNTRY,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Lead inflow per period against a target, shortfall and suggested multiplier (リード流入).

    Every period from ``start`` to ``as_of`` is listed, periods without leads too
    (with 0). The last period may be partial when ``as_of`` falls inside it.

    Parameters
    ----------
    leads
        Canonical leads table; any supported frame.
    freq
        ``"day"`` (default), ``"week"``, ``"month"``, ``"quarter"``, ``"year"``.
    target
        Leads expected per period: a number (the same for every period), a frame
        (same library as ``leads``) with columns ``period`` and ``target`` whose rows
        are summed into the ``freq`` periods they fall in, or ``None`` (no target:
        the target columns are missing values).
    multiplier_band
        ``(low, high)``: the suggested activity multiplier of a short period is
        ``target / lead_count`` clipped into this band (``high`` when no lead came
        in); default ``(1.5, 2.0)``.
    origin
        Count only ``"inbound"`` or ``"outbound"`` leads; ``None`` (default) all.
    start, as_of
        First and last day listed. Default: the days of the first and last
        ``created_at`` (found with one small query on the data).
    business_days
        With ``freq="day"``: a scalar target applies to business days only (weekends
        and public holidays of ``country`` get a target of 0).
    country
        Holiday calendar for ``business_days`` (default ``"JP"``).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per period: ``period``, ``lead_count``,
    ``target``, ``shortfall`` (``max(target - lead_count, 0)``), ``attainment``
    (``lead_count / target``, missing when the target is 0 or missing),
    ``is_short`` (0/1), ``multiplier`` (1.0 when not short).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-05-20"])})
    >>> targets = pd.DataFrame({"period": pd.to_datetime(["2025-04-01", "2025-05-01"]),
    ...                         "target": [2.0, 4.0]})
    >>> lead_inflow(leads, freq="month", target=targets)[["period", "lead_count",
    ...                                                    "shortfall", "multiplier"]]
          period  lead_count  shortfall  multiplier
    0 2025-04-01           2        0.0         1.0
    1 2025-05-01           1        3.0         2.0
    """
    period_freq = check_freq(freq)
    scalar = _scalar_target(target)
    low, high = _check_band(multiplier_band)
    wanted_origin = check_option("origin", origin, ORIGINS, optional=True)
    if not isinstance(business_days, bool):
        raise ConfigError(f"business_days must be True or False; got {business_days!r}")
    if business_days:
        check_country(country)
        if period_freq != "day":
            raise ConfigError(f"business_days=True needs freq='day'; got freq={freq!r}")
    if start is not None:
        parse_as_of(start)
    cutoff = None if as_of is None else as_of_cutoff(as_of)
    frames = [leads] if target is None or scalar is not None else [leads, target]
    lfs, session = _compat.enter(frames, function="lead_inflow")
    lead_frame = enter_leads(lfs[0], cutoff=cutoff, tz=tz, origin=wanted_origin)
    bounds = _bounds(session, lead_frame, start, as_of)
    if bounds is None:
        grid = lead_frame.select(nw.col("created_at").alias("day")).head(0)
    else:
        grid = _day_grid(lfs[0], *bounds)
    periods = grid.with_columns(
        period_start(nw.col("day"), period_freq).cast(nw.Datetime("us")).alias("period")
    )
    if scalar is not None:
        target_value = nw.lit(scalar)
        if business_days:
            target_value = (
                nw.when(is_business_day_expr(nw.col("day"), country=country))
                .then(nw.lit(scalar))
                .otherwise(nw.lit(0.0))
            )
        periods = periods.with_columns(target_value.cast(nw.Float64).alias("target"))
    else:
        periods = periods.with_columns(nw.lit(None).cast(nw.Float64).alias("target"))
    # every day of a period carries the period's target (with business_days: a day is a
    # period), so max() picks it; a period without a target keeps null
    table = periods.group_by("period").agg(nw.col("target").max())
    if len(lfs) == 2:
        table = table.drop("target").join(
            _targets(lfs[1], period_freq, tz), on="period", how="left"
        )
    counts = (
        with_one(lead_frame)
        .with_columns(
            period_start(nw.col("created_at"), period_freq).cast(nw.Datetime("us")).alias("period")
        )
        .group_by("period")
        .agg(nw.col("_one").sum().alias("lead_count"))
    )
    table = table.join(counts, on="period", how="left").select(
        "period", *int_counts("lead_count"), nw.col("target").cast(nw.Float64)
    )
    return finish_sorted(session, _shortfall(table, low, high), ["period"])  # type: ignore[no-any-return]


def _targets(frame: nw.LazyFrame[Any], freq: Freq, tz: str) -> nw.LazyFrame[Any]:
    """A target frame summed into ``freq`` periods."""
    require_columns(frame, "target", ["period", "target"])
    frame = _compat.to_local_naive(frame, ["period"], tz=tz, table="target")
    return (
        frame.with_columns(
            period_start(nw.col("period"), freq).cast(nw.Datetime("us")).alias("period"),
            nw.col("target").cast(nw.Float64),
        )
        .group_by("period")
        .agg(nw.col("target").sum())
    )


def _shortfall(table: nw.LazyFrame[Any], low: float, high: float) -> nw.LazyFrame[Any]:
    count = nw.col("lead_count").cast(nw.Float64)
    goal = nw.col("target")
    short = (count < goal).fill_null(value=False)
    ratio = nw.when(count > 0).then(goal / count).otherwise(nw.lit(high))
    clipped = nw.min_horizontal(nw.max_horizontal(ratio, nw.lit(low)), nw.lit(high))
    return table.with_columns(
        nw.when(~goal.is_null())
        .then(nw.max_horizontal(goal - count, nw.lit(0.0)))
        .cast(nw.Float64)
        .alias("shortfall"),
        nw.when(goal > 0).then(count / goal).cast(nw.Float64).alias("attainment"),
        nw.when(short).then(nw.lit(1)).otherwise(nw.lit(0)).cast(nw.Int64).alias("is_short"),
        nw.when(goal.is_null())
        .then(nw.lit(None))
        .when(short)
        .then(clipped)
        .otherwise(nw.lit(1.0))
        .cast(nw.Float64)
        .alias("multiplier"),
    )
