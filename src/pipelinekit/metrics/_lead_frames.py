"""Entering the leads and activities tables: shared by the lead and activity metrics.

Parameter checks of the lead-level options, the as-of cut and time-zone conversion of
``leads`` and ``activities``, group keys (lead columns, derived ``hour`` /
``weekday``, ``period``) and the sorted, typed hand-back every function ends with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._exprs import is_call, require_columns
from pipelinekit.domain import ActionStatus, Channel, Direction, Origin
from pipelinekit.errors import ConfigError
from pipelinekit.periods import as_of_cutoff, check_freq, period_start
from pipelinekit.rates import ZeroDivision, raise_on_zero_denominator, with_rate_columns
from pipelinekit.types import AsOf, By, Freq

#: Columns ``by`` may name that are derived from ``occurred_at``.
DERIVED_ACTIVITY_COLUMNS = ("hour", "weekday")
#: Timestamp and date columns of the leads table converted at entry.
LEAD_TIME_COLUMNS = ("created_at", "next_activity_on", "recycle_on")
ACTIVITY_COLUMNS = ("lead_id", "occurred_at", "channel", "direction", "outcome")
RESERVED = ("period",)

# --------------------------------------------------------------------------- parameters


def check_keys(by: By, *, name: str = "by") -> tuple[str, ...]:
    """``by`` as a tuple of distinct column names."""
    keys = (by,) if isinstance(by, str) else tuple(by)
    if not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"{name} must be a column name or a sequence of names; got {by!r}")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{name} names a column twice: {list(keys)}")
    reserved = [k for k in keys if k in RESERVED]
    if reserved:
        raise ConfigError(f"{name} must not name {reserved[0]!r}; use freq= for periods")
    return keys


def check_option(name: str, value: Any, allowed: Sequence[str], *, optional: bool = False) -> Any:
    """Validate a string option against ``allowed`` (``None`` too when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or str(value) not in allowed:
        options = ", ".join(repr(a) for a in allowed) + (" or None" if optional else "")
        raise ConfigError(f"{name} must be one of {options}; got {value!r}")
    return str(value)


def check_count(name: str, value: Any, *, minimum: int) -> int:
    """Validate an integer option (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def optional_freq(freq: Any) -> Freq | None:
    return None if freq is None else check_freq(freq)


def optional_cutoff(as_of: AsOf | None) -> datetime | None:
    return None if as_of is None else as_of_cutoff(as_of)


def check_statuses(name: str, statuses: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate a sequence of lead ``action_status`` values (``None`` = any)."""
    if statuses is None:
        return None
    values = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    allowed = [s.value for s in ActionStatus]
    bad = [s for s in values if s not in allowed]
    if bad:
        raise ConfigError(
            f"{name} must be action_status values ({', '.join(map(repr, allowed))}); got {bad[0]!r}"
        )
    return tuple(str(s) for s in values)


DIRECTIONS = tuple(d.value for d in Direction)
ORIGINS = tuple(o.value for o in Origin)
CHANNELS = tuple(c.value for c in Channel)

# --------------------------------------------------------------------------- frames


def enter_activities(
    frame: nw.LazyFrame[Any],
    *,
    cutoff: datetime | None,
    tz: str,
    required: Sequence[str] = (),
) -> nw.LazyFrame[Any]:
    """Activities with naive local ``occurred_at``, rows after ``cutoff`` dropped."""
    require_columns(frame, "activities", [*ACTIVITY_COLUMNS, *required])
    frame = _compat.to_local_naive(frame, ["occurred_at"], tz=tz, table="activities")
    return frame if cutoff is None else frame.filter(nw.col("occurred_at") < cutoff)


def enter_leads(
    frame: nw.LazyFrame[Any],
    *,
    cutoff: datetime | None,
    tz: str,
    required: Sequence[str] = (),
    origin: str | None = None,
    statuses: Sequence[str] | None = None,
) -> nw.LazyFrame[Any]:
    """Leads created before ``cutoff`` with naive local timestamps, optionally filtered
    by ``origin`` and ``action_status``."""
    need = ["lead_id", "created_at", *required]
    if origin is not None:
        need.append("origin")
    if statuses is not None:
        need.append("action_status")
    require_columns(frame, "leads", list(dict.fromkeys(need)))
    frame = _compat.to_local_naive(frame, LEAD_TIME_COLUMNS, tz=tz, table="leads")
    if cutoff is not None:
        frame = frame.filter(nw.col("created_at") < cutoff)
    if origin is not None:
        frame = frame.filter((nw.col("origin") == origin).fill_null(value=False))
    if statuses is not None:
        frame = frame.filter(nw.col("action_status").is_in(list(statuses)).fill_null(value=False))
    return frame


def check_keys_present(keys: Sequence[str], available: Sequence[str], *, name: str) -> None:
    unknown = [k for k in keys if k not in available]
    if unknown:
        raise ConfigError(
            f"{name} names unknown column {unknown[0]!r}; available: {', '.join(available)}"
        )


def with_activity_keys(
    acts: nw.LazyFrame[Any],
    keys: Sequence[str],
    *,
    leads: nw.LazyFrame[Any] | None,
    freq: Freq | None,
) -> tuple[nw.LazyFrame[Any], tuple[str, ...]]:
    """Add what the group keys need: derived ``hour``/``weekday``, lead columns joined
    on ``lead_id`` (activity columns win), and ``period``. Returns the frame and keys."""
    own = acts.collect_schema().names()
    lead_names = [] if leads is None else leads.collect_schema().names()
    available = list(dict.fromkeys([*own, *DERIVED_ACTIVITY_COLUMNS, *lead_names]))
    check_keys_present(keys, available, name="by")
    derived = {
        "hour": nw.col("occurred_at").dt.hour().cast(nw.Int64).alias("hour"),
        "weekday": _compat.iso_weekday(nw.col("occurred_at")).alias("weekday"),
    }
    exprs = [derived[k] for k in keys if k in derived and k not in own]
    if exprs:
        acts = acts.with_columns(*exprs)
    from_leads = [k for k in keys if k not in own and k not in derived]
    if from_leads and leads is not None:
        acts = acts.join(leads.select("lead_id", *from_leads), on="lead_id", how="left")
    return with_period(acts, "occurred_at", keys, freq)


def with_period(
    frame: nw.LazyFrame[Any], column: str, keys: Sequence[str], freq: Freq | None
) -> tuple[nw.LazyFrame[Any], tuple[str, ...]]:
    """Add ``period`` (start of the ``freq`` period of ``column``) to frame and keys."""
    if freq is None:
        return frame, tuple(keys)
    period = period_start(nw.col(column), freq).cast(nw.Datetime("us")).alias("period")
    return frame.with_columns(period), (*keys, "period")


def aggregate(frame: nw.LazyFrame[Any], keys: Sequence[str], *aggs: nw.Expr) -> nw.LazyFrame[Any]:
    """``group_by(keys).agg(aggs)``, or one overall row when there are no keys."""
    if keys:
        return frame.group_by(*keys).agg(*aggs)
    return frame.select(*aggs)


def int_counts(*names: str) -> list[nw.Expr]:
    """Count columns as Int64, missing sums (empty groups) as 0."""
    return [nw.col(n).fill_null(0).cast(nw.Int64) for n in names]


def with_rates(
    frame: nw.LazyFrame[Any],
    numerator: str,
    denominator: str,
    zero_division: ZeroDivision,
    prefix: str = "",
    *,
    confidence: float = 0.95,
) -> nw.LazyFrame[Any]:
    """``frame`` with ``{prefix}rate``, ``{prefix}ci_low``, ``{prefix}ci_high``."""
    return with_rate_columns(
        frame,
        numerator,
        denominator,
        zero_division=zero_division,
        confidence=confidence,
        prefix=prefix,
    )


def finish_sorted(
    session: _compat.Session,
    frame: nw.LazyFrame[Any],
    keys: Sequence[str],
    *,
    zero_division: ZeroDivision | None = None,
    denominator: str = "denominator",
    descending: bool | Sequence[bool] = False,
) -> Any:
    """Sort on the full keys (nulls last), check ``zero_division="raise"``, hand back."""
    if zero_division == "raise":
        raise_on_zero_denominator(frame.collect(), denominator, session.function)
    if keys:
        frame = frame.sort(*keys, descending=descending, nulls_last=True)
    return session.finish(frame)


def with_one(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return frame.with_columns(nw.lit(1).cast(nw.Int64).alias("_one"))


def direction_filter(direction: str | None) -> nw.Expr:
    if direction is None:
        return nw.lit(value=True)
    return (nw.col("direction") == direction).fill_null(value=False)


def connected_call() -> nw.Expr:
    return is_call() & (nw.col("outcome") == "connected").fill_null(value=False)
