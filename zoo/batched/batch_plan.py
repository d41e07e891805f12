"""Which models can train their seeds together: a torch.fx trace of Linear layers and
element-wise operations (see :mod:`zoo.batched`)."""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace

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


# Activations a chain (see :meth:`BatchPlan.chain`) may have between its Linear layers, by
# the name the hand-written stacked formulations know them by.
CHAIN_ACTIVATIONS: dict[object, str] = {
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    torch.relu: "relu",
    F.relu: "relu",
    "relu": "relu",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    "tanh": "tanh",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    "sigmoid": "sigmoid",
}


@dataclass(frozen=True)
class ChainLayer:
    """One Linear layer of a chain, and the activation after it (None: the next layer, or
    the output, takes its result as it is)."""

    name: str  # the Linear's module path
    inputs: int
    outputs: int
    bias: bool
    activation: str | None


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

    def chain(self) -> tuple[ChainLayer, ...] | None:
        """The layers when the model is a plain chain: Linear, at most one activation from
        :data:`CHAIN_ACTIVATIONS`, Linear, ..., ending in a Linear; else None."""
        layers: list[ChainLayer] = []
        previous: torch.fx.Node | None = None
        for node in self.graph.graph.nodes:
            if node.op == "placeholder":
                previous = node
                continue
            if node.op == "output":
                return tuple(layers) if node.args[0] is previous and layers else None
            if node.args[:1] != (previous,) or len(node.users) != 1:
                return None  # a branch, a second input or a constant in the arithmetic
            kind = self._node_kind(node)
            if isinstance(kind, nn.Linear):
                bias = kind.bias is not None
                layer = ChainLayer(
                    str(node.target), kind.in_features, kind.out_features, bias, None
                )
                if any(other.name == layer.name for other in layers):
                    return None  # one Linear used twice: its weights are shared
                layers.append(layer)
            elif kind == "identity":
                pass
            elif isinstance(kind, str) and layers and layers[-1].activation is None:
                layers[-1] = replace(layers[-1], activation=kind)
            else:
                return None
            previous = node
        return None

    def _node_kind(self, node: torch.fx.Node) -> object:
        """A Linear module, an activation's name from CHAIN_ACTIVATIONS, 'identity', or None."""
        if node.op == "call_module":
            module = self.graph.get_submodule(str(node.target))
            if isinstance(module, nn.Linear):
                return module
            if isinstance(module, nn.Identity):
                return "identity"
            return CHAIN_ACTIVATIONS.get(type(module))
        if node.op in ("call_function", "call_method") and len(node.args) == 1:
            return CHAIN_ACTIVATIONS.get(node.target)
        return None


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
