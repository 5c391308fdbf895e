"""Builders and engine helpers shared by the activity, cadence, queue and asset tests.

Frames are canonical pandas frames (dtypes from :data:`pipelinekit.schema.TABLES`)
built from short row dictionaries; :func:`on_engines` runs a metric on pandas, polars
(eager and lazy) and DuckDB and checks that every engine gives the pandas result.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import narwhals as nw
import pandas as pd
import polars as pl

from pipelinekit.schema import TABLES

_IDS = itertools.count(1)

#: Default values of the row builders (besides the schema defaults).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "leads": {"origin": "inbound", "action_status": "new"},
    "activities": {"direction": "outbound"},
}
_KEYS = {"leads": "lead_id", "activities": "activity_id", "opportunities": "opportunity_id"}


def frame(table: str, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A canonical pandas frame of ``table`` from row dictionaries.

    Missing columns take the schema default (or the builder default); extra keys
    become extra columns (passed through by the metrics). Ids are generated when
    absent.
    """
    spec = TABLES[table]
    defaults = _DEFAULTS.get(table, {})
    key = _KEYS.get(table)
    data: dict[str, pd.Series[Any]] = {}
    for col in spec.columns:
        values = [r.get(col.name, defaults.get(col.name, col.default)) for r in rows]
        if col.name == key:
            values = [v if v is not None else f"{table[0]}{next(_IDS):05d}" for v in values]
        if col.kind in ("timestamp", "date"):
            stamps = pd.to_datetime(pd.Series(values, dtype=object))
            data[col.name] = stamps.astype("datetime64[us]")
        else:
            data[col.name] = pd.Series(values, dtype=col.pandas_dtype)
    extra = sorted({k for r in rows for k in r} - set(spec.names))
    for name in extra:
        data[name] = pd.Series([r.get(name) for r in rows], dtype="str")
    return pd.DataFrame(data)


def leads(*rows: dict[str, Any]) -> pd.DataFrame:
    """Canonical leads (default origin inbound, status new)."""
    return frame("leads", rows)


def acts(*rows: dict[str, Any]) -> pd.DataFrame:
    """Canonical activities (default direction outbound)."""
    return frame("activities", rows)


def opps(*rows: dict[str, Any]) -> pd.DataFrame:
    """Canonical opportunities."""
    return frame("opportunities", rows)


def call(lead: str | None, when: str, outcome: str = "no_answer", **more: Any) -> dict[str, Any]:
    return {"lead_id": lead, "occurred_at": when, "channel": "call", "outcome": outcome, **more}


def email(lead: str | None, when: str, outcome: str = "sent", **more: Any) -> dict[str, Any]:
    return {"lead_id": lead, "occurred_at": when, "channel": "email", "outcome": outcome, **more}


def meeting(lead: str | None, when: str, outcome: str = "held", **more: Any) -> dict[str, Any]:
    return {"lead_id": lead, "occurred_at": when, "channel": "meeting", "outcome": outcome, **more}


def web(lead: str | None, when: str, outcome: str = "page_view", **more: Any) -> dict[str, Any]:
    return {
        "lead_id": lead,
        "occurred_at": when,
        "channel": "web",
        "direction": "inbound",
        "outcome": outcome,
        **more,
    }


def as_pandas(result: Any) -> pd.DataFrame:
    """Any eager or lazy result as a pandas frame with a fresh index."""
    if isinstance(result, pd.DataFrame):
        return result.reset_index(drop=True)
    wrapped = nw.from_native(result)
    if isinstance(wrapped, nw.LazyFrame):
        wrapped = wrapped.collect()
    return wrapped.to_pandas().reset_index(drop=True)


def _variants(frames: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    polars = [pl.from_pandas(f) for f in frames]
    yield "polars", polars
    yield "polars-lazy", [f.lazy() for f in polars]
    con = duckdb.connect()
    names = []
    for i, f in enumerate(polars):
        con.register(f"t{i}", f)
        names.append(f"t{i}")
    yield "duckdb", [con.sql(f"select * from {n}") for n in names]


def assert_same(left: pd.DataFrame, right: pd.DataFrame, what: str = "") -> None:
    """Equal values, columns and row order (dtypes may differ between engines)."""
    assert list(left.columns) == list(right.columns), what
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True),
        right.reset_index(drop=True),
        check_dtype=False,
        check_exact=False,
        rtol=1e-12,
        obj=what,
    )


def on_engines(function: Callable[..., Any], *frames: Any, **options: Any) -> pd.DataFrame:
    """Run ``function`` on pandas, polars, polars lazy and DuckDB; return the pandas
    result after checking every engine gives the same rows in the same order, and
    that shuffled input gives the same result (rows are sorted on full keys)."""
    expected = function(*frames, **options)
    assert isinstance(expected, pd.DataFrame)
    expected = expected.reset_index(drop=True)
    for name, converted in _variants(frames):
        result = function(*converted, **options)
        kind = type(converted[0]).__module__.split(".")[0]
        assert type(result).__module__.split(".")[0] == kind, f"{name}: returns {type(result)}"
        assert_same(expected, as_pandas(result), name)
    shuffled = [f.sample(frac=1.0, random_state=7).reset_index(drop=True) for f in frames]
    assert_same(expected, function(*shuffled, **options), "shuffled input")
    return expected


def unchanged(function: Callable[..., Any], *frames: pd.DataFrame, **options: Any) -> None:
    """Assert ``function`` does not modify its pandas inputs."""
    before = [f.copy(deep=True) for f in frames]
    function(*frames, **options)
    for old, new in zip(before, frames, strict=True):
        pd.testing.assert_frame_equal(old, new)
