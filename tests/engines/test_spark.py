"""PySpark (local[2]) and Dask conformance, run by ``make test-engines`` only.

Every registered function runs on PySpark DataFrames built from the edge-case
dataset (tz-aware input, DST nights, ties, null keys, orphans; every recipe) and the
seeded sample (first recipe) and must equal the pandas result. Spark sessions whose
time zone is not UTC are refused (Spark applies the session zone to truncation and
to naive literals, which would shift results silently). Dask frames are refused by
every function with an error naming the function and the engine.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

from pipelinekit import _compat
from pipelinekit.errors import UnsupportedEngineError
from pipelinekit.journey import journey

from .datasets import EngineDataset, edge_dataset, sample_dataset
from .engines import assert_same_result, convert_tables, spark_session
from .registry import REGISTRY, Recipe
from .runner import call, check_kind, prepare, reference

pytestmark = pytest.mark.engines

#: Registered entries not run on Spark, and why (each is covered through its parts).
SPARK_SKIP = {
    "reporting.build_report": "the summary and every report_section run on Spark on their own",
}

DATASETS: dict[str, EngineDataset] = {}


def dataset(name: str) -> EngineDataset:
    if name not in DATASETS:
        DATASETS[name] = edge_dataset() if name == "edge" else sample_dataset()
    return DATASETS[name]


@pytest.fixture(scope="module")
def spark() -> Any:
    # no importorskip: `make test-engines` installs PySpark, and a missing engine must
    # fail the run rather than pass it with every test skipped
    return spark_session()


#: Functions also run on the seeded sample on Spark (the benchmarked KPIs); every
#: function runs every recipe on the edge cases. Spark spends seconds planning each
#: query, so the whole matrix on both datasets would take the better part of an hour.
SAMPLE_ON_SPARK = {
    "journey.journey",
    "reporting.summary.summary",
    "metrics.funnel.funnel",
    "metrics.cadence.cadence_compliance",
    "metrics.allocation.sql_allocation",
}


def _recipes(name: str, which: str) -> list[Recipe]:
    recipes = REGISTRY[name]
    if which == "edge":
        return recipes
    return recipes[:1] if name in SAMPLE_ON_SPARK else []


@pytest.mark.parametrize("name", [n for n in REGISTRY if n not in SPARK_SKIP])
def test_same_result_on_spark(spark: Any, name: str) -> None:
    for which in ("edge", "sample"):
        data = dataset(which)
        inputs = prepare(data, "spark")
        for recipe in _recipes(name, which):
            label = f"{name}[{recipe.label}] on {which}/spark"
            got = call(name, recipe, inputs)
            check_kind(got, recipe, "spark", label)
            assert_same_result(got, reference(name, recipe, data), label=label)


def test_spark_session_time_zone_must_be_utc(spark: Any) -> None:
    data = dataset("edge")
    frames = convert_tables("spark", data.tables)
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        with pytest.raises(UnsupportedEngineError, match=r"journey: PySpark session time zone"):
            journey(frames["leads"], frames["activities"], frames["opportunities"], tz=data.tz)
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)


def test_spark_zone_conversion_keeps_the_dst_tie(spark: Any) -> None:
    import narwhals as nw

    instants = pd.Series(
        pd.to_datetime(["2025-10-26 00:30", "2025-10-26 01:30", "2025-03-30 22:30", None]),
        dtype="datetime64[us]",
    ).dt.tz_localize("UTC")
    frame = convert_tables("spark", {"t": pd.DataFrame({"at": instants, "k": [1, 2, 3, 4]})})
    out = _compat.to_local_naive(nw.from_native(frame["t"]), ["at"], tz="Europe/Berlin", table="t")
    rows = out.sort("k").collect(backend="polars").to_native()["at"].to_list()
    assert [None if v is None else v.isoformat(sep=" ") for v in rows] == [
        "2025-10-26 02:30:00",
        "2025-10-26 02:30:00",
        "2025-03-31 00:30:00",
        None,
    ]


def _allocation_from_naive_pandas(spark: Any, timestamp_type: str) -> Any:
    """Monthly SQL allocation on frames built the usual way: createDataFrame(pandas)."""
    from pipelinekit import sql_allocation

    data = dataset("sample")
    previous = spark.conf.get("spark.sql.timestampType")
    spark.conf.set("spark.sql.timestampType", timestamp_type)
    try:
        reps = spark.createDataFrame(data.tables["reps"])
        opps = spark.createDataFrame(data.tables["opportunities"])
        kinds = dict(opps.dtypes)
        result = sql_allocation(reps, opps, tz=data.tz, freq="month")
        return kinds, result
    finally:
        spark.conf.set("spark.sql.timestampType", previous)


def test_naive_pandas_in_a_default_spark_session_is_refused_not_shifted(spark: Any) -> None:
    from pipelinekit.errors import SchemaError

    with pytest.raises(SchemaError) as err:
        _allocation_from_naive_pandas(spark, "TIMESTAMP_LTZ")
    problems = err.value.problems
    assert {(p.table, p.column, p.rule) for p in problems} == {
        ("opportunities", "created_at", "ambiguous_timestamp")
    }
    message = str(err.value)
    assert "Asia/Tokyo" in message
    assert "UTC" in message
    assert "spark.sql.timestampType" in message
    assert "timestamp_ntz" in message


def test_naive_pandas_in_an_ntz_session_gives_the_pandas_answer(spark: Any) -> None:
    from pipelinekit import sql_allocation

    kinds, got = _allocation_from_naive_pandas(spark, "TIMESTAMP_NTZ")
    assert kinds["created_at"] == "timestamp_ntz"
    data = dataset("sample")
    want = sql_allocation(
        data.tables["reps"], data.tables["opportunities"], tz=data.tz, freq="month"
    )
    assert_same_result(got, want, label="sql_allocation from createDataFrame(pandas)")


# --- Dask is refused -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_inputs() -> Any:
    import dask.dataframe as dd

    data = dataset("edge")
    inputs = prepare(data, "pandas")

    class DaskInputs:
        pass

    out = DaskInputs()
    out.data = data  # type: ignore[attr-defined]
    out.frames = {k: dd.from_pandas(v, npartitions=2) for k, v in inputs.frames.items()}  # type: ignore[attr-defined]
    out.dataset = lambda: _dask_dataset(out.frames, data)  # type: ignore[attr-defined]
    return out


def _dask_dataset(frames: dict[str, Any], data: EngineDataset) -> Any:
    from pipelinekit import Dataset

    names = ("leads", "activities", "opportunities", "accounts", "reps", "campaigns")
    extra = ("stage_changes", "campaign_members", "opportunity_history", "quotas")
    tables = {n: frames[n] for n in (*names, *extra)}
    return Dataset(**tables, tz=data.tz, validated=True)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_function_refuses_dask_by_name(dask_inputs: Any, name: str) -> None:
    recipe = REGISTRY[name][0]
    short = name.rsplit(".", 1)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # narwhals: Dask moves out
        with pytest.raises(UnsupportedEngineError, match=r"Dask frames are not supported") as err:
            call(name, recipe, dask_inputs)
    message = str(err.value)
    # Report sections are reached through build_report, whose refusal names the
    # first fact it needs; a metric function names itself.
    section = name.startswith("reporting.") or name.endswith(("report_section", "build_report"))
    if "." in name and not section:
        # A deprecated alias names the function it forwards to.
        named = {"win_rate_by": "win_rate"}.get(short, short)
        assert message.startswith(f"{named}:"), message
