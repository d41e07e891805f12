"""The errors zoo raises for a user's or a plugin author's mistake.

Each carries one line that names the problem and, where there is one, the fix; the command line
prints that line and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path
from typing import Any


class ZooError(Exception):
    """Base of every error that is the user's or a plugin's to fix, not a bug in zoo."""


class UnknownNameError(ZooError, LookupError):
    """A model, dataset, plugin or optimizer name that nothing provides."""


class AmbiguousNameError(ZooError, LookupError):
    """A name that two plugins provide; the user must say which, as ``plugin:name``."""


class PluginError(ZooError):
    """A plugin failed to import, to register, or broke the plugin contract."""


class CatalogueError(ZooError):
    """A registry.yaml that cannot be read or does not follow the schema."""


class ConfigError(ZooError, ValueError):
    """A training setting with a value that makes no sense."""


class DataError(ZooError, ValueError):
    """A dataset or an input file whose content zoo cannot use."""


class NonFiniteOutput(DataError):
    """A model's output is not a number for an input row (it overflows inside the model)."""

    def __init__(self, row: int, values: list[float]) -> None:
        self.row, self.values = row, "[" + ", ".join(f"{v:.7g}" for v in values) + "]"
        super().__init__(
            f"row {row + 1}: the model's output is not a number for {self.values} "
            "(values this large overflow inside it); no predictions were made"
        )


class DeviceError(ZooError):
    """A device that does not exist or is not available on this machine."""


class ModelError(ZooError):
    """A model that cannot be built, or that gives outputs of the wrong shape."""


class TrainingDiverged(ZooError):
    """The loss became NaN or infinite; training stopped and kept the last good weights."""

    def __init__(self, message: str, summary: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class TrainingInterrupted(ZooError):
    """A stop was requested (Ctrl-C, SIGTERM); the run folder holds a checkpoint to resume."""

    def __init__(self, message: str, exit_status: int = 130) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class StopNow(KeyboardInterrupt):
    """A second Ctrl-C (or SIGTERM) while training: stop at once, not at the epoch's end."""


class ClusterError(ZooError):
    """A cluster that cannot be reached or used, or that lost work it cannot redo."""


class RunFolderError(ZooError):
    """A run folder that is missing, incomplete, foreign or unsafe to load."""


class ExportError(ZooError):
    """A model that cannot leave zoo in the asked format, or whose export computes otherwise."""


class WeightsError(ZooError):
    """Trained weights that cannot be had or trusted: missing, damaged, or not their SHA-256."""


class ZooWarning(UserWarning):
    """Something the user should know that does not stop the command."""


class PluginWarning(ZooWarning):
    """A plugin failed to load; the others are unaffected."""


class HookWarning(ZooWarning):
    """A plugin's or logger's event hook raised; training went on without it."""


class LearnedNothingWarning(ZooWarning):
    """A run completed no better than always answering the majority class."""


class CatalogueWarning(ZooWarning):
    """A catalogue entry was skipped because the plugin it needs did not load."""


class DataWarning(ZooWarning):
    """The data may not be what was meant: a label column that looks like a measurement."""


def describe_exception(exc: BaseException, module: str = "") -> str:
    """``Type: message (file.py:line)``, the line being in the plugin ``module``'s own files.

    The location is left out when no frame is the plugin's: a line inside torch says nothing
    to the plugin's author.
    """
    lines = str(exc).strip().splitlines()
    if isinstance(exc, SystemExit):  # sys.exit() in a plugin: a failure, not zoo's exit
        code = "" if exc.code is None else repr(exc.code)
        lines = [f"the plugin called sys.exit({code})"]
    if isinstance(exc, ZooError):
        summary = lines[0] if lines else type(exc).__name__
    else:
        summary = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{summary} ({Path(exc.filename).name}:{exc.lineno})"
    folders = _source_folders(module)
    own = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if any(Path(frame.filename) == f or f in Path(frame.filename).parents for f in folders)
    ]
    if not own:
        return summary
    return f"{summary} ({Path(own[-1].filename).name}:{own[-1].lineno})"


def _source_folders(module: str) -> list[Path]:
    """The folder of ``module``'s top-level package, or the file of a top-level module."""
    top = module.partition(".")[0]
    if not top:
        return []
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    return [Path(spec.origin)] if spec.origin else []
