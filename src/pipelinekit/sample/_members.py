"""Campaign memberships: each lead's responses to campaigns (the ``campaign_members`` table).

Drawn from their own random stream after everything else, so every other table is
the same with or without them. One row per (lead, campaign): the first response.

- The lead's own campaign (``leads.campaign_id``) is the response that created it: a
  few minutes before (at most at) ``created_at``.
- About a third of inbound leads (a tenth of outbound) responded before they became
  leads (an ad click or a white-paper download the marketing tool recorded first),
  one to three weeks earlier on average.
- After creation leads keep responding (nurturing): on average 1.3 more campaigns for
  inbound and 0.7 for outbound leads, a month apart on average.
- A response goes to a campaign running then: always-on channels (ads, white papers,
  referrals, lists) any time after their start, webinars, seminars and exhibitions in
  the three weeks from their start; channels are weighted by how often people respond
  to them. Responses fall inside the data window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelinekit.sample._common import _DAY, _HOUR, F64, I64, Bool
from pipelinekit.sample._frames import _frame, _id_col, _ts_col
from pipelinekit.sample._people import _Campaigns, _Leads
from pipelinekit.sample._random import _pick_rows, _Span
from pipelinekit.sample._vocab import (
    _CH_ADS,
    _CH_EXHIBITION,
    _CH_LIST,
    _CH_REFERRAL,
    _CH_SEMINAR,
    _CH_WEBINAR,
    _CH_WHITEPAPER,
)

#: Stream id of the memberships: ``default_rng([seed, _STREAM])``.
STREAM = 16

# how often people respond to a campaign of each channel (relative)
_CHANNEL_WEIGHT = {
    _CH_WEBINAR: 3.0,
    _CH_SEMINAR: 2.0,
    _CH_WHITEPAPER: 3.0,
    _CH_ADS: 2.5,
    _CH_EXHIBITION: 1.5,
    _CH_REFERRAL: 0.3,
    _CH_LIST: 0.4,
}
_EVENTS = (_CH_WEBINAR, _CH_SEMINAR, _CH_EXHIBITION)
_EVENT_DAYS = 21


def _running(campaigns: _Campaigns, day: I64) -> F64:
    """(responses x campaigns) weights of the campaigns running on each day."""
    start = campaigns.started_day[None, :]
    d = day[:, None]
    event = np.isin(campaigns.channel, _EVENTS)[None, :]
    running = (d >= start) & (~event | (d < start + _EVENT_DAYS))
    weight = np.asarray([_CHANNEL_WEIGHT[int(c)] for c in campaigns.channel])[None, :]
    out: F64 = np.where(running, weight, 0.0)
    return out


def _responses(
    rng: np.random.Generator, campaigns: _Campaigns, lead: I64, when: I64
) -> tuple[I64, I64, I64]:
    """A campaign for every (lead, time); rows without a running campaign are dropped."""
    weights = _running(campaigns, when // _DAY)
    some = weights.sum(axis=1) > 0
    chosen = np.full(len(when), -1, dtype=np.int64)
    if some.any():
        chosen[some] = _pick_rows(rng, weights[some])
    keep = chosen >= 0
    return lead[keep], chosen[keep], when[keep]


def _make_members(
    span: _Span, leads: _Leads, campaigns: _Campaigns, seed: int
) -> tuple[I64, I64, I64]:
    """(lead index, campaign code, responded_at seconds), one row per pair, by time."""
    rng = np.random.default_rng([seed, STREAM])
    index = np.arange(leads.n, dtype=np.int64)
    # the response that created the lead
    own: Bool = leads.campaign >= 0
    own_at = leads.created[own] - rng.integers(0, 10 * 60, int(own.sum()))
    own_at = np.maximum(own_at, campaigns.started_day[leads.campaign[own]] * _DAY)
    own_at = np.maximum(own_at, span.start_s)
    own_at = np.minimum(own_at, leads.created[own])
    parts_lead = [index[own]]
    parts_campaign = [leads.campaign[own]]
    parts_at = [own_at]
    # earlier responses recorded by the marketing tool
    early_n = np.where(rng.random(leads.n) < np.where(leads.inbound, 0.33, 0.10), 1, 0)
    early_n = early_n + (rng.random(leads.n) < 0.25) * early_n
    lead = np.repeat(index, early_n)
    gap = rng.exponential(14.0 * _DAY, len(lead)).astype(np.int64) + _HOUR
    picked = _responses(rng, campaigns, lead, leads.created[lead] - gap)
    parts_lead.append(picked[0])
    parts_campaign.append(picked[1])
    parts_at.append(picked[2])
    # nurturing: responses after creation
    later_n = rng.poisson(np.where(leads.inbound, 1.3, 0.7))
    lead = np.repeat(index, later_n)
    steps = rng.exponential(30.0 * _DAY, len(lead)).astype(np.int64) + _HOUR
    # consecutive responses of one lead are a running sum of its gaps
    starts = np.repeat(np.cumsum(later_n) - later_n, later_n)
    cumulative = np.cumsum(steps)
    offset = cumulative - (cumulative[starts] - steps[starts])
    picked = _responses(rng, campaigns, lead, leads.created[lead] + offset)
    parts_lead.append(picked[0])
    parts_campaign.append(picked[1])
    parts_at.append(picked[2])
    lead = np.concatenate(parts_lead)
    campaign = np.concatenate(parts_campaign)
    at = np.concatenate(parts_at)
    inside = (at >= span.start_s) & (at < span.end_s)
    lead, campaign, at = lead[inside], campaign[inside], at[inside]
    # the first response per (lead, campaign)
    order = np.lexsort((at, campaign, lead))
    lead, campaign, at = lead[order], campaign[order], at[order]
    first_of_pair = np.r_[True, (lead[1:] != lead[:-1]) | (campaign[1:] != campaign[:-1])]
    lead, campaign, at = lead[first_of_pair], campaign[first_of_pair], at[first_of_pair]
    order = np.lexsort((campaign, lead, at))
    return lead[order], campaign[order], at[order]


def _campaign_members_frame(
    span: _Span, leads: _Leads, campaigns: _Campaigns, seed: int, lead_width: int
) -> pd.DataFrame:
    """The ``campaign_members`` table of a generated dataset."""
    lead, campaign, at = _make_members(span, leads, campaigns, seed)
    return _frame(
        "campaign_members",
        {
            "lead_id": _id_col("lead-", lead, lead_width),
            "campaign_id": _id_col("cmp-", campaign, 3),
            "responded_at": _ts_col(at),
        },
    )
