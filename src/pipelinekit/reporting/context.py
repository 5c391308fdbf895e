"""What every report section gets: the working tables, the day and the shared facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
import narwhals as nw
import pandas as pd

from pipelinekit.dataset import TABLE_NAMES, Dataset
from pipelinekit.facts import REPORT_LEAD_PARTS, Facts
from pipelinekit.reporting.availability import DataGaps, data_gaps

__all__ = ["SectionContext", "to_pandas"]


def to_pandas(frame: Any) -> pd.DataFrame:
    """A result frame of any supported engine as a pandas frame (for section tables).

    >>> to_pandas(pd.DataFrame({"a": [1]})).columns.tolist()
    ['a']
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    wrapped = nw.from_native(frame)
    eager = wrapped.collect() if isinstance(wrapped, nw.LazyFrame) else wrapped
    result: pd.DataFrame = eager.to_pandas()
    return result


@attrs.frozen(kw_only=True, eq=False)
class SectionContext:
    """The inputs of one report run, shared by every section.

    ``dataset`` holds the working tables (converted once to the fastest engine, see
    :func:`pipelinekit._compat.working_tables`); ``facts`` builds each shared fact once.
    Sections call public metric functions with :meth:`table` and the facts'
    native frames (:meth:`native`), so every engine runs the same code. ``gaps``
    says which tables and columns have no data (sections show those KPIs as not
    available instead of 0).
    """

    dataset: Dataset
    as_of: date
    facts: Facts
    tables: dict[str, Any]
    gaps: DataGaps = DataGaps()

    @classmethod
    def build(cls, dataset: Dataset, as_of: date) -> SectionContext:
        """The context of ``dataset`` (working tables) as of ``as_of``."""
        tables = {name: dataset.table(name) for name in TABLE_NAMES}
        facts = Facts(tables, as_of=as_of, tz=dataset.tz)
        facts.plan_lead_activity(REPORT_LEAD_PARTS)
        gaps = data_gaps(tables)
        return cls(dataset=dataset, as_of=as_of, facts=facts, tables=tables, gaps=gaps)

    @property
    def tz(self) -> str:
        """The dataset time zone."""
        return self.dataset.tz

    def table(self, name: str) -> Any:
        """The working table ``name`` as a native frame (absent tables are empty)."""
        return self.tables[name]

    def given(self, name: str) -> bool:
        """Whether the table ``name`` was given (absent tables read as empty)."""
        return getattr(self.dataset, name) is not None

    def has_rows(self, name: str) -> bool:
        """Whether the table ``name`` has at least one row."""
        return bool(self.facts.table(name).select(nw.len()).collect().item() > 0)

    def native(self, fact: nw.LazyFrame[Any]) -> Any:
        """A fact as a native frame of the working engine, to pass to a metric function."""
        return fact.to_native()
