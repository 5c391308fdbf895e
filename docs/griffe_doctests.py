"""Griffe extension: read pipelinekit's numpydoc docstrings the way they are written.

Two habits of the code base confuse griffe's numpy parser, and this extension
rewrites the docstring text (not the source) before it is parsed:

- **Bare doctests.** Many short docstrings carry a doctest right after the summary
  or after the Parameters section, without an ``Examples`` header. The parser then
  reads ``>>> rate(3, 4).value`` as a parameter or as prose, where ``[0]`` or
  ``['2025-05-03']`` look like Markdown links to mkdocs-autorefs. An ``Examples``
  header is inserted before every doctest block that is not already in one.
- **Prose Returns sections.** STYLE.md writes ``Returns`` as a sentence ("Frame of
  the caller's kind with the ``by`` columns, ...") rather than ``name : type`` items;
  the parser would take each unindented line for a type. Such a section becomes one
  item typed by the signature's return annotation, with the prose as its text.

The doctests keep running under pytest; only the rendered page changes.
"""

from __future__ import annotations

from typing import Any

import griffe

_EXAMPLE_HEADERS = {"example", "examples"}
_PROSE_SECTIONS = {"returns", "yields"}


def _is_underline(line: str) -> bool:
    text = line.strip()
    return len(text) >= 3 and set(text) == {"-"}


def _is_header(lines: list[str], index: int) -> bool:
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return bool(line.strip()) and not line[:1].isspace() and _is_underline(following)


def _is_prose(line: str) -> bool:
    """A sentence rather than ``name : type`` / ``type`` / ``a, b``."""
    text = line.strip()
    return " : " not in text and len(text.split()) >= 3


def with_prose_returns(text: str) -> str:
    """``text`` with prose Returns/Yields sections as one item typed by the signature.

    >>> print(with_prose_returns("Returns\\n-------\\nFrame of the caller's kind,\\n- one"))
    Returns
    -------
    :
        Frame of the caller's kind,
        - one
    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        if not (_is_header(lines, index) and lines[index].strip().lower() in _PROSE_SECTIONS):
            out.append(lines[index])
            index += 1
            continue
        out += lines[index : index + 2]
        start = end = index + 2
        while end < len(lines) and not _is_header(lines, end):
            end += 1
        body = lines[start:end]
        first = next((line for line in body if line.strip()), "")
        if _is_prose(first):
            trailing = len(body) - len("\n".join(body).rstrip("\n").split("\n"))
            kept = body[: len(body) - trailing] if trailing else body
            out.append(":")
            out += ["    " + line if line.strip() else "" for line in kept]
            out += [""] * trailing
        else:
            out += body
        index = end
    return "\n".join(out)


def with_example_headers(text: str) -> str:
    """``text`` with an ``Examples`` header before each doctest outside such a section.

    >>> with_example_headers("Summary.\\n\\n>>> 1 + 1\\n2").split("\\n")
    ['Summary.', '', 'Examples', '--------', '>>> 1 + 1', '2']
    """
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    in_doctest = False
    for index, line in enumerate(lines):
        if _is_header(lines, index):
            section = line.strip().lower()
        starts = line.lstrip().startswith(">>>")
        if starts and not in_doctest and section not in _EXAMPLE_HEADERS and not line[:1].isspace():
            if out and out[-1].strip():
                out.append("")
            out += ["Examples", "--------"]
            section = "examples"
        if starts:
            in_doctest = True
        elif not line.strip():
            in_doctest = False
        out.append(line)
    return "\n".join(out)


class BareDoctests(griffe.Extension):
    """Rewrite bare doctests and prose Returns sections before the docstring is parsed."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is None:
            return
        text = docstring.value
        if ">>>" in text:
            text = with_example_headers(text)
        if "Returns\n---" in text or "Yields\n---" in text:
            text = with_prose_returns(text)
        docstring.value = text
