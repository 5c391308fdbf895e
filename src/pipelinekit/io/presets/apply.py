"""Run a :class:`~pipelinekit.io.presets.model.Preset` over export frames or files.

:func:`apply_preset` maps in-memory export frames; :func:`read_preset` reads the
export files of a directory (or the tables of a DuckDB database) first. Both validate
the mapped tables and return a validated :class:`~pipelinekit.dataset.Dataset`, or raise one
:class:`~pipelinekit.errors.SchemaError` listing every problem: the file problems,
the preset's own (below) and the schema's, with rows and ids pointing back into the
export files.

Preset problem rules (``Problem.rule``):

========================  ===============  ======================================
rule                      severity         meaning
========================  ===============  ======================================
``unmapped_value``        error / warning  a raw value the preset's ``values`` do
                                           not know: an error when the canonical
                                           column is required, a warning (cell left
                                           missing, or kept as written for text
                                           columns) otherwise. One problem per
                                           distinct value, with its row count.
``missing_source_column`` error / warning  a mapped source column is not in the
                                           export (error for a required column)
``missing_source_file``   error            no export file for the leads table
``missing_source_table``  error            no database table for the leads table
                                           (the message lists the tables found)
``unreadable_table``      error            DuckDB cannot read a source table
``duplicate_source_file`` error            two files for one source (``Lead.csv``
                                           and ``Lead.parquet``, or ``lead.csv``
                                           and ``sf_lead_data.csv``)
``fallback_source_column`` warning         a mapped source column is not exported;
                                           its ``fallbacks`` column is read
``deleted_rows``          warning          rows marked deleted by the CRM or the
                                           sync (``IsDeleted`` / ``is_deleted`` /
                                           ``_fivetran_deleted`` true): left out
``unclassified_rows``     warning          rows a :class:`Classify` rule could not
                                           classify, left out
========================  ===============  ======================================

Warehouse syncs (Fivetran, Airbyte, Stitch) name tables and columns in snake_case
(``opportunity_history``, ``created_date``) and may prefix them (``sf_lead_data``):
names are matched by :func:`~pipelinekit.io.presets.model.name_key`, so both forms
read without configuration; the sync's own columns (``_fivetran_synced``) are not
mapped and so never get in the way.
"""

from __future__ import annotations

import codecs
import difflib
import os
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import narwhals as nw
import pandas as pd

from pipelinekit import _parse
from pipelinekit._compat import polars_to_pandas
from pipelinekit.dataset import Dataset
from pipelinekit.errors import ConfigError, PipelineKitError, Problem, SchemaError
from pipelinekit.io.database import Database, is_database_path, open_database
from pipelinekit.io.files import SUFFIXES, UNREADABLE_RULES, read_file
from pipelinekit.io.presets.model import (
    Classify,
    CollapseRepeats,
    Condition,
    Fill,
    Keep,
    Lookup,
    Preset,
    SourceLookup,
    TableMap,
    name_key,
    normalize,
)
from pipelinekit.schema import TABLES, Column
from pipelinekit.validation import validate_tables

__all__ = ["apply_preset", "read_preset", "resolve_preset"]

Key = tuple[str, str, str]

_ROW = "__row"  # 1-based data row in the export file
_FILE = "__file"  # export file (or source) name
_PART = "__part"  # index of the TableMap within its table
_UNMAPPED = "__unmapped"  # a required value of the row had no mapping (already an error)
_MISSING = {normalize(token) for token in _parse.MISSING_TOKENS}


def resolve_preset(preset: str | Preset) -> Preset:
    """The preset object for a name (``"salesforce"``, ``"hubspot"``) or a Preset.

    >>> resolve_preset("hubspot").name
    'hubspot'
    """
    from pipelinekit.io.presets import PRESETS

    if isinstance(preset, Preset):
        return preset
    if isinstance(preset, str) and preset in PRESETS:
        return PRESETS[preset]
    raise ConfigError(
        f"preset must be one of {', '.join(map(repr, PRESETS))} or a Preset object, got {preset!r}"
    )


def read_preset(
    path: str | os.PathLike[str],
    preset: str | Preset = "salesforce",
    *,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
    encoding: str = "utf-8",
    schema: str | None = None,
) -> Dataset:
    """Read a CRM export (directory or DuckDB database) through a preset.

    Parameters
    ----------
    path
        Directory with one file per exported object, named after the preset's
        sources (``Lead.csv``, ``Task.csv``, ... or ``contacts.csv``, ``deals.csv``,
        ...; ``.csv``, ``.csv.gz`` or ``.parquet``), or a DuckDB database file with
        one table (or view) per source, named the same way (``Lead``, ``Task``, ...).
        Names are matched case-insensitively; other files and tables are ignored.
    preset
        ``"salesforce"``, ``"hubspot"`` or a :class:`Preset` of your own.
    tz
        Dataset time zone: naive export timestamps are wall-clock time there and
        timestamps with an offset (``...Z``) are converted to it.
    strict
        Make orphan foreign keys and plausibility rules (a close or validation before
        the creation) errors instead of warnings.
    encoding
        Text encoding of the CSV files (``"cp932"`` for Japanese Excel).
    schema
        Database schema holding the tables (default DuckDB's ``main``); only for a
        database file, which is opened read-only.

    Returns
    -------
    Dataset
        Canonical pandas tables, ``validated=True``, with every warning (unmapped
        optional values, orphan keys, ...) in ``warnings``.

    Raises
    ------
    SchemaError
        Listing every file, mapping and schema problem when any is an error.
    ConfigError
        When an option is invalid or the preset is malformed, or the database or its
        schema cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "contacts.csv").write_text(
    ...     "hs_object_id,createdate,hs_analytics_source,hs_lead_status\\n"
    ...     "101,2025-04-01T00:30:00Z,ORGANIC_SEARCH,NEW\\n"
    ...     "102,2025-04-02T01:00:00Z,OFFLINE,WEBINAR\\n")
    >>> ds = read_preset(folder, "hubspot")
    >>> ds.leads[["lead_id", "created_at", "origin", "action_status"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['101', Timestamp('2025-04-01 09:30:00'), 'inbound', 'new'],
     ['102', Timestamp('2025-04-02 10:00:00'), 'outbound', 'new']]
    >>> [(p.column, p.rule, p.value) for p in ds.warnings if p.rule == "unmapped_value"]
    [('action_status', 'unmapped_value', 'WEBINAR')]
    """
    chosen = resolve_preset(preset)
    _check_tz(tz)
    problems: list[Problem] = []
    if is_database_path(path):
        with open_database(path, schema=schema) as db:
            frames = _read_tables(db, chosen, problems)
            return _run(
                chosen, frames, tz=tz, strict=strict, problems=problems, suffix_names=False, db=db
            )
    if schema is not None:
        raise ConfigError(
            f"schema={schema!r} names a schema of a DuckDB database file, but "
            f"{str(path)!r} is an export directory"
        )
    listing = _source_files(_check_folder(path, encoding))
    frames = _read_sources(listing, chosen, encoding, problems)
    found = [file.name for file, _ in listing]
    return _run(
        chosen, frames, tz=tz, strict=strict, problems=problems, suffix_names=True, found=found
    )


def apply_preset(
    sources: Mapping[str, Any],
    preset: str | Preset = "salesforce",
    *,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
) -> Dataset:
    """Map export frames already in memory (e.g. from a CRM API) through a preset.

    Parameters
    ----------
    sources
        Source name (``"Lead"``, ``"Task"``, ``"contacts"``, ...; matched
        case-insensitively) -> frame (pandas, polars or any eager frame narwhals
        reads). Values may be text or typed.
    preset, tz, strict
        As in :func:`read_preset`.

    Examples
    --------
    >>> import pandas as pd
    >>> lead = pd.DataFrame({"Id": ["00Q1"], "CreatedDate": ["2025-04-01T00:30:00.000Z"],
    ...                      "LeadSource": ["Web"], "Status": ["Open - Not Contacted"]})
    >>> ds = apply_preset({"Lead": lead}, "salesforce")
    >>> ds.leads.loc[0, ["lead_id", "origin", "source", "action_status"]].tolist()
    ['00Q1', 'inbound', 'Web', 'new']
    """
    chosen = resolve_preset(preset)
    _check_tz(tz)
    if not isinstance(sources, Mapping):
        raise ConfigError(f"sources must be a mapping of source name -> frame, got {sources!r}")
    given = [(str(name), _table_keys(str(name))) for name in sources]
    aliases = _source_aliases(chosen)
    frames: dict[str, pd.DataFrame] = {}
    for source in _source_names(chosen):
        found = _matching(given, aliases[source])
        if found:
            frames[source] = _as_text_frame(sources[found[0]], source)
    return _run(chosen, frames, tz=tz, strict=strict, problems=[], suffix_names=False)


# ----------------------------------------------------------------------- reading


def _check_tz(tz: str) -> None:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(f"tz={tz!r} is not a known IANA time zone") from exc


def _check_folder(path: str | os.PathLike[str], encoding: str) -> Path:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(f"encoding={encoding!r} is not a known text encoding") from exc
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"export directory {str(folder)!r} does not exist or is not a directory")
    return folder


def _source_names(preset: Preset) -> list[str]:
    names: list[str] = []
    for maps in preset.tables.values():
        names += [m.source for m in maps if m.source not in names]
    names += [e.from_source for e in preset.enrich if e.from_source not in names]
    return names


def _source_aliases(preset: Preset) -> dict[str, set[str]]:
    """Source name -> the name keys that name it (its own and its aliases)."""
    keys: dict[str, set[str]] = defaultdict(set)
    for maps in preset.tables.values():
        for m in maps:
            keys[m.source] |= {name_key(m.source), *(name_key(a) for a in m.aliases)}
    for e in preset.enrich:
        keys[e.from_source].add(name_key(e.from_source))
    return keys


#: Warehouse-sync prefixes and suffixes around a table name (``sf_lead_data``).
_PREFIXES = ("sf_", "salesforce_", "hubspot_", "hs_")
_SUFFIXES = ("_data",)


def _table_keys(stem: str) -> set[str]:
    """The name keys a table or file stem can stand for: as written, and without a
    warehouse prefix and / or ``_data`` suffix."""
    names = {stem}
    lowered = stem.casefold()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix) and len(stem) > len(prefix):
            names.add(stem[len(prefix) :])
    for name in list(names):
        for suffix in _SUFFIXES:
            if name.casefold().endswith(suffix) and len(name) > len(suffix):
                names.add(name[: -len(suffix)])
    return {name_key(n) for n in names}


def _source_files(folder: Path) -> list[tuple[Path, set[str]]]:
    """The table-like files of ``folder`` with the name keys each can stand for."""
    found: list[tuple[Path, set[str]]] = []
    for file in sorted(folder.iterdir()):
        if not file.is_file() or file.name.startswith("."):
            continue
        for suffix in sorted(SUFFIXES, key=len, reverse=True):
            if file.name.lower().endswith(suffix) and len(file.name) > len(suffix):
                found.append((file, _table_keys(file.name[: -len(suffix)])))
                break
    return found


def _matching(names: list[tuple[Any, set[str]]], keys: set[str]) -> list[Any]:
    return [item for item, item_keys in names if item_keys & keys]


def _read_sources(
    listing: list[tuple[Path, set[str]]], preset: Preset, encoding: str, problems: list[Problem]
) -> dict[str, pd.DataFrame]:
    """The preset's sources from the files of a directory ``listing``."""
    files = {file.name: file for file, _ in listing}
    named = [(file.name, keys) for file, keys in listing]
    frames: dict[str, pd.DataFrame] = {}
    for source, name in _sources_found(preset, named, "file", problems).items():
        frame = read_file(source, files[name], encoding, "pandas", problems)
        if frame is not None:
            frames[source] = _as_text_frame(frame, source, file=name)
    return frames


def _read_tables(db: Database, preset: Preset, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    """The preset's sources from the database tables of the same names."""
    frames: dict[str, pd.DataFrame] = {}
    named = [(name, _table_keys(name)) for name in db.names]
    for source, name in _sources_found(preset, named, "table", problems).items():
        try:
            native = db.collect(name)
        except PipelineKitError as exc:
            problems.append(
                Problem(table=source, column=None, rule="unreadable_table", message=str(exc))
            )
            continue
        # through Arrow with nullable integers: an id column with gaps stays "101"
        frames[source] = _as_text_frame(polars_to_pandas(native), source, file=db.label(name))
    return frames


def _sources_found(
    preset: Preset, named: list[tuple[str, set[str]]], what: str, problems: list[Problem]
) -> dict[str, str]:
    """Preset source -> the one file or table name that stands for it; a source that
    several names stand for is a ``duplicate_source_file`` problem (none is read)."""
    aliases = _source_aliases(preset)
    found: dict[str, str] = {}
    for source in _source_names(preset):
        matches = _matching(named, aliases[source])
        if len(matches) > 1:
            problems.append(
                Problem(
                    table=source,
                    column=None,
                    rule="duplicate_source_file",
                    message=f"more than one {what} for source {source}: {', '.join(matches)}",
                    value=matches[0],
                    hint=f"keep exactly one {what} per exported object",
                )
            )
        elif matches:
            found[source] = matches[0]
    return found


def _as_text_frame(native: Any, source: str, *, file: str | None = None) -> pd.DataFrame:
    """A pandas frame of str / None cells plus the bookkeeping columns."""
    try:
        frame = nw.from_native(native, eager_only=True).to_pandas()
    except TypeError as exc:
        raise ConfigError(
            f"sources[{source!r}] is a {type(native).__name__}, not a data frame"
        ) from exc
    text = pd.DataFrame(
        {
            str(name).strip(): [_cell_text(v) for v in frame[name].tolist()]
            for name in frame.columns
        },
        index=pd.RangeIndex(len(frame)),
        dtype=object,
    )
    text[_ROW] = range(1, len(frame) + 1)
    text[_FILE] = file or source
    return text


def _cell_text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _is_missing(value: Any) -> bool:
    return value is None or normalize(str(value)) in _MISSING


# ----------------------------------------------------------------------- mapping


@attrs.define
class _Mapped:
    """One canonical table being built: its frame and what the mapping noticed."""

    frame: pd.DataFrame
    reported_columns: set[str] = attrs.field(factory=set)


class _Mapper:
    def __init__(self, preset: Preset, problems: list[Problem]) -> None:
        self.preset = preset
        self.problems = problems
        self.totals: dict[Key, int] = defaultdict(int)

    def add(self, problem: Problem, count: int = 1) -> None:
        self.problems.append(problem)
        self.totals[problem.key()] += count

    def table(self, table: str, frames: Mapping[str, pd.DataFrame]) -> _Mapped | None:
        parts = []
        reported: set[str] = set()
        for index, table_map in enumerate(self.preset.tables[table]):
            source = frames.get(table_map.source)
            if source is None:
                continue
            part = self._map(table, table_map, source, reported)
            part[_PART] = index
            parts.append(part)
        if not parts:
            return None
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        mapped = _Mapped(frame.reset_index(drop=True), reported_columns=reported)
        mapped.frame[_UNMAPPED] = False
        self._translate(table, mapped.frame)
        return mapped

    # -- one export file -> canonical columns (values still raw text)

    def _map(
        self, table: str, table_map: TableMap, source: pd.DataFrame, reported: set[str]
    ) -> pd.DataFrame:
        lookup = _Columns(source.columns)
        keep = ~self._deleted(table, table_map, source, lookup)
        for column, accepted in table_map.skip.items():
            actual = lookup.find(column)
            if actual is not None:
                keep &= ~source[actual].map(lambda v, a=accepted: _matches(v, a))
        rows = source[keep].reset_index(drop=True)
        out = pd.DataFrame(index=rows.index)
        for column, wanted in table_map.columns.items():
            names = (wanted,) if isinstance(wanted, str) else tuple(wanted)
            present = [name for name in map(lookup.find, names) if name is not None]
            if not present:
                fallbacks = table_map.fallbacks.get(column, ())
                present = [name for name in map(lookup.find, fallbacks) if name is not None]
                if present and column not in reported:
                    self._fallback(table, column, table_map, names, present[0], reported)
            if not present:
                self._missing_column(table, column, table_map, names, reported, lookup)
                continue
            out[column] = _coalesce(rows, present)
        for column, constant in table_map.constants.items():
            out[column] = constant
        for column, factor in table_map.scale.items():
            if column in out:
                out[_RAW + column] = out[column]
                out[column] = out[column].map(lambda v, f=factor: _scaled(v, f))
        out[_ROW] = rows[_ROW]
        out[_FILE] = rows[_FILE]
        return out.astype(object)

    def _missing_column(
        self,
        table: str,
        column: str,
        table_map: TableMap,
        names: tuple[str, ...],
        reported: set[str],
        lookup: _Columns,
    ) -> None:
        # a column a row rule can still derive is checked row by row by validation
        derived = any(getattr(rule, "column", None) == column for rule in table_map.derive)
        required = _is_required(table, column) and not derived
        reported.add(column)
        wanted = " or ".join((*names, *table_map.fallbacks.get(column, ())))
        close = lookup.close_to(names)
        guess = f"; did you mean {' or '.join(close)}?" if close else ""
        self.add(
            Problem(
                table=table,
                column=column,
                rule="missing_source_column",
                message=f"{table_map.source} has no column {wanted}; "
                f"{table}.{column} is {'missing' if required else 'left empty'}{guess}",
                severity="error" if required else "warning",
                hint="export the column, or change the preset's columns mapping",
            )
        )

    def _fallback(
        self,
        table: str,
        column: str,
        table_map: TableMap,
        names: tuple[str, ...],
        used: str,
        reported: set[str],
    ) -> None:
        reported.add(column)
        self.add(
            Problem(
                table=table,
                column=column,
                rule="fallback_source_column",
                message=f"{table_map.source} has no column {names[0]}; "
                f"{table}.{column} is read from {used} instead",
                severity="warning",
                hint="export the first column for the preset's own reading",
            )
        )

    def _deleted(
        self, table: str, table_map: TableMap, source: pd.DataFrame, lookup: _Columns
    ) -> pd.Series:
        """Rows marked deleted (by the CRM or the sync), counted in one warning."""
        deleted = pd.Series(False, index=source.index)
        flags = [lookup.find(name) for name in _DELETED_FLAGS]
        for flag in [f for f in flags if f is not None]:
            deleted |= source[flag].map(lambda v: _matches(v, _TRUE_WORDS)).astype(bool)
        count = int(deleted.sum())
        if count:
            names = "/".join(f for f in flags if f is not None)
            self.add(
                Problem(
                    table=table,
                    column=None,
                    rule="deleted_rows",
                    message=f"{table_map.source}: {count} row{'s' if count != 1 else ''} "
                    f"marked deleted ({names} true) left out",
                    value=str(count),
                    severity="warning",
                ),
                count=count,
            )
        return deleted

    # -- values: raw -> canonical, reporting what the mapping does not know

    def _translate(self, table: str, frame: pd.DataFrame) -> None:
        for index, table_map in enumerate(self.preset.tables[table]):
            rows = frame.index[frame[_PART] == index]
            for column, mapping in table_map.values.items():
                if column not in frame.columns:
                    continue
                self._translate_column(table, table_map, frame, rows, column, mapping)

    def _translate_column(
        self,
        table: str,
        table_map: TableMap,
        frame: pd.DataFrame,
        rows: pd.Index,
        column: str,
        mapping: Mapping[str, str | None],
    ) -> None:
        known = {normalize(raw): value for raw, value in mapping.items()}
        source_values = frame[column].to_dict()
        keep_raw = _kind(table, column) == "str"
        unmapped: dict[str, list[int]] = defaultdict(list)  # normalized value -> positions
        for position in rows:
            raw = frame.at[position, column]
            if _is_missing(raw):
                frame.at[position, column] = None
                continue
            key = normalize(str(raw))
            if key in known:
                frame.at[position, column] = known[key]
            else:
                unmapped[key].append(position)
                if not keep_raw:
                    frame.at[position, column] = None
        # An unknown value left missing in a required column is an error; a text value
        # kept as written (a stage name) or an optional column left missing is a warning.
        fatal = _is_required(table, column) and not keep_raw
        for positions in unmapped.values():
            first = positions[0]
            raw = str(source_values[first]).strip()  # as first written
            self.add(
                Problem(
                    table=table,
                    column=column,
                    rule="unmapped_value",
                    message=f"{table_map.source}.{_source_label(table_map, column)} value has "
                    f"no mapping in preset {self.preset.name!r} ({len(positions)} "
                    f"row{'s' if len(positions) != 1 else ''}; "
                    f"{'kept as written' if keep_raw else 'left missing'}) "
                    f"[{_where(frame, first)[0]}]",
                    row=_where(frame, first)[1],
                    id=_row_id(table, frame, first),
                    value=raw,
                    severity="error" if fatal else "warning",
                    hint=f"add it to the preset: tables[{table!r}] values[{column!r}]",
                ),
                count=len(positions),
            )
            if fatal:
                frame.loc[positions, _UNMAPPED] = True


def _where(frame: pd.DataFrame, position: int) -> tuple[str, int]:
    """(export file, 1-based data row in it) of a mapped row."""
    return str(frame.at[position, _FILE]), int(str(frame.at[position, _ROW]))


#: Columns that mark a row deleted: Salesforce ``IsDeleted`` (``is_deleted`` in a
#: sync) and Fivetran's soft-delete flag.
_DELETED_FLAGS = ("IsDeleted", "_fivetran_deleted")
_TRUE_WORDS = ("true", "1", "yes", "t")
#: Prefix of HubSpot property columns in warehouse syncs (``property_amount``).
_PROPERTY_PREFIX = "property_"


class _Columns:
    """Find an export's columns by a preset's name: first case-insensitively (an
    exact-case name wins over a case variant), then by :func:`name_key` (an API name
    finds its sync's snake_case name), then as a HubSpot sync ``property_`` column."""

    def __init__(self, columns: pd.Index) -> None:
        self.names = [str(c) for c in columns]
        self.exact: dict[str, str] = {}
        for name in self.names:
            self.exact.setdefault(normalize(name), name)
        for name in self.names:
            if normalize(name) == name.strip():
                self.exact[normalize(name)] = name
        self.keyed: dict[str, str] = {}
        for name in self.names:
            self.keyed.setdefault(name_key(name), name)
        for name in self.names:
            if name.casefold().startswith(_PROPERTY_PREFIX):
                self.keyed.setdefault(name_key(name[len(_PROPERTY_PREFIX) :]), name)

    def find(self, wanted: str) -> str | None:
        found = self.exact.get(normalize(wanted))
        return found if found is not None else self.keyed.get(name_key(wanted))

    def close_to(self, wanted: tuple[str, ...]) -> list[str]:
        """Columns whose names are close to one of ``wanted`` (a "did you mean")."""
        by_key = {name_key(n): n for n in self.names if not n.startswith("_")}
        close: list[str] = []
        for name in wanted:
            for key in difflib.get_close_matches(name_key(name), list(by_key), n=2, cutoff=0.75):
                if by_key[key] not in close:
                    close.append(by_key[key])
        return close[:3]


def _coalesce(rows: pd.DataFrame, columns: list[str]) -> pd.Series:
    result = rows[columns[0]].map(lambda v: None if _is_missing(v) else v)
    for name in columns[1:]:
        fallback = rows[name].map(lambda v: None if _is_missing(v) else v)
        result = result.where(result.notna(), fallback)
    return result.astype(object)


def _matches(value: Any, accepted: tuple[str, ...]) -> bool:
    text = "" if _is_missing(value) else normalize(str(value))
    return text in {normalize(a) for a in accepted}


def _scaled(value: Any, factor: float) -> Any:
    """``value x factor`` in decimal arithmetic, as text; unreadable values as written."""
    if _is_missing(value):
        return None
    try:
        number = Decimal(str(value).strip()) * Decimal(repr(factor))
    except InvalidOperation:
        return value  # validation reports it as not a number
    return str(float(number)) if number.is_finite() else value


def _is_required(table: str, column: str) -> bool:
    known = table in TABLES and column in TABLES[table].names
    return known and TABLES[table].column(column).required


def _kind(table: str, column: str) -> str:
    if table in TABLES and column in TABLES[table].names:
        return TABLES[table].column(column).kind
    return "str"


def _source_label(table_map: TableMap, column: str) -> str:
    wanted = table_map.columns.get(column, column)
    return wanted if isinstance(wanted, str) else "/".join(wanted)


def _row_id(table: str, frame: pd.DataFrame, position: int) -> str | None:
    key = TABLES[table].key if table in TABLES else None
    if key is None or key not in frame.columns:
        return None
    value = frame.at[position, key]
    return None if _is_missing(value) else str(value)


# ------------------------------------------------------------------------ rules


def _enriched(preset: Preset, frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``frames`` with the columns of ``preset.enrich`` added where an export lacks
    them (the original frames are not changed)."""
    out = dict(frames)
    for rule in preset.enrich:
        _enrich(out, rule)
    return out


def _enrich(frames: dict[str, pd.DataFrame], rule: SourceLookup) -> None:
    target, other = frames.get(rule.source), frames.get(rule.from_source)
    if target is None or other is None:
        return
    columns, other_columns = _Columns(target.columns), _Columns(other.columns)
    key = columns.find(rule.key)
    from_key, value = other_columns.find(rule.from_key), other_columns.find(rule.value)
    if columns.find(rule.column) is not None or None in (key, from_key, value):
        return
    known = other[~other[from_key].map(_is_missing).astype(bool)]
    for column, accepted in rule.where.items():
        actual = other_columns.find(column)
        if actual is not None:
            known = known[known[actual].map(lambda v, a=accepted: _matches(v, a)).astype(bool)]
    first = known.drop_duplicates(from_key, keep="first")
    found = dict(zip(first[from_key], first[value], strict=True))
    frames[rule.source] = target.assign(**{rule.column: target[key].map(found)})


def _classify(
    frame: pd.DataFrame, rows: pd.Series, rule: Classify, mapper: _Mapper, table: str
) -> pd.DataFrame:
    # rows whose value had no mapping are reported already (unmapped_value)
    target = rows & _empty(frame, rule.column) & ~frame[_UNMAPPED].astype(bool)
    if not target.any():
        return frame
    text = (
        frame[rule.source] if rule.source in frame.columns else pd.Series(None, index=frame.index)
    )
    compiled = [(value, re.compile(pattern, re.I)) for value, pattern in rule.patterns.items()]

    def classify(value: Any) -> str | None:
        if _is_missing(value):
            return None
        return next((v for v, p in compiled if p.search(str(value))), None)

    frame.loc[target, rule.column] = text[target].map(classify)
    unmatched = target & _empty(frame, rule.column)
    count = int(unmatched.sum())
    if not rule.drop_unmatched or not count:
        return frame
    mapper.add(
        Problem(
            table=table,
            column=rule.column,
            rule="unclassified_rows",
            message=f"{count} row{'s' if count != 1 else ''} without a {rule.column} "
            f"(none of {', '.join(rule.patterns)} by {rule.source.lstrip('_')}) left out",
            value=str(count),
            severity="warning",
        ),
        count=count,
    )
    return frame[~unmatched].reset_index(drop=True)


def _run_rules(preset: Preset, mapped: dict[str, _Mapped], tz: str, mapper: _Mapper) -> None:
    for table, maps in preset.tables.items():
        if table not in mapped:
            continue
        for index, table_map in enumerate(maps):
            for rule in table_map.derive:
                frame = mapped[table].frame
                rows = frame[_PART] == index
                if isinstance(rule, Fill):
                    _fill(frame, rows, rule)
                elif isinstance(rule, Keep):
                    _keep(frame, rows, rule)
                elif isinstance(rule, Lookup):
                    _lookup(frame, rows, rule, mapped.get(rule.table), tz)
                elif isinstance(rule, Classify):
                    mapped[table].frame = _classify(frame, rows, rule, mapper, table)
                else:
                    mapped[table].frame = _collapse(frame, rows, rule, tz)


def _holds(frame: pd.DataFrame, when: Condition) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, accepted in when.items():
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index)
        mask &= values.map(lambda v, a=accepted: _matches(v, a)).astype(bool)
    return mask


def _empty(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[column].map(_is_missing).astype(bool)


def _fill(frame: pd.DataFrame, rows: pd.Series, rule: Fill) -> None:
    target = rows & _empty(frame, rule.column) & _holds(frame, rule.when)
    frame.loc[target, rule.column] = rule.value


def _keep(frame: pd.DataFrame, rows: pd.Series, rule: Keep) -> None:
    if rule.column not in frame.columns:
        return
    kept = _holds(frame, rule.when)
    if rule.prefixes:
        prefixes = tuple(rule.prefixes)
        kept &= frame[rule.column].map(lambda v: isinstance(v, str) and v.startswith(prefixes))
    frame.loc[rows & ~kept.astype(bool), rule.column] = None


def _timestamps(values: pd.Series, tz: str) -> pd.Series:
    """Raw timestamp text -> naive local timestamps (NaT when unreadable)."""
    column = Column(name="order", kind="timestamp")
    text = nw.from_native(
        pd.Series(values.tolist(), dtype="str", name="order").reset_index(drop=True),
        series_only=True,
    )
    parsed = _parse.finalize(_parse.convert(text, column, tz=tz).values, column)
    return pd.Series(parsed.to_native().to_numpy(), index=values.index)


def _lookup(
    frame: pd.DataFrame, rows: pd.Series, rule: Lookup, other: _Mapped | None, tz: str
) -> None:
    target = rows & _empty(frame, rule.column)
    if other is None or not target.any():
        return
    source = other.frame
    needed = [rule.match, rule.value, *([rule.order_by] if rule.order_by else [])]
    if any(name not in source.columns for name in needed):
        return
    candidates = source[_holds(source, rule.where)]
    candidates = candidates[~candidates[rule.match].map(_is_missing).astype(bool)]
    candidates = candidates[~candidates[rule.value].map(_is_missing).astype(bool)]
    if rule.order_by:
        order = _timestamps(candidates[rule.order_by], tz)
        candidates = candidates.assign(__order=order).sort_values(
            ["__order", _ROW], na_position="last", kind="stable"
        )
    first = candidates.drop_duplicates(rule.match, keep="first")
    found = dict(zip(first[rule.match], first[rule.value], strict=True))
    if rule.on not in frame.columns:
        return
    frame.loc[target, rule.column] = frame.loc[target, rule.on].map(found)


def _collapse(frame: pd.DataFrame, rows: pd.Series, rule: CollapseRepeats, tz: str) -> pd.DataFrame:
    needed = [rule.key, rule.value, rule.order_by]
    if any(name not in frame.columns for name in needed):
        return frame
    part = frame[rows].assign(__order=_timestamps(frame.loc[rows, rule.order_by], tz))
    part = part.sort_values([rule.key, "__order", _ROW], kind="stable", na_position="last")
    stage = part[rule.value].map(lambda v: None if _is_missing(v) else normalize(str(v)))
    previous = stage.groupby(part[rule.key].tolist()).shift(1)
    repeated = (stage == previous) & stage.notna()
    dropped = set(part.index[repeated.to_numpy()])
    return frame.loc[[i for i in frame.index if i not in dropped]].reset_index(drop=True)


# ---------------------------------------------------------------------- validate


def _run(
    preset: Preset,
    frames: Mapping[str, pd.DataFrame],
    *,
    tz: str,
    strict: bool,
    problems: list[Problem],
    suffix_names: bool,
    db: Database | None = None,
    found: list[str] | None = None,
) -> Dataset:
    mapper = _Mapper(preset, problems)
    for problem in problems:
        mapper.totals[problem.key()] += 1
    frames = _enriched(preset, frames)
    mapped: dict[str, _Mapped] = {}
    for table in preset.tables:
        result = mapper.table(table, frames)
        if result is not None:
            mapped[table] = result
    lead_sources = {m.source for m in preset.tables["leads"]}
    if "leads" not in mapped and not any(p.table in lead_sources for p in problems):
        sources = ", ".join(m.source for m in preset.tables["leads"])
        files = " / ".join(f"{s}.csv" for s in sources.split(", ")) if suffix_names else sources
        missing = Problem(
            table="leads",
            column=None,
            rule="missing_source_file",
            message=f"no export for the leads table ({files}) as preset {preset.name!r} expects"
            + (f"; files found: {', '.join(found) or 'none'}" if found is not None else ""),
            hint=f"export {sources}, or choose another preset",
        )
        if db is not None:
            missing = attrs.evolve(
                missing,
                rule="missing_source_table",
                message=f"no table {' or '.join(files.split(', '))} for the leads table in "
                f"{db.where}, as preset {preset.name!r} expects; tables found: {db.found()}"
                f"{db.elsewhere(preset.tables['leads'][0].source)}",
                hint="name the tables after the preset's sources (any letter case), "
                "pass the schema that holds them, or choose another preset",
            )
        mapper.add(missing)
    _run_rules(preset, mapped, tz, mapper)
    canonical = {
        table: _canonical_columns(result.frame)
        for table, result in mapped.items()
        if table in TABLES
    }
    if "leads" not in canonical:
        raise SchemaError(mapper.problems, totals=dict(mapper.totals))
    # a table fed by an export file that could not be read: its file problem is the
    # one report, no orphan key per row that refers to it
    unread = {p.table for p in problems if p.rule in UNREADABLE_RULES}
    unreadable = {
        table
        for table, mappings in preset.tables.items()
        if any(m.source in unread for m in mappings)
    }
    try:
        validated = validate_tables(canonical, tz=tz, strict=strict, unreadable=unreadable)
        schema_problems, totals = list(validated.warnings), dict(validated.totals)
    except SchemaError as err:
        validated = None
        schema_problems, totals = err.problems, dict(err.totals)
    schema_problems, totals = _pointed_back(schema_problems, totals, mapped)
    merged = [*mapper.problems, *schema_problems]
    all_totals = {**totals, **mapper.totals}
    if validated is None or any(p.severity == "error" for p in merged):
        raise SchemaError(merged, totals=all_totals)
    return Dataset(
        **validated.tables,
        tz=tz,
        validated=True,
        warnings=tuple(p for p in merged if p.severity == "warning"),
    )


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if not c.startswith("_")]
    out = frame[keep].copy()
    for name in keep:
        out[name] = pd.Series(
            [None if _is_missing(v) else str(v) for v in out[name].tolist()],
            index=out.index,
            dtype="str",
        )
    return out


#: Prefix of the helper column that keeps a scaled column's value as exported.
_RAW = "_raw_"


def _raw_value(frame: pd.DataFrame, position: int, column: str | None) -> str:
    """``" (1000 in the export)"`` for a column the preset scaled, else ``""``."""
    if column is None or _RAW + column not in frame.columns:
        return ""
    raw = frame.at[position, _RAW + column]
    return "" if _is_missing(raw) else f" ({str(raw).strip()} in the export, scaled)"


def _pointed_back(
    problems: list[Problem], totals: dict[Key, int], mapped: Mapping[str, _Mapped]
) -> tuple[list[Problem], dict[Key, int]]:
    """Rows of the mapped tables -> rows of the export files; drop repeats of ours.

    A row whose required value had no mapping is already an ``unmapped_value`` error;
    the ``required_value`` problems it causes (the blanked cell, and cells that rules
    would have derived from it) are not listed again.
    """
    out: list[Problem] = []
    totals = dict(totals)
    for problem in problems:
        result = mapped.get(problem.table)
        if result is None:
            out.append(problem)
            continue
        if problem.rule == "missing_column" and problem.column in result.reported_columns:
            totals.pop(problem.key(), None)
            continue
        if problem.row is None:
            out.append(problem)
            continue
        frame = result.frame
        position = problem.row - 1
        if problem.rule == "required_value" and bool(frame.at[position, _UNMAPPED]):
            continue
        file, row = _where(frame, position)
        raw = _raw_value(frame, position, problem.column)
        out.append(attrs.evolve(problem, row=row, message=f"{problem.message}{raw} [{file}]"))
    for table, result in mapped.items():
        frame = result.frame
        broken = frame[frame[_UNMAPPED].astype(bool)]
        for column in broken.columns:
            key = (table, column, "required_value")
            if key in totals:
                left = totals[key] - int(broken[column].map(_is_missing).sum())
                if left > 0:
                    totals[key] = left
                else:
                    totals.pop(key)
    return out, totals
