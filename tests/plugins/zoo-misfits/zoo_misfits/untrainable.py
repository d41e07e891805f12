"""Models that build and give outputs of the right shape, but that cannot be trained."""

import torch
from torch import nn

import zoo


class NoParameters(nn.Module):
    def forward(self, x):
        return x[:, :1]


class IntegerOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return (self.linear(x) > 0).long()


class FailsWhenTraining(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        if self.training:
            raise RuntimeError("this layer was never meant to train")
        return self.linear(x)


class NoGradient(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        with torch.no_grad():
            return self.linear(x)


def frozen():
    model = nn.Linear(2, 1)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def nan_weights():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(float("nan"))
    return model


def overflowing():
    """Finite weights whose output overflows float32: the loss is not finite before training."""
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(3e38)
        model.bias.fill_(3e38)
    return model


@zoo.hookimpl
def register_models(register):
    for name, factory in [
        ("no-parameters", lambda: NoParameters()),
        ("integer-output", lambda: IntegerOutput()),
        ("fails-when-training", lambda: FailsWhenTraining()),
        ("no-gradient", lambda: NoGradient()),
        ("frozen", frozen),
        ("nan-weights", nan_weights),
        ("overflowing", overflowing),
    ]:
        register(name, factory, defaults={"epochs": 5})
