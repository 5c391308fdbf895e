"""Domain classes: validators, enums, and the objects <-> frame round trip."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import (
    Account,
    Activity,
    Campaign,
    Lead,
    Opportunity,
    Rep,
    StageChange,
    from_objects,
    to_objects,
)
from pipelinekit.domain import CHANNEL_OUTCOMES, ActionStatus, Origin
from pipelinekit.schema import TABLES

T0 = datetime(2025, 4, 1, 9, 0)


def test_classes_are_frozen_slotted_keyword_only() -> None:
    for cls in (Account, Rep, Lead, Activity, Opportunity, Campaign, StageChange):
        assert attrs.has(cls)
        assert "__slots__" in cls.__dict__
        with pytest.raises(TypeError):
            cls("x")  # positional arguments are rejected
    lead = Lead(lead_id="L1", created_at=T0, origin="inbound")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        lead.lead_id = "L2"  # type: ignore[misc]


def test_enums_are_normalised_case_insensitively() -> None:
    lead = Lead(lead_id="L1", created_at=T0, origin=" InBound ", action_status="QUALIFIED")
    assert lead.origin is Origin.INBOUND
    assert lead.action_status is ActionStatus.QUALIFIED
    with pytest.raises(ValueError, match="web"):
        Lead(lead_id="L1", created_at=T0, origin="web")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": -1.0}, "amount must be >= 0"),
        ({"quantity": -2}, "quantity must be >= 0"),
        ({"closed_at": T0 - timedelta(days=1)}, "closed_at must be >= created_at"),
        ({"validated_at": T0 - timedelta(seconds=1)}, "validated_at must be >= created_at"),
        ({"is_won": True}, "is_won=True needs closed_at"),
        ({"probability": 1.5}, "within"),
        ({"amount": float("inf")}, "finite"),
    ],
)
def test_opportunity_rules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Opportunity(opportunity_id="O1", created_at=T0, **kwargs)  # type: ignore[arg-type]


def test_outcome_must_belong_to_channel() -> None:
    with pytest.raises(ValueError, match="not valid for channel 'email'"):
        Activity(
            activity_id="A1",
            lead_id="L1",
            occurred_at=T0,
            channel="email",
            direction="outbound",
            outcome="connected",
        )
    for channel, outcomes in CHANNEL_OUTCOMES.items():
        for outcome in outcomes:
            Activity(
                activity_id="A1",
                lead_id="L1",
                occurred_at=T0,
                channel=channel,
                direction="outbound",
                outcome=outcome,
            )


def test_activity_needs_a_parent_and_rep_capacity_positive() -> None:
    with pytest.raises(ValueError, match="lead_id or an account_id"):
        Activity(
            activity_id="A1", occurred_at=T0, channel="call", direction="outbound", outcome="busy"
        )
    with pytest.raises(ValueError, match="must be > 0"):
        Rep(rep_id="R1", role="field", monthly_sql_capacity=0)


def test_schema_is_derived_from_the_domain() -> None:
    leads = TABLES["leads"]
    assert leads.names == [f.name for f in attrs.fields(Lead)]
    assert leads.column("created_at").kind == "timestamp"
    assert leads.column("next_activity_on").kind == "date"
    assert leads.column("owner_id").fk == ("reps", "rep_id")
    assert leads.column("action_status").default == "new"
    assert TABLES["accounts"].column("is_target").default is False
    assert TABLES["opportunities"].column("probability").max == 1


# --- round trip -------------------------------------------------------------------

ids = st.text(alphabet="ABCDEFGHIJ0123456789-", min_size=1, max_size=8)
texts = st.none() | st.text(min_size=0, max_size=12)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1))


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    return Lead(
        lead_id=draw(ids),
        account_id=draw(st.none() | ids),
        owner_id=draw(st.none() | ids),
        created_at=draw(moments),
        origin=draw(st.sampled_from(["inbound", "outbound"])),
        source=draw(texts),
        campaign_id=draw(st.none() | ids),
        action_status=draw(st.sampled_from([s.value for s in ActionStatus])),
        priority=draw(st.none() | st.sampled_from(["focus", "non_focus"])),
        next_activity_on=draw(st.none() | days),
        recycle_on=draw(st.none() | days),
        recycle_reason=draw(texts),
        department=draw(texts),
        title=draw(texts),
    )


@st.composite
def opportunities(draw: st.DrawFn) -> Opportunity:
    created = draw(moments)
    closed = draw(st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
    closed_at = None if closed is None else created + closed
    return Opportunity(
        opportunity_id=draw(ids),
        lead_id=draw(st.none() | ids),
        created_at=created,
        closed_at=closed_at,
        is_won=None if closed_at is None else draw(st.none() | st.booleans()),
        amount=draw(st.none() | st.floats(min_value=0, max_value=1e12)),
        quantity=draw(st.none() | st.integers(min_value=0, max_value=10**9)),
        probability=draw(st.none() | st.floats(min_value=0, max_value=1)),
        origin=draw(st.none() | st.sampled_from(["inbound", "outbound"])),
    )


@st.composite
def activities(draw: st.DrawFn) -> Activity:
    channel = draw(st.sampled_from(list(CHANNEL_OUTCOMES)))
    return Activity(
        activity_id=draw(ids),
        lead_id=draw(ids),
        account_id=draw(st.none() | ids),
        occurred_at=draw(moments),
        channel=channel,
        direction=draw(st.sampled_from(["inbound", "outbound"])),
        outcome=draw(st.sampled_from(CHANNEL_OUTCOMES[channel])),
        duration_s=draw(st.none() | st.floats(min_value=0, max_value=1e5)),
        is_key_person=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(leads(), max_size=6))
def test_leads_round_trip_exactly(objs: list[Lead]) -> None:
    assert to_objects(from_objects(objs, Lead), Lead) == objs


@settings(max_examples=200, deadline=None)
@given(st.lists(opportunities(), max_size=6))
def test_opportunities_round_trip_exactly(objs: list[Opportunity]) -> None:
    assert to_objects(from_objects(objs, Opportunity), Opportunity) == objs


@settings(max_examples=200, deadline=None)
@given(st.lists(activities(), max_size=6))
def test_activities_round_trip_exactly(objs: list[Activity]) -> None:
    assert to_objects(from_objects(objs, Activity), Activity) == objs


def test_round_trip_of_every_table_on_polars() -> None:
    import polars as pl

    reps = [
        Rep(rep_id="R1", role="field", segment="1-30", monthly_sql_capacity=40),
        Rep(rep_id="R2", role="inside"),
    ]
    frame = pl.from_pandas(from_objects(reps))
    assert to_objects(frame, Rep) == reps
    camp = [Campaign(campaign_id="C1", started_on=date(2025, 1, 6))]
    assert to_objects(from_objects(camp), Campaign) == camp


def test_aware_timestamps_are_rejected_by_from_objects() -> None:
    from datetime import timezone

    lead = Lead(lead_id="L1", created_at=T0.replace(tzinfo=timezone.utc), origin="inbound")
    with pytest.raises(ValueError, match="naive wall-clock"):
        from_objects([lead])


def test_from_objects_empty_needs_class() -> None:
    assert list(from_objects([], Lead).columns) == TABLES["leads"].names
    with pytest.raises(ValueError, match="pass cls"):
        from_objects([])
