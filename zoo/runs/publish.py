"""``zoo publish``: a run's trained weights into a catalogue, for ``zoo.get_model(NAME,
weights=True)`` and ``zoo predict NAME`` to use.

Beside the catalogue file it writes ``weights/NAME.safetensors`` (as ``zoo export --format
safetensors`` writes model.safetensors) and ``weights/NAME.md`` (the model card), then adds
``models.NAME`` with ``weights: {file, sha256, metrics}``: a name that is not the run's model
becomes a variant (its ``model``, ``dataset`` and ``params``), so it also trains and builds
untrained as the run did. The weights come first and the entry last, so the entry never
names a missing file; an entry or weights file of that name that differs is replaced only
with ``force``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo.config.catalogue import Catalogue, parse_catalogue
from zoo.config.registry_edit import with_entry
from zoo.errors import ConfigError, RunFolderError
from zoo.names import NAME, NAME_RULE
from zoo.plugins.loader import load_plugins
from zoo.runs import bounded, weights_file
from zoo.runs.card import model_card, recorded_training
from zoo.runs.outputs import output_file, run_inputs
from zoo.runs.run import Run

MAX_CATALOGUE_BYTES = 2**20


@dataclass(frozen=True)
class Published:
    """What ``zoo publish`` wrote (``changed`` False: the same entry was already there)."""

    name: str
    registry: str
    weights: str
    card: str
    sha256: str
    metrics: dict[str, Any] = field(default_factory=dict)
    changed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def publish(
    run: Run, name: str, registry: str | os.PathLike[str], force: bool = False
) -> Published:
    """Publish the run (loaded from its folder) as ``name`` in the catalogue ``registry``."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"--as {name!r}: {NAME_RULE}")
    path = Path(registry)
    if path.is_dir():
        raise ConfigError(f"--registry {path} is a folder; name a YAML file (new or existing)")
    _check_name(run, name)
    if run.load_split is None or run.run_dir is None or run.summary.get("partial"):
        raise RunFolderError(
            f"{run.config.model}: only a finished run's folder can be published (its data "
            "and card go with the weights)"
        )
    record = weights_file.describe(run, run.load_split())
    data = weights_file.to_bytes(run, record)
    digest = hashlib.sha256(data).hexdigest()
    weights = path.parent / "weights" / f"{name}.safetensors"
    entry = _entry(run, name, digest, f"weights/{weights.name}")
    text = _read(path)
    catalogue = parse_catalogue(path, text) if text.strip() else Catalogue(path)
    published = Published(
        name,
        str(path),
        str(weights),
        str(weights.with_suffix(".md")),
        digest,
        entry["weights"]["metrics"],
    )
    if _same(catalogue, name, digest, data, weights):
        return Published(**{**published.to_dict(), "changed": False})
    _refuse_overwrite(catalogue, name, weights, data, force)
    new_text = with_entry(path, text, catalogue, name, entry)
    weights.parent.mkdir(parents=True, exist_ok=True)
    inputs = run_inputs(run)  # the catalogue is not one: publishing rewrites it
    with output_file(weights, inputs=inputs, binary=True, what="weights") as file:
        file.write(data)
    card = model_card({**record, "training": recorded_training(run.run_dir)}, name)
    with output_file(weights.with_suffix(".md"), inputs=inputs, what="model card") as file:
        file.write(card)
    with output_file(path, inputs=inputs, what="catalogue") as file:  # last: it names the above
        file.write(new_text)
    return published


def _check_name(run: Run, name: str) -> None:
    if name == run.config.model:
        return
    taken = load_plugins().model_providers(name)
    if taken:
        raise ConfigError(
            f"--as {name}: is a model of plugin {taken[0].plugin.name!r}; publish the run as "
            f"{run.config.model!r} or under a name of its own"
        )


def _entry(run: Run, name: str, digest: str, file: str) -> dict[str, Any]:
    accuracy = run.summary.get("test_acc")
    metrics: dict[str, Any] = {"dataset": run.config.dataset, "seed": run.config.seed}
    if isinstance(accuracy, (int, float)):
        metrics = {"test_acc": round(float(accuracy), 4), **metrics}
    weights = {"file": file, "sha256": digest, "metrics": metrics}
    if name == run.config.model:
        return {"weights": weights}
    config = run.config
    entry: dict[str, Any] = {
        "model": config.builds,
        "description": f"{config.model} trained on {config.dataset} (zoo publish)",
        "dataset": config.dataset,
    }
    for key in ("dataset_params", "params"):
        if getattr(config, key):
            entry[key] = dict(getattr(config, key))
    if config.scale != "none":
        entry["scale"] = config.scale
    return {**entry, "weights": weights}


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    raw = bounded.read_bytes(path, MAX_CATALOGUE_BYTES, "missing")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: not UTF-8 text; zoo publish edits only UTF-8 catalogues"
        ) from None


def _same(catalogue: Catalogue, name: str, digest: str, data: bytes, weights: Path) -> bool:
    """The entry and its file are already what publishing would write."""
    old = catalogue.entries.get(name)
    return (
        old is not None
        and old.weights is not None
        and old.weights.sha256 == digest
        and _holds(weights, data)
    )


def _holds(weights: Path, data: bytes) -> bool:
    """Whether the file ``weights`` holds exactly ``data``: read through the bounded reader,
    never more than ``data``'s size (a larger file, a FIFO or a device differs unread)."""
    try:
        return bounded.read_bytes(weights, len(data), "missing") == data
    except RunFolderError:
        return False


def _refuse_overwrite(
    catalogue: Catalogue, name: str, weights: Path, data: bytes, force: bool
) -> None:
    if force:
        return
    old = catalogue.entries.get(name)
    if old is not None:
        raise ConfigError(
            f"{catalogue.where(old)}: models.{name} already exists and differs; give --force "
            "to replace it, or publish under another name"
        )
    if weights.is_file() and not _holds(weights, data):
        raise ConfigError(
            f"{weights}: already exists and holds other weights; give --force to replace it"
        )
