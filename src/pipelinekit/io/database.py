"""Read the canonical tables from a DuckDB database file.

A database (``crm.duckdb``) holds the tables in one schema (default ``main``), named
like the files of a data directory: after the canonical tables (``leads``,
``activities``, ...) or, through a CRM preset, after the preset's sources (``Lead``,
``Task``, ...); names are matched case-insensitively and views count as tables.

The file is opened read-only: nothing is ever written into it or next to it. Each
table is a DuckDB relation, read by the validator straight into Arrow and polars,
one table at a time and only the tables matched (no CSV round trip, no pandas on the
way; ``backend="pandas"`` converts the validated tables at the end). Typed columns
(``TIMESTAMP``, ``TIMESTAMPTZ``, ``DATE``, ``BOOLEAN``, integers, ``DOUBLE``,
``DECIMAL``, ``ENUM``) are checked as typed values, text columns exactly as CSV
cells; columns of other types (``INTERVAL``, ``BLOB``, ``LIST``, ``STRUCT``, ...) are
read as their text.

Problem rules (``Problem.rule``) besides the validator's: ``missing_table`` (no
leads table in the schema; the message lists the tables found there),
``unknown_table`` (warning: a table whose name is not a canonical table; ignored) and
``unreadable_table`` (DuckDB cannot read it, e.g. a view over a dropped table). A
path that is not a DuckDB database, a schema that is not in it, or a database that
another process holds open for writing is a :class:`~pipelinekit.errors.ConfigError`
that says which (and lists the schemas and their tables). Without DuckDB installed
(the ``engines`` extra) reading a database raises
:class:`~pipelinekit.errors.UnsupportedEngineError` naming the install command.

Examples
--------
>>> import pathlib, tempfile, duckdb
>>> path = pathlib.Path(tempfile.mkdtemp()) / "crm.duckdb"
>>> with duckdb.connect(str(path)) as con:
...     _ = con.execute("CREATE TABLE Leads AS SELECT 'L1' AS lead_id, "
...                     "TIMESTAMP '2025-04-01 09:30' AS created_at, 'Inbound' AS origin")
>>> is_database_path(path), is_database_path(path.parent)
(True, False)
>>> read_database_tables(path).tables["leads"].loc[0, ["lead_id", "origin"]].tolist()
['L1', 'inbound']
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import narwhals as nw

from pipelinekit import _parse
from pipelinekit._compat import import_duckdb, polars_to_pandas
from pipelinekit.errors import ConfigError, PipelineKitError, Problem
from pipelinekit.io.files import validate_read
from pipelinekit.schema import TABLES
from pipelinekit.validation import Validated

__all__ = [
    "DATABASE_SUFFIXES",
    "DEFAULT_SCHEMA",
    "Database",
    "is_database_path",
    "open_database",
    "read_database_tables",
]

#: File name endings read as DuckDB databases (any other file is checked for DuckDB's
#: header).
DATABASE_SUFFIXES: tuple[str, ...] = (".duckdb", ".ddb")
#: DuckDB's default schema.
DEFAULT_SCHEMA = "main"

_MAGIC_OFFSET = 8  # a DuckDB file starts with an 8-byte checksum, then b"DUCK"
_MAGIC = b"DUCK"
_LISTED = 30  # table names listed per schema in a message

#: DuckDB type ids the validator reads as typed values (through Arrow into polars);
#: columns of other types are read as text.
_TYPED = frozenset(
    {
        "boolean",
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
        "float",
        "double",
        "decimal",
        "varchar",
        "enum",
        "uuid",
        "date",
        "time",
        "timestamp",
        "timestamp_s",
        "timestamp_ms",
        "timestamp_ns",
        "timestamp with time zone",
    }
)


def is_database_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is read as a DuckDB database rather than a directory of tables.

    True for a path that is not a directory and either ends in ``.duckdb`` / ``.ddb``
    (existing or not: reading it then says it does not exist) or is a file (any
    name: whether it is a database is checked when it is opened).
    """
    where = Path(path)
    if where.is_dir():
        return False
    return where.name.lower().endswith(DATABASE_SUFFIXES) or where.is_file()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _listing(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:_LISTED])
    more = len(names) - _LISTED
    return f"{shown}, ... and {more} more" if more > 0 else shown


@attrs.frozen(kw_only=True, eq=False)
class Database:
    """One schema of an open DuckDB database: its tables (and views) by name.

    Attributes
    ----------
    path
        The database file.
    schema
        The schema's name as stored in the database.
    names
        The tables and views of the schema, sorted case-insensitively.
    connection
        The read-only DuckDB connection; closed when :func:`open_database` ends.
    catalog
        DuckDB's name for the attached file (its stem); tables are read by their
        full name, since a schema named like the file (``crm`` in ``crm.duckdb``)
        would be ambiguous.
    schemas
        Every schema of the database with its tables (for messages).
    """

    path: Path
    schema: str
    names: tuple[str, ...]
    connection: Any
    catalog: str = attrs.field(default="", repr=False)
    schemas: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, repr=False)

    @property
    def where(self) -> str:
        """``schema main of crm.duckdb``: where the tables were looked for."""
        return f"schema {self.schema} of {self.path.name}"

    def found(self) -> str:
        """The names of the schema's tables, for messages (``none`` when empty)."""
        return _listing(list(self.names))

    def elsewhere(self, name: str) -> str:
        """A note naming another schema that holds a table ``name`` (empty if none)."""
        holders = [
            schema
            for schema, names in self.schemas.items()
            if schema != self.schema and any(n.casefold() == name.casefold() for n in names)
        ]
        if not holders:
            return ""
        other = holders[0]
        return f" (schema {other} has a table {name}: pass schema={other!r}, --schema {other})"

    def find(self, name: str) -> str | None:
        """The table called ``name`` (case-insensitively), or None."""
        wanted = name.casefold()
        return next((n for n in self.names if n.casefold() == wanted), None)

    def label(self, name: str) -> str:
        """``main.leads``: how problems name a table of the database."""
        return f"{self.schema}.{name}"

    def relation(self, name: str) -> Any:
        """A lazy DuckDB relation over table ``name`` (columns of types without a
        typed reading, see the module docstring, cast to text).

        Raises :class:`~pipelinekit.errors.PipelineKitError` when DuckDB cannot bind
        it (a view over a table that no longer exists, ...).
        """
        duckdb = import_duckdb(f"reading {self.path.name}")
        try:
            prefix = f"{_quote(self.catalog)}." if self.catalog else ""
            relation = self.connection.sql(
                f"SELECT * FROM {prefix}{_quote(self.schema)}.{_quote(name)}"
            )
        except duckdb.Error as exc:
            raise PipelineKitError(f"cannot read {self.label(name)}: {_first_line(exc)}") from exc
        columns = list(relation.columns)
        kinds = [str(t.id) for t in relation.types]
        if all(kind in _TYPED for kind in kinds):
            return relation
        projection = [
            _quote(c) if kind in _TYPED else f"CAST({_quote(c)} AS VARCHAR) AS {_quote(c)}"
            for c, kind in zip(columns, kinds, strict=True)
        ]
        return relation.project(", ".join(projection))

    def collect(self, name: str) -> Any:
        """Table ``name`` as a polars DataFrame (for readers that need rows in memory).

        Raises :class:`~pipelinekit.errors.PipelineKitError` when DuckDB cannot read it.
        """
        duckdb = import_duckdb(f"reading {self.path.name}")
        relation = self.relation(name)
        try:
            return nw.from_native(relation).collect(backend="polars").to_native()
        except duckdb.Error as exc:
            raise PipelineKitError(f"cannot read {self.label(name)}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_file(path: Path) -> None:
    """A clear error for a path that is not a DuckDB database file (before DuckDB)."""
    if not path.exists():
        raise ConfigError(f"database file {str(path)!r} does not exist")
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} is neither a directory of tables nor a database file")
    with path.open("rb") as handle:
        header = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    if header[_MAGIC_OFFSET:] != _MAGIC:
        raise ConfigError(
            f"{path.name} is not a directory of tables and not a DuckDB database file "
            f"({'empty' if not header else 'no DuckDB header'}); pass a directory of "
            "CSV / Parquet tables or a database written by DuckDB"
        )


def _schemas(connection: Any) -> dict[str, list[str]]:
    """Schema name -> its tables and views, sorted (this database only)."""
    rows = connection.execute(
        "SELECT schema_name, NULL FROM duckdb_schemas() WHERE database_name = current_database() "
        "UNION ALL SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal"
    ).fetchall()
    found: dict[str, list[str]] = {}
    for schema, table in rows:
        names = found.setdefault(str(schema), [])
        if table is not None:
            names.append(str(table))
    return {
        schema: sorted(names, key=lambda n: (n.casefold(), n))
        for schema, names in sorted(found.items())
    }


def _resolve_schema(path: Path, schemas: dict[str, list[str]], schema: str) -> str:
    for name in schemas:
        if name.casefold() == schema.casefold():
            return name
    known = "; ".join(f"{name} ({_listing(tables)})" for name, tables in schemas.items())
    raise ConfigError(f"schema {schema!r} is not in {path.name}; its schemas (and tables): {known}")


@contextlib.contextmanager
def open_database(path: str | os.PathLike[str], *, schema: str | None = None) -> Iterator[Database]:
    """Open a DuckDB database file read-only and yield one of its schemas.

    Parameters
    ----------
    path
        The database file.
    schema
        Schema holding the tables (matched case-insensitively); ``None`` is DuckDB's
        default, ``main``.

    Raises
    ------
    ConfigError
        When the path does not exist, is not a DuckDB database, cannot be opened
        (e.g. another process holds it open for writing), or has no such schema; the
        message lists the schemas and their tables.
    UnsupportedEngineError
        When DuckDB (the ``engines`` extra) is not installed.

    Examples
    --------
    >>> import pathlib, tempfile, duckdb
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "crm.duckdb"
    >>> with duckdb.connect(str(path)) as con:
    ...     _ = con.execute("CREATE SCHEMA sales; CREATE TABLE sales.leads (lead_id TEXT)")
    >>> with open_database(path, schema="Sales") as db:
    ...     db.where, db.names, db.find("LEADS")
    ('schema sales of crm.duckdb', ('leads',), 'leads')
    """
    if schema is not None and (not isinstance(schema, str) or not schema.strip()):
        raise ConfigError(f"schema must be a schema name, got {schema!r}")
    where = Path(path)
    _check_file(where)
    duckdb = import_duckdb(f"reading {where.name}")
    try:
        connection = duckdb.connect(str(where), read_only=True)
    except duckdb.Error as exc:
        raise ConfigError(
            f"cannot open {where.name} as a DuckDB database: {_first_line(exc)}"
        ) from exc
    try:
        schemas = _schemas(connection)
        chosen = _resolve_schema(where, schemas, schema or DEFAULT_SCHEMA)
        ((catalog,),) = connection.execute("SELECT current_database()").fetchall()
        yield Database(
            path=where,
            schema=chosen,
            names=tuple(schemas[chosen]),
            connection=connection,
            catalog=str(catalog),
            schemas={name: tuple(tables) for name, tables in schemas.items()},
        )
    finally:
        connection.close()


def read_database_tables(
    path: str | os.PathLike[str],
    *,
    schema: str | None = None,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
    backend: _parse.Backend = "pandas",
) -> Validated:
    """Read and validate the canonical tables of a DuckDB database.

    Like :func:`~pipelinekit.io.files.read_dataset_tables` for a directory: the tables
    named after the canonical tables (case-insensitively) in ``schema`` are validated
    together; only ``leads`` is required. Raises one
    :class:`~pipelinekit.errors.SchemaError` listing every problem when any is an
    error, and :class:`~pipelinekit.errors.ConfigError` for a path or schema that
    cannot be read (see :func:`open_database`).

    Examples
    --------
    >>> import pathlib, tempfile, duckdb
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "crm.duckdb"
    >>> with duckdb.connect(str(path)) as con:
    ...     _ = con.execute("CREATE TABLE reps AS SELECT 'R1' AS rep_id, 'inside' AS role")
    >>> from pipelinekit.errors import SchemaError
    >>> try:
    ...     read_database_tables(path)
    ... except SchemaError as err:
    ...     print(err.problems[0].message)
    no leads table in schema main of crm.duckdb; tables found: reps
    """
    if backend not in ("pandas", "polars"):
        raise ConfigError(f"backend must be 'pandas' or 'polars', got {backend!r}")
    with open_database(path, schema=schema) as db:
        duckdb = import_duckdb(f"reading {db.path.name}")
        problems: list[Problem] = []
        tables: dict[str, Any] = {}
        for name in db.names:
            if name.casefold() not in TABLES:
                problems.append(_unknown_table(db, name))
        for table in TABLES:
            found = db.find(table)
            if found is None:
                continue
            try:
                tables[table] = db.relation(found)
            except PipelineKitError as exc:
                problems.append(
                    Problem(table=table, column=None, rule="unreadable_table", message=str(exc))
                )
        if db.find("leads") is None:
            problems.append(_missing_leads(db))
        try:
            result = validate_read(tables, problems, tz=tz, strict=strict)
        except duckdb.Error as exc:
            raise PipelineKitError(
                f"DuckDB could not read the tables of {db.where}: {_first_line(exc)}"
            ) from exc
    if backend == "polars":
        return result
    return attrs.evolve(
        result,
        tables={name: _canonical_pandas(name, frame) for name, frame in result.tables.items()},
    )


def _canonical_pandas(table: str, frame: Any) -> Any:
    """A validated polars table as the pandas validator returns it (same dtypes)."""
    out = polars_to_pandas(frame)
    for column in TABLES[table].columns:
        if out[column.name].dtype != column.pandas_dtype:
            out[column.name] = out[column.name].astype(column.pandas_dtype)
    return out


def _unknown_table(db: Database, name: str) -> Problem:
    return Problem(
        table=name,
        column=None,
        rule="unknown_table",
        message=f"{db.label(name)} in {db.path.name}: unknown table, ignored",
        severity="warning",
        hint=f"tables are named after: {', '.join(TABLES)}",
    )


def _missing_leads(db: Database) -> Problem:
    return Problem(
        table="leads",
        column=None,
        rule="missing_table",
        message=f"no leads table in {db.where}; tables found: {db.found()}{db.elsewhere('leads')}",
        hint="name the tables after the canonical tables (leads, activities, ...; any "
        "letter case), pass the schema that holds them (schema=, --schema), or a preset "
        "for CRM names (preset=, --preset)",
    )
