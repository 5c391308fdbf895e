"""Seeded, realistic synthetic sample data in the canonical tables.

The generator builds every table of DESIGN section 2 (``accounts``, ``reps``,
``campaigns``, ``leads``, ``activities``, ``opportunities``, ``stage_changes``)
from one :func:`numpy.random.default_rng` stream, so the same arguments always give
the same frames. All per-row work is vectorised with numpy: a million leads with
about ten million activities take seconds, not minutes.

Timestamps are naive wall-clock times in the dataset time zone (``Asia/Tokyo``).
Events (lead creation, activities, opportunity stages) all fall inside
``[start, start + months)``; planned dates (``next_activity_on``, ``recycle_on``)
may lie after the end of the data, as planned dates do.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pipelinekit._atomic import write_atomic

__all__ = ["generate_sample", "write_sample"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Codes = npt.NDArray[np.integer[Any]]  # any integer codes / indices, -1 = missing

_DAY: Final = 86_400
_HOUR: Final = 3_600
_MINUTE: Final = 60

# --------------------------------------------------------------------------- schema

_TABLE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "accounts": (
        "account_id",
        "name",
        "industry",
        "region",
        "employees",
        "annual_revenue",
        "is_target",
        "target_tier",
    ),
    "reps": ("rep_id", "name", "role", "segment", "monthly_sql_capacity"),
    "campaigns": ("campaign_id", "name", "channel", "started_on"),
    "leads": (
        "lead_id",
        "account_id",
        "owner_id",
        "created_at",
        "origin",
        "source",
        "campaign_id",
        "action_status",
        "priority",
        "next_activity_on",
        "recycle_on",
        "recycle_reason",
        "department",
        "title",
    ),
    "activities": (
        "activity_id",
        "lead_id",
        "account_id",
        "owner_id",
        "occurred_at",
        "channel",
        "direction",
        "outcome",
        "duration_s",
        "is_key_person",
    ),
    "opportunities": (
        "opportunity_id",
        "lead_id",
        "account_id",
        "owner_id",
        "created_at",
        "origin",
        "validated_at",
        "stage",
        "closed_at",
        "is_won",
        "amount",
        "quantity",
        "first_meeting_attendees",
        "probability",
        "product",
        "campaign_id",
    ),
    "stage_changes": ("opportunity_id", "stage", "entered_at"),
}
"""Column order of every generated table (DESIGN section 2)."""

_DATE_COLUMNS: Final = frozenset({"next_activity_on", "recycle_on", "started_on"})

# pyarrow (optional) builds the big string columns and writes CSV/Parquet fast;
# without it the same frames are built with numpy and CSV is written by pandas.
_USE_ARROW = importlib.util.find_spec("pyarrow") is not None

# ------------------------------------------------------------------ vocabularies

_INDUSTRIES: Final = (
    "manufacturing",
    "logistics",
    "construction",
    "retail",
    "it",
    "healthcare",
    "finance",
)
_INDUSTRY_P: Final = (0.26, 0.18, 0.14, 0.12, 0.12, 0.10, 0.08)
_REVENUE_PER_EMPLOYEE_MULT: Final = (1.0, 0.8, 0.9, 0.7, 1.3, 0.85, 2.2)
_INDUSTRY_WIN_EFFECT: Final = (0.03, 0.05, 0.0, -0.04, -0.02, 0.0, -0.05)
_NAME_PREFIXES: Final = (
    "Sakura", "Fuji", "Asahi", "Hikari", "Midori", "Nippon", "Tokai", "Kita",
    "Minami", "Aoba", "Hinode", "Daiichi", "Yamato", "Kaze", "Seiwa", "Taiyo",
    "Heiwa", "Kyoei", "Marui", "Sanko", "Toyo", "Chuo", "Nishi", "Higashi",
    "Shinsei", "Kotobuki", "Tsubasa", "Hoshi", "Izumi", "Matsu",
)  # fmt: skip
_NAME_CORES: Final = (
    ("Industries", "Seiki", "Kogyo", "Works"),
    ("Logistics", "Transport", "Unyu", "Express"),
    ("Kensetsu", "Construction", "Komuten", "Engineering"),
    ("Shoji", "Retail", "Stores", "Foods"),
    ("Systems", "Soft", "Digital", "Tech"),
    ("Medical", "Care", "Pharma", "Clinic Group"),
    ("Finance", "Lease", "Capital", "Insurance"),
    ("Corporation", "Trading", "Group", "Partners"),  # industry unknown
)
_NAME_SUFFIXES: Final = ("Co. Ltd.", "K.K.", "Inc.", "Holdings")
_REGIONS: Final = ("kanto", "kansai", "chubu", "kyushu", "tohoku", "hokkaido")
_REGION_P: Final = (0.42, 0.20, 0.15, 0.10, 0.07, 0.06)
_BANDS: Final = ("1-30", "31-299", "300-999", "1000+")
_BAND_P: Final = (0.38, 0.37, 0.15, 0.10)
_BAND_LOW: Final = (1, 31, 300, 1000)
_BAND_HIGH: Final = (30, 299, 999, 30_000)
_TIERS: Final = ("1", "2")

_SURNAMES: Final = (
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto",
    "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi",
    "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Mori",
)  # fmt: skip
_GIVEN_NAMES: Final = (
    "Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mei", "Riku",
    "Sakura", "Kaito", "Yuna", "Daiki", "Mio", "Kenta", "Nanami",
)  # fmt: skip
_ROLES: Final = ("inside", "field", "manager")

_CAMPAIGN_CHANNELS: Final = (
    "webinar",
    "seminar",
    "whitepaper",
    "ads",
    "exhibition",
    "referral",
    "outbound_list",
)
_CH_WEBINAR, _CH_SEMINAR, _CH_WHITEPAPER, _CH_ADS = 0, 1, 2, 3
_CH_EXHIBITION, _CH_REFERRAL, _CH_LIST = 4, 5, 6
_CAMPAIGN_TITLES: Final = (
    "Fleet DX Webinar",
    "Safe Driving Seminar",
    "Whitepaper Fuel Cost Guide",
    "Search Ads",
    "Logistics Expo",
    "Partner Referral Program",
    "Target Account List",
)

_ORIGINS: Final = ("inbound", "outbound")
_SOURCES: Final = (
    "web_form",
    "webinar",
    "seminar",
    "whitepaper",
    "ads",
    "referral",
    "exhibition",
    "list",
    "event_list",
    "cold",
)
_INBOUND_SOURCE_P: Final = (0.35, 0.15, 0.08, 0.15, 0.12, 0.07, 0.08, 0.0, 0.0, 0.0)
_OUTBOUND_SOURCE_P: Final = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.55, 0.20, 0.25)
# source -> (campaign channel it is attributed to, share attributed); -1 = none
_SOURCE_CAMPAIGN: Final = (
    (_CH_ADS, 0.40),
    (_CH_WEBINAR, 0.95),
    (_CH_SEMINAR, 0.95),
    (_CH_WHITEPAPER, 0.90),
    (_CH_ADS, 0.95),
    (_CH_REFERRAL, 0.80),
    (_CH_EXHIBITION, 0.95),
    (_CH_LIST, 0.60),
    (_CH_EXHIBITION, 0.90),
    (-1, 0.0),
)
_SRC_WEBINAR, _SRC_SEMINAR, _SRC_EXHIBITION, _SRC_EVENT_LIST = 1, 2, 6, 8
_FORM_SOURCES: Final = (0, 1, 2, 3, 4)  # inbound sources that convert on a web form

_STATUSES: Final = (
    "new",
    "working",
    "connected",
    "no_action_needed",
    "not_pursued_after_connect",
    "qualified",
    "recycled",
    "disqualified",
)
_ST_NEW, _ST_WORKING, _ST_CONNECTED, _ST_QUALIFIED, _ST_RECYCLED = 0, 1, 2, 5, 6
# status shares of leads without an SQL (those are "qualified"), in _STATUSES order:
# new, working, connected, no_action_needed, not_pursued_after_connect, qualified,
# recycled, disqualified
_STATUS_MIX: Final = (
    (0.85, 0.0, 0.0, 0.10, 0.0, 0.0, 0.0, 0.05),  # untouched, recent
    (0.35, 0.0, 0.0, 0.45, 0.0, 0.0, 0.0, 0.20),  # untouched, older
    (0.0, 0.80, 0.0, 0.10, 0.0, 0.0, 0.05, 0.05),  # touched, no connect, recent
    (0.0, 0.20, 0.0, 0.25, 0.0, 0.0, 0.30, 0.25),  # touched, no connect, older
    (0.0, 0.0, 0.60, 0.0, 0.15, 0.0, 0.10, 0.15),  # connected, recent
    (0.0, 0.0, 0.30, 0.0, 0.30, 0.0, 0.25, 0.15),  # connected, older
)
_PRIORITIES: Final = ("focus", "non_focus")
_RECYCLE_REASONS: Final = ("budget", "timing", "competitor", "no_need", "unreachable")
_DEPARTMENTS: Final = ("sales", "it", "general_affairs", "logistics", "management")
_DEPARTMENT_P: Final = (0.20, 0.16, 0.24, 0.22, 0.10, 0.08)  # last = missing
_TITLES: Final = ("staff", "manager", "director", "executive")
_TITLE_P: Final = (0.45, 0.30, 0.10, 0.05, 0.10)  # last = missing

_CHANNELS: Final = ("call", "email", "meeting", "web")
_CALL, _EMAIL, _MEETING, _WEB = 0, 1, 2, 3
_DIRECTIONS: Final = ("outbound", "inbound")
_OUTCOMES: Final = (
    "connected",
    "no_answer",
    "busy",
    "voicemail",
    "wrong_number",
    "bounced",
    "sent",
    "opened",
    "clicked",
    "replied",
    "scheduled",
    "held",
    "no_show",
    "page_view",
    "link_click",
    "form_submit",
)
(
    _O_CONNECTED,
    _O_NO_ANSWER,
    _O_BUSY,
    _O_VOICEMAIL,
    _O_WRONG_NUMBER,
    _O_BOUNCED,
    _O_SENT,
    _O_OPENED,
    _O_CLICKED,
    _O_REPLIED,
    _O_SCHEDULED,
    _O_HELD,
    _O_NO_SHOW,
    _O_PAGE_VIEW,
    _O_LINK_CLICK,
    _O_FORM_SUBMIT,
) = range(16)

_STAGES: Final = ("list", "proposal", "opportunity", "quote", "won", "lost")
_STAGE_WON, _STAGE_LOST = 4, 5
_VALID_STAGE: Final = 2  # entering "opportunity" = validated after the first meeting
_STAGE_PROBABILITY: Final = (0.10, 0.20, 0.40, 0.65)
_STAGE_GAP_MEDIAN_DAYS: Final = (4.0, 7.0, 12.0, 16.0)  # into stage 1..3, then close
_STAGE_GAP_CAP_DAYS: Final = (18, 26, 26, 40)
_PRODUCTS: Final = ("fleet_basic", "fleet_pro", "safety_addon")
_UNIT_PRICE_JPY: Final = (36_000.0, 66_000.0, 18_000.0)
_QUANTITY_MEDIAN: Final = (5.0, 25.0, 90.0, 220.0)

# weights by hour of day (0..23)
_LEAD_HOURS_WEEKDAY: Final = (
    0.15, 0.1, 0.08, 0.06, 0.06, 0.08, 0.15, 0.5, 1.2, 2.0, 2.6, 2.6,
    1.8, 2.4, 2.6, 2.5, 2.3, 2.0, 1.4, 1.1, 0.7, 0.5, 0.35, 0.2,
)  # fmt: skip
_LEAD_HOURS_WEEKEND: Final = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.3, 1.4,
    1.2, 1.3, 1.4, 1.4, 1.3, 1.2, 1.0, 1.0, 1.0, 0.9, 0.6, 0.4,
)  # fmt: skip
_OFFICE_HOURS: Final = (
    0, 0, 0, 0, 0, 0, 0, 0, 0.3, 1.5, 2.2, 2.2,
    0.6, 1.8, 2.2, 2.2, 2.2, 1.9, 1.0, 0.4, 0.1, 0, 0, 0,
)  # fmt: skip
# call connect multiplier by hour: better 10-11 and 16-17, worse at lunch
_CONNECT_BY_HOUR: Final = (
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.9, 1.35, 1.3,
    0.45, 0.8, 1.0, 1.0, 1.3, 1.25, 0.85, 0.7, 0.6, 0.5, 0.5, 0.5,
)  # fmt: skip
_LEAD_WEEKDAY_INBOUND: Final = (1.1, 1.05, 1.0, 1.0, 0.92, 0.14, 0.09)
_LEAD_WEEKDAY_OUTBOUND: Final = (1.0, 1.0, 1.0, 1.0, 1.0, 0.01, 0.005)


# ------------------------------------------------------------------ small helpers


@dataclass(frozen=True)
class _Span:
    """The data window ``[start_s, end_s)`` in naive epoch seconds."""

    start_s: int
    end_s: int

    @property
    def start_day(self) -> int:
        return self.start_s // _DAY

    @property
    def end_day(self) -> int:
        """First day after the window."""
        return self.end_s // _DAY


def _span(start: str, months: int) -> _Span:
    """Parse ``start`` (a date) and compute the window of ``months`` months."""
    ts = pd.Timestamp(start)
    if ts.tzinfo is not None:
        msg = f"start must be a naive date (wall-clock time), got {start!r}"
        raise ValueError(msg)
    ts = ts.normalize()
    end = ts + pd.DateOffset(months=months)
    epoch = pd.Timestamp(0)
    return _Span(
        int((ts - epoch) // pd.Timedelta(seconds=1)),
        int((end - epoch) // pd.Timedelta(seconds=1)),
    )


def _pick(rng: np.random.Generator, weights: Sequence[float] | F64, n: int) -> I64:
    """Draw ``n`` category codes with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def _pick_rows(rng: np.random.Generator, p: F64) -> I64:
    """One draw per row of a (rows x categories) probability matrix."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cdf[:, -1]
    codes: I64 = np.minimum((u[:, None] >= cdf).sum(axis=1), p.shape[1] - 1).astype(np.int64)
    return codes


def _with_missing(rng: np.random.Generator, codes: I64, p_missing: float) -> I64:
    return np.where(rng.random(len(codes)) < p_missing, -1, codes).astype(np.int64)


def _weekday(days: I64) -> I64:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _to_business_day(rng: np.random.Generator, days: I64, p_shift: float = 1.0) -> I64:
    """Move weekend days to the following Monday (with probability ``p_shift``)."""
    wd = _weekday(days)
    shift = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    if p_shift < 1.0:
        shift = np.where(rng.random(len(days)) < p_shift, shift, 0)
    return (days + shift).astype(np.int64)


def _clock(rng: np.random.Generator, hour_weights: Sequence[float], n: int) -> I64:
    """Seconds after midnight with the given hour-of-day profile."""
    return _pick(rng, hour_weights, n) * _HOUR + rng.integers(0, _HOUR, n)


def _office_time(rng: np.random.Generator, days: I64) -> I64:
    """A working-hours timestamp on each of ``days``."""
    return days * _DAY + _clock(rng, _OFFICE_HOURS, len(days))


def _within_office_hours(rng: np.random.Generator, t: I64) -> I64:
    """Times outside 8:00-20:00 or at weekends move to the next business morning."""
    day = t // _DAY
    off = (_hour(t) < 8) | (_hour(t) >= 20) | (_weekday(day) >= 5)
    next_day = _to_business_day(rng, np.where(_hour(t) < 8, day, day + 1))
    morning = next_day * _DAY + 9 * _HOUR + rng.integers(0, 2 * _HOUR, len(t))
    return np.where(off, morning, t).astype(np.int64)


def _hour(t: I64) -> I64:
    return (t % _DAY) // _HOUR


# ----------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class _Accounts:
    n: int
    industry: I64
    region: I64
    band: I64  # true employee band, known even when employees is missing
    employees: I64
    employees_known: Bool
    revenue: F64
    is_target: Bool
    tier: I64
    name_codes: I64  # index into _company_names()


def _make_accounts(rng: np.random.Generator, n: int) -> _Accounts:
    industry_true = _pick(rng, _INDUSTRY_P, n)
    industry = _with_missing(rng, industry_true, 0.03)
    region = _with_missing(rng, _pick(rng, _REGION_P, n), 0.02)
    band = _pick(rng, _BAND_P, n)
    low = np.asarray(_BAND_LOW, dtype=np.float64)[band]
    high = np.asarray(_BAND_HIGH, dtype=np.float64)[band]
    # log-uniform inside the band (the top band is heavier at the low end)
    u = rng.random(n) ** np.where(band == 3, 2.0, 1.0)
    employees = np.floor(np.exp(np.log(low) + u * (np.log(high + 1) - np.log(low))))
    employees = np.clip(employees, low, high).astype(np.int64)
    employees_known = rng.random(n) >= 0.04
    per_employee = 22e6 * np.asarray(_REVENUE_PER_EMPLOYEE_MULT)[industry_true]
    per_employee *= rng.lognormal(0.0, 0.45, n)
    revenue = np.round(employees * per_employee / 1e6) * 1e6
    revenue = np.where(employees_known & (rng.random(n) >= 0.03), revenue, np.nan)
    is_target = rng.random(n) < np.asarray((0.04, 0.08, 0.20, 0.30))[band]
    tier = np.where(band == 3, 0, np.where(rng.random(n) < 0.25, 0, 1))
    tier = np.where(is_target, tier, -1).astype(np.int64)
    core = np.where(industry < 0, len(_NAME_CORES) - 1, industry)
    n_cores = sum(len(group) for group in _NAME_CORES)
    core_code = core * len(_NAME_CORES[0]) + rng.integers(0, len(_NAME_CORES[0]), n)
    name_codes = (rng.integers(0, len(_NAME_PREFIXES), n) * n_cores + core_code) * len(
        _NAME_SUFFIXES
    ) + _pick(rng, (0.45, 0.35, 0.12, 0.08), n)
    return _Accounts(
        n=n,
        industry=industry,
        region=region,
        band=band,
        employees=employees,
        employees_known=employees_known,
        revenue=revenue,
        is_target=is_target,
        tier=tier,
        name_codes=name_codes.astype(np.int64),
    )


# --------------------------------------------------------------------------- reps


@dataclass(frozen=True)
class _Reps:
    n_inside: int
    n_field: int
    n_manager: int
    inside_weight: F64
    field_weight: F64
    field_segment: I64  # band code, -1 = none
    name_codes: I64

    @property
    def n(self) -> int:
        return self.n_inside + self.n_field + self.n_manager

    @property
    def field_offset(self) -> int:
        return self.n_inside

    @property
    def manager_offset(self) -> int:
        return self.n_inside + self.n_field


def _make_reps(rng: np.random.Generator, leads: int) -> _Reps:
    n_inside = max(4, round(leads / 150))
    n_field = max(3, round(n_inside / 2))
    n_manager = 1 if leads < 5000 else 2
    field_segment = np.arange(n_field, dtype=np.int64) % len(_BANDS)
    field_segment[-1] = -1  # one generalist FS rep: no segment, no capacity
    field_weight = rng.lognormal(0.0, 0.5, n_field)
    field_weight[0] *= 2.0  # the overloaded rep (gets a small explicit capacity)
    n = n_inside + n_field + n_manager
    name_codes = rng.integers(0, len(_GIVEN_NAMES), n) * len(_SURNAMES) + rng.integers(
        0, len(_SURNAMES), n
    )
    return _Reps(
        n_inside=n_inside,
        n_field=n_field,
        n_manager=n_manager,
        inside_weight=rng.lognormal(0.0, 0.35, n_inside),
        field_weight=field_weight,
        field_segment=field_segment,
        name_codes=name_codes.astype(np.int64),
    )


# ---------------------------------------------------------------------- campaigns


@dataclass(frozen=True)
class _Campaigns:
    channel: I64
    started_day: I64  # sorted ascending; index = campaign code


def _make_campaigns(rng: np.random.Generator, span: _Span) -> _Campaigns:
    n = int(rng.integers(8, 13))
    s, e = span.start_day, span.end_day
    always_on = np.asarray([_CH_ADS, _CH_WHITEPAPER, _CH_REFERRAL, _CH_LIST])
    always_start = s - rng.integers(0, 90, len(always_on))
    n_extra = n - len(always_on) - 3
    extra = _pick(rng, (0.40, 0.25, 0.15, 0.12, 0.08), n_extra)
    extra_channel = np.asarray([_CH_WEBINAR, _CH_SEMINAR, _CH_EXHIBITION, _CH_WHITEPAPER, _CH_ADS])[
        extra
    ]
    events = np.concatenate([[_CH_WEBINAR, _CH_SEMINAR, _CH_EXHIBITION], extra_channel])
    # events launch early enough for their registrations and list imports to fit
    lo, hi = s + 7, max(s + 8, e - 21)
    event_start = rng.integers(lo, hi, len(events))
    channel = np.concatenate([always_on, events]).astype(np.int64)
    started = np.concatenate([always_start, event_start]).astype(np.int64)
    order = np.lexsort((channel, started))
    return _Campaigns(channel=channel[order], started_day=started[order])


def _campaign_names(c: _Campaigns) -> list[str]:
    names = []
    for ch, day in zip(c.channel.tolist(), c.started_day.tolist(), strict=True):
        when = pd.Timestamp(day * _DAY, unit="s")
        names.append(f"{_CAMPAIGN_TITLES[ch]} {when:%Y-%m}")
    return names


# -------------------------------------------------------------------------- leads


@dataclass(frozen=True)
class _Leads:
    n: int
    created: I64
    inbound: Bool
    source: I64
    campaign: I64
    account: I64
    owner: I64  # rep index, -1 = unassigned
    priority: I64
    department: I64
    title: I64
    reach: F64  # call connect propensity
    engagement: F64  # email engagement multiplier
    bad_phone: Bool
    bad_email: Bool


def _lead_day_weights(span: _Span, weekday_factor: Sequence[float]) -> F64:
    days = np.arange(span.start_day, span.end_day, dtype=np.int64)
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    w = np.asarray(weekday_factor)[_weekday(days)]
    w = w * (1.0 + 0.3 * np.arange(len(days)) / max(1, len(days)))  # growth
    new_year = ((month == 12) & (dom >= 29)) | ((month == 1) & (dom <= 3))
    golden_week = ((month == 4) & (dom >= 29)) | ((month == 5) & (dom <= 5))
    obon = (month == 8) & (dom >= 13) & (dom <= 16)
    w = np.where(new_year, w * 0.15, np.where(golden_week, w * 0.3, w))
    return np.where(obon, w * 0.4, w)


def _lead_times(
    rng: np.random.Generator,
    span: _Span,
    inbound: Bool,
    source: I64,
    campaigns: _Campaigns,
) -> tuple[I64, I64]:
    """Creation timestamps and event campaign codes (-1 when not event-driven)."""
    n = len(inbound)
    days = np.empty(n, dtype=np.int64)
    for mask, factor in (
        (inbound, _LEAD_WEEKDAY_INBOUND),
        (~inbound, _LEAD_WEEKDAY_OUTBOUND),
    ):
        w = _lead_day_weights(span, factor)
        days[mask] = span.start_day + _pick(rng, w, int(mask.sum()))
    # event sources: registrations from the launch (started_on) to the event about two
    # or three weeks later, booth scans at the exhibition, list imports after it
    campaign = np.full(n, -1, dtype=np.int64)
    for src, ch, lag_lo, lag_hi in (
        (_SRC_WEBINAR, _CH_WEBINAR, 0, 16),
        (_SRC_SEMINAR, _CH_SEMINAR, 0, 22),
        (_SRC_EXHIBITION, _CH_EXHIBITION, 0, 3),
        (_SRC_EVENT_LIST, _CH_EXHIBITION, 3, 12),
    ):
        mask = source == src
        (events,) = np.nonzero(campaigns.channel == ch)
        k = int(mask.sum())
        chosen = events[rng.integers(0, len(events), k)]
        day = campaigns.started_day[chosen] + rng.integers(lag_lo, lag_hi, k)
        days[mask] = np.clip(day, span.start_day, span.end_day - 1)
        campaign[mask] = chosen
    weekend = _weekday(days) >= 5
    clock = np.where(
        weekend,
        _clock(rng, _LEAD_HOURS_WEEKEND, n),
        _clock(rng, _LEAD_HOURS_WEEKDAY, n),
    )
    clock = np.where(inbound, clock, _clock(rng, _OFFICE_HOURS, n))
    return (days * _DAY + clock).astype(np.int64), campaign


def _attribute_campaigns(
    rng: np.random.Generator,
    created: I64,
    source: I64,
    event_campaign: I64,
    campaigns: _Campaigns,
) -> I64:
    """Latest campaign of the source's channel started on or before creation."""
    campaign = event_campaign.copy()
    created_day = created // _DAY
    for src, (ch, share) in enumerate(_SOURCE_CAMPAIGN):
        if ch < 0:
            continue
        mask = (source == src) & (campaign < 0)
        (codes,) = np.nonzero(campaigns.channel == ch)
        pos = np.searchsorted(campaigns.started_day[codes], created_day[mask], "right")
        found = np.where(pos > 0, codes[np.maximum(pos - 1, 0)], -1)
        campaign[mask] = found
        drop = (source == src) & (rng.random(len(source)) >= share)
        campaign[drop] = -1
    return _with_missing(rng, campaign, 0.04)


def _make_leads(
    rng: np.random.Generator,
    span: _Span,
    n: int,
    accounts: _Accounts,
    reps: _Reps,
    campaigns: _Campaigns,
) -> _Leads:
    inbound = rng.random(n) < 0.6
    source = np.where(
        inbound,
        _pick(rng, _INBOUND_SOURCE_P, n),
        _pick(rng, _OUTBOUND_SOURCE_P, n),
    ).astype(np.int64)
    created, event_campaign = _lead_times(rng, span, inbound, source, campaigns)
    order = np.argsort(created, kind="stable")
    created, inbound = created[order], inbound[order]
    source, event_campaign = source[order], event_campaign[order]
    campaign = _attribute_campaigns(rng, created, source, event_campaign, campaigns)
    source = _with_missing(rng, source, 0.01)

    # bigger companies produce more leads; outbound (ABM / BDR) favours targets
    size_w = np.asarray((1.0, 1.3, 1.6, 2.0))[accounts.band]
    size_w = size_w * rng.lognormal(0.0, 0.6, accounts.n)
    out_w = size_w * np.where(accounts.is_target, 4.0, 1.0)
    account = np.where(inbound, _pick(rng, size_w, n), _pick(rng, out_w, n)).astype(np.int64)
    account = _with_missing(rng, account, 0.10)
    target = (account >= 0) & accounts.is_target[np.maximum(account, 0)]

    owner = _with_missing(rng, _pick(rng, reps.inside_weight, n), 0.04)
    p_focus = np.where(target, 0.55, 0.18)
    u = rng.random(n)
    priority = np.where(u < p_focus, 0, np.where(u < p_focus + 0.6 * (1 - p_focus), 1, -1))
    department = _pick(rng, _DEPARTMENT_P, n)
    department = np.where(department == len(_DEPARTMENTS), -1, department)
    title = _pick(rng, _TITLE_P, n)
    title = np.where(title == len(_TITLES), -1, title)

    reach = rng.beta(2.0, 8.0, n) * np.where(inbound, 1.2, 0.75)
    bad_phone = rng.random(n) < 0.04
    reach = np.where(bad_phone, 0.01, reach)
    return _Leads(
        n=n,
        created=created,
        inbound=inbound,
        source=source,
        campaign=campaign,
        account=account,
        owner=owner,
        priority=priority.astype(np.int64),
        department=department.astype(np.int64),
        title=title.astype(np.int64),
        reach=reach,
        engagement=rng.gamma(4.0, 0.25, n),
        bad_phone=bad_phone,
        bad_email=rng.random(n) < 0.025,
    )


# --------------------------------------------------------------------- activities


@dataclass(frozen=True)
class _Acts:
    """Activity rows as parallel arrays (narrow dtypes: ten million rows move fast)."""

    lead: I32  # -1 = account-level
    owner: I32  # rep index, -1 = none
    t: I64
    channel: I8
    inbound: Bool
    outcome: I8
    duration: F64
    key_person: Bool


def _acts(
    lead: Codes,
    owner: Codes,
    t: I64,
    channel: Codes | int,
    inbound: Bool | bool,
    outcome: Codes | int,
    duration: F64 | None = None,
    key_person: Bool | None = None,
) -> _Acts:
    n = len(t)
    return _Acts(
        lead=lead.astype(np.int32),
        owner=owner.astype(np.int32),
        t=t.astype(np.int64),
        channel=np.broadcast_to(np.asarray(channel, dtype=np.int8), n).copy(),
        inbound=np.broadcast_to(np.asarray(inbound, dtype=np.bool_), n).copy(),
        outcome=np.broadcast_to(np.asarray(outcome, dtype=np.int8), n).copy(),
        duration=np.full(n, np.nan) if duration is None else duration,
        key_person=np.zeros(n, dtype=np.bool_) if key_person is None else key_person,
    )


def _concat_acts(parts: Sequence[_Acts]) -> _Acts:
    return _Acts(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Acts)}
    )


def _take_acts(a: _Acts, index: I64 | Bool) -> _Acts:
    return _Acts(**{f.name: getattr(a, f.name)[index] for f in fields(_Acts)})


def _first_touch(rng: np.random.Generator, leads: _Leads) -> I64:
    """Time of each lead's first outbound touch (speed to lead)."""
    n = leads.n
    c = leads.created
    cday = c // _DAY
    u = rng.random(n)
    p_same = np.where(leads.inbound, 0.64, 0.30)
    p_next = p_same + np.where(leads.inbound, 0.22, 0.30)
    p_soon = p_next + np.where(leads.inbound, 0.10, 0.25)
    delay = np.where(
        leads.inbound,
        180 + rng.exponential(50 * _MINUTE, n),
        rng.uniform(10 * _MINUTE, 4 * _HOUR, n),
    ).astype(np.int64)
    same = c + delay
    feasible = (_weekday(cday) < 5) & (same // _DAY == cday)
    feasible &= (_hour(same) >= 8) & (_hour(same) < 20)
    next_day = _office_time(rng, _to_business_day(rng, cday + 1))
    soon = _office_time(rng, _to_business_day(rng, cday + rng.integers(2, 6, n)))
    late = _office_time(rng, _to_business_day(rng, cday + rng.integers(6, 21, n)))
    t = np.where(
        u < p_same,
        np.where(feasible, same, next_day),
        np.where(u < p_next, next_day, np.where(u < p_soon, soon, late)),
    )
    # occasionally the rep logs a call before the lead record exists
    office = (_weekday(cday) < 5) & (_hour(c) >= 9) & (_hour(c) < 19)
    early = office & (rng.random(n) < 0.015)
    t = np.where(early, c - rng.integers(_MINUTE, _HOUR, n), t)
    return t.astype(np.int64)


def _touch_plan(rng: np.random.Generator, leads: _Leads) -> tuple[I64, I64, I64, Bool]:
    """Cadence calls, cadence emails and later follow-ups per lead."""
    n = leads.n
    owned = leads.owner >= 0
    p_work = np.where(owned, np.where(leads.inbound, 0.95, 0.86), 0.15)
    worked = rng.random(n) < p_work
    full = worked & (rng.random(n) < np.where(leads.inbound, 0.60, 0.50))
    calls = np.where(full, 5 + np.minimum(rng.poisson(1.3, n), 4), rng.integers(1, 6, n))
    emails = np.where(full, 2 + np.minimum(rng.poisson(0.8, n), 3), rng.integers(0, 3, n))
    tail = np.minimum(rng.poisson(4.0, n), 12)
    return (
        (calls * worked).astype(np.int64),
        (emails * worked).astype(np.int64),
        (tail * worked).astype(np.int64),
        full,
    )


def _call_outcomes(rng: np.random.Generator, leads: _Leads, lead: I64, t: I64, boost: F64) -> I64:
    """Outcome of outbound calls: lead reachability x hour-of-day effect."""
    n = len(t)
    p = leads.reach[lead] * np.asarray(_CONNECT_BY_HOUR)[_hour(t)] * boost
    connected = rng.random(n) < np.clip(p, 0.0, 0.85)
    miss = _pick(rng, (0.58, 0.10, 0.27, 0.05), n) + _O_NO_ANSWER
    miss = np.where(leads.bad_phone[lead] & (rng.random(n) < 0.6), _O_WRONG_NUMBER, miss)
    return np.where(connected, _O_CONNECTED, miss).astype(np.int64)


def _call_durations(rng: np.random.Generator, outcome: Codes) -> F64:
    """Talk time: 60-900 s when connected, 0-40 s otherwise."""
    out = np.empty(len(outcome), dtype=np.float64)
    conn = outcome == _O_CONNECTED
    out[conn] = np.clip(rng.lognormal(np.log(240.0), 0.6, int(conn.sum())), 60, 900)
    for code, low, high in (
        (_O_NO_ANSWER, 0, 30),
        (_O_BUSY, 0, 5),
        (_O_VOICEMAIL, 15, 40),
        (_O_WRONG_NUMBER, 5, 40),
    ):
        mask = outcome == code
        out[mask] = rng.uniform(low, high, int(mask.sum()))
    return np.round(out)


def _email_outcomes(rng: np.random.Generator, leads: _Leads, lead: I64) -> I64:
    """Furthest engagement reached by outbound emails (open ~30%, click ~8%)."""
    n = len(lead)
    eng = leads.engagement[lead]
    u = rng.random(n)
    reply, click, opened = 0.031 * eng, 0.052 * eng, 0.22 * eng
    outcome = np.where(
        u < reply,
        _O_REPLIED,
        np.where(
            u < reply + click,
            _O_CLICKED,
            np.where(u < np.minimum(reply + click + opened, 0.95), _O_OPENED, _O_SENT),
        ),
    )
    bounced = leads.bad_email[lead] | (rng.random(n) < 0.006)
    return np.where(bounced, _O_BOUNCED, outcome).astype(np.int64)


def _touch_times(
    rng: np.random.Generator,
    leads: _Leads,
    lead: I64,
    pos: I64,
    is_tail: Bool,
    full: Bool,
) -> I64:
    """First touch, cadence touches inside the window, follow-ups weeks later."""
    first = _first_touch(rng, leads)
    t = np.empty(len(lead), dtype=np.int64)
    head = pos == 0
    t[head] = first[lead[head]]
    (cad,) = np.nonzero(~head & ~is_tail)
    first_c = first[lead[cad]]
    window = np.where(full[lead[cad]], 13, 21)
    offset = np.floor(rng.random(len(cad)) * window).astype(np.int64)
    cad_t = _office_time(rng, _to_business_day(rng, first_c // _DAY + offset, 0.93))
    early = cad_t <= first_c
    soon = first_c[early] + rng.integers(300, 3 * _HOUR, int(early.sum()))
    cad_t[early] = _within_office_hours(rng, soon)
    t[cad] = cad_t
    (tail,) = np.nonzero(is_tail)
    tail_day = leads.created[lead[tail]] // _DAY + rng.integers(15, 151, len(tail))
    t[tail] = _office_time(rng, _to_business_day(rng, tail_day, 0.95))
    return t


def _outbound_touches(rng: np.random.Generator, leads: _Leads, reps: _Reps) -> _Acts:
    """The IS cadence: first touch, calls and emails in the window, later follow-ups."""
    calls, emails, tail, full = _touch_plan(rng, leads)
    k = calls + emails + tail
    lead = np.repeat(np.arange(leads.n, dtype=np.int64), k)
    total = len(lead)
    pos = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(k) - k, k)
    email_first = (emails > 0) & (rng.random(leads.n) < 0.15)
    n_cad = (calls + emails)[lead]
    is_tail = pos >= n_cad
    is_call = np.where(email_first[lead], pos >= emails[lead], pos < calls[lead])
    is_call = np.where(is_tail, rng.random(total) < 0.5, is_call)
    t = _touch_times(rng, leads, lead, pos, is_tail, full)

    # owner: the lead's IS owner (someone picks up unassigned leads), a colleague now and then
    lead_owner = np.where(leads.owner >= 0, leads.owner, _pick(rng, reps.inside_weight, leads.n))
    owner = lead_owner[lead]
    cover = rng.random(total) < 0.04
    owner[cover] = _pick(rng, reps.inside_weight, int(cover.sum()))

    outcome = np.empty(total, dtype=np.int64)
    duration = np.full(total, np.nan)
    (ci,) = np.nonzero(is_call)
    cl, ct = lead[ci], t[ci]
    quick = (pos[ci] == 0) & leads.inbound[cl] & (ct - leads.created[cl] < _HOUR)
    outcome[ci] = _call_outcomes(rng, leads, cl, ct, np.where(quick, 1.4, 1.0))
    duration[ci] = _call_durations(rng, outcome[ci])
    (ei,) = np.nonzero(~is_call)
    outcome[ei] = _email_outcomes(rng, leads, lead[ei])
    return _acts(lead, owner, t, np.where(is_call, _CALL, _EMAIL), False, outcome, duration)


def _inbound_responses(rng: np.random.Generator, out: _Acts) -> _Acts:
    """Call-backs after missed calls and email replies."""
    missed = (out.channel == _CALL) & np.isin(out.outcome, (_O_NO_ANSWER, _O_VOICEMAIL))
    (cb,) = np.nonzero(missed & (rng.random(len(missed)) < 0.06))
    cb_outcome = (
        np.asarray((_O_CONNECTED, _O_NO_ANSWER, _O_VOICEMAIL))[
            _pick(rng, (0.75, 0.20, 0.05), len(cb))
        ]
    ).astype(np.int64)
    callbacks = _acts(
        out.lead[cb],
        out.owner[cb],
        _within_office_hours(rng, out.t[cb] + rng.integers(10 * _MINUTE, 26 * _HOUR, len(cb))),
        _CALL,
        True,
        cb_outcome,
        _call_durations(rng, cb_outcome),
    )
    replied = (out.channel == _EMAIL) & (out.outcome == _O_REPLIED)
    (rp,) = np.nonzero(replied & (rng.random(len(replied)) < 0.7))
    replies = _acts(
        out.lead[rp],
        out.owner[rp],
        out.t[rp] + rng.integers(5 * _MINUTE, 48 * _HOUR, len(rp)),
        _EMAIL,
        True,
        _O_REPLIED,
    )
    return _concat_acts([callbacks, replies])


def _is_connect(a: _Acts) -> Bool:
    """DESIGN section 3: a connected call, a replied email or a held meeting."""
    connect: Bool = (
        ((a.channel == _CALL) & (a.outcome == _O_CONNECTED))
        | ((a.channel == _EMAIL) & (a.outcome == _O_REPLIED))
        | ((a.channel == _MEETING) & (a.outcome == _O_HELD))
    )
    return connect


def _first_connect(parts: Sequence[_Acts], n_leads: int) -> I64:
    """Earliest connect per lead (int64 max when none)."""
    out = np.full(n_leads, np.iinfo(np.int64).max, dtype=np.int64)
    for a in parts:
        m = _is_connect(a) & (a.lead >= 0)
        np.minimum.at(out, a.lead[m], a.t[m])
    return out


def _thin_after_connect(rng: np.random.Generator, a: _Acts, first_connect: I64) -> Bool:
    """Rows to keep: most of the cadence stops once the lead has been reached."""
    after = a.t > first_connect[a.lead]
    return ~after | (rng.random(len(a.t)) < np.where(a.channel == _EMAIL, 0.45, 0.3))


def _web_activity(rng: np.random.Generator, leads: _Leads, touches: _Acts, kept: Bool) -> _Acts:
    """Form submits at conversion, page-view bursts, link clicks from emails."""
    n = leads.n
    form = leads.inbound & np.isin(leads.source, _FORM_SOURCES) & (rng.random(n) < 0.9)
    (fl,) = np.nonzero(form)
    (al,) = np.nonzero(rng.random(n) < 0.05)  # converting again later
    form_t = np.concatenate(
        [leads.created[fl], leads.created[al] + rng.integers(3 * _DAY, 200 * _DAY, len(al))]
    )
    forms = _acts(
        np.concatenate([fl, al]), np.full(len(form_t), -1), form_t, _WEB, True, _O_FORM_SUBMIT
    )

    browsing = rng.random(n) < np.where(leads.inbound, 0.45, 0.12)
    bursts = np.where(browsing, 1 + rng.poisson(1.8, n), 0)
    b_lead = np.repeat(np.arange(n, dtype=np.int64), bursts)
    nb = len(b_lead)
    b_start = leads.created[b_lead] + (rng.exponential(25.0, nb) * _DAY).astype(np.int64)
    b_start = np.where(
        rng.random(nb) < 0.12,
        leads.created[b_lead] - rng.integers(_HOUR, 3 * _DAY, nb),
        b_start,
    )
    size = np.minimum(rng.geometric(0.28, nb), 15)
    p_lead = np.repeat(b_lead, size)
    p_burst = np.repeat(np.arange(nb, dtype=np.int64), size)
    gaps = rng.exponential(70.0, len(p_lead)).astype(np.int64) + 5
    csum = np.cumsum(gaps)
    seg = np.cumsum(size) - size
    offset = csum - np.repeat(csum[seg] - gaps[seg], size)
    views = _acts(
        p_lead, np.full(len(p_lead), -1), b_start[p_burst] + offset, _WEB, True, _O_PAGE_VIEW
    )

    clicked = (touches.channel == _EMAIL) & np.isin(touches.outcome, (_O_CLICKED, _O_REPLIED))
    clicked &= kept
    (ci,) = np.nonzero(clicked & (rng.random(len(clicked)) < 0.6))
    clicks = _acts(
        touches.lead[ci],
        np.full(len(ci), -1),
        touches.t[ci] + rng.integers(30, 2 * _HOUR, len(ci)),
        _WEB,
        True,
        _O_LINK_CLICK,
    )
    return _concat_acts([forms, views, clicks])


def _account_calls(
    rng: np.random.Generator, span: _Span, accounts: _Accounts, reps: _Reps, n: int
) -> tuple[I64, _Acts]:
    """Account-level BDR calls (no lead): mostly target accounts, key people."""
    (targets,) = np.nonzero(accounts.is_target)
    if len(targets) == 0:
        targets = np.arange(accounts.n, dtype=np.int64)
    account = np.where(
        rng.random(n) < 0.7,
        targets[rng.integers(0, len(targets), n)],
        rng.integers(0, accounts.n, n),
    ).astype(np.int64)
    days = _to_business_day(rng, rng.integers(span.start_day, span.end_day, n))
    t = _office_time(rng, days)
    connected = rng.random(n) < 0.22 * np.asarray(_CONNECT_BY_HOUR)[_hour(t)]
    miss = _pick(rng, (0.58, 0.10, 0.27, 0.05), n) + _O_NO_ANSWER
    outcome = np.where(connected, _O_CONNECTED, miss).astype(np.int64)
    key = connected & (rng.random(n) < 0.35)
    acts = _acts(
        np.full(n, -1, dtype=np.int64),
        _pick(rng, reps.inside_weight, n),
        t,
        _CALL,
        False,
        outcome,
        _call_durations(rng, outcome),
        key,
    )
    return account, acts


def _key_person(rng: np.random.Generator, leads: _Leads, a: _Acts) -> Bool:
    """About one connected call in five reaches a decision maker."""
    title = leads.title[np.maximum(a.lead, 0)]
    p = np.select([title >= 2, title == 1], [0.37, 0.22], 0.12)
    conn = (a.channel == _CALL) & (a.outcome == _O_CONNECTED) & (a.lead >= 0)
    key: Bool = (conn & (rng.random(len(a.t)) < p)) | a.key_person
    return key


# ------------------------------------------------------------------ opportunities


@dataclass(frozen=True)
class _Opps:
    lead: I64
    account: I64
    owner: I64  # FS rep index within the field reps
    created: I64
    origin: I64
    campaign: I64
    product: I64
    quantity: I64
    quantity_known: Bool
    amount: F64
    attendees: I64
    attendees_known: Bool
    times: I64  # (m, 5): entered list, proposal, opportunity, quote; then closed
    reached: I64  # last stage entered before the end (0..3)
    result: I64  # _STAGE_WON, _STAGE_LOST or -1 (open at the end)
    is_won_missing: Bool
    probability: F64


def _sql_leads(
    rng: np.random.Generator, span: _Span, leads: _Leads, accounts: _Accounts, fc: I64
) -> tuple[I64, I64]:
    """Leads handed to field sales and the SQL creation time."""
    band = np.where(leads.account >= 0, accounts.band[np.maximum(leads.account, 0)], 1)
    p = np.where(leads.inbound, 0.21, 0.11) * np.asarray((0.8, 1.0, 1.15, 1.25))[band]
    p = p * np.where(leads.priority == 0, 1.25, 1.0)
    connected = fc < span.end_s
    sql = connected & (rng.random(leads.n) < p)
    (idx,) = np.nonzero(sql)
    first = np.maximum(fc[idx], leads.created[idx])  # a connect may precede the record
    same_day = rng.random(len(idx)) < 0.3
    later_day = _to_business_day(rng, first // _DAY + rng.geometric(0.3, len(idx)))
    created = np.where(
        same_day,
        _within_office_hours(rng, first + rng.integers(10 * _MINUTE, 3 * _HOUR, len(idx))),
        _office_time(rng, later_day),
    )
    created = np.maximum(created, first + _MINUTE)
    # a few leads come back for a second deal (usually the safety add-on)
    (again,) = np.nonzero(rng.random(len(idx)) < 0.04)
    second_day = _to_business_day(rng, created[again] // _DAY + rng.integers(30, 200, len(again)))
    lead_idx = np.concatenate([idx, idx[again]])
    created = np.concatenate([created, _office_time(rng, second_day)])
    keep = created < span.end_s
    return lead_idx[keep].astype(np.int64), created[keep].astype(np.int64)


def _allocate(rng: np.random.Generator, reps: _Reps, band: I64) -> I64:
    """FS owner per SQL: the rep of the account's segment, skewed by rep weights."""
    m = len(band)
    owner = _pick(rng, reps.field_weight, m)
    use_segment = rng.random(m) < 0.8
    for b in range(len(_BANDS)):
        (members,) = np.nonzero(reps.field_segment == b)
        mask = use_segment & (band == b)
        if len(members) and mask.any():
            owner[mask] = members[_pick(rng, reps.field_weight[members], int(mask.sum()))]
    return owner


def _stage_timeline(
    rng: np.random.Generator, span: _Span, created: I64, target_stage: I64, closes: Bool
) -> I64:
    """Entry times of list, proposal, opportunity, quote and the close (-1 = never).

    Every step takes at least one day, so the times increase strictly; the caps
    keep a close within 120 days of creation. Nothing is kept after the end.
    """
    m = len(created)
    times = np.full((m, 5), -1, dtype=np.int64)
    times[:, 0] = created
    day = created // _DAY
    for k in range(1, 4):
        median = _STAGE_GAP_MEDIAN_DAYS[k - 1]
        gap = np.ceil(rng.lognormal(np.log(median), 0.6, m)).astype(np.int64)
        day = _to_business_day(rng, day + np.clip(gap, 1, _STAGE_GAP_CAP_DAYS[k - 1]))
        times[:, k] = np.where(target_stage >= k, _office_time(rng, day), -1)
    last = times[np.arange(m), target_stage]
    close_median = np.asarray((10.0, 12.0, 14.0, _STAGE_GAP_MEDIAN_DAYS[3]))[target_stage]
    gap = np.ceil(rng.lognormal(np.log(close_median), 0.6)).astype(np.int64)
    day = _to_business_day(rng, last // _DAY + np.clip(gap, 2, _STAGE_GAP_CAP_DAYS[3]))
    times[:, 4] = np.where(closes, _office_time(rng, day), -1)
    return np.where(times >= span.end_s, -1, times)


def _make_opps(
    rng: np.random.Generator,
    span: _Span,
    leads: _Leads,
    accounts: _Accounts,
    reps: _Reps,
    fc: I64,
) -> _Opps:
    lead, created = _sql_leads(rng, span, leads, accounts, fc)
    n_lead_opps = len(lead)
    # a few account-only opportunities (ABM deals without a lead record)
    n_acc = max(1, round(0.02 * n_lead_opps))
    (targets,) = np.nonzero(accounts.is_target)
    pool = targets if len(targets) else np.arange(accounts.n, dtype=np.int64)
    acc_only = pool[rng.integers(0, len(pool), n_acc)]
    acc_created = _office_time(
        rng, _to_business_day(rng, rng.integers(span.start_day, span.end_day - 3, n_acc))
    )
    acc_created = np.minimum(acc_created, span.end_s - 1)

    lead = np.concatenate([lead, np.full(n_acc, -1, dtype=np.int64)])
    own_account = np.concatenate([np.full(n_lead_opps, -1, dtype=np.int64), acc_only])
    created = np.concatenate([created, acc_created])
    order = np.argsort(created, kind="stable")
    lead, created, own_account = lead[order], created[order], own_account[order]
    has_lead = lead >= 0
    li = np.maximum(lead, 0)
    account = np.where(has_lead, leads.account[li], own_account)
    m = len(lead)
    origin = np.where(has_lead, np.where(leads.inbound[li], 0, 1), 1)
    origin = _with_missing(rng, origin, 0.03)
    campaign = np.where(has_lead, leads.campaign[li], -1)

    ai = np.maximum(account, 0)
    known_band = (account >= 0) & accounts.employees_known[ai]
    band = np.where(account >= 0, accounts.band[ai], _pick(rng, _BAND_P, m))
    owner = _allocate(rng, reps, np.where(known_band, band, -1))

    big = band >= 2
    product = np.where(big, _pick(rng, (0.40, 0.45, 0.15), m), _pick(rng, (0.58, 0.27, 0.15), m))
    first_deal = np.zeros(m, dtype=np.bool_)
    first_deal[np.unique(np.where(has_lead, lead, -1), return_index=True)[1]] = True
    product = np.where(has_lead & ~first_deal & (rng.random(m) < 0.6), 2, product)
    qty = np.asarray(_QUANTITY_MEDIAN)[band] * rng.lognormal(0.0, 0.6, m)
    quantity = np.clip(np.round(qty), 1, 500).astype(np.int64)
    amount = 250_000 + quantity * np.asarray(_UNIT_PRICE_JPY)[product] * rng.lognormal(0.0, 0.3, m)
    amount = np.where(amount > 20e6, 20e6 * rng.uniform(0.8, 1.0, m), amount)
    amount = np.round(np.clip(amount, 300_000, 20e6), -3)
    attendees = 1 + rng.binomial(5, np.asarray((0.15, 0.25, 0.35, 0.45))[band])

    p_valid = 0.63 + np.where(origin == 0, 0.07, np.where(origin == 1, -0.06, 0.0))
    p_valid = np.clip(p_valid + 0.03 * (attendees - 2), 0.3, 0.9)
    valid = rng.random(m) < p_valid
    industry = accounts.industry[ai]
    ind_effect = np.where(
        (account >= 0) & (industry >= 0), np.asarray(_INDUSTRY_WIN_EFFECT)[industry], 0.0
    )
    p_won = np.clip(
        0.35 + 0.06 * (attendees - 2) + np.asarray((-0.04, 0.0, 0.03, 0.05))[band] + ind_effect,
        0.1,
        0.8,
    )
    u = rng.random(m)
    result = np.where(
        valid,
        np.where(u < p_won, _STAGE_WON, np.where(u < 0.88, _STAGE_LOST, -1)),
        np.where(u < 0.8, _STAGE_LOST, -1),
    )
    target_stage = np.where(
        valid,
        np.where(result == _STAGE_WON, 3, 2 + (rng.random(m) < 0.5)),
        rng.random(m) < 0.45,
    ).astype(np.int64)
    times = _stage_timeline(rng, span, created, target_stage, result >= 0)
    reached = (times[:, :4] >= 0).sum(axis=1) - 1
    result = np.where(times[:, 4] >= 0, result, -1)
    prob = np.asarray(_STAGE_PROBABILITY)[reached] + rng.uniform(-0.05, 0.05, m)
    probability = np.where(
        result == _STAGE_WON, 1.0, np.where(result == _STAGE_LOST, 0.0, np.round(prob, 2))
    )
    validated = reached >= _VALID_STAGE
    return _Opps(
        lead=lead,
        account=account.astype(np.int64),
        owner=owner,
        created=created,
        origin=origin,
        campaign=campaign.astype(np.int64),
        product=product.astype(np.int64),
        quantity=quantity,
        quantity_known=rng.random(m) >= 0.08,
        amount=np.where((reached == 0) & (rng.random(m) < 0.1), np.nan, amount),
        attendees=attendees.astype(np.int64),
        attendees_known=validated | (rng.random(m) < 0.3),
        times=times,
        reached=reached.astype(np.int64),
        result=result.astype(np.int64),
        is_won_missing=(result == _STAGE_LOST) & (rng.random(m) < 0.05),
        probability=probability,
    )


def _month_index(span: _Span, t: I64) -> I64:
    """Calendar month of each timestamp, 0 = the month of the start."""
    months = (t // _DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first = np.datetime64(span.start_day, "D").astype("datetime64[M]").astype(np.int64)
    index: I64 = (months - first).astype(np.int64)
    return index


def _field_capacities(rng: np.random.Generator, span: _Span, reps: _Reps, opps: _Opps) -> I64:
    """Explicit monthly SQL capacities per FS rep (-1 = use the segment band).

    Rep 0 is ramping up: its small capacity is below its busiest month. Every third
    segmented rep has an explicit capacity a little above its typical load.
    """
    month = _month_index(span, opps.created)
    n_months = int(month.max()) + 1 if len(month) else 1
    load = np.bincount(opps.owner * n_months + month, minlength=reps.n_field * n_months)
    load = load.reshape(reps.n_field, n_months)
    capacity = np.full(reps.n_field, -1, dtype=np.int64)
    typical = np.maximum(load.mean(axis=1), 1.0)
    explicit = (np.arange(reps.n_field) % 3 == 2) & (reps.field_segment >= 0)
    factor = rng.uniform(1.1, 1.8, int(explicit.sum()))
    capacity[explicit] = np.maximum(2, np.ceil(typical[explicit] * factor)).astype(np.int64)
    busiest = int(load[0].max())
    capacity[0] = max(1, int(busiest * 0.7)) if busiest >= 2 else 1
    return capacity


def _ensure_overload(span: _Span, opps: _Opps, capacity: I64) -> I64:
    """Owners with rep 0 above its capacity in some month, when the data allows."""
    owner = opps.owner
    if len(owner) == 0:
        return owner
    month = _month_index(span, opps.created)
    if np.bincount(month[owner == 0], minlength=1).max() > capacity[0]:
        return owner
    counts = np.bincount(month)
    busiest = int(np.argmax(counts))
    if counts[busiest] <= capacity[0]:
        return owner
    (idx,) = np.nonzero(month == busiest)
    owner = owner.copy()
    owner[idx[: int(capacity[0]) + 1]] = 0
    return owner


def _stage_rows(opps: _Opps) -> tuple[I64, I64, I64]:
    """(opportunity index, stage code, entered_at) for every stage passed through."""
    closed = opps.result >= 0
    count = opps.reached + 1 + closed
    opp = np.repeat(np.arange(len(count), dtype=np.int64), count)
    pos = np.arange(len(opp), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    is_close = pos > opps.reached[opp]
    stage = np.where(is_close, opps.result[opp], pos)
    entered = opps.times[opp, np.where(is_close, 4, pos)]
    return opp, stage.astype(np.int64), entered


def _meetings(
    rng: np.random.Generator,
    span: _Span,
    leads: _Leads,
    reps: _Reps,
    opps: _Opps,
    fc: I64,
) -> tuple[I64, _Acts]:
    """First meetings of SQLs (held when validated) and some IS meetings."""
    m = len(opps.created)
    validated_at = opps.times[:, _VALID_STAGE]
    fs_owner = reps.field_offset + opps.owner
    li = np.maximum(opps.lead, 0)
    is_owner = np.where(opps.lead >= 0, leads.owner[li], -1)
    owner = np.where((is_owner >= 0) & (rng.random(m) < 0.7), is_owner, fs_owner)
    if reps.n_manager:
        boss = reps.manager_offset + rng.integers(0, reps.n_manager, m)
        owner = np.where(rng.random(m) < 0.05, boss, owner)
    no_show_t = _office_time(
        rng, _to_business_day(rng, opps.created // _DAY + rng.integers(3, 11, m))
    )
    early = (validated_at < 0) & (opps.reached < _VALID_STAGE)
    no_show = early & (rng.random(m) < 0.35) & (no_show_t < span.end_s)
    booked = early & ~no_show & (opps.result < 0) & (rng.random(m) < 0.5)
    held = validated_at >= 0
    stale = held & (rng.random(m) < 0.07)  # never updated after booking
    t = np.where(held, validated_at, np.where(no_show, no_show_t, opps.created))
    outcome = np.where(
        held, np.where(stale, _O_SCHEDULED, _O_HELD), np.where(no_show, _O_NO_SHOW, _O_SCHEDULED)
    )
    (sel,) = np.nonzero(held | no_show | booked)
    opp_meetings = _acts(
        opps.lead[sel], owner[sel], t[sel], _MEETING, rng.random(len(sel)) < 0.05, outcome[sel]
    )
    opp_account = opps.account[sel]

    # IS online meetings with connected leads that did not become SQLs
    has_opp = np.zeros(leads.n, dtype=np.bool_)
    has_opp[opps.lead[opps.lead >= 0]] = True
    (cl,) = np.nonzero((fc < span.end_s) & ~has_opp & (rng.random(leads.n) < 0.12))
    day = _to_business_day(rng, fc[cl] // _DAY + rng.integers(2, 11, len(cl)))
    is_meet = _acts(
        cl,
        np.where(leads.owner[cl] >= 0, leads.owner[cl], _pick(rng, reps.inside_weight, len(cl))),
        _office_time(rng, day),
        _MEETING,
        False,
        (np.asarray((_O_HELD, _O_NO_SHOW, _O_SCHEDULED))[_pick(rng, (0.75, 0.15, 0.10), len(cl))]),
    )
    acts = _concat_acts([opp_meetings, is_meet])
    account = np.concatenate([opp_account, np.full(len(cl), -1, dtype=np.int64)])
    return account, acts


# ----------------------------------------------------------------------- statuses


@dataclass(frozen=True)
class _LeadState:
    status: I64
    next_activity_day: I64  # -1 = missing
    recycle_day: I64
    recycle_reason: I64


def _lead_state(
    rng: np.random.Generator,
    span: _Span,
    leads: _Leads,
    acts: _Acts,
    has_opp: Bool,
) -> _LeadState:
    """An action status consistent with each lead's activities and SQLs."""
    n = leads.n
    on_lead = acts.lead >= 0
    touch = on_lead & ~acts.inbound & (acts.channel != _WEB)
    touched = np.zeros(n, dtype=np.bool_)
    touched[acts.lead[touch]] = True
    connected = np.zeros(n, dtype=np.bool_)
    connected[acts.lead[on_lead & _is_connect(acts)]] = True
    last_touch = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_touch, acts.lead[touch], acts.t[touch] // _DAY)

    created_day = leads.created // _DAY
    recent = (span.end_day - created_day) < 40
    # row of _STATUS_MIX: untouched / touched only / connected, then recent or older
    level = np.where(connected, 2, np.where(touched, 1, 0))
    older = ~recent & ~((level == 0) & (leads.owner < 0))  # unassigned leads stay new
    p = np.asarray(_STATUS_MIX, dtype=np.float64)[level * 2 + older]
    status = _pick_rows(rng, p)
    status = np.where(has_opp, _ST_QUALIFIED, status)

    last = np.maximum(last_touch, created_day)
    nxt = np.maximum(span.end_day + rng.integers(-21, 22, n), last + 1)
    wants_next = np.select(
        [status == _ST_WORKING, status == _ST_CONNECTED, status == _ST_NEW],
        [0.95, 0.6, 0.1],
        0.0,
    )
    next_day = np.where(rng.random(n) < wants_next, nxt, -1)

    decided = np.minimum(last + rng.integers(0, 8, n), span.end_day - 1)
    recycle_day = decided + np.asarray((30, 60, 90, 180))[_pick(rng, (0.3, 0.3, 0.25, 0.15), n)]
    reason = np.where(
        connected, _pick(rng, (0.3, 0.35, 0.15, 0.2, 0.0), n), _pick(rng, (0, 0.3, 0, 0, 0.7), n)
    )
    recycled = status == _ST_RECYCLED
    return _LeadState(
        status=status.astype(np.int64),
        next_activity_day=next_day.astype(np.int64),
        recycle_day=np.where(recycled, recycle_day, -1).astype(np.int64),
        recycle_reason=np.where(recycled & (rng.random(n) >= 0.05), reason, -1).astype(np.int64),
    )


# ------------------------------------------------------------- column builders


def _fixed_width_col(buf: npt.NDArray[np.uint8], valid: Bool | None) -> pd.Series:
    """``str`` column whose row i is the ASCII text ``buf[i]`` (missing where not valid)."""
    m, width = buf.shape
    buf = np.ascontiguousarray(buf)
    if _USE_ARROW:
        import pyarrow as pa

        offsets = np.arange(0, (m + 1) * width, width, dtype=np.int64)
        bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
        array = pa.Array.from_buffers(
            pa.large_string(),
            m,
            [bitmap, pa.py_buffer(offsets), pa.py_buffer(buf)],
            null_count=-1,
        )
        return pd.Series(pd.array(array, dtype="str"))
    text = buf.view(f"S{width}")[:, 0].astype(f"U{width}").astype(object)
    if valid is not None:
        text[~valid] = None
    return pd.Series(text, dtype="str")


# "0000".."9999" as little-endian 32-bit words: one table lookup formats four digits
_FOUR_DIGITS: Final = np.frombuffer(
    "".join(f"{i:04d}" for i in range(10_000)).encode("ascii"), dtype="<u4"
)


def _digit_bytes(values: I64, width: int) -> npt.NDArray[np.uint8]:
    """(rows x width) ASCII digits of non-negative ``values``, zero-padded."""
    m = len(values)
    n_words = -(-width // 4)
    words = np.empty((m, n_words), dtype="<u4")
    small = m == 0 or int(values.max()) < 2**32
    x: npt.NDArray[np.unsignedinteger[Any]] = values.astype(np.uint32 if small else np.uint64)
    for w in range(n_words - 1, -1, -1):  # the last word holds the lowest digits
        q = x // 10_000
        words[:, w] = _FOUR_DIGITS[x - q * 10_000]
        x = q
    return words.view(np.uint8)[:, n_words * 4 - width :]


def _put_digits(buf: npt.NDArray[np.uint8], col: int, values: I64, width: int) -> None:
    """Write zero-padded decimal ``values`` into ``buf[:, col:col + width]``."""
    buf[:, col : col + width] = _digit_bytes(values, width)


def _id_col(prefix: str, index: Codes, width: int) -> pd.Series:
    """``prefix`` + 1-based zero-padded number (``acc-000042``); negative index = missing."""
    head = prefix.encode("ascii")
    buf = np.empty((len(index), len(head) + width), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    _put_digits(buf, len(head), np.maximum(index, 0) + 1, width)
    return _fixed_width_col(buf, index >= 0)


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))


def _label_col(labels: Sequence[str], codes: Codes) -> pd.Series:
    """``str`` column of ``labels[code]``; a negative code = missing."""
    if _USE_ARROW:
        import pyarrow as pa

        dictionary = pa.array(list(labels), type=pa.large_string())
        indices = pa.array(np.maximum(codes, 0), mask=codes < 0)
        return pd.Series(pd.array(dictionary.take(indices), dtype="str"))
    vocabulary = np.asarray([*labels, None], dtype=object)  # code -1 -> None
    return pd.Series(vocabulary[np.where(codes >= 0, codes, -1)], dtype="str")


def _ts_col(seconds: I64, valid: Bool | None = None) -> pd.Series:
    values = (seconds * 1_000_000).astype("datetime64[us]")
    if valid is not None:
        values = np.where(valid, values, np.datetime64("NaT", "us"))
    return pd.Series(values)


def _date_col(days: I64) -> pd.Series:
    return _ts_col(days * _DAY, days >= 0)


def _int_col(values: I64, valid: Bool | None = None) -> pd.Series:
    mask = np.zeros(len(values), dtype=np.bool_) if valid is None else ~valid
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), mask))


def _frame(table: str, columns: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame({name: columns[name] for name in _TABLE_COLUMNS[table]})


# ------------------------------------------------------------------ table frames


def _company_names() -> list[str]:
    """Every company name; code = (prefix * n_cores + core) * n_suffixes + suffix."""
    cores = [core for group in _NAME_CORES for core in group]
    return [f"{p} {c} {s}" for p in _NAME_PREFIXES for c in cores for s in _NAME_SUFFIXES]


def _person_names() -> list[str]:
    """Every rep name; code = given * n_surnames + surname."""
    return [f"{given} {surname}" for given in _GIVEN_NAMES for surname in _SURNAMES]


def _accounts_frame(a: _Accounts, width: int) -> pd.DataFrame:
    return _frame(
        "accounts",
        {
            "account_id": _id_col("acc-", np.arange(a.n, dtype=np.int64), width),
            "name": _label_col(_company_names(), a.name_codes),
            "industry": _label_col(_INDUSTRIES, a.industry),
            "region": _label_col(_REGIONS, a.region),
            "employees": _int_col(a.employees, a.employees_known),
            "annual_revenue": pd.Series(a.revenue, dtype="float64"),
            "is_target": pd.Series(a.is_target, dtype="bool"),
            "target_tier": _label_col(_TIERS, a.tier),
        },
    )


def _reps_frame(r: _Reps, capacity: I64) -> pd.DataFrame:
    role = np.repeat(np.arange(3, dtype=np.int64), (r.n_inside, r.n_field, r.n_manager))
    segment = np.full(r.n, -1, dtype=np.int64)
    segment[r.field_offset : r.manager_offset] = r.field_segment
    cap = np.full(r.n, -1, dtype=np.int64)
    cap[r.field_offset : r.manager_offset] = capacity
    return _frame(
        "reps",
        {
            "rep_id": _id_col("rep-", np.arange(r.n, dtype=np.int64), _id_width(r.n, 4)),
            "name": _label_col(_person_names(), r.name_codes),
            "role": _label_col(_ROLES, role),
            "segment": _label_col(_BANDS, segment),
            "monthly_sql_capacity": _int_col(cap, cap > 0),
        },
    )


def _campaigns_frame(c: _Campaigns) -> pd.DataFrame:
    n = len(c.channel)
    return _frame(
        "campaigns",
        {
            "campaign_id": _id_col("cmp-", np.arange(n, dtype=np.int64), 3),
            "name": pd.Series(_campaign_names(c), dtype="str"),
            "channel": _label_col(_CAMPAIGN_CHANNELS, c.channel),
            "started_on": _date_col(c.started_day),
        },
    )


@dataclass(frozen=True)
class _Widths:
    account: int
    rep: int
    lead: int
    activity: int
    opportunity: int


def _leads_frame(leads: _Leads, state: _LeadState, w: _Widths) -> pd.DataFrame:
    return _frame(
        "leads",
        {
            "lead_id": _id_col("lead-", np.arange(leads.n, dtype=np.int64), w.lead),
            "account_id": _id_col("acc-", leads.account, w.account),
            "owner_id": _id_col("rep-", leads.owner, w.rep),
            "created_at": _ts_col(leads.created),
            "origin": _label_col(_ORIGINS, np.where(leads.inbound, 0, 1)),
            "source": _label_col(_SOURCES, leads.source),
            "campaign_id": _id_col("cmp-", leads.campaign, 3),
            "action_status": _label_col(_STATUSES, state.status),
            "priority": _label_col(_PRIORITIES, leads.priority),
            "next_activity_on": _date_col(state.next_activity_day),
            "recycle_on": _date_col(state.recycle_day),
            "recycle_reason": _label_col(_RECYCLE_REASONS, state.recycle_reason),
            "department": _label_col(_DEPARTMENTS, leads.department),
            "title": _label_col(_TITLES, leads.title),
        },
    )


def _activities_frame(acts: _Acts, account: I64, w: _Widths) -> pd.DataFrame:
    n = len(acts.t)
    return _frame(
        "activities",
        {
            "activity_id": _id_col("act-", np.arange(n, dtype=np.int64), w.activity),
            "lead_id": _id_col("lead-", acts.lead, w.lead),
            "account_id": _id_col("acc-", account, w.account),
            "owner_id": _id_col("rep-", acts.owner, w.rep),
            "occurred_at": _ts_col(acts.t),
            "channel": _label_col(_CHANNELS, acts.channel),
            "direction": _label_col(_DIRECTIONS, acts.inbound.astype(np.int64)),
            "outcome": _label_col(_OUTCOMES, acts.outcome),
            "duration_s": pd.Series(acts.duration, dtype="float64"),
            "is_key_person": pd.Series(acts.key_person, dtype="bool"),
        },
    )


def _opportunities_frame(o: _Opps, reps: _Reps, w: _Widths) -> pd.DataFrame:
    m = len(o.created)
    closed = o.result >= 0
    stage = np.where(closed, o.result, o.reached)
    is_won = pd.arrays.BooleanArray(o.result == _STAGE_WON, ~closed | o.is_won_missing)
    return _frame(
        "opportunities",
        {
            "opportunity_id": _id_col("opp-", np.arange(m, dtype=np.int64), w.opportunity),
            "lead_id": _id_col("lead-", o.lead, w.lead),
            "account_id": _id_col("acc-", o.account, w.account),
            "owner_id": _id_col("rep-", reps.field_offset + o.owner, w.rep),
            "created_at": _ts_col(o.created),
            "origin": _label_col(_ORIGINS, o.origin),
            "validated_at": _ts_col(o.times[:, _VALID_STAGE], o.times[:, _VALID_STAGE] >= 0),
            "stage": _label_col(_STAGES, stage),
            "closed_at": _ts_col(o.times[:, 4], closed),
            "is_won": pd.Series(is_won),
            "amount": pd.Series(o.amount, dtype="float64"),
            "quantity": _int_col(o.quantity, o.quantity_known),
            "first_meeting_attendees": _int_col(o.attendees, o.attendees_known),
            "probability": pd.Series(o.probability, dtype="float64"),
            "product": _label_col(_PRODUCTS, o.product),
            "campaign_id": _id_col("cmp-", o.campaign, 3),
        },
    )


def _stage_changes_frame(o: _Opps, w: _Widths) -> pd.DataFrame:
    opp, stage, entered = _stage_rows(o)
    return _frame(
        "stage_changes",
        {
            "opportunity_id": _id_col("opp-", opp, w.opportunity),
            "stage": _label_col(_STAGES, stage),
            "entered_at": _ts_col(entered),
        },
    )


# ------------------------------------------------------------------- public API


def _lead_activities(
    rng: np.random.Generator, leads: _Leads, reps: _Reps
) -> tuple[list[_Acts], list[Bool], I64]:
    """Lead-level touches, responses and web activity (with rows to keep) and first connects."""
    touches = _outbound_touches(rng, leads, reps)
    responses = _inbound_responses(rng, touches)
    fc = _first_connect([touches, responses], leads.n)
    kept = _thin_after_connect(rng, touches, fc)
    web = _web_activity(rng, leads, touches, kept)
    all_rows = [np.ones(len(a.t), dtype=np.bool_) for a in (responses, web)]
    return [touches, responses, web], [kept, *all_rows], fc


def _assemble_activities(
    rng: np.random.Generator,
    span: _Span,
    data: tuple[_Leads, _Accounts, _Reps, _Opps],
    fc: I64,
    parts: list[_Acts],
    kept: list[Bool],
) -> tuple[_Acts, I64]:
    """All activities inside the window, in time order, with their account index."""
    leads, accounts, reps, opps = data
    meet_account, meetings = _meetings(rng, span, leads, reps, opps, fc)
    parts, kept = [*parts, meetings], [*kept, np.ones(len(meetings.t), dtype=np.bool_)]
    kept = [
        k & (a.t >= span.start_s) & (a.t < span.end_s) for a, k in zip(parts, kept, strict=True)
    ]
    # about 3% of all activities are account-level BDR calls without a lead
    n_lead_rows = sum(int(k.sum()) for k in kept)
    bdr_account, bdr = _account_calls(rng, span, accounts, reps, round(n_lead_rows * 0.031))
    acts = _concat_acts([*parts, bdr])
    keep = np.concatenate([*kept, np.ones(len(bdr.t), dtype=np.bool_)])
    own_account = np.concatenate(
        [np.full(len(acts.t) - len(meet_account) - len(bdr_account), -1), meet_account, bdr_account]
    )
    (idx,) = np.nonzero(keep)
    order = idx[np.argsort(acts.t[idx], kind="stable")]
    acts = _take_acts(acts, order)
    account = np.where(
        acts.lead >= 0, leads.account[np.maximum(acts.lead, 0)], own_account[order]
    ).astype(np.int64)
    return replace(acts, key_person=_key_person(rng, leads, acts)), account


def generate_sample(
    *, leads: int = 2000, seed: int = 7, start: str = "2025-01-01", months: int = 12
) -> dict[str, pd.DataFrame]:
    """Generate a realistic synthetic dataset in the canonical tables.

    Parameters
    ----------
    leads : int, default 2000
        Number of leads. Accounts (about ``leads / 4``), reps, activities (about
        ten per lead) and opportunities (about one lead in ten) scale with it.
    seed : int, default 7
        Seed of :func:`numpy.random.default_rng`; the same arguments always give
        identical frames.
    start : str, default "2025-01-01"
        First day of the data (a naive date, wall-clock ``Asia/Tokyo``).
    months : int, default 12
        Length of the data window; no event is dated on or after
        ``start + months``.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``accounts``, ``reps``, ``campaigns``, ``leads``, ``activities``,
        ``opportunities`` and ``stage_changes`` with exactly the columns of DESIGN
        section 2, in order. Ids and text use the ``str`` dtype, integers
        ``Int64``, ``is_won`` ``boolean``, other flags ``bool``, timestamps and
        dates naive ``datetime64[us]``.

    Raises
    ------
    ValueError
        If ``leads`` or ``months`` is below 1 or ``start`` carries a time zone.

    Examples
    --------
    >>> tables = generate_sample(leads=50, seed=1)
    >>> sorted(tables)
    ['accounts', 'activities', 'campaigns', 'leads', 'opportunities', 'reps', 'stage_changes']
    >>> len(tables["leads"])
    50
    """
    if leads < 1:
        msg = f"leads must be at least 1, got {leads}"
        raise ValueError(msg)
    if months < 1:
        msg = f"months must be at least 1, got {months}"
        raise ValueError(msg)
    span = _span(start, months)
    rng = np.random.default_rng(seed)
    accounts = _make_accounts(rng, max(50, leads // 4))
    reps = _make_reps(rng, leads)
    campaigns = _make_campaigns(rng, span)
    lead_data = _make_leads(rng, span, leads, accounts, reps, campaigns)
    parts, kept, fc = _lead_activities(rng, lead_data, reps)
    opps = _make_opps(rng, span, lead_data, accounts, reps, fc)
    capacity = _field_capacities(rng, span, reps, opps)
    opps = replace(opps, owner=_ensure_overload(span, opps, capacity))
    acts, account = _assemble_activities(
        rng, span, (lead_data, accounts, reps, opps), fc, parts, kept
    )
    has_opp = np.zeros(leads, dtype=np.bool_)
    has_opp[opps.lead[opps.lead >= 0]] = True
    state = _lead_state(rng, span, lead_data, acts, has_opp)

    widths = _Widths(
        account=_id_width(accounts.n, 6),
        rep=_id_width(reps.n, 4),
        lead=_id_width(leads, 6),
        activity=_id_width(len(acts.t), 7),
        opportunity=_id_width(len(opps.created), 5),
    )
    return {
        "accounts": _accounts_frame(accounts, widths.account),
        "reps": _reps_frame(reps, capacity),
        "campaigns": _campaigns_frame(campaigns),
        "leads": _leads_frame(lead_data, state, widths),
        "activities": _activities_frame(acts, account, widths),
        "opportunities": _opportunities_frame(opps, reps, widths),
        "stage_changes": _stage_changes_frame(opps, widths),
    }


# ------------------------------------------------------------------------ writing


def _format_datetimes(values: pd.Series, date_only: bool) -> pd.Series:
    """ISO-8601 text (``YYYY-MM-DDTHH:MM:SS`` or ``YYYY-MM-DD``), missing stays missing."""
    raw = values.to_numpy(dtype="datetime64[us]")
    valid = ~np.isnat(raw)
    secs = np.where(valid, raw.astype(np.int64) // 1_000_000, 0)
    days = secs // _DAY
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    buf = np.empty((len(raw), 10 if date_only else 19), dtype=np.uint8)
    _put_digits(buf, 0, np.clip(year, 0, 9999), 4)
    buf[:, 4] = buf[:, 7] = ord("-")
    _put_digits(buf, 5, month_start.astype(np.int64) % 12 + 1, 2)
    _put_digits(buf, 8, (d - month_start).astype(np.int64) + 1, 2)
    if not date_only:
        seconds_of_day = secs - days * _DAY
        buf[:, 10] = ord("T")
        buf[:, 13] = buf[:, 16] = ord(":")
        _put_digits(buf, 11, seconds_of_day // _HOUR, 2)
        _put_digits(buf, 14, (seconds_of_day // _MINUTE) % 60, 2)
        _put_digits(buf, 17, seconds_of_day % 60, 2)
    return _fixed_width_col(buf, valid)


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with timestamps and dates as ISO-8601 text, whole-number floats as integers."""
    out = {}
    for name in df.columns:
        column = df[name]
        if column.dtype.kind == "M":
            column = _format_datetimes(column, date_only=name in _DATE_COLUMNS)
        elif column.dtype.kind == "f":
            values = column.to_numpy()
            known = values[~np.isnan(values)]
            if np.all(known == np.round(known)) and np.all(np.abs(known) < 2**53):
                column = column.astype("Int64")  # 13151000000 rather than 1.3151e+10
        out[name] = column
    return pd.DataFrame(out)


def _write_csv(df: pd.DataFrame, path: str) -> None:
    text = _csv_frame(df)
    if not _USE_ARROW:
        for name in text.columns:
            if text[name].dtype.kind == "b" or isinstance(text[name].dtype, pd.BooleanDtype):
                text[name] = text[name].map({True: "true", False: "false"}).astype("str")
        text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(text, preserve_index=False)
    # plain cells when nothing needs quoting (pyarrow would quote every header name);
    # RFC 4180 quoting of all text when some value contains a comma, quote or newline
    try:
        with open(path, "wb") as handle:
            handle.write((",".join(text.columns) + "\n").encode("utf-8"))
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            pa_csv.write_csv(table, handle, options)
    except pa.ArrowInvalid:
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))


def _write_parquet(df: pd.DataFrame, path: str) -> None:
    if not _USE_ARROW:
        msg = "format='parquet' needs pyarrow: pip install 'pipelinekit[engines]'"
        raise ImportError(msg)
    import pyarrow as pa
    import pyarrow.parquet as pa_parquet

    pa_parquet.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def _write_to(
    writer: Callable[[pd.DataFrame, str], None], frame: pd.DataFrame, tmp: pathlib.Path
) -> None:
    writer(frame, str(tmp))


def write_sample(
    out_dir: str | os.PathLike[str],
    *,
    leads: int = 2000,
    seed: int = 7,
    format: Literal["csv", "parquet"] = "csv",
    start: str = "2025-01-01",
    months: int = 12,
) -> list[pathlib.Path]:
    """Generate the sample and write one file per table.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Directory to write into; created when missing.
    leads, seed, start, months
        Passed to :func:`generate_sample`.
    format : {"csv", "parquet"}, default "csv"
        CSV is UTF-8 with a header row, ISO-8601 timestamps without offset
        (``2025-03-04T09:15:00``), dates as ``2025-03-04``, booleans
        ``true``/``false`` and empty cells for missing values.

    Returns
    -------
    list[pathlib.Path]
        The files written (``accounts.csv``, ``leads.csv``, ...), in table order.

    Raises
    ------
    ValueError
        If ``format`` is not ``"csv"`` or ``"parquet"``, or the arguments are
        rejected by :func:`generate_sample`.
    """
    if format not in ("csv", "parquet"):
        msg = f"format must be 'csv' or 'parquet', got {format!r}"
        raise ValueError(msg)
    tables = generate_sample(leads=leads, seed=seed, start=start, months=months)
    directory = pathlib.Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    writer = _write_csv if format == "csv" else _write_parquet
    written = []
    for name in _TABLE_COLUMNS:
        path = directory / f"{name}.{format}"
        write_atomic(path, functools.partial(_write_to, writer, tables[name]))
        written.append(path)
    return written
