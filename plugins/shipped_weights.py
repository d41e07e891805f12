"""The trained weights zoo's own plugins ship: package data in weights/, listed with their
SHA-256s and metrics in weights/weights.json by scripts/train_shipped_weights.py."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

LISTING = Path(__file__).parent / "weights" / "weights.json"


@functools.cache
def _listing() -> dict[str, Any]:
    try:
        found = json.loads(LISTING.read_text(encoding="utf-8"))
    except FileNotFoundError:  # a source tree before the script ran: no weights to offer
        return {}
    return found if isinstance(found, dict) else {}


def shipped(name: str) -> dict[str, Any] | None:
    """``register(..., weights=shipped(name))``: the entry for ``name``, or None."""
    return _listing().get(name)
