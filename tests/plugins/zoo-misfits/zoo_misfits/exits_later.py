"""Imports fine; its factory and its loader call sys.exit, its second hook raises SystemExit."""

import sys

from torch import nn

import zoo


def exiting_factory(in_features=2, out_features=1):
    sys.exit("factory gave up")


def exiting_loader():
    sys.exit(3)


@zoo.hookimpl
def register_models(register):
    register("exit-factory", exiting_factory, defaults={"dataset": "circles", "epochs": 5})
    register("exit-data-model", lambda: nn.Linear(2, 1), defaults={"dataset": "exit-data"})


@zoo.hookimpl
def register_datasets(register):
    register("exit-data", exiting_loader)
