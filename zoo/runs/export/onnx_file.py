"""ONNX: one graph, checked by ONNX Runtime.

Exported with ``torch.onnx.export(..., dynamo=True)``, the exporter torch develops (and its
default since 2.9): torch.export captures the graph, onnxscript translates it. The older
TorchScript-based exporter works on these models too, but it rests on ``torch.jit.trace``,
which torch has deprecated, and it warns that it will be removed. The batch dimension is
dynamic (``batch``); the class names, metrics and the whole record of the model are the
model's ``metadata_props``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.errors import ExportError

INPUT, OUTPUT = "features", "probabilities"
EXTRA = "pip install 'torch-zoo[onnx]'"


def require() -> None:
    """The onnx extra's packages, or one line naming the extra."""
    for name in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            raise ExportError(
                f"ONNX export needs the onnx extra ({name} is not installed): {EXTRA}"
            ) from None


def to_bytes(module: nn.Module, example: torch.Tensor, record: dict[str, Any]) -> bytes:
    """The ONNX model's bytes, its metadata from ``record`` (see :mod:`zoo.runs.weights_file`)."""
    batch = torch.export.Dim("batch")
    try:
        with _quiet():
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=[INPUT],
                output_names=[OUTPUT],
                dynamic_shapes={"features": {0: batch}},
                verbose=False,
            )
    except Exception as exc:  # torch.export's or onnxscript's word on a model it cannot take
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(
            f"model {record['model']!r} cannot be exported to ONNX ({reason}); try "
            "--format torchscript or safetensors"
        ) from None
    assert program is not None
    proto = program.model_proto
    for key, value in metadata(record).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = describe(record)
    data: bytes = proto.SerializeToString()
    return data


def metadata(record: dict[str, Any]) -> dict[str, str]:
    """What an ONNX reader finds without zoo: each value a text, JSON for the structured ones."""
    return {
        "model": record["model"],
        "builds": record["builds"],
        "classes": json.dumps(record["classes"]),
        "metrics": json.dumps(record["metrics"], sort_keys=True),
        "scaling": json.dumps(record["scaling"]),
        "zoo_version": record["zoo_version"],
        "zoo": json.dumps(record, sort_keys=True),
    }


def describe(record: dict[str, Any]) -> str:
    classes = ", ".join(map(str, record["classes"]))
    return (
        f"{record['model']} ({record['builds']}) trained by zoo on "
        f"{record['settings']['dataset']}: {INPUT} [batch, {record['features']}] (raw, "
        f"scaling '{record['scaling']['kind']}' inside) -> {OUTPUT} [batch, "
        f"{len(record['classes'])}] of classes {classes}"
    )


def run(data: bytes, rows: np.ndarray) -> np.ndarray:
    """ONNX Runtime's probabilities of ``rows`` from the model's bytes, on one CPU thread."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its notes are not the user's business
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    result: np.ndarray = session.run([OUTPUT], {INPUT: np.ascontiguousarray(rows)})[0]
    return result


def checker() -> str:
    import onnxruntime

    return f"ONNX Runtime {onnxruntime.__version__}"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's progress lines and notes (torchvision's operators not found) are not
    the user's: they go to a buffer, and its loggers say only errors."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), _no_warnings():
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextlib.contextmanager
def _no_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
