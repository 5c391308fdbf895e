"""Accounts, reps, campaigns and leads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelinekit.sample._common import _DAY, F64, I64, Bool
from pipelinekit.sample._random import _clock, _pick, _Span, _weekday, _with_missing
from pipelinekit.sample._vocab import (
    _BAND_HIGH,
    _BAND_LOW,
    _BAND_P,
    _BANDS,
    _CAMPAIGN_TITLES,
    _CH_ADS,
    _CH_EXHIBITION,
    _CH_LIST,
    _CH_REFERRAL,
    _CH_SEMINAR,
    _CH_WEBINAR,
    _CH_WHITEPAPER,
    _DEPARTMENT_P,
    _DEPARTMENTS,
    _GIVEN_NAMES,
    _INBOUND_SOURCE_P,
    _INDUSTRY_P,
    _LEAD_HOURS_WEEKDAY,
    _LEAD_HOURS_WEEKEND,
    _LEAD_WEEKDAY_INBOUND,
    _LEAD_WEEKDAY_OUTBOUND,
    _NAME_CORES,
    _NAME_PREFIXES,
    _NAME_SUFFIXES,
    _OFFICE_HOURS,
    _OUTBOUND_SOURCE_P,
    _REGION_P,
    _REVENUE_PER_EMPLOYEE_MULT,
    _SOURCE_CAMPAIGN,
    _SRC_EVENT_LIST,
    _SRC_EXHIBITION,
    _SRC_SEMINAR,
    _SRC_WEBINAR,
    _SURNAMES,
    _TITLE_P,
    _TITLES,
)

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
