"""Which models can train their seeds together: a torch.fx trace of Linear layers and
element-wise operations (see :mod:`zoo.batched`)."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.nn import functional as F

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
        kind = kinds.pop() if kinds else "identity"
        return sizes[:-1], kind or "identity"


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
