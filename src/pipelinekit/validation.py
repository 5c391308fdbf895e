"""Validate input tables against the canonical schema and return canonical frames.

:func:`validate_tables` checks every rule of DESIGN.md sections 2 and 5 on every
table, collects **all** problems, and raises one :class:`~pipelinekit.errors.SchemaError`
listing them (at most ``max_rows`` rows per (table, column, rule), with the full
count in ``totals``) when any of them is an error. Otherwise it returns canonical
frames of the caller's library (pandas in -> pandas out, polars in -> polars out;
pyarrow tables and other narwhals-supported frames -> polars) plus the warnings.

Rule ids (``Problem.rule``; stable, snake_case), severity error unless marked:

Tables and columns (``row`` is None)
    ``missing_table`` (``leads`` not given), ``empty_table`` (warning: ``leads`` has
    no rows; valid, lead counts are then 0 and lead rates undefined),
    ``unknown_table`` (warning: a name that is not a canonical table; ignored),
    ``duplicate_column`` (a name occurs twice; the first column is used),
    ``missing_column`` (a required column is absent).
Values
    ``required_value`` (a required column is empty in a row), ``bad_type`` (not of
    the column's kind: not a number, not a whole number for an int, not a boolean,
    or a whole typed column of the wrong dtype), ``thousands_separator`` (``1,200``),
    ``non_finite`` (``inf``), ``unknown_enum`` (not an allowed value),
    ``unparseable_timestamp`` (not a timestamp we read, or an impossible date such
    as ``2025-02-30``), ``mixed_timestamp_zones`` (warning: a naive value in a
    column where others carry an offset; read as wall-clock time in ``tz``),
    ``implausible_date`` (warning: before 1990 or from 2100 on), ``duplicate_id``
    (a repeated key; the first occurrence is not flagged), ``negative_value``
    (below 0 where the rule is >= 0), ``out_of_range`` (other bounds: ``> 0``,
    ``[0, 1]``).
Rows
    ``won_without_closed`` (is_won true without closed_at),
    ``outcome_channel_mismatch`` (the outcome is not one of the channel's),
    ``activity_without_parent`` (neither lead_id nor account_id).
Plausibility (warning, error with ``strict=True``; the row is kept)
    ``validated_before_created``, ``closed_before_created`` (opportunities): one
    timestamp of a row is before another that it cannot precede. Real CRM exports
    break these routinely (a close date typed by a rep, a creation date set by the
    system); duration statistics leave such rows out and say how many.
Between tables
    ``orphan_fk`` (warning, error with ``strict=True``: a foreign key with no
    parent row; the row is kept).

Conventions:

- Rows are 1-based data rows in input order; ``id`` is the row's key value
  (``lead_id``, ...), ``None`` for ``stage_changes`` which has no key.
- Missing cells: null, NaN, and the strings empty, ``NA``, ``N/A``, ``NULL``, ``NaN``,
  ``None`` in any letter case. Text columns (ids, names) are never trimmed: there
  only the exact token is missing, ``" NA "`` is a value. Enum, number, boolean and
  timestamp cells are trimmed before they are read.
- Timestamps end as naive wall-clock time in ``tz``; date columns as midnight.
- Date-only heuristic: a value at exactly midnight may have been a date without a
  time, so ``closed_at``/``validated_at`` are compared with ``created_at`` by
  calendar date when either side is at midnight (``closed_at=2025-04-01`` is fine for
  ``created_at=2025-04-01 15:00``), and as full timestamps otherwise.
- Foreign keys are checked against the parent table even when that table is absent
  (then every key is an orphan), except ``campaign_id``: it is checked only when a
  ``campaigns`` table with rows is given; ``lead_id``: not checked when the leads
  table is empty or missing (the ``empty_table`` warning or the ``missing_table``
  error says it once); and keys into a table named in ``unreadable`` (its file could
  not be read; that file problem is the one report, not one orphan per row).
- A unique key is checked on non-missing values only (missing keys are
  ``required_value``); a value that failed to convert is reported once, by the
  conversion rule, and is missing in the later row and foreign-key checks.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "created_at": ["2025-04-01", "x"],
...                       "origin": ["Inbound", "web"]})
>>> try:
...     validate_tables({"leads": leads})
... except SchemaError as err:
...     print([(p.column, p.rule, p.row, p.id) for p in err.problems])
[('created_at', 'unparseable_timestamp', 2, 'L2'), ('origin', 'unknown_enum', 2, 'L2')]
"""

from __future__ import annotations

import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import attrs
import narwhals as nw
import pandas as pd

from pipelinekit import _parse
from pipelinekit._exprs import before
from pipelinekit.domain import CHANNEL_OUTCOMES
from pipelinekit.errors import ConfigError, Problem, SchemaError, Severity
from pipelinekit.schema import TABLES, Column, Table

__all__ = ["Validated", "validate_tables"]

Series: TypeAlias = "nw.Series[Any]"
Frame: TypeAlias = "nw.DataFrame[Any]"
Key: TypeAlias = tuple[str, str, str]

_EARLIEST = datetime(1990, 1, 1)
_LATEST = datetime(2100, 1, 1)


@attrs.frozen
class Validated:
    """Canonical tables that passed validation, and the warnings found.

    Attributes
    ----------
    tables
        One canonical native frame per table of :data:`~pipelinekit.schema.TABLES`
        (absent tables are empty), of the caller's frame library.
    warnings
        Problems of severity ``warning`` (at most ``max_rows`` per group).
    totals
        Number of affected rows per (table, column, rule), listed or not.
    """

    tables: dict[str, Any]
    warnings: list[Problem]
    totals: dict[Key, int]


def validate_tables(
    tables: Mapping[str, Any],
    *,
    tz: str = "Asia/Tokyo",
    strict: bool = False,
    max_rows: int = 20,
    unreadable: Collection[str] = (),
) -> Validated:
    """Check input tables against the canonical schema; return canonical frames.

    Parameters
    ----------
    tables
        Table name -> frame (pandas or polars DataFrame; a pyarrow Table or any other
        narwhals-supported frame is read as polars). Columns may be raw strings (CSV
        read as text) or typed. ``leads`` is required; other tables may be absent.
        The frames are never modified.
    tz
        Time zone of the dataset (IANA name). Naive timestamps are wall-clock time
        there; values with an offset or a time zone are converted to it.
    strict
        Make orphan foreign keys and plausibility rules (``closed_before_created``,
        ``validated_before_created``) errors instead of warnings.
    max_rows
        Rows listed per (table, column, rule); ``totals`` has the full counts.
    unreadable
        Names of tables whose source could not be read (the reader reported why):
        foreign keys into them are not checked, so one unreadable file gives one
        problem, not an orphan key per referring row.

    Returns
    -------
    Validated
        Canonical frames (all canonical columns in canonical order and dtype, then
        the unknown extra columns unchanged), the warnings and the counts.

    Raises
    ------
    SchemaError
        When any error is found; it lists every error and warning.
    ConfigError
        When an option is invalid, a frame is not a supported frame, or tables mix
        pandas and polars.

    Examples
    --------
    >>> import polars as pl
    >>> leads = pl.DataFrame({"lead_id": ["L1"], "origin": [" Inbound "],
    ...                       "created_at": ["2025-04-01T00:30:00Z"]})
    >>> out = validate_tables({"leads": leads})
    >>> out.tables["leads"].select("origin", "created_at", "action_status").row(0)
    ('inbound', datetime.datetime(2025, 4, 1, 9, 30), 'new')
    >>> out.warnings, type(out.tables["activities"]).__name__
    ([], 'DataFrame')
    """
    _check_options(tz, max_rows)
    report = _Report(max_rows)
    inputs = _known_inputs(tables, report)
    backend = _common_backend(inputs)
    canonical: dict[str, Frame] = {}
    unchecked = set(unreadable)
    for spec in TABLES.values():
        native = inputs.get(spec.name)
        if native is None:
            canonical[spec.name] = _empty_canonical(spec, backend)
            if spec.name == "leads":
                unchecked.add("leads")  # missing_table says it once
            continue
        check = _TableCheck(spec, native, backend, tz, report)
        canonical[spec.name] = check.run(strict=strict)
        if spec.name == "leads" and len(canonical["leads"]) == 0:
            unchecked.add("leads")  # empty_table says it once
        check.report_foreign_keys(canonical, strict=strict, unchecked=unchecked)
    return report.result({name: frame.to_native() for name, frame in canonical.items()})


def _check_options(tz: str, max_rows: int) -> None:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"tz={tz!r} is not a known IANA time zone") from exc
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ConfigError(f"max_rows must be a non-negative integer, got {max_rows!r}")


# -------------------------------------------------------------------------- report


@attrs.frozen
class _Rule:
    """What a row-level problem says: where, which rule, how bad."""

    table: str
    column: str
    rule: str
    message: str
    severity: Severity = "error"
    hint: str | None = None
    context: str | None = None  # label of the per-row detail appended to the message

    @property
    def key(self) -> Key:
        return (self.table, self.column, self.rule)


class _Report:
    """Collects problems (at most ``max_rows`` listed per group) and full counts."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.problems: list[Problem] = []
        self.totals: dict[Key, int] = defaultdict(int)
        self._listed: dict[Key, int] = defaultdict(int)

    def add(self, problem: Problem) -> None:
        """Add one problem that is not tied to rows (a table or a column)."""
        self.totals[problem.key()] += 1
        self._listed[problem.key()] += 1
        self.problems.append(problem)

    def add_rows(
        self,
        rule: _Rule,
        mask: Series,
        *,
        ids: Series | None,
        values: Series | None,
        context: Series | None = None,
    ) -> None:
        """Add the rows where ``mask`` is True (the first ones listed, all counted)."""
        positions = mask.arg_true()
        count = len(positions)
        if count == 0:
            return
        self.totals[rule.key] += count
        room = self.max_rows - self._listed[rule.key]
        shown = positions.head(max(room, 0)).to_list()
        self._listed[rule.key] += len(shown)
        id_list = _gather(ids, shown)
        value_list = _gather(values, shown)
        context_list = _gather(context, shown)
        for position, id_, value, detail in zip(
            shown, id_list, value_list, context_list, strict=True
        ):
            message = (
                rule.message if detail is None else f"{rule.message} ({rule.context} {detail})"
            )
            self.problems.append(
                Problem(
                    table=rule.table,
                    column=rule.column,
                    rule=rule.rule,
                    message=message,
                    row=position + 1,
                    id=id_,
                    value=value,
                    severity=rule.severity,
                    hint=rule.hint,
                )
            )

    def result(self, tables: dict[str, Any]) -> Validated:
        """Raise the SchemaError if any error was found, else the Validated result."""
        totals = dict(self.totals)
        if any(p.severity == "error" for p in self.problems):
            raise SchemaError(self.problems, totals=totals)
        warnings = [p for p in self.problems if p.severity == "warning"]
        return Validated(tables=tables, warnings=warnings, totals=totals)


def _gather(series: Series | None, positions: list[int]) -> list[str | None]:
    if series is None:
        return [None] * len(positions)
    if not positions:
        return []
    return [_as_text(v) for v in series[positions].to_list()]


def _as_text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    return str(value)


# -------------------------------------------------------------------------- inputs


def _known_inputs(tables: Mapping[str, Any], report: _Report) -> dict[str, Any]:
    """The canonical tables given; warn about unknown names; leads is required."""
    if not isinstance(tables, Mapping):
        raise ConfigError(f"tables must be a mapping of table name -> frame, got {type(tables)}")
    known = {}
    for name, native in tables.items():
        if name in TABLES:
            known[name] = native
        else:
            report.add(
                Problem(
                    table=str(name),
                    column=None,
                    rule="unknown_table",
                    message="unknown table, ignored",
                    severity="warning",
                    hint=f"canonical tables: {', '.join(TABLES)}",
                )
            )
    if "leads" not in known:
        report.add(
            Problem(
                table="leads",
                column=None,
                rule="missing_table",
                message="the leads table is required",
                hint="pass tables['leads']; a leads frame with no rows is valid",
            )
        )
    return known


def _common_backend(inputs: Mapping[str, Any]) -> _parse.Backend:
    backends = {name: _parse.backend_of(native) for name, native in inputs.items()}
    kinds = set(backends.values())
    if len(kinds) > 1:
        detail = ", ".join(f"{name}: {kind}" for name, kind in backends.items())
        raise ConfigError(f"tables mix pandas and polars frames ({detail}); use one library")
    return kinds.pop() if kinds else "pandas"


def _empty_canonical(spec: Table, backend: _parse.Backend) -> Frame:
    """An empty canonical frame (built once per table and backend, then copied)."""
    native = _empty_native(spec.name, backend)
    if backend == "pandas":
        native = native.copy(deep=False)  # copy-on-write: the cached frame stays empty
    return nw.from_native(native, eager_only=True)


@functools.cache
def _empty_native(table: str, backend: _parse.Backend) -> Any:
    spec = TABLES[table]
    columns = [_parse.finalize(_parse.all_missing(c, 0, backend), c) for c in spec.columns]
    return _parse.assemble(columns, None, backend).to_native()


# -------------------------------------------------------------------- one table


class _TableCheck:
    """Convert one input table to its canonical frame, reporting every problem."""

    def __init__(
        self, spec: Table, native: Any, backend: _parse.Backend, tz: str, report: _Report
    ) -> None:
        self.spec = spec
        self.report = report
        self.backend = backend
        self.frame = self._eager(native)
        self.given = [c for c in spec.columns if c.name in self.frame.columns]
        self.parsed = {c.name: _parse.convert(self.frame[c.name], c, tz=tz) for c in self.given}
        self.canonical = self._canonical(self.parsed)
        self.ids: Series | None = self.canonical[spec.key] if spec.key else None

    def _eager(self, native: Any) -> Frame:
        duplicates = _parse.duplicate_column_names(native)
        for name in duplicates:
            message = f"column {name!r} occurs more than once; the first one is used"
            self._table_problem("duplicate_column", message, column=name)
        if duplicates:
            native = _parse.drop_duplicate_columns(native)
        try:
            frame, _ = _parse.to_eager(native)
        except TypeError as exc:
            raise ConfigError(
                f"tables[{self.spec.name!r}] is a {type(native).__name__}, "
                "not a pandas or polars DataFrame"
            ) from exc
        return frame

    def _table_problem(self, rule: str, message: str, *, column: str | None = None) -> None:
        self.report.add(Problem(table=self.spec.name, column=column, rule=rule, message=message))

    def run(self, *, strict: bool = False) -> Frame:
        """Report the table's problems and return its canonical frame."""
        self._check_shape()
        self._report_conversion(self.parsed)
        self._report_required(self.parsed)
        self._report_duplicates()
        self._report_checks(strict=strict)
        return self.canonical

    def _check_shape(self) -> None:
        for column in self.spec.columns:
            if column.required and column.name not in self.frame.columns:
                self._table_problem(
                    "missing_column",
                    f"required column {column.name!r} is missing",
                    column=column.name,
                )
        if self.spec.name == "leads" and len(self.frame) == 0:
            self.report.add(
                Problem(
                    table="leads",
                    column=None,
                    rule="empty_table",
                    message="the leads table has no rows: lead counts are 0 and lead "
                    "rates undefined; lead_id references are not checked",
                    severity="warning",
                    hint="opportunity, allocation, pipeline and account KPIs are computed",
                )
            )

    def _canonical(self, parsed: Mapping[str, _parse.Parsed]) -> Frame:
        length = len(self.frame)
        columns = []
        for column in self.spec.columns:
            values = (
                parsed[column.name].values
                if column.name in parsed
                else _parse.all_missing(column, length, self.backend)
            )
            columns.append(_parse.finalize(values, column))
        extras = [name for name in self.frame.columns if name not in self.spec.names]
        return _parse.assemble(columns, self.frame.select(extras), self.backend)

    def _rule(self, column: str, rule: str, message: str, **kwargs: Any) -> _Rule:
        return _Rule(table=self.spec.name, column=column, rule=rule, message=message, **kwargs)

    def _report_conversion(self, parsed: Mapping[str, _parse.Parsed]) -> None:
        for name, result in parsed.items():
            for issue in result.issues:
                rule = self._rule(
                    name, issue.rule, issue.message, severity=issue.severity, hint=issue.hint
                )
                self.report.add_rows(rule, issue.mask, ids=self.ids, values=self.frame[name])

    def _report_required(self, parsed: Mapping[str, _parse.Parsed]) -> None:
        for column in self.given:
            if column.required:
                rule = self._rule(column.name, "required_value", "required value is missing")
                self.report.add_rows(
                    rule, parsed[column.name].missing, ids=self.ids, values=self.frame[column.name]
                )

    def _report_duplicates(self) -> None:
        canonical = self.canonical
        for column in self.given:
            if not column.unique or not _parse.may_have_duplicates(canonical[column.name]):
                continue
            key = nw.col(column.name)
            flagged = canonical.with_row_index("__row").select(
                repeated=(~key.is_null() & ~key.is_first_distinct()).fill_null(False),
                first=nw.col("__row").min().over(column.name) + 1,
            )
            rule = self._rule(
                column.name, "duplicate_id", "duplicate key", context="first seen in row"
            )
            self.report.add_rows(
                rule,
                flagged["repeated"],
                ids=self.ids,
                values=canonical[column.name],
                context=flagged["first"],
            )

    def _report_checks(self, *, strict: bool) -> None:
        """Run the expression checks whose columns were given, in one ``select``.

        Plausibility checks are warnings, errors with ``strict``.
        """
        given = set(self.frame.columns)
        checks = [
            check
            for check in (*_column_checks(self.spec), *_ROW_CHECKS.get(self.spec.name, ()))
            if given.issuperset(check.needs)
        ]
        if not checks:
            return
        canonical = self.canonical
        masks = canonical.select(
            *(check.mask().fill_null(False).alias(f"__check{i}") for i, check in enumerate(checks))
        )
        for i, check in enumerate(checks):
            lenient = check.plausibility and not strict
            rule = self._rule(
                check.column,
                check.rule,
                check.message,
                severity="warning" if lenient else check.severity,
                hint=_PLAUSIBILITY_HINT if lenient else check.hint,
                context=check.context,
            )
            self.report.add_rows(
                rule,
                masks[f"__check{i}"],
                ids=self.ids,
                values=canonical[check.column],
                context=canonical[check.context] if check.context else None,
            )

    def report_foreign_keys(
        self, canonical: Mapping[str, Frame], *, strict: bool, unchecked: Collection[str] = ()
    ) -> None:
        """Report given foreign keys with no parent row (parent tables come first).

        Keys into a table of ``unchecked`` (unreadable, or missing / empty leads) are
        not checked: that table's own problem is reported once instead.
        """
        for column in self.given:
            if column.fk is None:
                continue
            parent_table, parent_column = column.fk
            parent = canonical[parent_table]
            if parent_table in unchecked:
                continue
            if parent_table == "campaigns" and len(parent) == 0:
                continue
            keys = self.canonical[column.name]
            rule = self._rule(
                column.name,
                "orphan_fk",
                f"not found in {parent_table}.{parent_column}",
                severity="error" if strict else "warning",
                hint=None
                if strict
                else "rows are kept; --strict (strict=True in Python) makes this an error",
            )
            orphan = _parse.not_in(keys, parent[parent_column])
            self.report.add_rows(rule, orphan, ids=self.ids, values=keys)


# ------------------------------------------------------------------ checks as exprs


@attrs.frozen
class _Check:
    """A row rule written as a narwhals expression over the canonical frame."""

    column: str
    rule: str
    message: str
    mask: Callable[[], nw.Expr]
    needs: tuple[str, ...]  # input columns without which the check cannot fire
    severity: Severity = "error"
    hint: str | None = None
    context: str | None = None
    plausibility: bool = False  # a warning unless strict (the row is kept)


_PLAUSIBILITY_HINT = (
    "rows are kept and left out of duration statistics; "
    "pass strict=True (--strict) to make this an error"
)


def _column_checks(spec: Table) -> list[_Check]:
    checks: list[_Check] = []
    for column in spec.columns:
        bounds = _bounds_check(column)
        if bounds is not None:
            checks.append(bounds)
        if column.kind in ("timestamp", "date"):
            checks.append(_implausible_check(column.name))
    return checks


def _bounds_check(column: Column) -> _Check | None:
    value = nw.col(column.name)
    parts: list[tuple[nw.Expr, str]] = []
    if column.min is not None:
        parts.append((value < column.min, f">= {column.min:g}"))
    if column.min_exclusive is not None:
        parts.append((value <= column.min_exclusive, f"> {column.min_exclusive:g}"))
    if column.max is not None:
        parts.append((value > column.max, f"<= {column.max:g}"))
    if not parts:
        return None
    words = [word for _, word in parts]
    rule = "negative_value" if words == [">= 0"] else "out_of_range"

    def mask() -> nw.Expr:
        combined = parts[0][0]
        for expr, _ in parts[1:]:
            combined = combined | expr
        return combined

    message = "must be " + " and ".join(words)
    return _Check(column.name, rule, message, mask, (column.name,))


def _implausible_check(name: str) -> _Check:
    def mask() -> nw.Expr:
        value = nw.col(name)
        return (value < _EARLIEST) | (value >= _LATEST)

    return _Check(
        name,
        "implausible_date",
        f"implausible date (before {_EARLIEST:%Y} or from {_LATEST:%Y} on)",
        mask,
        (name,),
        severity="warning",
        hint="check the year, or a date typed as a number",
    )


def _before_created(later: str) -> Callable[[], nw.Expr]:
    """``later`` < created_at, by calendar date when either side is at midnight."""

    def mask() -> nw.Expr:
        return before(later, "created_at")

    return mask


def _won_without_closed() -> nw.Expr:
    return nw.col("is_won").fill_null(False) & nw.col("closed_at").is_null()


def _outcome_mismatch() -> nw.Expr:
    channel, outcome = nw.col("channel"), nw.col("outcome")
    mismatch = nw.lit(False)
    for name, outcomes in CHANNEL_OUTCOMES.items():
        allowed = [o.value for o in outcomes]
        wrong = (channel == name.value).fill_null(False) & ~outcome.is_in(allowed)
        mismatch = mismatch | wrong
    return mismatch & ~outcome.is_null()


def _without_parent() -> nw.Expr:
    return nw.col("lead_id").is_null() & nw.col("account_id").is_null()


def _not_one_holder() -> nw.Expr:
    return nw.col("owner_id").is_null() == nw.col("team").is_null()


def _end_before_start() -> nw.Expr:
    return nw.col("period_end") < nw.col("period_start")


_ROW_CHECKS: Mapping[str, Sequence[_Check]] = {
    "quotas": (
        _Check(
            "owner_id",
            "quota_holder",
            "a quota needs exactly one of owner_id and team",
            _not_one_holder,
            (),
            hint="a rep quota sets owner_id, a team quota sets team (a name from reps.team)",
        ),
        _Check(
            "period_end",
            "period_end_before_start",
            "period_end is before period_start",
            _end_before_start,
            ("period_start", "period_end"),
            context="period_start",
        ),
    ),
    "activities": (
        _Check(
            "outcome",
            "outcome_channel_mismatch",
            "outcome not allowed for the channel",
            _outcome_mismatch,
            ("channel", "outcome"),
            hint="; ".join(
                f"{channel.value}: {'/'.join(o.value for o in outcomes)}"
                for channel, outcomes in CHANNEL_OUTCOMES.items()
            ),
            context="channel",
        ),
        _Check(
            "lead_id",
            "activity_without_parent",
            "an activity needs a lead_id or an account_id",
            _without_parent,
            (),
        ),
    ),
    "opportunities": (
        _Check(
            "validated_at",
            "validated_before_created",
            "validated_at is before created_at",
            _before_created("validated_at"),
            ("validated_at", "created_at"),
            context="created_at",
            plausibility=True,
        ),
        _Check(
            "closed_at",
            "closed_before_created",
            "closed_at is before created_at",
            _before_created("closed_at"),
            ("closed_at", "created_at"),
            context="created_at",
            plausibility=True,
        ),
        _Check(
            "is_won",
            "won_without_closed",
            "is_won is true but closed_at is missing",
            _won_without_closed,
            ("is_won",),
        ),
    ),
}
