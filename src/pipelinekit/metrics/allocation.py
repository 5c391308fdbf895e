"""SQL allocation: SQLs per field-sales (FS) rep per period against capacity.

Definitions (DESIGN section 3, with the choices this module makes where it is silent):

- **SQL**: an opportunity; its ``created_at`` is the SQL time and its ``owner_id``
  the FS rep it was allocated to. With ``as_of`` only SQLs created before the end of
  that day count.
- **Reps**: every rep whose ``role`` is ``field``, plus any other ``owner_id`` that
  holds SQLs in the range (so no SQL with an owner is lost; an owner missing from the
  ``reps`` table has unknown capacity). Each of them gets a row in every period of
  the range, with 0 SQLs where it had none.
- **Range**: from the period of the earliest SQL to the period containing ``as_of``
  (without ``as_of``: the period of the latest SQL).
- **Monthly capacity** = the rep's ``monthly_sql_capacity``, else the band named by its
  ``segment`` in ``capacity_bands`` (:data:`DEFAULT_CAPACITY_BANDS`), else unknown.
- **Period capacity** = monthly capacity x the months the period covers, each day
  counting ``1 / days in its month``: a calendar month counts 1, a quarter 3, a year
  12, an ISO week 7/30 or 7/31 (a week across two months takes its days from each),
  a day ``1 / days in month``. The period containing ``as_of`` counts only its days
  up to and including ``as_of`` (``partial`` is true), so the current month's load is
  the load *so far*, against the capacity pro-rated to date.
- **Load** = SQLs / period capacity. **Status**: ``over`` when SQLs > capacity (load >
  1), ``warning`` when load >= ``warn_at``, ``ok`` below, ``unknown`` when the rep has
  no capacity (no alert is raised for it).

Examples
--------
>>> DEFAULT_CAPACITY_BANDS["1000+"]
30
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import flag, require_columns
from pipelinekit._signature import former_table_order
from pipelinekit.errors import ConfigError
from pipelinekit.periods import Freq, as_of_cutoff, check_freq, parse_as_of, period_start
from pipelinekit.types import DEFAULT_TZ

__all__ = [
    "ALLOCATION_STATUSES",
    "DEFAULT_CAPACITY_BANDS",
    "capacity_expr",
    "capacity_overruns",
    "check_capacity_bands",
    "idle_capacity",
    "monthly_capacity",
    "sql_allocation",
    "sql_concentration",
]

FrameT = TypeVar("FrameT")
Status = Literal["over", "warning", "ok", "unknown"]

#: Monthly SQL capacity of an FS rep by employee-band segment.
DEFAULT_CAPACITY_BANDS: Mapping[str, int] = {"1-30": 60, "31-299": 45, "300-999": 40, "1000+": 30}
#: Values of the ``status`` column of :func:`sql_allocation`.
ALLOCATION_STATUSES: tuple[Status, ...] = ("over", "warning", "ok", "unknown")

_OPPORTUNITY_COLUMNS = ("owner_id", "created_at")
_REP_COLUMNS = ("rep_id", "role", "segment", "monthly_sql_capacity")


# ----------------------------------------------------------------- capacity


def check_capacity_bands(bands: Mapping[str, float]) -> dict[str, float]:
    """Validate a segment -> monthly capacity mapping (positive numbers)."""
    if not isinstance(bands, Mapping):
        raise ConfigError(
            "capacity_bands must be a mapping of segment -> monthly SQL capacity, "
            f"e.g. {dict(DEFAULT_CAPACITY_BANDS)!r}; got {type(bands).__name__}"
        )
    out = dict(bands)
    bad = {
        k: v
        for k, v in out.items()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0
    }
    if bad:
        raise ConfigError(f"capacity_bands values must be positive numbers; got {bad!r}")
    return out


def _band_capacity(bands: Mapping[str, float]) -> nw.Expr | None:
    band: Any = None
    for segment, capacity in check_capacity_bands(bands).items():
        band = (nw.when if band is None else band.when)(nw.col("segment") == segment).then(
            nw.lit(float(capacity))
        )
    return None if band is None else band.cast(nw.Float64)


def capacity_expr(bands: Mapping[str, float] = DEFAULT_CAPACITY_BANDS) -> nw.Expr:
    """Monthly capacity per rep row: ``monthly_sql_capacity``, else the segment band."""
    explicit = nw.col("monthly_sql_capacity").cast(nw.Float64)
    band = _band_capacity(bands)
    if band is None:
        return explicit.alias("capacity")
    return nw.coalesce(explicit, band).alias("capacity")


def _capacity_source(bands: Mapping[str, float]) -> nw.Expr:
    explicit = ~nw.col("monthly_sql_capacity").is_null()
    band = _band_capacity(bands)
    source = nw.when(explicit).then(nw.lit("rep"))
    if band is not None:
        source = source.when(~band.is_null()).then(nw.lit("segment"))
    return source.cast(nw.String).alias("capacity_source")


def monthly_capacity(reps: nw.LazyFrame[Any], bands: Mapping[str, float]) -> nw.LazyFrame[Any]:
    """``rep_id`` and monthly ``capacity`` (null when unknown) for every rep."""
    return reps.select(nw.col("rep_id"), capacity_expr(bands))


@former_table_order("opportunities", "reps")
def capacity_overruns(
    reps: FrameT,
    opportunities: Any,
    *,
    as_of: date | datetime | str,
    capacity_bands: Mapping[str, float] = DEFAULT_CAPACITY_BANDS,
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """The (rep, calendar month) pairs whose SQLs exceed the rep's monthly capacity.

    DESIGN section 4's ``sql_over_capacity_rep_months`` is the number of these rows:
    SQLs (opportunities created by the end of ``as_of``) per ``owner_id`` and month,
    against ``monthly_sql_capacity``, else the band of the rep's ``segment``, else no
    capacity (never over). Every rep counts whatever its role, and the month of
    ``as_of`` counts with its whole monthly capacity (no pro-rating: a month that is
    already over is over). :func:`sql_allocation` gives the full load table.

    Parameters
    ----------
    reps, opportunities
        Canonical tables (same frame library).
    as_of
        Count SQLs created by the end of this day.
    capacity_bands
        Monthly capacity by segment for reps without ``monthly_sql_capacity``.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: ``rep_id``, ``period`` (month start), ``sql_count``
    and ``capacity``, sorted by ``rep_id`` and ``period``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"owner_id": ["F1"] * 3 + ["F2"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-05-01", "2025-04-03"])})
    >>> reps = pd.DataFrame({"rep_id": ["F1", "F2"], "role": ["field"] * 2,
    ...     "segment": ["1-30", "1-30"],
    ...     "monthly_sql_capacity": pd.array([1, None], dtype="Int64")})
    >>> capacity_overruns(reps, opps, as_of="2025-05-31")[["rep_id", "sql_count", "capacity"]]
      rep_id  sql_count  capacity
    0     F1          2       1.0
    """
    bands = check_capacity_bands(capacity_bands)
    cutoff = as_of_cutoff(as_of)
    (lf_opps, lf_reps), session = _compat.enter([opportunities, reps], function="capacity_overruns")
    require_columns(lf_opps, "opportunities", _OPPORTUNITY_COLUMNS)
    lf_opps = _compat.to_local_naive(lf_opps, ["created_at"], tz=tz, table="opportunities")
    per_month = (
        lf_opps.filter((nw.col("created_at") < cutoff) & ~nw.col("owner_id").is_null())
        .with_columns(period_start(nw.col("created_at"), "month").alias("period"))
        .group_by("owner_id", "period")
        .agg(nw.len().cast(nw.Int64).alias("sql_count"))
    )
    require_columns(lf_reps, "reps", ("rep_id", "segment", "monthly_sql_capacity"))
    capacity = monthly_capacity(lf_reps, bands).rename({"rep_id": "owner_id"})
    over = (nw.col("sql_count") > nw.col("capacity")).fill_null(value=False)
    result = (
        per_month.join(capacity, on="owner_id", how="inner")
        .filter(over)
        .select(
            nw.col("owner_id").alias("rep_id"),
            nw.col("period").cast(nw.Datetime("us")),
            nw.col("sql_count").cast(nw.Int64),
            nw.col("capacity").cast(nw.Float64),
        )
        .sort("rep_id", "period", nulls_last=True)
    )
    return session.finish(result)  # type: ignore[no-any-return]


# ------------------------------------------------------------ periods (Python)


def _period_floor(day: date, freq: Freq) -> date:
    if freq == "day":
        return day
    if freq == "week":
        return day - timedelta(days=day.weekday())
    if freq == "month":
        return day.replace(day=1)
    if freq == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _next_period(start: date, freq: Freq) -> date:
    if freq == "day":
        return start + timedelta(days=1)
    if freq == "week":
        return start + timedelta(days=7)
    return _add_months(start, {"month": 1, "quarter": 3, "year": 12}[freq])


def _months_covered(start: date, stop: date) -> Fraction:
    """Months in ``[start, stop)``: each day counts ``1 / days in its month``."""
    total = Fraction(0)
    day = start
    while day < stop:
        month_end = _add_months(day.replace(day=1), 1)
        end = min(month_end, stop)
        total += Fraction((end - day).days, calendar.monthrange(day.year, day.month)[1])
        day = end
    return total


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _period_rows(first: date, last: date, freq: Freq, as_of: date | None) -> list[dict[str, Any]]:
    """One row per period from ``first`` to ``last``: start, months covered, partial."""
    rows = []
    start = first
    while start <= last:
        stop = _next_period(start, freq)
        partial = as_of is not None and as_of + timedelta(days=1) < stop
        end = as_of + timedelta(days=1) if partial and as_of is not None else stop
        rows.append(
            {
                "period": datetime(start.year, start.month, start.day),
                "months": float(_months_covered(start, end)),
                "partial": partial,
            }
        )
        start = stop
    return rows


# --------------------------------------------------------------- the grid


def _check_warn_at(warn_at: float) -> float:
    if isinstance(warn_at, bool) or not isinstance(warn_at, (int, float)) or not 0 < warn_at <= 1:
        raise ConfigError(f"warn_at must be a number in (0, 1], e.g. 0.9; got {warn_at!r}")
    return float(warn_at)


def _rep_periods(
    opportunities: nw.LazyFrame[Any],
    reps: nw.LazyFrame[Any],
    session: _compat.Session,
    *,
    freq: Freq,
    bands: Mapping[str, float],
    as_of: date | None,
    tz: str,
) -> nw.LazyFrame[Any]:
    """Every (rep, period) of the range with SQLs and capacity.

    Columns: ``rep_id``, ``segment``, ``period``, ``partial`` (0/1), ``sql_count``,
    ``monthly_capacity``, ``capacity`` (pro-rated; null when unknown),
    ``capacity_source``.
    """
    require_columns(opportunities, "opportunities", _OPPORTUNITY_COLUMNS)
    require_columns(reps, "reps", _REP_COLUMNS)
    opps = _compat.to_local_naive(opportunities, ["created_at"], tz=tz, table="opportunities")
    if as_of is not None:
        opps = opps.filter(nw.col("created_at") < as_of_cutoff(as_of))
    sqls = opps.filter(~nw.col("owner_id").is_null()).select(
        nw.col("owner_id").cast(nw.String).alias("rep_id"),
        period_start(nw.col("created_at"), freq).cast(nw.Datetime("us")).alias("period"),
    )
    first, last = session.collect(
        sqls.select(nw.col("period").min().alias("first"), nw.col("period").max().alias("last"))
    ).rows()[0]
    rows: list[dict[str, Any]] = []
    if first is not None:
        end = _period_floor(as_of, freq) if as_of is not None else _as_date(last)
        rows = _period_rows(_as_date(first), end, freq, as_of)
    periods = _compat.literal_rows(
        sqls,
        [{**r, "partial": int(r["partial"])} for r in rows],
        {"period": nw.Datetime("us"), "months": nw.Float64(), "partial": nw.Int64()},
    )
    field = reps.filter((nw.col("role") == "field").fill_null(value=False)).select(
        nw.col("rep_id").cast(nw.String)
    )
    ids = nw.concat([field, sqls.select("rep_id")], how="vertical").unique(["rep_id"])
    info = reps.select(
        nw.col("rep_id").cast(nw.String),
        nw.col("segment").cast(nw.String),
        capacity_expr(bands).alias("monthly_capacity"),
        _capacity_source(bands),
    )
    counts = sqls.group_by("rep_id", "period").agg(nw.len().alias("sql_count"))
    return (
        ids.join(info, on="rep_id", how="left")
        .join(periods, how="cross")
        .join(counts, on=["rep_id", "period"], how="left")
        .select(
            nw.col("rep_id"),
            nw.col("segment"),
            nw.col("period").cast(nw.Datetime("us")),
            nw.col("partial").cast(nw.Int64),
            nw.col("sql_count").fill_null(0).cast(nw.Int64),
            nw.col("monthly_capacity").cast(nw.Float64),
            (nw.col("monthly_capacity") * nw.col("months")).cast(nw.Float64).alias("capacity"),
            nw.col("capacity_source"),
        )
    )


def _enter_allocation(
    opportunities: Any,
    reps: Any,
    *,
    function: str,
    freq: str,
    capacity_bands: Mapping[str, float],
    as_of: date | datetime | str | None,
    tz: str,
) -> tuple[nw.LazyFrame[Any], _compat.Session]:
    """Validate the shared parameters, enter the frames, and build the rep x period grid."""
    checked_freq = check_freq(freq)
    bands = check_capacity_bands(capacity_bands)
    day = parse_as_of(as_of) if as_of is not None else None
    (opps, reps_lf), session = _compat.enter([opportunities, reps], function=function)
    grid = _rep_periods(opps, reps_lf, session, freq=checked_freq, bands=bands, as_of=day, tz=tz)
    return grid, session


# ------------------------------------------------------------- public API


@former_table_order("opportunities", "reps")
def sql_allocation(
    reps: FrameT,
    opportunities: Any,
    *,
    freq: Freq = "month",
    capacity_bands: Mapping[str, float] = DEFAULT_CAPACITY_BANDS,
    warn_at: float = 0.9,
    as_of: date | datetime | str | None = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """SQLs per FS rep per period against the rep's capacity (SQL 配分負荷).

    Parameters
    ----------
    reps
        Canonical reps table (``rep_id``, ``role``, ``segment``,
        ``monthly_sql_capacity``), the same frame library.
    opportunities
        Canonical opportunities table (``owner_id``, ``created_at``); any supported frame.
    freq
        Period length: ``"day"``, ``"week"`` (ISO, Monday), ``"month"`` (default),
        ``"quarter"`` or ``"year"``.
    capacity_bands
        Monthly capacity by segment for reps without ``monthly_sql_capacity``;
        default :data:`DEFAULT_CAPACITY_BANDS` (1-30: 60, 31-299: 45, 300-999: 40,
        1000+: 30).
    warn_at
        Load from which a rep is flagged ``warning`` (default 0.9); in (0, 1].
    as_of
        Count SQLs created by the end of this day; the range ends with the period
        containing it, pro-rated to the days elapsed. ``None``: every SQL, and the last
        period with an SQL is treated as complete.
    tz
        Dataset time zone; tz-aware timestamps are converted to it.

    Returns
    -------
    Frame of the caller's kind, one row per (rep, period), sorted by ``period``,
    ``rep_id``: ``rep_id``, ``segment``, ``period``, ``partial`` (the period is cut
    at ``as_of``), ``sql_count``, ``monthly_capacity``, ``capacity`` (pro-rated to the
    period), ``capacity_source`` (``"rep"``, ``"segment"`` or null), ``load``
    (``sql_count / capacity``; null when capacity is unknown) and ``status``
    (``"over"``, ``"warning"``, ``"ok"``, ``"unknown"``).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"owner_id": ["F1", "F1", "F1"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-05-03"])})
    >>> reps = pd.DataFrame({"rep_id": ["F1", "F2", "F3"], "role": ["field"] * 3,
    ...     "segment": [None, "1000+", None],
    ...     "monthly_sql_capacity": pd.array([2, None, None], dtype="Int64")})
    >>> out = sql_allocation(reps, opps, as_of="2025-05-31")
    >>> out[["period", "rep_id", "sql_count", "capacity", "load", "status"]]
          period rep_id  sql_count  capacity  load   status
    0 2025-04-01     F1          2       2.0   1.0  warning
    1 2025-04-01     F2          0      30.0   0.0       ok
    2 2025-04-01     F3          0       NaN   NaN  unknown
    3 2025-05-01     F1          1       2.0   0.5       ok
    4 2025-05-01     F2          0      30.0   0.0       ok
    5 2025-05-01     F3          0       NaN   NaN  unknown
    """
    warn = _check_warn_at(warn_at)
    grid, session = _enter_allocation(
        opportunities,
        reps,
        function="sql_allocation",
        freq=freq,
        capacity_bands=capacity_bands,
        as_of=as_of,
        tz=tz,
    )
    capacity = nw.col("capacity")
    load = nw.when(capacity > 0).then(nw.col("sql_count").cast(nw.Float64) / capacity)
    status = (
        nw.when(capacity.is_null())
        .then(nw.lit("unknown"))
        .when(nw.col("sql_count") > capacity)
        .then(nw.lit("over"))
        .when(nw.col("sql_count") >= capacity * warn)
        .then(nw.lit("warning"))
        .otherwise(nw.lit("ok"))
    )
    out = grid.select(
        nw.col("rep_id").cast(nw.String),
        nw.col("segment").cast(nw.String),
        nw.col("period").cast(nw.Datetime("us")),
        (nw.col("partial") == 1).cast(nw.Boolean).alias("partial"),
        nw.col("sql_count").cast(nw.Int64),
        nw.col("monthly_capacity").cast(nw.Float64),
        capacity.cast(nw.Float64),
        nw.col("capacity_source").cast(nw.String),
        load.cast(nw.Float64).alias("load"),
        status.cast(nw.String).alias("status"),
    ).sort("period", "rep_id")
    return session.finish(out)  # type: ignore[no-any-return]


@former_table_order("opportunities", "reps")
def sql_concentration(
    reps: FrameT,
    opportunities: Any,
    *,
    freq: Freq = "month",
    as_of: date | datetime | str | None = None,
    min_closed: int = 5,
    pile_up_threshold: float = 1.5,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """How concentrated SQL allocation is per period: top-rep share, HHI, Gini (偏り).

    Shares are over the reps of :func:`sql_allocation` (FS reps plus any other owner
    of an SQL in the range), *including reps with 0 SQLs*:

    - ``top_rep_share`` = SQLs of the busiest rep / SQLs.
    - ``hhi`` = sum of squared shares; in ``[1/n, 1]`` for ``n`` reps (``1/n`` when
      even, 1 when one rep has every SQL).
    - ``gini`` = mean absolute difference of the per-rep SQL counts over twice their
      mean, ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``, computed as
      ``2 sum_i i x_(i) / (n sum x) - (n + 1) / n`` on counts sorted ascending: 0
      when even, ``(n - 1) / n`` (its maximum) when one rep has every SQL.

    Win-rate pile-up: a rep's *historical win rate* in a period is won / closed over
    its opportunities closed before the period starts; reps with at least
    ``min_closed`` such deals are *rated*. The *top quartile* is the
    ``ceil(rated / 4)`` rated reps with the highest win rate (ties: more closed deals,
    then ``rep_id``). ``pile_up_ratio`` = their share of the period's SQLs / their
    share of the headcount (``n``); ``win_rate_pile_up`` is true when it is at least
    ``pile_up_threshold``.

    Parameters
    ----------
    reps, opportunities
        Canonical tables (opportunities need ``owner_id``, ``created_at``,
        ``closed_at``, ``is_won``); the same frame library.
    freq
        Period length (default ``"month"``).
    as_of
        Count SQLs created by the end of this day (``None``: all).
    min_closed
        Closed deals before the period a rep needs to be rated (default 5).
    pile_up_threshold
        Ratio of SQL share to headcount share of the top-quartile reps from which the
        period is flagged (default 1.5).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per period sorted by ``period``:
    ``period``, ``rep_count``, ``sql_count``, ``top_rep_share``, ``hhi``, ``gini``
    (null when the period has no SQLs), ``rated_rep_count``,
    ``top_win_rate_rep_count``, ``top_win_rate_headcount_share``,
    ``top_win_rate_sql_share``, ``pile_up_ratio`` (null when no rep is rated or there
    are no SQLs) and ``win_rate_pile_up`` (false when the ratio is null).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"owner_id": ["F1", "F1", "F1", "F2"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-04"]),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None] * 4, dtype="boolean")})
    >>> reps = pd.DataFrame({"rep_id": ["F1", "F2"], "role": ["field", "field"],
    ...     "segment": None, "monthly_sql_capacity": pd.array([None, None], dtype="Int64")})
    >>> out = sql_concentration(reps, opps)
    >>> out[["period", "rep_count", "sql_count", "top_rep_share", "hhi", "gini"]]
          period  rep_count  sql_count  top_rep_share    hhi   gini
    0 2025-04-01          2          4           0.75  0.625  0.25
    """
    if isinstance(min_closed, bool) or not isinstance(min_closed, int) or min_closed < 1:
        raise ConfigError(f"min_closed must be an integer >= 1; got {min_closed!r}")
    if (
        isinstance(pile_up_threshold, bool)
        or not isinstance(pile_up_threshold, (int, float))
        or not pile_up_threshold > 0
    ):
        raise ConfigError(
            f"pile_up_threshold must be a positive number, e.g. 1.5; got {pile_up_threshold!r}"
        )
    checked_freq = check_freq(freq)
    day = parse_as_of(as_of) if as_of is not None else None
    (opps, reps_lf), session = _compat.enter([opportunities, reps], function="sql_concentration")
    require_columns(opps, "opportunities", ("closed_at", "is_won"))
    grid = _rep_periods(
        opps, reps_lf, session, freq=checked_freq, bands={}, as_of=day, tz=tz
    ).select("rep_id", "period", "sql_count")
    ranked = _win_rate_quartile(grid, opps, min_closed=min_closed, tz=tz)
    out = _concentration(ranked, threshold=float(pile_up_threshold)).sort("period")
    return session.finish(out)  # type: ignore[no-any-return]


def _win_rate_quartile(
    grid: nw.LazyFrame[Any], opportunities: nw.LazyFrame[Any], *, min_closed: int, tz: str
) -> nw.LazyFrame[Any]:
    """Add ``rated`` and ``top`` (0/1) flags: the top win-rate quartile per period."""
    closed = (
        _compat.to_local_naive(opportunities, ["closed_at"], tz=tz, table="opportunities")
        .filter(~nw.col("closed_at").is_null() & ~nw.col("owner_id").is_null())
        .select(
            nw.col("owner_id").cast(nw.String).alias("rep_id"),
            nw.col("closed_at"),
            flag(nw.col("is_won").fill_null(value=False)).alias("won"),
            nw.lit(1).cast(nw.Int64).alias("closed"),
        )
    )
    history = (
        grid.select("rep_id", "period")
        .join(closed, on="rep_id", how="inner")
        .filter(nw.col("closed_at") < nw.col("period"))
        .group_by("rep_id", "period")
        .agg(nw.col("won").sum(), nw.col("closed").sum())
    )
    with_history = grid.join(history, on=["rep_id", "period"], how="left").with_columns(
        nw.col("won").fill_null(0).cast(nw.Int64),
        nw.col("closed").fill_null(0).cast(nw.Int64),
    )
    rated = nw.col("closed") >= min_closed
    win_rate = nw.col("won").cast(nw.Float64) / nw.col("closed").cast(nw.Float64)
    keyed = with_history.with_columns(
        flag(rated).alias("rated"),
        # ascending sort keys: higher win rate first, then more closed deals; unrated last
        nw.when(rated).then(-win_rate).otherwise(nw.lit(2.0)).cast(nw.Float64).alias("_k1"),
        nw.when(rated).then(-nw.col("closed")).otherwise(nw.lit(0)).cast(nw.Int64).alias("_k2"),
        # ascending by SQL count for the Gini rank
        nw.lit(1).cast(nw.Int64).alias("_ones"),
    )
    ordered = keyed.with_columns(
        nw.col("rated")
        .cum_sum()
        .over("period", order_by=["_k1", "_k2", "rep_id"])
        .alias("_wr_rank"),
        nw.col("rated").sum().over("period").alias("_rated_n"),
        nw.col("_ones")
        .cum_sum()
        .over("period", order_by=["sql_count", "rep_id"])
        .alias("_sql_rank"),
    )
    top = (nw.col("rated") == 1) & (nw.col("_wr_rank") <= (nw.col("_rated_n") + 3) // 4)
    return ordered.with_columns(
        flag(top).alias("top"),
        (nw.col("_sql_rank").cast(nw.Int64) * nw.col("sql_count")).alias("_rank_x"),
        (nw.col("sql_count") * nw.col("sql_count")).alias("_x2"),
    )


def _concentration(ranked: nw.LazyFrame[Any], *, threshold: float) -> nw.LazyFrame[Any]:
    """Per period: shares, HHI, Gini and the win-rate pile-up flag from ranked rows."""
    per = (
        ranked.with_columns((nw.col("top") * nw.col("sql_count")).alias("_top_x"))
        .group_by("period")
        .agg(
            nw.len().alias("rep_count"),
            nw.col("sql_count").sum(),
            nw.col("sql_count").max().alias("_max"),
            nw.col("_x2").sum(),
            nw.col("_rank_x").sum(),
            nw.col("rated").sum().alias("rated_rep_count"),
            nw.col("top").sum().alias("top_win_rate_rep_count"),
            nw.col("_top_x").sum(),
        )
    )
    total = nw.col("sql_count").cast(nw.Float64)
    n = nw.col("rep_count").cast(nw.Float64)
    has = nw.col("sql_count") > 0
    rated = nw.col("top_win_rate_rep_count") > 0
    headcount_share = nw.col("top_win_rate_rep_count").cast(nw.Float64) / n
    sql_share = nw.when(has).then(nw.col("_top_x").cast(nw.Float64) / total)
    ratio = nw.when(has & rated).then(sql_share / headcount_share)
    return per.select(
        nw.col("period").cast(nw.Datetime("us")),
        nw.col("rep_count").cast(nw.Int64),
        nw.col("sql_count").cast(nw.Int64),
        nw.when(has)
        .then(nw.col("_max").cast(nw.Float64) / total)
        .cast(nw.Float64)
        .alias("top_rep_share"),
        nw.when(has)
        .then(nw.col("_x2").cast(nw.Float64) / (total * total))
        .cast(nw.Float64)
        .alias("hhi"),
        nw.when(has)
        .then(2.0 * nw.col("_rank_x").cast(nw.Float64) / (n * total) - (n + 1.0) / n)
        .cast(nw.Float64)
        .alias("gini"),
        nw.col("rated_rep_count").cast(nw.Int64),
        nw.col("top_win_rate_rep_count").cast(nw.Int64),
        nw.when(rated).then(headcount_share).cast(nw.Float64).alias("top_win_rate_headcount_share"),
        nw.when(rated).then(sql_share).cast(nw.Float64).alias("top_win_rate_sql_share"),
        ratio.cast(nw.Float64).alias("pile_up_ratio"),
        (has & rated & (ratio >= threshold))
        .fill_null(value=False)
        .cast(nw.Boolean)
        .alias("win_rate_pile_up"),
    )


@former_table_order("opportunities", "reps")
def idle_capacity(
    reps: FrameT,
    opportunities: Any,
    *,
    freq: Freq = "month",
    capacity_bands: Mapping[str, float] = DEFAULT_CAPACITY_BANDS,
    as_of: date | datetime | str | None = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Unused SQL capacity per segment and period (空き枠).

    Over the reps of :func:`sql_allocation` whose capacity is known (reps with unknown
    capacity are left out; see their ``unknown`` status there). A rep's idle capacity
    is ``max(capacity - SQLs, 0)`` and its excess ``max(SQLs - capacity, 0)``; one
    rep's excess does not fill another's idle capacity.

    Parameters
    ----------
    reps, opportunities
        Canonical tables; the same frame library.
    freq, capacity_bands, as_of, tz
        As in :func:`sql_allocation` (capacity pro-rated the same way).

    Returns
    -------
    Frame of the caller's kind, one row per (period, segment) sorted by ``period``,
    ``segment`` (missing segment last): ``period``, ``segment``, ``rep_count``,
    ``sql_count``, ``capacity``, ``idle_capacity``, ``excess_sqls``,
    ``over_rep_count``, ``utilization`` (``sql_count / capacity``; may exceed 1).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"owner_id": ["F1"] * 3,
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"])})
    >>> reps = pd.DataFrame({"rep_id": ["F1", "F2"], "role": ["field", "field"],
    ...     "segment": ["1-30", "1-30"], "monthly_sql_capacity": pd.array([2, 5], dtype="Int64")})
    >>> idle_capacity(reps, opps)[["segment", "sql_count", "capacity", "idle_capacity",
    ...     "excess_sqls"]]
      segment  sql_count  capacity  idle_capacity  excess_sqls
    0    1-30          3       7.0            5.0          1.0
    """
    grid, session = _enter_allocation(
        opportunities,
        reps,
        function="idle_capacity",
        freq=freq,
        capacity_bands=capacity_bands,
        as_of=as_of,
        tz=tz,
    )
    sqls = nw.col("sql_count").cast(nw.Float64)
    capacity = nw.col("capacity")
    known = grid.filter(~capacity.is_null()).with_columns(
        nw.when(capacity > sqls).then(capacity - sqls).otherwise(0.0).alias("idle_capacity"),
        nw.when(sqls > capacity).then(sqls - capacity).otherwise(0.0).alias("excess_sqls"),
        flag(sqls > capacity).alias("over_rep_count"),
    )
    per = known.group_by("period", "segment").agg(
        nw.len().alias("rep_count"),
        nw.col("sql_count").sum(),
        nw.col("capacity").sum(),
        nw.col("idle_capacity").sum(),
        nw.col("excess_sqls").sum(),
        nw.col("over_rep_count").sum(),
    )
    out = per.select(
        nw.col("period").cast(nw.Datetime("us")),
        nw.col("segment").cast(nw.String),
        nw.col("rep_count").cast(nw.Int64),
        nw.col("sql_count").cast(nw.Int64),
        nw.col("capacity").cast(nw.Float64),
        nw.col("idle_capacity").cast(nw.Float64),
        nw.col("excess_sqls").cast(nw.Float64),
        nw.col("over_rep_count").cast(nw.Int64),
        nw.when(nw.col("capacity") > 0)
        .then(nw.col("sql_count").cast(nw.Float64) / nw.col("capacity"))
        .cast(nw.Float64)
        .alias("utilization"),
    ).sort("period", "segment", nulls_last=True)
    return session.finish(out)  # type: ignore[no-any-return]
