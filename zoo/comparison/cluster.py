"""A comparison's chunks as Ray tasks: on a cluster, or on a Ray started for the run.

Each chunk (some seeds of a stack of jobs, batched as in a local run) is one task,
``num_cpus=1``, plus a share of a GPU when its jobs train on CUDA, so several chunks share one
card. A task whose worker dies is run again by Ray (``max_retries``); training is
deterministic, so the retry gives the same numbers. The driver gathers the chunks as they
finish (``ray.wait``) and hands each to ``keep``, which writes the ``--out`` part at once.

The cluster: ``--cluster-address``, else ``RAY_ADDRESS``, else a local Ray started for the
run and stopped after it. A connection the caller opened (``ray.init`` in a notebook) is used
as it is. Ray is imported only here, and only when asked for.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from zoo.comparison.execute import Chunk, JobResult, Stopped, run_chunk
from zoo.comparison.plan import Job
from zoo.comparison.workers import pack, unpack
from zoo.errors import ClusterError, ConfigError, ZooError, describe_exception
from zoo.training.records import Progress

EXTRA = "pip install 'torch-zoo[ray]'"
GPU_SHARE = 0.25  # of one GPU per chunk: four chunks share a card
RETRIES = 3  # runs of a task whose worker died, after the first
CLUSTERS = ("ray",)
ANSWER = 3.0  # seconds a Ray head has to answer zoo's question
HEARTBEAT = 1.0  # seconds between questions to the head while a comparison runs
GCS_QUESTION = "/ray.rpc.NodeInfoGcsService/GetClusterId"
CLIENT_QUESTION = "/ray.rpc.RayletDriver/ClusterInfo"
_NOT_AN_ANSWER = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "UNKNOWN", "INTERNAL"}
_WHY = {  # what a gRPC status says about the server that gave it
    "DEADLINE_EXCEEDED": "no answer within {time:g} seconds",
    "UNAVAILABLE": "no gRPC server answers there, as a Ray head would",
    "UNIMPLEMENTED": "a gRPC server, but not Ray's",
}


def check_cluster(cluster: str | None, address: str | None) -> None:
    """A cluster zoo knows, an address only with one, Ray installed and the address
    answering: checked before any work, so that a mistake costs a second."""
    if cluster is not None and cluster not in CLUSTERS:
        raise ConfigError(f"cluster: {cluster!r} is not one zoo runs on; use 'ray'")
    if address is not None and cluster is None:
        raise ConfigError("a cluster address needs the cluster: --cluster ray (cluster='ray')")
    if cluster is None:
        return
    target = address or os.environ.get("RAY_ADDRESS") or "local"
    if import_ray().is_initialized() or target in ("local", "auto"):
        return
    check_reachable(target)


@dataclass(frozen=True)
class Connection:
    ray: ModuleType
    ours: bool  # opened for this comparison, and closed after it (ending its tasks)
    address: str  # the head (as named), asked every HEARTBEAT seconds whether it still answers


class HeadLost(ClusterError):
    """The Ray head stopped answering in the middle of a comparison."""


@contextmanager
def connected(address: str | None) -> Iterator[Connection]:
    """Ray, connected to the cluster at ``address``, ``RAY_ADDRESS`` or a new local one."""
    ray = import_ray()
    if ray.is_initialized():  # the caller's own connection: use it, leave it open
        yield Connection(ray, False, ray.get_runtime_context().gcs_address)
        return
    target = address or os.environ.get("RAY_ADDRESS") or "local"
    if target not in ("local", "auto"):
        check_reachable(target)
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING"}
    if target == "local":
        options["include_dashboard"] = False
    paths = _paths_for_workers()
    if paths:  # workers see the PYTHONPATH of `ray start`, not ours: plugins in test folders
        options["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
    ray.init(address=target, **options)
    restore = _raylet_lines_to_stderr()
    try:
        named = target not in ("local", "auto")
        yield Connection(ray, True, target if named else ray.get_runtime_context().gcs_address)
    finally:
        restore()
        ray.shutdown()


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--cluster ray needs Ray, an optional extra: {EXTRA}") from None
    return ray


def check_reachable(address: str) -> None:
    """Fail within seconds, in one line, where nothing listens or something else than Ray
    answers: ray.init would wait for minutes, deaf to Ctrl-C. The checks wait in Python, so
    Ctrl-C stops them."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(
            f"cluster address {address!r}: write HOST:PORT, the head's GCS port "
            "(6379 unless 'ray start --head --port' said otherwise)"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=ANSWER).close()
    except OSError as exc:
        raise ClusterError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "'ray start --head', or point --cluster-address (or RAY_ADDRESS) at its head"
        ) from None
    problem = ray_problem(address)
    if problem is not None:
        raise ClusterError(
            f"{address} answers, but not as a Ray head ({problem}); point --cluster-address "
            "(or RAY_ADDRESS) at the head's GCS port (6379 unless 'ray start --head --port' "
            "said otherwise)"
        )


def ray_problem(address: str, timeout: float = ANSWER) -> str | None:
    """None if ``address`` answers a question only a Ray head (or a Ray client server, for
    ``ray://``) answers, within ``timeout`` seconds; else what went wrong."""
    import grpc  # Ray's own dependency

    client = address.startswith("ray://")
    method = CLIENT_QUESTION if client else GCS_QUESTION
    channel = grpc.insecure_channel(address.removeprefix("ray://"))
    try:
        channel.unary_unary(method).future(b"", timeout=timeout).result()
    except grpc.RpcError as exc:
        code = exc.code()  # a call's error is also its status
        if client and code.name not in _NOT_AN_ANSWER:
            return None  # the client server answered, if only to say the question is wrong
        return _WHY.get(code.name, "it answered {code}").format(code=code.name, time=timeout)
    finally:
        channel.close()
    return None


def chunks_per_stack(available: Mapping[str, float], devices: Collection[str]) -> int:
    """One chunk per CPU of the cluster, or per GPU for GPU work (at least one).

    ``available``: ``ray.cluster_resources()``; ``devices``: the jobs' device types.
    """
    if "cuda" in devices:
        if not available.get("GPU"):
            raise ClusterError("the Ray cluster has no GPU for CUDA work; use --device cpu")
        return max(1, int(available["GPU"]))
    return max(1, int(available.get("CPU", 1)))


def resources(device_type: str) -> dict[str, float]:
    """What one chunk asks Ray for: a CPU, and a share of a GPU for CUDA work."""
    if device_type == "cuda":
        return {"num_cpus": 1, "num_gpus": GPU_SHARE}
    return {"num_cpus": 1}


def run_on_ray(
    connection: Connection,
    jobs: Sequence[Job],
    chunks: Sequence[Chunk],
    keep: Callable[[int, JobResult], None],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Train ``chunks`` as Ray tasks; ``keep`` receives each result as its chunk finishes.

    A stop request ends the tasks still running: their chunks are lost, the rest kept.
    """
    ray = connection.ray
    task = ray.remote(max_retries=RETRIES)(train_chunk)
    stored: dict[int, Any] = {}  # each job goes to the object store once
    pending: dict[Any, Chunk] = {}
    for chunk in chunks:
        indices = chunk.jobs()
        for index in indices:
            if index not in stored:
                stored[index] = ray.put(jobs[index])
        options = resources(jobs[indices[0]].experiment.device.type)
        ref = task.options(**options).remote(chunk, indices, *(stored[i] for i in indices))
        pending[ref] = chunk
    total, done = sum(c.units(jobs) for c in chunks), 0
    heartbeat = time.monotonic() + HEARTBEAT
    while pending:
        finished, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
        if should_stop is not None and should_stop():
            if not connection.ours:  # ray.shutdown ends our own connection's tasks
                _cancel(ray, pending)
            raise Stopped
        if not finished and time.monotonic() > heartbeat:  # Ray itself waits a minute, then
            _check_head(connection.address)  # ends the process with a line of its own
            heartbeat = time.monotonic() + HEARTBEAT
        for ref in finished:
            chunk = pending.pop(ref)
            for index, fields in _result(ray, ref, jobs, chunk):
                keep(index, unpack(jobs[index], fields))
            done += chunk.units(jobs)
            if on_progress is not None:
                on_progress(done, total)


def _check_head(address: str) -> None:
    """Raise :class:`HeadLost` if the head does not answer (twice: a busy one may be slow)."""
    problem = ray_problem(address)
    if problem is not None and ray_problem(address) is not None:
        raise HeadLost(f"the Ray head at {address} stopped answering ({problem})")


def train_chunk(chunk: Chunk, indices: list[int], *jobs: Job) -> list[tuple[int, dict[str, Any]]]:
    """The task: a chunk's members trained as in a local run; its jobs come as arguments."""
    local = {index: position for position, index in enumerate(indices)}
    members = tuple((local[job], seed) for job, seed in chunk.members)
    parts = run_chunk(jobs, Chunk(members))
    return [(indices[position], pack(part)) for position, part in parts]


def _cancel(ray: ModuleType, pending: Collection[Any]) -> None:
    """Cancel the tasks not yet finished. A cancel racing a task's completion can abort the
    driver inside Ray (ray-project/ray#54846), so the finished ones are left alone."""
    _, running = ray.wait(list(pending), num_returns=len(pending), timeout=0)
    for ref in running:
        ray.cancel(ref, force=True)


def _result(
    ray: ModuleType, ref: Any, jobs: Sequence[Job], chunk: Chunk
) -> list[tuple[int, dict[str, Any]]]:
    """A finished task's parts, or the reason it failed as one line."""
    try:
        parts: list[tuple[int, dict[str, Any]]] = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, ZooError):  # the user's to fix, as in a local run
            raise exc.cause from None
        what = jobs[chunk.members[0][0]].label
        raise ClusterError(
            f"training {what} on the Ray cluster failed: {describe_exception(exc.cause)}; "
            "are zoo and the model's plugin installed where the workers run?"
        ) from None
    except ray.exceptions.RayError as exc:  # a worker died more often than Ray retries
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise ClusterError(f"the Ray cluster lost a chunk: {lines[0]}") from None
    for _, fields in parts:  # numpy arrays from Ray are read-only: copies to train on
        fields["states"] = [{k: v.copy() for k, v in s.items()} for s in fields["states"]]
    return parts


def _paths_for_workers() -> list[str]:
    """PYTHONPATH and folders put on sys.path by hand: where a plugin may come from."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and not any(real.startswith(p) for p in prefixes):
            found.append(entry)
    return list(dict.fromkeys(found))


def _raylet_lines_to_stderr() -> Callable[[], None]:
    """Ray prints a dead worker's notice ("(raylet) A worker died ...") on stdout, even with
    ``log_to_driver=False``; zoo's stdout is the report, so those lines go to stderr."""
    from ray._private import worker

    original = getattr(worker, "print_to_stdstream", None)
    if original is None:  # another Ray version: its lines stay where Ray puts them
        return lambda: None

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    worker.print_to_stdstream = to_stderr

    def restore() -> None:
        worker.print_to_stdstream = original

    return restore
