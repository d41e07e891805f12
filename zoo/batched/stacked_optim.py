"""Optimizer steps for stacked members, each with its own optimizer numbers (lr, momentum, ...).

Members that share their optimizer settings sit next to each other in the stack. Each such
run of members gets torch's own optimizer, built exactly as its solo run builds it, over
*views* of the stacked tensors: ``stacked[a:b]``. An optimizer's update is element-wise, and
an element-wise op on a slice gives each element what the op on the whole tensor gives it, so
every member takes its solo run's step to the bit.

Why not one update with a per-member learning-rate tensor (``p - lr[:, None, None] * g``)?
On the CPU, ``p.add_(g, alpha=-lr)`` fuses the multiply and the add; the tensor form rounds
the product first, and measured on [64, 10, 10] weights it differed from the solo step in 1328
of 6400 elements. ``addcmul`` with a ``-lr`` tensor happens to agree for plain SGD, but
momentum, weight decay and Adam would each need such a rewrite, probed kernel by kernel;
views reuse torch's own code for every optimizer. (Measured on this project's CPU: views
agree to the bit for SGD with and without momentum and weight decay, Adam, AdamW and
RMSprop, groups of 1 to 7 members, weights of 1 to 64x64.)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from zoo.config.resolve import TrainConfig
from zoo.training.optim import SCHEDULE_SETTINGS, build_optimizer, build_scheduler, options, step


class MemberOptimizers:
    """The optimizers of K stacked members; ``configs[k]`` holds member k's settings.

    ``capturable``: keep the optimizers' step counts on the device, so that a CUDA graph can
    capture their steps (Adam and its kin; the fast engine only: it rounds differently).
    Each optimizer has its learning-rate schedule, built as the solo run builds it; the
    plateau schedule follows one member's validation loss, so there each member has an
    optimizer of its own.
    """

    def __init__(
        self,
        parameters: Sequence[torch.Tensor],
        configs: Sequence[TrainConfig],
        *,
        capturable: bool = False,
    ) -> None:
        self.parameters = list(parameters)
        self.groups: list[tuple[slice, list[torch.Tensor], torch.optim.Optimizer]] = []
        for members, config in _runs(configs):
            views = [p.detach()[members] for p in self.parameters]
            optimizer = build_optimizer(views, config)
            for group in optimizer.param_groups if capturable else ():
                if "capturable" in group:
                    group["capturable"] = True
            self.groups.append((members, views, optimizer))
        self.schedulers = [
            build_scheduler(optimizer, configs[members.start])
            for members, _, optimizer in self.groups
        ]

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    def step(self) -> None:
        """Each group's optimizer step on its members' slice of the stacked gradients."""
        for members, views, optimizer in self.groups:
            for parameter, view in zip(self.parameters, views):
                view.grad = None if parameter.grad is None else parameter.grad[members]
            optimizer.step()

    def step_schedules(self, val_losses: list[float] | None) -> None:
        """Each schedule's step at the end of an epoch; plateau on its member's loss."""
        for (members, _, _), scheduler in zip(self.groups, self.schedulers):
            step(scheduler, None if val_losses is None else val_losses[members.start])


def _runs(configs: Sequence[TrainConfig]) -> list[tuple[slice, TrainConfig]]:
    """Consecutive members with the same optimizer options and schedule, as (slice, first
    config); with the plateau schedule each member alone."""
    runs: list[tuple[slice, TrainConfig]] = []
    start = 0
    for k in range(1, len(configs) + 1):
        alone = configs[start].lr_schedule == "plateau"  # it follows its own member's loss
        if k == len(configs) or alone or _shared(configs[k]) != _shared(configs[start]):
            runs.append((slice(start, k), configs[start]))
            start = k
    return runs


def _shared(config: TrainConfig) -> tuple[object, ...]:
    """What the members of one optimizer have in common: its options and its schedule."""
    keys = ("lr_schedule", *SCHEDULE_SETTINGS[config.lr_schedule])
    return (options(config), *(getattr(config, key) for key in keys))


class StackedSGD:
    """torch.optim.SGD's update for every member of a stack at once, each member with its own
    learning rate, momentum and weight decay: three element-wise kernels over all weights.

    ``weights`` and ``grad`` are flat buffers; ``members[i]`` is the member that element i
    belongs to, so a member's numbers are spread over its elements once, at the start. This
    is the fast path's optimizer (see :mod:`zoo.batched.fast_chain`): ``w - lr * v`` as a
    product of tensors rounds differently from torch's fused ``add_(v, alpha=-lr)``, within
    float32 rounding of it, as the fast path's kernels are.
    """

    def __init__(
        self,
        weights: torch.Tensor,
        grad: torch.Tensor,
        members: torch.Tensor,
        configs: Sequence[TrainConfig],
    ) -> None:
        self.weights, self.grad = weights, grad
        numbers = [options(config) for config in configs]

        def spread(key: str) -> torch.Tensor | None:
            values = [n.get(key, 0.0) for n in numbers]
            return torch.tensor(values, dtype=weights.dtype)[members] if any(values) else None

        lr = spread("lr")
        self.step_size = -lr if lr is not None else torch.zeros_like(weights)
        self.momentum, self.weight_decay = spread("momentum"), spread("weight_decay")
        self.velocity = torch.zeros_like(weights) if self.momentum is not None else None

    @staticmethod
    def fits(configs: Sequence[TrainConfig]) -> bool:
        """SGD without a learning-rate schedule (a schedule needs torch's optimizer)."""
        return all(config.optimizer == "sgd" and config.lr_schedule == "none" for config in configs)

    def zero_grad(self) -> None:
        """Nothing to do: every step writes the gradients afresh."""

    def step_schedules(self, val_losses: list[float] | None) -> None:
        """Nothing to do: there is no schedule (see :meth:`fits`)."""

    def step(self) -> None:
        grad = self.grad
        if self.weight_decay is not None:
            grad.addcmul_(self.weights, self.weight_decay)
        if self.velocity is not None and self.momentum is not None:
            grad = self.velocity.mul_(self.momentum).add_(grad)
        self.weights.addcmul_(grad, self.step_size)
