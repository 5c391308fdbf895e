"""Text, rich and Markdown renderings, the bilingual labels, and the CLI's formats."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit.cli import main
from pipelinekit.glossary import (
    GLOSSARY,
    SECTION_LABELS,
    TABLE_LABELS,
    column_label,
    section_title,
    table_label,
    value_label,
)
from pipelinekit.rates import rate
from pipelinekit.reporting import Note
from pipelinekit.reporting.model import Report, Section, format_cell, format_number
from pipelinekit.reporting.render import (
    _fixed_width,
    _width,
    render_markdown,
    render_rich,
    render_text,
    summary_rows,
)
from pipelinekit.reporting.sections import SECTIONS
from pipelinekit.reporting.summary import SUMMARY_KEYS
from pipelinekit.sample import generate_sample, write_sample

from ..tiny import AS_OF, tiny_dataset

ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: Owner table with a missing rate (0/0) and a pipe in a name.
OWNERS = pd.DataFrame(
    {
        "owner_id": ["rep-1", "a|b", None],
        "numerator": [3, 1, 0],
        "denominator": [10, 4, 0],
        "rate": [0.3, 0.25, math.nan],
    }
)


def small_report(**extra: object) -> Report:
    section = Section(
        key="cadence",
        title="Cadence compliance (5C2M)",
        tables={"by_owner": OWNERS, "by_month": OWNERS.iloc[0:0]},
        notes=(
            Note("last_full_month", {"month": "2025-12"}),
            Note("abm_targets", {"targets": 3, "uncovered": 1, "as_of": "2025-12-31"}),
        ),
    )
    options: dict[str, object] = {
        "as_of": date(2025, 12, 31),
        "as_of_source": "given",
        "tz": "Asia/Tokyo",
        "summary": {"leads": 2000, "won_amount": 1234567.0, "win_rate": rate(50, 176)},
        "sections": (section,),
    }
    options.update(extra)
    return Report(**options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- text


def test_text_report_in_english() -> None:
    text = render_text(small_report())
    assert text.startswith("pipelinekit KPI report\nas of 2025-12-31 (given), time zone Asia/Tokyo")
    # win rate 50 / 176 = 28.4%, Wilson interval [22.3%, 35.5%]
    assert re.search(r"Win rate\s+28\.4%\s+50 / 176  \[22\.3%, 35\.5%\]", text)
    assert re.search(r"Won amount\s+1,234,567", text)
    assert "== Cadence compliance (5C2M) ==" in text
    assert "-- By owner --" in text
    assert re.search(r"Owner\s+Numerator\s+Denominator\s+Rate", text)
    assert re.search(r"rep-1\s+3\s+10\s+30\.0%", text)
    assert re.search(r"n/a\s+0\s+0\s+n/a", text)  # missing owner and 0/0 rate
    assert "(no rows)" in text


def test_text_report_in_japanese() -> None:
    text = render_text(small_report(), lang="ja")
    assert text.startswith("pipelinekit KPIレポート\n基準日 2025-12-31（指定）")
    for term in ("受注率", "リード数", "受注金額", "担当者", "分子", "分母", "率"):
        assert term in text, term
    assert "== 5C2M遵守状況 ==" in text
    assert "前月：2025-12。" in text  # a translated note
    assert "ターゲット企業3社、うち2025-12-31までにリードがない企業1社。" in text
    assert "（該当なし）" in text or "(該当なし)" in text


def second_column_starts(lines: list[str], rows: list[list[str]]) -> set[int]:
    # a line is the padded first cell, two spaces, then the second cell
    return {_width(line) - _width(row[1]) for line, row in zip(lines, rows, strict=True)}


def test_text_columns_align_with_wide_characters() -> None:
    rows = [["担当者", "率"], ["rep-1", "30.0%"], ["山田太郎", "n/a"]]
    lines = _fixed_width(rows[0], rows[1:])
    # 山田太郎 is 8 columns wide: the second column starts at 8 + 2 = 10 on every line
    assert second_column_starts([lines[0], *lines[2:]], rows) == {10}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="abcあい漢字|<>&", max_size=8), st.text("xyz漢1", min_size=1)),
        max_size=6,
    )
)
def test_fixed_width_lines_are_aligned(rows: list[tuple[str, str]]) -> None:
    cells = [list(r) for r in rows]
    lines = _fixed_width(["key", "value"], cells)
    assert len(second_column_starts([lines[0], *lines[2:]], [["key", "value"], *cells])) == 1


def test_summary_rows_cover_every_key() -> None:
    report = pk.report(tiny_dataset(), as_of=AS_OF, sections="summary")
    rows = summary_rows(report, "ja")
    assert [r[0] for r in rows] == [GLOSSARY[k].ja for k in SUMMARY_KEYS]


# ----------------------------------------------------------------------- markdown


def test_markdown_escapes_cells_and_translates() -> None:
    md = render_markdown(small_report())
    assert "| a\\|b |" in md  # a pipe inside a cell does not break the table
    assert "## Cadence compliance (5C2M)" in md
    assert "> - Last full month: 2025-12." in md
    ja = render_markdown(small_report(), lang="ja")
    assert "| 受注率 | 28.4% |" in ja
    assert "### 担当者別" in ja
    evil = Section(
        key="x", title="x", tables={"t": pd.DataFrame({"source": ["<script>alert(1)</script>"]})}
    )
    page = render_markdown(small_report(sections=(evil,)))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_warnings_are_rendered() -> None:
    report = small_report(warnings=("leads.owner_id: 3 orphan ids",))
    assert "leads.owner_id: 3 orphan ids" in render_text(report)
    assert "- leads.owner_id: 3 orphan ids" in render_markdown(report)
    assert "警告" in render_markdown(report, lang="ja")


# --------------------------------------------------------------------------- rich


def test_rich_rendering_has_colours_and_labels() -> None:
    out = render_rich(small_report(), width=100)
    assert "\x1b[" in out
    plain = ANSI.sub("", out)
    assert "pipelinekit KPI report" in plain
    assert "Win rate" in plain
    assert "28.4%" in plain
    assert "By owner" in plain
    ja = ANSI.sub("", render_rich(small_report(), lang="ja", width=100))
    assert "受注率" in ja
    assert "担当者別" in ja


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    ("value", "column", "lang", "expected"),
    [
        (0.1245, "rate", "en", "12.4%"),  # .1% rounds half to even: 12.45 -> 12.4
        (0.5, "inbound_share", "en", "50.0%"),
        (1234567.0, "won_amount", "en", "1,234,567"),
        (13.9944, "mean_days", "en", "14"),
        (math.nan, "rate", "en", "n/a"),
        (None, "owner_id", "en", "n/a"),
        (pd.NaT, "created_at", "en", "n/a"),
        (pd.Timestamp("2025-01-01"), "period", "en", "2025-01-01"),
        (pd.Timestamp("2025-01-01 09:30"), "created_at", "en", "2025-01-01 09:30"),
        ("sql", "stage", "en", "SQL"),
        ("sql", "stage", "ja", "商談化（SQL）"),
        ("inbound", "direction", "ja", "着信・受信"),
        ("inbound", "origin", "ja", "インバウンド"),
        (3, "weekday", "ja", "水"),
        ("<b>", "source", "en", "<b>"),  # escaping is the html renderer's job
        (True, "win_rate_pile_up", "en", "true"),
    ],
)
def test_format_cell(value: object, column: str, lang: str, expected: str) -> None:
    assert format_cell(value, column, lang) == expected  # type: ignore[arg-type]


def test_compact_numbers() -> None:
    assert format_number(252157000.0, compact=True) == "252M"
    assert format_number(252157000.0, compact=True, lang="ja") == "2.5億"
    assert format_number(143528000.0, compact=True, lang="ja") == "1.4億"
    assert format_number(77739000.0, compact=True, lang="ja") == "7,774万"
    assert format_number(950.0, compact=True) == "950"
    assert format_number(math.inf) == "n/a"


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**15), max_value=10**15),
        st.text(max_size=10),
        st.booleans(),
    ),
    st.sampled_from(["rate", "sql_count", "stage", "weekday", "owner_id", "period"]),
    st.sampled_from(["en", "ja"]),
)
def test_format_cell_never_fails(value: object, column: str, lang: str) -> None:
    text = format_cell(value, column, lang)  # type: ignore[arg-type]
    assert isinstance(text, str)
    if not isinstance(value, str):
        assert text.lower() not in ("nan", "inf", "-inf", "none", "<na>")


# -------------------------------------------------------------------- glossary


def test_notes_translate_by_key_with_their_numbers() -> None:
    note = Note("best_hour", {"hour": 11, "rate": 0.2356, "numerator": 204, "denominator": 866})
    assert note.text("en") == (
        "Best outbound hour: 11:00 with a connect rate of 23.6% (204/866 calls)."
    )
    assert note.text("ja") == "最も接続しやすい発信時間帯：11時台、接続率23.6%（204/866件）。"
    params = {"from_stage": "connected", "stage": "sql", "rate": 0.194, "numerator": 249}
    params |= {"denominator": 1285, "ci_low": 0.173, "ci_high": 0.216}
    bottleneck = Note("funnel_bottleneck_overall", params)
    assert bottleneck.text("en") == (
        "Overall bottleneck: connected -> sql at 19.4% (249/1285, 95% CI 17.3%-21.6%)."
    )
    assert bottleneck.text("ja").startswith("全体のボトルネック：接続 → 商談化（SQL）")


def test_unknown_note_key_is_refused() -> None:
    with pytest.raises(pk.ConfigError, match="unknown note key"):
        Note("no_such_note")


def test_japanese_report_of_the_sample_has_no_untranslated_note() -> None:
    report = pk.report(pk.sample_dataset())
    english = {text for section in report.sections for text in section.note_texts("en")}
    for section in report.sections:
        for text in section.note_texts("ja"):
            assert text not in english, f"untranslated note in {section.key}: {text}"
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text


def test_value_and_label_fallbacks() -> None:
    assert value_label("weekday", 7, "en") == "Sun"
    assert value_label("owner_id", "inbound", "ja") == "inbound"  # not a category column
    assert column_label("some_new_column", "en") == "some new column"
    assert column_label("untouched_inbound", "ja") == "未対応インバウンド"  # wide tables
    assert table_label("overall", "en", section="funnel") == "All leads"
    assert table_label("overall", "en", section="cadence") == "Overall"
    assert section_title("pipeline", "Pipeline", "ja") == "パイプライン"
    assert section_title("new", "New section", "ja") == "New section"


@pytest.fixture(scope="module")
def small_sample_report() -> Report:
    dataset = pk.Dataset(**generate_sample(leads=300, seed=1))  # type: ignore[arg-type]
    return pk.report(dataset, as_of="2025-12-31")


def test_every_registered_label_has_japanese(small_sample_report: Report) -> None:
    missing = []
    for section in small_sample_report.sections:
        if section.key not in SECTION_LABELS:
            missing.append(f"section {section.key}")
        for name, frame in section.tables.items():
            if f"{section.key}/{name}" not in TABLE_LABELS and name not in TABLE_LABELS:
                missing.append(f"table {section.key}/{name}")
            for column in frame.columns:
                if column_label(str(column), "ja") == str(column).replace("_", " "):
                    missing.append(f"column {section.key}/{name}/{column}")
    assert missing == [], "add these to pipelinekit.glossary"


def test_section_builders_follow_the_report_order() -> None:
    order = ["funnel", "activity", "cadence", "queues", "assets", "allocation", "mix", "abm"]
    order += ["campaigns", "pipeline", "conversion", "history", "targets"]
    keys = [b.__module__.rsplit(".", 1)[-1] for b in SECTIONS.values()]
    assert keys == list(SECTIONS)
    assert keys == [k for k in order if k in keys]


# ---------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    write_sample(path, leads=200, seed=5)
    return path


@pytest.fixture
def no_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI plumbing tests need the summary only: skip the (slower) sections."""
    monkeypatch.setattr("pipelinekit.reporting.build.SECTIONS", {})
    monkeypatch.setattr("pipelinekit.reporting.build.SECTION_KEYS", ("summary",))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_html_to_a_file_atomically(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "report.html"
    code, out, _ = run(
        capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", "html",
        "--lang", "ja", "-o", str(target),
    )  # fmt: skip
    assert code == 0
    assert out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "商談化率" in page
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


@pytest.mark.usefixtures("no_sections")
@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_cli_every_format_writes_atomically(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"report.{fmt}"
    target.write_text("old")
    code, out, _ = run(
        capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", fmt,
        "-o", str(target),
    )  # fmt: skip
    assert code == 0
    assert out == ""
    assert target.read_text(encoding="utf-8") != "old"
    assert "\x1b[" not in target.read_text(encoding="utf-8")  # never ANSI in a file
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.usefixtures("no_sections")
def test_cli_json_labels_only_with_lang(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    _, out, _ = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", "json")
    assert "labels" not in json.loads(out)
    _, out, _ = run(
        capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--format", "json",
        "--lang", "ja",
    )  # fmt: skip
    doc = json.loads(out)
    assert list(doc["summary"]) == list(SUMMARY_KEYS)  # keys stay English
    assert doc["labels"]["summary"]["call_connect_rate"] == "接続率"


@pytest.mark.usefixtures("no_sections")
def test_cli_text_is_rich_on_a_terminal_and_plain_when_piped(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, piped, _ = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30")
    assert "\x1b[" not in piped
    assert "Lead to SQL rate" in piped
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    _, tty, _ = run(capsys, "report", str(data_dir), "--as-of", "2025-06-30", "--lang", "ja")
    assert "\x1b[" in tty
    assert "商談化率" in ANSI.sub("", tty)
