"""Feature scaling that travels with a model, as a trained model's transform should.

``Scaling.fit`` learns one offset and one scale per feature from exactly the rows it is given,
which are the rows the model trains on (never test rows); the run folder keeps them
(config.json's ``scaling``), and every place the model meets data (training, ``zoo eval``,
``zoo predict``, ``zoo.load(run).predict``, ``--resume``, the boundary pictures) applies
``(x - offset) / scale`` in the data's own dtype, so each gives the numbers training saw.

- ``none``: offset 0, scale 1, and nothing is computed.
- ``standard``: the column's mean and standard deviation (``ddof=0``), as scikit-learn's
  ``StandardScaler``.
- ``minmax``: the column's minimum and its range (max - min), as ``MinMaxScaler``: 0 to 1.

A constant column gets scale 1 (it becomes 0, never a division by zero), as scikit-learn does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.settings import SCALES


@dataclass(frozen=True)
class Scaling:
    """Per-feature ``offset`` and ``scale``; a feature becomes ``(x - offset) / scale``."""

    kind: str  # none, standard or minmax
    offset: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def identity(cls, features: int) -> Scaling:
        return cls("none", (0.0,) * features, (1.0,) * features)

    @classmethod
    def fit(cls, kind: str, X: np.ndarray) -> Scaling:
        """Fitted on the rows ``X`` ([N, F]): pass exactly the rows the model trains on."""
        if kind not in SCALES:
            raise ValueError(f"unknown scale {kind!r}; choose from {', '.join(SCALES)}")
        if kind == "none":
            return cls.identity(X.shape[1])
        columns = np.asarray(X, dtype=np.float64)  # statistics in float64, as scikit-learn's
        low, high = columns.min(axis=0), columns.max(axis=0)
        if kind == "standard":
            offset, scale = columns.mean(axis=0), columns.std(axis=0)
        else:
            offset, scale = low, high - low
        scale = np.where((high == low) | (scale < 10 * np.finfo(np.float64).eps), 1.0, scale)
        return cls(kind, tuple(offset.tolist()), tuple(scale.tolist()))

    @property
    def features(self) -> int:
        return len(self.offset)

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``X`` scaled, in its own floating dtype (float32 stays float32)."""
        if self.kind == "none":
            return X
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        offset = np.asarray(self.offset).astype(dtype)
        scale = np.asarray(self.scale).astype(dtype)
        result: np.ndarray = (X.astype(dtype, copy=False) - offset) / scale
        return result

    def apply_tensor(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` scaled on its own device and in its own dtype; unchanged for ``none``."""
        if self.kind == "none":
            return X
        offset = torch.tensor(self.offset, dtype=torch.float64).to(X.device, X.dtype)
        scale = torch.tensor(self.scale, dtype=torch.float64).to(X.device, X.dtype)
        return (X - offset) / scale

    def wrap(self, model: nn.Module) -> nn.Module:
        """A module that scales its input, then runs ``model``: for pictures and export.
        ``model`` itself for ``none``."""
        return model if self.kind == "none" else ScaledModel(self, model)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": list(self.offset), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaling:
        """From :meth:`to_dict`'s form, already checked (see :mod:`zoo.runs.schema`)."""
        return cls(data["kind"], tuple(data["offset"]), tuple(data["scale"]))


class ScaledModel(nn.Module):
    """A trained model with its scaling in front: what it computes on raw features."""

    def __init__(self, scaling: Scaling, model: nn.Module) -> None:
        super().__init__()
        self.scaling = scaling
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.scaling.apply_tensor(x))
