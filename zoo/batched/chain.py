"""What the two hand-written formulations of a chain model share (see
:mod:`zoo.batched.fast_chain` and :mod:`zoo.batched.exact_chain`): its members' weights in one
flat buffer, and the members split into chunks that fit a core's cache.

Each layer's weights are a block [K, out, in + 1] of the flat buffer, the bias as the last
column, so that a layer can be one product of its input with a column (or row) of ones
appended; ``weight`` and ``bias`` are views of the block, named as in the model's
state_dict. The gradients live in a twin buffer of the same layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

from zoo.batched.batch_plan import ChainLayer

# What a chunk's activations may take, as estimated by ChainWeights.chunks. Measured on
# circle-v2 at K = 100 (800 rows; a 2-core Xeon with 2 MB of L2 per core), microseconds per
# member and step: the fast formulation 28, 26, 26 and 39 at 1, 2, 4 and 8 MB (its
# activations stay in cache); the exact one 56, 51, 47 and 46 at 2, 4, 8 and 16 MB (it runs
# more kernels per chunk, and their Python and dispatch cost more than cache misses).
FAST_CHUNK_BYTES = 4 << 20
EXACT_CHUNK_BYTES = 16 << 20
Plan = TypeVar("Plan")


class ChainWeights:
    """K members' weights of one chain model, and their gradients, in flat buffers."""

    def __init__(self, layers: Sequence[ChainLayer], models: Sequence[nn.Module]) -> None:
        self.layers, self.count = tuple(layers), len(models)
        self.dtype = next(models[0].parameters()).dtype
        widths = [layer.outputs * (layer.inputs + 1) for layer in layers]
        self.flat = torch.zeros(self.count * sum(widths), dtype=self.dtype)  # layer by layer
        self.grad = torch.zeros_like(self.flat)
        # the member of every element of the flat buffers (for per-member optimizer numbers)
        self.members = torch.cat(
            [torch.arange(self.count).repeat_interleave(width) for width in widths]
        )
        self.blocks, self.grad_blocks = self._blocks(self.flat), self._blocks(self.grad)
        self.parameters: dict[str, torch.Tensor] = {}
        for layer, block, grad in zip(layers, self.blocks, self.grad_blocks):
            weight, bias = block[..., :-1], block[..., -1]
            weight.grad, bias.grad = grad[..., :-1], grad[..., -1]  # for torch's optimizers
            self.parameters[f"{layer.name}.weight"] = weight
            self.parameters[f"{layer.name}.bias"] = bias
        for k, model in enumerate(models):
            self.load(k, dict(model.named_parameters()))
        self._plans: dict[tuple[int, int], Any] = {}

    def plan(self, rows: int, inputs: int, make: Callable[[int], Plan]) -> Plan:
        """A formulation's views and buffers for inputs of ``rows`` rows and ``inputs``
        dimensions (shared rows or each member's own), made once by ``make(rows)`` (as normal
        tensors, even when an evaluation under inference mode asks first)."""
        key = (rows, inputs)
        if key not in self._plans:
            with torch.inference_mode(False):
                self._plans[key] = make(rows)
        plan: Plan = self._plans[key]
        return plan

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s weights, as its own model's state_dict."""
        return {name: tensor[k].clone() for name, tensor in self.parameters.items()}

    def load(self, k: int, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, tensor in state.items():
                self.parameters[name][k] = tensor

    def optimized(self) -> list[torch.Tensor]:
        """The tensors an optimizer steps: each layer's block, its gradient as ``.grad``.

        A layer's weight and bias take the same element-wise update (the same optimizer
        numbers), so stepping the contiguous block gives each element what stepping the two
        tensors gives it, in three kernels per update instead of six on strided views."""
        for block, grad in zip(self.blocks, self.grad_blocks):
            block.grad = grad
        return self.blocks

    def chunks(self, rows: int, budget: int) -> list[slice]:
        """The members in chunks whose activations on ``rows`` rows fit ``budget`` bytes:
        each layer's input and output, [rows, features] each, per member."""
        per_member = (
            self.flat.element_size()
            * rows
            * sum(layer.inputs + layer.outputs for layer in self.layers)
        )
        size = max(1, min(self.count, budget // per_member))
        return [slice(s, min(s + size, self.count)) for s in range(0, self.count, size)]

    def _blocks(self, flat: torch.Tensor) -> list[torch.Tensor]:
        blocks, start = [], 0
        for layer in self.layers:
            shape = (self.count, layer.outputs, layer.inputs + 1)
            size = shape[0] * shape[1] * shape[2]
            blocks.append(flat[start : start + size].view(shape))
            start += size
        return blocks


def with_bias(layers: Sequence[ChainLayer] | None) -> bool:
    """Whether every layer of the chain has a bias and the last is a Linear: what both
    formulations take."""
    return (
        bool(layers)
        and all(layer.bias for layer in layers or ())
        and (
            layers[-1].activation is None  # type: ignore[index]
        )
    )
