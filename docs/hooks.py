"""mkdocs hooks: pages generated from the code (glossary, schema tables).

A page containing ``<!-- pipelinekit:glossary -->`` or ``<!-- pipelinekit:schema -->``
gets the table rendered from ``pipelinekit.glossary`` / ``pipelinekit.schema``, so the
docs can never drift from the code.
"""

from __future__ import annotations

from typing import Any


def _glossary() -> str:
    from pipelinekit.glossary import GLOSSARY

    lines = ["| key | English | 日本語 | definition | computed by |", "|---|---|---|---|---|"]
    for term in GLOSSARY.values():
        lines.append(
            f"| `{term.key}` | {term.en} | {term.ja} | {term.definition} | `{term.function}` |"
        )
    return "\n".join(lines)


def _schema() -> str:
    from pipelinekit.schema import TABLES

    out = []
    for table in TABLES.values():
        out += [f"### `{table.name}`", "", table.description, ""]
        out += ["| column | type | required | rule |", "|---|---|---|---|"]
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
            required = "yes" if col.required else ""
            out.append(f"| `{col.name}` | {col.kind} | {required} | {'; '.join(rules)} |")
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if "<!-- pipelinekit:glossary -->" in markdown:
        markdown = markdown.replace("<!-- pipelinekit:glossary -->", _glossary())
    if "<!-- pipelinekit:schema -->" in markdown:
        markdown = markdown.replace("<!-- pipelinekit:schema -->", _schema())
    return markdown
