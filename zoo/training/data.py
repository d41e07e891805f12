"""Datasets: call a plugin's loader, check what it returns, and split it as the lesson does."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import numpy as np

from zoo.errors import DataError, DataWarning, ZooError, describe_exception
from zoo.plugins.call import call_plugin
from zoo.plugins.specs import DatasetSpec, refused_parameter
from zoo.tables import limits
from zoo.tables.labels import whole_number
from zoo.tables.lines import number


@dataclass(frozen=True)
class Split:
    """A dataset split into train and test, and optionally validation rows taken out of the
    training rows; labels are encoded as 0..K-1."""

    name: str
    X_train: np.ndarray  # float32 [N, F]: the rows the model trains on
    X_test: np.ndarray
    y_train: np.ndarray  # int64 [N]
    y_test: np.ndarray
    classes: list[Any]  # the loader's label for each encoded class
    X_val: np.ndarray | None = None  # None: no validation split
    y_val: np.ndarray | None = None

    @property
    def features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def class_count(self) -> int:
        return len(self.classes)

    def sha256(self) -> str:
        """A digest of the split's contents: the same data, split the same way, gives the same."""
        digest = hashlib.sha256(json.dumps(self.classes).encode())
        arrays = [self.X_train, self.X_test, self.y_train, self.y_test]
        for array in arrays + ([] if self.X_val is None else [self.X_val, self.y_val]):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def load_split(
    spec: DatasetSpec,
    params: Mapping[str, Any],
    test_size: float,
    split_seed: int,
    val_size: float = 0.0,
) -> Split:
    """The dataset's train/test split, and with ``val_size`` its validation rows taken out
    of the training rows (both with ``split_seed``); the loader's output is checked first."""
    refused = refused_parameter(f"dataset {spec.name!r}", spec.loader, params)
    if refused:
        raise DataError(refused)

    def failed(exc: BaseException) -> NoReturn:
        if isinstance(exc, TypeError):
            raise DataError(f"dataset {spec.name!r} does not take {dict(params)}: {exc}") from None
        raise DataError(
            f"dataset {spec.name!r} failed to load: {describe_exception(exc, spec.plugin.module)}"
        ) from None

    # a ZooError is the loader's own one-line answer (a CSV file's problem, say)
    loaded = call_plugin(lambda: spec.loader(**params), failed, passes=(ZooError,))
    X, labels = _check(f"{spec.name!r} (plugin {spec.plugin.name!r})", loaded)
    classes, y = np.unique(labels, return_inverse=True)
    named = params.get("path", spec.name)  # a CSV file by its name, as the user gave it
    check_classes(str(named), classes, len(X), params.get("target"))
    rows = len(X)
    test_rows = int(np.ceil(test_size * rows))
    if test_rows < 1 or rows - test_rows < 1:
        raise DataError(
            f"dataset {spec.name!r} has {rows} rows: too few to split with test_size {test_size}"
        )
    from sklearn.model_selection import train_test_split  # a second's import: only when used

    X_train, X_test, y_train, y_test = train_test_split(
        X, y.astype(np.int64), test_size=test_size, random_state=split_seed
    )
    split = Split(spec.name, X_train, X_test, y_train, y_test, classes.tolist())
    return with_validation(split, val_size, split_seed) if val_size else split


def with_validation(split: Split, val_size: float, split_seed: int) -> Split:
    """``split`` with ``val_size`` of its training rows held out for validation, chosen by
    ``split_seed`` as the test rows were: a seed's validation rows follow its split."""
    from sklearn.model_selection import train_test_split

    rows = len(split.X_train)
    val_rows = int(np.ceil(val_size * rows))
    if rows - val_rows < 1:
        raise DataError(
            f"dataset {split.name!r} has {rows} training rows: val_size {val_size} would leave "
            "none to train on; give a smaller --val-size"
        )
    X_train, X_val, y_train, y_val = train_test_split(
        split.X_train, split.y_train, test_size=val_rows, random_state=split_seed
    )
    return replace(split, X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val)


def check_classes(name: str, classes: np.ndarray, rows: int, target: Any = None) -> None:
    """Classes a classifier can learn: two or more, at most MOST_CLASSES, and at least
    ROWS_PER_CLASS rows for each on average; a warning when they look like a measurement."""
    count = len(classes)
    if count < 2:
        raise DataError(f"dataset {name!r} has only one class; it needs at least two")
    hint = (
        f"is column {target!r} the label column? An ID or a measurement is not a class "
        "(--target COLUMN picks another)"
        if target is not None
        else "are its labels classes, not IDs or measurements?"
    )
    if count > limits.MOST_CLASSES:
        raise DataError(
            f"dataset {name!r} has {count:,} classes; zoo takes at most "
            f"{limits.MOST_CLASSES:,}: {hint}"
        )
    if count * limits.ROWS_PER_CLASS > rows:
        raise DataError(
            f"dataset {name!r} has {count:,} classes in {rows:,} rows, fewer than "
            f"{limits.ROWS_PER_CLASS} rows a class: too few to learn from; {hint}"
        )
    fraction = _fraction(classes) if count > limits.CONTINUOUS else None
    if fraction is not None:
        warnings.warn(
            DataWarning(
                f"the labels of dataset {name!r} look like a measurement ({count:,} distinct "
                f"numbers such as {fraction:g}): is this a regression target? zoo trains "
                "classifiers, one class per distinct value"
            ),
            stacklevel=2,
        )


def _fraction(classes: np.ndarray) -> float | None:
    """A fraction among labels that are all numbers written as text (a CSV's ``0.25``)."""
    if classes.dtype.kind != "U":
        return None
    found = None
    for text in classes.tolist():
        value = number(text)
        if value is None or not math.isfinite(value):
            return None
        if found is None and whole_number(text) is None:
            found = value
    return found


def _check(label: str, loaded: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` as arrays: X finite real numbers ``[N, F]``; y ``[N]`` labels that are all
    whole numbers (or booleans) or all texts."""
    if not isinstance(loaded, tuple) or len(loaded) != 2:
        raise DataError(f"dataset {label}: the loader must return (X, y), got {type(loaded)}")
    X = _array(label, "X", loaded[0])
    y = _array(label, "y", loaded[1])
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"dataset {label}: X must have shape [N, F], got {list(X.shape)}")
    if y.shape != (X.shape[0],):
        raise DataError(
            f"dataset {label}: y must have shape [{X.shape[0]}] to match X, got {list(y.shape)}"
        )
    real = np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)
    if not (real or X.dtype == bool):
        raise DataError(f"dataset {label}: X must hold real numbers, got {_kind(X)}")
    return float32_features(f"dataset {label}", X), _labels(label, y)


def float32_features(label: str, X: np.ndarray) -> np.ndarray:
    """``X`` as float32, the type zoo's models compute in; the first value that is NaN,
    infinite or beyond float32's range (as the CSV reader counts it) is named."""
    if np.issubdtype(X.dtype, np.floating):
        with np.errstate(invalid="ignore"):
            within = np.abs(X) <= limits.LARGEST  # False for NaN
        if not within.all():
            row, column = (int(i) for i in np.argwhere(~within)[0])
            value = float(X[row, column])
            what = (
                f"is {value}"
                if not math.isfinite(value)
                else f"is {value:.7g}, beyond float32's "
                f"range (±{limits.LARGEST:.7g}), which zoo's models compute in"
            )
            raise DataError(
                f"{label}: X[{row}, {column}] {what}; features must be finite float32 numbers "
                "(scale that column down, or leave out its rows)"
            )
    return X.astype(np.float32)


def _array(label: str, what: str, value: Any) -> np.ndarray:
    def failed(exc: BaseException) -> NoReturn:  # ragged, or a conversion in plugin code
        raise DataError(
            f"dataset {label}: {what} is not an array of equal-length rows "
            f"({describe_exception(exc)})"
        ) from None

    return call_plugin(lambda: np.asarray(value), failed)


def _labels(label: str, y: np.ndarray) -> np.ndarray:
    fractions = ""
    if np.issubdtype(y.dtype, np.floating) and np.isfinite(y).all():
        if np.all(np.mod(y, 1) == 0):
            _int64(label, y)
            y = y.astype(np.int64)
        else:
            fractions = " (fractions: is this a regression target? zoo trains classifiers)"
    if y.dtype == object and all(isinstance(label, str) for label in y):
        y = y.astype(str)
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool or np.issubdtype(y.dtype, np.str_):
        if np.issubdtype(y.dtype, np.unsignedinteger):
            _int64(label, y)
        return y
    raise DataError(
        f"dataset {label}: y must hold class labels, all whole numbers or all texts, got "
        f"{_kind(y)}{fractions}"
    )


def _int64(label: str, y: np.ndarray) -> None:
    """Whole-number labels within int64, as zoo keeps them (as a CSV file's are)."""
    if y.dtype.kind == "u":
        beyond = y > np.uint64(np.iinfo(np.int64).max)
    else:
        beyond = np.abs(y) >= 2.0**63
    if beyond.any():
        raise DataError(
            f"dataset {label}: y holds {y[np.argmax(beyond)].item():.7g}, too large a number "
            "for a class (int64 holds up to 9.2e18); use smaller whole numbers or text labels"
        )


def _kind(array: np.ndarray) -> str:
    if array.dtype.kind in "US":
        return "text"
    if array.dtype == object:
        kinds = sorted({type(item).__name__ for item in array.flat[:1000]})
        return "a mix of " + ", ".join(kinds) if len(kinds) > 1 else f"{kinds[0]} objects"
    return str(array.dtype)
