"""Account fit scoring: historical win rate per segment, smoothed with a beta prior.

Segments are combinations of account attributes: by default industry x employee band
x revenue band (DESIGN section 3, "ABM"), plus any extra ``accounts`` columns named
by the caller. An account's history is its closed opportunities (the opportunity's
``account_id``, else its lead's), counted as of the end of ``as_of``: created and
closed by then; won = ``is_won`` true, lost otherwise (DESIGN section 5: a closed
opportunity with ``is_won`` missing is lost).

The score of a segment with ``w`` wins out of ``n`` closed opportunities is the
posterior mean of its win rate under a Beta(a, b) prior centred on the overall win
rate ``p0`` (wins / closed opportunities over every account of ``accounts``)::

    a = s * p0,  b = s * (1 - p0),  score = (w + a) / (n + a + b) = (w + s * p0) / (n + s)

where ``s`` = ``prior_strength`` acts as ``s`` pseudo-opportunities at the overall
rate. A segment with no history scores ``p0``; a segment with one win out of one
moves only ``(1 - p0) / (1 + s)`` above it, so tiny segments don't rank first. With
no closed opportunity at all, ``p0`` and every score are null.

Missing attribute values form their own segment (for example unknown industry).

Examples
--------
>>> s, p0 = 10.0, 0.2
>>> round((1 + s * p0) / (1 + s), 4)  # 1 win of 1 closed
0.2727
>>> round((30 + s * p0) / (100 + s), 4)  # 30 wins of 100 closed
0.2909
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_bool, check_confidence, check_positive_int
from pipelinekit._exprs import flag
from pipelinekit._signature import former_table_order
from pipelinekit.breakdowns import EMPLOYEE_BANDS, Bands, band, check_bands
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._accounts import (
    OPPORTUNITY_OPTIONAL,
    check_raise,
    complete,
    lead_accounts,
    resolve_account,
)
from pipelinekit.periods import as_of_cutoff
from pipelinekit.rates import ZeroDivision, check_zero_division, rate_columns

__all__ = [
    "DEFAULT_SEGMENTS",
    "REVENUE_BANDS",
    "SEGMENT_DIMENSIONS",
    "account_fit_scores",
    "revenue_band",
    "target_suggestions",
]

FrameT = TypeVar("FrameT")
LazyFrame = nw.LazyFrame[Any]

#: Annual revenue bands in the dataset currency (JPY: 1億, 10億, 100億).
REVENUE_BANDS: Bands = (
    ("<100M", 99_999_999.999),
    ("100M-1B", 999_999_999.999),
    ("1B-10B", 9_999_999_999.999),
    ("10B+", None),
)
#: Segment dimensions ``by`` accepts -> the ``accounts`` column each is derived from.
SEGMENT_DIMENSIONS = {
    "industry": "industry",
    "region": "region",
    "employee_band": "employees",
    "revenue_band": "annual_revenue",
}
#: Default segments: industry x employee band x revenue band.
DEFAULT_SEGMENTS = ("industry", "employee_band", "revenue_band")

_RESERVED = frozenset(
    {
        "rank",
        "account_id",
        "name",
        "is_target",
        "is_customer",
        "segment_account_count",
        "numerator",
        "denominator",
        "rate",
        "ci_low",
        "ci_high",
        "prior_rate",
        "score",
    }
)


def revenue_band(column: str = "annual_revenue", bands: Bands = REVENUE_BANDS) -> nw.Expr:
    """Annual revenue band of an account (see :data:`REVENUE_BANDS`).

    >>> import pandas as pd
    >>> df = nw.from_native(pd.DataFrame({"annual_revenue": [5e7, 3e9, None]}))
    >>> df.select(revenue_band()).to_native()["revenue_band"].tolist()
    ['<100M', '1B-10B', nan]
    """
    return band(column, bands, alias="revenue_band")


def _check_segments(by: Sequence[str], extra: Sequence[str]) -> tuple[list[str], list[str]]:
    if isinstance(by, str):
        by = (by,)
    if isinstance(extra, str):
        extra = (extra,)
    by_list, extra_list = list(by), list(extra)
    unknown = [d for d in by_list if d not in SEGMENT_DIMENSIONS]
    if unknown:
        allowed = ", ".join(map(repr, SEGMENT_DIMENSIONS))
        raise ConfigError(f"by must contain only {allowed}; got {unknown!r}")
    names = by_list + extra_list
    if len(set(names)) != len(names):
        raise ConfigError(f"by and extra must not repeat a column; got {names!r}")
    clash = sorted(set(extra_list) & (_RESERVED | set(SEGMENT_DIMENSIONS.values())))
    if clash:
        raise ConfigError(
            f"extra must name account attribute columns other than {clash!r} "
            "(use by=... for industry, region and the bands)"
        )
    return by_list, extra_list


def _check_prior_strength(prior_strength: float) -> float:
    if (
        isinstance(prior_strength, bool)
        or not isinstance(prior_strength, (int, float))
        or not math.isfinite(prior_strength)
        or prior_strength <= 0
    ):
        raise ConfigError(
            f"prior_strength must be a positive finite number; got {prior_strength!r}"
        )
    return float(prior_strength)


def _scores(
    accounts: LazyFrame,
    opportunities: LazyFrame,
    leads: LazyFrame | None,
    *,
    by: Sequence[str],
    extra: Sequence[str],
    prior_strength: float,
    cutoff: datetime,
    tz: str,
    employee_bands: Bands,
    revenue_bands: Bands,
    zero_division: ZeroDivision,
    confidence: float,
) -> LazyFrame:
    """Every account with its segment, segment history, prior and score (unranked)."""
    sources = [SEGMENT_DIMENSIONS[d] for d in by]
    accounts = complete(
        accounts,
        "accounts",
        ["account_id", *sources, *extra],
        {"name": nw.String(), "is_target": nw.Boolean()},
    )
    opportunities = complete(opportunities, "opportunities", ("created_at",), OPPORTUNITY_OPTIONAL)
    opportunities = _compat.to_local_naive(
        opportunities, ["created_at", "closed_at"], tz=tz, table="opportunities"
    )
    owners = None
    if leads is not None:
        owners = lead_accounts(
            complete(leads, "leads", ("lead_id", "account_id"), {"owner_id": nw.String()})
        )
    closed = (nw.col("closed_at") < cutoff).fill_null(value=False)
    won = closed & nw.col("is_won").fill_null(value=False)
    history = (
        resolve_account(opportunities.filter(nw.col("created_at") < cutoff), owners)
        .filter(~nw.col("account_id").is_null())
        .select(nw.col("account_id"), flag(closed).alias("_closed"), flag(won).alias("_won"))
        .group_by("account_id")
        .agg(nw.col("_closed").sum(), nw.col("_won").sum())
    )
    derived = {
        "industry": nw.col("industry").cast(nw.String()),
        "region": nw.col("region").cast(nw.String()),
        "employee_band": band("employees", employee_bands, alias="employee_band"),
        "revenue_band": band("annual_revenue", revenue_bands, alias="revenue_band"),
    }
    segment = [*by, *extra]
    base = (
        accounts.select(
            nw.col("account_id").cast(nw.String()),
            nw.col("name").cast(nw.String()),
            nw.col("is_target").fill_null(value=False).cast(nw.Boolean()),
            *[derived[d].alias(d) for d in by],
            *[nw.col(c) for c in extra],
        )
        .join(history, on="account_id", how="left")
        .with_columns(
            nw.col("_closed").fill_null(0).cast(nw.Int64()),
            nw.col("_won").fill_null(0).cast(nw.Int64()),
            nw.lit(1).cast(nw.Int64()).alias("_one"),
        )
    )

    def per_segment(column: str) -> nw.Expr:
        total = nw.col(column).sum()
        return total.over(*segment) if segment else total

    s = prior_strength
    p0 = nw.col("_all_won").cast(nw.Float64()) / nw.col("_all_closed").cast(nw.Float64())
    scored = (
        base.with_columns(
            per_segment("_won").alias("numerator"),
            per_segment("_closed").alias("denominator"),
            per_segment("_one").alias("segment_account_count"),
            nw.col("_won").sum().alias("_all_won"),
            nw.col("_closed").sum().alias("_all_closed"),
        )
        .with_columns(
            nw.when(nw.col("_all_closed") > 0).then(p0).cast(nw.Float64()).alias("prior_rate"),
            *rate_columns(
                "numerator", "denominator", zero_division=zero_division, confidence=confidence
            ),
        )
        .with_columns(
            (
                (nw.col("numerator").cast(nw.Float64()) + s * nw.col("prior_rate"))
                / (nw.col("denominator").cast(nw.Float64()) + s)
            )
            .cast(nw.Float64())
            .alias("score")
        )
    )
    return scored.select(
        "account_id",
        "name",
        "is_target",
        (nw.col("_won") > 0).cast(nw.Boolean()).alias("is_customer"),
        *segment,
        nw.col("segment_account_count").cast(nw.Int64()),
        nw.col("numerator").cast(nw.Int64()),
        nw.col("denominator").cast(nw.Int64()),
        "rate",
        "ci_low",
        "ci_high",
        "prior_rate",
        "score",
    )


def _ranked(scored: LazyFrame) -> LazyFrame:
    """Add ``rank`` (1 = best): score descending, null scores last, then account_id.

    The tie-breaker makes the ranking a total order, so it does not depend on the
    order of the input rows.
    """
    names = scored.collect_schema().names()
    order = ["_null_score", "_neg_score", "account_id"]
    return (
        scored.with_columns(
            flag(nw.col("score").is_null()).alias("_null_score"),
            (-nw.col("score").fill_null(0.0)).alias("_neg_score"),
            nw.lit(1).cast(nw.Int64()).alias("_one"),
        )
        .with_columns(nw.col("_one").cum_sum().over(order_by=order).cast(nw.Int64()).alias("rank"))
        .select("rank", *names)
        .sort("rank")
    )


def _enter_scores(
    accounts: Any,
    opportunities: Any,
    leads: Any,
    *,
    function: str,
    by: Sequence[str],
    extra: Sequence[str],
    prior_strength: float,
    as_of: date | datetime | str,
    tz: str,
    employee_bands: Bands,
    revenue_bands: Bands,
    zero_division: ZeroDivision,
    confidence: float,
) -> tuple[LazyFrame, _compat.Session]:
    """Validate the shared options, enter the frames and score every account."""
    by_list, extra_list = _check_segments(by, extra)
    strength = _check_prior_strength(prior_strength)
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    check_bands(employee_bands, name="employee_bands")
    check_bands(revenue_bands, name="revenue_bands")
    cutoff = as_of_cutoff(as_of)
    natives = [accounts, opportunities] + ([] if leads is None else [leads])
    frames, session = _compat.enter(natives, function=function)
    scored = _scores(
        frames[0],
        frames[1],
        frames[2] if leads is not None else None,
        by=by_list,
        extra=extra_list,
        prior_strength=strength,
        cutoff=cutoff,
        tz=tz,
        employee_bands=employee_bands,
        revenue_bands=revenue_bands,
        zero_division=zero_division,
        confidence=confidence,
    )
    return scored, session


@former_table_order("accounts", "opportunities", "leads")
def account_fit_scores(
    accounts: FrameT,
    opportunities: Any,
    *,
    leads: Any = None,
    by: Sequence[str] = DEFAULT_SEGMENTS,
    extra: Sequence[str] = (),
    prior_strength: float = 10.0,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    employee_bands: Bands = EMPLOYEE_BANDS,
    revenue_bands: Bands = REVENUE_BANDS,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> FrameT:
    """Fit score of every account: the beta-smoothed win rate of its segment.

    Parameters
    ----------
    accounts
        Canonical accounts table (any supported frame library).
    opportunities
        Canonical opportunities table; closed ones by ``as_of`` are the history.
    leads
        Optional canonical leads table, to find the account of opportunities that
        have only a ``lead_id``; without it only ``opportunities.account_id`` is used.
    by
        Segment dimensions among :data:`SEGMENT_DIMENSIONS`: ``"industry"``,
        ``"region"``, ``"employee_band"`` (from ``employees``), ``"revenue_band"``
        (from ``annual_revenue``). Default industry x employee band x revenue band.
    extra
        More ``accounts`` columns to segment by (any attribute the user names).
    prior_strength
        Weight ``s`` of the beta prior in pseudo-opportunities (default 10); larger
        values pull small segments harder toward the overall win rate.
    as_of
        History up to the end of this day.
    tz
        Dataset time zone.
    employee_bands, revenue_bands
        Band schemes (see :mod:`pipelinekit.breakdowns`).
    zero_division
        Raw segment win rate when a segment has no closed opportunity: ``"nan"``
        (default), ``"0"`` or ``"raise"``. The score is defined regardless.
    confidence
        Level of the Wilson interval (default 0.95).

    Returns
    -------
    Frame of the caller's kind sorted by ``rank`` (1 = best; score descending, then
    ``account_id``): ``rank``, ``account_id``, ``name``, ``is_target``,
    ``is_customer`` (has a won opportunity by ``as_of``), the segment columns,
    ``segment_account_count``, ``numerator`` (segment wins), ``denominator`` (segment
    closed opportunities), ``rate``, ``ci_low``, ``ci_high`` (raw segment win rate),
    ``prior_rate`` (overall win rate ``p0``) and ``score`` (see the module notes).

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"],
    ...     "industry": ["it", "it", "retail", "retail"], "employees": [50, 60, 50, 40],
    ...     "annual_revenue": [5e8, 5e8, 5e8, 5e8]})
    >>> opps = pd.DataFrame({"account_id": ["A1", "A3", "A4", "A4"],
    ...     "created_at": pd.to_datetime(["2025-01-10"] * 4),
    ...     "closed_at": pd.to_datetime(["2025-02-10"] * 4), "is_won": [True, False, True, False]})
    >>> out = account_fit_scores(accounts, opps, as_of="2025-03-31", prior_strength=2)
    >>> out["score"] = out["score"].round(4)
    >>> out[["rank", "account_id", "industry", "numerator", "denominator", "score"]]
       rank account_id industry  numerator  denominator   score
    0     1         A1       it          1            1  0.6667
    1     2         A2       it          1            1  0.6667
    2     3         A3   retail          1            3  0.4000
    3     4         A4   retail          1            3  0.4000

    Here ``p0`` = 2 wins / 4 closed = 0.5 and ``s`` = 2: ``it`` (1 win of 1) scores
    (1 + 2 * 0.5) / (1 + 2) = 0.6667 and ``retail`` (1 of 3) scores
    (1 + 1) / (3 + 2) = 0.4. A2 has no history of its own; it inherits its segment's.
    """
    scored, session = _enter_scores(
        accounts,
        opportunities,
        leads,
        function="account_fit_scores",
        by=by,
        extra=extra,
        prior_strength=prior_strength,
        as_of=as_of,
        tz=tz,
        employee_bands=employee_bands,
        revenue_bands=revenue_bands,
        zero_division=zero_division,
        confidence=confidence,
    )
    result = _ranked(scored)
    check_raise(result, zero_division, "account_fit_scores")
    return session.finish(result)  # type: ignore[no-any-return]


@former_table_order("accounts", "opportunities", "leads")
def target_suggestions(
    accounts: FrameT,
    opportunities: Any,
    *,
    leads: Any = None,
    top: int = 50,
    exclude_customers: bool = True,
    exclude_targets: bool = False,
    by: Sequence[str] = DEFAULT_SEGMENTS,
    extra: Sequence[str] = (),
    prior_strength: float = 10.0,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    employee_bands: Bands = EMPLOYEE_BANDS,
    revenue_bands: Bands = REVENUE_BANDS,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> FrameT:
    """Suggested target list: the ``top`` accounts by fit score, customers excluded.

    Parameters
    ----------
    accounts, opportunities, leads
        As in :func:`account_fit_scores`.
    top
        Number of accounts to return (default 50).
    exclude_customers
        Leave out accounts with a won opportunity by ``as_of`` (default True).
    exclude_targets
        Leave out accounts already marked ``is_target`` (default False: they stay,
        flagged in the ``is_target`` column).
    by, extra, prior_strength, as_of, tz, employee_bands, revenue_bands, zero_division,
    confidence
        As in :func:`account_fit_scores`.

    Returns
    -------
    The columns of :func:`account_fit_scores`, at most ``top`` rows, ranked among the
    candidates only (``rank`` 1..n; score descending, ties by ``account_id``).

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
    ...     "industry": ["it", "it", "retail"], "employees": [50, 60, 50],
    ...     "annual_revenue": [5e8, 5e8, 5e8]})
    >>> opps = pd.DataFrame({"account_id": ["A1", "A3"],
    ...     "created_at": pd.to_datetime(["2025-01-10"] * 2),
    ...     "closed_at": pd.to_datetime(["2025-02-10"] * 2), "is_won": [True, False]})
    >>> target_suggestions(accounts, opps, as_of="2025-03-31")[["rank", "account_id"]]
       rank account_id
    0     1         A2
    1     2         A3
    """
    top = check_positive_int("top", top)
    for name, value in (
        ("exclude_customers", exclude_customers),
        ("exclude_targets", exclude_targets),
    ):
        check_bool(name, value)
    scored, session = _enter_scores(
        accounts,
        opportunities,
        leads,
        function="target_suggestions",
        by=by,
        extra=extra,
        prior_strength=prior_strength,
        as_of=as_of,
        tz=tz,
        employee_bands=employee_bands,
        revenue_bands=revenue_bands,
        zero_division=zero_division,
        confidence=confidence,
    )
    if exclude_customers:
        scored = scored.filter(~nw.col("is_customer"))
    if exclude_targets:
        scored = scored.filter(~nw.col("is_target"))
    result = _ranked(scored).filter(nw.col("rank") <= top)
    check_raise(result, zero_division, "target_suggestions")
    return session.finish(result)  # type: ignore[no-any-return]
