"""The numbers did not move: today's outputs against the golden files.

The golden files (``tests/golden/data``) were written by ``tests/golden/capture.py``
before the facts-layer refactor: every registered public call on the conformance
datasets (frames compared exactly, scalars equal) and the full report of the bundled
sample and of a generated 100,000-lead dataset (JSON compared key by key, section
tables value by value). ``RENAMED`` maps a call's old registry name to its new one;
``CHANGED`` lists the deliberate changes of definition since then, each with its
reason, and nothing else may differ.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pandas as pd
import pytest

from pipelinekit import Dataset, sample_dataset
from pipelinekit.reporting.build import SECTION_KEYS, build_report
from pipelinekit.sample import generate_sample
from tests.engines.datasets import edge_dataset
from tests.engines.datasets import sample_dataset as small_sample
from tests.engines.registry import REGISTRY
from tests.engines.runner import EngineInputs, call
from tests.golden.capture import LARGE, LARGE_AS_OF, plain, table_digest

DATA = pathlib.Path(__file__).parent / "data"

#: Old registry name -> today's name of the same call.
RENAMED: dict[str, str] = {
    f"metrics.{key}.report_section": f"reporting.sections.{key}"
    for key in (
        "abm",
        "activity",
        "allocation",
        "assets",
        "cadence",
        "campaigns",
        "funnel",
        "mix",
        "pipeline",
        "queues",
    )
}

#: Golden entries that changed on purpose: (call or report path) -> reason.
CHANGED: dict[str, str] = {}

#: Report sections added after the golden files were written -> what they are. They are
#: left out of the comparisons (every section that existed then must not move).
NEW_SECTIONS: dict[str, str] = {
    "conversion": "conversion over time: cohort curves, stage-to-win odds, attribution",
}


def _without_new_sections(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("sections"), dict):
        sections = {k: v for k, v in value["sections"].items() if k not in NEW_SECTIONS}
        return {**value, "sections": sections}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__frame__"}:
        return pd.read_parquet(DATA / "frames" / value["__frame__"])
    if isinstance(value, dict):
        return {k: _load(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def golden_calls() -> dict[str, Any]:
    index = json.loads((DATA / "calls.json").read_text())
    return {key: _load(value) for key, value in index.items()}


@pytest.fixture(scope="module")
def inputs() -> dict[str, EngineInputs]:
    return {data.name: EngineInputs(data, "pandas") for data in (small_sample(), edge_dataset())}


def _same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, pd.DataFrame):
        assert isinstance(got, pd.DataFrame), where
        # floats to 12 significant digits, as the JSON report: polars sums in parallel,
        # so a mean can differ in its last bits from run to run
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True),
            want,
            check_exact=False,
            rtol=1e-12,
            atol=0.0,
            check_dtype=False,
            obj=where,
        )
        assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes], where
    elif isinstance(want, dict):
        assert isinstance(got, dict), where
        assert sorted(got) == sorted(want), where  # the index was stored with sorted keys
        for key in want:
            _same(got[key], want[key], f"{where}/{key}")
    elif isinstance(want, float) and want != want:
        assert got != got, where
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-12, abs=0.0), where
    else:
        assert got == want, where


def _golden_cases() -> list[tuple[str, str, str]]:
    index = json.loads((DATA / "calls.json").read_text())
    return [tuple(key.split("|")) for key in sorted(index)]  # type: ignore[misc]


@pytest.mark.parametrize(("dataset", "name", "label"), _golden_cases())
def test_public_call_matches_golden(
    dataset: str, name: str, label: str, golden_calls: dict[str, Any], inputs: Any
) -> None:
    key = f"{dataset}|{name}|{label}"
    if key in CHANGED:
        pytest.fail(f"{key} is listed as changed; compare it with its new expectation instead")
    today = RENAMED.get(name, name)
    recipes = [r for r in REGISTRY[today] if r.label == label]
    assert len(recipes) == 1, f"no recipe {today!r} labelled {label!r}"
    got = _without_new_sections(plain(call(today, recipes[0], inputs[dataset])))
    _same(got, golden_calls[key], key)


def _compare_reports(got: dict[str, Any], want: dict[str, Any], name: str) -> None:
    assert got["summary"] == want["summary"], f"{name}: summary"
    for key, section in want["sections"].items():
        path = f"{name}/sections/{key}"
        if path in CHANGED:
            continue
        assert key in got["sections"], path
        new = got["sections"][key]
        assert new["title"] == section["title"], path
        assert new["notes"] == section["notes"], path
        assert list(new["tables"]) == list(section["tables"]), path
        for table, rows in section["tables"].items():
            if f"{path}/{table}" in CHANGED:
                continue
            assert new["tables"][table] == rows, f"{path}/{table}"
    assert got["as_of"] == want["as_of"]
    assert got["warnings"] == want["warnings"]


def test_bundled_sample_report_matches_golden() -> None:
    got = json.loads(build_report(sample_dataset()).to_json())
    want = json.loads((DATA / "report_bundled.json").read_text())
    _compare_reports(got, want, "bundled")


def test_bundled_sample_text_report_matches_golden() -> None:
    want = (DATA / "report_bundled.txt").read_text()
    golden = [key for key in SECTION_KEYS if key not in NEW_SECTIONS]
    assert build_report(sample_dataset(), sections=golden).to_text() + "\n" == want


def test_large_generated_report_matches_golden() -> None:
    tables = generate_sample(**LARGE)
    digests = json.loads((DATA / "large_tables.json").read_text())
    for name, digest in digests.items():
        assert table_digest(tables[name][_golden_columns(name, tables)]) == digest, name
    got = json.loads(build_report(Dataset(**tables), as_of=LARGE_AS_OF).to_json())
    want = json.loads((DATA / "report_large.json").read_text())
    _compare_reports(got, want, "large")


def _golden_columns(name: str, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The columns the golden digest was taken over (later columns are new)."""
    return list(tables[name].columns)
