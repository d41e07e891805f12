"""The fast CPU formulation of a chain model's K members (``exact=False``; see :mod:`zoo.batched`).

A member of circle-v2 is about 0.6 MFLOP per epoch: arithmetic one core does in a few
microseconds. What costs is moving its activations ([800, 10] floats each) and launching
small kernels. So this formulation is laid out for both:

- **Rows last**: a layer's activations are [K, features, rows]. The first layer of every
  member reads the same input, so it is one wide matrix product
  (``[W_1; ...; W_K] @ X^T``), and every later layer is a batched product whose rows are
  long, the shape BLAS is fast at.
- **Bias in the weights**: each layer's weights are stored as [K, out, in + 1], the bias as
  the last column (see :mod:`zoo.batched.chain`), and each layer's input carries a row of
  ones. A layer is one product, and its weight and bias gradients are one product too.
- **Cache-sized chunks**: members are trained a chunk at a time, forward and backward, so
  that a chunk's activations stay in the core's own cache instead of streaming through
  memory; the cost per member then stays flat as K grows while the per-step overhead is
  shared.
- **A backward written for the layout**: no autograd graph; the gradients land in one flat
  buffer beside the weights, so an optimizer step is a few element-wise kernels over every
  member (see :class:`zoo.batched.stacked_optim.StackedSGD`).

The members stay independent, but a product or a sum may round differently from a member's
solo run, so each member's numbers are within float32 rounding of it, not equal to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from zoo.batched.batch_plan import ChainLayer
from zoo.batched.chain import FAST_CHUNK_BYTES, ChainWeights, with_bias

_FORWARD: dict[str | None, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "relu": lambda h, out: torch.clamp_min(h, 0.0, out=out),
    "tanh": lambda h, out: torch.tanh(h, out=out),
    "sigmoid": lambda h, out: torch.sigmoid(h, out=out),
    None: lambda h, out: out.copy_(h),
}
_BACKWARD: dict[
    str | None, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
] = {  # (gradient, the activation's output) -> the gradient before it, in place
    "relu": lambda g, y: torch.ops.aten.threshold_backward(g, y, 0.0, grad_input=g),
    "tanh": lambda g, y: torch.ops.aten.tanh_backward(g, y, grad_input=g),
    "sigmoid": lambda g, y: torch.ops.aten.sigmoid_backward(g, y, grad_input=g),
    None: lambda g, y: g,
}


def fits(layers: Sequence[ChainLayer] | None) -> bool:
    """Whether this formulation runs the chain (its activations are all in _FORWARD)."""
    return with_bias(layers)


@dataclass(frozen=True)
class _Chunk:
    """One chunk of members on data of one row count: views made once, used every step."""

    members: slice
    weights: list[torch.Tensor]  # per layer [c, out, in + 1]
    grads: list[torch.Tensor]  # the same, in the gradient buffer
    transposed: list[torch.Tensor]  # per later layer, its weights without bias, [c, in, out]
    inputs: list[torch.Tensor]  # per later layer, its input [c, in + 1, N] (ones row: bias)
    activations: list[torch.Tensor]  # the same without the ones row
    back: list[torch.Tensor]  # per later layer, the gradient of its input, [c, in, N]
    logits: torch.Tensor  # [c, out, N]


class FastChain(ChainWeights):
    """K members of one chain model, trained together; the interface of
    :class:`zoo.batched.stacked.StackedModels`, plus :meth:`gradients`."""

    def __init__(self, layers: Sequence[ChainLayer], models: Sequence[torch.nn.Module]) -> None:
        super().__init__(layers, models)
        self._inputs: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """[N, F] (shared by every member) or [K, N, F] -> [K, N, out], without gradients."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs)
        for chunk in chunks:
            self._forward(chunk, inputs)
        return logits.clone().transpose(1, 2)

    def gradients(self, X: torch.Tensor, targets: torch.Tensor, binary: bool) -> torch.Tensor:
        """Every member's mean loss on (X, targets), [K]; its gradients into :attr:`grad`."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs)
        for chunk in chunks:
            self._forward(chunk, inputs)
            own = targets if targets.dim() == 1 else targets[chunk.members]
            self._backward(chunk, inputs, _logit_gradient(binary, chunk.logits, own))
        return _losses(binary, logits, targets)

    # -- the formulation ------------------------------------------------------------------

    def _forward(self, chunk: _Chunk, inputs: torch.Tensor) -> None:
        """The chunk's logits, and each later layer's input kept for the backward."""
        h = _first_product(chunk.weights[0], inputs, chunk.members)
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
            grad = torch.bmm(chunk.transposed[index - 1], grad, out=chunk.back[index - 1])
            _BACKWARD[self.layers[index - 1].activation](grad, chunk.activations[index - 1])
        first = chunk.grads[0]
        if inputs.dim() == 2:  # one input for every member: one wide product, computed as
            # X @ G^T: BLAS is several times faster at that shape than at G @ X^T
            first.flatten(0, 1).copy_(torch.mm(inputs, grad.flatten(0, 1).t()).t())
        else:
            torch.bmm(grad, inputs[chunk.members].transpose(1, 2), out=first)

    def _plan(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[_Chunk]]:
        """The logits buffer and the chunks for inputs of this shape (made once)."""
        return self.plan(inputs.shape[-1], inputs.dim(), self._new_plan)

    def _new_plan(self, rows: int) -> tuple[torch.Tensor, list[_Chunk]]:
        chunks, later = self.chunks(rows, FAST_CHUNK_BYTES), self.layers[1:]
        size = chunks[0].stop

        def shared(features: int, ones: bool) -> list[torch.Tensor]:
            """One buffer per later layer, reused by every chunk: it stays in cache."""
            make = torch.ones if ones else torch.empty
            return [make(size, layer.inputs + features, rows, dtype=self.dtype) for layer in later]

        inputs, back = shared(1, ones=True), shared(0, ones=False)
        logits = torch.empty(self.count, self.layers[-1].outputs, rows, dtype=self.dtype)
        plan = []
        for members in chunks:
            count = members.stop - members.start
            weights = [block[members] for block in self.blocks]
            plan.append(
                _Chunk(
                    members,
                    weights,
                    [block[members] for block in self.grad_blocks],
                    [w[..., :-1].transpose(1, 2) for w in weights[1:]],
                    [buffer[:count] for buffer in inputs],
                    [buffer[:count, :-1] for buffer in inputs],
                    [buffer[:count] for buffer in back],
                    logits[members],
                )
            )
        return logits, plan

    def _with_ones(self, X: torch.Tensor) -> torch.Tensor:
        """X as [F + 1, N] or [K, F + 1, N]: features by rows, a row of ones for the bias.

        The last one is kept: the training data is the same tensor every full-batch epoch."""
        if self._inputs is not None and self._inputs[0] is X:
            return self._inputs[1]
        shape = (*X.shape[:-2], X.shape[-1] + 1, X.shape[-2])
        with torch.inference_mode(False):
            inputs = torch.ones(shape, dtype=self.dtype)
            inputs[..., :-1, :] = X.transpose(-1, -2)
        self._inputs = (X, inputs)
        return inputs


def _first_product(weights: torch.Tensor, inputs: torch.Tensor, members: slice) -> torch.Tensor:
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
