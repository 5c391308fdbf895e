"""pipelinekit: sales-pipeline KPI calculations for inside-sales and field-sales teams.

Typed domain objects and canonical tables feed pure, frame-agnostic functions:
funnel and conversion rates, activity and connect KPIs, 5C2M cadence compliance,
work queues, SQL allocation, SQL mix, ABM, campaigns and pipeline KPIs.

>>> import pipelinekit as pk
>>> ds = pk.sample_dataset()
>>> report = pk.report(ds, as_of="2025-12-31")
>>> sorted(report.summary)[:3]
['call_connect_rate', 'calls', 'cadence_5c2m_rate']
"""

from __future__ import annotations

__version__ = "0.1.0"

from pipelinekit.dataset import Dataset, read_dataset, sample_dataset
from pipelinekit.domain import (
    Account,
    ActionStatus,
    Activity,
    Campaign,
    Channel,
    Direction,
    Lead,
    Opportunity,
    Origin,
    Outcome,
    Priority,
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
from pipelinekit.metrics import *  # noqa: F403  (the metric functions, listed in metrics.__all__)
from pipelinekit.metrics import __all__ as _metrics_all
from pipelinekit.rates import Rate, rate, wilson_interval
from pipelinekit.reporting import Report, summary
from pipelinekit.reporting import build_report as report
from pipelinekit.schema import TABLES, from_objects, to_objects

__all__ = [
    *_metrics_all,
    "TABLES",
    "Account",
    "ActionStatus",
    "Activity",
    "Campaign",
    "Channel",
    "ConfigError",
    "Dataset",
    "Direction",
    "Lead",
    "Opportunity",
    "Origin",
    "Outcome",
    "PipelineKitError",
    "Priority",
    "Problem",
    "Rate",
    "Rep",
    "Report",
    "Role",
    "SchemaError",
    "StageChange",
    "UnsupportedEngineError",
    "__version__",
    "from_objects",
    "journey",
    "rate",
    "read_dataset",
    "report",
    "sample_dataset",
    "summary",
    "to_objects",
    "wilson_interval",
]
