"""The one graph every export holds: raw features in, each class's probability out.

It is :meth:`zoo.runs.run.Run.predict_proba` as a module: the run's scaling, the model, then
the task's probabilities (sigmoid for two classes, softmax for more), on the CPU, so an
exported file needs nothing of zoo to give what zoo gives.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from zoo.runs.run import Run
from zoo.training.tasks import Task


class Probabilities(nn.Module):
    """``features [batch, F]`` (raw, as the data comes) to ``probabilities [batch, classes]``."""

    def __init__(self, scaled_model: nn.Module, task: Task) -> None:
        super().__init__()
        self.model = scaled_model
        self.task = task

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.task.probabilities(self.task.logits(self.model(features)))


def probabilities_of(run: Run) -> Probabilities:
    """A CPU copy of the run's model, its scaling in front, in eval mode: the run itself is
    left where it is."""
    model = copy.deepcopy(run.scaled_model).cpu().eval()
    return Probabilities(model, run.task).eval()


def compute(module: nn.Module, rows: np.ndarray) -> np.ndarray:
    """The module's probabilities of ``rows`` (float32), as numpy."""
    with torch.inference_mode():
        result: np.ndarray = module(torch.from_numpy(np.ascontiguousarray(rows))).numpy()
    return result


def example(rows: np.ndarray) -> torch.Tensor:
    """A few real rows to trace with: more than one, so no exporter fixes the batch at 1."""
    return torch.from_numpy(np.ascontiguousarray(rows[: max(2, min(len(rows), 8))]))
