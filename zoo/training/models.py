"""Building a model from its plugin's factory, and checking it fits the data before training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.errors import ModelError, describe_exception
from zoo.plugins.specs import ModelSpec
from zoo.training.tasks import Task


def factory_kwargs(
    spec: ModelSpec,
    params: Mapping[str, Any],
    in_features: int | None = None,
    out_features: int | None = None,
) -> dict[str, Any]:
    """The keyword arguments for ``spec.factory``: the shapes where it takes them, and params.

    A parameter the factory does not take is an error, not silently dropped: a typo in
    ``hidden_unit`` should not train the default model.
    """
    refused = spec.refused_parameter(params)
    if refused:
        raise ModelError(refused)
    accepted, open_ended = spec.parameters()
    shapes = {"in_features": in_features, "out_features": out_features}
    kwargs = {k: v for k, v in shapes.items() if v is not None and (k in accepted or open_ended)}
    return {**kwargs, **params}


def build_model(spec: ModelSpec, kwargs: Mapping[str, Any]) -> nn.Module:
    """Call the factory; a factory that raises or returns no module is the plugin's error."""
    try:
        model = spec.factory(**kwargs)
    except Exception as exc:  # the factory is a plugin's code
        raise ModelError(
            f"model {spec.name!r} could not be built with {dict(kwargs)}: "
            f"{describe_exception(exc, spec.plugin.module)}"
        ) from None
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"model {spec.name!r}: its factory returned {type(model).__name__}, "
            "not a torch.nn.Module"
        )
    return model


def check_output(
    model: nn.Module, spec: ModelSpec, task: Task, sample: torch.Tensor, dataset: str
) -> None:
    """One forward pass on a few rows: the output must be [rows, 1] (binary) or [rows, K]."""
    was_training = model.training
    model.eval()  # no dropout, no batch-norm update, no random numbers drawn
    try:
        with torch.inference_mode():
            output = model(sample)
    except Exception as exc:
        raise ModelError(
            f"model {spec.name!r} failed on {dataset!r} data of shape {list(sample.shape)}: "
            f"{describe_exception(exc, spec.plugin.module)}"
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor) or not task.output_ok(output, len(sample)):
        got = list(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ModelError(
            f"model {spec.name!r} gives output of shape {got} for {len(sample)} rows, but "
            f"{task.name} dataset {dataset!r} needs [{len(sample)}, {task.out_features}]"
        )


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
