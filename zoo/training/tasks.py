"""Binary and multi-class classification: loss, labels and the expected output shape.

Lesson 02's rules: binary models emit one logit per example, trained with
``BCEWithLogitsLoss`` and labelled ``round(sigmoid(logit))``; multi-class models emit one logit
per class, trained with ``CrossEntropyLoss`` and labelled ``softmax(...).argmax(dim=1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Task:
    classes: int

    @property
    def binary(self) -> bool:
        return self.classes == 2

    @property
    def name(self) -> str:
        return "binary" if self.binary else "multi-class"

    @property
    def out_features(self) -> int:
        return 1 if self.binary else self.classes

    def loss_function(self) -> nn.Module:
        return nn.BCEWithLogitsLoss() if self.binary else nn.CrossEntropyLoss()

    def targets(self, labels: torch.Tensor) -> torch.Tensor:
        """Labels 0..K-1 in the dtype the loss wants."""
        return labels.float() if self.binary else labels.long()

    def logits(self, output: torch.Tensor) -> torch.Tensor:
        """The model's output in the loss's shape: [N] for binary, [N, C] for multi-class.

        Leading dimensions pass through: [K, N, 1] becomes [K, N] for K stacked models.
        """
        return output.squeeze(-1) if self.binary else output

    def labels(self, logits: torch.Tensor) -> torch.Tensor:
        if self.binary:
            return torch.round(torch.sigmoid(logits))
        return torch.softmax(logits, dim=-1).argmax(dim=-1)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Per example, the probability of every class: [N, C]."""
        if self.binary:
            positive = torch.sigmoid(logits)
            return torch.stack([1 - positive, positive], dim=-1)
        return torch.softmax(logits, dim=-1)

    def output_ok(self, output: torch.Tensor, rows: int) -> bool:
        return tuple(output.shape) == (rows, self.out_features)


def accuracy(labels: torch.Tensor, targets: torch.Tensor) -> float:
    """Percent of correct labels, computed as the lesson does."""
    return torch.eq(labels, targets).sum().item() / len(targets) * 100
