"""Report notes as data: a key from the glossary plus the values it mentions.

A section says what it wants to tell the reader as ``Note(key, params)``; the text in
each report language comes from the glossary's note templates (:data:`NOTES`), so a
Japanese report translates notes by key, never by matching English sentences.

Placeholders are ``{name}`` or ``{name:spec}`` with these specs: ``pct`` (a proportion
as ``12.3%``, missing as ``n/a``), ``int`` (``1,234``), ``num`` (a number for people),
and for a sequence of names: ``labels`` (summary KPI keys as their labels), ``values``
(category values, e.g. stages, as their labels), ``columns`` (column labels).
Text values of known categories (stage, origin, ...) are shown with their glossary
label in Japanese.

>>> Note("last_full_month", {"month": "2025-11"}).text()
'Last full month: 2025-11.'
>>> Note("last_full_month", {"month": "2025-11"}).text("ja")
'前月：2025-11。'
>>> Note("funnel_stages_left_out", {"stages": ("touched", "connected")}).text()
'Stages without data are left out (not shown as 0, and never the bottleneck): Touched, Connected.'
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

import attrs

from pipelinekit.glossary import NOTES, Lang, category_label

__all__ = ["Note", "note_text"]


def _frozen_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(params or {})


@attrs.frozen
class Note:
    """One note of a report section: a glossary key and the values it mentions."""

    key: str = attrs.field()
    params: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_params)

    @key.validator
    def _known(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in NOTES:
            from pipelinekit.errors import ConfigError

            raise ConfigError(f"Note: unknown note key {value!r}; add it to glossary.NOTES")

    def text(self, lang: Lang = "en") -> str:
        """The note in ``lang``."""
        return note_text(self.key, self.params, lang)


class _Formatter(string.Formatter):
    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "pct":
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return "n/a" if missing else f"{value:.1%}"
        if format_spec == "int":
            return f"{int(value):,}"
        if format_spec == "num":
            from pipelinekit.reporting.model import format_number

            return format_number(value, lang=self.lang)
        if format_spec in ("labels", "values", "columns"):
            from pipelinekit.glossary import column_label, label

            name = {"labels": label, "values": category_label, "columns": column_label}[format_spec]
            return ("、" if self.lang == "ja" else ", ").join(name(v, self.lang) for v in value)
        if isinstance(value, str) and self.lang != "en":
            return category_label(value, self.lang)
        return str(super().format_field(value, format_spec))


def note_text(key: str, params: Mapping[str, Any], lang: Lang = "en") -> str:
    """The text of note ``key`` in ``lang`` with ``params`` filled in.

    >>> note_text("concentration", {}, "en").startswith("Concentration over FS reps")
    True
    """
    template = NOTES[key].get(lang)
    return _Formatter(lang).format(template, **params)
