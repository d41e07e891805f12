"""The multi-class model of the PyTorch course's lesson 02."""

from __future__ import annotations

import torch
from torch import nn

import zoo
from zoo.hookspecs import RegisterModel

from .shipped_weights import shipped


class BlobModel(nn.Module):
    """Three linear layers for several classes; blobs are separable by lines, so it needs no
    activation (the lesson leaves its ReLUs commented out)."""

    def __init__(self, in_features: int = 2, out_features: int = 4, hidden_units: int = 8) -> None:
        super().__init__()
        self.linear_layer_stack = nn.Sequential(
            nn.Linear(in_features, hidden_units),
            nn.Linear(hidden_units, hidden_units),
            nn.Linear(hidden_units, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_layer_stack(x)


@zoo.hookimpl
def register_models(register: RegisterModel) -> None:
    register(
        "blob-v0",
        BlobModel,
        description="lesson 02's BlobModel: 2 -> 8 -> 8 -> classes, linear, multi-class",
        defaults={"dataset": "blobs", "optimizer": "sgd", "lr": 0.1, "epochs": 100},
        weights=shipped("blob-v0"),
    )
