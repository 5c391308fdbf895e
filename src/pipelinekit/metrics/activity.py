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
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_confidence
from pipelinekit._exprs import (
    flag,
    is_call,
    require_columns,
)
from pipelinekit.facts import Facts
from pipelinekit.facts.activities import activity_facts
from pipelinekit.metrics._lead_frames import (
    CHANNELS,
    DIRECTIONS,
    aggregate,
    check_keys,
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
    Freq,
    check_freq,
)
from pipelinekit.rates import (
    ZeroDivision,
    check_zero_division,
    raise_on_zero_denominator,
)
from pipelinekit.types import AsOf, By

__all__ = [
    "activity_volume",
    "call_connect_sql_chain",
    "connect_rate",
    "email_engagement",
    "talk_time",
]

FrameT = TypeVar("FrameT")
EmailDenominator = Literal["delivered", "leads"]

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
    confidence: float = 0.95,
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
    confidence
        Level of the Wilson interval (default 0.95).
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
    confidence = check_confidence(confidence)
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
        confidence=confidence,
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
    confidence: float = 0.95,
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
    confidence
        Level of the Wilson interval (default 0.95).
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
    confidence = check_confidence(confidence)
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
    table = with_rates(
        table,
        "connect_count",
        "call_count",
        zero_division,
        "connect_",
        confidence=confidence,
    )
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
    confidence: float = 0.95,
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
    confidence
        Level of the Wilson interval (default 0.95).
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
    confidence = check_confidence(confidence)
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
        table = with_rates(
            table, f"{name}_count", "delivered_count", zero_division, prefix, confidence=confidence
        )
    return finish_sorted(  # type: ignore[no-any-return]
        session, table, group, zero_division=zero_division, denominator="delivered_count"
    )


# --------------------------------------------------------------------------- speed to lead


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
