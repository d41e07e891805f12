"""TorchScript: a ``torch.jit`` file that needs torch and nothing of zoo.

The graph is traced (``torch.jit.trace``), which takes any plugin's model that computes the
same thing for every batch, where scripting would need its Python to be TorchScript's subset.
The record of the model (classes, metrics, scaling) is the extra file ``zoo.json``:
``torch.jit.load(path, _extra_files={"zoo.json": ""})`` reads it. torch has deprecated
``torch.jit`` in favour of ``torch.export``; its notes saying so are zoo's to know, not the
user's, and are not shown.
"""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.errors import ExportError

EXTRA_FILE = "zoo.json"


def to_bytes(module: nn.Module, example: torch.Tensor, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation and tracer notes
        try:
            traced = torch.jit.trace(module, example, check_trace=False)
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(
                f"model {record['model']!r} cannot be traced by torch.jit ({reason}); try "
                "--format onnx or safetensors"
            ) from None
        extra = {EXTRA_FILE: json.dumps(record, sort_keys=True)}
        torch.jit.save(traced, buffer, _extra_files=extra)
    return buffer.getvalue()


def run(data: bytes, rows: np.ndarray) -> np.ndarray:
    """The probabilities of ``rows`` from the file's bytes, loaded back by ``torch.jit.load``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = torch.jit.load(io.BytesIO(data), map_location="cpu")
        with torch.inference_mode():
            result: np.ndarray = loaded(torch.from_numpy(np.ascontiguousarray(rows))).numpy()
    return result


def checker() -> str:
    return f"torch.jit.load (torch {torch.__version__})"
