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

import dataclasses
import fnmatch
import json
import pathlib
from typing import Any

import pandas as pd
import pytest

from pipelinekit import Cadence, Dataset, sample_dataset
from pipelinekit.reporting.build import SECTION_KEYS, build_report
from pipelinekit.sample import generate_sample
from tests.engines.datasets import edge_dataset
from tests.engines.datasets import sample_dataset as small_sample
from tests.engines.registry import REGISTRY
from tests.engines.runner import EngineInputs, call
from tests.golden.capture import LARGE, LARGE_AS_OF, plain, table_digest

DATA = pathlib.Path(__file__).parent / "data"

#: Functions that moved to another module since the golden files were written:
#: (old module, new module) -> function names.
_MOVED: dict[tuple[str, str], tuple[str, ...]] = {
    ("metrics.activity", "metrics.approach"): (
        "next_business_day_rate",
        "same_day_approach_rate",
        "speed_to_lead",
    ),
    ("metrics.pipeline", "metrics.outcomes"): (
        "average_won_amount",
        "pipeline_velocity",
        "sales_cycle",
        "win_rate",
        "win_rate_by",
    ),
    ("metrics.abm", "metrics.bdr"): ("bdr_kpis", "nurturing_kpis"),
}
_SECTIONS = (
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

#: Old registry name -> today's name of the same call.
RENAMED: dict[str, str] = {
    **{f"metrics.{key}.report_section": f"reporting.sections.{key}" for key in _SECTIONS},
    **{f"{old}.{name}": f"{new}.{name}" for (old, new), names in _MOVED.items() for name in names},
}

_CADENCE_DEFAULT = (
    "the default Cadence counts every lead whatever its action_status (DESIGN 5C2M and "
    "the summary's cadence_5c2m_rate); it left out no_action_needed leads before, so the "
    "report showed two definitions under one label"
)

#: Golden entries that changed on purpose: path pattern (fnmatch) -> reason. A path is
#: ``dataset|call|label/part/...`` for calls and ``report/sections/key/...`` for reports.
CHANGED: dict[str, str] = {
    "*|metrics.cadence.report_section|/overall": _CADENCE_DEFAULT,
    "*|metrics.cadence.report_section|/by_owner": _CADENCE_DEFAULT,
    "*|metrics.cadence.report_section|/by_month": _CADENCE_DEFAULT,
    "*|reporting.build_report|/sections/cadence/overall": _CADENCE_DEFAULT,
    "*|reporting.build_report|/sections/cadence/by_owner": _CADENCE_DEFAULT,
    "*|reporting.build_report|/sections/cadence/by_month": _CADENCE_DEFAULT,
    "*/sections/cadence/tables/overall": _CADENCE_DEFAULT,
    "*/sections/cadence/tables/by_owner": _CADENCE_DEFAULT,
    "*/sections/cadence/tables/by_month": _CADENCE_DEFAULT,
    "*/sections/cadence/notes": _CADENCE_DEFAULT,
    "bundled/text": _CADENCE_DEFAULT,
}

#: Calls whose defaults changed on purpose are compared with the old defaults passed
#: explicitly: registry name -> keyword arguments that restore them.
OLD_DEFAULTS: dict[str, dict[str, Any]] = {
    "metrics.cadence.cadence_compliance": {
        "cadence": Cadence(excluded_statuses=("no_action_needed",))
    },
    "metrics.cadence.cadence_summary": {
        "cadence": Cadence(excluded_statuses=("no_action_needed",))
    },
}


_CYCLE_EXCLUDED = (
    "duration statistics leave out negative durations and say how many: won deals "
    "closed before they were created are left out of the cycle and counted in the new "
    "column (the old columns must not move)"
)

#: Columns added to a call's output since the golden files were written: registry name
#: -> (columns, reason). They are dropped before comparing, so every old column of the
#: call is still compared exactly.
NEW_CALL_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "metrics.outcomes.sales_cycle": (("excluded_negative_count",), _CYCLE_EXCLUDED),
    "metrics.outcomes.pipeline_velocity": (("excluded_negative_count",), _CYCLE_EXCLUDED),
    "metrics.mix.origin_comparison": (("excluded_negative_count",), _CYCLE_EXCLUDED),
}


def _without_new_columns(name: str, value: Any) -> Any:
    columns = NEW_CALL_COLUMNS.get(name, ((), ""))[0]
    if isinstance(value, pd.DataFrame) and columns:
        assert set(columns) <= set(value.columns), (name, columns)
        return value.drop(columns=list(columns))
    return value


def _changed(where: str) -> bool:
    return any(fnmatch.fnmatchcase(where, pattern) for pattern in CHANGED)


#: Report sections added after the golden files were written -> what they are. They are
#: left out of the comparisons (every section that existed then must not move).
NEW_SECTIONS: dict[str, str] = {
    "conversion": "conversion over time: cohort curves, stage-to-win odds, attribution",
    "history": "pipeline history: the pipeline on past days, its trend and its waterfall",
    "targets": "targets: quota attainment and pace, pipeline coverage, forecast accuracy",
}

#: The report parts the golden files hold.
GOLDEN_PARTS = [key for key in SECTION_KEYS if key not in NEW_SECTIONS]


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
    if _changed(where):
        return
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
    today = RENAMED.get(name, name)
    recipes = [r for r in REGISTRY[today] if r.label == label]
    assert len(recipes) == 1, f"no recipe {today!r} labelled {label!r}"
    recipe = recipes[0]
    if today in OLD_DEFAULTS:
        recipe = dataclasses.replace(recipe, kwargs={**recipe.kwargs, **OLD_DEFAULTS[today]})
    got = _without_new_columns(
        today, _without_new_sections(plain(call(today, recipe, inputs[dataset])))
    )
    _same(got, golden_calls[key], key)


def _compare_reports(got: dict[str, Any], want: dict[str, Any], name: str) -> None:
    assert got["summary"] == want["summary"], f"{name}: summary"
    for key, section in want["sections"].items():
        path = f"{name}/sections/{key}"
        assert key in got["sections"], path
        new = got["sections"][key]
        assert new["title"] == section["title"], path
        if not _changed(f"{path}/notes"):
            assert new["notes"] == section["notes"], path
        assert list(new["tables"]) == list(section["tables"]), path
        for table, rows in section["tables"].items():
            if not _changed(f"{path}/tables/{table}"):
                assert new["tables"][table] == rows, f"{path}/tables/{table}"
    assert got["as_of"] == want["as_of"]
    assert got["warnings"] == want["warnings"]


def test_bundled_sample_report_matches_golden() -> None:
    got = json.loads(build_report(sample_dataset(), sections=GOLDEN_PARTS).to_json())
    want = json.loads((DATA / "report_bundled.json").read_text())
    _compare_reports(got, want, "bundled")


def test_bundled_sample_text_report_matches_golden() -> None:
    want = (DATA / "report_bundled.txt").read_text().rstrip("\n").splitlines()
    got = build_report(sample_dataset(), sections=GOLDEN_PARTS).to_text().rstrip("\n").splitlines()
    if _changed("bundled/text"):
        # outside the cadence section every line is the same
        assert _without_section(got, "Cadence") == _without_section(want, "Cadence")
    else:
        assert got == want


def _without_section(lines: list[str], title: str) -> list[str]:
    out, skipping = [], False
    for line in lines:
        if line.startswith("== "):
            skipping = line.startswith(f"== {title}")
        if not skipping:
            out.append(line)
    return out


def test_large_generated_report_matches_golden() -> None:
    tables = generate_sample(**LARGE)
    digests = json.loads((DATA / "large_tables.json").read_text())
    for name, digest in digests.items():
        assert table_digest(tables[name][_golden_columns(name, tables)]) == digest, name
    report = build_report(Dataset(**tables), as_of=LARGE_AS_OF, sections=GOLDEN_PARTS)
    _compare_reports(
        json.loads(report.to_json()), json.loads((DATA / "report_large.json").read_text()), "large"
    )


#: Columns the sample generator added after the golden digests were taken (from their
#: own random stream, so the other columns did not move).
NEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "opportunities": ("expected_close_on", "forecast_category"),
    "reps": ("team",),
}


def _golden_columns(name: str, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The columns the golden digest was taken over (later columns are new)."""
    return [c for c in tables[name].columns if c not in NEW_COLUMNS.get(name, ())]


def _golden_paths() -> list[str]:
    paths = ["bundled/text"]
    index = json.loads((DATA / "calls.json").read_text())

    def walk(prefix: str, value: Any) -> None:
        paths.append(prefix)
        if isinstance(value, dict) and set(value) != {"__frame__"}:
            for key, item in value.items():
                walk(f"{prefix}/{key}", item)

    for key, value in index.items():
        walk(key, value)
    for name in ("bundled", "large"):
        report = json.loads((DATA / f"report_{name}.json").read_text())
        for key, section in report["sections"].items():
            paths.append(f"{name}/sections/{key}/notes")
            paths.extend(f"{name}/sections/{key}/tables/{t}" for t in section["tables"])
    return paths


def test_every_changed_entry_names_golden_data() -> None:
    paths = _golden_paths()
    stale = [p for p in CHANGED if not any(fnmatch.fnmatchcase(x, p) for x in paths)]
    assert stale == [], f"CHANGED entries that match no golden data: {stale}"
