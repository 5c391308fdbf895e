"""Outcomes of opportunities: win rate (by count or amount, any breakdown), average won
amount, sales cycle and pipeline velocity, as of the end of a day (DESIGN section 3)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit.breakdowns import check_by
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._opportunity_frames import (
    Weight,
    check_rate_options,
    cycle_columns,
    excluded_negative_column,
    finish_rates,
    outcome_stats,
    prepare_opportunities,
    rate_output,
    ratio,
    sorted_by,
    with_breakdowns,
    with_rate,
)
from pipelinekit.rates import (
    ZeroDivision,
)
from pipelinekit.types import AsOf

__all__ = [
    "average_won_amount",
    "pipeline_velocity",
    "sales_cycle",
    "win_rate",
    "win_rate_by",
]

FrameT = TypeVar("FrameT")


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
    check_rate_options(weight, zero_division, confidence)
    states, entered, keys, _, session = prepare_opportunities(
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
    return finish_rates(session, sorted_by(out, keys), zero_division=zero_division)  # type: ignore[arg-type]


def win_rate(
    opportunities: FrameT,
    *,
    leads: Any = None,
    accounts: Any = None,
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
    leads, accounts
        Canonical tables (same library), needed only by breakdowns on their
        attributes: the lead's ``source``, ``department``, ``title`` and ``origin``
        (opportunity origin, else the lead's) need ``leads``; the account's
        ``industry``, ``region`` and ``employee_band`` need ``accounts`` (the
        opportunity's account is its ``account_id``, else its lead's when ``leads``
        is given). Opportunities without a lead or account fall in the null group.
    as_of
        Day the rate is read at (end of day): deals created and closed by then.
    by
        Breakdowns (default none: one total row): opportunity columns such as
        ``first_meeting_attendees``, the bands ``amount_band`` / ``quantity_band``,
        and the lead and account attributes above.
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
    >>> opps["lead_id"] = ["L1", "L2", "L1", None]
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "source": ["web_form", "event"]})
    >>> win_rate(opps, leads=leads, by="source", as_of="2025-04-30")[
    ...     ["source", "numerator", "denominator", "rate"]]
         source  numerator  denominator  rate
    0     event          0            1   0.0
    1  web_form          1            2   0.5
    2       NaN          0            0   NaN
    """
    return _win_rate(  # type: ignore[no-any-return]
        {"opportunities": opportunities, "leads": leads, "accounts": accounts},
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
    """Deprecated: use :func:`win_rate` with ``leads=`` / ``accounts=`` and ``by=``.

    Gives exactly ``win_rate(opportunities, leads=leads, accounts=accounts, by=by,
    ...)``, with a :class:`DeprecationWarning`; it will be removed in the next release.

    >>> import warnings
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "amount": [1.0],
    ...     "created_at": pd.to_datetime(["2025-04-01"]),
    ...     "closed_at": pd.to_datetime(["2025-04-10"]),
    ...     "is_won": pd.array([True], dtype="boolean")})
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     win_rate_by(opps, by="amount_band", as_of="2025-04-30")["rate"].tolist()
    [1.0]
    """
    warnings.warn(
        "win_rate_by is deprecated; use win_rate(opportunities, leads=..., accounts=..., by=...)",
        DeprecationWarning,
        stacklevel=2,
    )
    if not check_by(by):
        raise ConfigError("by must name at least one breakdown, e.g. by='source'")
    return win_rate(
        opportunities,
        leads=leads,
        accounts=accounts,
        by=by,
        as_of=as_of,
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
    states, _, keys, _, session = prepare_opportunities(
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
    return session.finish(sorted_by(out, keys))  # type: ignore[no-any-return]


def sales_cycle(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Sales cycle: days from ``created_at`` to ``closed_at`` of won deals (商談期間).

    Days are fractional (timestamp difference / 24 h). The median of an even count is
    the mean of the two middle values. A won deal whose ``closed_at`` is before its
    ``created_at`` (the ``closed_before_created`` plausibility warning; compared by
    calendar date when either side is date-only) has no cycle: it is left out of the
    median and the mean and counted in ``excluded_negative_count``. A date-only close
    on the creation day counts 0 days.

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
    Frame of the caller's kind: the ``by`` columns, ``won_count`` (every won deal),
    ``median_cycle_days``, ``mean_cycle_days`` (null without a won deal with a
    cycle), ``excluded_negative_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"], "amount": None,
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-01", "2025-04-01",
    ...                                   "2025-04-10"]),
    ...     "closed_at": pd.to_datetime(["2025-04-11", "2025-04-21", "2025-05-31",
    ...                                  "2025-04-02"]),
    ...     "is_won": pd.array([True, True, True, True], dtype="boolean")})
    >>> sales_cycle(opps, as_of="2025-05-31")
       won_count  median_cycle_days  mean_cycle_days  excluded_negative_count
    0          4               20.0             30.0                        1
    """
    states, _, keys, _, session = prepare_opportunities(
        {"opportunities": opportunities}, function="sales_cycle", as_of=as_of, by=by, tz=tz
    )
    stats = outcome_stats(with_breakdowns(states, keys, function="sales_cycle"), keys, cycle=True)
    out = stats.select(*keys, "won_count", *cycle_columns(), excluded_negative_column())
    return session.finish(sorted_by(out, keys))  # type: ignore[no-any-return]


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
    amount and the mean sales cycle of the deals won by ``as_of`` (won deals closed
    before they were created are left out of the cycle, as in :func:`sales_cycle`,
    and counted in ``excluded_negative_count``). Null when any factor is undefined
    (nothing closed, won or with an amount).

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
    ``average_won_amount``, ``mean_cycle_days``, ``velocity_per_day``,
    ``excluded_negative_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
    ...     "amount": [100.0, 50.0, 80.0, 60.0],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 4),
    ...     "closed_at": pd.to_datetime(["2025-04-11", "2025-04-21", None, None]),
    ...     "is_won": pd.array([True, False, None, None], dtype="boolean")})
    >>> pipeline_velocity(opps, as_of="2025-04-30").iloc[:, :5]
       open_count  win_rate  average_won_amount  mean_cycle_days  velocity_per_day
    0           2       0.5               100.0             10.0              10.0
    """
    states, _, keys, _, session = prepare_opportunities(
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
    cycle = ratio(nw.col("cycle_days_sum"), nw.col("cycle_count"))
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
        excluded_negative_column(),
    )
    return session.finish(sorted_by(out, keys))  # type: ignore[no-any-return]
