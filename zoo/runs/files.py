"""Writing files so that a crash never leaves half of one, and JSON that strict parsers read."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

UMASK = os.umask(0o022)
os.umask(UMASK)  # read once: the files get the modes an open() would give them


@contextmanager
def atomic_open(path: Path, mode: str = "wb", **options: Any) -> Iterator[IO[Any]]:
    """A file that replaces ``path`` when the block ends, and vanishes if the block fails.

    It is written under a temporary name in the same folder, flushed to disk, then renamed:
    readers see the old file or the new one, never a half-written one.
    """
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        os.fchmod(handle, 0o666 & ~UMASK)
        with os.fdopen(handle, mode, **options) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _sync_folder(path.parent)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        if exc.filename is None:  # name the file the user knows, not the temporary one
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files that a killed writer left behind (never the real files)."""
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_open(path) as file:
        file.write(data)


def json_text(data: Any, indent: int | None = None) -> str:
    """``data`` as strict JSON: a NaN or an infinity (which JSON cannot hold) becomes null."""
    return json.dumps(finite(data), indent=indent, allow_nan=False)


def finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable, where the platform can open a folder."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
