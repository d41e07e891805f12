"""Reading a folder's files within stated bounds, so a hostile file cannot exhaust memory.

The bounds, checked before a file is parsed:

* JSON files (config.json, summary.json, compare.json): at most :data:`MAX_JSON_BYTES`, strict
  JSON (no NaN or Infinity), numbers of at most :data:`MAX_DIGITS` characters.
* CSV files (history.csv, epochs.csv): at most :data:`MAX_CSV_BYTES`, UTF-8, fields of at most
  ``csv.field_size_limit()`` characters.
* Tensor files (weights.pt, checkpoint.pt, parts/*.pt): at most :data:`MAX_TENSOR_FILE_BYTES`,
  and in torch's zip format with every entry stored uncompressed, as ``torch.save`` writes
  them: a compressed entry could unpack to far more than the file holds. They load with
  ``weights_only=True``; anything else (an old or foreign pickle) is refused unread.

Only regular files are read: a FIFO or a device in a folder's place is refused, never waited on.
Files a folder names (the CSV a run was trained on, the catalogues of a comparison) are read
by their own readers, after :func:`check_regular` (or, for a digest, by :func:`sha256`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pickletools
import stat
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import torch

from zoo.errors import RunFolderError

MAX_JSON_BYTES = 4 * 2**20
MAX_CSV_BYTES = 16 * 2**20  # history.csv: some 190,000 log points
MAX_TENSOR_FILE_BYTES = 2**30
MAX_DIGITS = 100


def read_json(path: Path) -> Any:
    """A strict JSON file of at most :data:`MAX_JSON_BYTES`."""
    with open_regular(path, "missing; is {parent} a zoo run folder?") as file:
        _check_size(path, file, MAX_JSON_BYTES)
        raw = file.read(MAX_JSON_BYTES + 1)
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_int=_bounded(int),
            parse_float=_bounded(float),
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunFolderError(f"{path}: damaged or not JSON ({reason})") from None


def read_bytes(path: Path, limit: int, missing: str) -> bytes:
    """A regular file's bytes, at most ``limit`` of them (``missing``: what to say if absent)."""
    with open_regular(path, missing) as file:
        _check_size(path, file, limit)
        return file.read(limit + 1)


def read_csv(path: Path, what: str, missing: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a CSV file of at most :data:`MAX_CSV_BYTES`: ``what`` it is, and
    what to say when it is ``missing`` (``{parent}``: its folder)."""
    raw = read_bytes(path, MAX_CSV_BYTES, missing)
    try:
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")  # decoded lazily
        reader = csv.reader(text, strict=True)
        for cells in reader:
            yield reader.line_num, cells
    except (UnicodeDecodeError, csv.Error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunFolderError(f"{path}: damaged or not a zoo {what} ({reason})") from None


def check_regular(path: str | os.PathLike[str], named: str) -> None:
    """Refuse, before its reader waits on it, a file ``named`` by a folder that is not a
    regular file (a FIFO, a device, a folder)."""
    open_regular(Path(path), f"missing; {named}").close()


def sha256(path: str | os.PathLike[str], named: str) -> str:
    """The SHA-256 of a regular file's bytes (``named``: see :func:`check_regular`)."""
    digest = hashlib.sha256()
    with open_regular(Path(path), f"missing; {named}") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_tensors(path: Path, what: str) -> Any:
    """torch.load with weights_only=True of a zip file zoo could have written: never code."""
    with open_regular(path, f"missing; this run folder has no {what}") as file:
        _check_size(path, file, MAX_TENSOR_FILE_BYTES)
        if not zipfile.is_zipfile(file):
            file.seek(0)
            if _has_code(file):
                reason = "refused: the file asks to run code when loaded"
            else:
                reason = f"damaged or not a {what} file"
            raise RunFolderError(f"{path}: {reason}; nothing was loaded")
        _check_entries(path, file, what)
        file.seek(0)
        try:
            with warnings.catch_warnings():  # torch's own notes on odd files: the error says it
                warnings.simplefilter("ignore")
                return torch.load(file, map_location="cpu", weights_only=True)
        except Exception as exc:
            if "Unsupported global" in str(exc):  # a name to import and call: code
                reason = "refused: the file asks to run code when loaded"
            else:
                reason = f"damaged or not a {what} file"
            raise RunFolderError(f"{path}: {reason}; nothing was loaded") from None


def open_regular(path: Path, missing: str) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (a FIFO is never waited on);
    ``missing`` says what its absence means (``{parent}``: its folder)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO: no wait
    except FileNotFoundError:
        raise RunFolderError(f"{path}: {missing.format(parent=path.parent)}") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise RunFolderError(
            f"{path}: not a regular file (a FIFO, a device or a folder?); nothing was loaded"
        )
    return os.fdopen(handle, "rb")


def _check_size(path: Path, file: IO[bytes], limit: int) -> None:
    size = os.fstat(file.fileno()).st_size
    if size > limit:
        raise RunFolderError(
            f"{path}: {size:,} bytes, more than the {limit:,} a zoo file of this kind may hold; "
            "nothing was loaded"
        )


def _check_entries(path: Path, file: IO[bytes], what: str) -> None:
    try:
        entries = zipfile.ZipFile(file).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RunFolderError(f"{path}: damaged or not a {what} file; nothing was loaded") from None
    packed = [e for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if packed or sum(e.file_size for e in entries) > MAX_TENSOR_FILE_BYTES:
        raise RunFolderError(
            f"{path}: holds compressed or oversized entries, which torch.save never writes; "
            "nothing was loaded"
        )


def _has_code(file: IO[bytes]) -> bool:
    """Whether a pickle names Python objects to build (which zoo's files never need)."""
    try:
        return any(
            op.name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ")
            for op, _, _ in pickletools.genops(file)
        )
    except Exception:  # not a pickle at all, or a damaged one
        return False


def _bounded(parse: Any) -> Any:
    def convert(digits: str) -> Any:
        if len(digits) > MAX_DIGITS:
            raise ValueError(f"a number of {len(digits):,} characters")
        return parse(digits)

    return convert


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
