"""Invariants under fault: no mutation, determinism, atomic output, size limits.

Every public function of ``pipelinekit.__all__`` that takes frames is called on the
bundled sample (pandas and polars) and must leave its inputs unchanged (content hash
and deep-copy equality). A new public function fails ``test_every_public_function_is_
covered`` until it is added to ``CALLS`` or ``NO_FRAMES``.
"""

from __future__ import annotations

import copy
import functools
import gzip
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.dataset import Dataset
from pipelinekit.domain import Rep
from pipelinekit.io import files as io_files

AS_OF = "2025-12-31"
SRC = Path(__file__).parents[1] / "src"

#: Public callables that take no frames (checked to stay that way).
NO_FRAMES = {
    "from_objects",  # domain objects in, a new frame out
    "kpi_table",  # a built Report in (tests/reporting/test_export.py)
    "rate",
    "read_dataset",
    "sample_dataset",
    "two_proportion_z_test",
    "wilson_interval",
    "write_tables",  # a built Report in, files out (tests/reporting/test_export.py)
}

Tables = dict[str, Any]


def _journey(t: Tables) -> Any:
    return pk.journey(t["leads"], t["activities"], t["opportunities"], as_of=AS_OF)


def _stages(t: Tables) -> Any:
    return pk.stage_funnel(t["opportunities"], stage_changes=t["stage_changes"], as_of=AS_OF)


#: name -> call(tables) using the tables by their parameter names; derived inputs
#: (journey, funnel table, stage table) are computed first, then hashed too.
CALLS: dict[str, Callable[[Tables], Any]] = {
    "abm_before_after": lambda t: pk.abm_before_after(
        t["leads"],
        t["activities"],
        t["opportunities"],
        target_accounts=["acc-000001", "acc-000002"],
        start_date="2025-06-01",
        as_of=AS_OF,
    ),
    "bottleneck": lambda t: pk.bottleneck(pk.funnel(_journey(t))),
    "funnel": lambda t: pk.funnel(_journey(t)),
    "stage_bottleneck": lambda t: pk.stage_bottleneck(_stages(t)),
    "stage_funnel": lambda t: _stages(t),
    "to_objects": lambda t: pk.to_objects(t["reps"], Rep),
    "win_rate_by": lambda t: pk.win_rate_by(
        t["opportunities"], t["leads"], t["accounts"], by="origin", as_of=AS_OF
    ),
    "pipeline_movement": lambda t: pk.pipeline_movement(
        t["opportunities"],
        history=t["opportunity_history"],
        stage_changes=t["stage_changes"],
        start="2025-09-30",
        end=AS_OF,
        close_period=("2025-10-01", AS_OF),
        by="owner_id",
    ),
    "pipeline_movement_deals": lambda t: pk.pipeline_movement_deals(
        t["opportunities"],
        history=t["opportunity_history"],
        start="2025-09-30",
        end=AS_OF,
        close_period=("2025-10-01", AS_OF),
    ),
    "pipeline_snapshot": lambda t: pk.pipeline_snapshot(
        t["opportunities"], history=t["opportunity_history"], on=("2025-10-01", AS_OF), freq="month"
    ),
    "pipeline_trend": lambda t: pk.pipeline_trend(
        t["opportunities"],
        history=t["opportunity_history"],
        on=("2025-07-01", AS_OF),
        freq="week",
        by="stage",
        close_period=("2025-10-01", AS_OF),
        stage_changes=t["stage_changes"],
    ),
    "quota_attainment": lambda t: pk.quota_attainment(
        t["quotas"],
        opportunities=t["opportunities"],
        activities=t["activities"],
        reps=t["reps"],
        history=t["opportunity_history"],
        as_of=AS_OF,
        rollup="team",
    ),
    "pipeline_coverage": lambda t: pk.pipeline_coverage(
        t["quotas"], opportunities=t["opportunities"], reps=t["reps"], as_of=AS_OF
    ),
    "forecast_accuracy": lambda t: pk.forecast_accuracy(
        t["quotas"],
        opportunities=t["opportunities"],
        reps=t["reps"],
        history=t["opportunity_history"],
        as_of=AS_OF,
    ),
    "latest_date": lambda t: pk.latest_date(Dataset(**t)),
    "report": lambda t: pk.report(Dataset(**t), as_of=AS_OF),
    "summary": lambda t: pk.summary(Dataset(**t), as_of=AS_OF),
}

_TABLE_NAMES = set(pk.TABLES)


def _generic_call(name: str) -> Callable[[Tables], Any]:
    """Positional frames by parameter name; required keyword ``as_of`` given."""
    function = getattr(pk, name)
    params = inspect.signature(function).parameters.values()
    positional = [
        p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in _TABLE_NAMES
    ]
    keywords = {"as_of": AS_OF} if "as_of" in inspect.signature(function).parameters else {}

    def call(t: Tables) -> Any:
        return function(*(t[n] for n in positional), **keywords)

    return call


def _frame_functions() -> list[str]:
    return sorted(
        name
        for name in pk.__all__
        if inspect.isfunction(getattr(pk, name)) and name not in NO_FRAMES
    )


def _call_for(name: str) -> Callable[[Tables], Any]:
    return CALLS.get(name) or _generic_call(name)


def test_every_public_function_is_covered() -> None:
    """Each public function takes a frame parameter we know how to fill, or is listed."""
    for name in _frame_functions():
        if name in CALLS:
            continue
        params = inspect.signature(getattr(pk, name)).parameters
        first = next(iter(params))
        assert first in _TABLE_NAMES, f"{name}: add it to CALLS or NO_FRAMES"
        required_keywords = {
            p.name for p in params.values() if p.kind is p.KEYWORD_ONLY and p.default is p.empty
        }
        assert required_keywords <= {"as_of"}, f"{name}: add it to CALLS ({required_keywords})"
    for name in NO_FRAMES:
        assert name in pk.__all__


# ------------------------------------------------------------------- no mutation


def _fingerprint(frame: Any) -> Any:
    if isinstance(frame, pd.DataFrame):
        return (
            list(frame.columns),
            [str(d) for d in frame.dtypes],
            list(frame.index),
            pd.util.hash_pandas_object(frame, index=True).tolist(),
        )
    assert isinstance(frame, pl.DataFrame)
    return (frame.columns, [str(d) for d in frame.dtypes], frame.hash_rows(seed=0).to_list())


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, pd.DataFrame):
        return bool(before.equals(after)) and list(before.dtypes) == list(after.dtypes)
    return bool(before.equals(after))


@pytest.fixture(scope="module", params=["pandas", "polars"])
def sample(request: pytest.FixtureRequest) -> Tables:
    return dict(pk.sample_dataset(backend=request.param))


@pytest.mark.parametrize("name", _frame_functions())
def test_inputs_are_not_mutated(name: str, sample: Tables) -> None:
    copies = {k: copy.deepcopy(v) for k, v in sample.items()}
    prints = {k: _fingerprint(v) for k, v in sample.items()}
    _call_for(name)(sample)
    for table, frame in sample.items():
        assert _fingerprint(frame) == prints[table], (name, table)
        assert _same(copies[table], frame), (name, table)


def test_derived_inputs_are_not_mutated(sample: Tables) -> None:
    journey = _journey(sample)
    funnel = pk.funnel(journey)
    stages = _stages(sample)
    frames = {"journey": journey, "funnel": funnel, "stages": stages}
    prints = {k: _fingerprint(v) for k, v in frames.items()}
    pk.funnel(journey)
    pk.bottleneck(funnel)
    pk.stage_bottleneck(stages)
    assert {k: _fingerprint(v) for k, v in frames.items()} == prints


# ------------------------------------------------------------------ determinism


def _report_json(dataset: Dataset) -> str:
    return str(pk.report(dataset, as_of=AS_OF).to_json())


def test_report_json_bytes_are_identical_twice(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for _ in range(2):
        assert main(["report", "--format", "json", "--as-of", AS_OF]) == 0
        outputs.append(capsys.readouterr().out.encode())
    assert outputs[0] == outputs[1]


@functools.cache
def _pandas_sample_json() -> str:
    return _report_json(pk.sample_dataset())


def test_report_does_not_depend_on_row_order() -> None:
    dataset = pk.sample_dataset()
    shuffled = Dataset(
        **{
            name: frame.sample(frac=1.0, random_state=11).reset_index(drop=True)
            for name, frame in dataset
        }
    )
    assert _report_json(shuffled) == _pandas_sample_json()


def test_polars_report_equals_pandas_report() -> None:
    assert _report_json(pk.sample_dataset(backend="polars")) == _pandas_sample_json()


_THREADS_SCRIPT = f"""
import sys
import pipelinekit as pk
ds = pk.sample_dataset(backend="polars")
sys.stdout.write(pk.report(ds, as_of="{AS_OF}").to_json())
"""


def _run_report(threads: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    env["PYTHONPATH"] = str(SRC)
    if threads is not None:
        env["POLARS_MAX_THREADS"] = threads
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_report_does_not_depend_on_thread_count() -> None:
    single = _run_report("1")
    assert json.loads(single)["as_of"] == AS_OF
    assert single == _run_report(None)


# --------------------------------------------------------------- atomic output


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_text("old report")
    real_write_bytes = Path.write_bytes

    def half_then_fail(self: Path, data: bytes) -> int:
        real_write_bytes(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    code = main(["report", "--format", "json", "--as-of", AS_OF, "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 1
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert target.read_text() == "old report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_failed_write_of_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.md"

    def fail(self: Path, data: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", fail)
    code = main(["report", "--format", "markdown", "--as-of", AS_OF, "-o", str(target)])
    capsys.readouterr()
    assert code == 130
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ size limits


def _leads_dir(tmp_path: Path, rows: int = 50) -> Path:
    body = "".join(f"L{i},2025-04-01,inbound\n" for i in range(rows))
    (tmp_path / "leads.csv").write_text("lead_id,created_at,origin\n" + body)
    return tmp_path


def test_file_over_configured_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _leads_dir(tmp_path)
    size = (folder / "leads.csv").stat().st_size
    monkeypatch.setenv(io_files.MAX_FILE_BYTES_ENV, "100")
    with pytest.raises(pk.PipelineKitError) as err:
        pk.read_dataset(folder)
    message = str(err.value)
    assert f"leads.csv is {size:,} bytes" in message
    assert "100 bytes" in message
    assert "hint:" in message
    assert main(["validate", str(folder)]) == 2
    assert "over the limit" in capsys.readouterr().err


def test_gzip_limit_uses_uncompressed_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "lead_id,created_at,origin\n" + "L1,2025-04-01,inbound\n" * 1
    (tmp_path / "leads.csv.gz").write_bytes(gzip.compress(text.encode() * 1, mtime=0))
    (tmp_path / "activities.csv.gz").write_bytes(gzip.compress(b"a" * 10_000, mtime=0))
    monkeypatch.setenv(io_files.MAX_FILE_BYTES_ENV, "5000")
    with pytest.raises(pk.PipelineKitError, match=r"activities\.csv\.gz is 10,000 bytes"):
        pk.read_dataset(tmp_path)


def test_file_larger_than_memory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _leads_dir(tmp_path)
    monkeypatch.setattr(io_files, "_available_memory", lambda: 1000)
    with pytest.raises(pk.PipelineKitError, match="only 1,000 are available"):
        pk.read_dataset(folder)


def test_bad_limit_setting_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(io_files.MAX_FILE_BYTES_ENV, "10MB")
    with pytest.raises(pk.ConfigError, match=io_files.MAX_FILE_BYTES_ENV):
        pk.read_dataset(_leads_dir(tmp_path))


def test_files_within_limits_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(io_files.MAX_FILE_BYTES_ENV, str(10**6))
    assert len(pk.read_dataset(_leads_dir(tmp_path)).table("leads")) == 50
