"""zoo compare --cluster ray, on a real Ray cluster started on this machine for these tests.

The head runs as `ray start --head --block` in its own session, with its own short temp
folder; only it is stopped (SIGTERM to the --block process stops what it started), never
`ray stop`, which would stop every Ray on the machine. Token auth is off on both sides: a
~/.ray/auth_token left by any local Ray would otherwise make the head demand a token that
ray.init(address=...) does not send. These tests need the `ray` extra (`make install`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error, start_zoo

import zoo
from zoo.comparison.cluster import GPU_SHARE, chunks_per_stack, resources
from zoo.errors import ClusterError

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).with_name("ray")
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
HANG = 15  # seconds: a zoo that has not stopped by then ignored Ctrl-C
METRICS = ("model", "dataset", "seed", "train_acc", "test_acc", "train_loss", "test_loss")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kill_by_temp_dir(temp_dir: str) -> None:
    """SIGKILL what a failed start left behind: processes naming our temp folder."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (temp_dir + "/").encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture(scope="session")
def ray_head() -> Iterator[tuple[str, int]]:
    """A private Ray head with two CPUs: (its address, the pid of `ray start --block`).

    One per test process that needs one (pytest-xdist's loadgroup does not group tests under
    pytest 9); two heads side by side do not meet: own ports, own temp folders.
    """
    yield from _start_head()


@pytest.fixture
def doomed_head() -> Iterator[tuple[str, int]]:
    """A head of this test's own, which the test may kill."""
    yield from _start_head()


def _start_head() -> Iterator[tuple[str, int]]:
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # AF_UNIX paths: at most 107 bytes
    log_path = Path(temp_dir) / "ray-start.log"
    command = [
        str(RAY),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        "--object-store-memory=200000000",
    ]
    with log_path.open("w") as log:
        head = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **RAY_ENV},
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while "Ray runtime started" not in log_path.read_text():
        if head.poll() is not None or time.monotonic() > deadline:
            head.kill()
            _kill_by_temp_dir(temp_dir)
            raise RuntimeError("ray start failed:\n" + log_path.read_text())
        time.sleep(0.2)
    try:
        yield f"127.0.0.1:{port}", head.pid
    finally:
        if head.poll() is None:
            head.send_signal(signal.SIGTERM)  # `ray start --block` stops what it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        _kill_by_temp_dir(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def ray_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in RAY_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def records(results: list[dict]) -> list[tuple]:
    return [(*tuple(r.get(m) for m in METRICS), r.get("lr")) for r in results]


def test_a_comparison_on_the_cluster_equals_the_local_one_bit_for_bit(ray_head):
    address, _ = ray_head
    asked = {
        "seed_list": [1, 2, 3],
        "epochs": 150,
        "grid": {"lr": [0.1, 0.3], "momentum": [0, 0.9]},
        "workers": 2,
    }
    on_ray = zoo.compare(
        ["circle-v2", "circle-v0"], cluster="ray", cluster_address=address, **asked
    )
    local = zoo.compare(["circle-v2", "circle-v0"], **asked)
    assert records(on_ray.results) == records(local.results)
    assert [r.job.label for r in on_ray.job_results] == [r.job.label for r in local.job_results]
    for remote, here in zip(on_ray.job_results, local.job_results):
        assert remote.batched and len(remote.states) == 3
        for a, b in zip(remote.states, here.states):
            assert all(torch.equal(a[name], b[name]) for name in b)


def _descendants(root: int) -> dict[int, str]:
    """Every process under ``root``, with its command line (Ray's workers: ray::<task>)."""
    parents, lines = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            parents[int(pid)] = int(stat.rpartition(")")[2].split()[1])
            lines[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
    found = {}
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, root):
            ancestor = parents.get(ancestor)
        if ancestor == root:
            found[pid] = lines[pid].decode(errors="replace")
    return found


def test_a_ray_worker_killed_mid_comparison_loses_nothing(ray_head, tmp_path):
    address, head = ray_head
    args = ["circle-v2", "--seeds", "4", "--epochs", "4000", "--jobs", "2"]
    process = start_zoo(
        ["compare", *args, "--cluster", "ray", "--cluster-address", address, "--json"], cwd=tmp_path
    )
    deadline, victim = time.monotonic() + 180, None
    while victim is None:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        training = [
            pid for pid, line in _descendants(head).items() if line.startswith("ray::train_chunk")
        ]
        if training:
            victim = training[0]
            os.kill(victim, signal.SIGKILL)  # mid-task: the chunk runs for seconds
        time.sleep(0.05)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert victim not in _descendants(head)
    report = json.loads(out)  # Ray's notice of the dead worker went to stderr, not into this
    local = zoo.compare(["circle-v2"], seeds=4, epochs=4000, workers=2)
    assert records(report["results"]) == records(local.results)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.pt")}


def test_a_stopped_comparison_resumes_on_the_cluster(ray_head, tmp_path):
    address, _ = ray_head
    cluster = ["--cluster", "ray", "--cluster-address", address]
    args = ["circle-v0", "circle-v2", "--seeds", "4", "--epochs", "3000", "--jobs", "2"]
    process = start_zoo(["compare", *args, *cluster, "--out", "kept", "--json"], cwd=tmp_path)
    parts = tmp_path / "kept" / "parts"
    deadline = time.monotonic() + 180
    while not (parts.exists() and list(parts.glob("*.pt"))):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and out == "", err
    assert err.strip().splitlines()[-1] == (
        "zoo: stopped; the seeds finished so far are kept in kept; "
        "go on with: zoo compare --resume kept"
    )
    kept = _digest(parts)
    assert 0 < len(kept) < 4  # two chunks per model: some, not all
    resumed = start_zoo(["compare", "--resume", "kept", *cluster, "--json"], cwd=tmp_path)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert {k: v for k, v in _digest(parts).items() if k in kept} == kept  # not trained again
    local = zoo.compare(["circle-v0", "circle-v2"], seeds=4, epochs=3000, workers=2)
    assert records(json.loads(out)["results"]) == records(local.results)


def test_plugins_installed_in_a_test_folder_reach_the_workers(ray_head, zoo_cli, with_plugins):
    address, _ = ray_head
    env = {**with_plugins("tanh"), **RAY_ENV}  # the head was started without this PYTHONPATH
    args = ["compare", "tanh-mlp", "--seeds", "2", "--epochs", "20", "--json"]
    on_ray = zoo_cli(*args, "--cluster", "ray", "--cluster-address", address, env=env)
    local = zoo_cli(*args, env=env)
    assert on_ray.returncode == 0, on_ray.stderr
    assert records(json.loads(on_ray.stdout)["results"]) == records(
        json.loads(local.stdout)["results"]
    )


def test_without_an_address_a_local_ray_is_started_for_the_run(zoo_cli):
    args = ["compare", "circle-v0", "--seeds", "2", "--epochs", "30", "--json"]
    on_ray = zoo_cli(*args, "--cluster", "ray", env=RAY_ENV)
    local = zoo_cli(*args)
    assert on_ray.returncode == 0, on_ray.stderr
    assert records(json.loads(on_ray.stdout)["results"]) == records(
        json.loads(local.stdout)["results"]
    )


def test_an_unreachable_cluster_is_one_line_at_once_and_nothing_is_written(zoo_cli, tmp_path):
    dead = f"127.0.0.1:{_free_port()}"
    out = tmp_path / "report"
    for args, env in (
        (["--cluster-address", dead], RAY_ENV),
        ([], {**RAY_ENV, "RAY_ADDRESS": dead}),
    ):
        result = zoo_cli(
            "compare", "circle-v2", "--cluster", "ray", *args, "--out", str(out), env=env
        )
        assert_one_line_error(
            result, f"no Ray cluster answers at {dead}", "ray start --head", status=1
        )
        assert not out.exists()
    malformed = zoo_cli("compare", "circle-v2", "--cluster", "ray", "--cluster-address", "head")
    assert_one_line_error(malformed, "cluster address 'head': write HOST:PORT", status=1)
    alone = zoo_cli("compare", "circle-v2", "--cluster-address", dead)
    assert_one_line_error(alone, "--cluster-address needs --cluster ray", status=2)


def test_without_the_ray_extra_the_error_names_it(tmp_path):
    script = (
        "import sys; sys.modules['ray'] = None  # as if ray were not installed\n"
        "from zoo.cli import main\n"
        "sys.exit(main(['compare', 'circle-v2', '--cluster', 'ray', '--out', 'report']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    error = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert error == [
        "zoo: error: --cluster ray needs Ray, an optional extra: pip install 'torch-zoo[ray]'"
    ]
    assert not (tmp_path / "report").exists()


def test_gpu_chunks_ask_for_a_share_of_a_gpu_and_need_one_in_the_cluster():
    assert resources("cpu") == {"num_cpus": 1}
    assert resources("cuda") == {"num_cpus": 1, "num_gpus": GPU_SHARE} and GPU_SHARE < 1
    assert chunks_per_stack({"CPU": 8.0}, {"cpu"}) == 8
    assert chunks_per_stack({"CPU": 8.0, "GPU": 2.0}, {"cuda"}) == 2
    with pytest.raises(ClusterError, match="has no GPU for CUDA work; use --device cpu"):
        chunks_per_stack({"CPU": 8.0}, {"cuda", "cpu"})


def test_a_connection_the_caller_opened_is_used_and_left_open(ray_head):
    import ray

    address, _ = ray_head
    ray.init(address=address, log_to_driver=False, logging_level="WARNING")
    try:
        on_ray = zoo.compare(["circle-v0"], seeds=2, epochs=30, cluster="ray")
        assert ray.is_initialized()  # a notebook's connection outlives the comparison
    finally:
        ray.shutdown()
    local = zoo.compare(["circle-v0"], seeds=2, epochs=30)
    assert records(on_ray.results) == records(local.results)


class NotRay:
    """A real TCP server on this machine that is not Ray: it accepts connections, then says
    nothing (``silent``) or answers as a web server would. ``asked`` is released when a client
    has sent it the start of a gRPC call (HTTP/2's preface), as zoo and Ray do."""

    def __init__(self, silent: bool) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.silent, self.asked = silent, threading.Semaphore(0)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._listen, args=(connection,), daemon=True).start()

    def _listen(self, connection: socket.socket) -> None:
        try:
            said = connection.recv(1024)
            if said.startswith(b"PRI * HTTP/2.0"):
                self.asked.release()
            if not self.silent:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture(params=[True, False], ids=["silent", "web server"])
def not_ray(request) -> Iterator[NotRay]:
    server = NotRay(silent=request.param)
    yield server
    server.close()


def test_an_address_that_answers_but_not_as_ray_is_one_line_and_nothing_is_written(
    zoo_cli, not_ray, tmp_path
):
    args = ["compare", "circle-v0", "--cluster", "ray", "--cluster-address", not_ray.address]
    result = zoo_cli(*args, "--out", "kept", env=RAY_ENV)
    assert_one_line_error(result, f"{not_ray.address} answers, but not as a Ray head", status=1)
    assert not (tmp_path / "kept").exists()


def test_ctrl_c_stops_zoo_while_it_waits_for_an_address_that_is_not_ray(tmp_path):
    server = NotRay(silent=True)
    try:
        args = ["compare", "circle-v0", "--cluster", "ray", "--cluster-address", server.address]
        process = start_zoo([*args, "--out", "kept"], cwd=tmp_path)
        if not server.asked.acquire(timeout=120):  # asked: zoo waits for the answer now
            process.kill()
            pytest.fail(f"zoo never asked the address as Ray's client: {process.communicate()}")
        process.send_signal(signal.SIGINT)
        try:  # a hang's bound, not a speed: Ray's own connect ignores Ctrl-C for half a minute
            _out, err = process.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"Ctrl-C did not stop zoo within {HANG} s: {process.communicate()}")
    finally:
        server.close()
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines() == [
        "zoo: error: interrupted before training started; nothing was written"
    ]
    assert not (tmp_path / "kept").exists()


def test_a_head_that_dies_mid_comparison_is_one_zoo_line_and_resume_finishes_it(
    doomed_head, tmp_path
):
    address, head = doomed_head
    args = ["circle-v2", "--seeds", "4", "--epochs", "4000", "--jobs", "2"]
    cluster = ["--cluster", "ray", "--cluster-address", address]
    process = start_zoo(["compare", *args, *cluster, "--out", "kept", "--json"], cwd=tmp_path)
    deadline = time.monotonic() + 180
    while not any(line.startswith("ray::train_chunk") for line in _descendants(head).values()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    os.killpg(head, signal.SIGKILL)  # the head and everything it started, mid-task
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and out == "" and "Traceback" not in err
    zoo_lines = [line for line in err.splitlines() if line.startswith("zoo:")]
    assert zoo_lines == [err.strip().splitlines()[-1]]  # Ray's own lines may come before it
    assert zoo_lines[0].startswith(f"zoo: error: the Ray head at {address} stopped answering")
    assert zoo_lines[0].endswith(
        "the seeds finished so far are kept in kept; go on with: zoo compare --resume kept"
    )
    resumed = start_zoo(["compare", "--resume", "kept", "--json", "--jobs", "2"], cwd=tmp_path)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    local = zoo.compare(["circle-v2"], seeds=4, epochs=4000, workers=2)
    assert records(json.loads(out)["results"]) == records(local.results)
