"""Hypothesis strategies for consistent random pipelinekit data.

``datasets()`` draws the canonical tables (accounts, reps, campaigns, leads,
activities, opportunities, stage_changes) as pandas frames built from the domain
classes, so every frame is canonical (dtypes, enums, defaults) and every row passes
the domain rules: foreign keys point at drawn rows, outcomes belong to their
channel, ``validated_at`` / ``closed_at`` are not before ``created_at``, ``is_won``
has a ``closed_at``, stage histories match the opportunity's stage.

The data is small (a handful of rows per table) and deliberately awkward: times on
a coarse grid so ties happen, activities before their lead was created, account-only
activities and opportunities, missing optional values, stage histories with gaps
or out-of-order entries.

``opportunity_histories()`` draws opportunities with an ``opportunity_history`` (and
``stage_changes``) whose rows leave fields empty, share timestamps and straddle
midnight, for the pipeline-history functions.

``journeys()`` draws lead-journey frames directly (the input of the funnel), with
stage timestamps in any order and missing at random.

Examples
--------
>>> from hypothesis import given
>>> @given(datasets())
... def test_leads_are_unique(tables):
...     assert tables["leads"]["lead_id"].is_unique
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import pandas as pd
from hypothesis import strategies as st

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
from pipelinekit.domain import (
    CHANNEL_OUTCOMES,
    Channel,
    Direction,
    ForecastCategory,
    OpportunityHistory,
    Origin,
    Role,
)
from pipelinekit.schema import table_for

__all__ = [
    "JOURNEY_TIMES",
    "OPPORTUNITY_STAGES",
    "START",
    "as_of_dates",
    "campaign_members",
    "canonical_frame",
    "datasets",
    "journeys",
    "leads_with_history",
    "opportunity_histories",
]

#: First instant of generated data (wall-clock, dataset time zone).
START = datetime(2025, 1, 1)
#: Generated events fall within this many days after START (plus follow-ups).
SPAN_DAYS = 120
#: Time grid: events are whole multiples of this many minutes after START.
GRID_MINUTES = 6 * 60
OPPORTUNITY_STAGES = ("list", "proposal", "opportunity", "quote", "won")
#: Journey stage timestamp columns, in funnel order.
JOURNEY_TIMES = (
    "created_at",
    "first_touch_at",
    "first_connect_at",
    "sql_at",
    "validated_at",
    "won_at",
)

_INDUSTRIES = (None, "it", "manufacturing", "retail")
_REGIONS = (None, "kanto", "kansai")
_SOURCES = (None, "web_form", "list", "event")
_PRODUCTS = (None, "fleet_basic", "fleet_pro")
_DEPARTMENTS = (None, "sales", "logistics")


def _grid_times(max_steps: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=max_steps)


def _at(steps: int) -> datetime:
    return START + timedelta(minutes=GRID_MINUTES * steps)


_STEPS = SPAN_DAYS * 24 * 60 // GRID_MINUTES


def canonical_frame(objects: Sequence[Any], cls: type) -> pd.DataFrame:
    """Canonical pandas frame of domain objects (same frame as ``from_objects``, faster).

    One frame construction and one ``astype`` per table instead of one array per
    column, which keeps hypothesis examples cheap.
    """
    spec = table_for(cls)
    rows = [[_plain(getattr(obj, col.name)) for col in spec.columns] for obj in objects]
    frame = pd.DataFrame(rows, columns=spec.names, dtype=object)
    return frame.astype({col.name: col.pandas_dtype for col in spec.columns})


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@st.composite
def _accounts(draw: st.DrawFn, max_accounts: int) -> list[Account]:
    n = draw(st.integers(0, max_accounts))
    return [
        Account(
            account_id=f"A{i}",
            industry=draw(st.sampled_from(_INDUSTRIES)),
            region=draw(st.sampled_from(_REGIONS)),
            employees=draw(
                st.one_of(st.none(), st.sampled_from([5, 30, 31, 299, 300, 1000, 5000]))
            ),
            is_target=draw(st.booleans()),
            target_tier=draw(st.sampled_from([None, "1", "2"])),
        )
        for i in range(n)
    ]


def _reps() -> list[Rep]:
    return [
        Rep(rep_id="R1", role=Role.INSIDE),
        Rep(rep_id="R2", role=Role.INSIDE),
        Rep(rep_id="F1", role=Role.FIELD, segment="1-30"),
        Rep(rep_id="F2", role=Role.FIELD, monthly_sql_capacity=2),
    ]


def _campaigns() -> list[Campaign]:
    return [Campaign(campaign_id="C1", name="webinar"), Campaign(campaign_id="C2", name="expo")]


@st.composite
def _lead(draw: st.DrawFn, lead_id: str, account_ids: list[str]) -> Lead:
    return Lead(
        lead_id=lead_id,
        account_id=draw(st.sampled_from([None, *account_ids])),
        owner_id=draw(st.sampled_from([None, "R1", "R2"])),
        created_at=_at(draw(_grid_times(_STEPS))),
        origin=draw(st.sampled_from(list(Origin))),
        source=draw(st.sampled_from(_SOURCES)),
        campaign_id=draw(st.sampled_from([None, "C1", "C2"])),
        department=draw(st.sampled_from(_DEPARTMENTS)),
        title=draw(st.sampled_from([None, "manager", "staff"])),
    )


@st.composite
def _activity(
    draw: st.DrawFn, activity_id: str, leads: list[Lead], account_ids: list[str]
) -> Activity:
    lead = draw(st.sampled_from([None, *leads])) if account_ids else draw(st.sampled_from(leads))
    base = lead.created_at if lead is not None else START
    # up to 3 days before the lead's creation (activities may precede it), up to 60 after
    offset = draw(st.integers(-12, 60 * 4))
    channel = draw(st.sampled_from(list(Channel)))
    outcome = draw(st.sampled_from(CHANNEL_OUTCOMES[channel]))
    return Activity(
        activity_id=activity_id,
        lead_id=None if lead is None else lead.lead_id,
        account_id=(
            draw(st.sampled_from(account_ids))
            if lead is None
            else (lead.account_id if draw(st.booleans()) else None)
        ),
        owner_id=draw(st.sampled_from([None, "R1", "R2"])),
        occurred_at=base + timedelta(minutes=GRID_MINUTES * offset),
        channel=channel,
        direction=draw(st.sampled_from(list(Direction))),
        outcome=outcome,
        duration_s=draw(st.one_of(st.none(), st.sampled_from([0.0, 30.0, 300.0]))),
    )


@st.composite
def _opportunity(
    draw: st.DrawFn, opportunity_id: str, leads: list[Lead], account_ids: list[str]
) -> tuple[Opportunity, list[StageChange]]:
    lead = draw(st.sampled_from([None, *leads])) if leads else None
    base = lead.created_at if lead is not None else START
    created = base + timedelta(minutes=GRID_MINUTES * draw(st.integers(0, 30 * 4)))

    def later(max_days: int) -> datetime:
        return created + timedelta(minutes=GRID_MINUTES * draw(st.integers(0, max_days * 4)))

    validated = later(20) if draw(st.booleans()) else None
    outcome = draw(st.sampled_from(["open", "won", "lost"]))
    closed = later(60) if outcome != "open" else None
    is_won = {"open": None, "won": True, "lost": draw(st.sampled_from([False, None]))}[outcome]
    reached = draw(st.integers(0, len(OPPORTUNITY_STAGES) - 2))
    if outcome == "won":
        stage: str | None = "won"
        path = list(OPPORTUNITY_STAGES)
    elif outcome == "lost":
        stage = "lost"
        path = [*OPPORTUNITY_STAGES[: reached + 1], "lost"]
    else:
        stage = draw(st.sampled_from([None, OPPORTUNITY_STAGES[reached]]))
        path = list(OPPORTUNITY_STAGES[: reached + 1])
    opp = Opportunity(
        opportunity_id=opportunity_id,
        lead_id=None if lead is None else lead.lead_id,
        account_id=draw(st.sampled_from([None, *account_ids])),
        owner_id=draw(st.sampled_from([None, "F1", "F2"])),
        created_at=created,
        origin=draw(st.sampled_from([None, *Origin])),
        validated_at=validated,
        stage=stage,
        closed_at=closed,
        is_won=is_won,
        amount=draw(st.one_of(st.none(), st.sampled_from([500_000.0, 2_000_000.0, 12e6]))),
        quantity=draw(st.one_of(st.none(), st.sampled_from([1, 10, 120]))),
        product=draw(st.sampled_from(_PRODUCTS)),
        campaign_id=draw(st.sampled_from([None, "C1"])),
    )
    history = []
    when = created
    for name in path:
        if draw(st.integers(0, 9)) == 0:  # a gap in the history
            continue
        # mostly forward in time; sometimes recorded out of order
        when = when + timedelta(minutes=GRID_MINUTES * draw(st.integers(-2, 12)))
        history.append(StageChange(opportunity_id=opportunity_id, stage=name, entered_at=when))
    return opp, history


@st.composite
def datasets(
    draw: st.DrawFn,
    *,
    min_leads: int = 1,
    max_leads: int = 8,
    max_accounts: int = 4,
    max_activities: int = 14,
    max_opportunities: int = 5,
) -> dict[str, pd.DataFrame]:
    """Canonical pandas frames of one small, consistent random dataset.

    Keys: ``accounts``, ``reps``, ``campaigns``, ``leads``, ``activities``,
    ``opportunities``, ``stage_changes`` (every table present, maybe empty; at least
    ``min_leads`` leads, since validation rejects an empty leads table).
    """
    accounts = draw(_accounts(max_accounts))
    account_ids = [a.account_id for a in accounts]
    n_leads = draw(st.integers(min_leads, max_leads))
    leads = [draw(_lead(f"L{i}", account_ids)) for i in range(n_leads)]
    n_acts = draw(st.integers(0, max_activities)) if (leads or account_ids) else 0
    activities = [draw(_activity(f"a{i}", leads, account_ids)) for i in range(n_acts)]
    n_opps = draw(st.integers(0, max_opportunities))
    drawn = [draw(_opportunity(f"O{i}", leads, account_ids)) for i in range(n_opps)]
    return {
        "accounts": canonical_frame(accounts, Account),
        "reps": canonical_frame(_reps(), Rep),
        "campaigns": canonical_frame(_campaigns(), Campaign),
        "leads": canonical_frame(leads, Lead),
        "activities": canonical_frame(activities, Activity),
        "opportunities": canonical_frame([o for o, _ in drawn], Opportunity),
        "stage_changes": canonical_frame([c for _, h in drawn for c in h], StageChange),
    }


@st.composite
def leads_with_history(
    draw: st.DrawFn, lead_id: str = "Lnew", account_ids: tuple[str, ...] = ()
) -> dict[str, pd.DataFrame]:
    """One extra lead with its own activities and opportunities (to add to a dataset)."""
    lead = draw(_lead(lead_id, list(account_ids)))
    acts = [draw(_activity(f"{lead_id}-a{i}", [lead], [])) for i in range(draw(st.integers(0, 4)))]
    opps = [
        draw(_opportunity(f"{lead_id}-O{i}", [lead], list(account_ids)))
        for i in range(draw(st.integers(0, 2)))
    ]
    return {
        "leads": canonical_frame([lead], Lead),
        "activities": canonical_frame(acts, Activity),
        "opportunities": canonical_frame([o for o, _ in opps], Opportunity),
    }


@st.composite
def journeys(draw: st.DrawFn, *, min_leads: int = 0, max_leads: int = 10) -> pd.DataFrame:
    """A lead-journey frame: ``lead_id``, breakdown columns and the six stage times.

    Stage times are independent draws on the grid, missing at random, so they may be
    out of order (strict mode) or skip stages (inferred mode); ``created_at`` is
    always present.
    """
    n = draw(st.integers(min_leads, max_leads))
    rows: list[dict[str, Any]] = []
    for i in range(n):
        created = draw(_grid_times(_STEPS))
        row: dict[str, Any] = {
            "lead_id": f"L{i:03d}",
            "origin": draw(st.sampled_from(["inbound", "outbound"])),
            "source": draw(st.sampled_from(_SOURCES)),
            "created_at": _at(created),
        }
        for name in JOURNEY_TIMES[1:]:
            present = draw(st.booleans())
            step = created + draw(st.integers(-8, 40 * 4))
            row[name] = _at(step) if present else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["lead_id", "origin", "source", *JOURNEY_TIMES])
    for name in JOURNEY_TIMES:
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    for name in ("lead_id", "origin", "source"):
        frame[name] = frame[name].astype("str")
    return frame


def as_of_dates() -> st.SearchStrategy[datetime | None]:
    """``None`` or a day inside the generated span (as a midnight datetime)."""
    return st.one_of(
        st.none(),
        st.integers(0, SPAN_DAYS + 60).map(lambda d: START + timedelta(days=d)),
    )


@st.composite
def campaign_members(draw: st.DrawFn, leads: pd.DataFrame, *, max_rows: int = 12) -> pd.DataFrame:
    """Campaign responses of the given leads: before, at and after their creation, on
    the time grid (so ties with opportunity creation happen), with repeats of one
    (lead, campaign) pair and campaigns C1..C3 (C3 is not in ``campaigns``)."""
    lead_rows = list(zip(leads["lead_id"], leads["created_at"], strict=True))
    n = draw(st.integers(0, max_rows)) if lead_rows else 0
    rows = []
    for _ in range(n):
        lead_id, created = draw(st.sampled_from(lead_rows))
        offset = draw(st.integers(-30 * 4, 60 * 4))
        rows.append(
            CampaignMember(
                lead_id=str(lead_id),
                campaign_id=draw(st.sampled_from(["C1", "C2", "C3"])),
                responded_at=created.to_pydatetime() + timedelta(minutes=GRID_MINUTES * offset),
            )
        )
    return canonical_frame(rows, CampaignMember)


#: Times of day history rows and opportunities use: midnight, office hours and the
#: last second of the day (a change at 23:59:59 belongs to its day).
_TIMES_OF_DAY = (timedelta(0), timedelta(hours=9), timedelta(hours=23, minutes=59, seconds=59))
#: Days (after START) of the drawn pipeline history.
HISTORY_DAYS = 60
_HISTORY_STAGES = ("list", "proposal", "quote")
_HISTORY_AMOUNTS = (100.0, 250.0, 1000.0, 4000.0)


@st.composite
def _history_instant(draw: st.DrawFn, first_day: int = 0) -> datetime:
    day = draw(st.integers(first_day, HISTORY_DAYS))
    return START + timedelta(days=day) + draw(st.sampled_from(_TIMES_OF_DAY))


@st.composite
def _history_values(draw: st.DrawFn, *, complete: bool) -> dict[str, Any]:
    """The five history fields, each empty at random (all set when ``complete``)."""

    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(strategy) if complete or draw(st.booleans()) else None

    return {
        "stage": maybe(st.sampled_from(_HISTORY_STAGES)),
        "amount": maybe(st.sampled_from(_HISTORY_AMOUNTS)),
        "expected_close_on": maybe(
            st.integers(0, HISTORY_DAYS + 30).map(lambda d: (START + timedelta(days=d)).date())
        ),
        "probability": maybe(st.sampled_from([0.1, 0.4, 0.9])),
        "forecast_category": maybe(st.sampled_from(list(ForecastCategory))),
    }


@st.composite
def opportunity_histories(
    draw: st.DrawFn, *, max_opportunities: int = 5, max_rows: int = 14, complete: bool = False
) -> dict[str, pd.DataFrame]:
    """Opportunities with an ``opportunity_history`` and ``stage_changes``.

    Times fall on midnight, 09:00 or 23:59:59 of days 0..``HISTORY_DAYS`` after START,
    so rows straddle day ends; a third of the rows repeat the timestamp of a row of
    the same deal (ties broken by file order); rows come in random order, some
    of an unknown opportunity (``OX``) and some before their opportunity's creation.
    Amounts are whole numbers or missing. With ``complete`` every opportunity has a
    history row at its creation with every field set, no row of an unknown
    opportunity, and the opportunities row holds the last value of each field (the
    export of a CRM that records every change, as Salesforce does).
    """
    n = draw(st.integers(1, max_opportunities))
    opps: list[dict[str, Any]] = []
    rows: list[OpportunityHistory] = []
    for i in range(n):
        created = draw(_history_instant())
        outcome = draw(st.sampled_from(["open", "won", "lost"]))
        closed = None
        if outcome != "open":
            closed = created + timedelta(
                days=draw(st.integers(0, 30)), hours=draw(st.integers(0, 15))
            )
        current = draw(_history_values(complete=False))
        opps.append(
            {
                "opportunity_id": f"O{i}",
                "created_at": created,
                "closed_at": closed,
                "is_won": None if closed is None else outcome == "won",
                "owner_id": draw(st.sampled_from([None, "F1", "F2"])),
                **current,
            }
        )
        if complete:
            rows.append(
                OpportunityHistory(
                    opportunity_id=f"O{i}",
                    changed_at=created,
                    **draw(_history_values(complete=True)),
                )
            )
    ids = [o["opportunity_id"] for o in opps]
    for _ in range(draw(st.integers(0, max_rows))):
        choices = ids if complete else [*ids, "OX"]
        oid = draw(st.sampled_from(choices))
        same = [r.changed_at for r in rows if r.opportunity_id == oid]
        if same and draw(st.integers(0, 2)) == 0:  # a tie with a row of the same deal
            at = draw(st.sampled_from(same))
        else:
            at = draw(_history_instant())
        if complete:
            created = next(o["created_at"] for o in opps if o["opportunity_id"] == oid)
            at = max(at, created)
        values = draw(_history_values(complete=False))
        rows.insert(
            draw(st.integers(0, len(rows))),
            OpportunityHistory(opportunity_id=oid, changed_at=at, **values),
        )
    if complete:
        # the opportunities row holds the last value of every field (rows ordered by
        # time, then file order)
        ordered = sorted(enumerate(rows), key=lambda item: (item[1].changed_at, item[0]))
        for opp in opps:
            for field in (
                "stage",
                "amount",
                "expected_close_on",
                "probability",
                "forecast_category",
            ):
                values = [
                    getattr(r, field)
                    for _, r in ordered
                    if r.opportunity_id == opp["opportunity_id"] and getattr(r, field) is not None
                ]
                opp[field] = values[-1]
    changes = []
    if not complete:
        for _ in range(draw(st.integers(0, 4))):
            changes.append(
                StageChange(
                    opportunity_id=draw(st.sampled_from(ids)),
                    stage=draw(st.sampled_from(_HISTORY_STAGES)),
                    entered_at=draw(_history_instant()),
                )
            )
    return {
        "opportunities": canonical_frame([Opportunity(**o) for o in opps], Opportunity),
        "opportunity_history": canonical_frame(rows, OpportunityHistory),
        "stage_changes": canonical_frame(changes, StageChange),
    }
