"""Building a model from its plugin's factory, and checking it fits the data before training."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NoReturn

import torch
from torch import nn

from zoo.errors import ModelError, describe_exception
from zoo.plugins.call import call_plugin
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

    def failed(exc: BaseException) -> NoReturn:
        raise ModelError(
            f"model {spec.name!r} could not be built with {dict(kwargs)}: "
            f"{describe_exception(exc, spec.plugin.module)}"
        ) from None

    model = call_plugin(lambda: spec.factory(**kwargs), failed)
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"model {spec.name!r}: its factory returned {type(model).__name__}, "
            "not a torch.nn.Module"
        )
    return model


def check_output(
    model: nn.Module, spec: ModelSpec, task: Task, sample: torch.Tensor, dataset: str
) -> None:
    """One forward pass on a few rows: the output must be [rows, 1] (binary) or [rows, K].

    A model in training mode (a fresh one, about to be trained) must also be trainable: it has
    parameters, some not frozen, all finite, and a forward and backward pass in training mode
    work. That pass runs on a copy with the random generators put back, so the model and the
    numbers of its training are exactly as they would be without the check.
    """
    was_training = model.training
    model.eval()  # no dropout, no batch-norm update, no random numbers drawn
    try:
        with torch.inference_mode():
            output = _plugin_call(spec, dataset, sample, lambda: model(sample))
    finally:
        model.train(was_training)
    _check_shape(output, spec, task, len(sample), dataset)
    if was_training:
        _check_trainable(model, spec, task, sample, dataset)


def _plugin_call(
    spec: ModelSpec, dataset: str, sample: torch.Tensor, call: Any, mode: str = ""
) -> Any:
    def failed(exc: BaseException) -> NoReturn:  # the model's forward is a plugin's code
        raise ModelError(
            f"model {spec.name!r} failed{mode} on {dataset!r} data of shape "
            f"{list(sample.shape)}: {describe_exception(exc, spec.plugin.module)}"
        ) from None

    return call_plugin(call, failed)


def _check_shape(output: Any, spec: ModelSpec, task: Task, rows: int, dataset: str) -> None:
    if not isinstance(output, torch.Tensor) or not task.output_ok(output, rows):
        got = list(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ModelError(
            f"model {spec.name!r} gives output of shape {got} for {rows} rows, but "
            f"{task.name} dataset {dataset!r} needs [{rows}, {task.out_features}]"
        )
    if not output.is_floating_point():
        kind = str(output.dtype).removeprefix("torch.")
        raise ModelError(
            f"model {spec.name!r} (plugin {spec.plugin.name!r}) gives {kind} output; "
            "it must give floating-point scores (logits) to be trained"
        )


def _check_trainable(
    model: nn.Module, spec: ModelSpec, task: Task, sample: torch.Tensor, dataset: str
) -> None:
    name = f"model {spec.name!r} (plugin {spec.plugin.name!r})"
    parameters = dict(model.named_parameters())
    if not parameters:
        raise ModelError(f"{name} has no parameters, so there is nothing to train")
    if not any(p.requires_grad for p in parameters.values()):
        raise ModelError(f"{name} has every parameter frozen (requires_grad=False); nothing trains")
    for key, weights in parameters.items():
        if not bool(torch.isfinite(weights.detach()).all()):
            raise ModelError(
                f"{name}: its initial weights are not finite ({key}); check the factory's "
                "initialisation (a learning rate cannot fix this)"
            )
    try:
        probe = copy.deepcopy(model)
    except Exception:  # a model that cannot be copied is checked by its training alone
        return
    devices = [sample.device.index or 0] if sample.device.type == "cuda" else []
    training = " in training mode (it works in eval mode)"
    with torch.random.fork_rng(devices=devices):  # dropout's draws leave no trace
        probe.train()
        with torch.enable_grad():
            output = _plugin_call(spec, dataset, sample, lambda: probe(sample), training)
            _check_shape(output, spec, task, len(sample), dataset)
            if not output.requires_grad:
                raise ModelError(
                    f"{name}: its output in training mode does not depend on its trainable "
                    "parameters (is its forward under torch.no_grad or detached?)"
                )
            targets = task.targets(torch.zeros(len(sample), dtype=torch.long, device=sample.device))
            loss = task.loss_function()(task.logits(output), targets)
            _plugin_call(spec, dataset, sample, loss.backward, " in its backward pass")


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
