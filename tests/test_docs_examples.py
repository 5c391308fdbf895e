"""The Python examples of the guide pages run as written, top to bottom.

Each page's ```python blocks run in order in one namespace, from the repository root
(the CRM preset guide reads ``tests/data/presets``). Pages whose examples need files
the reader provides (``export/``) are not listed here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "docs/guides/engines.md",
    "docs/guides/presets.md",
    "docs/guides/report.md",
    "docs/concepts/funnel-modes.md",
    "docs/metrics/curves.md",
    "docs/metrics/transitions.md",
    "docs/metrics/attribution.md",
    "docs/metrics/velocity.md",
]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def run_blocks(page: Path) -> list[Any]:
    """Run every python block of ``page``; the value of each block's last expression."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    values = []
    for index, source in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8"))):
        tree = ast.parse(source, filename=f"{page.name}[{index}]")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"{page.name}[{index}]", "exec"), namespace)
        if last is not None:
            expr = ast.Expression(last.value)
            values.append(eval(compile(expr, f"{page.name}[{index}]", "eval"), namespace))
    return values


@pytest.mark.parametrize("page", PAGES)
def test_guide_examples_run(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert run_blocks(ROOT / page) is not None


def test_preset_guide_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    values = run_blocks(ROOT / "docs/guides/presets.md")
    leads, origin, opportunities = values
    assert leads["origin"].tolist() == ["inbound", "inbound", "outbound", "outbound", "inbound"]
    assert origin == "inbound"  # "Seminar" mapped by the adapted preset
    assert opportunities["lead_id"].tolist() == ["p1"]


def test_pages_exist() -> None:
    for page in PAGES:
        assert (ROOT / page).is_file(), page


def test_conversion_over_time_pages_show_the_numbers_they_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    (inbound,) = run_blocks(ROOT / "docs/metrics/curves.md")
    everyone = inbound[inbound["period"].isna()].iloc[0]
    assert (everyone["lead_count"], everyone["event_count"]) == (1171, 190)
    assert round(everyone["rate"], 3) == 0.165
    assert everyone["converted_median_days"] == 6
    (odds,) = run_blocks(ROOT / "docs/metrics/transitions.md")
    p_win = dict(zip(odds["stage"], odds["p_win"].round(3), strict=True))
    assert (p_win["list"], p_win["proposal"], p_win["opportunity"], p_win["quote"]) == (
        0.343,
        0.390,
        0.466,
        0.617,
    )
    (credit,) = run_blocks(ROOT / "docs/metrics/attribution.md")
    assert credit.sum().round(0).unique().tolist() == [84_914_000.0]
    assert round(credit.loc["cmp-006", "first"]) == 27_838_000
    (velocity,) = run_blocks(ROOT / "docs/metrics/velocity.md")
    assert velocity["qualified_count"].tolist() == [28, 25, 32, 38]
