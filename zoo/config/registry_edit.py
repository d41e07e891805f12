"""Adding one entry to a user's catalogue file, keeping the rest of it as it was written.

``zoo publish`` edits the text, not a re-dumped document: comments, order and layout of
everything else stay. The new entry is YAML from ``yaml.safe_dump``; it goes at the end of
``models:`` (or, named again with ``--force``, in place of the old entry's lines), and the
whole file is parsed again before it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from zoo.config.catalogue import Catalogue, parse_catalogue
from zoo.errors import CatalogueError


def with_entry(
    path: Path, text: str, catalogue: Catalogue, name: str, entry: dict[str, Any]
) -> str:
    """``text`` with ``models.NAME`` set to ``entry`` (the old entry's lines replaced)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    old = catalogue.entries.get(name)
    if old is not None:
        start = old.line - 1
        indent = _indent(lines[start])
        end = _block_end(lines, start, indent)
        new = lines[:start] + _entry_lines(name, entry, indent) + lines[end:]
    else:
        new = _appended(path, lines, name, entry)
    result = "".join(new)
    parse_catalogue(path, result)  # what is written reads back, or nothing is written
    return result


def _appended(path: Path, lines: list[str], name: str, entry: dict[str, Any]) -> list[str]:
    models = next((i for i, line in enumerate(lines) if re.match(r"^models\s*:", line)), None)
    if models is None:
        return [*lines, "models:\n", *_entry_lines(name, entry, 2)]
    rest = lines[models].split(":", 1)[1].split("#", 1)[0].strip()
    if rest and rest not in ("~", "null"):
        raise CatalogueError(
            f"{path}:{models + 1}: models: is written on one line; write it as a block (one "
            "entry per line) so that zoo publish can add to it"
        )
    end = _block_end(lines, models, 0)
    while end > models + 1 and _closing(lines[end - 1]):
        end -= 1  # after the block's last entry, before the blank lines and comments after it
    entries = [
        line
        for line in lines[models + 1 : end]
        if line.strip() and not line.lstrip().startswith("#")
    ]
    indent = _indent(entries[0]) if entries else 2
    head = [*lines[:models], "models:\n", *lines[models + 1 : end]] if rest else lines[:end]
    return [*head, *_entry_lines(name, entry, indent), *lines[end:]]


def _closing(line: str) -> bool:
    """A blank line, or a comment at the left margin (about what follows, not the entries)."""
    return not line.strip() or line.startswith("#")


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index of the first line after ``lines[start]``'s block (indented deeper)."""
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() and not line.lstrip().startswith("#") and _indent(line) <= indent:
            return index
    return len(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _entry_lines(name: str, entry: dict[str, Any], indent: int) -> list[str]:
    text = yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=False, width=1000)
    return [" " * indent + line + "\n" for line in text.splitlines()]
