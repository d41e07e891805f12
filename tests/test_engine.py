"""The training engine's CPU-side logic: which kernels, when graphs, and the fast formulation.

The CUDA paths themselves (graph capture, fast kernels on a GPU) need a GPU: see
benchmarks/gpu_check.py. What is decided and computed on the CPU is specified here.
"""

from __future__ import annotations

import json

import pytest
import torch

import zoo
from zoo.batched.batch_plan import batch_plan
from zoo.batched.batched_trainer import BatchedTrainer
from zoo.comparison.execute import JobResult
from zoo.training.engine import SCHEDULED, CapturedStep, Engine, choose_engine, solo_engine
from zoo.training.experiment import prepare
from zoo.training.trainer import Trainer


@pytest.mark.parametrize(
    ("device", "exact", "full_batch", "expected_exact", "graphs"),
    [
        ("cpu", None, True, True, False),  # the CPU: exact, as always
        ("mps", None, True, True, False),
        ("cuda", None, True, False, True),  # CUDA: fast kernels, one graph per step
        ("cuda", None, False, False, False),  # mini-batches change the step's tensors
        ("cuda", True, True, True, False),  # exact on CUDA: probed kernels, no graph
        ("cpu", False, True, False, False),  # fast on the CPU, when asked for
    ],
)
def test_the_default_is_exact_on_the_cpu_and_fast_on_cuda(
    device, exact, full_batch, expected_exact, graphs
):
    engine = choose_engine(device, exact, full_batch)
    assert engine.exact is expected_exact and engine.graphs is graphs
    assert (engine.eager_because is None) is graphs


def test_a_solo_run_uses_graphs_where_device_batches_and_optimizer_allow():
    weights = [torch.zeros(3, requires_grad=True)]
    sgd = torch.optim.SGD(weights, lr=0.1, momentum=0.9)
    adam = torch.optim.Adam(weights, lr=0.1)
    assert solo_engine("cuda", True, sgd) == Engine(True, None)
    assert solo_engine("cuda", True, adam).eager_because == (
        "Adam's step cannot be captured as set up"
    )
    assert solo_engine("cuda", False, sgd).eager_because.startswith("mini-batches")
    assert solo_engine("cpu", True, sgd).eager_because == "graphs need a CUDA device, not cpu"


class Counting:
    """A training step that counts its runs and returns the count as a tensor."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> torch.Tensor:
        self.runs += 1
        return torch.tensor(float(self.runs))


def recording_capture(step):
    """Capture as CUDA does it, on the CPU: nothing runs now; each replay runs the step and
    rewrites one static output tensor."""
    output = torch.zeros(())

    def replay() -> None:
        output.copy_(step())

    return replay, output


def test_a_captured_step_is_warmed_up_captured_once_then_replayed_one_step_per_call():
    step, captures = Counting(), []

    def capture(function):
        captures.append(function)
        return recording_capture(function)

    captured = CapturedStep(step, Engine(False, None), capture=capture, warm_up=3)
    outputs = [captured() for _ in range(6)]
    assert step.runs == 6 and len(captures) == 1  # no step lost or run twice
    assert [float(o) for o in outputs[:3]] == [1.0, 2.0, 3.0]
    assert outputs[3] is outputs[4] is outputs[5]  # the graph's static output
    assert float(outputs[5]) == 6.0 and captured.eager_because is None


def test_a_step_that_cannot_be_captured_runs_eagerly_and_says_why():
    step = Counting()

    def capture(function):
        raise RuntimeError("operation not permitted when stream is capturing\nmore")

    captured = CapturedStep(step, Engine(False, None), capture=capture, warm_up=2)
    assert [float(captured()) for _ in range(5)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert captured.eager_because == (
        "capture failed: RuntimeError: operation not permitted when stream is capturing"
    )


def test_an_engine_without_graphs_never_captures():
    step = Counting()

    def capture(function):
        raise AssertionError("no capture without graphs")

    captured = CapturedStep(step, choose_engine("cpu", None, True), capture=capture)
    assert [float(captured()) for _ in range(4)] == [1.0, 2.0, 3.0, 4.0]


def _weights(result: JobResult) -> list[torch.Tensor]:
    return [torch.cat([t.flatten() for t in state.values()]) for state in result.states]


@pytest.mark.parametrize(
    ("model", "settings"),
    [
        ("circle-v2", {"epochs": 60}),
        ("blob-v0", {"epochs": 30}),  # cross-entropy
        ("circle-v2", {"epochs": 10, "batch_size": 300}),
    ],
)
def test_the_fast_kernels_on_the_cpu_stay_within_rounding_of_the_exact_ones(model, settings):
    seeds = [1, 2, 3, 4, 5]
    fast = zoo.compare([model], seed_list=seeds, workers=1, exact=False, **settings)
    exact = zoo.compare([model], seed_list=seeds, workers=1, exact=True, **settings)
    for a, b in zip(_weights(fast.job_results[0]), _weights(exact.job_results[0])):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(fast.results, exact.results):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4, abs=1e-6)


def test_the_fast_engine_is_what_the_trainer_runs_when_asked_for():
    result = zoo.compare(["circle-v2"], seed_list=[1], epochs=1, workers=1).job_results[0]
    experiment, configs = result.job.experiment, [result.job.config_for(s) for s in (1, 2)]
    models = [experiment.build(seed) for seed in (1, 2)]
    plan = batch_plan(models[0])
    fast = BatchedTrainer(plan, models, experiment.data, configs, exact=False)
    assert fast.engine == Engine(False, "graphs need a CUDA device, not cpu")
    assert BatchedTrainer(plan, models, experiment.data, configs).engine.exact


def test_a_member_that_diverges_on_the_fast_engine_diverges_alone():
    comparison = zoo.compare(
        ["circle-v2"], seeds=3, epochs=40, exact=False, workers=1, grid={"lr": [0.1, 1e30]}
    )
    rows = {row["lr"]: row for row in comparison.summary}
    assert rows[1e30]["diverged"] == 3 and rows[0.1]["diverged"] == 0
    assert all(torch.isfinite(w).all() for r in comparison.job_results for w in _weights(r))


def test_the_choice_of_kernels_is_kept_for_resume(tmp_path):
    zoo.compare(["circle-v0"], seeds=2, epochs=5, exact=False, out=tmp_path / "kept")
    assert json.loads((tmp_path / "kept" / "compare.json").read_text())["exact"] is False
    with pytest.raises(zoo.errors.ConfigError, match="exact: must be True, False or None"):
        zoo.compare(["circle-v0"], seeds=2, exact="yes")


def test_an_lr_schedule_keeps_the_step_eager_a_graph_would_replay_the_captured_rate():
    weights = [torch.zeros(3, requires_grad=True)]
    sgd = torch.optim.SGD(weights, lr=0.1, momentum=0.9)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=10)
    assert solo_engine("cuda", True, sgd, cosine).eager_because == SCHEDULED
    assert choose_engine("cuda", False, True, scheduled=True).eager_because == SCHEDULED


def test_a_replayed_full_batch_step_gives_each_epochs_numbers_as_the_eager_one():
    # On the CPU a "graph" that runs the step at each replay: what CUDA's replay computes.
    def replaying(step):
        output = torch.zeros(2)  # the step's (loss, labels right)
        return (lambda: output.copy_(step())), output

    experiment = prepare("circle-v2", overrides={"epochs": 30, "val_size": 0.2, "early_stop": 50})
    eager = Trainer(experiment.build(42), experiment.data, experiment.config).fit()
    trainer = Trainer(experiment.build(42), experiment.data, experiment.config)
    trainer.engine = Engine(True, None)
    trainer.captured = CapturedStep(trainer._whole_step, trainer.engine, capture=replaying)
    replayed = trainer.fit()
    assert trainer.captured.calls == 30
    assert replayed.steps == eager.steps and replayed.final == eager.final
