"""Activity KPIs: volume, talk time, connect rates, email engagement, speed to lead.

Definitions follow DESIGN section 3:

- **Touch**: an outbound call, email or meeting (any outcome).
- **Connect**: a connected call, a replied email or a held meeting, either direction.
- **Call connect rate** = connected calls / calls; **talk time** = sum of call
  ``duration_s``.
- **Email rates** over outbound emails: delivered = not bounced; open = outcome in
  {opened, clicked, replied}; click = {clicked, replied}; reply = replied.
- **Speed to lead**: from lead creation (or a web signal) to the first outbound touch
  at or after it; **same-day approach** = an outbound touch dated on the creation
  date (dataset time zone); **next business day** = an outbound touch dated from the
  creation date up to the end of the next business day (Japanese calendar).

Every function takes any narwhals-supported frame, returns the caller's kind of frame,
sorts its rows on the full group keys (nulls last) and ignores rows after the end of
``as_of`` when it is given.

Examples
--------
>>> import pandas as pd
>>> acts = pd.DataFrame({
...     "activity_id": ["a1", "a2", "a3"], "lead_id": ["L1", "L1", None],
...     "owner_id": ["R1", "R1", "R2"], "channel": ["call", "call", "call"],
...     "direction": ["outbound", "outbound", "inbound"],
...     "outcome": ["no_answer", "connected", "connected"],
...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-01 15:00",
...                                    "2025-04-02 11:00"]),
...     "duration_s": [5.0, 300.0, 120.0]})
>>> connect_rate(acts, by="direction")[["direction", "numerator", "denominator", "rate"]]
  direction  numerator  denominator  rate
0   inbound          1            1   1.0
1  outbound          1            2   0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import (
    flag,
    is_call,
    require_columns,
)
from pipelinekit.facts import Facts
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.lead_activity import ResponsePart
from pipelinekit.facts.response import lead_response
from pipelinekit.metrics._lead_frames import (
    CHANNELS,
    DIRECTIONS,
    ORIGINS,
    aggregate,
    check_count,
    check_keys,
    check_keys_present,
    check_option,
    connected_call,
    direction_filter,
    enter_activities,
    enter_leads,
    finish_sorted,
    int_counts,
    optional_cutoff,
    optional_freq,
    with_activity_keys,
    with_one,
    with_period,
    with_rates,
)
from pipelinekit.periods import (
    DEFAULT_COUNTRY,
    Freq,
    check_country,
    check_freq,
    elapsed_seconds,
    next_business_day_start,
)
from pipelinekit.rates import (
    ZeroDivision,
    check_zero_division,
    raise_on_zero_denominator,
)

__all__ = [
    "Signal",
    "TimeUnit",
    "activity_volume",
    "call_connect_sql_chain",
    "connect_rate",
    "email_engagement",
    "next_business_day_rate",
    "same_day_approach_rate",
    "speed_to_lead",
    "talk_time",
]

FrameT = TypeVar("FrameT")
By = str | Sequence[str]
AsOf = date | datetime | str
Signal = Literal["page_view_burst", "link_click", "form_submit"]
TimeUnit = Literal["s", "minutes", "hours", "days"]
EmailDenominator = Literal["delivered", "leads"]

_UNIT_SECONDS: dict[str, float] = {"s": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}
_QUANTILES = (("median", 0.5), ("p75", 0.75), ("p90", 0.9))
_TOUCH_CHANNELS = ("call", "email", "meeting")


# --------------------------------------------------------------------------- activity


def activity_volume(
    activities: FrameT,
    *,
    freq: Freq | None = "day",
    by: By = ("owner_id", "channel", "direction"),
    channels: Sequence[str] = _TOUCH_CHANNELS,
    as_of: AsOf | None = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Number of activities (calls, emails, meetings) per period and group (活動量).

    Parameters
    ----------
    activities
        Canonical activities table; any supported frame. Activities without a lead
        (account-level calls) are counted.
    freq
        ``"day"`` (default), ``"week"``, ``"month"``, ``"quarter"``, ``"year"`` or
        ``None`` for no period column.
    by
        Group columns (default owner, channel, direction); may name the derived
        ``"hour"`` (0-23) and ``"weekday"`` (1 = Monday ... 7 = Sunday).
    channels
        Channels counted; default calls, emails and meetings (not web signals).
    as_of
        Ignore activities after the end of this day; ``None`` keeps every row.
    tz
        Dataset time zone (tz-aware timestamps are converted to it).

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind with the ``by`` columns, ``period`` (if ``freq``),
    ``activity_count`` and ``connect_count`` (activities that are connects).

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1", "L2"], "owner_id": ["R1"] * 3,
    ...     "channel": ["call", "email", "call"], "direction": ["outbound"] * 3,
    ...     "outcome": ["connected", "sent", "busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-01 11:00",
    ...                                    "2025-04-02 09:00"])})
    >>> activity_volume(acts, freq="month", by="channel")
      channel     period  activity_count  connect_count
    0    call 2025-04-01               2              1
    1   email 2025-04-01               1              0
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted = [check_option("channels", c, CHANNELS) for c in check_keys(channels, name="channels")]
    cutoff = optional_cutoff(as_of)
    (lf,), session = _compat.enter([activities], function="activity_volume")
    acts = _activity_rows(facts, lf, cutoff=cutoff, tz=tz, activities=activities)
    acts = acts.filter(nw.col("channel").is_in(wanted).fill_null(value=False))
    acts, group = with_activity_keys(acts, keys, leads=None, freq=period_freq)
    acts = with_one(acts).with_columns(flag(nw.col("is_connect")).alias("connect_count"))
    table = aggregate(
        acts, group, nw.col("_one").sum().alias("activity_count"), nw.col("connect_count").sum()
    )
    table = table.select(*group, *int_counts("activity_count", "connect_count"))
    return finish_sorted(session, table, group)  # type: ignore[no-any-return]


def talk_time(
    activities: FrameT,
    *,
    by: By = ("owner_id",),
    freq: Freq | None = None,
    direction: str | None = None,
    as_of: AsOf | None = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Calls, connects, disconnects and talk time per group (通話時間・接続数・不通数).

    Talk time is the sum of ``duration_s`` over calls (missing durations count as 0).
    ``talk_time_per_call_s`` = talk time / calls; ``talk_time_per_connect_s`` = talk
    time / connected calls (NaN when there are none).

    Parameters
    ----------
    activities
        Canonical activities table; any supported frame.
    by
        Group columns (default ``"owner_id"``); may name ``"hour"`` and ``"weekday"``.
    freq
        Period of ``occurred_at`` (``None``: no period column).
    direction
        ``"outbound"``, ``"inbound"`` or ``None`` (both, default).
    as_of
        Ignore activities after the end of this day; ``None`` keeps every row.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``call_count``, ``connect_count``, ``disconnect_count`` (calls not connected),
    ``talk_time_s``, ``talk_time_per_call_s``, ``talk_time_per_connect_s``.

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1"], "owner_id": ["R1", "R1"],
    ...     "channel": ["call", "call"], "direction": ["outbound", "outbound"],
    ...     "outcome": ["no_answer", "connected"], "duration_s": [10.0, 290.0],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-01 11:00"])})
    >>> talk_time(acts).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'owner_id': 'R1', 'call_count': 2, 'connect_count': 1, 'disconnect_count': 1,
     'talk_time_s': 300.0, 'talk_time_per_call_s': 150.0, 'talk_time_per_connect_s': 300.0}
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted = check_option("direction", direction, DIRECTIONS, optional=True)
    cutoff = optional_cutoff(as_of)
    (lf,), session = _compat.enter([activities], function="talk_time")
    acts = _activity_rows(
        facts, lf, cutoff=cutoff, tz=tz, required=("duration_s",), activities=activities
    )
    calls = acts.filter(nw.col("is_call") & direction_filter(wanted))
    calls, group = with_activity_keys(calls, keys, leads=None, freq=period_freq)
    calls = with_one(calls).with_columns(
        flag(nw.col("is_connected_call")).alias("connect_count"),
        nw.col("duration_s").cast(nw.Float64).fill_null(0.0).alias("talk_time_s"),
    )
    table = aggregate(
        calls,
        group,
        nw.col("_one").sum().alias("call_count"),
        nw.col("connect_count").sum(),
        nw.col("talk_time_s").sum(),
    )
    talk = nw.col("talk_time_s")
    table = table.select(
        *group, *int_counts("call_count", "connect_count"), talk.fill_null(0.0).cast(nw.Float64)
    ).with_columns(
        (nw.col("call_count") - nw.col("connect_count")).cast(nw.Int64).alias("disconnect_count"),
        _per("talk_time_s", "call_count").alias("talk_time_per_call_s"),
        _per("talk_time_s", "connect_count").alias("talk_time_per_connect_s"),
    )
    table = table.select(
        *group,
        "call_count",
        "connect_count",
        "disconnect_count",
        "talk_time_s",
        "talk_time_per_call_s",
        "talk_time_per_connect_s",
    )
    return finish_sorted(session, table, group)  # type: ignore[no-any-return]


def _per(numerator: str, denominator: str) -> nw.Expr:
    """``numerator / denominator`` as Float64, null (NaN) where the denominator is 0."""
    den = nw.col(denominator)
    return (
        nw.when(den > 0)
        .then(nw.col(numerator).cast(nw.Float64) / den.cast(nw.Float64))
        .cast(nw.Float64)
    )


def connect_rate(
    activities: FrameT,
    *,
    by: By = (),
    freq: Freq | None = None,
    direction: str | None = None,
    as_of: AsOf | None = None,
    zero_division: ZeroDivision = "nan",
    leads: Any = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Share of calls that reached the person (接続率).

    Parameters
    ----------
    activities
        Canonical activities table (see the schema page); any supported frame.
        Calls without a lead (account-level BDR calls) are included.
    by
        Columns to group by, e.g. ``"owner_id"`` or ``["owner_id", "direction"]``;
        ``"hour"`` (0-23) and ``"weekday"`` (1 = Monday ... 7 = Sunday) are derived
        from ``occurred_at``, so ``by=("weekday", "hour")`` gives a heatmap-ready table.
        With ``leads``, a lead column such as ``"department"`` (the counterpart's
        department) can be named too; calls without a lead get a missing value.
    freq
        Period of ``occurred_at``: ``"day"``, ``"week"``, ``"month"``, ``"quarter"``,
        ``"year"`` or ``None`` (default, no period column).
    direction
        Only ``"outbound"`` or ``"inbound"`` calls; ``None`` (default) both.
    as_of
        Ignore calls after the end of this day; ``None`` keeps every row.
    zero_division
        Rate of a group without calls: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    leads
        Canonical leads table (same frame library), needed only when ``by`` names a
        lead column; activity columns win over lead columns of the same name.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind with the ``by`` columns, ``period`` (if ``freq``),
    ``numerator`` (connected calls), ``denominator`` (calls), ``rate``, ``ci_low``,
    ``ci_high`` (Wilson 95%).

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1", "L2"], "channel": ["call"] * 3,
    ...     "direction": ["outbound", "outbound", "inbound"],
    ...     "outcome": ["no_answer", "connected", "connected"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-01 15:00",
    ...                                    "2025-04-02 11:00"])})
    >>> connect_rate(acts, by="direction").columns.tolist()
    ['direction', 'numerator', 'denominator', 'rate', 'ci_low', 'ci_high']
    >>> connect_rate(acts, by="hour", direction="outbound")[["hour", "rate"]]
       hour  rate
    0    10   0.0
    1    15   1.0
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted = check_option("direction", direction, DIRECTIONS, optional=True)
    zero_division = check_zero_division(zero_division)
    cutoff = optional_cutoff(as_of)
    frames = [activities] if leads is None else [activities, leads]
    lfs, session = _compat.enter(frames, function="connect_rate")
    acts = _activity_rows(facts, lfs[0], cutoff=cutoff, tz=tz, activities=activities)
    lead_frame = None if leads is None else enter_leads(lfs[1], cutoff=None, tz=tz)
    calls = acts.filter(nw.col("is_call") & direction_filter(wanted))
    calls, group = with_activity_keys(calls, keys, leads=lead_frame, freq=period_freq)
    calls = with_one(calls).with_columns(flag(nw.col("is_connected_call")).alias("numerator"))
    table = aggregate(
        calls, group, nw.col("numerator").sum(), nw.col("_one").sum().alias("denominator")
    )
    table = with_rates(
        table.select(*group, *int_counts("numerator", "denominator")),
        "numerator",
        "denominator",
        zero_division,
    )
    return finish_sorted(session, table, group, zero_division=zero_division)  # type: ignore[no-any-return]


def call_connect_sql_chain(
    activities: FrameT,
    opportunities: Any,
    *,
    freq: Freq = "month",
    direction: str | None = None,
    as_of: AsOf | None = None,
    zero_division: ZeroDivision = "nan",
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Call -> Connect -> SQL per period (架電 → 接続 → 商談化).

    A period view: calls made in the period, connected calls among them, and SQLs
    (opportunities created) in the period. ``connect_rate`` is a proportion with a
    Wilson interval; ``sql_per_connect`` = SQLs / connected calls is a plain ratio
    (SQLs need not come from those calls, so it can exceed 1; ``zero_division``
    applies to it as to the rate).

    Parameters
    ----------
    activities, opportunities
        Canonical tables (same frame library).
    freq
        Period: ``"month"`` (default), ``"day"``, ``"week"``, ``"quarter"``, ``"year"``.
    direction
        Only ``"outbound"`` or ``"inbound"`` calls; ``None`` (default) both.
    as_of
        Ignore calls and opportunities after the end of this day.
    zero_division
        Value for periods without calls (connect rate) or connects (SQL ratio).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: ``period``, ``call_count``, ``connect_count``,
    ``sql_count``, ``connect_rate``, ``connect_ci_low``, ``connect_ci_high``,
    ``sql_per_connect``; one row per period with a call or an SQL.

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1"], "channel": ["call", "call"],
    ...     "direction": ["outbound"] * 2, "outcome": ["busy", "connected"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-02 10:00"])})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L1"],
    ...     "created_at": pd.to_datetime(["2025-05-07 10:00"])})
    >>> call_connect_sql_chain(acts, opps)[["period", "call_count", "connect_count",
    ...                                     "sql_count", "connect_rate"]]
          period  call_count  connect_count  sql_count  connect_rate
    0 2025-04-01           2              1          0           0.5
    1 2025-05-01           0              0          1           NaN
    """
    period_freq = check_freq(freq)
    wanted = check_option("direction", direction, DIRECTIONS, optional=True)
    zero_division = check_zero_division(zero_division)
    cutoff = optional_cutoff(as_of)
    (lf_acts, lf_opps), session = _compat.enter(
        [activities, opportunities], function="call_connect_sql_chain"
    )
    acts = enter_activities(lf_acts, cutoff=cutoff, tz=tz)
    require_columns(lf_opps, "opportunities", ["created_at"])
    opps = _compat.to_local_naive(lf_opps, ["created_at"], tz=tz, table="opportunities")
    if cutoff is not None:
        opps = opps.filter(nw.col("created_at") < cutoff)
    calls, group = with_period(
        acts.filter(is_call() & direction_filter(wanted)), "occurred_at", (), period_freq
    )
    sqls, _ = with_period(opps, "created_at", (), period_freq)
    zero = nw.lit(0).cast(nw.Int64)
    parts = [
        with_one(calls).select(
            "period",
            nw.col("_one").alias("call_count"),
            flag(connected_call()).alias("connect_count"),
            zero.alias("sql_count"),
        ),
        with_one(sqls).select(
            "period",
            zero.alias("call_count"),
            zero.alias("connect_count"),
            nw.col("_one").alias("sql_count"),
        ),
    ]
    names = ("call_count", "connect_count", "sql_count")
    table = (
        nw.concat(parts, how="vertical")
        .group_by("period")
        .agg(*[nw.col(n).sum() for n in names])
        .select("period", *int_counts(*names))
    )
    zero_value = 0.0 if zero_division == "0" else None
    table = with_rates(table, "connect_count", "call_count", zero_division, "connect_")
    table = table.with_columns(
        nw.when(nw.col("connect_count") > 0)
        .then(nw.col("sql_count").cast(nw.Float64) / nw.col("connect_count").cast(nw.Float64))
        .otherwise(zero_value)
        .cast(nw.Float64)
        .alias("sql_per_connect"),
    )
    if zero_division == "raise":
        raise_on_zero_denominator(
            table.collect(), "call_count", "call_connect_sql_chain (no calls)"
        )
        raise_on_zero_denominator(
            table.collect(), "connect_count", "call_connect_sql_chain (no connects)"
        )
    return finish_sorted(session, table, group)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- email

_EMAIL_COUNTS = (
    "sent_count",
    "bounced_count",
    "delivered_count",
    "opened_count",
    "clicked_count",
    "replied_count",
)


def email_engagement(
    activities: FrameT,
    *,
    by: By = (),
    freq: Freq | None = None,
    denominator: EmailDenominator = "delivered",
    as_of: AsOf | None = None,
    zero_division: ZeroDivision = "nan",
    leads: Any = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Delivered emails and open, click and reply rates (メール開封率・クリック率・返信率).

    Outbound emails only (inbound emails are replies, not sends). ``outcome`` is the
    furthest engagement reached, so an email ``clicked`` was also opened.

    Parameters
    ----------
    activities
        Canonical activities table; any supported frame.
    by
        Group columns, e.g. ``"owner_id"``; with ``leads``, lead columns such as
        ``"campaign_id"`` (the lead's campaign) or ``"source"``. May name ``"hour"``
        and ``"weekday"`` (of sending).
    freq
        Period of ``occurred_at`` (``None``: no period column).
    denominator
        ``"delivered"`` (default): the counts are emails and the rates are per
        delivered email. ``"leads"``: the counts are distinct leads (a lead counts as
        opened when any of its delivered emails in the group was opened, and so on);
        emails without a lead are then left out.
    as_of
        Ignore emails after the end of this day; ``None`` keeps every row.
    zero_division
        Rates of a group with nothing delivered: ``"nan"`` (default), ``"0"``,
        ``"raise"``.
    leads
        Canonical leads table, needed only when ``by`` names a lead column.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``sent_count``, ``bounced_count``, ``delivered_count``, ``opened_count``,
    ``clicked_count``, ``replied_count`` and for each of open, click, reply the
    columns ``<name>_rate``, ``<name>_ci_low``, ``<name>_ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1", "L2", "L2"],
    ...     "channel": ["email"] * 4, "direction": ["outbound"] * 3 + ["inbound"],
    ...     "outcome": ["bounced", "clicked", "sent", "replied"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-02",
    ...                                    "2025-04-03"])})
    >>> e = email_engagement(acts)
    >>> e[["sent_count", "delivered_count", "opened_count", "open_rate", "reply_rate"]]
       sent_count  delivered_count  opened_count  open_rate  reply_rate
    0           3                2             1        0.5         0.0
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    mode = check_option("denominator", denominator, get_args(EmailDenominator))
    zero_division = check_zero_division(zero_division)
    cutoff = optional_cutoff(as_of)
    frames = [activities] if leads is None else [activities, leads]
    lfs, session = _compat.enter(frames, function="email_engagement")
    acts = _activity_rows(facts, lfs[0], cutoff=cutoff, tz=tz, activities=activities)
    lead_frame = None if leads is None else enter_leads(lfs[1], cutoff=None, tz=tz)
    emails = acts.filter(nw.col("is_outbound_email"))
    if mode == "leads":
        emails = emails.filter(~nw.col("lead_id").is_null())
    emails, group = with_activity_keys(emails, keys, leads=lead_frame, freq=period_freq)
    emails = emails.with_columns(
        nw.lit(1).cast(nw.Int64).alias("sent_count"),
        flag((nw.col("outcome") == "bounced").fill_null(value=False)).alias("bounced_count"),
        flag(nw.col("is_email_delivered")).alias("delivered_count"),
        flag(nw.col("is_email_opened")).alias("opened_count"),
        flag(nw.col("is_email_clicked")).alias("clicked_count"),
        flag(nw.col("is_email_replied")).alias("replied_count"),
    )
    if mode == "leads":
        # one row per (group, lead): a lead counts once per flag
        emails = emails.group_by(*group, "lead_id").agg(*[nw.col(c).max() for c in _EMAIL_COUNTS])
    table = aggregate(emails, group, *[nw.col(c).sum() for c in _EMAIL_COUNTS])
    table = table.select(*group, *int_counts(*_EMAIL_COUNTS))
    for name, prefix in (("opened", "open_"), ("clicked", "click_"), ("replied", "reply_")):
        table = with_rates(table, f"{name}_count", "delivered_count", zero_division, prefix)
    return finish_sorted(  # type: ignore[no-any-return]
        session, table, group, zero_division=zero_division, denominator="delivered_count"
    )


# --------------------------------------------------------------------------- speed to lead


def _quantile_aggs(
    frame: nw.LazyFrame[Any],
    value: str,
    partition: Sequence[str],
    tiebreak: str,
    quantiles: Sequence[tuple[str, float]],
) -> tuple[nw.LazyFrame[Any], list[nw.Expr], list[nw.Expr]]:
    """Prepare linear-interpolation quantiles (numpy's default method) of ``value``.

    Portable on every engine: ranks come from an ordered cumulative sum, the two
    neighbouring order statistics and the fraction are picked with flags and
    aggregated with ``max``, and the interpolation runs after the aggregation, so
    pandas, polars and DuckDB give the same numbers. Returns the frame with helper
    columns, the aggregations for ``group_by(partition)``, and the expressions that
    compute each quantile (named after the ``quantiles`` names) after it.
    """
    has = flag(~nw.col(value).is_null())
    frame = frame.with_columns(has.alias("_has"))
    order = [value, tiebreak]
    frame = frame.with_columns(
        nw.col("_has").cum_sum().over(*partition, order_by=order).cast(nw.Int64).alias("_rank"),
        nw.col("_has").sum().over(*partition).cast(nw.Int64).alias("_n"),
    )
    aggs: list[nw.Expr] = []
    finals: list[nw.Expr] = []
    index = (nw.col("_rank") - 1).cast(nw.Float64)  # 0-based position among values
    present = nw.col("_has") == 1
    for name, q in quantiles:
        h = (nw.col("_n") - 1).cast(nw.Float64) * q
        low = present & (index <= h) & (index + 1 > h)
        high = present & (index - 1 <= h) & (index > h)
        aggs += [
            nw.when(low).then(nw.col(value)).max().alias(f"_{name}_lo"),
            nw.when(high).then(nw.col(value)).max().alias(f"_{name}_hi"),
            nw.when(low).then(h - index).max().alias(f"_{name}_frac"),
        ]
        lo, hi = nw.col(f"_{name}_lo"), nw.col(f"_{name}_hi")
        finals.append(
            (lo + nw.col(f"_{name}_frac") * (nw.coalesce(hi, lo) - lo)).cast(nw.Float64).alias(name)
        )
    return frame, aggs, finals


def speed_to_lead(
    leads: FrameT,
    activities: Any,
    *,
    signal: Signal | None = None,
    by: By = ("owner_id",),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    unit: TimeUnit = "minutes",
    page_views: int = 5,
    burst_days: int = 14,
    as_of: AsOf | None = None,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Distribution of the time to the first outbound touch (スピード・トゥ・リード).

    The clock starts at lead creation (``signal=None``) or at the lead's first web
    signal: ``"link_click"``, ``"form_submit"`` or ``"page_view_burst"`` (the page view
    completing ``page_views`` page views within ``burst_days`` days). It stops at the
    first outbound call, email or meeting at or after the start; touches before the
    start do not count. Leads not touched yet are counted in ``lead_count`` but have
    no time (they are not in the quantiles).

    Quantiles are linear interpolations between order statistics (numpy's default
    ``"linear"`` method), computed with portable window expressions so every engine
    gives the same numbers.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    signal
        ``None`` (from creation, default), ``"page_view_burst"``, ``"link_click"`` or
        ``"form_submit"``. Leads without the signal are left out.
    by
        Lead columns to group by, e.g. ``"owner_id"`` (default) or ``"source"``.
    freq
        Period of the start time (creation or signal); ``None``: no period column.
    origin
        ``"inbound"`` (default, as DESIGN defines speed to lead), ``"outbound"`` or
        ``None`` for every lead (useful with a web signal).
    unit
        Unit of the times: ``"s"``, ``"minutes"`` (default), ``"hours"``, ``"days"``.
    page_views, burst_days
        Burst definition for ``signal="page_view_burst"`` (default 5 views in 14 days).
    as_of
        Ignore leads and activities after the end of this day.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``lead_count``, ``touched_count``, ``median_<unit>``, ``p75_<unit>``,
    ``p90_<unit>`` (``unit`` ``"s"`` gives ``median_s``).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "owner_id": ["R1"] * 3,
    ...     "origin": ["inbound"] * 3,
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 10:00",
    ...                                   "2025-04-01 11:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["call", "email"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["busy", "sent"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 09:10", "2025-04-01 10:30"])})
    >>> speed_to_lead(leads, acts)  # doctest: +NORMALIZE_WHITESPACE
      owner_id  lead_count  touched_count  median_minutes  p75_minutes  p90_minutes
    0       R1           3              2            20.0         25.0         28.0
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    kind = check_option("signal", signal, get_args(Signal), optional=True)
    wanted_origin = check_option("origin", origin, ORIGINS, optional=True)
    time_unit = check_option("unit", unit, get_args(TimeUnit))
    page_views = check_count("page_views", page_views, minimum=1)
    burst_days = check_count("burst_days", burst_days, minimum=1)
    cutoff = optional_cutoff(as_of)
    (lf_leads, lf_acts), session = _compat.enter([leads, activities], function="speed_to_lead")
    lead_frame = enter_leads(lf_leads, cutoff=cutoff, tz=tz, origin=wanted_origin)
    check_keys_present(keys, lead_frame.collect_schema().names(), name="by")
    acts = enter_activities(
        lf_acts, cutoff=cutoff, tz=tz, required=("activity_id",) if kind else ()
    )
    shared = None if kind is not None else _shared_response(facts, cutoff, tz, leads, activities)
    response = lead_response(
        lead_frame,
        acts,
        signal=kind,
        page_views=page_views,
        burst_days=burst_days,
        per_lead=shared,
    )
    response, group = with_period(response, "start_at", keys, period_freq)
    elapsed = elapsed_seconds(nw.col("start_at"), nw.col("first_touch_at"))
    response = with_one(response).with_columns(
        (elapsed / _UNIT_SECONDS[time_unit]).alias("_elapsed"),
        flag(~nw.col("first_touch_at").is_null()).alias("touched_count"),
    )
    partition = list(group) or ["_all"]
    if not group:
        response = response.with_columns(nw.lit(1).cast(nw.Int64).alias("_all"))
    names = [(f"{name}_{time_unit}", q) for name, q in _QUANTILES]
    response, quantile_aggs, quantile_exprs = _quantile_aggs(
        response, "_elapsed", partition, "lead_id", names
    )
    table = aggregate(
        response,
        group,
        nw.col("_one").sum().alias("lead_count"),
        nw.col("touched_count").sum(),
        *quantile_aggs,
    )
    table = table.select(*group, *int_counts("lead_count", "touched_count"), *quantile_exprs)
    return finish_sorted(session, table, group)  # type: ignore[no-any-return]


def _activity_rows(
    facts: Facts | None,
    frame: nw.LazyFrame[Any],
    *,
    cutoff: datetime | None,
    tz: str,
    required: Sequence[str] = (),
    **tables: Any,
) -> nw.LazyFrame[Any]:
    """The activity fact (flags, calendar fields) of ``frame`` cut at ``cutoff``: the
    report's shared one when ``facts`` covers the native ``tables`` at that day."""
    acts = enter_activities(frame, cutoff=cutoff, tz=tz, required=required)
    if facts is not None and facts.serves(cutoff, tz, **tables):
        return facts.activities()
    return activity_facts(acts, cutoff=None)


def _shared_response(
    facts: Facts | None, cutoff: datetime | None, tz: str, leads: Any, activities: Any
) -> nw.LazyFrame[Any] | None:
    """The report's per-lead response part, when ``facts`` covers these tables."""
    if facts is None or not facts.serves(cutoff, tz, leads=leads, activities=activities):
        return None
    return facts.lead_activity(ResponsePart())


def _approach_rate(
    function: str,
    leads: Any,
    activities: Any,
    *,
    by: By,
    freq: Freq | None,
    origin: str | None,
    as_of: AsOf | None,
    zero_division: ZeroDivision,
    tz: str,
    country: str | None,
    facts: Facts | None,
) -> Any:
    """Share of leads with an outbound touch dated from their creation day up to the
    end of the same day (``country=None``) or of the next business day."""
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted_origin = check_option("origin", origin, ORIGINS, optional=True)
    zero_division = check_zero_division(zero_division)
    if country is not None:
        check_country(country)
    cutoff = optional_cutoff(as_of)
    (lf_leads, lf_acts), session = _compat.enter([leads, activities], function=function)
    lead_frame = enter_leads(lf_leads, cutoff=cutoff, tz=tz, origin=wanted_origin)
    check_keys_present(keys, lead_frame.collect_schema().names(), name="by")
    acts = enter_activities(lf_acts, cutoff=cutoff, tz=tz)
    response = lead_response(
        lead_frame, acts, per_lead=_shared_response(facts, cutoff, tz, leads, activities)
    )
    if country is None:
        deadline = nw.col("day_start") + timedelta(days=1)
    else:
        deadline = next_business_day_start(nw.col("created_at"), country=country) + timedelta(
            days=1
        )
    response = response.with_columns(deadline.cast(nw.Datetime("us")).alias("deadline"))
    if cutoff is not None:
        response = response.filter(nw.col("deadline") <= cutoff)
    response, group = with_period(response, "created_at", keys, period_freq)
    in_time = (nw.col("first_touch_from_day_at") < nw.col("deadline")).fill_null(value=False)
    response = with_one(response).with_columns(flag(in_time).alias("numerator"))
    table = aggregate(
        response, group, nw.col("numerator").sum(), nw.col("_one").sum().alias("denominator")
    )
    table = with_rates(
        table.select(*group, *int_counts("numerator", "denominator")),
        "numerator",
        "denominator",
        zero_division,
    )
    return finish_sorted(session, table, group, zero_division=zero_division)


def same_day_approach_rate(
    leads: FrameT,
    activities: Any,
    *,
    by: By = (),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    as_of: AsOf | None = None,
    zero_division: ZeroDivision = "nan",
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Share of leads with an outbound touch on their creation date (即日アプローチ率).

    The creation date is the calendar day in the dataset time zone: a lead created at
    23:59 and touched at 00:01 the next day was not approached the same day. A touch
    earlier on the creation day than ``created_at`` counts too (as in the report
    summary's ``same_day_approach_rate``).

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    by
        Lead columns to group by (e.g. ``"owner_id"``, ``"source"``); default none.
    freq
        Period of ``created_at``; ``None``: no period column.
    origin
        ``"inbound"`` (default), ``"outbound"`` or ``None`` (every lead).
    as_of
        Leads created and touches made after the end of this day are ignored.
    zero_division
        Rate of a group without leads: ``"nan"`` (default), ``"0"``, ``"raise"``.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``numerator`` (leads approached the same day), ``denominator`` (leads),
    ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "origin": ["inbound"] * 2,
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 23:59"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L2"], "channel": ["call"] * 2,
    ...     "direction": ["outbound"] * 2, "outcome": ["busy", "busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 09:30", "2025-04-02 00:01"])})
    >>> same_day_approach_rate(leads, acts)[["numerator", "denominator", "rate"]]
       numerator  denominator  rate
    0          1            2   0.5
    """
    return _approach_rate(  # type: ignore[no-any-return]
        "same_day_approach_rate",
        leads,
        activities,
        by=by,
        freq=freq,
        origin=origin,
        as_of=as_of,
        zero_division=zero_division,
        tz=tz,
        country=None,
        facts=facts,
    )


def next_business_day_rate(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    by: By = (),
    freq: Freq | None = None,
    origin: str | None = "inbound",
    country: str = DEFAULT_COUNTRY,
    zero_division: ZeroDivision = "nan",
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Share of leads approached by the end of the next business day (翌営業日対応率).

    A lead counts as approached when it has an outbound touch dated from its creation
    date up to the end of the first business day after it (weekends and public
    holidays of ``country`` skipped; Japanese calendar by default). A lead created on
    the Friday before a Monday holiday has until the end of Tuesday. Only leads whose
    deadline has passed by the end of ``as_of`` are counted.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the rate is computed for.
    by
        Lead columns to group by; default none.
    freq
        Period of ``created_at``; ``None``: no period column.
    origin
        ``"inbound"`` (default), ``"outbound"`` or ``None`` (every lead).
    country
        Holiday calendar (a code known to the ``holidays`` package), default ``"JP"``.
    zero_division
        Rate of a group without leads: ``"nan"`` (default), ``"0"``, ``"raise"``.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``numerator``, ``denominator``, ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "origin": ["inbound"],
    ...     "created_at": pd.to_datetime(["2025-01-10 18:00"])})  # Friday; Monday is a holiday
    >>> acts = pd.DataFrame({"lead_id": ["L1"], "channel": ["call"],
    ...     "direction": ["outbound"], "outcome": ["busy"],
    ...     "occurred_at": pd.to_datetime(["2025-01-14 17:00"])})  # Tuesday
    >>> next_business_day_rate(leads, acts, as_of="2025-01-31")["rate"].tolist()
    [1.0]
    """
    return _approach_rate(  # type: ignore[no-any-return]
        "next_business_day_rate",
        leads,
        activities,
        by=by,
        freq=freq,
        origin=origin,
        as_of=as_of,
        zero_division=zero_division,
        tz=tz,
        country=country,
        facts=facts,
    )
