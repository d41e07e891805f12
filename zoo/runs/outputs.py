"""Every file zoo writes on request (``--output``, ``--html``, ``zoo.save_comparison``,
``zoo.plot_comparison``, ``zoo export``, ``zoo publish``), written without destroying what is
not zoo's.

The rules, in :func:`output_file` for all of them: a path the user named that is a link is
followed, and its target written; a regular file is replaced atomically (all of the output, or
the old file untouched); anything else (a device, a FIFO) is streamed to, never replaced; a
folder is refused, and so is any of the command's inputs (the data, a catalogue, a comparison
folder's files). A path zoo chose itself inside one of its folders (``FOLDER/report.html``) is
never followed: a link planted there is replaced, not its target. A folder written on request
(``zoo export --format safetensors``) is new or empty, filled under a temporary name and
renamed: all of it, or nothing.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from zoo.errors import ConfigError, DataError, NonFiniteOutput
from zoo.runs import files
from zoo.runs.csv_files import PredictionWriter, read_numbered_rows
from zoo.runs.files import atomic_open
from zoo.runs.run import Run


def predict_file(
    run: Run,
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    as_json: bool = False,
    target: str | None = None,
) -> None:
    """Predict every row of the CSV ``source`` (``-``: standard input) into ``output``
    (None: standard output), as CSV or JSON. The whole input is checked before any of it
    is written, so a bad line leaves no half-written output."""
    drop = target if target is not None else run.config.dataset_params.get("target")
    if output is None:
        with tempfile.TemporaryFile("w+", newline="") as spool:
            _predict(run, source, spool, as_json, drop)
            spool.seek(0)
            for chunk in iter(lambda: spool.read(1 << 16), ""):
                sys.stdout.write(chunk)
        return
    with output_file(output, inputs=[source], what="predictions", flag="--output") as out:
        _predict(run, source, out, as_json, drop)


def _predict(
    run: Run, source: str | os.PathLike[str], out: IO[str], as_json: bool, drop: str | None
) -> None:
    writer = PredictionWriter(out, run.classes, as_json)
    for lines, rows in read_numbered_rows(source, run.features, drop=drop if drop else None):
        try:
            writer.write(run.predict_proba(rows))
        except NonFiniteOutput as exc:
            raise DataError(
                f"{source}:{lines[exc.row]}: the model's output is not a number for "
                f"{exc.values} (values this large overflow inside it); nothing was written"
            ) from None
    writer.close()


Inputs = Iterable[str | os.PathLike[str]]


@contextmanager
def output_file(
    path: str | os.PathLike[str],
    *,
    inputs: Inputs = (),
    what: str = "output",
    flag: str | None = None,
    binary: bool = False,
    follow: bool = True,
) -> Iterator[IO[Any]]:
    """A file that becomes ``path`` (see the module's rules): the ``what`` of a command whose
    files ``inputs`` it must never replace; ``flag`` names the option in messages."""
    target = check_output(path, inputs=inputs, what=what, flag=flag, follow=follow)
    mode, newline = ("wb", None) if binary else ("w", "")
    if _streamed(target, follow):  # a device or a FIFO: written to, never replaced
        with open(target, mode, newline=newline) as stream:
            yield stream
        return
    with atomic_open(target, mode, newline=newline) as file:
        yield file


def write_output(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    inputs: Inputs = (),
    what: str = "output",
    flag: str | None = None,
    follow: bool = True,
) -> Path:
    """``data`` written to ``path`` by :func:`output_file`'s rules; returns ``path``."""
    with output_file(path, inputs=inputs, what=what, flag=flag, binary=True, follow=follow) as out:
        out.write(data)
    return Path(path)


def check_output(
    path: str | os.PathLike[str],
    *,
    inputs: Inputs = (),
    what: str = "output",
    flag: str | None = None,
    follow: bool = True,
) -> Path:
    """Where ``path`` writes (its target, for a followed link), refused in one line if it is a
    folder, one of ``inputs``, or in a folder that is missing or cannot be written: checked
    before any work, so nothing is computed in vain."""
    shown = f"{flag} {path}" if flag else str(path)
    target = Path(os.path.realpath(path)) if follow else Path(path)
    if target.is_dir():
        raise ConfigError(f"{shown}: is a folder; name a file for the {what}")
    if target.exists() and any(_same(target, source) for source in inputs):
        raise ConfigError(f"{shown}: is an input file of this command; write the {what} elsewhere")
    parent = target.parent if os.path.islink(path) and follow else Path(path).parent
    if not parent.is_dir():
        reason = "no such folder" if not parent.exists() else "not a folder"
        raise ConfigError(f"{shown}: cannot write the {what} ({parent}: {reason})")
    if not os.access(parent, os.W_OK | os.X_OK) and not _streamed(target, follow):
        raise ConfigError(f"{shown}: cannot write the {what} ({parent}: not writable)")
    return target


def _same(target: Path, source: str | os.PathLike[str]) -> bool:
    try:
        return str(source) != "-" and os.path.samefile(target, source)
    except OSError:  # a missing input is no file to protect
        return False


def _streamed(target: Path, follow: bool) -> bool:
    return follow and target.exists() and not stat.S_ISREG(target.stat().st_mode)


def run_inputs(run: Run) -> list[str]:
    """The files a command reads from a run: its folder's files and the data file it was
    trained on, which none of the command's outputs may replace."""
    found = [str(p) for p in sorted(run.run_dir.iterdir())] if run.run_dir is not None else []
    data = run.config.dataset_params.get("path")
    return [*found, data] if isinstance(data, str) else found


@contextmanager
def output_folder(
    path: str | os.PathLike[str], *, what: str = "output", flag: str | None = None
) -> Iterator[Path]:
    """A folder that becomes ``path`` (new, or empty) once the block has filled it: it is
    filled under a temporary name beside it, then renamed, so ``path`` holds all of it or
    nothing. A file, or a folder with anything in it, is never replaced (so neither is an
    input of the command)."""
    target = check_output_folder(path, what=what, flag=flag)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~files.UMASK)  # mkdtemp's is 0o700
        if target.is_dir():
            target.rmdir()  # empty, checked above: an empty folder named for this
        os.rename(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def check_output_folder(
    path: str | os.PathLike[str], *, what: str = "output", flag: str | None = None
) -> Path:
    """Where :func:`output_folder` writes, refused in one line if it is a file or a folder
    with anything in it: checked before any work."""
    shown = f"{flag} {path}" if flag else str(path)
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{shown}: is a file; name a new or empty folder for the {what}")
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError(f"{shown}: is a folder that is not empty; name a new one for the {what}")
    return target
