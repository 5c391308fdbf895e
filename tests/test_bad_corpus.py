"""The bad-input corpus (tests/data/bad/): every case gives exactly its expected problems.

Each case directory holds table files and ``expected.json`` (see
``tests/data/bad/make_corpus.py``, which writes them). ``read_dataset`` must report
exactly the expected problems, in order, and the ``validate`` command must exit with
the expected code and never print a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.errors import Problem, SchemaError

CORPUS = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())
FIELDS = ("table", "column", "rule", "row", "id", "severity")


def expected_of(name: str) -> dict[str, Any]:
    return dict(json.loads((CORPUS / name / "expected.json").read_text(encoding="utf-8")))


def as_record(problem: Problem, with_value: bool) -> dict[str, Any]:
    record = {field: getattr(problem, field) for field in FIELDS}
    if with_value:
        record["value"] = problem.value
    return record


def read(name: str, encoding: str) -> tuple[list[Problem], pk.Dataset | None, str]:
    """(problems, dataset or None, message) of reading one case."""
    try:
        dataset = pk.read_dataset(CORPUS / name, encoding=encoding)
    except SchemaError as err:
        return err.problems, None, str(err)
    return list(dataset.warnings), dataset, ""


def cell_text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def check(name: str, expected: dict[str, Any]) -> None:
    encoding = expected.get("encoding", "utf-8")
    problems, dataset, message = read(name, encoding)
    want = expected["problems"]
    got = [as_record(p, "value" in w) for p, w in zip(problems, want, strict=False)]
    got += [as_record(p, False) for p in problems[len(want) :]]
    assert got == want
    assert "Traceback" not in message
    if expected["exit_code"] == 2:
        assert dataset is None
        assert " in the input (" in message.splitlines()[0]
    else:
        assert dataset is not None
    for table, columns in expected.get("canonical", {}).items():
        assert dataset is not None
        frame = dataset.table(table)
        for column, values in columns.items():
            assert [cell_text(v) for v in frame[column].tolist()] == values, (table, column)


@pytest.mark.parametrize("name", CASES)
def test_case_reports_exact_problems(name: str) -> None:
    expected = expected_of(name)
    check(name, expected)
    if "also" in expected:
        check(name, expected["also"])


@pytest.mark.parametrize("name", CASES)
def test_validate_command_exit_code(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = expected_of(name)
    variants = [expected, *([expected["also"]] if "also" in expected else [])]
    for variant in variants:
        args = ["validate", str(CORPUS / name)]
        if "encoding" in variant:
            args += ["--encoding", variant["encoding"]]
        code = main(args)
        out, err = capsys.readouterr()
        assert code == variant["exit_code"]
        assert out == ""
        assert "Traceback" not in err
        if code == 2:
            assert err.startswith("error: invalid input")
            for problem in variant["problems"]:
                assert problem["rule"] in err


def test_corpus_size() -> None:
    assert len(CASES) >= 40


def test_corpus_is_up_to_date(tmp_path: Path) -> None:
    """The checked-in case directories are exactly what make_corpus.py writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    for folder in tmp_path.iterdir():
        for file in folder.iterdir():
            assert (CORPUS / folder.name / file.name).read_bytes() == file.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == CASES


def test_encoding_error_names_file_and_hint() -> None:
    problems, _, message = read("shift_jis_excel_export", "utf-8")
    first = problems[0]
    assert "leads.csv" in first.message
    assert "utf-8" in first.message
    assert first.hint is not None
    assert "--encoding cp932" in first.hint
    assert "--encoding cp932" in message
