"""Reusable breakdown bands: employee bands, amount bands, quantity bands.

A band scheme is a sequence of ``(label, upper)`` pairs with inclusive upper bounds in
increasing order; the last upper bound may be ``None`` (no limit). Values below the
first bound fall in the first band; missing values give a missing band.

Examples
--------
>>> import pandas as pd, narwhals as nw
>>> df = nw.from_native(pd.DataFrame({"employees": [5, 31, 999, 5000, None]}))
>>> df.select(employee_band()).to_native()["employee_band"].tolist()
['1-30', '31-299', '300-999', '1000+', nan]
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw

from pipelinekit.errors import ConfigError

__all__ = [
    "AMOUNT_BANDS",
    "EMPLOYEE_BANDS",
    "QUANTITY_BANDS",
    "Bands",
    "amount_band",
    "band",
    "check_bands",
    "employee_band",
    "quantity_band",
]

Bands = Sequence[tuple[str, float | None]]

#: Company size bands used for segments and capacity (DESIGN section 3).
EMPLOYEE_BANDS: Bands = (("1-30", 30), ("31-299", 299), ("300-999", 999), ("1000+", None))
#: Deal size bands in the dataset currency (JPY by default).
AMOUNT_BANDS: Bands = (
    ("<1M", 999_999.999),
    ("1M-3M", 2_999_999.999),
    ("3M-10M", 9_999_999.999),
    ("10M+", None),
)
#: Unit bands (for example vehicles per deal).
QUANTITY_BANDS: Bands = (("1-9", 9), ("10-49", 49), ("50-99", 99), ("100+", None))


def check_bands(bands: Bands, *, name: str = "bands") -> list[tuple[str, float | None]]:
    """Validate a band scheme: labels unique, upper bounds increasing, only the last open."""
    out = [(str(label), upper) for label, upper in bands]
    if not out:
        raise ConfigError(f"{name} must contain at least one band")
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{name} labels must be unique; got {labels}")
    uppers = [u for _, u in out]
    if any(u is None for u in uppers[:-1]):
        raise ConfigError(f"{name}: only the last band may have no upper bound")
    bounded = [float(u) for u in uppers if u is not None]
    if any(b >= a for a, b in zip(bounded[1:], bounded[:-1], strict=True)):
        raise ConfigError(f"{name}: upper bounds must increase; got {uppers}")
    return out


def band(column: str, bands: Bands, *, alias: str | None = None) -> nw.Expr:
    """Label of the band each value of ``column`` falls in (null when missing)."""
    scheme = check_bands(bands)
    value = nw.col(column)
    result = None
    for label, upper in scheme:
        condition = ~value.is_null() if upper is None else value <= upper
        result = (nw.when if result is None else result.when)(condition).then(nw.lit(label))
    assert result is not None
    return result.alias(alias or f"{column}_band")


def employee_band(column: str = "employees", bands: Bands = EMPLOYEE_BANDS) -> nw.Expr:
    """Employee band (``1-30``, ``31-299``, ``300-999``, ``1000+`` by default)."""
    return band(column, bands, alias="employee_band")


def amount_band(column: str = "amount", bands: Bands = AMOUNT_BANDS) -> nw.Expr:
    """Amount band of a deal (see :data:`AMOUNT_BANDS`)."""
    return band(column, bands, alias="amount_band")


def quantity_band(column: str = "quantity", bands: Bands = QUANTITY_BANDS) -> nw.Expr:
    """Quantity band of a deal (see :data:`QUANTITY_BANDS`)."""
    return band(column, bands, alias="quantity_band")
