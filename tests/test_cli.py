"""The command line: exit codes, stdout/stderr split, JSON contract, no writes into data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelinekit.cli import main
from pipelinekit.reporting.summary import SUMMARY_KEYS
from pipelinekit.sample import write_sample


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    write_sample(path, leads=300, seed=3)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_json_on_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc["summary"]) == list(SUMMARY_KEYS)
    assert doc["as_of_source"] == "latest timestamp in the data"
    assert "as_of" in err  # the note about the chosen as_of goes to stderr
    rate = doc["summary"]["lead_to_sql_rate"]
    assert set(rate) == {"numerator", "denominator", "value"}
    assert rate["value"] == pytest.approx(rate["numerator"] / rate["denominator"])


def test_report_is_deterministic_and_respects_as_of(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    first = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", "json")
    second = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", "json")
    assert first[0] == 0
    assert first[1] == second[1]
    doc = json.loads(first[1])
    assert doc["as_of"] == "2025-06-30"
    assert doc["as_of_source"] == "given"


def test_text_and_markdown_formats(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30")
    assert code == 0
    assert "Lead to SQL rate" in out
    code, out, _ = run(capsys, "report", str(data_dir), "--format", "markdown", "--lang", "ja")
    assert code == 0
    assert "| 商談化率 |" in out


def test_output_file_is_written_and_data_dir_untouched(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    before = sorted((p.name, p.stat().st_mtime_ns) for p in data_dir.iterdir())
    target = tmp_path / "out" / "report.json"
    code, out, _ = run(capsys, "report", str(data_dir), "--format", "json", "-o", str(target))
    assert code == 0
    assert out == ""
    assert list(json.loads(target.read_text())["summary"]) == list(SUMMARY_KEYS)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in data_dir.iterdir()) == before
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temp files left


def test_output_into_data_dir_is_refused(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(capsys, "report", str(data_dir), "-o", str(data_dir / "r.txt"))
    assert code == 2
    assert "data directory" in err
    assert not (data_dir / "r.txt").exists()


def test_invalid_input_exits_2_with_problem_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,origin\nL1,2025-04-01,inbound\nL1,not a date,webinar\n"
    )
    code, out, err = run(capsys, "validate", str(tmp_path))
    assert code == 2
    assert out == ""
    assert "duplicate" in err
    assert "not a date" in err
    assert "webinar" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "report", str(tmp_path), "--errors", "json")
    assert code == 2
    rules = {p["rule"] for p in json.loads(err)}
    assert {"duplicate_id", "unknown_enum"} <= rules


def test_missing_directory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "report", str(tmp_path / "nope"))
    assert code == 2
    assert "nope" in err


def test_validate_ok_and_sample_command(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    code, out, err = run(capsys, "validate", str(data_dir))
    assert code == 0
    assert out == ""
    assert "valid" in err
    code, _, _ = run(capsys, "sample", str(tmp_path / "s"), "--leads", "50", "--seed", "1")
    assert code == 0
    assert (tmp_path / "s" / "leads.csv").exists()


def test_unexpected_errors_exit_1_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("pipelinekit.reporting.build_report", boom)
    code, _, err = run(capsys, "report")
    assert code == 1
    assert "boom" in err
    assert "Traceback" not in err
    assert "--debug" in err
    code, _, err = run(capsys, "--debug", "report")
    assert code == 1
    assert "Traceback" in err


def test_console_script_is_declared() -> None:
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'pipelinekit = "pipelinekit.cli:main"' in text
    assert os.access(Path(__file__).parents[1] / ".ci" / "run", os.X_OK)
