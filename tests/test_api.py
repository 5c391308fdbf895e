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
