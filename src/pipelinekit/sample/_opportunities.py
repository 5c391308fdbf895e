"""Opportunities, stage timelines, SQL capacity and lead statuses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelinekit.sample._activities import _Acts, _acts, _concat_acts, _is_connect
from pipelinekit.sample._common import _DAY, _HOUR, _MINUTE, F64, I64, Bool
from pipelinekit.sample._people import _Accounts, _Leads, _Reps
from pipelinekit.sample._random import (
    _office_time,
    _pick,
    _pick_rows,
    _Span,
    _to_business_day,
    _with_missing,
    _within_office_hours,
)
from pipelinekit.sample._vocab import (
    _BAND_P,
    _BANDS,
    _INDUSTRY_WIN_EFFECT,
    _MEETING,
    _O_HELD,
    _O_NO_SHOW,
    _O_SCHEDULED,
    _QUANTITY_MEDIAN,
    _ST_CONNECTED,
    _ST_NEW,
    _ST_QUALIFIED,
    _ST_RECYCLED,
    _ST_WORKING,
    _STAGE_GAP_CAP_DAYS,
    _STAGE_GAP_MEDIAN_DAYS,
    _STAGE_LOST,
    _STAGE_PROBABILITY,
    _STAGE_WON,
    _STATUS_MIX,
    _UNIT_PRICE_JPY,
    _VALID_STAGE,
    _WEB,
)

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
