"""Imports run one way: metrics never import reporting, nobody borrows private names.

Read from the source files (``ast``), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "pipelinekit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
    return found


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_metrics_and_facts_never_import_reporting_or_the_cli() -> None:
    offenders = [
        f"{_module_name(path)}:{line} imports {module}"
        for path in _sources()
        if _module_name(path).startswith(("pipelinekit.metrics", "pipelinekit.facts"))
        for module, _, line in _imports(path)
        if module.startswith(("pipelinekit.reporting", "pipelinekit.cli"))
    ]
    assert not offenders, offenders


def test_no_module_imports_another_modules_private_names() -> None:
    """``from a.b import _x`` only where ``a.b`` is itself a private module.

    Shared helpers live in private modules (``_compat``, ``_checks``,
    ``metrics/_funnel_engine``, ...) whose names are public to the package; a
    public module's underscore names stay inside it.
    """
    offenders = []
    for path in _sources():
        here = _module_name(path)
        for module, name, line in _imports(path):
            if not module.startswith("pipelinekit") or name is None:
                continue
            private_name = name.startswith("_") and not name.startswith("__")
            private_module = any(part.startswith("_") for part in module.split(".")[1:])
            if private_name and not private_module and not here.startswith(module):
                offenders.append(f"{here}:{line} imports {module}.{name}")
    assert not offenders, offenders


def test_metric_modules_import_pandas_only_inside_functions() -> None:
    """No top-level pandas import in metric modules: polars/DuckDB users never pay for it."""
    offenders = []
    for path in sorted((PACKAGE / "metrics").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "pandas" or n.startswith("pandas.") for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_the_check_sees_imports() -> None:
    """The walker finds a known import (so the tests above cannot pass vacuously)."""
    summary = PACKAGE / "reporting" / "summary.py"
    assert any(m.startswith("pipelinekit.metrics") for m, _, _ in _imports(summary))
