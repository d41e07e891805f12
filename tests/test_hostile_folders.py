"""Run and comparison folders that someone tampered with: zoo loses nothing, hangs on nothing,
and answers in one line.

A folder's lock file that is a link (or any file zoo did not make) is refused, never followed;
a resume that is refused changes no byte of its folder; a summary.json or results.json that
is not what zoo writes is named, field by field; a FIFO or a device where zoo expects a file
(history.csv, the CSV a run names in its config.json, a catalogue a comparison names in its
compare.json) is refused, not waited on; history.csv is read within bounds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from limits import MiB, fails_if_blocked, in_child

import zoo
from zoo.cli import main
from zoo.errors import RunFolderError, ZooError

HANG = 20  # seconds: a child still busy after this waits on a FIFO (a bound is shown in one)


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links as links) with its SHA-256: the folder, byte for byte."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "link to " + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "folder"
    return found


def run_zoo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``zoo ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str, *fragments: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    zoo.train("circle-v2", epochs=30, checkpoint_every=10, out=run_dir, plot=False)
    return run_dir


@pytest.fixture
def run_dir(finished: Path, tmp_path: Path) -> Path:
    """A finished run of this test's own."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


@pytest.fixture
def stopped(run_dir: Path) -> Path:
    """A run stopped before its end: no summary.json, a checkpoint to go on from."""
    (run_dir / "summary.json").unlink()
    return run_dir


# -- the lock file ---------------------------------------------------------------------------


def lock_swapped_for(kind: str, folder: Path, victim: Path) -> None:
    lock = folder / ".zoo-lock"
    if kind == "symlink":
        lock.symlink_to(os.path.relpath(victim, folder))
    elif kind == "dangling symlink":
        lock.symlink_to(folder.parent / "created-by-zoo.txt")
    elif kind == "hard link":
        os.link(victim, lock)
    elif kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    else:  # a regular file holding something else than a pid
        lock.write_text("my notes, not a lock\n")


LOCK_ATTACKS = ["symlink", "dangling symlink", "hard link", "fifo", "folder", "foreign file"]


@pytest.mark.parametrize("kind", LOCK_ATTACKS)
def test_a_lock_file_zoo_did_not_make_is_refused_and_nothing_is_written(
    capsys, stopped, tmp_path, kind
):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_swapped_for(kind, stopped, victim)
    before = digest(tmp_path)
    status, _, err = run_zoo(capsys, "train", "--resume", str(stopped), "--epochs", "60")
    assert status == 1
    one_line_error(err, str(stopped / ".zoo-lock"), "not a lock file zoo made")
    assert digest(tmp_path) == before
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "created-by-zoo.txt").exists()


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A comparison stopped before its end: compare.json and its parts, no results yet."""
    folder = tmp_path_factory.mktemp("compared") / "kept"
    zoo.compare(["circle-v0"], seeds=2, epochs=5, workers=1, out=folder)
    for name in ("results.json", "results.csv", "summary.csv", "summary.md"):
        (folder / name).unlink()
    return folder


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "hard link"])
def test_compare_resume_refuses_a_lock_file_zoo_did_not_make(capsys, compared, tmp_path, kind):
    folder = Path(shutil.copytree(compared, tmp_path / "kept"))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_swapped_for(kind, folder, victim)
    before = digest(tmp_path)
    status, _, err = run_zoo(capsys, "compare", "--resume", str(folder), "--jobs", "1")
    assert status == 1
    one_line_error(err, ".zoo-lock", "not a lock file zoo made")
    assert digest(tmp_path) == before


def test_a_stale_lock_of_a_killed_run_is_taken_over(stopped):
    (stopped / ".zoo-lock").write_text("999999\n")  # the pid of a process long gone
    run = zoo.resume(stopped, plot=False)
    assert run.summary["epochs"] == 30 and not (stopped / ".zoo-lock").exists()


# -- a refused resume changes nothing --------------------------------------------------------


def wrong_shapes(checkpoint: dict) -> None:
    checkpoint["model"] = {k: torch.zeros(3, 3) for k in checkpoint["model"]}


def bad_learning_rate(checkpoint: dict) -> None:
    checkpoint["optimizer"]["param_groups"][0]["lr"] = "x"


def kept_of_another_model(checkpoint: dict) -> None:
    checkpoint["kept"] = {k: torch.zeros(7) for k in checkpoint["kept"]}


def foreign_momentum(checkpoint: dict) -> None:
    checkpoint["optimizer"]["state"] = {0: {"momentum_buffer": torch.zeros(99)}}


def broken_generator(checkpoint: dict) -> None:
    checkpoint["rng"]["torch"] = torch.zeros(3, dtype=torch.uint8)


CHECKPOINT_DAMAGE: dict[str, Callable[[dict], None]] = {
    "wrong shapes": wrong_shapes,
    "lr 'x'": bad_learning_rate,
    "kept weights of another model": kept_of_another_model,
    "momentum of another shape": foreign_momentum,
    "broken generator": broken_generator,
}


@pytest.mark.parametrize("finished_first", [True, False], ids=["finished", "stopped"])
@pytest.mark.parametrize("damage", list(CHECKPOINT_DAMAGE))
def test_a_refused_resume_leaves_every_byte_of_the_folder_as_it_was(
    capsys, run_dir, damage, finished_first
):
    further = ["--epochs", "60"] if finished_first else []  # a stopped run goes on to its own
    if not finished_first:
        (run_dir / "summary.json").unlink()
    path = run_dir / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    CHECKPOINT_DAMAGE[damage](checkpoint)
    torch.save(checkpoint, path)
    (run_dir / ".weights.pt.123.tmp").write_bytes(b"half of a file a killed run left")
    before = digest(run_dir)
    status, _, err = run_zoo(capsys, "train", "--resume", str(run_dir), *further)
    assert status == 1
    one_line_error(err, "checkpoint.pt", "nothing was changed")
    assert digest(run_dir) == before


@pytest.mark.parametrize("damage", ["a part of another shape", "a request of other seeds"])
def test_a_refused_compare_resume_leaves_every_byte_of_the_folder_as_it_was(
    capsys, compared, tmp_path, damage
):
    folder = Path(shutil.copytree(compared, tmp_path / "kept"))
    (folder / "parts" / ".0-42.pt.123.tmp").write_bytes(b"half of a part a killed run left")
    if damage == "a part of another shape":
        part = sorted((folder / "parts").glob("*.pt"))[0]
        data = torch.load(part, weights_only=True)
        data["states"] = [{k: torch.zeros(9) for k in state} for state in data["states"]]
        torch.save(data, part)
    else:
        request = json.loads((folder / "compare.json").read_text())
        request["seeds"] = [7]  # fewer seeds than the folder has parts for
        (folder / "compare.json").write_text(json.dumps(request))
    before = digest(folder)
    status, _, err = run_zoo(capsys, "compare", "--resume", str(folder), "--jobs", "1")
    assert status == 1
    one_line_error(err, str(folder))
    assert digest(folder) == before


def test_report_reads_a_folder_and_changes_nothing_in_it(report_folder, tmp_path):
    folder = Path(shutil.copytree(report_folder, tmp_path / "kept"))
    (folder / "parts" / ".0-42.pt.123.tmp").write_bytes(b"a resume's to remove, not a report's")
    before = digest(folder)
    zoo.html_report(folder, tmp_path / "page.html")
    assert digest(folder) == before


def test_the_checked_checkpoint_then_resumes_to_the_uninterrupted_result(stopped, tmp_path):
    resumed = zoo.resume(stopped, epochs=60, plot=False)
    straight = zoo.train("circle-v2", epochs=60, checkpoint_every=10, plot=False)
    assert resumed.summary["test_acc"] == straight.summary["test_acc"]
    assert resumed.summary["train_loss"] == straight.summary["train_loss"]


# -- summary.json and results.json are checked field by field --------------------------------

TAMPERED_SUMMARIES = {
    "a list": ([1], "must be a mapping"),
    "only a text accuracy": ({"test_acc": "x"}, "missing"),
    "a text accuracy": ("x", "test_acc: must be a number from 0 to 100, got 'x'"),
    "an accuracy over 100": (1e9, "test_acc: must be a number from 0 to 100"),
    "an unknown status": ("rm -rf", "status: must be one of"),
}


def tamper_summary(run_dir: Path, case: str) -> str:
    value, fragment = TAMPERED_SUMMARIES[case]
    if not isinstance(value, (list, dict)):  # one field of the real summary changed
        summary = json.loads((run_dir / "summary.json").read_text())
        summary["status" if "status" in case else "test_acc"] = value
        value = summary
    (run_dir / "summary.json").write_text(json.dumps(value))
    return fragment


@pytest.mark.parametrize("case", list(TAMPERED_SUMMARIES))
def test_a_tampered_summary_is_one_line_naming_the_field(capsys, run_dir, case):
    fragment = tamper_summary(run_dir, case)
    before = digest(run_dir)
    with pytest.raises(RunFolderError, match=r"summary\.json: not a zoo run summary") as caught:
        zoo.load(run_dir)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)
    for args in (["plot", str(run_dir)], ["train", "--resume", str(run_dir), "--epochs", "60"]):
        status, _, err = run_zoo(capsys, *args)
        assert status == 1
        one_line_error(err, "summary.json: not a zoo run summary", fragment)
    assert digest(run_dir) == before


def test_zoo_runs_lists_every_folder_and_a_bad_one_as_unreadable_with_why(
    capsys, finished, tmp_path
):
    root = tmp_path / "runs"
    good = Path(shutil.copytree(finished, root / "circle-v2" / "good"))
    bad = Path(shutil.copytree(finished, root / "circle-v2" / "bad"))
    (bad / "summary.json").write_text("[1]")
    os.utime(bad / "config.json", (1, 1))  # listed first: it must not hide the others
    status, out, err = run_zoo(capsys, "runs", str(root))
    assert status == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows[str(good)][3] == "completed"
    assert rows[str(bad)][3] == "unreadable"
    one_line_error(err, str(bad), "summary.json: not a zoo run summary", "must be a mapping")
    listing = {run.run_dir: run for run in zoo.list_runs(root)}
    assert listing[str(bad)].status == "unreadable"
    assert "summary.json: not a zoo run summary" in (listing[str(bad)].problem or "")
    assert listing[str(good)].problem is None


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "kept"
    zoo.compare(["circle-v0"], seeds=2, epochs=5, workers=1, out=folder)
    return folder


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda data: data["results"][0].update(test_acc="x"), "results[0].test_acc"),
        (lambda data: data["summary"][0]["test_acc"].update(mean=[1]), "summary[0].test_acc.mean"),
        (lambda data: data.update(seeds="all"), "seeds"),
        (lambda data: data["summary"][0].update(model=7), "summary[0].model"),
        (lambda data: data["results"].append(3), "results[2]"),
    ],
)
def test_tampered_results_are_one_line_naming_the_field(
    capsys, report_folder, tmp_path, change, fragment
):
    folder = Path(shutil.copytree(report_folder, tmp_path / "kept"))
    data = json.loads((folder / "results.json").read_text())
    change(data)
    (folder / "results.json").write_text(json.dumps(data))
    status, _, err = run_zoo(capsys, "report", str(folder))
    assert status == 1
    one_line_error(err, "results.json: not the results of a zoo comparison", fragment)
    assert not (folder / "report.html").exists()


# -- FIFOs, devices and oversized files where zoo reads back a folder --------------------------


def refused_in_time(action: Callable[[], object], *fragments: str) -> str:
    """``action`` in a child: zoo's one-line error within HANG seconds, in bounded memory."""
    outcome = in_child(action, 512 * MiB, hang=HANG)
    assert outcome.kind == "error", outcome.text
    assert "\n" not in outcome.text
    for fragment in fragments:
        assert fragment in outcome.text, outcome.text
    assert outcome.growth < 200 * MiB, outcome.growth / MiB
    return outcome.text


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "folder"])
def test_history_that_is_not_a_regular_file_is_refused(run_dir, kind):
    history = run_dir / "history.csv"
    history.unlink()
    if kind == "fifo":
        os.mkfifo(history)
    elif kind == "folder":
        history.mkdir()
    else:
        history.symlink_to(kind)
    refused_in_time(lambda: zoo.load(run_dir), "history.csv: not a regular file")
    refused_in_time(lambda: zoo.evaluate(run_dir), "history.csv")


@pytest.mark.parametrize(
    "command", [["predict", "run", "--input", "rows.csv"], ["plot", "run"]], ids=" ".join
)
def test_predict_and_plot_refuse_a_history_that_is_a_fifo_in_one_line(
    capsys, run_dir, tmp_path, monkeypatch, command
):
    history = run_dir / "history.csv"
    history.unlink()
    os.mkfifo(history)  # no writer ever opens it: a reader that waits on it waits for ever
    (tmp_path / "rows.csv").write_text("x1,x2\n0.1,0.2\n")
    monkeypatch.chdir(tmp_path)
    before = digest(run_dir)
    with fails_if_blocked(HANG):
        status, out, err = run_zoo(capsys, *command)
    assert status != 0 and out == ""
    one_line_error(err, "history.csv: not a regular file", "nothing was loaded")
    assert digest(run_dir) == before  # no picture drawn, nothing replaced
    assert stat.S_ISFIFO(os.lstat(history).st_mode)


def test_history_of_ten_million_rows_is_refused_before_it_is_read(run_dir):
    row = b"1,0.5,50.0,0.5,50.0\n"
    with open(run_dir / "history.csv", "wb") as history:
        history.write(b"epoch,train_loss,train_acc,test_loss,test_acc\n")
        history.write(row * 10_000_000)  # 200 MB on disk, never in memory
    refused_in_time(lambda: zoo.load(run_dir), "history.csv: ", "bytes, more than the")


@pytest.mark.parametrize("size", [2 * MiB, 100 * MiB])
def test_a_history_field_of_megabytes_is_one_line(run_dir, size):
    with open(run_dir / "history.csv", "wb") as history:
        history.write(b"epoch,train_loss,train_acc,test_loss,test_acc\n1,")
        history.write(b"9" * size + b",50,0.5,50\n")
    refused_in_time(lambda: zoo.load(run_dir), "history.csv")


@pytest.mark.parametrize(
    "text",
    [
        "epoch,train_loss\n1,0.5\n",
        "epoch,train_loss,train_acc,test_loss,test_acc\n1,0.5,500,0.5,50\n",
        "epoch,train_loss,train_acc,test_loss,test_acc\nx,0.5,50,0.5,50\n",
        "epoch,train_loss,train_acc,test_loss,test_acc\n",
        '"never closed\n',
        "\0\0\0",
    ],
)
def test_a_damaged_history_is_one_line_naming_the_file(run_dir, text):
    (run_dir / "history.csv").write_text(text)
    with pytest.raises(RunFolderError, match=r"history.csv(:\d+)?: ") as caught:
        zoo.load(run_dir)
    assert "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained on a CSV file: its config.json names the file."""
    work = tmp_path_factory.mktemp("csv-run")
    data = work / "pets.csv"
    lines = ["x1,x2,label"] + [f"{i % 7},{i % 5},{'cat' if i % 2 else 'dog'}" for i in range(60)]
    data.write_text("\n".join(lines) + "\n")
    zoo.train("circle-v2", data=str(data), epochs=5, out=work / "run", plot=False)
    return work / "run"


@pytest.mark.parametrize("where", ["data.file.path", "settings.dataset_params.path"])
def test_a_dataset_named_in_config_json_that_is_a_fifo_is_refused(csv_run, tmp_path, where):
    run_dir = Path(shutil.copytree(csv_run, tmp_path / "run"))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    config = json.loads((run_dir / "config.json").read_text())
    if where == "data.file.path":
        config["data"]["file"]["path"] = str(fifo)
    else:
        del config["data"]["file"]
        config["settings"]["dataset_params"]["path"] = str(fifo)
    (run_dir / "config.json").write_text(json.dumps(config))
    refused_in_time(lambda: zoo.evaluate(run_dir), str(fifo), "not a regular file")


def test_a_catalogue_named_in_compare_json_that_is_a_fifo_is_refused(report_folder, tmp_path):
    folder = Path(shutil.copytree(report_folder, tmp_path / "kept"))
    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)
    request = json.loads((folder / "compare.json").read_text())
    request["registry"] = [str(fifo)]
    (folder / "compare.json").write_text(json.dumps(request))
    refused_in_time(
        lambda: zoo.html_report(folder, tmp_path / "page.html"), str(fifo), "not a regular file"
    )
    refused_in_time(lambda: zoo.resume_comparison(folder, workers=1), str(fifo))


# -- evaluating on data of one class ---------------------------------------------------------


def test_eval_on_rows_of_one_class_is_valid(capsys, csv_run, tmp_path):
    cats = tmp_path / "cats.csv"
    cats.write_text("x1,x2,label\n1,2,cat\n3,4,cat\n5,1,cat\n")
    metrics = zoo.evaluate(csv_run, data=cats)
    assert metrics["rows"] == 3 and 0 <= metrics["acc"] <= 100
    status, out, err = run_zoo(capsys, "eval", str(csv_run), "--data", str(cats))
    assert status == 0, err
    assert "3 rows, accuracy" in out


def test_eval_still_refuses_a_class_the_run_never_saw(csv_run, tmp_path):
    birds = tmp_path / "birds.csv"
    birds.write_text("x1,x2,label\n1,2,bird\n")
    with pytest.raises(ZooError, match="label 'bird' is not one of the run's classes"):
        zoo.evaluate(csv_run, data=birds)
