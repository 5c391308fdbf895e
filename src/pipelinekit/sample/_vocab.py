"""Vocabularies and rates that shape the synthetic CRM data."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------------ vocabularies

_INDUSTRIES: Final = (
    "manufacturing",
    "logistics",
    "construction",
    "retail",
    "it",
    "healthcare",
    "finance",
)
_INDUSTRY_P: Final = (0.26, 0.18, 0.14, 0.12, 0.12, 0.10, 0.08)
_REVENUE_PER_EMPLOYEE_MULT: Final = (1.0, 0.8, 0.9, 0.7, 1.3, 0.85, 2.2)
_INDUSTRY_WIN_EFFECT: Final = (0.03, 0.05, 0.0, -0.04, -0.02, 0.0, -0.05)
_NAME_PREFIXES: Final = (
    "Sakura", "Fuji", "Asahi", "Hikari", "Midori", "Nippon", "Tokai", "Kita",
    "Minami", "Aoba", "Hinode", "Daiichi", "Yamato", "Kaze", "Seiwa", "Taiyo",
    "Heiwa", "Kyoei", "Marui", "Sanko", "Toyo", "Chuo", "Nishi", "Higashi",
    "Shinsei", "Kotobuki", "Tsubasa", "Hoshi", "Izumi", "Matsu",
)  # fmt: skip
_NAME_CORES: Final = (
    ("Industries", "Seiki", "Kogyo", "Works"),
    ("Logistics", "Transport", "Unyu", "Express"),
    ("Kensetsu", "Construction", "Komuten", "Engineering"),
    ("Shoji", "Retail", "Stores", "Foods"),
    ("Systems", "Soft", "Digital", "Tech"),
    ("Medical", "Care", "Pharma", "Clinic Group"),
    ("Finance", "Lease", "Capital", "Insurance"),
    ("Corporation", "Trading", "Group", "Partners"),  # industry unknown
)
_NAME_SUFFIXES: Final = ("Co. Ltd.", "K.K.", "Inc.", "Holdings")
_REGIONS: Final = ("kanto", "kansai", "chubu", "kyushu", "tohoku", "hokkaido")
_REGION_P: Final = (0.42, 0.20, 0.15, 0.10, 0.07, 0.06)
_BANDS: Final = ("1-30", "31-299", "300-999", "1000+")
_BAND_P: Final = (0.38, 0.37, 0.15, 0.10)
_BAND_LOW: Final = (1, 31, 300, 1000)
_BAND_HIGH: Final = (30, 299, 999, 30_000)
_TIERS: Final = ("1", "2")

_SURNAMES: Final = (
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto",
    "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi",
    "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Mori",
)  # fmt: skip
_GIVEN_NAMES: Final = (
    "Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mei", "Riku",
    "Sakura", "Kaito", "Yuna", "Daiki", "Mio", "Kenta", "Nanami",
)  # fmt: skip
_ROLES: Final = ("inside", "field", "manager")

_CAMPAIGN_CHANNELS: Final = (
    "webinar",
    "seminar",
    "whitepaper",
    "ads",
    "exhibition",
    "referral",
    "outbound_list",
)
_CH_WEBINAR, _CH_SEMINAR, _CH_WHITEPAPER, _CH_ADS = 0, 1, 2, 3
_CH_EXHIBITION, _CH_REFERRAL, _CH_LIST = 4, 5, 6
_CAMPAIGN_TITLES: Final = (
    "Fleet DX Webinar",
    "Safe Driving Seminar",
    "Whitepaper Fuel Cost Guide",
    "Search Ads",
    "Logistics Expo",
    "Partner Referral Program",
    "Target Account List",
)

_ORIGINS: Final = ("inbound", "outbound")
_SOURCES: Final = (
    "web_form",
    "webinar",
    "seminar",
    "whitepaper",
    "ads",
    "referral",
    "exhibition",
    "list",
    "event_list",
    "cold",
)
_INBOUND_SOURCE_P: Final = (0.35, 0.15, 0.08, 0.15, 0.12, 0.07, 0.08, 0.0, 0.0, 0.0)
_OUTBOUND_SOURCE_P: Final = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.55, 0.20, 0.25)
# source -> (campaign channel it is attributed to, share attributed); -1 = none
_SOURCE_CAMPAIGN: Final = (
    (_CH_ADS, 0.40),
    (_CH_WEBINAR, 0.95),
    (_CH_SEMINAR, 0.95),
    (_CH_WHITEPAPER, 0.90),
    (_CH_ADS, 0.95),
    (_CH_REFERRAL, 0.80),
    (_CH_EXHIBITION, 0.95),
    (_CH_LIST, 0.60),
    (_CH_EXHIBITION, 0.90),
    (-1, 0.0),
)
_SRC_WEBINAR, _SRC_SEMINAR, _SRC_EXHIBITION, _SRC_EVENT_LIST = 1, 2, 6, 8
_FORM_SOURCES: Final = (0, 1, 2, 3, 4)  # inbound sources that convert on a web form

_STATUSES: Final = (
    "new",
    "working",
    "connected",
    "no_action_needed",
    "not_pursued_after_connect",
    "qualified",
    "recycled",
    "disqualified",
)
_ST_NEW, _ST_WORKING, _ST_CONNECTED, _ST_QUALIFIED, _ST_RECYCLED = 0, 1, 2, 5, 6
# status shares of leads without an SQL (those are "qualified"), in _STATUSES order:
# new, working, connected, no_action_needed, not_pursued_after_connect, qualified,
# recycled, disqualified
_STATUS_MIX: Final = (
    (0.85, 0.0, 0.0, 0.10, 0.0, 0.0, 0.0, 0.05),  # untouched, recent
    (0.35, 0.0, 0.0, 0.45, 0.0, 0.0, 0.0, 0.20),  # untouched, older
    (0.0, 0.80, 0.0, 0.10, 0.0, 0.0, 0.05, 0.05),  # touched, no connect, recent
    (0.0, 0.20, 0.0, 0.25, 0.0, 0.0, 0.30, 0.25),  # touched, no connect, older
    (0.0, 0.0, 0.60, 0.0, 0.15, 0.0, 0.10, 0.15),  # connected, recent
    (0.0, 0.0, 0.30, 0.0, 0.30, 0.0, 0.25, 0.15),  # connected, older
)
_PRIORITIES: Final = ("focus", "non_focus")
_RECYCLE_REASONS: Final = ("budget", "timing", "competitor", "no_need", "unreachable")
_DEPARTMENTS: Final = ("sales", "it", "general_affairs", "logistics", "management")
_DEPARTMENT_P: Final = (0.20, 0.16, 0.24, 0.22, 0.10, 0.08)  # last = missing
_TITLES: Final = ("staff", "manager", "director", "executive")
_TITLE_P: Final = (0.45, 0.30, 0.10, 0.05, 0.10)  # last = missing

_CHANNELS: Final = ("call", "email", "meeting", "web")
_CALL, _EMAIL, _MEETING, _WEB = 0, 1, 2, 3
_DIRECTIONS: Final = ("outbound", "inbound")
_OUTCOMES: Final = (
    "connected",
    "no_answer",
    "busy",
    "voicemail",
    "wrong_number",
    "bounced",
    "sent",
    "opened",
    "clicked",
    "replied",
    "scheduled",
    "held",
    "no_show",
    "page_view",
    "link_click",
    "form_submit",
)
(
    _O_CONNECTED,
    _O_NO_ANSWER,
    _O_BUSY,
    _O_VOICEMAIL,
    _O_WRONG_NUMBER,
    _O_BOUNCED,
    _O_SENT,
    _O_OPENED,
    _O_CLICKED,
    _O_REPLIED,
    _O_SCHEDULED,
    _O_HELD,
    _O_NO_SHOW,
    _O_PAGE_VIEW,
    _O_LINK_CLICK,
    _O_FORM_SUBMIT,
) = range(16)

_STAGES: Final = ("list", "proposal", "opportunity", "quote", "won", "lost")
_STAGE_WON, _STAGE_LOST = 4, 5
_VALID_STAGE: Final = 2  # entering "opportunity" = validated after the first meeting
_STAGE_PROBABILITY: Final = (0.10, 0.20, 0.40, 0.65)
_FORECAST_CATEGORIES: Final = ("pipeline", "best_case", "commit", "closed", "omitted")
_FC_PIPELINE, _FC_BEST_CASE, _FC_COMMIT, _FC_CLOSED, _FC_OMITTED = range(5)
#: Forecast category on entering list, proposal, opportunity, quote.
_STAGE_FORECAST: Final = (_FC_PIPELINE, _FC_PIPELINE, _FC_BEST_CASE, _FC_COMMIT)
_STAGE_GAP_MEDIAN_DAYS: Final = (4.0, 7.0, 12.0, 16.0)  # into stage 1..3, then close
_STAGE_GAP_CAP_DAYS: Final = (18, 26, 26, 40)
_PRODUCTS: Final = ("fleet_basic", "fleet_pro", "safety_addon")
_UNIT_PRICE_JPY: Final = (36_000.0, 66_000.0, 18_000.0)
_QUANTITY_MEDIAN: Final = (5.0, 25.0, 90.0, 220.0)

# weights by hour of day (0..23)
_LEAD_HOURS_WEEKDAY: Final = (
    0.15, 0.1, 0.08, 0.06, 0.06, 0.08, 0.15, 0.5, 1.2, 2.0, 2.6, 2.6,
    1.8, 2.4, 2.6, 2.5, 2.3, 2.0, 1.4, 1.1, 0.7, 0.5, 0.35, 0.2,
)  # fmt: skip
_LEAD_HOURS_WEEKEND: Final = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.3, 1.4,
    1.2, 1.3, 1.4, 1.4, 1.3, 1.2, 1.0, 1.0, 1.0, 0.9, 0.6, 0.4,
)  # fmt: skip
_OFFICE_HOURS: Final = (
    0, 0, 0, 0, 0, 0, 0, 0, 0.3, 1.5, 2.2, 2.2,
    0.6, 1.8, 2.2, 2.2, 2.2, 1.9, 1.0, 0.4, 0.1, 0, 0, 0,
)  # fmt: skip
# call connect multiplier by hour: better 10-11 and 16-17, worse at lunch
_CONNECT_BY_HOUR: Final = (
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.9, 1.35, 1.3,
    0.45, 0.8, 1.0, 1.0, 1.3, 1.25, 0.85, 0.7, 0.6, 0.5, 0.5, 0.5,
)  # fmt: skip
_LEAD_WEEKDAY_INBOUND: Final = (1.1, 1.05, 1.0, 1.0, 0.92, 0.14, 0.09)
_LEAD_WEEKDAY_OUTBOUND: Final = (1.0, 1.0, 1.0, 1.0, 1.0, 0.01, 0.005)
