"""A well-behaved model whose factory takes no arguments at all, like the lesson's V0."""

from torch import nn

import zoo


def fixed_net():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


@zoo.hookimpl
def register_models(register):
    register(
        "fixed-net",
        fixed_net,
        description="hard-coded 2 -> 8 -> 1",
        defaults={"epochs": 50, "momentum": 0.9},
    )
