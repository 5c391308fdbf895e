"""``Dataset``: the canonical tables of one CRM export, with their time zone.

Examples
--------
>>> from datetime import datetime
>>> from pipelinekit.domain import Lead
>>> ds = Dataset.from_objects(leads=[Lead(lead_id="L1", created_at=datetime(2025, 4, 1),
...                                       origin="inbound")])
>>> len(ds.table("leads")), len(ds.table("activities"))
(1, 0)
>>> ds.validate().table("leads")["action_status"].tolist()
['new']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import attrs
import narwhals as nw

from pipelinekit.errors import ConfigError, Problem
from pipelinekit.schema import TABLES, empty_frame, from_objects, table_for

if TYPE_CHECKING:
    from pipelinekit.io.presets import Preset

__all__ = ["Dataset", "read_dataset", "sample_dataset"]

TABLE_NAMES = tuple(TABLES)


@attrs.frozen(kw_only=True, eq=False)
class Dataset:
    """The canonical tables (any one frame library) and the dataset time zone.

    Only ``leads`` is required; an absent table is an empty table. ``warnings``
    holds the non-blocking problems found by :meth:`validate` (orphan keys in
    lenient mode, implausible dates, ...).
    """

    leads: Any
    activities: Any = None
    opportunities: Any = None
    accounts: Any = None
    reps: Any = None
    campaigns: Any = None
    stage_changes: Any = None
    campaign_members: Any = None
    opportunity_history: Any = None
    quotas: Any = None
    tz: str = "Asia/Tokyo"
    validated: bool = False
    warnings: tuple[Problem, ...] = ()

    def table(self, name: str) -> Any:
        """The table called ``name``; an absent table is an empty canonical frame."""
        if name not in TABLES:
            raise ConfigError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        frame = getattr(self, name)
        if frame is not None:
            return frame
        return _empty_like(self.leads, name)

    def tables(self) -> dict[str, Any]:
        """Every table by name, absent ones as empty frames."""
        return {name: self.table(name) for name in TABLE_NAMES}

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.tables().items())

    def validate(self, *, strict: bool = False) -> Dataset:
        """Check every table against the schema and return the canonical dataset.

        Raises :class:`~pipelinekit.errors.SchemaError` listing every problem when any
        error is found; orphan foreign keys and plausibility rules (``closed_at`` or
        ``validated_at`` before ``created_at``) are warnings unless ``strict``. The
        returned dataset has canonical dtypes, default fills and naive local
        timestamps; the input frames are not modified.
        """
        from pipelinekit.validation import validate_tables

        given = {
            name: getattr(self, name) for name in TABLE_NAMES if getattr(self, name) is not None
        }
        result = validate_tables(given, tz=self.tz, strict=strict)
        return Dataset(
            **result.tables,
            tz=self.tz,
            validated=True,
            warnings=tuple(result.warnings),
        )

    @classmethod
    def from_objects(
        cls,
        *,
        leads: Iterable[Any],
        activities: Iterable[Any] = (),
        opportunities: Iterable[Any] = (),
        accounts: Iterable[Any] = (),
        reps: Iterable[Any] = (),
        campaigns: Iterable[Any] = (),
        stage_changes: Iterable[Any] = (),
        campaign_members: Iterable[Any] = (),
        opportunity_history: Iterable[Any] = (),
        quotas: Iterable[Any] = (),
        tz: str = "Asia/Tokyo",
    ) -> Dataset:
        """Build a pandas-backed dataset from domain objects."""
        given = {
            "leads": leads,
            "activities": activities,
            "opportunities": opportunities,
            "accounts": accounts,
            "reps": reps,
            "campaigns": campaigns,
            "stage_changes": stage_changes,
            "campaign_members": campaign_members,
            "opportunity_history": opportunity_history,
            "quotas": quotas,
        }
        frames = {name: from_objects(list(objs), TABLES[name].cls) for name, objs in given.items()}
        return cls(tz=tz, **frames)  # type: ignore[arg-type]


def _empty_like(reference: Any, name: str) -> Any:
    empty = empty_frame(table_for(name))
    impl = nw.from_native(reference).implementation
    if impl is nw.Implementation.PANDAS:
        return empty
    if impl is nw.Implementation.POLARS:
        import polars as pl

        frame = pl.from_pandas(empty)
        if isinstance(reference, pl.LazyFrame):
            return frame.lazy()
        return frame
    if impl is nw.Implementation.PYARROW:
        import pyarrow as pa

        return pa.Table.from_pandas(empty, preserve_index=False)
    raise ConfigError(
        f"table {name!r} is absent; on {impl} pass every table explicitly (empty ones too)"
    )


def read_dataset(
    path: str | os.PathLike[str],
    *,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
    encoding: str = "utf-8",
    backend: Literal["pandas", "polars"] = "pandas",
    schema: str | None = None,
    preset: str | Preset | None = None,
) -> Dataset:
    """Read and validate the canonical tables of a directory or a DuckDB database.

    Parameters
    ----------
    path
        A directory of CSV (also gzipped) or Parquet files named after the tables
        (``leads.csv``, ``activities.parquet``, ...), or a DuckDB database file
        (``crm.duckdb``, ``.ddb``, or any file DuckDB wrote) whose tables carry those
        names, in any letter case. The database is opened read-only; its tables are
        read through DuckDB straight into the validator (see
        :mod:`pipelinekit.io.database`).
    tz
        Dataset time zone: naive timestamps are wall-clock time there, values with an
        offset (or ``TIMESTAMPTZ`` columns) are converted to it.
    strict
        Make orphan foreign keys and plausibility rules errors instead of warnings.
    encoding
        Text encoding of CSV files (``"cp932"`` for Japanese Excel exports).
    backend
        Frame library of the returned tables: ``"pandas"`` or ``"polars"``.
    schema
        Database schema holding the tables (default DuckDB's ``main``); only for a
        database file.
    preset
        Read the tables as a CRM export through a preset (``"salesforce"``,
        ``"hubspot"`` or a :class:`~pipelinekit.io.presets.Preset`): files or database
        tables named after its sources (``Lead``, ``Task``, ...), see
        :func:`~pipelinekit.io.presets.read_preset`.

    Returns
    -------
    Dataset
        Canonical tables, ``validated=True``, with every warning in ``warnings``.

    Raises
    ------
    SchemaError
        Listing every problem found in the files or tables when any is an error
        (a missing ``leads`` table, ...; for a database the message lists the tables
        found in the schema). A header-only ``leads`` file is valid (one warning).
    ConfigError
        When an option is invalid, or the path, the database or its schema cannot be
        read (the message says which and lists what is there).
    UnsupportedEngineError
        When the path is a database and DuckDB (``pipelinekit[engines]``) is not
        installed.

    Examples
    --------
    >>> import pathlib, tempfile, duckdb
    >>> from pipelinekit.sample import write_sample
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_sample(folder, leads=50, seed=1)
    >>> ds = read_dataset(folder)
    >>> len(ds.leads), ds.validated
    (50, True)

    The same tables in a DuckDB database, here in schema ``crm``:

    >>> db = folder.parent / f"{folder.name}.duckdb"
    >>> with duckdb.connect(str(db)) as con:
    ...     _ = con.execute("CREATE SCHEMA crm")
    ...     for name in ("leads", "activities", "opportunities"):
    ...         _ = con.execute(f"CREATE TABLE crm.{name} AS "
    ...                         f"SELECT * FROM read_csv('{folder / name}.csv', all_varchar=true)")
    >>> from_db = read_dataset(db, schema="crm")
    >>> from_db.leads.equals(ds.leads), len(from_db.activities) == len(ds.activities)
    (True, True)
    """
    if preset is not None:
        from pipelinekit.io.presets import read_preset

        result = read_preset(path, preset, tz=tz, strict=strict, encoding=encoding, schema=schema)
        if backend == "pandas":
            return result
        return _as_polars(result)
    from pipelinekit.io.database import is_database_path, read_database_tables

    if is_database_path(path):
        validated = read_database_tables(path, schema=schema, tz=tz, strict=strict, backend=backend)
    else:
        if schema is not None:
            raise ConfigError(
                f"schema={schema!r} names a schema of a DuckDB database file, but "
                f"{str(path)!r} is a directory of tables"
            )
        from pipelinekit.io import read_dataset_tables

        validated = read_dataset_tables(
            path, tz=tz, strict=strict, encoding=encoding, backend=backend
        )
    return Dataset(**validated.tables, tz=tz, validated=True, warnings=tuple(validated.warnings))


def _as_polars(dataset: Dataset) -> Dataset:
    """A validated pandas dataset with polars tables (the values unchanged)."""
    import polars as pl
    import pyarrow as pa

    tables: dict[str, Any] = {
        name: pl.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))
        for name, frame in dataset.tables().items()
    }
    return attrs.evolve(dataset, **tables)


def sample_dataset(*, backend: Literal["pandas", "polars"] = "pandas") -> Dataset:
    """The small synthetic dataset bundled with pipelinekit (about 12 months).

    >>> ds = sample_dataset()
    >>> len(ds.leads) > 1000
    True
    """
    folder = resources.files("pipelinekit") / "data" / "sample"
    with resources.as_file(folder) as path:
        return read_dataset(path, backend=backend)
