"""A tiny hand-written dataset whose summary as of 2025-04-30 is worked out by hand.

The expected values are in ``EXPECTED_SUMMARY`` with the arithmetic beside them.
"""

from __future__ import annotations

from datetime import date, datetime

from pipelinekit import Account, Activity, Campaign, Dataset, Lead, Opportunity, Rep

AS_OF = date(2025, 4, 30)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _call(
    aid: str,
    lead: str | None,
    when: str,
    outcome: str,
    *,
    direction: str = "outbound",
    duration: float | None = None,
    account: str | None = None,
) -> Activity:
    return Activity(
        activity_id=aid,
        lead_id=lead,
        account_id=account,
        occurred_at=t(when),
        channel="call",
        direction=direction,
        outcome=outcome,
        duration_s=duration,
    )


def _email(
    aid: str, lead: str, when: str, outcome: str, *, direction: str = "outbound"
) -> Activity:
    return Activity(
        activity_id=aid,
        lead_id=lead,
        occurred_at=t(when),
        channel="email",
        direction=direction,
        outcome=outcome,
    )


def tiny_dataset() -> Dataset:
    accounts = [
        Account(account_id="A1", is_target=True, industry="manufacturing", employees=20),
        Account(account_id="A2", industry="it", employees=500),
        Account(account_id="A3", industry="it", employees=1500),
    ]
    reps = [
        Rep(rep_id="R1", role="inside"),
        Rep(rep_id="F1", role="field", segment="1-30"),  # band capacity 60
        Rep(rep_id="F2", role="field", monthly_sql_capacity=1),
        Rep(rep_id="F3", role="field"),  # no capacity
    ]
    campaigns = [Campaign(campaign_id="C1", name="webinar")]
    leads = [
        Lead(
            lead_id="L1",
            created_at=t("2025-04-01T09:00"),
            origin="inbound",
            account_id="A1",
            owner_id="R1",
            campaign_id="C1",
        ),
        Lead(lead_id="L2", created_at=t("2025-04-01T23:59"), origin="inbound", account_id="A2"),
        Lead(lead_id="L3", created_at=t("2025-04-02T10:00"), origin="outbound", account_id="A3"),
        Lead(lead_id="L4", created_at=t("2025-04-10T10:00"), origin="inbound", account_id="A2"),
        Lead(lead_id="L5", created_at=t("2025-05-05T10:00"), origin="outbound"),  # after as_of
        Lead(lead_id="L6", created_at=t("2025-03-01T08:00"), origin="inbound"),
    ]
    activities = [
        _call("a01", "L1", "2025-04-01T10:00", "connected", duration=300),
        _call("a02", "L2", "2025-04-02T00:01", "no_answer", duration=10),  # next day
        _email("a03", "L2", "2025-04-02T09:00", "sent"),
        _email("a04", "L2", "2025-04-03T09:00", "opened"),
        _email("a05", "L3", "2025-04-02T11:00", "bounced"),
        _email("a06", "L3", "2025-04-03T11:00", "clicked"),
        _email("a07", "L3", "2025-04-04T12:00", "replied", direction="inbound"),
        _call("a08", None, "2025-04-05T10:00", "connected", duration=120, account="A1"),
        _call("a09", "L4", "2025-04-10T09:00", "connected", direction="inbound", duration=60),
        _call("a10", "L1", "2025-05-02T10:00", "busy"),  # after as_of
        *[_call(f"a1{i}", "L6", f"2025-03-0{i}T09:00", "no_answer") for i in range(1, 6)],
        _email("a16", "L6", "2025-03-06T09:00", "sent"),
        _email("a17", "L6", "2025-03-07T09:00", "sent"),
        _call("a18", "L6", "2025-03-15T08:00", "connected", duration=200),  # at window end
    ]
    opportunities = [
        Opportunity(
            opportunity_id="O1",
            lead_id="L1",
            owner_id="F2",
            created_at=t("2025-04-03T10:00"),
            validated_at=t("2025-04-05T10:00"),
            closed_at=t("2025-04-20T10:00"),
            is_won=True,
            amount=1_000_000.0,
        ),
        Opportunity(
            opportunity_id="O2",
            lead_id="L1",
            owner_id="F2",
            created_at=t("2025-04-04T10:00"),
            closed_at=t("2025-04-25T10:00"),
            is_won=False,
            amount=500_000.0,
        ),
        Opportunity(
            opportunity_id="O3",
            lead_id="L3",
            account_id="A3",
            owner_id="F1",
            created_at=t("2025-04-05T10:00"),
            validated_at=t("2025-05-03T10:00"),
            amount=2_000_000.0,
        ),
        Opportunity(
            opportunity_id="O4",
            account_id="A1",
            owner_id="F3",
            created_at=t("2025-04-06T10:00"),
            validated_at=t("2025-04-07T10:00"),
            closed_at=t("2025-05-10T10:00"),
            is_won=True,
            amount=3_000_000.0,
        ),
        Opportunity(
            opportunity_id="O5",
            lead_id="L4",
            account_id="A2",
            owner_id="F2",
            created_at=t("2025-05-02T10:00"),
        ),  # after as_of
        Opportunity(
            opportunity_id="O6",
            lead_id="L6",
            owner_id="F2",
            created_at=t("2025-03-20T10:00"),
            validated_at=t("2025-03-25T10:00"),
            closed_at=t("2025-04-01T10:00"),
            amount=700_000.0,
        ),  # is_won missing: lost
    ]
    return Dataset.from_objects(
        leads=leads,
        activities=activities,
        opportunities=opportunities,
        accounts=accounts,
        reps=reps,
        campaigns=campaigns,
    )


#: key -> value, or (numerator, denominator) for rates.
EXPECTED_SUMMARY: dict[str, object] = {
    "leads": 5,  # L1 L2 L3 L4 L6 (L5 after as_of)
    "inbound_leads": 4,  # L1 L2 L4 L6
    "touched_leads": 4,  # L1 a01, L2 a02-a04, L3 a05-a06, L6 a11-; L4 has only an inbound call
    "connected_leads": 4,  # L1 a01, L3 a07 (inbound reply), L4 a09, L6 a18
    "sqls": 5,  # O1 O2 O3 O4 O6 (O5 after as_of)
    "valid_opportunities": 3,  # O1 O4 O6 (O3 validated after as_of)
    "won": 1,  # O1 (O4 closes after as_of)
    "won_amount": 1_000_000.0,
    "calls": 10,  # a01 a02 a08 a09 a11-a15 a18
    "connected_calls": 4,  # a01 a08 a09 a18
    "call_connect_rate": (4, 10),
    "talk_time_s": 690.0,  # 300 + 10 + 120 + 60 + 200
    "emails_delivered": 5,  # a03 a04 a06 a16 a17 (a05 bounced, a07 inbound)
    "email_open_rate": (2, 5),  # a04 opened, a06 clicked
    "email_click_rate": (1, 5),  # a06
    "lead_to_sql_rate": (3, 5),  # L1 L3 L6
    "sql_to_valid_rate": (3, 5),
    "valid_to_won_rate": (1, 3),  # O1
    "win_rate": (1, 3),  # closed: O1 O2 O6
    "same_day_approach_rate": (2, 4),  # L1 (a01), L6 (a11); L2 touched 00:01 next day
    "cadence_5c2m_rate": (1, 3),  # eligible L2 L4 L6 (L1, L3 connected); L6 has 5 calls + 2 mails
    "sql_over_capacity_rep_months": 1,  # F2 April: 2 SQLs > capacity 1
    "target_account_sqls": 3,  # O1 O2 (via lead L1 -> A1), O4 (A1)
    "target_account_won_amount": 1_000_000.0,  # O1
}
