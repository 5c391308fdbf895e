"""Read a directory of canonical tables (CSV, gzipped CSV or Parquet files).

A data directory holds one file per table, named after it: ``leads.csv``,
``activities.csv.gz``, ``opportunities.parquet``, ... Only ``leads`` is required;
a missing file is an empty table. CSV files are read as text only (no type
inference): :func:`pipelinekit.validation.validate_tables` converts and checks the
values. Nothing is ever written into the data directory.

File-level problem rules (``Problem.rule``): ``missing_table`` (no leads file),
``duplicate_table_file`` (two files for one table), ``unknown_table`` (warning: a
table-like file whose name is not a canonical table; ignored), ``empty_file``
(0 bytes, or no header line), ``encoding_error`` (not decodable with ``encoding``),
``unreadable_file`` (malformed CSV, gzip or Parquet) and ``duplicate_column``.
Every file-level message names the file. A table whose file could not be read is
reported once, by its file problem: foreign keys into it are not checked, so no
orphan-key warning follows for rows that refer to it (see ``unreadable`` of
:func:`~pipelinekit.validation.validate_tables`).

Size: a file larger than ``$PIPELINEKIT_MAX_FILE_BYTES`` (when set), or one whose
estimated in-memory size (ten times the file, or the uncompressed size of a gzip
file) exceeds the available memory (Linux ``MemAvailable``), is refused with a
:class:`~pipelinekit.errors.PipelineKitError` naming the size and what to do,
before anything is read.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "leads.csv").write_text(
...     "lead_id,created_at,origin\\nL1,2025/4/1 9:30,Inbound\\n", encoding="utf-8")
>>> tables, problems = read_tables(folder)
>>> tables["leads"].to_dict("records"), problems
([{'lead_id': 'L1', 'created_at': '2025/4/1 9:30', 'origin': 'Inbound'}], [])
>>> read_dataset_tables(folder).tables["leads"].loc[0, "created_at"]
Timestamp('2025-04-01 09:30:00')
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import narwhals as nw
import pandas as pd

from pipelinekit import _parse
from pipelinekit.errors import ConfigError, PipelineKitError, Problem, SchemaError, Severity
from pipelinekit.schema import TABLES
from pipelinekit.validation import Validated, validate_tables

__all__ = ["SUFFIXES", "UNREADABLE_RULES", "read_dataset_tables", "read_tables", "validate_read"]

Backend = _parse.Backend

#: File name endings read as tables, in the order they are reported.
SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

_ENCODING_HINT = "pass --encoding cp932 (encoding='cp932') for Japanese Excel exports"

#: File problems after which the table is not read at all (reported once, no cascade).
UNREADABLE_RULES = frozenset(
    {"empty_file", "encoding_error", "unreadable_file", "duplicate_table_file", "unreadable_table"}
)


def read_tables(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    backend: Backend = "pandas",
) -> tuple[dict[str, Any], list[Problem]]:
    """Read the table files of a data directory, without validating their values.

    Parameters
    ----------
    path
        Directory with files named ``<table>.csv``, ``<table>.csv.gz`` or
        ``<table>.parquet``.
    encoding
        Text encoding of the CSV files; UTF-8 may start with a BOM. Use ``"cp932"``
        for Japanese Excel exports.
    backend
        Frame library of the returned tables: ``"pandas"`` or ``"polars"``.

    Returns
    -------
    tables, problems
        Table name -> frame for every file read (CSV columns are all text, with
        empty cells and the missing tokens NA, N/A, NULL, NaN, None as null), and the
        file-level problems found.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "leads.csv").write_bytes(b"lead_id,origin\\r\\nL1,N/A\\r\\n")
    >>> _ = (folder / "notes.csv").write_bytes(b"x\\n1\\n")
    >>> tables, problems = read_tables(folder, backend="polars")
    >>> tables["leads"].row(0), [(p.table, p.rule, p.severity) for p in problems]
    (('L1', None), [('notes', 'unknown_table', 'warning')])
    """
    folder = _check_arguments(path, encoding, backend)
    problems: list[Problem] = []
    tables: dict[str, Any] = {}
    for table, file in _table_files(folder, problems).items():
        frame = read_file(table, file, encoding, backend, problems)
        if frame is not None:
            tables[table] = frame
    return tables, problems


def read_dataset_tables(
    path: str | os.PathLike[str],
    *,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
    encoding: str = "utf-8",
    backend: Backend = "pandas",
) -> Validated:
    """Read and validate a data directory: :func:`read_tables` + ``validate_tables``.

    Raises one :class:`~pipelinekit.errors.SchemaError` with the file-level and the
    table-level problems together when any of them is an error; otherwise returns
    the canonical tables with every warning.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "leads.csv").write_text("lead_id,created_at,origin\\nL1,x,inbound\\n")
    >>> _ = (folder / "reps.csv").write_bytes(b"")
    >>> try:
    ...     read_dataset_tables(folder)
    ... except SchemaError as err:
    ...     print([(p.table, p.rule) for p in err.problems])
    [('reps', 'empty_file'), ('leads', 'unparseable_timestamp')]
    """
    tables, file_problems = read_tables(path, encoding=encoding, backend=backend)
    return validate_read(tables, file_problems, tz=tz, strict=strict)


def validate_read(
    tables: dict[str, Any], file_problems: list[Problem], *, tz: str, strict: bool
) -> Validated:
    """Validate the tables a reader found, together with the reader's own problems.

    Raises one :class:`~pipelinekit.errors.SchemaError` listing the reader's problems
    first, then the tables' (a missing ``leads`` table is reported once, by the
    reader), when any of them is an error. Tables named by an ``UNREADABLE_RULES``
    problem are not checked as foreign-key parents.

    >>> import pandas as pd
    >>> ok = validate_read({"leads": pd.DataFrame({"lead_id": [], "created_at": [],
    ...                                            "origin": []})}, [], tz="UTC", strict=False)
    >>> [p.rule for p in ok.warnings]
    ['empty_table']
    """
    unreadable = {p.table for p in file_problems if p.rule in UNREADABLE_RULES}
    try:
        result = validate_tables(tables, tz=tz, strict=strict, unreadable=unreadable)
    except SchemaError as err:
        raise _combined(file_problems, err.problems, err.totals) from None
    if any(p.severity == "error" for p in file_problems):
        raise _combined(file_problems, result.warnings, result.totals)
    problems = _merge(file_problems, result.warnings)
    return Validated(
        tables=result.tables, warnings=problems, totals=_totals(problems, result.totals)
    )


def _combined(
    first: list[Problem], second: list[Problem], totals: dict[tuple[str, str, str], int]
) -> SchemaError:
    problems = _merge(first, second)
    return SchemaError(problems, totals=_totals(problems, totals))


def _merge(file_problems: list[Problem], table_problems: Iterable[Problem]) -> list[Problem]:
    """File problems first; drop table problems that repeat one (e.g. missing leads).

    A leads file that could not be read (empty, undecodable, malformed, duplicated) is
    reported by its file problem only, not also as a missing leads table.
    """
    seen = {p.key() for p in file_problems if p.row is None}
    if any(p.table == "leads" and p.row is None and p.severity == "error" for p in file_problems):
        seen.add(("leads", "", "missing_table"))
    return [
        *file_problems,
        *(p for p in table_problems if p.row is not None or p.key() not in seen),
    ]


def _totals(
    problems: list[Problem], totals: dict[tuple[str, str, str], int]
) -> dict[tuple[str, str, str], int]:
    merged = dict(totals)
    for p in problems:
        if p.key() not in totals:
            merged[p.key()] = merged.get(p.key(), 0) + 1
    return merged


def _check_arguments(path: str | os.PathLike[str], encoding: str, backend: str) -> Path:
    if backend not in ("pandas", "polars"):
        raise ConfigError(f"backend must be 'pandas' or 'polars', got {backend!r}")
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(f"encoding={encoding!r} is not a known text encoding") from exc
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"data directory {str(folder)!r} does not exist or is not a directory")
    return folder


def _file_problem(
    table: str,
    rule: str,
    message: str,
    *,
    severity: Severity = "error",
    hint: str | None = None,
) -> Problem:
    return Problem(
        table=table, column=None, rule=rule, message=message, severity=severity, hint=hint
    )


# ------------------------------------------------------------------------ files


def _split_name(file: Path) -> tuple[str, str] | None:
    """(table, suffix) of a table-like file name, else None."""
    name = file.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return None


def _table_files(folder: Path, problems: list[Problem]) -> dict[str, Path]:
    """The file of each canonical table present; report duplicates, unknowns, no leads."""
    found: dict[str, list[Path]] = {}
    for file in sorted(folder.iterdir()):
        parts = _split_name(file)
        if parts is None or file.name.startswith(".") or not file.is_file():
            continue
        table = parts[0]
        if table not in TABLES:
            problems.append(
                _file_problem(
                    table,
                    "unknown_table",
                    f"{file.name}: unknown table, ignored",
                    severity="warning",
                    hint=f"table files are named after: {', '.join(TABLES)}",
                )
            )
            continue
        found.setdefault(table, []).append(file)
    for table, files in found.items():
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            problems.append(
                _file_problem(
                    table,
                    "duplicate_table_file",
                    f"more than one file for table {table}: {names}",
                    hint="keep exactly one file per table",
                )
            )
    if "leads" not in found:
        problems.append(
            Problem(
                table="leads",
                column=None,
                rule="missing_table",
                message=f"no leads file (leads.csv, leads.csv.gz or leads.parquet) in {folder}",
                hint="is this the directory of the export? a dataset without leads still "
                "needs leads.csv with its header line (an empty leads table is valid)",
            )
        )
    return {table: files[0] for table, files in found.items() if len(files) == 1}


#: Environment variable: the largest table file read, in bytes (default: no fixed limit).
MAX_FILE_BYTES_ENV = "PIPELINEKIT_MAX_FILE_BYTES"
#: Reading a file takes roughly this many times its size in memory (text + frame).
_MEMORY_FACTOR = 10


def _check_size(file: Path, size: int) -> None:
    """Refuse a file over the configured limit, or one that would not fit in memory.

    The limit is ``$PIPELINEKIT_MAX_FILE_BYTES`` when set; independently a file whose
    estimated footprint (``_MEMORY_FACTOR`` times its size on disk, or the size stored
    in a gzip trailer) exceeds the available memory is refused before it is read.
    """
    if file.name.lower().endswith(".gz") and size >= 4:
        with file.open("rb") as handle:
            handle.seek(-4, os.SEEK_END)
            size = max(size, int.from_bytes(handle.read(4), "little"))
    limit_text = os.environ.get(MAX_FILE_BYTES_ENV)
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError as exc:
            raise ConfigError(
                f"{MAX_FILE_BYTES_ENV}={limit_text!r} must be a whole number of bytes"
            ) from exc
        if size > limit:
            raise PipelineKitError(
                f"{file.name} is {size:,} bytes, over the limit of {limit:,} bytes "
                f"set by {MAX_FILE_BYTES_ENV}; hint: raise the limit, or split or "
                "filter the export (e.g. fewer months of activities)"
            )
    available = _available_memory()
    if available is not None and size * _MEMORY_FACTOR > available:
        raise PipelineKitError(
            f"{file.name} is {size:,} bytes; reading it needs about "
            f"{size * _MEMORY_FACTOR:,} bytes of memory but only {available:,} are "
            "available; hint: split or filter the export, or run on a larger machine"
        )


def _available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else None (not detectable)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def read_file(
    table: str, file: Path, encoding: str, backend: Backend, problems: list[Problem]
) -> Any | None:
    """Read one table file; None (and a problem) when it cannot be read."""
    size = file.stat().st_size
    _check_size(file, size)
    if size == 0:
        problems.append(
            _file_problem(
                table,
                "empty_file",
                f"{file.name} is empty (0 bytes)",
                hint="a table without rows still needs its header line",
            )
        )
        return None
    if file.name.lower().endswith(".parquet"):
        return _read_parquet(table, file, backend, problems)
    return _read_csv(table, file, encoding, backend, problems)


def _read_parquet(table: str, file: Path, backend: Backend, problems: list[Problem]) -> Any | None:
    try:
        if backend == "polars":
            import polars as pl

            return pl.read_parquet(file)
        return pd.read_parquet(file)
    except Exception as exc:  # pyarrow and polars raise many kinds of errors
        problems.append(_file_problem(table, "unreadable_file", f"cannot read {file.name}: {exc}"))
        return None


def _read_csv(
    table: str, file: Path, encoding: str, backend: Backend, problems: list[Problem]
) -> Any | None:
    text = _decoded_text(table, file, encoding, problems)
    if text is None:
        return None
    header = _header(text)
    if not any(name.strip() for name in header):
        problems.append(_file_problem(table, "empty_file", f"{file.name} has no header line"))
        return None
    _report_duplicate_header(table, file, header, problems)
    try:
        frame = _parse_csv_text(text)
    except (ValueError, csv.Error) as exc:
        problems.append(_file_problem(table, "unreadable_file", f"cannot parse {file.name}: {exc}"))
        return None
    frame.columns = [str(name).strip() for name in frame.columns]
    return _with_missing_tokens(frame, backend)


def _parse_csv_text(text: str) -> pd.DataFrame:
    """All cells as text; a row with more fields than the header is an error.

    pandas raises for such rows except the first one, where with ``index_col=False``
    it only warns and drops the extra fields: that warning is turned into an error.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, index_col=False
        )
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        raise ValueError("a row has more fields than the header")
    return frame


def _decoded_text(table: str, file: Path, encoding: str, problems: list[Problem]) -> str | None:
    """The file's text (gunzipped, BOM removed), or None and a problem."""
    try:
        data = file.read_bytes()
        if file.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        problems.append(_file_problem(table, "unreadable_file", f"cannot read {file.name}: {exc}"))
        return None
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        problems.append(
            _file_problem(
                table,
                "encoding_error",
                f"{file.name} is not valid {encoding}: byte {data[exc.start]:#04x} "
                f"at offset {exc.start}",
                hint=_ENCODING_HINT,
            )
        )
        return None


def _header(text: str) -> list[str]:
    """Column names of the first CSV record (empty when the text has none)."""
    head = text[:65536]
    for record in csv.reader(io.StringIO(head)):
        if record:
            return record
    return []


def _report_duplicate_header(
    table: str, file: Path, header: list[str], problems: list[Problem]
) -> None:
    names = [name.strip() for name in header]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            Problem(
                table=table,
                column=name,
                rule="duplicate_column",
                message=f"{file.name}: column {name!r} occurs more than once; "
                "the first one is used",
            )
        )


def _with_missing_tokens(frame: pd.DataFrame, backend: Backend) -> Any:
    """Missing tokens -> null in every column, as a frame of ``backend``."""
    native: Any = frame
    if backend == "polars":
        import polars as pl

        native = pl.from_pandas(frame)
    wrapped = nw.from_native(native, eager_only=True)
    cleaned = [_parse.missing_tokens_to_null(wrapped[name]) for name in wrapped.columns]
    return _parse.assemble(cleaned, None, backend).to_native()
