"""Types of the public API, defined once and imported everywhere else.

>>> from typing import get_args
>>> get_args(Freq)
('day', 'week', 'month', 'quarter', 'year')
>>> DEFAULT_TZ
'Asia/Tokyo'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, TypeAlias

__all__ = ["DEFAULT_TZ", "AsOf", "By", "Freq", "ZeroDivision"]

#: A day given as a date, a datetime (its calendar day) or text in the data's spellings.
AsOf: TypeAlias = date | datetime | str
#: Columns to group by: one name or a sequence of names.
By: TypeAlias = str | Sequence[str]
#: Calendar period of a ``period`` column; weeks are ISO weeks starting on Monday.
Freq = Literal["day", "week", "month", "quarter", "year"]
#: What a rate with a zero denominator gives: NaN, 0.0 or an error.
ZeroDivision = Literal["nan", "0", "raise"]
#: The dataset time zone unless told otherwise.
DEFAULT_TZ = "Asia/Tokyo"
