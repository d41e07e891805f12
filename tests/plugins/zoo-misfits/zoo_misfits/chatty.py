"""Prints to stdout at import, in its hook, in its factory and in every forward pass."""

from torch import nn

import zoo

print("chatty: imported")


class Chatty(nn.Module):
    def __init__(self, in_features=2, out_features=1):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        print("chatty: forward")
        return self.linear(x)


def chatty_model(in_features=2, out_features=1):
    print("chatty: building")
    return Chatty(in_features, out_features)


@zoo.hookimpl
def register_models(register):
    print("chatty: registering")
    register("chatty", chatty_model, defaults={"epochs": 3})
