"""The as-of account view shared by the account-level metrics (ABM, BDR, campaigns,
scoring): tables completed with their optional columns, cut at the end of ``as_of``,
activities and opportunities attributed to their own account else their lead's, target
accounts and their tiers, and the typed, sorted hand-back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_confidence, check_single_by
from pipelinekit._exprs import flag, require_columns
from pipelinekit.facts import Facts, shared
from pipelinekit.facts.activities import activity_facts
from pipelinekit.periods import Freq, as_of_cutoff, check_freq, period_start
from pipelinekit.rates import ZeroDivision, check_zero_division, raise_on_zero_denominator

LazyFrame = nw.LazyFrame[Any]

#: Stands in for a missing key value in joins (joins never match nulls).
NULL_KEY = "\x00<null>"
ALL_TIERS = "\x00<all>"

STRING = nw.String()
FLOAT = nw.Float64()
INT = nw.Int64()
TIME = nw.Datetime("us")

LEAD_OPTIONAL: Mapping[str, Any] = {
    "account_id": STRING,
    "owner_id": STRING,
    "campaign_id": STRING,
}
ACTIVITY_OPTIONAL: Mapping[str, Any] = {
    "lead_id": STRING,
    "account_id": STRING,
    "owner_id": STRING,
    "is_key_person": nw.Boolean(),
}
OPPORTUNITY_OPTIONAL: Mapping[str, Any] = {
    "lead_id": STRING,
    "account_id": STRING,
    "owner_id": STRING,
    "validated_at": TIME,
    "closed_at": TIME,
    "is_won": nw.Boolean(),
    "amount": FLOAT,
}


# ----------------------------------------------------------------- shared helpers


def complete(
    frame: LazyFrame, table: str, required: Sequence[str], optional: Mapping[str, Any]
) -> LazyFrame:
    """Check ``required`` columns; add absent ``optional`` columns as typed nulls.

    Identifier columns (``*_id``) among them are cast to strings, so joins work even
    when a column holds only missing values (and so no type of its own).
    """
    require_columns(frame, table, required)
    present = set(frame.collect_schema().names())
    missing = [nw.lit(None, dtype=dt).alias(n) for n, dt in optional.items() if n not in present]
    if missing:
        frame = frame.with_columns(*missing)
    ids = [nw.col(n).cast(nw.String()) for n in [*required, *optional] if n.endswith("_id")]
    return frame.with_columns(*ids) if ids else frame


def null_safe(column: str, alias: str) -> nw.Expr:
    """A string key column with nulls replaced by a sentinel (for joins)."""
    return nw.col(column).cast(nw.String()).fill_null(NULL_KEY).alias(alias)


def restore_null(column: str, alias: str) -> nw.Expr:
    """Undo :func:`null_safe`: the sentinel back to null."""
    return nw.when(nw.col(column) != NULL_KEY).then(nw.col(column)).alias(alias)


def resolve_account(frame: LazyFrame, lead_accounts: LazyFrame | None) -> LazyFrame:
    """Replace ``account_id`` by the row's own account, else its lead's account.

    ``lead_accounts`` has ``lead_id``, ``_lead_account`` and ``_lead_owner``; with
    ``None`` only the row's own account is used. Adds ``_lead_owner``.
    """
    if lead_accounts is None:
        return frame.with_columns(
            nw.col("account_id").cast(nw.String()),
            nw.lit(None, dtype=STRING).alias("_lead_owner"),
        )
    joined = frame.join(lead_accounts, on="lead_id", how="left")
    return joined.with_columns(
        nw.coalesce(nw.col("account_id").cast(nw.String()), nw.col("_lead_account")).alias(
            "account_id"
        )
    ).drop("_lead_account")


def lead_accounts(leads: LazyFrame) -> LazyFrame:
    """``lead_id`` -> the lead's account and owner, for :func:`resolve_account`."""
    return leads.filter(~nw.col("lead_id").is_null()).select(
        nw.col("lead_id"),
        nw.col("account_id").cast(nw.String()).alias("_lead_account"),
        nw.col("owner_id").cast(nw.String()).alias("_lead_owner"),
    )


def as_of_opportunities(opportunities: LazyFrame, cutoff: datetime) -> LazyFrame:
    """Opportunities created by ``cutoff``; validation and closing after it undone.

    Adds ``_won`` (0/1): ``is_won`` true and closed before ``cutoff``.
    """
    validated = nw.col("validated_at")
    closed = nw.col("closed_at")
    won = nw.col("is_won").fill_null(value=False) & (closed < cutoff).fill_null(value=False)
    return opportunities.filter(nw.col("created_at") < cutoff).with_columns(
        nw.when(validated < cutoff).then(validated).alias("validated_at"),
        nw.when(closed < cutoff).then(closed).alias("closed_at"),
        flag(won).alias("_won"),
    )


def with_period(frame: LazyFrame, column: str, freq: Freq | None) -> LazyFrame:
    if freq is None:
        return frame
    return frame.with_columns(period_start(nw.col(column), freq).cast(TIME).alias("period"))


def period_keys(freq: Freq | None) -> list[str]:
    return [] if freq is None else ["period"]


def metric_grid(base: LazyFrame, metrics: Sequence[str]) -> LazyFrame:
    """Every row of ``base`` once per metric, with ``metric`` and its ``_order``."""
    return nw.concat(
        [
            base.with_columns(
                nw.lit(m).cast(nw.String()).alias("metric"), nw.lit(i).cast(INT).alias("_order")
            )
            for i, m in enumerate(metrics)
        ],
        how="vertical",
    )


def checkpoint(frame: LazyFrame, session: engine.Session) -> LazyFrame:
    """Compute ``frame`` now when the caller passed eager frames (lazy inputs stay lazy).

    Later steps read it several times; without this each would repeat its plan.
    """
    return frame.collect().lazy() if session.eager else frame


def sorted_frame(frame: LazyFrame, keys: Sequence[str]) -> LazyFrame:
    """Sort on ``keys`` (nulls last); no keys means a single row, left as is."""
    return frame.sort(list(keys), nulls_last=True) if keys else frame


def check_raise(frame: LazyFrame, zero_division: ZeroDivision, what: str) -> None:
    """With ``zero_division="raise"``, raise if any row has a zero denominator."""
    if zero_division == "raise":
        zero = frame.filter(nw.col("denominator") == 0).select("denominator").collect()
        raise_on_zero_denominator(zero, "denominator", what)


def check_options(
    freq: Freq | None, zero_division: str, as_of: date | datetime | str
) -> tuple[Freq | None, ZeroDivision, datetime]:
    """Validate the options every function here shares; return the as_of cutoff."""
    if freq is not None:
        check_freq(freq)
    return freq, check_zero_division(zero_division), as_of_cutoff(as_of)


# ------------------------------------------------------------- prepared tables


@attrs.frozen
class AccountTables:
    """Leads, activities and opportunities as of a cutoff, accounts resolved."""

    leads: LazyFrame
    activities: LazyFrame
    opportunities: LazyFrame
    #: Per account and day: ``touches``, ``connects``, ``key_person_connects`` (the
    #: activity counts the ABM panels need, one small table instead of 10M rows).
    activity_days: LazyFrame


#: Activity flag -> the daily count of :attr:`AccountTables.activity_days`.
DAILY_COUNTS = {
    "is_touch": "touches",
    "is_connect": "connects",
    "is_key_person_connect": "key_person_connects",
}


def activity_days(activities: LazyFrame) -> LazyFrame:
    """Touches, connects and key-person connects per ``account_id`` and ``day``."""
    counted = activities.select(
        "account_id", "day", *[flag(nw.col(f)).alias(name) for f, name in DAILY_COUNTS.items()]
    )
    return counted.group_by("account_id", "day").agg(
        *[nw.col(name).sum() for name in DAILY_COUNTS.values()]
    )


def prepare(
    leads: LazyFrame,
    activities: LazyFrame,
    opportunities: LazyFrame,
    *,
    cutoff: datetime,
    tz: str,
    activity_rows: LazyFrame | None = None,
) -> AccountTables:
    """The tables as of ``cutoff`` with every event attributed to an account.

    Activities come from the activity fact (``activity_rows`` when the report already
    built it): ``account_id`` is the activity's own account, else its lead's, and
    ``_lead_owner`` the lead's owner.
    """
    leads = complete(leads, "leads", ("lead_id", "created_at"), LEAD_OPTIONAL)
    activities = complete(
        activities,
        "activities",
        ("occurred_at", "channel", "direction", "outcome"),
        ACTIVITY_OPTIONAL,
    )
    opportunities = complete(opportunities, "opportunities", ("created_at",), OPPORTUNITY_OPTIONAL)
    leads = engine.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    activities = engine.to_local_naive(activities, ["occurred_at"], tz=tz, table="activities")
    opportunities = engine.to_local_naive(
        opportunities, ["created_at", "validated_at", "closed_at"], tz=tz, table="opportunities"
    )
    owners = lead_accounts(leads)  # every lead, also those created after as_of
    if activity_rows is None:
        activity_rows = activity_facts(activities, leads, cutoff=cutoff)
    activities = activity_rows.with_columns(
        nw.col("account_key").alias("account_id"), nw.col("lead_owner_id").alias("_lead_owner")
    )
    opportunities = resolve_account(as_of_opportunities(opportunities, cutoff), owners)
    leads = leads.filter(nw.col("created_at") < cutoff).with_columns(
        nw.col("account_id").cast(nw.String())
    )
    return AccountTables(
        leads=leads,
        activities=activities,
        opportunities=opportunities,
        activity_days=activity_days(activities),
    )


def enter_four(
    accounts: Any,
    leads: Any,
    activities: Any,
    opportunities: Any,
    *,
    function: str,
    cutoff: datetime,
    tz: str,
    by_tier: bool,
    facts: Facts | None = None,
) -> tuple[LazyFrame, AccountTables, engine.Session]:
    """Enter the four ABM tables; return target accounts, prepared tables, session.

    The target frame has ``account_id``, ``_tier`` (the tier with a sentinel for
    missing, or one constant when not ``by_tier``) and ``name``.
    """
    (lf_accounts, lf_leads, lf_acts, lf_opps), session = engine.enter(
        [accounts, leads, activities, opportunities], function=function
    )
    same = {"leads": leads, "activities": activities, "opportunities": opportunities}
    serving = facts is not None and facts.serves(cutoff, tz, **same)
    rows = facts.activities() if facts is not None and serving else None
    tables = prepare(lf_leads, lf_acts, lf_opps, cutoff=cutoff, tz=tz, activity_rows=rows)
    if facts is not None and serving:  # prepared once for every ABM table of a report
        prepared = tables
        tables = AccountTables(
            leads=shared(facts, ("abm", "leads", cutoff, tz), lambda: prepared.leads, **same),
            activities=prepared.activities,  # a projection of the shared activity fact
            opportunities=shared(
                facts, ("abm", "opportunities", cutoff, tz), lambda: prepared.opportunities, **same
            ),
            activity_days=shared(
                facts, ("abm", "activity_days", cutoff, tz), lambda: prepared.activity_days, **same
            ),
        )
    return target_accounts(lf_accounts, by_tier=by_tier), tables, session


#: Builds a tier panel: (targets, tables, session, freq, by_tier, zero_division,
#: confidence) -> the panel's lazy frame.
PanelBuild = Callable[
    [LazyFrame, AccountTables, engine.Session, "Freq | None", bool, ZeroDivision, float],
    LazyFrame,
]


def tier_panel(
    build: PanelBuild,
    tables: tuple[Any, Any, Any, Any],
    *,
    function: str,
    freq: Freq | None,
    by: object,
    by_tier: bool | None,
    as_of: date | datetime | str,
    tz: str,
    zero_division: ZeroDivision,
    confidence: float,
    facts: Facts | None,
) -> Any:
    """Validate the options of a per-tier panel, enter the four tables, build, finish.

    ``tables`` are accounts, leads, activities, opportunities; ``by`` groups by
    ``target_tier`` (``by_tier`` is its deprecated spelling).
    """
    freq, zero_division, cutoff = check_options(freq, zero_division, as_of)
    confidence = check_confidence(confidence)
    grouped = check_single_by(
        by, column="target_tier", function=function, old_flag="by_tier", old_value=by_tier
    )
    targets, prepared, session = enter_four(
        *tables, function=function, cutoff=cutoff, tz=tz, by_tier=grouped, facts=facts
    )
    result = build(targets, prepared, session, freq, grouped, zero_division, confidence)
    return session.finish(result)


def target_accounts(accounts: LazyFrame, *, by_tier: bool) -> LazyFrame:
    accounts = complete(
        accounts, "accounts", ("account_id", "is_target"), {"target_tier": STRING, "name": STRING}
    )
    tier = null_safe("target_tier", "_tier") if by_tier else nw.lit(ALL_TIERS).alias("_tier")
    return accounts.filter(nw.col("is_target").fill_null(value=False)).select(
        nw.col("account_id").cast(nw.String()),
        tier,
        nw.col("name").cast(nw.String()),
    )


def tier_sizes(targets: LazyFrame, *, by_tier: bool) -> LazyFrame:
    """``_tier`` and ``target_accounts`` (one row without ``by_tier``, even with no targets)."""
    if by_tier:
        return targets.group_by("_tier").agg(nw.len().cast(INT).alias("target_accounts"))
    return targets.select(nw.len().cast(INT).alias("target_accounts")).with_columns(
        nw.lit(ALL_TIERS).alias("_tier")
    )


#: How an event's own time maps to the bucket it is counted in: (column name, builder
#: of the bucket expression from the time expression). Events with a null bucket drop.
Bucket = tuple[str, Callable[[nw.Expr], nw.Expr]]


def period_bucket(freq: Freq | None) -> Bucket | None:
    """The ``period`` bucket of ``freq`` (``None``: no bucket, one total)."""
    if freq is None:
        return None
    return ("period", lambda at: period_start(at, freq).cast(TIME))


def account_events(
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


def tag_targets(frame: LazyFrame, targets: LazyFrame) -> LazyFrame:
    """Keep only rows on target accounts and add their ``_tier``."""
    return frame.join(targets.select("account_id", "_tier"), on="account_id", how="inner")


def widen(frame: LazyFrame, keys: Sequence[str], columns: Mapping[str, str]) -> LazyFrame:
    """Long (``metric``, ``value``) rows to one column per metric, summed per ``keys``."""
    flagged = frame.with_columns(
        *[
            nw.when(nw.col("metric") == metric).then(nw.col("value")).otherwise(0.0).alias(name)
            for metric, name in columns.items()
        ]
    )
    sums = [nw.col(name).sum() for name in columns.values()]
    return flagged.group_by(*keys).agg(*sums) if keys else flagged.select(*sums)


def tier_output(by_tier: bool) -> list[nw.Expr]:
    return [restore_null("_tier", "target_tier")] if by_tier else []


def sort_keys(by_tier: bool, freq: Freq | None) -> list[str]:
    return [*(["target_tier"] if by_tier else []), *period_keys(freq)]
