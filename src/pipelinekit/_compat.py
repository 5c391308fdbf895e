"""The only backend-specific code: entering and leaving narwhals, time zones.

Metric functions call :func:`enter` on their input frames, compute with narwhals
lazy expressions, and hand the result to :meth:`Session.finish`, which returns the
caller's kind of frame (pandas in -> pandas out, polars lazy in -> polars lazy out,
DuckDB relation in -> DuckDB relation out, PySpark in -> PySpark out).

Engines:

========================  ============================================================
pandas, pyarrow           computed on polars, a dependency (several times faster on
                          the grouped, windowed work the metrics do; no ordered
                          windows on pyarrow at all; numpy-backed pandas has no
                          integer null) and converted back on the way out
polars (eager or lazy)    natively; eager in -> eager out, lazy in -> lazy out
DuckDB relations          natively on the relations' own connection; time zones are
                          converted with DuckDB's ``timezone()``, never the
                          connection's ``TimeZone`` setting
PySpark DataFrames        natively; time zones converted from the instant with
                          ``from_utc_timestamp`` (never the session time zone);
                          results are ``TIMESTAMP_NTZ``; the session time zone must
                          be UTC (Spark applies it to ``date_trunc`` and literals)
Dask and anything else    :class:`~pipelinekit.errors.UnsupportedEngineError` naming
                          the function and the engine (Dask has no ordered windows or
                          month truncation in narwhals, see ENGINES.md rule 9)
========================  ============================================================
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import narwhals as nw

from pipelinekit.errors import ConfigError, Problem, SchemaError, UnsupportedEngineError

__all__ = [
    "SUPPORTED_ENGINES",
    "Session",
    "cache",
    "check_engine",
    "column_kinds",
    "enter",
    "fan_out",
    "from_columns",
    "has_exact_durations",
    "has_polars",
    "import_duckdb",
    "integer_range",
    "iso_weekday",
    "literal_rows",
    "polars_to_pandas",
    "python_value",
    "to_local_naive",
    "unpivot",
    "with_row_order",
    "working_tables",
]

_EAGER_LIBRARIES = {nw.Implementation.PANDAS, nw.Implementation.PYARROW}

#: Frame libraries the metric functions run on (tested by the conformance suite).
SUPPORTED_ENGINES: dict[nw.Implementation, str] = {
    nw.Implementation.PANDAS: "pandas",
    nw.Implementation.POLARS: "polars",
    nw.Implementation.PYARROW: "pyarrow",
    nw.Implementation.DUCKDB: "DuckDB",
    nw.Implementation.PYSPARK: "PySpark",
}

_WHY_NOT: dict[nw.Implementation, str] = {
    nw.Implementation.DASK: (
        "narwhals' Dask backend has no ordered window functions and no month truncation, "
        "which the metrics need; call .compute() for a pandas frame, or use PySpark "
        "for data that does not fit one machine"
    ),
}


def has_polars() -> bool:
    """Whether polars is importable (it is an optional extra)."""
    return importlib.util.find_spec("polars") is not None


def import_duckdb(purpose: str) -> Any:
    """The ``duckdb`` module; DuckDB is the optional ``engines`` extra.

    Raises :class:`UnsupportedEngineError` naming ``purpose`` and the install command
    when it is not installed.
    """
    try:
        import duckdb
    except ImportError as exc:
        raise UnsupportedEngineError(
            f'{purpose} needs DuckDB, which is not installed: pip install "pipelinekit[engines]"'
        ) from exc
    return duckdb


def check_engine(implementation: nw.Implementation, *, function: str) -> None:
    """Raise :class:`UnsupportedEngineError` unless ``implementation`` is supported.

    >>> check_engine(nw.Implementation.POLARS, function="journey")
    >>> check_engine(nw.Implementation.DASK, function="journey")
    Traceback (most recent call last):
    ...
    pipelinekit.errors.UnsupportedEngineError: journey: Dask frames are not supported: ...
    """
    if implementation in SUPPORTED_ENGINES:
        return
    name = {nw.Implementation.DASK: "Dask"}.get(implementation, str(implementation))
    why = _WHY_NOT.get(
        implementation,
        "it is not covered by the engine conformance suite, so results could silently differ",
    )
    supported = ", ".join(SUPPORTED_ENGINES.values())
    raise UnsupportedEngineError(
        f"{function}: {name} frames are not supported: {why}. Supported: {supported}."
    )


@attrs.frozen
class Session:
    """How to give results back in the caller's kind of frame."""

    implementation: nw.Implementation
    eager: bool
    accelerated: bool
    function: str

    def finish(self, frame: nw.LazyFrame[Any]) -> Any:
        """Return ``frame`` as the caller's kind of frame."""
        if not self.eager:
            return frame.to_native()
        result = frame.collect()
        if self.accelerated:
            if self.implementation is nw.Implementation.PYARROW:
                return result.to_arrow()
            return polars_to_pandas(result.to_native())
        return result.to_native()

    def collect(self, frame: nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
        """Collect ``frame`` eagerly on the working engine (for scalar results)."""
        return frame.collect()

    def cache(self, frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """Compute ``frame`` once when several results are built from it.

        A lazy plan used by several collects (or several branches of one plan) is
        otherwise recomputed each time: the report's funnel section computed the
        journey two dozen times. polars (and pandas / pyarrow computed on it):
        collected; PySpark: ``localCheckpoint()``; DuckDB: left as is (see
        :func:`cache`). For eager-out callers (report sections, summaries);
        functions returning lazy frames should stay lazy.
        """
        return cache(frame)


def polars_to_pandas(frame: Any) -> Any:
    """polars -> pandas with canonical dtypes: str for strings, nullable bool and int.

    Through Arrow: strings land directly in pandas' Arrow-backed ``str`` dtype
    (pandas >= 3) without a round trip through Python objects.
    """
    import pandas as pd
    import polars as pl

    out = frame.to_arrow().to_pandas(types_mapper=_arrow_to_pandas_dtype)
    for name, dtype in frame.schema.items():
        if dtype == pl.String and out[name].dtype != _PANDAS_STR:
            out[name] = out[name].astype("str")
        elif dtype == pl.Boolean and out[name].dtype == object:
            out[name] = out[name].astype("boolean")
        elif dtype.is_integer() and out[name].dtype.kind == "f":
            out[name] = out[name].astype("Int64")
    return pd.DataFrame(out)


def _pandas_str_dtype() -> Any:
    import pandas as pd

    return pd.Series([], dtype="str").dtype


_PANDAS_STR: Any = None


def _arrow_to_pandas_dtype(arrow_type: Any) -> Any:
    """pandas dtype for an Arrow type: ``str`` for strings when it is Arrow-backed."""
    global _PANDAS_STR
    import pandas as pd
    import pyarrow as pa

    if _PANDAS_STR is None:
        _PANDAS_STR = _pandas_str_dtype()
    if isinstance(_PANDAS_STR, pd.StringDtype) and (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return _PANDAS_STR
    return None


def enter(frames: Sequence[Any], *, function: str) -> tuple[list[nw.LazyFrame[Any]], Session]:
    """Wrap ``frames`` as narwhals lazy frames on one working engine.

    ``None`` entries are not allowed; pass an empty frame of the same library instead.
    Frames of different libraries are rejected, and so are engines the metrics do not
    support (:class:`UnsupportedEngineError` naming ``function`` and the engine).
    """
    wrapped = []
    for frame in frames:
        if frame is None:
            raise TypeError(f"{function}: a table is None; pass a frame")
        try:
            wrapped.append(nw.from_native(frame))
        except TypeError as exc:
            raise UnsupportedEngineError(
                f"{function}: unsupported input of type {type(frame).__name__}; pass a pandas, "
                "polars, pyarrow, DuckDB or PySpark frame"
            ) from exc
    impls = {w.implementation for w in wrapped}
    if len(impls) > 1:
        names = ", ".join(sorted(str(i) for i in impls))
        raise UnsupportedEngineError(
            f"{function}: input frames mix libraries ({names}); convert them to one library"
        )
    impl = impls.pop()
    check_engine(impl, function=function)
    if impl is nw.Implementation.PYSPARK:
        _check_spark_session(wrapped[0].to_native(), function=function)
    eager = all(isinstance(w, nw.DataFrame) for w in wrapped)
    accelerated = eager and impl in _EAGER_LIBRARIES
    if accelerated and not has_polars():
        raise UnsupportedEngineError(
            f"{function}: {SUPPORTED_ENGINES[impl]} tables are computed on polars, a "
            "dependency of pipelinekit that cannot be imported here; reinstall it "
            "(pip install 'polars>=1.20', or polars-lts-cpu on a CPU without AVX2)"
        )
    lazies: list[nw.LazyFrame[Any]] = []
    for w in wrapped:
        if isinstance(w, nw.DataFrame):
            lazies.append((_to_polars(w) if accelerated else w).lazy())
        else:
            lazies.append(w)
    return lazies, Session(
        implementation=impl, eager=eager, accelerated=accelerated, function=function
    )


_UTC_NAMES = frozenset(
    {"UTC", "Z", "GMT", "ETC/UTC", "ETC/GMT", "UNIVERSAL", "ZULU", "ETC/UNIVERSAL", "ETC/ZULU"}
    | {"+00:00", "-00:00", "UTC+00:00", "GMT+00:00", "UTC+0", "GMT+0", "GMT0", "ETC/GMT+0"}
)


def _process_is_utc() -> bool:
    """Whether this Python process's local time is UTC (PySpark turns naive literals
    into instants with ``time.mktime``, i.e. in the process's local zone)."""
    import calendar
    import time

    probes = [(2025, 1, 15, 12, 0, 0, 0, 0, -1), (2025, 7, 15, 12, 0, 0, 0, 0, -1)]
    return all(time.mktime(p) == calendar.timegm(p) for p in probes)


def _check_spark_session(native: Any, *, function: str) -> None:
    """PySpark applies the session time zone to truncation, extraction and literals.

    pipelinekit computes on naive wall-clock time (``TIMESTAMP_NTZ``); Spark turns it
    into instants in the session zone for ``date_trunc`` and compares naive Python
    datetimes as instants in the process's zone. Both are the identity only in UTC,
    so any other setting is refused rather than risk a silently shifted answer.
    """
    conf = native.sparkSession.conf
    zone = str(conf.get("spark.sql.session.timeZone"))
    if zone.upper() not in _UTC_NAMES:
        raise UnsupportedEngineError(
            f"{function}: PySpark session time zone is {zone!r}; pipelinekit needs "
            "spark.sql.session.timeZone = 'UTC' (it computes on naive wall-clock time and "
            "converts tz-aware columns to the dataset time zone itself): "
            "spark.conf.set('spark.sql.session.timeZone', 'UTC')"
        )
    timestamp_type = str(conf.get("spark.sql.timestampType", "TIMESTAMP_LTZ")).upper()
    if timestamp_type != "TIMESTAMP_NTZ" and not _process_is_utc():
        raise UnsupportedEngineError(
            f"{function}: this Python process's local time zone is not UTC, so PySpark "
            "would read naive datetime literals in it; run with TZ=UTC or set "
            "spark.sql.timestampType = 'TIMESTAMP_NTZ'"
        )


def _to_polars(frame: nw.DataFrame[Any]) -> nw.DataFrame[Any]:
    import polars as pl

    native = frame.to_native()
    if frame.implementation is nw.Implementation.PYARROW:
        return nw.from_native(pl.from_arrow(native), eager_only=True)
    import pyarrow as pa

    try:  # through Arrow: zero-copy for Arrow-backed strings, 3x faster than from_pandas
        table = pa.Table.from_pandas(native, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
        return nw.from_native(pl.from_pandas(native), eager_only=True)
    return nw.from_native(pl.from_arrow(table), eager_only=True)


# --- time zones ---------------------------------------------------------------------


def _check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"tz must be an IANA time zone name such as 'Asia/Tokyo'; got {tz!r}"
        ) from exc
    return tz


def to_local_naive(
    frame: nw.LazyFrame[Any], columns: Sequence[str], *, tz: str, table: str
) -> nw.LazyFrame[Any]:
    """Make timestamp columns naive wall-clock time in ``tz`` (once, at entry).

    Naive columns are taken as already local; tz-aware columns are converted to
    ``tz`` (on DuckDB and PySpark with the engine's own SQL functions, independent
    of the connection or session time zone); date columns become midnight
    timestamps. Absent columns are skipped.
    """
    schema = frame.collect_schema()
    casts: list[nw.Expr] = []
    zoned: list[str] = []
    for name in columns:
        if name not in schema:
            continue
        dtype = schema[name]
        if isinstance(dtype, nw.Datetime):
            if dtype.time_zone is not None:
                zoned.append(name)
            elif dtype.time_unit != "us":
                casts.append(nw.col(name).cast(nw.Datetime("us")))
        elif dtype == nw.Date:
            casts.append(nw.col(name).cast(nw.Datetime("us")))
        elif dtype == nw.Unknown or dtype == nw.Object or dtype == nw.String:
            raise SchemaError.single(
                table=table,
                column=name,
                rule="bad_type",
                message=f"expected a timestamp column, got {dtype}",
                hint="read the data with pipelinekit.read_dataset or validate it first",
            )
    if zoned:
        if frame.implementation is nw.Implementation.PYSPARK:
            _check_spark_instants(frame, zoned, tz=tz, table=table)
        frame = _convert_zones(frame, zoned, _check_tz(tz))
    return frame.with_columns(*casts) if casts else frame


def _check_spark_instants(
    frame: nw.LazyFrame[Any], names: Sequence[str], *, tz: str, table: str
) -> None:
    """Refuse Spark ``TIMESTAMP`` (local time zone) columns whose meaning is ambiguous.

    A ``TIMESTAMP`` column holds instants, and pipelinekit converts it to wall-clock
    time in ``tz``. But ``spark.createDataFrame(pandas_df)`` also turns *naive* pandas
    timestamps (wall-clock times in ``tz``) into ``TIMESTAMP`` under the default
    ``spark.sql.timestampType``, reading them in the session time zone (UTC), so the
    conversion would shift them by the zone's offset. The two readings agree only when
    ``tz`` is UTC; otherwise the column is accepted only when the session creates naive
    values as ``TIMESTAMP_NTZ`` (then a ``TIMESTAMP`` column was meant as instants).
    """
    if tz.upper() in _UTC_NAMES:
        return
    conf = frame.to_native().sparkSession.conf
    if str(conf.get("spark.sql.timestampType", "TIMESTAMP_LTZ")).upper() == "TIMESTAMP_NTZ":
        return
    problems = [
        Problem(
            table=table,
            column=name,
            rule="ambiguous_timestamp",
            message=(
                f"Spark TIMESTAMP (local time zone) column in a UTC session, dataset time "
                f"zone {tz}: as instants its values move to {tz} wall-clock time, but "
                f"naive values (spark.createDataFrame(pandas_df)) are wall-clock times "
                f"already, and the two readings differ by the zone offset"
            ),
            hint=(
                "spark.conf.set('spark.sql.timestampType', 'TIMESTAMP_NTZ') before "
                "building the frames (naive values stay wall-clock, TIMESTAMP columns "
                f"are converted as instants), or F.col('{name}').cast('timestamp_ntz') "
                "when the values are wall-clock times"
            ),
        )
        for name in names
    ]
    raise SchemaError(problems)


def _convert_zones(frame: nw.LazyFrame[Any], names: Sequence[str], tz: str) -> nw.LazyFrame[Any]:
    impl = frame.implementation
    if impl is nw.Implementation.DUCKDB:
        return _convert_zones_duckdb(frame, names, tz)
    if impl is nw.Implementation.PYSPARK:
        return _convert_zones_spark(frame, names, tz)
    if impl in (nw.Implementation.POLARS, nw.Implementation.PANDAS, nw.Implementation.PYARROW):
        return frame.with_columns(
            *[
                nw.col(n)
                .dt.convert_time_zone(tz)
                .dt.replace_time_zone(None)
                .cast(nw.Datetime("us"))
                for n in names
            ]
        )
    raise UnsupportedEngineError(  # pragma: no cover - enter() rejects other engines
        f"time-zone conversion of columns {list(names)} is not supported on {impl}; "
        "pass naive wall-clock timestamps"
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str, quote: str = '"') -> str:
    return quote + name.replace(quote, quote + quote) + quote


def _convert_zones_duckdb(
    frame: nw.LazyFrame[Any], names: Sequence[str], tz: str
) -> nw.LazyFrame[Any]:
    """DuckDB: ``timezone(tz, timestamptz)`` is the wall clock in ``tz`` (a TIMESTAMP).

    narwhals' ``convert_time_zone`` would depend on the connection's TimeZone.
    """
    import duckdb

    relation = frame.to_native()
    exprs = []
    for column in relation.columns:
        quoted = _sql_name(column)
        if column in names:
            sql = f"CAST(timezone({_sql_string(tz)}, {quoted}) AS TIMESTAMP)"
            exprs.append(duckdb.SQLExpression(sql).alias(column))
        else:
            exprs.append(duckdb.ColumnExpression(column))
    result: nw.LazyFrame[Any] = nw.from_native(relation.select(*exprs))
    return result


def _convert_zones_spark(
    frame: nw.LazyFrame[Any], names: Sequence[str], tz: str
) -> nw.LazyFrame[Any]:
    """PySpark: an instant -> TIMESTAMP_NTZ wall clock in ``tz``, session-independent.

    ``from_utc_timestamp(ts, tz)`` is the instant whose UTC wall clock is the ``tz``
    wall clock of ``ts``; its epoch microseconds added to the NTZ epoch give that
    wall clock as TIMESTAMP_NTZ. Every step is independent of
    ``spark.sql.session.timeZone``.
    """
    from pyspark.sql import functions as spark_functions

    native = frame.to_native()
    zone = _sql_string(tz)
    for column in names:
        quoted = _sql_name(column, "`")
        micros = f"unix_micros(from_utc_timestamp({quoted}, {zone}))"
        sql = f"timestampadd(MICROSECOND, {micros}, TIMESTAMP_NTZ'1970-01-01 00:00:00')"
        native = native.withColumn(column, spark_functions.expr(sql))
    converted: nw.LazyFrame[Any] = nw.from_native(native)
    return converted


# --- portable building blocks --------------------------------------------------------


def _one_row(like: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """A one-row lazy frame on the engine of ``like`` (for literal rows)."""
    return like.select(nw.len().alias("_one_row"))


def literal_rows(
    like: nw.LazyFrame[Any], rows: Sequence[Mapping[str, Any]], schema: Mapping[str, Any]
) -> nw.LazyFrame[Any]:
    """A lazy frame holding ``rows`` (typed by ``schema``) on the engine of ``like``.

    Built from literals concatenated vertically, so it works on every lazy engine
    without creating a frame of another library.
    """
    one = _one_row(like)

    def row_frame(values: Mapping[str, Any]) -> nw.LazyFrame[Any]:
        return one.select(
            *[nw.lit(values[name]).cast(dtype).alias(name) for name, dtype in schema.items()]
        )

    if not rows:
        placeholder = dict.fromkeys(schema)
        return row_frame(placeholder).head(0)
    return nw.concat([row_frame(r) for r in rows], how="vertical")


def unpivot(
    frame: nw.LazyFrame[Any],
    *,
    on: Sequence[str],
    index: Sequence[str],
    variable_name: str = "variable",
    value_name: str = "value",
) -> nw.LazyFrame[Any]:
    """Wide -> long, keeping null values, on every engine.

    narwhals' DuckDB ``unpivot`` runs on the default connection (relations of any
    other connection fail) and drops null values; there a union of one select per
    ``on`` column is used instead. The ``on`` columns must share one dtype.
    """
    if frame.implementation in (nw.Implementation.POLARS, nw.Implementation.PANDAS):
        return frame.unpivot(
            on=list(on), index=list(index), variable_name=variable_name, value_name=value_name
        )
    parts = [
        frame.select(
            *[nw.col(c) for c in index],
            nw.lit(name).cast(nw.String).alias(variable_name),
            nw.col(name).alias(value_name),
        )
        for name in on
    ]
    return nw.concat(parts, how="vertical")


def cache(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Compute a lazy frame once on its engine (see :meth:`Session.cache`).

    DuckDB is left lazy: ``materialize()`` keeps the rows in client memory, and a
    plan that reads such a relation several times ran 30x slower than recomputing
    it (measured on the funnel section); a temporary table would be fast but would
    write into the caller's connection.
    """
    impl = frame.implementation
    if impl is nw.Implementation.DUCKDB:
        return frame
    if impl is nw.Implementation.PYSPARK:
        checkpointed: nw.LazyFrame[Any] = nw.from_native(
            frame.to_native().localCheckpoint(eager=True)
        )
        return checkpointed
    return frame.collect().lazy()


def fan_out(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Mark ``frame`` as the common input of several branches of one query.

    polars, pandas, pyarrow and DuckDB: unchanged (their planners share the input).
    PySpark: ``localCheckpoint()``, computed now. A Spark plan is a tree, so every
    branch (a union of per-stage selects, a rank piece beside a count piece) carries
    its own copy of the input's whole plan, and Spark re-analyses the tree on every
    step: the funnel's plan reached a million characters and minutes of planning on
    a few hundred rows (the driver then ran out of memory). Cutting the lineage at
    the fan-out keeps the plan small; the price is that the input is computed when
    the function is called, not at the caller's action.
    """
    if frame.implementation is nw.Implementation.PYSPARK:
        checkpointed: nw.LazyFrame[Any] = nw.from_native(
            frame.to_native().localCheckpoint(eager=True)
        )
        return checkpointed
    return frame


def working_tables(tables: Mapping[str, Any]) -> dict[str, Any]:
    """Tables read many times by one job, converted once to the fastest engine.

    The report runs dozens of queries over the same tables. pandas and pyarrow tables
    would be converted to polars by every one of them (the metric functions compute
    on polars), and DuckDB relations would be recomputed by every one: all three are
    converted to polars once here (when polars is installed). polars frames and
    PySpark DataFrames (which may not fit in one machine) are returned as they are;
    so are all tables when they mix libraries (the functions then raise).

    >>> import pandas as pd
    >>> out = working_tables({"leads": pd.DataFrame({"lead_id": ["L1"]}), "reps": None})
    >>> type(out["leads"]).__module__.split(".")[0], out["reps"]
    ('polars', None)
    """
    present = {
        name: nw.from_native(t, pass_through=True) for name, t in tables.items() if t is not None
    }
    if not all(isinstance(w, nw.DataFrame | nw.LazyFrame) for w in present.values()):
        return dict(tables)  # not a frame: the functions raise a clear error for it
    impls = {w.implementation for w in present.values()}
    convertible = {*_EAGER_LIBRARIES, nw.Implementation.DUCKDB}
    if len(impls) != 1 or not impls <= convertible or not has_polars():
        return dict(tables)
    out: dict[str, Any] = dict(tables)
    for name, wrapped in present.items():
        if isinstance(wrapped, nw.DataFrame):
            out[name] = _to_polars(wrapped).to_native()
        else:
            out[name] = wrapped.collect(backend=nw.Implementation.POLARS).to_native()
    return out


def has_exact_durations(implementation: nw.Implementation) -> bool:
    """Whether ``(a - b).dt.total_microseconds()`` is exact and native on this engine.

    True on polars and DuckDB (``epoch_us``): one subtraction instead of the calendar
    arithmetic of :func:`pipelinekit.periods.epoch_microseconds`, about 60x faster.
    PySpark has no ``total_*`` in narwhals and pandas computes it through floats.
    """
    return implementation in (nw.Implementation.POLARS, nw.Implementation.DUCKDB)


def iso_weekday(expr: nw.Expr) -> nw.Expr:
    """ISO weekday, 1 = Monday ... 7 = Sunday, on every engine.

    narwhals 2.29 gives Sunday as 0 on PySpark (``(dayofweek + 6) % 7``) and 7
    elsewhere; ``(w + 6) % 7 + 1`` maps both 0 and 7 to 7 and keeps 1..6.
    """
    return ((expr.dt.weekday().cast(nw.Int64) + 6) % 7) + 1


def python_value(value: Any) -> Any:
    """A collected scalar as plain Python: DuckDB's HUGEINT sums come back ``Decimal``.

    >>> python_value(Decimal("12")), python_value(Decimal("0.5")), python_value(3)
    (12, 0.5, 3)
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --- small frames built from Python values ---------------------------------------------


def from_columns(
    like: nw.LazyFrame[Any], data: Mapping[str, Sequence[Any]], schema: Mapping[str, Any]
) -> nw.LazyFrame[Any]:
    """A lazy frame holding ``data`` (columns typed by ``schema``) on the engine of ``like``.

    For small tables computed in Python (a linear solve, a time-zone table): polars and
    pandas build the frame natively, DuckDB as a ``VALUES`` query on the connection of
    ``like`` (so it joins with the caller's relations), PySpark and anything else with
    :func:`literal_rows`. ``schema`` maps each column to a narwhals dtype (Int64,
    Float64, String, Boolean or Datetime("us")).

    >>> import pandas as pd
    >>> like = nw.from_native(pd.DataFrame({"a": [1]})).lazy()
    >>> schema = {"k": nw.Int64(), "v": nw.Float64()}
    >>> out = from_columns(like, {"k": [1, 2], "v": [0.5, None]}, schema)
    >>> out.collect().to_native()["v"].tolist()
    [0.5, nan]
    """
    names = list(schema)
    n = len(data[names[0]]) if names else 0
    if any(len(data[c]) != n for c in names):
        raise ValueError("from_columns: columns of different lengths")
    impl = like.implementation
    if impl is nw.Implementation.POLARS:
        import polars as pl

        frame = pl.DataFrame(
            {c: list(data[c]) for c in names},
            schema={c: _polars_dtype(schema[c]) for c in names},
        )
        return nw.from_native(frame).lazy()
    if impl is nw.Implementation.PANDAS:
        import pandas as pd

        pandas_frame = pd.DataFrame({c: list(data[c]) for c in names})
        return (
            nw.from_native(pandas_frame)
            .lazy()
            .with_columns(*[nw.col(c).cast(schema[c]) for c in names])
        )
    if impl is nw.Implementation.DUCKDB:
        return _duckdb_values(like, data, schema, n)
    if impl is nw.Implementation.PYSPARK:
        spark = like.to_native().sparkSession
        ddl = ", ".join(f"{_sql_name(c, '`')} {_spark_type(schema[c])}" for c in names)
        rows = [tuple(_spark_cell(data[c][i]) for c in names) for i in range(n)]
        spark_frame: nw.LazyFrame[Any] = nw.from_native(spark.createDataFrame(rows, schema=ddl))
        return spark_frame
    return literal_rows(like, [{c: data[c][i] for c in names} for i in range(n)], schema)


def integer_range(like: nw.LazyFrame[Any], n: int, name: str) -> nw.LazyFrame[Any]:
    """A lazy frame with one Int64 column ``name`` holding 0..n-1, on the engine of
    ``like`` but independent of its rows (a spine for dense outputs: every day of a
    curve, every month of a series).

    >>> import pandas as pd
    >>> like = nw.from_native(pd.DataFrame({"a": [1]})).lazy()
    >>> integer_range(like, 3, "day").collect().to_native()["day"].tolist()
    [0, 1, 2]
    """
    if n < 0:
        raise ValueError(f"integer_range needs n >= 0, got {n}")
    impl = like.implementation
    if impl is nw.Implementation.DUCKDB:
        sql = f"SELECT CAST(range AS BIGINT) AS {_sql_name(name)} FROM range({int(n)})"
        relation: nw.LazyFrame[Any] = nw.from_native(like.to_native().query("__pk_like", sql))
        return relation
    if impl is nw.Implementation.PYSPARK:
        native = like.to_native().sparkSession.range(int(n)).withColumnRenamed("id", name)
        ranged: nw.LazyFrame[Any] = nw.from_native(native)
        return ranged
    return from_columns(like, {name: list(range(n))}, {name: nw.Int64()})


def _polars_dtype(dtype: Any) -> Any:
    import polars as pl

    kinds = {
        nw.Int64: pl.Int64,
        nw.Float64: pl.Float64,
        nw.String: pl.String,
        nw.Boolean: pl.Boolean,
    }
    for kind, native in kinds.items():
        if dtype == kind:
            return native
    if isinstance(dtype, nw.Datetime):
        return pl.Datetime("us")
    raise TypeError(f"from_columns: unsupported dtype {dtype}")


def _sql_type(dtype: Any) -> str:
    if dtype == nw.Int64:
        return "BIGINT"
    if dtype == nw.Float64:
        return "DOUBLE"
    if dtype == nw.String:
        return "VARCHAR"
    if dtype == nw.Boolean:
        return "BOOLEAN"
    if isinstance(dtype, nw.Datetime):
        return "TIMESTAMP"
    raise TypeError(f"from_columns: unsupported dtype {dtype}")


def _spark_type(dtype: Any) -> str:
    if isinstance(dtype, nw.Datetime):
        return "TIMESTAMP_NTZ"
    return {"BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "VARCHAR": "STRING", "BOOLEAN": "BOOLEAN"}[
        _sql_type(dtype)
    ]


def _spark_cell(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return value


def _sql_literal(value: Any) -> str:
    import math
    from datetime import datetime

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"
        if math.isinf(value):
            return "'inf'::DOUBLE" if value > 0 else "'-inf'::DOUBLE"
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return _sql_string(str(value))


def _duckdb_values(
    like: nw.LazyFrame[Any], data: Mapping[str, Sequence[Any]], schema: Mapping[str, Any], n: int
) -> nw.LazyFrame[Any]:
    names = list(schema)
    placeholders = [f"c{i}" for i in range(len(names))]
    rows = ["(" + ", ".join(_sql_literal(data[c][i]) for c in names) + ")" for i in range(n)]
    if not rows:  # VALUES needs a row: one of nulls, filtered out
        rows = ["(" + ", ".join("NULL" for _ in names) + ")"]
    select = ", ".join(
        f"CAST({p} AS {_sql_type(schema[c])}) AS {_sql_name(c)}"
        for p, c in zip(placeholders, names, strict=True)
    )
    sql = (
        f"SELECT {select} FROM (VALUES {', '.join(rows)}) AS __pk_values({', '.join(placeholders)})"
        + ("" if n else " WHERE FALSE")
    )
    relation = like.to_native().query("__pk_like", sql)
    result: nw.LazyFrame[Any] = nw.from_native(relation)
    return result


def with_row_order(frame: nw.LazyFrame[Any], name: str) -> nw.LazyFrame[Any]:
    """``frame`` with an Int64 column ``name`` numbering the rows in input (file) order.

    DESIGN orders history rows by time, then file order. narwhals needs an explicit
    ``order_by`` for row numbers on lazy engines, so the input order is read where each
    engine keeps it: polars' row index (pandas and pyarrow inputs run on polars in
    their own row order), DuckDB's ``row_number() OVER ()`` (DuckDB preserves
    insertion order), PySpark's ``monotonically_increasing_id()`` (increasing in
    partition order, i.e. file order for a file read). Call it on a table as given,
    before any filter or join. Numbers increase with the input order; they need not
    be consecutive.

    >>> import pandas as pd
    >>> lf = nw.from_native(pd.DataFrame({"a": ["x", "y"]})).lazy()
    >>> with_row_order(lf, "row").collect().to_native()["row"].tolist()
    [0, 1]
    """
    impl = frame.implementation
    if impl is nw.Implementation.POLARS:
        import polars as pl

        native = frame.to_native().with_row_index(name).with_columns(pl.col(name).cast(pl.Int64))
        ordered: nw.LazyFrame[Any] = nw.from_native(native).lazy()
        return ordered
    if impl is nw.Implementation.DUCKDB:
        import duckdb

        relation = frame.to_native()
        numbered = relation.select(
            *[duckdb.ColumnExpression(c) for c in relation.columns],
            duckdb.SQLExpression("CAST(row_number() OVER () - 1 AS BIGINT)").alias(name),
        )
        ordered = nw.from_native(numbered)
        return ordered
    if impl is nw.Implementation.PYSPARK:
        from pyspark.sql import functions as spark_functions

        native = frame.to_native().withColumn(
            name, spark_functions.monotonically_increasing_id().cast("bigint")
        )
        ordered = nw.from_native(native)
        return ordered
    eager = frame.collect()
    return eager.with_row_index(name).with_columns(nw.col(name).cast(nw.Int64)).lazy()


def column_kinds(frame: nw.LazyFrame[Any], columns: Sequence[str]) -> dict[str, Any]:
    """The :func:`from_columns` dtype of each of ``columns`` of ``frame``: integers as
    Int64, floats as Float64, booleans, timestamps (and dates) as Datetime("us"),
    anything else as String. For rebuilding key columns after a step in Python.
    """
    schema = frame.collect_schema()
    out: dict[str, Any] = {}
    for name in columns:
        dtype = schema[name]
        if dtype.is_integer():
            out[name] = nw.Int64()
        elif dtype.is_float():
            out[name] = nw.Float64()
        elif dtype == nw.Boolean:
            out[name] = nw.Boolean()
        elif isinstance(dtype, nw.Datetime) or dtype == nw.Date:
            out[name] = nw.Datetime("us")
        else:
            out[name] = nw.String()
    return out
