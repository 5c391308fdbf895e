"""The html report and its SVG charts: self-contained, complete, escaped, bilingual."""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime

import attrs
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit.errors import ConfigError
from pipelinekit.glossary import GLOSSARY
from pipelinekit.rates import rate
from pipelinekit.reporting.charts import ACCENT, render_chart
from pipelinekit.reporting.html import render_html, render_html_fragment
from pipelinekit.reporting.model import CHART_KINDS, Chart, Report, Section
from pipelinekit.reporting.notes import Note
from pipelinekit.reporting.summary import SUMMARY_KEYS

from ..tiny import AS_OF, tiny_dataset

# --------------------------------------------------------------------- tiny tables

#: Connect rate by rep: rep-1 3/10 = 30%, rep-2 1/4 = 25%, rep-3 0/0 -> NaN (n/a).
RATES = pd.DataFrame(
    {
        "owner_id": ["rep-1", "rep-2", "rep-3"],
        "numerator": [3, 1, 0],
        "denominator": [10, 4, 0],
        "rate": [0.3, 0.25, math.nan],
        "ci_low": [0.108, 0.046, math.nan],
        "ci_high": [0.603, 0.699, math.nan],
    }
)
#: SQLs vs capacity: a 5 > 3 (over), b 9 <= 45, c 7 > 5 (over) -> two highlighted bars.
LOAD = pd.DataFrame({"rep_id": ["a", "b", "c"], "sql_count": [5, 9, 7], "capacity": [3, 45, 5]})
#: Monthly SQLs by origin, wide: 2025-01 4 + 5, 2025-02 6 + 1, 2025-03 13 + 3.
MONTHLY = pd.DataFrame(
    {
        "period": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
        "inbound_count": [4, 6, 13],
        "outbound_count": [5, 1, 3],
    }
)
#: The same long: one row per (period, origin).
LONG = MONTHLY.melt(id_vars="period", var_name="origin", value_name="sql_count").assign(
    origin=lambda f: f["origin"].str.replace("_count", "")
)
#: Connect rate by weekday x hour: 2 weekdays x 3 hours = 6 cells, one of them missing.
HEAT = pd.DataFrame(
    {
        "weekday": [1, 1, 1, 2, 2],
        "hour": [9, 10, 11, 9, 11],
        "rate": [0.10, 0.25, 0.20, 0.15, 0.05],
        "numerator": [1, 5, 2, 3, 1],
        "denominator": [10, 20, 10, 20, 20],
    }
)
#: Funnel: 100 -> 80 (80%) -> 20 (25%, the lowest step) -> 10 (50%).
FUNNEL = pd.DataFrame({"stage": ["lead", "touched", "sql", "won"], "count": [100, 80, 20, 10]})

#: Waterfall: 100 + 30 (up) - 50 (down) + 0 = 80 at the end.
WATERFALL = pd.DataFrame(
    {"part": ["start", "created", "won", "amount_up", "end"], "amount": [100, 30, -50, 0, 80]}
)

CHARTS = {
    "bar": (Chart(kind="bar", table="load", x="rep_id", y="sql_count", reference="capacity"), LOAD),
    "hbar": (Chart(kind="hbar", table="rates", x="owner_id", y="rate", percent=True), RATES),
    "stacked_bar": (
        Chart(kind="stacked_bar", table="m", x="period", y=("inbound_count", "outbound_count")),
        MONTHLY,
    ),
    "line": (Chart(kind="line", table="l", x="period", y="sql_count", series="origin"), LONG),
    "heatmap": (
        Chart(kind="heatmap", table="h", x="hour", y="weekday", value="rate", percent=True),
        HEAT,
    ),
    "funnel": (Chart(kind="funnel", table="f", x="stage", y="count"), FUNNEL),
    "waterfall": (Chart(kind="waterfall", table="w", x="part", y="amount"), WATERFALL),
}
#: Marks (rects or circles with a tooltip) each chart draws.
EXPECTED_MARKS = {
    "bar": 3,  # one bar per rep
    "hbar": 2,  # rep-3 has no rate (0/0): no bar
    "stacked_bar": 6,  # 3 months x 2 origins
    "line": 6,  # 3 points x 2 series
    "heatmap": 6,  # 2 x 3 cells, the missing one drawn grey
    "funnel": 4,  # one bar per stage
    "waterfall": 5,  # two totals and three steps (the zero step a hairline)
}


def marks(svg: str) -> int:
    return len(re.findall(r'class="pk-mark"', svg))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_chart_kinds_cover_the_model() -> None:
    assert set(CHARTS) == set(CHART_KINDS)


@pytest.mark.parametrize("kind", CHART_KINDS)
def test_each_chart_kind_renders_its_marks(kind: str) -> None:
    chart, table = CHARTS[kind]
    svg = render_chart(chart, table)
    root = parse(svg)  # well-formed
    assert root.tag == "svg"
    assert root.get("data-kind") == kind
    assert marks(svg) == EXPECTED_MARKS[kind]
    # every mark has a tooltip
    assert svg.count("<title>") >= EXPECTED_MARKS[kind] + 1


def test_bar_reference_line_and_highlight() -> None:
    chart, table = CHARTS["bar"]
    svg = render_chart(chart, table)
    # a dashed capacity line per rep and the two reps above it in the accent colour
    assert svg.count('class="pk-reference"') == 3
    assert svg.count(f'fill="{ACCENT}"') == 2 + 1  # two bars + the legend swatch
    assert "Capacity exceeded" in svg
    assert "a: 5; Capacity 3" in svg  # the tooltip


def test_rate_chart_draws_intervals_and_percent_axis() -> None:
    chart, table = CHARTS["hbar"]
    svg = render_chart(chart, table)
    assert svg.count('class="pk-ci"') == 2  # rep-1 and rep-2 have intervals
    assert "rep-1: 30.0% (3 / 10), 95% CI 10.8%–60.3%" in svg
    assert ">60%<" in svg  # axis ticks as percentages


def test_heatmap_cells_and_missing_cell() -> None:
    chart, table = CHARTS["heatmap"]
    svg = render_chart(chart, table)
    assert "Mon · 10: 25.0% (5 / 20)" in svg  # weekday 1 is Monday
    assert "Tue · 10: n/a" in svg  # no row for Tuesday 10:00
    ja = render_chart(chart, table, lang="ja")
    assert "火 · 10: n/a" in ja


def test_funnel_marks_the_lowest_step() -> None:
    chart, table = CHARTS["funnel"]
    svg = render_chart(chart, table)
    # steps: 80/100 = 80%, 20/80 = 25% (lowest), 10/20 = 50%
    assert "↓ 25.0%" in svg
    assert "lowest step" in svg
    assert "SQL: 20 (20.0% of first); Touched → SQL: 25.0%" in svg


def test_waterfall_steps_from_the_running_total() -> None:
    chart, table = CHARTS["waterfall"]
    svg = render_chart(chart, table)
    rects = [r for r in parse(svg).iter("rect") if r.get("class") == "pk-mark"]
    fills = [r.get("fill") for r in rects]
    # totals blue, the increase green, the decrease in the accent colour, zero green
    assert fills == ["#0072B2", "#009E73", ACCENT, "#009E73", "#0072B2"]
    # the decrease hangs from the running total 130 down to 80, the end total matches it
    by_name = {r.findtext("title", "").split(":")[0]: r for r in rects}

    def at(name: str, attribute: str) -> float:
        return float(by_name[name].get(attribute, "nan"))

    assert at("Won", "y") + at("Won", "height") == pytest.approx(at("End", "y"), abs=0.2)
    assert "Created: +30 → 130" in svg
    assert "Won: −50 → 80" in svg
    assert ">+30<" in svg
    assert ">−50<" in svg
    assert ">0<" in svg
    assert svg.count('stroke-dasharray="3 2"') == 4  # connectors between the bars
    ja = render_chart(chart, table, lang="ja")
    assert "受注: −50 → 80" in ja
    assert "増加" in ja


def test_stacked_bar_shows_totals() -> None:
    chart, table = CHARTS["stacked_bar"]
    svg = render_chart(chart, table)
    # totals 4 + 5 = 9, 6 + 1 = 7, 13 + 3 = 16 above the stacks
    for total in (">9<", ">7<", ">16<"):
        assert total in svg
    assert ">2025-02<" in svg  # month periods shown as YYYY-MM


def test_empty_table_gives_a_placeholder() -> None:
    chart, table = CHARTS["bar"]
    svg = render_chart(chart, table.iloc[0:0])
    assert "no data" in svg
    assert marks(svg) == 0


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (Chart(kind="bar", table="t", x="rep_id", y="nope"), "no column 'nope'"),
        (Chart(kind="heatmap", table="t", x="rep_id", y="sql_count"), "needs value="),
        (
            Chart(kind="line", table="t", x="rep_id", y=("sql_count", "capacity"), series="rep_id"),
            "not both",
        ),
    ],
)
def test_bad_chart_specs_are_config_errors(chart: Chart, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render_chart(chart, LOAD)


def test_unknown_chart_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"Chart\.kind"):
        Chart(kind="pie", table="t", x="a", y="b")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(CHART_KINDS),
    values=st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
        ),
        max_size=12,
    ),
    percent=st.booleans(),
)
def test_any_table_renders_well_formed_svg(
    kind: str, values: list[float | None], percent: bool
) -> None:
    n = len(values)
    table = pd.DataFrame(
        {
            "x": [f"<c{i % 5}>" for i in range(n)],
            "s": [["a", "b"][i % 2] for i in range(n)],
            "y": pd.array(values, dtype="Float64"),
            "ref": [1.0] * n,
        }
    )
    options: dict[str, object] = {"percent": percent}
    if kind == "heatmap":
        options.update(y="s", value="y")
    elif kind in ("funnel", "waterfall"):
        options.update(y="y")
    else:
        options.update(y="y", series="s" if kind in ("stacked_bar", "line") else None)
        options.update(reference="ref" if kind == "bar" else None)
    chart = Chart(kind=kind, table="t", x="x", **options)  # type: ignore[arg-type]
    svg = render_chart(chart, table)
    root = parse(svg)
    assert root.tag == "svg"
    assert "<c" not in svg.replace("<circle", "")  # user strings are escaped
    assert "nan" not in svg.lower().replace("nan-", "")


# ------------------------------------------------------------------------- reports


def section_with_every_chart() -> Section:
    tables = {name: table for name, (_, table) in zip(CHARTS, CHARTS.values(), strict=True)}
    charts = tuple(
        Chart(
            kind=c.kind,
            table=name,
            x=c.x,
            y=c.y,
            series=c.series,
            reference=c.reference,
            value=c.value,
            percent=c.percent,
            title=f"{name} chart",
        )
        for name, (c, _) in CHARTS.items()
    )
    return Section(
        key="demo",
        title="Demo <section>",
        tables=tables,
        notes=(Note("last_full_month", {"month": "<b>markup</b> & an ampersand"}),),
        charts=charts,
    )


@pytest.fixture(scope="module")
def tiny_report() -> Report:
    summary_only = pk.report(tiny_dataset(), as_of=AS_OF, sections="summary")
    return attrs.evolve(summary_only, sections=(section_with_every_chart(),))


def test_html_is_one_self_contained_document(tiny_report: Report) -> None:
    page = tiny_report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1
    assert page.rstrip().endswith("</html>")
    # nothing is loaded: no external src/href, no stylesheet links, no CSS urls or imports
    for attribute in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page):
        assert attribute.startswith("#"), attribute
    assert not re.search(r"https?://", page)
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<svg") == len(CHART_KINDS)


def test_every_summary_key_appears_as_a_card(tiny_report: Report) -> None:
    page = tiny_report.to_html()
    for key in SUMMARY_KEYS:
        assert f'data-key="{key}"' in page, key
        assert GLOSSARY[key].en in page, key


def test_rate_cards_show_value_counts_and_interval(tiny_report: Report) -> None:
    page = tiny_report.to_html()
    start = page.index('data-key="lead_to_sql_rate"')
    text = page[start : page.index("data-key=", start + 1)]
    value = tiny_report.summary["lead_to_sql_rate"]
    assert isinstance(value, pk.Rate)
    assert f"{value.value:.1%}" in text
    assert f"{int(value.numerator)} / {int(value.denominator)}" in text
    assert f"95% CI {value.ci_low:.1%}–{value.ci_high:.1%}" in text


def test_japanese_labels_everywhere(tiny_report: Report) -> None:
    page = tiny_report.to_html(lang="ja")
    assert '<html lang="ja">' in page
    for term in ("商談化率", "受注率", "接続率", "案件化率", "有効商談数", "5C2M遵守率"):
        assert term in page, term
    assert "サマリー" in page or "ボリューム" in page
    assert "分子" in page  # column headers
    assert "分母" in page
    assert "リード" in page  # funnel stage labels in the chart
    assert "基準日 2025-04-30" in page


def test_nan_is_shown_as_na(tiny_report: Report) -> None:
    page = tiny_report.to_html()
    # rep-3's rate is 0/0: its cells read n/a, never nan
    assert '<td class="pk-num pk-na" data-sort="">n/a</td>' in page
    assert ">nan<" not in page.lower()
    zero = Report(
        as_of=date(2025, 1, 1),
        as_of_source="given",
        tz="Asia/Tokyo",
        summary={"win_rate": rate(0, 0)},
    )
    assert ">n/a<" in zero.to_html()


def test_user_strings_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    table = pd.DataFrame({"source": [evil, "web"], "lead_count": [3, 4]})
    section = Section(
        key="x",
        title=evil,
        tables={evil: table},
        notes=(Note("last_full_month", {"month": evil}),),
        charts=(Chart(kind="bar", table=evil, x="source", y="lead_count", title=evil),),
    )
    report = Report(
        as_of=date(2025, 1, 1),
        as_of_source="given",
        tz="Asia/Tokyo",
        summary={"leads": 7},
        sections=(section,),
        warnings=(evil,),
    )
    for page in (report.to_html(), report.to_html(lang="ja"), report._repr_html_()):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the only script is the report's own table sorter
    assert report.to_html().count("<script>") == 1


def test_lead_source_cannot_inject_through_a_real_section() -> None:
    ds = tiny_dataset()
    leads = ds.table("leads").copy()
    leads["source"] = "<script>alert(1)</script>"
    evil = pk.Dataset(**{**ds.tables(), "leads": leads})
    page = pk.report(evil, as_of=AS_OF, sections=["pipeline"]).to_html()
    assert "<script>alert" not in page


def test_jupyter_display_is_a_scoped_fragment(tiny_report: Report) -> None:
    fragment = tiny_report._repr_html_()
    assert fragment.startswith("<style>")
    assert "<html" not in fragment
    assert "<script" not in fragment
    assert '<div class="pk-report" lang="en">' in fragment
    assert render_html_fragment(tiny_report, lang="ja").count("商談化率") >= 1
    assert tiny_report._repr_markdown_().startswith("# pipelinekit KPI report")


def test_html_does_not_mutate_the_report(tiny_report: Report) -> None:
    before = {
        (s.key, n): copy.deepcopy(f) for s in tiny_report.sections for n, f in s.tables.items()
    }
    render_html(tiny_report, lang="ja")
    for (key, name), frame in before.items():
        pd.testing.assert_frame_equal(tiny_report.section(key).tables[name], frame)


def test_invalid_lang_is_a_config_error(tiny_report: Report) -> None:
    with pytest.raises(ConfigError, match="lang"):
        tiny_report.to_html(lang="fr")  # type: ignore[arg-type]


def test_chart_on_unknown_table_is_a_config_error() -> None:
    section = Section(key="x", title="x", charts=(Chart(kind="bar", table="t", x="a", y="b"),))
    report = Report(
        as_of=date(2025, 1, 1), as_of_source="given", tz="UTC", summary={}, sections=(section,)
    )
    with pytest.raises(ConfigError, match="unknown table 't'"):
        report.to_html()


# ----------------------------------------------------------------- bundled sample


def test_sample_report_sections_render_with_charts(sample_report: Report) -> None:
    page = sample_report.to_html()
    assert page.count('<section class="pk-section"') == len(sample_report.sections)
    declared = sum(len(s.charts) for s in sample_report.sections)
    assert declared > 0
    assert page.count('<figure class="pk-figure"') == declared
    assert not re.search(r"https?://", page)


def test_json_is_byte_identical_across_runs(sample_report: Report) -> None:
    again = pk.report(pk.sample_dataset(), as_of="2025-12-31")
    assert sample_report.to_json() == again.to_json()
    assert sample_report.to_json(lang="ja") == again.to_json(lang="ja")
    assert sample_report.to_html() == again.to_html()


def test_json_labels_keep_english_keys(sample_report: Report) -> None:
    import json

    plain = json.loads(sample_report.to_json())
    labelled = json.loads(sample_report.to_json(lang="ja"))
    assert "labels" not in plain
    assert {k: v for k, v in labelled.items() if k != "labels"} == plain
    labels = labelled["labels"]
    assert labels["lang"] == "ja"
    assert labels["summary"]["lead_to_sql_rate"] == "商談化率"
    assert labels["summary"]["win_rate"] == "受注率"
    assert set(labels["sections"]) == set(plain["sections"])
    assert labels["columns"]["sql_count"] == "SQL数"


def test_report_object_api(sample_report: Report) -> None:
    assert sample_report.to_text().startswith("pipelinekit KPI report")
    assert sample_report.to_text(lang="ja").startswith("pipelinekit KPIレポート")
    assert "| 商談化率 |" in sample_report.to_markdown(lang="ja")
    assert sample_report.to_html().startswith("<!DOCTYPE html>")
    assert isinstance(sample_report.section("pipeline"), Section)


def test_periods_are_shown_as_dates(sample_report: Report) -> None:
    page = sample_report.to_html()
    assert not re.search(r">\d{4}-\d\d-\d\dT", page)  # shown as dates (ISO only in data-sort)
    assert datetime(2025, 12, 1).strftime("%Y-%m") in page


def test_polars_dataset_gives_the_same_report() -> None:
    import polars as pl

    ds = tiny_dataset()
    lazy = pk.Dataset(**{name: pl.from_pandas(f).lazy() for name, f in ds.tables().items()})
    builders = ["funnel", "cadence"]
    on_pandas = pk.report(ds, as_of=AS_OF, sections=builders)
    on_polars = pk.report(lazy, as_of=AS_OF, sections=builders)
    assert on_polars.to_json(lang="ja") == on_pandas.to_json(lang="ja")
    assert on_polars.to_html() == on_pandas.to_html()
