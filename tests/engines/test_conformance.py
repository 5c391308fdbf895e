"""Engine conformance: every public metric function gives the same answer on pandas,
polars (eager and lazy), pyarrow and DuckDB, and returns the caller's kind of frame.

Each function runs with every recipe of :mod:`tests.engines.registry` on the seeded
sample and on the hand-written edge cases (tz-aware UTC input, DST nights, month
boundaries, ties, null keys, orphan activities; see :mod:`tests.engines.datasets`);
results are compared with the pandas result after sorting rows and normalising
dtypes (NaN == null, ints as Int64, Decimal as float). A property test repeats the
comparison on random datasets drawn by ``tests/strategies.py``. PySpark runs the same
matrix in ``test_spark.py`` (``make test-engines``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from pipelinekit import _compat
from pipelinekit.errors import ConfigError, UnsupportedEngineError
from pipelinekit.journey import journey
from pipelinekit.metrics.cadence import cadence_compliance
from pipelinekit.metrics.funnel import funnel

from ..strategies import datasets
from .datasets import EngineDataset, edge_dataset, sample_dataset
from .engines import DEFAULT_ENGINES, ENGINE_SESSION_TZ, assert_same_result, convert_tables
from .registry import EXTRA, NOT_METRICS, REGISTRY, public_functions
from .runner import call, check_kind, prepare, reference

DATASETS: dict[str, EngineDataset] = {}
#: Deep copies of each dataset's tables taken before any function ran on them.
ORIGINALS: dict[str, dict[str, pd.DataFrame]] = {}


def dataset(name: str) -> EngineDataset:
    if name not in DATASETS:
        data = sample_dataset() if name == "sample" else edge_dataset()
        ORIGINALS[name] = {k: v.copy(deep=True) for k, v in data.tables.items()}
        DATASETS[name] = data
    return DATASETS[name]


# --- the registry is complete ------------------------------------------------------


def test_registry_lists_every_public_function() -> None:
    public = set(public_functions())
    listed = set(REGISTRY) | set(NOT_METRICS)
    missing = sorted(public - listed)
    assert not missing, (
        f"public functions without a conformance recipe: {missing}; add them to "
        "tests/engines/registry.py REGISTRY (or NOT_METRICS with the reason)"
    )
    stale = sorted(listed - public - set(EXTRA))
    assert not stale, f"registry entries that are no longer public functions: {stale}"
    assert not set(REGISTRY) & set(NOT_METRICS)
    assert all(REGISTRY.values()), "every registered function needs at least one recipe"


# --- every function x engine ------------------------------------------------------


def _check(name: str, engine: str, data: EngineDataset) -> None:
    inputs = prepare(data, engine)
    for recipe in REGISTRY[name]:
        label = f"{name}[{recipe.label}] on {data.name}/{engine}"
        want = reference(name, recipe, data)
        got = want if engine == "pandas" else call(name, recipe, inputs)
        check_kind(got, recipe, engine, label)
        assert_same_result(got, want, label=label)
    if engine == "pandas":
        _assert_not_mutated(data)


def _assert_not_mutated(data: EngineDataset) -> None:
    """The pandas input frames (shared by every reference call, on every engine's
    case) still equal the copies taken before any call."""
    frames = prepare(data, "pandas").frames
    for table, original in ORIGINALS[data.name].items():
        pd.testing.assert_frame_equal(frames[table], original, obj=f"{data.name}.{table}")


#: pandas, polars eager and pyarrow inputs run on polars after one conversion, so
#: they share polars-lazy's code path except at entry and exit: the edge cases suffice
#: there, and the full report (the summary plus every section, each tested on its
#: own) runs on the engines with their own code path only.
_EDGE_ONLY = {"polars", "pyarrow"}
_CASES = [
    (name, engine)
    for name in REGISTRY
    for engine in DEFAULT_ENGINES
    if not (name == "reporting.build_report" and engine in _EDGE_ONLY)
]


@pytest.mark.parametrize(("name", "engine"), _CASES)
def test_same_result_on_every_engine(name: str, engine: str) -> None:
    for which in ("edge",) if engine in _EDGE_ONLY else ("edge", "sample"):
        _check(name, engine, dataset(which))


# --- random datasets ----------------------------------------------------------------

_CORE = {
    "journey": lambda t, **kw: journey(t["leads"], t["activities"], t["opportunities"], **kw),
    "cadence": lambda t, **kw: cadence_compliance(t["leads"], t["activities"], **kw),
    "funnel": lambda t, **kw: funnel(
        journey(t["leads"], t["activities"], t["opportunities"], **kw), by="origin", **kw
    ),
}


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables=datasets(max_leads=6, max_activities=12, max_opportunities=4))
def test_random_datasets_agree_on_polars_and_duckdb(tables: dict[str, pd.DataFrame]) -> None:
    kwargs: dict[str, Any] = {"as_of": date(2025, 3, 31), "tz": "Asia/Tokyo"}
    for engine in ("polars-lazy", "duckdb"):
        converted = convert_tables(engine, tables)
        for name, fn in _CORE.items():
            want = fn(tables, **kwargs)
            got = fn(converted, **kwargs)
            assert_same_result(got, want, label=f"{name} on {engine}")


# --- time zones on DuckDB never depend on the connection ---------------------------


@pytest.mark.parametrize("connection_tz", ["UTC", ENGINE_SESSION_TZ, "Asia/Tokyo"])
def test_duckdb_zone_conversion_ignores_the_connection_time_zone(connection_tz: str) -> None:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{connection_tz}'")
    # 00:30 and 01:30 UTC on 2025-10-26 are both 02:30 in Berlin (clocks went back)
    instants = pd.Series(
        pd.to_datetime(["2025-10-26 00:30", "2025-10-26 01:30", "2025-03-30 22:30", None]),
        dtype="datetime64[us]",
    ).dt.tz_localize("UTC")
    rel = con.from_df(pd.DataFrame({"at": instants, "k": [1, 2, 3, 4]}))
    out = _compat.to_local_naive(nw.from_native(rel), ["at"], tz="Europe/Berlin", table="t")
    got = out.sort("k").collect(backend="polars").to_native()["at"].to_list()
    assert [None if v is None else v.isoformat(sep=" ") for v in got] == [
        "2025-10-26 02:30:00",
        "2025-10-26 02:30:00",
        "2025-03-31 00:30:00",  # 22:30 UTC = 00:30 CEST the next day
        None,
    ]


def test_unknown_time_zone_is_a_config_error() -> None:
    aware = pl.DataFrame({"at": pd.Series(pd.to_datetime(["2025-01-01"])).dt.tz_localize("UTC")})
    with pytest.raises(ConfigError, match="tz must be an IANA time zone"):
        _compat.to_local_naive(nw.from_native(aware).lazy(), ["at"], tz="Mars/Base", table="t")


def test_iso_weekday_is_one_to_seven() -> None:
    days = pl.DataFrame({"d": pl.date_range(date(2025, 3, 3), date(2025, 3, 9), eager=True)})
    out = nw.from_native(days).select(_compat.iso_weekday(nw.col("d")).alias("w"))
    assert out["w"].to_list() == [1, 2, 3, 4, 5, 6, 7]


# --- engines that are refused -------------------------------------------------------


def test_dask_is_refused_with_the_function_and_the_engine() -> None:
    with pytest.raises(UnsupportedEngineError, match=r"journey: Dask frames are not supported"):
        _compat.check_engine(nw.Implementation.DASK, function="journey")
    with pytest.raises(NotImplementedError):  # UnsupportedEngineError is one
        _compat.check_engine(nw.Implementation.DASK, function="journey")


def test_untested_engines_are_refused() -> None:
    with pytest.raises(UnsupportedEngineError, match=r"sql_mix: .*not supported"):
        _compat.check_engine(nw.Implementation.MODIN, function="sql_mix")


def test_mixed_libraries_are_refused() -> None:
    data = dataset("edge")
    leads = pl.from_pandas(data.tables["leads"])
    with pytest.raises(UnsupportedEngineError, match="journey: input frames mix libraries"):
        journey(leads, data.tables["activities"], data.tables["opportunities"])


def test_plain_python_objects_are_refused() -> None:
    with pytest.raises(UnsupportedEngineError, match="journey: unsupported input of type list"):
        journey([{"lead_id": "L1"}], [], [])


def test_unpivot_keeps_nulls_on_duckdb() -> None:
    con = duckdb.connect()
    frame = pd.DataFrame(
        {
            "k": ["a", "b"],
            "x": pd.array([1, None], dtype="Int64"),
            "y": pd.array([None, 4], dtype="Int64"),
        }
    )
    rel = con.from_df(frame)
    long = _compat.unpivot(nw.from_native(rel), on=["x", "y"], index=["k"])
    got = long.collect(backend="polars").to_native().sort("k", "variable")
    assert got.rows() == [("a", "x", 1), ("a", "y", None), ("b", "x", None), ("b", "y", 4)]
