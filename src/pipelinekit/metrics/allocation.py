"""SQL allocation: SQLs per field-sales rep per period against capacity.

Capacity of a rep = its ``monthly_sql_capacity``, else the band named by its
``segment`` (:data:`DEFAULT_CAPACITY_BANDS`), else unknown.

Examples
--------
>>> DEFAULT_CAPACITY_BANDS["1000+"]
30
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals as nw

from pipelinekit.errors import ConfigError

__all__ = ["DEFAULT_CAPACITY_BANDS", "capacity_expr", "check_capacity_bands", "monthly_capacity"]

#: Monthly SQL capacity of an FS rep by employee-band segment.
DEFAULT_CAPACITY_BANDS: Mapping[str, int] = {"1-30": 60, "31-299": 45, "300-999": 40, "1000+": 30}


def check_capacity_bands(bands: Mapping[str, int]) -> dict[str, int]:
    """Validate a segment -> monthly capacity mapping (positive numbers)."""
    out = dict(bands)
    bad = {k: v for k, v in out.items() if not isinstance(v, (int, float)) or v <= 0}
    if bad:
        raise ConfigError(f"capacity_bands values must be positive numbers; got {bad!r}")
    return out


def capacity_expr(bands: Mapping[str, int] = DEFAULT_CAPACITY_BANDS) -> nw.Expr:
    """Monthly capacity per rep row: ``monthly_sql_capacity``, else the segment band."""
    band: Any = None
    for segment, capacity in check_capacity_bands(bands).items():
        band = (nw.when if band is None else band.when)(nw.col("segment") == segment).then(
            float(capacity)
        )
    explicit = nw.col("monthly_sql_capacity").cast(nw.Float64)
    if band is None:
        return explicit.alias("capacity")
    return nw.coalesce(explicit, band).alias("capacity")


def monthly_capacity(reps: nw.LazyFrame[Any], bands: Mapping[str, int]) -> nw.LazyFrame[Any]:
    """``rep_id`` and monthly ``capacity`` (null when unknown) for every rep."""
    return reps.select(nw.col("rep_id"), capacity_expr(bands))
