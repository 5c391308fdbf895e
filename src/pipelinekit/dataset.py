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
from typing import Any, Literal

import attrs
import narwhals as nw

from pipelinekit.errors import ConfigError, Problem
from pipelinekit.schema import TABLES, empty_frame, from_objects, table_for

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
) -> Dataset:
    """Read and validate a directory of CSV or Parquet tables named after the tables.

    Raises :class:`~pipelinekit.errors.SchemaError` listing every problem found in
    the files and tables; warnings are kept on the returned dataset. ``strict`` makes
    orphan foreign keys and plausibility rules errors. A header-only ``leads`` file is
    valid (one warning); a missing one is an error.

    >>> import tempfile
    >>> from pipelinekit.sample import write_sample
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_sample(folder, leads=50, seed=1)
    >>> ds = read_dataset(folder)
    >>> len(ds.leads), ds.validated
    (50, True)
    """
    from pipelinekit.io import read_dataset_tables

    result = read_dataset_tables(path, tz=tz, strict=strict, encoding=encoding, backend=backend)
    return Dataset(**result.tables, tz=tz, validated=True, warnings=tuple(result.warnings))


def sample_dataset(*, backend: Literal["pandas", "polars"] = "pandas") -> Dataset:
    """The small synthetic dataset bundled with pipelinekit (about 12 months).

    >>> ds = sample_dataset()
    >>> len(ds.leads) > 1000
    True
    """
    folder = resources.files("pipelinekit") / "data" / "sample"
    with resources.as_file(folder) as path:
        return read_dataset(path, backend=backend)
