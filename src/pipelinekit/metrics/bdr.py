"""BDR and nurturing KPIs on target accounts: outbound calls, called accounts, key-person
connects and appointments per BDR and period; appointment rate, 案件化率 and 成約率 of the
target accounts (DESIGN section 3, ABM)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_single_by
from pipelinekit._exprs import flag
from pipelinekit.facts import Facts
from pipelinekit.facts.journey import journey_frames
from pipelinekit.metrics._accounts import (
    FLOAT,
    INT,
    NULL_KEY,
    AccountTables,
    LazyFrame,
    account_events,
    check_options,
    check_raise,
    checkpoint,
    enter_four,
    metric_grid,
    period_bucket,
    period_keys,
    restore_null,
    sort_keys,
    sorted_frame,
    tag_targets,
    tier_output,
    tier_panel,
    tier_sizes,
    widen,
    with_period,
)
from pipelinekit.periods import Freq
from pipelinekit.rates import (
    ZeroDivision,
    rate_columns,
)

__all__ = ["NURTURING_METRICS", "bdr_kpis", "nurturing_kpis"]

FrameT = TypeVar("FrameT")

#: Rates of :func:`nurturing_kpis`: appointment rate, 案件化率, 成約率.
NURTURING_METRICS = ("appointment_rate", "sql_to_valid_rate", "valid_to_won_rate")


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
    by: str | Sequence[str] | None = None,
    freq: Freq | None = None,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
    by_owner: bool | None = None,
) -> FrameT:
    """BDR KPIs on target accounts: outbound calls, key-person connects, appointments.

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    by
        ``"owner_id"``: one row per owner (the activity's owner for calls and
        connects, the lead's owner, the IS/BDR rep who set it, for appointments;
        opportunities without a lead have no owner); ``None`` (default): one row.
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
    by_owner
        Deprecated: use ``by="owner_id"``.
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
    >>> print(bdr_kpis(accounts, leads, acts, opps, by="owner_id", as_of="2025-04-30").to_string())
      owner_id  call_count  called_account_count  key_person_connect_count  appointment_count
    0       R1           1                     1                         1                  1
    1       R2           1                     1                         0                  0
    """
    freq, _, cutoff = check_options(freq, "nan", as_of)
    by_owner = check_single_by(
        by, column="owner_id", function="bdr_kpis", old_flag="by_owner", old_value=by_owner
    )
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
            account_events(
                acts.filter(nw.col("is_outbound_call")),
                "occurred_at",
                "calls",
                bucket=bucket,
                extra=owner,
            ),
            account_events(
                acts.filter(key_person),
                "occurred_at",
                "key_person_connects",
                bucket=bucket,
                extra=owner,
            ),
            account_events(opps, "created_at", "appointments", bucket=bucket, extra=lead_owner),
        ],
        how="vertical",
    )
    keys = [*(["_owner"] if by_owner else []), *period_keys(freq)]
    tagged = checkpoint(tag_targets(events, targets), session)
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
    result = widen(combined, keys, _BDR_COLUMNS).select(
        *out_keys, *[nw.col(c).fill_null(0.0).cast(INT) for c in _BDR_COLUMNS.values()]
    )
    return sorted_frame(result, [*(["owner_id"] if by_owner else []), *period_keys(freq)])


def nurturing_kpis(
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
    """Nurturing KPIs of target accounts: appointment rate, 案件化率, 成約率.

    Parameters
    ----------
    accounts, leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    freq
        ``None`` or a period (``"day"`` ... ``"year"``). Lead rates are grouped by the
        lead's ``created_at`` period and opportunity rates by the opportunity's
        ``created_at`` period (cohorts; their outcomes are counted up to ``as_of``).
    by
        ``"target_tier"``: one block of rows per tier; ``None`` (default): one block.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.
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
    return tier_panel(  # type: ignore[no-any-return]
        _nurturing_kpis,
        (accounts, leads, activities, opportunities),
        function="nurturing_kpis",
        freq=freq,
        by=by,
        by_tier=by_tier,
        as_of=as_of,
        tz=tz,
        zero_division=zero_division,
        confidence=confidence,
        facts=facts,
    )


def _nurturing_kpis(
    targets: LazyFrame,
    tables: AccountTables,
    session: engine.Session,
    freq: Freq | None,
    by_tier: bool,
    zero_division: ZeroDivision,
    confidence: float,
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
        return tag_targets(frame, targets).select(
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
        .with_columns(
            *rate_columns(
                "numerator", "denominator", zero_division=zero_division, confidence=confidence
            )
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
    check_raise(result, zero_division, "nurturing_kpis")
    return result
