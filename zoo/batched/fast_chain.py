"""The fast CPU formulation of a chain model's K members (``exact=False``; see :mod:`zoo.batched`).

A member of circle-v2 is about 0.6 MFLOP per epoch: arithmetic one core does in a few
microseconds. What costs is moving its activations ([800, 10] floats each) and launching
small kernels. So this formulation is laid out for both:

- **Rows last**: a layer's activations are [K, features, rows]. The first layer of every
  member reads the same input, so it is one wide matrix product
  (``[W_1; ...; W_K] @ X^T``), and every later layer is a batched product whose rows are
  long, the shape BLAS is fast at.
- **Bias in the weights**: each layer's weights are stored as [K, out, in + 1], the bias as
  the last column, and each layer's input carries a row of ones. A layer is one product, and
  its weight and bias gradients are one product too.
- **Cache-sized chunks**: members are trained a chunk at a time, forward and backward, so
  that a chunk's activations stay in the core's own cache instead of streaming through
  memory; the cost per member then stays flat as K grows while the per-step overhead is
  shared.
- **A backward written for the layout**: no autograd graph; the gradients land in one flat
  buffer beside the weights, so an optimizer step is a few element-wise kernels over every
  member (see :class:`zoo.batched.optim.StackedSGD`).

The members stay independent, but a product or a sum may round differently from a member's
solo run, so each member's numbers are within float32 rounding of it, not equal to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from zoo.batched.plan import ChainLayer

CACHE_BYTES = 2 << 20  # a chunk's activations: about one core's L2 cache (measured: 1-8 MB
# gave the same speed on circle-v2 within noise; 0.5 MB was 2x slower, 16 MB 1.4x)

_FORWARD = {
    "relu": lambda h, out: torch.clamp_min(h, 0.0, out=out),
    "tanh": lambda h, out: torch.tanh(h, out=out),
    "sigmoid": lambda h, out: torch.sigmoid(h, out=out),
    None: lambda h, out: out.copy_(h),
}
_BACKWARD = {  # (gradient, the activation's output) -> the gradient before it, in place
    "relu": lambda g, y: torch.ops.aten.threshold_backward(g, y, 0.0, grad_input=g),
    "tanh": lambda g, y: torch.ops.aten.tanh_backward(g, y, grad_input=g),
    "sigmoid": lambda g, y: torch.ops.aten.sigmoid_backward(g, y, grad_input=g),
    None: lambda g, y: g,
}


def fits(layers: Sequence[ChainLayer] | None) -> bool:
    """Whether this formulation runs the chain: activations it knows, a Linear at the end."""
    return bool(layers) and layers[-1].activation is None  # type: ignore[index]


@dataclass(frozen=True)
class _Chunk:
    """One chunk of members on data of one row count: views made once, used every step."""

    members: slice
    weights: list[torch.Tensor]  # per layer [c, out, in (+1)]
    grads: list[torch.Tensor]  # the same, in the gradient buffer
    transposed: list[torch.Tensor]  # per later layer, its weights without bias, [c, in, out]
    inputs: list[torch.Tensor]  # per later layer, its input [c, in (+1), N] (ones row: bias)
    activations: list[torch.Tensor]  # the same without the ones row
    logits: torch.Tensor  # [c, out, N]


class FastChain:
    """K members of one chain model, trained together; the interface of
    :class:`zoo.batched.stacked.StackedModels`, plus :meth:`gradients`."""

    def __init__(self, layers: Sequence[ChainLayer], models: Sequence[nn.Module]) -> None:
        self.layers, self.count = tuple(layers), len(models)
        self.dtype = next(models[0].parameters()).dtype
        widths = [layer.outputs * (layer.inputs + layer.bias) for layer in layers]
        self.flat = torch.zeros(self.count * sum(widths), dtype=self.dtype)  # layer by layer
        self.grad = torch.zeros_like(self.flat)
        # the member of every element of the flat buffers (for per-member optimizer numbers)
        self.members = torch.cat(
            [torch.arange(self.count).repeat_interleave(width) for width in widths]
        )
        self.blocks, self.grad_blocks = self._blocks(self.flat), self._blocks(self.grad)
        self.parameters: dict[str, torch.Tensor] = {}
        for layer, block, grad in zip(layers, self.blocks, self.grad_blocks):
            for kind, view, grad_view in _named(layer, block, grad):
                self.parameters[f"{layer.name}.{kind}"] = view
                view.grad = grad_view  # for torch's optimizers over the named tensors
        for k, model in enumerate(models):
            self.load(k, dict(model.named_parameters()))
        self._plans: dict[int, tuple[torch.Tensor, list[_Chunk]]] = {}
        self._inputs: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """[N, F] (shared by every member) or [K, N, F] -> [K, N, out], without gradients."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs.shape[-1])
        for chunk in chunks:
            self._forward(chunk, inputs)
        return logits.clone().transpose(1, 2)

    def gradients(self, X: torch.Tensor, targets: torch.Tensor, binary: bool) -> torch.Tensor:
        """Every member's mean loss on (X, targets), [K]; its gradients into :attr:`grad`."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs.shape[-1])
        for chunk in chunks:
            self._forward(chunk, inputs)
            own = targets if targets.dim() == 1 else targets[chunk.members]
            self._backward(chunk, inputs, _logit_gradient(binary, chunk.logits, own))
        return _losses(binary, logits, targets)

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s weights, as its own model's state_dict."""
        return {name: tensor[k].clone() for name, tensor in self.parameters.items()}

    def load(self, k: int, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, tensor in state.items():
                self.parameters[name][k] = tensor

    # -- the formulation ------------------------------------------------------------------

    def _forward(self, chunk: _Chunk, inputs: torch.Tensor) -> None:
        """The chunk's logits, and each later layer's input kept for the backward."""
        h = _product(chunk.weights[0], inputs, chunk.members)
        later = zip(self.layers, chunk.weights[1:], chunk.inputs, chunk.activations)
        for index, (before, weights, layer_input, activation) in enumerate(later, start=2):
            _FORWARD[before.activation](h, activation)
            last = index == len(self.layers)
            h = torch.bmm(weights, layer_input, out=chunk.logits if last else None)
        if len(self.layers) == 1:
            chunk.logits.copy_(h)

    def _backward(self, chunk: _Chunk, inputs: torch.Tensor, grad: torch.Tensor) -> None:
        """From the logits' gradient [c, out, N] to every layer's weight gradient."""
        for index in range(len(self.layers) - 1, 0, -1):
            layer_input = chunk.inputs[index - 1]
            torch.bmm(grad, layer_input.transpose(1, 2), out=chunk.grads[index])
            grad = torch.bmm(chunk.transposed[index - 1], grad)
            _BACKWARD[self.layers[index - 1].activation](grad, chunk.activations[index - 1])
        first = chunk.grads[0]
        if inputs.dim() == 2:  # one input for every member: one wide product, computed as
            # X @ G^T: BLAS is several times faster at that shape than at G @ X^T
            first.flatten(0, 1).copy_(torch.mm(inputs, grad.flatten(0, 1).t()).t())
        else:
            torch.bmm(grad, inputs[chunk.members].transpose(1, 2), out=first)

    def _plan(self, rows: int) -> tuple[torch.Tensor, list[_Chunk]]:
        """The logits buffer [K, out, N] and the chunks for data of ``rows`` rows, made once
        (normal tensors, even when an evaluation under inference mode asks first)."""
        if rows not in self._plans:
            with torch.inference_mode(False):
                self._plans[rows] = self._new_plan(rows)
        return self._plans[rows]

    def _new_plan(self, rows: int) -> tuple[torch.Tensor, list[_Chunk]]:
        # a member's activations: each layer's input and output, [features, rows] each
        per_member = (
            self.flat.element_size()
            * rows
            * sum(layer.inputs + layer.outputs for layer in self.layers)
        )
        size = max(1, min(self.count, CACHE_BYTES // per_member))
        shared = [  # every chunk's later-layer inputs, reused: they stay in cache
            torch.ones(size, layer.inputs + layer.bias, rows, dtype=self.dtype)
            for layer in self.layers[1:]
        ]
        logits = torch.empty(self.count, self.layers[-1].outputs, rows, dtype=self.dtype)
        chunks = []
        for start in range(0, self.count, size):
            members = slice(start, min(start + size, self.count))
            count = members.stop - start
            weights = [block[members] for block in self.blocks]
            later = zip(self.layers[1:], weights[1:], shared)
            chunks.append(
                _Chunk(
                    members,
                    weights,
                    [block[members] for block in self.grad_blocks],
                    [w[:, :, : layer.inputs].transpose(1, 2) for layer, w, _ in later],
                    [buffer[:count] for buffer in shared],
                    [
                        buffer[:count, : layer.inputs]
                        for layer, buffer in zip(self.layers[1:], shared)
                    ],
                    logits[members],
                )
            )
        return logits, chunks

    def _with_ones(self, X: torch.Tensor) -> torch.Tensor:
        """X as [F (+1), N] or [K, F (+1), N]: features by rows, a row of ones for the bias.

        The last one is kept: the training data is the same tensor every full-batch epoch."""
        if self._inputs is not None and self._inputs[0] is X:
            return self._inputs[1]
        bias = int(self.layers[0].bias)
        shape = (*X.shape[:-2], X.shape[-1] + bias, X.shape[-2])
        with torch.inference_mode(False):
            inputs = torch.ones(shape, dtype=self.dtype)
            inputs[..., : X.shape[-1], :] = X.transpose(-1, -2)
        self._inputs = (X, inputs)
        return inputs

    def _blocks(self, flat: torch.Tensor) -> list[torch.Tensor]:
        blocks, start = [], 0
        for layer in self.layers:
            shape = (self.count, layer.outputs, layer.inputs + layer.bias)
            size = shape[0] * shape[1] * shape[2]
            blocks.append(flat[start : start + size].view(shape))
            start += size
        return blocks


def _named(
    layer: ChainLayer, block: torch.Tensor, grad: torch.Tensor
) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """A layer's weight and bias as views of its block, with their gradients' views."""
    named = [("weight", block[:, :, : layer.inputs], grad[:, :, : layer.inputs])]
    if layer.bias:
        named.append(("bias", block[:, :, layer.inputs], grad[:, :, layer.inputs]))
    return named


def _product(weights: torch.Tensor, inputs: torch.Tensor, members: slice) -> torch.Tensor:
    """The first layer: one wide product when every member reads the same input."""
    if inputs.dim() == 2:
        return torch.mm(weights.flatten(0, 1), inputs).view(*weights.shape[:2], -1)
    return torch.bmm(weights, inputs[members])


def _logit_gradient(binary: bool, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The gradient of each member's mean loss by its logits [c, out, N]."""
    rows = logits.shape[-1]
    if binary:  # BCE-with-logits: (sigmoid(z) - y) / N
        grad = torch.sigmoid(logits)
        y = targets.view(-1, 1, rows) if targets.dim() > 1 else targets
        return grad.sub_(y).div_(float(rows))
    grad = torch.softmax(logits, dim=1)  # cross-entropy: (softmax(z) - one_hot(y)) / N
    y = targets.expand(len(logits), rows).unsqueeze(1)
    grad.scatter_add_(1, y, torch.full(y.shape, -1.0, dtype=grad.dtype))
    return grad.div_(float(rows))


def _losses(binary: bool, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each member's mean loss, [K], from every member's logits [K, out, N]."""
    if binary:
        z = logits.squeeze(1)
        return F.binary_cross_entropy_with_logits(z, targets.expand_as(z), reduction="none").mean(1)
    y = targets.expand(len(logits), logits.shape[-1])
    return F.cross_entropy(logits, y, reduction="none").mean(1)
