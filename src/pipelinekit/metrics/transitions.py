"""Stage-to-stage transitions and the chance a deal in a stage is won (DESIGN section 8).

The input is a stage history: one row per stage entry with ``opportunity_id``,
``stage`` and a timestamp (``entered_at`` for ``stage_changes``; pass ``at=`` for
another table such as an opportunity history with ``changed_at``, whose rows without
a stage are skipped).

Paths (the cut-off is C = the end of the ``as_of`` day, dataset time zone):

- history rows before C, of opportunities created before C when ``opportunities``
  is given (rows of other opportunities are ignored), ordered by time then file
  order (the input's row order);
- consecutive rows with the same stage collapse into one entry (an amount edit
  that rewrites the stage is not a move);
- won and lost stages are recognised by name (``won_stages`` / ``lost_stages``,
  compared case-insensitively after trimming; defaults "Closed Won"/"Won" and
  "Closed Lost"/"Lost"); every other stage is an open stage, compared exactly;
- a path ends at its first won or lost entry; later entries (a deal reopened in the
  CRM) are ignored and counted (``ignored_after_close_count`` on the won/lost row);
- skips (list -> quote) and regressions (quote -> proposal) are transitions like
  any other; an entry that is the last of an open path is censored at C (the deal
  is still open), not a "stay".

Transition rates: rate(a -> b) = n(a -> b) / exits(a), where exits(a) counts the
entries of a that were followed by another entry; the rates out of a stage sum to
1. Every rate carries a Wilson interval.

Absorbing chain (:func:`stage_win_probability`): the open stages form a Markov
chain whose won and lost states absorb. With Q the transition rates among open
stages that were left at least once and R the rates into won, lost and
*unresolved* stages (open stages never left: every entry is still open),
P = (I - Q)^-1 R gives per stage ``p_win``, ``p_lost`` and ``p_unresolved`` (they
add up to 1). An unresolved stage itself has null probabilities. Stages in a closed
loop that never reaches won, lost or an unresolved stage make the system singular:
their probabilities are null, and the mass other stages send into them counts as
unresolved.

Expected days: the mean time in a stage is its exposure (days from each entry to
the next entry, or to C for an open deal) over its exits, the maximum-likelihood
estimate of a time-homogeneous Markov model; ``expected_days_to_close`` is the
expected time until won or lost, conditional on closing, and
``expected_days_to_win`` conditional on winning (g = (I - Q)^-1 (m * h), divided by
h, for m the mean times and h the chance of that end). Durations are measured on
instants.

Examples
--------
>>> import pandas as pd
>>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1", "O2", "O2", "O3"],
...     "stage": ["proposal", "won", "proposal", "lost", "proposal"],
...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-11", "2025-04-01",
...                                   "2025-04-05", "2025-04-20"])})
>>> stage_transitions(hist, as_of="2025-04-30")[["from_stage", "to_stage", "numerator",
...                                             "denominator", "rate"]]
  from_stage to_stage  numerator  denominator  rate
0   proposal     lost          1            2   0.5
1   proposal      won          1            2   0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import narwhals as nw
import numpy as np

from pipelinekit import _compat
from pipelinekit._checks import check_by, check_confidence, check_zero_division
from pipelinekit._exprs import flag, require_columns
from pipelinekit.errors import ConfigError
from pipelinekit.instants import DAY_US, instant_of, with_instants
from pipelinekit.periods import as_of_cutoff
from pipelinekit.rates import raise_on_zero_denominator, with_rate_columns
from pipelinekit.types import DEFAULT_TZ, AsOf, By, ZeroDivision

__all__ = [
    "DEFAULT_LOST_STAGES",
    "DEFAULT_WON_STAGES",
    "stage_transitions",
    "stage_win_probability",
    "win_probability_calibration",
]

FrameT = TypeVar("FrameT")

#: Stage names read as won (case-insensitive, trimmed).
DEFAULT_WON_STAGES = ("Closed Won", "Won")
#: Stage names read as lost (case-insensitive, trimmed).
DEFAULT_LOST_STAGES = ("Closed Lost", "Lost")

RESERVED = (
    "stage",
    "from_stage",
    "to_stage",
    "kind",
    "numerator",
    "denominator",
    "rate",
    "ci_low",
    "ci_high",
    "mean_days",
)

_EPOCH = datetime(1970, 1, 1)
_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1) - _EPOCH


def _check_names(name: str, value: object) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if (
        not isinstance(names, Sequence)
        or not names
        or not all(isinstance(v, str) and v.strip() for v in names)
    ):
        raise ConfigError(f"{name} must be one or more non-empty stage names; got {value!r}")
    return tuple(v.strip().lower() for v in names)


def _check_stages(won_stages: object, lost_stages: object) -> tuple[tuple[str, ...], ...]:
    won = _check_names("won_stages", won_stages)
    lost = _check_names("lost_stages", lost_stages)
    both = sorted(set(won) & set(lost))
    if both:
        raise ConfigError(f"won_stages and lost_stages share {both}")
    return won, lost


def _check_at(at: object) -> str:
    if not isinstance(at, str) or not at:
        raise ConfigError(f"at must be the name of the history's timestamp column; got {at!r}")
    return at


def _paths(
    history: nw.LazyFrame[Any],
    opportunities: nw.LazyFrame[Any] | None,
    *,
    at: str,
    keys: Sequence[str],
    won: Sequence[str],
    lost: Sequence[str],
    cutoff: datetime,
    tz: str,
) -> nw.LazyFrame[Any]:
    """The kept entries of every path, one row each, with the next entry's stage, the
    days to it (or to C), 0/1 ``won``/``lost``/``exit``/``open`` flags and the number
    of rows ignored after the close (on the closing entry)."""
    require_columns(history, "stage_changes", ("opportunity_id", "stage", at))
    history = _compat.with_row_order(history, "__pk_row")
    history = _compat.to_local_naive(history, [at], tz=tz, table="stage_changes")
    rows = history.filter(
        ~nw.col("opportunity_id").is_null() & ~nw.col("stage").is_null() & (nw.col(at) < cutoff)
    ).select(
        nw.col("opportunity_id").cast(nw.String),
        nw.col("stage").cast(nw.String),
        nw.col(at).cast(nw.Datetime("us")).alias("__pk_at"),
        nw.col("__pk_row"),
    )
    if opportunities is not None:
        require_columns(opportunities, "opportunities", ("opportunity_id", "created_at", *keys))
        opps = _compat.to_local_naive(opportunities, ["created_at"], tz=tz, table="opportunities")
        opps = opps.filter(nw.col("created_at") < cutoff).select(
            nw.col("opportunity_id").cast(nw.String), *[nw.col(k) for k in keys]
        )
        rows = rows.join(opps.unique(["opportunity_id"]), on="opportunity_id", how="inner")
    order = ["__pk_at", "__pk_row"]
    folded = nw.col("stage").str.strip_chars().str.to_lowercase()
    kind: Any = nw.when(folded.is_in(list(won))).then(nw.lit("won"))
    kind = kind.when(folded.is_in(list(lost))).then(nw.lit("lost")).otherwise(nw.lit("open"))
    rows = rows.with_columns(
        kind.alias("kind"),
        nw.col("stage").shift(1).over("opportunity_id", order_by=order).alias("__pk_prev"),
    )
    # collapse repeats: a row with the stage of the row before it is not an entry
    repeat = (nw.col("stage") == nw.col("__pk_prev")).fill_null(value=False)
    entries = rows.filter(~repeat).with_columns(nw.lit(1).cast(nw.Int64).alias("__pk_one"))
    entries = entries.with_columns(
        nw.col("__pk_one").cum_sum().over("opportunity_id", order_by=order).alias("__pk_k")
    )
    closing = nw.when(nw.col("kind") != "open").then(nw.col("__pk_k"))
    entries = entries.with_columns(
        closing.min().over("opportunity_id").alias("__pk_close"),
    )
    after = (nw.col("__pk_k") > nw.col("__pk_close")).fill_null(value=False)
    entries = entries.with_columns(
        flag(after).sum().over("opportunity_id").alias("__pk_ignored")
    ).filter(~after)
    entries = entries.with_columns(
        nw.col("stage").shift(-1).over("opportunity_id", order_by="__pk_k").alias("next_stage"),
        nw.col("__pk_at").shift(-1).over("opportunity_id", order_by="__pk_k").alias("__pk_next"),
    )
    instants = {"__pk_at": "__pk_at_us", "__pk_next": "__pk_next_us"}
    entries = with_instants(entries, instants, tz=tz, last_year=cutoff.year)
    cut_us = (instant_of(cutoff, tz) - _EPOCH) // _ONE_US
    is_open = nw.col("kind") == "open"
    has_next = ~nw.col("next_stage").is_null()
    end_us = nw.when(has_next).then(nw.col("__pk_next_us")).otherwise(nw.lit(cut_us))
    return entries.select(
        *[nw.col(k) for k in keys],
        nw.col("opportunity_id"),
        nw.col("stage"),
        nw.col("kind"),
        nw.col("next_stage"),
        # whole microseconds: sums of integers are exact, so every engine and every
        # run gives the same mean days
        nw.when(is_open)
        .then(end_us - nw.col("__pk_at_us"))
        .otherwise(0)
        .cast(nw.Int64)
        .alias("us"),
        flag(has_next).alias("exit"),
        flag(is_open & ~has_next).alias("open"),
        nw.when(~is_open).then(nw.col("__pk_ignored")).otherwise(0).alias("ignored"),
    )


def _enter(
    function: str,
    stage_changes: Any,
    opportunities: Any,
    by: object,
    won_stages: object,
    lost_stages: object,
    at: object,
) -> tuple[
    _compat.Session,
    nw.LazyFrame[Any],
    nw.LazyFrame[Any] | None,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    str,
]:
    keys = check_by("by", by, reserved=RESERVED)
    won, lost = _check_stages(won_stages, lost_stages)
    column = _check_at(at)
    if keys and opportunities is None:
        raise ConfigError("by needs opportunities= (the by columns are opportunity columns)")
    natives = [stage_changes, *([] if opportunities is None else [opportunities])]
    lazies, session = _compat.enter(natives, function=function)
    opps = lazies[1] if opportunities is not None else None
    return session, lazies[0], opps, keys, won, lost, column


def stage_transitions(
    stage_changes: FrameT,
    *,
    opportunities: Any = None,
    as_of: AsOf,
    won_stages: Sequence[str] = DEFAULT_WON_STAGES,
    lost_stages: Sequence[str] = DEFAULT_LOST_STAGES,
    at: str = "entered_at",
    by: By = (),
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """Stage-to-stage transition counts and rates from stage history (ステージ遷移率).

    Parameters
    ----------
    stage_changes
        ``stage_changes`` (``opportunity_id``, ``stage``, ``entered_at``) or any
        history with a stage and a timestamp column (see ``at``).
    opportunities
        Optional canonical opportunities (same frame library): history rows then
        count only for opportunities created before the cut-off, and ``by`` may
        name opportunity columns.
    as_of
        Required: the last day observed (rows on or after the next midnight are
        ignored).
    won_stages, lost_stages
        Stage names read as won / lost (case-insensitive).
    at
        The history's timestamp column (default ``"entered_at"``).
    by
        Opportunity columns to split by (needs ``opportunities``).
    zero_division
        Unused by the rates themselves (every listed row has exits) but accepted for
        a uniform API: ``"raise"`` still raises if a row had none.
    confidence
        Level of the Wilson intervals, default 0.95.
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, ``from_stage``, ``to_stage``,
    ``numerator`` (moves a -> b), ``denominator`` (exits of a), ``rate``,
    ``ci_low``, ``ci_high``, ``mean_days`` (mean days in ``from_stage`` before the
    move); sorted by ``by``, ``from_stage``, ``to_stage``.

    Examples
    --------
    >>> import pandas as pd
    >>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1", "O1", "O1"],
    ...     "stage": ["list", "quote", "quote", "proposal"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-03", "2025-04-04",
    ...                                   "2025-04-09"])})
    >>> stage_transitions(hist, as_of="2025-04-30")[["from_stage", "to_stage", "mean_days"]]
      from_stage  to_stage  mean_days
    0       list     quote        2.0
    1      quote  proposal        6.0
    """
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    session, history, opps, keys, won, lost, column = _enter(
        "stage_transitions", stage_changes, opportunities, by, won_stages, lost_stages, at
    )
    cutoff = as_of_cutoff(as_of)
    paths = _paths(history, opps, at=column, keys=keys, won=won, lost=lost, cutoff=cutoff, tz=tz)
    moves = (
        paths.filter(nw.col("exit") == 1)
        .group_by(*keys, "stage", "next_stage")
        .agg(nw.col("exit").sum().alias("numerator"), nw.col("us").sum().alias("__pk_us"))
        .with_columns(
            nw.col("numerator").sum().over(*keys, "stage").alias("denominator"),
        )
    )
    result = with_rate_columns(
        moves, "numerator", "denominator", zero_division=zero_division, confidence=confidence
    ).select(
        *[nw.col(k) for k in keys],
        nw.col("stage").alias("from_stage"),
        nw.col("next_stage").alias("to_stage"),
        nw.col("numerator").cast(nw.Int64),
        nw.col("denominator").cast(nw.Int64),
        nw.col("rate"),
        nw.col("ci_low"),
        nw.col("ci_high"),
        (nw.col("__pk_us").cast(nw.Float64) / (nw.col("numerator") * DAY_US).cast(nw.Float64))
        .cast(nw.Float64)
        .alias("mean_days"),
    )
    result = result.sort([*keys, "from_stage", "to_stage"], nulls_last=True)
    if zero_division == "raise":
        raise_on_zero_denominator(session.collect(result), "denominator", "stage_transitions")
    return session.finish(result)  # type: ignore[no-any-return]


# --------------------------------------------------------------------- absorbing chain


def _stage_stats(paths: nw.LazyFrame[Any], keys: Sequence[str]) -> nw.LazyFrame[Any]:
    """Per group and stage: entries, exits, open entries, exposure days, ignored rows."""
    return paths.group_by(*keys, "stage", "kind").agg(
        nw.len().alias("entries"),
        nw.col("exit").sum(),
        nw.col("open").sum(),
        nw.col("us").sum(),
        nw.col("ignored").sum(),
    )


def _solve(
    stages: list[tuple[str, str, int, int, int, float, int]],
    moves: list[tuple[str, str, int]],
) -> dict[str, dict[str, float | None]]:
    """The absorbing-chain results of one group.

    ``stages``: (stage, kind, entries, exits, open, exposure days, ignored);
    ``moves``: (from, to, count).
    """
    kind = {s[0]: s[1] for s in stages}
    exits = {s[0]: s[3] for s in stages}
    exposure = {s[0]: s[5] for s in stages}
    for _a, b, _ in moves:  # a stage reached only as a move's target
        kind.setdefault(b, "open")
        exits.setdefault(b, 0)
        exposure.setdefault(b, 0.0)
    resolvable = sorted(s for s, k in kind.items() if k == "open" and exits[s] > 0)
    unresolved = {s for s, k in kind.items() if k == "open" and exits[s] == 0}
    # stages that reach won, lost or an unresolved stage
    edges: dict[str, set[str]] = {}
    for a, b, count in moves:
        if count > 0:
            edges.setdefault(a, set()).add(b)
    sinks = {s for s, k in kind.items() if k != "open"} | unresolved
    reach = set(sinks)
    changed = True
    while changed:
        changed = False
        for a in resolvable:
            if a not in reach and edges.get(a, set()) & reach:
                reach.add(a)
                changed = True
    solvable = [s for s in resolvable if s in reach]
    stuck = {s for s in resolvable if s not in reach}
    index = {s: i for i, s in enumerate(solvable)}
    n = len(solvable)
    q = np.zeros((n, n))
    r = np.zeros((n, 3))  # won, lost, unresolved
    for a, b, count in moves:
        if a not in index:
            continue
        p = count / exits[a]
        if b in index:
            q[index[a], index[b]] += p
        elif kind[b] == "won":
            r[index[a], 0] += p
        elif kind[b] == "lost":
            r[index[a], 1] += p
        else:  # unresolved or stuck
            r[index[a], 2] += p
    out: dict[str, dict[str, float | None]] = {}
    empty: dict[str, float | None] = dict.fromkeys(
        ("p_win", "p_lost", "p_unresolved", "to_close", "to_win", "mean_days")
    )
    if n:
        try:
            system = np.eye(n) - q
            absorb = np.linalg.solve(system, r)
            mean = np.array([exposure[s] / exits[s] for s in solvable])
            close = absorb[:, 0] + absorb[:, 1]
            g_close = np.linalg.solve(system, mean * close)
            g_win = np.linalg.solve(system, mean * absorb[:, 0])
        except np.linalg.LinAlgError:
            solvable, absorb = [], np.zeros((0, 3))
        for s in solvable:
            i = index[s]
            p_win, p_lost, p_unres = (float(x) for x in absorb[i])
            out[s] = {
                "p_win": p_win,
                "p_lost": p_lost,
                "p_unresolved": p_unres,
                "to_close": float(g_close[i] / close[i]) if close[i] > 0 else None,
                "to_win": float(g_win[i] / p_win) if p_win > 0 else None,
                "mean_days": exposure[s] / exits[s],
            }
    for s, k in kind.items():
        if k == "won":
            out[s] = {**empty, "p_win": 1.0, "p_lost": 0.0, "p_unresolved": 0.0}
            out[s].update(to_close=0.0, to_win=0.0)
        elif k == "lost":
            out[s] = {**empty, "p_win": 0.0, "p_lost": 1.0, "p_unresolved": 0.0}
            out[s].update(to_close=0.0)
        elif s in unresolved or s in stuck or s not in out:
            out[s] = dict(empty)
    return out


_CHAIN_COLUMNS: dict[str, Any] = {
    "stage": nw.String(),
    "kind": nw.String(),
    "entered_count": nw.Int64(),
    "exit_count": nw.Int64(),
    "open_count": nw.Int64(),
    "ignored_after_close_count": nw.Int64(),
    "p_win": nw.Float64(),
    "p_lost": nw.Float64(),
    "p_unresolved": nw.Float64(),
    "mean_days": nw.Float64(),
    "expected_days_to_close": nw.Float64(),
    "expected_days_to_win": nw.Float64(),
}


def _chain(
    session: _compat.Session, paths: nw.LazyFrame[Any], keys: Sequence[str]
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Collect the per-stage and per-move counts, solve the chain of every group."""
    key_schema = _compat.column_kinds(paths, keys)
    stats = session.collect(_stage_stats(paths, keys)).rows(named=True)
    moves = session.collect(
        paths.filter(nw.col("exit") == 1)
        .group_by(*keys, "stage", "next_stage")
        .agg(nw.col("exit").sum().alias("count"))
    ).rows(named=True)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in stats:
        group = groups.setdefault(tuple(row[k] for k in keys), {"stages": [], "moves": []})
        group["stages"].append(
            (
                row["stage"],
                row["kind"],
                int(_compat.python_value(row["entries"])),
                int(_compat.python_value(row["exit"])),
                int(_compat.python_value(row["open"])),
                int(_compat.python_value(row["us"])) / DAY_US,
                int(_compat.python_value(row["ignored"])),
            )
        )
    for row in moves:
        group = groups.setdefault(tuple(row[k] for k in keys), {"stages": [], "moves": []})
        group["moves"].append(
            (row["stage"], row["next_stage"], int(_compat.python_value(row["count"])))
        )
    data: dict[str, list[Any]] = {c: [] for c in (*keys, *_CHAIN_COLUMNS)}
    for group_key in sorted(groups, key=_sort_key):
        group = groups[group_key]
        solved = _solve(group["stages"], group["moves"])
        counts = {s[0]: s for s in group["stages"]}
        for stage in sorted(solved):
            row = counts.get(stage, (stage, "open", 0, 0, 0, 0.0, 0))
            result = solved[stage]
            for k, value in zip(keys, group_key, strict=True):
                data[k].append(value)
            data["stage"].append(stage)
            data["kind"].append(row[1])
            data["entered_count"].append(row[2])
            data["exit_count"].append(row[3])
            data["open_count"].append(row[4])
            data["ignored_after_close_count"].append(row[6])
            data["p_win"].append(result["p_win"])
            data["p_lost"].append(result["p_lost"])
            data["p_unresolved"].append(result["p_unresolved"])
            data["mean_days"].append(result["mean_days"])
            data["expected_days_to_close"].append(result["to_close"])
            data["expected_days_to_win"].append(result["to_win"])
    return data, {**key_schema, **_CHAIN_COLUMNS}


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, "" if v is None else v) for v in key)


def stage_win_probability(
    stage_changes: FrameT,
    *,
    opportunities: Any = None,
    as_of: AsOf,
    won_stages: Sequence[str] = DEFAULT_WON_STAGES,
    lost_stages: Sequence[str] = DEFAULT_LOST_STAGES,
    at: str = "entered_at",
    by: By = (),
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """Chance that a deal in each stage is won, and the expected days to close (受注確率).

    From the absorbing Markov chain of :func:`stage_transitions` (see the module
    documentation). The small chain is solved in Python at call time (a linear system
    of at most one row per stage), so a lazy input is collected then.

    Parameters
    ----------
    stage_changes, opportunities, as_of, won_stages, lost_stages, at, by, tz
        As in :func:`stage_transitions`.

    Returns
    -------
    Frame of the caller's kind, one row per ``by`` group and stage: ``stage``,
    ``kind`` (``open``, ``won``, ``lost``), ``entered_count`` (entries),
    ``exit_count``, ``open_count`` (entries still open at the cut-off),
    ``ignored_after_close_count`` (rows after a won/lost entry, on that entry's row),
    ``p_win``, ``p_lost``, ``p_unresolved`` (null for a stage never left or in a loop
    that never closes), ``mean_days`` (mean days in the stage), ``expected_days_to_close``
    and ``expected_days_to_win`` (from entering the stage); sorted by the groups and
    stage.

    Examples
    --------
    >>> import pandas as pd
    >>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1", "O1", "O2", "O2", "O3"],
    ...     "stage": ["proposal", "quote", "won", "proposal", "lost", "quote"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-05", "2025-04-15",
    ...                                   "2025-04-01", "2025-04-03", "2025-04-20"])})
    >>> p = stage_win_probability(hist, as_of="2025-04-30")
    >>> p[["stage", "entered_count", "p_win", "expected_days_to_close"]]
          stage  entered_count  p_win  expected_days_to_close
    0      lost              1    0.0                     0.0
    1  proposal              2    0.5                    13.5
    2     quote              2    1.0                    21.0
    3       won              1    1.0                     0.0
    """
    session, history, opps, keys, won, lost, column = _enter(
        "stage_win_probability", stage_changes, opportunities, by, won_stages, lost_stages, at
    )
    cutoff = as_of_cutoff(as_of)
    paths = _paths(history, opps, at=column, keys=keys, won=won, lost=lost, cutoff=cutoff, tz=tz)
    data, schema = _chain(session, paths, keys)
    result = _compat.from_columns(paths, data, schema).sort([*keys, "stage"], nulls_last=True)
    return session.finish(result)  # type: ignore[no-any-return]


def win_probability_calibration(
    opportunities: FrameT,
    stage_changes: Any,
    *,
    as_of: AsOf,
    won_stages: Sequence[str] = DEFAULT_WON_STAGES,
    lost_stages: Sequence[str] = DEFAULT_LOST_STAGES,
    at: str = "entered_at",
    confidence: float = 0.95,
    zero_division: ZeroDivision = "nan",
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """The CRM's win probability per stage against the history's (確度の検証).

    For every open stage: the CRM's ``probability`` of the deals open in that stage at
    the cut-off (their stage is the last entry of their path; ``probability`` is the
    opportunities table's value, a snapshot at export), the chain's ``p_win``
    (:func:`stage_win_probability`) and the observed outcome of the closed paths that
    entered the stage (won / closed, with a Wilson interval).

    Parameters
    ----------
    opportunities
        Canonical opportunities with ``opportunity_id``, ``created_at`` and
        ``probability`` (0-1).
    stage_changes, as_of, won_stages, lost_stages, at, tz
        As in :func:`stage_transitions`.
    confidence
        Level of the Wilson intervals, default 0.95.
    zero_division
        Observed rate of a stage no closed path entered: ``"nan"`` (default), ``"0"``,
        ``"raise"``.

    Returns
    -------
    Frame of the caller's kind, one row per open stage: ``stage``, ``open_count``
    (deals open in the stage at the cut-off), ``crm_probability`` (their mean
    ``probability``, to the millionth; null when none has one), ``p_win``,
    ``numerator`` (closed paths through the stage that were won), ``denominator``
    (closed paths through the stage), ``rate``, ``ci_low``, ``ci_high``, ``gap``
    (``crm_probability`` - ``rate``); sorted by stage.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 3), "probability": [1.0, 0.0, 0.6]})
    >>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1", "O2", "O2", "O3"],
    ...     "stage": ["quote", "won", "quote", "lost", "quote"],
    ...     "entered_at": pd.to_datetime(["2025-04-01", "2025-04-09", "2025-04-01",
    ...                                   "2025-04-05", "2025-04-02"])})
    >>> win_probability_calibration(opps, hist, as_of="2025-04-30")[["stage", "open_count",
    ...     "crm_probability", "p_win", "rate", "gap"]]
       stage  open_count  crm_probability  p_win  rate  gap
    0  quote           1              0.6    0.5   0.5  0.1
    """
    zero_division = check_zero_division(zero_division)
    confidence = check_confidence(confidence)
    won, lost = _check_stages(won_stages, lost_stages)
    column = _check_at(at)
    (opps, history), session = _compat.enter(
        [opportunities, stage_changes], function="win_probability_calibration"
    )
    require_columns(opps, "opportunities", ("opportunity_id", "created_at", "probability"))
    cutoff = as_of_cutoff(as_of)
    paths = _paths(history, opps, at=column, keys=(), won=won, lost=lost, cutoff=cutoff, tz=tz)
    data, schema = _chain(session, paths, ())
    chain = _compat.from_columns(paths, data, schema).filter(nw.col("kind") == "open")
    # the end of each path: won, lost or still open
    ends = (
        paths.with_columns(
            flag(nw.col("kind") == "won").alias("__pk_won"),
            flag(nw.col("kind") != "open").alias("__pk_closed"),
        )
        .group_by("opportunity_id")
        .agg(nw.col("__pk_won").max(), nw.col("__pk_closed").max())
    )
    visited = (
        paths.filter(nw.col("kind") == "open")
        .select("opportunity_id", "stage")
        .unique()
        .join(ends, on="opportunity_id", how="left")
        .group_by("stage")
        .agg(
            nw.col("__pk_won").sum().alias("numerator"),
            nw.col("__pk_closed").sum().alias("denominator"),
        )
    )
    probability = opps.select(
        nw.col("opportunity_id").cast(nw.String), nw.col("probability").cast(nw.Float64)
    ).unique(["opportunity_id"])
    current = (
        paths.filter(nw.col("open") == 1)
        .join(probability, on="opportunity_id", how="left")
        .with_columns(
            flag(~nw.col("probability").is_null()).alias("__pk_known"),
            # millionths, summed as integers: the same mean on every engine and run
            (nw.col("probability") * 1_000_000).round(0).cast(nw.Int64).alias("__pk_micro"),
        )
        .group_by("stage")
        .agg(
            nw.len().alias("open_count"),
            nw.col("__pk_micro").sum(),
            nw.col("__pk_known").sum(),
        )
        .with_columns(
            nw.when(nw.col("__pk_known") > 0)
            .then(
                nw.col("__pk_micro").cast(nw.Float64)
                / (nw.col("__pk_known") * 1_000_000).cast(nw.Float64)
            )
            .alias("crm_probability")
        )
    )
    table = (
        chain.select("stage", "p_win")
        .join(visited, on="stage", how="left")
        .join(current, on="stage", how="left")
        .with_columns(
            nw.col("numerator").fill_null(0).cast(nw.Int64),
            nw.col("denominator").fill_null(0).cast(nw.Int64),
            nw.col("open_count").fill_null(0).cast(nw.Int64),
        )
    )
    table = with_rate_columns(
        table, "numerator", "denominator", zero_division=zero_division, confidence=confidence
    )
    result = table.select(
        nw.col("stage"),
        nw.col("open_count"),
        nw.col("crm_probability").cast(nw.Float64),
        nw.col("p_win").cast(nw.Float64),
        nw.col("numerator"),
        nw.col("denominator"),
        nw.col("rate"),
        nw.col("ci_low"),
        nw.col("ci_high"),
        (nw.col("crm_probability") - nw.col("rate")).cast(nw.Float64).alias("gap"),
    ).sort("stage")
    if zero_division == "raise":
        raise_on_zero_denominator(session.collect(result), "denominator", "calibration")
    return session.finish(result)  # type: ignore[no-any-return]
