"""Datasets whose loaders return data zoo cannot train on, and one with text labels it can."""

import numpy as np
from sklearn.datasets import make_circles

import zoo


def ragged():
    return [[0.0, 1.0], [1.0], [2.0, 3.0, 4.0]], [0, 1, 0]


def text_features():
    return np.array([["a", "b"], ["c", "d"], ["e", "f"]]), np.array([0, 1, 0])


def mixed_labels():
    X, y = make_circles(n_samples=100, noise=0.03, random_state=42)
    labels = np.array(["inner" if label else 0 for label in y], dtype=object)
    return X, labels


def text_labels():
    X, y = make_circles(n_samples=200, noise=0.03, random_state=42)
    return X, np.where(y == 1, "inner", "outer")


@zoo.hookimpl
def register_datasets(register):
    register("ragged", ragged)
    register("text-features", text_features)
    register("mixed-labels", mixed_labels)
    register("text-labels", text_labels)
