"""The lead journey: one row per lead with its stage timestamps and activity counts.

Every funnel and conversion metric starts from this table (DESIGN section 3).

Columns added to the lead's own columns:

=====================  ==============================================================
``first_touch_at``     earliest outbound call, email or meeting (any outcome; it may
                       precede ``created_at``)
``first_connect_at``   earliest connect: connected call, replied email, held meeting
``sql_at``             earliest opportunity ``created_at`` (the SQL hand-off)
``validated_at``       earliest ``validated_at`` of its opportunities
``won_at``             earliest ``closed_at`` of its won opportunities
``won_amount``         sum of ``amount`` over its won opportunities (0.0 if none)
``opportunity_count``  opportunities created from the lead
``touch_count``        outbound calls + emails + meetings
``call_count``         outbound calls
``email_count``        outbound emails
``meeting_count``      outbound meetings
``connect_count``      connects, either direction
=====================  ==============================================================

With ``as_of``, rows dated after the end of that day are ignored: leads created,
activities occurred and opportunities created later are dropped, and validation or
closing after it is treated as not (yet) happened.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pipelinekit import _compat
from pipelinekit.facts.journey import JOURNEY_COLUMNS, journey_frames
from pipelinekit.types import DEFAULT_TZ, AsOf

__all__ = ["JOURNEY_COLUMNS", "journey"]

FrameT = TypeVar("FrameT")


def journey(
    leads: FrameT,
    activities: Any,
    opportunities: Any,
    *,
    as_of: AsOf | None = None,
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """One row per lead with stage timestamps and activity counts.

    Parameters
    ----------
    leads, activities, opportunities
        Canonical tables (any supported frame library, all the same one).
    as_of
        Ignore everything after the end of this day. ``None`` keeps every row.
    tz
        Dataset time zone; tz-aware timestamp columns are converted to it.

    Returns
    -------
    Frame of the caller's kind: the lead columns followed by :data:`JOURNEY_COLUMNS`,
    sorted by ``lead_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "origin": ["inbound", "outbound"],
    ...     "created_at": pd.to_datetime(["2025-04-01 09:00", "2025-04-02 10:00"])})
    >>> acts = pd.DataFrame({"lead_id": ["L1", "L1"], "channel": ["call", "call"],
    ...     "direction": ["outbound", "outbound"], "outcome": ["no_answer", "connected"],
    ...     "occurred_at": pd.to_datetime(["2025-04-01 10:00", "2025-04-02 11:00"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "amount": [1e6], "is_won": [True],
    ...     "created_at": pd.to_datetime(["2025-04-03"]), "validated_at": [pd.NaT],
    ...     "closed_at": pd.to_datetime(["2025-05-01"])})
    >>> j = journey(leads, acts, opps)
    >>> j[["lead_id", "touch_count", "connect_count", "won_amount"]]
      lead_id  touch_count  connect_count  won_amount
    0      L1            2              1   1000000.0
    1      L2            0              0         0.0
    """
    (lf_leads, lf_acts, lf_opps), session = _compat.enter(
        [leads, activities, opportunities], function="journey"
    )
    result = journey_frames(lf_leads, lf_acts, lf_opps, as_of=as_of, tz=tz)
    return session.finish(result.sort("lead_id"))  # type: ignore[no-any-return]
