"""Export a run: build the graph, check it, write it (see :mod:`zoo.runs.export`)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, ExportError
from zoo.names import did_you_mean
from zoo.runs import weights_file
from zoo.runs.card import model_card, recorded_training, training
from zoo.runs.export import FORMATS, TOLERANCE, graph, onnx_file, torchscript_file
from zoo.runs.files import write_atomic
from zoo.runs.folder import write_json
from zoo.runs.outputs import (
    check_output,
    check_output_folder,
    output_file,
    output_folder,
    run_inputs,
)
from zoo.runs.run import Run
from zoo.training.data import Split

FOLDER_FILES = ("model.safetensors", "config.json", "README.md")


@dataclass(frozen=True)
class ExportReport:
    """What ``zoo export`` wrote and how it was checked."""

    format: str
    path: str
    model: str
    epochs: int | None
    partial: bool  # the last checkpoint of a run that did not finish
    rows: int  # test rows the export was run on
    max_difference: float  # the largest |probability - torch's| over them
    checked_by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_run(run: Run, path: str | os.PathLike[str], format: str) -> ExportReport:
    """Write ``run``'s model to ``path`` as ``format``, checked on its test split first."""
    if format not in FORMATS:
        raise ConfigError(
            f"unknown export format {format!r}{did_you_mean(format, FORMATS)}; "
            f"choose from {', '.join(FORMATS)}"
        )
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ConfigError(f"--output must name a {_what(format)}, got {str(path)!r}")
    if format == "safetensors":  # never over the run folder or one of its files
        check_output_folder(path, what="export", flag="--output")
    else:
        check_output(path, inputs=run_inputs(run), what="export", flag="--output")
    if format == "onnx":
        onnx_file.require()
    split = _test_split(run)
    module = graph.probabilities_of(run)
    rows = split.X_test
    reference = graph.compute(module, rows)
    record = weights_file.describe(run, split)
    if format == "safetensors":
        difference, checker = _write_folder(run, record, path, rows, reference)
    else:
        writer = onnx_file if format == "onnx" else torchscript_file
        data = writer.to_bytes(module, graph.example(rows), record)
        difference = _difference(writer.run(data, rows), reference, format)
        checker = writer.checker()
        inputs = run_inputs(run)
        with output_file(path, inputs=inputs, binary=True, what="export", flag="--output") as out:
            out.write(data)
    partial = bool(run.summary.get("partial"))
    epochs = run.summary.get("epochs")
    return ExportReport(
        format, str(path), run.config.model, epochs, partial, len(rows), difference, checker
    )


def _write_folder(
    run: Run, record: dict[str, Any], path: Path, rows: np.ndarray, reference: np.ndarray
) -> tuple[float, str]:
    """model.safetensors, config.json and README.md, checked by loading the weights back."""
    data = weights_file.to_bytes(run, record)
    tensors, read_back = weights_file.read(data, path / FOLDER_FILES[0])
    rebuilt = weights_file.build(read_back, tensors, (path / FOLDER_FILES[0], path))
    difference = _difference(
        graph.compute(graph.probabilities_of(rebuilt), rows), reference, "safetensors"
    )
    with output_folder(path, what="export", flag="--output") as folder:
        write_atomic(folder / FOLDER_FILES[0], data)
        write_json(folder / FOLDER_FILES[1], record)
        card = model_card({**record, "training": _training(run)}, str(path))
        write_atomic(folder / FOLDER_FILES[2], card.encode())
    return difference, "zoo.load (safetensors)"


def _difference(found: np.ndarray, reference: np.ndarray, format: str) -> float:
    """The largest difference of a probability; over :data:`TOLERANCE`, nothing is written."""
    if found.shape != reference.shape:
        raise ExportError(
            f"the {format} export gives probabilities of shape {list(found.shape)}, torch "
            f"{list(reference.shape)}; nothing was written"
        )
    difference = float(np.max(np.abs(found.astype(np.float64) - reference)))
    if not difference <= TOLERANCE:  # NaN included
        raise ExportError(
            f"the {format} export's probabilities differ from torch's by up to {difference:.3g} "
            f"on the test split (more than {TOLERANCE:g}); nothing was written"
        )
    return difference


def _test_split(run: Run) -> Split:
    if run.load_split is None:
        raise ExportError(
            f"{run.config.model}: has no data to check an export on (a model loaded from "
            "trained weights); export the run folder it came from"
        )
    return run.load_split()


def _training(run: Run) -> dict[str, Any]:
    """How long the run trained and on what machine: this one for a run trained in this
    process, else what its folder's card recorded (if it has one)."""
    if run.run_dir is None:
        return training(run.summary.get("seconds"))
    return recorded_training(run.run_dir)


def _what(format: str) -> str:
    return "folder" if format == "safetensors" else "file"
