"""Running a piece of zoo in a forked child under a memory limit, and measuring what it used.

The property tests for bounds hand zoo hostile files; each attempt runs here, in a child
process whose data segment may grow by at most ``memory`` bytes (RLIMIT_DATA: past it, an
allocation fails instead of the machine swapping), and whose peak resident memory is measured
by the kernel (VmHWM, reset when the child starts through ``/proc/self/clear_refs``). The
child reports how zoo answered: a result, zoo's own error (a ZooError, whose message is one
line), or anything else with its traceback.

:func:`fails_if_blocked` bounds a call made in this process instead: past its seconds, the
call is interrupted and the test fails, rather than the suite waiting on it for ever.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from zoo.errors import ZooError

MiB = 2**20
HANG = 300  # seconds after which a child is taken to hang: it is killed, and that is a crash


@dataclass(frozen=True)
class Outcome:
    kind: str  # "result", "error" (a ZooError) or "crash" (anything else)
    text: str  # the result's repr, the error's message, or the crash's traceback
    growth: int  # the child's peak resident memory less what it started with, in bytes

    def one_line_error_naming(self, name: str) -> bool:
        return self.kind == "error" and "\n" not in self.text and name in self.text


def _status(field: str) -> int:
    """A size from /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def in_child(function: Callable[[], Any], memory: int = 256 * MiB, hang: int = HANG) -> Outcome:
    """``function()`` in a forked child allowed ``memory`` more bytes and ``hang`` seconds;
    how it ended."""
    sys.stdout.flush()  # what is buffered now is the parent's to write, not the child's too
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's exit handlers
        try:
            os.close(read)
            signal.alarm(hang)
            torch.set_num_threads(1)  # the parent's thread pool did not survive the fork
            _, hard = resource.getrlimit(resource.RLIMIT_DATA)
            resource.setrlimit(resource.RLIMIT_DATA, (_status("VmData") + memory, hard))
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # the peak (VmHWM) starts again from here, not the parent's
            start = _status("VmRSS")
            try:
                report: list[Any] = ["result", repr(function())[:500]]
            except ZooError as exc:
                report = ["error", str(exc)]
            except BaseException:  # exactly what the test must not see
                report = ["crash", traceback.format_exc()]
            report.append(_status("VmHWM") - start)
            with os.fdopen(write, "w") as pipe:
                json.dump(report, pipe)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not text:
        return Outcome("crash", f"the child died (wait status {status})", 0)
    kind, detail, growth = json.loads(text)
    return Outcome(kind, detail, growth)


class Blocked(BaseException):
    """Raised into a call that went on past its bound: a BaseException, so that no ``except
    Exception`` on the way (a client's retry loop, zoo's own error handling) can swallow it."""


@contextmanager
def fails_if_blocked(seconds: int) -> Iterator[None]:
    """What runs inside (in the main thread) is interrupted after ``seconds`` and the test
    fails: a wait on a FIFO or a server that does not answer is a failure, not a hang. The
    bound is far above what the call needs, so it shows a hang, never a slow machine."""

    def interrupt(signum: int, frame: object) -> None:
        raise Blocked(f"still waiting after {seconds} s: blocked")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
