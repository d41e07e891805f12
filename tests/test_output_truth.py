"""Output is never silently wrong, and messages tell the truth.

JSON that zoo writes or prints is strict (a value that is not a finite number is null), and a
message about a run folder says what the folder really holds.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BUILT_IN

from zoo.runs.files import json_text
from zoo.training.records import RunSummary


def strict_loads(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_zoo_writes_holds_null_where_a_number_is_not_finite():
    data = {"loss": math.nan, "rows": [math.inf, -math.inf, 1.5], "nested": {"x": (math.nan,)}}
    assert strict_loads(json_text(data)) == {
        "loss": None,
        "rows": [None, None, 1.5],
        "nested": {"x": [None]},
    }


def test_a_summary_with_a_loss_that_is_not_finite_reads_as_null():
    summary = RunSummary(
        model="m",
        builds="p:m",
        dataset="d",
        task="binary",
        epochs=1,
        train_acc=50.0,
        test_acc=50.0,
        train_loss=math.nan,
        test_loss=math.inf,
        seconds=0.1,
        device="cpu",
        seed=1,
        params=3,
        status="diverged",
    )
    record = summary.to_dict()
    assert record["train_loss"] is None and record["test_loss"] is None
    assert strict_loads(json_text(record)) == record


@contextmanager
def small_disk(folder: Path, free_kilobytes: int) -> Iterator[Path]:
    """A 256 KiB file system at ``folder`` with only ``free_kilobytes`` left free."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        (folder / "filler").write_bytes(b"\0" * (256 - free_kilobytes) * 1024)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def train_into(disk: Path, cwd: Path) -> tuple[int, str]:
    args = ["train", "circle-v2", "--epochs", "300", "--checkpoint-every", "1", "--no-plot"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["ZOO_LOAD_PLUGINS"] = BUILT_IN
    done = subprocess.run(
        [sys.executable, "-m", "zoo", *args, "--out", str(disk / "run")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stderr


@pytest.mark.slow
def test_a_full_disk_before_the_first_checkpoint_does_not_claim_one(tmp_path):
    with small_disk(tmp_path / "disk", free_kilobytes=8) as disk:  # the lock and config.json
        code, err = train_into(disk, tmp_path)
        assert code == 1 and "Traceback" not in err
        (line,) = err.strip().splitlines()
        assert not (disk / "run" / "checkpoint.pt").exists()
        assert "No space left on device" in line
        assert "the run folder has no checkpoint yet, so a resume starts over" in line
        assert "keeps its last checkpoint" not in line


@pytest.mark.slow
def test_a_full_disk_after_a_checkpoint_says_the_folder_keeps_it(tmp_path):
    # config.json, then one checkpoint: checkpoint.pt and the rows it counts (history.csv,
    # epochs.csv: a 4 KiB block each); the next checkpoint.pt no longer fits.
    with small_disk(tmp_path / "disk", free_kilobytes=36) as disk:
        code, err = train_into(disk, tmp_path)
        assert code == 1 and "Traceback" not in err
        (line,) = err.strip().splitlines()
        assert (disk / "run" / "checkpoint.pt").exists()
        assert "the run folder keeps its last checkpoint" in line
