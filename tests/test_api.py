"""The public API: every name resolves, attrs classes behave, docstrings carry examples."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import attrs
import pandas as pd
import pytest

import pipelinekit
import pipelinekit as pk


def _modules() -> list[object]:
    names = [m.name for m in pkgutil.walk_packages(pipelinekit.__path__, "pipelinekit.")]
    return [importlib.import_module(name) for name in names]


def test_every_public_name_resolves() -> None:
    for name in pipelinekit.__all__:
        assert getattr(pipelinekit, name) is not None, name


def test_every_attrs_class_has_a_working_repr() -> None:
    # attrs' generated methods look names up in the defining module; a module-level
    # name that shadows attrs' own helpers (such as ``_compat``) breaks them.
    seen = 0
    for module in _modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not attrs.has(cls) or cls.__module__ != module.__name__:  # type: ignore[attr-defined]
                continue
            fields = attrs.fields(cls)
            if all(f.default is not attrs.NOTHING for f in fields if f.init):
                assert cls.__name__ in repr(cls())
                seen += 1
    assert seen >= 1  # Cadence at least


def test_public_functions_have_docstring_examples() -> None:
    missing = []
    for name in pipelinekit.__all__:
        obj = getattr(pipelinekit, name)
        if inspect.isfunction(obj) and ">>>" not in (obj.__doc__ or ""):
            missing.append(name)
    assert missing == []


# ----------------------------------------------------------- one table order


_TABLE_ORDER = ("accounts", "reps", "leads", "activities", "opportunities")


def test_every_public_function_takes_its_tables_in_one_order() -> None:
    """Positional tables follow accounts, reps, leads, activities, opportunities."""
    import inspect

    for name in pk.__all__:
        function = getattr(pk, name)
        if not inspect.isfunction(function) or name == "win_rate_by":
            continue
        parameters = inspect.signature(function).parameters.values()
        positional = [
            p.name
            for p in parameters
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in _TABLE_ORDER
        ]
        assert positional == sorted(positional, key=_TABLE_ORDER.index), name
        optional_positional = [
            p.name
            for p in parameters
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in pk.TABLES and p.default is None
        ]
        assert not optional_positional, f"{name}: optional tables are keyword-only"


_DAY = "2025-12-31"

#: (the former call, the same call in today's order)
_FORMER_CALLS: dict[str, tuple[Any, Any]] = {
    "sql_allocation": (
        lambda d: pk.sql_allocation(d.opportunities, d.reps, as_of=_DAY),
        lambda d: pk.sql_allocation(d.reps, d.opportunities, as_of=_DAY),
    ),
    "sql_mix": (
        lambda d: pk.sql_mix(d.opportunities, d.leads, d.accounts, by="employee_band"),
        lambda d: pk.sql_mix(d.leads, d.opportunities, accounts=d.accounts, by="employee_band"),
    ),
    "origin_comparison": (
        lambda d: pk.origin_comparison(d.opportunities, d.leads, as_of=_DAY),
        lambda d: pk.origin_comparison(d.leads, d.opportunities, as_of=_DAY),
    ),
    "open_pipeline": (
        lambda d: pk.open_pipeline(d.opportunities, d.stage_changes, as_of=_DAY),
        lambda d: pk.open_pipeline(d.opportunities, stage_changes=d.stage_changes, as_of=_DAY),
    ),
    "stale_opportunities": (
        lambda d: pk.stale_opportunities(
            d.opportunities, d.activities, d.stage_changes, as_of=_DAY
        ),
        lambda d: pk.stale_opportunities(
            d.activities, d.opportunities, stage_changes=d.stage_changes, as_of=_DAY
        ),
    ),
    "account_fit_scores": (
        lambda d: pk.account_fit_scores(d.accounts, d.opportunities, d.leads, as_of=_DAY),
        lambda d: pk.account_fit_scores(d.accounts, d.opportunities, leads=d.leads, as_of=_DAY),
    ),
}


@pytest.mark.parametrize("name", sorted(_FORMER_CALLS))
def test_former_table_order_still_works_with_a_warning(name: str) -> None:
    ds = pk.sample_dataset()
    former, today = _FORMER_CALLS[name]
    with pytest.warns(DeprecationWarning, match=f"{name}.* is the former table order"):
        old = former(ds)
    new = today(ds)
    assert len(new) > 0
    pd.testing.assert_frame_equal(old, new)


# ------------------------------------------------- zero_division and confidence


def _rate_function_results(**options: Any) -> dict[str, pd.DataFrame]:
    """Every public function with both options, called on the bundled sample."""
    ds = pk.sample_dataset()
    out = {}
    for name in pk.__all__:
        function = getattr(pk, name)
        if not inspect.isfunction(function) or name == "win_rate_by":
            continue
        parameters = inspect.signature(function).parameters
        if not {"zero_division", "confidence"} <= set(parameters):
            continue
        tables = [
            getattr(ds, p.name)
            for p in parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in pk.TABLES
        ]
        if not tables:
            continue
        keywords = dict(options)
        for p in parameters.values():
            if p.kind is p.KEYWORD_ONLY and p.name in pk.TABLES and p.name != "accounts":
                keywords[p.name] = getattr(ds, p.name)
        if "as_of" in parameters:
            keywords["as_of"] = _DAY
        out[name] = function(*tables, **keywords)
    return out


def test_every_function_returning_intervals_takes_zero_division_and_confidence() -> None:
    ds = pk.sample_dataset()
    for name in pk.__all__:
        function = getattr(pk, name)
        # Kaplan-Meier curves have a confidence band but no ratio of counts: a cohort
        # without leads has no rows, so there is no zero denominator to decide on; the
        # bottlenecks read a funnel table, whose steps with nothing to convert are
        # never the bottleneck
        skip = (
            "win_rate_by",
            "conversion_curve",
            "conversion_curve_summary",
            "bottleneck",
            "stage_bottleneck",
        )
        if not inspect.isfunction(function) or name in skip:
            continue
        parameters = inspect.signature(function).parameters
        if "ci_low" not in (function.__doc__ or "") or not parameters:
            continue
        assert {"zero_division", "confidence"} <= set(parameters), name
    assert ds.leads is not None


def test_confidence_changes_only_the_interval() -> None:
    wide = _rate_function_results(confidence=0.99)
    narrow = _rate_function_results(confidence=0.8)
    assert len(wide) >= 20
    for name, frame in wide.items():
        other = narrow[name]
        intervals = [c for c in frame.columns if c.endswith("ci_low")]
        assert intervals, name
        rest = [c for c in frame.columns if not c.endswith(("ci_low", "ci_high"))]
        pd.testing.assert_frame_equal(frame[rest], other[rest], obj=name)
        for low in intervals:
            high = low.replace("ci_low", "ci_high")
            both = frame[low].notna() & other[low].notna()
            assert (frame.loc[both, low] <= other.loc[both, low] + 1e-12).all(), (name, low)
            assert (frame.loc[both, high] >= other.loc[both, high] - 1e-12).all(), (name, high)
            inner = both & (frame[high] > frame[low]) & (frame[low] > 0) & (frame[high] < 1)
            if inner.any():
                assert (frame.loc[inner, low] < other.loc[inner, low]).any(), (name, low)


@pytest.mark.parametrize("bad", [0, 1, 1.5, "0.9", True])
def test_a_bad_confidence_is_refused_before_any_work(bad: Any) -> None:
    from pipelinekit.errors import ConfigError

    ds = pk.sample_dataset()
    with pytest.raises(ConfigError, match="confidence"):
        pk.cadence_summary(ds.leads, ds.activities, as_of=_DAY, confidence=bad)
    with pytest.raises(ConfigError, match="confidence"):
        pk.sql_mix(ds.leads, ds.opportunities, confidence=bad)
