"""The bilingual glossary: KPI terms and every label the report shows, in en and ja.

:data:`GLOSSARY` holds one :class:`Term` per summary KPI (the docs glossary page is
generated from it). The report's other labels are data here too, so ``--lang ja`` and
the docs read one source: section titles (:data:`SECTION_LABELS`), table names
(:data:`TABLE_LABELS`), column headers (:data:`COLUMN_LABELS`), categorical cell values
(:data:`VALUE_LABELS`), the report's own words (:data:`UI_LABELS`) and Japanese
templates of the sections' notes by key (:data:`NOTES`). JSON keys never change;
labels are for display only.

Examples
--------
>>> GLOSSARY["lead_to_sql_rate"].ja
'商談化率'
>>> label("win_rate", "en")
'Win rate'
>>> column_label("sql_count", "ja"), table_label("load", "ja")
('SQL数', 'SQL負荷とキャパシティ（前月）')
>>> value_label("stage", "valid", "ja"), value_label("weekday", 1, "en")
('有効商談', 'Mon')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "CHART_LABELS",
    "COLUMN_LABELS",
    "GLOSSARY",
    "LANGS",
    "NOTES",
    "SECTION_LABELS",
    "TABLE_LABELS",
    "UI_LABELS",
    "VALUE_COLUMNS",
    "VALUE_LABELS",
    "Label",
    "Lang",
    "Term",
    "category_label",
    "chart_title",
    "check_lang",
    "column_label",
    "label",
    "report_labels",
    "section_title",
    "table_label",
    "ui",
    "value_label",
]

Lang = Literal["en", "ja"]

#: The report languages.
LANGS: tuple[Lang, ...] = ("en", "ja")


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


def check_lang(lang: object) -> Lang:
    """``lang`` if it is a report language, else a ConfigError naming the choices."""
    if lang not in LANGS:
        from pipelinekit.errors import ConfigError

        raise ConfigError(f"lang: expected one of {list(LANGS)}, got {lang!r}")
    return "ja" if lang == "ja" else "en"


def label(key: str, lang: Lang = "en") -> str:
    """The display label of the summary KPI ``key`` in ``lang`` (the key itself if unknown)."""
    term = GLOSSARY.get(key)
    if term is None:
        return key
    return term.ja if lang == "ja" else term.en


@attrs.frozen
class Label:
    """A display label in English and Japanese."""

    en: str
    ja: str

    def get(self, lang: Lang) -> str:
        """The label in ``lang``."""
        return self.ja if lang == "ja" else self.en


def _labels(pairs: Mapping[str, tuple[str, str]]) -> dict[str, Label]:
    return {key: Label(en, ja) for key, (en, ja) in pairs.items()}


#: Section titles by section key (English falls back to the section's own title).
SECTION_LABELS: dict[str, Label] = _labels(
    {
        "funnel": ("Lead funnel", "リードファネル（リード作成日コホート・推定ステージ）"),
        "activity": ("Activity and connect", "活動と接続"),
        "cadence": ("Cadence compliance (5C2M)", "5C2M遵守状況"),
        "queues": ("Work queues", "ワークキュー（対応待ち）"),
        "allocation": ("SQL allocation", "SQL配分（FS担当者の負荷）"),
        "mix": ("SQL mix", "SQLミックス（インバウンド／アウトバウンド）"),
        "abm": ("ABM target accounts", "ABMターゲット企業"),
        "campaigns": ("Campaigns", "キャンペーン"),
        "pipeline": ("Pipeline", "パイプライン"),
        "assets": ("Lead inflow (assets)", "リード流入（アセット）"),
        "conversion": ("Conversion over time", "時間軸で見る転換（コホート・受注確率・貢献度）"),
        "history": ("Pipeline history", "パイプラインの推移と増減"),
        "targets": ("Targets", "目標達成・カバレッジ・予測精度"),
    }
)

#: Table names; a ``"section/table"`` key overrides the plain table name in one section.
TABLE_LABELS: dict[str, Label] = _labels(
    {
        "accounts": ("Top target accounts", "主要ターゲット企業"),
        "alerts": ("CVR change alerts", "CVR変化アラート"),
        "bdr": ("BDR activity on target accounts", "ターゲット企業へのBDR活動"),
        "bottleneck": ("Bottleneck (lowest step rate)", "ボトルネック（最も低い転換率）"),
        "by_month": ("By month", "月別"),
        "by_origin": ("By origin", "流入区分別"),
        "by_owner": ("By owner", "担当者別"),
        "by_year": ("By year", "年別"),
        "call_connect_sql_by_month": ("Calls, connects and SQLs by month", "月別 架電・接続・SQL"),
        "campaigns": ("Campaign performance", "キャンペーン成果"),
        "concentration": ("SQL concentration by month", "月別SQL集中度"),
        "connect_by_direction": ("Connect rate by direction", "発信／着信別 接続率"),
        "counts": ("Leads per queue", "キュー別リード数"),
        "counts_by_owner": ("Leads per queue and owner", "キュー×担当者別リード数"),
        "early_follow_up_by_owner": ("Early follow-up by owner", "担当者別 初動フォロー"),
        "email_by_month": ("Email engagement by month", "月別メール反応"),
        "fit_suggestions": ("Account fit suggestions", "有望企業の提案（フィットスコア）"),
        "idle capacity": ("Idle capacity by segment", "セグメント別 空きキャパシティ"),
        "inbound_inflow_by_month": ("Inbound lead inflow by month", "月別インバウンドリード流入"),
        "inbound_inflow_last_12_weeks": (
            "Inbound lead inflow, last 12 weeks",
            "直近12週のインバウンドリード流入",
        ),
        "inflow_by_month": ("Lead inflow by month", "月別リード流入"),
        "load": ("SQL load vs capacity (last full month)", "SQL負荷とキャパシティ（前月）"),
        "member_cvr": ("Campaign × member CVR", "キャンペーン×担当者別CVR"),
        "monthly": ("Target-account share by month", "月別ターゲット企業比率"),
        "next_business_day_approach_by_source": (
            "Next-business-day approach by source",
            "ソース別 翌営業日アプローチ率",
        ),
        "nurturing": ("Nurturing KPIs", "ナーチャリングKPI"),
        "open pipeline by stage": ("Open pipeline by stage", "ステージ別オープンパイプライン"),
        "origin comparison": ("Inbound vs outbound SQLs", "インバウンドとアウトバウンドの比較"),
        "outbound_connect_by_hour": ("Outbound connect rate by hour", "時間帯別 発信接続率"),
        "outbound_connect_by_weekday": ("Outbound connect rate by weekday", "曜日別 発信接続率"),
        "outbound_connect_by_weekday_hour": (
            "Outbound connect rate by weekday and hour",
            "曜日×時間帯別 発信接続率",
        ),
        "overall": ("Overall", "全体"),
        "funnel/overall": ("All leads", "全リード"),
        "recycle_reasons": ("Recycle reasons", "リサイクル理由"),
        "sales cycle": ("Sales cycle", "商談期間"),
        "same_day_approach_by_source": ("Same-day approach by source", "ソース別 当日アプローチ率"),
        "share by month": ("SQLs by origin and month", "月別 流入区分別SQL"),
        "speed_to_lead_hours_by_source": (
            "Speed to lead (hours) by source",
            "ソース別 初回アプローチまでの時間",
        ),
        "stale opportunities": ("Stale opportunities", "放置商談"),
        "talk_time_by_owner": ("Talk time by owner", "担当者別 通話時間"),
        "targets": ("Target accounts' share of the totals", "ターゲット企業の比率"),
        "time in stage": ("Time in stage", "ステージ滞留時間"),
        "top_do_not_pursue_review": ("Do-not-pursue review", "対応不要リードの見直し"),
        "top_focus_due": ("Focus leads due", "期日が近い重点リード"),
        "top_hot_leads": ("Hot leads", "ホットリード"),
        "top_overdue_next_activity": ("Overdue next activity", "次回活動の期限切れ"),
        "top_recycle_due": ("Recycle due", "リサイクル期日到来"),
        "top_untouched_inbound": ("Untouched inbound leads", "未対応インバウンドリード"),
        "velocity": ("Pipeline velocity", "パイプライン速度"),
        "win rate": ("Win rate", "受注率"),
        "win rate by source": ("Win rate by source", "ソース別受注率"),
        # conversion over time
        "sql_curve_by_cohort": (
            "SQL conversion by lead cohort (Kaplan-Meier)",
            "リード作成月別のSQL化率（カプラン・マイヤー法）",
        ),
        "sql_curve": ("SQL conversion curve (weekly points)", "SQL化曲線（週ごと）"),
        "stage_win": ("Win probability by stage", "ステージ別の受注確率"),
        "transitions": ("Stage transitions", "ステージ遷移"),
        "calibration": ("CRM probability vs history", "CRMの確度と実績の比較"),
        "attribution_sqls": (
            "SQLs credited per campaign and model",
            "キャンペーン別SQL貢献（モデル別）",
        ),
        "attribution_won_amount": (
            "Won amount credited per campaign and model",
            "キャンペーン別受注金額貢献（モデル別）",
        ),
        "lead_velocity": ("Lead velocity rate (SQLs)", "リードベロシティレート（SQL）"),
        # pipeline history
        "pipeline trend": ("Open pipeline by week", "週次のオープンパイプライン"),
        "quarter waterfall": ("Quarter pipeline waterfall", "四半期パイプラインの増減"),
        "quarter waterfall by owner": (
            "Quarter pipeline waterfall by owner",
            "担当者別 四半期パイプラインの増減",
        ),
        "slipped deals": ("Deals pushed out of the quarter", "四半期外へ後ろ倒しになった商談"),
        # targets
        "quota attainment": ("Quota attainment (current period)", "目標達成率（当期）"),
        "attainment by team": (
            "Attainment by team (current period)",
            "チーム別 目標達成率（当期）",
        ),
        "attainment by period": ("Attainment by period", "期間別 目標達成率"),
        "won amount against quota": ("Won amount against quota", "目標に対する受注金額"),
        "pipeline coverage": (
            "Pipeline coverage (current period)",
            "パイプラインカバレッジ（当期）",
        ),
        "forecast accuracy by period": ("Forecast accuracy by period", "期間別 予測精度"),
        "forecast accuracy by owner": ("Forecast accuracy by owner", "担当者別 予測精度"),
    }
)

#: Column headers (the JSON keys stay the column names).
COLUMN_LABELS: dict[str, Label] = _labels(
    {
        "account_id": ("Account", "企業ID"),
        "action_status": ("Action status", "対応ステータス"),
        "amount": ("Amount", "金額"),
        "appointment_count": ("Appointments", "アポイント数"),
        "average_won_amount": ("Average won amount", "平均受注金額"),
        "call_count": ("Calls", "架電数"),
        "called_account_count": ("Accounts called", "架電企業数"),
        "campaign_id": ("Campaign", "キャンペーン"),
        "campaign_rate": ("Campaign CVR", "キャンペーン平均CVR"),
        "capacity": ("Capacity", "キャパシティ"),
        "capacity_source": ("Capacity from", "キャパシティの根拠"),
        "change": ("Change", "変化幅"),
        "ci_high": ("95% CI high", "95%信頼区間 上限"),
        "ci_low": ("95% CI low", "95%信頼区間 下限"),
        "click_rate": ("Click rate", "クリック率"),
        "closed_count": ("Closed", "クローズ数"),
        "compliant_count": ("Compliant", "遵守"),
        "connect_ci_high": ("Connect rate CI high", "接続率 信頼区間上限"),
        "connect_ci_low": ("Connect rate CI low", "接続率 信頼区間下限"),
        "connect_count": ("Connects", "接続数"),
        "connect_rate": ("Connect rate", "接続率"),
        "connected_count": ("Connected", "接続済み"),
        "count": ("Leads", "件数"),
        "created_at": ("Created at", "作成日時"),
        "current_count": ("In stage now", "現在の滞留数"),
        "days_since_due": ("Days since due", "期日からの経過日数"),
        "delivered_count": ("Delivered", "到達数"),
        "denominator": ("Denominator", "分母"),
        "direction": ("Direction", "発信／着信"),
        "disconnect_count": ("Not connected", "不通数"),
        "due_in_days": ("Due in (days)", "期日まで（日）"),
        "employee_band": ("Employees", "従業員規模"),
        "entered_count": ("Entered", "到達数"),
        "excess_sqls": ("SQLs over capacity", "超過SQL数"),
        "excluded_count": ("Excluded", "対象外"),
        "exited_count": ("Exited", "通過数"),
        "from_stage": ("From stage", "前ステージ"),
        "gini": ("Gini", "ジニ係数"),
        "hhi": ("HHI", "HHI（集中度）"),
        "hour": ("Hour", "時間帯"),
        "idle_capacity": ("Idle capacity", "空きキャパシティ"),
        "idle_days": ("Idle days", "放置日数"),
        "in_progress_count": ("In window", "期間中"),
        "inbound_count": ("Inbound", "インバウンド"),
        "inbound_share": ("Inbound share", "インバウンド比率"),
        "industry": ("Industry", "業種"),
        "key_person_connect_count": ("Key-person connects", "キーマン接続数"),
        "last_activity_at": ("Last activity", "最終活動日時"),
        "last_activity_channel": ("Last channel", "最終活動チャネル"),
        "lead_count": ("Leads", "リード数"),
        "lead_id": ("Lead", "リードID"),
        "leads": ("Leads", "リード数"),
        "leads_share": ("Share of leads", "リード比率"),
        "lift": ("Lift", "リフト"),
        "load": ("Load", "負荷率"),
        "mean_cycle_days": ("Mean cycle (days)", "平均商談期間（日）"),
        "mean_days": ("Mean days", "平均日数"),
        "median_cycle_days": ("Median cycle (days)", "商談期間の中央値（日）"),
        "median_days": ("Median days", "中央値（日）"),
        "median_hours": ("Median hours", "中央値（時間）"),
        "metric": ("Metric", "指標"),
        "monthly_capacity": ("Monthly capacity", "月間キャパシティ"),
        "name": ("Name", "名称"),
        "next_activity_on": ("Next activity on", "次回活動予定日"),
        "numerator": ("Numerator", "分子"),
        "open_amount": ("Open amount", "オープン金額"),
        "open_count": ("Open opportunities", "オープン商談数"),
        "open_rate": ("Open rate", "開封率"),
        "opportunity_id": ("Opportunity", "商談ID"),
        "origin": ("Origin", "流入区分"),
        "outbound_count": ("Outbound", "アウトバウンド"),
        "outbound_share": ("Outbound share", "アウトバウンド比率"),
        "over_rep_count": ("Reps over capacity", "超過担当者数"),
        "overall_rate": ("Share of leads", "リードからの転換率"),
        "overdue_days": ("Days overdue", "期限超過日数"),
        "owner_id": ("Owner", "担当者"),
        "p75_hours": ("p75 hours", "75パーセンタイル（時間）"),
        "p90_days": ("p90 days", "90パーセンタイル（日）"),
        "p90_hours": ("p90 hours", "90パーセンタイル（時間）"),
        "p_value": ("p-value", "p値"),
        "page_view_count": ("Page views", "ページビュー数"),
        "period": ("Period", "期間"),
        "pile_up_ratio": ("Pile-up ratio", "偏り倍率"),
        "previous_rate": ("Previous rate", "前期の率"),
        "queue": ("Queue", "キュー"),
        "rank": ("Rank", "順位"),
        "rate": ("Rate", "率"),
        "rated_rep_count": ("Reps with a win rate", "受注率算出対象の担当者数"),
        "recycle_on": ("Recycle on", "リサイクル予定日"),
        "recycle_reason": ("Recycle reason", "リサイクル理由"),
        "rep_count": ("Reps", "担当者数"),
        "rep_id": ("Rep", "担当者"),
        "reply_rate": ("Reply rate", "返信率"),
        "revenue_band": ("Revenue", "売上規模"),
        "score": ("Fit score", "フィットスコア"),
        "segment": ("Segment", "セグメント"),
        "sent_count": ("Sent", "送信数"),
        "share": ("Share", "構成比"),
        "short_count": ("Short", "未達"),
        "signal_at": ("Signal at", "シグナル日時"),
        "since_signal_hours": ("Hours since signal", "シグナルからの経過（時間）"),
        "source": ("Source", "リードソース"),
        "sql_count": ("SQLs", "SQL数"),
        "sql_per_connect": ("SQLs per connect", "接続あたりSQL数"),
        "sqls": ("SQLs", "SQL数"),
        "sqls_share": ("Share of SQLs", "SQL比率"),
        "stage": ("Stage", "ステージ"),
        "status": ("Status", "状態"),
        "step_ci_high": ("Step CI high", "転換率 信頼区間上限"),
        "step_ci_low": ("Step CI low", "転換率 信頼区間下限"),
        "step_rate": ("Step rate", "前段からの転換率"),
        "talk_time_per_call_s": ("Talk time per call (s)", "1架電あたり通話時間（秒）"),
        "talk_time_per_connect_s": ("Talk time per connect (s)", "1接続あたり通話時間（秒）"),
        "talk_time_s": ("Talk time (s)", "通話時間（秒）"),
        "target_tier": ("Tier", "ティア"),
        "top_rep_share": ("Top-rep share", "最多担当者のシェア"),
        "top_win_rate_headcount_share": (
            "Top win-rate reps, headcount share",
            "高受注率担当者の人数比",
        ),
        "top_win_rate_rep_count": ("Top win-rate reps", "高受注率担当者数"),
        "top_win_rate_sql_share": ("Top win-rate reps, SQL share", "高受注率担当者のSQL比率"),
        "touch_count": ("Touches", "アプローチ数"),
        "touch_coverage": ("Touch coverage", "アプローチカバー率"),
        "touched_count": ("Touched", "アプローチ済み"),
        "utilization": ("Utilization", "稼働率"),
        "valid_ci_high": ("SQL to valid CI high", "案件化率 信頼区間上限"),
        "valid_ci_low": ("SQL to valid CI low", "案件化率 信頼区間下限"),
        "valid_count": ("Valid opportunities", "有効商談数"),
        "valid_opportunity_count": ("Valid opportunities", "有効商談数"),
        "valid_rate": ("SQL to valid rate", "案件化率"),
        "velocity_per_day": ("Velocity per day", "パイプライン速度（日あたり）"),
        "waiting_hours": ("Waiting (hours)", "待ち時間（時間）"),
        "weekday": ("Weekday", "曜日"),
        "weight": ("Weighted by", "集計基準"),
        "win_ci_high": ("Win rate CI high", "受注率 信頼区間上限"),
        "win_ci_low": ("Win rate CI low", "受注率 信頼区間下限"),
        "win_rate": ("Win rate", "受注率"),
        "win_rate_pile_up": ("Win-rate pile-up", "高受注率担当者への偏り"),
        "won": ("Won", "受注数"),
        "won_amount": ("Won amount", "受注金額"),
        "won_amount_share": ("Share of won amount", "受注金額比率"),
        "won_count": ("Won", "受注数"),
        "won_share": ("Share of wins", "受注比率"),
        "z": ("z", "z値"),
        # conversion over time
        "at_risk_count": ("At risk", "リスク集合（未転換）"),
        "censored_count": ("Censored", "打ち切り"),
        "cohort": ("Cohort", "コホート"),
        "competing_count": ("Competing events", "競合イベント"),
        "converted_median_days": ("Median days (converting leads)", "転換リードの中央値（日）"),
        "crm_probability": ("CRM probability", "CRMの確度"),
        "day": ("Day", "経過日"),
        "day_7_rate": ("By day 7", "7日目までの転換率"),
        "day_30_rate": ("By day 30", "30日目までの転換率"),
        "day_90_rate": ("By day 90", "90日目までの転換率"),
        "event_count": ("Events", "イベント数"),
        "excluded_negative_count": ("Excluded (event before creation)", "除外（作成前のイベント）"),
        "exit_count": ("Exits", "移動数"),
        "expected_days_to_close": ("Expected days to close", "クローズまでの期待日数"),
        "expected_days_to_win": ("Expected days to win", "受注までの期待日数"),
        "first": ("First touch", "ファーストタッチ"),
        "gap": ("Gap", "差"),
        "ignored_after_close_count": ("Rows after close (ignored)", "クローズ後の行（無視）"),
        "kind": ("Kind", "種別"),
        "last": ("Last touch", "ラストタッチ"),
        "linear": ("Linear", "均等配分"),
        "observed_share": ("Share of month observed", "観測済みの月内比率"),
        "p_lost": ("P(lost)", "失注確率"),
        "p_unresolved": ("P(unresolved)", "未確定の確率"),
        "p_win": ("P(win)", "受注確率"),
        "previous_count": ("Previous month", "前月"),
        "projected_count": ("Projected", "月換算"),
        "qualified_count": ("Qualified leads", "対象リード数"),
        "time_decay": ("Time decay", "時間減衰"),
        "to_stage": ("To stage", "次ステージ"),
        "u_shaped": ("U-shaped", "U字型"),
        "w_shaped": ("W-shaped", "W字型"),
        # pipeline history
        "on_day": ("Day", "日付"),
        "quarter_open_count": ("Open, closing this quarter", "今四半期完了予定のオープン商談数"),
        "quarter_open_amount": (
            "Open amount closing this quarter",
            "今四半期完了予定のオープン金額",
        ),
        "part": ("Movement", "増減要因"),
        "opportunity_count": ("Opportunities", "商談数"),
        "start_amount": ("Start", "期首"),
        "created_amount": ("Created", "新規作成"),
        "pulled_in_amount": ("Pulled in", "期間内へ移動"),
        "amount_up": ("Amount up", "増額"),
        "amount_down": ("Amount down", "減額"),
        "pushed_out_amount": ("Pushed out", "期間外へ移動"),
        "lost_amount": ("Lost amount", "失注金額"),
        "end_amount": ("End", "期末（基準日）"),
        "amount_start": ("Amount at start", "期首の金額"),
        "expected_close_on_start": ("Close date at start", "期首の完了予定日"),
        "expected_close_on_end": ("Close date now", "現在の完了予定日"),
        # targets
        "team": ("Team", "チーム"),
        "period_start": ("Period start", "期間開始"),
        "period_end": ("Period end", "期間終了"),
        "target": ("Target", "目標"),
        "actual": ("Actual", "実績"),
        "attainment": ("Attainment", "達成率"),
        "pace": ("Pace", "ペース"),
        "quota_count": ("Quotas", "目標数"),
        "remaining": ("Remaining target", "残り目標"),
        "pipeline": ("Pipeline", "パイプライン"),
        "coverage": ("Coverage", "カバレッジ"),
        "coverage_needed": ("Coverage needed", "必要カバレッジ"),
        "pipeline_needed": ("Pipeline needed", "必要パイプライン"),
        "forecast": ("Forecast", "予測"),
        "abs_error": ("Absolute error", "絶対誤差"),
        "wape": ("WAPE", "WAPE（加重絶対誤差率）"),
        "accuracy": ("Accuracy", "精度"),
        "bias": ("Bias", "バイアス"),
    }
)

#: Columns whose cell values are categories with display labels in :data:`VALUE_LABELS`.
VALUE_COLUMNS = frozenset(
    {
        "action_status",
        "capacity_source",
        "channel",
        "direction",
        "cohort",
        "from_stage",
        "kind",
        "last_activity_channel",
        "metric",
        "origin",
        "queue",
        "recycle_reason",
        "source",
        "stage",
        "status",
        "to_stage",
        "weekday",
        "weight",
        "part",
    }
)

_WEEKDAYS = {
    str(i): (en, ja)
    for i, (en, ja) in enumerate(
        zip(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
            ("月", "火", "水", "木", "金", "土", "日"),
            strict=True,
        ),
        start=1,
    )
}

#: Category values: ``"column:value"`` keys first, then plain ``"value"`` keys.
VALUE_LABELS: dict[str, Label] = _labels(
    {
        **{f"weekday:{k}": v for k, v in _WEEKDAYS.items()},
        "metric:meetings_held": ("Meetings held", "実施済み商談数"),
        "metric:won_count": ("Won deals", "受注件数"),
        # funnel stages and common CRM stages
        "lead": ("Lead", "リード"),
        "touched": ("Touched", "アプローチ"),
        "connected": ("Connected", "接続"),
        "sql": ("SQL", "商談化（SQL）"),
        "valid": ("Valid opportunity", "有効商談"),
        "won": ("Won", "受注"),
        "lost": ("Lost", "失注"),
        "list": ("List", "リスト"),
        "opportunity": ("Opportunity", "商談"),
        "proposal": ("Proposal", "提案"),
        "quote": ("Quote", "見積"),
        "negotiation": ("Negotiation", "交渉"),
        # origin and direction
        "all": ("All", "全体"),
        "inbound": ("Inbound", "インバウンド"),
        "outbound": ("Outbound", "アウトバウンド"),
        "direction:inbound": ("Inbound (received)", "着信・受信"),
        "direction:outbound": ("Outbound (made)", "発信・送信"),
        # queues
        "untouched_inbound": ("Untouched inbound", "未対応インバウンド"),
        "overdue_next_activity": ("Overdue next activity", "次回活動の期限切れ"),
        "focus_due": ("Focus leads due", "重点リードの期日"),
        "do_not_pursue_review": ("Do-not-pursue review", "対応不要の見直し"),
        "recycle_due": ("Recycle due", "リサイクル期日"),
        "hot_leads": ("Hot leads", "ホットリード"),
        # allocation
        "ok": ("OK", "正常"),
        "warning": ("Warning", "注意"),
        "over": ("Over capacity", "超過"),
        "unknown": ("Unknown", "不明"),
        "rep": ("Rep setting", "担当者の設定値"),
        "segment": ("Segment band", "セグメント基準"),
        "open": ("Open", "オープン"),
        "weight:count": ("By count", "件数ベース"),
        "weight:amount": ("By amount", "金額ベース"),
        # action status and channels
        "new": ("New", "新規"),
        "working": ("Working", "対応中"),
        "no_action_needed": ("No action needed", "対応不要"),
        "not_pursued_after_connect": ("Not pursued after connect", "接続後に対応終了"),
        "qualified": ("Qualified", "商談化"),
        "recycled": ("Recycled", "リサイクル"),
        "disqualified": ("Disqualified", "失格"),
        "call": ("Call", "電話"),
        "email": ("Email", "メール"),
        "meeting": ("Meeting", "面談"),
        "web": ("Web", "Web"),
        # recycle reasons (sample pick list)
        "budget": ("Budget", "予算"),
        "competitor": ("Competitor", "競合"),
        "no_need": ("No need", "ニーズなし"),
        "timing": ("Timing", "時期"),
        "unreachable": ("Unreachable", "不通"),
        # lead sources (sample values)
        "ads": ("Ads", "広告"),
        "cold": ("Cold list", "コールドリスト"),
        "event_list": ("Event list", "イベントリスト"),
        "exhibition": ("Exhibition", "展示会"),
        "referral": ("Referral", "紹介"),
        "seminar": ("Seminar", "セミナー"),
        "web_form": ("Web form", "Webフォーム"),
        "webinar": ("Webinar", "ウェビナー"),
        "whitepaper": ("Whitepaper", "ホワイトペーパー"),
        # ABM panel metrics
        "leads": ("Leads", "リード"),
        "touched_accounts": ("Touched accounts", "アプローチ済み企業"),
        "connects": ("Connects", "接続"),
        "key_person_connects": ("Key-person connects", "キーマン接続"),
        "sqls": ("SQLs", "SQL"),
        "valid_opportunities": ("Valid opportunities", "有効商談"),
        "won_amount": ("Won amount", "受注金額"),
        "lead_coverage": ("Lead coverage", "リードカバー率"),
        "sql_coverage": ("SQL coverage", "SQLカバー率"),
        "touch_coverage": ("Touch coverage", "アプローチカバー率"),
        "appointment_rate": ("Appointment rate", "アポ率"),
        "sql_to_valid_rate": ("SQL to valid rate", "案件化率"),
        "valid_to_won_rate": ("Valid to won rate", "成約率"),
        # pipeline waterfall parts
        "part:start": ("Start", "期首"),
        "part:created": ("Created", "新規作成"),
        "part:pulled_in": ("Pulled in", "期間内へ移動"),
        "part:amount_up": ("Amount up", "増額"),
        "part:amount_down": ("Amount down", "減額"),
        "part:pushed_out": ("Pushed out", "期間外へ移動"),
        "part:end": ("End", "期末（基準日）"),
    }
)

#: Chart titles by their English text (the sections declare charts in English).
CHART_LABELS: dict[str, Label] = _labels(
    {
        "Lead funnel: leads reaching each stage": (
            "Lead funnel: leads reaching each stage",
            "リードファネル：各ステージに到達したリード数",
        ),
        "Share of leads reaching each stage, by origin": (
            "Share of leads reaching each stage, by origin",
            "流入区分別 各ステージへの到達率",
        ),
        "Outbound connect rate by weekday and hour": (
            "Outbound connect rate by weekday and hour",
            "曜日×時間帯別 発信接続率",
        ),
        "Outbound connect rate by hour": ("Outbound connect rate by hour", "時間帯別 発信接続率"),
        "Outbound connect rate by weekday": (
            "Outbound connect rate by weekday",
            "曜日別 発信接続率",
        ),
        "Same-day approach rate by source": (
            "Same-day approach rate by source",
            "ソース別 当日アプローチ率",
        ),
        "5C2M compliance by owner": ("5C2M compliance by owner", "担当者別 5C2M遵守率"),
        "5C2M compliance by lead created month": (
            "5C2M compliance by lead created month",
            "リード作成月別 5C2M遵守率",
        ),
        "Leads waiting in each queue": ("Leads waiting in each queue", "キュー別 対応待ちリード数"),
        "Leads waiting per queue and owner": (
            "Leads waiting per queue and owner",
            "キュー×担当者別 対応待ちリード数",
        ),
        "SQL load vs capacity per rep (last full month)": (
            "SQL load vs capacity per rep (last full month)",
            "担当者別 SQL数とキャパシティ（前月）",
        ),
        "Top-rep share of SQLs by month": (
            "Top-rep share of SQLs by month",
            "月別 最多担当者のSQLシェア",
        ),
        "SQLs by origin per month": ("SQLs by origin per month", "月別 流入区分別SQL数"),
        "Inbound share of SQLs": ("Inbound share of SQLs", "SQLに占めるインバウンドの比率"),
        "Target accounts' share of the totals": (
            "Target accounts' share of the totals",
            "全体に占めるターゲット企業の比率",
        ),
        "Target-account share of leads and SQLs by month": (
            "Target-account share of leads and SQLs by month",
            "月別 ターゲット企業のリード・SQL比率",
        ),
        "Top target accounts by won amount": (
            "Top target accounts by won amount",
            "受注金額上位のターゲット企業",
        ),
        "SQL CVR by campaign": ("SQL CVR by campaign", "キャンペーン別 商談化率（CVR）"),
        "Campaign × member CVR": ("Campaign × member CVR", "キャンペーン×担当者別CVR"),
        "Open pipeline amount by stage": (
            "Open pipeline amount by stage",
            "ステージ別 オープン商談金額",
        ),
        "Win rate by source": ("Win rate by source", "ソース別受注率"),
        "Lead inflow by month": ("Lead inflow by month", "月別リード流入"),
        "SQL conversion curve by lead cohort": (
            "SQL conversion curve by lead cohort",
            "リード作成月コホート別 SQL化曲線",
        ),
        "Win probability by stage": ("Win probability by stage", "ステージ別 受注確率"),
        "Open pipeline amount by week": (
            "Open pipeline amount by week",
            "週次 オープンパイプライン金額",
        ),
        "Quarter pipeline waterfall": ("Quarter pipeline waterfall", "四半期パイプラインの増減"),
        "Won amount against quota (current period)": (
            "Won amount against quota (current period)",
            "目標に対する受注金額（当期）",
        ),
    }
)

#: The report's own words.
UI_LABELS: dict[str, Label] = _labels(
    {
        "title": ("pipelinekit KPI report", "pipelinekit KPIレポート"),
        "as_of": (
            "as of {date} ({source}), time zone {tz}",
            "基準日 {date}（{source}）、タイムゾーン {tz}",
        ),
        "given": ("given", "指定"),
        "latest timestamp in the data": ("latest timestamp in the data", "データ内の最新日時"),
        "summary": ("Summary", "サマリー"),
        "kpi": ("KPI", "KPI"),
        "value": ("value", "値"),
        "detail": ("detail", "詳細"),
        "no_rows": ("no rows", "該当なし"),
        "not_available": ("not available (see warnings)", "算出不可（警告を参照）"),
        "no_data": ("no data", "データなし"),
        "na": ("n/a", "n/a"),
        "ci": ("95% CI", "95%信頼区間"),
        "ci_short": ("95% CI", "95%CI"),
        "warnings": ("Warnings", "警告"),
        "contents": ("Contents", "目次"),
        "notes": ("Notes", "注記"),
        "rows": ("{n} rows", "{n}行"),
        "sort_hint": ("click a header to sort", "見出しをクリックで並べ替え"),
        "volume": ("Volume", "ボリューム"),
        "conversion": ("Conversion", "転換率"),
        "activity": ("Activity", "活動"),
        "execution": ("Execution", "実行管理"),
        "abm": ("Target accounts", "ターゲット企業"),
        "above": ("{name} exceeded", "{name}超過"),
        "lowest_step": ("lowest step", "最も低い転換"),
        "of_first": ("of first", "対初段"),
        "total": ("Total", "合計"),
        "increase": ("Increase", "増加"),
        "decrease": ("Decrease", "減少"),
        "footer": (
            "Generated by pipelinekit {version}. Rates show numerator / denominator and "
            "a Wilson 95% interval. Hover a chart for exact values.",
            "pipelinekit {version} で作成。率は分子／分母とWilson法の95%信頼区間を示します。"
            "グラフにカーソルを合わせると正確な値が表示されます。",
        ),
    }
)

#: Report notes by key: (English, Japanese) templates (see
#: :mod:`pipelinekit.reporting.notes` for the placeholder specs).
NOTES: dict[str, Label] = _labels(
    {
        "funnel_counts": (
            "Counts: leads that reached each stage by the end of the as_of day; a later "
            "stage implies the earlier ones.",
            "件数：基準日の終わりまでに各ステージに達したリード数。後のステージに達したリードは"
            "前のステージも通過したものとみなします。",
        ),
        "funnel_bottleneck_overall": (
            "Overall bottleneck: {from_stage} -> {stage} at {rate:pct} ({numerator}/"
            "{denominator}, 95% CI {ci_low:pct}-{ci_high:pct}).",
            "全体のボトルネック：{from_stage} → {stage}（{rate:pct}、{numerator}/{denominator}、"
            "95%信頼区間 {ci_low:pct}-{ci_high:pct}）。",
        ),
        "funnel_bottleneck_origin": (
            "Origin {origin} bottleneck: {from_stage} -> {stage} at {rate:pct} ({numerator}/"
            "{denominator}, 95% CI {ci_low:pct}-{ci_high:pct}).",
            "{origin}のボトルネック：{from_stage} → {stage}（{rate:pct}、{numerator}/"
            "{denominator}、95%信頼区間 {ci_low:pct}-{ci_high:pct}）。",
        ),
        "connect_definition": (
            "Connect = connected call, replied email or held meeting; call connect rate = "
            "connected calls / calls (Wilson 95% interval).",
            "接続＝通話接続・メール返信・面談実施。接続率＝接続した架電／架電数（Wilson法95%信頼区間）。",
        ),
        "hours_local": (
            "Hours and weekdays are in the dataset time zone; weekday 1 = Monday.",
            "時間帯と曜日はデータセットのタイムゾーン（曜日1＝月曜）。",
        ),
        "best_hour": (
            "Best outbound hour: {hour}:00 with a connect rate of {rate:pct} ({numerator}/"
            "{denominator} calls).",
            "最も接続しやすい発信時間帯：{hour}時台、接続率{rate:pct}（{numerator}/{denominator}件）。",
        ),
        "cadence_definition": (
            "Cadence {label}: window [created_at, created_at + {window_days} days), end "
            "excluded; eligible = window ended by the end of {as_of} and no connect inside "
            "it; compliant = >= {calls} outbound calls and >= {mails} outbound emails in the "
            "window.",
            "ケイデンス{label}：期間はリード作成から{window_days}日間（終端を含まない）。対象＝"
            "{as_of}の終わりまでに期間が終了し期間内に接続がないリード。遵守＝期間内に発信架電"
            "{calls}回以上かつ送信メール{mails}通以上。",
        ),
        "cadence_excluded": (
            "Every lead counts whatever its action_status, as in the summary's "
            "cadence_5c2m_rate (pipelinekit.Cadence(excluded_statuses=...) leaves some out).",
            "対応ステータスにかかわらず全リードが対象です（サマリーの5C2M遵守率と同じ定義。"
            "pipelinekit.Cadence(excluded_statuses=...) で除外できます）。",
        ),
        "early_follow_up": (
            "Early follow-up: >= {touches} outbound touches in the {days} days after "
            "creation, among leads whose {days} days have passed; short_count = leads with "
            "fewer.",
            "初動フォロー：作成後{days}日以内に{touches}回以上のアプローチ（{days}日が経過した"
            "リードが対象）。未達＝それより少ないリード。",
        ),
        "queues_as_of": (
            "Queues as of the end of {as_of}; each top table shows the first {top} rows in "
            "urgency order.",
            "{as_of}終了時点のキュー。各表は緊急度順の上位{top}件。",
        ),
        "queues_waiting": (
            "{untouched} inbound lead(s) still untouched since their creation day; {hot} hot "
            "lead(s) waiting for a touch.",
            "作成日に未対応のインバウンドリードが{untouched}件、アプローチ待ちのホットリードが"
            "{hot}件。",
        ),
        "queues_definitions": (
            "Hot lead: >= {page_views} page views or a link click in the last {lookback_days} "
            "days after the last outbound touch. Focus due: focus leads with next activity "
            "within {horizon_days} days.",
            "ホットリード：最後のアプローチ以降、直近{lookback_days}日に{page_views}回以上の"
            "ページ閲覧またはリンククリック。重点リードの期日：次回活動が{horizon_days}日以内の"
            "重点リード。",
        ),
        "inflow_definition": (
            "Lead inflow = leads by created_at period; every period is listed, empty ones "
            "with 0. Pass a target to pipelinekit.metrics.assets.lead_inflow for the "
            "shortfall and the suggested activity multiplier (target / inflow clipped into "
            "1.5x-2x).",
            "リード流入＝作成日の期間ごとのリード数（リードがない期間も0として表示）。"
            "pipelinekit.metrics.assets.lead_inflow に目標を渡すと、不足数と推奨される活動量の"
            "倍率（目標／流入を1.5～2倍に丸めた値）を計算します。",
        ),
        "allocation_load": (
            "Load of {month} (the last full month as of {as_of}): {over} rep(s) over "
            "capacity, {unknown} with unknown capacity.",
            "{month}（{as_of}時点の前月）の負荷：キャパシティ超過{over}名、キャパシティ不明"
            "{unknown}名。",
        ),
        "allocation_capacity": (
            "Capacity = the rep's monthly_sql_capacity, else its segment band {bands}; "
            "status over > 100%, warning >= 90%.",
            "キャパシティ＝担当者の月間SQLキャパシティ、なければセグメント基準 {bands}。"
            "100%超で超過、90%以上で注意。",
        ),
        "concentration": (
            "Concentration over FS reps including those with 0 SQLs; HHI in [1/n, 1], Gini "
            "in [0, (n-1)/n].",
            "集中度はSQL 0件の担当者を含むFS全員で計算（HHIは1/n～1、ジニ係数は0～(n-1)/n）。",
        ),
        "mix_origin": (
            "Origin of an SQL = the opportunity's origin, else its lead's; shares are of the "
            "month's SQLs.",
            "SQLの流入区分＝商談の流入区分、なければリードの流入区分。比率はその月のSQLに対する"
            "割合。",
        ),
        "mix_comparison": (
            "Origin comparison as of the end of {as_of}: SQL->valid = validated / SQLs, win "
            "rate = won / closed, cycle = days from SQL to close of won deals.",
            "{as_of}終了時点の流入区分比較：案件化率＝有効商談／SQL、受注率＝受注／クローズ、"
            "商談期間＝受注案件のSQLからクローズまでの日数。",
        ),
        "last_full_month": ("Last full month: {month}.", "前月：{month}。"),
        "abm_targets": (
            "{targets} target accounts; {uncovered} without any lead by {as_of}.",
            "ターゲット企業{targets}社、うち{as_of}までにリードがない企業{uncovered}社。",
        ),
        "abm_denominators": (
            "numerator = target accounts, denominator = all accounts (share) or the number "
            "of target accounts (coverage).",
            "分子＝ターゲット企業、分母＝全体（比率）またはターゲット企業数（カバー率）。",
        ),
        "abm_fit": (
            "fit_suggestions: non-customer accounts ranked by the beta-smoothed historical "
            "win rate of their industry x employee band x revenue band (denominator = closed "
            "deals).",
            "有望企業の提案：業種×従業員規模×売上規模ごとの過去の受注率（ベータ分布で平滑化）で"
            "未取引企業を順位付け（分母＝クローズ案件数）。",
        ),
        "campaign_cvr": (
            "CVR = leads with an opportunity / leads of the campaign (lead cohorts, outcomes "
            "up to {as_of}); {no_campaign} = leads without a campaign.",
            "CVR＝商談化したリード／キャンペーンのリード（リード作成コホート、{as_of}までの結果）。"
            "{no_campaign}＝キャンペーンなしのリード。",
        ),
        "campaign_member_cvr": (
            "member_cvr: lift = member CVR / campaign CVR, pairs with >= {min_leads} leads.",
            "キャンペーン×担当者別CVR：リフト＝担当者のCVR／キャンペーン平均CVR"
            "（リード{min_leads}件以上の組合せ）。",
        ),
        "campaign_alerts": (
            "alerts: month-over-month CVR change with a two-proportion z-test p < 0.05 and an "
            "absolute change >= {points} points.",
            "アラート：前月比のCVR変化で、2標本比率のz検定 p < 0.05 かつ"
            "変化幅{points}ポイント以上。",
        ),
        "pipeline_as_of": (
            "As of the end of {as_of}: open = not closed by then; win rate = won / closed.",
            "{as_of}終了時点：オープン＝未クローズ、受注率＝受注／クローズ。",
        ),
        "pipeline_velocity": (
            "Velocity = open opportunities x win rate x average won amount / mean cycle days "
            "(expected won amount per day).",
            "パイプライン速度＝オープン商談数×受注率×平均受注金額／平均商談期間"
            "（1日あたりの期待受注金額）。",
        ),
        "na_table": (
            "Not available: {kpis:labels} - the {table} table is absent or empty.",
            "算出不可：{kpis:labels}（{table}テーブルがないか空です）。",
        ),
        "na_column": (
            "Not available: {kpis:labels} - {where} is empty in every row.",
            "算出不可：{kpis:labels}（{where}がすべての行で空です）。",
        ),
        "na_outcome": (
            "Not available: {kpis:labels} - opportunities are closed but is_won is empty in "
            "every row (each close would count as a loss).",
            "算出不可：{kpis:labels}（クローズした商談があるのにis_wonがすべての行で空です。"
            "すべて失注と数えることになります）。",
        ),
        "na_targets": (
            "Not available: {kpis:labels} - no account is a target account (accounts.is_target).",
            "算出不可：{kpis:labels}（ターゲット企業（accounts.is_target）が1社もありません）。",
        ),
        "na_capacity": (
            "Not available: {kpis:labels} - no rep has an SQL capacity "
            "(monthly_sql_capacity or a segment band).",
            "算出不可：{kpis:labels}（SQLキャパシティ（monthly_sql_capacityまたはセグメント基準）"
            "のある担当者がいません）。",
        ),
        "section_not_available": (
            "Not available: this section needs the {table} table, which is absent or empty; "
            "its tables are left empty rather than filled with zeros.",
            "算出不可：このセクションには{table}テーブルが必要ですが、ないか空です。"
            "0で埋めずに表を空にしています。",
        ),
        "section_column_not_available": (
            "Not available: this section needs {where}, which has no usable value in any "
            "row; its tables are left empty rather than filled with zeros.",
            "算出不可：このセクションには{where}が必要ですが、使える値のある行がありません。"
            "0で埋めずに表を空にしています。",
        ),
        "tables_not_available": (
            "Not available for lack of {what} data (left empty rather than filled with "
            "zeros): {tables:values}.",
            "{what}のデータがないため算出不可（0で埋めずに空にしています）：{tables:values}。",
        ),
        "funnel_stages_left_out": (
            "Stages without data are left out (not shown as 0, and never the bottleneck): "
            "{stages:values}.",
            "データのないステージは除外しています（0とは表示せず、ボトルネックにもしません）："
            "{stages:values}。",
        ),
        "funnel_not_available": (
            "Not available: fewer than two funnel stages have data.",
            "算出不可：データのあるファネルのステージが2つ未満です。",
        ),
        "columns_not_available": (
            "Columns without data are left empty (n/a, not 0): {columns:columns}.",
            "データのない列は空欄（n/a）にしています（0とは表示しません）：{columns:columns}。",
        ),
        "cycle_excluded_negative": (
            "{excluded:int} won deal(s) closed before they were created (the "
            "closed_before_created warning) are left out of the sales cycle and the "
            "velocity's mean cycle.",
            "作成日より前にクローズされた受注案件{excluded:int}件（closed_before_created警告）は"
            "商談期間とパイプライン速度の平均商談期間から除外しています。",
        ),
        "mix_cycle_excluded_negative": (
            "{excluded:int} won deal(s) closed before they were created (the "
            "closed_before_created warning) are left out of the cycle days.",
            "作成日より前にクローズされた受注案件{excluded:int}件（closed_before_created警告）は"
            "商談期間から除外しています。",
        ),
        "pipeline_stale": (
            "{stale} stale open opportunities (no call, email or meeting on the lead or "
            "account in {days} days).",
            "放置されたオープン商談{stale}件（リード・企業への電話・メール・面談が{days}日間なし）。",
        ),
        "conversion_curve": (
            "SQL conversion curve: the share of leads with an opportunity within t days of "
            "creation (day 0 = the first 24 hours), Kaplan-Meier with leads not converted by "
            "the end of {as_of} censored, so young cohorts are not counted as failures; "
            "cohorts by month of lead creation; 95% band by Greenwood's variance on the "
            "log-log scale; n/a where no lead of the cohort has reached that day yet. "
            "{excluded:int} lead(s) with an opportunity before their creation are left out.",
            "SQL化曲線：作成からt日以内（0日目＝最初の24時間）に商談化したリードの割合。"
            "{as_of}の終わりまでに未転換のリードは打ち切りとして扱うカプラン・マイヤー法で、"
            "若いコホートを失敗と数えません。コホートはリード作成月。95%信頼帯はGreenwoodの"
            "分散（log-log変換）。その日数に達したリードがまだいない場合はn/a。作成前に商談が"
            "あるリード{excluded:int}件は除外。",
        ),
        "conversion_median": (
            "All leads: {rate:pct} become SQLs within {horizon} days; those that do take a "
            "median of {days} day(s).",
            "全リード：{horizon}日以内に{rate:pct}が商談化し、商談化したリードの所要日数の"
            "中央値は{days}日。",
        ),
        "stage_win": (
            "Win probability per stage from the stage history as an absorbing Markov chain: "
            "won and lost absorb, open deals are censored (not staying); a stage never left "
            "has no probability (unresolved). Expected days to close are conditional on "
            "closing; transition rates carry Wilson 95% intervals.",
            "ステージ履歴を吸収マルコフ連鎖とみなした各ステージの受注確率：受注・失注が吸収状態、"
            "オープン商談は打ち切り（滞留とはみなさない）。一度も移動のないステージは未確定。"
            "クローズまでの期待日数はクローズした場合の条件付き。遷移率にはWilson法の"
            "95%信頼区間を付けています。",
        ),
        "attribution": (
            "Attribution of the opportunities created by {as_of} to their lead's campaign "
            "responses in the {lookback} days before the opportunity (one touch per campaign, "
            "responses after it excluded); credits of each model add up to the {sqls:int} "
            "SQLs, {unattributed:int} of them without any touch ({label}).",
            "{as_of}までに作成された商談を、商談作成前{lookback}日以内のリードのキャンペーン"
            "反応に配分（キャンペーンごとに1タッチ、商談作成後の反応は除外）。各モデルの貢献は"
            "SQL {sqls:int}件の合計に一致し、うち{unattributed:int}件はタッチなし（{label}）。",
        ),
        "attribution_fallback": (
            "No campaign_members table: each lead's own campaign_id is its only touch.",
            "campaign_membersテーブルがないため、各リードのcampaign_idを唯一のタッチとしています。",
        ),
        "lead_velocity": (
            "Lead velocity rate = SQLs of the month / SQLs of the month before - 1, by the "
            "month of each lead's first SQL; the current month is left out until it is "
            "complete.",
            "リードベロシティレート＝当月のSQL数／前月のSQL数－1（各リードの初回SQLの月で"
            "集計）。当月は月末まで含めません。",
        ),
        "history_definition": (
            "A deal's state on a day = for each of stage, amount, close date, probability and "
            "forecast category the last change recorded before the end of that day "
            "(opportunity_history, and stage_changes as stage-only changes; rows with the same "
            "time in file order), else its current row; open, won and lost come from "
            "created_at, closed_at and is_won. A missing amount counts as 0.",
            "ある日の商談の状態＝ステージ・金額・完了予定日・確度・売上予測分類のそれぞれについて、"
            "その日の終わりまでに記録された最後の変更（opportunity_history、およびステージのみの"
            "変更としてのstage_changes。同時刻の行はファイル順）、なければ現在の値。オープン・受注・"
            "失注はcreated_at・closed_at・is_wonから判定。金額の欠損は0として集計。",
        ),
        "history_no_opportunities": (
            "No opportunities: nothing to show.",
            "商談がないため表示する内容がありません。",
        ),
        "history_no_history": (
            "No opportunity_history or stage_changes: past days show today's stage, amount and "
            "close date (only open, won and lost follow the dates).",
            "opportunity_historyもstage_changesもないため、過去の日付も現在のステージ・金額・"
            "完了予定日で表示しています（オープン・受注・失注のみ日付に従います）。",
        ),
        "history_no_close_dates": (
            "No expected_close_on values: the quarter's pipeline and waterfall are not "
            "available (they need each deal's close date).",
            "expected_close_on（完了予定日）の値がないため、四半期のパイプラインと増減は"
            "算出できません。",
        ),
        "history_waterfall": (
            "Waterfall of the deals expected to close in {first} to {last}, from the end of "
            "{opening} to the end of {as_of}: {start:num} at the start + created + pulled in + "
            "amount up - amount down - pushed out - won - lost = {end:num} still open; won "
            "{won:num}; {pushed:int} deal(s) worth {pushed_amount:num} pushed out. Pulled in / "
            "pushed out = close date moved into / out of the period (either direction); "
            "amount changes of pushed-out deals are not booked.",
            "{first}～{last}に完了予定の商談の増減（{opening}の終わりから{as_of}の終わりまで）："
            "期首{start:num}＋新規作成＋期間内へ移動＋増額－減額－期間外へ移動－受注－失注＝"
            "オープン残{end:num}。受注{won:num}、期間外へ移動{pushed:int}件（{pushed_amount:num}）。"
            "期間内へ／期間外への移動＝完了予定日がこの期間に入った／出た商談（前倒し・後ろ倒し"
            "の両方）。期間外へ移動した商談の金額変更は計上しません。",
        ),
        "history_trend": (
            "Open pipeline at the end of each week of the last {weeks} weeks (the last point "
            "at the end of the as_of day); the second line is the part expected to close in "
            "{first} to {last} as of each week.",
            "直近{weeks}週の各週末時点のオープンパイプライン（最後の点は基準日の終わり）。"
            "2本目の線は各時点で{first}～{last}に完了予定だった分。",
        ),
        "targets_definition": (
            "Attainment = actual / target per quota row; actuals count to the end of as_of "
            "(won amount and won deals by close date, SQLs by creation, meetings held by "
            "date; a deal counts for its current owner, a team for its reps). Roll-ups are "
            "sums of actuals / sums of targets. Pace = actual / the target pro-rated to the "
            "days elapsed (1 = on track).",
            "達成率＝実績÷目標（目標行ごと）。実績は基準日の終わりまで（受注金額・受注件数は"
            "受注日、SQLは作成日、実施済み商談は実施日で集計。商談は現在の担当者、チームは所属"
            "担当者の合計）。集計行は実績の合計÷目標の合計。ペース＝実績÷経過日数で按分した目標"
            "（1＝計画どおり）。",
        ),
        "targets_no_quotas": (
            "No quotas table: attainment, coverage and forecast accuracy are not available.",
            "quotas（目標）テーブルがないため、達成率・カバレッジ・予測精度は算出できません。",
        ),
        "targets_zero_target": (
            "{rows:int} quota row(s) have a target of 0: their attainment is undefined (n/a); "
            "their actuals still count in the roll-ups.",
            "目標が0の行が{rows:int}件あります。達成率は定義できません（n/a）が、実績は集計行に"
            "含めています。",
        ),
        "targets_coverage": (
            "Coverage = open pipeline expected to close in the period (as of as_of, every "
            "forecast category, overdue deals included) / remaining target. The trailing "
            "365-day win rate is {win_rate:pct}, so {needed} coverage is needed. {met:int} "
            "quota(s) already met: coverage undefined.",
            "カバレッジ＝期間内に完了予定のオープンパイプライン（基準日時点、全予測分類、期限"
            "超過を含む）÷残り目標。直近365日の受注率は{win_rate:pct}のため、必要カバレッジは"
            "{needed}。達成済みの目標{met:int}件はカバレッジを定義できません。",
        ),
        "targets_no_forecast_category": (
            "No forecast_category column: forecast accuracy is not available.",
            "forecast_category（売上予測分類）列がないため、予測精度は算出できません。",
        ),
        "targets_forecast": (
            "Forecast = commit deals expected to close in the period plus deals already "
            "won, as of {days:int} days before each period's end, against the won amount, "
            "over {periods:int} ended period(s). WAPE = sum of |forecast - actual| per "
            "quota / sum of actuals = {wape:pct} (over- and under-forecasts do not cancel); "
            "accuracy = 1 - WAPE.",
            "予測＝各期間終了の{days:int}日前時点で、期間内に完了予定のコミット商談と受注済み"
            "商談の合計。受注金額と比較（終了済み{periods:int}期間）。WAPE＝目標行ごとの"
            "|予測－実績|の合計÷実績の合計＝{wape:pct}（過大と過小は相殺しません）。精度＝1－WAPE。",
        ),
    }
)


def _pick(table: Mapping[str, Label], keys: Iterable[str], lang: Lang) -> str | None:
    for key in keys:
        found = table.get(key)
        if found is not None:
            return found.get(lang)
    return None


def section_title(key: str, title: str, lang: Lang = "en") -> str:
    """A section's title: its own in English, the glossary's in Japanese."""
    if lang == "en":
        return title
    return _pick(SECTION_LABELS, [key], lang) or title


def table_label(name: str, lang: Lang = "en", *, section: str | None = None) -> str:
    """A table's display name (``section/name`` entries first; the name if unknown)."""
    keys = [f"{section}/{name}", name] if section else [name]
    return _pick(TABLE_LABELS, keys, lang) or name


def chart_title(title: str, lang: Lang = "en") -> str:
    """A chart's title in ``lang`` (titles without a Japanese entry stay as given)."""
    return _pick(CHART_LABELS, [title], lang) or title


def column_label(name: str, lang: Lang = "en") -> str:
    """A column header: the column glossary, else a KPI or category label, else the
    name with spaces."""
    found = _pick(COLUMN_LABELS, [name], lang) or _pick(GLOSSARY_LABELS, [name], lang)
    # wide tables name columns after categories (e.g. one column per queue)
    found = found or _pick(VALUE_LABELS, [name], lang)
    return found or name.replace("_", " ")


def value_label(column: str, value: Any, lang: Lang = "en") -> str:
    """Display label of a category ``value`` of ``column`` (``str(value)`` if none)."""
    text = str(value)
    if column not in VALUE_COLUMNS:
        return text
    return _pick(VALUE_LABELS, [f"{column}:{text}", text], lang) or text


def ui(key: str, lang: Lang = "en", **fields: Any) -> str:
    """One of the report's own words, with ``fields`` filled in."""
    text = _pick(UI_LABELS, [key], lang) or key
    return text.format(**fields) if fields else text


def category_label(value: Any, lang: Lang = "en") -> str:
    """Display label of a category value mentioned in a note (``str(value)`` if none).

    >>> category_label("inbound", "ja")
    'インバウンド'
    """
    text = str(value)
    return _pick(VALUE_LABELS, [text], lang) or text


#: The summary KPI labels as :class:`Label` objects.
GLOSSARY_LABELS: dict[str, Label] = {k: Label(t.en, t.ja) for k, t in GLOSSARY.items()}


def report_labels(
    lang: Lang,
    *,
    summary_keys: Iterable[str],
    sections: Iterable[tuple[str, str, Mapping[str, Iterable[str]]]],
) -> dict[str, Any]:
    """The ``labels`` object of a JSON report: display labels of every key it uses.

    ``sections`` yields ``(key, title, {table name: column names})``.
    """
    out: dict[str, Any] = {
        "lang": lang,
        "summary": {k: label(k, lang) for k in summary_keys},
        "sections": {},
        "tables": {},
        "columns": {},
    }
    for key, title, tables in sections:
        out["sections"][key] = section_title(key, title, lang)
        for name, columns in tables.items():
            out["tables"][name] = table_label(name, lang, section=key)
            for column in columns:
                out["columns"][column] = column_label(column, lang)
    out["tables"] = dict(sorted(out["tables"].items()))
    out["columns"] = dict(sorted(out["columns"].items()))
    return out
