"""Where training runs: the device (``auto`` takes an accelerator when there is one, as the
lesson does) and the number of CPU threads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from zoo.errors import DeviceError
from zoo.settings import DEVICE_HELP

_CUDA = re.compile(r"cuda(?::(\d+))?")


def resolve_device(name: str) -> torch.device:
    """The torch device for ``name``, or a :class:`DeviceError` saying what is available."""
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps' is not available here (no Apple GPU); use cpu or auto")
        return torch.device("mps")
    match = _CUDA.fullmatch(name)
    if match is None:
        raise DeviceError(f"unknown device {name!r}; use {DEVICE_HELP}")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} is not available here (no CUDA GPU); use cpu or auto")
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceError(
            f"device {name!r} does not exist: this machine has {count} CUDA device(s), "
            f"cuda:0 to cuda:{count - 1}"
        )
    return torch.device(name)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads, then restore the process's setting.

    Sums split across threads round differently, so the thread count is part of what makes
    a run reproducible; small models are also fastest on one thread.
    """
    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)
