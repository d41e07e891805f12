"""Ctrl-C and SIGTERM as requests to stop cleanly, at the end of the current epoch.

Inside ``with StopRequests() as stop:``, the first SIGINT or SIGTERM only sets a flag that the
training loop reads after each epoch (``stop()``), so the run ends with a checkpoint. A second
one stops at once, as the default handler would. Handlers can only be set from the main
thread; elsewhere nothing changes.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from zoo.errors import StopNow

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.signal is not None

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal is not None:  # asked twice: stop now
            raise StopNow
        self.signal = number

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 plus the signal's number (130 for Ctrl-C)."""
        return 128 + (self.signal or signal.SIGINT)
