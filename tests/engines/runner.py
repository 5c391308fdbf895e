"""Call a registered function on one engine's copy of a dataset.

``python -m tests.engines.runner [engine ...]`` prints the conformance matrix
(function x engine: pass / unsupported / FAIL) for the sample and edge datasets.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import pandas as pd

from pipelinekit import Dataset
from pipelinekit.errors import UnsupportedEngineError

from .datasets import EngineDataset, edge_dataset, sample_dataset
from .engines import DEFAULT_ENGINES, assert_same_result, convert_tables, expected_type
from .registry import (
    AS_OF,
    QUARTER,
    QUARTER_START,
    REGISTRY,
    START,
    TARGET_ACCOUNTS,
    TZ,
    Recipe,
    T,
    derived_tables,
    quarter_of,
    resolve,
)

__all__ = ["EngineInputs", "call", "prepare"]


class EngineInputs:
    """A dataset's tables (and derived inputs) converted to one engine, built once."""

    def __init__(self, data: EngineDataset, engine: str) -> None:
        self.data = data
        self.engine = engine
        derived = derived_tables(data.tables, as_of=data.as_of, tz=data.tz)
        self.frames = convert_tables(engine, {**data.tables, **derived})

    def dataset(self) -> Dataset:
        names = ("leads", "activities", "opportunities", "accounts", "reps", "campaigns")
        return Dataset(
            **{
                n: self.frames[n]
                for n in (
                    *names,
                    "stage_changes",
                    "campaign_members",
                    "opportunity_history",
                    "quotas",
                )
            },
            tz=self.data.tz,
            validated=True,
        )


def _value(value: Any, inputs: EngineInputs) -> Any:
    data = inputs.data
    if isinstance(value, tuple):
        return tuple(_value(v, inputs) for v in value)
    if value is QUARTER:
        return quarter_of(data.as_of)
    if value is QUARTER_START:
        return quarter_of(data.as_of)[0]
    if isinstance(value, T):
        return inputs.frames[value.name]
    if value is AS_OF:
        return data.as_of
    if value is TZ:
        return data.tz
    if value is START:
        return data.start
    if value is TARGET_ACCOUNTS:
        return list(data.target_accounts)
    return value


def call(name: str, recipe: Recipe, inputs: EngineInputs) -> Any:
    """Run the function registered as ``name`` with ``recipe`` on ``inputs``."""
    fn = resolve(name)
    kwargs = {k: _value(v, inputs) for k, v in recipe.kwargs.items()}
    if recipe.dataset:
        ds = inputs.dataset()
        if recipe.positional_as_of:
            return fn(ds, inputs.data.as_of, **kwargs)
        return fn(ds, **kwargs)
    args = [inputs.frames[t] for t in recipe.tables]
    return fn(*args, **kwargs)


def check_kind(result: Any, recipe: Recipe, engine: str, label: str) -> None:
    """Frame results come back as the caller's kind of frame."""
    if recipe.dataset:
        return
    want = expected_type(engine)
    assert isinstance(result, want), f"{label}: returned {type(result).__name__}, expected {want}"


_CACHE: dict[tuple[str, str], EngineInputs] = {}
_REFERENCE: dict[tuple[str, str, str], Any] = {}


def reference(name: str, recipe: Recipe, data: EngineDataset) -> Any:
    """The pandas result of a recipe (computed once per process)."""
    key = (name, recipe.label, data.name)
    if key not in _REFERENCE:
        _REFERENCE[key] = call(name, recipe, prepare(data, "pandas"))
    return _REFERENCE[key]


def prepare(data: EngineDataset, engine: str) -> EngineInputs:
    key = (data.name, engine)
    if key not in _CACHE:
        _CACHE[key] = EngineInputs(data, engine)
    return _CACHE[key]


def _matrix(engines: list[str]) -> int:
    datasets = [sample_dataset(), edge_dataset()]
    failures = 0
    header = f"{'function':55s}" + "".join(f"{e:>13s}" for e in engines)
    print(header)
    for name, recipes in REGISTRY.items():
        cells = []
        for engine in engines:
            status = "pass"
            for data in datasets:
                for recipe in recipes:
                    label = f"{name}[{recipe.label}] on {data.name}/{engine}"
                    try:
                        want = reference(name, recipe, data)
                        got = call(name, recipe, prepare(data, engine))
                        check_kind(got, recipe, engine, label)
                        assert_same_result(got, want, label=label)
                    except UnsupportedEngineError:
                        status = "unsupported" if status == "pass" else status
                    except Exception:
                        status = "FAIL"
                        print(f"--- {label}", file=sys.stderr)
                        traceback.print_exc(limit=3, file=sys.stderr)
            failures += status == "FAIL"
            cells.append(status)
        print(f"{name:55s}" + "".join(f"{c:>13s}" for c in cells), flush=True)
    return failures


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    chosen = sys.argv[1:] or list(DEFAULT_ENGINES)
    sys.exit(1 if _matrix(chosen) else 0)
