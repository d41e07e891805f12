"""A registered model's trained weights: found by name, fetched once, checked every time.

A local file is read as it is; a URL (``https://``, ``http://``, ``file://``) is downloaded
once into the cache folder (``$ZOO_CACHE``, else the platform's user cache folder) under its
SHA-256, so two URLs of one file share it and a changed file is another. A download is
bounded in size and time and lands atomically: complete and verified, or not at all. The
SHA-256 of the bytes is checked on every load, before they are parsed, and the same bytes
are parsed: a file that is not exactly the one published is one line, and nothing is used.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from zoo.config.layers import Catalogues, load_catalogues
from zoo.config.weights import weights_for
from zoo.errors import RunFolderError, WeightsError
from zoo.names import Registry
from zoo.plugins.loader import load_plugins
from zoo.plugins.weights import WeightsEntry
from zoo.runs import bounded, weights_file
from zoo.runs.files import atomic_open
from zoo.runs.run import Run

MAX_DOWNLOAD_BYTES = bounded.MAX_TENSOR_FILE_BYTES
TIMEOUT_SECONDS = 30.0  # for the connection and for each read
CHUNK = 1 << 20


def pretrained_run(name: str, *, registry: Registry = None, device: str | None = None) -> Run:
    """The model ``name`` with its trained weights, in eval mode, as a :class:`Run` whose
    summary holds the metrics the weights were published with."""
    plugins, catalogues = load_plugins(), load_catalogues(registry)
    entry = weights_for(name, plugins, catalogues)
    path, raw = fetch(entry)
    tensors, record = weights_file.read(raw, path)
    run = weights_file.build(record, tensors, (path, path), device)
    expected = plugins.model(_builds(name, catalogues)).qualified_name
    if run.config.builds != expected:
        raise WeightsError(
            f"{entry.source}: holds model {run.config.builds!r}, but {name!r} builds "
            f"{expected!r}; nothing was used (see {entry.origin})"
        )
    weights = {**entry.to_dict(), "file": str(path)}
    return replace(run, summary={**run.summary, "model": name, "weights": weights})


def _builds(name: str, catalogues: Catalogues) -> str:
    """The model ``name`` builds: a variant's model, or the name itself."""
    variant = catalogues.variant(name.rpartition(":")[2])
    return variant.model if variant is not None else name


def fetch(entry: WeightsEntry) -> tuple[Path, bytes]:
    """The weights file's path and bytes, their SHA-256 the entry's."""
    if not entry.is_url:
        path = Path(entry.source)
        raw = bounded.read_bytes(path, MAX_DOWNLOAD_BYTES, f"missing (named by {entry.origin})")
        _check(raw, entry, path)
        return path, raw
    path = cache_folder() / f"{entry.sha256}.safetensors"
    if os.path.lexists(path):
        try:
            cached: bytes | None = bounded.read_bytes(path, MAX_DOWNLOAD_BYTES, "missing")
        except RunFolderError:  # grown past the bound, a FIFO, a folder: not the download
            cached = None
        if cached is not None and hashlib.sha256(cached).hexdigest() == entry.sha256:
            return path, cached
        _remove(path)  # a damaged cached copy: fetched again below
    download(entry, path)
    raw = bounded.read_bytes(path, MAX_DOWNLOAD_BYTES, "missing")
    _check(raw, entry, path)  # the bytes parsed are the bytes checked, even here
    return path, raw


def _remove(path: Path) -> None:
    """A cached copy that is not the published file, out of the way of its download."""
    try:
        path.unlink()  # a file, a link or a FIFO; a folder is not zoo's to delete
    except OSError as exc:
        raise WeightsError(
            f"{path}: a cached copy that is not the published file, and it cannot be removed "
            f"({exc.strerror}); remove it, and nothing of it was used"
        ) from None


def _check(raw: bytes, entry: WeightsEntry, path: Path) -> None:
    found = hashlib.sha256(raw).hexdigest()
    if found != entry.sha256:
        raise WeightsError(
            f"{path}: SHA-256 {found[:12]}..., but {entry.origin} says {entry.sha256[:12]}...; "
            "the file is not the one published, and nothing was used"
        )


def download(entry: WeightsEntry, path: Path) -> None:
    """``entry.source`` into ``path``, atomically: bounded, timed out, SHA-256 checked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(entry.source, timeout=TIMEOUT_SECONDS) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                raise WeightsError(_too_large(entry))
            with atomic_open(path) as file:
                while chunk := response.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise WeightsError(_too_large(entry))
                    digest.update(chunk)
                    file.write(chunk)
                if digest.hexdigest() != entry.sha256:  # inside: the file is not kept
                    raise WeightsError(
                        f"{entry.source}: downloaded, but its SHA-256 is "
                        f"{digest.hexdigest()[:12]}..., not the {entry.sha256[:12]}... "
                        f"{entry.origin} says; nothing was kept or used"
                    )
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
        raise WeightsError(
            f"{entry.source}: cannot be downloaded ({reason}); nothing was kept (named by "
            f"{entry.origin})"
        ) from None


def _too_large(entry: WeightsEntry) -> str:
    return (
        f"{entry.source}: larger than {MAX_DOWNLOAD_BYTES:,} bytes, the most zoo downloads "
        "for one model's weights; nothing was kept"
    )


def cache_folder() -> Path:
    """``$ZOO_CACHE``, else the platform's user cache folder for zoo."""
    chosen = os.environ.get("ZOO_CACHE")
    if chosen:
        return Path(chosen)
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "zoo" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "zoo"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "zoo"
