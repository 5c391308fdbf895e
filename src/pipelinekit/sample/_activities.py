"""Activities: outbound touches, responses, web activity, meetings and BDR calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from pipelinekit.sample._common import _DAY, _HOUR, _MINUTE, F64, I8, I32, I64, Bool, Codes
from pipelinekit.sample._people import _Accounts, _Leads, _Reps
from pipelinekit.sample._random import (
    _hour,
    _office_time,
    _pick,
    _Span,
    _to_business_day,
    _weekday,
    _within_office_hours,
)
from pipelinekit.sample._vocab import (
    _CALL,
    _CONNECT_BY_HOUR,
    _EMAIL,
    _FORM_SOURCES,
    _MEETING,
    _O_BOUNCED,
    _O_BUSY,
    _O_CLICKED,
    _O_CONNECTED,
    _O_FORM_SUBMIT,
    _O_HELD,
    _O_LINK_CLICK,
    _O_NO_ANSWER,
    _O_OPENED,
    _O_PAGE_VIEW,
    _O_REPLIED,
    _O_SENT,
    _O_VOICEMAIL,
    _O_WRONG_NUMBER,
    _WEB,
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
