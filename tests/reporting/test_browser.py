"""The html report in a real browser: headless Chromium (the Debian package).

The report of the bundled sample is written to a file and opened in Chromium through
playwright (never a browser playwright downloads itself). The page must load with no
console error, no network request, and every chart area must have rendered: its marks
have a size in the DOM and the pixels of its screenshot are not blank. ``make
browser`` installs Chromium where it can; without it this module skips and says so.

Set ``PIPELINEKIT_SCREENSHOT=docs/assets/report.png`` to also write the screenshot
of the report's top that the docs show.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pipelinekit as pk
from pipelinekit.reporting.model import CHART_KINDS, Report

from .test_html import section_with_every_chart

CHROMIUM = os.environ.get("PIPELINEKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason=f"no browser installed: {CHROMIUM} is missing (run `make browser`, which "
    "installs the Debian chromium package where apt-get works)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Loaded:
    """A report page opened in the browser, with what it logged and requested."""

    def __init__(self, browser: Any, html: str, path: Path) -> None:
        path.write_text(html, encoding="utf-8")
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:  # the report must not need the network; record and refuse
            self.requests.append(url)
            route.abort()


def chart_boxes(page: Any) -> list[dict[str, Any]]:
    """Per chart: its kind, box, and how many of its marks have a non-zero size."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll("figure.pk-figure svg.pk-chart"))
            .map(svg => {
              const box = svg.getBoundingClientRect();
              const sized = Array.from(svg.querySelectorAll(".pk-mark")).filter(m => {
                const r = m.getBoundingClientRect();
                return r.width > 0 && r.height > 0;
              }).length;
              return {kind: svg.dataset.kind, x: box.x + window.scrollX,
                      y: box.y + window.scrollY, width: box.width, height: box.height, sized};
            })"""
        )
    )


def pixel_spreads(page: Any, png: bytes, boxes: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Distinct colours and brightness spread inside each box of a full-page screenshot
    (computed in the browser on a canvas from a data URL: no image library, no network)."""
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    return list(
        page.evaluate(
            """async ([data, boxes]) => {
              const img = new Image();
              img.src = data;
              await img.decode();
              const canvas = document.createElement("canvas");
              canvas.width = img.width;
              canvas.height = img.height;
              const ctx = canvas.getContext("2d");
              ctx.drawImage(img, 0, 0);
              return boxes.map(box => {
                const w = Math.max(1, Math.floor(box.width));
                const h = Math.max(1, Math.floor(box.height));
                const px = ctx.getImageData(Math.floor(box.x), Math.floor(box.y), w, h).data;
                const colours = new Set();
                let sum = 0, sq = 0, n = 0;
                for (let i = 0; i < px.length; i += 4) {
                  const v = (px[i] + px[i + 1] + px[i + 2]) / 3;
                  sum += v; sq += v * v; n += 1;
                  colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
                }
                const mean = sum / n;
                return {colours: colours.size, std: Math.sqrt(Math.max(0, sq / n - mean * mean))};
              });
            }""",
            [data, boxes],
        )
    )


def assert_charts_rendered(loaded: Loaded, expected_kinds: set[str]) -> bytes:
    """Check every chart; returns the full-page screenshot (PNG)."""
    boxes = chart_boxes(loaded.page)
    assert {b["kind"] for b in boxes} >= expected_kinds
    for box in boxes:
        assert box["width"] > 100, box
        assert box["height"] > 40, box
        assert box["sized"] > 0, f"no visible marks in the {box['kind']} chart: {box}"
    png: bytes = loaded.page.screenshot(full_page=True)
    for box, spread in zip(boxes, pixel_spreads(loaded.page, png, boxes), strict=True):
        # a blank area has one colour and no spread; a chart has bars, text and lines
        assert spread["colours"] > 8, (box, spread)
        assert spread["std"] > 8, (box, spread)
    return png


def test_sample_report_renders_in_chromium(
    browser: Any, sample_report: Report, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("html")
    loaded = Loaded(browser, sample_report.to_html(), folder / "report.html")
    try:
        assert loaded.errors == []
        assert loaded.requests == []
        title = loaded.page.title()
        assert title.startswith("pipelinekit KPI report")
        cards = loaded.page.locator(".pk-card").count()
        assert cards == len(sample_report.summary)
        kinds: set[str] = {c.kind for s in sample_report.sections for c in s.charts}
        shot = folder / "report.png"
        shot.write_bytes(assert_charts_rendered(loaded, kinds))
        assert shot.stat().st_size > 50_000
        target = os.environ.get("PIPELINEKIT_SCREENSHOT")
        if target:  # the docs' picture: the top of the page, cards and first sections
            loaded.page.set_viewport_size({"width": 1360, "height": 2000})
            loaded.page.screenshot(path=target, full_page=False)
    finally:
        loaded.page.close()


def test_every_chart_kind_renders_in_chromium(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from datetime import date

    from .test_html import CHARTS

    report = Report(
        as_of=date(2025, 4, 30),
        as_of_source="given",
        tz="Asia/Tokyo",
        summary={"leads": 5, "win_rate": pk.rate(1, 4)},
        sections=(section_with_every_chart(),),
    )
    folder = tmp_path_factory.mktemp("kinds")
    for lang in ("en", "ja"):
        loaded = Loaded(browser, report.to_html(lang=lang), folder / f"kinds-{lang}.html")
        try:
            assert loaded.errors == []
            assert loaded.requests == []
            assert_charts_rendered(loaded, set(CHART_KINDS))
            assert len(chart_boxes(loaded.page)) == len(CHARTS)
        finally:
            loaded.page.close()


def test_table_sorting_works_without_errors(
    browser: Any, sample_report: Report, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("sort")
    loaded = Loaded(browser, sample_report.to_html(), folder / "report.html")
    try:
        table = loaded.page.locator("details[open] table.pk-table").first
        first_row = table.locator("tbody tr").first.locator("td")
        classes = first_row.evaluate_all("cells => cells.map(c => c.className)")
        column = next(i for i, c in enumerate(classes) if "pk-num" in c)
        header = table.locator("th").nth(column)
        header.click()
        header.click()  # descending
        assert header.get_attribute("aria-sort") == "descending"
        values = table.locator(f"tbody tr td:nth-child({column + 1})").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-sort'))"
        )
        numbers = [float(v) for v in values if v]
        assert numbers == sorted(numbers, reverse=True)
        assert len(numbers) > 1
        assert loaded.errors == []
    finally:
        loaded.page.close()
