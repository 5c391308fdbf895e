"""Typed domain objects: the six entities of a sales pipeline, plus stage history,
opportunity history and campaign responses.

Every class is a frozen, slotted, keyword-only attrs class. Field metadata
(``required``, ``unique``, ``fk``, ``min``/``max``, ``default_fill``) is read by
:mod:`pipelinekit.schema`, which derives the canonical tables from these classes:
the domain classes are the single source of truth for columns, types and rules.

Timestamps are :class:`datetime.datetime`; naive values are wall-clock time in the
dataset's time zone (default ``Asia/Tokyo``). Date fields are :class:`datetime.date`.

Examples
--------
>>> from datetime import datetime
>>> lead = Lead(lead_id="L1", created_at=datetime(2025, 4, 1, 9, 30), origin="inbound")
>>> lead.origin
<Origin.INBOUND: 'inbound'>
>>> lead.action_status
<ActionStatus.NEW: 'new'>
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import attrs

__all__ = [
    "CHANNEL_OUTCOMES",
    "Account",
    "ActionStatus",
    "Activity",
    "Campaign",
    "CampaignMember",
    "Channel",
    "Direction",
    "ForecastCategory",
    "Lead",
    "Opportunity",
    "OpportunityHistory",
    "Origin",
    "Outcome",
    "Priority",
    "Quota",
    "QuotaMetric",
    "Rep",
    "Role",
    "StageChange",
]


class _StrEnum(str, Enum):
    """A string enum whose members compare equal to their lower-case value."""

    def __str__(self) -> str:
        return str(self.value)


class Role(_StrEnum):
    """Job of a rep: inside sales (IS), field sales (FS) or manager."""

    INSIDE = "inside"
    FIELD = "field"
    MANAGER = "manager"


class Origin(_StrEnum):
    """Where a lead or opportunity came from."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ActionStatus(_StrEnum):
    """Working status of a lead in the IS process."""

    NEW = "new"
    WORKING = "working"
    CONNECTED = "connected"
    NO_ACTION_NEEDED = "no_action_needed"
    NOT_PURSUED_AFTER_CONNECT = "not_pursued_after_connect"
    QUALIFIED = "qualified"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class Priority(_StrEnum):
    """Focus flag an IS manager puts on a lead."""

    FOCUS = "focus"
    NON_FOCUS = "non_focus"


class ForecastCategory(_StrEnum):
    """Forecast category of an opportunity (the CRM's forecast bucket)."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


class QuotaMetric(_StrEnum):
    """What a quota counts: won amount, won deals, SQLs created or meetings held."""

    WON_AMOUNT = "won_amount"
    WON_COUNT = "won_count"
    SQLS = "sqls"
    MEETINGS_HELD = "meetings_held"


class Channel(_StrEnum):
    """Channel of an activity."""

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    WEB = "web"


class Direction(_StrEnum):
    """Who started the activity: the rep (outbound) or the counterpart (inbound)."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Outcome(_StrEnum):
    """Result of an activity; which values are allowed depends on the channel."""

    CONNECTED = "connected"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    BOUNCED = "bounced"
    SENT = "sent"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    SCHEDULED = "scheduled"
    HELD = "held"
    NO_SHOW = "no_show"
    PAGE_VIEW = "page_view"
    LINK_CLICK = "link_click"
    FORM_SUBMIT = "form_submit"


#: Outcomes allowed per channel. Email outcomes are ordered: the furthest
#: engagement reached (sent < opened < clicked < replied).
CHANNEL_OUTCOMES: dict[Channel, tuple[Outcome, ...]] = {
    Channel.CALL: (
        Outcome.CONNECTED,
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.VOICEMAIL,
        Outcome.WRONG_NUMBER,
    ),
    Channel.EMAIL: (
        Outcome.BOUNCED,
        Outcome.SENT,
        Outcome.OPENED,
        Outcome.CLICKED,
        Outcome.REPLIED,
    ),
    Channel.MEETING: (Outcome.SCHEDULED, Outcome.HELD, Outcome.NO_SHOW),
    Channel.WEB: (Outcome.PAGE_VIEW, Outcome.LINK_CLICK, Outcome.FORM_SUBMIT),
}

_E = TypeVar("_E", bound=_StrEnum)


def _enum_converter(enum: type[_E]) -> Any:
    def convert(value: Any) -> _E:
        if isinstance(value, enum):
            return value
        if isinstance(value, str):
            return enum(value.strip().lower())
        return enum(value)

    convert.__name__ = f"to_{enum.__name__}"
    return convert


def _optional_enum_converter(enum: type[_E]) -> Any:
    convert = _enum_converter(enum)

    def optional(value: Any) -> _E | None:
        return None if value is None else convert(value)

    optional.__name__ = f"to_optional_{enum.__name__}"
    return optional


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be finite, got {value!r}")
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _probability(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (0.0 <= value <= 1.0):
        raise ValueError(f"{attribute.name} must be within [0, 1], got {value!r}")


def _not_empty(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


def _key(*, unique: bool = True) -> Any:
    """A required string id column."""
    return attrs.field(validator=_not_empty, metadata={"required": True, "unique": unique})


def _text(*, fk: str | None = None) -> Any:
    return attrs.field(default=None, metadata={"fk": fk} if fk else {})


def _required_fk(fk: str) -> Any:
    return attrs.field(validator=_not_empty, metadata={"required": True, "fk": fk})


def _required_time() -> Any:
    return attrs.field(
        validator=attrs.validators.instance_of(datetime), metadata={"required": True}
    )


def _optional_time() -> Any:
    return attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(datetime))
    )


def _optional_date() -> Any:
    return attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(date))
    )


def _count() -> Any:
    return attrs.field(default=None, validator=_non_negative, metadata={"min": 0})


def _amount() -> Any:
    return attrs.field(default=None, validator=_non_negative, metadata={"min": 0})


def _required_enum(enum: type[_E]) -> Any:
    return attrs.field(converter=_enum_converter(enum), metadata={"required": True})


def _optional_enum(enum: type[_E], default: _E | None = None) -> Any:
    if default is not None:
        return attrs.field(
            default=default, converter=_enum_converter(enum), metadata={"default_fill": default}
        )
    return attrs.field(default=None, converter=_optional_enum_converter(enum))


def _flag(default: bool | None) -> Any:
    if default is None:
        return attrs.field(
            default=None, validator=attrs.validators.optional(attrs.validators.instance_of(bool))
        )
    return attrs.field(
        default=default,
        validator=attrs.validators.instance_of(bool),
        metadata={"default_fill": default},
    )


@attrs.frozen(kw_only=True)
class Account:
    """A company the sales team sells to; ``is_target`` marks ABM target accounts."""

    account_id: str = _key()
    name: str | None = _text()
    industry: str | None = _text()
    region: str | None = _text()
    employees: int | None = _count()
    annual_revenue: float | None = _amount()
    is_target: bool = _flag(False)
    target_tier: str | None = _text()


@attrs.frozen(kw_only=True)
class Rep:
    """A member of the sales team; FS reps carry an SQL capacity."""

    rep_id: str = _key()
    name: str | None = _text()
    role: Role = _required_enum(Role)
    segment: str | None = _text()
    monthly_sql_capacity: int | None = attrs.field(
        default=None, validator=_positive, metadata={"min_exclusive": 0}
    )
    team: str | None = _text()


@attrs.frozen(kw_only=True)
class Campaign:
    """A marketing campaign that leads and opportunities can be attributed to."""

    campaign_id: str = _key()
    name: str | None = _text()
    channel: str | None = _text()
    started_on: date | None = _optional_date()


@attrs.frozen(kw_only=True)
class Lead:
    """A person or inquiry the IS team works; ``created_at`` is the inflow time."""

    lead_id: str = _key()
    account_id: str | None = _text(fk="accounts.account_id")
    owner_id: str | None = _text(fk="reps.rep_id")
    created_at: datetime = _required_time()
    origin: Origin = _required_enum(Origin)
    source: str | None = _text()
    campaign_id: str | None = _text(fk="campaigns.campaign_id")
    action_status: ActionStatus = _optional_enum(ActionStatus, ActionStatus.NEW)
    priority: Priority | None = _optional_enum(Priority)
    next_activity_on: date | None = _optional_date()
    recycle_on: date | None = _optional_date()
    recycle_reason: str | None = _text()
    department: str | None = _text()
    title: str | None = _text()


@attrs.frozen(kw_only=True)
class Activity:
    """A call, email, meeting or web signal; linked to a lead, an account, or both."""

    activity_id: str = _key()
    lead_id: str | None = _text(fk="leads.lead_id")
    account_id: str | None = _text(fk="accounts.account_id")
    owner_id: str | None = _text(fk="reps.rep_id")
    occurred_at: datetime = _required_time()
    channel: Channel = _required_enum(Channel)
    direction: Direction = _required_enum(Direction)
    outcome: Outcome = _required_enum(Outcome)
    duration_s: float | None = _amount()
    is_key_person: bool = _flag(False)

    def __attrs_post_init__(self) -> None:
        if self.lead_id is None and self.account_id is None:
            raise ValueError("an activity needs a lead_id or an account_id")
        if self.outcome not in CHANNEL_OUTCOMES[self.channel]:
            allowed = ", ".join(o.value for o in CHANNEL_OUTCOMES[self.channel])
            raise ValueError(
                f"outcome {self.outcome.value!r} is not valid for channel "
                f"{self.channel.value!r} (allowed: {allowed})"
            )


@attrs.frozen(kw_only=True)
class Opportunity:
    """An SQL handed from IS to FS; ``created_at`` is the SQL time."""

    opportunity_id: str = _key()
    lead_id: str | None = _text(fk="leads.lead_id")
    account_id: str | None = _text(fk="accounts.account_id")
    owner_id: str | None = _text(fk="reps.rep_id")
    created_at: datetime = _required_time()
    origin: Origin | None = _optional_enum(Origin)
    validated_at: datetime | None = _optional_time()
    stage: str | None = _text()
    closed_at: datetime | None = _optional_time()
    is_won: bool | None = _flag(None)
    amount: float | None = _amount()
    quantity: int | None = _count()
    first_meeting_attendees: int | None = _count()
    probability: float | None = attrs.field(
        default=None, validator=_probability, metadata={"min": 0, "max": 1}
    )
    product: str | None = _text()
    campaign_id: str | None = _text(fk="campaigns.campaign_id")
    expected_close_on: date | None = _optional_date()
    forecast_category: ForecastCategory | None = _optional_enum(ForecastCategory)

    def __attrs_post_init__(self) -> None:
        if self.closed_at is not None and self.closed_at < self.created_at:
            raise ValueError("closed_at must be >= created_at")
        if self.validated_at is not None and self.validated_at < self.created_at:
            raise ValueError("validated_at must be >= created_at")
        if self.is_won and self.closed_at is None:
            raise ValueError("is_won=True needs closed_at")


@attrs.frozen(kw_only=True)
class StageChange:
    """One entry of an opportunity's stage history."""

    opportunity_id: str = _required_fk("opportunities.opportunity_id")
    stage: str = attrs.field(validator=_not_empty, metadata={"required": True})
    entered_at: datetime = _required_time()


@attrs.frozen(kw_only=True)
class OpportunityHistory:
    """One change of an opportunity: a field left empty is unchanged since the row before."""

    opportunity_id: str = _required_fk("opportunities.opportunity_id")
    changed_at: datetime = _required_time()
    stage: str | None = _text()
    amount: float | None = _amount()
    expected_close_on: date | None = _optional_date()
    probability: float | None = attrs.field(
        default=None, validator=_probability, metadata={"min": 0, "max": 1}
    )
    forecast_category: ForecastCategory | None = _optional_enum(ForecastCategory)


@attrs.frozen(kw_only=True)
class CampaignMember:
    """A lead's response to a campaign (the campaign touches that attribution credits)."""

    lead_id: str = _required_fk("leads.lead_id")
    campaign_id: str = _required_fk("campaigns.campaign_id")
    responded_at: datetime = _required_time()


def _one_holder(instance: Quota, attribute: attrs.Attribute[Any], value: Any) -> None:
    if (instance.owner_id is None) == (instance.team is None):
        raise ValueError("a quota has exactly one of owner_id and team")


def _end_not_before_start(instance: Quota, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < instance.period_start:
        raise ValueError(f"period_end {value} is before period_start {instance.period_start}")


@attrs.frozen(kw_only=True)
class Quota:
    """A target of one rep (``owner_id``) or one team for one period and metric."""

    owner_id: str | None = _text(fk="reps.rep_id")
    team: str | None = attrs.field(
        default=None, validator=_one_holder, metadata={"fk": "reps.team"}
    )
    period_start: date = attrs.field(
        validator=attrs.validators.instance_of(date), metadata={"required": True}
    )
    period_end: date = attrs.field(
        validator=[attrs.validators.instance_of(date), _end_not_before_start],
        metadata={"required": True},
    )
    metric: QuotaMetric = _required_enum(QuotaMetric)
    target: float = attrs.field(
        validator=[attrs.validators.instance_of((int, float)), _non_negative],
        metadata={"required": True, "min": 0},
    )
