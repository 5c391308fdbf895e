"""The bilingual metric glossary: one entry per KPI, used by reports and the docs.

Examples
--------
>>> GLOSSARY["lead_to_sql_rate"].ja
'商談化率'
>>> label("win_rate", "en")
'Win rate'
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["GLOSSARY", "Lang", "Term", "label"]

Lang = Literal["en", "ja"]


@attrs.frozen
class Term:
    """A KPI: English and Japanese labels, its definition and the function computing it."""

    key: str
    en: str
    ja: str
    definition: str
    function: str


_TERMS = (
    Term("leads", "Leads", "リード数", "Leads created by as_of.", "summary"),
    Term(
        "inbound_leads",
        "Inbound leads",
        "インバウンドリード数",
        "Leads with origin inbound.",
        "summary",
    ),
    Term(
        "touched_leads",
        "Touched leads",
        "アプローチ済みリード数",
        "Leads with at least one outbound call, email or meeting (any outcome).",
        "summary",
    ),
    Term(
        "connected_leads",
        "Connected leads",
        "接続済みリード数",
        "Leads with at least one connect (connected call, replied email, held meeting).",
        "summary",
    ),
    Term("sqls", "SQLs", "SQL数（商談数）", "Opportunities created by as_of.", "summary"),
    Term(
        "valid_opportunities",
        "Valid opportunities",
        "有効商談数",
        "Opportunities validated by as_of (案件化).",
        "summary",
    ),
    Term("won", "Won", "受注数", "Opportunities won and closed by as_of.", "summary"),
    Term(
        "won_amount", "Won amount", "受注金額", "Sum of amount over won opportunities.", "summary"
    ),
    Term("calls", "Calls", "架電数", "Call activities, both directions.", "summary"),
    Term(
        "connected_calls", "Connected calls", "接続数", "Calls with outcome connected.", "summary"
    ),
    Term("call_connect_rate", "Call connect rate", "接続率", "Connected calls / calls.", "summary"),
    Term("talk_time_s", "Talk time (s)", "通話時間（秒）", "Sum of call duration_s.", "summary"),
    Term(
        "emails_delivered",
        "Emails delivered",
        "メール到達数",
        "Outbound emails whose outcome is not bounced.",
        "summary",
    ),
    Term(
        "email_open_rate",
        "Email open rate",
        "開封率",
        "Delivered emails opened, clicked or replied / delivered emails.",
        "summary",
    ),
    Term(
        "email_click_rate",
        "Email click rate",
        "クリック率",
        "Delivered emails clicked or replied / delivered emails.",
        "summary",
    ),
    Term(
        "lead_to_sql_rate",
        "Lead to SQL rate",
        "商談化率",
        "Leads with at least one opportunity / leads.",
        "summary",
    ),
    Term(
        "sql_to_valid_rate",
        "SQL to valid rate",
        "案件化率",
        "Valid opportunities / SQLs.",
        "summary",
    ),
    Term(
        "valid_to_won_rate",
        "Valid to won rate",
        "成約率",
        "Won opportunities that are valid / valid opportunities.",
        "summary",
    ),
    Term("win_rate", "Win rate", "受注率", "Won / opportunities closed by as_of.", "summary"),
    Term(
        "same_day_approach_rate",
        "Same-day approach rate",
        "当日アプローチ率",
        "Inbound leads with an outbound touch on their creation date / inbound leads.",
        "summary",
    ),
    Term(
        "cadence_5c2m_rate",
        "5C2M compliance",
        "5C2M遵守率",
        "Leads with >= 5 outbound calls and >= 2 outbound emails within 14 days of creation / "
        "leads whose window ended by as_of with no connect inside it.",
        "summary",
    ),
    Term(
        "sql_over_capacity_rep_months",
        "Rep-months over SQL capacity",
        "SQLキャパシティ超過（担当者×月）",
        "(FS rep, calendar month) pairs with more SQLs than the rep's monthly capacity.",
        "summary",
    ),
    Term(
        "target_account_sqls",
        "Target-account SQLs",
        "ターゲット企業のSQL数",
        "SQLs whose account is an ABM target.",
        "summary",
    ),
    Term(
        "target_account_won_amount",
        "Target-account won amount",
        "ターゲット企業の受注金額",
        "Won amount of opportunities whose account is an ABM target.",
        "summary",
    ),
)

#: Every KPI term by key.
GLOSSARY: dict[str, Term] = {t.key: t for t in _TERMS}


def label(key: str, lang: Lang = "en") -> str:
    """The display label of ``key`` in ``lang`` (the key itself if unknown)."""
    term = GLOSSARY.get(key)
    if term is None:
        return key
    return term.ja if lang == "ja" else term.en
