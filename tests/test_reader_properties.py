"""Property-based tests of the readers of run and comparison folders.

Whatever bytes a folder's file holds (config.json, summary.json, history.csv, weights.pt,
checkpoint.pt, results.json), zoo's reader gives a valid result or one ZooError line naming
the file: never another exception, never a wait. The readers are zoo.runs.bounded (sizes,
regular files, strict JSON, CSV) and zoo.runs.schema (field by field).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from hostile import damaged_bytes, json_values, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.comparison.store import ComparisonFolder
from zoo.errors import ZooError
from zoo.runs import folder
from zoo.runs.listing import describe
from zoo.training.records import LogRow

pytestmark = pytest.mark.slow  # hundreds of generated files, each read back

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_serial = itertools.count()  # a fresh folder per example: hypothesis reuses tmp_path
FILES = ["config.json", "summary.json", "history.csv", "weights.pt", "checkpoint.pt"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    zoo.train("circle-v0", epochs=20, checkpoint_every=10, out=run_dir, plot=False)
    return run_dir


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compared") / "kept"
    zoo.compare(["circle-v0"], seeds=2, epochs=5, workers=1, out=out)
    return out


def answers_sanely(read: Any, name: str) -> Any:
    """``read()``'s result, or None after checking it raised one ZooError line naming ``name``."""
    try:
        return read()
    except ZooError as exc:
        message = str(exc)
        assert "\n" not in message and name in message, message
        return None


def history_text(rows: list[list[Any]]) -> bytes:
    lines = [",".join(LogRow.__dataclass_fields__)] + [",".join(map(str, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode()


history_cells = st.one_of(
    st.integers(-5, 10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.just("nan"),
    st.just('"'),
)


@st.composite
def hostile_files(draw: st.DrawFn, run_dir: Path) -> tuple[str, bytes]:
    """One of a run folder's files, damaged, mutated or replaced by any content."""
    name = draw(st.sampled_from(FILES))
    raw = (run_dir / name).read_bytes()
    if name.endswith(".json") and draw(st.booleans()):
        return name, json.dumps(draw(mutated(json.loads(raw), json_values))).encode()
    if name == "history.csv" and draw(st.booleans()):
        rows = draw(st.lists(st.lists(history_cells, min_size=0, max_size=6), max_size=5))
        return name, history_text(rows)
    if name.endswith(".pt") and draw(st.booleans()):
        loaded = torch.load(io.BytesIO(raw), weights_only=True)
        buffer = io.BytesIO()
        torch.save(draw(mutated(_plain(loaded), json_values)), buffer)
        return name, buffer.getvalue()
    return name, draw(damaged_bytes(raw))


def _plain(data: Any) -> Any:
    """Tensors as lists: a structure ``mutated`` can walk (torch.save writes lists too)."""
    if isinstance(data, torch.Tensor):
        return data.tolist()
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


@EXAMPLES
@given(data=st.data())
def test_any_content_of_a_run_folders_file_is_loaded_or_one_line(finished, tmp_path, data):
    run_dir = Path(shutil.copytree(finished, tmp_path / f"run-{next(_serial)}"))
    name, content = data.draw(hostile_files(finished))
    (run_dir / name).write_bytes(content)
    run = answers_sanely(lambda: zoo.load(run_dir), name)
    if run is not None:
        assert 0 <= run.summary["test_acc"] <= 100 and run.history
        assert all(math.isfinite(row.test_acc) for row in run.history)
    listed = describe(run_dir)  # zoo runs: the folder is listed whatever it holds
    assert (listed.status == "unreadable") == (listed.problem is not None)


@EXAMPLES
@given(raw=st.binary(max_size=400))
def test_any_bytes_as_summary_or_history_are_read_or_one_line(tmp_path, raw):
    summary, history = tmp_path / "summary.json", tmp_path / "history.csv"
    summary.write_bytes(raw)
    history.write_bytes(raw)
    answers_sanely(lambda: folder.read_summary(summary), "summary.json")
    answers_sanely(lambda: folder.read_history(history), "history.csv")


@EXAMPLES
@given(data=st.data())
def test_any_results_json_is_read_or_one_line(compared, tmp_path, data):
    kept = Path(shutil.copytree(compared, tmp_path / f"kept-{next(_serial)}"))
    raw = (kept / "results.json").read_bytes()
    if data.draw(st.booleans()):
        content = json.dumps(data.draw(mutated(json.loads(raw), json_values))).encode()
    else:
        content = data.draw(damaged_bytes(raw))
    (kept / "results.json").write_bytes(content)
    results = answers_sanely(ComparisonFolder(kept).results, "results.json")
    if results is not None:
        assert all(0 <= row["test_acc"]["mean"] <= 100 for row in results["summary"])
