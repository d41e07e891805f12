"""A CSV file's label column: each distinct label once, each row a code into them.

Rows are read in batches, so the labels are kept as small codes and the distinct labels as
text, counted against :data:`~zoo.tables.limits.MOST_CLASSES` as they come. At the end the
labels become what zoo keeps: whole numbers as int64, exactly as written (``2``, ``2.0`` and
``2e0`` are one class), or else the texts.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np

from zoo.errors import DataError
from zoo.tables import limits
from zoo.tables.lines import number


class LabelColumn:
    """The distinct labels of one column, in the order met, with the line each first is on."""

    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name
        self.index: dict[str, int] = {}  # a label's text (stripped) -> its code
        self.first_lines: list[int] = []
        self.longest = 0  # characters: the longest label, for the memory it will take

    def codes(self, keys: list[str], lines: np.ndarray) -> np.ndarray | None:
        """The codes of a batch's labels; None, and nothing added, when the batch would pass
        MOST_CLASSES (the row-by-row :meth:`code` then names the line)."""
        index, before = self.index, len(self.index)
        codes = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.int32)
        added = list(index)[before:]
        if len(index) > limits.MOST_CLASSES:
            for key in added:
                del index[key]
            return None
        if added:
            new = np.flatnonzero(codes >= before)
            _, first = np.unique(codes[new], return_index=True)
            self.first_lines += lines[new[first]].tolist()
            self.longest = max(self.longest, *map(len, added))
        return codes

    def code(self, key: str, line: int) -> int:
        """The code of one label, or the line where the labels pass MOST_CLASSES."""
        code = self.index.get(key)
        if code is None:
            if len(self.index) >= limits.MOST_CLASSES:
                raise DataError(
                    f"{self.path}:{line}: more than {limits.MOST_CLASSES:,} distinct labels in "
                    f"column {self.name!r}; is it the label column? (--target COLUMN picks "
                    "another)"
                )
            code = self.index[key] = len(self.index)
            self.first_lines.append(line)
            self.longest = max(self.longest, len(key))
        return code

    def values(self) -> np.ndarray:
        """Each code's label: int64 when every label is a whole number, else text."""
        keys = list(self.index)
        wholes = [whole_number(key) for key in keys]
        if not all(whole is not None for whole in wholes):
            return np.asarray(keys, dtype=str)
        for key, whole, line in zip(keys, wholes, self.first_lines):
            if not isinstance(whole, int) or not -(2**63) <= whole < 2**63:
                raise DataError(
                    f"{self.path}:{line}: label {key!r} is too large a number for a class "
                    "(int64 holds up to 9.2e18); use smaller whole numbers or text labels"
                )
        return np.asarray(wholes, dtype=np.int64)


def whole_number(text: str) -> int | float | None:
    """The whole number ``text`` is, exactly (``2.0`` is 2); ``inf`` for one of 20 digits or
    more; None for text, a fraction, or a number that is not finite."""
    value = number(text)
    if value is None or not math.isfinite(value):
        return None
    try:
        exact = Decimal(text)
    except InvalidOperation:  # float() reads a few spellings Decimal does not
        exact = Decimal(value)
    if exact != exact.to_integral_value():
        return None
    return int(exact) if exact.adjusted() < 19 else math.inf
