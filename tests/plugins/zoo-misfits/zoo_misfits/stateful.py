"""A well-behaved model with batch norm: its running statistics keep it from being batched."""

from torch import nn

import zoo


def batchnorm_net(in_features=2, out_features=1, hidden_units=8):
    return nn.Sequential(
        nn.Linear(in_features, hidden_units),
        nn.BatchNorm1d(hidden_units),
        nn.ReLU(),
        nn.Linear(hidden_units, out_features),
    )


@zoo.hookimpl
def register_models(register):
    register(
        "batchnorm-net",
        batchnorm_net,
        description="Linear, BatchNorm1d, ReLU, Linear",
        defaults={"epochs": 40},
    )
