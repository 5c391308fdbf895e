"""Parameter checks shared by every public function: one place, one argument order.

Each check takes ``(name, value, ...)``, returns the value typed (and normalised where
that is documented) and raises :class:`~pipelinekit.errors.ConfigError` naming the
parameter and what it accepts.

>>> check_choice("mode", "strict", ("inferred", "strict"))
'strict'
>>> check_positive_int("days", 7)
7
>>> check_by("by", ["origin", "source"])
('origin', 'source')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, get_args

from pipelinekit.errors import ConfigError
from pipelinekit.types import Freq, ZeroDivision

__all__ = [
    "MAX_WINDOW",
    "check_bool",
    "check_by",
    "check_choice",
    "check_confidence",
    "check_fraction",
    "check_freq",
    "check_int",
    "check_optional_freq",
    "check_positive_int",
    "check_window",
    "check_zero_division",
]

#: The longest conversion window accepted.
MAX_WINDOW = timedelta(days=365 * 1000)


def _allowed(allowed: Sequence[object]) -> str:
    return ", ".join(map(repr, allowed))


def check_choice(name: str, value: object, allowed: Sequence[Any]) -> Any:
    """``value`` if it is one of ``allowed``.

    >>> check_choice("weight", "amount", ("count", "amount"))
    'amount'
    >>> check_choice("weight", "sum", ("count", "amount"))
    Traceback (most recent call last):
    ...
    pipelinekit.errors.ConfigError: weight must be one of 'count', 'amount'; got 'sum'
    """
    if isinstance(value, bool) or value not in tuple(allowed):
        raise ConfigError(f"{name} must be one of {_allowed(allowed)}; got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is ``True`` or ``False`` (not a truthy stand-in).

    >>> check_bool("due_only", False)
    False
    """
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False; got {value!r}")
    return value


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    """``value`` if it is an integer of at least ``minimum`` (``True`` is not an int).

    >>> check_int("top", 0)
    0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def check_positive_int(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1.

    >>> check_positive_int("window_days", 0)
    Traceback (most recent call last):
    ...
    pipelinekit.errors.ConfigError: window_days must be an integer >= 1; got 0
    """
    return check_int(name, value, minimum=1)


def check_fraction(name: str, value: object, *, low_open: bool = False) -> float:
    """``value`` as a float in [0, 1] (or (0, 1] with ``low_open``).

    >>> check_fraction("min_effect", 0.05)
    0.05
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    low_ok = number > 0.0 if low_open else number >= 0.0
    if not (ok and low_ok and number <= 1.0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ConfigError(f"{name} must be a number in {interval}; got {value!r}")
    return number


def check_confidence(confidence: object) -> float:
    """A confidence level strictly between 0 and 1.

    >>> check_confidence(0.9)
    0.9
    """
    if isinstance(confidence, bool) or not (
        isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0
    ):
        raise ConfigError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    return float(confidence)


def check_zero_division(zero_division: object) -> ZeroDivision:
    """A ``zero_division`` policy: ``"nan"``, ``"0"`` or ``"raise"``.

    >>> check_zero_division("0")
    '0'
    """
    return check_choice("zero_division", zero_division, get_args(ZeroDivision))  # type: ignore[no-any-return]


def check_freq(freq: object) -> Freq:
    """A ``freq``: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"``.

    >>> check_freq("week")
    'week'
    """
    return check_choice("freq", freq, get_args(Freq))  # type: ignore[no-any-return]


def check_optional_freq(freq: object) -> Freq | None:
    """A ``freq`` or ``None`` (no period column).

    >>> check_optional_freq(None) is None
    True
    """
    return None if freq is None else check_freq(freq)


def check_by(name: str, by: object, *, reserved: Sequence[str] = ()) -> tuple[str, ...]:
    """A ``by`` argument: one column name or a sequence of distinct names.

    ``reserved`` names (output columns of the calling metric) are rejected.

    >>> check_by("by", "origin")
    ('origin',)
    >>> check_by("by", ["rate"], reserved=["rate"])
    Traceback (most recent call last):
    ...
    pipelinekit.errors.ConfigError: by: 'rate' is an output column name; rename the column first
    """
    names = (by,) if isinstance(by, str) else tuple(by) if isinstance(by, Sequence) else None
    if names is None or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{name} must be a column name or a sequence of column names; got {by!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{name} must not repeat a column; got {list(names)}")
    clash = [n for n in names if n in reserved]
    if clash:
        raise ConfigError(
            f"{name}: {_allowed(clash)} is an output column name; rename the column first"
        )
    return names


def check_single_by(
    by: object,
    *,
    column: str,
    function: str,
    old_flag: str,
    old_value: object = None,
) -> bool:
    """Whether to group by ``column``: ``by=column`` (or ``[column]``) or ``by=None``.

    Functions that can split by one column only take ``by`` like every other
    function; their former boolean switch (``old_flag=True``) still works for one
    release with a :class:`DeprecationWarning`.

    >>> check_single_by("target_tier", column="target_tier", function="f", old_flag="by_tier")
    True
    >>> check_single_by(None, column="target_tier", function="f", old_flag="by_tier")
    False
    """
    if old_value is not None:
        warnings.warn(
            f"{function}: {old_flag}= is deprecated; use by={column!r}",
            DeprecationWarning,
            stacklevel=3,
        )
        if check_bool(old_flag, old_value) and by is None:
            by = column
    if by is None or by == () or by == []:
        return False
    if check_by("by", by) != (column,):
        raise ConfigError(f"by: {function} groups by {column!r} or nothing (None); got {by!r}")
    return True


def check_window(name: str, window: object) -> timedelta | None:
    """A window: ``None``, whole days (int >= 1) or a positive ``timedelta``.

    >>> check_window("window", 30)
    datetime.timedelta(days=30)
    """
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, (int, timedelta)):
        raise ConfigError(
            f"{name} must be a datetime.timedelta, a number of days (int) or None; got {window!r}"
        )
    value = timedelta(days=window) if isinstance(window, int) else window
    if value <= timedelta(0) or value > MAX_WINDOW:
        raise ConfigError(f"{name} must be positive and at most 1000 years; got {window!r}")
    return value
