"""Security hygiene: no eval/exec/pickle of data, no network, safe CLI paths."""

from __future__ import annotations

import re
import socket
from datetime import date
from pathlib import Path

import pytest

import pipelinekit as pk
from pipelinekit.cli import main

SRC = Path(__file__).parents[1] / "src" / "pipelinekit"
FORBIDDEN = re.compile(
    r"\b(eval|exec)\s*\(|\bpickle\b|\bmarshal\b|\bshelve\b|read_pickle|allow_pickle\s*=\s*True"
    r"|yaml\.load\s*\(|\bos\.system\s*\(|shell\s*=\s*True"
)


def test_no_eval_exec_or_pickle_in_source() -> None:
    hits = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line) and not line.lstrip().startswith("#")
    ]
    assert hits == []


def test_report_makes_no_network_access(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    report = pk.report(pk.sample_dataset(), as_of="2025-12-31")
    assert report.to_json()
    for fmt in ("text", "html"):
        assert main(["report", "--format", fmt, "--as-of", "2025-12-31"]) == 0
    capsys.readouterr()


def test_data_dir_that_is_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "leads.csv"
    file.write_text("lead_id\n")
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert "not a directory" in err
    assert "Traceback" not in err


def test_missing_data_dir_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_output_into_data_dir_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "leads.csv").write_text("lead_id,created_at,origin\nL1,2025-04-01,inbound\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["report", str(tmp_path), "--as-of", "2025-04-30", "-o", str(tmp_path / "r.txt")])
    assert code == 2
    assert "data directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_output_outside_data_dir_writes_only_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text("lead_id,created_at,origin\nL1,2025-04-01,inbound\n")
    out = tmp_path / "out" / "report.md"
    code = main(
        ["report", str(data), "--as-of", "2025-04-30", "--format", "markdown", "-o", str(out)]
    )
    capsys.readouterr()
    assert code == 0
    assert sorted(p.name for p in data.iterdir()) == ["leads.csv"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.md"]


def test_exported_tables_neutralise_formulas(tmp_path: Path) -> None:
    import pandas as pd

    from pipelinekit.reporting.export import safe_frame, write_tables_csv
    from pipelinekit.reporting.model import Report, Section

    frame = pd.DataFrame(
        {
            "source": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "web", None],
            "n": [1, -2, 3, 4, 5, 6, 7],
        }
    )
    safe = safe_frame(frame)
    assert safe["source"].tolist()[:6] == [
        "'=cmd|' /C calc'!A0",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "web",
    ]
    assert pd.isna(safe["source"].iloc[6])
    assert safe["n"].tolist() == [1, -2, 3, 4, 5, 6, 7]  # numbers stay numbers
    assert frame["source"].iloc[0].startswith("=")  # the input is not modified
    rep = Report(
        as_of=date(2025, 1, 1),
        as_of_source="given",
        tz="Asia/Tokyo",
        summary={},
        sections=(Section(key="s", title="S", tables={"t": frame}),),
    )
    (path,) = write_tables_csv(rep, tmp_path / "tables")
    text = path.read_text()
    assert "\n=" not in text
    assert ",=" not in text
    assert "'=cmd" in text


def test_cli_tables_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipelinekit.cli import main

    assert (
        main(
            [
                "report",
                "--as-of",
                "2025-06-30",
                "--tables-dir",
                str(tmp_path / "t"),
                "--format",
                "json",
                "-o",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert "funnel__overall.csv" in names
    assert not [n for n in names if n.startswith(".")]
