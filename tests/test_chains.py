"""The hand-written formulations of chain models on the CPU: which models take them; the fast
one (``exact=False``) stays within float32 rounding of the exact path; the exact one gives
every member its solo numbers, also when each member reads its own rows. (That compared seeds
equal their solo runs is specified by tests/test_compare.py and tests/test_sweep.py.)

Speed is measured by benchmarks/scaling.py, not here.
"""

from __future__ import annotations

import statistics

import pytest
import torch
from torch import nn
from zoo_plugins.circle_models import CircleModelV2

import zoo
from zoo.batched.batch_plan import ChainLayer, batch_plan
from zoo.batched.batched_trainer import BatchedTrainer
from zoo.batched.exact_chain import ExactChain
from zoo.batched.fast_chain import FastChain
from zoo.batched.stacked import StackedModels
from zoo.batched.stacked_optim import StackedSGD
from zoo.training.devices import torch_threads


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.Linear(2, 4), nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.first(x))
        return self.second(hidden) + hidden


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(torch.tanh(self.layer(x)))


def test_a_chain_of_linear_layers_and_activations_is_recognised_with_its_shapes():
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Identity(), nn.Linear(8, 3, bias=False))
    assert batch_plan(model).chain() == (
        ChainLayer("0", 2, 8, True, "tanh"),
        ChainLayer("3", 8, 3, False, None),
    )


@pytest.mark.parametrize(
    "model",
    [
        Residual(),  # a branch
        Shared(),  # one layer used twice
        nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.ReLU(), nn.Linear(2, 1)),  # two activations
        nn.Sequential(nn.Linear(2, 2), nn.GELU(), nn.Linear(2, 1)),  # an activation it lacks
    ],
    ids=["branch", "shared-layer", "two-activations", "gelu"],
)
def test_a_model_that_is_not_a_plain_chain_is_not_taken_for_one(model):
    plan = batch_plan(model)
    assert plan is not None and plan.chain() is None


def _trainer(model: str, seeds: list[int], exact: bool, **settings) -> BatchedTrainer:
    job = zoo.compare([model], seed_list=seeds[:1], epochs=1, workers=1, **settings).job_results
    experiment = job[0].job.experiment
    configs = [job[0].job.config_for(seed) for seed in seeds]
    models = [experiment.build(seed) for seed in seeds]
    return BatchedTrainer(batch_plan(models[0]), models, experiment.data, configs, exact=exact)


def test_the_fast_cpu_path_of_a_chain_model_is_the_fast_chain_with_a_stacked_sgd():
    fast = _trainer("circle-v2", [1, 2], exact=False)
    assert isinstance(fast.stacked, FastChain) and isinstance(fast.optimizer, StackedSGD)
    assert isinstance(_trainer("circle-v2", [1, 2], exact=True).stacked, ExactChain)
    adam = _trainer("circle-v2", [1, 2], exact=False, optimizer="adam", lr=0.01)
    assert isinstance(adam.stacked, FastChain) and not isinstance(adam.optimizer, StackedSGD)


def test_a_tanh_chain_runs_fast_as_a_chain_and_exactly_as_the_stacked_program():
    job = zoo.compare(["circle-v2"], seed_list=[1], epochs=1, workers=1).job_results[0].job
    configs = [job.config_for(seed) for seed in (1, 2)]
    models = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        models.append(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)))
    plan, data = batch_plan(models[0]), job.experiment.data
    fast = BatchedTrainer(plan, models, data, configs, exact=False)
    exact = BatchedTrainer(plan, models, data, configs, exact=True)
    assert isinstance(fast.stacked, FastChain) and isinstance(exact.stacked, StackedModels)


@pytest.mark.parametrize(
    ("model", "settings"),
    [
        ("circle-v2", {}),
        ("circle-v0", {}),  # no activation
        ("blob-v0", {}),  # cross-entropy
        ("circle-v2", {"batch_size": 300}),  # mini-batches, each member its own order
        ("circle-v2", {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.001}),
    ],
)
def test_one_epoch_of_the_fast_chain_has_the_exact_paths_losses_within_1e_5(model, settings):
    seeds = list(range(1, 13))
    fast, exact = (
        zoo.compare([model], seed_list=seeds, epochs=1, workers=1, exact=flag, **settings)
        for flag in (False, True)
    )
    for a, b in zip(fast.results, exact.results):
        for key in ("train_loss", "test_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=0), (a["seed"], key)
    for a, b in zip(fast.job_results[0].states, exact.job_results[0].states):
        for name in b:
            assert torch.allclose(a[name], b[name], rtol=1e-5, atol=1e-6), name


def test_every_member_of_the_fast_chain_may_read_its_own_rows():
    trainer = _trainer("circle-v2", [1, 2, 3], exact=False)
    data, stacked = trainer.data, trainer.stacked
    own = torch.stack([data.X_train, data.X_train.flip(0), data.X_train * 0.5])
    together = stacked(own)
    for k in range(3):
        alone = stacked(own[k])[k]  # member k on its rows, as the only input
        assert torch.allclose(together[k], alone, rtol=1e-6, atol=1e-6)
    assert not torch.allclose(together[0], together[1])


def test_a_fast_sweep_steps_each_member_with_its_own_lr_momentum_and_weight_decay(tmp_path):
    grid = {"lr": [0.05, 0.2], "momentum": [0.0, 0.9], "weight_decay": [0.0, 0.01]}
    sweep = zoo.compare(["circle-v2"], seed_list=[5], epochs=50, workers=1, exact=False, grid=grid)
    assert len(sweep.job_results) == 8  # one stack, eight members
    for result in sweep.job_results:
        solo = tmp_path / "-".join(map(str, result.job.point.values()))
        zoo.train("circle-v2", seed=5, epochs=50, out=solo, plot=False, **result.job.point)
        alone = torch.load(solo / "weights.pt", weights_only=True)
        for name, tensor in alone.items():
            assert torch.allclose(result.states[0][name], tensor, rtol=1e-4, atol=1e-5), name


@pytest.mark.slow
def test_a_hundred_fast_seeds_have_the_exact_paths_mean_test_accuracy_within_a_tenth():
    seeds = list(range(100))
    fast = zoo.compare(["circle-v2"], seed_list=seeds, workers=1, exact=False)
    exact = zoo.compare(["circle-v2"], seed_list=seeds, workers=1, exact=True)
    means = [statistics.fmean(r["test_acc"] for r in c.results) for c in (fast, exact)]
    assert abs(means[0] - means[1]) <= 0.1, means


def _assert_solo_gradients(stacked: ExactChain, X: torch.Tensor, targets: torch.Tensor) -> None:
    """Each member's loss and gradients equal its own model's, differentiated by autograd."""
    losses = stacked.gradients(X, targets, nn.BCEWithLogitsLoss(), binary=True)
    for k in range(stacked.count):
        model = CircleModelV2()
        model.load_state_dict(stacked.state_dict(k))
        rows = X[k] if X.dim() == 3 else X
        loss = nn.BCEWithLogitsLoss()(model(rows.clone()).squeeze(1), targets[k].clone())
        loss.backward()
        assert torch.equal(losses[k], loss.detach())
        for name, parameter in model.named_parameters():
            assert torch.equal(stacked.parameters[name].grad[k], parameter.grad), (k, name)


def test_every_member_of_the_exact_chain_may_read_its_own_rows_and_gets_its_solo_numbers():
    trainer = _trainer("circle-v2", [1, 2, 3], exact=True)
    data, stacked = trainer.data, trainer.stacked
    assert isinstance(stacked, ExactChain)
    own = torch.stack([data.X_train, data.X_train.flip(0), data.X_train * 0.5])
    targets = torch.stack([data.y_train, data.y_train.flip(0), data.y_train])
    with torch_threads(1):
        _assert_solo_gradients(stacked, own, targets)


def test_the_exact_chain_chooses_its_kernels_again_for_another_thread_count():
    # A product split over two threads sums in another order: a kernel chosen on one thread
    # must not be kept for two (a notebook may train with threads=1, then threads=2).
    trainer = _trainer("circle-v2", [1, 2, 3], exact=True)
    data, stacked = trainer.data, trainer.stacked
    targets = data.y_train.expand(3, -1)
    for threads in (1, 2, 1):
        with torch_threads(threads):
            _assert_solo_gradients(stacked, data.X_train, targets)
