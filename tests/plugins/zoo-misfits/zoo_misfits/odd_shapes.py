"""Models whose shapes do not fit the data they are asked to train on."""

from torch import nn

import zoo


def two_logits(in_features=2):
    """Two outputs per row, whatever the task: wrong for binary data."""
    return nn.Linear(in_features, 2)


def three_inputs():
    """Hard-wired to three input features."""
    return nn.Linear(3, 1)


@zoo.hookimpl
def register_models(register):
    register("two-logits", two_logits, defaults={"epochs": 5})
    register("three-inputs", three_inputs, defaults={"epochs": 5})
