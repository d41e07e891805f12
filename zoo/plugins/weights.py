"""Trained weights as a catalogue entry or a plugin names them: where the file is, its
SHA-256, and the metrics it was published with (what ``zoo list`` shows without reading it).

``{file: weights/circle-v2.safetensors, sha256: <64 hex digits>, metrics: {test_acc: 99.5,
dataset: circles}}``: ``file`` is a path relative to the catalogue's folder (a plugin's: its
package's folder), or an ``https://``, ``http://`` or ``file://`` URL that zoo downloads once
into its cache. The SHA-256 is what makes either safe: a file that is not exactly the one
published is never used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

URL_SCHEMES = ("https://", "http://", "file://")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEYS = ("file", "sha256", "metrics")


@dataclass(frozen=True)
class WeightsEntry:
    """Where a model's trained weights are, and what they scored when published."""

    source: str  # an absolute path, or a URL
    sha256: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""  # who said so: ``registry.yaml:12`` or ``plugin circle_models``

    @property
    def is_url(self) -> bool:
        return self.source.startswith(URL_SCHEMES)

    @property
    def test_acc(self) -> float | None:
        value = self.metrics.get("test_acc")
        return float(value) if isinstance(value, (int, float)) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "sha256": self.sha256,
            "metrics": dict(self.metrics),
            "origin": self.origin,
        }


def check_weights(value: Any, folder: Path, origin: str) -> WeightsEntry:
    """A ``weights:`` mapping checked; a relative ``file`` is anchored at ``folder``.
    Raises ValueError naming the key (``weights.sha256: ...``)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"weights: must be a mapping of file, sha256 and metrics, got {value!r}")
    for key in value:
        if key not in _KEYS:
            raise ValueError(f"weights.{key}: unknown key (allowed: {', '.join(_KEYS)})")
    source, digest = value.get("file"), value.get("sha256")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("weights.file: must be a path or a URL")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ValueError("weights.sha256: must be the file's SHA-256, 64 lower-case hex digits")
    metrics = value.get("metrics") or {}
    if not isinstance(metrics, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (int, float, str, bool)) for k, v in metrics.items()
    ):
        raise ValueError("weights.metrics: must map names to numbers or texts")
    if not source.startswith(URL_SCHEMES):
        source = str(Path(folder, source)) if not Path(source).is_absolute() else source
    return WeightsEntry(source, digest, dict(metrics), origin)
