"""No data is not zero: which report KPIs the data cannot answer, and why.

A KPI whose input table is absent or empty, or whose defining column is empty in
every row, is *not available*: the report shows it as null (JSON) or ``n/a`` (text,
markdown, html) with a warning naming what is missing, instead of an invented 0 or
0%. A count that is truly zero (the table has rows, none of them qualifies) stays 0;
a rate whose denominator is truly zero stays *undefined* under ``zero_division``.

The rules, in the order their warnings are listed (a KPI is claimed by the first rule
that applies; a rule with no KPI left is not listed):

- no opportunities (absent or no rows): every opportunity KPI (SQLs, valid, won, won
  amount, lead->SQL, SQL->valid, valid->won, win rate, rep-months over capacity,
  target-account SQLs and won amount);
- no activities: touched and connected leads, calls, connects, connect rate, talk
  time, email counts and rates, same-day approach, 5C2M compliance;
- ``opportunities.validated_at`` empty in every row: valid opportunities, SQL->valid,
  valid->won;
- ``opportunities.is_won`` empty in every row while some deal is closed (each close
  would count as a loss): won, won amount, valid->won, win rate, target won amount;
- ``opportunities.amount`` empty in every row: won amount, target-account won amount;
- ``activities.duration_s`` empty in every call: talk time;
- no accounts, or no account with ``is_target``: target-account SQLs and won amount;
- no reps, or no rep with a capacity: rep-months over SQL capacity.

An empty *leads* table is valid and is not a gap here: lead counts are 0 and lead
rates undefined, and validation warns once (``empty_table``).

Examples
--------
>>> import pipelinekit as pk
>>> ds = pk.sample_dataset()
>>> data_gaps(ds.tables()).unavailable
{}
>>> gaps = data_gaps({**ds.tables(), "activities": ds.activities.head(0)})
>>> sorted(gaps.unavailable)[:3]
['cadence_5c2m_rate', 'call_connect_rate', 'calls']
>>> gaps.notes[0].text()  # doctest: +ELLIPSIS
'Not available: Touched leads, Connected leads, ... - the activities table is absent or empty.'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import narwhals as nw
import pandas as pd

from pipelinekit._exprs import flag
from pipelinekit.metrics.allocation import DEFAULT_CAPACITY_BANDS, capacity_expr
from pipelinekit.reporting.notes import Note

__all__ = ["DataGaps", "data_gaps", "without_rows"]

ACTIVITY_KPIS = (
    "touched_leads",
    "connected_leads",
    "calls",
    "connected_calls",
    "call_connect_rate",
    "talk_time_s",
    "emails_delivered",
    "email_open_rate",
    "email_click_rate",
    "same_day_approach_rate",
    "cadence_5c2m_rate",
)
OPPORTUNITY_KPIS = (
    "sqls",
    "valid_opportunities",
    "won",
    "won_amount",
    "lead_to_sql_rate",
    "sql_to_valid_rate",
    "valid_to_won_rate",
    "win_rate",
    "sql_over_capacity_rep_months",
    "target_account_sqls",
    "target_account_won_amount",
)
VALID_KPIS = ("valid_opportunities", "sql_to_valid_rate", "valid_to_won_rate")
WON_KPIS = ("won", "won_amount", "valid_to_won_rate", "win_rate", "target_account_won_amount")
AMOUNT_KPIS = ("won_amount", "target_account_won_amount")
TARGET_KPIS = ("target_account_sqls", "target_account_won_amount")


@attrs.frozen(kw_only=True)
class DataGaps:
    """What the data cannot answer.

    Attributes
    ----------
    missing
        What is missing: ``"activities"``, ``"opportunities"``, ``"accounts"``,
        ``"reps"`` (no rows) and ``"opportunities.validated_at"``,
        ``"opportunities.is_won"``, ``"opportunities.amount"``,
        ``"activities.duration_s"``, ``"accounts.is_target"``, ``"reps.capacity"``
        (no value in any row).
    unavailable
        Summary KPI key -> the note that says why it is not available.
    notes
        One warning note per reason, listing the KPIs it makes unavailable.
    """

    missing: frozenset[str] = frozenset()
    unavailable: dict[str, Note] = attrs.field(factory=dict)
    notes: tuple[Note, ...] = ()

    def has(self, what: str) -> bool:
        """Whether the data has ``what`` (a table with rows, or a column with a value)."""
        return what not in self.missing


def without_rows(
    tables: Mapping[str, pd.DataFrame],
    gaps: DataGaps,
    what: str,
    names: Sequence[str] | None = None,
) -> tuple[dict[str, pd.DataFrame], tuple[Note, ...]]:
    """A section's tables, emptied (columns kept) with a note when the data lacks
    ``what`` (a :attr:`DataGaps.missing` name: a table, or ``table.column``).

    ``names`` empties only those tables (the others are computed from other data);
    ``None`` empties every table: the whole section is not available. A section built
    on data that is not there would otherwise show zeros that were never measured
    (0 calls per owner, 0% compliance, 0 SQLs per rep).

    >>> frames, notes = without_rows({"t": pd.DataFrame({"a": [0]})},
    ...                              DataGaps(missing=frozenset({"reps"})), "reps")
    >>> len(frames["t"]), notes[0].text()  # doctest: +ELLIPSIS
    (0, 'Not available: this section needs the reps table, which is absent or empty; ...')
    """
    if gaps.has(what):
        return dict(tables), ()
    chosen = list(tables) if names is None else [n for n in names if n in tables]
    emptied = {name: frame.head(0) if name in chosen else frame for name, frame in tables.items()}
    table, _, column = what.partition(".")
    if names is not None:
        note = Note("tables_not_available", {"tables": tuple(chosen), "what": what})
    elif column:
        note = Note("section_column_not_available", {"where": what})
    else:
        note = Note("section_not_available", {"table": table})
    return emptied, (note,)


def _stats(native: Any, counts: Mapping[str, tuple[tuple[str, ...], nw.Expr]]) -> dict[str, int]:
    """``rows`` and each count (0 when a column it needs is absent), in one pass."""
    frame = nw.from_native(native)
    lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
    names = set(lazy.collect_schema().names())
    usable = {k: expr for k, (needs, expr) in counts.items() if names.issuperset(needs)}
    row = (
        lazy.select(nw.len().alias("rows"), *[e.alias(k) for k, e in usable.items()])
        .collect()
        .rows(named=True)[0]
    )
    return {"rows": int(row["rows"] or 0), **{k: int(row.get(k) or 0) for k in counts}}


def _values(column: str) -> tuple[tuple[str, ...], nw.Expr]:
    """The number of non-missing cells of ``column``."""
    return (column,), nw.col(column).count()


def data_gaps(
    tables: Mapping[str, Any], *, capacity_bands: Mapping[str, int] = DEFAULT_CAPACITY_BANDS
) -> DataGaps:
    """The tables and columns the data lacks, and the summary KPIs they leave undefined.

    Parameters
    ----------
    tables
        Table name -> frame (any supported engine; an absent table may be left out
        or ``None``).
    capacity_bands
        The segment bands the report uses for SQL capacity.

    Returns
    -------
    DataGaps
    """
    missing: set[str] = set()
    checks: dict[str, dict[str, tuple[tuple[str, ...], nw.Expr]]] = {
        "activities": {
            "calls": (("channel",), flag(nw.col("channel") == "call").sum()),
            "timed_calls": (
                ("channel", "duration_s"),
                flag((nw.col("channel") == "call") & ~nw.col("duration_s").is_null()).sum(),
            ),
        },
        "opportunities": {c: _values(c) for c in ("validated_at", "is_won", "closed_at", "amount")},
        "accounts": {"is_target": (("is_target",), flag(nw.col("is_target")).sum())},
        "reps": {
            "capacity": (
                ("monthly_sql_capacity", "segment"),
                flag(~capacity_expr(capacity_bands).is_null()).sum(),
            )
        },
    }
    stats: dict[str, dict[str, int]] = {}
    for table, counts in checks.items():
        native = tables.get(table)
        stats[table] = {"rows": 0} if native is None else _stats(native, counts)
        if stats[table]["rows"] == 0:
            missing.add(table)
    acts = stats["activities"]
    if "activities" not in missing and acts["calls"] > 0 and acts["timed_calls"] == 0:
        missing.add("activities.duration_s")
    if "opportunities" not in missing:
        opps = stats["opportunities"]
        missing.update(f"opportunities.{c}" for c in ("validated_at", "amount") if opps[c] == 0)
        if opps["is_won"] == 0 and opps["closed_at"] > 0:
            missing.add("opportunities.is_won")
    if "accounts" not in missing and stats["accounts"]["is_target"] == 0:
        missing.add("accounts.is_target")
    if "reps" not in missing and stats["reps"]["capacity"] == 0:
        missing.add("reps.capacity")
    return _gaps(frozenset(missing))


#: (what is missing, note key, its params, the KPIs it makes unavailable), in order.
_RULES: Sequence[tuple[str, str, dict[str, str], tuple[str, ...]]] = (
    ("opportunities", "na_table", {"table": "opportunities"}, OPPORTUNITY_KPIS),
    ("activities", "na_table", {"table": "activities"}, ACTIVITY_KPIS),
    (
        "opportunities.validated_at",
        "na_column",
        {"where": "opportunities.validated_at"},
        VALID_KPIS,
    ),
    ("opportunities.is_won", "na_outcome", {}, WON_KPIS),
    ("opportunities.amount", "na_column", {"where": "opportunities.amount"}, AMOUNT_KPIS),
    ("activities.duration_s", "na_column", {"where": "activities.duration_s"}, ("talk_time_s",)),
    ("accounts", "na_table", {"table": "accounts"}, TARGET_KPIS),
    ("accounts.is_target", "na_targets", {}, TARGET_KPIS),
    ("reps", "na_table", {"table": "reps"}, ("sql_over_capacity_rep_months",)),
    ("reps.capacity", "na_capacity", {}, ("sql_over_capacity_rep_months",)),
)


def _gaps(missing: frozenset[str]) -> DataGaps:
    unavailable: dict[str, Note] = {}
    notes: list[Note] = []
    for what, key, params, kpis in _RULES:
        if what not in missing:
            continue
        left = tuple(k for k in kpis if k not in unavailable)
        if not left:
            continue
        note = Note(key, {**params, "kpis": left})
        notes.append(note)
        unavailable.update(dict.fromkeys(left, note))
    return DataGaps(missing=missing, unavailable=unavailable, notes=tuple(notes))
