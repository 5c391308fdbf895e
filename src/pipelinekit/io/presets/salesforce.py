"""The Salesforce preset: standard objects as exported by Data Loader or a report.

Files (one per object, API field names as headers, in any letter case):
``Lead``, ``Task``, ``Event``, ``Opportunity``, ``OpportunityHistory``, ``Account``,
``User``, ``Campaign``, ``CampaignMember``. Only ``Lead`` is required.

Choices this preset makes (copy it and change them for your org):

- ``LeadSource`` decides ``origin``: web, inbound calls, referrals, events and
  campaigns are inbound; cold calls, purchased lists and rep-created leads are
  outbound; an empty ``LeadSource`` is outbound (a lead a rep typed in).
- ``OwnerId`` is kept only for users (``005...``), not queues (``00G...``);
  ``Task.WhoId``/``Event.WhoId`` is the lead only when it is a Lead id (``00Q...``),
  a Contact id (``003...``) leaves the activity on its ``AccountId``.
- Tasks with ``TaskSubtype`` ``Task`` (to-dos) or ``LinkedIn`` and ``Internal`` calls
  are skipped;
  email tasks are ``outbound`` / ``sent``; every ``Event`` is a held outbound meeting
  (Salesforce has no standard "held" field: map yours with ``values``).
- ``CloseDate`` and ``IsWon`` count only when ``IsClosed`` is true (on an open
  opportunity ``CloseDate`` is a forecast); ``Probability`` 0-100 becomes 0-1.
  ``CloseDate`` is also the ``expected_close_on`` and ``ForecastCategoryName`` (or
  ``ForecastCategory``) the ``forecast_category`` (:data:`FORECAST_CATEGORIES`).
- ``OpportunityHistory`` is read twice: as ``stage_changes`` (stage changes only) and
  as ``opportunity_history`` (every row: stage, amount, close date, probability and
  forecast category as of ``CreatedDate``), which pipeline history, coverage and
  forecast accuracy read back to past days.
- An opportunity's lead is the lead whose ``ConvertedOpportunityId`` is its id; it
  is valid (``validated_at``) from the first ``OpportunityHistory`` entry into
  :data:`VALIDATED_STAGES`; consecutive history rows with the same stage (amount or
  date edits) are collapsed.
- A lead's campaign is its earliest ``CampaignMember`` row.
- ``UserRole.Name`` decides ``role`` (:data:`ROLES`); users without a role (admins,
  integration users) are skipped. A sync's ``user`` table has ``user_role_id``
  instead: the role name then comes from its ``user_role`` table.
- Warehouse syncs (Fivetran, Airbyte, Stitch) read without configuration: tables
  ``lead``, ``task``, ``opportunity_history``, ... (also ``sf_lead_data`` and the
  like) and snake_case columns (``created_date``, ``who_id``); rows with
  ``is_deleted`` or ``_fivetran_deleted`` true are left out (one warning per table).
  Without ``TaskSubtype`` the channel comes from ``Type``, and without that from the
  ``Subject`` (:data:`SUBJECT_CHANNELS`); tasks that are neither a call nor an email
  are left out (``unclassified_rows``).
"""

from __future__ import annotations

from pipelinekit.io.presets.model import (
    Classify,
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
    "LEAD_ORIGINS",
    "LEAD_STATUSES",
    "ROLES",
    "SALESFORCE",
    "VALIDATED_STAGES",
]

#: ``LeadSource`` -> origin (standard pick-list values plus common additions).
LEAD_ORIGINS: dict[str, str | None] = {
    "Web": "inbound",
    "Website": "inbound",
    "Inbound Call": "inbound",
    "Phone Inquiry": "inbound",
    "Partner Referral": "inbound",
    "Partner": "inbound",
    "Employee Referral": "inbound",
    "External Referral": "inbound",
    "Referral": "inbound",
    "Trade Show": "inbound",
    "Seminar - Internal": "inbound",
    "Seminar - Partner": "inbound",
    "Webinar": "inbound",
    "Event": "inbound",
    "Advertisement": "inbound",
    "Content Download": "inbound",
    "Word of mouth": "inbound",
    "Other": "inbound",
    "Cold Call": "outbound",
    "Outbound": "outbound",
    "Purchased List": "outbound",
    "List": "outbound",
    "Sales Generated": "outbound",
    "Prospecting": "outbound",
    "Webサイト": "inbound",
    "問い合わせ": "inbound",
    "資料請求": "inbound",
    "セミナー": "inbound",
    "展示会": "inbound",
    "紹介": "inbound",
    "テレアポ": "outbound",
    "リスト": "outbound",
}

#: Lead ``Status`` -> action_status (standard values plus common additions).
LEAD_STATUSES: dict[str, str | None] = {
    "Open - Not Contacted": "new",
    "Open": "new",
    "New": "new",
    "Working - Contacted": "working",
    "Working": "working",
    "Contacted": "connected",
    "Connected": "connected",
    "Qualified": "qualified",
    "Closed - Converted": "qualified",
    "Converted": "qualified",
    "Closed - Not Converted": "disqualified",
    "Unqualified": "disqualified",
    "Disqualified": "disqualified",
    "Nurturing": "recycled",
    "Recycled": "recycled",
    "No Action Needed": "no_action_needed",
    "未対応": "new",
    "対応中": "working",
    "接続済み": "connected",
    "商談化": "qualified",
    "対象外": "disqualified",
    "リサイクル": "recycled",
}

#: ``Task.CallDisposition`` -> call outcome (a free pick-list: extend it).
CALL_OUTCOMES: dict[str, str | None] = {
    "Connected": "connected",
    "Contacted": "connected",
    "Talked": "connected",
    "Meeting Set": "connected",
    "Meeting Booked": "connected",
    "Not Interested": "connected",
    "Interested": "connected",
    "Call Back Later": "connected",
    "No Answer": "no_answer",
    "Not Available": "no_answer",
    "Gatekeeper": "no_answer",
    "Left Voicemail": "voicemail",
    "Voicemail": "voicemail",
    "Busy": "busy",
    "Wrong Number": "wrong_number",
    "Bad Number": "wrong_number",
    "接続": "connected",
    "通話": "connected",
    "不在": "no_answer",
    "受付拒否": "no_answer",
    "留守電": "voicemail",
    "話し中": "busy",
    "番号違い": "wrong_number",
}

#: ``TaskSubtype`` -> channel; ``Task`` (a to-do) and ``LinkedIn`` rows are skipped.
TASK_CHANNELS: dict[str, str | None] = {
    "Call": "call",
    "Email": "email",
    "ListEmail": "email",
    # Task.Type values (read when a sync has no TaskSubtype): classified by Subject
    "Other": None,
    "Meeting": None,
}

#: ``Subject`` patterns that tell a call or an email (a sync without ``TaskSubtype``
#: or ``Type``); tasks that match neither are to-dos and are left out.
SUBJECT_CHANNELS: dict[str, str] = {
    "call": r"(call|電話|架電|通話)",
    "email": r"(e-?mail|メール|list email)",
}

#: ``CallType`` -> direction; ``Internal`` calls are skipped.
CALL_DIRECTIONS: dict[str, str | None] = {"Outbound": "outbound", "Inbound": "inbound"}

#: ``UserRole.Name`` -> rep role.
ROLES: dict[str, str | None] = {
    "Inside Sales": "inside",
    "Inside Sales Rep": "inside",
    "SDR": "inside",
    "BDR": "inside",
    "IS": "inside",
    "Field Sales": "field",
    "Account Executive": "field",
    "AE": "field",
    "FS": "field",
    "Sales Rep": "field",
    "Sales Manager": "manager",
    "Inside Sales Manager": "manager",
    "Field Sales Manager": "manager",
    "VP, Sales": "manager",
    "Manager": "manager",
    "インサイドセールス": "inside",
    "フィールドセールス": "field",
    "営業": "field",
    "マネージャー": "manager",
}

#: Stages whose first entry makes an opportunity valid (有効商談): the standard
#: stages after Qualification, and Closed Won.
VALIDATED_STAGES: tuple[str, ...] = (
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
)

#: ``ForecastCategoryName`` labels and ``ForecastCategory`` API values -> canonical
#: forecast categories (``Forecast`` is the API name of Commit).
FORECAST_CATEGORIES: dict[str, str | None] = {
    "Pipeline": "pipeline",
    "Best Case": "best_case",
    "BestCase": "best_case",
    "Commit": "commit",
    "Forecast": "commit",
    "Closed": "closed",
    "Omitted": "omitted",
}

_TRUE = ("true", "1", "yes")

SALESFORCE = Preset(
    name="salesforce",
    description="Salesforce standard objects (Data Loader / report exports with API "
    "names, or a warehouse sync's snake_case tables)",
    # a sync's user table has user_role_id where an export has UserRole.Name
    enrich=(
        SourceLookup(
            source="User",
            column="UserRole.Name",
            key="UserRoleId",
            from_source="UserRole",
            from_key="Id",
            value="Name",
        ),
    ),
    tables={
        "accounts": TableMap(
            source="Account",
            columns={
                "account_id": "Id",
                "name": "Name",
                "industry": "Industry",
                "region": ("BillingState", "BillingCountry"),
                "employees": "NumberOfEmployees",
                "annual_revenue": "AnnualRevenue",
            },
        ),
        "reps": TableMap(
            source="User",
            columns={"rep_id": "Id", "name": "Name", "role": "UserRole.Name"},
            values={"role": ROLES},
            skip={"UserRole.Name": ("",)},
        ),
        "campaigns": TableMap(
            source="Campaign",
            columns={
                "campaign_id": "Id",
                "name": "Name",
                "channel": "Type",
                "started_on": "StartDate",
            },
        ),
        "_campaign_members": TableMap(
            source="CampaignMember",
            columns={"lead_id": "LeadId", "campaign_id": "CampaignId", "joined_at": "CreatedDate"},
        ),
        "leads": TableMap(
            source="Lead",
            columns={
                "lead_id": "Id",
                "account_id": "ConvertedAccountId",
                "owner_id": "OwnerId",
                "created_at": "CreatedDate",
                "origin": "LeadSource",
                "source": "LeadSource",
                "action_status": "Status",
                "title": "Title",
                "_converted_opportunity_id": "ConvertedOpportunityId",
            },
            values={"origin": LEAD_ORIGINS, "action_status": LEAD_STATUSES},
            derive=(
                Keep(column="owner_id", prefixes=("005",)),
                Fill(column="origin", value="outbound"),
                Lookup(
                    column="campaign_id",
                    table="_campaign_members",
                    match="lead_id",
                    on="lead_id",
                    value="campaign_id",
                    order_by="joined_at",
                ),
            ),
        ),
        "activities": (
            TableMap(
                source="Task",
                columns={
                    "activity_id": "Id",
                    "lead_id": "WhoId",
                    "account_id": "AccountId",
                    "owner_id": "OwnerId",
                    "occurred_at": ("CompletedDateTime", "CreatedDate"),
                    "channel": "TaskSubtype",
                    "_subject": "Subject",
                    "direction": "CallType",
                    "outcome": "CallDisposition",
                    "duration_s": "CallDurationInSeconds",
                },
                values={
                    "channel": TASK_CHANNELS,
                    "direction": CALL_DIRECTIONS,
                    "outcome": CALL_OUTCOMES,
                },
                skip={"TaskSubtype": ("Task", "LinkedIn"), "CallType": ("Internal",)},
                fallbacks={"channel": ("Type",)},
                derive=(
                    Classify(
                        column="channel",
                        source="_subject",
                        patterns=SUBJECT_CHANNELS,
                        drop_unmatched=True,
                    ),
                    Keep(column="lead_id", prefixes=("00Q",)),
                    Keep(column="owner_id", prefixes=("005",)),
                    Fill(column="direction", value="outbound", when={"channel": "email"}),
                    Fill(column="outcome", value="sent", when={"channel": "email"}),
                ),
            ),
            TableMap(
                source="Event",
                columns={
                    "activity_id": "Id",
                    "lead_id": "WhoId",
                    "account_id": "AccountId",
                    "owner_id": "OwnerId",
                    "occurred_at": ("StartDateTime", "ActivityDateTime", "CreatedDate"),
                    "duration_s": "DurationInMinutes",
                },
                constants={"channel": "meeting", "direction": "outbound", "outcome": "held"},
                scale={"duration_s": 60},
                derive=(
                    Keep(column="lead_id", prefixes=("00Q",)),
                    Keep(column="owner_id", prefixes=("005",)),
                ),
            ),
        ),
        "stage_changes": TableMap(
            source="OpportunityHistory",
            columns={
                "opportunity_id": "OpportunityId",
                "stage": "StageName",
                "entered_at": "CreatedDate",
            },
            derive=(CollapseRepeats(key="opportunity_id", value="stage", order_by="entered_at"),),
        ),
        "opportunity_history": TableMap(
            source="OpportunityHistory",
            columns={
                "opportunity_id": "OpportunityId",
                "changed_at": "CreatedDate",
                "stage": "StageName",
                "amount": "Amount",
                "expected_close_on": "CloseDate",
                "probability": "Probability",
                "forecast_category": ("ForecastCategoryName", "ForecastCategory"),
            },
            values={"forecast_category": FORECAST_CATEGORIES},
            scale={"probability": 0.01},
        ),
        "opportunities": TableMap(
            source="Opportunity",
            columns={
                "opportunity_id": "Id",
                "account_id": "AccountId",
                "owner_id": "OwnerId",
                "created_at": "CreatedDate",
                "origin": "LeadSource",
                "stage": "StageName",
                "closed_at": "CloseDate",
                "is_won": "IsWon",
                "amount": "Amount",
                "quantity": "TotalOpportunityQuantity",
                "probability": "Probability",
                "campaign_id": "CampaignId",
                "expected_close_on": "CloseDate",
                "forecast_category": ("ForecastCategoryName", "ForecastCategory"),
                "_is_closed": "IsClosed",
            },
            values={"origin": LEAD_ORIGINS, "forecast_category": FORECAST_CATEGORIES},
            scale={"probability": 0.01},
            derive=(
                Keep(column="owner_id", prefixes=("005",)),
                Keep(column="closed_at", when={"_is_closed": _TRUE}),
                Keep(column="is_won", when={"_is_closed": _TRUE}),
                Lookup(
                    column="lead_id",
                    table="leads",
                    match="_converted_opportunity_id",
                    on="opportunity_id",
                    value="lead_id",
                ),
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
