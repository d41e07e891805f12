"""A griffe extension for the documentation site: Sphinx roles in zoo's docstrings as links.

zoo's docstrings name other objects the way ``help()`` readers and Sphinx know,
``:class:`Run```, ``:func:`resume```, ``:mod:`zoo.hookspecs```. mkdocstrings would show those
roles as raw text. This turns each into a cross-reference when the object it names is on a
reference page (``mkdocs build --strict`` then fails if the link does not resolve), and into
code otherwise (an internal module: the architecture page describes those). mkdocs.yml loads it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc):`~?([\w.]+)`")
# The modules whose objects the reference pages render (docs/reference/*.md).
DOCUMENTED = ("zoo.api", "zoo.hookspecs", "zoo.errors", "zoo.sklearn", "zoo.tables")
PUBLIC = {"zoo.Run": "zoo.api.Run", "zoo.runs.run.Run": "zoo.api.Run"}


def target(obj: griffe.Object, name: str) -> str | None:
    """The documented path ``name`` refers to from ``obj``, or None."""
    try:
        path = obj.resolve(name) if "." not in name else name
    except (griffe.NameResolutionError, AttributeError):
        path = name
    path = PUBLIC.get(path, path)
    if path in DOCUMENTED:
        return path
    module, _, rest = path.rpartition(".")
    while module and module not in DOCUMENTED:  # a class's member: its class's module
        module, _, more = module.rpartition(".")
        rest = f"{more}.{rest}"
    try:
        found = obj.package[path.removeprefix("zoo.")] if module else None
    except KeyError:
        return None
    return path if found is not None and not found.is_module else None


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in walk(pkg):
            if obj.docstring is None:
                continue

            def link(match: re.Match[str], obj: griffe.Object = obj) -> str:
                name = match.group(1)
                path = target(obj, name)
                return f"[`{name}`][{path}]" if path else f"`{name}`"

            obj.docstring.value = ROLE.sub(link, obj.docstring.value)


def walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias and member.parent is obj:
            found.extend(walk(member))  # type: ignore[arg-type]
    return found
