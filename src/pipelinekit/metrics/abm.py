"""ABM: target-account metrics, BDR and nurturing KPIs, before/after comparison.

Target accounts are the rows of ``accounts`` with ``is_target`` true (DESIGN section
3, "ABM"). Every event is attributed to an account:

- a lead to its ``account_id``;
- an activity to its own ``account_id``, else its lead's ``account_id`` (so
  account-level BDR calls without a lead count for ABM);
- an opportunity (SQL) to its own ``account_id``, else its lead's ``account_id``.

Counting is as of the end of the ``as_of`` day (DESIGN section 4): leads count by
``created_at``, activities by ``occurred_at``, opportunities by ``created_at``; an
opportunity validated or closed after ``as_of`` is an SQL that is not (yet) valid or
won. With ``freq``, each event falls in the period of its own time (period view):
leads by ``created_at``, touches and connects by ``occurred_at``, SQLs by
``created_at``, valid opportunities by ``validated_at``, wins and won amount by
``closed_at``.

Optional columns of the canonical schema that a metric can do without are treated
as all missing when absent (``activities.account_id``, ``activities.is_key_person``
as false, ``opportunities.account_id``, ``amount``, ...); required ones raise
:class:`~pipelinekit.errors.SchemaError`.

Examples
--------
>>> VOLUME_METRICS[:3]
('leads', 'touched_accounts', 'connects')
>>> COVERAGE_METRICS
('lead_coverage', 'touch_coverage', 'sql_coverage')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_positive_int
from pipelinekit._exprs import flag
from pipelinekit.errors import ConfigError
from pipelinekit.facts import Facts
from pipelinekit.metrics._accounts import (
    ALL_TIERS,
    DAILY_COUNTS,
    FLOAT,
    INT,
    AccountTables,
    Bucket,
    account_events,
    check_raise,
    checkpoint,
    enter_four,
    metric_grid,
    period_bucket,
    period_keys,
    prepare,
    restore_null,
    sort_keys,
    tag_targets,
    tier_output,
    tier_panel,
    tier_sizes,
    widen,
)
from pipelinekit.periods import Freq, as_of_cutoff, parse_as_of
from pipelinekit.rates import (
    ZeroDivision,
    rate_columns,
)

__all__ = [
    "COVERAGE_METRICS",
    "VOLUME_METRICS",
    "abm_before_after",
    "abm_summary",
    "target_account_panel",
]

FrameT = TypeVar("FrameT")
LazyFrame = nw.LazyFrame[Any]

#: Volume metrics of :func:`abm_summary`, in output order.
VOLUME_METRICS = (
    "leads",
    "touched_accounts",
    "connects",
    "key_person_connects",
    "sqls",
    "valid_opportunities",
    "won",
    "won_amount",
)
#: Coverage metrics: targets with >= 1 lead / touch / SQL over the target accounts.
COVERAGE_METRICS = ("lead_coverage", "touch_coverage", "sql_coverage")
_COVERED_BY = {  # coverage metric -> the event whose distinct accounts it counts
    "lead_coverage": "leads",
    "touch_coverage": "touches",
    "sql_coverage": "sqls",
}

# --------------------------------------------------------------------- events


def _events(tables: AccountTables, bucket: Bucket | None = None) -> LazyFrame:
    """Countable events summed per account and bucket: ``account_id``, the bucket
    column, ``metric``, ``value``.

    Metrics: ``leads``, ``touches``, ``connects``, ``key_person_connects``, ``sqls``,
    ``valid_opportunities``, ``won`` and ``won_amount`` (value = amount). Each event
    falls in the bucket of its own time.
    """
    days, opps = tables.activity_days, tables.opportunities
    won = opps.filter(nw.col("_won") == 1)
    # activities come counted per account and day: a day lies in one period of every
    # freq, so summing the daily counts per period equals counting the activities
    activity_events = [
        account_events(days.filter(nw.col(name) > 0), "day", name, nw.col(name), bucket=bucket)
        for name in DAILY_COUNTS.values()
    ]
    return nw.concat(
        [
            account_events(tables.leads, "created_at", "leads", bucket=bucket),
            *activity_events,
            account_events(opps, "created_at", "sqls", bucket=bucket),
            account_events(
                opps.filter(~nw.col("validated_at").is_null()),
                "validated_at",
                "valid_opportunities",
                bucket=bucket,
            ),
            account_events(won, "closed_at", "won", bucket=bucket),
            account_events(
                won,
                "closed_at",
                "won_amount",
                nw.col("amount").cast(FLOAT).fill_null(0.0),
                bucket=bucket,
            ),
        ],
        how="vertical",
    )


def _rollup(events: LazyFrame, keys: Sequence[str]) -> LazyFrame:
    """Per ``_tier``, ``keys`` and output metric: the value ``x``.

    ``events`` carry ``_tier`` (null for accounts that are not targets and for rows
    without an account). Volume metrics sum the event values; ``touched_accounts``
    and the coverage metrics count distinct accounts with >= 1 touch / lead / SQL.
    Every event lands in some row, so the rows also list every period present.
    """
    per_account = (
        events.group_by("_tier", "account_id", *keys, "metric")
        .agg(nw.col("value").sum())
        .with_columns(flag(~nw.col("account_id").is_null()).alias("_accounts"))
    )
    agg = per_account.group_by("_tier", *keys, "metric").agg(
        nw.col("value").sum(), nw.col("_accounts").sum()
    )
    metric = nw.col("metric")
    coverage_name: Any = None
    for name, source in _COVERED_BY.items():
        coverage_name = (nw.when if coverage_name is None else coverage_name.when)(
            metric == source
        ).then(nw.lit(name))
    columns = ["_tier", *keys, "metric", "x"]
    parts = [
        agg.filter(metric != "touches").with_columns(nw.col("value").alias("x")),
        agg.filter(metric == "touches").with_columns(
            nw.lit("touched_accounts").alias("metric"), nw.col("_accounts").alias("x")
        ),
        agg.filter(metric.is_in(list(_COVERED_BY.values()))).with_columns(
            coverage_name.alias("metric"), nw.col("_accounts").alias("x")
        ),
    ]
    return nw.concat(
        [p.select(*columns).with_columns(nw.col("x").cast(FLOAT)) for p in parts],
        how="vertical",
    )


# --------------------------------------------------------------- abm_summary


def abm_summary(
    accounts: FrameT,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    freq: Freq | None = None,
    by: str | Sequence[str] | None = None,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    facts: Facts | None = None,
    by_tier: bool | None = None,
) -> FrameT:
    """Target accounts' volumes, their share of the total, and coverage (ABM panel).

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
        ``accounts`` needs ``account_id`` and ``is_target``.
    freq
        ``None`` (default: everything up to ``as_of``) or ``"day"``, ``"week"``,
        ``"month"``, ``"quarter"``, ``"year"``; each event falls in the period of its
        own time (see the module notes).
    by
        ``"target_tier"``: one block of rows per tier (missing tier = its own
        block); ``None`` (default): one block.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone; tz-aware timestamp columns are converted to it.
    zero_division
        Rate when the denominator is 0: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    by_tier
        Deprecated: use ``by="target_tier"``.
    Returns
    -------
    Frame of the caller's kind, one row per (``target_tier``), (``period``) and
    ``metric``, with ``numerator``, ``denominator``, ``rate``, ``ci_low``, ``ci_high``:

    - volume metrics (:data:`VOLUME_METRICS`): numerator = the target accounts' value
      (of the tier), denominator = the value over all rows (every account and rows
      without an account), rate = the targets' share. ``touched_accounts`` counts
      distinct accounts with >= 1 touch. ``won_amount`` has no interval.
    - coverage metrics (:data:`COVERAGE_METRICS`): numerator = target accounts with
      >= 1 lead / touch / SQL, denominator = target accounts (of the tier).

    Target accounts without any lead still count in the coverage denominators, so
    coverage is exactly the share of targets reached.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
    ...                          "is_target": [True, True, False]})
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "account_id": ["A1", "A3"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"])})
    >>> acts = pd.DataFrame({"lead_id": [None], "account_id": ["A2"], "channel": ["call"],
    ...     "direction": ["outbound"], "outcome": ["connected"], "is_key_person": [True],
    ...     "occurred_at": pd.to_datetime(["2025-04-03"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-05"])})
    >>> out = abm_summary(accounts, leads, acts, opps, as_of="2025-04-30")
    >>> out[["metric", "numerator", "denominator", "rate"]].head(5)
                    metric  numerator  denominator  rate
    0                leads        1.0          2.0   0.5
    1     touched_accounts        1.0          1.0   1.0
    2             connects        1.0          1.0   1.0
    3  key_person_connects        1.0          1.0   1.0
    4                 sqls        1.0          1.0   1.0
    >>> out.loc[out["metric"] == "lead_coverage", ["numerator", "denominator"]].values.tolist()
    [[1.0, 2.0]]
    """
    return tier_panel(  # type: ignore[no-any-return]
        _abm_summary,
        (accounts, leads, activities, opportunities),
        function="abm_summary",
        freq=freq,
        by=by,
        by_tier=by_tier,
        as_of=as_of,
        tz=tz,
        zero_division=zero_division,
        confidence=confidence,
        facts=facts,
    )


def _abm_summary(
    targets: LazyFrame,
    tables: AccountTables,
    session: engine.Session,
    freq: Freq | None,
    by_tier: bool,
    zero_division: ZeroDivision,
    confidence: float,
) -> LazyFrame:
    keys = period_keys(freq)
    events = _events(tables, period_bucket(freq)).join(
        targets.select("account_id", "_tier"), on="account_id", how="left"
    )
    rolled = checkpoint(_rollup(checkpoint(events, session), keys), session)
    totals = rolled.group_by(*keys, "metric").agg(nw.col("x").sum().alias("_total"))
    base = tier_sizes(targets, by_tier=by_tier)
    if freq is not None:
        base = base.join(rolled.select("period").unique(), how="cross")
    is_coverage = nw.col("metric").is_in(list(COVERAGE_METRICS))
    rows = (
        metric_grid(base, (*VOLUME_METRICS, *COVERAGE_METRICS))
        .join(rolled.filter(~nw.col("_tier").is_null()), on=["_tier", *keys, "metric"], how="left")
        .join(totals, on=[*keys, "metric"], how="left")
        .with_columns(
            nw.col("x").fill_null(0.0).cast(FLOAT).alias("numerator"),
            nw.when(is_coverage)
            .then(nw.col("target_accounts"))
            .otherwise(nw.col("_total"))
            .fill_null(0.0)
            .cast(FLOAT)
            .alias("denominator"),
        )
    )
    is_amount = nw.col("metric") == "won_amount"
    result = (
        rows.with_columns(
            *rate_columns(
                "numerator", "denominator", zero_division=zero_division, confidence=confidence
            )
        )
        .with_columns(
            nw.when(~is_amount).then(nw.col("ci_low")).cast(FLOAT).alias("ci_low"),
            nw.when(~is_amount).then(nw.col("ci_high")).cast(FLOAT).alias("ci_high"),
        )
        .select(
            *tier_output(by_tier),
            *keys,
            "metric",
            "_order",
            "numerator",
            "denominator",
            "rate",
            "ci_low",
            "ci_high",
        )
        .sort([*sort_keys(by_tier, freq), "_order"], nulls_last=True)
        .drop("_order")
    )
    check_raise(result, zero_division, "abm_summary")
    return result


# ------------------------------------------------------- target_account_panel

_PANEL_COLUMNS = {
    "leads": "lead_count",
    "touches": "touch_count",
    "connects": "connect_count",
    "key_person_connects": "key_person_connect_count",
    "sqls": "sql_count",
    "valid_opportunities": "valid_opportunity_count",
    "won": "won_count",
    "won_amount": "won_amount",
}


def target_account_panel(
    accounts: FrameT,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """One row per target account with its lead, touch, connect, SQL and win counts.

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind sorted by ``account_id``: ``account_id``, ``name``,
    ``target_tier``, ``lead_count``, ``touch_count`` (outbound calls, emails,
    meetings), ``connect_count``, ``key_person_connect_count``, ``sql_count``,
    ``valid_opportunity_count``, ``won_count`` (Int64) and ``won_amount`` (Float64).
    Every target account appears, with zeros when nothing happened on it.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1", "A2"], "is_target": [True, True]})
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "account_id": ["A1"],
    ...                       "created_at": pd.to_datetime(["2025-04-01"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1"], "channel": ["call"], "direction": ["outbound"],
    ...     "outcome": ["no_answer"], "occurred_at": pd.to_datetime(["2025-04-02"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-05"])})
    >>> panel = target_account_panel(accounts, leads, acts, opps, as_of="2025-04-30")
    >>> panel[["account_id", "lead_count", "touch_count", "sql_count"]]
      account_id  lead_count  touch_count  sql_count
    0         A1           1            1          1
    1         A2           0            0          0
    """
    cutoff = as_of_cutoff(as_of)
    targets, tables, session = enter_four(
        accounts,
        leads,
        activities,
        opportunities,
        function="target_account_panel",
        cutoff=cutoff,
        tz=tz,
        by_tier=True,
        facts=facts,
    )
    return session.finish(_target_account_panel(targets, tables))  # type: ignore[no-any-return]


def _target_account_panel(targets: LazyFrame, tables: AccountTables) -> LazyFrame:
    per_account = widen(tag_targets(_events(tables), targets), ["account_id"], _PANEL_COLUMNS)
    counts = [c for c in _PANEL_COLUMNS.values() if c != "won_amount"]
    result = (
        targets.join(per_account, on="account_id", how="left")
        .select(
            nw.col("account_id"),
            nw.col("name"),
            restore_null("_tier", "target_tier"),
            *[nw.col(c).fill_null(0.0).cast(INT) for c in counts],
            nw.col("won_amount").fill_null(0.0).cast(FLOAT),
        )
        .sort("account_id", nulls_last=True)
    )
    return result


# ------------------------------------------------------------------- bdr_kpis


# -------------------------------------------------------------- nurturing_kpis


# ------------------------------------------------------------ abm_before_after


def _check_target_list(target_accounts: Sequence[str]) -> list[str]:
    if isinstance(target_accounts, str) or not isinstance(target_accounts, Sequence):
        raise ConfigError(
            "target_accounts must be a list of account ids, e.g. ['A1', 'A2']; "
            f"got {type(target_accounts).__name__}"
        )
    ids = sorted({str(a) for a in target_accounts if a is not None})
    if not ids:
        raise ConfigError("target_accounts must name at least one account id")
    return ids


def abm_before_after(
    leads: FrameT,
    activities: Any,
    opportunities: Any,
    *,
    target_accounts: Sequence[str],
    start_date: date | datetime | str,
    window_days: int = 90,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """KPIs of a target-account list in equal windows before and after an ABM start.

    Parameters
    ----------
    leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    target_accounts
        The account ids of the ABM list.
    start_date
        First day of the ABM programme. The *after* window is
        ``[start_date, start_date + window_days)`` and the *before* window the same
        number of days just before ``start_date``.
    window_days
        Length of each window in days (default 90). When ``as_of`` falls inside the
        after window, both windows are shortened to the days observed so far, so they
        stay equal; ``window_days`` in the result gives the length used.
    as_of
        Count rows up to the end of this day; must be on or after ``start_date``.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind with one row per metric (:data:`VOLUME_METRICS` then
    :data:`COVERAGE_METRICS`): ``metric``, ``window_days``, ``before``, ``after``
    (Float64), ``difference`` (after - before) and ``lift`` (after / before; null
    when before is 0). Events fall in a window by their own time (see the module
    notes); coverage is the share of the listed accounts with >= 1 lead / touch / SQL
    in the window.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "account_id": ["A1", "A1", "A2"],
    ...     "created_at": pd.to_datetime(["2025-03-20", "2025-04-02", "2025-04-03"])})
    >>> acts = pd.DataFrame({"lead_id": ["L2"], "channel": ["call"], "direction": ["outbound"],
    ...     "outcome": ["connected"], "occurred_at": pd.to_datetime(["2025-04-04"])})
    >>> opps = pd.DataFrame({"lead_id": ["L2"], "created_at": pd.to_datetime(["2025-04-10"])})
    >>> out = abm_before_after(leads, acts, opps, target_accounts=["A1", "A2"],
    ...     start_date="2025-04-01", window_days=30, as_of="2025-06-30")
    >>> out.set_index("metric").loc[["leads", "sqls", "lead_coverage"], ["before", "after"]]
                   before  after
    metric
    leads             1.0    2.0
    sqls              0.0    1.0
    lead_coverage     0.5    1.0
    """
    ids = _check_target_list(target_accounts)
    days = check_positive_int("window_days", window_days)
    try:
        start_day = parse_as_of(start_date)
    except ConfigError:
        raise ConfigError(
            f"start_date must be a date like '2025-04-01'; got {start_date!r}"
        ) from None
    cutoff = as_of_cutoff(as_of)
    start = datetime(start_day.year, start_day.month, start_day.day)
    days = min(days, (cutoff - start).days)
    if days <= 0:
        raise ConfigError(
            f"start_date ({start_day}) must be on or before as_of ({parse_as_of(as_of)})"
        )
    (lf_leads, lf_acts, lf_opps), session = engine.enter(
        [leads, activities, opportunities], function="abm_before_after"
    )
    tables = prepare(lf_leads, lf_acts, lf_opps, cutoff=cutoff, tz=tz)
    span = timedelta(days=days)

    def window(at: nw.Expr) -> nw.Expr:
        return (
            nw.when((at >= start) & (at < start + span))
            .then(nw.lit("after"))
            .when((at >= start - span) & (at < start))
            .then(nw.lit("before"))
        )

    events = _events(tables, ("window", window)).filter(nw.col("account_id").is_in(ids))
    tagged = checkpoint(events.with_columns(nw.lit(ALL_TIERS).alias("_tier")), session)
    rolled = _rollup(tagged, ["window"])
    share = nw.col("x") / float(len(ids))
    value = nw.when(nw.col("metric").is_in(list(COVERAGE_METRICS))).then(share).otherwise("x")
    wide = (
        rolled.with_columns(
            *[
                nw.when(nw.col("window") == w).then(value).otherwise(0.0).alias(w)
                for w in ("before", "after")
            ]
        )
        .group_by("metric")
        .agg(nw.col("before").sum(), nw.col("after").sum())
    )
    one_row = tables.leads.select(nw.len().alias("_n"))
    before, after = nw.col("before"), nw.col("after")
    result = (
        metric_grid(one_row, (*VOLUME_METRICS, *COVERAGE_METRICS))
        .join(wide, on="metric", how="left")
        .with_columns(before.fill_null(0.0).cast(FLOAT), after.fill_null(0.0).cast(FLOAT))
        .select(
            "metric",
            "_order",
            nw.lit(days).cast(INT).alias("window_days"),
            "before",
            "after",
            (after - before).cast(FLOAT).alias("difference"),
            nw.when(before > 0).then(after / before).cast(FLOAT).alias("lift"),
        )
        .sort("_order")
        .drop("_order")
    )
    return session.finish(result)  # type: ignore[no-any-return]
