"""The vocabulary of a CRM preset: plain, frozen data describing how an export maps.

A :class:`Preset` says, for each canonical table, which export files feed it
(:class:`TableMap`) and how: source column per canonical column, value
translations, constants, rows to skip, unit conversions, and a few row rules
(:class:`Fill`, :class:`Keep`, :class:`Lookup`, :class:`CollapseRepeats`). Nothing
here runs code of the user's: a preset is data that can be printed, compared, copied
and adapted with :func:`attrs.evolve`.

Columns and tables whose name starts with ``_`` are helpers: they can be filled and
used by rules, and are dropped before validation.

Examples
--------
>>> leads = TableMap(
...     source="people",
...     columns={"lead_id": "id", "created_at": "created", "origin": "how"},
...     values={"origin": {"web form": "inbound", "cold call": "outbound"}},
... )
>>> Preset(name="mycrm", tables={"leads": leads}).tables["leads"][0].source
'people'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from pipelinekit.errors import ConfigError
from pipelinekit.schema import TABLES

__all__ = [
    "Classify",
    "CollapseRepeats",
    "Condition",
    "Fill",
    "Keep",
    "Lookup",
    "Preset",
    "Rule",
    "SourceLookup",
    "TableMap",
    "check_preset",
    "name_key",
    "normalize",
]

#: Column -> accepted values (matched case-insensitively after trimming).
Condition: TypeAlias = Mapping[str, tuple[str, ...]]


def normalize(value: str) -> str:
    """How raw values are compared: trimmed and case-folded.

    >>> normalize("  Web ")
    'web'
    """
    return value.strip().casefold()


def name_key(value: str) -> str:
    """How column and table names are matched: case-folded, without ``_``, ``-``,
    spaces and dots, so an API name and its warehouse-sync snake_case name meet.

    >>> name_key("CreatedDate") == name_key("created_date") == name_key("CREATEDDATE")
    True
    >>> name_key("Custom_Score__c") == name_key("custom_score_c")
    True
    """
    return "".join(ch for ch in value.strip().casefold() if ch not in "_- .")


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


def _lookups(value: Iterable[SourceLookup]) -> tuple[SourceLookup, ...]:
    return tuple(value)


def _condition(value: Mapping[str, str | Sequence[str]]) -> Condition:
    return {
        key: (accepted,) if isinstance(accepted, str) else tuple(accepted)
        for key, accepted in value.items()
    }


@attrs.frozen(kw_only=True)
class Fill:
    """Set empty cells of ``column`` to ``value`` in the rows where ``when`` holds.

    ``when`` maps columns of the same (mapped) table to accepted values; no
    condition means every row. Example: Salesforce email tasks have no call
    disposition, so ``Fill(column="outcome", value="sent", when={"channel": "email"})``.
    """

    column: str
    value: str
    when: Condition = attrs.field(factory=dict, converter=_condition)


@attrs.frozen(kw_only=True)
class Keep:
    """Keep ``column``'s value only where ``when`` holds and it starts with a prefix.

    Elsewhere the cell becomes missing. Example: a Salesforce ``CloseDate`` is a
    forecast on open opportunities, so ``Keep(column="closed_at",
    when={"_is_closed": "true"})``; ``WhoId`` is a lead only when it starts with
    ``00Q``, so ``Keep(column="lead_id", prefixes=("00Q",))``.
    """

    column: str
    when: Condition = attrs.field(factory=dict, converter=_condition)
    prefixes: tuple[str, ...] = attrs.field(default=(), converter=_strings)


@attrs.frozen(kw_only=True)
class Lookup:
    """Fill empty cells of ``column`` from another mapped table.

    The value is ``table.value`` of the first row of ``table`` (by ``order_by``,
    read as a timestamp, earliest first) whose ``match`` equals this row's ``on``
    and where ``where`` holds. Example: a Salesforce opportunity's lead is the lead
    whose ``ConvertedOpportunityId`` is the opportunity's id.
    """

    column: str
    table: str
    match: str
    on: str
    value: str
    order_by: str | None = None
    where: Condition = attrs.field(factory=dict, converter=_condition)


@attrs.frozen(kw_only=True)
class CollapseRepeats:
    """Keep only the first row of each run of equal ``value`` per ``key``, by ``order_by``.

    Salesforce ``OpportunityHistory`` writes a row on every amount or close-date
    edit, repeating the stage; a stage history needs only the changes.
    """

    key: str
    value: str
    order_by: str


@attrs.frozen(kw_only=True)
class Classify:
    """Fill empty cells of ``column`` from regular expressions on ``source`` (another
    mapped column, usually a helper): the first pattern found in the text
    (case-insensitive, anywhere in it) gives the value. With ``drop_unmatched`` a row whose
    ``column`` stays empty is left out and counted in one ``unclassified_rows``
    warning. Example: a Salesforce sync without ``TaskSubtype`` and ``Type`` tells
    calls and emails apart by their ``Subject`` (``Call``, ``Email: ...``) and leaves
    to-dos out.
    """

    column: str
    source: str
    patterns: Mapping[str, str] = attrs.field(converter=_frozen_mapping)
    drop_unmatched: bool = False


Rule: TypeAlias = Fill | Keep | Lookup | CollapseRepeats | Classify


@attrs.frozen(kw_only=True)
class SourceLookup:
    """Add ``column`` to the ``source`` export from another export, when it lacks it.

    ``source.column`` = ``from_source.value`` of the first row (in the file) whose
    ``from_key`` equals ``source.key`` and where ``where`` holds. Example: a
    Salesforce sync's ``user`` table has ``user_role_id`` where a Data Loader export
    has ``UserRole.Name``, so the role name comes from the ``user_role`` table.
    """

    source: str
    column: str
    key: str
    from_source: str
    from_key: str
    value: str
    where: Condition = attrs.field(factory=dict, converter=_condition)


@attrs.frozen(kw_only=True)
class TableMap:
    """How one export file feeds one canonical table.

    Attributes
    ----------
    source
        The export's file name without suffix (``Lead`` reads ``Lead.csv``,
        ``Lead.csv.gz`` or ``Lead.parquet``). Names are matched by :func:`name_key`
        (letter case, ``_`` and ``-`` do not count), also with a warehouse prefix
        (``sf_``, ``salesforce_``, ``hubspot_``) or a ``_data`` suffix:
        ``sf_opportunity_history_data`` reads ``OpportunityHistory``.
    columns
        Canonical column -> source column; a tuple takes the first non-empty of
        several columns. Source column names are matched by
        :func:`name_key`, so the API name ``CreatedDate`` also reads a sync's
        ``created_date`` or ``CREATEDDATE``, and ``x`` also reads ``property_x``
        (HubSpot syncs).
    aliases
        Other names of the same export (a warehouse sync's table names: HubSpot
        ``deal`` for ``deals``).
    fallbacks
        Canonical column -> next-best source columns, read only when none of the
        ``columns`` names is exported, with one ``fallback_source_column`` warning
        (Salesforce ``Type`` when a sync lacks ``TaskSubtype``).
    values
        Canonical column -> {raw value: canonical value}; raw values are matched
        after trimming, case-insensitively. A raw value mapped to ``None`` becomes
        missing on purpose. A non-empty raw value absent from the mapping is
        reported as ``unmapped_value``.
    constants
        Canonical column -> the same value on every row (``channel="meeting"``).
    skip
        Source column -> raw values whose rows are not imported (``""`` matches an
        empty cell); skipped values are known, so they are never reported.
    scale
        Canonical number column -> factor, applied in decimal arithmetic so that
        ``70 x 0.01`` is exactly ``0.7`` (``probability`` 0-100 -> 0-1: ``0.01``;
        HubSpot call duration in ms -> s: ``0.001``; minutes -> s: ``60``).
    derive
        Row rules run after every table is mapped, in order.
    """

    source: str
    columns: Mapping[str, str | tuple[str, ...]] = attrs.field(converter=_frozen_mapping)
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    fallbacks: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_frozen_mapping)
    values: Mapping[str, Mapping[str, str | None]] = attrs.field(
        factory=dict, converter=_frozen_mapping
    )
    constants: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    skip: Condition = attrs.field(factory=dict, converter=_condition)
    scale: Mapping[str, float] = attrs.field(factory=dict, converter=_frozen_mapping)
    derive: tuple[Rule, ...] = attrs.field(default=(), converter=_rules)

    def targets(self) -> set[str]:
        """Columns this map can produce (mapped, constant, filled or looked up)."""
        made = set(self.columns) | set(self.constants)
        made |= {rule.column for rule in self.derive if isinstance(rule, Fill | Lookup | Classify)}
        return made


def _table_maps(
    value: Mapping[str, TableMap | Sequence[TableMap]],
) -> Mapping[str, tuple[TableMap, ...]]:
    return {
        table: (maps,) if isinstance(maps, TableMap) else tuple(maps)
        for table, maps in value.items()
    }


@attrs.frozen(kw_only=True)
class Preset:
    """A named mapping of a CRM export to the canonical tables.

    ``tables`` maps a canonical table (or a ``_helper`` table used by lookups) to
    one :class:`TableMap` or several, whose rows are stacked (Salesforce ``Task``
    and ``Event`` both feed ``activities``). Tables are mapped and their rules run
    in this order. ``enrich`` adds columns to exports from other exports before
    mapping (:class:`SourceLookup`).
    """

    name: str
    tables: Mapping[str, tuple[TableMap, ...]] = attrs.field(converter=_table_maps)
    description: str = ""
    enrich: tuple[SourceLookup, ...] = attrs.field(default=(), converter=_lookups)

    def __attrs_post_init__(self) -> None:
        check_preset(self)


def _is_helper(name: str) -> bool:
    return name.startswith("_")


def _check_columns(where: str, table: str, names: Sequence[str]) -> None:
    if _is_helper(table):
        return
    known = set(TABLES[table].names)
    unknown = sorted(n for n in names if not _is_helper(n) and n not in known)
    if unknown:
        raise ConfigError(
            f"{where}: {', '.join(map(repr, unknown))} not a column of {table} "
            f"(columns: {', '.join(TABLES[table].names)}; helper columns start with '_')"
        )


def _rule_columns(rule: Rule) -> list[str]:
    if isinstance(rule, Fill):
        return [rule.column, *rule.when]
    if isinstance(rule, Keep):
        return [rule.column, *rule.when]
    if isinstance(rule, Lookup):
        return [rule.column, rule.on]
    if isinstance(rule, Classify):
        return [rule.column, rule.source]
    return [rule.key, rule.value, rule.order_by]


def check_preset(preset: Preset) -> None:
    """Raise :class:`~pipelinekit.errors.ConfigError` if ``preset`` cannot work.

    Checks table and column names against the canonical schema, that every
    required column is produced, and that lookups name mapped tables.
    """
    if not preset.tables:
        raise ConfigError(f"preset {preset.name!r}: tables must name at least one table")
    for table in preset.tables:
        if not _is_helper(table) and table not in TABLES:
            raise ConfigError(
                f"preset {preset.name!r}: unknown table {table!r}; expected one of "
                f"{', '.join(TABLES)} or a helper table starting with '_'"
            )
    if "leads" not in preset.tables:
        raise ConfigError(f"preset {preset.name!r}: the leads table must be mapped")
    for table, maps in preset.tables.items():
        if not maps:
            raise ConfigError(f"preset {preset.name!r}: tables[{table!r}] has no TableMap")
        for table_map in maps:
            _check_table_map(preset, table, table_map)


def _check_table_map(preset: Preset, table: str, table_map: TableMap) -> None:
    where = f"preset {preset.name!r}, {table} <- {table_map.source}"
    if not isinstance(table_map, TableMap):
        raise ConfigError(f"preset {preset.name!r}: tables[{table!r}] must hold TableMap objects")
    for field in ("columns", "values", "constants", "scale", "fallbacks"):
        _check_columns(f"{where} ({field})", table, list(getattr(table_map, field)))
    for rule in table_map.derive:
        if not isinstance(rule, Fill | Keep | Lookup | CollapseRepeats | Classify):
            raise ConfigError(f"{where}: derive holds {rule!r}, not a rule")
        _check_columns(f"{where} ({type(rule).__name__})", table, _rule_columns(rule))
        if isinstance(rule, Lookup):
            if rule.table not in preset.tables:
                raise ConfigError(f"{where}: Lookup reads table {rule.table!r}, not in the preset")
            _check_columns(
                f"{where} (Lookup)",
                rule.table,
                [rule.match, rule.value, *rule.where, *([rule.order_by] if rule.order_by else [])],
            )
    for column, factor in table_map.scale.items():
        if not isinstance(factor, int | float) or isinstance(factor, bool) or factor <= 0:
            raise ConfigError(f"{where}: scale[{column!r}] must be a positive number")
    if _is_helper(table):
        return
    required = [c.name for c in TABLES[table].columns if c.required]
    missing = [name for name in required if name not in table_map.targets()]
    if missing:
        raise ConfigError(
            f"{where}: required column(s) {', '.join(missing)} are not mapped "
            "(give them in columns or constants)"
        )
