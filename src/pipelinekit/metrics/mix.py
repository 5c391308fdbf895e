"""SQL mix: the inbound / outbound share of SQLs, and how the two origins compare.

Definitions (DESIGN section 3, with the choices this module makes where it is silent):

- **SQL**: an opportunity (with or without a lead), counted in the period of its
  ``created_at``.
- **Origin** of an SQL: the opportunity's ``origin``, else its lead's ``origin``,
  else ``"unknown"`` (an opportunity with no origin and no lead).
- **Share** of an origin = its SQLs / all SQLs of the period (and breakdown group);
  reported as a rate with a Wilson interval, so the shares of a group sum to 1.
  Every group has an ``inbound`` and an ``outbound`` row (0 when none); an
  ``unknown`` row only when there are such SQLs.
- **Breakdowns**: ``product`` and ``amount_band`` (the opportunity), ``department``
  and ``title`` (its lead), ``employee_band`` and ``region`` (its account: the
  opportunity's ``account_id``, else its lead's), or any opportunity column.
- **Origin comparison** (the risk table): per origin, SQL->valid rate (validated /
  SQLs), win rate (won / closed) and days to close (created -> closed of won deals,
  median and mean), all as of the end of ``as_of``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import flag, require_columns
from pipelinekit._signature import former_table_order
from pipelinekit.breakdowns import check_by
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._opportunity_frames import (
    cycle_columns,
    enter_tables,
    excluded_negative_column,
    finish_rates,
    opportunity_states,
    outcome_stats,
    rate_output,
    with_breakdowns,
    with_rate,
)
from pipelinekit.periods import Freq, as_of_cutoff, check_freq, period_start
from pipelinekit.rates import ZeroDivision, check_confidence, check_zero_division

__all__ = ["ORIGINS", "origin_comparison", "sql_mix"]

FrameT = TypeVar("FrameT")

#: Origins every mix group reports, even at 0 SQLs; ``unknown`` is added when present.
ORIGINS = ("inbound", "outbound")
_UNKNOWN = "unknown"


def _resolved_origin(
    opportunities: nw.LazyFrame[Any],
    leads: nw.LazyFrame[Any] | None,
    accounts: nw.LazyFrame[Any] | None,
    by: Sequence[str],
    *,
    function: str,
) -> nw.LazyFrame[Any]:
    """Opportunities with the ``by`` columns and ``origin`` (never null)."""
    frame = with_breakdowns(
        opportunities, [*by, "origin"], leads=leads, accounts=accounts, function=function
    )
    return frame.with_columns(nw.col("origin").fill_null(_UNKNOWN).cast(nw.String))


@former_table_order("opportunities", "leads", "accounts")
def sql_mix(
    leads: FrameT,
    opportunities: Any,
    *,
    accounts: Any = None,
    freq: Freq | None = "month",
    by: str | Sequence[str] = (),
    as_of: date | datetime | str | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Inbound / outbound share of SQLs per period and breakdown (SQL ミックス).

    Parameters
    ----------
    leads
        Canonical leads table (same library): the origin of opportunities without
        one, and ``department`` / ``title`` breakdowns.
    opportunities
        Canonical opportunities table; any supported frame.
    accounts
        Canonical accounts table, needed for ``employee_band`` and ``region``.
    freq
        Period of the SQL's ``created_at``: ``"day"``, ``"week"``, ``"month"``
        (default), ``"quarter"``, ``"year"``, or ``None`` for no period column.
    by
        Breakdowns: ``"product"``, ``"employee_band"``, ``"region"``,
        ``"amount_band"``, ``"department"``, ``"title"`` or any opportunity column.
    as_of
        Count SQLs created by the end of this day (``None``: all).
    zero_division
        Share of a group with no SQLs (cannot happen for listed groups; kept for the
        common rate contract): ``"nan"``, ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson interval of each share (default 0.95).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per (period, by..., origin), sorted by those:
    ``period`` (if ``freq``), the ``by`` columns, ``origin``, ``numerator`` (SQLs of
    the origin), ``denominator`` (SQLs of the group), ``rate`` (the share),
    ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
    ...     "lead_id": ["L1", "L2", "L3", None], "origin": [None, None, "outbound", None],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03", "2025-05-01"])})
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...     "origin": ["inbound", "inbound", "inbound"]})
    >>> sql_mix(leads, opps)[["period", "origin", "numerator", "denominator", "rate"]]
          period    origin  numerator  denominator      rate
    0 2025-04-01   inbound          2            3  0.666667
    1 2025-04-01  outbound          1            3  0.333333
    2 2025-05-01   inbound          0            1  0.000000
    3 2025-05-01  outbound          0            1  0.000000
    4 2025-05-01   unknown          1            1  1.000000
    """
    checked_freq = None if freq is None else check_freq(freq)
    keys = list(check_by(by))
    if "origin" in keys:
        raise ConfigError("by must not contain 'origin': the mix is the share of each origin")
    check_zero_division(zero_division)
    check_confidence(confidence)
    cutoff = as_of_cutoff(as_of) if as_of is not None else None
    tables, session = enter_tables(
        {"opportunities": opportunities, "leads": leads, "accounts": accounts}, function="sql_mix"
    )
    opps = tables["opportunities"]
    assert opps is not None
    require_columns(opps, "opportunities", ("created_at",))
    sqls = _compat.to_local_naive(opps, ["created_at"], tz=tz, table="opportunities")
    if cutoff is not None:
        sqls = sqls.filter(nw.col("created_at") < cutoff)
    frame = _resolved_origin(sqls, tables["leads"], tables["accounts"], keys, function="sql_mix")
    group = list(keys)
    if checked_freq is not None:
        frame = frame.with_columns(
            period_start(nw.col("created_at"), checked_freq).cast(nw.Datetime("us")).alias("period")
        )
        group = ["period", *keys]
    origins = [*ORIGINS, _UNKNOWN]
    flagged = frame.with_columns(
        *[flag(nw.col("origin") == o).alias(o) for o in origins],
        nw.lit(1).cast(nw.Int64).alias("_all"),
    )
    wide = flagged.group_by(*(group or ["_all"])).agg(
        *[nw.col(o).sum() for o in origins], nw.len().alias("denominator")
    )
    long = _compat.unpivot(
        wide,
        on=origins,
        index=[*(group or ["_all"]), "denominator"],
        variable_name="origin",
        value_name="numerator",
    ).filter((nw.col("origin") != _UNKNOWN) | (nw.col("numerator") > 0))
    period = [nw.col("period").cast(nw.Datetime("us"))] if checked_freq is not None else []
    rated = with_rate(
        long, "numerator", "denominator", zero_division=zero_division, confidence=confidence
    )
    out = rated.select(
        *period,
        *keys,
        nw.col("origin").cast(nw.String),
        *rate_output("numerator", "denominator"),
    ).sort(*group, "origin", nulls_last=True)
    return finish_rates(session, out, zero_division=zero_division)  # type: ignore[no-any-return]


@former_table_order("opportunities", "leads")
def origin_comparison(
    leads: FrameT,
    opportunities: Any,
    *,
    as_of: date | datetime | str,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Inbound vs outbound SQLs on quality and speed: the risk table, computed.

    For each origin (``inbound``, ``outbound`` always; ``unknown`` when some SQLs
    have no origin and no lead), as of the end of ``as_of``:

    - ``sql_count``: opportunities created by then;
    - ``valid_*``: SQL -> valid rate = validated by then / SQLs;
    - ``win_*``: win rate = won / closed by then;
    - ``median_cycle_days``, ``mean_cycle_days``: days from ``created_at`` to
      ``closed_at`` of the won deals (fractional days); won deals closed before they
      were created are left out and counted in ``excluded_negative_count``.

    Parameters
    ----------
    leads
        Canonical leads table (same library), for the origin of opportunities
        without one.
    opportunities
        Canonical opportunities table; any supported frame.
    as_of
        Day the comparison is read at (end of day).
    zero_division
        Rate of an origin with a zero denominator: ``"nan"`` (default), ``"0"`` or
        ``"raise"``.
    confidence
        Level of the Wilson intervals (default 0.95).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per origin sorted by ``origin``:
    ``origin``, ``sql_count``, ``valid_count``, ``valid_rate``, ``valid_ci_low``,
    ``valid_ci_high``, ``closed_count``, ``won_count``, ``win_rate``,
    ``win_ci_low``, ``win_ci_high``, ``median_cycle_days``, ``mean_cycle_days``,
    ``excluded_negative_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "lead_id": ["L1", "L2", "L3"],
    ...     "origin": None, "amount": [1.0, 1.0, 1.0],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 3),
    ...     "validated_at": pd.to_datetime(["2025-04-02", None, "2025-04-03"]),
    ...     "closed_at": pd.to_datetime(["2025-04-11", "2025-04-05", "2025-04-21"]),
    ...     "is_won": pd.array([True, False, True], dtype="boolean")})
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...     "origin": ["inbound", "inbound", "outbound"]})
    >>> origin_comparison(leads, opps, as_of="2025-04-30")[
    ...     ["origin", "sql_count", "valid_rate", "win_rate", "median_cycle_days"]]
         origin  sql_count  valid_rate  win_rate  median_cycle_days
    0   inbound          2         0.5       0.5               10.0
    1  outbound          1         1.0       1.0               20.0
    """
    check_zero_division(zero_division)
    check_confidence(confidence)
    cutoff = as_of_cutoff(as_of)
    tables, session = enter_tables(
        {"opportunities": opportunities, "leads": leads}, function="origin_comparison"
    )
    opps = tables["opportunities"]
    assert opps is not None
    states = opportunity_states(opps, cutoff=cutoff, tz=tz)
    frame = _resolved_origin(states, tables["leads"], None, (), function="origin_comparison")
    stats = outcome_stats(frame, ["origin"], cycle=True)
    listed = _compat.literal_rows(stats, [{"origin": o} for o in ORIGINS], {"origin": nw.String()})
    origins = nw.concat([listed, stats.select("origin")], how="vertical").unique(["origin"])
    counts = [c for c in stats.collect_schema().names() if c != "origin"]
    full = origins.join(stats, on="origin", how="left").with_columns(
        *[nw.col(c).fill_null(0) for c in counts]
    )
    rates: dict[str, Any] = {"zero_division": zero_division, "confidence": confidence}
    rated = with_rate(
        with_rate(full, "valid_count", "sql_count", prefix="valid_", **rates),
        "won_count",
        "closed_count",
        prefix="win_",
        **rates,
    )
    interval = ("rate", "ci_low", "ci_high")
    out = rated.select(
        nw.col("origin").cast(nw.String),
        nw.col("sql_count").cast(nw.Int64),
        nw.col("valid_count").cast(nw.Int64),
        *[nw.col(f"valid_{c}").cast(nw.Float64) for c in interval],
        nw.col("closed_count").cast(nw.Int64),
        nw.col("won_count").cast(nw.Int64),
        *[nw.col(f"win_{c}").cast(nw.Float64) for c in interval],
        *cycle_columns(),
        excluded_negative_column(),
    ).sort("origin")
    return finish_rates(  # type: ignore[no-any-return]
        session, out, zero_division=zero_division, denominators=("sql_count", "closed_count")
    )
