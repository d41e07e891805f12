"""Operations on K stacked copies of a model that give each copy exactly its solo numbers.

A stacked Linear layer computes ``x[k] @ W[k].T + b[k]`` for every seed k. Several batched
formulations do that; which of them round exactly as ``nn.Linear`` does for one seed depends
on the BLAS library, the matrix sizes and the memory layout. So each formulation is probed
once per shape, on random numbers, against the per-seed computation (forward and gradients),
and the fastest one that agrees to the bit is used. The per-seed computation itself is the
last resort: it always agrees.

The same care applies to element-wise kernels (sigmoid, log): a vectorised loop rounds the
elements that do not fill a last SIMD vector on a scalar path, so when a seed's rows end
mid-vector its loss is computed on its own tensor, or its logits sit in a padded buffer
whose rows the kernels loop over one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

Linear = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def stacked_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """[K, N, in] (or an [N, in] input expanded to K) -> [K, N, out], each seed as if alone."""
    if bias is None:
        bias = torch.zeros(weight.shape[:2], dtype=weight.dtype, device=weight.device)
    key = (*_layout_key("linear", x, weight, bias), x.requires_grad)
    way = _LINEAR_WAYS.get(key)
    if way is None:
        way = _LINEAR_WAYS[key] = _fastest_exact_linear(x, weight, bias)
    return way(x, weight, bias)


def stacked_loss(
    binary: bool, loss_fn: nn.Module, logits: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Each seed's mean loss, [K], with the gradient its solo run would get."""
    if not whole_vectors(logits):
        return torch.stack([loss_fn(seed_slice(logits, k), targets[k]) for k in range(len(logits))])
    if binary:
        return _StackedBinaryLoss.apply(logits, targets)
    return _StackedCrossEntropy.apply(logits, targets)


def whole_vectors(tensor: torch.Tensor) -> bool:
    """Whether element-wise kernels treat each seed's rows as its solo run's (see the
    module's notes): they fill whole 64-byte SIMD vectors, or, for [K, N] logits, each seed's
    row starts a 64-byte line of its own (a padded buffer: see :func:`padded`), so that a
    kernel loops over each row separately."""
    size = tensor.element_size()
    if tensor.shape[1] * size % 64 == 0:
        return True
    return (
        tensor.dim() == 2
        and tensor.stride(1) == 1
        and tensor.stride(0) > tensor.shape[1]
        and tensor.stride(0) * size % 64 == 0
    )


def padded(seeds: int, rows: int, *rest: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """An empty [seeds, rows, *rest] tensor whose seeds start 64-byte lines of their own."""
    line = 64 // torch.empty((), dtype=dtype).element_size()
    width = -(-rows // line) * line
    return torch.empty(seeds, width, *rest, dtype=dtype)[:, :rows]


def seed_slice(tensor: torch.Tensor, k: int) -> torch.Tensor:
    """Seed ``k``'s slice, 64-byte aligned like the fresh tensors of its solo run."""
    part = tensor[k]
    return part if part.data_ptr() % 64 == 0 else part.clone()


# -- the formulations of a stacked Linear layer, fastest first -------------------------------


def _joined(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One input for every seed: their weights side by side in one addmm."""
    seeds, rows, outputs = weight.shape[0], x.shape[1], weight.shape[1]
    out = torch.addmm(bias.reshape(-1), x[0], weight.reshape(seeds * outputs, -1).t())
    return out.view(rows, seeds, outputs).transpose(0, 1).contiguous()


def _batched(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """baddbmm, differentiated by PyTorch itself."""
    seeds, rows, outputs = weight.shape[0], x.shape[1], weight.shape[1]
    return torch.baddbmm(bias.unsqueeze(1).expand(seeds, rows, outputs), x, weight.transpose(1, 2))


def _per_seed(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """nn.Linear's own computation, seed by seed: exact by definition, and the slowest."""
    return _PerSeedLinear.apply(x, weight, bias)


class _PerSeedLinear(torch.autograd.Function):
    """``F.linear`` on each seed's slice, differentiated seed by seed through its own graph.

    Autograd through ``torch.stack`` of the slices would give each seed's weight gradient as a
    full [K, ...] tensor of zeros around its slice, then add the K of them: K^2 work, which
    made the probe of 4000 seeds take minutes (#22). Here each seed's backward runs on its
    own leaves, the same ``F.linear`` backward on the same slices, so the numbers are the same.
    """

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight, bias)
        seeds = range(len(weight))
        return torch.stack(
            [F.linear(seed_slice(x, k), seed_slice(weight, k), seed_slice(bias, k)) for k in seeds]
        )

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        tensors, wanted = ctx.saved_tensors, ctx.needs_input_grad
        grads: list[list[torch.Tensor]] = [[] for _ in tensors]
        with torch.enable_grad():
            for k in range(len(tensors[1])):
                leaves = [
                    seed_slice(t, k).detach().requires_grad_(need)
                    for t, need in zip(tensors, wanted)
                ]
                needed = [leaf for leaf in leaves if leaf.requires_grad]
                found = iter(torch.autograd.grad(F.linear(*leaves), needed, grad[k]))
                for parts, leaf in zip(grads, leaves):
                    if leaf.requires_grad:
                        parts.append(next(found))
        return tuple(torch.stack(parts) if parts else None for parts in grads)


def _mixed(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return _MixedLinear.apply(x, weight, bias)


def _fastest_exact_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> Linear:
    candidates: list[Linear] = [_batched, _mixed]
    if x.stride(0) == 0:
        candidates.insert(0, _joined)
    reference = _probe(_per_seed, x, weight, bias)
    for candidate in candidates:
        if all(torch.equal(a, b) for a, b in zip(_probe(candidate, x, weight, bias), reference)):
            return candidate
    return _per_seed


def _probe(
    way: Linear, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> list[torch.Tensor]:
    """Output and gradients of ``way`` on random numbers laid out like the arguments.

    Run with gradients on, even when the first call comes from an evaluation.
    """
    with torch.inference_mode(False), torch.enable_grad():
        probes = [_random_like(x).requires_grad_(x.requires_grad)]
        probes += [_random_like(t).requires_grad_() for t in (weight, bias)]
        out = way(*probes)
        generator = torch.Generator(device=out.device).manual_seed(1)
        gradient = torch.randn(out.shape, generator=generator, dtype=out.dtype, device=out.device)
        out.backward(gradient)
    return [out.detach()] + [p.grad for p in probes if p.grad is not None]


_LINEAR_WAYS: dict[tuple[Any, ...], Linear] = {}


class _MixedLinear(torch.autograd.Function):
    """Batched kernels where they agree with the per-seed ones, per-seed kernels elsewhere.

    The backward mirrors nn.Linear's: grad_x = g @ W, grad_W = g.T @ x, grad_b = g.sum(0).
    """

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return exactly("forward", [_forward_batched], _per_seed, x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        seeds = range(len(weight))
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = exactly(
                "grad_x",
                [torch.bmm],
                lambda g, w: torch.stack([seed_slice(g, k).mm(seed_slice(w, k)) for k in seeds]),
                grad,
                weight,
            )
        grad_weight = exactly(
            "grad_weight",
            # matmul sometimes agrees where bmm does not (one output: a vector-matrix product)
            [lambda g, v: torch.bmm(g.transpose(1, 2), v), lambda g, v: g.transpose(1, 2) @ v],
            lambda g, v: torch.stack([seed_slice(g, k).t().mm(seed_slice(v, k)) for k in seeds]),
            grad,
            x,
        )
        grad_bias = exactly(
            "grad_bias",
            [lambda g: g.sum(1)],
            lambda g: torch.stack([seed_slice(g, k).sum(0) for k in seeds]),
            grad,
        )
        return grad_x, grad_weight, grad_bias


def _forward_batched(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    seeds, rows = weight.shape[0], x.shape[1]
    if weight.shape[1] == 1:  # W[k] @ x[k].T: the matrix-vector form PyTorch uses for one output
        start = bias.unsqueeze(2).expand(seeds, 1, rows)
        return torch.baddbmm(start, weight, x.transpose(1, 2)).transpose(1, 2)
    return _batched(x, weight, bias)


_CHOSEN: dict[tuple[Any, ...], int] = {}  # layout -> index into candidates + [per_seed]


def exactly(
    name: str,
    candidates: Sequence[Callable[..., torch.Tensor]],
    per_seed: Callable[..., torch.Tensor],
    *tensors: torch.Tensor,
) -> torch.Tensor:
    """The first of ``candidates`` that matches ``per_seed`` to the bit here, else the latter."""
    return choose(name, candidates, per_seed, *tensors)(*tensors)


def choose(
    name: str,
    candidates: Sequence[Callable[..., torch.Tensor]],
    per_seed: Callable[..., torch.Tensor],
    *tensors: torch.Tensor,
    ones_column: bool = False,
) -> Callable[..., torch.Tensor]:
    """The first of ``candidates`` that matches ``per_seed`` to the bit on random tensors of
    the layout of ``tensors`` (probed once per layout), else ``per_seed``.

    ``ones_column``: the first tensor's last column holds ones (a bias's input); so does its
    probe.
    """
    key = _layout_key(name, *tensors)
    chosen = _CHOSEN.get(key)
    if chosen is None:
        probes = [_random_like(t) for t in tensors]
        if ones_column:
            _ones_last_column(probes[0])
        reference = per_seed(*probes)
        agreeing = (i for i, way in enumerate(candidates) if torch.equal(way(*probes), reference))
        chosen = _CHOSEN[key] = next(agreeing, len(candidates))
    return [*candidates, per_seed][chosen]


def _ones_last_column(tensor: torch.Tensor) -> None:
    """Ones in the last column, written once where the tensor repeats memory (stride 0)."""
    for dim in reversed(range(tensor.dim())):
        if tensor.stride(dim) == 0:
            tensor = tensor.select(dim, 0)
    tensor[..., -1] = 1.0


def _layout_key(name: str, *tensors: torch.Tensor) -> tuple[Any, ...]:
    """What a kernel's choice of algorithm may depend on: shapes, strides, 64-byte alignment,
    and the number of threads (a product split over two threads sums in another order)."""
    first = tensors[0]
    key: tuple[Any, ...] = (name, first.dtype, first.device.type, torch.get_num_threads())
    for tensor in tensors:  # called for every layer and step: kept lean
        key += (tensor.shape, tensor.stride(), tensor.data_ptr() % 64)
    return key


def _random_like(tensor: torch.Tensor) -> torch.Tensor:
    """Random numbers in ``tensor``'s shape, layout and alignment; the global RNG is untouched."""
    generator = torch.Generator(device=tensor.device).manual_seed(0)
    extent = 1 + sum((size - 1) * step for size, step in zip(tensor.shape, tensor.stride()))
    padding = 64 // tensor.element_size()
    storage = torch.randn(
        extent + padding, generator=generator, dtype=tensor.dtype, device=tensor.device
    )
    shift = (tensor.data_ptr() - storage.data_ptr()) % 64 // tensor.element_size()
    return storage.as_strided(tensor.shape, tensor.stride(), shift)


# -- losses -----------------------------------------------------------------------------------


def member_losses(
    binary: bool, loss_fn: nn.Module, logits: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Each seed's mean loss, [K], as :func:`stacked_loss` gives it, without autograd."""
    if binary and whole_vectors(logits):
        return _binary_losses(logits, targets.expand_as(logits))
    with torch.no_grad():
        return stacked_loss(binary, loss_fn, logits, targets)


def logit_gradient(
    binary: bool, loss_fn: nn.Module, logits: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """The gradient of the seeds' summed mean losses by ``logits``, as each solo run's
    backward computes it, without autograd over the stack (for a hand-written backward)."""
    if not whole_vectors(logits):  # each seed through its own loss, as when solo
        grads = []
        for k in range(len(logits)):
            with torch.inference_mode(False), torch.enable_grad():
                seed = seed_slice(logits, k).detach().requires_grad_()
                grads.append(torch.autograd.grad(loss_fn(seed, targets[k]), seed)[0])
        return torch.stack(grads)
    if binary:  # the factor 1 of each seed's loss in the sum changes no bit: left out
        return _binary_gradient(logits, targets.expand_as(logits), None)
    ones = torch.ones(len(logits), dtype=logits.dtype, device=logits.device)
    targets = targets.expand(logits.shape[:2]).unsqueeze(-1)
    return _cross_entropy_gradient(torch.log_softmax(logits, dim=-1), targets, ones)


def _binary_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(1)


def _binary_gradient(
    logits: torch.Tensor, targets: torch.Tensor, grad: torch.Tensor | None
) -> torch.Tensor:
    # PyTorch's own formula: (sigmoid(x) - y) * grad, then divided by the row count.
    difference = logits.sigmoid() - targets
    if grad is not None:
        difference.mul_(grad.unsqueeze(1))
    return difference.div_(logits.shape[1])


def _cross_entropy_gradient(
    log_probabilities: torch.Tensor, targets: torch.Tensor, grad: torch.Tensor
) -> torch.Tensor:
    rows = log_probabilities.shape[1]
    # nll_loss's gradient, -grad / rows at each target, then log_softmax's backward.
    grad_nll = torch.zeros_like(log_probabilities)
    grad_nll.scatter_(-1, targets, (-(grad / rows)).view(-1, 1, 1).expand_as(targets))
    return torch.ops.aten._log_softmax_backward_data(
        grad_nll, log_probabilities, -1, log_probabilities.dtype
    )


class _StackedBinaryLoss(torch.autograd.Function):
    """Each seed's ``BCEWithLogitsLoss`` (mean) of logits [K, N], with the solo gradient."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = targets.expand_as(logits)
        ctx.save_for_backward(logits, targets)
        return _binary_losses(logits, targets)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        logits, targets = ctx.saved_tensors
        return _binary_gradient(logits, targets, grad), None


class _StackedCrossEntropy(torch.autograd.Function):
    """Each seed's ``CrossEntropyLoss`` (mean) of logits [K, N, C], with the solo gradient."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = targets.expand(logits.shape[:2]).unsqueeze(-1)
        log_probabilities = torch.log_softmax(logits, dim=-1)
        ctx.save_for_backward(log_probabilities, targets)
        return -log_probabilities.gather(-1, targets).squeeze(-1).mean(1)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        log_probabilities, targets = ctx.saved_tensors
        return _cross_entropy_gradient(log_probabilities, targets, grad), None
