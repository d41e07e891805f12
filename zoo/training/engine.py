"""How a training step runs: exact or fast kernels, eagerly or replayed as a CUDA graph.

*Exact* kernels give each stacked seed the rounding of its solo run (see
:mod:`zoo.batched.stacked_ops`); on the CPU they cost little. On CUDA, cuBLAS's batched
kernels round differently from the per-seed ones, so exactness there means one kernel per
seed per layer. The *fast* kernels are plain batched ones: every seed of a job in one launch
per layer, each seed's numbers within rounding of its solo run, not equal to them. On the
CPU, the fast path of a chain model is :mod:`zoo.batched.fast_chain` (rows-last layout,
members in cache-sized chunks, a hand-written backward).

*Graphs*: on CUDA a full-batch step (forward, loss, backward, optimizer step) on static
tensors is captured once as a CUDA graph and replayed every epoch, so no Python runs between
its kernels. A graph replays the kernels it captured, so it changes no number; it needs a
CUDA device, the same tensors every step (full batch) and an optimizer whose step can be
captured. Where one is missing, the step runs eagerly, and :class:`CapturedStep` says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

WARM_UP_STEPS = 3  # eager steps before capture: optimizer state and lazy inits exist by then


@dataclass(frozen=True)
class Engine:
    """What a trainer's step uses; ``eager_because`` is None where graphs are used."""

    exact: bool
    eager_because: str | None

    @property
    def graphs(self) -> bool:
        return self.eager_because is None


SCHEDULED = "an lr schedule changes the learning rate; a graph replays the one it captured"


def choose_engine(
    device: str, exact: bool | None, full_batch: bool, scheduled: bool = False
) -> Engine:
    """The engine for stacked seeds on ``device`` (a device type: cpu, cuda, mps).

    ``exact`` None is the default: exact on the CPU (and MPS), fast on CUDA. Graphs need
    CUDA, fast kernels (the exact ones probe and pick kernels as they go), full batch and a
    learning rate that stays as captured (no ``scheduled`` lr).
    """
    if exact is None:
        exact = device != "cuda"
    if device != "cuda":
        return Engine(exact, f"graphs need a CUDA device, not {device}")
    if exact:
        return Engine(exact, "exact kernels are chosen step by step, outside any graph")
    if not full_batch:
        return Engine(exact, "mini-batches change the step's tensors; graphs need the same ones")
    if scheduled:
        return Engine(exact, SCHEDULED)
    return Engine(exact, None)


def solo_engine(
    device: str, full_batch: bool, optimizer: torch.optim.Optimizer, scheduler: object = None
) -> Engine:
    """The engine of one model's run: its own kernels (exact by definition), as a graph
    where the device, the batches, the optimizer and its schedule allow."""
    engine = choose_engine(device, False, full_batch, scheduler is not None)
    if engine.graphs and not capturable(optimizer):
        return Engine(True, f"{type(optimizer).__name__}'s step cannot be captured as set up")
    return Engine(True, engine.eager_because)


def capturable(optimizer: torch.optim.Optimizer) -> bool:
    """Whether the optimizer's step can run inside a CUDA graph as it is configured:
    optimizers that count steps (Adam and its kin) must keep their count on the GPU."""
    return all(group.get("capturable", True) for group in optimizer.param_groups)


Capture = Callable[[Callable[[], torch.Tensor]], tuple[Callable[[], None], torch.Tensor]]


def cuda_graph(step: Callable[[], torch.Tensor]) -> tuple[Callable[[], None], torch.Tensor]:
    """Capture ``step`` as a CUDA graph: (replay, the step's output, rewritten by each replay).

    Capture records the kernels without running them.
    """
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        output = step()
    return graph.replay, output


class CapturedStep:
    """A step function run eagerly for a few warm-up calls, then captured and replayed.

    Every call is exactly one training step: the warm-up calls run it, the call that captures
    it (capture runs nothing) replays it once, and later calls replay it. If capture fails,
    the step runs eagerly from then on and :attr:`eager_because` says why.
    """

    def __init__(
        self,
        step: Callable[[], torch.Tensor],
        engine: Engine,
        *,
        capture: Capture = cuda_graph,
        warm_up: int = WARM_UP_STEPS,
    ) -> None:
        self.step, self.capture, self.warm_up = step, capture, warm_up
        self.eager_because = engine.eager_because
        self.calls = 0
        self._replay: Callable[[], None] | None = None
        self._output: torch.Tensor | None = None

    def __call__(self) -> torch.Tensor:
        self.calls += 1
        if self._replay is not None and self._output is not None:
            self._replay()
            return self._output
        if self.eager_because is not None or self.calls <= self.warm_up:
            return _warm(self.step) if self.eager_because is None else self.step()
        try:
            self._replay, self._output = self.capture(self.step)
        except Exception as exc:  # a kernel or an op that cannot be captured
            self.eager_because = f"capture failed: {type(exc).__name__}: {exc}".splitlines()[0]
            return self.step()
        self._replay()
        return self._output


def _warm(step: Callable[[], torch.Tensor]) -> torch.Tensor:
    """A warm-up step, on a side stream on CUDA as graph capture requires."""
    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return step()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        output = step()
    torch.cuda.current_stream().wait_stream(stream)
    return output
