"""Pipeline KPIs of field sales as of a day (DESIGN section 3, "Pipeline").

Every function takes an explicit ``as_of``; an opportunity's state is read as of the
end of that day:

- it **exists** when ``created_at`` is before the end of ``as_of`` (later ones are
  ignored);
- it is **closed** when ``closed_at`` is before the end of ``as_of``; **open**
  otherwise (closing later means still open as of then);
- it is **won** when closed and ``is_won`` is true; closed with ``is_won`` false or
  missing is **lost**.

Definitions:

- **open pipeline**: count and sum of ``amount`` of the open opportunities.
- **weighted pipeline**: sum of ``amount x probability`` over open opportunities, the
  probability scale (``"0-1"`` or ``"0-100"``) stated explicitly.
- **win rate** = won / closed, by count (default) or by amount (``weight="amount"``:
  won amount / closed amount, over closed deals with an amount; no interval).
- **average won amount** = won amount / won deals with an amount.
- **sales cycle** = days from ``created_at`` to ``closed_at`` of won deals (fractional
  days); median and mean.
- **pipeline velocity** = open opportunities x win rate (by count) x average won
  amount / mean sales cycle days: expected won amount per day.
- **stale**: an open opportunity with no call, email or meeting (either direction) on
  its lead or its account for ``days`` calendar days up to ``as_of``, or in its
  current stage for longer than the expected stage age.

Breakdowns (``by``) accept any opportunity column plus ``amount_band`` and
``quantity_band`` (:mod:`pipelinekit.breakdowns`); :func:`win_rate` (with
``leads=`` / ``accounts=``) also accepts the lead's ``source``, ``department``,
``title``, the resolved ``origin`` and the account's ``industry``, ``region`` and ``employee_band``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_choice
from pipelinekit._exprs import flag, require_columns
from pipelinekit._signature import former_table_order
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._opportunity_frames import (
    breakdown_keys,
    calendar_days_to,
    days_between,
    numbered_stage_changes,
    outcome_stats,
    prepare_opportunities,
    ratio,
    sorted_by,
    with_breakdowns,
    with_median_part,
    with_stage_as_of,
)
from pipelinekit.periods import as_of_cutoff, parse_as_of
from pipelinekit.types import AsOf

__all__ = [
    "open_pipeline",
    "stale_opportunities",
    "time_in_stage",
    "weighted_pipeline",
]

FrameT = TypeVar("FrameT")
ProbabilityScale = Literal["0-1", "0-100"]


# ------------------------------------------------------------ parameter checks


# --------------------------------------------------------------- shared steps


# ------------------------------------------------------------------ stages


# ------------------------------------------------------------------ public API


@former_table_order("opportunities", "stage_changes")
def open_pipeline(
    opportunities: FrameT,
    *,
    stage_changes: Any = None,
    as_of: AsOf,
    by: str | Sequence[str] = ("stage",),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Open pipeline: count and amount of opportunities not closed by ``as_of``.

    Parameters
    ----------
    opportunities
        Canonical opportunities table; any supported frame.
    stage_changes
        Optional stage history (same library). When given, ``stage`` is the stage
        *as of* ``as_of`` (the latest entry before the end of that day; null when the
        opportunity has none yet); otherwise the opportunity's current ``stage``.
    as_of
        Day the pipeline is read at (end of day).
    by
        Breakdown columns, default ``("stage",)``; ``()`` for the total.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``open_count`` and
    ``open_amount`` (missing amounts count as 0), sorted by ``by`` (nulls last).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "stage": ["proposal", "proposal", "won"], "amount": [100.0, 50.0, 70.0],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"]),
    ...     "closed_at": pd.to_datetime([None, "2025-05-10", "2025-04-20"]),
    ...     "is_won": pd.array([None, False, True], dtype="boolean")})
    >>> open_pipeline(opps, as_of="2025-04-30")
          stage  open_count  open_amount
    0  proposal           2        150.0
    """
    states, tables, keys, cutoff, session = prepare_opportunities(
        {"opportunities": opportunities, "stage_changes": stage_changes},
        function="open_pipeline",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    states = with_stage_as_of(states, tables["stage_changes"], cutoff=cutoff, tz=tz)
    states = with_breakdowns(states, keys, function="open_pipeline")
    stats = outcome_stats(states.filter(nw.col("_open") == 1), keys)
    out = stats.select(*keys, "open_count", "open_amount")
    return session.finish(sorted_by(out, keys))  # type: ignore[no-any-return]


def weighted_pipeline(
    opportunities: FrameT,
    *,
    as_of: AsOf,
    probability_scale: ProbabilityScale = "0-1",
    by: str | Sequence[str] = (),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Weighted open pipeline: sum of ``amount x probability`` (加重パイプライン).

    Parameters
    ----------
    opportunities
        Canonical opportunities table with ``probability``; any supported frame.
    as_of
        Day the pipeline is read at (end of day).
    probability_scale
        ``"0-1"`` (the canonical scale, default) or ``"0-100"`` (raw CRM percentages,
        divided by 100). A probability above the scale raises :class:`ConfigError`.
    by
        Breakdown columns (default none: one total row).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``open_count``,
    ``open_amount``, ``weighted_amount`` and ``missing_probability_count`` (open
    opportunities without a probability; they add 0 to the weighted amount).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "amount": [100.0, 50.0],
    ...     "probability": [60.0, None],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"]),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None, None], dtype="boolean")})
    >>> weighted_pipeline(opps, as_of="2025-04-30", probability_scale="0-100")
       open_count  open_amount  weighted_amount  missing_probability_count
    0           2        150.0             60.0                          1
    """
    check_choice("probability_scale", probability_scale, get_args(ProbabilityScale))
    states, _, keys, _, session = prepare_opportunities(
        {"opportunities": opportunities},
        function="weighted_pipeline",
        as_of=as_of,
        by=by,
        tz=tz,
    )
    require_columns(states, "opportunities", ("probability",))
    top = 1.0 if probability_scale == "0-1" else 100.0
    highest = session.collect(states.select(nw.col("probability").max())).rows()[0][0]
    if highest is not None and float(highest) > top:
        raise ConfigError(
            f"probability_scale={probability_scale!r} but probabilities reach {highest}; "
            "pass probability_scale='0-100' for percentages"
        )
    open_ = with_breakdowns(states.filter(nw.col("_open") == 1), keys, function="weighted_pipeline")
    frame, group = breakdown_keys(open_, keys)
    probability = nw.col("probability").cast(nw.Float64) / top
    amount = nw.col("_amount").fill_null(0.0)
    frame = frame.with_columns(
        amount.alias("open_amount"),
        (amount * probability.fill_null(0.0)).alias("weighted_amount"),
        flag(nw.col("probability").is_null()).alias("missing_probability_count"),
    )
    aggs = [
        nw.len().alias("open_count"),
        nw.col("open_amount").sum(),
        nw.col("weighted_amount").sum(),
        nw.col("missing_probability_count").sum(),
    ]
    grouped = frame.group_by(*group).agg(*aggs) if keys else frame.select(*aggs)
    out = grouped.select(
        *keys,
        nw.col("open_count").fill_null(0).cast(nw.Int64),
        nw.col("open_amount").fill_null(0.0).cast(nw.Float64),
        nw.col("weighted_amount").fill_null(0.0).cast(nw.Float64),
        nw.col("missing_probability_count").fill_null(0).cast(nw.Int64),
    )
    return session.finish(sorted_by(out, keys))  # type: ignore[no-any-return]


def _check_stage_ages(stage_ages: Mapping[str, float] | None) -> dict[str, float] | None:
    if stage_ages is None:
        return None
    if not isinstance(stage_ages, Mapping) or not stage_ages:
        raise ConfigError(
            "stage_ages must be a non-empty mapping of stage -> expected days in stage, "
            f"e.g. {{'proposal': 14}}; got {stage_ages!r}"
        )
    bad = {
        k: v
        for k, v in stage_ages.items()
        if not isinstance(k, str)
        or isinstance(v, bool)
        or not isinstance(v, (int, float))
        or not v >= 0
    }
    if bad:
        raise ConfigError(f"stage_ages must map stage names to days >= 0; got {bad!r}")
    return {k: float(v) for k, v in stage_ages.items()}


_SALES_CHANNELS = ("call", "email", "meeting")


def _last_activity(
    activities: nw.LazyFrame[Any], key: str, *, cutoff: datetime, tz: str
) -> nw.LazyFrame[Any]:
    """Latest sales activity (call, email, meeting) before ``cutoff`` per ``key``."""
    acts = _compat.to_local_naive(activities, ["occurred_at"], tz=tz, table="activities")
    return (
        acts.filter(
            (nw.col("occurred_at") < cutoff)
            & ~nw.col(key).is_null()
            & nw.col("channel").is_in(list(_SALES_CHANNELS)).fill_null(value=False)
        )
        .group_by(key)
        .agg(nw.col("occurred_at").max().alias(f"_last_by_{key}"))
    )


def _later(a: nw.Expr, b: nw.Expr) -> nw.Expr:
    """The later of two timestamps, ignoring nulls."""
    return nw.when(a.is_null()).then(b).when(b.is_null()).then(a).when(a >= b).then(a).otherwise(b)


@former_table_order("opportunities", "activities", "stage_changes")
def stale_opportunities(
    activities: FrameT,
    opportunities: Any,
    *,
    stage_changes: Any = None,
    as_of: AsOf,
    days: int = 30,
    stage_ages: Mapping[str, float] | None = None,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Open opportunities gone quiet, or stuck in their stage (停滞商談).

    An open opportunity (as of ``as_of``) is stale when either holds:

    - **no recent activity**: no call, email or meeting (either direction; web
      signals do not count) on its lead (``lead_id``) or its account
      (``account_id``) in the ``days`` calendar days ending on ``as_of``, i.e.
      ``idle_days >= days`` where ``idle_days`` = calendar days from the later of
      its last activity and its ``created_at`` to ``as_of``;
    - **past the expected stage age**: with ``stage_ages`` and ``stage_changes``,
      its stage as of ``as_of`` was entered more than ``stage_ages[stage]``
      calendar days before ``as_of`` (stages not in the mapping never trigger).

    Parameters
    ----------
    activities, opportunities
        Canonical tables (same frame library).
    stage_changes
        Stage history; needed with ``stage_ages``. When given, ``stage`` is the stage
        as of ``as_of`` and ``stage_age_days`` is filled.
    as_of
        Day read at (end of day).
    days
        Quiet days that make an opportunity stale (default 30).
    stage_ages
        Expected maximum days per stage, e.g. ``{"proposal": 14, "quote": 21}``.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per stale opportunity, most idle first
    (then by ``opportunity_id``): ``opportunity_id``, ``lead_id``, ``account_id``,
    ``owner_id``, ``stage``, ``amount``, ``created_at``, ``last_activity_at``,
    ``idle_days``, ``stage_entered_at``, ``stage_age_days``, ``expected_stage_days``,
    ``no_recent_activity``, ``past_stage_age``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "lead_id": ["L1", "L2"],
    ...     "account_id": ["A1", "A2"], "owner_id": ["F1", "F1"], "stage": ["proposal"] * 2,
    ...     "amount": [100.0, 200.0], "created_at": pd.to_datetime(["2025-03-01"] * 2),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None, None], dtype="boolean")})
    >>> acts = pd.DataFrame({"lead_id": ["L1", None], "account_id": [None, "A2"],
    ...     "occurred_at": pd.to_datetime(["2025-03-31", "2025-04-01"]),
    ...     "channel": ["call", "email"]})
    >>> stale_opportunities(acts, opps, as_of="2025-04-30")[
    ...     ["opportunity_id", "last_activity_at", "idle_days"]]
      opportunity_id last_activity_at  idle_days
    0             O1       2025-03-31         30
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"days must be an integer >= 1, e.g. 30; got {days!r}")
    ages = _check_stage_ages(stage_ages)
    if ages is not None and stage_changes is None:
        raise ConfigError("stage_ages needs the stage history; pass stage_changes=")
    day = parse_as_of(as_of)
    states, tables, _, cutoff, session = prepare_opportunities(
        {"opportunities": opportunities, "activities": activities, "stage_changes": stage_changes},
        function="stale_opportunities",
        as_of=as_of,
        by=(),
        tz=tz,
    )
    acts = tables["activities"]
    assert acts is not None
    require_columns(acts, "activities", ("lead_id", "account_id", "occurred_at", "channel"))
    require_columns(states, "opportunities", ("lead_id", "account_id", "owner_id"))
    states = with_stage_as_of(states, tables["stage_changes"], cutoff=cutoff, tz=tz)
    open_ = (
        states.filter(nw.col("_open") == 1)
        .join(_last_activity(acts, "lead_id", cutoff=cutoff, tz=tz), on="lead_id", how="left")
        .join(_last_activity(acts, "account_id", cutoff=cutoff, tz=tz), on="account_id", how="left")
    )
    last = _later(nw.col("_last_by_lead_id"), nw.col("_last_by_account_id"))
    expected = _expected_stage_days(ages)
    flagged = (
        open_.with_columns(last.alias("last_activity_at"))
        .with_columns(
            calendar_days_to(_later(nw.col("last_activity_at"), nw.col("created_at")), day).alias(
                "idle_days"
            ),
            calendar_days_to(nw.col("stage_entered_at"), day).alias("stage_age_days"),
            expected.cast(nw.Float64).alias("expected_stage_days"),
        )
        .with_columns(
            (nw.col("idle_days") >= days).fill_null(value=False).alias("no_recent_activity"),
            (nw.col("stage_age_days").cast(nw.Float64) > nw.col("expected_stage_days"))
            .fill_null(value=False)
            .alias("past_stage_age"),
        )
    )
    out = (
        flagged.filter(nw.col("no_recent_activity") | nw.col("past_stage_age"))
        .select(
            nw.col("opportunity_id").cast(nw.String),
            nw.col("lead_id").cast(nw.String),
            nw.col("account_id").cast(nw.String),
            nw.col("owner_id").cast(nw.String),
            nw.col("stage").cast(nw.String),
            nw.col("_amount").cast(nw.Float64).alias("amount"),
            nw.col("created_at").cast(nw.Datetime("us")),
            nw.col("last_activity_at").cast(nw.Datetime("us")),
            nw.col("idle_days").cast(nw.Int64),
            nw.col("stage_entered_at").cast(nw.Datetime("us")),
            nw.col("stage_age_days").cast(nw.Int64),
            nw.col("expected_stage_days").cast(nw.Float64),
            nw.col("no_recent_activity").cast(nw.Boolean),
            nw.col("past_stage_age").cast(nw.Boolean),
        )
        .sort("idle_days", "opportunity_id", descending=[True, False])
    )
    return session.finish(out)  # type: ignore[no-any-return]


def _expected_stage_days(ages: Mapping[str, float] | None) -> nw.Expr:
    """Expected days of the row's ``stage`` from ``ages`` (null when not listed)."""
    result: Any = None
    for stage, limit in (ages or {}).items():
        result = (nw.when if result is None else result.when)(nw.col("stage") == stage).then(
            nw.lit(limit)
        )
    return nw.lit(None).cast(nw.Float64) if result is None else result.cast(nw.Float64)


def time_in_stage(
    stage_changes: FrameT,
    *,
    as_of: AsOf,
    terminal_stages: Sequence[str] = ("won", "lost"),
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Days opportunities spend in each stage, from the stage history (ステージ滞留日数).

    A stay starts at a stage entry and ends at the opportunity's next entry (in
    ``entered_at`` order, ties by stage name). Stays that ended by ``as_of`` are
    *exited* and give the durations (fractional days); stays still running at
    ``as_of`` are *current* (censored: counted, not measured). Entries of
    ``terminal_stages`` (closing stages) are left out.

    Parameters
    ----------
    stage_changes
        Canonical stage history (``opportunity_id``, ``stage``, ``entered_at``); any
        supported frame.
    as_of
        Day read at (end of day): entries after it are ignored.
    terminal_stages
        Stages that end an opportunity (default ``("won", "lost")``).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per stage sorted by ``stage``: ``stage``,
    ``entered_count``, ``exited_count``, ``current_count``, ``median_days``,
    ``mean_days`` (over exited stays; null when none).

    Examples
    --------
    >>> import pandas as pd
    >>> changes = pd.DataFrame({"opportunity_id": ["O1", "O1", "O1", "O2"],
    ...     "stage": ["list", "proposal", "won", "list"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-03", "2025-04-13", "2025-04-05"])})
    >>> time_in_stage(changes, as_of="2025-04-30")
          stage  entered_count  exited_count  current_count  median_days  mean_days
    0      list              2             1              1          2.0        2.0
    1  proposal              1             1              0         10.0       10.0
    """
    terminal = [terminal_stages] if isinstance(terminal_stages, str) else list(terminal_stages)
    if not all(isinstance(t, str) for t in terminal):
        raise ConfigError(f"terminal_stages must be stage names; got {terminal_stages!r}")
    cutoff = as_of_cutoff(as_of)
    (changes,), session = _compat.enter([stage_changes], function="time_in_stage")
    numbered = numbered_stage_changes(changes, cutoff=cutoff, tz=tz)
    following = numbered.select(
        nw.col("opportunity_id"),
        (nw.col("entry") - 1).alias("entry"),
        nw.col("entered_at").alias("_left_at"),
    )
    stays = (
        numbered.filter(~nw.col("stage").is_in(terminal).fill_null(value=False))
        .join(following, on=["opportunity_id", "entry"], how="left")
        .with_columns(
            flag(~nw.col("_left_at").is_null()).alias("_exited"),
            days_between(nw.col("entered_at"), nw.col("_left_at")).fill_null(0.0).alias("_days"),
        )
    )
    stays = with_median_part(
        stays,
        value="_days",
        member="_exited",
        keys=["stage"],
        tiebreak=["opportunity_id", "entry"],
        alias="_median_x2",
    )
    per = stays.group_by("stage").agg(
        nw.len().alias("entered_count"),
        nw.col("_exited").sum().alias("exited_count"),
        nw.col("_days").sum().alias("_days_sum"),
        nw.col("_median_x2").sum(),
    )
    exited = nw.col("exited_count")
    out = per.select(
        nw.col("stage").cast(nw.String),
        nw.col("entered_count").cast(nw.Int64),
        exited.cast(nw.Int64),
        (nw.col("entered_count") - exited).cast(nw.Int64).alias("current_count"),
        nw.when(exited > 0).then(nw.col("_median_x2") / 2.0).cast(nw.Float64).alias("median_days"),
        ratio(nw.col("_days_sum"), exited).cast(nw.Float64).alias("mean_days"),
    ).sort("stage", nulls_last=True)
    return session.finish(out)  # type: ignore[no-any-return]
