"""zoo predict never destroys what is not its own, and never prints a wrong number.

--output replaces a regular file atomically, follows a symlink to its target, streams into a
FIFO or a device without replacing it, and refuses the input file and folders. An input whose
values overflow inside the model is one line naming its line, and nothing is written.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import assert_one_line_error

import zoo

ROWS = "X1,X2\n0.1,0.2\n-0.9,0.3\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("predict") / "run"
    zoo.train("circle-v2", epochs=200, out=folder, plot=False)
    return folder


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS)
    return path


def predict(zoo_cli, run_dir: Path, rows: Path, output: Path | str):
    return zoo_cli("predict", str(run_dir), "--input", str(rows), "--output", str(output))


def test_a_symlink_is_followed_its_target_written_and_the_link_kept(
    zoo_cli, run_dir, rows, tmp_path
):
    target, link = tmp_path / "target.csv", tmp_path / "link.csv"
    target.write_text("old\n")
    link.symlink_to(target)
    result = predict(zoo_cli, run_dir, rows, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().splitlines()[0] == "label,p_0,p_1"
    assert len(target.read_text().splitlines()) == 3


def test_a_fifo_is_streamed_into_and_stays_a_fifo(zoo_cli, run_dir, rows, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = predict(zoo_cli, run_dir, rows, fifo)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received[0].splitlines()[0] == "label,p_0,p_1" and len(received[0].splitlines()) == 3


def test_a_device_is_written_to_not_replaced(zoo_cli, run_dir, rows):
    before = os.stat(os.devnull)
    result = predict(zoo_cli, run_dir, rows, os.devnull)
    assert result.returncode == 0, result.stderr
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )


def test_the_input_file_as_output_is_refused_and_kept(zoo_cli, run_dir, rows, tmp_path):
    alias = tmp_path / "alias.csv"
    alias.symlink_to(rows)
    for output in (rows, alias):
        result = predict(zoo_cli, run_dir, rows, output)
        assert_one_line_error(
            result, "is an input file of this command; write the predictions elsewhere"
        )
        assert rows.read_text() == ROWS


def test_a_folder_as_output_is_refused(zoo_cli, run_dir, rows, tmp_path):
    result = predict(zoo_cli, run_dir, rows, tmp_path)
    assert_one_line_error(result, "--output", "is a directory")


def test_an_existing_output_is_replaced_whole_or_not_at_all(zoo_cli, run_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("X1,X2\n0.1,0.2\n0.3,oops\n")
    output = tmp_path / "predictions.csv"
    output.write_text("kept\n")
    result = predict(zoo_cli, run_dir, bad, output)
    assert_one_line_error(result, "bad.csv:3: column 2: 'oops' is not a number")
    assert output.read_text() == "kept\n"


def test_values_that_overflow_inside_the_model_are_one_line_and_nothing_is_written(
    zoo_cli, run_dir, tmp_path
):
    huge = tmp_path / "huge.csv"
    huge.write_text("X1,X2\n0.1,0.2\n3.4e38,3.4e38\n")
    output = tmp_path / "predictions.csv"
    result = predict(zoo_cli, run_dir, huge, output)
    assert_one_line_error(
        result,
        "huge.csv:3: the model's output is not a number for [3.4e+38, 3.4e+38] "
        "(values this large overflow inside it); nothing was written",
    )
    assert not output.exists()


def test_a_line_of_only_commas_is_an_error_not_a_dropped_row(zoo_cli, run_dir, tmp_path):
    commas = tmp_path / "commas.csv"
    commas.write_text("X1,X2\n0.1,0.2\n,\n0.3,0.4\n")
    result = zoo_cli("predict", str(run_dir), "--input", str(commas))
    assert_one_line_error(result, "commas.csv:3: a row with no values; remove the line")
    assert result.stdout == ""
