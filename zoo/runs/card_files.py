"""The model cards zoo writes and prints: a run folder's README.md, and ``zoo card``."""

from __future__ import annotations

from pathlib import Path

from zoo.errors import RunFolderError
from zoo.runs import bounded, weights_file
from zoo.runs.card import CARD, MAX_CARD_BYTES, model_card, training
from zoo.runs.files import write_atomic
from zoo.runs.run import Run


def write_run_card(run: Run) -> Path:
    """README.md in the run's folder, for a run trained on this machine just now."""
    assert run.run_dir is not None and run.load_split is not None
    record = weights_file.describe(run, run.load_split())
    record["training"] = training(run.summary.get("seconds"))
    path = run.run_dir / CARD
    write_atomic(path, model_card(record, str(run.run_dir)).encode())
    return path


def card_of(run: Run) -> str:
    """The run's card: its folder's README.md (or, for trained weights, the card published
    beside them); else one made now from what the run knows (the machine: not recorded)."""
    for card in _written_cards(run):
        if card.is_file():
            return bounded.read_bytes(card, MAX_CARD_BYTES, "missing").decode("utf-8", "replace")
    weights = run.summary.get("weights")
    if isinstance(weights, dict) and isinstance(weights.get("file"), str):
        path = Path(weights["file"])
        _, record = weights_file.read(weights_file.read_bytes(path), path)
        return model_card(record, run.config.model)
    if run.load_split is None or run.run_dir is None:
        raise RunFolderError(f"{run.config.model}: no model card, and no data to make one from")
    record = weights_file.describe(run, run.load_split())
    record["training"] = {"seconds": run.summary.get("seconds")}
    return model_card(record, str(run.run_dir))


def _written_cards(run: Run) -> list[Path]:
    found = [run.run_dir / CARD] if run.run_dir is not None else []
    weights = run.summary.get("weights")
    if isinstance(weights, dict) and isinstance(weights.get("file"), str):
        found.append(Path(weights["file"]).with_suffix(".md"))
    return found
