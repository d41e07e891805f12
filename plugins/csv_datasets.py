"""Your own data: a CSV file as a dataset, through the same hook as every other dataset.

``zoo train MODEL --dataset data.csv`` (any dataset name ending in ``.csv``) reads the file
through this loader; in registry.yaml, ``dataset: csv`` with ``dataset_params: {path: ...,
target: ...}`` does the same. ``--dataset-param skip_rows=N`` leaves out the lines before the
table, ``--dataset-param header=first|none|auto`` says whether its first row names the columns.
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.errors import DataError
from zoo.hookspecs import RegisterDataset
from zoo.tables import read_table


def csv_table(
    path: str, target: str | int | None = None, skip_rows: int = 0, header: str | bool = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Numeric feature columns, and the label column ``target`` (a header name or a column
    number from 1; by default the last), from line ``skip_rows + 1`` on."""
    table = read_table(path, target, skip_rows, header)
    classes = np.unique(table.labels)
    if len(classes) < 2:
        raise DataError(
            f"{path}: the label column {table.target!r} holds one class only "
            f"({classes[0].item()!r}); a classifier needs two or more"
        )
    return table.X, table.labels


@zoo.hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register(
        "csv",
        csv_table,
        description="a CSV file of numeric features and a label column: path=, target=, "
        "skip_rows=, header=first|none|auto",
        defaults={"scale": "standard"},  # a table's columns have their own units
    )
