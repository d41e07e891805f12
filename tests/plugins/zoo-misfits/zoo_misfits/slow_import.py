"""Blocks while it is imported, as a plugin waiting on a network or a lock would.

It waits until the file named by ZOO_MISFITS_RELEASE exists (at most a minute), or five
seconds without that variable; then it loads and registers one model.
"""

import os
import time
from pathlib import Path

from torch import nn

import zoo

_release = os.environ.get("ZOO_MISFITS_RELEASE")
_deadline = time.monotonic() + (60 if _release else 5)
while time.monotonic() < _deadline and not (_release and Path(_release).exists()):
    time.sleep(0.05)


@zoo.hookimpl
def register_models(register):
    register("late-model", lambda: nn.Linear(2, 1), defaults={"epochs": 3})
