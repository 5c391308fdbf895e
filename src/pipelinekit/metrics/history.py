"""Pipeline history: what the pipeline looked like on past days, how it moved, and where
a period's pipeline came from and went (DESIGN section 7).

Every function reads the opportunities' state at the end of given days from
:func:`pipelinekit.facts.history.opportunity_states_on`: per field (``stage``,
``amount``, ``expected_close_on``, ``probability``, ``forecast_category``) the last
non-empty value of the ``opportunity_history`` rows (and ``stage_changes`` rows,
read as history with only a stage) dated before the end of the day; without one, the
opportunities row's value. Rows are ordered by time; rows with the same timestamp by
file order (the input's row order: the later row wins), ``opportunity_history`` rows
before ``stage_changes`` rows. An empty cell never erases a value. Open, won and lost
never come from history: open on d = created before the end of d and not closed
before it; won = closed by then with ``is_won``; lost = closed and not won. A
missing amount counts 1 in counts and 0 in sums; a missing expected close date is
in no period.

- :func:`pipeline_snapshot`: one row per opportunity and day.
- :func:`pipeline_trend`: open count and amount per day (or week, month, ...), by
  stage or any column, optionally only deals expected to close in a target period.
- :func:`pipeline_movement_deals` and :func:`pipeline_movement`: the waterfall of a
  target close period P between days a < b, per deal and summed. Scope: deals created
  by the end of b and not closed by the end of a; S = open on a with expected close
  (as of a) in P; E = expected close as of b in P (closed deals too).

  ====================  =========================================================
  start                 S: amount(a)
  created               created in (a, b] and E: amount(b)
  pulled_in             not created in (a, b], not S, E: amount(b)
  amount_up / down      S and E: positive / negative part of amount(b) - amount(a)
  pushed_out            S and not E: amount(a) (later amount changes not booked)
  won / lost            closed in (a, b] and E: amount(b), by ``is_won``
  end                   E and open on b: amount(b)
  ====================  =========================================================

  start + created + pulled_in + amount_up - amount_down - pushed_out - won - lost
  = end, per deal and in total (exactly for amounts that floats hold exactly, such
  as whole yen). "Pulled in" and "pushed out" mean moved into / out of P in either
  direction. A deal's ``category`` is its non-zero movement parts (created,
  pulled_in, amount_up, amount_down, pushed_out, won, lost) joined by ``+`` in that
  order, else ``"unchanged"``; a deal whose amount is missing or 0 has only zero
  parts, so it is ``"unchanged"`` even when it was created, moved or closed (the
  ``*_count`` columns of :func:`pipeline_movement` still count it).

Days are calendar days in the dataset time zone; the end of day d is d + 1 at
00:00 (exclusive), so a change at 23:59:59 belongs to d.

Examples
--------
>>> import pandas as pd
>>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"],
...     "created_at": pd.to_datetime(["2025-09-01", "2025-10-05"]),
...     "closed_at": pd.to_datetime(["2025-11-20", None]),
...     "is_won": pd.array([True, None], dtype="boolean"), "amount": [120.0, 50.0],
...     "expected_close_on": pd.to_datetime(["2025-11-20", "2025-12-15"])})
>>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1"],
...     "changed_at": pd.to_datetime(["2025-09-01", "2025-11-01"]),
...     "amount": [100.0, 120.0],
...     "expected_close_on": pd.to_datetime(["2025-10-31", "2025-11-20"])})
>>> moves = pipeline_movement(opps, history=hist, start="2025-10-01", end="2025-12-31",
...                           close_period=("2025-10-01", "2025-12-31"))
>>> moves[["start", "created", "amount_up", "won", "end"]]
   start  created  amount_up    won   end
0  100.0     50.0       20.0  120.0  50.0
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_by, check_optional_freq
from pipelinekit._exprs import flag, require_columns
from pipelinekit.errors import ConfigError
from pipelinekit.facts import Facts, shared_states_on
from pipelinekit.facts.history import HISTORY_FIELDS, snapshot_days
from pipelinekit.periods import parse_as_of
from pipelinekit.types import DEFAULT_TZ, AsOf, By, Freq

__all__ = [
    "MOVEMENT_PARTS",
    "pipeline_movement",
    "pipeline_movement_deals",
    "pipeline_snapshot",
    "pipeline_trend",
]

FrameT = TypeVar("FrameT")

#: The waterfall's amount columns, in reconciliation order.
MOVEMENT_PARTS = (
    "start",
    "created",
    "pulled_in",
    "amount_up",
    "amount_down",
    "pushed_out",
    "won",
    "lost",
    "end",
)
#: The parts that name a deal's category (the movement between start and end).
CATEGORY_PARTS = MOVEMENT_PARTS[1:-1]

SNAPSHOT_COLUMNS = (
    "day",
    "opportunity_id",
    "created_at",
    "closed_at",
    "status",
    "stage",
    "amount",
    "probability",
    "expected_close_on",
    "forecast_category",
)
TREND_RESERVED = ("day", "open_count", "open_amount")
_DEAL_EXTRA = (
    "stage_start",
    "stage_end",
    "amount_start",
    "amount_end",
    "expected_close_on_start",
    "expected_close_on_end",
    "status",
)
MOVEMENT_RESERVED = (
    "opportunity_id",
    "category",
    *MOVEMENT_PARTS,
    *[f"{p}_count" for p in MOVEMENT_PARTS],
    *_DEAL_EXTRA,
)

# ------------------------------------------------------------------ checks


def _check_period(name: str, value: object) -> tuple[date, date]:
    """A (first, last) pair of days, both inclusive, first <= last."""
    if isinstance(value, str | date) or not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError(
            f"{name} must be a (first, last) pair of days, both inclusive; got {value!r}"
        )
    first, last = (parse_as_of(v) for v in value)
    if first > last:
        raise ConfigError(f"{name}: the first day {first} is after the last day {last}")
    return first, last


def _check_on(on: object, freq: object) -> tuple[date, ...]:
    """The snapshot days of ``on`` (one day, or a (first, last) range at ``freq``)."""
    step = check_optional_freq(freq)
    if isinstance(on, str | date):
        if step is not None:
            raise ConfigError("freq needs a range of days: pass on=(first, last); got a single day")
        return (parse_as_of(on),)
    first, last = _check_period("on", on)
    return snapshot_days(first, last, step or "day")


def _day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last + 1 00:00): the instants of a period of whole days."""
    return (
        datetime(first.year, first.month, first.day),
        datetime(last.year, last.month, last.day) + timedelta(days=1),
    )


def _in_period(column: str, period: tuple[date, date]) -> nw.Expr:
    """``column`` (a midnight Datetime) falls in the period; missing -> False."""
    low, high = _day_range(*period)
    return ((nw.col(column) >= low) & (nw.col(column) < high)).fill_null(value=False)


# ------------------------------------------------------------------ shared step


def _states(
    function: str,
    opportunities: Any,
    history: Any,
    stage_changes: Any,
    *,
    days: Sequence[date],
    tz: str,
    facts: Facts | None,
) -> tuple[nw.LazyFrame[Any], _compat.Session]:
    natives = [opportunities, history, stage_changes]
    present = [n for n in natives if n is not None]
    lazies, session = _compat.enter(present, function=function)
    entered: list[nw.LazyFrame[Any] | None] = []
    it = iter(lazies)
    for native in natives:
        entered.append(None if native is None else next(it))
    opps, hist, changes = entered
    assert opps is not None
    opps = _compat.to_local_naive(
        opps,
        ["created_at", "validated_at", "closed_at", "expected_close_on"],
        tz=tz,
        table="opportunities",
    )
    if hist is not None:
        hist = _compat.to_local_naive(
            hist, ["changed_at", "expected_close_on"], tz=tz, table="opportunity_history"
        )
    if changes is not None:
        changes = _compat.to_local_naive(changes, ["entered_at"], tz=tz, table="stage_changes")
    states = shared_states_on(
        facts,
        opps,
        hist,
        changes,
        days=days,
        tz=tz,
        opportunities=opportunities,
        opportunity_history=history,
        stage_changes=stage_changes,
    )
    return states, session


def _filled_key(name: str, dtype: Any) -> nw.Expr:
    """Column ``name`` with missing values replaced by a value of its own type."""
    column = nw.col(name)
    if dtype.is_integer():
        return column.fill_null(0)
    if dtype.is_float():
        return column.fill_null(0.0)
    if dtype == nw.Boolean:
        return column.fill_null(value=False)
    if isinstance(dtype, nw.Datetime):
        return column.fill_null(datetime(1970, 1, 1))
    return column.cast(nw.String).fill_null("")


def _null_safe(
    frame: nw.LazyFrame[Any], keys: Sequence[str]
) -> tuple[nw.LazyFrame[Any], list[str]]:
    """Join keys that match missing values too: per key the filled value ``_k_<key>``
    and a 0/1 null flag ``_n_<key>`` (equi-joins never match nulls everywhere)."""
    schema = frame.collect_schema()
    columns = []
    for k in keys:
        columns += [
            _filled_key(k, schema[k]).alias(f"_k_{k}"),
            flag(nw.col(k).is_null()).alias(f"_n_{k}"),
        ]
    return frame.with_columns(*columns), [n for k in keys for n in (f"_k_{k}", f"_n_{k}")]


def _restore_nulls(frame: nw.LazyFrame[Any], keys: Sequence[str]) -> nw.LazyFrame[Any]:
    """The key columns back from :func:`_null_safe`'s filled keys and null flags."""
    return frame.with_columns(
        *[nw.when(nw.col(f"_n_{k}") == 0).then(nw.col(f"_k_{k}")).alias(k) for k in keys]
    )


def _amount() -> nw.Expr:
    return nw.col("amount").fill_null(0.0).cast(nw.Float64)


# ------------------------------------------------------------------ public API


def pipeline_snapshot(
    opportunities: FrameT,
    *,
    history: Any = None,
    on: AsOf | tuple[AsOf, AsOf],
    freq: Freq | None = None,
    stage_changes: Any = None,
    by: By = (),
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """Each opportunity's state at the end of a day, or of each day of a range
    (パイプラインのスナップショット).

    Parameters
    ----------
    opportunities
        Canonical opportunities; any supported frame.
    history
        Optional ``opportunity_history`` (same frame library), in file order.
    on
        One day, or a ``(first, last)`` range of days (both inclusive) read at
        ``freq``.
    freq
        With a range: ``"day"`` (every day; the default for a range) or ``"week"``,
        ``"month"``, ``"quarter"``, ``"year"``: the last day of each such period
        in the range (the last one cut at ``last``). Not allowed with one day.
    stage_changes
        Optional ``stage_changes``, read as history rows with only a stage.
    by
        Extra opportunity columns to keep (e.g. ``"owner_id"``, ``"product"``).
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind, one row per day and opportunity created by its end:
    ``day``, ``opportunity_id``, the ``by`` columns, ``created_at``, ``closed_at``
    (null unless closed by then), ``status`` (``open``, ``won``, ``lost``),
    ``stage``, ``amount``, ``probability``, ``expected_close_on`` (midnight) and
    ``forecast_category`` as of that day; sorted by ``day``, ``opportunity_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "stage": ["quote"],
    ...     "created_at": pd.to_datetime(["2025-04-01"]), "closed_at": pd.NaT,
    ...     "is_won": pd.array([None], dtype="boolean"), "amount": [300.0]})
    >>> hist = pd.DataFrame({"opportunity_id": ["O1", "O1"],
    ...     "changed_at": pd.to_datetime(["2025-04-01", "2025-04-10"]),
    ...     "stage": ["list", "quote"], "amount": [200.0, 300.0]})
    >>> snap = pipeline_snapshot(opps, history=hist, on=("2025-04-07", "2025-04-20"), freq="week")
    >>> snap[["day", "status", "stage", "amount"]]
             day status  stage  amount
    0 2025-04-13   open  quote   300.0
    1 2025-04-20   open  quote   300.0
    >>> pipeline_snapshot(opps, history=hist, on="2025-04-09")[["stage", "amount"]]
      stage  amount
    0  list   200.0
    """
    keys = check_by("by", by, reserved=SNAPSHOT_COLUMNS)
    days = _check_on(on, freq)
    states, session = _states(
        "pipeline_snapshot",
        opportunities,
        history,
        stage_changes,
        days=days,
        tz=tz,
        facts=facts,
    )
    require_columns(states, "opportunities", keys)
    out = states.select(
        nw.col("day"),
        nw.col("opportunity_id"),
        *[nw.col(k) for k in keys],
        nw.col("created_at").cast(nw.Datetime("us")),
        nw.col("closed_at").cast(nw.Datetime("us")),
        nw.col("status"),
        *[nw.col(name).cast(dtype) for name, dtype in HISTORY_FIELDS.items()],
    ).select(*SNAPSHOT_COLUMNS[:2], *keys, *SNAPSHOT_COLUMNS[2:])
    return session.finish(out.sort("day", "opportunity_id"))  # type: ignore[no-any-return]


def pipeline_trend(
    opportunities: FrameT,
    *,
    history: Any = None,
    on: AsOf | tuple[AsOf, AsOf],
    freq: Freq | None = None,
    stage_changes: Any = None,
    by: By = (),
    close_period: tuple[AsOf, AsOf] | None = None,
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """Open pipeline count and amount at the end of a day, or of each day of a range
    (パイプライン推移).

    Parameters
    ----------
    opportunities
        Canonical opportunities; any supported frame.
    history
        Optional ``opportunity_history`` (same frame library), in file order.
    on
        One day, or a ``(first, last)`` range of days (both inclusive) read at
        ``freq``.
    freq
        With a range: ``"day"`` (every day; the default) or ``"week"``,
        ``"month"``, ``"quarter"``, ``"year"``: the last day of each such period in
        the range (the last one cut at ``last``; ISO weeks end on Sunday). Not
        allowed with one day.
    stage_changes
        Optional ``stage_changes``, read as history rows with only a stage.
    by
        Columns of the state to split by: ``"stage"``, ``"forecast_category"`` (as
        of each day) or any opportunity column (``"owner_id"``, ``"product"``).
    close_period
        Optional ``(first, last)`` days: count only deals whose expected close date
        (as of each day) falls in it, e.g. this quarter's pipeline.
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind: ``day``, the ``by`` columns, ``open_count`` (Int64)
    and ``open_amount`` (Float64; missing amounts count 0). Every day appears for
    every ``by`` group seen in the range (0 where none are open); sorted by ``day``
    and ``by`` (nulls last).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-09"]),
    ...     "closed_at": pd.to_datetime([None, "2025-04-16"]),
    ...     "is_won": pd.array([None, False], dtype="boolean"), "amount": [100.0, 40.0]})
    >>> pipeline_trend(opps, on=("2025-04-01", "2025-04-20"), freq="week")
             day  open_count  open_amount
    0 2025-04-06           1        100.0
    1 2025-04-13           2        140.0
    2 2025-04-20           1        100.0
    >>> pipeline_trend(opps, on="2025-04-10")
             day  open_count  open_amount
    0 2025-04-10           2        140.0
    """
    keys = check_by("by", by, reserved=TREND_RESERVED)
    days = _check_on(on, freq)
    period = None if close_period is None else _check_period("close_period", close_period)
    states, session = _states(
        "pipeline_trend", opportunities, history, stage_changes, days=days, tz=tz, facts=facts
    )
    require_columns(states, "opportunities", keys)
    keep = nw.col("open_flag") == 1
    if period is not None:
        keep = keep & _in_period("expected_close_on", period)
    rows = states.filter(keep).with_columns(_amount().alias("_amount"), nw.lit(1).alias("_one"))
    grouped = rows.group_by("day", *keys).agg(
        nw.col("_one").sum().alias("open_count"), nw.col("_amount").sum().alias("open_amount")
    )
    spine = _compat.from_columns(
        states,
        {"day": [datetime(d.year, d.month, d.day) for d in days]},
        {"day": nw.Datetime("us")},
    )
    if keys:
        grouped, join_keys = _null_safe(grouped, keys)
        spine = spine.join(grouped.select(*join_keys).unique(join_keys), how="cross")
        dense = _restore_nulls(
            spine.join(grouped.drop(*keys), on=["day", *join_keys], how="left"), keys
        )
    else:
        dense = spine.join(grouped, on="day", how="left")
    out = dense.select(
        nw.col("day"),
        *[nw.col(k) for k in keys],
        nw.col("open_count").fill_null(0).cast(nw.Int64),
        nw.col("open_amount").fill_null(0.0).cast(nw.Float64),
    ).sort("day", *keys, nulls_last=True)
    return session.finish(out)  # type: ignore[no-any-return]


def _movement_frame(
    function: str,
    opportunities: Any,
    history: Any,
    stage_changes: Any,
    *,
    start: AsOf,
    end: AsOf,
    close_period: tuple[AsOf, AsOf],
    by: By,
    tz: str,
    facts: Facts | None,
) -> tuple[nw.LazyFrame[Any], list[str], _compat.Session]:
    """Per deal in S or E: the by columns, the parts, their 0/1 membership flags."""
    keys = list(check_by("by", by, reserved=MOVEMENT_RESERVED))
    a, b = parse_as_of(start), parse_as_of(end)
    if not a < b:
        raise ConfigError(f"start must be before end; got start={a}, end={b}")
    period = _check_period("close_period", close_period)
    states, session = _states(
        function, opportunities, history, stage_changes, days=(a, b), tz=tz, facts=facts
    )
    require_columns(states, "opportunities", keys)
    day_a = datetime(a.year, a.month, a.day)
    day_b = datetime(b.year, b.month, b.day)
    at_a = states.filter(nw.col("day") == day_a).select(
        nw.col("opportunity_id"),
        nw.col("stage").alias("stage_start"),
        nw.col("amount").alias("amount_start"),
        nw.col("expected_close_on").alias("expected_close_on_start"),
        nw.col("open_flag").alias("_open_a"),
        _in_period("expected_close_on", period).alias("_in_a"),
    )
    at_b = states.filter(nw.col("day") == day_b).select(
        nw.col("opportunity_id"),
        *[nw.col(k) for k in keys if k != "opportunity_id"],
        nw.col("stage").alias("stage_end"),
        nw.col("amount").alias("amount_end"),
        nw.col("expected_close_on").alias("expected_close_on_end"),
        nw.col("status"),
        nw.col("closed_at").alias("_closed_b"),
        nw.col("open_flag").alias("_open_b"),
        nw.col("won_flag").alias("_won_b"),
        nw.col("lost_flag").alias("_lost_b"),
        _in_period("expected_close_on", period).alias("_in_b"),
    )
    joined = at_b.join(at_a, on="opportunity_id", how="left")
    end_a = day_a + timedelta(days=1)
    created = nw.col("_open_a").is_null()  # not yet created at the end of a
    # scope: created by the end of b and not closed by the end of a (a deal created in
    # (a, b] whose closed_at is before the end of a, against the plausibility rule,
    # is out of scope too)
    closed_by_a = (nw.col("_closed_b") < end_a).fill_null(value=False)
    open_a = (nw.col("_open_a") == 1).fill_null(value=False)
    scope = (created & ~closed_by_a) | open_a
    in_s = open_a & nw.col("_in_a").fill_null(value=False)
    in_e = nw.col("_in_b")
    amount_a = nw.col("amount_start").fill_null(0.0).cast(nw.Float64)
    amount_b = nw.col("amount_end").fill_null(0.0).cast(nw.Float64)
    members = {
        "start": in_s,
        "created": created & in_e,
        "pulled_in": ~created & ~in_s & in_e,
        "pushed_out": in_s & ~in_e,
        "won": in_e & (nw.col("_won_b") == 1),
        "lost": in_e & (nw.col("_lost_b") == 1),
        "end": in_e & (nw.col("_open_b") == 1),
    }
    frame = joined.filter(scope & (in_s | in_e)).with_columns(
        *[flag(member).alias(f"_m_{name}") for name, member in members.items()],
        nw.when(in_s & in_e).then(amount_b - amount_a).otherwise(0.0).alias("_delta"),
    )
    zero = nw.lit(0.0)
    parts = {
        "start": nw.when(nw.col("_m_start") == 1).then(amount_a).otherwise(zero),
        "created": nw.when(nw.col("_m_created") == 1).then(amount_b).otherwise(zero),
        "pulled_in": nw.when(nw.col("_m_pulled_in") == 1).then(amount_b).otherwise(zero),
        "amount_up": nw.when(nw.col("_delta") > 0).then(nw.col("_delta")).otherwise(zero),
        "amount_down": nw.when(nw.col("_delta") < 0).then(-nw.col("_delta")).otherwise(zero),
        "pushed_out": nw.when(nw.col("_m_pushed_out") == 1).then(amount_a).otherwise(zero),
        "won": nw.when(nw.col("_m_won") == 1).then(amount_b).otherwise(zero),
        "lost": nw.when(nw.col("_m_lost") == 1).then(amount_b).otherwise(zero),
        "end": nw.when(nw.col("_m_end") == 1).then(amount_b).otherwise(zero),
    }
    frame = frame.with_columns(
        *[expr.cast(nw.Float64).alias(name) for name, expr in parts.items()],
        flag(nw.col("_delta") > 0).alias("_m_amount_up"),
        flag(nw.col("_delta") < 0).alias("_m_amount_down"),
    )
    labels = [nw.when(nw.col(p) != 0).then(nw.lit(p)) for p in CATEGORY_PARTS]
    joined_label = nw.concat_str(labels, separator="+", ignore_nulls=True)
    category = (
        nw.when(nw.coalesce(joined_label, nw.lit("")) == "")
        .then(nw.lit("unchanged"))
        .otherwise(joined_label)
    )
    return frame.with_columns(category.cast(nw.String).alias("category")), keys, session


def pipeline_movement_deals(
    opportunities: FrameT,
    *,
    history: Any = None,
    start: AsOf,
    end: AsOf,
    close_period: tuple[AsOf, AsOf],
    stage_changes: Any = None,
    by: By = (),
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """The pipeline waterfall of a target close period, one row per deal
    (パイプラインの増減: 案件別).

    Parameters
    ----------
    opportunities
        Canonical opportunities; any supported frame.
    history
        Optional ``opportunity_history`` (same frame library), in file order.
    start, end
        Days a < b: the waterfall runs from the end of ``start`` to the end of
        ``end``.
    close_period
        ``(first, last)`` days, both inclusive: the target close period P (e.g. the
        quarter).
    stage_changes
        Optional ``stage_changes``, read as history rows with only a stage.
    by
        Extra columns to keep, read as of ``end`` (``"owner_id"``,
        ``"forecast_category"``, ...).
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind, one row per deal in S or E (see the module
    docstring): ``opportunity_id``, the ``by`` columns, ``category``, the amounts
    :data:`MOVEMENT_PARTS` (Float64; per row start + created + pulled_in +
    amount_up - amount_down - pushed_out - won - lost = end), ``stage_start``,
    ``stage_end``, ``amount_start``, ``amount_end``, ``expected_close_on_start``,
    ``expected_close_on_end`` (as of each day; the start ones null for deals created
    later) and ``status`` on ``end``; sorted by ``opportunity_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"],
    ...     "created_at": pd.to_datetime(["2025-09-01", "2025-09-02"]),
    ...     "closed_at": pd.NaT, "is_won": pd.array([None, None], dtype="boolean"),
    ...     "amount": [100.0, 80.0],
    ...     "expected_close_on": pd.to_datetime(["2026-01-20", "2025-12-01"])})
    >>> hist = pd.DataFrame({"opportunity_id": ["O1", "O2", "O1", "O2"],
    ...     "changed_at": pd.to_datetime(["2025-09-01", "2025-09-02", "2025-11-15",
    ...                                   "2025-11-20"]),
    ...     "expected_close_on": pd.to_datetime(["2025-12-10", "2026-02-01", "2026-01-20",
    ...                                          "2025-12-01"])})
    >>> deals = pipeline_movement_deals(opps, history=hist, start="2025-10-01", end="2025-12-31",
    ...                                 close_period=("2025-10-01", "2025-12-31"))
    >>> deals[["opportunity_id", "category", "start", "pushed_out", "pulled_in", "end"]]
      opportunity_id    category  start  pushed_out  pulled_in   end
    0             O1  pushed_out  100.0       100.0        0.0   0.0
    1             O2   pulled_in    0.0         0.0       80.0  80.0
    """
    frame, keys, session = _movement_frame(
        "pipeline_movement_deals",
        opportunities,
        history,
        stage_changes,
        start=start,
        end=end,
        close_period=close_period,
        by=by,
        tz=tz,
        facts=facts,
    )
    out = frame.select(
        nw.col("opportunity_id"),
        *[nw.col(k) for k in keys if k != "opportunity_id"],
        nw.col("category"),
        *[nw.col(p) for p in MOVEMENT_PARTS],
        nw.col("stage_start").cast(nw.String),
        nw.col("stage_end").cast(nw.String),
        nw.col("amount_start").cast(nw.Float64),
        nw.col("amount_end").cast(nw.Float64),
        nw.col("expected_close_on_start").cast(nw.Datetime("us")),
        nw.col("expected_close_on_end").cast(nw.Datetime("us")),
        nw.col("status"),
    ).sort("opportunity_id")
    return session.finish(out)  # type: ignore[no-any-return]


def pipeline_movement(
    opportunities: FrameT,
    *,
    history: Any = None,
    start: AsOf,
    end: AsOf,
    close_period: tuple[AsOf, AsOf],
    stage_changes: Any = None,
    by: By = (),
    tz: str = DEFAULT_TZ,
    facts: Facts | None = None,
) -> FrameT:
    """The pipeline waterfall of a target close period, summed (パイプラインの増減):
    where the period's pipeline on ``start`` came from and went by ``end``.

    Parameters
    ----------
    opportunities
        Canonical opportunities; any supported frame.
    history
        Optional ``opportunity_history`` (same frame library), in file order.
    start, end
        Days a < b: the waterfall runs from the end of ``start`` to the end of
        ``end``.
    close_period
        ``(first, last)`` days, both inclusive: the target close period P.
    stage_changes
        Optional ``stage_changes``, read as history rows with only a stage.
    by
        Columns to split by, read as of ``end`` (``"owner_id"``,
        ``"forecast_category"``, ...).
    tz
        Dataset time zone.
    facts
        Precomputed facts of the same tables (the report passes them).

    Returns
    -------
    Frame of the caller's kind: the ``by`` columns, the amounts
    :data:`MOVEMENT_PARTS` (Float64; start + created + pulled_in + amount_up -
    amount_down - pushed_out - won - lost = end) and a deal count per part,
    ``start_count`` ... ``end_count`` (Int64; a deal with a missing amount counts;
    ``amount_up_count`` / ``amount_down_count`` count deals whose amount went up /
    down; start_count + created_count + pulled_in_count - pushed_out_count -
    won_count - lost_count = end_count). One row without ``by`` (zeros when no deal
    moved); sorted by ``by`` (nulls last).

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"],
    ...     "created_at": pd.to_datetime(["2025-09-01"]),
    ...     "closed_at": pd.to_datetime(["2025-11-03"]),
    ...     "is_won": pd.array([False], dtype="boolean"), "amount": [90.0],
    ...     "expected_close_on": pd.to_datetime(["2025-11-03"])})
    >>> moves = pipeline_movement(opps, start="2025-10-01", end="2025-12-31",
    ...                           close_period=("2025-10-01", "2025-12-31"))
    >>> moves[["start", "lost", "end", "start_count", "lost_count"]]
       start  lost  end  start_count  lost_count
    0   90.0  90.0  0.0            1           1
    """
    frame, keys, session = _movement_frame(
        "pipeline_movement",
        opportunities,
        history,
        stage_changes,
        start=start,
        end=end,
        close_period=close_period,
        by=by,
        tz=tz,
        facts=facts,
    )
    aggs = [nw.col(p).sum().alias(p) for p in MOVEMENT_PARTS] + [
        nw.col(f"_m_{p}").sum().alias(f"{p}_count") for p in MOVEMENT_PARTS
    ]
    grouped = frame.group_by(*keys).agg(*aggs) if keys else frame.select(*aggs)
    out = grouped.select(
        *[nw.col(k) for k in keys],
        *[nw.col(p).fill_null(0.0).cast(nw.Float64) for p in MOVEMENT_PARTS],
        *[nw.col(f"{p}_count").fill_null(0).cast(nw.Int64) for p in MOVEMENT_PARTS],
    )
    if keys:
        out = out.sort(*keys, nulls_last=True)
    return session.finish(out)  # type: ignore[no-any-return]
