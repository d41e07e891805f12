"""Text that zoo printed on one machine, compared with what this machine prints.

PyTorch promises the same numbers for the same seed on one platform, not across CPUs: a
matrix product may add in another order on another instruction set, so a loss can differ in
its fifth digit after a few hundred epochs and a test row near the boundary can change side.
The docs and the notebook show output printed on one machine. These helpers check that this
machine prints the same text, with every number equal up to that drift: within 1% of its
size, 10 units of the last decimal place that the docs show, or 0.0001.
"""

from __future__ import annotations

import re

NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(NUMBER)


def pattern(line: str) -> str:
    """A regular expression for ``line``: its text literally, each number a captured group."""
    parts = _NUMBER.split(line)
    return f"({NUMBER})".join(re.escape(part) for part in parts)


def numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def close(shown: str, printed: str) -> bool:
    """``printed`` is the number ``shown``, up to the drift between CPUs."""
    a, b = float(shown), float(printed)
    decimals = len(shown.split(".")[1].split("e")[0].split("E")[0]) if "." in shown else 0
    return abs(a - b) <= max(0.01 * max(abs(a), abs(b)), 10 * 10.0**-decimals, 1e-4)


def drifted(shown: list[str], printed: list[str]) -> list[tuple[str, str]]:
    """The pairs of numbers that differ by more than the drift between CPUs."""
    assert len(shown) == len(printed), (shown, printed)
    return [(a, b) for a, b in zip(shown, printed, strict=True) if not close(a, b)]


def same_up_to_drift(shown: str, printed: str) -> bool:
    """``printed`` is the text ``shown``, every number up to the drift between CPUs."""
    match = re.fullmatch(pattern(shown), printed, flags=re.S)
    return match is not None and not drifted(numbers(shown), list(match.groups()))
