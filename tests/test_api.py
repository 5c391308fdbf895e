"""The public API: every name resolves, attrs classes behave, docstrings carry examples."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import attrs

import pipelinekit


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
