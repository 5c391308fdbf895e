"""pipelinekit: sales-pipeline KPI calculations for inside-sales and field-sales teams.

Typed domain objects and canonical tables feed pure, frame-agnostic functions:
funnel and conversion rates, activity and connect KPIs, 5C2M cadence compliance,
work queues, SQL allocation, SQL mix, ABM, campaigns and pipeline KPIs, conversion
over time (cohort curves, stage-to-win probabilities, campaign attribution) and
pipeline history (the pipeline on any past day, its trend and a period's waterfall).

>>> import pipelinekit as pk
>>> ds = pk.sample_dataset()
>>> report = pk.report(ds, as_of="2025-12-31")
>>> sorted(report.summary)[:3]
['cadence_5c2m_rate', 'call_connect_rate', 'calls']
"""

from __future__ import annotations

__version__ = "0.1.0"

from pipelinekit.dataset import Dataset, read_dataset, sample_dataset
from pipelinekit.domain import (
    Account,
    ActionStatus,
    Activity,
    Campaign,
    CampaignMember,
    Channel,
    Direction,
    ForecastCategory,
    Lead,
    Opportunity,
    OpportunityHistory,
    Origin,
    Outcome,
    Priority,
    Quota,
    QuotaMetric,
    Rep,
    Role,
    StageChange,
)
from pipelinekit.errors import (
    ConfigError,
    PipelineKitError,
    Problem,
    SchemaError,
    UnsupportedEngineError,
)
from pipelinekit.journey import journey
from pipelinekit.metrics.abm import (
    abm_before_after,
    abm_summary,
    target_account_panel,
)
from pipelinekit.metrics.activity import (
    activity_volume,
    call_connect_sql_chain,
    connect_rate,
    email_engagement,
    talk_time,
)
from pipelinekit.metrics.allocation import idle_capacity, sql_allocation, sql_concentration
from pipelinekit.metrics.approach import (
    next_business_day_rate,
    same_day_approach_rate,
    speed_to_lead,
)
from pipelinekit.metrics.assets import lead_inflow
from pipelinekit.metrics.attribution import campaign_attribution, opportunity_attribution
from pipelinekit.metrics.bdr import (
    bdr_kpis,
    nurturing_kpis,
)
from pipelinekit.metrics.cadence import (
    Cadence,
    cadence_compliance,
    cadence_summary,
    early_follow_up,
    early_follow_up_leads,
)
from pipelinekit.metrics.campaigns import (
    campaign_alerts,
    campaign_member_cvr,
    campaign_performance,
    two_proportion_z_test,
)
from pipelinekit.metrics.curves import conversion_curve, conversion_curve_summary
from pipelinekit.metrics.funnel import FunnelExclusion, bottleneck, funnel
from pipelinekit.metrics.history import (
    pipeline_movement,
    pipeline_movement_deals,
    pipeline_snapshot,
    pipeline_trend,
)
from pipelinekit.metrics.mix import origin_comparison, sql_mix
from pipelinekit.metrics.outcomes import (
    average_won_amount,
    pipeline_velocity,
    sales_cycle,
    win_rate,
    win_rate_by,
)
from pipelinekit.metrics.pipeline import (
    open_pipeline,
    stale_opportunities,
    time_in_stage,
    weighted_pipeline,
)
from pipelinekit.metrics.queues import (
    do_not_pursue_review,
    focus_due,
    hot_leads,
    overdue_next_activity,
    queue_counts,
    recycle_due,
    recycle_reasons,
    untouched_inbound,
)
from pipelinekit.metrics.scoring import account_fit_scores, target_suggestions
from pipelinekit.metrics.stages import stage_bottleneck, stage_funnel
from pipelinekit.metrics.targets import forecast_accuracy, pipeline_coverage, quota_attainment
from pipelinekit.metrics.transitions import (
    stage_transitions,
    stage_win_probability,
    win_probability_calibration,
)
from pipelinekit.metrics.velocity import lead_velocity_rate
from pipelinekit.rates import Rate, rate, wilson_interval
from pipelinekit.reporting import Note, Report, kpi_table, latest_date, summary, write_tables
from pipelinekit.reporting import build_report as report
from pipelinekit.schema import TABLES, from_objects, to_objects

__all__ = [
    "TABLES",
    "Account",
    "ActionStatus",
    "Activity",
    "Cadence",
    "Campaign",
    "CampaignMember",
    "Channel",
    "ConfigError",
    "Dataset",
    "Direction",
    "ForecastCategory",
    "FunnelExclusion",
    "Lead",
    "Note",
    "Opportunity",
    "OpportunityHistory",
    "Origin",
    "Outcome",
    "PipelineKitError",
    "Priority",
    "Problem",
    "Quota",
    "QuotaMetric",
    "Rate",
    "Rep",
    "Report",
    "Role",
    "SchemaError",
    "StageChange",
    "UnsupportedEngineError",
    "__version__",
    "abm_before_after",
    "abm_summary",
    "account_fit_scores",
    "activity_volume",
    "average_won_amount",
    "bdr_kpis",
    "bottleneck",
    "cadence_compliance",
    "cadence_summary",
    "call_connect_sql_chain",
    "campaign_alerts",
    "campaign_attribution",
    "campaign_member_cvr",
    "campaign_performance",
    "connect_rate",
    "conversion_curve",
    "conversion_curve_summary",
    "do_not_pursue_review",
    "early_follow_up",
    "early_follow_up_leads",
    "email_engagement",
    "focus_due",
    "forecast_accuracy",
    "from_objects",
    "funnel",
    "hot_leads",
    "idle_capacity",
    "journey",
    "kpi_table",
    "latest_date",
    "lead_inflow",
    "lead_velocity_rate",
    "next_business_day_rate",
    "nurturing_kpis",
    "open_pipeline",
    "opportunity_attribution",
    "origin_comparison",
    "overdue_next_activity",
    "pipeline_coverage",
    "pipeline_movement",
    "pipeline_movement_deals",
    "pipeline_snapshot",
    "pipeline_trend",
    "pipeline_velocity",
    "queue_counts",
    "quota_attainment",
    "rate",
    "read_dataset",
    "recycle_due",
    "recycle_reasons",
    "report",
    "sales_cycle",
    "same_day_approach_rate",
    "sample_dataset",
    "speed_to_lead",
    "sql_allocation",
    "sql_concentration",
    "sql_mix",
    "stage_bottleneck",
    "stage_funnel",
    "stage_transitions",
    "stage_win_probability",
    "stale_opportunities",
    "summary",
    "talk_time",
    "target_account_panel",
    "target_suggestions",
    "time_in_stage",
    "to_objects",
    "two_proportion_z_test",
    "untouched_inbound",
    "weighted_pipeline",
    "wilson_interval",
    "win_probability_calibration",
    "win_rate",
    "win_rate_by",
    "write_tables",
]
