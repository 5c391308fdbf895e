"""The HubSpot preset: CRM objects with internal property names as headers.

Files (one per object; headers are HubSpot's internal property names, which do not
change with the portal's language, as the CRM API and warehouse syncs write them):
``contacts``, ``companies``, ``deals``, ``owners``, ``calls``, ``emails``,
``meetings`` and ``deal_stage_history``. Only ``contacts`` is required.
Associations are columns holding the associated record's id: ``contact_id`` and
``company_id`` on deals and engagements (the primary association).
``deal_stage_history`` has one row per stage change: ``deal_id``, ``dealstage``,
``timestamp`` (the API's ``propertiesWithHistory=dealstage``).

Choices this preset makes (copy it and change them for your portal):

- ``hs_analytics_source`` (original source) decides ``origin``: every online
  source is inbound; ``OFFLINE`` (imports, records a rep created) is outbound.
- ``hs_lead_status`` gives ``action_status`` (:data:`LEAD_STATUSES`).
- Calls: ``hs_call_direction`` and ``hs_call_disposition`` (HubSpot's default
  disposition ids or their labels, :data:`CALL_OUTCOMES`); ``hs_call_duration`` is in
  milliseconds. Canceled or queued calls are skipped.
- Emails: ``hs_email_direction`` ``EMAIL`` is an outbound send (``sent`` or, when
  ``hs_email_status`` says so, ``bounced``); ``INCOMING_EMAIL`` is an inbound reply
  (``replied``). Scheduled or unsent emails are skipped.
- Meetings: ``hs_meeting_outcome`` (``COMPLETED`` -> held, ``NO_SHOW``, scheduled
  and rescheduled -> scheduled); canceled meetings are skipped.
- Deals: ``closedate`` and ``hs_is_closed_won`` count only when ``hs_is_closed`` is
  true; ``dealstage`` ids of the default pipeline get their labels
  (:data:`DEAL_STAGES`); a deal is valid from its first entry into
  :data:`VALIDATED_STAGES`. ``hs_deal_stage_probability`` is already 0-1.
- Owners have no role in HubSpot: ``team`` (the owner's primary team name) gives
  it (:data:`ROLES`); owners without a team are skipped.
"""

from __future__ import annotations

from pipelinekit.io.presets.model import (
    CollapseRepeats,
    Fill,
    Keep,
    Lookup,
    Preset,
    SourceLookup,
    TableMap,
)

__all__ = [
    "CALL_OUTCOMES",
    "DEAL_STAGES",
    "HUBSPOT",
    "LEAD_STATUSES",
    "ORIGINS",
    "ROLES",
    "VALIDATED_STAGES",
]

#: ``hs_analytics_source`` -> origin.
ORIGINS: dict[str, str | None] = {
    "ORGANIC_SEARCH": "inbound",
    "PAID_SEARCH": "inbound",
    "EMAIL_MARKETING": "inbound",
    "SOCIAL_MEDIA": "inbound",
    "PAID_SOCIAL": "inbound",
    "REFERRALS": "inbound",
    "OTHER_CAMPAIGNS": "inbound",
    "DIRECT_TRAFFIC": "inbound",
    "AI_REFERRALS": "inbound",
    "OFFLINE": "outbound",
}

#: ``hs_lead_status`` -> action_status (internal values and their default labels).
LEAD_STATUSES: dict[str, str | None] = {
    "NEW": "new",
    "OPEN": "working",
    "IN_PROGRESS": "working",
    "In Progress": "working",
    "ATTEMPTED_TO_CONTACT": "working",
    "Attempted to contact": "working",
    "CONNECTED": "connected",
    "OPEN_DEAL": "qualified",
    "Open deal": "qualified",
    "UNQUALIFIED": "disqualified",
    "BAD_TIMING": "recycled",
    "Bad timing": "recycled",
}

#: ``hs_call_disposition`` -> call outcome: HubSpot's default disposition ids and labels.
CALL_OUTCOMES: dict[str, str | None] = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "voicemail",  # left live message
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "no_answer",
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "busy",
    "17b47fee-58de-441e-a44c-c6300d46f273": "wrong_number",
    "Connected": "connected",
    "Left live message": "voicemail",
    "Left voicemail": "voicemail",
    "No answer": "no_answer",
    "Busy": "busy",
    "Wrong number": "wrong_number",
}

#: Default sales pipeline stage ids -> labels (custom pipelines use numeric ids).
DEAL_STAGES: dict[str, str | None] = {
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "decisionmakerboughtin": "Decision Maker Bought-In",
    "contractsent": "Contract Sent",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}

#: Stage labels whose first entry makes a deal valid (有効商談).
VALIDATED_STAGES: tuple[str, ...] = (
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
    "Closed Won",
)

#: Owner ``team`` -> rep role.
ROLES: dict[str, str | None] = {
    "Inside Sales": "inside",
    "SDR": "inside",
    "BDR": "inside",
    "IS": "inside",
    "Field Sales": "field",
    "Account Executives": "field",
    "AE": "field",
    "FS": "field",
    "Sales Managers": "manager",
    "Managers": "manager",
    "インサイドセールス": "inside",
    "フィールドセールス": "field",
    "マネージャー": "manager",
}

_TRUE = ("true", "1", "yes")

_ENGAGEMENT_COLUMNS = {
    "activity_id": ("hs_object_id", "id", "engagement_id"),
    "lead_id": "contact_id",
    "account_id": "company_id",
    "owner_id": "hubspot_owner_id",
    "occurred_at": "hs_timestamp",
}


def _associations() -> tuple[SourceLookup, ...]:
    """Fivetran's association tables: an engagement's or a deal's contact and company
    (the first row per record) when the synced object table has no such column."""
    lookups = []
    for source, table, key in (
        ("calls", "engagement", "engagement_id"),
        ("emails", "engagement", "engagement_id"),
        ("meetings", "engagement", "engagement_id"),
        ("deals", "deal", "deal_id"),
    ):
        for other in ("contact", "company"):
            lookups.append(
                SourceLookup(
                    source=source,
                    column=f"{other}_id",
                    key=key,
                    from_source=f"{table}_{other}",
                    from_key=key,
                    value=f"{other}_id",
                )
            )
    return tuple(lookups)


HUBSPOT = Preset(
    name="hubspot",
    # warehouse syncs: associations and the owner's team live in their own tables
    enrich=(
        *_associations(),
        SourceLookup(
            source="owners",
            column="team_id",
            key="owner_id",
            from_source="owner_team",
            from_key="owner_id",
            value="team_id",
            where={"is_team_primary": ("true", "1")},
        ),
        SourceLookup(
            source="owners",
            column="team",
            key="team_id",
            from_source="team",
            from_key="id",
            value="name",
        ),
    ),
    description="HubSpot CRM objects (internal property names: API or warehouse sync)",
    tables={
        "accounts": TableMap(
            source="companies",
            aliases=("company",),
            columns={
                "account_id": ("hs_object_id", "id", "company_id"),
                "name": "name",
                "industry": "industry",
                "region": ("state", "country"),
                "employees": "numberofemployees",
                "annual_revenue": "annualrevenue",
                "is_target": "hs_is_target_account",
                "target_tier": "hs_ideal_customer_profile",
            },
            values={"target_tier": {"tier_1": "1", "tier_2": "2", "tier_3": "3"}},
        ),
        "reps": TableMap(
            source="owners",
            aliases=("owner",),
            columns={"rep_id": ("id", "owner_id"), "name": "email", "role": "team"},
            values={"role": ROLES},
            skip={"team": ("",)},
        ),
        "leads": TableMap(
            source="contacts",
            aliases=("contact",),
            columns={
                "lead_id": ("hs_object_id", "id", "contact_id"),
                "account_id": "associatedcompanyid",
                "owner_id": "hubspot_owner_id",
                "created_at": "createdate",
                "origin": "hs_analytics_source",
                "source": "hs_analytics_source",
                "action_status": "hs_lead_status",
                "title": "jobtitle",
            },
            values={"origin": ORIGINS, "action_status": LEAD_STATUSES},
        ),
        "activities": (
            TableMap(
                source="calls",
                aliases=("engagement_call", "engagement_calls"),
                columns={
                    **_ENGAGEMENT_COLUMNS,
                    "direction": "hs_call_direction",
                    "outcome": "hs_call_disposition",
                    "duration_s": "hs_call_duration",
                },
                constants={"channel": "call"},
                values={
                    "direction": {"OUTBOUND": "outbound", "INBOUND": "inbound"},
                    "outcome": CALL_OUTCOMES,
                },
                skip={"hs_call_status": ("CANCELED", "QUEUED", "CALLING_CRM_USER")},
                scale={"duration_s": 0.001},
            ),
            TableMap(
                source="emails",
                aliases=("engagement_email", "engagement_emails"),
                columns={
                    **_ENGAGEMENT_COLUMNS,
                    "direction": "hs_email_direction",
                    "outcome": "hs_email_status",
                },
                constants={"channel": "email"},
                values={
                    "direction": {
                        "EMAIL": "outbound",
                        "FORWARDED_EMAIL": "outbound",
                        "INCOMING_EMAIL": "inbound",
                    },
                    "outcome": {"SENT": "sent", "BOUNCED": "bounced", "FAILED": "bounced"},
                },
                skip={"hs_email_status": ("SCHEDULED", "SENDING")},
                derive=(
                    Keep(column="outcome", when={"direction": "outbound"}),
                    Fill(column="outcome", value="replied", when={"direction": "inbound"}),
                    Fill(column="outcome", value="sent", when={"direction": "outbound"}),
                ),
            ),
            TableMap(
                source="meetings",
                aliases=("engagement_meeting", "engagement_meetings"),
                columns={**_ENGAGEMENT_COLUMNS, "outcome": "hs_meeting_outcome"},
                constants={"channel": "meeting", "direction": "outbound"},
                values={
                    "outcome": {
                        "COMPLETED": "held",
                        "SCHEDULED": "scheduled",
                        "RESCHEDULED": "scheduled",
                        "NO_SHOW": "no_show",
                    }
                },
                skip={"hs_meeting_outcome": ("CANCELED",)},
                derive=(Fill(column="outcome", value="scheduled"),),
            ),
        ),
        "stage_changes": TableMap(
            source="deal_stage_history",
            aliases=("deal_stage",),
            columns={
                "opportunity_id": "deal_id",
                "stage": ("dealstage", "value"),
                "entered_at": ("timestamp", "date_entered"),
            },
            values={"stage": DEAL_STAGES},
            derive=(CollapseRepeats(key="opportunity_id", value="stage", order_by="entered_at"),),
        ),
        "opportunities": TableMap(
            source="deals",
            aliases=("deal",),
            columns={
                "opportunity_id": ("hs_object_id", "deal_id", "id"),
                "lead_id": "contact_id",
                "account_id": "company_id",
                "owner_id": "hubspot_owner_id",
                "created_at": "createdate",
                "stage": "dealstage",
                "closed_at": "closedate",
                "is_won": "hs_is_closed_won",
                "amount": "amount",
                "probability": "hs_deal_stage_probability",
                "_is_closed": "hs_is_closed",
            },
            values={"stage": DEAL_STAGES},
            derive=(
                Keep(column="closed_at", when={"_is_closed": _TRUE}),
                Keep(column="is_won", when={"_is_closed": _TRUE}),
                Lookup(
                    column="validated_at",
                    table="stage_changes",
                    match="opportunity_id",
                    on="opportunity_id",
                    value="entered_at",
                    order_by="entered_at",
                    where={"stage": VALIDATED_STAGES},
                ),
            ),
        ),
    },
)
