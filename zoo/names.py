"""Names: the rule for model and dataset names, wildcards, natural order, and did-you-mean.

Torch-free and cheap to import: the command line uses it before any work starts.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

# What `registry=` and --registry accept: a catalogue file's path, several, or None.
Registry = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None
NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")  # model, dataset and variant names
NAME_RULE = "use lower-case letters, digits, '.', '_' and '-'"


def is_csv_path(dataset: str) -> bool:
    """A dataset named by the path of a CSV file (read by the built-in ``csv`` dataset)."""
    return dataset.lower().endswith(".csv")


def matches(pattern: str | None, *names: str) -> bool:
    """Whether a shell wildcard (None: everything) matches any of an entry's names."""
    return pattern is None or any(fnmatch.fnmatchcase(name, pattern) for name in names)


def natural_key(name: str) -> list[Any]:
    """Sort key that puts ``model2`` before ``model10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def did_you_mean(name: str, candidates: Iterable[Any]) -> str:
    """`` (did you mean 'x'?)`` naming the closest candidates (ties: up to three), or ``""``."""
    import difflib  # only when a name is wrong

    scored = []
    for candidate in dict.fromkeys(candidates):
        matcher = difflib.SequenceMatcher(None, name, str(candidate))
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
            scored.append((matcher.ratio(), str(candidate)))
    scored = [(score, c) for score, c in scored if score >= 0.6]
    if not scored:
        return ""
    best = max(score for score, _ in scored)
    close = sorted((c for score, c in scored if score >= best - 1e-9), reverse=True)[:3]
    if len(close) == 1:
        return f" (did you mean {close[0]!r}?)"
    return f" (did you mean {', '.join(map(repr, close[:-1]))} or {close[-1]!r}?)"
