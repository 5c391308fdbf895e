"""Errors pipelinekit raises on purpose, and the problem records they carry.

Every error a caller is expected to handle derives from :class:`PipelineKitError`.
:class:`SchemaError` carries the full list of input problems found, so one run shows
every problem at once instead of the first one only.

Examples
--------
>>> p = Problem(table="leads", column="origin", rule="unknown_enum", row=3,
...             id="L3", value="web", message="unknown value")
>>> err = SchemaError([p])
>>> err.problems[0].table, err.exit_code
('leads', 2)
>>> print(err)  # doctest: +NORMALIZE_WHITESPACE
1 problem in the input (1 error, 0 warnings):
  [error] leads.origin unknown_enum: 1 row
      row 3 (id L3): 'web' - unknown value
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ConfigError",
    "PipelineKitError",
    "Problem",
    "SchemaError",
    "UnsupportedEngineError",
]

Severity = Literal["error", "warning"]


@attrs.frozen(kw_only=True)
class Problem:
    """One problem found in the input.

    ``row`` is the 1-based data row (the header is not counted); ``count`` is the
    total number of rows with this (table, column, rule) when only the first rows
    are listed individually.
    """

    table: str
    column: str | None
    rule: str
    message: str
    row: int | None = None
    id: str | None = None
    value: str | None = None
    severity: Severity = "error"
    hint: str | None = None

    def key(self) -> tuple[str, str, str]:
        """The (table, column, rule) group this problem belongs to."""
        return (self.table, self.column or "", self.rule)


class PipelineKitError(Exception):
    """Base class of every error pipelinekit raises on purpose."""

    exit_code: int = 2


class ConfigError(PipelineKitError, ValueError):
    """A parameter value is not allowed; the message names the parameter."""


class UnsupportedEngineError(PipelineKitError, NotImplementedError):
    """A function cannot run on the given frame library."""


class SchemaError(PipelineKitError, ValueError):
    """The input tables break the canonical schema; lists every problem found.

    Attributes
    ----------
    problems
        The problems, at most ``max_rows`` per (table, column, rule).
    totals
        Number of affected rows per (table, column, rule), including unlisted ones.
    """

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        totals: dict[tuple[str, str, str], int] | None = None,
    ) -> None:
        self.problems: list[Problem] = list(problems)
        counted: dict[tuple[str, str, str], int] = defaultdict(int)
        for p in self.problems:
            counted[p.key()] += 1
        self.totals: dict[tuple[str, str, str], int] = {**counted, **(totals or {})}
        super().__init__(format_problems(self.problems, self.totals))

    @classmethod
    def single(
        cls,
        *,
        table: str,
        column: str | None,
        rule: str,
        message: str,
        hint: str | None = None,
    ) -> SchemaError:
        """An error about one table or column as a whole (not about rows)."""
        return cls([Problem(table=table, column=column, rule=rule, message=message, hint=hint)])

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Only the problems of severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]

    def to_frame(self) -> pd.DataFrame:
        """The problems as a pandas frame, one row per listed problem."""
        return problems_frame(self.problems)

    def to_records(self) -> list[dict[str, object]]:
        """The problems as JSON-ready dictionaries."""
        return [attrs.asdict(p) for p in self.problems]


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Turn problems into a frame with one column per :class:`Problem` field."""
    import pandas as pd

    names = [f.name for f in attrs.fields(Problem)]
    return pd.DataFrame([attrs.asdict(p) for p in problems], columns=names)


def format_problems(
    problems: Sequence[Problem], totals: dict[tuple[str, str, str], int] | None = None
) -> str:
    """Render problems grouped by (table, column, rule), errors first."""
    totals = totals or {}
    groups: dict[tuple[str, str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        groups[p.key()].append(p)
    n_err = sum(totals.get(k, len(v)) for k, v in groups.items() if v[0].severity == "error")
    n_warn = sum(totals.get(k, len(v)) for k, v in groups.items() if v[0].severity == "warning")
    total = n_err + n_warn
    lines = [
        f"{total} problem{'s' if total != 1 else ''} in the input "
        f"({n_err} error{'s' if n_err != 1 else ''}, "
        f"{n_warn} warning{'s' if n_warn != 1 else ''}):"
    ]
    order = sorted(groups, key=lambda k: (groups[k][0].severity != "error", k))
    for key in order:
        items = groups[key]
        first = items[0]
        where = f"{first.table}.{first.column}" if first.column else first.table
        n = totals.get(key, len(items))
        rows = [p for p in items if p.row is not None or p.id is not None or p.value is not None]
        head = f"  [{first.severity}] {where} {first.rule}"
        if rows:
            lines.append(f"{head}: {n} row{'s' if n != 1 else ''}")
            for p in rows:
                ident = f" (id {p.id})" if p.id is not None else ""
                at = f"row {p.row}{ident}" if p.row is not None else (p.id or "")
                val = f": {p.value!r}" if p.value is not None else ""
                lines.append(f"      {at}{val} - {p.message}")
            if n > len(rows):
                lines.append(f"      ... and {n - len(rows)} more")
        else:
            lines.append(f"{head}: {first.message}")
        if first.hint:
            lines.append(f"      hint: {first.hint}")
    return "\n".join(lines)
