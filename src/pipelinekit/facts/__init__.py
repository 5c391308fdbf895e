"""Facts: the per-lead, per-activity, per-opportunity and per-account tables that the
metrics aggregate, each written once in narwhals (DESIGN section 1 and 6).

Metric functions build the facts they need through these builders; the report builds
each fact once per run through :class:`Facts` and hands it to every section.

- :mod:`pipelinekit.facts.journey`: one row per lead with stage times and counts.
- :mod:`pipelinekit.facts.opportunities`: opportunity state as of a day, resolved
  account, target-account flag.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit.facts.journey import journey_frames
from pipelinekit.facts.opportunities import opportunity_state
from pipelinekit.periods import as_of_cutoff

__all__ = ["TIMESTAMP_COLUMNS", "Facts", "shared"]

#: Timestamp columns of each table, converted to naive local time once on entry.
TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at",),
    "activities": ("occurred_at",),
    "opportunities": ("created_at", "validated_at", "closed_at"),
    "stage_changes": ("entered_at",),
    "campaign_members": ("responded_at",),
}


class Facts:
    """The facts of one dataset as of one day, each built once on first use.

    ``tables`` are narwhals lazy frames on one engine (see
    :func:`pipelinekit._compat.enter`). Timestamp columns are converted to naive
    wall-clock time in ``tz`` once here. A fact used by several sections is computed
    once (:func:`pipelinekit._compat.cache`: collected on polars, checkpointed on
    PySpark, left lazy on DuckDB).

    Examples
    --------
    >>> import pipelinekit as pk
    >>> ds = pk.sample_dataset()
    >>> lazies, _ = _compat.enter([ds.leads, ds.activities, ds.opportunities], function="facts")
    >>> facts = Facts(dict(zip(["leads", "activities", "opportunities"], lazies)),
    ...               as_of=date(2025, 12, 31), tz=ds.tz)
    >>> facts.journey() is facts.journey()
    True
    """

    def __init__(self, tables: Mapping[str, nw.LazyFrame[Any]], *, as_of: date, tz: str) -> None:
        self.as_of = as_of
        self.tz = tz
        self.cutoff: datetime = as_of_cutoff(as_of)
        self._tables = {
            name: _compat.to_local_naive(frame, TIMESTAMP_COLUMNS.get(name, ()), tz=tz, table=name)
            for name, frame in tables.items()
        }
        self._built: dict[Hashable, nw.LazyFrame[Any]] = {}

    def table(self, name: str) -> nw.LazyFrame[Any]:
        """The table ``name`` (all rows), timestamps in naive local time."""
        return self._tables[name]

    def has(self, name: str) -> bool:
        """Whether the table ``name`` was given."""
        return name in self._tables

    def get(self, key: Hashable, build: Callable[[], nw.LazyFrame[Any]]) -> nw.LazyFrame[Any]:
        """The fact ``key``, built by ``build`` on first use and computed once.

        ``key`` names the fact and every parameter its value depends on.
        """
        if key not in self._built:
            self._built[key] = _compat.cache(build())
        return self._built[key]

    def journey(self) -> nw.LazyFrame[Any]:
        """The lead journey as of the end of the day (:mod:`pipelinekit.facts.journey`)."""
        return self.get(
            "journey",
            lambda: journey_frames(
                self.table("leads"),
                self.table("activities"),
                self.table("opportunities"),
                as_of=self.as_of,
                tz=self.tz,
            ),
        )

    def opportunity_state(self) -> nw.LazyFrame[Any]:
        """Opportunities created by the end of the day with their state then."""
        return self.get(
            "opportunity_state",
            lambda: opportunity_state(self.table("opportunities"), cutoff=self.cutoff),
        )


def shared(
    facts: Facts | None, key: Hashable, build: Callable[[], nw.LazyFrame[Any]]
) -> nw.LazyFrame[Any]:
    """``build()``, or with ``facts`` the fact ``key`` built once and shared.

    Metric functions take an optional ``facts`` (a :class:`Facts` built from the same
    tables, as the report passes); every per-lead or per-opportunity step several
    functions repeat goes through here, so a report computes it once.
    """
    return build() if facts is None else facts.get(key, build)
