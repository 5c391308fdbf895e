"""Canonical tables, derived from the domain classes: the one schema definition.

Column names, kinds, required flags, enums, uniqueness, foreign keys and bounds all
come from :mod:`pipelinekit.domain`; the validator, the readers, the object/frame
converters and the docs glossary read :data:`TABLES`.

Examples
--------
>>> TABLES["leads"].key
'lead_id'
>>> TABLES["activities"].column("channel").enum
('call', 'email', 'meeting', 'web')
>>> [c.name for c in TABLES["reps"].columns if c.required]
['rep_id', 'role']
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from operator import attrgetter
from typing import Any, Literal

import attrs
import numpy as np
import pandas as pd

from pipelinekit import domain

__all__ = [
    "TABLES",
    "Column",
    "ColumnKind",
    "Table",
    "from_objects",
    "to_objects",
]

ColumnKind = Literal["str", "int", "float", "bool", "timestamp", "date", "enum"]

#: pandas dtype of each column kind in a canonical pandas frame.
PANDAS_DTYPES: dict[str, str] = {
    "str": "str",
    "enum": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "timestamp": "datetime64[us]",
    "date": "datetime64[us]",
}


@attrs.frozen(kw_only=True)
class Column:
    """One column of a canonical table.

    ``default`` is the value a missing cell takes (for example ``is_target`` is
    ``False`` when absent); ``fk`` names the (table, column) it refers to.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    fk: tuple[str, str] | None = None
    min: float | None = None
    min_exclusive: float | None = None
    max: float | None = None
    default: Any = None
    description: str = ""

    @property
    def pandas_dtype(self) -> str:
        """dtype of this column in a canonical pandas frame."""
        if self.kind == "bool" and self.default is not None:
            return "bool"
        return PANDAS_DTYPES[self.kind]


@attrs.frozen(kw_only=True)
class Table:
    """A canonical table: its columns, primary key and domain class."""

    name: str
    cls: type
    columns: tuple[Column, ...]
    key: str | None
    description: str = ""

    @property
    def names(self) -> list[str]:
        """Column names in canonical order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``; raises KeyError if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def timestamp_columns(self) -> list[str]:
        """Names of the timestamp and date columns."""
        return [c.name for c in self.columns if c.kind in ("timestamp", "date")]


def _kind_of(tp: Any) -> tuple[ColumnKind, tuple[str, ...]]:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    base = args[0] if args else tp
    if isinstance(base, type) and issubclass(base, Enum):
        return "enum", tuple(str(m.value) for m in base)
    kinds: dict[type, ColumnKind] = {
        str: "str",
        int: "int",
        float: "float",
        bool: "bool",
        datetime: "timestamp",
        date: "date",
    }
    return kinds[base], ()


def _table_from_class(name: str, cls: type, key: str | None) -> Table:
    hints = typing.get_type_hints(cls)
    columns = []
    for field in attrs.fields(cls):
        kind, enum_values = _kind_of(hints[field.name])
        meta = field.metadata
        fk = meta.get("fk")
        default = meta.get("default_fill")
        columns.append(
            Column(
                name=field.name,
                kind=kind,
                required=bool(meta.get("required", False)),
                unique=bool(meta.get("unique", False)),
                enum=enum_values,
                fk=tuple(fk.split(".", 1)) if fk else None,
                min=meta.get("min"),
                min_exclusive=meta.get("min_exclusive"),
                max=meta.get("max"),
                default=str(default.value) if isinstance(default, Enum) else default,
            )
        )
    return Table(
        name=name,
        cls=cls,
        columns=tuple(columns),
        key=key,
        description=(cls.__doc__ or "").strip().splitlines()[0],
    )


#: The canonical tables in dependency order (referenced tables first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table_from_class("accounts", domain.Account, "account_id"),
        _table_from_class("reps", domain.Rep, "rep_id"),
        _table_from_class("campaigns", domain.Campaign, "campaign_id"),
        _table_from_class("leads", domain.Lead, "lead_id"),
        _table_from_class("activities", domain.Activity, "activity_id"),
        _table_from_class("opportunities", domain.Opportunity, "opportunity_id"),
        _table_from_class("stage_changes", domain.StageChange, None),
        _table_from_class("campaign_members", domain.CampaignMember, None),
        _table_from_class("opportunity_history", domain.OpportunityHistory, None),
        _table_from_class("quotas", domain.Quota, None),
    )
}

_TABLE_OF_CLASS: dict[type, Table] = {t.cls: t for t in TABLES.values()}


def table_for(cls_or_name: type | str) -> Table:
    """The canonical table of a domain class or table name."""
    if isinstance(cls_or_name, str):
        if cls_or_name not in TABLES:
            from pipelinekit.errors import ConfigError

            raise ConfigError(f"unknown table {cls_or_name!r}; expected one of {', '.join(TABLES)}")
        return TABLES[cls_or_name]
    return _TABLE_OF_CLASS[cls_or_name]


def empty_frame(table: str | Table) -> pd.DataFrame:
    """A canonical pandas frame with no rows.

    >>> empty_frame("reps").dtypes["monthly_sql_capacity"]
    Int64Dtype()
    """
    spec = table_for(table) if isinstance(table, str) else table
    return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in spec.columns})


_AWARE = (
    "{name}: timestamps of domain objects must be naive wall-clock time in the dataset "
    "time zone; convert aware datetimes first"
)


def _column_array(col: Column, values: list[Any]) -> pd.Series[Any]:
    """One column of a canonical pandas frame from the attribute values of the objects.

    Speed matters here (1M objects per second is the target): timestamps go through
    pandas' C datetime parser (several times faster than ``pa.array`` on datetime
    objects), every other kind through one ``pa.array`` call, and a column that is
    entirely missing skips the conversion.
    """
    if col.kind == "timestamp":
        return _timestamp_array(col, values)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - exercised only without pyarrow
        return _column_array_numpy(col, values)
    arrow_types = {
        "str": pa.string(),
        "enum": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
    }
    if values.count(None) == len(values):
        array = pa.nulls(len(values), type=arrow_types[col.kind])
    else:
        array = pa.array(values, type=arrow_types[col.kind], from_pandas=True)
    if col.kind == "date":
        stamps = array.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        return pd.Series(stamps, dtype="datetime64[us]", copy=False)
    if col.kind in ("str", "enum"):
        return pd.Series(array.to_pandas(), dtype="str", copy=False)
    return pd.Series(array.to_pandas(types_mapper=None), dtype=col.pandas_dtype, copy=False)


def _timestamp_array(col: Column, values: list[Any]) -> pd.Series[Any]:
    """Naive datetimes -> datetime64[us]; aware ones are an error (never shifted)."""
    try:
        index = pd.DatetimeIndex(values)
    except (ValueError, TypeError) as exc:  # aware mixed with naive, or two offsets
        if any(getattr(v, "tzinfo", None) is not None for v in values):
            raise ValueError(_AWARE.format(name=col.name)) from exc
        raise
    if index.tz is not None:
        raise ValueError(_AWARE.format(name=col.name))
    return pd.Series(index.as_unit("us").to_numpy(), dtype="datetime64[us]", copy=False)


def _column_array_numpy(col: Column, values: list[Any]) -> pd.Series[Any]:
    if col.kind == "enum":
        return pd.Series([v.value if isinstance(v, Enum) else v for v in values], dtype="str")
    if col.kind == "date":
        return pd.Series(
            np.array([None if v is None else np.datetime64(v, "D") for v in values]),
            dtype="datetime64[us]",
        )
    if col.kind == "timestamp":
        return pd.Series(np.array(values, dtype="datetime64[us]"))
    return pd.Series(values, dtype=col.pandas_dtype)


def from_objects(objects: Iterable[Any], cls: type | None = None) -> pd.DataFrame:
    """Build a canonical pandas frame from domain objects, column by column.

    Parameters
    ----------
    objects
        Instances of one domain class, e.g. :class:`~pipelinekit.domain.Lead`.
    cls
        The domain class; needed only when ``objects`` may be empty.

    Examples
    --------
    >>> from datetime import datetime
    >>> from pipelinekit.domain import Lead
    >>> frame = from_objects([Lead(lead_id="L1", created_at=datetime(2025, 4, 1),
    ...                            origin="inbound")])
    >>> frame.loc[0, "origin"], str(frame["created_at"].dtype)
    ('inbound', 'datetime64[us]')
    """
    items = objects if isinstance(objects, list) else list(objects)
    if cls is None:
        if not items:
            raise ValueError("cannot infer the table of an empty sequence; pass cls=")
        cls = type(items[0])
    spec = table_for(cls)
    # one C-level pass per column (attrgetter over a list) beats one pass building
    # row tuples: no per-object allocation, so the garbage collector never runs
    data = {
        col.name: _column_array(col, list(map(attrgetter(col.name), items))) for col in spec.columns
    }
    return pd.DataFrame(data, copy=False)


def _python_value(col: Column, value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value) and col.kind != "float":
        return None
    if col.kind == "timestamp":
        return pd.Timestamp(value).to_pydatetime()
    if col.kind == "date":
        return pd.Timestamp(value).date()
    if col.kind == "int":
        return int(value)
    if col.kind == "float":
        return None if np.isnan(value) else float(value)
    if col.kind == "bool":
        return bool(value)
    return str(value)


def to_objects(frame: Any, cls: type) -> list[Any]:
    """Build domain objects from a canonical frame (any narwhals-supported eager frame).

    Extra columns are ignored; missing optional columns become ``None``.

    >>> from datetime import datetime
    >>> from pipelinekit.domain import Rep
    >>> reps = [Rep(rep_id="R1", role="field", monthly_sql_capacity=40)]
    >>> to_objects(from_objects(reps), Rep) == reps
    True
    """
    import narwhals as nw

    spec = table_for(cls)
    native = nw.from_native(frame, eager_only=True).to_pandas()
    n = len(native)
    columns: list[list[Any]] = []
    for col in spec.columns:
        if col.name not in native.columns:
            columns.append([None] * n)
            continue
        series = native[col.name]
        columns.append([_python_value(col, v) for v in series.astype(object).tolist()])
    names = spec.names
    out = []
    for row in zip(*columns, strict=True) if columns else ():
        kwargs = {k: v for k, v in zip(names, row, strict=True) if v is not None}
        out.append(cls(**kwargs))
    return out
