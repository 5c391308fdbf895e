"""Facts: the per-lead, per-activity, per-opportunity and per-account tables that the
metrics aggregate, each written once in narwhals (DESIGN sections 1 and 6).

Metric functions build the facts they need through these builders; the report builds
each fact once per run through :class:`Facts` and hands it to every section.

- :mod:`pipelinekit.facts.activities`: every activity with its flags, calendar
  fields and its lead's columns.
- :mod:`pipelinekit.facts.journey`: one row per lead with stage times and counts.
- :mod:`pipelinekit.facts.opportunities`: opportunity state as of a day, resolved
  account, target-account flag.
- :mod:`pipelinekit.facts.response`: when each lead started and was first touched.
- :mod:`pipelinekit.facts.history`: every opportunity's state at the end of given days,
  opportunity history carried forward field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import narwhals as nw

from pipelinekit import _compat
from pipelinekit.facts.activities import activity_facts
from pipelinekit.facts.history import check_days, day_spine, opportunity_states_on
from pipelinekit.facts.journey import journey_frames
from pipelinekit.facts.lead_activity import (
    JourneyPart,
    LastTouchPart,
    LeadActivityPart,
    ResponsePart,
    WindowPart,
    lead_activity,
    part_columns,
)
from pipelinekit.facts.opportunities import opportunity_state
from pipelinekit.periods import as_of_cutoff

__all__ = [
    "REPORT_LEAD_PARTS",
    "TIMESTAMP_COLUMNS",
    "Facts",
    "shared",
    "shared_activities",
    "shared_lead_activity",
    "shared_states_on",
]

#: The per-lead activity parts the report's sections use, computed in one pass.
REPORT_LEAD_PARTS: tuple[LeadActivityPart, ...] = (
    JourneyPart(),
    WindowPart(14),
    WindowPart(7),
    ResponsePart(),
    LastTouchPart(),
)

#: Timestamp and date columns of each table, converted to naive local time on entry.
TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at", "next_activity_on", "recycle_on"),
    "activities": ("occurred_at",),
    "opportunities": ("created_at", "validated_at", "closed_at", "expected_close_on"),
    "stage_changes": ("entered_at",),
    "campaign_members": ("responded_at",),
    "opportunity_history": ("changed_at", "expected_close_on"),
    "quotas": ("period_start", "period_end"),
}


class Facts:
    """The facts of one dataset as of one day, each built once on first use.

    ``tables`` maps table names to native frames of one engine (the tables the metric
    functions are called with). Timestamp columns are converted to naive wall-clock
    time in ``tz`` once here. A fact used by several calls is computed once
    (:func:`pipelinekit._compat.cache`: collected on polars, checkpointed on PySpark,
    left lazy on DuckDB). A metric function given ``facts`` uses them only for the
    very tables they were built from (:meth:`covers`), so a mismatch can never mix
    two datasets.

    Examples
    --------
    >>> import pipelinekit as pk
    >>> ds = pk.sample_dataset()
    >>> facts = Facts({"leads": ds.leads, "activities": ds.activities,
    ...                "opportunities": ds.opportunities}, as_of=date(2025, 12, 31), tz=ds.tz)
    >>> facts.journey() is facts.journey(), facts.covers(leads=ds.leads)
    (True, True)
    """

    def __init__(self, tables: Mapping[str, Any], *, as_of: date, tz: str) -> None:
        self.as_of = as_of
        self.tz = tz
        self.cutoff: datetime = as_of_cutoff(as_of)
        names = list(tables)
        lazies, _ = _compat.enter([tables[n] for n in names], function="facts")
        self._natives = dict(tables)
        self._tables = {
            name: _compat.to_local_naive(frame, TIMESTAMP_COLUMNS.get(name, ()), tz=tz, table=name)
            for name, frame in zip(names, lazies, strict=True)
        }
        self._built: dict[Hashable, nw.LazyFrame[Any]] = {}
        self._planned: tuple[LeadActivityPart, ...] = ()
        self._history_days: tuple[date, ...] = ()

    def plan_lead_activity(self, parts: Sequence[LeadActivityPart]) -> None:
        """Compute these per-lead parts together, in one pass, on the first request of
        any of them (the report plans the parts its sections need)."""
        self._planned = tuple(dict.fromkeys((*self._planned, *parts)))

    def lead_activity(self, *parts: LeadActivityPart) -> nw.LazyFrame[Any]:
        """``lead_id`` and the columns of ``parts`` for every lead with an activity by the
        end of the day (:func:`~pipelinekit.facts.lead_activity.lead_activity`).

        Planned parts are computed together, once; others on their own.
        """
        if all(p in self._planned for p in parts):
            merged = self.get(
                ("lead_activity", self._planned, self.cutoff, self.tz),
                lambda: lead_activity(self.activities(), self._planned),
            )
            return merged.select("lead_id", *[c for p in parts for c in part_columns(p)])
        return self.get(
            ("lead_activity", parts, self.cutoff, self.tz),
            lambda: lead_activity(self.activities(), parts),
        )

    def serves(self, cutoff: datetime | None, tz: str, **tables: Any) -> bool:
        """Whether these facts answer for ``tables`` cut at ``cutoff`` in ``tz``."""
        return cutoff == self.cutoff and tz == self.tz and self.covers(**tables)

    def covers(self, **tables: Any) -> bool:
        """Whether these are the very tables (same objects) the facts were built from."""
        return all(
            name in self._natives and self._natives[name] is frame for name, frame in tables.items()
        )

    def native(self, name: str) -> Any:
        """The native frame of table ``name`` the facts were built from."""
        return self._natives[name]

    def table(self, name: str) -> nw.LazyFrame[Any]:
        """The table ``name`` (all rows), timestamps in naive local time."""
        return self._tables[name]

    def get(self, key: Hashable, build: Callable[[], nw.LazyFrame[Any]]) -> nw.LazyFrame[Any]:
        """The fact ``key``, built by ``build`` on first use and computed once.

        ``key`` names the fact and every parameter its value depends on.
        """
        if key not in self._built:
            self._built[key] = _compat.cache(build())
        return self._built[key]

    def activities(self) -> nw.LazyFrame[Any]:
        """Activities by the end of the day with flags, calendar fields and lead columns
        (:func:`~pipelinekit.facts.activities.activity_facts`)."""
        return self.get(
            ("activities", self.cutoff, self.tz),
            lambda: activity_facts(
                self.table("activities"), self.table("leads"), cutoff=self.cutoff
            ),
        )

    def journey(self) -> nw.LazyFrame[Any]:
        """The lead journey as of the end of the day (:mod:`pipelinekit.facts.journey`)."""
        return self.get(
            ("journey", self.cutoff, self.tz),
            lambda: journey_frames(
                self.table("leads"),
                self.table("activities"),
                self.table("opportunities"),
                as_of=self.as_of,
                tz=self.tz,
                lead_rows=self.lead_activity(JourneyPart()),
            ),
        )

    def plan_history_days(self, days: Sequence[date | datetime | str]) -> None:
        """Compute the opportunity states of these days together, once, on the first
        request of any of them (the report plans the days its sections read)."""
        self._history_days = check_days((*self._history_days, *days))

    def opportunity_states_on(self, days: Sequence[date | datetime | str]) -> nw.LazyFrame[Any]:
        """Every opportunity's state at the end of each of ``days``, from the
        opportunities, ``opportunity_history`` and ``stage_changes`` tables
        (:func:`~pipelinekit.facts.history.opportunity_states_on`).

        Planned days (:meth:`plan_history_days`) are computed together, once; other
        days on their own.
        """
        wanted = check_days(days)
        planned = self._history_days
        if wanted and set(wanted) <= set(planned):
            every = self.get(
                ("opportunity_states_on", planned, self.tz), lambda: self._states(planned)
            )
            if wanted == planned:
                return every
            spine = day_spine(every, wanted).select("day")
            return every.join(spine, on="day", how="inner")
        return self.get(("opportunity_states_on", wanted, self.tz), lambda: self._states(wanted))

    def _states(self, days: Sequence[date]) -> nw.LazyFrame[Any]:
        return opportunity_states_on(
            self.table("opportunities"),
            days=days,
            history=self._tables.get("opportunity_history"),
            stage_changes=self._tables.get("stage_changes"),
        )

    def opportunity_state(self) -> nw.LazyFrame[Any]:
        """Opportunities created by the end of the day with their state then."""
        return self.get(
            ("opportunity_state", self.cutoff, self.tz),
            lambda: opportunity_state(self.table("opportunities"), cutoff=self.cutoff),
        )


def shared(
    facts: Facts | None,
    key: Hashable,
    build: Callable[[], nw.LazyFrame[Any]],
    **tables: Any,
) -> nw.LazyFrame[Any]:
    """``build()``, or the fact ``key`` built once and shared through ``facts``.

    Metric functions take an optional ``facts`` (a :class:`Facts` built from the same
    tables, as the report passes) and name the native ``tables`` the fact is computed
    from: when ``facts`` covers them, every call that needs the fact shares one
    computation; otherwise (no facts, or other tables) the function computes its own.
    """
    if facts is None or not facts.covers(**tables):
        return build()
    return facts.get(key, build)


def shared_activities(
    facts: Facts | None,
    activity_frame: nw.LazyFrame[Any],
    lead_frame: nw.LazyFrame[Any],
    *,
    cutoff: datetime,
    tz: str,
    **tables: Any,
) -> nw.LazyFrame[Any]:
    """The activity fact of ``activity_frame`` and ``lead_frame`` (naive local times) cut
    at ``cutoff``: :meth:`Facts.activities` when ``facts`` covers the native ``tables``,
    else built here."""
    if facts is not None and facts.serves(cutoff, tz, **tables):
        return facts.activities()
    return activity_facts(activity_frame, lead_frame, cutoff=cutoff)


def shared_lead_activity(
    facts: Facts | None,
    activity_rows: Callable[[], nw.LazyFrame[Any]],
    parts: Sequence[LeadActivityPart],
    *,
    cutoff: datetime,
    tz: str,
    **tables: Any,
) -> nw.LazyFrame[Any]:
    """Per-lead activity ``parts`` (:mod:`pipelinekit.facts.lead_activity`):
    :meth:`Facts.lead_activity` when ``facts`` covers the native ``tables`` at this
    cut-off, else computed from ``activity_rows()`` here."""
    if facts is not None and facts.serves(cutoff, tz, **tables):
        return facts.lead_activity(*parts)
    return lead_activity(activity_rows(), parts)


def shared_states_on(
    facts: Facts | None,
    opportunity_frame: nw.LazyFrame[Any],
    history_frame: nw.LazyFrame[Any] | None,
    stage_frame: nw.LazyFrame[Any] | None,
    *,
    days: Sequence[date],
    tz: str,
    opportunities: Any,
    opportunity_history: Any,
    stage_changes: Any,
) -> nw.LazyFrame[Any]:
    """Opportunity states at the end of ``days``: :meth:`Facts.opportunity_states_on` when
    ``facts`` were built (in ``tz``) from these very native tables (a table passed as
    ``None`` matches only a table the facts were not given), else computed here from
    the lazy frames (naive local times, history in file order)."""
    natives = {
        "opportunities": opportunities,
        "opportunity_history": opportunity_history,
        "stage_changes": stage_changes,
    }
    if (
        facts is not None
        and facts.tz == tz
        and all(
            (name not in facts._natives) if native is None else facts.covers(**{name: native})
            for name, native in natives.items()
        )
    ):
        return facts.opportunity_states_on(days)
    return opportunity_states_on(
        opportunity_frame, days=days, history=history_frame, stage_changes=stage_frame
    )
