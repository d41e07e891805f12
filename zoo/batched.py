"""Training several seeds of one model at once, each exactly as its own solo run would.

A 2 -> 10 -> 10 -> 1 step on 800 points costs far more in Python and dispatch than in
arithmetic, so K seeds trained one after another pay that overhead K times. Here the K copies'
weights are stacked ([K, out, in]) and every step runs once for all of them.

Which models: those that ``torch.fx`` traces to a graph of ``nn.Linear`` layers, element-wise
activations and element-wise arithmetic, with no buffers (no batch norm) and no randomness
(no dropout). :func:`batch_plan` says whether a model qualifies; others train one seed at a
time with the ordinary trainer.

Exactness: every stacked operation reproduces, for each seed, the rounding of its solo run
(see :mod:`zoo.stacked_ops`), so on a given machine and thread count each seed ends with the
weights its own ``zoo train`` run ends with, bit for bit.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
import torch.fx
from torch import nn
from torch.nn import functional as F

from zoo.config import TrainConfig
from zoo.stacked_ops import seed_slice, stacked_linear, stacked_loss, whole_vectors
from zoo.trainer import (
    FitResult,
    LogRow,
    RunTrack,
    TensorSplit,
    batch_order,
    build_optimizer,
    torch_threads,
)

# Modules and functions that act element by element: applied to [K, N, H] they give each
# seed exactly what they give it alone.
ELEMENTWISE_MODULES = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardtanh,
    nn.Hardsigmoid,
    nn.Hardswish,
    nn.Softplus,
    nn.Softsign,
    nn.Tanhshrink,
    nn.Identity,
)
ELEMENTWISE_FUNCTIONS = {
    torch.relu,
    torch.tanh,
    torch.sigmoid,
    torch.exp,
    torch.sin,
    torch.cos,
    torch.abs,
    torch.add,
    torch.sub,
    torch.mul,
    torch.neg,
    F.relu,
    F.relu6,
    F.leaky_relu,
    F.elu,
    F.selu,
    F.celu,
    F.gelu,
    F.silu,
    F.mish,
    F.hardtanh,
    F.hardsigmoid,
    F.hardswish,
    F.softplus,
    F.softsign,
    F.tanh,
    F.sigmoid,
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.neg,
}
ELEMENTWISE_METHODS = {"relu", "tanh", "sigmoid", "exp", "abs", "neg", "add", "sub", "mul"}


@dataclass(frozen=True)
class BatchPlan:
    """A model's traced graph, and the Linear layers whose weights get stacked."""

    graph: torch.fx.GraphModule
    linears: tuple[str, ...]  # module paths, in order of first use

    def hidden_layers(self) -> tuple[list[int], str] | None:
        """(hidden sizes, activation) when the model is a plain chain, as sklearn's MLP is."""
        sizes: list[int] = []
        activations: set[str] = set()
        for node in self.graph.graph.nodes:
            if node.op == "call_module":
                module = self.graph.get_submodule(node.target)
                if isinstance(module, nn.Linear):
                    sizes.append(module.out_features)
                else:
                    activations.add(type(module).__name__)
            elif node.op in ("call_function", "call_method"):
                name = getattr(node.target, "__name__", str(node.target))
                activations.add(name.lower())
        names = {
            "ReLU": "relu",
            "relu": "relu",
            "Tanh": "tanh",
            "tanh": "tanh",
            "Sigmoid": "logistic",
            "sigmoid": "logistic",
        }
        kinds = {names.get(a) for a in activations}
        if len(kinds) > 1 or None in kinds:
            return None
        return sizes[:-1], kinds.pop() if kinds else "identity"


def batch_plan(model: nn.Module) -> BatchPlan | None:
    """How to run K copies of ``model`` at once, or None if it must train one at a time."""
    if any(True for _ in model.buffers()):
        return None  # batch norm and friends keep state that stacking would mix up
    try:
        graph = torch.fx.symbolic_trace(model)
    except Exception:  # data-dependent control flow and the like: not batchable
        return None
    linears: list[str] = []
    for node in graph.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        if node.op == "call_module":
            module = graph.get_submodule(node.target)
            if isinstance(module, nn.Linear):
                if node.target not in linears:
                    linears.append(node.target)
            elif not isinstance(module, ELEMENTWISE_MODULES):
                return None
        elif node.op == "call_function":
            if node.target not in ELEMENTWISE_FUNCTIONS:
                return None
        elif node.op == "call_method":
            if node.target not in ELEMENTWISE_METHODS:
                return None
        else:  # get_attr: a parameter used outside a Linear layer
            return None
    placeholders = [n for n in graph.graph.nodes if n.op == "placeholder"]
    covered = {f"{name}.{p}" for name in linears for p in ("weight", "bias")}
    if len(placeholders) != 1 or any(n not in covered for n, _ in model.named_parameters()):
        return None
    return BatchPlan(graph, tuple(linears))


def _stacked_program(plan: BatchPlan) -> tuple[torch.fx.GraphModule, list[str]]:
    """The model's graph rewritten so that each Linear takes stacked weights as inputs.

    Returns the rewritten module, ``forward(x, *stacked)``, and the parameter names in the
    order it takes them. Generated straight-line code: no interpreter between the ops.
    """
    graph = torch.fx.Graph()
    values: dict[torch.fx.Node, torch.fx.Node] = {}
    inputs: dict[str, torch.fx.Node] = {}
    x = graph.placeholder("x")
    for name in plan.linears:
        module = plan.graph.get_submodule(name)
        for kind in ("weight", "bias"):
            if getattr(module, kind) is not None:
                key = f"{name}.{kind}"
                inputs[key] = graph.placeholder(f"stacked_{len(inputs)}")
    for node in plan.graph.graph.nodes:
        if node.op == "placeholder":
            values[node] = x
        elif node.op == "call_module" and isinstance(
            plan.graph.get_submodule(node.target), nn.Linear
        ):
            values[node] = graph.call_function(
                stacked_linear,
                (
                    values[node.args[0]],
                    inputs[f"{node.target}.weight"],
                    inputs.get(f"{node.target}.bias"),
                ),
            )
        else:
            values[node] = graph.node_copy(node, values.__getitem__)
    return torch.fx.GraphModule(plan.graph, graph), list(inputs)


class StackedModels:
    """K copies of one model, their parameters stacked along a new first dimension."""

    def __init__(self, plan: BatchPlan, models: Sequence[nn.Module]) -> None:
        self.count = len(models)
        self.program, names = _stacked_program(plan)
        self.parameters: dict[str, torch.Tensor] = {}
        for name in names:
            tensors = [m.get_parameter(name) for m in models]
            self.parameters[name] = torch.stack([t.detach() for t in tensors]).requires_grad_()
        self._inputs = list(self.parameters.values())

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """[N, F] (shared by every copy) or [K, N, F] -> [K, N, out]."""
        if X.dim() == 2:
            X = X.expand(self.count, *X.shape)
        return self.program(X, *self._inputs)

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Copy ``k``'s weights, as its own model's state_dict."""
        return {name: tensor[k].detach().clone() for name, tensor in self.parameters.items()}

    def load(self, k: int, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, tensor in state.items():
                self.parameters[name][k] = tensor


@dataclass
class BatchedTrainer:
    """The shared trainer's loop, run for K seeds at once.

    ``models`` were built from one factory under each seed in ``configs`` (same settings but
    for the seed). Each seed's history, divergence and kept weights follow the solo rules.
    """

    plan: BatchPlan
    models: Sequence[nn.Module]
    data: TensorSplit
    configs: Sequence[TrainConfig]
    on_progress: Callable[[int], None] | None = None
    should_stop: Callable[[], bool] | None = None  # asked after every epoch

    def fit(self) -> tuple[list[FitResult], StackedModels]:
        with torch_threads(self.configs[0].threads):
            return self._fit()

    def _fit(self) -> tuple[list[FitResult], StackedModels]:
        config = self.configs[0]
        data, task = self.data, self.data.task
        stacked = StackedModels(self.plan, self.models)
        seeds = range(stacked.count)
        loss_fn = task.loss_function()
        optimizer = build_optimizer(list(stacked.parameters.values()), config)
        orders = [batch_order(c, len(data.X_train), data.X_train.device) for c in self.configs]
        initial = self._log(stacked, loss_fn, 0)
        tracks = [RunTrack([row], stacked.state_dict(k)) for k, row in enumerate(initial)]
        interval, last = config.log_interval, config.epochs
        start = time.perf_counter()
        for epoch in range(1, last + 1):
            alive = [k for k in seeds if tracks[k].diverged_at is None]
            if not alive:
                break
            if orders[0] is None:
                steps = [(data.X_train, data.y_train.expand(stacked.count, -1))]
            else:  # each seed's own batch order, as its solo run draws it
                batches = [order.next_epoch() for order in orders]
                steps = (
                    (data.X_train[rows], data.y_train[rows])
                    for rows in (torch.stack(per_seed) for per_seed in zip(*batches))
                )
            for X, targets in steps:
                losses = self._step(stacked, optimizer, loss_fn, X, targets, alive)
                for k in alive:
                    if not math.isfinite(losses[k]):
                        tracks[k].diverged_at = epoch  # the solo run stops here: no more steps
                alive = [k for k in alive if tracks[k].diverged_at is None]
            if self.on_progress is not None:
                self.on_progress(epoch)
            if epoch % interval == 0 or epoch == last:
                for k, row in enumerate(self._log(stacked, loss_fn, epoch)):
                    if tracks[k].diverged_at is None:
                        tracks[k].record(row, partial(stacked.state_dict, k))
            if self.should_stop is not None and self.should_stop() and epoch < last:
                seconds = (time.perf_counter() - start) / stacked.count
                return [seed.stopped(seconds, epoch) for seed in tracks], stacked
        seconds = (time.perf_counter() - start) / stacked.count
        for k in seeds:
            stacked.load(k, tracks[k].kept)
        return [seed.result(seconds, last) for seed in tracks], stacked

    def _step(
        self,
        stacked: StackedModels,
        optimizer: torch.optim.Optimizer,
        loss_fn: nn.Module,
        X: torch.Tensor,
        targets: Sequence[torch.Tensor],
        alive: list[int],
    ) -> list[float]:
        """One optimizer step for the seeds in ``alive``; every seed's loss before it."""
        task = self.data.task
        losses = stacked_loss(task.binary, loss_fn, task.logits(stacked(X)), targets)
        values = losses.detach().tolist()
        # Seeds that diverged, or whose loss is not finite now, take no step, as when solo.
        stepping = [k for k in alive if math.isfinite(values[k])]
        optimizer.zero_grad()
        if stepping:
            total = losses.sum() if len(stepping) == stacked.count else losses[stepping].sum()
            total.backward()
            optimizer.step()
        return values

    def _log(self, stacked: StackedModels, loss_fn: nn.Module, epoch: int) -> list[LogRow]:
        """Every seed's log row, with the numbers its solo evaluation gives."""
        data, task = self.data, self.data.task
        with torch.inference_mode():
            scores = []
            for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
                logits = task.logits(stacked(X))
                if task.binary and whole_vectors(logits):  # equal to the solo mean, bit for bit
                    targets = y.expand_as(logits)
                    losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
                    loss_values = losses.mean(1).tolist()
                else:  # cross-entropy reduces differently when batched: per seed
                    loss_values = torch.stack(
                        [loss_fn(seed_slice(logits, k), y) for k in range(stacked.count)]
                    ).tolist()
                correct = torch.eq(task.labels(logits), y).sum(1).tolist()
                scores.append([(loss, c / len(y) * 100) for loss, c in zip(loss_values, correct)])
        return [LogRow(epoch, train[0], train[1], test[0], test[1]) for train, test in zip(*scores)]
