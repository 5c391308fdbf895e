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

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "docs/guides/engines.md",
    "docs/guides/presets.md",
    "docs/guides/report.md",
    "docs/concepts/funnel-modes.md",
    "docs/metrics/funnel.md",
    "docs/metrics/curves.md",
    "docs/metrics/transitions.md",
    "docs/metrics/attribution.md",
    "docs/metrics/velocity.md",
    "docs/metrics/history.md",
    "docs/metrics/targets.md",
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
    leads, sync_warnings, synced, origin, opportunities = values
    rules = [rule for _, rule, _ in sync_warnings]
    assert rules.count("deleted_rows") == 1
    assert rules.count("unclassified_rows") == 1
    assert synced == (["00Q1", "00Q2"], ["call", "email"], ["inside"])
    assert leads["origin"].tolist() == ["inbound", "inbound", "outbound", "outbound", "inbound"]
    assert origin == "inbound"  # "Seminar" mapped by the adapted preset
    assert opportunities["lead_id"].tolist() == ["p1"]


def test_engines_page_reads_the_database_it_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, _, sqls = run_blocks(ROOT / "docs/guides/engines.md")
    assert sqls == 260  # the sample's SQLs, read back from the DuckDB database


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


def test_pipeline_history_page_shows_the_numbers_it_states(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    by_stage, moves, deals = run_blocks(ROOT / "docs/metrics/history.md")
    got = {r.stage: (r.open_count, r.open_amount) for r in by_stage.itertuples(index=False)}
    assert got == {
        "list": (11, 55_343_000.0),
        "proposal": (10, 55_516_000.0),
        "opportunity": (3, 9_661_000.0),
        "quote": (7, 41_808_000.0),
    }
    parts = ("start", "created", "pulled_in", "amount_up", "amount_down", "pushed_out")
    parts += ("won", "lost", "end")
    row = moves.iloc[0]
    assert [row[p] for p in parts] == [
        162_328_000.0,
        180_030_000.0,
        22_270_000.0,
        1_357_000.0,
        0.0,
        31_638_000.0,
        95_838_000.0,
        174_179_000.0,
        64_330_000.0,
    ]
    assert [row[f"{p}_count"] for p in parts] == [31, 52, 7, 3, 0, 6, 20, 49, 15]
    assert len(deals) == 6
    assert deals.iloc[deals["amount_start"].argmax()]["opportunity_id"] == "opp-00134"
    # the numbers the text gives without a code block
    import pipelinekit as pk

    ds = pk.sample_dataset()
    opps, history, q4 = ds.opportunities, ds.opportunity_history, ("2025-10-01", "2025-12-31")
    every = pk.pipeline_trend(opps, history=history, on="2025-10-01")
    assert every[["open_count", "open_amount"]].values.tolist() == [[54, 249_738_000.0]]
    category = pk.pipeline_trend(
        opps, history=history, on="2025-10-01", by="forecast_category", close_period=q4
    )
    amounts = dict(zip(category["forecast_category"], category["open_amount"], strict=True))
    assert amounts == {"pipeline": 110_859_000.0, "best_case": 16_497_000.0, "commit": 34_972_000.0}
    all_deals = pk.pipeline_movement_deals(
        opps, history=history, start="2025-10-01", end="2025-12-31", close_period=q4
    )
    pulled = all_deals[all_deals["pulled_in"] > 0]
    assert (pulled["expected_close_on_start"] <= pd.Timestamp("2025-09-30")).sum() == 6


def test_targets_page_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    november, by_team, coverage, accuracy = run_blocks(ROOT / "docs/metrics/targets.md")
    assert november["actual"].tolist() == [0.0, 1629000.0, 0.0, 2496000.0, 0.0, 0.0]
    assert set(november["elapsed_share"]) == {0.5}
    assert set(by_team["team"]) == {"Inside Sales", "Field East", "Field West"}
    west = coverage[(coverage["level"] == "team") & (coverage["team"] == "Field West")].iloc[0]
    assert round(west["coverage"], 2) == 1.86
    assert round(coverage["coverage_needed"].iloc[0], 2) == 3.55
    rep = accuracy[accuracy["level"] == "rep"].iloc[0]
    assert (rep["quota_count"], round(rep["wape"], 3)) == (72, 0.717)


def test_funnel_page_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    values = run_blocks(ROOT / "docs/metrics/funnel.md")
    table = next(v for v in values if isinstance(v, pd.DataFrame) and "excluded" in v)
    assert table["count"].tolist()[:3] == [2000, 1380, 912]
    assert table["excluded"].tolist()[2] == 203
