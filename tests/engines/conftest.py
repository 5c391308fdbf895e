"""The ``engines`` marker: PySpark (and Dask) tests run only in ``make test-engines``.

A plain ``pytest`` run (``make test``) deselects every test marked ``engines``, so it
never starts a JVM; ``pytest -m engines`` (``make test-engines``) selects them.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "engines" in (config.getoption("markexpr", default="") or ""):
        return
    heavy = [item for item in items if item.get_closest_marker("engines") is not None]
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if item.get_closest_marker("engines") is None]
