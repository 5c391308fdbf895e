"""Cadence compliance (5C2M and team-defined cadences) and early follow-up.

A lead's cadence window is ``[created_at, created_at + window_days)``: start
included, end excluded (DESIGN section 3). Activities before ``created_at`` or at or
after the window end do not count; a connect exactly at the window end is outside.

Status of a lead (first rule that applies):

1. its ``action_status`` is one of ``Cadence.excluded_statuses`` (default
   ``no_action_needed``): reported with that status, not eligible;
2. ``connected``: a connect inside the window (when ``stop_on_connect``);
3. ``in_progress``: the window has not ended by the end of ``as_of``;
4. ``compliant``: every minimum of the cadence reached inside the window;
5. ``short``: otherwise.

*Eligible* leads are the compliant and short ones; the compliance rate is
compliant / eligible. With ``excluded_statuses=()`` the eligible leads are exactly
those of the report summary's ``cadence_5c2m_rate`` (window ended, no connect).

Examples
--------
>>> Cadence().label
'5C2M/14d'
>>> Cadence(calls=6, mails=3, window_days=21).label
'6C3M/21d'
>>> Cadence(calls=0, mails=0, min_channels=2).label
'0C0M/14d, >=2 channels'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
import narwhals as nw

from pipelinekit import _compat as engine
from pipelinekit._checks import check_confidence
from pipelinekit._exprs import flag
from pipelinekit.domain import ActionStatus
from pipelinekit.errors import ConfigError
from pipelinekit.facts import Facts, shared, shared_lead_activity
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.lead_activity import WindowPart, part_columns, with_lead_activity
from pipelinekit.metrics._lead_frames import (
    aggregate,
    check_keys,
    check_keys_present,
    enter_activities,
    enter_leads,
    finish_sorted,
    int_counts,
    optional_cutoff,
    optional_freq,
    with_one,
    with_period,
    with_rates,
)
from pipelinekit.periods import Freq, parse_as_of
from pipelinekit.rates import ZeroDivision, check_zero_division
from pipelinekit.types import AsOf

__all__ = [
    "STATUSES",
    "Cadence",
    "cadence_compliance",
    "cadence_summary",
    "early_follow_up",
    "early_follow_up_leads",
]

FrameT = TypeVar("FrameT")

#: Cadence statuses besides the excluded action statuses, in report order.
STATUSES = ("compliant", "short", "in_progress", "connected")


#: The default breakdown of :func:`cadence_summary`.
_BY = ("owner_id",)


def _whole(minimum: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(
                f"Cadence.{attribute.name} must be an integer >= {minimum}; got {value!r}"
            )

    return check


def _channels(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or value not in (1, 2, 3)):
        raise ConfigError(f"Cadence.min_channels must be 1, 2, 3 or None; got {value!r}")


def _to_statuses(value: Any) -> tuple[str, ...]:
    values = (value,) if isinstance(value, str) else tuple(value)
    allowed = [s.value for s in ActionStatus]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ConfigError(
            f"Cadence.excluded_statuses must be action_status values "
            f"({', '.join(map(repr, allowed))}); got {bad[0]!r}"
        )
    if "connected" in values:
        raise ConfigError(
            "Cadence.excluded_statuses must not contain 'connected': it is also a cadence "
            "status (a connect inside the window)"
        )
    return tuple(str(v) for v in values)


def _bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"Cadence.{attribute.name} must be True or False; got {value!r}")


@attrs.frozen
class Cadence:
    """A cadence rule: minimum outbound activities inside a window after creation.

    Parameters
    ----------
    calls, mails, meetings
        Minimum outbound calls, emails and meetings in the window (default 5, 2, 0).
    window_days
        Window length in days after ``created_at`` (default 14).
    touches
        Minimum outbound touches of any channel (calls + emails + meetings), default 0.
    min_channels
        Minimum number of distinct channels used among call, email and meeting
        (e.g. 2 for "at least two channels"); ``None`` (default) for no rule.
    stop_on_connect
        A connect inside the window ends the cadence: the lead gets the status
        ``connected`` and is not eligible (default ``True``, DESIGN's 5C2M).
    excluded_statuses
        Lead ``action_status`` values reported under their own status and left out of
        the eligible leads (default ``()``: every lead counts, as DESIGN's 5C2M and the
        report summary define it; e.g. ``("no_action_needed",)`` leaves out the leads
        marked as not to pursue).

    Examples
    --------
    >>> Cadence(calls=6, mails=3, window_days=21).window
    datetime.timedelta(days=21)
    >>> Cadence(calls=-1)
    Traceback (most recent call last):
    ...
    pipelinekit.errors.ConfigError: Cadence.calls must be an integer >= 0; got -1
    """

    calls: int = attrs.field(default=5, validator=_whole(0))
    mails: int = attrs.field(default=2, validator=_whole(0))
    window_days: int = attrs.field(default=14, validator=_whole(1))
    meetings: int = attrs.field(default=0, validator=_whole(0), kw_only=True)
    touches: int = attrs.field(default=0, validator=_whole(0), kw_only=True)
    min_channels: int | None = attrs.field(default=None, validator=_channels, kw_only=True)
    stop_on_connect: bool = attrs.field(default=True, validator=_bool, kw_only=True)
    excluded_statuses: tuple[str, ...] = attrs.field(
        default=(), converter=_to_statuses, kw_only=True
    )

    @property
    def window(self) -> timedelta:
        """The window length as a :class:`~datetime.timedelta`."""
        return timedelta(days=self.window_days)

    @property
    def label(self) -> str:
        """A short name such as ``5C2M/14d``."""
        text = f"{self.calls}C{self.mails}M/{self.window_days}d"
        if self.meetings:
            text += f", >={self.meetings} meetings"
        if self.touches:
            text += f", >={self.touches} touches"
        if self.min_channels:
            text += f", >={self.min_channels} channels"
        return text

    def minimums(self) -> dict[str, int]:
        """Minimum per counted column (``channels`` 0 when there is no channel rule)."""
        return {
            "calls": self.calls,
            "mails": self.mails,
            "meetings": self.meetings,
            "touches": self.touches,
            "channels": self.min_channels or 0,
        }


def _check_cadence(cadence: Any) -> Cadence:
    if not isinstance(cadence, Cadence):
        raise ConfigError(f"cadence must be a Cadence; got {type(cadence).__name__}")
    return cadence


# --------------------------------------------------------------------------- window counts


def _window_counts(
    leads: nw.LazyFrame[Any], per_lead: nw.LazyFrame[Any], *, days: int, cutoff: datetime
) -> nw.LazyFrame[Any]:
    """Every lead of ``leads`` (all its columns) plus its window counts.

    ``per_lead`` holds the leads' :class:`~pipelinekit.facts.lead_activity.WindowPart`
    of ``days``. Adds ``window_end``, ``window_closed`` (0/1: the window ended by
    ``cutoff``), the outbound ``calls``, ``mails``, ``meetings``, ``touches`` inside
    ``[created_at, created_at + days)``, ``channels`` (how many of call/email/meeting
    were used), ``connects`` and ``connected_at`` (first connect) inside the window.
    """
    part = WindowPart(days)
    columns = part_columns(part)
    base = leads.with_columns((nw.col("created_at") + timedelta(days=days)).alias("window_end"))
    renamed = {c: c.removeprefix(part.prefix) for c in columns}
    counts = with_lead_activity(base, per_lead, [part]).rename(renamed)
    used = [flag(nw.col(c) > 0) for c in ("calls", "mails", "meetings")]
    return counts.with_columns(
        flag(nw.col("window_end") <= cutoff).alias("window_closed"),
        (used[0] + used[1] + used[2]).cast(nw.Int64).alias("channels"),
    )


def _compliance(
    leads: nw.LazyFrame[Any],
    per_lead: nw.LazyFrame[Any],
    cadence: Cadence,
    cutoff: datetime,
) -> nw.LazyFrame[Any]:
    """Leads with their window counts, shortfalls, ``connected_within_window`` and
    ``status`` (``per_lead``: the leads' window part of the cadence's window)."""
    counts = _window_counts(leads, per_lead, days=cadence.window_days, cutoff=cutoff)
    shorts = [
        nw.max_horizontal(nw.lit(minimum) - nw.col(name), nw.lit(0))
        .cast(nw.Int64)
        .alias(f"{name}_short")
        for name, minimum in cadence.minimums().items()
    ]
    counts = counts.with_columns(*shorts)
    short_total = sum((nw.col(f"{name}_short") for name in cadence.minimums()), start=nw.lit(0))
    connected = nw.col("connects") > 0
    if cadence.excluded_statuses:
        excluded = nw.col("action_status").is_in(list(cadence.excluded_statuses))
        status = nw.when(excluded.fill_null(value=False)).then(nw.col("action_status"))
    else:
        status = nw.when(nw.lit(value=False)).then(nw.lit("never"))
    if cadence.stop_on_connect:
        status = status.when(connected).then(nw.lit("connected"))
    final = (
        status.when(nw.col("window_closed") == 0)
        .then(nw.lit("in_progress"))
        .when(short_total == 0)
        .then(nw.lit("compliant"))
        .otherwise(nw.lit("short"))
    )
    return counts.with_columns(
        flag(connected).alias("connected_within_window"), final.cast(nw.String).alias("status")
    )


_LEAD_OUTPUT = ("lead_id", "owner_id", "origin", "action_status", "created_at", "window_end")
_COUNT_OUTPUT = (
    "calls",
    "mails",
    "meetings",
    "touches",
    "channels",
    "calls_short",
    "mails_short",
    "meetings_short",
    "touches_short",
    "channels_short",
    "connected_within_window",
    "connected_at",
    "status",
)


def _compliance_leads(
    function: str,
    leads: Any,
    activities: Any,
    cadence: Cadence,
    as_of: AsOf,
    tz: str,
    *,
    only_status: str | None = None,
    facts: Facts | None = None,
) -> Any:
    cutoff = optional_cutoff(parse_as_of(as_of))
    assert cutoff is not None
    (lf_leads, lf_acts), session = engine.enter([leads, activities], function=function)
    natives = {"leads": leads, "activities": activities}
    table = _lead_compliance(
        lf_leads, lf_acts, cadence, cutoff=cutoff, tz=tz, facts=facts, **natives
    )
    if only_status is not None:
        table = table.filter(nw.col("status") == only_status)
    present = table.collect_schema().names()
    table = table.select(*[c for c in _LEAD_OUTPUT if c in present], *_COUNT_OUTPUT)
    return finish_sorted(session, table, ("created_at", "lead_id"))


def cadence_compliance(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    cadence: Cadence = Cadence(),
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Per lead: activity counts in its cadence window, shortfalls and status (5C2M).

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library). Activities without a lead are ignored.
    as_of
        Required: leads created and activities made after the end of this day are
        ignored; windows ending later are ``in_progress``.
    cadence
        The rule (default :class:`Cadence` ``()`` = 5 calls and 2 emails in 14 days).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per lead sorted by ``created_at`` and
    ``lead_id``: ``lead_id``, ``owner_id``, ``origin``, ``action_status`` (those
    present), ``created_at``, ``window_end``, ``calls``, ``mails``, ``meetings``,
    ``touches``, ``channels``, the matching ``*_short`` (how many are missing,
    0 if none), ``connected_within_window`` (0/1), ``connected_at`` and ``status``
    (``compliant``, ``short``, ``in_progress``, ``connected`` or an excluded
    ``action_status`` such as ``no_action_needed``).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "action_status": ["working"] * 2,
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-20 09:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1"] * 7, "channel": ["call"] * 5 + ["email"] * 2,
    ...     "direction": ["outbound"] * 7, "outcome": ["busy"] * 5 + ["sent"] * 2,
    ...     "occurred_at": pd.date_range("2025-04-01 10:00", periods=7, freq="D")})
    >>> c = cadence_compliance(leads, acts, as_of="2025-04-30")
    >>> c[["lead_id", "calls", "mails", "calls_short", "status"]]
      lead_id  calls  mails  calls_short       status
    0      L1      5      2            0    compliant
    1      L2      0      0            5  in_progress
    """
    return _compliance_leads(  # type: ignore[no-any-return]
        "cadence_compliance",
        leads,
        activities,
        _check_cadence(cadence),
        as_of,
        tz,
        facts=facts,
    )


_SUMMARY_COUNTS = (
    "lead_count",
    "compliant_count",
    "short_count",
    "in_progress_count",
    "connected_count",
    "excluded_count",
)


def _summary(
    function: str,
    leads: Any,
    activities: Any,
    *,
    cadence: Cadence,
    by: Any,
    freq: Any,
    as_of: AsOf,
    zero_division: Any,
    confidence: float,
    tz: str,
    facts: Facts | None,
) -> Any:
    keys = check_keys(by)
    period_freq = optional_freq(freq)
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    cutoff = optional_cutoff(parse_as_of(as_of))
    assert cutoff is not None
    (lf_leads, lf_acts), session = engine.enter([leads, activities], function=function)
    check_keys_present(keys, lf_leads.collect_schema().names(), name="by")
    natives = {"leads": leads, "activities": activities}
    table = _lead_compliance(
        lf_leads, lf_acts, cadence, cutoff=cutoff, tz=tz, facts=facts, **natives
    )
    return _summarise(session, table, keys, period_freq, zero_division, confidence)


def _lead_compliance(
    lead_frame: nw.LazyFrame[Any],
    activity_frame: nw.LazyFrame[Any],
    cadence: Cadence,
    *,
    cutoff: datetime,
    tz: str,
    facts: Facts | None,
    **tables: Any,
) -> nw.LazyFrame[Any]:
    """Every lead created by ``cutoff`` with its cadence status, computed once per
    report when ``facts`` covers the native ``tables``."""

    def build() -> nw.LazyFrame[Any]:
        required = ("action_status",) if cadence.excluded_statuses else ()
        every_lead = enter_leads(lead_frame, cutoff=None, tz=tz, required=required)

        def activity_rows() -> nw.LazyFrame[Any]:
            acts = enter_activities(activity_frame, cutoff=None, tz=tz)
            return activity_facts(acts, every_lead, cutoff=cutoff)

        per_lead = shared_lead_activity(
            facts, activity_rows, [WindowPart(cadence.window_days)], cutoff=cutoff, tz=tz, **tables
        )
        created = every_lead.filter(nw.col("created_at") < cutoff)
        return _compliance(created, per_lead, cadence, cutoff)

    return shared(facts, ("cadence_compliance", cadence, cutoff, tz), build, **tables)


def _summarise(
    session: engine.Session,
    table: nw.LazyFrame[Any],
    keys: Sequence[str],
    period_freq: Freq | None,
    zero_division: ZeroDivision,
    confidence: float,
) -> Any:
    """Per-lead statuses -> counts and the compliance rate per ``keys`` (and period)."""
    table, group = with_period(table, "created_at", keys, period_freq)
    status = nw.col("status")
    table = with_one(table).with_columns(
        flag(status == "compliant").alias("compliant_count"),
        flag(status == "short").alias("short_count"),
        flag(status == "in_progress").alias("in_progress_count"),
        flag(status == "connected").alias("connected_count"),
        flag(~status.is_in(list(STATUSES))).alias("excluded_count"),
    )
    table = aggregate(
        table,
        group,
        nw.col("_one").sum().alias("lead_count"),
        *[nw.col(c).sum() for c in _SUMMARY_COUNTS[1:]],
    )
    table = table.select(*group, *int_counts(*_SUMMARY_COUNTS)).with_columns(
        nw.col("compliant_count").alias("numerator"),
        (nw.col("compliant_count") + nw.col("short_count")).cast(nw.Int64).alias("denominator"),
    )
    table = with_rates(table, "numerator", "denominator", zero_division, confidence=confidence)
    return finish_sorted(session, table, group, zero_division=zero_division)


def cadence_summary(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    cadence: Cadence = Cadence(),
    by: str | Sequence[str] = ("owner_id",),
    freq: Freq | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Cadence compliance rate per owner and/or period (5C2M 遵守率).

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the compliance is computed for.
    cadence
        The rule (default 5 calls and 2 emails in 14 days, see :class:`Cadence`).
    by
        Lead columns to group by (default ``"owner_id"``); ``()`` for one overall row.
    freq
        Period of the lead's ``created_at`` (a cohort view); ``None``: no period.
    zero_division
        Rate of a group without eligible leads: ``"nan"`` (default), ``"0"``,
        ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`); the
        per-lead statuses are then computed once for every call that shares them.

    Returns
    -------
    Frame of the caller's kind: ``by`` columns, ``period`` (if ``freq``),
    ``lead_count``, ``compliant_count``, ``short_count``, ``in_progress_count``,
    ``connected_count``, ``excluded_count`` (leads with an excluded status), then
    ``numerator`` (compliant), ``denominator`` (eligible = compliant + short),
    ``rate``, ``ci_low``, ``ci_high``. The status counts add up to ``lead_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "owner_id": ["R1"] * 3,
    ...     "action_status": ["working", "working", "no_action_needed"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00"] * 3)})
    >>> acts = pd.DataFrame({"lead_id": ["L1"] * 7, "channel": ["call"] * 5 + ["email"] * 2,
    ...     "direction": ["outbound"] * 7, "outcome": ["busy"] * 5 + ["sent"] * 2,
    ...     "occurred_at": pd.date_range("2025-04-01 10:00", periods=7, freq="D")})
    >>> s = cadence_summary(leads, acts, as_of="2025-04-30")
    >>> s[["lead_count", "short_count", "excluded_count", "numerator", "denominator"]]
       lead_count  short_count  excluded_count  numerator  denominator
    0           3            2               0          1            3
    >>> rule = Cadence(excluded_statuses=("no_action_needed",))
    >>> s = cadence_summary(leads, acts, as_of="2025-04-30", cadence=rule)
    >>> s[["lead_count", "short_count", "excluded_count", "numerator", "denominator"]]
       lead_count  short_count  excluded_count  numerator  denominator
    0           3            1               1          1            2
    """
    return _summary(  # type: ignore[no-any-return]
        "cadence_summary",
        leads,
        activities,
        cadence=_check_cadence(cadence),
        by=by,
        freq=freq,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
        facts=facts,
    )


def _follow_up_cadence(touches: Any, days: Any) -> Cadence:
    for name, value in (("touches", touches), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1; got {value!r}")
    return Cadence(
        calls=0,
        mails=0,
        window_days=days,
        touches=touches,
        stop_on_connect=False,
        excluded_statuses=(),
    )


def early_follow_up(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    touches: int = 5,
    days: int = 7,
    by: str | Sequence[str] = ("owner_id",),
    freq: Freq | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """Early follow-up per owner: leads with fewer than ``touches`` outbound touches
    in the ``days`` days after creation (初動フォロー, default 5 in 7 days).

    Counted among leads whose ``days`` have passed by the end of ``as_of``; every
    lead counts whatever its status or connects (DESIGN section 3). This is
    :func:`cadence_summary` with ``Cadence(calls=0, mails=0, touches=touches,
    window_days=days, stop_on_connect=False, excluded_statuses=())``.

    Parameters
    ----------
    leads, activities
        Canonical tables (same frame library).
    as_of
        Required: the day the follow-up is checked for.
    touches, days
        Minimum outbound touches (calls, emails, meetings) and the window in days.
    by
        Lead columns to group by (default ``"owner_id"``).
    freq
        Period of ``created_at``; ``None``: no period column.
    zero_division
        Rate of a group without eligible leads.
    confidence
        Level of the Wilson interval (default 0.95).
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (:class:`pipelinekit.facts.Facts`); the
        per-lead statuses are then computed once for every call that shares them.

    Returns
    -------
    The :func:`cadence_summary` columns: ``short_count`` is the number of leads
    with fewer touches; ``rate`` = leads followed up (``numerator``) / leads whose
    window has passed (``denominator``).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "owner_id": ["R1", "R1"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 09:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1"] * 5, "channel": ["call"] * 5,
    ...     "direction": ["outbound"] * 5, "outcome": ["connected"] + ["busy"] * 4,
    ...     "occurred_at": pd.date_range("2025-04-01 10:00", periods=5, freq="D")})
    >>> early_follow_up(leads, acts, as_of="2025-04-30")[["owner_id", "short_count",
    ...                                                   "denominator", "rate"]]
      owner_id  short_count  denominator  rate
    0       R1            1            2   0.5
    """
    return _summary(  # type: ignore[no-any-return]
        "early_follow_up",
        leads,
        activities,
        cadence=_follow_up_cadence(touches, days),
        by=by,
        freq=freq,
        as_of=as_of,
        zero_division=zero_division,
        confidence=confidence,
        tz=tz,
        facts=facts,
    )


def early_follow_up_leads(
    leads: FrameT,
    activities: Any,
    *,
    as_of: AsOf,
    touches: int = 5,
    days: int = 7,
    tz: str = "Asia/Tokyo",
    facts: Facts | None = None,
) -> FrameT:
    """The leads that fell short of early follow-up (the rows behind
    :func:`early_follow_up`'s ``short_count``), with the :func:`cadence_compliance`
    columns, oldest first.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-01 09:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L2"], "channel": ["call"],
    ...     "direction": ["outbound"], "outcome": ["busy"],
    ...     "occurred_at": pd.to_datetime(["2025-04-02 10:00"])})
    >>> early_follow_up_leads(leads, acts, as_of="2025-04-30")[["lead_id", "touches",
    ...                                                         "touches_short"]]
      lead_id  touches  touches_short
    0      L1        0              5
    1      L2        1              4
    """
    return _compliance_leads(  # type: ignore[no-any-return]
        "early_follow_up_leads",
        leads,
        activities,
        _follow_up_cadence(touches, days),
        as_of,
        tz,
        only_status="short",
        facts=facts,
    )
