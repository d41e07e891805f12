"""Your own data: a CSV file as a dataset, through the same hook as every other dataset.

``zoo train MODEL --dataset data.csv`` (any dataset name ending in ``.csv``) reads the file
through this loader; in registry.yaml, ``dataset: csv`` with ``dataset_params: {path: ...,
target: ...}`` does the same.
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.hookspecs import RegisterDataset
from zoo.tables import read_table


def csv_table(path: str, target: str | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Numeric feature columns, and the label column ``target`` (a header name or a column
    number from 1; by default the last)."""
    table = read_table(path, target)
    return table.X, table.labels


@zoo.hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register(
        "csv",
        csv_table,
        description="a CSV file of numeric features and a label column: path=, target=",
        defaults={"scale": "standard"},  # a table's columns have their own units
    )
