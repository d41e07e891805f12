"""The fault suite: real processes killed, interrupted, racing, denied a disk.

Every scenario ends in one of two ways: the run finishes with exactly the numbers of a run
that was never disturbed, or zoo says in one line what went wrong and how to go on, with
nothing half-written left behind.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error, start_zoo

import zoo
from zoo.errors import RunFolderError
from zoo.runs import files

pytestmark = pytest.mark.slow  # trainings killed and resumed, again and again

# circle-v2 with a checkpoint after every epoch: most of the time goes into writing them, so
# the kill points below land inside checkpoint writes as often as between them.
RUN = ["train", "circle-v2", "--epochs", "150", "--checkpoint-every", "1", "--no-plot"]
KILL_POINTS = 40


def wait_for_training(process: subprocess.Popen[str], epoch: int = 0) -> None:
    """Block until the process prints the log line of ``epoch`` (the first one by default:
    config.json exists, epochs begin)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(f"Epoch: {epoch} |"):
            return
    raise AssertionError(f"zoo never reached epoch {epoch}: {process.stderr.read()}")


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def run_zoo(args: list[str], cwd: Path) -> tuple[int, str, str]:
    return finish(start_zoo(args, cwd))


def outcome(run_dir: Path) -> tuple[dict[str, torch.Tensor], dict[str, float], str]:
    """What must match bit for bit: final weights, summary metrics, history."""
    weights = torch.load(run_dir / "weights.pt", weights_only=True)
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = {
        k: summary[k] for k in ("epochs", "train_acc", "test_acc", "train_loss", "test_loss")
    }
    return weights, metrics, (run_dir / "history.csv").read_text()


def same_outcome(a: Path, b: Path) -> bool:
    weights_a, metrics_a, history_a = outcome(a)
    weights_b, metrics_b, history_b = outcome(b)
    return (
        weights_a.keys() == weights_b.keys()
        and all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
        and metrics_a == metrics_b
        and history_a == history_b
    )


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def fork_zoo(args: list[str], cwd: Path) -> tuple[int, Iterator[str]]:
    """Run `zoo ARGS` in a forked child: a real process, without paying torch's import again.

    Returns the child's pid and its standard output, line by line.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            os.close(read)
            os.dup2(write, 1)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            sys.stdout = open(1, "w", buffering=1)  # noqa: SIM115 - line by line to the parent
            os.chdir(cwd)
            torch.set_num_threads(1)
            from zoo.cli import main

            code = main(args)
        finally:
            os._exit(code)
    os.close(write)
    return pid, iter(open(read))  # closed when the child's output ends


def wait_child(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The undisturbed run, and how long its training took.

    One training in this process first, so that forked children find scikit-learn and
    torch's optimizer machinery already imported and start in milliseconds.
    """
    zoo.train("circle-v0", epochs=1)
    cwd = tmp_path_factory.mktemp("reference")
    pid, lines = fork_zoo([*RUN, "--out", "run"], cwd)
    next(line for line in lines if line.startswith("Epoch: 0"))
    began = time.monotonic()
    assert wait_child(pid) == 0
    return cwd / "run", time.monotonic() - began


def test_sigkill_at_any_point_then_resume_gives_the_same_weights_bit_for_bit(reference, tmp_path):
    reference_dir, duration = reference
    outcomes: list[tuple[int, bool, bool]] = []
    attempt = 0
    while sum(killed for _, killed, _ in outcomes) < KILL_POINTS and attempt < 2 * KILL_POINTS:
        cwd = tmp_path / f"kill-{attempt}"
        cwd.mkdir()
        pid, lines = fork_zoo([*RUN, "--out", "run"], cwd)
        next(line for line in lines if line.startswith("Epoch: 0"))
        time.sleep(duration * (attempt * 0.618 % 0.95))  # spread over the whole run
        os.kill(pid, signal.SIGKILL)
        killed = wait_child(pid) == -signal.SIGKILL
        if not killed:  # it finished first: the machine is faster now than for the reference
            duration *= 0.8
        run_dir = cwd / "run"
        if not (run_dir / "summary.json").exists():
            pid, _ = fork_zoo(["train", "--resume", "run", "--no-plot"], cwd)
            assert wait_child(pid) == 0, f"kill point {attempt}: resume failed"
        leftovers = [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
        assert not leftovers, f"kill point {attempt} left {leftovers}"
        outcomes.append((attempt, killed, same_outcome(run_dir, reference_dir)))
        attempt += 1
    assert sum(killed for _, killed, _ in outcomes) >= KILL_POINTS, outcomes
    assert all(same for _, _, same in outcomes), outcomes


# Early stopping (it stops at epoch 34) and the plateau schedule, on a validation split: their
# state is in each checkpoint, and the rows of history.csv and epochs.csv are appended.
VALIDATED = [
    *RUN,
    "--val-size", "0.2", "--early-stop", "30", "--lr-schedule", "plateau", "--lr-patience", "5",
]  # fmt: skip


def test_sigkill_of_an_early_stopping_scheduled_run_resumes_to_the_same_files(tmp_path):
    pid, lines = fork_zoo([*VALIDATED, "--out", "reference"], tmp_path)
    next(line for line in lines if line.startswith("Epoch: 0"))
    began = time.monotonic()
    assert wait_child(pid) == 0
    duration = time.monotonic() - began
    killed = attempt = 0
    while killed < 8 and attempt < 24:
        cwd = tmp_path / f"kill-{attempt}"
        cwd.mkdir()
        pid, lines = fork_zoo([*VALIDATED, "--out", "run"], cwd)
        next(line for line in lines if line.startswith("Epoch: 0"))
        time.sleep(duration * (attempt * 0.618 % 0.95))
        os.kill(pid, signal.SIGKILL)
        if wait_child(pid) == -signal.SIGKILL:
            killed += 1
        else:  # it finished first: the machine is faster now than for the reference
            duration *= 0.8
        attempt += 1
        run_dir = cwd / "run"
        if not (run_dir / "summary.json").exists():
            pid, _ = fork_zoo(["train", "--resume", "run", "--no-plot"], cwd)
            assert wait_child(pid) == 0, f"kill point {attempt}: resume failed"
        assert same_outcome(run_dir, tmp_path / "reference"), f"kill point {attempt}"
        epochs = (run_dir / "epochs.csv").read_text()
        assert epochs == (tmp_path / "reference" / "epochs.csv").read_text()
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["stopped_early"] and summary["best_epoch"] == summary["epochs"] - 30
    assert killed >= 8


def test_a_killed_mini_batch_run_resumes_with_the_same_batch_order(tmp_path):
    args = [
        "train",
        "circle-v2",
        "--epochs",
        "150",
        "--batch-size",
        "64",
        "--checkpoint-every",
        "7",
        "--no-plot",
    ]
    status, _, err = run_zoo([*args, "--out", "reference"], tmp_path)
    assert status == 0, err
    process = start_zoo([*args, "--out", "run"], tmp_path)
    wait_for_training(process, epoch=30)  # four checkpoints written, 120 epochs to go
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not (tmp_path / "run" / "summary.json").exists():
        status, _, err = run_zoo(["train", "--resume", "run", "--no-plot"], tmp_path)
        assert status == 0, err
    assert same_outcome(tmp_path / "run", tmp_path / "reference")


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_ends_the_epoch_checkpoints_and_says_how_to_resume(tmp_path, sent, status):
    args = ["train", "circle-v2", "--epochs", "20000", "--checkpoint-every", "5000", "--no-plot"]
    process = start_zoo([*args, "--out", "run"], tmp_path)
    wait_for_training(process, epoch=2000)
    process.send_signal(sent)
    code, _, err = finish(process)
    assert code == status
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("zoo: stopped after epoch ")
    assert line.endswith("go on with: zoo train --resume run")
    stopped_at = int(line.split("epoch ")[1].split(";")[0])
    assert 0 < stopped_at < 20000
    run_dir = tmp_path / "run"
    assert (run_dir / "checkpoint.pt").exists() and not (run_dir / "summary.json").exists()
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == stopped_at


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path):
    args = ["train", "circle-v2", "--epochs", "3000", "--checkpoint-every", "1000", "--no-plot"]
    status, _, err = run_zoo([*args, "--out", "reference"], tmp_path)
    assert status == 0, err
    process = start_zoo([*args, "--out", "run"], tmp_path)
    wait_for_training(process, epoch=300)
    process.send_signal(signal.SIGINT)
    assert finish(process)[0] == 130
    status, out, err = run_zoo(["train", "--resume", "run", "--no-plot"], tmp_path)
    assert status == 0, err
    assert out.startswith("Resuming circle-v2 in run")
    assert same_outcome(tmp_path / "run", tmp_path / "reference")


def test_two_trainings_started_together_never_share_a_run_folder(tmp_path):
    processes = [
        start_zoo(["train", "circle-v0", "--epochs", "5", "--no-plot", "--json"], tmp_path)
        for _ in range(2)
    ]
    results = [finish(p) for p in processes]
    assert all(code == 0 for code, _, _ in results), results
    folders = {json.loads(out)["run_dir"] for _, out, _ in results}
    assert len(folders) == 2
    for folder in folders:
        assert (tmp_path / folder / "summary.json").exists()


def cannot(what: str) -> None:
    """A machine that cannot stage the fault: a skip on a laptop, a failure in CI (CI=1),
    which must run every fault test."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to {what}")
    pytest.skip(f"cannot {what}")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only: by permissions, or for root (who ignores them) by a mount."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        cannot(f"make a folder read-only for root here: {mounted.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_run_folder_is_refused_before_any_work(tmp_path):
    process = start_zoo([*RUN, "--epochs", "20000", "--out", "run"], tmp_path)
    wait_for_training(process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    run_dir = tmp_path / "run"
    before = digest(run_dir)
    with read_only(run_dir):
        result = run_zoo(["train", "--resume", "run"], tmp_path)
    assert result[0] == 1 and "Traceback" not in result[2]
    (line,) = result[2].strip().splitlines()
    assert "run: cannot write here" in line and "nothing was changed" in line
    assert digest(run_dir) == before


def test_training_into_a_read_only_folder_is_one_line(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    with read_only(parent):
        code, _, err = run_zoo(["train", "circle-v0", "--out", "locked/run"], tmp_path)
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "locked/run" in err
    assert not (parent / "run").exists()


@contextmanager
def small_disk(folder: Path, kilobytes: int) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        cannot(f"mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_stops_cleanly_and_the_run_resumes_once_there_is_room(tmp_path):
    args = ["train", "circle-v2", "--epochs", "300", "--checkpoint-every", "1", "--no-plot"]
    status, _, err = run_zoo([*args, "--out", "reference"], tmp_path)
    assert status == 0, err
    with small_disk(tmp_path / "disk", kilobytes=256) as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (256 - 12) * 1024)  # leave 12 KB: config.json, not much more
        code, _, err = run_zoo([*args, "--out", "disk/run"], tmp_path)
        assert code == 1 and "Traceback" not in err
        (line,) = err.strip().splitlines()
        assert "No space left on device" in line and "zoo train --resume disk/run" in line
        assert not [p for p in (disk / "run").iterdir() if p.name.endswith(".tmp")]
        json.loads((disk / "run" / "config.json").read_text())  # whole, not half-written
        filler.unlink()
        status, _, err = run_zoo(["train", "--resume", "disk/run", "--no-plot"], tmp_path)
        assert status == 0, err
        assert same_outcome(disk / "run", tmp_path / "reference")


def test_a_write_failing_with_no_space_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    real_fsync, calls = os.fsync, []

    def fsync(handle: int) -> None:
        calls.append(handle)
        if len(calls) == 5:  # config.json and a checkpoint get through; the third write fails
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(handle)

    monkeypatch.setattr(files.os, "fsync", fsync)
    with pytest.raises(RunFolderError, match=r"No space left on device.*zoo train --resume"):
        zoo.train("circle-v2", epochs=100, checkpoint_every=10, out=run_dir, plot=False)
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] > 0  # the last whole checkpoint, still readable
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    resumed = zoo.resume(run_dir, plot=False).summary
    straight = zoo.train(
        "circle-v2", epochs=100, checkpoint_every=10, out=tmp_path / "ref", plot=False
    )
    assert resumed == {
        **straight.summary,
        "run_dir": str(run_dir),
        "seconds": resumed["seconds"],
    }


def test_a_diverging_run_keeps_its_last_finite_checkpoint(tmp_path):
    code, _, err = run_zoo(
        [
            "train",
            "circle-v2",
            "--lr",
            "1e30",
            "--epochs",
            "40",
            "--checkpoint-every",
            "1",
            "--out",
            "run",
            "--no-plot",
        ],
        tmp_path,
    )
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "training diverged" in line and "smaller learning rate" in line
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in checkpoint["model"].values())
    weights = torch.load(tmp_path / "run" / "weights.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in weights.values())


@pytest.fixture
def interrupted_run(tmp_path: Path) -> Path:
    zoo.train("circle-v2", epochs=30, checkpoint_every=10, out=tmp_path / "run", plot=False)
    run_dir = tmp_path / "run"
    (run_dir / "summary.json").unlink()  # as if killed before the end
    return run_dir


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", "checkpoint.pt: damaged or not a checkpoint file"),
        ("empty", "checkpoint.pt: damaged or not a checkpoint file"),
        ("pickle", "checkpoint.pt: refused: the file asks to run code"),
        ("foreign", "checkpoint.pt: not a zoo checkpoint"),
        ("shapes", "checkpoint.pt: does not fit the model"),
        ("config", "config.json: damaged or not JSON"),
        ("model", "'gone:circle-v2', which no installed plugin provides"),
    ],
)
def test_a_damaged_run_folder_is_refused_by_resume_and_left_untouched(
    zoo_cli, interrupted_run, damage, message
):
    checkpoint, config = interrupted_run / "checkpoint.pt", interrupted_run / "config.json"
    marker = interrupted_run.parent / "pwned"
    if damage == "truncate":
        checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    elif damage == "empty":
        checkpoint.write_bytes(b"")
    elif damage == "pickle":

        class Exploit:
            def __reduce__(self):
                return (Path.touch, (marker,))

        torch.save({"epoch": 1, "model": Exploit()}, checkpoint)
    elif damage == "foreign":
        torch.save({"layer.weight": torch.zeros(2)}, checkpoint)
    elif damage == "shapes":
        state = torch.load(checkpoint, weights_only=True)
        state["model"] = {k: torch.zeros(3, 3) for k in state["model"]}
        torch.save(state, checkpoint)
    elif damage == "config":
        config.write_text('{"format": 1, ')
    else:
        data = json.loads(config.read_text())
        data["builds"] = "gone:circle-v2"
        config.write_text(json.dumps(data))
    before = digest(interrupted_run)
    result = zoo_cli("train", "--resume", str(interrupted_run))
    assert_one_line_error(result, message, status=1)
    assert digest(interrupted_run) == before
    assert not marker.exists()


def test_resume_refuses_a_finished_run_and_extra_settings(zoo_cli, tmp_path):
    zoo.train("circle-v0", epochs=3, out=tmp_path / "done", plot=False)
    assert_one_line_error(
        zoo_cli("train", "--resume", str(tmp_path / "done")), "this run has finished", status=1
    )
    assert_one_line_error(
        zoo_cli("train", "--resume", str(tmp_path / "done"), "--lr", "0.5"),
        "give only RUN_DIR",
        status=2,
    )
    assert_one_line_error(
        zoo_cli("train", "--resume", str(tmp_path / "nowhere")), "no such run folder", status=1
    )


def test_an_interrupted_comparison_keeps_finished_seeds_and_resume_trains_only_the_rest(
    zoo_cli, tmp_path
):
    args = ["circle-v0", "circle-v2", "--seeds", "4", "--epochs", "3000", "--jobs", "2"]
    reference = zoo_cli("compare", *args, "--format", "json")
    assert reference.returncode == 0, reference.stderr
    process = start_zoo(["compare", *args, "--out", "kept", "--format", "json"], tmp_path)
    parts = tmp_path / "kept" / "parts"
    deadline = time.monotonic() + 120
    while not (parts.exists() and list(parts.glob("*.pt"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    assert code == 130 and out == ""
    (line,) = err.strip().splitlines()
    assert line == (
        "zoo: stopped; the seeds finished so far are kept in kept; "
        "go on with: zoo compare --resume kept"
    )
    kept = digest(parts)
    assert 0 < len(kept) < 4  # two chunks per model: some, not all
    resumed = zoo_cli("compare", "--resume", "kept", "--format", "json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert {k: v for k, v in digest(parts).items() if k in kept} == kept  # not trained again
    metrics = ("model", "seed", "train_acc", "test_acc", "train_loss", "test_loss", "epochs")

    def table(report: str) -> list[tuple]:
        return [tuple(r[m] for m in metrics) for r in json.loads(report)["results"]]

    assert table(resumed.stdout) == table(reference.stdout)
    assert (tmp_path / "kept" / "summary.md").exists()
    assert_one_line_error(
        zoo_cli("compare", "--resume", "kept", "--seeds", "3", cwd=tmp_path), "give only DIR"
    )
