"""Suggests a training setting that does not exist."""

from torch import nn

import zoo


@zoo.hookimpl
def register_models(register):
    register("typo-defaults", lambda: nn.Linear(2, 1), defaults={"epocs": 10})
