"""Training several seeds of one model at once, each exactly as its own solo run would.

A 2 -> 10 -> 10 -> 1 step on 800 points costs far more in Python and dispatch than in
arithmetic, so K seeds trained one after another pay that overhead K times. Here the K copies'
weights are stacked ([K, out, in]) and every step runs once for all of them.

Which models: those that ``torch.fx`` traces to a graph of ``nn.Linear`` layers, element-wise
activations and element-wise arithmetic, with no buffers (no batch norm) and no randomness
(no dropout). :func:`batch_plan` says whether a model qualifies; others train one seed at a
time with the ordinary trainer.

Exactness: each stacked layer calls the kernel the solo run calls on the same memory layout
(``baddbmm`` splits into one ``addmm`` per seed; a one-output layer, which PyTorch runs as a
matrix-vector product, and the loss are computed per seed), so on the CPU each seed's weights
match its solo run bit for bit for the lesson's models. Elsewhere, expect float tolerance.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
from torch import nn
from torch.nn import functional as F

from zoo.config import TrainConfig
from zoo.trainer import (
    FitResult,
    LogRow,
    TensorSplit,
    batch_order,
    build_optimizer,
    torch_threads,
)

# Modules and functions that act element by element: applied to [K, N, H] they give each
# seed exactly what they give it alone.
ELEMENTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish, nn.Softplus,
    nn.Softsign, nn.Tanhshrink, nn.Identity,
)
ELEMENTWISE_FUNCTIONS = {
    torch.relu, torch.tanh, torch.sigmoid, torch.exp, torch.sin, torch.cos, torch.abs,
    torch.add, torch.sub, torch.mul, torch.neg,
    F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish,
    F.hardtanh, F.hardsigmoid, F.hardswish, F.softplus, F.softsign, F.tanh, F.sigmoid,
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg,
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
        names = {"ReLU": "relu", "relu": "relu", "Tanh": "tanh", "tanh": "tanh",
                 "Sigmoid": "logistic", "sigmoid": "logistic"}
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


# Whether a batched kernel gives, for these shapes and layouts, exactly what the per-seed
# kernels of nn.Linear give. BLAS libraries switch algorithms with the matrix sizes, so this is
# probed once per shape on random numbers instead of assumed.
_AGREES: dict[tuple[Any, ...], bool] = {}


def _exactly(
    name: str,
    batched: Callable[..., torch.Tensor],
    per_seed: Callable[..., torch.Tensor],
    *tensors: torch.Tensor,
) -> torch.Tensor:
    """``batched(*tensors)`` where it matches ``per_seed(*tensors)`` bit for bit, else the latter."""
    key = (name, *((t.shape, t.stride(), t.dtype, t.device.type, _alignment(t)) for t in tensors))
    if key not in _AGREES:
        probes = [_random_like(t) for t in tensors]
        _AGREES[key] = torch.equal(batched(*probes), per_seed(*probes))
    return (batched if _AGREES[key] else per_seed)(*tensors)


def _alignment(tensor: torch.Tensor) -> int:
    """The data's offset from a 64-byte boundary: BLAS kernels treat unaligned starts apart."""
    return tensor.data_ptr() % 64


def _random_like(tensor: torch.Tensor) -> torch.Tensor:
    """Random numbers in ``tensor``'s shape, layout and alignment; the global RNG is untouched."""
    generator = torch.Generator(device=tensor.device).manual_seed(0)
    extent = 1 + sum((size - 1) * step for size, step in zip(tensor.shape, tensor.stride()))
    padding = 64 // tensor.element_size()
    storage = torch.randn(
        extent + padding, generator=generator, dtype=tensor.dtype, device=tensor.device
    )
    shift = (_alignment(tensor) - _alignment(storage)) % 64 // tensor.element_size()
    return storage.as_strided(tensor.shape, tensor.stride(), shift)


def _forward_batched(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    seeds, rows, outputs = x.shape[0], x.shape[1], weight.shape[1]
    if x.stride(0) == 0:  # one input for all seeds: their weights side by side, one addmm
        joined = weight.reshape(seeds * outputs, -1).t()
        out = torch.addmm(bias.reshape(-1), x[0], joined)
        return out.view(rows, seeds, outputs).transpose(0, 1).contiguous()
    if outputs == 1:  # W[k] @ x[k].T: the matrix-vector form PyTorch uses for one output
        start = bias.unsqueeze(2).expand(seeds, 1, rows)
        return torch.baddbmm(start, weight, x.transpose(1, 2)).transpose(1, 2)
    start = bias.unsqueeze(1).expand(seeds, rows, outputs)
    return torch.baddbmm(start, x, weight.transpose(1, 2))


def _whole_vectors(logits: torch.Tensor) -> bool:
    """Whether each seed's rows fill whole 64-byte SIMD vectors.

    Element-wise kernels (sigmoid, log) round the leftover elements of a tensor on a scalar
    path; when a seed's rows end mid-vector, batched and solo runs round them differently.
    """
    return logits.shape[1] * logits.element_size() % 64 == 0


def _seed(tensor: torch.Tensor, k: int) -> torch.Tensor:
    """Seed ``k``'s slice, 64-byte aligned like the fresh tensors of its solo run."""
    part = tensor[k]
    return part if _alignment(part) == 0 else part.clone()


def _forward_per_seed(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.stack([
        F.linear(_seed(x, k), _seed(weight, k), _seed(bias, k)) for k in range(len(weight))
    ])


class _StackedLinear(torch.autograd.Function):
    """``x[k] @ W[k].T + b[k]`` for every seed k, computed as ``nn.Linear`` computes it.

    The backward mirrors ``nn.Linear``'s: grad_x = g @ W, grad_W = g.T @ x, grad_b = g.sum(0),
    per seed; each batched kernel is used only where it reproduces the per-seed one.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        if bias is None:
            bias = torch.zeros(weight.shape[:2], dtype=weight.dtype, device=weight.device)
        return _exactly("forward", _forward_batched, _forward_per_seed, x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        seeds = range(len(weight))
        grad_x = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _exactly(
                "grad_x", torch.bmm,
                lambda g, w: torch.stack([_seed(g, k).mm(_seed(w, k)) for k in seeds]),
                grad, weight,
            )
        grad_weight = _exactly(
            "grad_weight", lambda g, v: torch.bmm(g.transpose(1, 2), v),
            lambda g, v: torch.stack([_seed(g, k).t().mm(_seed(v, k)) for k in seeds]),
            grad, x,
        )
        if ctx.has_bias:
            grad_bias = _exactly(
                "grad_bias", lambda g: g.sum(1),
                lambda g: torch.stack([_seed(g, k).sum(0) for k in seeds]), grad,
            )
        return grad_x, grad_weight, grad_bias


class _StackedBinaryLoss(torch.autograd.Function):
    """Each seed's ``BCEWithLogitsLoss`` (mean) of logits [K, N], with the solo gradient."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = targets.expand_as(logits)
        ctx.save_for_backward(logits, targets)
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(1)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        logits, targets = ctx.saved_tensors
        # PyTorch's own formula: (sigmoid(x) - y) * grad, then divided by the row count.
        return (logits.sigmoid() - targets).mul_(grad.unsqueeze(1)).div_(logits.shape[1]), None


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
        rows = log_probabilities.shape[1]
        # nll_loss's gradient, -grad / rows at each target, then log_softmax's backward.
        grad_nll = torch.zeros_like(log_probabilities)
        grad_nll.scatter_(-1, targets, (-(grad / rows)).view(-1, 1, 1).expand_as(targets))
        grad_logits = torch.ops.aten._log_softmax_backward_data(
            grad_nll, log_probabilities, -1, log_probabilities.dtype
        )
        return grad_logits, None


def stacked_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    return _StackedLinear.apply(x, weight, bias)


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
        elif node.op == "call_module" and isinstance(plan.graph.get_submodule(node.target), nn.Linear):
            values[node] = graph.call_function(
                stacked_linear,
                (values[node.args[0]], inputs[f"{node.target}.weight"], inputs.get(f"{node.target}.bias")),
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
        histories = [[row] for row in self._log(stacked, loss_fn, 0)]
        kept = [stacked.state_dict(k) for k in seeds]
        kept_epoch = [0] * stacked.count
        diverged_at: list[int | None] = [None] * stacked.count
        interval, last = config.log_interval, config.epochs
        start = time.perf_counter()
        for epoch in range(1, last + 1):
            alive = [k for k in seeds if diverged_at[k] is None]
            if not alive:
                break
            if orders[0] is None:
                steps = [(data.X_train, data.y_train.expand(stacked.count, -1))]
            else:  # each seed's own batch order, as its solo run draws it
                batches = [next(order) for order in orders]
                steps = (
                    (data.X_train[rows], data.y_train[rows])
                    for rows in (torch.stack(per_seed) for per_seed in zip(*batches))
                )
            for X, targets in steps:
                losses = self._step(stacked, optimizer, loss_fn, X, targets, alive)
                for k in alive:
                    if not math.isfinite(losses[k]):
                        diverged_at[k] = epoch  # the solo run stops here: no more steps
                alive = [k for k in alive if diverged_at[k] is None]
            if self.on_progress is not None:
                self.on_progress(epoch)
            if epoch % interval == 0 or epoch == last:
                for k, row in enumerate(self._log(stacked, loss_fn, epoch)):
                    if diverged_at[k] is not None:
                        continue
                    if row.finite():
                        histories[k].append(row)
                        kept[k], kept_epoch[k] = stacked.state_dict(k), epoch
                    else:
                        diverged_at[k] = epoch
        seconds = (time.perf_counter() - start) / stacked.count
        results = []
        for k in seeds:
            stacked.load(k, kept[k])
            epochs = kept_epoch[k] if diverged_at[k] is not None else last
            results.append(FitResult(histories[k], seconds, epochs, diverged_at[k], kept_epoch[k]))
        return results, stacked

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
        logits = task.logits(stacked(X))
        if not _whole_vectors(logits):
            losses = torch.stack([
                loss_fn(_seed(logits, k), targets[k]) for k in range(stacked.count)
            ])
        elif task.binary:
            losses = _StackedBinaryLoss.apply(logits, targets)
        else:
            losses = _StackedCrossEntropy.apply(logits, targets)
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
                if task.binary and _whole_vectors(logits):  # equal to the solo mean, bit for bit
                    targets = y.expand_as(logits)
                    losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
                    loss_values = losses.mean(1).tolist()
                else:  # cross-entropy reduces differently when batched: per seed
                    loss_values = torch.stack([
                        loss_fn(_seed(logits, k), y) for k in range(stacked.count)
                    ]).tolist()
                correct = torch.eq(task.labels(logits), y).sum(1).tolist()
                scores.append([(loss, c / len(y) * 100) for loss, c in zip(loss_values, correct)])
        return [
            LogRow(epoch, train[0], train[1], test[0], test[1])
            for train, test in zip(*scores)
        ]
