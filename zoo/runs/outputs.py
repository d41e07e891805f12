"""Writing predictions to a file without destroying what is not zoo's.

A regular file (or a link's target) is written atomically: all the predictions, or the old
file untouched. Anything else (a device, a FIFO) is streamed to, never replaced. The output
is never one of the inputs.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
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
    with output_file(Path(output), source) as out:
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


@contextmanager
def output_file(path: Path, source: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """A file (text, or bytes with ``mode="wb"``) that becomes ``path``: atomically for a
    regular file, streamed otherwise."""
    target = Path(os.path.realpath(path))
    if str(source) != "-" and os.path.exists(source) and target.exists():
        if os.path.samefile(source, target):
            raise ConfigError(f"--output {path} is the input file; write the predictions elsewhere")
    kind = target.stat().st_mode if target.exists() else None
    if kind is not None and stat.S_ISDIR(kind):
        raise ConfigError(f"--output {path} is a folder; name a file")
    if kind is not None and not stat.S_ISREG(kind):  # a device or a FIFO: stream, never replace
        with open(target, mode, **_text(mode)) as stream:
            yield stream
        return
    with atomic_open(target, mode, **_text(mode)) as file:
        yield file


def _text(mode: str) -> dict[str, Any]:
    return {} if "b" in mode else {"newline": ""}


@contextmanager
def output_folder(path: Path) -> Iterator[Path]:
    """A folder that becomes ``path`` (new, or empty) once the block has filled it: it is
    filled under a temporary name beside it, then renamed, so ``path`` holds all of it or
    nothing. A file, or a folder with anything in it, is never replaced."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--output {path} is a file; name a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError(f"--output {path} is a folder that is not empty; name a new one")
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
