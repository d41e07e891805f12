"""One folder, one writer: an exclusive lock on a run or comparison folder for a whole run.

The lock is ``fcntl.flock`` on the file ``.zoo-lock`` inside the folder. The kernel drops it
when the process that holds it ends, however it ends, so a run killed with SIGKILL leaves at
most a stale file behind, which the next writer simply locks again. A second writer is refused
at once (the lock is never waited for): two processes never write one folder together.

A folder named with ``--out`` is *claimed* first (:func:`claim`): its lock file is created
exclusively (``O_EXCL``) in the empty folder, so of two processes claiming one folder at the
same moment exactly one succeeds, and the folder is no longer empty for the other.

The file is removed when the lock is released, so a finished folder holds only zoo's files. A
process that opened the file just before it was removed notices that the name now points
elsewhere (or nowhere) and tries again.

Only a lock file zoo made is ever opened for writing: a regular file with one name, holding
nothing or a pid. A link (followed, it would truncate its target, or create one), a FIFO, a
folder or a file holding anything else is refused in one line, untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zoo.errors import RunFolderError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: folders are not locked
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".zoo-lock"
_ATTEMPTS = 50  # opens of a lock file that its holder removed meanwhile: a live lock race
_NO_WAIT = os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)  # never a link's target, never a FIFO
_OWNER_BYTES = 32  # a pid and a newline: a lock file holding more is not zoo's


class FolderBusy(RunFolderError):
    """Another process holds the folder's lock."""


class FolderLock:
    """A held lock; :meth:`release` gives it back and removes the file."""

    def __init__(self, folder: Path, handle: int) -> None:
        self.folder = folder
        self.handle: int | None = handle

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def release(self) -> None:
        if self.handle is None:
            return
        # a read-only folder keeps the file; an unlocked file blocks nobody
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it: nobody can lock the old file now
        _unlock(self.handle)
        os.close(self.handle)
        self.handle = None


def acquire(folder: str | os.PathLike[str]) -> FolderLock:
    """Take ``folder``'s lock, or raise :class:`FolderBusy` (one line) if a process holds it."""
    folder = Path(folder)
    for _ in range(_ATTEMPTS):
        handle = _open(folder)
        try:
            _lock(handle)
        except BlockingIOError:
            owner = _owner(handle)
            os.close(handle)
            raise FolderBusy(busy_message(folder, owner)) from None
        if _names(handle, folder / LOCK_NAME):
            _write_owner(handle)
            return FolderLock(folder, handle)
        os.close(handle)  # its holder removed it as we opened it: lock the current one
    raise FolderBusy(busy_message(folder, None))


@contextmanager
def hold(folder: str | os.PathLike[str] | None) -> Iterator[None]:
    """Hold ``folder``'s lock for the block (nothing happens for ``None``: no folder)."""
    if folder is None:
        yield
        return
    lock = acquire(folder)
    try:
        yield
    finally:
        lock.release()


def claim(folder: Path) -> None:
    """Mark the empty ``folder`` as taken by creating its lock file exclusively.

    Raises :class:`FolderBusy` or :class:`RunFolderError` when another process got there first.
    """
    try:
        handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NO_WAIT, 0o644)
    except FileExistsError:
        raise in_use_or_taken(folder) from None
    _write_owner(handle)
    os.close(handle)


def in_use_or_taken(folder: Path) -> RunFolderError:
    """The error for a folder that is not free: busy when its lock is held, else not empty."""
    try:
        handle = os.open(folder / LOCK_NAME, os.O_RDONLY | _NO_WAIT)
    except OSError:
        handle = None
    if handle is not None:
        try:
            _lock(handle)
            _unlock(handle)
        except BlockingIOError:
            return FolderBusy(busy_message(folder, _owner(handle)))
        finally:
            os.close(handle)
    return RunFolderError(f"{folder}: already exists and is not empty; choose another --out")


def busy_message(folder: Path, owner: int | None) -> str:
    who = f"another zoo process (pid {owner})" if owner else "another zoo process"
    return (
        f"{folder}: {who} is writing this folder; wait until it ends, or use another folder "
        "(a lock left by a process that died is free again)"
    )


def _open(folder: Path) -> int:
    """The lock file, created if needed; read-only where the folder cannot be written."""
    path = folder / LOCK_NAME
    try:
        return _checked(path, os.open(path, os.O_RDWR | os.O_CREAT | _NO_WAIT, 0o644))
    except FileNotFoundError:
        raise RunFolderError(f"{folder}: no such run folder") from None
    except NotADirectoryError:
        raise RunFolderError(f"{folder}: not a folder") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):  # a link, a folder, a socket
            raise RunFolderError(foreign_message(path, _kind(path))) from None
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise RunFolderError(f"{folder}: cannot lock the folder ({exc.strerror})") from None
        problem = exc.strerror
    try:
        handle = os.open(path, os.O_RDONLY | _NO_WAIT)  # a lock works on a read-only file too
    except OSError:
        raise RunFolderError(
            f"{folder}: cannot write here ({problem}); nothing was changed"
        ) from None
    return _checked(path, handle)


def _checked(path: Path, handle: int) -> int:
    """``handle`` if it is a lock file zoo made: one regular file, empty or holding a pid."""
    info = os.fstat(handle)
    kind = None
    if not stat.S_ISREG(info.st_mode):
        kind = _kind(path)
    elif info.st_nlink != 1:
        kind = "a file with another name too (a hard link)"
    elif info.st_size > _OWNER_BYTES or not _is_pid(os.pread(handle, _OWNER_BYTES, 0)):
        kind = "a file holding something other than a pid"
    if kind is None:
        return handle
    os.close(handle)
    raise RunFolderError(foreign_message(path, kind))


def foreign_message(path: Path, kind: str) -> str:
    return (
        f"{path}: not a lock file zoo made ({kind}); nothing was changed; "
        "remove it if no zoo process uses the folder, then try again"
    )


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "gone"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "not a regular file"


def _is_pid(content: bytes) -> bool:
    return content.strip() == b"" or content.strip().isdigit()


def _lock(handle: int) -> None:
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: int) -> None:
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)


def _names(handle: int, path: Path) -> bool:
    """True if ``path`` still names the file open as ``handle``."""
    try:
        on_disk = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(handle)
    return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)


def _write_owner(handle: int) -> None:
    """Note our pid in the file, for the message another process shows (best effort)."""
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # opened read-only


def _owner(handle: int) -> int | None:
    try:
        text = os.pread(handle, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and len(text) < 12 else None
