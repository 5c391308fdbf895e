"""Work queues as of a day: tables a rep or a manager can act on, sorted by urgency.

Every queue looks at the data as of the end of ``as_of`` (leads created and
activities made later are ignored) and filters leads on their current
``action_status`` (the CRM snapshot: statuses carry no history). Each row is one lead
with its context columns (``lead_id``, ``owner_id``, ``account_id``, ``created_at``,
``origin``, ``source``, ``campaign_id``, ``action_status``, ``priority``, those
present), the queue's own columns and ``last_touch_at`` (latest outbound touch).

=========================  ============================================  =================  ========
queue                      a lead is in it when                          first rows         monotone
=========================  ============================================  =================  ========
``untouched_inbound``      inbound, not touched since its creation day   newest lead        no
``overdue_next_activity``  ``next_activity_on`` before ``as_of``         most overdue       yes
``focus_due``              focus, ``next_activity_on`` <= ``as_of`` +   earliest due       yes
                           ``horizon_days``
``do_not_pursue_review``   ``no_action_needed`` or                       latest activity    yes
                           ``not_pursued_after_connect``
``recycle_due``            ``recycle_on`` on or before ``as_of``         longest due        yes
``hot_leads``              >= N page views or a link click in the        latest signal      no
                           lookback, after its last touch
=========================  ============================================  =================  ========

Ties are broken by ``lead_id``.

*Monotone* queues only grow as ``as_of`` moves later on the same data (a lead, once
in, stays in); the others also lose leads (a touch takes a lead out of
``untouched_inbound`` and ``hot_leads``, and the lookback slides).

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "owner_id": ["R1", "R2"],
...     "action_status": ["working", "working"],
...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-02 09:00"]),
...     "next_activity_on": pd.to_datetime(["2025-04-10", "2025-04-30"])})
>>> acts = pd.DataFrame({"lead_id": ["L1"], "channel": ["call"], "direction": ["outbound"],
...     "outcome": ["busy"], "occurred_at": pd.to_datetime(["2025-04-03 10:00"])})
>>> q = overdue_next_activity(leads, acts, as_of="2025-04-20")
>>> q[["lead_id", "next_activity_on", "overdue_days", "last_touch_at"]]
  lead_id next_activity_on  overdue_days       last_touch_at
0      L1       2025-04-10            10 2025-04-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._exprs import flag, require_columns, when_flag
from pipelinekit.errors import ConfigError
from pipelinekit.facts import Facts
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.lead_activity import (
    JourneyPart,
    LastTouchPart,
    LeadActivityPart,
    ResponsePart,
    lead_activity,
)
from pipelinekit.facts.response import lead_response
from pipelinekit.metrics._lead_frames import (
    check_count,
    check_keys,
    check_keys_present,
    check_statuses,
    enter_activities,
    enter_leads,
    finish_sorted,
    int_counts,
    optional_freq,
    with_one,
    with_period,
)
from pipelinekit.periods import Freq, as_of_cutoff, elapsed_seconds
from pipelinekit.types import AsOf

__all__ = [
    "QUEUES",
    "do_not_pursue_review",
    "focus_due",
    "hot_leads",
    "overdue_next_activity",
    "queue_counts",
    "recycle_due",
    "recycle_reasons",
    "untouched_inbound",
]

FrameT = TypeVar("FrameT")

#: Lead columns shown first in every queue (those present).
CONTEXT_COLUMNS = (
    "lead_id",
    "owner_id",
    "account_id",
    "created_at",
    "origin",
    "source",
    "campaign_id",
    "action_status",
    "priority",
)
#: Statuses a rep still works on.
OPEN_STATUSES = ("new", "working", "connected")
#: Statuses a manager reviews in :func:`do_not_pursue_review`.
DO_NOT_PURSUE_STATUSES = ("no_action_needed", "not_pursued_after_connect")
#: Every status except ``qualified`` and ``disqualified`` (for hot leads).
HOT_STATUSES = (
    "new",
    "working",
    "connected",
    "no_action_needed",
    "not_pursued_after_connect",
    "recycled",
)

_DAY_S = 86_400.0


@attrs.frozen
class _Inputs:
    """The entered, as-of-filtered tables a queue is computed from."""

    leads: nw.LazyFrame[Any]
    activities: nw.LazyFrame[Any]
    cutoff: datetime
    #: The report's shared per-lead activity parts, when it passes its facts.
    shared_parts: Callable[[Sequence[LeadActivityPart]], nw.LazyFrame[Any]] | None = None

    def per_lead(
        self, leads: nw.LazyFrame[Any], parts: Sequence[LeadActivityPart]
    ) -> nw.LazyFrame[Any]:
        """The activity ``parts`` of ``leads`` (shared facts, or these leads' own)."""
        if self.shared_parts is not None:
            return self.shared_parts(parts)
        # only the activities of these leads (a queue's leads are a small share of all):
        # a semi-join is much cheaper than grouping every activity
        own = self.activities.filter(~nw.col("lead_id").is_null()).join(
            leads.select("lead_id"), on="lead_id", how="semi"
        )
        return lead_activity(activity_facts(own, leads, cutoff=None), parts)

    @property
    def day(self) -> datetime:
        """Midnight at the start of the ``as_of`` day."""
        return self.cutoff - timedelta(days=1)


def _enter(
    function: str,
    leads: Any,
    activities: Any,
    *,
    as_of: AsOf,
    tz: str,
    statuses: Sequence[str] | None,
    required: Sequence[str] = (),
    origin: str | None = None,
    facts: Facts | None = None,
) -> tuple[_Inputs, engine.Session]:
    cutoff = as_of_cutoff(as_of)
    wanted = check_statuses("statuses", statuses)
    (lf_leads, lf_acts), session = engine.enter([leads, activities], function=function)
    lead_frame = enter_leads(
        lf_leads, cutoff=cutoff, tz=tz, required=required, origin=origin, statuses=wanted
    )
    acts = enter_activities(lf_acts, cutoff=cutoff, tz=tz)
    shared_parts = _shared_parts(facts, cutoff, tz, leads=leads, activities=activities)
    return _Inputs(lead_frame, acts, cutoff, shared_parts), session


def _shared_parts(
    facts: Facts | None, cutoff: datetime, tz: str, **tables: Any
) -> Callable[[Sequence[LeadActivityPart]], nw.LazyFrame[Any]] | None:
    """The report's per-lead parts when ``facts`` covers these tables at this day."""
    if facts is None or not facts.serves(cutoff, tz, **tables):
        return None
    return lambda parts: facts.lead_activity(*parts)


def _last_touch(leads: nw.LazyFrame[Any], inputs: _Inputs) -> nw.LazyFrame[Any]:
    """``leads`` plus ``last_touch_at``, ``touch_count`` and ``connect_count``."""
    per_lead = inputs.per_lead(leads, [LastTouchPart(), JourneyPart()]).select(
        "lead_id", "last_touch_at", "touch_count", "connect_count"
    )
    return leads.join(per_lead, on="lead_id", how="left").with_columns(
        nw.col("last_touch_at").cast(nw.Datetime("us")), *int_counts("touch_count", "connect_count")
    )


def _days_between(start: nw.Expr, end: nw.Expr) -> nw.Expr:
    """Whole days from ``start`` to ``end`` (both midnight timestamps), Int64."""
    return (elapsed_seconds(start, end) / _DAY_S).round(0).cast(nw.Int64)


def _output(
    session: engine.Session,
    frame: nw.LazyFrame[Any],
    columns: Sequence[str],
    order: Sequence[str],
    *,
    descending: Sequence[bool] | None = None,
    context: Sequence[str] = CONTEXT_COLUMNS,
) -> Any:
    """Context columns (those present), then ``columns``, sorted by ``order`` + lead_id."""
    present = frame.collect_schema().names()
    shown = [c for c in context if c in present and c not in columns]
    frame = frame.select(*shown, *columns)
    keys = [*order, "lead_id"]
    flags = [*(descending or [False] * len(order)), False]
    return finish_sorted(session, frame, keys, descending=flags)


# --------------------------------------------------------------------------- queues


def _untouched_inbound(inputs: _Inputs, lookback_days: int | None = None) -> nw.LazyFrame[Any]:
    leads = inputs.leads
    if lookback_days is not None:
        leads = leads.filter(nw.col("created_at") >= inputs.cutoff - timedelta(days=lookback_days))
    response = lead_response(
        leads, inputs.activities, per_lead=inputs.per_lead(leads, [ResponsePart()])
    )
    waiting = elapsed_seconds(nw.col("created_at"), nw.lit(inputs.cutoff)) / 3600.0
    return _last_touch(
        response.filter(nw.col("first_touch_from_day_at").is_null()), inputs
    ).with_columns(waiting.cast(nw.Float64).alias("waiting_hours"))


def untouched_inbound(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    lookback_days: int | None = None,
    statuses: Sequence[str] | None = ("new", "working"),
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Inbound leads not touched on their creation day and still waiting (未対応インバウンド).

    A lead is in the queue when it was created by the end of ``as_of`` and has no
    outbound call, email or meeting dated from its creation day to the end of
    ``as_of``: it was not approached on its creation day and has not been since
    (leads touched later left the queue when they were touched; see
    :func:`~pipelinekit.metrics.approach.same_day_approach_rate` for the history).
    Leads created on ``as_of`` itself are included: they are the ones to call today.
    Newest first: the chance to reach an inbound lead falls fastest in its first hours.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the queue is for.
    lookback_days
        Only leads created in the last ``lookback_days`` days up to the end of
        ``as_of`` (``None``, the default: every lead still waiting).
    statuses
        Lead ``action_status`` values kept (default ``new`` and ``working``);
        ``None`` keeps every status.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: context columns, ``waiting_hours`` (from
    ``created_at`` to the end of ``as_of``), ``last_touch_at`` (a touch before the
    creation day, if any); newest first.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "origin": ["inbound"] * 2,
    ...     "action_status": ["new"] * 2,
    ...     "created_at": pd.to_datetime(["2025-04-01 23:59", "2025-04-02 09:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L2"], "channel": ["call"],
    ...     "direction": ["outbound"], "outcome": ["busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-02 09:30"])})
    >>> untouched_inbound(leads, acts, as_of="2025-04-02")[["lead_id", "waiting_hours"]]
      lead_id  waiting_hours
    0      L1       24.01...
    """
    lookback = (
        None if lookback_days is None else check_count("lookback_days", lookback_days, minimum=1)
    )
    inputs, session = _enter(
        "untouched_inbound",
        leads,
        activities,
        as_of=as_of,
        tz=tz,
        statuses=statuses,
        origin="inbound",
        facts=facts,
    )
    return _output(  # type: ignore[no-any-return]
        session,
        _untouched_inbound(inputs, lookback),
        ["waiting_hours", "last_touch_at"],
        ["created_at"],
        descending=[True],
    )


def _overdue_next_activity(inputs: _Inputs) -> nw.LazyFrame[Any]:
    due = nw.col("next_activity_on")
    overdue = inputs.leads.filter((due < inputs.day).fill_null(value=False))
    return _last_touch(overdue, inputs).with_columns(
        _days_between(due, nw.lit(inputs.day)).alias("overdue_days")
    )


def overdue_next_activity(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    statuses: Sequence[str] | None = OPEN_STATUSES,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Leads whose planned next activity date has passed (次回アクション期限切れ).

    ``next_activity_on`` strictly before ``as_of`` (an activity due on ``as_of`` is
    due, not overdue). Monotone in ``as_of``.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the queue is for.
    statuses
        Lead ``action_status`` values kept (default ``new``, ``working``,
        ``connected``); ``None`` keeps every status.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: context columns, ``next_activity_on``,
    ``overdue_days``, ``last_touch_at``; most overdue first.

    Examples
    --------
    >>> import pipelinekit as pk
    >>> ds = pk.sample_dataset()
    >>> q = overdue_next_activity(ds.leads, ds.activities, as_of="2025-12-31")
    >>> bool((q["overdue_days"] > 0).all())
    True
    """
    inputs, session = _enter(
        "overdue_next_activity",
        leads,
        activities,
        as_of=as_of,
        tz=tz,
        statuses=statuses,
        required=("next_activity_on",),
        facts=facts,
    )
    return _output(  # type: ignore[no-any-return]
        session,
        _overdue_next_activity(inputs),
        ["next_activity_on", "overdue_days", "last_touch_at"],
        ["next_activity_on"],
    )


def _focus_due(inputs: _Inputs, horizon_days: int) -> nw.LazyFrame[Any]:
    due = nw.col("next_activity_on")
    limit = inputs.day + timedelta(days=horizon_days)
    focus = (nw.col("priority") == "focus").fill_null(value=False)
    selected = inputs.leads.filter(focus & (due <= limit).fill_null(value=False))
    return _last_touch(selected, inputs).with_columns(
        _days_between(nw.lit(inputs.day), due).alias("due_in_days")
    )


def focus_due(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    horizon_days: int = 60,
    statuses: Sequence[str] | None = OPEN_STATUSES,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Focus leads whose next activity is due within ``horizon_days`` (注力リード).

    ``priority`` is ``focus`` and ``next_activity_on`` <= ``as_of`` +
    ``horizon_days`` days, overdue ones included (negative ``due_in_days``); focus
    leads without a next activity date are not listed. Monotone in ``as_of``.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the queue is for.
    horizon_days
        How far ahead to look (default 60 days).
    statuses
        Lead ``action_status`` values kept (default ``new``, ``working``,
        ``connected``); ``None`` keeps every status.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: context columns, ``next_activity_on``,
    ``due_in_days``, ``last_touch_at``; earliest due first.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "priority": ["focus"] * 3,
    ...     "action_status": ["working"] * 3,
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 3),
    ...     "next_activity_on": pd.to_datetime(["2025-06-18", "2025-04-18", "2025-06-20"])})
    >>> acts = leads.iloc[:0][["lead_id"]].assign(channel="", direction="", outcome="",
    ...     occurred_at=pd.to_datetime([]))
    >>> focus_due(leads, acts, as_of="2025-04-20")[["lead_id", "due_in_days"]]
      lead_id  due_in_days
    0      L2           -2
    1      L1           59
    """
    horizon = check_count("horizon_days", horizon_days, minimum=0)
    inputs, session = _enter(
        "focus_due",
        leads,
        activities,
        as_of=as_of,
        tz=tz,
        statuses=statuses,
        required=("next_activity_on", "priority"),
        facts=facts,
    )
    return _output(  # type: ignore[no-any-return]
        session,
        _focus_due(inputs, horizon),
        ["next_activity_on", "due_in_days", "last_touch_at"],
        ["next_activity_on"],
    )


_LAST_ACTIVITY = ("channel", "direction", "outcome")


def _do_not_pursue_review(inputs: _Inputs) -> nw.LazyFrame[Any]:
    # rank only the reviewed leads' activities (the ordered window sorts its input)
    own = inputs.activities.filter(~nw.col("lead_id").is_null()).join(
        inputs.leads.select("lead_id"), on="lead_id", how="semi"
    )
    acts = with_one(own)
    acts = acts.with_columns(
        nw.col("_one")
        .cum_sum()
        .over("lead_id", order_by=["occurred_at", "activity_id"])
        .cast(nw.Int64)
        .alias("_rank"),
        nw.col("_one").sum().over("lead_id").cast(nw.Int64).alias("_n"),
    )
    last = acts.filter(nw.col("_rank") == nw.col("_n")).select(
        "lead_id",
        nw.col("occurred_at").alias("last_activity_at"),
        *[nw.col(c).alias(f"last_activity_{c}") for c in _LAST_ACTIVITY],
    )
    reviewed = _last_touch(inputs.leads, inputs)
    return reviewed.join(last, on="lead_id", how="left").with_columns(
        nw.col("last_activity_at").cast(nw.Datetime("us"))
    )


def do_not_pursue_review(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    statuses: Sequence[str] | None = DO_NOT_PURSUE_STATUSES,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Leads marked not to pursue, for a manager's review (対応不要リードの確認).

    Both ``no_action_needed`` (not pursued before a connect) and
    ``not_pursued_after_connect`` by default. Every lead column is kept (memo-like
    fields such as ``recycle_reason``, ``department``, ``title`` and any extra
    columns of the export, e.g. a memo), followed by the last activity on the lead
    (any channel or direction) and the touch and connect counts. Monotone in
    ``as_of``.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library); activities need ``activity_id`` (it
        orders activities at the same time).
    as_of
        Required: the day the list is for.
    statuses
        Lead ``action_status`` values listed.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: the lead's columns, ``last_activity_at``,
    ``last_activity_channel``, ``last_activity_direction``,
    ``last_activity_outcome``, ``last_touch_at``, ``touch_count``,
    ``connect_count``; most recent last activity first (leads without activity last).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "memo": ["student", "competitor"],
    ...     "action_status": ["no_action_needed", "not_pursued_after_connect"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"])})
    >>> acts = pd.DataFrame({"activity_id": ["a1", "a2"], "lead_id": ["L2", "L2"],
    ...     "channel": ["call", "email"], "direction": ["outbound", "inbound"],
    ...     "outcome": ["connected", "replied"],
    ...     "occurred_at": pd.to_datetime(["2025-04-03 10:00", "2025-04-04 10:00"])})
    >>> r = do_not_pursue_review(leads, acts, as_of="2025-04-30")
    >>> r[["lead_id", "memo", "last_activity_channel", "touch_count", "connect_count"]]
      lead_id        memo last_activity_channel  touch_count  connect_count
    0      L2  competitor                 email            1              2
    1      L1     student                   NaN            0              0
    """
    inputs, session = _enter(
        "do_not_pursue_review",
        leads,
        activities,
        as_of=as_of,
        tz=tz,
        statuses=statuses,
        facts=facts,
    )
    require_columns(inputs.activities, "activities", ["activity_id"])
    lead_columns = inputs.leads.collect_schema().names()
    added = [
        "last_activity_at",
        *[f"last_activity_{c}" for c in _LAST_ACTIVITY],
        "last_touch_at",
        "touch_count",
        "connect_count",
    ]
    return _output(  # type: ignore[no-any-return]
        session,
        _do_not_pursue_review(inputs),
        [*[c for c in lead_columns if c not in added], *added],
        ["last_activity_at"],
        descending=[True],
        context=(),
    )


def _recycle_due(inputs: _Inputs) -> nw.LazyFrame[Any]:
    due = nw.col("recycle_on")
    selected = inputs.leads.filter((due <= inputs.day).fill_null(value=False))
    return _last_touch(selected, inputs).with_columns(
        _days_between(due, nw.lit(inputs.day)).alias("days_since_due")
    )


def recycle_due(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    statuses: Sequence[str] | None = ("recycled",),
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Recycled leads whose ``recycle_on`` date has been reached (リサイクル対象).

    ``recycle_on`` on or before ``as_of``. Monotone in ``as_of``. See
    :func:`recycle_reasons` for the reason counts.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the queue is for.
    statuses
        Lead ``action_status`` values kept (default ``recycled``); ``None`` keeps
        every lead with a ``recycle_on`` date.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: context columns, ``recycle_on``, ``recycle_reason``,
    ``days_since_due``, ``last_touch_at``; longest due first.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "action_status": ["recycled"] * 2,
    ...     "created_at": pd.to_datetime(["2025-01-10", "2025-01-11"]),
    ...     "recycle_on": pd.to_datetime(["2025-04-20", "2025-04-21"]),
    ...     "recycle_reason": ["timing", "budget"]})
    >>> acts = leads.iloc[:0][["lead_id"]].assign(channel="", direction="", outcome="",
    ...     occurred_at=pd.to_datetime([]))
    >>> recycle_due(leads, acts, as_of="2025-04-20")[["lead_id", "recycle_reason",
    ...                                               "days_since_due"]]
      lead_id recycle_reason  days_since_due
    0      L1         timing               0
    """
    inputs, session = _enter(
        "recycle_due",
        leads,
        activities,
        as_of=as_of,
        tz=tz,
        statuses=statuses,
        required=("recycle_on", "recycle_reason"),
        facts=facts,
    )
    return _output(  # type: ignore[no-any-return]
        session,
        _recycle_due(inputs),
        ["recycle_on", "recycle_reason", "days_since_due", "last_touch_at"],
        ["recycle_on"],
    )


def recycle_reasons(
    leads: FrameT,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = (),
    freq: Freq | None = None,
    statuses: Sequence[str] | None = ("recycled",),
    due_only: bool = False,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """How often each ``recycle_reason`` occurs, for marketing feedback (リサイクル理由).

    Parameters
    ----------
    leads
        Canonical leads table; any supported frame.
    as_of
        Required: leads created after the end of this day are ignored.
    by
        Lead columns to break the counts down by, e.g. ``"source"`` or
        ``"campaign_id"``; default none.
    freq
        Period of ``created_at``; ``None``: no period column.
    statuses
        Lead ``action_status`` values counted (default ``recycled``); ``None``: all.
    due_only
        Count only leads whose ``recycle_on`` is reached by ``as_of`` (the
        :func:`recycle_due` leads).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``recycle_reason`` (missing reasons as their own row), ``lead_count`` and
    ``share`` (of the leads in the same ``by`` / period group); most frequent first.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "action_status": ["recycled"] * 3,
    ...     "created_at": pd.to_datetime(["2025-01-10"] * 3),
    ...     "recycle_on": pd.to_datetime(["2025-04-20"] * 3),
    ...     "recycle_reason": ["timing", "budget", "timing"]})
    >>> recycle_reasons(leads, as_of="2025-04-30")
      recycle_reason  lead_count     share
    0         timing           2  0.666667
    1         budget           1  0.333333
    """
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    wanted = check_statuses("statuses", statuses)
    if not isinstance(due_only, bool):
        raise ConfigError(f"due_only must be True or False; got {due_only!r}")
    cutoff = as_of_cutoff(as_of)
    (lf,), session = engine.enter([leads], function="recycle_reasons")
    frame = enter_leads(
        lf, cutoff=cutoff, tz=tz, required=("recycle_on", "recycle_reason"), statuses=wanted
    )
    check_keys_present(keys, frame.collect_schema().names(), name="by")
    if due_only:
        frame = frame.filter((nw.col("recycle_on") < cutoff).fill_null(value=False))
    frame, group = with_period(frame, "created_at", keys, period_freq)
    partition = list(group) or ["_all"]
    table = (
        with_one(frame)
        .with_columns(nw.lit(1).cast(nw.Int64).alias("_all"))
        .group_by(*partition, "recycle_reason")
        .agg(nw.col("_one").sum().alias("lead_count"))
        .with_columns(nw.col("lead_count").sum().over(*partition).alias("_total"))
        .select(
            *group,
            "recycle_reason",
            nw.col("lead_count").cast(nw.Int64),
            (nw.col("lead_count").cast(nw.Float64) / nw.col("_total").cast(nw.Float64))
            .cast(nw.Float64)
            .alias("share"),
        )
    )
    order = [*group, "lead_count", "recycle_reason"]
    return finish_sorted(  # type: ignore[no-any-return]
        session, table, order, descending=[False] * len(group) + [True, False]
    )


def _hot_leads(inputs: _Inputs, page_views: int, lookback_days: int) -> nw.LazyFrame[Any]:
    since = inputs.cutoff - timedelta(days=lookback_days)
    web = inputs.activities.filter(
        ~nw.col("lead_id").is_null()
        & (nw.col("channel") == "web").fill_null(value=False)
        & (nw.col("occurred_at") >= since)
    ).select("lead_id", "activity_id", "occurred_at", "outcome")
    # only leads with a recent web signal can be hot: their last touch is all we need
    candidates = inputs.leads.join(web.select("lead_id"), on="lead_id", how="semi")
    leads = _last_touch(candidates, inputs)
    fresh = web.join(leads.select("lead_id", "last_touch_at"), on="lead_id", how="inner").filter(
        nw.col("last_touch_at").is_null() | (nw.col("occurred_at") > nw.col("last_touch_at"))
    )
    is_view = (nw.col("outcome") == "page_view").fill_null(value=False)
    is_click = (nw.col("outcome") == "link_click").fill_null(value=False)
    fresh = fresh.with_columns(flag(is_view).alias("page_view_count")).with_columns(
        nw.col("page_view_count")
        .cum_sum()
        .over("lead_id", order_by=["occurred_at", "activity_id"])
        .cast(nw.Int64)
        .alias("_view_rank"),
        flag(is_click).alias("link_click_count"),
    )
    nth_view = is_view & (nw.col("_view_rank") == page_views)
    signals = (
        fresh.with_columns(
            when_flag(nth_view, nw.col("occurred_at")).alias("_nth_view_at"),
            when_flag(is_click, nw.col("occurred_at")).alias("_click_at"),
        )
        .group_by("lead_id")
        .agg(
            nw.col("page_view_count").sum(),
            nw.col("link_click_count").sum(),
            nw.col("_nth_view_at").min(),
            nw.col("_click_at").min(),
            nw.col("occurred_at").max().alias("last_signal_at"),
        )
        .with_columns(
            nw.min_horizontal("_nth_view_at", "_click_at")
            .cast(nw.Datetime("us"))
            .alias("signal_at")
        )
        .filter(~nw.col("signal_at").is_null())
    )
    waiting = elapsed_seconds(nw.col("signal_at"), nw.lit(inputs.cutoff)) / 3600.0
    return leads.join(signals, on="lead_id", how="inner").with_columns(
        *int_counts("page_view_count", "link_click_count"),
        nw.col("last_signal_at").cast(nw.Datetime("us")),
        waiting.cast(nw.Float64).alias("since_signal_hours"),
    )


def hot_leads(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    page_views: int = 5,
    lookback_days: int = 14,
    statuses: Sequence[str] | None = HOT_STATUSES,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Leads showing web interest that nobody has followed up yet (ホットリード).

    Web activities of the lead in the ``lookback_days`` days up to the end of
    ``as_of`` that happened after its latest outbound touch are its fresh signals. A
    lead is hot when its fresh signals hold ``page_views`` or more page views or at
    least one link click. ``signal_at`` is when it became hot: the earlier of its
    ``page_views``-th fresh page view and its first fresh link click (page views at
    the same time are ordered by ``activity_id``).

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library); activities need ``activity_id``.
    as_of
        Required: the day the queue is for.
    page_views
        Page views that make a lead hot (default 5).
    lookback_days
        Days looked back from the end of ``as_of`` (default 14).
    statuses
        Lead ``action_status`` values kept (default every status except ``qualified``
        and ``disqualified``); ``None`` keeps every status.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: context columns, ``page_view_count`` and
    ``link_click_count`` (fresh signals), ``signal_at``, ``last_signal_at``,
    ``since_signal_hours`` (from ``signal_at`` to the end of ``as_of``),
    ``last_touch_at``; the most recent signal first (a web signal cools down fast).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "action_status": ["working"] * 2,
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-01"])})
    >>> acts = pd.DataFrame({"activity_id": ["a1", "a2", "a3"], "lead_id": ["L1", "L2", "L2"],
    ...     "channel": ["web", "web", "call"], "direction": ["inbound", "inbound", "outbound"],
    ...     "outcome": ["link_click", "link_click", "busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-20 10:00", "2025-04-20 10:00",
    ...                                    "2025-04-20 11:00"])})
    >>> hot_leads(leads, acts, as_of="2025-04-20")[["lead_id", "signal_at",
    ...                                             "since_signal_hours"]]
      lead_id           signal_at  since_signal_hours
    0      L1 2025-04-20 10:00:00                14.0
    """
    views = check_count("page_views", page_views, minimum=1)
    lookback = check_count("lookback_days", lookback_days, minimum=1)
    inputs, session = _enter(
        "hot_leads", leads, activities, as_of=as_of, tz=tz, statuses=statuses, facts=facts
    )
    require_columns(inputs.activities, "activities", ["activity_id"])
    return _output(  # type: ignore[no-any-return]
        session,
        _hot_leads(inputs, views, lookback),
        [
            "page_view_count",
            "link_click_count",
            "signal_at",
            "last_signal_at",
            "since_signal_hours",
            "last_touch_at",
        ],
        ["signal_at"],
        descending=[True],
    )


# --------------------------------------------------------------------------- counts

#: Queue name -> (lazy builder on entered inputs, statuses used by default).
QUEUES: dict[str, tuple[Callable[[_Inputs], nw.LazyFrame[Any]], tuple[str, ...] | None]] = {
    "untouched_inbound": (_untouched_inbound, ("new", "working")),
    "overdue_next_activity": (_overdue_next_activity, OPEN_STATUSES),
    "focus_due": (lambda inputs: _focus_due(inputs, 60), OPEN_STATUSES),
    "do_not_pursue_review": (_do_not_pursue_review, DO_NOT_PURSUE_STATUSES),
    "recycle_due": (_recycle_due, ("recycled",)),
    "hot_leads": (lambda inputs: _hot_leads(inputs, 5, 14), HOT_STATUSES),
}


def queue_counts(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    by: str | Sequence[str] = ("owner_id",),
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Number of leads in each work queue (default options), per owner.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library), with every column the queues use.
    as_of
        Required: the day the queues are for.
    by
        Lead columns to count by (default ``"owner_id"``); ``()`` for totals.
    tz
        Dataset time zone.

    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`,
        as the report passes); steps shared with other functions run once.
    Returns
    -------
    Frame of the caller's kind: ``queue`` (in :data:`QUEUES` order), the ``by``
    columns and ``lead_count``; queues or owners with no lead have no row.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "owner_id": ["R1"], "origin": ["inbound"],
    ...     "action_status": ["new"], "priority": ["focus"],
    ...     "created_at": pd.to_datetime(["2025-04-01"]),
    ...     "next_activity_on": pd.to_datetime(["2025-04-10"]),
    ...     "recycle_on": pd.to_datetime([None]), "recycle_reason": [None]})
    >>> acts = pd.DataFrame({"activity_id": ["a1"], "lead_id": ["L1"], "channel": ["web"],
    ...     "direction": ["inbound"], "outcome": ["page_view"],
    ...     "occurred_at": pd.to_datetime(["2025-04-02"])})
    >>> queue_counts(leads, acts, as_of="2025-04-20")
                       queue owner_id  lead_count
    0      untouched_inbound       R1           1
    1  overdue_next_activity       R1           1
    2              focus_due       R1           1
    """
    keys = check_keys(by)
    cutoff = as_of_cutoff(as_of)
    (lf_leads, lf_acts), session = engine.enter([leads, activities], function="queue_counts")
    require_columns(
        lf_leads,
        "leads",
        ["origin", "action_status", "priority", "next_activity_on", "recycle_on", "recycle_reason"],
    )
    require_columns(lf_acts, "activities", ["activity_id"])
    lead_frame = enter_leads(lf_leads, cutoff=cutoff, tz=tz)
    check_keys_present(keys, lead_frame.collect_schema().names(), name="by")
    acts = enter_activities(lf_acts, cutoff=cutoff, tz=tz)
    shared_parts = _shared_parts(facts, cutoff, tz, leads=leads, activities=activities)
    parts = []
    for index, (name, (builder, statuses)) in enumerate(QUEUES.items()):
        selected = lead_frame
        if statuses is not None:
            selected = selected.filter(nw.col("action_status").is_in(list(statuses)))
        if name == "untouched_inbound":
            selected = selected.filter((nw.col("origin") == "inbound").fill_null(value=False))
        rows = builder(_Inputs(selected, acts, cutoff, shared_parts))
        parts.append(
            rows.select(
                nw.lit(index).cast(nw.Int64).alias("_order"),
                nw.lit(name).cast(nw.String).alias("queue"),
                *[nw.col(k) for k in keys],
                nw.col("lead_id"),  # a column, so that no-key selects keep every row
            )
        )
    table = (
        nw.concat(parts, how="vertical")
        .group_by("_order", "queue", *keys)
        .agg(nw.len().alias("lead_count"))
        .with_columns(nw.col("lead_count").cast(nw.Int64))
        .sort("_order", *keys, nulls_last=True)
        .drop("_order")
    )
    return session.finish(table)  # type: ignore[no-any-return]
