"""Targets: quota attainment and pace, pipeline coverage and forecast accuracy
(DESIGN section 7).

Every function reads the ``quotas`` table: one row per rep (``owner_id``) or team
(``team``, a name from ``reps.team``), period (``period_start`` to ``period_end``,
both included) and ``metric``, with a ``target`` >= 0. Actuals count up to the end
of ``as_of`` (in the dataset time zone):

==============  ==================================================================
won_amount      amount (as of ``as_of``) of deals won by then with close date in the
                period; the owner is the current ``owner_id``
won_count       the number of those deals
sqls            opportunities created in the period (all of them, as the summary's
                ``sqls``)
meetings_held   activities with channel ``meeting`` and outcome ``held`` in the
                period, by the activity's ``owner_id``
==============  ==================================================================

A team quota's actual sums the reps whose ``reps.team`` is that team. Amounts as of a
day come from ``opportunity_history`` and ``stage_changes`` carried forward
(:mod:`pipelinekit.facts.history`); a missing amount counts 0 in sums.

- :func:`quota_attainment`: actual / target per quota row, and pace to date inside
  an open period (the target pro-rated by calendar or business days).
- :func:`pipeline_coverage`: open pipeline expected to close in the period that
  contains ``as_of`` / remaining target, beside the coverage the trailing win rate
  needs.
- :func:`forecast_accuracy`: the forecast read from the pipeline a fixed number of
  days before each closed period's end, against the won amount.

Ratios with a zero denominator (a target of 0, a remaining target <= 0, no won
amount) follow ``zero_division``: NaN by default, ``"0"`` for 0.0, ``"raise"`` to
raise. Roll-ups (``rollup=``) are sums of the parts: sum of actuals / sum of
targets, never a mean of percentages; rep and team quota rows are never summed
together (``level`` is always a roll-up key), and neither are two metrics.

Examples
--------
>>> import pandas as pd
>>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "owner_id": ["R1"] * 3,
...     "created_at": pd.to_datetime(["2025-09-01", "2025-10-02", "2025-10-03"]),
...     "closed_at": pd.to_datetime(["2025-10-10", "2025-10-20", None]),
...     "is_won": pd.array([True, True, None], dtype="boolean"),
...     "amount": [300.0, 200.0, 400.0],
...     "expected_close_on": pd.to_datetime(["2025-10-10", "2025-10-20", "2025-10-30"])})
>>> quotas = pd.DataFrame({"owner_id": ["R1"], "period_start": pd.to_datetime(["2025-10-01"]),
...     "period_end": pd.to_datetime(["2025-10-31"]), "metric": ["won_amount"],
...     "target": [1000.0]})
>>> att = quota_attainment(quotas, opportunities=opps, as_of="2025-10-24")
>>> att[["actual", "attainment", "elapsed_share", "pace"]].round(3)
   actual  attainment  elapsed_share   pace
0   500.0         0.5          0.774  0.646
>>> cov = pipeline_coverage(quotas, opportunities=opps, as_of="2025-10-24")
>>> cov[["pipeline", "remaining", "coverage", "win_rate", "coverage_needed"]]
   pipeline  remaining  coverage  win_rate  coverage_needed
0     400.0      500.0       0.8       1.0              1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

import attrs
import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_by, check_choice, check_int
from pipelinekit._exprs import flag, require_columns
from pipelinekit.domain import ForecastCategory, QuotaMetric
from pipelinekit.errors import ConfigError, Problem, SchemaError
from pipelinekit.facts import TIMESTAMP_COLUMNS, Facts, shared_states_on
from pipelinekit.periods import DEFAULT_COUNTRY, business_days, check_country, parse_as_of
from pipelinekit.rates import ZeroDenominatorError, check_zero_division
from pipelinekit.types import DEFAULT_TZ, AsOf, By, ZeroDivision

__all__ = [
    "FORECAST_KINDS",
    "QUOTA_METRICS",
    "forecast_accuracy",
    "pipeline_coverage",
    "quota_attainment",
]

FrameT = TypeVar("FrameT")
Pace = Literal["days", "business_days"]
ForecastKind = Literal["commit", "commit_best_case", "weighted"]

#: The metrics a quota row can count.
QUOTA_METRICS = tuple(m.value for m in QuotaMetric)
#: What :func:`forecast_accuracy` reads as the forecast of the open deals.
FORECAST_KINDS: dict[str, tuple[str, ...]] = {
    "commit": (ForecastCategory.COMMIT.value,),
    "commit_best_case": (ForecastCategory.COMMIT.value, ForecastCategory.BEST_CASE.value),
    "weighted": (),
}
#: Quota columns a roll-up can group by (``level`` and ``metric`` always are keys:
#: ``rollup="metric"`` sums every quota row of a level and metric).
ROLLUP_KEYS = ("level", "metric", "team", "owner_id", "period_start", "period_end")

_HOLDER_COLUMNS = ("level", "owner_id", "team", "metric", "period_start", "period_end")


# ------------------------------------------------------------------ quota rows


@attrs.frozen
class _Quota:
    """One validated quota row; ``team`` of a rep row is the rep's ``reps.team``."""

    index: int
    level: str
    owner_id: str | None
    team: str | None
    metric: str
    start: date
    end: date
    target: float

    @property
    def holder(self) -> str:
        return self.owner_id if self.level == "rep" else self.team  # type: ignore[return-value]

    def status(self, as_of: date) -> str:
        if self.end <= as_of:
            return "closed"
        return "open" if self.start <= as_of else "future"


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _quota_problems(rows: Sequence[Mapping[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[Any, ...], int] = {}

    def add(row: int, column: str, rule: str, message: str, value: Any = None) -> None:
        problems.append(
            Problem(
                table="quotas",
                column=column,
                rule=rule,
                message=message,
                row=row,
                value=None if value is None else str(value),
            )
        )

    for row, values in enumerate(rows, start=1):
        owner, team = values["owner_id"], values["team"]
        start, end = _as_date(values["period_start"]), _as_date(values["period_end"])
        if (owner is None) == (team is None):
            add(row, "owner_id", "quota_holder", "a quota needs exactly one of owner_id and team")
        if values["metric"] not in QUOTA_METRICS:
            add(
                row,
                "metric",
                "unknown_enum",
                f"not one of {', '.join(QUOTA_METRICS)}",
                values["metric"],
            )
        target = values["target"]
        if target is None or not math.isfinite(target) or target < 0:
            add(row, "target", "bad_target", "target must be a number >= 0", target)
        if start is None or end is None:
            add(row, "period_start", "missing_value", "period_start and period_end are required")
        elif end < start:
            add(
                row,
                "period_end",
                "period_end_before_start",
                "period_end is before period_start",
                end,
            )
        key = (owner, team, values["metric"], start, end)
        if key in seen:
            add(
                row,
                "owner_id",
                "duplicate_quota",
                f"the same quota as row {seen[key]}",
                owner or team,
            )
        seen.setdefault(key, row)
    return problems


def _read_quotas(quotas: nw.LazyFrame[Any], rep_teams: Mapping[str, str | None]) -> list[_Quota]:
    require_columns(quotas, "quotas", ("period_start", "period_end", "metric", "target"))
    names = quotas.collect_schema().names()
    if "owner_id" not in names and "team" not in names:
        raise SchemaError.single(
            table="quotas",
            column="owner_id",
            rule="missing_column",
            message="a quotas table needs an owner_id or a team column",
        )
    text = [
        (nw.col(c) if c in names else nw.lit(None)).cast(nw.String).alias(c)
        for c in ("owner_id", "team", "metric")
    ]
    rows = (
        quotas.select(
            *text,
            nw.col("period_start").cast(nw.Datetime("us")),
            nw.col("period_end").cast(nw.Datetime("us")),
            nw.col("target").cast(nw.Float64),
        )
        .collect()
        .rows(named=True)
    )
    problems = _quota_problems(rows)
    if problems:
        raise SchemaError(problems)
    out = []
    for index, values in enumerate(rows):
        owner = _text(values["owner_id"])
        level = "rep" if owner is not None else "team"
        team = rep_teams.get(owner) if owner is not None else _text(values["team"])
        out.append(
            _Quota(
                index=index,
                level=level,
                owner_id=owner,
                team=team,
                metric=values["metric"],
                start=_as_date(values["period_start"]),  # type: ignore[arg-type]
                end=_as_date(values["period_end"]),  # type: ignore[arg-type]
                target=float(values["target"]),
            )
        )
    return sorted(out, key=lambda q: (q.level, q.holder, q.metric, q.start, q.end))


# ------------------------------------------------------------------ inputs


@attrs.frozen
class _Inputs:
    frames: dict[str, nw.LazyFrame[Any]]
    natives: dict[str, Any]
    session: _compat.Session
    tz: str

    def get(self, name: str) -> nw.LazyFrame[Any] | None:
        return self.frames.get(name)


def _enter(function: str, tz: str, **natives: Any) -> _Inputs:
    present = {name: native for name, native in natives.items() if native is not None}
    lazies, session = _compat.enter(list(present.values()), function=function)
    frames = {
        name: _compat.to_local_naive(frame, TIMESTAMP_COLUMNS.get(name, ()), tz=tz, table=name)
        for name, frame in zip(present, lazies, strict=True)
    }
    return _Inputs(frames=frames, natives=natives, session=session, tz=tz)


def _rep_teams(inputs: _Inputs) -> dict[str, str | None]:
    reps = inputs.get("reps")
    if reps is None:
        return {}
    require_columns(reps, "reps", ("rep_id",))
    if "team" not in reps.collect_schema().names():
        return {}
    rows = reps.select(nw.col("rep_id").cast(nw.String), nw.col("team").cast(nw.String))
    return {str(r): t for r, t in rows.collect().rows()}


def _with_teams(function: str, inputs: _Inputs, quotas: list[_Quota]) -> list[_Quota]:
    if any(q.level == "team" for q in quotas):
        reps = inputs.get("reps")
        if reps is None or "team" not in reps.collect_schema().names():
            raise ConfigError(
                f"{function}: team quotas need reps= with a team column (a rep's team)"
            )
    return quotas


def _read(inputs: _Inputs, function: str, metric: str | None = None) -> list[_Quota]:
    """The quota rows (of one ``metric`` if given), checked."""
    rows = _read_quotas(inputs.frames["quotas"], _rep_teams(inputs))
    if metric is not None:
        rows = [q for q in rows if q.metric == metric]
    return _with_teams(function, inputs, rows)


def _states_on(inputs: _Inputs, days: Sequence[date], facts: Facts | None) -> nw.LazyFrame[Any]:
    opps = inputs.frames["opportunities"]
    require_columns(opps, "opportunities", ("opportunity_id", "owner_id", "created_at"))
    return shared_states_on(
        facts,
        opps,
        inputs.get("opportunity_history"),
        inputs.get("stage_changes"),
        days=days,
        tz=inputs.tz,
        opportunities=inputs.natives["opportunities"],
        opportunity_history=inputs.natives.get("opportunity_history"),
        stage_changes=inputs.natives.get("stage_changes"),
    )


# ------------------------------------------------------------------ events and sums


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _event(
    frame: nw.LazyFrame[Any], metric: str, snap: date | None, day: nw.Expr, value: nw.Expr
) -> nw.LazyFrame[Any]:
    """Events ``(metric, snap, owner_id, day, value)``, read on ``snap`` (None: on each
    state row's own ``day``)."""
    read_on = nw.col("day") if snap is None else nw.lit(_midnight(snap))
    return frame.select(
        nw.lit(metric).cast(nw.String).alias("metric"),
        read_on.cast(nw.Datetime("us")).alias("snap"),
        nw.col("owner_id").cast(nw.String).alias("owner_id"),
        day.dt.truncate("1d").cast(nw.Datetime("us")).alias("day"),
        value.cast(nw.Float64).alias("value"),
    )


def _own_metric(q: _Quota) -> str:
    return q.metric


def _named(metric: str) -> Callable[[_Quota], str]:
    return lambda q: metric


def _on(day: date) -> Callable[[_Quota], date]:
    return lambda q: day


def _amount() -> nw.Expr:
    return nw.col("amount").fill_null(0.0).cast(nw.Float64)


def _actual_events(
    inputs: _Inputs, metrics: set[str], as_of: date, states: nw.LazyFrame[Any] | None
) -> list[nw.LazyFrame[Any]]:
    """Per owner and day: what each quota metric counts up to the end of ``as_of``."""
    end = _midnight(as_of + timedelta(days=1))
    parts = []
    if metrics & {"won_amount", "won_count"}:
        assert states is not None
        won = states.filter(nw.col("won_flag") == 1)
        parts.append(_event(won, "won_amount", as_of, nw.col("closed_at"), _amount()))
        parts.append(_event(won, "won_count", as_of, nw.col("closed_at"), nw.lit(1.0)))
    if "sqls" in metrics:
        created = inputs.frames["opportunities"].filter(nw.col("created_at") < end)
        parts.append(_event(created, "sqls", as_of, nw.col("created_at"), nw.lit(1.0)))
    if "meetings_held" in metrics:
        activities = inputs.get("activities")
        if activities is None:
            raise ConfigError("meetings_held quotas need activities=")
        require_columns(activities, "activities", ("owner_id", "occurred_at", "channel", "outcome"))
        held = (nw.col("channel") == "meeting") & (nw.col("outcome") == "held")
        meetings = activities.filter(held.fill_null(value=False) & (nw.col("occurred_at") < end))
        parts.append(_event(meetings, "meetings_held", as_of, nw.col("occurred_at"), nw.lit(1.0)))
    return parts


def _by_holder(
    parts: Sequence[nw.LazyFrame[Any]], inputs: _Inputs, *, teams: bool
) -> nw.LazyFrame[Any]:
    """Events keyed by quota holder: each rep's own, and with ``teams`` each team's."""
    events = nw.concat(list(parts), how="vertical").filter(~nw.col("owner_id").is_null())
    keys = [nw.col(c) for c in ("metric", "snap", "day", "value")]
    rep = events.select(nw.lit("rep").alias("level"), nw.col("owner_id").alias("holder"), *keys)
    if not teams:
        return rep
    reps = inputs.frames["reps"].select(
        nw.col("rep_id").cast(nw.String).alias("owner_id"), nw.col("team").cast(nw.String)
    )
    team = events.join(reps.filter(~nw.col("team").is_null()), on="owner_id", how="inner").select(
        nw.lit("team").alias("level"), nw.col("team").alias("holder"), *keys
    )
    return nw.concat([rep, team], how="vertical")


#: What :func:`_sums` reads per quota row: the event metric and the snapshot day.
Part = tuple[Callable[["_Quota"], str], Callable[["_Quota"], date]]


def _sums(
    quotas: Sequence[_Quota], events: nw.LazyFrame[Any], parts: Mapping[str, Part]
) -> dict[str, dict[int, tuple[float, int]]]:
    """Per part and quota row: the sum and count of the holder's events of the part's
    metric, read at its snapshot day and dated in the quota period (one query)."""
    names = list(parts)
    found: dict[str, dict[int, tuple[float, int]]] = {name: {} for name in names}
    if not quotas:
        return found
    rows = [(q, j) for q in quotas for j in range(len(names))]
    data: dict[str, list[Any]] = {
        "__q": [q.index * len(names) + j for q, j in rows],
        "level": [q.level for q, _ in rows],
        "holder": [q.holder for q, _ in rows],
        "metric": [parts[names[j]][0](q) for q, j in rows],
        "snap": [_midnight(parts[names[j]][1](q)) for q, j in rows],
        "__start": [_midnight(q.start) for q, _ in rows],
        "__end": [_midnight(q.end) for q, _ in rows],
    }
    schema = {
        "__q": nw.Int64(),
        "level": nw.String(),
        "holder": nw.String(),
        "metric": nw.String(),
        "snap": nw.Datetime("us"),
        "__start": nw.Datetime("us"),
        "__end": nw.Datetime("us"),
    }
    frame = _compat.from_columns(events, data, schema)
    inside = (nw.col("day") >= nw.col("__start")) & (nw.col("day") <= nw.col("__end"))
    summed = (
        frame.join(events, on=["level", "holder", "metric", "snap"], how="inner")
        .filter(inside)
        .group_by("__q")
        .agg(nw.col("value").sum().alias("value"), nw.len().alias("n"))
    )
    for key, value, n in summed.collect().rows():
        index, j = divmod(int(key), len(names))
        found[names[j]][index] = (
            float(_compat.python_value(value)),
            int(_compat.python_value(n)),
        )
    return found


# ------------------------------------------------------------------ ratios and output


def _ratio(numerator: float, denominator: float, zero_division: ZeroDivision, what: str) -> float:
    if denominator > 0:
        return numerator / denominator
    if zero_division == "raise":
        raise ZeroDenominatorError(f"{what}: the denominator is {denominator:g}")
    return 0.0 if zero_division == "0" else math.nan


def _elapsed_share(q: _Quota, as_of: date, pace: str, country: str) -> float:
    """The share of the quota period elapsed by the end of ``as_of``."""
    if q.end <= as_of:
        return 1.0
    if q.start > as_of:
        return 0.0
    if pace == "business_days":
        total = len(business_days(q.start, q.end, country=country))
        if total:
            return len(business_days(q.start, as_of, country=country)) / total
    return ((as_of - q.start).days + 1) / ((q.end - q.start).days + 1)


_DTYPES: dict[str, Any] = {
    "level": nw.String(),
    "owner_id": nw.String(),
    "team": nw.String(),
    "metric": nw.String(),
    "period_start": nw.Datetime("us"),
    "period_end": nw.Datetime("us"),
    "status": nw.String(),
    "snapshot_on": nw.Datetime("us"),
}


def _dtype(column: str) -> Any:
    if column.endswith("_count"):
        return nw.Int64()
    return _DTYPES.get(column, nw.Float64())


def _finish(inputs: _Inputs, rows: list[dict[str, Any]], columns: Sequence[str]) -> Any:
    like = inputs.frames["opportunities"]
    data = {c: [_midnight(r[c]) if isinstance(r[c], date) else r[c] for r in rows] for c in columns}
    frame = _compat.from_columns(like, data, {c: _dtype(c) for c in columns})
    return inputs.session.finish(frame)


def _holder_row(q: _Quota) -> dict[str, Any]:
    return {
        "level": q.level,
        "owner_id": q.owner_id,
        "team": q.team,
        "metric": q.metric,
        "period_start": q.start,
        "period_end": q.end,
    }


def _check_rollup(rollup: By) -> tuple[str, ...] | None:
    """The roll-up keys besides ``level`` and ``metric``; None for no roll-up."""
    keys = check_by("rollup", rollup)
    if not keys:
        return None
    unknown = [k for k in keys if k not in ROLLUP_KEYS]
    if unknown:
        raise ConfigError(
            f"rollup: {', '.join(map(repr, unknown))} is not a quota column; "
            f"choose from {', '.join(map(repr, ROLLUP_KEYS))}"
        )
    return tuple(k for k in keys if k not in ("level", "metric"))


def _grouped(
    rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Rows grouped by ``level``, ``metric`` and ``keys`` (missing keys sort first)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    names = ["level", "metric", *keys]
    for row in rows:
        groups.setdefault(tuple(row[k] for k in names), []).append(row)

    def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is not None, v if v is not None else "") for v in key)

    return [(dict(zip(names, k, strict=True)), groups[k]) for k in sorted(groups, key=order)]


def _total(rows: Sequence[dict[str, Any]], column: str) -> float:
    return math.fsum(r[column] for r in rows)


def _rolled_up(
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    sums: Sequence[str],
    counts: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One row per roll-up group: its keys, ``quota_count``, the float ``sums``
    (exactly rounded) and the integer ``counts`` of its member rows."""
    return [
        {
            **group,
            "quota_count": len(members),
            **{c: _total(members, c) for c in sums},
            **{c: sum(m[c] for m in members) for c in counts},
        }
        for group, members in _grouped(rows, keys)
    ]


# ------------------------------------------------------------------ public API


def quota_attainment(
    quotas: FrameT,
    *,
    opportunities: Any,
    as_of: AsOf,
    activities: Any = None,
    reps: Any = None,
    history: Any = None,
    stage_changes: Any = None,
    rollup: By = (),
    pace: Pace = "days",
    country: str = DEFAULT_COUNTRY,
    zero_division: ZeroDivision = "nan",
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """Actual against target per quota row, and pace to date (目標達成率).

    Parameters
    ----------
    quotas
        Canonical ``quotas`` (``owner_id`` or ``team``, ``period_start``,
        ``period_end``, ``metric``, ``target``); any supported frame.
    opportunities
        Canonical opportunities (``owner_id``, ``created_at``, ``closed_at``,
        ``is_won``, ``amount``), same frame library.
    as_of
        Actuals count up to the end of this day.
    activities
        Canonical activities; needed for ``meetings_held`` quotas.
    reps
        Canonical reps; needed for team quotas (``team``), and gives rep rows their
        ``team`` column.
    history, stage_changes
        Optional ``opportunity_history`` / ``stage_changes``: won amounts are read as
        of ``as_of`` from them.
    rollup
        Quota columns to sum the rows by (``"team"``, ``"owner_id"``,
        ``"period_start"``, ``"period_end"``); ``level`` and ``metric`` are always
        keys, so ``rollup="metric"`` sums all rows of a level and metric. Empty
        (default): one row per quota row.
    pace
        How the target is pro-rated inside an open period: ``"days"`` (calendar days,
        default) or ``"business_days"`` (weekdays that are not public holidays of
        ``country``; a period without any counts calendar days).
    country
        Holiday calendar for ``pace="business_days"`` (default ``"JP"``).
    zero_division
        ``attainment`` with a target of 0 and ``pace`` with nothing expected yet:
        ``"nan"`` (default), ``"0"`` or ``"raise"``.
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind, sorted by ``level``, holder, ``metric`` and period.
    Per quota row: ``level`` (``rep`` or ``team``), ``owner_id``, ``team``,
    ``metric``, ``period_start``, ``period_end``, ``status`` (``closed`` when the
    period ended by ``as_of``, ``open``, ``future``), ``target``, ``actual``,
    ``attainment`` = actual / target, ``elapsed_share`` (0 to 1),
    ``expected_to_date`` = target x elapsed share and ``pace`` = actual /
    expected to date (1 = on track). With ``rollup``: ``level``, ``metric``, the
    roll-up keys, ``quota_count`` and the sums ``target``, ``actual``,
    ``expected_to_date`` with ``attainment`` and ``pace`` from those sums.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "owner_id": ["R1", "R2"],
    ...     "created_at": pd.to_datetime(["2025-10-01", "2025-10-02"]),
    ...     "closed_at": pd.to_datetime(["2025-10-20", "2025-10-21"]),
    ...     "is_won": pd.array([True, True], dtype="boolean"), "amount": [300.0, 100.0]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["east", "east"]})
    >>> quotas = pd.DataFrame({"owner_id": ["R1", "R2"],
    ...     "period_start": pd.to_datetime(["2025-10-01"] * 2),
    ...     "period_end": pd.to_datetime(["2025-10-31"] * 2),
    ...     "metric": ["won_amount"] * 2, "target": [200.0, 600.0]})
    >>> quota_attainment(quotas, opportunities=opps, reps=reps, as_of="2025-10-31",
    ...                  rollup="team")[["team", "target", "actual", "attainment"]]
       team  target  actual  attainment
    0  east   800.0   400.0         0.5
    """
    keys = _check_rollup(rollup)
    pace = check_choice("pace", pace, ("days", "business_days"))
    country = check_country(country)
    zero_division = check_zero_division(zero_division)
    day = parse_as_of(as_of)
    inputs = _enter(
        "quota_attainment",
        tz,
        quotas=quotas,
        opportunities=opportunities,
        activities=activities,
        reps=reps,
        opportunity_history=history,
        stage_changes=stage_changes,
    )
    rows = _read(inputs, "quota_attainment")
    metrics = {q.metric for q in rows}
    states = _states_on(inputs, [day], facts) if metrics & {"won_amount", "won_count"} else None
    parts = _actual_events(inputs, metrics, day, states)
    teams = any(q.level == "team" for q in rows)
    sums = (
        _sums(rows, _by_holder(parts, inputs, teams=teams), {"actual": (_own_metric, _on(day))})[
            "actual"
        ]
        if parts
        else {}
    )
    out = []
    for q in rows:
        share = _elapsed_share(q, day, pace, country)
        row = {
            **_holder_row(q),
            "status": q.status(day),
            "target": q.target,
            "actual": sums.get(q.index, (0.0, 0))[0],
            "elapsed_share": share,
            "expected_to_date": q.target * share,
        }
        out.append(_with_attainment(row, zero_division))
    if keys is None:
        return _finish(inputs, out, _ATTAINMENT_COLUMNS)  # type: ignore[no-any-return]
    rolled = [
        _with_attainment(row, zero_division)
        for row in _rolled_up(out, keys, ("target", "actual", "expected_to_date"))
    ]
    columns = ["level", "metric", *keys, "quota_count", "target", "actual", "attainment"]
    return _finish(inputs, rolled, [*columns, "expected_to_date", "pace"])  # type: ignore[no-any-return]


def _with_attainment(row: dict[str, Any], zero_division: ZeroDivision) -> dict[str, Any]:
    """``row`` with ``attainment`` = actual / target and ``pace`` = actual / expected."""
    actual = row["actual"]
    row["attainment"] = _ratio(actual, row["target"], zero_division, "attainment")
    row["pace"] = _ratio(actual, row["expected_to_date"], zero_division, "pace")
    return row


_ATTAINMENT_COLUMNS = [
    *_HOLDER_COLUMNS,
    "status",
    "target",
    "actual",
    "attainment",
    "elapsed_share",
    "expected_to_date",
    "pace",
]


def _trailing_win_rate(inputs: _Inputs, as_of: date, days: int) -> tuple[int, int]:
    """Won and closed deals with ``closed_at`` in the ``days`` days ending with ``as_of``."""
    end = _midnight(as_of + timedelta(days=1))
    closed_at = nw.col("closed_at")
    window = (closed_at < end) & (closed_at >= end - timedelta(days=days))
    counts = (
        inputs.frames["opportunities"]
        .filter(window.fill_null(value=False))
        .select(flag(nw.col("is_won").fill_null(value=False)).alias("won"))
        .select(nw.col("won").sum().alias("won"), nw.len().alias("closed"))
        .collect()
        .rows()
    )
    won, closed = counts[0]
    return int(_compat.python_value(won) or 0), int(_compat.python_value(closed))


def pipeline_coverage(
    quotas: FrameT,
    *,
    opportunities: Any,
    as_of: AsOf,
    reps: Any = None,
    history: Any = None,
    stage_changes: Any = None,
    exclude_categories: Sequence[str] = (),
    win_rate_days: int = 365,
    rollup: By = (),
    zero_division: ZeroDivision = "nan",
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """Open pipeline against the remaining target of the period that contains ``as_of``
    (パイプラインカバレッジ).

    Parameters
    ----------
    quotas
        Canonical ``quotas``; only ``won_amount`` rows whose period contains ``as_of``
        are read.
    opportunities
        Canonical opportunities (``owner_id``, ``created_at``, ``closed_at``,
        ``is_won``, ``amount``, ``expected_close_on``, optional
        ``forecast_category``), same frame library.
    as_of
        The day the pipeline is read (at its end).
    reps
        Canonical reps; needed for team quotas.
    history, stage_changes
        Optional history: amounts, expected close dates and forecast categories as of
        ``as_of``.
    exclude_categories
        Forecast categories left out of the pipeline (e.g. ``["omitted"]``); by
        default every open deal counts, overdue ones included.
    win_rate_days
        The trailing window of the win rate: deals closed in the ``win_rate_days``
        days ending with ``as_of``, all owners (default 365).
    rollup
        Quota columns to sum by (as :func:`quota_attainment`).
    zero_division
        ``coverage`` with a remaining target <= 0 and ``coverage_needed`` with a win
        rate of 0: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind, one row per quota row (or roll-up group):
    ``level``, ``owner_id``, ``team``, ``metric``, ``period_start``, ``period_end``,
    ``target``, ``actual`` (won amount to date), ``remaining`` = target - actual,
    ``pipeline`` (amount of the holder's deals open on ``as_of`` with expected close
    in the period), ``pipeline_count``, ``coverage`` = pipeline / remaining,
    ``win_rate`` (trailing, by count), ``coverage_needed`` = 1 / win rate and
    ``pipeline_needed`` = remaining x coverage needed. Roll-ups sum target,
    actual, pipeline and count, and take the ratios from the sums.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3", "O4"],
    ...     "owner_id": ["R1"] * 4,
    ...     "created_at": pd.to_datetime(["2025-08-01", "2025-08-02", "2025-10-01", "2025-10-02"]),
    ...     "closed_at": pd.to_datetime(["2025-09-01", "2025-09-02", None, None]),
    ...     "is_won": pd.array([True, False, None, None], dtype="boolean"),
    ...     "amount": [50.0, 80.0, 600.0, 300.0],
    ...     "expected_close_on": pd.to_datetime(["2025-09-01", "2025-09-02", "2025-12-20",
    ...                                          "2026-01-15"])})
    >>> quotas = pd.DataFrame({"owner_id": ["R1"], "period_start": pd.to_datetime(["2025-10-01"]),
    ...     "period_end": pd.to_datetime(["2025-12-31"]), "metric": ["won_amount"],
    ...     "target": [400.0]})
    >>> pipeline_coverage(quotas, opportunities=opps, as_of="2025-11-15")[
    ...     ["pipeline", "remaining", "coverage", "coverage_needed", "pipeline_needed"]]
       pipeline  remaining  coverage  coverage_needed  pipeline_needed
    0     600.0      400.0       1.5              2.0            800.0
    """
    keys = _check_rollup(rollup)
    excluded = _check_categories(exclude_categories)
    window = check_int("win_rate_days", win_rate_days, minimum=1)
    zero_division = check_zero_division(zero_division)
    day = parse_as_of(as_of)
    inputs = _enter(
        "pipeline_coverage",
        tz,
        quotas=quotas,
        opportunities=opportunities,
        reps=reps,
        opportunity_history=history,
        stage_changes=stage_changes,
    )
    rows = [q for q in _read(inputs, "pipeline_coverage", "won_amount") if q.start <= day <= q.end]
    won_count, closed_count = _trailing_win_rate(inputs, day, window)
    win_rate = _ratio(won_count, closed_count, zero_division, "win rate")
    needed = _ratio(1.0, win_rate, zero_division, "coverage needed")
    actual_sums: dict[int, tuple[float, int]] = {}
    pipeline_sums: dict[int, tuple[float, int]] = {}
    if rows:
        states = _states_on(inputs, [day], facts)
        teams = any(q.level == "team" for q in rows)
        events = _actual_events(inputs, {"won_amount"}, day, states)
        open_deals = states.filter(nw.col("open_flag") == 1)
        if excluded:
            category = nw.col("forecast_category")
            open_deals = open_deals.filter(category.is_null() | ~category.is_in(list(excluded)))
        events.append(_event(open_deals, "pipeline", day, nw.col("expected_close_on"), _amount()))
        found = _sums(
            rows,
            _by_holder(events, inputs, teams=teams),
            {
                "actual": (_named("won_amount"), _on(day)),
                "pipeline": (_named("pipeline"), _on(day)),
            },
        )
        actual_sums, pipeline_sums = found["actual"], found["pipeline"]
    out = []
    for q in rows:
        actual = actual_sums.get(q.index, (0.0, 0))[0]
        amount, count = pipeline_sums.get(q.index, (0.0, 0))
        out.append(
            {
                **_holder_row(q),
                "target": q.target,
                "actual": actual,
                "pipeline": amount,
                "pipeline_count": count,
            }
        )
    if keys is not None:
        out = _rolled_up(out, keys, ("target", "actual", "pipeline"), ("pipeline_count",))
    for row in out:
        remaining = row["target"] - row["actual"]
        row["remaining"] = remaining
        row["coverage"] = _ratio(row["pipeline"], remaining, zero_division, "coverage")
        row["win_rate"] = win_rate
        row["coverage_needed"] = needed
        row["pipeline_needed"] = max(remaining, 0.0) * needed
    head = ["level", "metric", *keys, "quota_count"] if keys is not None else [*_HOLDER_COLUMNS]
    columns = [
        *head,
        "target",
        "actual",
        "remaining",
        "pipeline",
        "pipeline_count",
        "coverage",
        "win_rate",
        "coverage_needed",
        "pipeline_needed",
    ]
    return _finish(inputs, out, columns)  # type: ignore[no-any-return]


def _check_categories(categories: Sequence[str]) -> tuple[str, ...]:
    names = check_by("exclude_categories", categories) if categories else ()
    known = [c.value for c in ForecastCategory]
    unknown = [c for c in names if c not in known]
    if unknown:
        raise ConfigError(
            f"exclude_categories: {', '.join(map(repr, unknown))} is not a forecast "
            f"category; choose from {', '.join(map(repr, known))}"
        )
    return names


def forecast_accuracy(
    quotas: FrameT,
    *,
    opportunities: Any,
    as_of: AsOf,
    reps: Any = None,
    history: Any = None,
    stage_changes: Any = None,
    days_before: int = 30,
    forecast: ForecastKind = "commit",
    rollup: By = (),
    zero_division: ZeroDivision = "nan",
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """How close the forecast read ``days_before`` days before each period's end came
    to the won amount (予測精度).

    Parameters
    ----------
    quotas
        Canonical ``quotas``; the ``won_amount`` rows whose period ended by ``as_of``
        are read (the quota's target itself is not used).
    opportunities
        Canonical opportunities (``owner_id``, ``created_at``, ``closed_at``,
        ``is_won``, ``amount``, ``expected_close_on``, ``forecast_category`` or
        ``probability``), same frame library.
    as_of
        Actual won amounts count up to the end of this day.
    reps
        Canonical reps; needed for team quotas.
    history, stage_changes
        The ``opportunity_history`` that says what the pipeline looked like on the
        snapshot day (without it every past day shows today's values).
    days_before
        The snapshot day s = period_end - ``days_before`` days (default 30).
    forecast
        The forecast of the deals open at s with expected close (at s) in the
        period: ``"commit"`` (default: amount of forecast category ``commit``),
        ``"commit_best_case"`` (``commit`` and ``best_case``) or ``"weighted"``
        (amount x probability; a deal without probability counts 0). Deals already
        won by the end of s with close date in the period are added at their amount
        at s.
    rollup
        Quota columns to sum by (as :func:`quota_attainment`).
    zero_division
        ``accuracy`` and ``bias`` when the actual is 0: ``"nan"`` (default), ``"0"``
        or ``"raise"``; the error still counts in roll-ups.
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind, one row per quota row: ``level``, ``owner_id``,
    ``team``, ``metric``, ``period_start``, ``period_end``, ``snapshot_on``,
    ``forecast_open`` (the open deals' part), ``forecast_closed`` (won by s),
    ``forecast`` (F, their sum), ``actual`` (A), ``error`` = F - A,
    ``abs_error``, ``accuracy`` = 1 - abs_error / A and ``bias`` = error / A.
    With ``rollup``: ``quota_count`` and the sums ``forecast``, ``actual``,
    ``error`` and ``abs_error``; ``wape`` = sum of abs_error / sum of actual (errors
    per row, so over- and under-forecasts never cancel), ``accuracy`` = 1 - wape
    and ``bias`` = sum of error / sum of actual.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "owner_id": ["R1"] * 3,
    ...     "created_at": pd.to_datetime(["2025-09-01", "2025-09-02", "2025-09-03"]),
    ...     "closed_at": pd.to_datetime(["2025-10-05", "2025-10-25", "2025-10-28"]),
    ...     "is_won": pd.array([True, True, False], dtype="boolean"),
    ...     "amount": [100.0, 300.0, 200.0],
    ...     "expected_close_on": pd.to_datetime(["2025-10-05", "2025-10-25", "2025-10-28"]),
    ...     "forecast_category": ["closed", "commit", "commit"]})
    >>> quotas = pd.DataFrame({"owner_id": ["R1"], "period_start": pd.to_datetime(["2025-10-01"]),
    ...     "period_end": pd.to_datetime(["2025-10-31"]), "metric": ["won_amount"],
    ...     "target": [500.0]})
    >>> forecast_accuracy(quotas, opportunities=opps, as_of="2025-11-30", days_before=20)[
    ...     ["forecast_open", "forecast_closed", "forecast", "actual", "accuracy", "bias"]]
       forecast_open  forecast_closed  forecast  actual  accuracy  bias
    0          500.0            100.0     600.0   400.0       0.5   0.5
    """
    keys = _check_rollup(rollup)
    lead = check_int("days_before", days_before, minimum=0)
    kind = check_choice("forecast", forecast, tuple(FORECAST_KINDS))
    zero_division = check_zero_division(zero_division)
    day = parse_as_of(as_of)
    inputs = _enter(
        "forecast_accuracy",
        tz,
        quotas=quotas,
        opportunities=opportunities,
        reps=reps,
        opportunity_history=history,
        stage_changes=stage_changes,
    )
    rows = [q for q in _read(inputs, "forecast_accuracy", "won_amount") if q.end <= day]
    opps = inputs.frames["opportunities"]
    needed = ("expected_close_on", "probability" if kind == "weighted" else "forecast_category")
    require_columns(opps, "opportunities", needed)

    def snap(q: _Quota) -> date:
        return q.end - timedelta(days=lead)

    sums: dict[str, dict[int, tuple[float, int]]] = {}
    if rows:
        snaps = sorted({snap(q) for q in rows})
        states = _states_on(inputs, sorted({day, *snaps}), facts)
        teams = any(q.level == "team" for q in rows)
        at_as_of = states.filter(nw.col("day") == _midnight(day))
        events = _actual_events(inputs, {"won_amount"}, day, at_as_of)
        open_value = _amount() * nw.col("probability").fill_null(0.0).cast(nw.Float64)
        if kind != "weighted":
            picked = nw.col("forecast_category").is_in(list(FORECAST_KINDS[kind]))
            open_value = nw.when(picked.fill_null(value=False)).then(_amount()).otherwise(0.0)
        # every snapshot day at once: each state row is an event read on its own day
        open_deals = states.filter(nw.col("open_flag") == 1)
        events.append(_event(open_deals, "open", None, nw.col("expected_close_on"), open_value))
        won = states.filter(nw.col("won_flag") == 1)
        events.append(_event(won, "closed", None, nw.col("closed_at"), _amount()))
        sums = _sums(
            rows,
            _by_holder(events, inputs, teams=teams),
            {
                "actual": (_named("won_amount"), _on(day)),
                "open": (_named("open"), snap),
                "closed": (_named("closed"), snap),
            },
        )
    out = []
    for q in rows:
        opened = sums["open"].get(q.index, (0.0, 0))[0]
        closed = sums["closed"].get(q.index, (0.0, 0))[0]
        out.append(
            {
                **_holder_row(q),
                "snapshot_on": snap(q),
                "forecast_open": opened,
                "forecast_closed": closed,
                "forecast": opened + closed,
                "actual": sums["actual"].get(q.index, (0.0, 0))[0],
            }
        )
    for row in out:
        row["error"] = row["forecast"] - row["actual"]
        row["abs_error"] = abs(row["error"])
    measures = ["forecast", "actual", "error", "abs_error"]
    if keys is not None:
        out = _rolled_up(out, keys, measures)
        for row in out:
            row["wape"] = _ratio(row["abs_error"], row["actual"], zero_division, "wape")
    for row in out:
        hit = row["actual"] - row["abs_error"]
        row["accuracy"] = _ratio(hit, row["actual"], zero_division, "accuracy")
        row["bias"] = _ratio(row["error"], row["actual"], zero_division, "bias")
    if keys is not None:
        columns = ["level", "metric", *keys, "quota_count", *measures, "wape", "accuracy", "bias"]
    else:
        columns = [
            *_HOLDER_COLUMNS,
            "snapshot_on",
            "forecast_open",
            "forecast_closed",
            *measures,
            "accuracy",
            "bias",
        ]
    return _finish(inputs, out, columns)  # type: ignore[no-any-return]
