"""The opportunity view shared by the pipeline, outcome and mix metrics: opportunities as
of a day with state flags, breakdown columns, outcome statistics and rate output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_choice
from pipelinekit._exprs import before, flag, require_columns
from pipelinekit.breakdowns import amount_band, check_by, employee_band, quantity_band
from pipelinekit.errors import ConfigError
from pipelinekit.periods import as_of_cutoff, epoch_seconds
from pipelinekit.rates import (
    ZeroDivision,
    check_confidence,
    check_zero_division,
    raise_on_zero_denominator,
    with_rate_columns,
)
from pipelinekit.types import AsOf

Weight = Literal["count", "amount"]


DAY_S = 86_400.0


OPPORTUNITY_COLUMNS = ("opportunity_id", "created_at", "closed_at", "is_won", "amount")


#: Derived breakdowns: name -> the extra table it needs (None: the opportunity alone).
BREAKDOWNS: Mapping[str, str | None] = {
    "amount_band": None,
    "quantity_band": None,
    "origin": "leads",
    "source": "leads",
    "department": "leads",
    "title": "leads",
    "industry": "accounts",
    "region": "accounts",
    "employee_band": "accounts",
}


LEAD_FIELDS = ("origin", "account_id", "source", "department", "title")


ACCOUNT_FIELDS = ("industry", "region", "employees")


#: Columns of :func:`outcome_stats`, all summed per group.
STATS = {
    "sql_count": None,
    "valid_count": "_valid",
    "open_count": "_open",
    "closed_count": "_closed",
    "won_count": "_won",
    "won_amount_count": "_won_amount_count",
    "open_amount": "_open_amount",
    "closed_amount": "_closed_amount",
    "won_amount": "_won_amount",
    "cycle_days_sum": "_cycle",
    "cycle_median_x2": "_cycle_median_x2",
    "cycle_count": "_cycle_member",
    "excluded_negative_count": "_cycle_negative",
}


FLOAT_STATS = ("open_amount", "closed_amount", "won_amount", "cycle_days_sum", "cycle_median_x2")


def days_between(start: nw.Expr, end: nw.Expr) -> nw.Expr:
    """``end - start`` in fractional days (null when either side is null)."""
    return (epoch_seconds(end) - epoch_seconds(start)) / DAY_S


def calendar_days_to(expr: nw.Expr, day: date) -> nw.Expr:
    """Calendar days from the date of each timestamp to ``day`` (Int64)."""
    target = (day - date(1970, 1, 1)).days
    return (
        (nw.lit(float(target)) - epoch_seconds(expr.dt.truncate("1d")) / DAY_S)
        .round(0)
        .cast(nw.Int64)
    )


def opportunity_states(
    opportunities: nw.LazyFrame[Any], *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """Opportunities created before ``cutoff`` with their state as of then.

    Adds 0/1 flags ``_valid``, ``_open``, ``_closed``, ``_won``, ``_has_amount`` and
    ``_amount`` (Float64).
    """
    require_columns(opportunities, "opportunities", OPPORTUNITY_COLUMNS)
    opps = _compat.to_local_naive(
        opportunities, ["created_at", "validated_at", "closed_at"], tz=tz, table="opportunities"
    ).filter(nw.col("created_at") < cutoff)
    closed = (nw.col("closed_at") < cutoff).fill_null(value=False)
    won = closed & nw.col("is_won").fill_null(value=False)
    valid = (
        (nw.col("validated_at") < cutoff).fill_null(value=False)
        if "validated_at" in opps.collect_schema().names()
        else nw.lit(value=False)
    )
    return opps.with_columns(
        flag(valid).alias("_valid"),
        flag(~closed).alias("_open"),
        flag(closed).alias("_closed"),
        flag(won).alias("_won"),
        flag(~nw.col("amount").is_null()).alias("_has_amount"),
        nw.col("amount").cast(nw.Float64).alias("_amount"),
    )


def with_breakdowns(
    opportunities: nw.LazyFrame[Any],
    by: Sequence[str],
    *,
    leads: nw.LazyFrame[Any] | None = None,
    accounts: nw.LazyFrame[Any] | None = None,
    function: str,
) -> nw.LazyFrame[Any]:
    """Add the ``by`` breakdown columns to the opportunities (joins as needed).

    ``origin`` is the opportunity's origin, else its lead's. The account of an
    opportunity is its ``account_id``, else its lead's ``account_id`` (when ``leads``
    is given). Other names must be opportunity columns (or computed columns of
    ``opportunities`` such as ``stage``).
    """
    columns = opportunities.collect_schema().names()
    given = {"leads": leads, "accounts": accounts}
    tables: set[str] = set()
    for name in by:
        if name in BREAKDOWNS:
            table = BREAKDOWNS[name]
            if table is not None and given[table] is None:
                raise ConfigError(f"{function}: by={name!r} needs the {table} table; pass {table}=")
            if table is not None:
                tables.add(table)
        elif name not in columns:
            allowed = sorted({*BREAKDOWNS, *(c for c in columns if not c.startswith("_"))})
            raise ConfigError(
                f"{function}: by must name opportunity columns or breakdowns; {name!r} is "
                f"neither (allowed: {', '.join(allowed)})"
            )
    frame = opportunities
    if leads is not None and tables:
        needed = [f for f in ("origin", "source", "department", "title") if f in by]
        require_columns(frame, "opportunities", ("lead_id",))
        require_columns(leads, "leads", ("lead_id", *needed))
        present = leads.collect_schema().names()
        frame = frame.join(
            leads.select(
                nw.col("lead_id"),
                *[nw.col(f).alias(f"_lead_{f}") for f in LEAD_FIELDS if f in present],
            ),
            on="lead_id",
            how="left",
        )
    if accounts is not None and "accounts" in tables:
        needed = [
            "employees" if f == "employee_band" else f
            for f in by
            if f in BREAKDOWNS and BREAKDOWNS[f] == "accounts"
        ]
        require_columns(accounts, "accounts", ("account_id", *needed))
        names = frame.collect_schema().names()
        candidates = [nw.col(c) for c in ("account_id", "_lead_account_id") if c in names]
        key = (
            nw.coalesce(*candidates)
            if len(candidates) > 1
            else (candidates[0] if candidates else nw.lit(None))
        )
        present = accounts.collect_schema().names()
        frame = frame.with_columns(key.cast(nw.String).alias("_account_key")).join(
            accounts.select(
                nw.col("account_id").cast(nw.String).alias("_account_key"),
                *[nw.col(f).alias(f"_account_{f}") for f in ACCOUNT_FIELDS if f in present],
            ),
            on="_account_key",
            how="left",
        )
    if not by:
        return frame
    return frame.with_columns(*[breakdown_expr(name, frame).alias(name) for name in by])


def breakdown_expr(name: str, frame: nw.LazyFrame[Any]) -> nw.Expr:
    if name == "amount_band":
        return amount_band("amount")
    if name == "quantity_band":
        return quantity_band("quantity")
    if name == "origin":
        own = nw.col("origin") if "origin" in frame.collect_schema().names() else None
        lead = nw.col("_lead_origin").cast(nw.String)
        return lead if own is None else nw.coalesce(own.cast(nw.String), lead)
    if name in ("source", "department", "title"):
        return nw.col(f"_lead_{name}")
    if name == "employee_band":
        return employee_band("_account_employees")
    if name in ("industry", "region"):
        return nw.col(f"_account_{name}")
    return nw.col(name)


def breakdown_keys(
    frame: nw.LazyFrame[Any], by: Sequence[str]
) -> tuple[nw.LazyFrame[Any], list[str]]:
    """Group keys for ``by``; a constant ``_all`` key when ``by`` is empty."""
    if by:
        return frame, list(by)
    return frame.with_columns(nw.lit(1).cast(nw.Int64).alias("_all")), ["_all"]


def with_median_part(
    frame: nw.LazyFrame[Any],
    *,
    value: str,
    member: str,
    keys: Sequence[str],
    tiebreak: Sequence[str],
    alias: str,
) -> nw.LazyFrame[Any]:
    """Add ``alias``: twice the median of ``value`` over member rows, spread over rows.

    Member rows (``member == 1``) are numbered within ``keys`` in ascending ``value``
    order (ties by ``tiebreak``, which must make rows unique); the one or two middle
    rows carry their value (a single middle row counts twice), others 0. Summing
    ``alias`` per group and halving gives the median, with no ``median`` aggregation
    (ENGINES rule 2).
    """
    ranked = frame.with_columns(
        (1 - nw.col(member)).cast(nw.Int64).alias("_non_member"),
        nw.when(nw.col(member) == 1).then(nw.col(value)).otherwise(0.0).alias("_mv"),
    ).with_columns(
        nw.col(member)
        .cum_sum()
        .over(*keys, order_by=["_non_member", "_mv", *tiebreak])
        .cast(nw.Int64)
        .alias("_mrank"),
        nw.col(member).sum().over(*keys).cast(nw.Int64).alias("_mn"),
    )
    is_member = nw.col(member) == 1
    low = is_member & (nw.col("_mrank") == (nw.col("_mn") + 1) // 2)
    high = is_member & (nw.col("_mrank") == nw.col("_mn") // 2 + 1)
    part = nw.when(low).then(nw.col("_mv")).otherwise(0.0) + nw.when(high).then(
        nw.col("_mv")
    ).otherwise(0.0)
    return ranked.with_columns(part.cast(nw.Float64).alias(alias)).drop(
        "_non_member", "_mv", "_mrank", "_mn"
    )


def outcome_stats(
    states: nw.LazyFrame[Any], by: Sequence[str], *, cycle: bool = False
) -> nw.LazyFrame[Any]:
    """Per ``by`` group (one row when empty): counts and sums of opportunity states.

    ``states`` comes from :func:`opportunity_states`. Columns: the ``by`` columns and
    ``sql_count``, ``valid_count``, ``open_count``, ``closed_count``, ``won_count``,
    ``won_amount_count`` (Int64); ``open_amount``, ``closed_amount`` (closed deals with
    an amount), ``won_amount``, ``cycle_days_sum``, ``cycle_median_x2`` (Float64; the
    last two are the sum and twice the median of the won deals' days from
    ``created_at`` to ``closed_at`` when ``cycle``, else 0), ``cycle_count`` (won
    deals in the cycle statistics) and ``excluded_negative_count`` (won deals left
    out of them: ``closed_at`` before ``created_at``, the plausibility rule of
    :func:`pipelinekit._exprs.before`; a date-only close on the creation day is 0
    days, not negative).
    """
    frame, keys = breakdown_keys(states, by)
    amount = nw.col("_amount").fill_null(0.0)
    frame = frame.with_columns(
        (nw.col("_won") * nw.col("_has_amount")).alias("_won_amount_count"),
        nw.when(nw.col("_open") == 1).then(amount).otherwise(0.0).alias("_open_amount"),
        nw.when(nw.col("_closed") == 1).then(amount).otherwise(0.0).alias("_closed_amount"),
        nw.when(nw.col("_won") == 1).then(amount).otherwise(0.0).alias("_won_amount"),
    )
    if cycle:
        days = days_between(nw.col("created_at"), nw.col("closed_at"))
        won = nw.col("_won") == 1
        negative = won & before("closed_at", "created_at").fill_null(value=False)
        frame = frame.with_columns(
            flag(negative).alias("_cycle_negative"),
            flag(won & ~negative).alias("_cycle_member"),
        )
        # a date-only close on the creation day is not before it: 0 days, not negative
        clamped = nw.when(days < 0).then(0.0).otherwise(days)
        frame = with_median_part(
            frame.with_columns(
                nw.when(nw.col("_cycle_member") == 1).then(clamped).otherwise(0.0).alias("_cycle")
            ),
            value="_cycle",
            member="_cycle_member",
            keys=keys,
            tiebreak=["opportunity_id"],
            alias="_cycle_median_x2",
        )
    else:
        frame = frame.with_columns(
            nw.lit(0.0).alias("_cycle"),
            nw.lit(0.0).alias("_cycle_median_x2"),
            nw.lit(0).cast(nw.Int64).alias("_cycle_member"),
            nw.lit(0).cast(nw.Int64).alias("_cycle_negative"),
        )
    aggs = [
        (nw.len() if source is None else nw.col(source).sum()).alias(name)
        for name, source in STATS.items()
    ]
    grouped = frame.group_by(*keys).agg(*aggs) if by else frame.select(*aggs)
    return grouped.select(
        *[nw.col(k) for k in by],
        *[
            nw.col(name).fill_null(0).cast(nw.Float64 if name in FLOAT_STATS else nw.Int64)
            for name in STATS
        ],
    )


def ratio(numerator: nw.Expr, denominator: nw.Expr) -> nw.Expr:
    """``numerator / denominator`` as Float64, null when the denominator is not positive."""
    return nw.when(denominator > 0).then(numerator.cast(nw.Float64) / denominator.cast(nw.Float64))


def with_rate(
    frame: nw.LazyFrame[Any],
    numerator: str,
    denominator: str,
    *,
    weight: Weight = "count",
    zero_division: ZeroDivision,
    confidence: float,
    prefix: str = "",
) -> nw.LazyFrame[Any]:
    """``frame`` with ``{prefix}rate``, ``{prefix}ci_low`` and ``{prefix}ci_high``.

    Counts carry a Wilson interval (:func:`~pipelinekit.rates.with_rate_columns`);
    amount weighted rates carry none (the interval columns are null).
    """
    if weight == "count":
        return with_rate_columns(
            frame,
            numerator,
            denominator,
            zero_division=zero_division,
            confidence=confidence,
            prefix=prefix,
        )
    zero = 0.0 if zero_division == "0" else None
    value = ratio(nw.col(numerator), nw.col(denominator))
    return frame.with_columns(
        nw.when(nw.col(denominator) > 0)
        .then(value)
        .otherwise(zero)
        .cast(nw.Float64)
        .alias(f"{prefix}rate"),
        nw.lit(None).cast(nw.Float64).alias(f"{prefix}ci_low"),
        nw.lit(None).cast(nw.Float64).alias(f"{prefix}ci_high"),
    )


def rate_output(numerator: str, denominator: str, *, weight: Weight = "count") -> list[nw.Expr]:
    """The rate contract's columns: ``numerator``, ``denominator``, ``rate``, interval."""
    dtype = nw.Int64 if weight == "count" else nw.Float64
    return [
        nw.col(numerator).cast(dtype).alias("numerator"),
        nw.col(denominator).cast(dtype).alias("denominator"),
        *[nw.col(c).cast(nw.Float64) for c in ("rate", "ci_low", "ci_high")],
    ]


def finish_rates(
    session: _compat.Session,
    frame: nw.LazyFrame[Any],
    *,
    zero_division: ZeroDivision,
    denominators: Sequence[str] = ("denominator",),
) -> Any:
    """Return ``frame`` to the caller, raising first if ``zero_division='raise'`` applies."""
    if zero_division == "raise":
        collected = session.collect(frame)
        for column in denominators:
            raise_on_zero_denominator(collected, column, session.function)
    return session.finish(frame)


def sorted_by(frame: nw.LazyFrame[Any], by: Sequence[str]) -> nw.LazyFrame[Any]:
    return frame.sort(*by, nulls_last=True) if by else frame


def enter_tables(
    tables: Mapping[str, Any], *, function: str
) -> tuple[dict[str, nw.LazyFrame[Any] | None], _compat.Session]:
    """:func:`~pipelinekit._compat.enter` for named tables, some of them optional (None)."""
    present = {name: frame for name, frame in tables.items() if frame is not None}
    lazies, session = _compat.enter(list(present.values()), function=function)
    entered = dict(zip(present, lazies, strict=True))
    return {name: entered.get(name) for name in tables}, session


def prepare_opportunities(
    tables: Mapping[str, Any],
    *,
    function: str,
    as_of: AsOf,
    by: str | Sequence[str],
    tz: str,
) -> tuple[nw.LazyFrame[Any], dict[str, nw.LazyFrame[Any] | None], list[str], datetime, Any]:
    """Check ``as_of`` and ``by``, enter the tables, read opportunity states."""
    cutoff = as_of_cutoff(as_of)
    keys = list(check_by(by))
    entered, session = enter_tables(tables, function=function)
    opportunities = entered["opportunities"]
    assert opportunities is not None
    states = opportunity_states(opportunities, cutoff=cutoff, tz=tz)
    return states, entered, keys, cutoff, session


def check_rate_options(weight: str, zero_division: str, confidence: float) -> None:
    check_choice("weight", weight, get_args(Weight))
    check_zero_division(zero_division)
    check_confidence(confidence)


def numbered_stage_changes(
    stage_changes: nw.LazyFrame[Any], *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """Stage entries before ``cutoff`` numbered per opportunity (``entry``, ``entries``)."""
    require_columns(stage_changes, "stage_changes", ("opportunity_id", "stage", "entered_at"))
    changes = _compat.to_local_naive(
        stage_changes, ["entered_at"], tz=tz, table="stage_changes"
    ).filter(nw.col("entered_at") < cutoff)
    return (
        changes.select(
            nw.col("opportunity_id"),
            nw.col("stage").cast(nw.String),
            nw.col("entered_at"),
            nw.lit(1).cast(nw.Int64).alias("_ones"),
        )
        .with_columns(
            nw.col("_ones")
            .cum_sum()
            .over("opportunity_id", order_by=["entered_at", "stage"])
            .cast(nw.Int64)
            .alias("entry"),
            nw.col("_ones").sum().over("opportunity_id").cast(nw.Int64).alias("entries"),
        )
        .drop("_ones")
    )


def stage_as_of(
    stage_changes: nw.LazyFrame[Any], *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """``opportunity_id``, ``stage`` and ``stage_entered_at`` of the latest entry."""
    numbered = numbered_stage_changes(stage_changes, cutoff=cutoff, tz=tz)
    return numbered.filter(nw.col("entry") == nw.col("entries")).select(
        nw.col("opportunity_id"),
        nw.col("stage").alias("_stage_as_of"),
        nw.col("entered_at").alias("stage_entered_at"),
    )


def with_stage_as_of(
    states: nw.LazyFrame[Any],
    stage_changes: nw.LazyFrame[Any] | None,
    *,
    cutoff: datetime,
    tz: str,
) -> nw.LazyFrame[Any]:
    """Replace ``stage`` by the stage as of ``cutoff`` (from history, when given)."""
    if stage_changes is None:
        names = states.collect_schema().names()
        stage = nw.col("stage") if "stage" in names else nw.lit(None)
        return states.with_columns(
            stage.cast(nw.String).alias("stage"),
            nw.lit(None).cast(nw.Datetime("us")).alias("stage_entered_at"),
        )
    current = stage_as_of(stage_changes, cutoff=cutoff, tz=tz)
    joined = states.join(current, on="opportunity_id", how="left")
    return joined.with_columns(nw.col("_stage_as_of").alias("stage")).drop("_stage_as_of")


def cycle_columns() -> list[nw.Expr]:
    """``median_cycle_days`` and ``mean_cycle_days`` from :func:`outcome_stats` columns,
    over the won deals with a non-negative cycle (``cycle_count``)."""
    counted = nw.col("cycle_count")
    return [
        nw.when(counted > 0)
        .then(nw.col("cycle_median_x2") / 2.0)
        .cast(nw.Float64)
        .alias("median_cycle_days"),
        ratio(nw.col("cycle_days_sum"), counted).cast(nw.Float64).alias("mean_cycle_days"),
    ]


def excluded_negative_column() -> nw.Expr:
    """``excluded_negative_count`` (Int64): won deals left out of the cycle statistics."""
    return nw.col("excluded_negative_count").cast(nw.Int64)
