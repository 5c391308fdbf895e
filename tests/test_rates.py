"""Rates: the scalar Rate, Wilson intervals, zero division, and the column versions."""

from __future__ import annotations

import itertools
import math
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Rate, rate, wilson_interval
from pipelinekit.rates import (
    ZeroDenominatorError,
    ZeroDivision,
    check_confidence,
    check_zero_division,
    raise_on_zero_denominator,
    rate_columns,
    with_rate_columns,
)


def test_rate_by_hand() -> None:
    r = rate(12, 40)
    # p = 0.3, n = 40, z = 1.959964, z^2 = 3.841459
    # center = (0.3 + 3.841459 / 80) / (1 + 3.841459 / 40) = 0.348018 / 1.096036 = 0.317524
    # half = 1.959964 * sqrt(0.3 * 0.7 / 40 + 3.841459 / 6400) / 1.096036 = 0.136778
    assert r.value == 0.3
    assert (r.ci_low, r.ci_high) == pytest.approx(
        (0.317524 - 0.136778, 0.317524 + 0.136778), abs=1e-5
    )
    assert (r.numerator, r.denominator, r.confidence) == (12, 40, 0.95)


def test_extremes_stay_in_the_unit_interval() -> None:
    zero, one = rate(0, 10), rate(10, 10)
    # p = 0: low = 0, high = z^2 / (n + z^2) = 3.841459 / 13.841459 = 0.277533
    assert (zero.ci_low, zero.ci_high) == pytest.approx((0.0, 0.277533), abs=1e-6)
    assert (one.ci_low, one.ci_high) == pytest.approx((1 - 0.277533, 1.0), abs=1e-6)


def test_zero_denominator_policies() -> None:
    assert math.isnan(rate(0, 0).value)
    assert rate(0, 0, zero_division="0").value == 0.0
    assert math.isnan(rate(0, 0, zero_division="0").ci_low)  # no evidence either way
    with pytest.raises(ZeroDenominatorError):
        rate(0, 0, zero_division="raise")
    assert isinstance(ZeroDenominatorError("x"), ZeroDivisionError)


def test_validation() -> None:
    with pytest.raises(ConfigError, match="zero_division must be one of 'nan', '0', 'raise'"):
        check_zero_division("none")
    bad: Any
    for bad in (0, 1, 1.5, -0.1, "0.95"):
        with pytest.raises(ConfigError, match="confidence must be strictly between 0 and 1"):
            check_confidence(bad)
    with pytest.raises(ValueError, match="0 <= numerator <= denominator"):
        rate(5, 4)
    with pytest.raises(ValueError, match="0 <= numerator <= denominator"):
        rate(-1, 4)


def test_confidence_level() -> None:
    r90, r99 = rate(30, 100, confidence=0.9), rate(30, 100, confidence=0.99)
    assert r99.ci_high - r99.ci_low > r90.ci_high - r90.ci_low
    assert r90.confidence == 0.9


def test_rate_formatting_and_json() -> None:
    assert f"{rate(1, 3)}" == "33.3%"
    assert f"{rate(1, 3):.2f}" == "0.33"
    assert f"{rate(0, 0)}" == "n/a"
    assert rate(1, 4).to_dict() == {"numerator": 1, "denominator": 4, "value": 0.25}
    assert rate(0, 0).to_dict()["value"] is None
    assert isinstance(rate(1, 2), Rate)


def frame() -> nw.LazyFrame[Any]:
    data = pd.DataFrame({"n": [12, 0, 10, 0, 3], "d": [40, 10, 10, 0, 7]})
    return nw.from_native(pl.from_pandas(data)).lazy()


@pytest.mark.parametrize("zero_division", ["nan", "0"])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_columns_match_the_scalar_rate(zero_division: ZeroDivision, confidence: float) -> None:
    plain = frame().with_columns(
        *rate_columns("n", "d", zero_division=zero_division, confidence=confidence)
    )
    stepwise = with_rate_columns(
        frame(),
        "n",
        "d",
        zero_division=zero_division,
        confidence=confidence,
        prefix="s_",
    )
    a = plain.collect().to_pandas()
    b = stepwise.collect().to_pandas()
    assert list(b.columns) == ["n", "d", "s_rate", "s_ci_low", "s_ci_high"]
    for (num, den), row_a, row_b in zip(
        zip(a["n"], a["d"], strict=True), a.itertuples(), b.itertuples(), strict=True
    ):
        want = rate(num, den, zero_division=zero_division, confidence=confidence)
        for got in (
            (row_a.rate, row_a.ci_low, row_a.ci_high),
            (row_b.s_rate, row_b.s_ci_low, row_b.s_ci_high),
        ):
            assert got == pytest.approx((want.value, want.ci_low, want.ci_high), nan_ok=True)
    # the two column versions agree exactly
    pd.testing.assert_frame_equal(
        a[["rate", "ci_low", "ci_high"]],
        b[["s_rate", "s_ci_low", "s_ci_high"]].set_axis(["rate", "ci_low", "ci_high"], axis=1),
    )


def test_raise_on_zero_denominator() -> None:
    eager = frame().collect()
    with pytest.raises(ZeroDenominatorError, match="test: 1 row"):
        raise_on_zero_denominator(eager, "d", "test")
    raise_on_zero_denominator(eager.filter(nw.col("d") > 0), "d", "test")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.5, 0.999),
)
def test_interval_contains_the_estimate_and_stays_in_bounds(
    counts: tuple[int, int], confidence: float
) -> None:
    k, n = counts
    low, high = wilson_interval(k, n, confidence=confidence)
    if n == 0:
        assert math.isnan(low)
        assert math.isnan(high)
        return
    assert 0.0 <= low <= k / n <= high <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_narrows_with_n_at_a_fixed_rate(counts: tuple[int, int]) -> None:
    k, n = counts
    widths = [
        (lambda lo_hi: lo_hi[1] - lo_hi[0])(wilson_interval(k * m, n * m)) for m in (1, 2, 4, 8)
    ]
    assert all(b < a for a, b in itertools.pairwise(widths))
