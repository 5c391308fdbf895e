"""The only backend-specific code: entering and leaving narwhals, time zones.

Metric functions call :func:`enter` on their input frames, compute with narwhals
lazy expressions, and hand the result to :meth:`Session.finish`, which returns the
caller's kind of frame (pandas in -> pandas out, polars lazy in -> polars lazy out,
DuckDB relation in -> DuckDB relation out).

pandas and pyarrow inputs are computed on polars when polars is installed (it is
several times faster on the grouped, windowed work the metrics do) and converted back
to pandas on the way out; without polars they run on pandas through narwhals.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import attrs
import narwhals as nw

from pipelinekit.errors import SchemaError, UnsupportedEngineError

__all__ = ["Session", "enter", "has_polars", "to_local_naive"]

_EAGER_LIBRARIES = {nw.Implementation.PANDAS, nw.Implementation.PYARROW}


def has_polars() -> bool:
    """Whether polars is importable (it is an optional extra)."""
    return importlib.util.find_spec("polars") is not None


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
            return _polars_to_pandas(result.to_native())
        return result.to_native()

    def collect(self, frame: nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
        """Collect ``frame`` eagerly on the working engine (for scalar results)."""
        return frame.collect()


def _polars_to_pandas(frame: Any) -> Any:
    """polars -> pandas with canonical dtypes: str for strings, nullable bool and int."""
    import pandas as pd
    import polars as pl

    out = frame.to_pandas()
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            out[name] = out[name].astype("str")
        elif dtype == pl.Boolean and out[name].dtype == object:
            out[name] = out[name].astype("boolean")
        elif dtype.is_integer() and out[name].dtype.kind == "f":
            out[name] = out[name].astype("Int64")
    return pd.DataFrame(out)


def enter(
    frames: Sequence[Any], *, function: str
) -> tuple[list[nw.LazyFrame[Any]], Session]:
    """Wrap ``frames`` as narwhals lazy frames on one working engine.

    ``None`` entries are not allowed; pass an empty frame of the same library instead.
    Frames of different libraries are rejected.
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
    eager = all(isinstance(w, nw.DataFrame) for w in wrapped)
    accelerated = eager and impl in _EAGER_LIBRARIES and has_polars()
    if impl is nw.Implementation.PYARROW and not has_polars():
        raise UnsupportedEngineError(
            f"{function}: pyarrow tables need polars installed (pip install 'pipelinekit[engines]')"
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


def _to_polars(frame: nw.DataFrame[Any]) -> nw.DataFrame[Any]:
    import polars as pl

    native = frame.to_native()
    if frame.implementation is nw.Implementation.PYARROW:
        return nw.from_native(pl.from_arrow(native), eager_only=True)
    return nw.from_native(pl.from_pandas(native), eager_only=True)


def to_local_naive(
    frame: nw.LazyFrame[Any], columns: Sequence[str], *, tz: str, table: str
) -> nw.LazyFrame[Any]:
    """Make timestamp columns naive wall-clock time in ``tz`` (once, at entry).

    Naive columns are taken as already local; tz-aware columns are converted to
    ``tz``; date columns become midnight timestamps. Absent columns are skipped.
    """
    schema = frame.collect_schema()
    exprs = []
    for name in columns:
        if name not in schema:
            continue
        dtype = schema[name]
        if isinstance(dtype, nw.Datetime):
            if dtype.time_zone is None:
                if dtype.time_unit != "us":
                    exprs.append(nw.col(name).cast(nw.Datetime("us")))
                continue
            exprs.append(_convert_zone(frame, name, tz))
        elif dtype == nw.Date:
            exprs.append(nw.col(name).cast(nw.Datetime("us")))
        elif dtype == nw.Unknown or dtype == nw.Object or dtype == nw.String:
            raise SchemaError.single(
                table=table,
                column=name,
                rule="bad_type",
                message=f"expected a timestamp column, got {dtype}",
                hint="read the data with pipelinekit.read_dataset or validate it first",
            )
    return frame.with_columns(*exprs) if exprs else frame


def _convert_zone(frame: nw.LazyFrame[Any], name: str, tz: str) -> nw.Expr:
    impl = frame.implementation
    if impl in (nw.Implementation.POLARS, nw.Implementation.PANDAS, nw.Implementation.PYARROW):
        return (
            nw.col(name).dt.convert_time_zone(tz).dt.replace_time_zone(None).cast(nw.Datetime("us"))
        )
    raise UnsupportedEngineError(
        f"time-zone conversion of column {name!r} is not supported on {impl}; "
        "pass naive wall-clock timestamps"
    )
