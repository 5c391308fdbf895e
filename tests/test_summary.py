"""Every summary key: by hand on a tiny dataset, and against a plain-Python reference."""

from __future__ import annotations

import math

import polars as pl
import pytest

from pipelinekit import Dataset, Rate
from pipelinekit.reporting.summary import SUMMARY_KEYS, summary

from .reference import reference_summary
from .tiny import AS_OF, EXPECTED_SUMMARY, tiny_dataset


def assert_matches(result: dict[str, object], expected: dict[str, object]) -> None:
    assert list(result) == list(SUMMARY_KEYS)
    for key in SUMMARY_KEYS:
        got, want = result[key], expected[key]
        if isinstance(want, tuple):
            assert isinstance(got, Rate), key
            assert (got.numerator, got.denominator) == want, key
            if want[1]:
                assert got.value == pytest.approx(want[0] / want[1]), key
            else:
                assert math.isnan(got.value), key
        else:
            assert got == pytest.approx(want), key


def test_tiny_dataset_summary_by_hand() -> None:
    assert_matches(summary(tiny_dataset(), as_of=AS_OF), EXPECTED_SUMMARY)


def test_tiny_dataset_summary_on_polars() -> None:
    ds = tiny_dataset()
    polars_ds = Dataset(**{name: pl.from_pandas(frame) for name, frame in ds.tables().items()})
    assert_matches(summary(polars_ds, as_of=AS_OF), EXPECTED_SUMMARY)


def test_reference_agrees_with_hand_values() -> None:
    assert reference_summary(tiny_dataset().tables(), AS_OF) == EXPECTED_SUMMARY


def test_as_of_string_and_date_agree() -> None:
    ds = tiny_dataset()
    assert summary(ds, as_of="2025-04-30")["leads"] == summary(ds, as_of=AS_OF)["leads"]


def test_summary_does_not_mutate_inputs() -> None:
    ds = tiny_dataset()
    before = {name: frame.copy(deep=True) for name, frame in ds.tables().items()}
    summary(ds, as_of=AS_OF)
    for name, frame in ds.tables().items():
        assert frame.equals(before[name]), name


@pytest.mark.parametrize("as_of", ["2025-03-31", "2025-08-15", "2025-12-31"])
def test_bundled_sample_matches_plain_python_reference(as_of: str) -> None:
    from datetime import date

    from pipelinekit import sample_dataset

    ds = sample_dataset()
    day = date.fromisoformat(as_of)
    got = summary(ds, as_of=day)
    want = reference_summary(ds.tables(), day)
    assert_matches(got, want)


def test_generated_dataset_matches_reference_on_polars() -> None:
    from datetime import date

    from pipelinekit.sample import generate_sample

    tables = generate_sample(leads=400, seed=11)
    ds = Dataset(**{name: pl.from_pandas(frame) for name, frame in tables.items()})
    day = date(2025, 9, 30)
    assert_matches(summary(ds, as_of=day), reference_summary(tables, day))
