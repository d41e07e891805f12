"""The bounds on a table of data, each refused in one line at the place that passes it.

A CSV file is read into memory whole, so it is bounded before it is read: no line may be
longer than :data:`LONGEST_LINE`, no table may hold more than :data:`MOST_CELLS` cells or take
more than :data:`MOST_BYTES` in memory, and no label column may hold more than
:data:`MOST_CLASSES` distinct labels. The reader refuses a file at the line where it passes a
bound, having held no more than about twice the bytes counted so far. Every dataset's labels,
a plugin's or a CSV file's, are held to the class bounds (:mod:`zoo.training.data`).

The readers look these names up each time they read, so a test may lower them.
"""

from __future__ import annotations

import numpy as np

LONGEST_LINE = 1 << 20  # characters: a longer line is not a row of a few numbers
MOST_CELLS = 50_000_000  # feature and label cells: about 200 MB as float32
# What a table holds in memory: 4 bytes a feature (float32), 8 a row for its line number, and
# for its label 4 bytes a character of the longest label so far (numpy's text), at least 8.
MOST_BYTES = 512 * 2**20
MOST_CLASSES = 1_000  # distinct labels: more are an ID or a measurement, not classes
ROWS_PER_CLASS = 10  # fewer rows than this for each class on average leaves nothing to learn
CONTINUOUS = 20  # more distinct labels than this, all numbers and not all whole: a measurement
LARGEST = float(np.finfo(np.float32).max)  # features become float32 inside the model


def row_bytes(features: int, longest_label: int) -> int:
    """What one row costs in memory, as :data:`MOST_BYTES` counts it."""
    return 4 * features + 8 + 4 * max(2, longest_label)
