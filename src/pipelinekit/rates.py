"""Rates that carry their evidence: numerator, denominator, value, Wilson interval.

Scalar results are :class:`Rate` objects; tabular results carry the same fields as
the columns ``numerator``, ``denominator``, ``rate``, ``ci_low``, ``ci_high``
(see :func:`rate_columns`).

Zero denominators follow ``zero_division``: ``"nan"`` (default) gives NaN, ``"0"``
gives 0.0, ``"raise"`` raises :class:`ZeroDenominatorError`. The interval of a rate
with a zero denominator is always NaN: there is no evidence either way.

Examples
--------
>>> r = rate(12, 40)
>>> r.value, round(r.ci_low, 4), round(r.ci_high, 4)
(0.3, 0.1807, 0.4543)
>>> rate(0, 0).value
nan
>>> rate(0, 0, zero_division="0").value
0.0
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, get_args

import attrs
import narwhals as nw

from pipelinekit.errors import ConfigError, PipelineKitError
from pipelinekit.types import ZeroDivision

__all__ = [
    "Rate",
    "ZeroDenominatorError",
    "ZeroDivision",
    "check_zero_division",
    "rate",
    "rate_columns",
    "wilson_interval",
    "with_rate_columns",
]

RATE_COLUMNS = ("numerator", "denominator", "rate", "ci_low", "ci_high")


class ZeroDenominatorError(PipelineKitError, ZeroDivisionError):
    """A rate had a zero denominator and ``zero_division="raise"`` was asked for."""


def check_zero_division(zero_division: str) -> ZeroDivision:
    """Validate a ``zero_division`` argument and return it typed."""
    allowed = get_args(ZeroDivision)
    if zero_division not in allowed:
        raise ConfigError(
            f"zero_division must be one of {', '.join(map(repr, allowed))}; got {zero_division!r}"
        )
    return zero_division  # type: ignore[return-value]


def check_confidence(confidence: float) -> float:
    """Validate a confidence level (strictly between 0 and 1)."""
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise ConfigError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    return float(confidence)


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + check_confidence(confidence) / 2.0)


def wilson_interval(
    numerator: float, denominator: float, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson score interval of a proportion; (nan, nan) when the denominator is 0.

    >>> low, high = wilson_interval(0, 10)
    >>> low, round(high, 4)
    (0.0, 0.2775)
    """
    z = _z(confidence)
    if denominator <= 0:
        return (math.nan, math.nan)
    n = float(denominator)
    p = numerator / n
    z2 = z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / (1 + z2 / n)
    low = min(max(center - half, 0.0), p)
    high = max(min(center + half, 1.0), p)
    return (low, high)


@attrs.frozen(kw_only=True)
class Rate:
    """A proportion with its evidence and a confidence interval.

    A ``Rate`` is usable as a number: ``float(rate)`` is its ``value``, and
    arithmetic and comparisons with numbers (or other rates) act on ``value``; the
    result is a plain ``float`` (an undefined rate is NaN and stays NaN).

    >>> r = rate(3, 4)
    >>> float(r), r * 100, r - rate(1, 4), r > 0.5
    (0.75, 75.0, 0.5, True)
    >>> f"{r}"
    '75.0%'
    """

    numerator: float
    denominator: float
    value: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """``numerator``, ``denominator``, ``value`` (NaN as None), for JSON."""
        value = None if math.isnan(self.value) else self.value
        return {
            "numerator": _plain_number(self.numerator),
            "denominator": _plain_number(self.denominator),
            "value": value,
        }

    def __float__(self) -> float:
        return float(self.value)

    def __add__(self, other: object) -> float:
        return float(self) + _as_number(other)

    def __radd__(self, other: object) -> float:
        return _as_number(other) + float(self)

    def __sub__(self, other: object) -> float:
        return float(self) - _as_number(other)

    def __rsub__(self, other: object) -> float:
        return _as_number(other) - float(self)

    def __mul__(self, other: object) -> float:
        return float(self) * _as_number(other)

    def __rmul__(self, other: object) -> float:
        return _as_number(other) * float(self)

    def __truediv__(self, other: object) -> float:
        return float(self) / _as_number(other)

    def __rtruediv__(self, other: object) -> float:
        return _as_number(other) / float(self)

    def __neg__(self) -> float:
        return -float(self)

    def __lt__(self, other: object) -> bool:
        return float(self) < _as_number(other)

    def __le__(self, other: object) -> bool:
        return float(self) <= _as_number(other)

    def __gt__(self, other: object) -> bool:
        return float(self) > _as_number(other)

    def __ge__(self, other: object) -> bool:
        return float(self) >= _as_number(other)

    def __format__(self, spec: str) -> str:
        if math.isnan(self.value):
            return "n/a"
        return format(self.value, spec or ".1%")


def _as_number(other: object) -> float:
    """``other`` as a float for :class:`Rate` arithmetic (a Rate, int or float)."""
    if isinstance(other, (Rate, int, float)):
        return float(other)
    raise TypeError(f"a Rate combines with numbers or rates, not {type(other).__name__}")


def _plain_number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def rate(
    numerator: float,
    denominator: float,
    *,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> Rate:
    """Build a :class:`Rate` from counts.

    Parameters
    ----------
    numerator, denominator
        Non-negative counts with ``numerator <= denominator``.
    zero_division
        What a zero denominator gives: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson interval, default 0.95.

    >>> rate(3, 4).value
    0.75
    """
    check_zero_division(zero_division)
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError(
            f"a rate needs 0 <= numerator <= denominator; got {numerator} / {denominator}"
        )
    low, high = wilson_interval(numerator, denominator, confidence=confidence)
    if denominator == 0:
        if zero_division == "raise":
            raise ZeroDenominatorError("rate with a zero denominator (zero_division='raise')")
        value = 0.0 if zero_division == "0" else math.nan
    else:
        value = numerator / denominator
    return Rate(
        numerator=numerator,
        denominator=denominator,
        value=value,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
    )


def rate_columns(
    numerator: str,
    denominator: str,
    *,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    prefix: str = "",
) -> list[nw.Expr]:
    """Expressions adding ``rate``, ``ci_low`` and ``ci_high`` from two count columns.

    The count columns are cast to Int64 and renamed ``{prefix}numerator`` /
    ``{prefix}denominator`` by the caller if needed; rates are Float64 and null
    (NaN in pandas) where the denominator is 0, unless ``zero_division="0"``.
    ``zero_division="raise"`` must be checked on the result with
    :func:`raise_on_zero_denominator`.
    """
    check_zero_division(zero_division)
    z = _z(confidence)
    z2 = z * z
    num = nw.col(numerator).cast(nw.Float64)
    den = nw.col(denominator).cast(nw.Float64)
    positive = nw.col(denominator) > 0
    p = nw.when(positive).then(num / den)
    zero_value = 0.0 if zero_division == "0" else None
    value = nw.when(positive).then(num / den).otherwise(zero_value)
    center = (p + z2 / (2 * den)) / (1 + z2 / den)
    spread = p * (1 - p) / den + z2 / (4 * den * den)
    half = z * nw.when(spread > 0).then(spread).otherwise(0.0).sqrt() / (1 + z2 / den)
    low = nw.min_horizontal(nw.max_horizontal(center - half, nw.lit(0.0)), p)
    high = nw.max_horizontal(nw.min_horizontal(center + half, nw.lit(1.0)), p)
    return [
        value.cast(nw.Float64).alias(f"{prefix}rate"),
        nw.when(positive).then(low).cast(nw.Float64).alias(f"{prefix}ci_low"),
        nw.when(positive).then(high).cast(nw.Float64).alias(f"{prefix}ci_high"),
    ]


def with_rate_columns(
    frame: nw.LazyFrame[Any],
    numerator: str,
    denominator: str,
    *,
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
    prefix: str = "",
) -> nw.LazyFrame[Any]:
    """``frame`` with ``{prefix}rate``, ``{prefix}ci_low``, ``{prefix}ci_high`` added.

    The same values as :func:`rate_columns`, computed in steps through temporary
    columns: each sub-expression is built once instead of being repeated inside
    one large expression, which keeps query construction fast when a metric adds
    several rates (narwhals' cost grows with the expression tree).

    >>> import pandas as pd
    >>> lf = nw.from_native(pd.DataFrame({"n": [12, 0], "d": [40, 0]})).lazy()
    >>> out = with_rate_columns(lf, "n", "d").collect().to_native()
    >>> out["rate"].tolist()[0], round(float(out["ci_low"][0]), 4), out["ci_high"].isna().tolist()
    (0.3, 0.1807, [False, True])
    """
    check_zero_division(zero_division)
    z = _z(confidence)
    z2 = z * z
    names = {k: f"__pk_rate_{prefix}{k}" for k in ("den", "p", "center", "half")}
    den, p = nw.col(names["den"]), nw.col(names["p"])
    center, half = nw.col(names["center"]), nw.col(names["half"])
    positive = nw.col(denominator) > 0
    zero_value = 0.0 if zero_division == "0" else None
    spread = p * (1 - p) / den + z2 / (4 * den * den)
    return (
        frame.with_columns(nw.col(denominator).cast(nw.Float64).alias(names["den"]))
        .with_columns(
            nw.when(positive).then(nw.col(numerator).cast(nw.Float64) / den).alias(names["p"])
        )
        .with_columns(
            ((p + z2 / (2 * den)) / (1 + z2 / den)).alias(names["center"]),
            (z * nw.when(spread > 0).then(spread).otherwise(0.0).sqrt() / (1 + z2 / den)).alias(
                names["half"]
            ),
        )
        .with_columns(
            nw.when(positive).then(p).otherwise(zero_value).cast(nw.Float64).alias(f"{prefix}rate"),
            nw.when(positive)
            .then(nw.min_horizontal(nw.max_horizontal(center - half, nw.lit(0.0)), p))
            .cast(nw.Float64)
            .alias(f"{prefix}ci_low"),
            nw.when(positive)
            .then(nw.max_horizontal(nw.min_horizontal(center + half, nw.lit(1.0)), p))
            .cast(nw.Float64)
            .alias(f"{prefix}ci_high"),
        )
        .drop(*names.values())
    )


def raise_on_zero_denominator(frame: nw.DataFrame[Any], denominator: str, what: str) -> None:
    """Raise :class:`ZeroDenominatorError` if any row of ``frame`` has a zero denominator."""
    zero = frame.filter(nw.col(denominator) == 0)
    if len(zero):
        raise ZeroDenominatorError(
            f"{what}: {len(zero)} row(s) with a zero denominator (zero_division='raise')"
        )
