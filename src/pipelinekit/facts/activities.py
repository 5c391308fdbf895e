"""The per-activity fact: every activity with its flags, local calendar fields and the
columns of its lead, computed once (DESIGN sections 3 and 6).

Flags are Boolean columns (never null) holding the definitions of DESIGN section 3, so
no metric compares the ``channel`` / ``direction`` / ``outcome`` strings again:

==========================  =================================================
``is_call``                 a call, either direction
``is_outbound``             direction ``outbound``
``is_touch``                an outbound call, email or meeting (any outcome)
``is_connect``              connected call, replied email or held meeting
``is_outbound_call``        an outbound call (likewise ``_email``, ``_meeting``)
``is_connected_call``       a call with outcome ``connected``
``is_email_delivered``      an outbound email not bounced
``is_email_opened``         delivered, outcome opened / clicked / replied
``is_email_clicked``        delivered, outcome clicked / replied
``is_email_replied``        delivered, outcome replied
``is_key_person_connect``   a connect with ``is_key_person`` true
==========================  =================================================

Calendar fields of ``occurred_at`` (naive local time): ``day`` (midnight),
``hour`` (0-23) and ``weekday`` (ISO, 1 = Monday). With the leads table, the lead's
``lead_created_at``, ``lead_origin``, ``lead_owner_id`` and ``lead_account_id`` are
joined on ``lead_id`` (every lead, whatever its creation date), and
``account_key`` is the activity's own ``account_id``, else its lead's.

Examples
--------
>>> import pandas as pd
>>> acts = nw.from_native(pd.DataFrame({"lead_id": ["L1", "L1"],
...     "channel": ["call", "email"], "direction": ["outbound", "outbound"],
...     "outcome": ["connected", "bounced"],
...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-02 09:00"])})).lazy()
>>> out = activity_facts(acts, cutoff=None).collect()
>>> out["is_connect"].to_list(), out["is_email_delivered"].to_list(), out["hour"].to_list()
([True, False], [False, False], [10, 9])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import (
    connect,
    email_reached,
    is_call,
    is_email_delivered,
    is_outbound,
    require_columns,
    touch,
)

__all__ = [
    "ACTIVITY_FLAGS",
    "LEAD_COLUMNS",
    "activity_facts",
]

_OPTIONAL_FALSE = ("is_key_person",)


def _eq(column: str, value: str) -> nw.Expr:
    return (nw.col(column) == value).fill_null(value=False)


#: Flag name -> predicate (DESIGN section 3), evaluated once per activity.
ACTIVITY_FLAGS: Mapping[str, Callable[[], nw.Expr]] = {
    "is_call": is_call,
    "is_outbound": lambda: _eq("direction", "outbound"),
    "is_touch": touch,
    "is_connect": connect,
    "is_outbound_call": lambda: is_outbound("call"),
    "is_outbound_email": lambda: is_outbound("email"),
    "is_outbound_meeting": lambda: is_outbound("meeting"),
    "is_connected_call": lambda: is_call() & _eq("outcome", "connected"),
    "is_email_delivered": is_email_delivered,
    "is_email_opened": lambda: email_reached(("opened", "clicked", "replied")),
    "is_email_clicked": lambda: email_reached(("clicked", "replied")),
    "is_email_replied": lambda: email_reached(("replied",)),
    "is_key_person_connect": lambda: connect() & nw.col("is_key_person").fill_null(value=False),
}

#: Lead columns joined onto each activity: lead column -> fact column.
LEAD_COLUMNS: Mapping[str, str] = {
    "created_at": "lead_created_at",
    "origin": "lead_origin",
    "owner_id": "lead_owner_id",
    "account_id": "lead_account_id",
}


def activity_facts(
    activities: nw.LazyFrame[Any],
    leads: nw.LazyFrame[Any] | None = None,
    *,
    cutoff: datetime | None,
) -> nw.LazyFrame[Any]:
    """Activities before ``cutoff`` with their flags, calendar fields and lead columns.

    ``activities`` (and ``leads``) must already have naive local timestamps. Optional
    columns the flags read (``is_key_person``) count as false when absent; lead
    columns absent from ``leads`` are joined as nulls.
    """
    require_columns(activities, "activities", ["occurred_at", "channel", "direction", "outcome"])
    names = activities.collect_schema().names()
    frame = activities
    if cutoff is not None:
        frame = frame.filter(nw.col("occurred_at") < cutoff)
    missing = [nw.lit(value=False).alias(c) for c in _OPTIONAL_FALSE if c not in names]
    for column in ("lead_id", "account_id", "owner_id"):
        if column not in names:
            missing.append(nw.lit(None, nw.String()).alias(column))
    if missing:
        frame = frame.with_columns(*missing)
    occurred = nw.col("occurred_at")
    frame = frame.with_columns(
        *[
            predicate().fill_null(value=False).alias(name)
            for name, predicate in ACTIVITY_FLAGS.items()
        ],
        occurred.dt.truncate("1d").cast(nw.Datetime("us")).alias("day"),
        occurred.dt.hour().cast(nw.Int64).alias("hour"),
        _compat.iso_weekday(occurred).cast(nw.Int64).alias("weekday"),
    )
    if leads is None:
        return frame
    lead_names = leads.collect_schema().names()
    lookup = leads.filter(~nw.col("lead_id").is_null()).select(
        nw.col("lead_id"),
        *[
            (nw.col(source) if source in lead_names else nw.lit(None)).alias(target)
            for source, target in LEAD_COLUMNS.items()
        ],
    )
    lookup = lookup.with_columns(
        nw.col("lead_created_at").cast(nw.Datetime("us")),
        *[nw.col(c).cast(nw.String()) for c in ("lead_origin", "lead_owner_id", "lead_account_id")],
    )
    joined = frame.join(lookup, on="lead_id", how="left")
    return joined.with_columns(
        nw.coalesce(nw.col("account_id").cast(nw.String()), nw.col("lead_account_id")).alias(
            "account_key"
        )
    )
