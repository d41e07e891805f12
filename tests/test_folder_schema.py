"""Every folder zoo reads back is checked against a schema before any of it is used.

A tampered config.json, checkpoint.pt, compare.json or part is refused in one line that names
the file and the field, and the folder is left exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import assert_one_line_error

import zoo


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def interrupted_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("source") / "run"
    zoo.train("circle-v2", epochs=30, checkpoint_every=10, out=run_dir, plot=False)
    (run_dir / "summary.json").unlink()  # as if killed before the end
    return run_dir


@pytest.fixture
def interrupted(interrupted_source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(interrupted_source, tmp_path / "run"))


def edit_checkpoint(run_dir: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = run_dir / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)


def without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda mapping: mapping.pop(key)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: without("param_groups")(s["optimizer"]),
            "checkpoint.pt: not a zoo checkpoint (optimizer.param_groups: missing)",
        ),
        (
            lambda s: s.update(epoch="ten"),
            "checkpoint.pt: not a zoo checkpoint (epoch: must be a whole number",
        ),
        (
            lambda s: s["optimizer"]["param_groups"][0].update(lr="fast"),
            "checkpoint.pt: does not fit the model (optimizer.param_groups[0].lr: 'fast' is not",
        ),
        (
            lambda s: s["optimizer"]["state"][0].update(momentum_buffer=torch.zeros(3)),
            "checkpoint.pt: does not fit the model (optimizer.state.0.momentum_buffer: shape [3], "
            "its parameter's is [10, 2])",
        ),
        (
            lambda s: s["kept"].update({"layer_1.weight": torch.zeros(4, 4)}),
            "checkpoint.pt: does not fit the model (kept.layer_1.weight: shape [4, 4]",
        ),
        (
            lambda s: s.update(history_rows="all"),
            "checkpoint.pt: not a zoo checkpoint (history_rows: must be a whole number from 1 "
            "to 1000000000, got 'all')",
        ),
        (
            lambda s: s.update(epoch=10**6),
            "checkpoint.pt: does not fit the model (epoch: 1000000, after the run's last (30))",
        ),
        (
            lambda s: s["rng"].update(torch=torch.zeros(8, dtype=torch.uint8)),
            "checkpoint.pt: does not fit the model (rng.torch: not a state",
        ),
        (
            lambda s: s["optimizer"]["state"][0].update(momentum_buffer="fast"),
            "checkpoint.pt: does not fit the model (optimizer: its saved state does not work "
            "(AttributeError: 'str' object has no attribute",
        ),
        (
            lambda s: s["rng"].update(torch=torch.full((5056,), 255, dtype=torch.uint8)),
            "checkpoint.pt: does not fit the model (rng.torch: not a usable generator state",
        ),
    ],
    ids=[
        "no-param-groups",
        "epoch-text",
        "lr-text",
        "buffer-shape",
        "kept-shape",
        "history-rows-text",
        "epoch-future",
        "rng-size",
        "buffer-text",
        "rng-content",
    ],
)
def test_a_tampered_checkpoint_is_one_line_naming_the_field_and_nothing_changes(
    zoo_cli, interrupted, change, message
):
    edit_checkpoint(interrupted, change)
    before = digest(interrupted)
    assert_one_line_error(zoo_cli("train", "--resume", str(interrupted)), message, status=1)
    assert digest(interrupted) == before


def last_cell_of_line(number: int, text: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        lines[number - 1] = lines[number - 1].rsplit(",", 1)[0] + "," + text
        return lines

    return change


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            "history.csv",
            last_cell_of_line(2, "high"),
            "history.csv:2: not a zoo history row (test_acc: must be a number from 0 to 100",
        ),
        (
            "history.csv",
            lambda lines: lines[:2],
            "history.csv: holds 1 of the 11 rows its checkpoint counts",
        ),
        (
            "epochs.csv",
            last_cell_of_line(3, "high"),
            "epochs.csv:3: not a zoo epoch log row (step_acc: must be a number from 0 to 100",
        ),
    ],
    ids=["text-in-history", "history-cut", "text-in-epochs"],
)
def test_a_tampered_log_is_one_line_naming_it_and_nothing_changes(
    zoo_cli, interrupted, name, change, message
):
    # The checkpoint counts its rows of history.csv and epochs.csv, read back and checked
    # before anything is resumed.
    path = interrupted / name
    path.write_text("\n".join(change(path.read_text().splitlines())) + "\n")
    before = digest(interrupted)
    assert_one_line_error(zoo_cli("train", "--resume", str(interrupted)), message, status=1)
    assert digest(interrupted) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(features="two"), "(features: must be a whole number"),
        (lambda c: c.update(classes=[0, "one"]), "(classes: mixes numbers and texts)"),
        (lambda c: c.update(classes=[0]), "(classes: must hold 2 to"),
        (lambda c: c["settings"].update(epochs=-1), "(settings: epochs: must be a whole number"),
        (lambda c: c["factory_kwargs"].update(in_features=10**6), "(factory_kwargs.in_features: "),
        (lambda c: c.pop("builds"), "(builds: missing)"),
        (lambda c: c.update(sources=["x"]), "(sources: must be a mapping"),
    ],
    ids=["features", "mixed-classes", "one-class", "epochs", "in-features", "builds", "sources"],
)
def test_a_tampered_config_is_one_line_naming_the_field_and_nothing_changes(
    zoo_cli, interrupted, change, message
):
    config = json.loads((interrupted / "config.json").read_text())
    change(config)
    (interrupted / "config.json").write_text(json.dumps(config))
    before = digest(interrupted)
    for command in (["train", "--resume"], ["eval"]):
        line = assert_one_line_error(zoo_cli(*command, str(interrupted)), message, status=1)
        assert "config.json: not a zoo run config" in line
    assert digest(interrupted) == before


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compared") / "kept"
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=20, workers=1, out=out)
    return out


@pytest.fixture
def kept(compared: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(compared, tmp_path / "kept"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(seeds=[]), "(seeds: must hold 1 to 1000000 items, got 0)"),
        (lambda r: r.update(seeds=[42, 42]), "(seeds: lists a seed twice)"),
        (lambda r: r.update(reach="high"), "(reach: must be a number from 0 to 100"),
        (lambda r: r.update(target=99), "(reach: given twice)"),  # its older name too
        (lambda r: r.update(vary=["weights"]), "(vary[0]: must be one of"),
        (lambda r: r.update(models="circle-v2"), "(models: must be a list"),
        (lambda r: r["settings"].update(lr=0), "(settings: lr: must be a number > 0"),
        (lambda r: r.update(extra=1), "(extra: unknown field)"),
    ],
    ids=["no-seeds", "twice", "reach", "reach-twice", "vary", "models", "lr", "extra"],
)
def test_a_tampered_compare_request_is_one_line_naming_the_field(zoo_cli, kept, change, message):
    request = json.loads((kept / "compare.json").read_text())
    change(request)
    (kept / "compare.json").write_text(json.dumps(request))
    before = digest(kept)
    line = assert_one_line_error(zoo_cli("compare", "--resume", str(kept)), message, status=1)
    assert "compare.json: not a zoo compare request" in line
    assert digest(kept) == before


def edit_part(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    part = torch.load(path, weights_only=True)
    change(part)
    torch.save(part, path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["records"][0].update(test_acc="high"),
            "(records[0].test_acc: must be a number from 0 to 100, got 'high')",
        ),
        (lambda p: p.update(job=7), "(job: must be a whole number from 0 to 1, got 7)"),
        (lambda p: p["records"][0].update(seed=99), "(records[0]: seed 99 of circle-v0"),
        (lambda p: p["states"].pop(), "(states: 1 entries for 2 records)"),
        (
            lambda p: p["states"][0].update({"layer_1.weight": torch.zeros(2)}),
            "(states[0].layer_1.weight: has shape [2], the model's is [5, 2])",
        ),
    ],
    ids=["accuracy-text", "job", "foreign-seed", "states", "state-shape"],
)
def test_a_tampered_part_is_one_line_naming_the_file_and_field(zoo_cli, kept, change, message):
    part = kept / "parts" / "0-42.pt"
    edit_part(part, change)
    before = digest(kept)
    line = assert_one_line_error(zoo_cli("compare", "--resume", str(kept)), message, status=1)
    assert "parts/0-42.pt: not a part of this comparison" in line
    assert digest(kept) == before


def test_two_parts_holding_one_seed_are_refused_not_counted_twice(zoo_cli, kept):
    parts = kept / "parts"
    shutil.copy(parts / "0-42.pt", parts / "0-99.pt")  # an overlapping part, as a race left
    before = digest(kept)
    assert_one_line_error(
        zoo_cli("compare", "--resume", str(kept)),
        "parts/0-99.pt: seed 42 of circle-v0 is also in 0-42.pt; remove one of the two parts",
        status=1,
    )
    assert digest(kept) == before
    (parts / "0-99.pt").unlink()
    resumed = zoo_cli("compare", "--resume", str(kept), "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert len(json.loads(resumed.stdout)["results"]) == 4  # two models, two seeds each
