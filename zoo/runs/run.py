"""A trained model with its record: what ``zoo.train`` returns and ``zoo.load`` gives back.

Importing this module is cheap (no torch): a ``Run`` only exists once something was trained
or loaded, and its methods import what they use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import DataError, NonFiniteOutput

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.config.resolve import TrainConfig
    from zoo.runs.export.writer import ExportReport
    from zoo.runs.publish import Published
    from zoo.training.data import Split
    from zoo.training.records import EpochRow, LogRow
    from zoo.training.scaling import Scaling
    from zoo.training.tasks import Task


@dataclass(eq=False, repr=False)
class Run:
    """A trained model, in eval mode, and how it was trained: its numbers are in
    ``run.summary`` (``run.summary["test_acc"]``, the keys of ``zoo train --json``)."""

    model: nn.Module
    summary: dict[str, Any]  # the record of `zoo train --json`
    history: list[LogRow]  # one row per log point, every split evaluated
    run_dir: Path | None  # where it was written, if anywhere
    config: TrainConfig
    classes: list[Any]  # the dataset's label for each class index
    features: int
    task: Task
    device: torch.device
    load_split: Callable[[], Split] | None = field(default=None)  # the data, when wanted
    scaling: Scaling | None = None  # what the features go through first; None: nothing
    steps: list[EpochRow] = field(default_factory=list)  # one row per epoch, as trained

    @property
    def scaled_model(self) -> nn.Module:
        """The model with its feature scaling in front: it takes raw features."""
        return self.scaling.wrap(self.model) if self.scaling else self.model

    def predict(self, X: Any) -> np.ndarray:
        """The label (the dataset's own: ``'cat'``, or ``1``) of each row of ``X``."""
        import numpy as np

        probabilities = self.predict_proba(X)
        labels: np.ndarray = np.asarray(self.classes)[probabilities.argmax(axis=1)]
        return labels

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each row's probability of every class: shape [rows, classes], in ``classes`` order."""
        import numpy as np
        import torch

        rows = np.asarray(X, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.features:
            raise DataError(
                f"the model takes rows of {self.features} features, got shape {list(rows.shape)}"
            )
        self.model.eval()
        with torch.inference_mode():
            logits = self.task.logits(self.scaled_model(torch.from_numpy(rows).to(self.device)))
            probabilities: np.ndarray = self.task.probabilities(logits).cpu().numpy()
        broken = ~np.isfinite(probabilities).all(axis=1)
        if broken.any():
            row = int(broken.argmax())
            raise NonFiniteOutput(row, rows[row].tolist())
        return probabilities

    def export(self, path: str | os.PathLike[str], format: str = "onnx") -> ExportReport:
        """Write the model, its scaling in front, as ``onnx``, ``torchscript`` (a file) or
        ``safetensors`` (a folder with config.json and the model card) to ``path``. The file
        is loaded back and run on the test split first: a probability that differs from
        torch's by more than 1e-5 and nothing is written (see :mod:`zoo.runs.export`)."""
        from zoo.runs.export.writer import export_run

        return export_run(self, path, format)

    def publish(
        self, name: str, registry: str | os.PathLike[str], *, force: bool = False
    ) -> Published:
        """Add the trained weights to the catalogue ``registry`` as ``name``: writes
        weights/NAME.safetensors and its card beside the file, then the entry, keeping the
        rest of the file (see :mod:`zoo.runs.publish`)."""
        from zoo.runs.publish import publish

        return publish(self, name, registry, force)

    def card(self) -> str:
        """The model card (Markdown, Hugging Face layout): what the model is, its data,
        settings and metrics, what it is good for, and how to load it."""
        from zoo.runs.card_files import card_of

        return card_of(self)

    def plot(self) -> Figure:
        """The decision boundary on the train and test points (two-feature data) and the
        loss and accuracy curves, in one matplotlib figure."""
        from matplotlib.figure import Figure

        from zoo.runs.figures import draw_boundary, draw_curves

        split = self.load_split() if self.load_split and self.features == 2 else None
        figure = Figure(figsize=(12, 9.5 if split else 4.5))
        grid = figure.subplots(2 if split else 1, 2, squeeze=False)
        if split is not None:
            for axis, part, X, y in (
                (grid[0][0], "Train", split.X_train, split.y_train),
                (grid[0][1], "Test", split.X_test, split.y_test),
            ):
                draw_boundary(axis, (part, self.scaled_model, self.task, X, y))
        draw_curves(grid[-1], self.history, self.steps, self.summary.get("best_epoch"))
        figure.suptitle(self.title())
        figure.tight_layout()
        return figure

    def title(self) -> str:
        """``circle-v2 on circles: 99.5% test`` (what the pictures are headed with), and
        ``(learned nothing)`` after a run that did no better than the majority class."""
        accuracy = self.summary.get("test_acc")
        score = f": {accuracy:.1f}% test" if isinstance(accuracy, (int, float)) else ""
        score += " (learned nothing)" if self.summary.get("learned_nothing") else ""
        return f"{self.config.model} on {self.config.dataset}{score}"

    def __repr__(self) -> str:
        where = f", {self.run_dir}" if self.run_dir else ""
        epochs = self.summary.get("epochs")
        return f"Run({self.title()}, {epochs} epochs{where})"
