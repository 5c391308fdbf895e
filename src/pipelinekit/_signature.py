"""One table order for every public function, and the previous order for one release.

Every public function takes its tables in one order, ``accounts, reps, leads,
activities, opportunities`` (then the optional history tables), with optional tables
keyword-only. :func:`former_table_order` keeps calls written for the previous
release working for one more release: a call that passes the tables positionally in
the former order (recognised by the number of positional tables, or by the first
table being the opportunities table where the new order starts with another table)
is mapped to the new parameters, with a :class:`DeprecationWarning`.

>>> import warnings
>>> import pandas as pd
>>> @former_table_order("opportunities", "reps")
... def load(reps, opportunities):
...     return list(reps.columns), list(opportunities.columns)
>>> reps = pd.DataFrame({"rep_id": ["R1"]})
>>> opps = pd.DataFrame({"opportunity_id": ["O1"], "owner_id": ["R1"]})
>>> load(reps, opps)
(['rep_id'], ['opportunity_id', 'owner_id'])
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     load(opps, reps)
(['rep_id'], ['opportunity_id', 'owner_id'])
>>> str(caught[0].message)
'load(opportunities, reps) is the former table order; call load(reps, opportunities)'
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import narwhals as nw

__all__ = ["former_table_order"]

F = TypeVar("F", bound=Callable[..., Any])


def _columns(frame: Any) -> list[str]:
    """Column names of a supported frame, or none when it is not one."""
    try:
        return list(nw.from_native(frame).columns)
    except TypeError:
        return []


def _is_opportunities(frame: Any) -> bool:
    names = _columns(frame)
    return "opportunity_id" in names and "entered_at" not in names


def _today(former: tuple[str, ...], current: list[str]) -> str:
    """The same tables as a call of today: positional, then keyword-only ones."""
    keywords = [f"{n}=..." for n in former if n not in current]
    return ", ".join([*current, *keywords])


def former_table_order(*former: str) -> Callable[[F], F]:
    """Accept the positional tables of ``former`` (the previous release's order)."""

    def decorate(function: F) -> F:
        parameters = inspect.signature(function).parameters.values()
        current = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
        name = function.__name__

        def is_former(args: tuple[Any, ...]) -> bool:
            if len(args) > len(current):
                return True
            swapped = current[0] != "opportunities" and former[0] == "opportunities"
            return bool(args) and swapped and _is_opportunities(args[0])

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if is_former(args):
                warnings.warn(
                    f"{name}({', '.join(former[: len(args)])}) is the former table order; "
                    f"call {name}({_today(former[: len(args)], current)})",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs.update(zip(former, args, strict=False))
                args = ()
            return function(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
