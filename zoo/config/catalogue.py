"""registry.yaml: one catalogue file of training defaults, per-model settings and variants.

zoo reads the one it ships and, on top, the user's (see :mod:`zoo.config.layers`). Each is
parsed with a subclass of ``yaml.SafeLoader`` (no Python objects, ever) that remembers line
numbers, and checked against the settings schema, so every mistake is reported as
``file:line: key: problem``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import CatalogueError
from zoo.names import NAME, did_you_mean
from zoo.plugins.weights import WeightsEntry, check_weights
from zoo.settings import SETTINGS, InvalidSetting, check_setting

MAX_BYTES = 2**20  # a catalogue file: 1 MiB
MAX_NODES = 20_000  # YAML values in one, every alias counted as what it repeats (a
# catalogue of a thousand models holds a few thousand; each value costs about 1.3 KiB once
# composed, so this keeps a hostile file under 30 MiB)
MAX_NUMBER_CHARS = 100  # a number in a catalogue: at most this many characters
_TOP_KEYS = ("defaults", "models")
_ENTRY_KEYS = ("model", "description", *SETTINGS, "weights")


@dataclass(frozen=True)
class CatalogueEntry:
    """One entry under ``models:``: settings for a plugin's model, or a variant of one."""

    name: str
    settings: dict[str, Any]
    line: int
    model: str | None = None  # set for a variant: the model it is built from
    description: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict)
    weights: WeightsEntry | None = None  # trained weights (see :mod:`zoo.plugins.weights`)

    @property
    def is_variant(self) -> bool:
        return self.model is not None


@dataclass(frozen=True)
class Catalogue:
    path: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, CatalogueEntry] = field(default_factory=dict)
    default_lines: dict[str, int] = field(default_factory=dict)  # each default's line

    def where(self, entry: CatalogueEntry, key: str | None = None) -> str:
        """``file:line`` of an entry, or of one of its keys."""
        return f"{self.path}:{entry.key_lines.get(key, entry.line) if key else entry.line}"

    @property
    def variants(self) -> list[CatalogueEntry]:
        return [e for e in self.entries.values() if e.is_variant]


def default_path() -> Path:
    """The catalogue zoo ships; the user's files add to it (see :mod:`zoo.config.layers`)."""
    return Path(str(resources.files("zoo").joinpath("registry.yaml")))


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and check a catalogue; any problem is a :class:`CatalogueError` with its line."""
    path = Path(path) if path is not None else default_path()
    raw = _read(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogueError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    return parse_catalogue(path, text)


def parse_catalogue(path: Path, text: str) -> Catalogue:
    """A catalogue's text checked as :func:`load_catalogue` checks a file (``path`` names it)."""
    return _build(path, _parse(path, text))


def _read(path: Path) -> bytes:
    """The file's bytes, at most :data:`MAX_BYTES` of them (a pipe is read as far as that)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such file; check --registry or ZOO_REGISTRY") from None
    except IsADirectoryError:
        raise CatalogueError(f"{path}: is a folder; --registry wants a YAML file") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise CatalogueError(
            f"{path}:1: larger than {MAX_BYTES // 2**10:,} KiB, the most a catalogue may be; "
            "split it or remove what zoo does not need"
        )
    return raw


def shown(key: Any) -> str:
    """A key as an error message can print it on one line: plain, or quoted if it is odd."""
    if isinstance(key, str) and key and key.isprintable() and key.strip() == key:
        return key
    return repr(key)


class _Located(dict[Any, Any]):
    """A mapping from the YAML file that remembers its own line and each key's line."""

    line: int
    key_lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers, refuses duplicate keys, and keeps to bounds.

    Every node is counted as it is composed, each alias as the whole of the node it repeats
    (so a "billion laughs" of chained anchors is refused after :data:`MAX_NODES` nodes, before
    anything is built), and an alias inside the collection it names is refused.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.sizes: dict[int, int] = {}  # id(node) -> its node count, aliases expanded
        self.composed = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        alias = self.check_event(yaml.AliasEvent)
        node: Any = super().compose_node(parent, index)
        line = node.start_mark.line + 1
        if alias:
            if id(node) not in self.sizes:  # the anchor's collection is not finished
                raise _Problem(line, "an alias inside the collection it names; remove it")
            size = self.sizes[id(node)]
        else:
            self.composed += 1
            size = 1 + sum([self.sizes[id(child)] for child in _children(node)])
            self.sizes[id(node)] = size
        if size > MAX_NODES or self.composed > MAX_NODES:
            raise _Problem(
                line,
                f"more than {MAX_NODES:,} values once its aliases are expanded; "
                "a catalogue needs far fewer",
            )
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_number(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """An int or a float, refused when its digits alone could take seconds to read."""
    if len(node.value) > MAX_NUMBER_CHARS:
        raise _Problem(
            node.start_mark.line + 1,
            f"a number of {len(node.value):,} characters; zoo reads numbers of at most "
            f"{MAX_NUMBER_CHARS}",
        )
    if node.tag.endswith(":int"):
        return loader.construct_yaml_int(node)
    return loader.construct_yaml_float(node)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    mapping = _Located()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise _Problem(line, f"{key!r}: a key must be a plain name")
        if key in mapping.key_lines:
            raise _Problem(line, f"{key}: appears twice in one mapping; keep one")
        mapping.key_lines[key] = line
        mapping[key] = loader.construct_object(value_node, deep=True)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_number)
_LineLoader.add_constructor("tag:yaml.org,2002:float", _construct_number)


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _parse(path: Path, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_LineLoader)
    except _Problem as exc:
        raise CatalogueError(f"{path}:{exc.line}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "not valid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in what:
            what = f"{what}; only plain YAML values are allowed (no tags)"
        raise CatalogueError(f"{path}:{line}: {what}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise CatalogueError(
            f"{path}:{line}: character {exc.character!r} is not allowed in YAML; remove it"
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not valid YAML"
        raise CatalogueError(f"{path}:1: not valid YAML: {first}") from None
    except RecursionError:
        raise CatalogueError(f"{path}:1: nested too deeply to be a catalogue") from None


def _build(path: Path, document: Any) -> Catalogue:
    if document is None:  # an empty file: zoo's fallbacks and the plugins' defaults apply
        return Catalogue(path)
    if not isinstance(document, _Located):
        raise CatalogueError(
            f"{path}:1: expected a mapping with 'defaults:' and 'models:', "
            f"got {type(document).__name__}"
        )
    _check_keys(path, document, _TOP_KEYS, "")
    defaults: dict[str, Any] = {}
    default_lines: dict[str, int] = {}
    if document.get("defaults") is not None:
        node = _mapping_at(path, document, "defaults", "defaults")
        _check_keys(path, node, tuple(SETTINGS), "defaults.")
        defaults = _settings(path, node, "defaults", list(node))
        default_lines = dict(node.key_lines)
    entries: dict[str, CatalogueEntry] = {}
    if document.get("models") is not None:
        models = _mapping_at(path, document, "models", "models")
        for name in models:
            entries[name] = _entry(path, models, name)
    return Catalogue(path, defaults, entries, default_lines)


def _entry(path: Path, models: _Located, name: Any) -> CatalogueEntry:
    line = models.key_lines[name]
    label = f"models.{shown(name)}"
    if not isinstance(name, str):
        raise CatalogueError(f"{path}:{line}: {label}: a model name must be text")
    if models[name] is None:  # `circle-v0:` with nothing under it
        return CatalogueEntry(name, {}, line)
    node = _mapping_at(path, models, name, label)
    _check_keys(path, node, _ENTRY_KEYS, label + ".")
    texts = {}
    for key in ("model", "description"):
        value = node.get(key)
        if key in node and (not isinstance(value, str) or not value.strip()):
            raise CatalogueError(
                f"{path}:{node.key_lines[key]}: {label}.{key}: must be text, got {value!r}"
            )
        texts[key] = value
    if texts["model"] is not None and not NAME.fullmatch(name):
        raise CatalogueError(
            f"{path}:{line}: {label}: a variant's name takes lower-case letters, digits, "
            "'.', '_' and '-'"
        )
    keys = [k for k in node if k not in texts and k != "weights"]
    settings = _settings(path, node, label, keys)
    weights = None
    if "weights" in node:
        where = f"{path}:{node.key_lines['weights']}"
        try:
            weights = check_weights(node["weights"], Path(os.path.abspath(path)).parent, where)
        except ValueError as exc:
            raise CatalogueError(f"{where}: {label}.{exc}") from None
    return CatalogueEntry(
        name, settings, line, texts["model"], texts["description"], dict(node.key_lines), weights
    )


def _check_keys(path: Path, node: _Located, allowed: tuple[str, ...], prefix: str) -> None:
    for key, line in node.key_lines.items():
        if key not in allowed:
            hint = did_you_mean(str(key), allowed) or f" (allowed: {', '.join(allowed)})"
            raise CatalogueError(f"{path}:{line}: {prefix}{shown(key)}: unknown key{hint}")


def _mapping_at(path: Path, parent: _Located, key: Any, label: str) -> _Located:
    node = parent[key]
    if not isinstance(node, _Located):
        raise CatalogueError(
            f"{path}:{parent.key_lines[key]}: {label}: must be a mapping of keys to values, "
            f"got {node!r}"
        )
    return node


def _settings(path: Path, node: _Located, label: str, keys: list[Any]) -> dict[str, Any]:
    checked = {}
    for key in keys:
        try:
            checked[key] = check_setting(key, node[key])
        except InvalidSetting as exc:
            raise CatalogueError(f"{path}:{node.key_lines[key]}: {label}.{exc}") from None
    return checked
