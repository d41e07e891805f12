"""Every input has a bound: hostile catalogues and folders, each read under a memory limit.

Each generated input is handed to zoo in a forked child (see tests/limits.py) that may grow by
at most LIMIT bytes. The answer is a result or zoo's own one-line error, never a traceback,
and the child's peak resident memory stays under the stated bound. The bounds themselves:

* registry.yaml: 1 MiB, 100,000 YAML values once aliases are expanded, numbers of at most 100
  characters (:mod:`zoo.config.catalogue`);
* config.json, summary.json, compare.json: 4 MiB, strict JSON, numbers of at most 100
  characters; weights.pt, checkpoint.pt, parts/*.pt: 1 GiB, torch's zip format with stored
  (uncompressed) entries, tensors of at most 2**28 elements (:mod:`zoo.runs.bounded`);
* ``--jobs``: never more processes than seeds, nor than four per core (at most 256);
* CSV tables: lines of at most 2**20 characters, 50,000,000 cells (labels included), 512 MiB
  in memory, 1,000 distinct labels, each refused at the line that passes it; reading holds
  about twice the table at most (:mod:`zoo.tables.limits`).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv  # noqa: F401 - imported here, not in the children that measure memory
import pytest
import torch
from hostile import damaged_bytes, json_values, mutated, save_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from limits import MiB, Outcome, in_child

import zoo
import zoo.tables.arrow
from zoo.comparison.workers import most_workers, worker_count
from zoo.config.catalogue import MAX_BYTES, MAX_NODES, load_catalogue
from zoo.errors import DataError
from zoo.tables import MOST_CLASSES, Table, limits, read_table

pytestmark = pytest.mark.slow  # hundreds of forked children

LIMIT = 1024 * MiB  # what a child may allocate before an allocation fails
CATALOGUE_PEAK = 96 * MiB  # the most a hostile catalogue may add to zoo's memory
FOLDER_PEAK = 256 * MiB  # the most a hostile run or comparison folder may add
HOSTILE = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_serial = itertools.count()


def fresh_dir(parent: Path) -> Path:
    """A new folder per generated example (hypothesis reuses a test's tmp_path)."""
    path = parent / f"example-{next(_serial)}"
    path.mkdir()
    return path


def assert_sane(outcome: Outcome, peak: int, names: str | None = None) -> None:
    assert outcome.kind != "crash", outcome.text
    if outcome.kind == "error":
        assert "\n" not in outcome.text, outcome.text
        if names is not None:
            assert names in outcome.text, outcome.text
    assert outcome.growth <= peak, f"{outcome.growth / MiB:.0f} MiB: {outcome.text}"


# -- registry.yaml -----------------------------------------------------------------------------


@st.composite
def billion_laughs(draw: st.DrawFn) -> str:
    """Chained anchors, each repeating the last ``width`` times, at some place in a catalogue."""
    depth, width = draw(st.integers(1, 16)), draw(st.integers(2, 12))
    mappings = draw(st.booleans())
    links = []
    for level in range(depth):
        inner = [f"*a{level - 1}" if level else "lol"] * width
        if mappings:
            body = "{" + ", ".join(f"k{i}: {item}" for i, item in enumerate(inner)) + "}"
        else:
            body = "[" + ", ".join(inner) + "]"
        links.append(f"&a{level} {body}")
    chain = "[" + ", ".join(links) + "]"
    place = draw(
        st.sampled_from(
            [
                "defaults:\n  params:\n    x: {}\n",
                "defaults:\n  epochs: {}\n",
                "models:\n  circle-v2:\n    dataset_params: {{n: {}}}\n",
                "models:\n  {}: 1\n",
                "{}\n",
            ]
        )
    )
    return place.format(chain)


huge_numbers = st.builds(
    lambda digits, tail, where: where.format("9" * digits + tail),
    st.integers(90, 300_000),
    st.sampled_from(["", ".5", "e3", "0000"]),
    st.sampled_from(["defaults:\n  epochs: {}\n", "defaults:\n  lr: {}\n", "models: [{}]\n"]),
)
big_files = st.builds(
    lambda size, filler: "defaults:\n  epochs: 5\n" + filler * (size // len(filler)),
    st.integers(MAX_BYTES - 4096, 3 * MAX_BYTES),
    st.sampled_from(["# a comment line\n", "\n", "models: {}\n"]),
)
many_values = st.builds(
    lambda count, item: "defaults:\n  params:\n    x: [" + item * count + "]\n",
    st.integers(MAX_NODES - 10, 400_000),
    st.sampled_from(["1,", "a,", "[],", "{},"]),
)
deep = st.builds(
    lambda n, pair: pair[0] * n + pair[1] * n,
    st.integers(50, 200_000),
    st.sampled_from([("[", "]"), ("{a: ", "}")]),
)
hostile_catalogues = st.one_of(billion_laughs(), huge_numbers, big_files, many_values, deep)


@HOSTILE
@given(text=hostile_catalogues)
def test_a_hostile_catalogue_is_one_line_within_bounded_memory(tmp_path, text):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    outcome = in_child(lambda: load_catalogue(path), LIMIT)
    assert_sane(outcome, CATALOGUE_PEAK)
    if outcome.kind == "error":
        assert re.match(rf"{re.escape(str(path))}:\d+: \S", outcome.text), outcome.text


def test_the_issues_billion_laughs_is_refused_at_once_by_zoo_list(zoo_cli, tmp_path):
    # a4 (line 5) holds 9**5 = 59,049 values once expanded: the first past MAX_NODES.
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (tmp_path / "laughs.yaml").write_text("\n".join(laughs) + "\n")
    result = zoo_cli("list", "--registry", "laughs.yaml")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.error_lines == [
        f"zoo: error: laughs.yaml:5: more than {MAX_NODES:,} values once its aliases are "
        "expanded; a catalogue needs far fewer"
    ]


# -- run folders -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder killed before its end (no summary.json): what --resume reads."""
    run_dir = tmp_path_factory.mktemp("interrupted") / "run"
    zoo.train("circle-v2", epochs=30, checkpoint_every=10, out=run_dir, plot=False)
    (run_dir / "summary.json").unlink()
    return run_dir


def copy_run(source: Path, parent: Path) -> Path:
    target = fresh_dir(parent) / "run"
    shutil.copytree(source, target)
    return target


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


tensors = st.one_of(
    st.builds(lambda shape: torch.zeros(shape), st.lists(st.integers(0, 4), max_size=3)),
    st.just(torch.zeros(1).expand(2**20, 2**20)),  # 2**40 elements on 4 bytes of storage
    st.just(torch.zeros(10, 2, dtype=torch.int64)),
    st.just(torch.full((10, 2), float("nan"))),
    st.just(torch.zeros(5056, dtype=torch.uint8)),
)
checkpoint_values = st.one_of(json_values, tensors, st.lists(tensors, max_size=2))


@HOSTILE
@given(data=st.data())
def test_a_hostile_checkpoint_is_resumed_or_refused_in_one_line_with_nothing_changed(
    interrupted, tmp_path, data
):
    run_dir = copy_run(interrupted, tmp_path)
    checkpoint = run_dir / "checkpoint.pt"
    raw = checkpoint.read_bytes()
    if data.draw(st.booleans()):
        loaded = torch.load(checkpoint, weights_only=True)
        checkpoint.write_bytes(save_bytes(data.draw(mutated(loaded, checkpoint_values))))
    else:
        checkpoint.write_bytes(data.draw(damaged_bytes(raw)))
    before = digest(run_dir)
    outcome = in_child(lambda: zoo.resume(run_dir, plot=False), LIMIT)
    assert_sane(outcome, FOLDER_PEAK, names="checkpoint.pt")
    if outcome.kind == "error":
        assert digest(run_dir) == before


@HOSTILE
@given(data=st.data())
def test_a_hostile_config_or_weights_file_is_used_or_refused_in_one_line(
    interrupted, tmp_path, data
):
    run_dir = copy_run(interrupted, tmp_path)
    (run_dir / "weights.pt").write_bytes((interrupted / "weights.pt").read_bytes())
    target = data.draw(st.sampled_from(["config.json", "weights.pt"]))
    path = run_dir / target
    if target == "config.json":
        config = json.loads(path.read_text())
        text = json.dumps(data.draw(mutated(config, json_values)))
        hostile = data.draw(st.sampled_from(["", "deep", "digits", "nan", "big", "bytes"]))
        if hostile == "deep":
            text = text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
        elif hostile == "digits":
            text = text[:-1] + ', "x": ' + "7" * 50_000 + "}"
        elif hostile == "nan":
            text = text[:-1] + ', "x": NaN}'
        elif hostile == "big":
            text = text[:-1] + ", " + '"x": 1}'.rjust(5 * MiB)
        path.write_bytes(data.draw(st.binary(max_size=64)) if hostile == "bytes" else text.encode())
    else:
        weights = torch.load(path, weights_only=True)
        if data.draw(st.booleans()):
            path.write_bytes(save_bytes(data.draw(mutated(weights, checkpoint_values))))
        else:
            path.write_bytes(data.draw(damaged_bytes(path.read_bytes())))
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert_sane(outcome, FOLDER_PEAK)


# -- comparison folders ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished comparison folder: compare.json and one part per chunk."""
    out = tmp_path_factory.mktemp("compared") / "kept"
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=20, workers=2, out=out)
    return out


@HOSTILE
@given(data=st.data())
def test_a_hostile_comparison_folder_is_resumed_or_refused_in_one_line(comparison, tmp_path, data):
    folder = fresh_dir(tmp_path) / "kept"
    shutil.copytree(comparison, folder)
    target = data.draw(st.sampled_from(["compare.json", "part"]))
    if target == "compare.json":
        request = json.loads((folder / "compare.json").read_text())
        (folder / "compare.json").write_text(json.dumps(data.draw(mutated(request, json_values))))
    else:
        part = data.draw(st.sampled_from(sorted((folder / "parts").glob("*.pt"))))
        if data.draw(st.booleans()):
            loaded = torch.load(part, weights_only=True)
            part.write_bytes(save_bytes(data.draw(mutated(loaded, checkpoint_values))))
        else:
            part.write_bytes(data.draw(damaged_bytes(part.read_bytes())))
    before = digest(folder / "parts")
    outcome = in_child(lambda: zoo.resume_comparison(folder, workers=1), LIMIT)
    assert_sane(outcome, FOLDER_PEAK)
    if outcome.kind == "error":
        assert digest(folder / "parts") == before


# -- explicit cases the properties above might take long to find ------------------------------


def test_files_over_their_bound_are_refused_before_they_are_read(interrupted, tmp_path):
    run_dir = copy_run(interrupted, tmp_path)
    with open(run_dir / "weights.pt", "wb") as weights:
        weights.truncate(2**31)  # sparse: 2 GiB that take no disk
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert outcome.kind == "error" and outcome.growth < 16 * MiB
    assert "weights.pt: 2,147,483,648 bytes, more than the 1,073,741,824" in outcome.text
    (run_dir / "config.json").write_text(" " * (5 * MiB) + "{}")
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert outcome.kind == "error" and "config.json: 5,242,882 bytes" in outcome.text


def test_a_fifo_in_place_of_a_file_is_refused_not_waited_on(interrupted, tmp_path):
    run_dir = copy_run(interrupted, tmp_path)
    (run_dir / "config.json").unlink()
    os.mkfifo(run_dir / "config.json")
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert outcome.kind == "error" and "config.json: not a regular file" in outcome.text


def test_a_zip_bomb_in_place_of_the_weights_is_refused_unpacked(interrupted, tmp_path):
    run_dir = copy_run(interrupted, tmp_path)
    bomb, packed = save_bytes({"w": torch.zeros(2**26)}), io.BytesIO()  # 256 MiB of zeros
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        source = zipfile.ZipFile(io.BytesIO(bomb))
        for name in source.namelist():
            target.writestr(name, source.read(name))
    (run_dir / "weights.pt").write_bytes(packed.getvalue())
    assert len(packed.getvalue()) < MiB
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert outcome.kind == "error" and outcome.growth < 16 * MiB
    assert "weights.pt: holds compressed or oversized entries" in outcome.text


def test_a_tensor_of_a_trillion_elements_on_four_bytes_is_refused(interrupted, tmp_path):
    run_dir = copy_run(interrupted, tmp_path)
    torch.save({"w": torch.zeros(1).expand(2**20, 2**20)}, run_dir / "weights.pt")
    outcome = in_child(lambda: zoo.evaluate(run_dir), LIMIT)
    assert outcome.kind == "error" and "weights.pt: not a state_dict of tensors (w:" in outcome.text


# -- worker processes --------------------------------------------------------------------------


def test_jobs_never_start_more_workers_than_seeds_or_the_cap():
    jobs = zoo.compare(["circle-v0"], seeds=3, epochs=1, workers=1).job_results
    planned = [result.job for result in jobs]
    assert worker_count(planned, 100_000) == 3  # three seeds: three chunks at most
    assert worker_count(planned * 100, 100_000) == most_workers()
    assert most_workers() <= 4 * len(os.sched_getaffinity(0)) and most_workers() <= 256


def test_compare_with_a_hundred_thousand_jobs_finishes(zoo_cli):
    result = zoo_cli("compare", "circle-v2", "--seeds", "3", "--epochs", "5", "--jobs", "100000")
    assert result.returncode == 0, result.stderr
    assert "circle-v2" in result.stdout


# -- CSV tables (zoo train --dataset FILE.csv) -------------------------------------------------


def write_numbers(path: Path, rows: int, labels: Any = None) -> Path:
    """``rows`` rows of 20 numbers with five decimals and a label (0 or 1 by default)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 20))
    labels = rng.integers(0, 2, rows) if labels is None else labels
    with open(path, "w") as file:
        file.write(",".join(f"x{i}" for i in range(1, 21)) + ",label\n")
        for start in range(0, rows, 10_000):
            block = X[start : start + 10_000]
            file.writelines(
                ",".join(f"{v:.5f}" for v in row) + f",{label}\n"
                for row, label in zip(block.tolist(), labels[start : start + 10_000])
            )
    return path


def table_bytes(table: Table) -> int:
    return table.X.nbytes + table.labels.nbytes + table.lines.nbytes


def test_a_csv_table_past_its_memory_bound_is_refused_at_that_line_having_held_little(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(limits, "MOST_BYTES", 2 * MiB)
    path = write_numbers(tmp_path / "big.csv", 60_000)  # about 11 MB: 5.8 MiB as a table
    each = limits.row_bytes(20, 1)
    outcome = in_child(lambda: read_table(path), LIMIT)
    assert outcome.text == (
        f"{path}:{2 * MiB // each + 2}: more than 2 MiB as a table in memory ({each} bytes a "
        "row); use a smaller table"
    )
    assert outcome.growth < 16 * MiB, f"{outcome.growth / MiB:.0f} MiB"


def test_a_csv_table_past_its_cell_bound_is_refused_at_that_line(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MOST_CELLS", 100_000)  # labels count: 21 cells a row
    path = write_numbers(tmp_path / "big.csv", 20_000)
    with pytest.raises(DataError) as caught:
        read_table(path)
    assert str(caught.value) == (
        f"{path}:{100_000 // 21 + 2}: more than 100,000 cells; use a smaller table"
    )


def test_a_label_column_of_ids_is_refused_at_its_thousand_and_first_label(tmp_path):
    path = write_numbers(tmp_path / "ids.csv", 100_000, [f"id{i}" for i in range(100_000)])
    outcome = in_child(lambda: read_table(path), LIMIT)
    assert outcome.text.startswith(
        f"{path}:{MOST_CLASSES + 2}: more than {MOST_CLASSES:,} distinct labels in column 'label'"
    )
    assert outcome.growth < 16 * MiB, f"{outcome.growth / MiB:.0f} MiB"


def test_reading_a_csv_table_holds_a_small_multiple_of_the_table(tmp_path, monkeypatch):
    path = write_numbers(tmp_path / "table.csv", 100_000)  # 16 MB of text, 9.2 MiB as a table
    monkeypatch.setattr(zoo.tables.arrow, "ARROW_FROM", 1 << 62)  # numpy's path: traced
    tracemalloc.start()
    table = read_table(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert table.X.shape == (100_000, 20)
    assert peak < 2 * table_bytes(table) + 8 * MiB, f"{peak / MiB:.0f} MiB"
    # pyarrow's path, measured by the kernel: float64 columns, then the float32 table. Its
    # threads and memory pool start at its first read in a process (tens of MB, once): here.
    monkeypatch.setattr(zoo.tables.arrow, "ARROW_FROM", 0)
    read_table(path)
    outcome = in_child(lambda: table_bytes(read_table(path)), 64 * LIMIT)  # mimalloc reserves
    assert outcome.kind == "result" and int(outcome.text) == table_bytes(table)
    assert outcome.growth < 4 * table_bytes(table) + 16 * MiB, f"{outcome.growth / MiB:.0f} MiB"
