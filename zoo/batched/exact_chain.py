"""The exact CPU formulation of a chain model's K members: each member's numbers are its solo
run's, bit for bit, and the work per member no longer grows with K.

The layout is the solo run's, [rows, features] per member, so that every batched kernel can
round as the solo kernels do; which ones do is probed (see :func:`zoo.batched.stacked_ops.
exactly`): each product and sum below runs the first formulation that matches the per-seed
computation to the bit on random numbers of the same layout, else the per-seed computation
itself. What makes it faster than autograd over the stacked program:

- **Chunks of members**: members are trained a chunk at a time, forward and backward, so
  a step's memory stays bounded however many members there are. The chunks are large (on
  circle-v2, 120 members on 800 rows): this formulation runs more kernels per chunk than the
  fast one, and measured, their Python and dispatch cost more than the cache misses of
  larger chunks (see :data:`zoo.batched.chain.EXACT_CHUNK_BYTES`).
- **Bias in the product where it rounds the same**: ``x @ W^T + b`` as one product of
  ``[x, 1]`` and ``[W, b]`` rounds as ``addmm`` does (the bias is added last), and spares
  ``baddbmm`` its slow copy of the broadcast bias.
- **A backward written for the chain**: no autograd graph per step, each kernel's choice
  made once per chunk, every result written into a buffer the chunk keeps; the gradients
  land beside the weights (see :mod:`zoo.batched.chain`), for torch's own optimizers
  (:class:`zoo.batched.stacked_optim.MemberOptimizers`), which keep the update exact.

Only ReLU between the layers: its kernels give each element the same result wherever the
element sits, while tanh and sigmoid round differently on the last, partial SIMD vector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from zoo.batched.batch_plan import ChainLayer
from zoo.batched.chain import EXACT_CHUNK_BYTES, ChainWeights, with_bias
from zoo.batched.stacked_ops import choose, logit_gradient, member_losses, padded

Way = Callable[..., torch.Tensor]


def fits(layers: Sequence[ChainLayer] | None) -> bool:
    """Whether this formulation runs the chain: ReLU or nothing between the layers."""
    return with_bias(layers) and all(layer.activation in ("relu", None) for layer in layers or ())


@dataclass
class _Chunk:
    """One chunk of members on inputs of one shape: views and buffers made once, and the
    kernel chosen for each of its products and sums (at its first step)."""

    members: slice
    count: int
    weights: list[torch.Tensor]  # per layer [c, out, in + 1], the bias last
    grads: list[torch.Tensor]  # the same, in the gradient buffer
    inputs: list[torch.Tensor]  # per later layer, its input [c, N, in + 1] (last column ones)
    hidden: list[torch.Tensor]  # per earlier layer, its output before the activation
    back: list[torch.Tensor]  # per later layer, the gradient of its input, [c, N, in]
    logits: torch.Tensor  # [c, N, out]
    ways: dict[tuple[str, int, int], Way] = field(default_factory=dict)


class ExactChain(ChainWeights):
    """K members of one chain model, each exactly its solo run; the interface of
    :class:`zoo.batched.stacked.StackedModels`, plus :meth:`gradients`."""

    def __init__(self, layers: Sequence[ChainLayer], models: Sequence[nn.Module]) -> None:
        super().__init__(layers, models)
        self._inputs: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """[N, F] (shared by every member) or [K, N, F] -> [K, N, out], without gradients.

        One output per row comes in a padded buffer, so that the losses of all members are
        computed together, each exactly as its solo run computes it (see
        :func:`zoo.batched.stacked_ops.whole_vectors`)."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs)
        for chunk in chunks:
            self._forward(chunk, inputs)
        return self._logits(logits.shape[1]).copy_(logits)

    def gradients(
        self, X: torch.Tensor, targets: torch.Tensor, loss_fn: nn.Module, binary: bool
    ) -> torch.Tensor:
        """Every member's mean loss on (X, targets), [K]; its gradients into :attr:`grad`,
        as each solo run's backward computes them."""
        inputs = self._with_ones(X)
        logits, chunks = self._plan(inputs)
        for chunk in chunks:
            self._forward(chunk, inputs)
            own = chunk.logits.squeeze(-1) if binary else chunk.logits
            grad = logit_gradient(binary, loss_fn, own, targets[chunk.members])
            self._backward(chunk, inputs, grad.view_as(chunk.logits))
        return member_losses(binary, loss_fn, logits.squeeze(-1) if binary else logits, targets)

    # -- the formulation ------------------------------------------------------------------

    def _forward(self, chunk: _Chunk, inputs: torch.Tensor) -> None:
        """The chunk's logits, each later layer's input with its ones, and each earlier
        layer's output before its activation (ReLU's backward reads it: it is contiguous)."""
        x = _member_rows(inputs, chunk.members, chunk.count)
        for index, layer in enumerate(self.layers):
            last = index + 1 == len(self.layers)
            out = chunk.logits if last else chunk.hidden[index]
            way = _way(chunk, "forward", index, _FORWARD, _solo_forward, x, chunk.weights[index])
            way(x, chunk.weights[index], out=out)
            if last:
                return
            x = chunk.inputs[index]
            if layer.activation == "relu":
                torch.clamp_min(out, 0.0, out=x[..., :-1])
            else:
                x[..., :-1].copy_(out)

    def _backward(self, chunk: _Chunk, inputs: torch.Tensor, grad: torch.Tensor) -> None:
        """From the logits' gradient [c, N, out] to every layer's weight and bias gradients.

        ReLU's gradient is masked where its input is <= 0, which is where its output is."""
        for index in range(len(self.layers) - 1, -1, -1):
            x = (
                chunk.inputs[index - 1]
                if index
                else _member_rows(inputs, chunk.members, chunk.count)
            )
            grads = chunk.grads[index]
            way = _way(chunk, "grad_weight", index, _GRAD_WEIGHT, _solo_grad_weight, grad, x)
            grads[..., :-1].copy_(way(grad, x))  # a product into strided memory is slower
            way = _way(chunk, "grad_bias", index, _GRAD_BIAS, _solo_grad_bias, grad)
            way(grad, out=grads[..., -1])
            if index == 0:
                return
            weights = chunk.weights[index]
            way = _way(chunk, "grad_x", index, _GRAD_X, _solo_grad_x, grad, weights)
            grad = way(grad, weights, out=chunk.back[index - 1])
            if self.layers[index - 1].activation == "relu":
                hidden = chunk.hidden[index - 1]
                torch.ops.aten.threshold_backward(grad, hidden, 0.0, grad_input=grad)

    def _plan(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[_Chunk]]:
        """The logits buffer and the chunks for inputs of this shape (made once)."""
        return self.plan(inputs.shape[-2], inputs.dim(), self._new_plan)

    def _new_plan(self, rows: int) -> tuple[torch.Tensor, list[_Chunk]]:
        chunks, dtype = self.chunks(rows, EXACT_CHUNK_BYTES), self.dtype
        size = chunks[0].stop
        # buffers shared by every chunk (so they stay in cache), each fresh and aligned
        inputs = [
            torch.ones(size, rows, layer.inputs + 1, dtype=dtype) for layer in self.layers[1:]
        ]
        hidden = [torch.empty(size, rows, layer.outputs, dtype=dtype) for layer in self.layers[:-1]]
        back = [torch.empty(size, rows, layer.inputs, dtype=dtype) for layer in self.layers[1:]]
        logits = self._logits(rows)
        plan = []
        for members in chunks:
            count = members.stop - members.start
            plan.append(
                _Chunk(
                    members,
                    count,
                    [block[members] for block in self.blocks],
                    [block[members] for block in self.grad_blocks],
                    [buffer[:count] for buffer in inputs],
                    [buffer[:count] for buffer in hidden],
                    [buffer[:count] for buffer in back],
                    logits[members],
                )
            )
        return logits, plan

    def _logits(self, rows: int) -> torch.Tensor:
        """[K, N, out]; for one output, each member's rows padded to 64-byte lines."""
        outputs = self.layers[-1].outputs
        if outputs == 1:
            return padded(self.count, rows, 1, dtype=self.dtype)
        return torch.empty(self.count, rows, outputs, dtype=self.dtype)

    def _with_ones(self, X: torch.Tensor) -> torch.Tensor:
        """X with a column of ones: [N, F + 1] or [K, N, F + 1]. The last one is kept: the
        training data is the same tensor every full-batch epoch."""
        if self._inputs is not None and self._inputs[0] is X:
            return self._inputs[1]
        with torch.inference_mode(False):
            inputs = torch.ones(*X.shape[:-1], X.shape[-1] + 1, dtype=X.dtype)
            inputs[..., :-1] = X
        self._inputs = (X, inputs)
        return inputs


def _member_rows(inputs: torch.Tensor, members: slice, count: int) -> torch.Tensor:
    """The chunk's inputs [c, N, F + 1]: the shared rows repeated (no copy), or its own."""
    return inputs.expand(count, *inputs.shape) if inputs.dim() == 2 else inputs[members]


def _way(
    chunk: _Chunk,
    name: str,
    layer: int,
    candidates: list[Way],
    per_seed: Way,
    *tensors: torch.Tensor,
) -> Way:
    """The kernel for one product or sum of the chunk: probed at its first step, then kept
    (every tensor it sees later has the same layout: the chunk's own views and buffers) for
    as long as the thread count is the same."""
    key = (name, layer, torch.get_num_threads())
    if key not in chunk.ways:
        chunk.ways[key] = choose(
            name, candidates, per_seed, *tensors, ones_column=name == "forward"
        )
    return chunk.ways[key]


# -- the candidates, fastest first, and the per-seed computations they must match ----------
# A layer's weights come as [c, out, in + 1] (the bias last), its input as [c, N, in + 1]
# (ones last). Each way writes into ``out`` when given one.


def _solo(tensor: torch.Tensor) -> torch.Tensor:
    """A seed's tensor as its solo run holds it: contiguous and 64-byte aligned."""
    if not tensor.is_contiguous():
        return tensor.contiguous()
    return tensor if tensor.data_ptr() % 64 == 0 else tensor.clone()


def _stacked(parts: list[torch.Tensor], out: torch.Tensor | None) -> torch.Tensor:
    return torch.stack(parts) if out is None else out.copy_(torch.stack(parts))


def _solo_forward(
    x: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    parts = [
        F.linear(_solo(x[k, :, :-1]), _solo(weights[k, :, :-1]), _solo(weights[k, :, -1]))
        for k in range(weights.shape[0])
    ]
    return _stacked(parts, out)


def _solo_grad_weight(
    grad: torch.Tensor, x: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    parts = [_solo(grad[k]).t().mm(_solo(x[k, :, :-1])) for k in range(grad.shape[0])]
    return _stacked(parts, out)


def _solo_grad_bias(grad: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    return _stacked([_solo(grad[k]).sum(0) for k in range(grad.shape[0])], out)


def _solo_grad_x(
    grad: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    parts = [_solo(grad[k]).mm(_solo(weights[k, :, :-1])) for k in range(grad.shape[0])]
    return _stacked(parts, out)


def _one_product(
    x: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """[x, 1] @ [W, b]^T: the bias as the product's last term."""
    return torch.bmm(x, weights.transpose(1, 2), out=out)


def _with_bias_copy(
    x: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """baddbmm from the broadcast bias, as ``addmm`` computes ``nn.Linear``."""
    start = weights[..., -1].unsqueeze(1).expand(weights.shape[0], x.shape[1], weights.shape[1])
    return torch.baddbmm(start, x[..., :-1], weights[..., :-1].transpose(1, 2), out=out)


def _one_output(
    x: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """W @ x^T: the matrix-vector form PyTorch uses for a layer of one output."""
    start = weights[..., -1:].expand(weights.shape[0], weights.shape[1], x.shape[1])
    product = torch.baddbmm(start, weights[..., :-1], x[..., :-1].transpose(1, 2))
    return product.transpose(1, 2) if out is None else out.copy_(product.transpose(1, 2))


def _product_grad_weight(
    grad: torch.Tensor, x: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    return torch.bmm(grad.transpose(1, 2), x[..., :-1], out=out)


def _matmul_grad_weight(
    grad: torch.Tensor, x: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """For one output a vector-matrix product, as matmul computes it."""
    return torch.matmul(grad.transpose(1, 2), x[..., :-1], out=out)


def _sum_grad_bias(grad: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    return torch.sum(grad, 1, out=out)


def _product_grad_x(
    grad: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    return torch.bmm(grad, weights[..., :-1], out=out)


def _outer_grad_x(
    grad: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """For one output each element is one product: grad * W."""
    if grad.shape[-1] != 1:
        return _product_grad_x(grad, weights, out)
    return torch.mul(grad, weights[..., :-1], out=out)


_FORWARD: list[Way] = [_one_product, _with_bias_copy, _one_output]
_GRAD_WEIGHT: list[Way] = [_product_grad_weight, _matmul_grad_weight]
_GRAD_BIAS: list[Way] = [_sum_grad_bias]
_GRAD_X: list[Way] = [_outer_grad_x, _product_grad_x]
