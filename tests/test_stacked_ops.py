"""The exact stacked operations of models that are not plain chains (zoo/batched/stacked_ops.py):
the per-seed reference the probe compares against, and seeds of such a model against their
solo runs. The probe's cost against the seed count is measured by benchmarks/probe_growth.py.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import zoo
from zoo.batched import stacked_ops


def _leaves(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Fresh leaves with the same numbers; an input shared by every seed stays shared."""
    return [t.detach().clone().requires_grad_() if t.requires_grad else t for t in tensors]


def _through_the_stack(x, weight, bias, gradient):
    """The probe's former reference: autograd through torch.stack of each seed's nn.Linear."""
    leaves = _leaves(x, weight, bias)
    seeds = range(len(weight))
    out = torch.stack([F.linear(*(stacked_ops.seed_slice(t, k) for t in leaves)) for k in seeds])
    out.backward(gradient)
    return [out.detach()] + [leaf.grad for leaf in leaves if leaf.grad is not None]


@pytest.mark.parametrize(
    ("rows", "inputs", "outputs", "shared"),
    [(800, 2, 10, True), (800, 10, 10, False), (200, 10, 1, False), (30, 5, 3, False)],
)
def test_each_seed_differentiated_on_its_own_has_autograds_numbers_through_the_stack(
    rows, inputs, outputs, shared
):
    generator = torch.Generator().manual_seed(3)
    seeds = 7
    if shared:  # one input for every seed, as a first layer sees it
        x = torch.randn(rows, inputs, generator=generator).expand(seeds, rows, inputs)
    else:
        x = torch.randn(seeds, rows, inputs, generator=generator).requires_grad_()
    weight = torch.randn(seeds, outputs, inputs, generator=generator).requires_grad_()
    bias = torch.randn(seeds, outputs, generator=generator).requires_grad_()
    gradient = torch.randn(seeds, rows, outputs, generator=generator)
    leaves = _leaves(x, weight, bias)
    out = stacked_ops._per_seed(*leaves)
    out.backward(gradient)
    found = [out.detach()] + [leaf.grad for leaf in leaves if leaf.grad is not None]
    expected = _through_the_stack(x, weight, bias, gradient)
    assert len(found) == len(expected) == (3 if shared else 4)  # the output and the gradients
    assert all(torch.equal(a, b) for a, b in zip(found, expected))


def test_seeds_of_a_tanh_model_keep_their_solo_weights_to_the_bit(plugins_in_process, tmp_path):
    plugins_in_process("tanh")
    settings = {"epochs": 20, "dataset": "circles"}
    comparison = zoo.compare(["tanh-mlp"], seed_list=[3, 11], workers=1, **settings)
    result = comparison.job_results[0]
    assert result.batched  # the stacked program (tanh is no chain the exact formulation takes)
    for seed, state in zip([3, 11], result.states):
        zoo.train("tanh-mlp", seed=seed, out=tmp_path / str(seed), plot=False, **settings)
        solo = torch.load(tmp_path / str(seed) / "weights.pt", weights_only=True)
        assert all(torch.equal(solo[name], state[name]) for name in solo), seed
