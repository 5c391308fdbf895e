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

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_bool, check_positive_int
from pipelinekit._exprs import flag
from pipelinekit.errors import ConfigError
from pipelinekit.facts import Facts
from pipelinekit.facts.journey import journey_frames
from pipelinekit.metrics._accounts import (
    ALL_TIERS,
    FLOAT,
    INT,
    NULL_KEY,
    TIME,
    AccountTables,
    check_options,
    check_raise,
    checkpoint,
    enter_four,
    metric_grid,
    period_keys,
    prepare,
    restore_null,
    sorted_frame,
    tier_sizes,
    with_period,
)
from pipelinekit.periods import Freq, as_of_cutoff, parse_as_of, period_start
from pipelinekit.rates import (
    ZeroDivision,
    rate_columns,
)

__all__ = [
    "COVERAGE_METRICS",
    "NURTURING_METRICS",
    "VOLUME_METRICS",
    "abm_before_after",
    "abm_summary",
    "bdr_kpis",
    "nurturing_kpis",
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
#: Rates of :func:`nurturing_kpis`: appointment rate, 案件化率, 成約率.
NURTURING_METRICS = ("appointment_rate", "sql_to_valid_rate", "valid_to_won_rate")

# --------------------------------------------------------------------- events


#: How an event's own time maps to the bucket it is counted in: (column name, builder
#: of the bucket expression from the time expression). Events with a null bucket drop.
Bucket = tuple[str, Callable[[nw.Expr], nw.Expr]]


def period_bucket(freq: Freq | None) -> Bucket | None:
    """The ``period`` bucket of ``freq`` (``None``: no bucket, one total)."""
    if freq is None:
        return None
    return ("period", lambda at: period_start(at, freq).cast(TIME))


def _event(
    frame: LazyFrame,
    at: str,
    metric: str,
    value: nw.Expr | None = None,
    *,
    bucket: Bucket | None = None,
    extra: Mapping[str, nw.Expr] | None = None,
) -> LazyFrame:
    """Events of one kind summed per account (and bucket and ``extra`` keys).

    Columns: ``account_id``, the ``extra`` keys, the bucket column, ``metric`` and
    ``value`` (the number of events, or the sum of ``value``). Only groups with at
    least one event appear, so a row means "at least one" for the distinct-account
    counts downstream. Summing first keeps the long event table small: one row per
    account and bucket instead of one per activity.
    """
    keys = ["account_id", *(extra or {})]
    columns = [
        nw.col("account_id").cast(nw.String()),
        *[expr.alias(name) for name, expr in (extra or {}).items()],
        (nw.lit(1.0) if value is None else value).cast(FLOAT).alias("value"),
    ]
    rows = frame.select(*columns, nw.col(at).cast(TIME).alias("_at"))
    if bucket is not None:
        name, build = bucket
        rows = rows.with_columns(build(nw.col("_at")).alias(name)).filter(~nw.col(name).is_null())
        keys.append(name)
    return (
        rows.group_by(*keys)
        .agg(nw.col("value").sum())
        .with_columns(nw.lit(metric).cast(nw.String()).alias("metric"))
        .select(*keys, "metric", nw.col("value").cast(FLOAT))
    )


def _events(tables: AccountTables, bucket: Bucket | None = None) -> LazyFrame:
    """Countable events summed per account and bucket: ``account_id``, the bucket
    column, ``metric``, ``value``.

    Metrics: ``leads``, ``touches``, ``connects``, ``key_person_connects``, ``sqls``,
    ``valid_opportunities``, ``won`` and ``won_amount`` (value = amount). Each event
    falls in the bucket of its own time.
    """
    acts, opps = tables.activities, tables.opportunities
    key_person = nw.col("is_key_person_connect")
    won = opps.filter(nw.col("_won") == 1)
    return nw.concat(
        [
            _event(tables.leads, "created_at", "leads", bucket=bucket),
            _event(acts.filter(nw.col("is_touch")), "occurred_at", "touches", bucket=bucket),
            _event(acts.filter(nw.col("is_connect")), "occurred_at", "connects", bucket=bucket),
            _event(acts.filter(key_person), "occurred_at", "key_person_connects", bucket=bucket),
            _event(opps, "created_at", "sqls", bucket=bucket),
            _event(
                opps.filter(~nw.col("validated_at").is_null()),
                "validated_at",
                "valid_opportunities",
                bucket=bucket,
            ),
            _event(won, "closed_at", "won", bucket=bucket),
            _event(
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


def _tag_targets(frame: LazyFrame, targets: LazyFrame) -> LazyFrame:
    """Keep only rows on target accounts and add their ``_tier``."""
    return frame.join(targets.select("account_id", "_tier"), on="account_id", how="inner")


def _widen(frame: LazyFrame, keys: Sequence[str], columns: Mapping[str, str]) -> LazyFrame:
    """Long (``metric``, ``value``) rows to one column per metric, summed per ``keys``."""
    flagged = frame.with_columns(
        *[
            nw.when(nw.col("metric") == metric).then(nw.col("value")).otherwise(0.0).alias(name)
            for metric, name in columns.items()
        ]
    )
    sums = [nw.col(name).sum() for name in columns.values()]
    return flagged.group_by(*keys).agg(*sums) if keys else flagged.select(*sums)


def _tier_output(by_tier: bool) -> list[nw.Expr]:
    return [restore_null("_tier", "target_tier")] if by_tier else []


def _sort_keys(by_tier: bool, freq: Freq | None) -> list[str]:
    return [*(["target_tier"] if by_tier else []), *period_keys(freq)]


# --------------------------------------------------------------- abm_summary


def abm_summary(
    accounts: FrameT,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    freq: Freq | None = None,
    by_tier: bool = False,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    facts: Facts | None = None,
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
    by_tier
        One block of rows per ``target_tier`` (missing tier = its own block).
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone; tz-aware timestamp columns are converted to it.
    zero_division
        Rate when the denominator is 0: ``"nan"`` (default), ``"0"`` or ``"raise"``.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
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
    freq, zero_division, cutoff = check_options(freq, zero_division, as_of)
    check_bool("by_tier", by_tier)
    targets, tables, session = enter_four(
        accounts,
        leads,
        activities,
        opportunities,
        function="abm_summary",
        cutoff=cutoff,
        tz=tz,
        by_tier=by_tier,
        facts=facts,
    )
    result = _abm_summary(targets, tables, session, freq, by_tier, zero_division)
    return session.finish(result)  # type: ignore[no-any-return]


def _abm_summary(
    targets: LazyFrame,
    tables: AccountTables,
    session: engine.Session,
    freq: Freq | None,
    by_tier: bool,
    zero_division: ZeroDivision,
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
        rows.with_columns(*rate_columns("numerator", "denominator", zero_division=zero_division))
        .with_columns(
            nw.when(~is_amount).then(nw.col("ci_low")).cast(FLOAT).alias("ci_low"),
            nw.when(~is_amount).then(nw.col("ci_high")).cast(FLOAT).alias("ci_high"),
        )
        .select(
            *_tier_output(by_tier),
            *keys,
            "metric",
            "_order",
            "numerator",
            "denominator",
            "rate",
            "ci_low",
            "ci_high",
        )
        .sort([*_sort_keys(by_tier, freq), "_order"], nulls_last=True)
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
    per_account = _widen(_tag_targets(_events(tables), targets), ["account_id"], _PANEL_COLUMNS)
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

_BDR_COLUMNS = {
    "calls": "call_count",
    "called_accounts": "called_account_count",
    "key_person_connects": "key_person_connect_count",
    "appointments": "appointment_count",
}


def bdr_kpis(
    accounts: FrameT,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    by_owner: bool = False,
    freq: Freq | None = None,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """BDR KPIs on target accounts: outbound calls, key-person connects, appointments.

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    by_owner
        One row per ``owner_id``: the activity's owner for calls and connects, the
        lead's owner (the IS/BDR rep who set the appointment) for appointments;
        opportunities without a lead have no owner.
    freq
        ``None`` or a period (``"day"`` ... ``"year"``): calls and connects by
        ``occurred_at``, appointments by the opportunity's ``created_at``.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind with (``owner_id``), (``period``) and the Int64 columns
    ``call_count`` (outbound calls to target accounts, with or without a lead),
    ``called_account_count`` (distinct target accounts called),
    ``key_person_connect_count`` (connects with ``is_key_person`` on target accounts)
    and ``appointment_count`` (SQLs whose account is a target). Without ``by_owner``
    and ``freq`` there is exactly one row; otherwise one row per key with any event.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1"], "is_target": [True]})
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "account_id": ["A1"], "owner_id": ["R1"],
    ...                       "created_at": pd.to_datetime(["2025-04-01"])})
    >>> acts = pd.DataFrame({"lead_id": [None, None], "account_id": ["A1", "A1"],
    ...     "owner_id": ["R1", "R2"], "channel": ["call", "call"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["connected", "no_answer"],
    ...     "is_key_person": [True, False],
    ...     "occurred_at": pd.to_datetime(["2025-04-02", "2025-04-03"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-05"])})
    >>> print(bdr_kpis(accounts, leads, acts, opps, by_owner=True, as_of="2025-04-30").to_string())
      owner_id  call_count  called_account_count  key_person_connect_count  appointment_count
    0       R1           1                     1                         1                  1
    1       R2           1                     1                         0                  0
    """
    freq, _, cutoff = check_options(freq, "nan", as_of)
    check_bool("by_owner", by_owner)
    targets, tables, session = enter_four(
        accounts,
        leads,
        activities,
        opportunities,
        function="bdr_kpis",
        cutoff=cutoff,
        tz=tz,
        by_tier=False,
        facts=facts,
    )
    return session.finish(_bdr_kpis(targets, tables, session, by_owner, freq))  # type: ignore[no-any-return]


def _bdr_kpis(
    targets: LazyFrame,
    tables: AccountTables,
    session: engine.Session,
    by_owner: bool,
    freq: Freq | None,
) -> LazyFrame:
    acts, opps = tables.activities, tables.opportunities
    owner = {"_owner": nw.col("owner_id").cast(nw.String()).fill_null(NULL_KEY)}
    lead_owner = {"_owner": nw.col("_lead_owner").cast(nw.String()).fill_null(NULL_KEY)}
    key_person = nw.col("is_key_person_connect")
    bucket = period_bucket(freq)
    events = nw.concat(
        [
            _event(
                acts.filter(nw.col("is_outbound_call")),
                "occurred_at",
                "calls",
                bucket=bucket,
                extra=owner,
            ),
            _event(
                acts.filter(key_person),
                "occurred_at",
                "key_person_connects",
                bucket=bucket,
                extra=owner,
            ),
            _event(opps, "created_at", "appointments", bucket=bucket, extra=lead_owner),
        ],
        how="vertical",
    )
    keys = [*(["_owner"] if by_owner else []), *period_keys(freq)]
    tagged = checkpoint(_tag_targets(events, targets), session)
    called = (
        tagged.filter(nw.col("metric") == "calls")
        .select("account_id", *keys)
        .unique()
        .with_columns(
            nw.lit("called_accounts").cast(nw.String()).alias("metric"),
            nw.lit(1.0).cast(FLOAT).alias("value"),
        )
    )
    columns = ["metric", "value", *keys]
    combined = nw.concat([tagged.select(columns), called.select(columns)], how="vertical")
    out_keys = [
        *([restore_null("_owner", "owner_id")] if by_owner else []),
        *[nw.col(k) for k in period_keys(freq)],
    ]
    result = _widen(combined, keys, _BDR_COLUMNS).select(
        *out_keys, *[nw.col(c).fill_null(0.0).cast(INT) for c in _BDR_COLUMNS.values()]
    )
    return sorted_frame(result, [*(["owner_id"] if by_owner else []), *period_keys(freq)])


# -------------------------------------------------------------- nurturing_kpis


def nurturing_kpis(
    accounts: FrameT,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    freq: Freq | None = None,
    by_tier: bool = False,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    facts: Facts | None = None,
) -> FrameT:
    """Nurturing KPIs of target accounts: appointment rate, 案件化率, 成約率.

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    freq
        ``None`` or a period (``"day"`` ... ``"year"``). Lead rates are grouped by the
        lead's ``created_at`` period and opportunity rates by the opportunity's
        ``created_at`` period (cohorts; their outcomes are counted up to ``as_of``).
    by_tier
        One block of rows per ``target_tier``.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.
    zero_division
        Rate when the denominator is 0: ``"nan"`` (default), ``"0"`` or ``"raise"``.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind, one row per (``target_tier``), (``period``) and
    ``metric`` with Int64 ``numerator`` and ``denominator`` and ``rate``, ``ci_low``,
    ``ci_high``:

    - ``appointment_rate`` (アポ率): leads of target accounts with an SQL (appointments)
      / leads approached (an outbound touch or an SQL: an SQL implies the approach);
    - ``sql_to_valid_rate`` (案件化率): valid opportunities / SQLs of target accounts;
    - ``valid_to_won_rate`` (成約率): won valid opportunities / valid opportunities.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"account_id": ["A1"], "is_target": [True]})
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "account_id": ["A1", "A1"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-01"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["call", "email"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["connected", "sent"],
    ...     "occurred_at": pd.to_datetime(["2025-04-02", "2025-04-02"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-05"]),
    ...     "validated_at": pd.to_datetime(["2025-04-08"]), "is_won": [True],
    ...     "closed_at": pd.to_datetime(["2025-04-20"]), "amount": [1e6]})
    >>> nurturing_kpis(accounts, leads, acts, opps, as_of="2025-04-30")[
    ...     ["metric", "numerator", "denominator", "rate"]]
                  metric  numerator  denominator  rate
    0   appointment_rate          1            2   0.5
    1  sql_to_valid_rate          1            1   1.0
    2  valid_to_won_rate          1            1   1.0
    """
    freq, zero_division, cutoff = check_options(freq, zero_division, as_of)
    check_bool("by_tier", by_tier)
    targets, tables, session = enter_four(
        accounts,
        leads,
        activities,
        opportunities,
        function="nurturing_kpis",
        cutoff=cutoff,
        tz=tz,
        by_tier=by_tier,
        facts=facts,
    )
    result = _nurturing_kpis(targets, tables, session, freq, by_tier, zero_division)
    return session.finish(result)  # type: ignore[no-any-return]


def _nurturing_kpis(
    targets: LazyFrame,
    tables: AccountTables,
    session: engine.Session,
    freq: Freq | None,
    by_tier: bool,
    zero_division: ZeroDivision,
) -> LazyFrame:
    keys = period_keys(freq)
    lead_rows = with_period(
        journey_frames(tables.leads, tables.activities, tables.opportunities), "created_at", freq
    )
    lead_rows = checkpoint(lead_rows, session)
    opp_rows = checkpoint(with_period(tables.opportunities, "created_at", freq), session)
    sql = ~nw.col("sql_at").is_null()
    approached = sql | ~nw.col("first_touch_at").is_null()
    valid = ~nw.col("validated_at").is_null()
    won_valid = valid & (nw.col("_won") == 1)

    def part(frame: LazyFrame, metric: str, numerator: nw.Expr, denominator: nw.Expr) -> LazyFrame:
        return _tag_targets(frame, targets).select(
            "_tier",
            *keys,
            nw.lit(metric).cast(nw.String()).alias("metric"),
            flag(numerator).alias("numerator"),
            flag(denominator).alias("denominator"),
        )

    counts = (
        nw.concat(
            [
                part(lead_rows, "appointment_rate", sql, approached),
                part(opp_rows, "sql_to_valid_rate", valid, nw.lit(value=True)),
                part(opp_rows, "valid_to_won_rate", won_valid, valid),
            ],
            how="vertical",
        )
        .group_by("_tier", *keys, "metric")
        .agg(nw.col("numerator").sum(), nw.col("denominator").sum())
    )
    base = tier_sizes(targets, by_tier=by_tier)
    if freq is not None:
        periods = nw.concat(
            [lead_rows.select("period"), opp_rows.select("period")], how="vertical"
        ).unique()
        base = base.join(periods, how="cross")
    result = (
        metric_grid(base, NURTURING_METRICS)
        .join(counts, on=["_tier", *keys, "metric"], how="left")
        .with_columns(
            nw.col("numerator").fill_null(0).cast(INT),
            nw.col("denominator").fill_null(0).cast(INT),
        )
        .with_columns(*rate_columns("numerator", "denominator", zero_division=zero_division))
        .select(
            *_tier_output(by_tier),
            *keys,
            "metric",
            "_order",
            "numerator",
            "denominator",
            "rate",
            "ci_low",
            "ci_high",
        )
        .sort([*_sort_keys(by_tier, freq), "_order"], nulls_last=True)
        .drop("_order")
    )
    check_raise(result, zero_division, "nurturing_kpis")
    return result


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
