"""mkdocs hooks: pages and tables generated from the code, so the docs cannot drift.

Markers replaced in any page:

- ``<!-- pipelinekit:glossary -->``: the KPI glossary (``pipelinekit.glossary.GLOSSARY``);
- ``<!-- pipelinekit:labels sections|tables|columns|values -->``: the report's other
  bilingual labels (``SECTION_LABELS``, ``TABLE_LABELS``, ``COLUMN_LABELS``,
  ``VALUE_LABELS``), the same data ``--lang ja`` reads;
- ``<!-- pipelinekit:schema -->``: the canonical tables (``pipelinekit.schema.TABLES``);
- ``<!-- pipelinekit:preset NAME -->``: the column and value mappings of a built-in CRM
  preset (``pipelinekit.io.presets.PRESETS``);
- ``<!-- pipelinekit:modules PACKAGE -->``: an API reference block for every public
  module of ``pipelinekit.PACKAGE`` (modules added later appear by themselves).

Generated pages: one API reference page per module of ``pipelinekit.metrics``
(``reference/metrics/<module>.md``, added to the nav under Reference), and, for a
metric family listed in the nav whose hand-written page does not exist yet, a page
built from its module docstrings (the build log says which).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.pipelinekit")

_ROOT = Path(__file__).resolve().parent.parent
_METRICS = _ROOT / "src" / "pipelinekit" / "metrics"
_MARKER = re.compile(r"<!-- pipelinekit:(\w+)(?: ([\w.-]+))? -->")


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------- glossary


def _glossary(_: str | None) -> str:
    from pipelinekit.glossary import GLOSSARY

    return _table(
        ["key", "English", "日本語", "definition", "computed by"],
        [[f"`{t.key}`", t.en, t.ja, t.definition, f"`{t.function}`"] for t in GLOSSARY.values()],
    )


_LABEL_TABLES = {
    "sections": "SECTION_LABELS",
    "tables": "TABLE_LABELS",
    "columns": "COLUMN_LABELS",
    "values": "VALUE_LABELS",
}


def _labels(kind: str | None) -> str:
    import pipelinekit.glossary as glossary

    name = _LABEL_TABLES.get(kind or "")
    if name is None:
        raise ValueError(f"pipelinekit:labels needs one of {', '.join(_LABEL_TABLES)}")
    labels = getattr(glossary, name, {})
    rows = [[f"`{key}`", label.en, label.ja] for key, label in sorted(labels.items())]
    return _table(["key", "English", "日本語"], rows)


# ------------------------------------------------------------------------- schema


def _schema(_: str | None) -> str:
    from pipelinekit.schema import TABLES

    out = []
    for table in TABLES.values():
        out += [f"### `{table.name}`", "", table.description, ""]
        rows: list[list[object]] = []
        for col in table.columns:
            rules = []
            if col.unique:
                rules.append("unique")
            if col.enum:
                rules.append("one of " + ", ".join(f"`{v}`" for v in col.enum))
            if col.fk:
                rules.append(f"refers to `{col.fk[0]}.{col.fk[1]}`")
            if col.min is not None:
                rules.append(f">= {col.min}")
            if col.min_exclusive is not None:
                rules.append(f"> {col.min_exclusive}")
            if col.max is not None:
                rules.append(f"<= {col.max}")
            if col.default is not None:
                rules.append(f"default `{col.default}`")
            rows.append(
                [f"`{col.name}`", col.kind, "yes" if col.required else "", "; ".join(rules)]
            )
        out += [_table(["column", "type", "required", "rule"], rows), ""]
    return "\n".join(out)


# ------------------------------------------------------------------------ presets


def _source(wanted: str | tuple[str, ...]) -> str:
    names = (wanted,) if isinstance(wanted, str) else wanted
    return " or ".join(f"`{n}`" for n in names)


def _rule_text(rule: Any) -> str:
    from pipelinekit.io.presets import CollapseRepeats, Fill, Keep, Lookup

    def cond(when: Any) -> str:
        return " and ".join(f"`{k}` in {', '.join(repr(v) for v in vs)}" for k, vs in when.items())

    if isinstance(rule, Fill):
        where = f" where {cond(rule.when)}" if rule.when else ""
        return f"empty `{rule.column}` := `{rule.value!r}`{where}"
    if isinstance(rule, Keep):
        parts = []
        if rule.when:
            parts.append(cond(rule.when))
        if rule.prefixes:
            parts.append("it starts with " + " or ".join(f"`{p}`" for p in rule.prefixes))
        return f"keep `{rule.column}` only where {' and '.join(parts)}"
    if isinstance(rule, Lookup):
        first = f", earliest `{rule.order_by}`" if rule.order_by else ""
        where = f", where {cond(rule.where)}" if rule.where else ""
        return (
            f"empty `{rule.column}` := `{rule.table}.{rule.value}` of the row whose "
            f"`{rule.match}` = this `{rule.on}`{where}{first}"
        )
    if isinstance(rule, CollapseRepeats):
        return (
            f"drop rows repeating the previous `{rule.value}` of the same `{rule.key}` "
            f"(by `{rule.order_by}`)"
        )
    return repr(rule)


def _preset(name: str | None) -> str:
    from pipelinekit.io.presets import PRESETS

    if name not in PRESETS:
        raise ValueError(f"pipelinekit:preset needs one of {', '.join(PRESETS)}, got {name!r}")
    out = []
    for table, maps in PRESETS[name].tables.items():
        for table_map in maps:
            out += [f"#### `{table}` ← `{table_map.source}`", ""]
            rows: list[list[object]] = [
                [f"`{column}`", _source(wanted)] for column, wanted in table_map.columns.items()
            ]
            rows += [[f"`{c}`", f"always `{v}`"] for c, v in table_map.constants.items()]
            out += [_table(["column", "from"], rows), ""]
            details = []
            for column, factor in table_map.scale.items():
                details.append(f"- `{column}` is multiplied by {factor:g}")
            for column, skipped in table_map.skip.items():
                values = ", ".join("(empty)" if v == "" else f"`{v}`" for v in skipped)
                details.append(f"- rows whose `{column}` is {values} are skipped")
            details += [f"- {_rule_text(rule)}" for rule in table_map.derive]
            out += [*details, ""] if details else []
            for column, mapping in table_map.values.items():
                rows = [
                    ["(empty)" if raw == "" else f"`{raw}`", value]
                    for raw, value in mapping.items()
                ]
                out += [
                    f'??? note "`{column}` values ({len(mapping)})"',
                    "",
                    *("    " + line for line in _table(["export value", column], rows).split("\n")),
                    "",
                ]
    return "\n".join(out)


def _modules(package: str | None) -> str:
    """A ``::: module`` directive per public module of ``pipelinekit.<package>``."""
    folder = _ROOT / "src" / "pipelinekit" / (package or "").replace(".", "/")
    if not package or not folder.is_dir():
        raise ValueError(f"pipelinekit:modules needs a subpackage of pipelinekit, got {package!r}")
    names = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    return "\n\n".join(f"::: pipelinekit.{package}.{name}" for name in names)


_RENDERERS = {
    "glossary": _glossary,
    "labels": _labels,
    "schema": _schema,
    "preset": _preset,
    "modules": _modules,
}


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    def render(match: re.Match[str]) -> str:
        renderer = _RENDERERS.get(match.group(1))
        if renderer is None:
            raise ValueError(f"unknown docs marker {match.group(0)}")
        return renderer(match.group(2))

    return _MARKER.sub(render, markdown)


# ------------------------------------------------------------- generated pages


def _metric_modules() -> list[str]:
    return sorted(
        p.stem for p in _METRICS.glob("*.py") if not p.stem.startswith("_") and p.stem != "__init__"
    )


def _reference_page(module: str) -> str:
    # no "# title": the module's own heading is the page title
    return f"::: pipelinekit.metrics.{module}\n"


def _fallback_page(title: str, module: str) -> str:
    return (
        f"# {title}\n\n"
        "!!! note\n"
        "    This family's guide is being written; meanwhile this page shows the\n"
        "    definitions and examples from the module's docstrings.\n\n"
        f"::: pipelinekit.metrics.{module}\n"
    )


def _nav_pages(nav: Any) -> list[tuple[str, str]]:
    """(title, path) of every page in the nav."""
    found: list[tuple[str, str]] = []
    for item in nav if isinstance(nav, list) else []:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    found.append((title, value))
                else:
                    found += _nav_pages(value)
    return found


def on_config(config: Any, **kwargs: Any) -> Any:
    """Add the per-module metrics API pages to the nav's Reference section."""
    pages = [{module: f"reference/metrics/{module}.md"} for module in _metric_modules()]
    for item in config["nav"] or []:
        if isinstance(item, dict) and "Reference" in item:
            item["Reference"] = [
                entry
                for entry in item["Reference"]
                if not (isinstance(entry, dict) and "Metrics API" in entry)
            ] + [{"Metrics API": pages}]
    return config


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    modules = set(_metric_modules())
    for module in sorted(modules):
        path = f"reference/metrics/{module}.md"
        if files.get_file_from_path(path) is None:
            files.append(File.generated(config, path, content=_reference_page(module)))
    for title, path in _nav_pages(config["nav"]):
        stem = Path(path).stem
        if (
            path.startswith("metrics/")
            and stem in modules
            and files.get_file_from_path(path) is None
        ):
            log.info(
                "docs/%s is not written yet: generated from pipelinekit.metrics.%s", path, stem
            )
            files.append(File.generated(config, path, content=_fallback_page(title, stem)))
    return files
