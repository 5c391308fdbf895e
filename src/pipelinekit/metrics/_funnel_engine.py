"""The stage-table engine shared by the lead funnel and the opportunity stage funnel:
per-stage sums, exact time-to-convert quantiles, step and overall rates, bottlenecks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._exprs import require_columns
from pipelinekit.breakdowns import check_by
from pipelinekit.rates import (
    ZeroDenominatorError,
    ZeroDivision,
    rate_columns,
    with_rate_columns,
)

#: How stages are reached: a later stage implies the earlier ones, or only recorded,
#: in-order events count.
Mode = Literal["inferred", "strict"]

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


US_PER_DAY = 86_400_000_000


NEVER = 2**62  # sorts after every real duration in microseconds


# Internal column names of the long (lead x stage) frame.
K_COL = "__pk_k"


REACHED_COL = "__pk_r"


REACHED_PREV_COL = "__pk_r_prev"


REACH_AT_COL = "__pk_e"


REACH_PREV_AT_COL = "__pk_e_prev"


ANCHOR_COL = "__pk_anchor"


DURATION_US_COL = "__pk_us"


ANCHOR_PERIOD_COL = "__pk_anchor_period"


ID_COL = "__pk_id"


#: Measures summed per (group, stage); every piece of the long frame carries all of them.
MEASURES = (
    "count",
    "step_numerator",
    "step_denominator",
    "overall_numerator",
    "overall_denominator",
)


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


def with_rank_columns(frame: nw.LazyFrame[Any], partition: Sequence[str]) -> nw.LazyFrame[Any]:
    """Add the order statistics each time-to-convert quantile needs.

    Within ``partition``, the converted rows (``REACHED_COL == 1``) are ranked by their time
    to convert in whole microseconds (ties by lead id). For ``q = a / b`` and ``n``
    converted rows, linear interpolation needs the values at ranks
    ``lo = floor((n-1)a/b) + 1`` and ``hi = ceil((n-1)a/b) + 1``; each becomes a
    "microseconds or null" column, later aggregated with ``min``.
    """
    converted = (nw.col(REACHED_COL) == 1) & ~nw.col(DURATION_US_COL).is_null()
    ranked = frame.with_columns(
        nw.when(converted).then(nw.col(DURATION_US_COL)).otherwise(NEVER).alias("__pk_order"),
        nw.lit(1).cast(nw.Int64).alias("__pk_one"),
    ).with_columns(
        nw.col("__pk_one")
        .cum_sum()
        .over(*partition, order_by=["__pk_order", ID_COL])
        .cast(nw.Int64)
        .alias("__pk_rank"),
        nw.col(REACHED_COL).sum().over(*partition).cast(nw.Int64).alias("__pk_n"),
    )
    exprs = []
    for name, (a, b) in QUANTILES.items():
        scaled = (nw.col("__pk_n") - 1) * a
        for side, rank in (("lo", scaled // b + 1), ("hi", (scaled + (b - 1)) // b + 1)):
            exprs.append(
                nw.when(converted & (nw.col("__pk_rank") == rank))
                .then(nw.col(DURATION_US_COL))
                .alias(f"{name}_{side}")
            )
    return ranked.with_columns(*exprs)


def quantile_columns(*, present: bool) -> list[nw.Expr]:
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
    measures: Sequence[str] = MEASURES,
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
        .group_by(*keys, K_COL)
        .agg(*aggs)
        .with_columns(*[nw.col(m).cast(nw.Int64) for m in measures])
    )
    if complete:
        groups = summed.select(*[nw.col(k) for k in keys]).unique()
        grid = [
            groups.with_columns(
                nw.lit(k).cast(nw.Int64).alias(K_COL),
                *[nw.lit(0).cast(nw.Int64).alias(m) for m in measures],
                *[nw.lit(None).cast(nw.Int64).alias(h) for h in helper],
            )
            for k in range(len(stages))
        ]
        columns = [*keys, K_COL, *measures, *helper]
        both = [summed.select(*columns), *[g.select(*columns) for g in grid]]
        summed = nw.concat(both, how="vertical").group_by(*keys, K_COL).agg(*aggs)
    stage_name: Any = None
    for k, name in enumerate(stages):
        stage_name = (nw.when if stage_name is None else stage_name.when)(nw.col(K_COL) == k).then(
            nw.lit(name)
        )
    out = summed.with_columns(
        stage_name.cast(nw.String).alias("stage"),
        nw.col(K_COL).cast(nw.Int64).alias("stage_index"),
        *[nw.col(m).cast(nw.Int64) for m in measures],
    )
    if quantiles:
        out = out.with_columns(*interpolated())
    return out


def interpolated() -> list[nw.Expr]:
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
        value = nw.when(n > 0).then(weighted.cast(nw.Float64) * (1.0 / (b * US_PER_DAY)))
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
