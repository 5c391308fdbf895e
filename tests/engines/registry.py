"""Every public metric function with a recipe for calling it on a dataset.

A :class:`Recipe` names the tables passed positionally and the keyword arguments;
:class:`T` marks a keyword argument that is a table (converted to the engine like the
positional ones), ``AS_OF`` / ``TZ`` / ``START`` stand for the dataset's own values, ``QUARTER`` /
``QUARTER_START`` for the calendar quarter containing its as_of (markers inside tuples
are replaced too).
Derived inputs (the journey, a funnel table, a stage funnel, lead targets) are
computed once on pandas and then converted, so every engine gets identical input.

``REGISTRY`` must cover every public function of ``pipelinekit.journey``,
``pipelinekit.reporting.summary`` and ``pipelinekit.metrics.*`` (their ``__all__``)
except the helpers listed in ``NOT_METRICS`` with the reason;
``test_registry_lists_every_public_function`` fails when a new function is missing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

import pipelinekit.metrics
from pipelinekit import Dataset
from pipelinekit.journey import journey
from pipelinekit.metrics.funnel import FunnelExclusion
from pipelinekit.reporting.build import build_report
from pipelinekit.reporting.sections import SECTIONS, build_section

__all__ = ["NOT_METRICS", "REGISTRY", "Recipe", "T", "public_functions", "quarter_of"]


@dataclass(frozen=True)
class T:
    """A keyword argument that is a table of the dataset (or a derived table)."""

    name: str


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


AS_OF = _Marker("AS_OF")
TZ = _Marker("TZ")
START = _Marker("START")
TARGET_ACCOUNTS = _Marker("TARGET_ACCOUNTS")
#: The calendar quarter containing the dataset's as_of, as a (first, last) pair of
#: days, and its first day.
QUARTER = _Marker("QUARTER")
QUARTER_START = _Marker("QUARTER_START")


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter containing ``day``: (first day, last day)."""
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    after = date(first.year + (first.month > 9), (first.month + 2) % 12 + 1, 1)
    return first, after - timedelta(days=1)


@dataclass(frozen=True)
class Recipe:
    """How to call one public function on one dataset.

    ``tables`` are passed positionally (dataset or derived table names); with
    ``dataset=True`` the function takes the :class:`Dataset` itself.
    """

    tables: tuple[str, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    dataset: bool = False
    positional_as_of: bool = False
    label: str = ""


def _report(dataset: Dataset, *, as_of: date) -> Any:
    report = build_report(dataset, as_of=as_of)
    return {"summary": report.summary, "sections": report.sections}


def _section(key: str) -> Callable[..., Any]:
    def build(dataset: Dataset, as_of: date) -> Any:
        return build_section(key, dataset, as_of)

    return build


#: Extra entry points that are not in a module's ``__all__`` but must conform too.
EXTRA: dict[str, Callable[..., Any]] = {
    "reporting.build_report": _report,
    **{f"reporting.sections.{key}": _section(key) for key in SECTIONS},
}

_DAT = ("leads", "activities", "opportunities")
_ALL4 = ("accounts", "leads", "activities", "opportunities")
_BASE = {"as_of": AS_OF, "tz": TZ}

REGISTRY: dict[str, list[Recipe]] = {
    "journey.journey": [Recipe(_DAT, _BASE), Recipe(_DAT, {"tz": TZ}, label="no as_of")],
    "reporting.summary.summary": [Recipe(dataset=True, kwargs={"as_of": AS_OF})],
    "reporting.build_report": [Recipe(dataset=True, kwargs={"as_of": AS_OF})],
    # --- abm
    "metrics.abm.abm_before_after": [
        Recipe(
            _DAT,
            {**_BASE, "target_accounts": TARGET_ACCOUNTS, "start_date": START, "window_days": 30},
        )
    ],
    "metrics.abm.abm_summary": [
        Recipe(_ALL4, _BASE),
        Recipe(_ALL4, {**_BASE, "freq": "month", "by": "target_tier"}, label="month by tier"),
    ],
    "metrics.bdr.bdr_kpis": [
        Recipe(_ALL4, _BASE),
        Recipe(_ALL4, {**_BASE, "by": "owner_id", "freq": "week"}, label="owner x week"),
    ],
    "metrics.bdr.nurturing_kpis": [
        Recipe(_ALL4, {**_BASE, "freq": "quarter", "by": "target_tier"}),
    ],
    "metrics.abm.target_account_panel": [Recipe(_ALL4, _BASE)],
    "reporting.sections.abm": [Recipe(dataset=True, positional_as_of=True)],
    # --- activity
    "metrics.activity.activity_volume": [
        Recipe(("activities",), {**_BASE, "freq": "week"}),
        Recipe(("activities",), {**_BASE, "freq": None, "by": "channel"}, label="no freq"),
    ],
    "metrics.activity.call_connect_sql_chain": [
        Recipe(("activities", "opportunities"), {**_BASE, "freq": "month"}),
        Recipe(
            ("activities", "opportunities"),
            {**_BASE, "freq": "week", "direction": "outbound"},
            label="week outbound",
        ),
    ],
    "metrics.activity.connect_rate": [
        Recipe(("activities",), {**_BASE, "by": ("owner_id", "direction"), "freq": "month"}),
        Recipe(("activities",), {**_BASE, "by": "hour", "direction": "outbound"}, label="hour"),
        Recipe(("activities",), {**_BASE, "by": "weekday"}, label="weekday"),
        Recipe(
            ("activities",),
            {**_BASE, "by": "origin", "leads": T("leads")},
            label="by lead origin",
        ),
    ],
    "metrics.activity.email_engagement": [
        Recipe(("activities",), {**_BASE, "by": "owner_id", "freq": "month"}),
        Recipe(
            ("activities",),
            {**_BASE, "denominator": "leads", "by": "source", "leads": T("leads")},
            label="per lead",
        ),
    ],
    "metrics.approach.next_business_day_rate": [
        Recipe(("leads", "activities"), {**_BASE, "by": "owner_id", "freq": "month"}),
    ],
    "metrics.approach.same_day_approach_rate": [
        Recipe(("leads", "activities"), {**_BASE, "by": "owner_id", "freq": "week"}),
        Recipe(("leads", "activities"), {**_BASE, "origin": None}, label="all origins"),
    ],
    "metrics.approach.speed_to_lead": [
        Recipe(("leads", "activities"), {**_BASE, "freq": "month"}),
        Recipe(
            ("leads", "activities"),
            {**_BASE, "signal": "page_view_burst", "origin": None, "unit": "hours"},
            label="page-view burst",
        ),
        Recipe(
            ("leads", "activities"),
            {**_BASE, "signal": "form_submit", "by": (), "unit": "days"},
            label="form submit",
        ),
    ],
    "metrics.activity.talk_time": [
        Recipe(("activities",), {**_BASE, "freq": "week", "direction": "outbound"}),
    ],
    "reporting.sections.activity": [Recipe(dataset=True, positional_as_of=True)],
    # --- allocation
    "metrics.allocation.capacity_overruns": [Recipe(("reps", "opportunities"), _BASE)],
    "metrics.allocation.idle_capacity": [Recipe(("reps", "opportunities"), _BASE)],
    "metrics.allocation.sql_allocation": [
        Recipe(("reps", "opportunities"), _BASE),
        Recipe(("reps", "opportunities"), {**_BASE, "freq": "week"}, label="week"),
    ],
    "metrics.allocation.sql_concentration": [
        Recipe(("reps", "opportunities"), _BASE),
        Recipe(("reps", "opportunities"), {**_BASE, "freq": "quarter"}, label="quarter"),
    ],
    "reporting.sections.allocation": [Recipe(dataset=True, positional_as_of=True)],
    # --- assets
    "metrics.assets.lead_inflow": [
        Recipe(("leads",), {**_BASE, "freq": "week", "target": 3.0, "start": START}),
        Recipe(
            ("leads",),
            {**_BASE, "freq": "day", "target": 2, "business_days": True, "start": START},
            label="business days",
        ),
        Recipe(
            ("leads",),
            {**_BASE, "freq": "month", "target": T("targets"), "origin": "inbound"},
            label="target frame",
        ),
    ],
    "reporting.sections.assets": [Recipe(dataset=True, positional_as_of=True)],
    # --- cadence
    "metrics.cadence.cadence_compliance": [Recipe(("leads", "activities"), _BASE)],
    "metrics.cadence.cadence_summary": [
        Recipe(("leads", "activities"), {**_BASE, "freq": "month"}),
    ],
    "metrics.cadence.early_follow_up": [
        Recipe(("leads", "activities"), {**_BASE, "freq": "week"}),
    ],
    "metrics.cadence.early_follow_up_leads": [Recipe(("leads", "activities"), _BASE)],
    "reporting.sections.cadence": [Recipe(dataset=True, positional_as_of=True)],
    # --- campaigns
    "metrics.campaigns.campaign_alerts": [
        Recipe(("leads", "opportunities"), {**_BASE, "campaigns": T("campaigns")}),
    ],
    "metrics.campaigns.campaign_member_cvr": [Recipe(("leads", "opportunities"), _BASE)],
    "metrics.campaigns.campaign_performance": [
        Recipe(("leads", "opportunities"), {**_BASE, "campaigns": T("campaigns")}),
        Recipe(("leads", "opportunities"), {**_BASE, "freq": "month"}, label="month"),
    ],
    "reporting.sections.campaigns": [Recipe(dataset=True, positional_as_of=True)],
    # --- funnel
    "metrics.funnel.funnel": [
        Recipe(("journey",), _BASE),
        Recipe(("journey",), {**_BASE, "by": "origin", "freq": "month"}, label="origin x month"),
        Recipe(("journey",), {**_BASE, "mode": "strict", "window": 30}, label="strict window"),
        Recipe(("journey",), {**_BASE, "view": "period", "freq": "week"}, label="period view"),
        Recipe(
            ("journey",),
            {
                **_BASE,
                "by": ("industry", "product"),
                "accounts": T("accounts"),
                "opportunities": T("opportunities"),
            },
            label="account and opportunity breakdowns",
        ),
        Recipe(
            ("journey",),
            {
                **_BASE,
                "freq": "month",
                "activities": T("activities"),
                "exclusions": (
                    FunnelExclusion(
                        between=("touched", "connected"), channel="call", outcome="wrong_number"
                    ),
                    FunnelExclusion(between=("lead", "sql"), channel="email", outcome="bounced"),
                ),
                "step_windows": {"touched": 2, "sql": 30},
            },
            label="exclusions and step windows",
        ),
        Recipe(
            ("journey",),
            {
                **_BASE,
                "view": "period",
                "freq": "week",
                "activities": T("activities"),
                "exclusions": FunnelExclusion(between=("lead", "connected"), direction="inbound"),
                "step_windows": (None, 7, None, None, None),
            },
            label="period view with an exclusion",
        ),
    ],
    "metrics.funnel.bottleneck": [
        Recipe(("funnel_table",)),
        Recipe(("funnel_table",), {"by": "origin"}, label="by origin"),
    ],
    "reporting.sections.funnel": [Recipe(dataset=True, positional_as_of=True)],
    # --- mix
    "metrics.mix.origin_comparison": [Recipe(("leads", "opportunities"), _BASE)],
    "metrics.mix.sql_mix": [
        Recipe(("leads", "opportunities"), _BASE),
        Recipe(
            ("leads", "opportunities"),
            {**_BASE, "accounts": T("accounts"), "by": ("employee_band", "product")},
            label="bands",
        ),
    ],
    "reporting.sections.mix": [Recipe(dataset=True, positional_as_of=True)],
    # --- pipeline
    "metrics.outcomes.average_won_amount": [
        Recipe(("opportunities",), {**_BASE, "by": "product"}),
    ],
    "metrics.pipeline.open_pipeline": [
        Recipe(("opportunities",), {**_BASE, "stage_changes": T("stage_changes")}),
        Recipe(("opportunities",), {**_BASE, "by": ()}, label="total"),
    ],
    "metrics.outcomes.pipeline_velocity": [
        Recipe(("opportunities",), {**_BASE, "by": "product"}),
    ],
    "metrics.outcomes.sales_cycle": [Recipe(("opportunities",), {**_BASE, "by": "product"})],
    "metrics.pipeline.stale_opportunities": [
        Recipe(("activities", "opportunities"), {**_BASE, "stage_changes": T("stage_changes")}),
    ],
    "metrics.pipeline.time_in_stage": [Recipe(("stage_changes",), _BASE)],
    "metrics.pipeline.weighted_pipeline": [Recipe(("opportunities",), _BASE)],
    "metrics.outcomes.win_rate": [
        Recipe(("opportunities",), {**_BASE, "by": "product"}),
        Recipe(("opportunities",), {**_BASE, "weight": "amount"}, label="amount"),
        Recipe(
            ("opportunities",),
            {
                **_BASE,
                "leads": T("leads"),
                "accounts": T("accounts"),
                "by": ("source", "employee_band"),
            },
            label="lead and account attributes",
        ),
    ],
    # deprecated alias of win_rate(leads=, accounts=, by=)
    "metrics.outcomes.win_rate_by": [
        Recipe(
            ("opportunities",),
            {
                **_BASE,
                "leads": T("leads"),
                "accounts": T("accounts"),
                "by": ("source", "employee_band"),
            },
        ),
        Recipe(("opportunities",), {**_BASE, "by": "amount_band"}, label="amount band"),
    ],
    "reporting.sections.pipeline": [Recipe(dataset=True, positional_as_of=True)],
    # --- queues
    "metrics.queues.do_not_pursue_review": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.focus_due": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.hot_leads": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.overdue_next_activity": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.queue_counts": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.recycle_due": [Recipe(("leads", "activities"), _BASE)],
    "metrics.queues.recycle_reasons": [
        Recipe(("leads",), {**_BASE, "freq": "month", "by": "owner_id"}),
    ],
    "metrics.queues.untouched_inbound": [
        Recipe(("leads", "activities"), _BASE),
        Recipe(("leads", "activities"), {**_BASE, "lookback_days": 30}, label="lookback"),
    ],
    "reporting.sections.queues": [Recipe(dataset=True, positional_as_of=True)],
    # --- scoring
    "metrics.scoring.account_fit_scores": [
        Recipe(("accounts", "opportunities"), {**_BASE, "leads": T("leads")}),
    ],
    "metrics.scoring.target_suggestions": [
        Recipe(("accounts", "opportunities"), {**_BASE, "leads": T("leads"), "top": 10}),
    ],
    # --- stages
    "metrics.stages.stage_funnel": [
        Recipe(("opportunities",), {**_BASE, "stage_changes": T("stage_changes")}),
        Recipe(
            ("opportunities",),
            {**_BASE, "stage_changes": T("stage_changes"), "mode": "strict", "by": "product"},
            label="strict by product",
        ),
        Recipe(("opportunities",), {"tz": TZ}, label="current stage only"),
    ],
    "metrics.stages.stage_bottleneck": [Recipe(("stage_table",))],
    # --- conversion over time: curves, transitions, attribution, velocity
    "metrics.curves.conversion_curve": [
        Recipe(("leads", "opportunities"), {**_BASE, "horizon": 40}),
        Recipe(
            ("leads", "opportunities"),
            {**_BASE, "stage": "won", "competing": "lost", "by": "origin", "horizon": 60},
            label="won vs lost by origin",
        ),
        Recipe(
            ("leads", "opportunities"),
            {**_BASE, "stage": "valid", "freq": None, "horizon": 20},
            label="valid, all leads",
        ),
    ],
    "metrics.curves.conversion_curve_summary": [
        Recipe(("leads", "opportunities"), {**_BASE, "by": "origin"}),
        Recipe(
            ("leads", "opportunities"),
            {**_BASE, "stage": "won", "competing": "lost", "freq": "quarter", "horizon": 120},
            label="won vs lost by quarter",
        ),
    ],
    "metrics.transitions.stage_transitions": [
        Recipe(("stage_changes",), _BASE),
        Recipe(
            ("stage_changes",),
            {**_BASE, "opportunities": T("opportunities"), "by": "product"},
            label="by product",
        ),
    ],
    "metrics.transitions.stage_win_probability": [
        Recipe(("stage_changes",), {**_BASE, "opportunities": T("opportunities")}),
        Recipe(
            ("stage_changes",),
            {**_BASE, "opportunities": T("opportunities"), "by": "product"},
            label="by product",
        ),
    ],
    "metrics.transitions.win_probability_calibration": [
        Recipe(("opportunities", "stage_changes"), _BASE),
    ],
    "metrics.attribution.opportunity_attribution": [
        Recipe(("leads", "opportunities"), {**_BASE, "campaign_members": T("campaign_members")}),
        Recipe(("leads", "opportunities"), {**_BASE, "lookback": None}, label="fallback"),
    ],
    "metrics.attribution.campaign_attribution": [
        Recipe(("leads", "opportunities"), {**_BASE, "campaign_members": T("campaign_members")}),
        Recipe(
            ("leads", "opportunities"),
            {
                **_BASE,
                "campaign_members": T("campaign_members"),
                "freq": "quarter",
                "period_column": "closed_at",
                "by": "product",
                "lookback": 30,
                "half_life": 3.5,
            },
            label="by closed quarter and product",
        ),
        Recipe(("leads", "opportunities"), _BASE, label="fallback"),
    ],
    "metrics.velocity.lead_velocity_rate": [
        Recipe(("leads", "opportunities"), _BASE),
        Recipe(
            ("leads", "opportunities"),
            {**_BASE, "stage": "valid", "partial": "prorate", "by": "origin"},
            label="valid prorated by origin",
        ),
    ],
    "reporting.sections.conversion": [Recipe(dataset=True, positional_as_of=True)],
    # --- pipeline history
    "metrics.history.pipeline_snapshot": [
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "on": AS_OF,
                "tz": TZ,
                "by": "owner_id",
                "stage_changes": T("stage_changes"),
            },
        ),
        Recipe(
            ("opportunities",),
            {"history": T("opportunity_history"), "on": (START, AS_OF), "freq": "month", "tz": TZ},
            label="monthly",
        ),
        Recipe(("opportunities",), {"on": QUARTER, "freq": "week", "tz": TZ}, label="no history"),
    ],
    "metrics.history.pipeline_trend": [
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "on": (START, AS_OF),
                "freq": "week",
                "by": "stage",
                "tz": TZ,
            },
        ),
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "on": QUARTER,
                "freq": "day",
                "close_period": QUARTER,
                "by": ("owner_id", "forecast_category"),
                "stage_changes": T("stage_changes"),
                "tz": TZ,
            },
            label="quarter by owner and category",
        ),
    ],
    "metrics.history.pipeline_movement": [
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "start": QUARTER_START,
                "end": AS_OF,
                "close_period": QUARTER,
                "tz": TZ,
            },
        ),
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "start": START,
                "end": AS_OF,
                "close_period": QUARTER,
                "by": "owner_id",
                "stage_changes": T("stage_changes"),
                "tz": TZ,
            },
            label="by owner from start",
        ),
    ],
    "metrics.history.pipeline_movement_deals": [
        Recipe(
            ("opportunities",),
            {
                "history": T("opportunity_history"),
                "start": QUARTER_START,
                "end": AS_OF,
                "close_period": QUARTER,
                "tz": TZ,
            },
        ),
        Recipe(
            ("opportunities",),
            {"start": START, "end": AS_OF, "close_period": QUARTER, "by": "product", "tz": TZ},
            label="no history by product",
        ),
    ],
    "reporting.sections.history": [Recipe(dataset=True, positional_as_of=True)],
    # --- targets
    "metrics.targets.quota_attainment": [
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "activities": T("activities"),
                "reps": T("reps"),
                "history": T("opportunity_history"),
                "stage_changes": T("stage_changes"),
                "as_of": AS_OF,
                "tz": TZ,
            },
        ),
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "activities": T("activities"),
                "reps": T("reps"),
                "as_of": AS_OF,
                "rollup": ("team", "period_start"),
                "pace": "business_days",
                "zero_division": "0",
                "tz": TZ,
            },
            label="by team and period, business days",
        ),
    ],
    "metrics.targets.pipeline_coverage": [
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "reps": T("reps"),
                "history": T("opportunity_history"),
                "as_of": AS_OF,
                "tz": TZ,
            },
        ),
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "reps": T("reps"),
                "as_of": AS_OF,
                "exclude_categories": ("omitted",),
                "win_rate_days": 90,
                "rollup": "metric",
                "tz": TZ,
            },
            label="rolled up without omitted",
        ),
    ],
    "metrics.targets.forecast_accuracy": [
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "reps": T("reps"),
                "history": T("opportunity_history"),
                "stage_changes": T("stage_changes"),
                "as_of": AS_OF,
                "tz": TZ,
            },
        ),
        Recipe(
            ("quotas",),
            {
                "opportunities": T("opportunities"),
                "reps": T("reps"),
                "history": T("opportunity_history"),
                "as_of": AS_OF,
                "days_before": 7,
                "forecast": "weighted",
                "rollup": "period_start",
                "tz": TZ,
            },
            label="weighted, a week before, by period",
        ),
    ],
    "reporting.sections.targets": [Recipe(dataset=True, positional_as_of=True)],
}

#: Public functions that are not metric functions on frames, and why.
NOT_METRICS: dict[str, str] = {
    "metrics.allocation.capacity_expr": "returns a narwhals expression",
    "metrics.allocation.check_capacity_bands": "parameter validation on a mapping",
    "metrics.allocation.monthly_capacity": "narwhals-level building block (lazy frames in)",
    "metrics.campaigns.two_proportion_z_test": "pure-Python statistics on four numbers",
    "metrics.funnel.bottleneck_frames": "narwhals-level building block of bottleneck",
    "metrics.funnel.funnel_frames": "narwhals-level building block of funnel",
    "metrics.scoring.revenue_band": "returns a narwhals expression",
}


def public_functions() -> dict[str, Callable[..., Any]]:
    """Every function in the ``__all__`` of journey, summary and each metrics module."""
    modules = ["pipelinekit.journey", "pipelinekit.reporting.summary"] + [
        f"pipelinekit.metrics.{info.name}"
        for info in pkgutil.iter_modules(pipelinekit.metrics.__path__)
        if not info.name.startswith("_")
    ]
    found: dict[str, Callable[..., Any]] = {}
    for name in modules:
        module = importlib.import_module(name)
        short = name.removeprefix("pipelinekit.")
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                found[f"{short}.{attr}"] = obj
    return found


def resolve(name: str) -> Callable[..., Any]:
    """The callable registered under ``name``."""
    if name in EXTRA:
        return EXTRA[name]
    return public_functions()[name]


# --- derived inputs -------------------------------------------------------------------


def derived_tables(tables: Mapping[str, pd.DataFrame], *, as_of: date, tz: str) -> dict[str, Any]:
    """Inputs computed from the dataset on pandas (then converted like the tables)."""
    funnel_module = importlib.import_module("pipelinekit.metrics.funnel")
    stages_module = importlib.import_module("pipelinekit.metrics.stages")
    j = journey(tables["leads"], tables["activities"], tables["opportunities"], as_of=as_of, tz=tz)
    funnel_table = funnel_module.funnel(j, by="origin", as_of=as_of, tz=tz)
    stage_table = stages_module.stage_funnel(
        tables["opportunities"], stage_changes=tables["stage_changes"], as_of=as_of, tz=tz
    )
    start = (as_of - timedelta(days=120)).replace(day=1)
    targets = pd.DataFrame(
        {
            "period": pd.date_range(start, as_of, freq="MS").astype("datetime64[us]"),
        }
    )
    targets["target"] = [float(5 + 3 * i) for i in range(len(targets))]
    return {
        "journey": j,
        "funnel_table": funnel_table,
        "stage_table": stage_table,
        "targets": targets,
    }
