"""Report section ``history``: the pipeline on past days, its trend and the quarter's
waterfall.

The section reads the opportunities' past states (:mod:`pipelinekit.metrics.history`:
``opportunity_history`` and ``stage_changes`` carried forward field by field, else the
current row). The target period is the calendar quarter containing ``as_of``; its
waterfall runs from the quarter's opening (the end of the day before it starts) to
the end of ``as_of``, so every deal created in the quarter counts as created. The
trend covers the :data:`TREND_WEEKS` weeks up to ``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import narwhals as nw
import pandas as pd

from pipelinekit.facts.history import snapshot_days
from pipelinekit.metrics.history import (
    MOVEMENT_PARTS,
    pipeline_movement,
    pipeline_movement_deals,
    pipeline_trend,
)
from pipelinekit.reporting.context import SectionContext, to_pandas
from pipelinekit.reporting.model import Chart, Section
from pipelinekit.reporting.notes import Note

__all__ = ["TREND_WEEKS", "build", "quarter_of"]

#: Weeks of the pipeline trend, up to as_of.
TREND_WEEKS = 26
#: Rows of the slipped-deals table.
TOP = 10
#: Sign of each waterfall part in the waterfall table (outflows negative).
_SIGN = {
    "start": 1,
    "created": 1,
    "pulled_in": 1,
    "amount_up": 1,
    "amount_down": -1,
    "pushed_out": -1,
    "won": -1,
    "lost": -1,
    "end": 1,
}


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter containing ``day``: (first day, last day).

    >>> quarter_of(date(2025, 11, 30))
    (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    """
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    after = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def _int(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Counts as nullable Int64 whatever engine computed them."""
    out = frame.reset_index(drop=True)
    for column in columns:
        out[column] = pd.array([None if pd.isna(v) else int(v) for v in out[column]], "Int64")
    return out


def _has_values(ctx: SectionContext, table: str, column: str) -> bool:
    """Whether ``column`` of ``table`` has at least one value."""
    frame = ctx.facts.table(table)
    if column not in frame.collect_schema().names():
        return False
    return bool(frame.select(nw.col(column).count()).collect().item() > 0)


def build(ctx: SectionContext) -> Section:
    """The report's pipeline-history section as of ``as_of``.

    Tables: ``pipeline trend`` (weekly, the open pipeline and the part of it expected
    to close in the quarter), ``quarter waterfall`` (start, created, pulled in, amount
    up / down, pushed out, won, lost, end: amounts signed as they move the pipeline,
    with deal counts), ``quarter waterfall by owner`` and ``slipped deals`` (the
    largest deals pushed out of the quarter). Without ``expected_close_on`` values only
    the total trend is shown.

    Examples
    --------
    >>> import pipelinekit as pk
    >>> section = build(SectionContext.build(pk.sample_dataset(), date(2025, 12, 31)))
    >>> section.tables["quarter waterfall"]["part"].tolist()[:3]
    ['start', 'created', 'pulled_in']
    """
    notes: list[Note] = [Note("history_definition")]
    if not ctx.has_rows("opportunities"):
        notes.append(Note("history_no_opportunities"))
        return Section(key="history", title="Pipeline history", notes=tuple(notes))
    has_history = ctx.has_rows("opportunity_history") or ctx.has_rows("stage_changes")
    if not has_history:
        notes.append(Note("history_no_history"))
    has_close_dates = _has_values(ctx, "opportunities", "expected_close_on") or (
        ctx.has_rows("opportunity_history")
        and _has_values(ctx, "opportunity_history", "expected_close_on")
    )
    first, last = quarter_of(ctx.as_of)
    opening = first - timedelta(days=1)
    trend_first = ctx.as_of - timedelta(weeks=TREND_WEEKS) + timedelta(days=1)
    days = snapshot_days(trend_first, ctx.as_of, "week")
    ctx.facts.plan_history_days([*days, opening, ctx.as_of])
    opps, history = ctx.table("opportunities"), ctx.table("opportunity_history")
    kw: dict[str, Any] = {"stage_changes": ctx.table("stage_changes"), "tz": ctx.tz}
    kw["facts"] = ctx.facts
    trend_kw: dict[str, Any] = {"on": (trend_first, ctx.as_of), "freq": "week", **kw}
    trend = to_pandas(pipeline_trend(opps, history=history, **trend_kw))
    tables: dict[str, pd.DataFrame] = {}
    charts: list[Chart] = []
    if has_close_dates:
        quarter = to_pandas(
            pipeline_trend(opps, history=history, close_period=(first, last), **trend_kw)
        )
        trend = trend.merge(
            quarter.rename(
                columns={"open_count": "quarter_open_count", "open_amount": "quarter_open_amount"}
            ),
            on="day",
            how="left",
        )
    trend = trend.rename(columns={"day": "on_day"})
    tables["pipeline trend"] = _int(trend, [c for c in trend.columns if c.endswith("_count")])
    charts.append(
        Chart(
            kind="line",
            table="pipeline trend",
            x="on_day",
            y=("open_amount", "quarter_open_amount") if has_close_dates else "open_amount",
            title="Open pipeline amount by week",
        )
    )
    period = {"first": first.isoformat(), "last": last.isoformat()}
    if not has_close_dates:
        notes.append(Note("history_no_close_dates"))
        return Section(
            key="history",
            title="Pipeline history",
            tables=tables,
            notes=tuple(notes),
            charts=tuple(charts),
        )
    move_kw: dict[str, Any] = {"start": opening, "end": ctx.as_of, "close_period": (first, last)}
    total = to_pandas(pipeline_movement(opps, history=history, **move_kw, **kw)).iloc[0]
    tables["quarter waterfall"] = _int(
        pd.DataFrame(
            {
                "part": list(MOVEMENT_PARTS),
                "amount": [float(total[p]) * _SIGN[p] + 0.0 for p in MOVEMENT_PARTS],
                "opportunity_count": [total[f"{p}_count"] for p in MOVEMENT_PARTS],
            }
        ),
        ["opportunity_count"],
    )
    by_owner = to_pandas(pipeline_movement(opps, history=history, by="owner_id", **move_kw, **kw))
    tables["quarter waterfall by owner"] = by_owner[["owner_id", *MOVEMENT_PARTS]].rename(
        columns={p: p if p.startswith("amount_") else f"{p}_amount" for p in MOVEMENT_PARTS}
    )
    deals = to_pandas(
        pipeline_movement_deals(opps, history=history, by="owner_id", **move_kw, **kw)
    )
    slipped = deals[deals["pushed_out"] > 0].sort_values(
        ["amount_start", "opportunity_id"], ascending=[False, True], kind="mergesort"
    )
    slipped = slipped.rename(columns={"stage_end": "stage"})
    tables["slipped deals"] = slipped.head(TOP)[
        [
            "opportunity_id",
            "owner_id",
            "stage",
            "amount_start",
            "expected_close_on_start",
            "expected_close_on_end",
        ]
    ].reset_index(drop=True)
    charts.insert(
        0,
        Chart(
            kind="waterfall",
            table="quarter waterfall",
            x="part",
            y="amount",
            title="Quarter pipeline waterfall",
        ),
    )
    notes.append(
        Note(
            "history_waterfall",
            {
                **period,
                "opening": opening.isoformat(),
                "as_of": ctx.as_of.isoformat(),
                "start": float(total["start"]),
                "end": float(total["end"]),
                "won": float(total["won"]),
                "pushed": int(total["pushed_out_count"]),
                "pushed_amount": float(total["pushed_out"]),
            },
        )
    )
    notes.append(Note("history_trend", {**period, "weeks": TREND_WEEKS}))
    return Section(
        key="history",
        title="Pipeline history",
        tables=tables,
        notes=tuple(notes),
        charts=tuple(charts),
    )
