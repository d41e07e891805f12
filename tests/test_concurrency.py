"""One run folder, one writer: two processes never write one folder together.

A run or comparison folder is locked (``fcntl.flock`` on ``.zoo-lock``) for the whole of
``zoo train --out``, ``zoo train --resume``, ``zoo compare --out`` and ``zoo compare
--resume``. A second writer is refused in one line; a lock left by a process killed with
SIGKILL blocks nobody, because the kernel released it with the process. A comparison killed
with SIGKILL takes its worker processes with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error, start_zoo

import zoo
from zoo.errors import RunFolderError
from zoo.runs.lock import LOCK_NAME, acquire, hold

pytestmark = pytest.mark.slow  # zoo processes started side by side

BUSY = "another zoo process (pid {pid}) is writing this folder"


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "weights.pt", weights_only=True)


@pytest.fixture
def interrupted(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    zoo.train("circle-v2", epochs=300, checkpoint_every=100, out=run_dir, plot=False)
    (run_dir / "summary.json").unlink()  # as if killed before the end
    return run_dir


# -- a folder held by another process ----------------------------------------------------------


def test_resume_of_a_folder_being_written_is_refused_in_one_line(zoo_cli, interrupted):
    before = digest(interrupted)
    with hold(interrupted):  # another process's hold: flock conflicts across descriptions
        result = zoo_cli("train", "--resume", str(interrupted))
    assert_one_line_error(result, BUSY.format(pid=os.getpid()), status=1)
    assert digest(interrupted) == before
    assert zoo_cli("train", "--resume", str(interrupted), "--no-plot").returncode == 0


def test_train_out_into_a_folder_being_written_is_refused_in_one_line(zoo_cli, tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    with hold(folder):
        result = zoo_cli("train", "circle-v0", "--out", str(folder))
    assert_one_line_error(result, BUSY.format(pid=os.getpid()), status=1)
    assert list(folder.iterdir()) == []


def test_compare_resume_of_a_folder_being_written_is_refused_in_one_line(zoo_cli, tmp_path):
    kept = tmp_path / "kept"
    zoo.compare(["circle-v0"], seeds=2, epochs=10, workers=1, out=kept)
    before = digest(kept)
    with hold(kept):
        result = zoo_cli("compare", "--resume", str(kept))
    assert_one_line_error(result, BUSY.format(pid=os.getpid()), status=1)
    assert digest(kept) == before


def test_in_python_a_second_writer_is_a_run_folder_error(interrupted):
    with hold(interrupted), pytest.raises(RunFolderError, match="is writing this folder"):
        zoo.resume(interrupted)


# -- two writers started together --------------------------------------------------------------


def test_two_trainings_into_one_out_folder_one_wins_and_nothing_of_it_is_overwritten(tmp_path):
    for attempt in range(3):
        cwd = tmp_path / f"attempt-{attempt}"
        cwd.mkdir()
        args = ["train", "circle-v2", "--epochs", "2000", "--out", "same", "--no-plot", "--json"]
        processes = [start_zoo([*args, "--seed", str(seed)], cwd) for seed in (1, 2)]
        results = [finish(p) for p in processes]
        winners = [json.loads(out) for code, out, _ in results if code == 0]
        losers = [err for code, _, err in results if code != 0]
        assert len(winners) == 1 and len(losers) == 1, results
        (line,) = losers[0].strip().splitlines()
        assert "Traceback" not in line
        assert "is writing this folder" in line or "already exists and is not empty" in line
        run_dir = cwd / "same"
        config = json.loads((run_dir / "config.json").read_text())
        summary = json.loads((run_dir / "summary.json").read_text())
        assert config["settings"]["seed"] == summary["seed"] == winners[0]["seed"]
        assert summary == winners[0]
        assert not (run_dir / LOCK_NAME).exists()


def test_two_resumes_of_one_run_one_finishes_it_exactly(interrupted, tmp_path):
    reference = tmp_path / "reference"
    zoo.train("circle-v2", epochs=300, checkpoint_every=100, out=reference, plot=False)
    processes = [
        start_zoo(["train", "--resume", "run", "--no-plot"], interrupted.parent) for _ in "ab"
    ]
    results = [finish(p) for p in processes]
    assert sorted(code for code, _, _ in results) == [0, 1], results
    (line,) = next(err for code, _, err in results if code == 1).strip().splitlines()
    assert "is writing this folder" in line or "this run has finished" in line
    mine, theirs = weights(interrupted), weights(reference)
    assert all(torch.equal(mine[k], theirs[k]) for k in theirs)
    assert not [p.name for p in interrupted.iterdir() if p.name.endswith(".tmp")]


def test_two_compare_resumes_never_leave_overlapping_parts(tmp_path):
    kept = tmp_path / "kept"
    zoo.compare(["circle-v0", "circle-v2"], seeds=3, epochs=1500, workers=1, out=kept)
    for part in sorted((kept / "parts").glob("*.pt"))[1:]:
        part.unlink()  # as if stopped after its first chunk
    args = ["compare", "--resume", "kept", "--jobs", "1", "--format", "json"]
    results = [finish(p) for p in [start_zoo(args, tmp_path) for _ in "ab"]]
    assert 0 in [code for code, _, _ in results], results
    for code, out, err in results:
        if code != 0:
            (line,) = err.strip().splitlines()
            assert "is writing this folder" in line
        else:
            assert len(json.loads(out)["results"]) == 6
    seeds = [
        (part["job"], record["seed"])
        for path in (kept / "parts").glob("*.pt")
        for part in [torch.load(path, weights_only=True)]
        for record in part["records"]
    ]
    assert len(seeds) == len(set(seeds)) == 6  # every seed once: 2 models x 3 seeds
    again = subprocess.run(
        [sys.executable, "-m", "zoo", *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0 and len(json.loads(again.stdout)["results"]) == 6


# -- processes killed with SIGKILL -------------------------------------------------------------


def test_a_lock_left_by_a_killed_training_does_not_block_its_resume(tmp_path):
    args = ["train", "circle-v2", "--epochs", "20000", "--checkpoint-every", "1000", "--no-plot"]
    process = start_zoo([*args, "--out", "run"], tmp_path)
    assert process.stdout is not None
    # the log line of epoch 2000 comes after the checkpoints of epochs 1000 and 2000
    next(line for line in process.stdout if line.startswith("Epoch: 2000 |"))
    process.send_signal(signal.SIGKILL)
    process.wait()
    run_dir = tmp_path / "run"
    assert (run_dir / LOCK_NAME).exists() and not (run_dir / "summary.json").exists()
    code, out, err = finish(start_zoo(["train", "--resume", "run", "--no-plot"], tmp_path))
    assert code == 0, err
    assert out.startswith("Resuming circle-v2 in run")
    assert (run_dir / "summary.json").exists() and not (run_dir / LOCK_NAME).exists()


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_comparison_killed_with_sigkill_takes_its_workers_with_it(tmp_path):
    args = ["compare", "circle-v0", "circle-v2", "--seeds", "4", "--epochs", "200000"]
    process = start_zoo([*args, "--jobs", "2", "--out", "kept"], tmp_path)
    deadline, workers = time.monotonic() + 300, set()
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = {pid for pid in children_of(process.pid) if alive(pid)}
        time.sleep(0.1)
    assert len(workers) >= 2, "the comparison never started its workers"
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    deadline = time.monotonic() + 60  # generous: only a hang would take this long
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    assert "Traceback" not in err and "BrokenPipe" not in err
    acquire(tmp_path / "kept").release()  # the folder is free for a resume: no stale lock
