"""Datasets the conformance suite runs every function on.

``sample``: the seeded synthetic generator (a few hundred leads, a year of data).

``edge``: hand-written awkward rows, with **tz-aware UTC timestamps** and the
dataset time zone ``Europe/Berlin``, so every engine must convert time zones itself:

- DST: the spring-forward night (2025-03-30) and the fall-back night (2025-10-26),
  where two different UTC instants (00:30 and 01:30 UTC) are both 02:30 local -
  a tie after conversion;
- month and day boundaries that differ between UTC and local time (a lead created
  2025-03-31 22:30 UTC is an April lead in Berlin; a touch at 22:30 UTC on the
  creation day is the next local day, so not a same-day approach);
- ties: two activities of one lead at the same instant, two opportunities of one lead
  created at the same instant, stage changes at the same instant;
- null keys: leads without owner, account, source or campaign; activities without a
  lead (account-only) and without an owner; opportunities without a lead or owner;
- activities whose lead is not in the leads table (orphans);
- an event one second before and one at the end of the ``as_of`` day;
- campaign responses before, at and after a lead's creation, a repeated response, one
  at its opportunity's creation instant and one exactly 90 days of instants earlier
  across a DST change, and one of an unknown lead;
- opportunity history: rows with empty cells, two rows of one deal that are both 02:30
  local on the fall-back night (a tie broken by file order, the later instant first
  in the file), a change in the last second of the ``as_of`` day and one in the first
  second after it, a close date pushed out of and pulled into the quarter, a deal
  without history (its current row) and a row of an unknown opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from pipelinekit import (
    Account,
    Activity,
    Campaign,
    CampaignMember,
    Lead,
    Opportunity,
    Rep,
    StageChange,
)
from pipelinekit.domain import OpportunityHistory, Quota
from pipelinekit.sample import generate_sample
from pipelinekit.schema import TABLES, from_objects

__all__ = ["EngineDataset", "edge_dataset", "sample_dataset"]


@dataclass(frozen=True)
class EngineDataset:
    """Canonical pandas tables plus the values recipes refer to."""

    name: str
    tables: dict[str, pd.DataFrame]
    tz: str
    as_of: date
    start: date
    target_accounts: tuple[str, ...]


def sample_dataset() -> EngineDataset:
    tables = generate_sample(leads=250, seed=11)
    accounts = tables["accounts"]
    targets = tuple(accounts.loc[accounts["is_target"], "account_id"].head(3))
    return EngineDataset(
        name="sample",
        tables=tables,
        tz="Asia/Tokyo",
        as_of=date(2025, 9, 30),
        start=date(2025, 4, 1),
        target_accounts=targets or tuple(accounts["account_id"].head(2)),
    )


def u(text: str) -> datetime:
    """A UTC instant written as naive text (made tz-aware when the frames are built)."""
    return datetime.fromisoformat(text)


def _call(
    aid: str, lead: str | None, when: str, outcome: str = "no_answer", **kw: object
) -> Activity:
    return Activity(
        activity_id=aid,
        lead_id=lead,
        occurred_at=u(when),
        channel="call",
        direction=kw.pop("direction", "outbound"),  # type: ignore[arg-type]
        outcome=outcome,
        **kw,  # type: ignore[arg-type]
    )


def _act(
    aid: str, lead: str | None, when: str, channel: str, outcome: str, **kw: object
) -> Activity:
    return Activity(
        activity_id=aid,
        lead_id=lead,
        occurred_at=u(when),
        channel=channel,
        direction=kw.pop("direction", "outbound"),  # type: ignore[arg-type]
        outcome=outcome,
        **kw,  # type: ignore[arg-type]
    )


def _edge_objects() -> dict[str, list[object]]:
    accounts = [
        Account(
            account_id="A1",
            industry="it",
            employees=20,
            is_target=True,
            target_tier="1",
            annual_revenue=5e7,
            region="kanto",
        ),
        Account(
            account_id="A2",
            industry="manufacturing",
            employees=450,
            is_target=True,
            target_tier="2",
            annual_revenue=2e9,
        ),
        Account(account_id="A3", industry=None, employees=None),
    ]
    reps = [
        Rep(rep_id="R1", role="inside"),
        Rep(rep_id="R2", role="inside"),
        Rep(rep_id="F1", role="field", segment="1-30", team="field"),
        Rep(rep_id="F2", role="field", monthly_sql_capacity=1, team="field"),
    ]
    campaigns = [Campaign(campaign_id="C1", name="webinar"), Campaign(campaign_id="C2")]
    leads = [
        # 00:30 CET on the spring-forward day
        Lead(
            lead_id="L1",
            account_id="A1",
            owner_id="R1",
            created_at=u("2025-03-29 23:30"),
            origin="inbound",
            source="web_form",
            campaign_id="C1",
            action_status="qualified",
            priority="focus",
            next_activity_on=date(2025, 12, 1),
            department="sales",
            title="manager",
        ),
        # 00:30 CEST on 1 April locally, still 31 March in UTC
        Lead(
            lead_id="L2",
            created_at=u("2025-03-31 22:30"),
            origin="outbound",
            action_status="working",
            priority="focus",
            next_activity_on=date(2025, 11, 20),
        ),
        # 01:00 CEST on the fall-back day
        Lead(
            lead_id="L3",
            account_id="A2",
            owner_id="R2",
            created_at=u("2025-10-25 23:00"),
            origin="inbound",
            source="event",
            campaign_id="C2",
            action_status="connected",
            next_activity_on=date(2025, 11, 2),
        ),
        # 23:59 local on 30 April
        Lead(
            lead_id="L4",
            account_id="A2",
            owner_id="R1",
            created_at=u("2025-04-30 21:59"),
            origin="inbound",
            source="web_form",
            campaign_id="C1",
            action_status="recycled",
            recycle_on=date(2025, 11, 15),
            recycle_reason="timing",
        ),
        # 00:30 CET on 1 February locally, 31 January in UTC
        Lead(
            lead_id="L5",
            account_id="A3",
            owner_id="R2",
            created_at=u("2025-01-31 23:30"),
            origin="outbound",
            source="list",
            action_status="no_action_needed",
        ),
        Lead(lead_id="L6", created_at=u("2025-06-15 10:00"), origin="inbound", action_status="new"),
        # the last second of the as_of day (Berlin), and the first second after it
        Lead(
            lead_id="L7",
            owner_id="R1",
            created_at=u("2025-11-30 22:59:59"),
            origin="inbound",
            campaign_id="C1",
        ),
        Lead(lead_id="L8", owner_id="R1", created_at=u("2025-11-30 23:00:00"), origin="inbound"),
        Lead(
            lead_id="L9",
            owner_id="R2",
            account_id="A1",
            created_at=u("2025-10-01 07:00"),
            origin="inbound",
            source="web_form",
            campaign_id="C2",
            action_status="not_pursued_after_connect",
        ),
    ]
    acts: list[Activity] = []
    # L1: a touch at 22:30 UTC on the creation day is 00:30 the next day in Berlin
    acts.append(_call("a01", "L1", "2025-03-30 22:30", owner_id="R1", duration_s=30.0))
    for i in range(4):
        acts.append(
            _call(f"a1{i}", "L1", f"2025-04-0{i + 1} 08:00", owner_id="R1", duration_s=10.0 * i)
        )
    acts.append(_act("a15", "L1", "2025-04-02 09:00", "email", "opened", owner_id="R1"))
    acts.append(_act("a16", "L1", "2025-04-03 09:00", "email", "clicked", owner_id="R1"))
    # a tie: two activities of L1 at the same instant, one a connect
    acts.append(
        _call(
            "a17",
            "L1",
            "2025-04-10 07:00",
            "connected",
            owner_id="R1",
            duration_s=300.0,
            is_key_person=True,
        )
    )
    acts.append(_act("a18", "L1", "2025-04-10 07:00", "email", "replied", owner_id="R1"))
    acts.append(_act("a19", "L1", "2025-04-11 07:00", "meeting", "held", owner_id="R1"))
    # L2: month boundary, touched before and after local midnight
    acts.append(_call("a20", "L2", "2025-03-31 22:00", owner_id="R2"))
    acts.append(_call("a21", "L2", "2025-03-31 22:45", "voicemail", owner_id="R2"))
    acts.append(_act("a22", "L2", "2025-04-01 09:00", "email", "bounced", owner_id=None))
    acts.append(_act("a23", "L2", "2025-04-02 09:00", "email", "sent", owner_id="R2"))
    # L3: the repeated 02:30 on the fall-back night, different outcomes
    acts.append(
        _call("a30", "L3", "2025-10-26 00:30", "connected", owner_id="R2", duration_s=120.0)
    )
    acts.append(_call("a31", "L3", "2025-10-26 01:30", "no_answer", owner_id="R2"))
    acts.append(_call("a32", "L3", "2025-10-27 08:00", "busy", owner_id="R2"))
    acts.append(_act("a33", "L3", "2025-10-28 08:00", "web", "page_view", direction="inbound"))
    # L4: touched at 22:30 UTC on its creation day = the next day locally
    acts.append(_call("a40", "L4", "2025-04-30 22:30", owner_id="R1"))
    for i in range(6):
        acts.append(
            _act(
                f"a4{i + 1}",
                "L4",
                f"2025-05-0{i + 2} 06:00",
                "web",
                "page_view",
                direction="inbound",
            )
        )
    # L5: calls only, in the cadence window
    for i in range(5):
        acts.append(
            _call(
                f"a5{i}",
                "L5",
                f"2025-02-0{i + 2} 10:00",
                owner_id="R2",
                duration_s=None if i == 2 else 60.0,
            )
        )
    acts.append(_act("a55", "L5", "2025-02-03 10:00", "email", "sent", owner_id="R2"))
    acts.append(_act("a56", "L5", "2025-02-04 10:00", "email", "bounced", owner_id="R2"))
    # L9: hot lead (link click), inbound call
    acts.append(_act("a90", "L9", "2025-11-25 10:00", "web", "link_click", direction="inbound"))
    acts.append(_act("a91", "L9", "2025-10-01 07:00", "web", "form_submit", direction="inbound"))
    acts.append(
        _call(
            "a92",
            "L9",
            "2025-10-01 07:30",
            "connected",
            direction="inbound",
            owner_id="R2",
            duration_s=45.0,
        )
    )
    # L7: the last second of as_of; L8: just after it (ignored)
    acts.append(_call("a70", "L7", "2025-11-30 22:59:59", owner_id="R1"))
    acts.append(_call("a80", "L8", "2025-11-30 23:00:00", owner_id="R1"))
    # activities without a lead (account only) and with an unknown lead
    acts.append(
        Activity(
            activity_id="b01",
            account_id="A2",
            occurred_at=u("2025-05-05 05:00"),
            channel="call",
            direction="outbound",
            outcome="connected",
            owner_id="R2",
            is_key_person=True,
            duration_s=90.0,
        )
    )
    acts.append(
        Activity(
            activity_id="b02",
            account_id="A1",
            occurred_at=u("2025-05-06 05:00"),
            channel="meeting",
            direction="outbound",
            outcome="held",
        )
    )
    acts.append(_call("b03", "LX", "2025-05-07 05:00", "connected", owner_id="R1"))
    acts.append(_act("b04", "LX", "2025-05-07 06:00", "email", "replied", owner_id=None))

    opps = [
        Opportunity(
            opportunity_id="O1",
            lead_id="L1",
            account_id="A1",
            owner_id="F1",
            created_at=u("2025-04-15 01:00"),
            validated_at=u("2025-04-20 01:00"),
            stage="won",
            closed_at=u("2025-05-31 22:30"),
            is_won=True,
            amount=3e6,
            quantity=12,
            first_meeting_attendees=2,
            probability=1.0,
            product="fleet_pro",
            campaign_id="C1",
            origin="inbound",
        ),
        # created at the same instant as O1 (a tie)
        Opportunity(
            opportunity_id="O2",
            lead_id="L1",
            owner_id="F2",
            created_at=u("2025-04-15 01:00"),
            stage="lost",
            closed_at=u("2025-06-30 22:30"),
            is_won=False,
            amount=1e6,
            quantity=1,
        ),
        Opportunity(
            opportunity_id="O3",
            account_id="A2",
            owner_id="F2",
            created_at=u("2025-04-30 22:30"),
            validated_at=u("2025-05-01 00:00"),
            stage="proposal",
            amount=5e5,
            probability=0.4,
            product="fleet_basic",
        ),
        Opportunity(
            opportunity_id="O4",
            lead_id="L3",
            owner_id="F1",
            created_at=u("2025-10-26 00:30"),
            stage="quote",
            amount=2e6,
            probability=0.6,
            quantity=120,
            product="fleet_pro",
        ),
        Opportunity(
            opportunity_id="O5",
            lead_id="L9",
            created_at=u("2025-10-20 07:00"),
            stage="list",
            amount=None,
            origin="outbound",
            expected_close_on=date(2025, 12, 20),
            forecast_category="pipeline",
        ),
        Opportunity(
            opportunity_id="O6",
            lead_id="L4",
            owner_id="F1",
            created_at=u("2025-05-31 22:30"),
            stage="won",
            closed_at=u("2025-11-30 23:00:00"),
            is_won=True,
            amount=7e5,
            validated_at=u("2025-06-01 00:00"),
        ),
    ]
    changes = [
        StageChange(opportunity_id="O1", stage="list", entered_at=u("2025-04-15 01:00")),
        StageChange(opportunity_id="O1", stage="proposal", entered_at=u("2025-04-20 01:00")),
        StageChange(opportunity_id="O1", stage="opportunity", entered_at=u("2025-04-20 01:00")),
        StageChange(opportunity_id="O1", stage="won", entered_at=u("2025-05-31 22:30")),
        StageChange(opportunity_id="O2", stage="list", entered_at=u("2025-04-15 01:00")),
        StageChange(opportunity_id="O2", stage="lost", entered_at=u("2025-06-30 22:30")),
        StageChange(opportunity_id="O3", stage="list", entered_at=u("2025-04-30 22:30")),
        StageChange(opportunity_id="O3", stage="proposal", entered_at=u("2025-10-26 00:30")),
        StageChange(opportunity_id="O4", stage="list", entered_at=u("2025-10-26 00:30")),
        StageChange(opportunity_id="O4", stage="quote", entered_at=u("2025-10-26 01:30")),
        StageChange(opportunity_id="O6", stage="won", entered_at=u("2025-11-30 23:00:00")),
    ]

    def change(oid: str, when: str, **fields: object) -> OpportunityHistory:
        return OpportunityHistory(opportunity_id=oid, changed_at=u(when), **fields)  # type: ignore[arg-type]

    history = [
        change("O1", "2025-04-15 01:00", stage="list", amount=2.5e6, probability=0.1,
               expected_close_on=date(2025, 5, 31), forecast_category="pipeline"),
        # the last second of 31 May in Berlin: the amount rises the evening before the win
        change("O1", "2025-05-31 21:59:59", amount=3e6),
        change("O1", "2025-05-31 22:30", stage="won", probability=1.0,
               expected_close_on=date(2025, 6, 1), forecast_category="closed"),
        change("O3", "2025-04-30 22:30", stage="list", amount=4e5,
               expected_close_on=date(2025, 9, 30), forecast_category="pipeline"),
        # both 02:30 local on the fall-back night: the later instant first in the file,
        # so the earlier one (last in the file) wins the tie
        change("O3", "2025-10-26 01:30", expected_close_on=date(2026, 1, 15)),
        change("O3", "2025-10-26 00:30", expected_close_on=date(2025, 12, 15), amount=5e5),
        change("O4", "2025-10-26 00:30", stage="list", amount=2e6,
               expected_close_on=date(2025, 11, 30), forecast_category="best_case"),
        # the last second of the as_of day, then the first second after it (ignored)
        change("O4", "2025-11-30 22:59:59", forecast_category="commit", probability=0.6),
        change("O4", "2025-11-30 23:00:00", expected_close_on=date(2026, 2, 1)),
        change("O6", "2025-05-31 22:30", amount=7e5, expected_close_on=date(2025, 11, 28)),
        change("O6", "2025-11-27 09:00", expected_close_on=date(2025, 12, 1)),
        change("OX", "2025-06-01 09:00", stage="list", amount=1e6),  # unknown opportunity
    ]  # fmt: skip

    def member(lead: str, campaign: str, when: str) -> CampaignMember:
        return CampaignMember(lead_id=lead, campaign_id=campaign, responded_at=u(when))

    members = [
        # L1: a response before the lead, one at its creation, a repeat (the earliest
        # counts) and one after its opportunities (not a touch of them)
        member("L1", "C2", "2025-03-20 09:00"),
        member("L1", "C1", "2025-03-29 23:30"),
        member("L1", "C2", "2025-04-01 09:00"),
        member("L1", "C1", "2025-05-01 09:00"),
        # L3: at the instant its opportunity is created (inclusive) and exactly 90 days
        # of instants before it, across the spring and fall DST changes
        member("L3", "C2", "2025-10-26 00:30"),
        member("L3", "C1", "2025-07-28 00:30"),
        # L9: its creation touch, and a response after its opportunity
        member("L9", "C2", "2025-10-01 07:00"),
        member("L9", "C1", "2025-10-25 10:00"),
        # L4: at its creation; an orphan lead
        member("L4", "C1", "2025-04-30 21:59"),
        member("LX", "C1", "2025-05-07 05:00"),
    ]

    def quota(holder: str, first: date, last: date, metric: str, target: float) -> Quota:
        team = holder if holder == "field" else None
        owner = None if team else holder
        return Quota(
            owner_id=owner,
            team=team,
            period_start=first,
            period_end=last,
            metric=metric,  # type: ignore[arg-type]
            target=target,
        )

    # O6 is won at 2025-12-01 00:00 Berlin (23:00 UTC on 30 Nov): December, after as_of.
    quotas = [
        quota("F1", date(2025, 5, 1), date(2025, 5, 31), "won_amount", 2e6),
        quota("F1", date(2025, 6, 1), date(2025, 6, 30), "won_amount", 0.0),
        quota("F1", date(2025, 11, 1), date(2025, 11, 30), "won_amount", 1e6),
        quota("F1", date(2025, 12, 1), date(2025, 12, 31), "won_amount", 1e6),
        quota("F1", date(2025, 10, 1), date(2025, 12, 31), "won_count", 2),
        quota("F2", date(2025, 10, 1), date(2025, 12, 31), "sqls", 3),
        quota("R1", date(2025, 4, 1), date(2025, 4, 30), "meetings_held", 2),
        quota("field", date(2025, 4, 1), date(2025, 6, 30), "won_amount", 4e6),
        quota("field", date(2025, 10, 1), date(2025, 12, 31), "won_amount", 4e6),
    ]
    return {
        "accounts": accounts,
        "reps": reps,
        "campaigns": campaigns,
        "leads": leads,
        "activities": acts,
        "opportunities": opps,
        "stage_changes": changes,
        "campaign_members": members,
        "opportunity_history": history,
        "quotas": quotas,
    }


def edge_dataset() -> EngineDataset:
    """The hand-written edge cases, timestamps tz-aware UTC, dataset zone Berlin."""
    tables: dict[str, pd.DataFrame] = {}
    for name, objects in _edge_objects().items():
        frame = from_objects(objects, TABLES[name].cls)
        for col in TABLES[name].columns:
            if col.kind == "timestamp":
                frame[col.name] = frame[col.name].dt.tz_localize("UTC")
        tables[name] = frame
    return EngineDataset(
        name="edge",
        tables=tables,
        tz="Europe/Berlin",
        as_of=date(2025, 11, 30),
        start=date(2025, 1, 1),
        target_accounts=("A1", "A2"),
    )


def shift(day: date, days: int) -> date:
    return day + timedelta(days=days)
