"""Pipeline KPIs of field sales as of a day (DESIGN section 3, "Pipeline").

Every function takes an explicit ``as_of``; an opportunity's state is read as of the
end of that day:

- it **exists** when ``created_at`` is before the end of ``as_of`` (later ones are
  ignored);
- it is **closed** when ``closed_at`` is before the end of ``as_of``; **open**
  otherwise (closing later means still open as of then);
- it is **won** when closed and ``is_won`` is true; closed with ``is_won`` false or
  missing is **lost**.

Definitions:

- **open pipeline**: count and sum of ``amount`` of the open opportunities.
- **weighted pipeline**: sum of ``amount x probability`` over open opportunities, the
  probability scale (``"0-1"`` or ``"0-100"``) stated explicitly.
- **win rate** = won / closed, by count (default) or by amount (``weight="amount"``:
  won amount / closed amount, over closed deals with an amount; no interval).
- **average won amount** = won amount / won deals with an amount.
- **sales cycle** = days from ``created_at`` to ``closed_at`` of won deals (fractional
  days); median and mean.
- **pipeline velocity** = open opportunities x win rate (by count) x average won
  amount / mean sales cycle days: expected won amount per day.
- **stale**: an open opportunity with no call, email or meeting (either direction) on
  its lead or its account for ``days`` calendar days up to ``as_of``, or in its
  current stage for longer than the expected stage age.

Breakdowns (``by``) accept any opportunity column plus ``amount_band`` and
``quantity_band`` (:mod:`pipelinekit.breakdowns`); :func:`win_rate_by` also accepts
the lead's ``source``, ``department``, ``title``, the resolved ``origin`` and the
account's ``industry``, ``region`` and ``employee_band``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import flag, require_columns
from pipelinekit.breakdowns import amount_band, check_by, employee_band, quantity_band
from pipelinekit.errors import ConfigError
from pipelinekit.periods import as_of_cutoff, epoch_seconds, parse_as_of
from pipelinekit.rates import (
    ZeroDivision,
    check_confidence,
    check_zero_division,
    raise_on_zero_denominator,
    with_rate_columns,
)

__all__ = [
    "BREAKDOWNS",
    "average_won_amount",
    "open_pipeline",
    "pipeline_velocity",
    "sales_cycle",
    "stale_opportunities",
    "time_in_stage",
    "weighted_pipeline",
    "win_rate",
    "win_rate_by",
]

FrameT = TypeVar("FrameT")
Weight = Literal["count", "amount"]
ProbabilityScale = Literal["0-1", "0-100"]
AsOf = date | datetime | str

_DAY_S = 86_400.0
_OPPORTUNITY_COLUMNS = ("opportunity_id", "created_at", "closed_at", "is_won", "amount")

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
_LEAD_FIELDS = ("origin", "account_id", "source", "department", "title")
_ACCOUNT_FIELDS = ("industry", "region", "employees")


# ------------------------------------------------------------ parameter checks


def check_choice(value: str, allowed: Sequence[str], name: str) -> str:
    """Validate a string option against its allowed values."""
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


# --------------------------------------------------------------- shared steps


def days_between(start: nw.Expr, end: nw.Expr) -> nw.Expr:
    """``end - start`` in fractional days (null when either side is null)."""
    return (epoch_seconds(end) - epoch_seconds(start)) / _DAY_S


def calendar_days_to(expr: nw.Expr, day: date) -> nw.Expr:
    """Calendar days from the date of each timestamp to ``day`` (Int64)."""
    target = (day - date(1970, 1, 1)).days
    return (
        (nw.lit(float(target)) - epoch_seconds(expr.dt.truncate("1d")) / _DAY_S)
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
    require_columns(opportunities, "opportunities", _OPPORTUNITY_COLUMNS)
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
                *[nw.col(f).alias(f"_lead_{f}") for f in _LEAD_FIELDS if f in present],
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
                *[nw.col(f).alias(f"_account_{f}") for f in _ACCOUNT_FIELDS if f in present],
            ),
            on="_account_key",
            how="left",
        )
    if not by:
        return frame
    return frame.with_columns(*[_breakdown_expr(name, frame).alias(name) for name in by])


def _breakdown_expr(name: str, frame: nw.LazyFrame[Any]) -> nw.Expr:
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


def _keys(frame: nw.LazyFrame[Any], by: Sequence[str]) -> tuple[nw.LazyFrame[Any], list[str]]:
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


#: Columns of :func:`outcome_stats`, all summed per group.
_STATS = {
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
}
_FLOAT_STATS = ("open_amount", "closed_amount", "won_amount", "cycle_days_sum", "cycle_median_x2")


def outcome_stats(
    states: nw.LazyFrame[Any], by: Sequence[str], *, cycle: bool = False
) -> nw.LazyFrame[Any]:
    """Per ``by`` group (one row when empty): counts and sums of opportunity states.

    ``states`` comes from :func:`opportunity_states`. Columns: the ``by`` columns and
    ``sql_count``, ``valid_count``, ``open_count``, ``closed_count``, ``won_count``,
    ``won_amount_count`` (Int64); ``open_amount``, ``closed_amount`` (closed deals with
    an amount), ``won_amount``, ``cycle_days_sum``, ``cycle_median_x2`` (Float64; the
    last two are the sum and twice the median of the won deals' days from
    ``created_at`` to ``closed_at`` when ``cycle``, else 0).
    """
    frame, keys = _keys(states, by)
    amount = nw.col("_amount").fill_null(0.0)
    frame = frame.with_columns(
        (nw.col("_won") * nw.col("_has_amount")).alias("_won_amount_count"),
        nw.when(nw.col("_open") == 1).then(amount).otherwise(0.0).alias("_open_amount"),
        nw.when(nw.col("_closed") == 1).then(amount).otherwise(0.0).alias("_closed_amount"),
        nw.when(nw.col("_won") == 1).then(amount).otherwise(0.0).alias("_won_amount"),
    )
    if cycle:
        days = days_between(nw.col("created_at"), nw.col("closed_at"))
        frame = with_median_part(
            frame.with_columns(
                nw.when(nw.col("_won") == 1).then(days).otherwise(0.0).alias("_cycle")
            ),
            value="_cycle",
            member="_won",
            keys=keys,
            tiebreak=["opportunity_id"],
            alias="_cycle_median_x2",
        )
    else:
        frame = frame.with_columns(
            nw.lit(0.0).alias("_cycle"), nw.lit(0.0).alias("_cycle_median_x2")
        )
    aggs = [
        (nw.len() if source is None else nw.col(source).sum()).alias(name)
        for name, source in _STATS.items()
    ]
    grouped = frame.group_by(*keys).agg(*aggs) if by else frame.select(*aggs)
    return grouped.select(
        *[nw.col(k) for k in by],
        *[
            nw.col(name).fill_null(0).cast(nw.Float64 if name in _FLOAT_STATS else nw.Int64)
            for name in _STATS
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


def _sorted(frame: nw.LazyFrame[Any], by: Sequence[str]) -> nw.LazyFrame[Any]:
    return frame.sort(*by, nulls_last=True) if by else frame


def enter_tables(
    tables: Mapping[str, Any], *, function: str
) -> tuple[dict[str, nw.LazyFrame[Any] | None], _compat.Session]:
    """:func:`~pipelinekit._compat.enter` for named tables, some of them optional (None)."""
    present = {name: frame for name, frame in tables.items() if frame is not None}
    lazies, session = _compat.enter(list(present.values()), function=function)
    entered = dict(zip(present, lazies, strict=True))
    return {name: entered.get(name) for name in tables}, session


def _prepare(
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


def _check_rate_options(weight: str, zero_division: str, confidence: float) -> None:
    check_choice(weight, get_args(Weight), "weight")
    check_zero_division(zero_division)
    check_confidence(confidence)


# ------------------------------------------------------------------ stages


def _numbered_stage_changes(
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


def _stage_as_of(
    stage_changes: nw.LazyFrame[Any], *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """``opportunity_id``, ``stage`` and ``stage_entered_at`` of the latest entry."""
    numbered = _numbered_stage_changes(stage_changes, cutoff=cutoff, tz=tz)
    return numbered.filter(nw.col("entry") == nw.col("entries")).select(
        nw.col("opportunity_id"),
        nw.col("stage").alias("_stage_as_of"),
        nw.col("entered_at").alias("stage_entered_at"),
    )


def _with_stage_as_of(
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
    current = _stage_as_of(stage_changes, cutoff=cutoff, tz=tz)
    joined = states.join(current, on="opportunity_id", how="left")
    return joined.with_columns(nw.col("_stage_as_of").alias("stage")).drop("_stage_as_of")


# ------------------------------------------------------------------ public API


def open_pipeline(
    opportunities: FrameT,
    stage_changes: Any = None,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = ("stage",),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Open pipeline: count and amount of opportunities not closed by ``as_of``.

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    stage_changes
        Optional stage history (same library). When given, ``stage`` is the stage
        *as of* ``as_of`` (the latest entry before the end of that day; null when the
        opportunity has none yet); otherwise the opportunity's current ``stage``.
    as_of
        Day the pipeline is read at (end of day).
    by
        Breakdown columns, default ``("stage",)``; ``()`` for the total.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``open_count`` and
    ``open_amount`` (missing amounts count as 0), sorted by ``by`` (nulls last).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "stage": ["proposal", "proposal", "won"], "amount": [100.0, 50.0, 70.0],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"]),
    ...     "closed_at": pd.to_datetime([None, "2025-05-10", "2025-04-20"]),
    ...     "is_won": pd.array([None, False, True], dtype="boolean")})
    >>> open_pipeline(opps, as_of="2025-04-30")
          stage  open_count  open_amount
    0  proposal           2        150.0
    """
    states, tables, keys, cutoff, session = _prepare(
        {"opportunities": opportunities, "stage_changes": stage_changes},
        function="open_pipeline",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    states = _with_stage_as_of(states, tables["stage_changes"], cutoff=cutoff, tz=tz)
    states = with_breakdowns(states, keys, function="open_pipeline")
    stats = outcome_stats(states.filter(nw.col("_open") == 1), keys)
    out = stats.select(*keys, "open_count", "open_amount")
    return session.finish(_sorted(out, keys))  # type: ignore[no-any-return]


def weighted_pipeline(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    probability_scale: ProbabilityScale = "0-1",
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Weighted open pipeline: sum of ``amount x probability`` (加重パイプライン).

    Parameters
    ----------
    opportunities
        Canonical opportunities table with ``probability``; any supported frame.
    as_of
        Day the pipeline is read at (end of day).
    probability_scale
        ``"0-1"`` (the canonical scale, default) or ``"0-100"`` (raw CRM percentages,
        divided by 100). A probability above the scale raises :class:`ConfigError`.
    by
        Breakdown columns (default none: one total row).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``open_count``,
    ``open_amount``, ``weighted_amount`` and ``missing_probability_count`` (open
    opportunities without a probability; they add 0 to the weighted amount).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "amount": [100.0, 50.0],
    ...     "probability": [60.0, None],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"]),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None, None], dtype="boolean")})
    >>> weighted_pipeline(opps, as_of="2025-04-30", probability_scale="0-100")
       open_count  open_amount  weighted_amount  missing_probability_count
    0           2        150.0             60.0                          1
    """
    check_choice(probability_scale, get_args(ProbabilityScale), "probability_scale")
    states, _, keys, _, session = _prepare(
        {"opportunities": opportunities},
        function="weighted_pipeline",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    require_columns(states, "opportunities", ("probability",))
    top = 1.0 if probability_scale == "0-1" else 100.0
    highest = session.collect(states.select(nw.col("probability").max())).rows()[0][0]
    if highest is not None and float(highest) > top:
        raise ConfigError(
            f"probability_scale={probability_scale!r} but probabilities reach {highest}; "
            "pass probability_scale='0-100' for percentages"
        )
    open_ = with_breakdowns(states.filter(nw.col("_open") == 1), keys, function="weighted_pipeline")
    frame, group = _keys(open_, keys)
    probability = nw.col("probability").cast(nw.Float64) / top
    amount = nw.col("_amount").fill_null(0.0)
    frame = frame.with_columns(
        amount.alias("open_amount"),
        (amount * probability.fill_null(0.0)).alias("weighted_amount"),
        flag(nw.col("probability").is_null()).alias("missing_probability_count"),
    )
    aggs = [
        nw.len().alias("open_count"),
        nw.col("open_amount").sum(),
        nw.col("weighted_amount").sum(),
        nw.col("missing_probability_count").sum(),
    ]
    grouped = frame.group_by(*group).agg(*aggs) if keys else frame.select(*aggs)
    out = grouped.select(
        *keys,
        nw.col("open_count").fill_null(0).cast(nw.Int64),
        nw.col("open_amount").fill_null(0.0).cast(nw.Float64),
        nw.col("weighted_amount").fill_null(0.0).cast(nw.Float64),
        nw.col("missing_probability_count").fill_null(0).cast(nw.Int64),
    )
    return session.finish(_sorted(out, keys))  # type: ignore[no-any-return]


def _win_rate(
    tables: Mapping[str, Any],
    *,
    function: str,
    as_of: AsOf,
    by: str | Sequence[str],
    weight: str,
    zero_division: str,
    confidence: float,
    tz: str,
) -> Any:
    """:func:`win_rate` and :func:`win_rate_by` (optional leads / accounts tables)."""
    _check_rate_options(weight, zero_division, confidence)
    states, entered, keys, _, session = _prepare(
        tables, function=function, as_of=as_of, by=by, tz=tz
    )
    states = with_breakdowns(
        states,
        keys,
        leads=entered.get("leads"),
        accounts=entered.get("accounts"),
        function=function,
    )
    stats = outcome_stats(states, keys)
    num, den = (
        ("won_count", "closed_count") if weight == "count" else ("won_amount", "closed_amount")
    )
    rated = with_rate(
        stats,
        num,
        den,
        weight=weight,  # type: ignore[arg-type]
        zero_division=zero_division,  # type: ignore[arg-type]
        confidence=confidence,
    )
    out = rated.select(*keys, *rate_output(num, den, weight=weight))  # type: ignore[arg-type]
    return finish_rates(session, _sorted(out, keys), zero_division=zero_division)  # type: ignore[arg-type]


def win_rate(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    weight: Weight = "count",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Win rate = won / closed opportunities by ``as_of`` (受注率).

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    as_of
        Day the rate is read at (end of day): deals created and closed by then.
    by
        Opportunity columns (or ``amount_band`` / ``quantity_band``) to break down by;
        see :func:`win_rate_by` for lead and account attributes.
    weight
        ``"count"`` (default): won deals / closed deals, with a Wilson interval.
        ``"amount"``: won amount / closed amount over closed deals with an amount
        (the dbt_salesforce variant); no interval (``ci_low``/``ci_high`` null).
    zero_division
        Rate of a group with nothing closed: ``"nan"`` (default), ``"0"`` or
        ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``numerator``, ``denominator``,
    ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
    ...     "amount": [100.0, 300.0, 50.0, 80.0],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 4),
    ...     "closed_at": pd.to_datetime(["2025-04-10", "2025-04-11", "2025-04-12", None]),
    ...     "is_won": pd.array([True, False, None, None], dtype="boolean")})
    >>> win_rate(opps, as_of="2025-04-30")[["numerator", "denominator", "rate"]]
       numerator  denominator      rate
    0          1            3  0.333333
    >>> win_rate(opps, as_of="2025-04-30", weight="amount")[["numerator", "denominator", "rate"]]
       numerator  denominator      rate
    0      100.0        450.0  0.222222
    """
    return _win_rate(  # type: ignore[no-any-return]
        {"opportunities": opportunities},
        function="win_rate",
        as_of=as_of,
        by=by,
        weight=weight,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
    )


def win_rate_by(
    opportunities: FrameT,
    leads: Any = None,
    accounts: Any = None,
    *,
    by: str | Sequence[str],
    as_of: AsOf,
    weight: Weight = "count",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Win rate by lead, account or deal attributes (属性別受注率).

    Like :func:`win_rate`, with breakdowns that need other tables: the lead's
    ``source``, ``department``, ``title`` and ``origin`` (opportunity origin, else the
    lead's) need ``leads``; the account's ``industry``, ``region`` and
    ``employee_band`` need ``accounts`` (the opportunity's account is its
    ``account_id``, else its lead's when ``leads`` is given). Opportunity columns such
    as ``first_meeting_attendees`` and the bands ``quantity_band`` and
    ``amount_band`` need nothing else. Opportunities without a lead or account fall
    in the null group.

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    leads, accounts
        Canonical tables (same library), needed by the breakdowns named above.
    by
        One or more breakdowns, e.g. ``"source"`` or ``["industry", "quantity_band"]``.
    as_of, weight, zero_division, confidence, tz
        As in :func:`win_rate`.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``numerator`` (won),
    ``denominator`` (closed), ``rate``, ``ci_low``, ``ci_high``; sorted by ``by``
    (nulls last).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "lead_id": ["L1", "L2", None],
    ...     "amount": [1.0, 2.0, 3.0], "created_at": pd.to_datetime(["2025-04-01"] * 3),
    ...     "closed_at": pd.to_datetime(["2025-04-10"] * 3),
    ...     "is_won": pd.array([True, False, True], dtype="boolean")})
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "source": ["web_form", "event"]})
    >>> win_rate_by(opps, leads, by="source", as_of="2025-04-30")[
    ...     ["source", "numerator", "denominator", "rate"]]
         source  numerator  denominator  rate
    0     event          0            1   0.0
    1  web_form          1            1   1.0
    2       NaN          1            1   1.0
    """
    if not check_by(by):
        raise ConfigError("by must name at least one breakdown, e.g. by='source'")
    return _win_rate(  # type: ignore[no-any-return]
        {"opportunities": opportunities, "leads": leads, "accounts": accounts},
        function="win_rate_by",
        as_of=as_of,
        by=by,
        weight=weight,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
    )


def average_won_amount(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Average amount of the deals won by ``as_of`` (平均受注単価).

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    as_of
        Day read at (end of day): deals won (closed with ``is_won``) by then.
    by
        Breakdown columns (default none: one total row).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``won_count``, ``won_amount``
    and ``average_won_amount`` = won amount / won deals with an amount (null when
    there are none).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "amount": [100.0, 300.0, None], "created_at": pd.to_datetime(["2025-04-01"] * 3),
    ...     "closed_at": pd.to_datetime(["2025-04-10"] * 3),
    ...     "is_won": pd.array([True, True, True], dtype="boolean")})
    >>> average_won_amount(opps, as_of="2025-04-30")
       won_count  won_amount  average_won_amount
    0          3       400.0               200.0
    """
    states, _, keys, _, session = _prepare(
        {"opportunities": opportunities},
        function="average_won_amount",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    stats = outcome_stats(with_breakdowns(states, keys, function="average_won_amount"), keys)
    out = stats.select(
        *keys,
        "won_count",
        "won_amount",
        ratio(nw.col("won_amount"), nw.col("won_amount_count"))
        .cast(nw.Float64)
        .alias("average_won_amount"),
    )
    return session.finish(_sorted(out, keys))  # type: ignore[no-any-return]


def sales_cycle(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Sales cycle: days from ``created_at`` to ``closed_at`` of won deals (商談期間).

    Days are fractional (timestamp difference / 24 h). The median of an even count is
    the mean of the two middle values.

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    as_of
        Day read at (end of day): deals won by then.
    by
        Breakdown columns (default none: one total row).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``won_count``,
    ``median_cycle_days``, ``mean_cycle_days`` (null without won deals).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "amount": None,
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-01", "2025-04-01"]),
    ...     "closed_at": pd.to_datetime(["2025-04-11", "2025-04-21", "2025-05-31"]),
    ...     "is_won": pd.array([True, True, True], dtype="boolean")})
    >>> sales_cycle(opps, as_of="2025-05-31")
       won_count  median_cycle_days  mean_cycle_days
    0          3               20.0             30.0
    """
    states, _, keys, _, session = _prepare(
        {"opportunities": opportunities}, function="sales_cycle", as_of=as_of, by=by, tz=tz
    )
    stats = outcome_stats(with_breakdowns(states, keys, function="sales_cycle"), keys, cycle=True)
    out = stats.select(*keys, "won_count", *cycle_columns())
    return session.finish(_sorted(out, keys))  # type: ignore[no-any-return]


def cycle_columns() -> list[nw.Expr]:
    """``median_cycle_days`` and ``mean_cycle_days`` from :func:`outcome_stats` columns."""
    won = nw.col("won_count")
    return [
        nw.when(won > 0)
        .then(nw.col("cycle_median_x2") / 2.0)
        .cast(nw.Float64)
        .alias("median_cycle_days"),
        ratio(nw.col("cycle_days_sum"), won).cast(nw.Float64).alias("mean_cycle_days"),
    ]


def pipeline_velocity(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Pipeline velocity: expected won amount per day from the open pipeline.

    ``velocity_per_day = open_count x win_rate x average_won_amount /
    mean_cycle_days``, with the win rate by count (won / closed), the average won
    amount and the mean sales cycle of the deals won by ``as_of``. Null when any
    factor is undefined (nothing closed, won or with an amount).

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    as_of
        Day read at (end of day).
    by
        Breakdown columns (default none: one total row).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``open_count``, ``win_rate``,
    ``average_won_amount``, ``mean_cycle_days``, ``velocity_per_day``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
    ...     "amount": [100.0, 50.0, 80.0, 60.0],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 4),
    ...     "closed_at": pd.to_datetime(["2025-04-11", "2025-04-21", None, None]),
    ...     "is_won": pd.array([True, False, None, None], dtype="boolean")})
    >>> pipeline_velocity(opps, as_of="2025-04-30")
       open_count  win_rate  average_won_amount  mean_cycle_days  velocity_per_day
    0           2       0.5               100.0             10.0              10.0
    """
    states, _, keys, _, session = _prepare(
        {"opportunities": opportunities},
        function="pipeline_velocity",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    stats = outcome_stats(
        with_breakdowns(states, keys, function="pipeline_velocity"), keys, cycle=True
    )
    rate = ratio(nw.col("won_count"), nw.col("closed_count"))
    average = ratio(nw.col("won_amount"), nw.col("won_amount_count"))
    cycle = ratio(nw.col("cycle_days_sum"), nw.col("won_count"))
    velocity = nw.when(cycle > 0).then(
        nw.col("open_count").cast(nw.Float64) * rate * average / cycle
    )
    out = stats.select(
        *keys,
        nw.col("open_count"),
        rate.cast(nw.Float64).alias("win_rate"),
        average.cast(nw.Float64).alias("average_won_amount"),
        cycle.cast(nw.Float64).alias("mean_cycle_days"),
        velocity.cast(nw.Float64).alias("velocity_per_day"),
    )
    return session.finish(_sorted(out, keys))  # type: ignore[no-any-return]


def _check_stage_ages(stage_ages: Mapping[str, float] | None) -> dict[str, float] | None:
    if stage_ages is None:
        return None
    if not isinstance(stage_ages, Mapping) or not stage_ages:
        raise ConfigError(
            "stage_ages must be a non-empty mapping of stage -> expected days in stage, "
            f"e.g. {{'proposal': 14}}; got {stage_ages!r}"
        )
    bad = {
        k: v
        for k, v in stage_ages.items()
        if not isinstance(k, str)
        or isinstance(v, bool)
        or not isinstance(v, (int, float))
        or not v >= 0
    }
    if bad:
        raise ConfigError(f"stage_ages must map stage names to days >= 0; got {bad!r}")
    return {k: float(v) for k, v in stage_ages.items()}


_SALES_CHANNELS = ("call", "email", "meeting")


def _last_activity(
    activities: nw.LazyFrame[Any], key: str, *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """Latest sales activity (call, email, meeting) before ``cutoff`` per ``key``."""
    acts = _compat.to_local_naive(activities, ["occurred_at"], tz=tz, table="activities")
    return (
        acts.filter(
            (nw.col("occurred_at") < cutoff)
            & ~nw.col(key).is_null()
            & nw.col("channel").is_in(list(_SALES_CHANNELS)).fill_null(value=False)
        )
        .group_by(key)
        .agg(nw.col("occurred_at").max().alias(f"_last_by_{key}"))
    )


def _later(a: nw.Expr, b: nw.Expr) -> nw.Expr:
    """The later of two timestamps, ignoring nulls."""
    return nw.when(a.is_null()).then(b).when(b.is_null()).then(a).when(a >= b).then(a).otherwise(b)


def stale_opportunities(
    opportunities: FrameT,
    activities: Any,
    stage_changes: Any = None,
    *,
    as_of: AsOf,
    days: int = 30,
    stage_ages: Mapping[str, float] | None = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Open opportunities gone quiet, or stuck in their stage (停滞商談).

    An open opportunity (as of ``as_of``) is stale when either holds:

    - **no recent activity**: no call, email or meeting (either direction; web
      signals do not count) on its lead (``lead_id``) or its account
      (``account_id``) in the ``days`` calendar days ending on ``as_of``, i.e.
      ``idle_days >= days`` where ``idle_days`` = calendar days from the later of
      its last activity and its ``created_at`` to ``as_of``;
    - **past the expected stage age**: with ``stage_ages`` and ``stage_changes``,
      its stage as of ``as_of`` was entered more than ``stage_ages[stage]``
      calendar days before ``as_of`` (stages not in the mapping never trigger).

    Parameters
    ----------
    opportunities, activities
        Canonical tables (same frame library).
    stage_changes
        Stage history; needed with ``stage_ages``. When given, ``stage`` is the stage
        as of ``as_of`` and ``stage_age_days`` is filled.
    as_of
        Day read at (end of day).
    days
        Quiet days that make an opportunity stale (default 30).
    stage_ages
        Expected maximum days per stage, e.g. ``{"proposal": 14, "quote": 21}``.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per stale opportunity, most idle first
    (then by ``opportunity_id``): ``opportunity_id``, ``lead_id``, ``account_id``,
    ``owner_id``, ``stage``, ``amount``, ``created_at``, ``last_activity_at``,
    ``idle_days``, ``stage_entered_at``, ``stage_age_days``, ``expected_stage_days``,
    ``no_recent_activity``, ``past_stage_age``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "lead_id": ["L1", "L2"],
    ...     "account_id": ["A1", "A2"], "owner_id": ["F1", "F1"], "stage": ["proposal"] * 2,
    ...     "amount": [100.0, 200.0], "created_at": pd.to_datetime(["2025-03-01"] * 2),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None, None], dtype="boolean")})
    >>> acts = pd.DataFrame({"lead_id": ["L1", None], "account_id": [None, "A2"],
    ...     "occurred_at": pd.to_datetime(["2025-03-31", "2025-04-01"]),
    ...     "channel": ["call", "email"]})
    >>> stale_opportunities(opps, acts, as_of="2025-04-30")[
    ...     ["opportunity_id", "last_activity_at", "idle_days"]]
      opportunity_id last_activity_at  idle_days
    0             O1       2025-03-31         30
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"days must be an integer >= 1, e.g. 30; got {days!r}")
    ages = _check_stage_ages(stage_ages)
    if ages is not None and stage_changes is None:
        raise ConfigError("stage_ages needs the stage history; pass stage_changes=")
    day = parse_as_of(as_of)
    states, tables, _, cutoff, session = _prepare(
        {"opportunities": opportunities, "activities": activities, "stage_changes": stage_changes},
        function="stale_opportunities",
        as_of=as_of,
        by=(),
        tz=tz,
    )
    acts = tables["activities"]
    assert acts is not None
    require_columns(acts, "activities", ("lead_id", "account_id", "occurred_at", "channel"))
    require_columns(states, "opportunities", ("lead_id", "account_id", "owner_id"))
    states = _with_stage_as_of(states, tables["stage_changes"], cutoff=cutoff, tz=tz)
    open_ = (
        states.filter(nw.col("_open") == 1)
        .join(_last_activity(acts, "lead_id", cutoff=cutoff, tz=tz), on="lead_id", how="left")
        .join(_last_activity(acts, "account_id", cutoff=cutoff, tz=tz), on="account_id", how="left")
    )
    last = _later(nw.col("_last_by_lead_id"), nw.col("_last_by_account_id"))
    expected = _expected_stage_days(ages)
    flagged = (
        open_.with_columns(last.alias("last_activity_at"))
        .with_columns(
            calendar_days_to(_later(nw.col("last_activity_at"), nw.col("created_at")), day).alias(
                "idle_days"
            ),
            calendar_days_to(nw.col("stage_entered_at"), day).alias("stage_age_days"),
            expected.cast(nw.Float64).alias("expected_stage_days"),
        )
        .with_columns(
            (nw.col("idle_days") >= days).fill_null(value=False).alias("no_recent_activity"),
            (nw.col("stage_age_days").cast(nw.Float64) > nw.col("expected_stage_days"))
            .fill_null(value=False)
            .alias("past_stage_age"),
        )
    )
    out = (
        flagged.filter(nw.col("no_recent_activity") | nw.col("past_stage_age"))
        .select(
            nw.col("opportunity_id").cast(nw.String),
            nw.col("lead_id").cast(nw.String),
            nw.col("account_id").cast(nw.String),
            nw.col("owner_id").cast(nw.String),
            nw.col("stage").cast(nw.String),
            nw.col("_amount").cast(nw.Float64).alias("amount"),
            nw.col("created_at").cast(nw.Datetime("us")),
            nw.col("last_activity_at").cast(nw.Datetime("us")),
            nw.col("idle_days").cast(nw.Int64),
            nw.col("stage_entered_at").cast(nw.Datetime("us")),
            nw.col("stage_age_days").cast(nw.Int64),
            nw.col("expected_stage_days").cast(nw.Float64),
            nw.col("no_recent_activity").cast(nw.Boolean),
            nw.col("past_stage_age").cast(nw.Boolean),
        )
        .sort("idle_days", "opportunity_id", descending=[True, False])
    )
    return session.finish(out)  # type: ignore[no-any-return]


def _expected_stage_days(ages: Mapping[str, float] | None) -> nw.Expr:
    """Expected days of the row's ``stage`` from ``ages`` (null when not listed)."""
    result: Any = None
    for stage, limit in (ages or {}).items():
        result = (nw.when if result is None else result.when)(nw.col("stage") == stage).then(
            nw.lit(limit)
        )
    return nw.lit(None).cast(nw.Float64) if result is None else result.cast(nw.Float64)


def time_in_stage(
    stage_changes: FrameT,
    *,
    as_of: AsOf,
    terminal_stages: Sequence[str] = ("won", "lost"),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Days opportunities spend in each stage, from the stage history (ステージ滞留日数).

    A stay starts at a stage entry and ends at the opportunity's next entry (in
    ``entered_at`` order, ties by stage name). Stays that ended by ``as_of`` are
    *exited* and give the durations (fractional days); stays still running at
    ``as_of`` are *current* (censored: counted, not measured). Entries of
    ``terminal_stages`` (closing stages) are left out.

    Parameters
    ----------
    stage_changes
        Canonical stage history (``opportunity_id``, ``stage``, ``entered_at``); any
        supported frame.
    as_of
        Day read at (end of day): entries after it are ignored.
    terminal_stages
        Stages that end an opportunity (default ``("won", "lost")``).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per stage sorted by ``stage``: ``stage``,
    ``entered_count``, ``exited_count``, ``current_count``, ``median_days``,
    ``mean_days`` (over exited stays; null when none).

    Examples
    --------
    >>> import pandas as pd
    >>> changes = pd.DataFrame({"opportunity_id": ["O1", "O1", "O1", "O2"],
    ...     "stage": ["list", "proposal", "won", "list"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-03", "2025-04-13", "2025-04-05"])})
    >>> time_in_stage(changes, as_of="2025-04-30")
          stage  entered_count  exited_count  current_count  median_days  mean_days
    0      list              2             1              1          2.0        2.0
    1  proposal              1             1              0         10.0       10.0
    """
    terminal = [terminal_stages] if isinstance(terminal_stages, str) else list(terminal_stages)
    if not all(isinstance(t, str) for t in terminal):
        raise ConfigError(f"terminal_stages must be stage names; got {terminal_stages!r}")
    cutoff = as_of_cutoff(as_of)
    (changes,), session = _compat.enter([stage_changes], function="time_in_stage")
    numbered = _numbered_stage_changes(changes, cutoff=cutoff, tz=tz)
    following = numbered.select(
        nw.col("opportunity_id"),
        (nw.col("entry") - 1).alias("entry"),
        nw.col("entered_at").alias("_left_at"),
    )
    stays = (
        numbered.filter(~nw.col("stage").is_in(terminal).fill_null(value=False))
        .join(following, on=["opportunity_id", "entry"], how="left")
        .with_columns(
            flag(~nw.col("_left_at").is_null()).alias("_exited"),
            days_between(nw.col("entered_at"), nw.col("_left_at")).fill_null(0.0).alias("_days"),
        )
    )
    stays = with_median_part(
        stays,
        value="_days",
        member="_exited",
        keys=["stage"],
        tiebreak=["opportunity_id", "entry"],
        alias="_median_x2",
    )
    per = stays.group_by("stage").agg(
        nw.len().alias("entered_count"),
        nw.col("_exited").sum().alias("exited_count"),
        nw.col("_days").sum().alias("_days_sum"),
        nw.col("_median_x2").sum(),
    )
    exited = nw.col("exited_count")
    out = per.select(
        nw.col("stage").cast(nw.String),
        nw.col("entered_count").cast(nw.Int64),
        exited.cast(nw.Int64),
        (nw.col("entered_count") - exited).cast(nw.Int64).alias("current_count"),
        nw.when(exited > 0).then(nw.col("_median_x2") / 2.0).cast(nw.Float64).alias("median_days"),
        ratio(nw.col("_days_sum"), exited).cast(nw.Float64).alias("mean_days"),
    ).sort("stage", nulls_last=True)
    return session.finish(out)  # type: ignore[no-any-return]
