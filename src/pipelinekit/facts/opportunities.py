"""Opportunity facts: each opportunity's state as of a day, and its resolved account.

One home for what the journey, ABM, pipeline, scoring and the summary all need
(DESIGN sections 3, 4 and 7):

- **State as of the end of a day** (:func:`opportunity_state`): opportunities created
  before the cut-off, with ``validated_at`` and ``closed_at`` that fall on or after it
  treated as not (yet) happened, and 0/1 flags ``valid_flag``, ``closed_flag``,
  ``won_flag`` (``is_won`` and closed), ``lost_flag`` (closed and not won) and
  ``open_flag`` (not closed).
- **Account resolution** (:func:`with_resolved_account`): an opportunity's account is
  its own ``account_id``, else its lead's ``account_id``.
- **Target accounts** (:func:`with_target_flag`): ``target_flag`` 1 when that account
  is an ABM target (``is_target`` true; missing counts as false).

Examples
--------
>>> import pandas as pd, narwhals as nw
>>> from datetime import datetime
>>> opps = nw.from_native(pd.DataFrame({"opportunity_id": ["O1", "O2"],
...     "created_at": pd.to_datetime(["2025-03-01", "2025-03-02"]),
...     "validated_at": pd.to_datetime(["2025-03-05", None]),
...     "closed_at": pd.to_datetime(["2025-04-02", "2025-03-20"]),
...     "is_won": [True, False], "amount": [100.0, None]})).lazy()
>>> state = opportunity_state(opps, cutoff=datetime(2025, 4, 1)).collect()
>>> state.select("opportunity_id", "won_flag", "lost_flag", "open_flag").rows()
[('O1', 0, 0, 1), ('O2', 0, 1, 0)]
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from pipelinekit._exprs import flag

__all__ = [
    "STATE_FLAGS",
    "lead_accounts",
    "opportunity_state",
    "with_resolved_account",
    "with_target_flag",
]

#: The 0/1 flag columns :func:`opportunity_state` adds.
STATE_FLAGS = ("valid_flag", "closed_flag", "won_flag", "lost_flag", "open_flag")


def opportunity_state(
    opportunities: nw.LazyFrame[Any], *, cutoff: datetime | None
) -> nw.LazyFrame[Any]:
    """Opportunities created before ``cutoff`` with their state at it.

    ``validated_at`` and ``closed_at`` on or after ``cutoff`` become null (not yet
    happened); ``cutoff=None`` keeps every row and value. Adds :data:`STATE_FLAGS`
    (Int64 0/1). Timestamps must already be naive local time.
    """
    has_validated = "validated_at" in opportunities.collect_schema().names()
    frame = opportunities
    if cutoff is not None:
        frame = frame.filter(nw.col("created_at") < cutoff)
        undone = [nw.when(nw.col("closed_at") < cutoff).then(nw.col("closed_at"))]
        if has_validated:
            undone.append(nw.when(nw.col("validated_at") < cutoff).then(nw.col("validated_at")))
        frame = frame.with_columns(*undone)
    closed = ~nw.col("closed_at").is_null()
    won = nw.col("is_won").fill_null(value=False)
    valid = ~nw.col("validated_at").is_null() if has_validated else nw.lit(value=False)
    return frame.with_columns(
        flag(valid).alias("valid_flag"),
        flag(closed).alias("closed_flag"),
        flag(closed & won).alias("won_flag"),
        flag(closed & ~won).alias("lost_flag"),
        flag(~closed).alias("open_flag"),
    )


def lead_accounts(leads: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """``lead_id`` -> ``lead_account_id`` and ``lead_owner_id`` (leads with an id)."""
    return leads.filter(~nw.col("lead_id").is_null()).select(
        nw.col("lead_id"),
        nw.col("account_id").cast(nw.String()).alias("lead_account_id"),
        nw.col("owner_id").cast(nw.String()).alias("lead_owner_id"),
    )


def with_resolved_account(
    frame: nw.LazyFrame[Any], leads: nw.LazyFrame[Any] | None, *, name: str = "resolved_account_id"
) -> nw.LazyFrame[Any]:
    """Add ``name``: the row's own ``account_id``, else its lead's ``account_id``.

    ``frame`` needs ``lead_id`` and ``account_id``; with ``leads=None`` only the row's
    own account is used.
    """
    own = nw.col("account_id").cast(nw.String())
    if leads is None:
        return frame.with_columns(own.alias(name))
    lookup = lead_accounts(leads).select("lead_id", "lead_account_id")
    return (
        frame.join(lookup, on="lead_id", how="left")
        .with_columns(nw.coalesce(own, nw.col("lead_account_id")).alias(name))
        .drop("lead_account_id")
    )


def with_target_flag(
    frame: nw.LazyFrame[Any], accounts: nw.LazyFrame[Any], *, on: str = "resolved_account_id"
) -> nw.LazyFrame[Any]:
    """Add ``target_flag`` (Int64 0/1): the account in column ``on`` is an ABM target.

    A missing ``is_target`` counts as not a target (DESIGN section 2 default false).
    """
    targets = (
        accounts.filter(nw.col("is_target").fill_null(value=False))
        .select(
            nw.col("account_id").cast(nw.String()).alias(on),
            nw.lit(1).cast(nw.Int64).alias("target_flag"),
        )
        .unique([on])
    )
    return frame.join(targets, on=on, how="left").with_columns(
        nw.col("target_flag").fill_null(0).cast(nw.Int64)
    )
