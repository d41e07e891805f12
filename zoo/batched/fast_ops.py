"""The fast formulation of stacked seeds: plain batched kernels, no probes, no per-seed paths.

Every seed of a stack goes through each layer in one kernel launch, and its loss comes from
one whole-tensor reduction, so a step costs a handful of launches however many seeds there
are; autograd differentiates it. The seeds stay independent (no number of one seed enters
another's), but a batched kernel may sum in another order than a seed's solo run does, so
each seed's numbers are within rounding of its solo run, not equal to them. This is the
default on CUDA, where the exact kernels would mean one launch per seed per layer (see
:mod:`zoo.training.engine`). On the CPU, ``exact=False`` runs a model that is a plain chain
of Linear layers and activations with :mod:`zoo.batched.fast_chain` instead, a formulation
built for the CPU's caches; other models use these kernels.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def fast_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """[K, N, in] (or an [N, in] input expanded to K) -> [K, N, out] in one kernel."""
    seeds, outputs = weight.shape[0], weight.shape[1]
    if x.stride(0) == 0:  # one input for every seed: their weights side by side in one matmul
        joined = x[0] @ weight.reshape(seeds * outputs, -1).t()
        out = joined.view(x.shape[1], seeds, outputs).transpose(0, 1)
        return out if bias is None else out + bias.unsqueeze(1)
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


def fast_losses(binary: bool, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each seed's mean loss, [K]: BCE-with-logits of [K, N] or cross-entropy of [K, N, C]."""
    if binary:
        targets = targets.expand_as(logits)
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(1)
    targets = targets.expand(logits.shape[:2])
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").mean(1)
