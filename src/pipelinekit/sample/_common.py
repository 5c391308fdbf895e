"""Array aliases, time units and the column order of every generated table."""

from __future__ import annotations

import importlib.util
from typing import Any, Final

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Codes = npt.NDArray[np.integer[Any]]  # any integer codes / indices, -1 = missing

_DAY: Final = 86_400
_HOUR: Final = 3_600
_MINUTE: Final = 60

# --------------------------------------------------------------------------- schema

_TABLE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "accounts": (
        "account_id",
        "name",
        "industry",
        "region",
        "employees",
        "annual_revenue",
        "is_target",
        "target_tier",
    ),
    "reps": ("rep_id", "name", "role", "segment", "monthly_sql_capacity", "team"),
    "campaigns": ("campaign_id", "name", "channel", "started_on"),
    "leads": (
        "lead_id",
        "account_id",
        "owner_id",
        "created_at",
        "origin",
        "source",
        "campaign_id",
        "action_status",
        "priority",
        "next_activity_on",
        "recycle_on",
        "recycle_reason",
        "department",
        "title",
    ),
    "activities": (
        "activity_id",
        "lead_id",
        "account_id",
        "owner_id",
        "occurred_at",
        "channel",
        "direction",
        "outcome",
        "duration_s",
        "is_key_person",
    ),
    "opportunities": (
        "opportunity_id",
        "lead_id",
        "account_id",
        "owner_id",
        "created_at",
        "origin",
        "validated_at",
        "stage",
        "closed_at",
        "is_won",
        "amount",
        "quantity",
        "first_meeting_attendees",
        "probability",
        "product",
        "campaign_id",
        "expected_close_on",
        "forecast_category",
    ),
    "stage_changes": ("opportunity_id", "stage", "entered_at"),
    "campaign_members": ("lead_id", "campaign_id", "responded_at"),
    "opportunity_history": (
        "opportunity_id",
        "changed_at",
        "stage",
        "amount",
        "expected_close_on",
        "probability",
        "forecast_category",
    ),
    "quotas": ("owner_id", "team", "period_start", "period_end", "metric", "target"),
}
"""Column order of every generated table (DESIGN sections 2, 7 and 8)."""

_DATE_COLUMNS: Final = frozenset(
    {
        "next_activity_on",
        "recycle_on",
        "started_on",
        "expected_close_on",
        "period_start",
        "period_end",
    }
)

# pyarrow (optional) builds the big string columns and writes CSV/Parquet fast;
# without it the same frames are built with numpy and CSV is written by pandas.
#: Whether pyarrow builds the frames (patched to False in tests to check the fallback).
USE_ARROW = importlib.util.find_spec("pyarrow") is not None
