"""The shared trainer's loop, run for K seeds of one model at once (see :mod:`zoo.batched`).

With the exact kernels (the default on the CPU) each seed equals its solo run to the bit;
with the fast ones (the default on CUDA) a step is a few launches for all seeds, replayed as
a CUDA graph where it can be (see :mod:`zoo.training.engine`). Which formulation runs the
members (the stacked program, or on the CPU a chain model's exact or fast chain) is chosen
once, by :func:`_formulation`; the loop asks it for gradients and steps the optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zoo.batched import exact_chain, fast_chain
from zoo.batched.batch_plan import BatchPlan
from zoo.batched.chain import ChainWeights
from zoo.batched.exact_chain import ExactChain
from zoo.batched.fast_chain import FastChain
from zoo.batched.stacked import StackedModels, fast_linear, fast_losses
from zoo.batched.stacked_ops import seed_slice, stacked_linear, stacked_loss, whole_vectors
from zoo.batched.stacked_optim import MemberOptimizers, StackedSGD
from zoo.config.resolve import TrainConfig
from zoo.training.devices import torch_threads
from zoo.training.engine import CapturedStep, choose_engine
from zoo.training.experiment import TensorSplit
from zoo.training.loop import Schedule, TrainingLoop, Weights
from zoo.training.optim import BatchOrder, batch_order, validates_every_epoch
from zoo.training.records import FitResult, LogRow, Progress


class BatchedTrainer(TrainingLoop):
    """K seeds of one model as K members of one loop.

    ``models`` were built from one factory under each seed in ``configs`` (the same settings
    but for the seed and the optimizer numbers: each member steps with its own, see
    :mod:`zoo.batched.stacked_optim`). Each member's history, divergence and kept weights follow the
    solo rules, and its batches are drawn in its own order, as its solo run draws them.
    ``exact``: None for the device's default (see :func:`zoo.training.engine.choose_engine`).
    ``data`` is one split for every member, or each member's own stacked (``X_train`` of
    [K, N, F], targets [K, N]: ``zoo compare --vary split``).
    """

    def __init__(
        self,
        plan: BatchPlan,
        models: Sequence[nn.Module],
        data: TensorSplit,
        configs: Sequence[TrainConfig],
        *,
        exact: bool | None = None,
        on_progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        config = configs[0]
        super().__init__(
            Schedule(config.epochs, config.log_interval),
            on_progress,
            should_stop,
            patience=config.early_stop,
            validate_every_epoch=validates_every_epoch(config),
        )
        self.config, self.data = config, data
        rows, device = data.X_train.shape[-2], data.X_train.device
        self.own_splits = data.X_train.dim() == 3  # each member its own rows
        self.orders = [batch_order(c, rows, device) for c in configs]
        scheduled = config.lr_schedule != "none"
        self.engine = choose_engine(device.type, exact, self.orders[0] is None, scheduled)
        self.loss_fn = data.task.loss_function()
        self.stacked = _formulation(plan, models, self.engine.exact, device.type)
        self.optimizer = self._member_optimizers(configs)
        self.captured = CapturedStep(
            lambda: self._fast_step(data.X_train, data.y_train), self.engine
        )
        self._snapshot: Weights | None = None  # every member's weights since the last epoch
        self._best: Weights = {}  # early stopping: every member's best weights, stacked

    def fit(self) -> tuple[list[FitResult], Stack]:
        with torch_threads(self.config.threads):
            self.begin(self.log_rows(0))
            return self.run(), self.stacked

    def train_epoch(self, epoch: int) -> None:
        self._snapshot = None
        if not self.engine.exact:
            self._fast_epoch(epoch)
            return
        tracks = self.tracks
        alive = [k for k, track in enumerate(tracks) if track.live]
        for X, targets in self._batches():
            losses = self._step(X, targets, alive)
            for k in alive:
                if not math.isfinite(losses[k]):
                    tracks[k].diverged_at = epoch  # the solo run stops here: no more steps
            alive = [k for k in alive if tracks[k].diverged_at is None]

    def _batches(self) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        data, count = self.data, self.stacked.count
        if self.orders[0] is None:
            return [(data.X_train, data.y_train.expand(count, -1))]
        orders: list[BatchOrder] = [order for order in self.orders if order is not None]
        per_seed = [order.next_epoch() for order in orders]  # each seed's own batch order
        if self.own_splits:  # member k's rows of member k's split
            members = torch.arange(count, device=data.X_train.device).unsqueeze(1)
            return (
                (data.X_train[members, rows], data.y_train[members, rows])
                for rows in (torch.stack(batch) for batch in zip(*per_seed))
            )
        return (
            (data.X_train[rows], data.y_train[rows])
            for rows in (torch.stack(batch) for batch in zip(*per_seed))
        )

    def _step(self, X: torch.Tensor, targets: torch.Tensor, alive: list[int]) -> list[float]:
        """One optimizer step for the seeds in ``alive``; every seed's loss before it."""
        stacked, task = self.stacked, self.data.task
        if isinstance(stacked, ExactChain):
            return self._chain_step(stacked, X, targets, alive)
        losses = stacked_loss(task.binary, self.loss_fn, task.logits(stacked(X)), targets)
        values: list[float] = losses.detach().tolist()
        # Seeds that diverged, or whose loss is not finite now, take no step, as when solo.
        stepping = [k for k in alive if math.isfinite(values[k])]
        self.optimizer.zero_grad()
        if stepping:
            total = losses.sum() if len(stepping) == stacked.count else losses[stepping].sum()
            total.backward()
            self.optimizer.step()
        return values

    def _chain_step(
        self, stacked: ExactChain, X: torch.Tensor, targets: torch.Tensor, alive: list[int]
    ) -> list[float]:
        """:meth:`_step` by the exact chain: every member's gradient, by hand. A seed that
        diverged, or whose loss is not finite now, steps here but not when solo; nothing of
        it reaches another member, and its weights go back to its last good ones at the end,
        as when solo."""
        values: list[float] = stacked.gradients(
            X, targets, self.loss_fn, self.data.task.binary
        ).tolist()
        if any(math.isfinite(values[k]) for k in alive):
            self.optimizer.step()
        return values

    def _fast_epoch(self, epoch: int) -> None:
        """All members step, whatever their loss (a diverged member is restored to its kept
        weights at the end, and members never mix); one sync per batch finds the diverged."""
        full_batch = self.orders[0] is None
        for X, targets in self._batches():
            losses = self.captured() if full_batch else self._fast_step(X, targets)
            for k in torch.nonzero(~torch.isfinite(losses)).flatten().tolist():
                if self.tracks[k].live:  # one stopped early keeps its best weights whatever
                    self.tracks[k].diverged_at = epoch

    def _fast_step(self, X: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Forward, every member's loss, backward and step: a few kernels for all members."""
        task, stacked = self.data.task, self.stacked
        if isinstance(stacked, FastChain):
            losses = stacked.gradients(X, targets, task.binary)
        else:
            losses = fast_losses(task.binary, task.logits(stacked(X)), targets)
            self.optimizer.zero_grad()
            losses.sum().backward()
        self.optimizer.step()
        return losses.detach()

    def _member_optimizers(self, configs: Sequence[TrainConfig]) -> MemberOptimizers | StackedSGD:
        """One stacked SGD over the fast chain's flat weights when every member uses SGD;
        else torch's own optimizers over each run of members that share their settings."""
        stacked = self.stacked
        if isinstance(stacked, FastChain) and StackedSGD.fits(configs):
            return StackedSGD(stacked.flat, stacked.grad, stacked.members, configs)
        if isinstance(stacked, ChainWeights):  # a layer's weight and bias in one block
            return MemberOptimizers(stacked.optimized(), configs)
        parameters = list(stacked.parameters.values())
        return MemberOptimizers(parameters, configs, capturable=self.engine.graphs)

    def step_schedules(self, val_losses: list[float] | None) -> None:
        self.optimizer.step_schedules(val_losses)

    def log_rows(self, epoch: int) -> list[LogRow]:
        """Every seed's log row, with the numbers its solo evaluation gives (exact kernels)."""
        data = self.data
        train = self._scores(data.X_train, data.y_train)
        test = self._scores(data.X_test, data.y_test)
        val = self.validate() if data.X_val is not None else [(None, None)] * len(train)
        return [LogRow(epoch, *t, *s, *v) for t, s, v in zip(train, test, val)]

    def validate(self) -> list[tuple[float, float]]:
        data = self.data
        assert data.X_val is not None and data.y_val is not None
        return self._scores(data.X_val, data.y_val)

    def _scores(self, X: torch.Tensor, y: torch.Tensor) -> list[tuple[float, float]]:
        """Every seed's (loss, accuracy) on one split, as its solo evaluation gives them."""
        task, stacked = self.data.task, self.stacked
        with torch.inference_mode():
            logits = task.logits(stacked(X))
            if not self.engine.exact:
                loss_values = fast_losses(task.binary, logits, y).tolist()
            elif task.binary and whole_vectors(logits):  # equal to the solo mean, bit for bit
                targets = y.expand_as(logits)
                losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
                loss_values = losses.mean(1).tolist()
            else:  # cross-entropy reduces differently when batched: per seed
                own = self.own_splits
                loss_values = torch.stack(
                    [
                        self.loss_fn(seed_slice(logits, k), y[k] if own else y)
                        for k in range(stacked.count)
                    ]
                ).tolist()
            correct = torch.eq(task.labels(logits), y).sum(1).tolist()
        rows = y.shape[-1]
        return [(loss, c / rows * 100) for loss, c in zip(loss_values, correct)]

    def weights(self, member: int) -> Weights:
        """Every member's weights since the last epoch, stacked ([K, ...]): one copy per log
        point for all members (a copy per member costs too much with thousands of seeds);
        :meth:`restore` takes ``member``'s slice of it."""
        if self._snapshot is None:
            stacked = self.stacked.parameters.items()
            self._snapshot = {name: tensor.detach().clone() for name, tensor in stacked}
        return self._snapshot

    def keep_best(self, members: list[int]) -> None:
        """Copy the members' slices of the stacked weights into one stacked buffer: one copy
        of the model however many members improve, whenever."""
        rows = torch.tensor(members, device=self.data.X_train.device)
        for name, tensor in self.stacked.parameters.items():
            if name not in self._best:
                self._best[name] = tensor.detach().clone()
            else:
                self._best[name][rows] = tensor.detach()[rows]

    def best_weights(self, member: int) -> Weights:
        return self._best

    def restore(self, member: int, weights: Weights) -> None:
        self.stacked.load(member, {name: stack[member] for name, stack in weights.items()})


Stack = StackedModels | FastChain | ExactChain


def _formulation(plan: BatchPlan, models: Sequence[nn.Module], exact: bool, device: str) -> Stack:
    """How the members run: a chain model on the CPU by the hand-written chain formulation
    (exact or fast), anything else as the stacked program with exact or fast kernels."""
    chain = plan.chain()
    if device == "cpu" and chain is not None:
        if exact and exact_chain.fits(chain):
            return ExactChain(chain, models)
        if not exact and fast_chain.fits(chain):
            return FastChain(chain, models)
    return StackedModels(plan, models, stacked_linear if exact else fast_linear)
