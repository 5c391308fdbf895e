"""Frame libraries for the conformance suite: convert canonical pandas tables to an
engine, and normalise any result back to one comparable polars frame.

Engines: ``pandas``, ``polars``, ``polars-lazy``, ``pyarrow``, ``duckdb`` (in the
default run) and ``spark`` (``make test-engines``). DuckDB relations live on a
connection whose time zone is deliberately not the dataset's, and Spark runs with a
session time zone that is neither, so a result that depended on either would differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
from polars.testing import assert_frame_equal

from pipelinekit.rates import Rate

__all__ = [
    "DEFAULT_ENGINES",
    "assert_same_result",
    "convert_tables",
    "normalise",
    "spark_session",
]

#: Engines of the default test run (PySpark runs in ``make test-engines``).
DEFAULT_ENGINES = ("pandas", "polars", "polars-lazy", "pyarrow", "duckdb")

#: DuckDB connection time zone: differs from every dataset time zone used, so a
#: result that depended on it would differ. (PySpark sessions must be UTC: pipelinekit
#: refuses any other session zone, see test_spark.py.)
ENGINE_SESSION_TZ = "America/Los_Angeles"

_SPARK: Any = None


def spark_session() -> Any:
    """A shared local[2] SparkSession (created once per test process)."""
    global _SPARK
    if _SPARK is None:
        from pyspark.sql import SparkSession

        _SPARK = (
            SparkSession.builder.master("local[2]")
            .appName("pipelinekit-conformance")
            .config("spark.sql.session.timeZone", "UTC")
            # naive values become TIMESTAMP_NTZ, so TIMESTAMP columns are instants
            .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
            .config("spark.sql.shuffle.partitions", "1")
            # tiny data: compiling generated code costs more than it saves
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.default.parallelism", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def _duckdb_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{ENGINE_SESSION_TZ}'")
    return {
        name: con.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))
        for name, frame in tables.items()
    }


def _spark_frame(frame: pd.DataFrame) -> Any:
    """pandas -> Spark with naive timestamps as TIMESTAMP_NTZ (wall-clock, no zone)."""
    from pyspark.sql import types as spark_types

    spark = spark_session()
    fields = []
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            kind: Any = spark_types.TimestampType()
        elif pd.api.types.is_datetime64_dtype(dtype):
            kind = spark_types.TimestampNTZType()
        elif pd.api.types.is_bool_dtype(dtype):
            kind = spark_types.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = spark_types.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = spark_types.DoubleType()
        else:
            kind = spark_types.StringType()
        fields.append(spark_types.StructField(str(name), kind, True))
    schema = spark_types.StructType(fields)
    rows = []
    for record in frame.astype(object).itertuples(index=False, name=None):
        rows.append(tuple(_spark_value(v) for v in record))
    return spark.createDataFrame(rows, schema=schema)


def _spark_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


_CONVERTERS: dict[str, Callable[[Mapping[str, pd.DataFrame]], dict[str, Any]]] = {
    "pandas": lambda t: {k: v.copy() for k, v in t.items()},
    "polars": lambda t: {k: pl.from_pandas(v) for k, v in t.items()},
    "polars-lazy": lambda t: {k: pl.from_pandas(v).lazy() for k, v in t.items()},
    "pyarrow": lambda t: {k: pa.Table.from_pandas(v, preserve_index=False) for k, v in t.items()},
    "duckdb": _duckdb_tables,
    "spark": lambda t: {k: _spark_frame(v) for k, v in t.items()},
}


def convert_tables(engine: str, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The canonical pandas ``tables`` as frames of ``engine`` (one DuckDB connection)."""
    return _CONVERTERS[engine](tables)


def expected_type(engine: str) -> type | tuple[type, ...]:
    """The native frame type a function must return for input of ``engine``."""
    if engine == "pandas":
        return pd.DataFrame
    if engine == "polars":
        return pl.DataFrame
    if engine == "polars-lazy":
        return pl.LazyFrame
    if engine == "pyarrow":
        return pa.Table
    if engine == "duckdb":
        import duckdb

        return duckdb.DuckDBPyRelation
    if engine == "spark":
        from pyspark.sql import DataFrame

        return DataFrame
    raise KeyError(engine)


# --- normalising results --------------------------------------------------------------


def _family(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "float"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if isinstance(dtype, (pl.String, pl.Categorical, pl.Enum)):
        return "str"
    if isinstance(dtype, pl.Null):
        return "null"
    return str(dtype.base_type())


def _to_polars(result: Any) -> pl.DataFrame:
    if isinstance(result, pl.LazyFrame):
        return result.collect()
    if isinstance(result, pl.DataFrame):
        return result
    if isinstance(result, pd.DataFrame):
        return pl.from_pandas(result)
    frame = nw.from_native(result)
    if isinstance(frame, nw.LazyFrame):
        return frame.collect(backend="polars").to_native()  # type: ignore[no-any-return]
    return pl.from_arrow(frame.to_arrow())  # type: ignore[return-value]


def normalise(result: Any) -> tuple[pl.DataFrame, dict[str, str]]:
    """A frame of any library as polars with one dtype per kind, rows sorted.

    Integers become Int64, floats Float64 with NaN as null, timestamps naive
    microseconds, strings String. Returns the frame and each column's kind
    (``int``, ``float``, ``str``, ``datetime``, ``Boolean``, ...).
    """
    frame = _to_polars(result)
    kinds = {name: _family(dtype) for name, dtype in frame.schema.items()}
    casts = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        kind = kinds[name]
        if kind == "int":
            casts.append(col.cast(pl.Int64))
        elif kind == "float":
            casts.append(col.cast(pl.Float64).fill_nan(None))
        elif kind == "datetime":
            assert isinstance(dtype, pl.Datetime)
            assert dtype.time_zone is None, f"{name}: timestamps must be naive, got {dtype}"
            casts.append(col.cast(pl.Datetime("us")))
        elif kind == "str":
            casts.append(col.cast(pl.String))
        elif kind == "Duration":
            casts.append(col.cast(pl.Duration("us")))
        else:
            casts.append(col)
    frame = frame.select(casts) if casts else frame
    if frame.width and frame.height:
        keys = [
            pl.col(n).round(6) if kinds[n] == "float" else pl.col(n)
            for n in frame.columns
            if kinds[n] not in ("List", "Struct", "Object")
        ]
        frame = frame.sort(keys, nulls_last=True, maintain_order=True)
    return frame, kinds


def _compatible(a: str, b: str) -> bool:
    """Column kinds agree (an all-null column may come back as any kind)."""
    return a == b or "null" in (a, b)


def assert_frames_equal(got: Any, want: Any, *, label: str) -> None:
    """``got`` and ``want`` have the same columns, kinds and rows (in any order)."""
    g, g_kinds = normalise(got)
    w, w_kinds = normalise(want)
    assert g.columns == w.columns, f"{label}: columns {g.columns} != {w.columns}"
    for name in g.columns:
        assert _compatible(g_kinds[name], w_kinds[name]), (
            f"{label}: column {name!r} is {g_kinds[name]}, expected {w_kinds[name]}"
        )
    for name in g.columns:
        if g.schema[name] != w.schema[name]:
            target = w.schema[name] if g_kinds[name] == "null" else g.schema[name]
            g = g.with_columns(pl.col(name).cast(target))
            w = w.with_columns(pl.col(name).cast(target))
    if g.height and g.width:
        g, _ = normalise(g)
        w, _ = normalise(w)
    assert_frame_equal(g, w, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def _same_scalar(got: Any, want: Any) -> bool:
    if isinstance(want, Rate):
        return (
            isinstance(got, Rate)
            and _same_scalar(got.numerator, want.numerator)
            and _same_scalar(got.denominator, want.denominator)
            and _same_scalar(got.value, want.value)
            and _same_scalar(got.ci_low, want.ci_low)
            and _same_scalar(got.ci_high, want.ci_high)
        )
    if isinstance(want, float) or isinstance(got, float):
        if math.isnan(float(want)) or math.isnan(float(got)):
            return math.isnan(float(want)) and math.isnan(float(got))
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    return bool(got == want) and type(got) is type(want)


def assert_same_result(got: Any, want: Any, *, label: str) -> None:
    """Compare results of any shape: frames, dicts of scalars/rates, report sections."""
    from pipelinekit.reporting.model import Section

    if isinstance(want, Section):
        assert isinstance(got, Section), f"{label}: expected a Section, got {type(got)}"
        assert (got.key, got.title) == (want.key, want.title), label
        assert list(got.tables) == list(want.tables), f"{label}: section tables differ"
        for name, table in want.tables.items():
            assert isinstance(got.tables[name], pd.DataFrame), f"{label}.{name}: not pandas"
            assert_frames_equal(got.tables[name], table, label=f"{label}.{name}")
            assert list(got.tables[name].columns) == list(table.columns), label
        assert got.notes == want.notes, f"{label}: notes differ"
        assert got.charts == want.charts, f"{label}: charts differ"
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{label}: expected a dict, got {type(got)}"
        assert list(got) == list(want), f"{label}: keys differ"
        for key, value in want.items():
            assert_same_result(got[key], value, label=f"{label}[{key!r}]")
        return
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)), f"{label}: expected a sequence, got {type(got)}"
        assert len(got) == len(want), f"{label}: lengths differ"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_result(g, w, label=f"{label}[{i}]")
        return
    if want is None or isinstance(want, (int, float, str, Rate)):
        assert _same_scalar(got, want), f"{label}: {got!r} != {want!r}"
        return
    assert_frames_equal(got, want, label=label)
