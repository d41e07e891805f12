"""The circle models of the PyTorch course's lesson 02, in the order the lesson builds them."""

from __future__ import annotations

import torch
from torch import nn

import zoo
from zoo.hookspecs import RegisterModel

from .shipped_weights import shipped


class CircleModelV0(nn.Module):
    """Two linear layers: whatever the weights, the boundary is a straight line."""

    def __init__(self, in_features: int = 2, out_features: int = 1, hidden_units: int = 5) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features, hidden_units)
        self.layer_2 = nn.Linear(hidden_units, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_2(self.layer_1(x))


def circle_v0_sequential(
    in_features: int = 2, out_features: int = 1, hidden_units: int = 5
) -> nn.Sequential:
    """CircleModelV0 as nn.Sequential: the same layers, created in the same order."""
    return nn.Sequential(
        nn.Linear(in_features, hidden_units),
        nn.Linear(hidden_units, out_features),
    )


class CircleModelV1(nn.Module):
    """Deeper and wider than V0, yet still a straight line: no activation between layers."""

    def __init__(self, in_features: int = 2, out_features: int = 1, hidden_units: int = 10) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features, hidden_units)
        self.layer_2 = nn.Linear(hidden_units, hidden_units)
        self.layer_3 = nn.Linear(hidden_units, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_3(self.layer_2(self.layer_1(x)))


class CircleModelV2(nn.Module):
    """V1 with ReLU between the layers: the first model that can bend its boundary."""

    def __init__(self, in_features: int = 2, out_features: int = 1, hidden_units: int = 10) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features, hidden_units)
        self.layer_2 = nn.Linear(hidden_units, hidden_units)
        self.layer_3 = nn.Linear(hidden_units, out_features)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))


@zoo.hookimpl
def register_models(register: RegisterModel) -> None:
    lesson = {"dataset": "circles", "optimizer": "sgd", "lr": 0.1}
    register(
        "circle-v0",
        CircleModelV0,
        description="lesson 02's CircleModelV0: 2 -> 5 -> 1, linear (an nn.Module subclass)",
        defaults={**lesson, "epochs": 100},
        weights=shipped("circle-v0"),
    )
    register(
        "circle-v0-seq",
        circle_v0_sequential,
        description="CircleModelV0's nn.Sequential twin: 2 -> 5 -> 1, linear",
        defaults={**lesson, "epochs": 100},
        weights=shipped("circle-v0-seq"),
    )
    register(
        "circle-v1",
        CircleModelV1,
        description="lesson 02's CircleModelV1: 2 -> 10 -> 10 -> 1, linear",
        defaults={**lesson, "epochs": 1000},
        weights=shipped("circle-v1"),
    )
    register(
        "circle-v2",
        CircleModelV2,
        description="lesson 02's CircleModelV2: 2 -> 10 -> 10 -> 1 with ReLU",
        defaults={**lesson, "epochs": 1000},
        weights=shipped("circle-v2"),
    )
