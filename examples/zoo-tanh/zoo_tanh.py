"""An example zoo plugin: one model and one dataset, found through the `zoo` entry point."""

from sklearn.datasets import make_gaussian_quantiles
from torch import nn

import zoo


def tanh_mlp(in_features=2, out_features=1, hidden_units=16):
    return nn.Sequential(
        nn.Linear(in_features, hidden_units),
        nn.Tanh(),
        nn.Linear(hidden_units, hidden_units),
        nn.Tanh(),
        nn.Linear(hidden_units, out_features),
    )


def quantiles(n_samples=1000, n_classes=3, random_state=42):
    return make_gaussian_quantiles(
        n_samples=n_samples, n_features=2, n_classes=n_classes, random_state=random_state
    )


@zoo.hookimpl
def register_models(register):
    register(
        "tanh-mlp",
        tanh_mlp,
        description="2 -> 16 -> 16 -> out with tanh",
        defaults={"dataset": "quantiles", "optimizer": "adam", "lr": 0.01, "epochs": 500},
    )


@zoo.hookimpl
def register_datasets(register):
    register("quantiles", quantiles, description="make_gaussian_quantiles: 3 nested shells")
