"""The opportunity stage funnel: List -> Proposal -> Opportunity -> Quote -> Won.

``stages`` is the ordered list of the pipeline's open stages ending with the won
stage; ``lost_stage`` names the closed-lost stage, which is not a step of the funnel.

Reached stages
--------------
``inferred`` (default)
    An opportunity reached every stage up to its furthest known one: its current
    ``stage`` (an opportunity in ``quote`` went through ``list``, ``proposal`` and
    ``opportunity``) or, with ``stage_changes``, the furthest stage recorded in its
    history, whichever is later. An opportunity without a known stage (missing
    ``stage``, no history) is counted at the first stage only: it exists, so it
    entered the pipeline.
``strict``
    Needs ``stage_changes``. Only recorded stage entries count, in order: stage *k*
    is reached when stages ``0..k`` all have an entry (the first entry of each stage
    is used) with non-decreasing times. The first stage is entered at the
    opportunity's ``created_at`` unless the history records it.

Closed-lost
-----------
A lost opportunity (current stage = ``lost_stage``) counts for the stages it
reached before it was lost and is reported in ``lost_count`` of the furthest one.
Without ``stage_changes`` the stage it was lost at is unknown, so it counts at the
first stage only (``lost_count`` of the first stage): the funnel never guesses that
a lost deal got further than the evidence shows.

The current stage is the ``stage`` column; with ``stage_changes`` a missing
``stage`` falls back to the latest recorded entry. With ``as_of`` (which needs
``stage_changes``, since the ``stage`` column is a snapshot taken at export time)
opportunities created and entries recorded after the end of that day are ignored
and the current stage is the latest entry recorded by then.

Examples
--------
>>> import pandas as pd
>>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
...     "created_at": pd.to_datetime(["2025-04-01"] * 4),
...     "stage": ["won", "quote", "lost", "proposal"]})
>>> stage_funnel(opps)[["stage", "count", "lost_count", "step_rate"]]
         stage  count  lost_count  step_rate
0         list      4           1   1.000000
1     proposal      3           0   0.750000
2  opportunity      2           0   0.666667
3        quote      2           0   1.000000
4          won      1           0   0.500000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_choice
from pipelinekit._exprs import flag, require_columns
from pipelinekit.breakdowns import band_breakdowns, check_by
from pipelinekit.errors import ConfigError
from pipelinekit.metrics._funnel_engine import (
    K_COL,
    MEASURES,
    RESERVED,
    Mode,
    aggregate_stages,
    bottleneck_frames,
    finish_stage_table,
    raise_on_zero,
)
from pipelinekit.periods import as_of_cutoff
from pipelinekit.rates import ZeroDivision, check_confidence, check_zero_division

__all__ = ["DEFAULT_OPPORTUNITY_STAGES", "stage_bottleneck", "stage_funnel"]

FrameT = TypeVar("FrameT")

#: The customer story's pipeline: List -> Proposal -> Opportunity -> Quote -> Won.
DEFAULT_OPPORTUNITY_STAGES = ("list", "proposal", "opportunity", "quote", "won")

_REACHED = "__pk_reached"
_LOST = "__pk_lost"
_CODE = "__pk_code"
_MAX_UNKNOWN_LISTED = 10


def _check_stage_names(stages: Sequence[str], lost_stage: str) -> tuple[str, ...]:
    names = (stages,) if isinstance(stages, str) else tuple(stages)
    if len(names) < 2 or not all(isinstance(s, str) and s for s in names):
        raise ConfigError(f"stages must be at least two non-empty stage names; got {stages!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"stages must be distinct; got {list(names)}")
    if not isinstance(lost_stage, str) or not lost_stage:
        raise ConfigError(f"lost_stage must be a non-empty stage name; got {lost_stage!r}")
    if lost_stage in names:
        raise ConfigError(
            f"lost_stage {lost_stage!r} must not be one of stages {list(names)}: closed-lost "
            "is not a step of the funnel"
        )
    return names


def stage_funnel(
    opportunities: FrameT,
    *,
    stages: Sequence[str] = DEFAULT_OPPORTUNITY_STAGES,
    lost_stage: str = "lost",
    stage_changes: Any = None,
    mode: Mode = "inferred",
    by: str | Sequence[str] = (),
    as_of: date | datetime | str | None = None,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = "Asia/Tokyo",
) -> FrameT:
    """Opportunities per pipeline stage and the conversion of every step (ステージ別転換率).

    Parameters
    ----------
    opportunities
        Canonical opportunities table, any supported frame; needs
        ``opportunity_id``, ``created_at`` and (without ``stage_changes``) ``stage``.
    stages
        The ordered stage names, from the first to the won stage.
    lost_stage
        The closed-lost stage name (not in ``stages``).
    stage_changes
        Optional stage history (``opportunity_id``, ``stage``, ``entered_at``), same
        frame library; needed for ``mode="strict"`` and ``as_of``.
    mode
        ``"inferred"`` (the current stage implies the earlier ones) or ``"strict"``
        (only recorded, in-order entries); see the module documentation.
    by
        Opportunity columns to break down by (``product``, ``owner_id``,
        ``origin``, ...) and ``amount_band`` / ``quantity_band``.
    as_of
        Rewind the pipeline to the end of this day (needs ``stage_changes``).
    zero_division
        Rate for a zero denominator: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson intervals, default 0.95.
    tz
        Time zone that tz-aware timestamps are converted to.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``stage``, ``stage_index``
    (0 = first), ``count`` (opportunities that reached the stage), ``lost_count``
    (lost opportunities whose furthest stage is this one), ``step_numerator``,
    ``step_denominator``, ``step_rate``, ``step_ci_low``, ``step_ci_high`` and the
    ``overall_*`` columns (from the first stage); sorted by ``by`` and stage.

    Raises
    ------
    ConfigError
        For a bad parameter, or when the data has a stage that is neither in
        ``stages`` nor ``lost_stage`` (the message lists them).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "stage": ["lost", "won"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"])})
    >>> changes = pd.DataFrame({"opportunity_id": ["O1", "O1", "O1"],
    ...     "stage": ["list", "proposal", "lost"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-03", "2025-04-09"])})
    >>> stage_funnel(opps, stage_changes=changes)[["stage", "count", "lost_count"]]
             stage  count  lost_count
    0         list      2           0
    1     proposal      2           1
    2  opportunity      1           0
    3        quote      1           0
    4          won      1           0
    """
    names = _check_stage_names(stages, lost_stage)
    mode = check_choice("mode", mode, get_args(Mode))
    keys = check_by(by, reserved=RESERVED)
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    if mode == "strict" and stage_changes is None:
        raise ConfigError("mode='strict' needs stage_changes (the recorded stage entries)")
    if as_of is not None and stage_changes is None:
        raise ConfigError(
            "as_of needs stage_changes: the stage column is the stage at export time and "
            "cannot be rewound"
        )
    cutoff = None if as_of is None else as_of_cutoff(as_of)
    natives = [opportunities, *([] if stage_changes is None else [stage_changes])]
    lazies, session = _compat.enter(natives, function="stage_funnel")
    opps = lazies[0]
    history = lazies[1] if stage_changes is not None else None
    require_columns(
        opps,
        "opportunities",
        ["opportunity_id", "created_at", *(["stage"] if history is None else [])],
    )
    opps = _compat.to_local_naive(opps, ["created_at"], tz=tz, table="opportunities")
    opps = band_breakdowns(opps, keys, table="opportunities")
    if cutoff is not None:
        opps = opps.filter(nw.col("created_at") < cutoff)
    has_stage = "stage" in opps.collect_schema().names()
    if has_stage:
        _check_stage_values(session, opps, "opportunities", names, lost_stage)
    if history is not None:
        require_columns(history, "stage_changes", ["opportunity_id", "stage", "entered_at"])
        history = _compat.to_local_naive(history, ["entered_at"], tz=tz, table="stage_changes")
        if cutoff is not None:
            history = history.filter(nw.col("entered_at") < cutoff)
        _check_stage_values(session, history, "stage_changes", names, lost_stage)
    current = (
        _code(nw.col("stage"), names, lost_stage)
        if has_stage and cutoff is None
        else nw.lit(None).cast(nw.Int64)
    )
    per_opp = _reached(opps, history, current, names, lost_stage, keys, mode=mode)
    table = aggregate_stages(
        [_long(per_opp, len(names), keys)],
        keys,
        names,
        measures=(*MEASURES, "lost_count"),
    )
    result = finish_stage_table(
        table,
        leading=keys,
        counts=("count", "lost_count"),
        trailing=(),
        sort_keys=keys,
        zero_division=zero_division,
        confidence=confidence,
    )
    if zero_division == "raise":
        raise_on_zero(session, result, ("step_denominator", "overall_denominator"), "stage_funnel")
    return session.finish(result)  # type: ignore[no-any-return]


def _code(stage: nw.Expr, names: Sequence[str], lost_stage: str) -> nw.Expr:
    """Stage name -> 0..K-1, lost -> K, anything else -> null."""
    out: Any = nw.when(stage == lost_stage).then(nw.lit(len(names)))
    for k, name in enumerate(names):
        out = out.when(stage == name).then(nw.lit(k))
    result: nw.Expr = out.cast(nw.Int64)
    return result


def _check_stage_values(
    session: _compat.Session,
    frame: nw.LazyFrame[Any],
    table: str,
    names: Sequence[str],
    lost_stage: str,
) -> None:
    """Reject stage values that are neither in ``stages`` nor ``lost_stage``."""
    known = [*names, lost_stage]
    unknown = (
        frame.filter(~nw.col("stage").is_null() & ~nw.col("stage").is_in(known))
        .select(nw.col("stage").cast(nw.String))
        .unique()
        .sort("stage")
        .head(_MAX_UNKNOWN_LISTED)
    )
    values = session.collect(unknown)["stage"].to_list()
    if values:
        raise ConfigError(
            f"stages: {table}.stage has value(s) {', '.join(map(repr, values))} that are in "
            f"neither stages {list(names)} nor lost_stage {lost_stage!r}; pass every stage "
            "of the pipeline, in order"
        )


def _reached(
    opps: nw.LazyFrame[Any],
    history: nw.LazyFrame[Any] | None,
    current: nw.Expr,
    names: Sequence[str],
    lost_stage: str,
    keys: Sequence[str],
    *,
    mode: str,
) -> nw.LazyFrame[Any]:
    """Per opportunity: the ``by`` keys, furthest reached stage index and lost flag."""
    n = len(names)
    base = opps.select(
        nw.col("opportunity_id"),
        nw.col("created_at"),
        *[nw.col(k) for k in keys],
        current.alias(_CODE),
    )
    if history is None:
        code = nw.col(_CODE)
        return base.select(
            *[nw.col(k) for k in keys],
            nw.when(code < n).then(code).otherwise(nw.lit(0)).cast(nw.Int64).alias(_REACHED),
            flag(code == n).alias(_LOST),
        )
    summary = _history_summary(history, names, lost_stage)
    joined = base.join(summary, on="opportunity_id", how="left").with_columns(
        nw.coalesce(nw.col(_CODE), nw.col("__pk_last")).alias(_CODE)
    )
    code = nw.col(_CODE)
    if mode == "inferred":
        current_open = nw.when(code < n).then(code)
        reached = nw.max_horizontal(current_open, nw.col("__pk_hist_max"), nw.lit(0))
    else:
        t = [nw.coalesce(nw.col("__pk_t0"), nw.col("created_at"))] + [
            nw.col(f"__pk_t{k}") for k in range(1, n)
        ]
        ok = nw.lit(value=True)
        steps = []
        for k in range(1, n):
            ok = ok & ~t[k].is_null() & (t[k] >= t[k - 1]).fill_null(value=False)
            steps.append(flag(ok))
        reached = nw.sum_horizontal(*steps)
    return joined.select(
        *[nw.col(k) for k in keys],
        reached.cast(nw.Int64).alias(_REACHED),
        flag((code == n).fill_null(value=False)).alias(_LOST),
    )


def _history_summary(
    history: nw.LazyFrame[Any], names: Sequence[str], lost_stage: str
) -> nw.LazyFrame[Any]:
    """Per opportunity: furthest recorded open stage, first entry per stage, last stage."""
    n = len(names)
    coded = history.filter(~nw.col("opportunity_id").is_null()).with_columns(
        _code(nw.col("stage"), names, lost_stage).alias(_CODE),
        nw.lit(1).cast(nw.Int64).alias("__pk_one"),
    )
    ranked = coded.with_columns(
        nw.col("__pk_one")
        .cum_sum()
        .over("opportunity_id", order_by=["entered_at", _CODE])
        .cast(nw.Int64)
        .alias("__pk_rank"),
        nw.col("__pk_one").sum().over("opportunity_id").cast(nw.Int64).alias("__pk_n"),
    ).with_columns(
        nw.when(nw.col(_CODE) < n).then(nw.col(_CODE)).alias("__pk_open"),
        nw.when(nw.col("__pk_rank") == nw.col("__pk_n")).then(nw.col(_CODE)).alias("__pk_last"),
        *[
            nw.when(nw.col(_CODE) == k).then(nw.col("entered_at")).alias(f"__pk_t{k}")
            for k in range(n)
        ],
    )
    return ranked.group_by("opportunity_id").agg(
        nw.col("__pk_open").max().alias("__pk_hist_max"),
        nw.col("__pk_last").max(),
        *[nw.col(f"__pk_t{k}").min() for k in range(n)],
    )


def _long(per_opp: nw.LazyFrame[Any], n: int, keys: Sequence[str]) -> nw.LazyFrame[Any]:
    """One row per opportunity and stage with the funnel measures (see ``aggregate_stages``)."""
    stacked = nw.concat(
        [
            per_opp.select(
                *[nw.col(k) for k in keys],
                nw.lit(k).cast(nw.Int64).alias(K_COL),
                nw.col(_REACHED),
                nw.col(_LOST),
            )
            for k in range(n)
        ],
        how="vertical",
    )
    reached = flag(nw.col(_REACHED) >= nw.col(K_COL))
    return stacked.select(
        *[nw.col(k) for k in keys],
        nw.col(K_COL),
        reached.alias("count"),
        reached.alias("step_numerator"),
        flag(nw.col(_REACHED) >= nw.col(K_COL) - 1).alias("step_denominator"),
        reached.alias("overall_numerator"),
        nw.lit(1).cast(nw.Int64).alias("overall_denominator"),
        flag((nw.col(_LOST) == 1) & (nw.col(_REACHED) == nw.col(K_COL))).alias("lost_count"),
    )


def stage_bottleneck(
    stage_table: FrameT,
    *,
    by: str | Sequence[str] = (),
    confidence: float = 0.95,
) -> FrameT:
    """The stage step with the lowest conversion in a :func:`stage_funnel` table.

    The same rule as :func:`pipelinekit.metrics.funnel.bottleneck`: counts are
    summed over the columns not in ``by``, zero-denominator steps are skipped and
    ties go to the earlier step.

    Returns
    -------
    Frame of the caller's kind with the ``by`` columns, ``from_stage``, ``stage``,
    ``stage_index``, ``numerator``, ``denominator``, ``rate``, ``ci_low``,
    ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 3),
    ...     "stage": ["won", "proposal", "proposal"]})
    >>> stage_bottleneck(stage_funnel(opps))[["from_stage", "stage", "numerator", "denominator"]]
     from_stage        stage  numerator  denominator
    0   proposal  opportunity          1            3
    """
    names = check_by(by)
    conf = check_confidence(confidence)
    (lf,), session = _compat.enter([stage_table], function="stage_bottleneck")
    return session.finish(bottleneck_frames(lf, by=names, confidence=conf))  # type: ignore[no-any-return]
