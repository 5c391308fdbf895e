"""CRM presets: read Salesforce and HubSpot exports into the canonical tables.

A preset is plain data (:class:`Preset`, :class:`TableMap` and a few row rules) that
says which export file feeds which canonical table and how its columns and values
translate. :func:`read_preset` reads an export directory through one and returns a
validated :class:`~pipelinekit.dataset.Dataset`; values the preset does not know
are listed as ``unmapped_value`` problems. Copy a preset and adapt it with
:func:`attrs.evolve` for your own CRM configuration.

Examples
--------
>>> from pipelinekit.io.presets import PRESETS, SALESFORCE
>>> sorted(PRESETS)
['hubspot', 'salesforce']
>>> [m.source for m in SALESFORCE.tables["activities"]]
['Task', 'Event']
>>> SALESFORCE.tables["leads"][0].values["origin"]["Cold Call"]
'outbound'
"""

from __future__ import annotations

from pipelinekit.io.presets.apply import apply_preset, read_preset, resolve_preset
from pipelinekit.io.presets.hubspot import HUBSPOT
from pipelinekit.io.presets.model import (
    CollapseRepeats,
    Fill,
    Keep,
    Lookup,
    Preset,
    Rule,
    TableMap,
    check_preset,
)
from pipelinekit.io.presets.salesforce import SALESFORCE

__all__ = [
    "HUBSPOT",
    "PRESETS",
    "SALESFORCE",
    "CollapseRepeats",
    "Fill",
    "Keep",
    "Lookup",
    "Preset",
    "Rule",
    "TableMap",
    "apply_preset",
    "check_preset",
    "read_preset",
    "resolve_preset",
]

#: The built-in presets by name (``pipelinekit report DIR --preset NAME``).
PRESETS: dict[str, Preset] = {"salesforce": SALESFORCE, "hubspot": HUBSPOT}
