"""Fuzzing the validator: break a valid dataset on purpose, every break must be reported.

A valid random dataset (``tests.strategies.datasets``) gets one to three injected
faults on distinct columns: a dropped required column, a type swap, NaN / inf in a
number, a missing required value, a duplicated key, an unknown enum value, an orphan
foreign key. ``validate_tables`` must report each fault by (table, column, rule) and
must raise nothing but :class:`~pipelinekit.errors.SchemaError` (or return
``Validated`` with the warning when only warnings were injected).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit.errors import SchemaError
from pipelinekit.schema import TABLES
from pipelinekit.validation import validate_tables
from tests.strategies import datasets

Fault = tuple[str, str, str, str]  # (table, column, rule, severity)
Tables = dict[str, pd.DataFrame]

NUMBER_COLUMNS = [
    (t.name, c.name) for t in TABLES.values() for c in t.columns if c.kind in ("int", "float")
]
FLOAT_COLUMNS = [(t.name, c.name) for t in TABLES.values() for c in t.columns if c.kind == "float"]
ENUM_COLUMNS = [(t.name, c.name) for t in TABLES.values() for c in t.columns if c.enum]
REQUIRED = [(t.name, c.name) for t in TABLES.values() for c in t.columns if c.required]
KEYS = [(t.name, t.key) for t in TABLES.values() if t.key]
FKS = [
    (t.name, c.name)
    for t in TABLES.values()
    for c in t.columns
    if c.fk is not None and c.fk[0] != "campaigns"
]
KINDS = ("drop", "type", "non_finite", "missing", "duplicate", "enum", "orphan")


def _set(frame: pd.DataFrame, row: int, column: str, value: Any) -> None:
    """Put ``value`` in one cell; the column becomes an object column."""
    values = frame[column].astype(object).tolist()
    values[row] = value
    frame[column] = pd.Series(values, dtype=object, index=frame.index)


@st.composite
def broken(draw: st.DrawFn) -> tuple[Tables, list[Fault]]:
    tables = {name: frame.copy() for name, frame in draw(datasets(min_leads=2)).items()}
    faults: list[Fault] = []
    touched: set[tuple[str, str]] = set()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(KINDS))
        pools = {
            "drop": REQUIRED,
            "type": NUMBER_COLUMNS,
            "non_finite": FLOAT_COLUMNS,
            "missing": REQUIRED,
            "duplicate": KEYS,
            "enum": ENUM_COLUMNS,
            "orphan": FKS,
        }
        pool = [(t, c) for t, c in pools[kind] if t in tables]  # optional tables may be absent
        if not pool:
            continue
        table, column = draw(st.sampled_from(pool))
        frame = tables[table]
        minimum = 2 if kind == "duplicate" else 1
        if (
            (table, column) in touched
            or len(frame) < minimum
            or (kind == "drop" and any(t == table for t, _ in touched))
        ):
            continue
        if kind == "drop" and column == TABLES[table].key:
            continue  # dropping a key also blanks every id; covered by missing_column only
        touched.add((table, column))
        row = draw(st.integers(0, len(frame) - 1))
        if kind == "drop":
            tables[table] = frame.drop(columns=[column])
            faults.append((table, column, "missing_column", "error"))
            continue
        if kind == "type":
            _set(frame, row, column, draw(st.sampled_from(["abc", "12k", "1.2.3", "--"])))
            faults.append((table, column, "bad_type", "error"))
        elif kind == "non_finite":
            _set(frame, row, column, draw(st.sampled_from([float("inf"), float("-inf"), "inf"])))
            faults.append((table, column, "non_finite", "error"))
        elif kind == "missing":
            _set(frame, row, column, draw(st.sampled_from([None, float("nan"), "", "NULL"])))
            faults.append((table, column, "required_value", "error"))
        elif kind == "duplicate":
            other = (row + draw(st.integers(1, len(frame) - 1))) % len(frame)
            _set(frame, row, column, frame[column].iloc[other])
            faults.append((table, column, "duplicate_id", "error"))
        elif kind == "enum":
            _set(frame, row, column, draw(st.sampled_from(["zzz", "web form", "Closed-Won"])))
            faults.append((table, column, "unknown_enum", "error"))
        else:
            _set(frame, row, column, "NO-SUCH-KEY")
            faults.append((table, column, "orphan_fk", "warning"))
    return tables, faults


def _reported(tables: Tables) -> tuple[set[tuple[str, str, str]], bool]:
    """(reported (table, column, rule) keys, whether validation raised)."""
    try:
        result = validate_tables(tables)
    except SchemaError as err:
        errors = err.errors
        keys = set(err.totals)
    else:
        assert not any(p.severity == "error" for p in result.warnings)
        return set(result.totals), False
    assert errors, "a SchemaError always holds an error"
    return keys, True


@settings(max_examples=40, deadline=None)
@given(broken())
def test_every_injected_fault_is_reported(case: tuple[Tables, list[Fault]]) -> None:
    tables, faults = case
    snapshot = {name: frame.copy() for name, frame in tables.items()}
    reported, raised = _reported(tables)
    for table, column, rule, _ in faults:
        assert (table, column, rule) in reported, (table, column, rule, sorted(reported))
    if any(severity == "error" for *_, severity in faults):
        assert raised
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, snapshot[name])


@settings(max_examples=30, deadline=None)
@given(datasets(), st.data())
def test_arbitrary_text_cells_never_crash(tables: Tables, data: Any) -> None:
    """Any text in any cell: only SchemaError, never another exception."""
    tables = {name: frame.copy() for name, frame in tables.items()}
    table = data.draw(st.sampled_from([n for n, f in tables.items() if len(f)]))
    frame = tables[table]
    column = data.draw(st.sampled_from(list(frame.columns)))
    row = data.draw(st.integers(0, len(frame) - 1))
    _set(frame, row, column, data.draw(st.text(max_size=20)))
    with contextlib.suppress(SchemaError):
        validate_tables(tables)
