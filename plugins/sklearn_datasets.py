"""The lesson's toy datasets, made by scikit-learn's generators with the lesson's settings.

scikit-learn is imported when a dataset is made, not when zoo lists what exists.
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.hookspecs import RegisterDataset

Data = tuple[np.ndarray, np.ndarray]


def circles(n_samples: int = 1000, noise: float = 0.03, random_state: int = 42) -> Data:
    """Two rings, one inside the other: no straight line separates them."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n_samples, noise=noise, random_state=random_state)
    return X, y


def moons(n_samples: int = 1000, noise: float = 0.07, random_state: int = 42) -> Data:
    """Two interleaving half-moons: the lesson's exercise."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return X, y


def blobs(
    n_samples: int = 1000,
    n_features: int = 2,
    centers: int = 4,
    cluster_std: float = 1.5,
    random_state: int = 42,
) -> Data:
    """Gaussian clusters, one class each: the lesson's multi-class data."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples,
        n_features=n_features,
        centers=centers,
        cluster_std=cluster_std,
        random_state=random_state,
    )
    return X, y


@zoo.hookimpl
def register_datasets(register: RegisterDataset) -> None:
    register("circles", circles, description="make_circles: 1000 points, noise 0.03, 2 classes")
    register("moons", moons, description="make_moons: 1000 points, noise 0.07, 2 classes")
    register("blobs", blobs, description="make_blobs: 1000 points, 4 centres, std 1.5")
