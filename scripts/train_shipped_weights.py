"""Train the weights zoo's built-in plugins ship, the same bytes on every run.

    python scripts/train_shipped_weights.py            # into plugins/weights/
    python scripts/train_shipped_weights.py --out DIR  # elsewhere (tests compare the two)

Each model trains as ``zoo train NAME --device cpu --threads 1`` would (its own settings from
the plugin and the shipped registry.yaml), in this process, with no run folder; then
``Run.export(format="safetensors")`` writes it, checked, and its model.safetensors becomes
``NAME.safetensors``. ``weights.json`` lists each file with its SHA-256 and metrics; the
plugins register what it lists. On the CPU with one thread training is bit-exact, so the
files, and their SHA-256s, come out the same on every run. The files record zoo's version
and each model's settings: after changing either, run this again and commit the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import zoo

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("circle-v0", "circle-v0-seq", "circle-v1", "circle-v2", "blob-v0")
LISTING = "weights.json"


def train_one(name: str, folder: Path) -> dict[str, object]:
    """Train ``name``, write ``folder/NAME.safetensors``, and return its weights.json entry."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zoo.errors.LearnedNothingWarning)  # circle-v0: it does
        run = zoo.train(name, device="cpu", threads=1, plot=False)
    with tempfile.TemporaryDirectory() as scratch:
        run.export(Path(scratch) / "export", format="safetensors")
        target = folder / f"{name}.safetensors"
        shutil.copyfile(Path(scratch) / "export" / "model.safetensors", target)
    return {
        "file": f"weights/{target.name}",
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "metrics": {
            "test_acc": round(run.summary["test_acc"], 4),
            "dataset": run.summary["dataset"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "plugins" / "weights")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    listing = {name: train_one(name, out) for name in MODELS}
    (out / LISTING).write_text(json.dumps(listing, indent=2) + "\n")
    for name, entry in listing.items():
        print(
            f"{name}: {entry['metrics']['test_acc']}% test on {entry['metrics']['dataset']}, "
            f"sha256 {entry['sha256']}"
        )


if __name__ == "__main__":
    main()
