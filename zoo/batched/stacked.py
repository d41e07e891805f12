"""K copies of one model with their weights stacked, run as one straight-line program, with
the exact kernels of :mod:`zoo.batched.stacked_ops` or the fast ones below.

The fast kernels: every seed of a stack goes through each layer in one kernel launch, and its
loss comes from one whole-tensor reduction, so a step costs a handful of launches however many
seeds there are; autograd differentiates it. The seeds stay independent (no number of one seed
enters another's), but a batched kernel may sum in another order than a seed's solo run does,
so each seed's numbers are within rounding of its solo run, not equal to them. This is the
default on CUDA, where the exact kernels would mean one launch per seed per layer (see
:mod:`zoo.training.engine`). On the CPU, ``exact=False`` runs a model that is a plain chain
of Linear layers and activations with :mod:`zoo.batched.fast_chain` instead, a formulation
built for the CPU's caches; other models use the fast kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.fx
from torch import nn
from torch.nn import functional as F

from zoo.batched.batch_plan import BatchPlan
from zoo.batched.stacked_ops import stacked_linear

Linear = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def _stacked_program(plan: BatchPlan, linear: Linear) -> tuple[torch.fx.GraphModule, list[str]]:
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
                linear,
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
    """K copies of one model, their parameters stacked along a new first dimension.

    ``linear`` computes the stacked Linear layers: the exact kernels by default, or
    :func:`fast_linear`.
    """

    def __init__(
        self, plan: BatchPlan, models: Sequence[nn.Module], linear: Linear = stacked_linear
    ) -> None:
        self.count = len(models)
        self.program, names = _stacked_program(plan, linear)
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
