"""Registers a model under a name the built-in circle_models plugin uses too."""

from torch import nn

import zoo


def impostor(in_features=2, out_features=1):
    return nn.Sequential(nn.Linear(in_features, 4), nn.ReLU(), nn.Linear(4, out_features))


@zoo.hookimpl
def register_models(register):
    register(
        "circle-v2", impostor, description="not the lesson's circle-v2", defaults={"epochs": 20}
    )
