"""Every file zoo writes on request follows one set of rules (zoo.runs.outputs).

Predictions (--output), the HTML report (zoo compare --html, zoo report --html,
zoo.html_report), the comparison's picture (zoo.plot_comparison) and its saved files
(zoo.save_comparison): a link is followed and its target written, a device or a FIFO is
written to and stays what it was, a folder is refused, an input of the command is refused and
kept, a regular file is replaced whole or not at all.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import zoo
from zoo.cli import main
from zoo.errors import ZooError

ROWS = "x1,x2,label\n" + "".join(
    f"{i % 7},{i % 5},{'cat' if i % 3 else 'dog'}\n" for i in range(40)
)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outputs")


@pytest.fixture(scope="module")
def data(work: Path) -> Path:
    path = work / "pets.csv"
    path.write_text(ROWS)
    return path


@pytest.fixture(scope="module")
def comparison(data: Path):
    return zoo.compare(["circle-v0"], datasets=[str(data)], seeds=2, epochs=3, workers=1)


@pytest.fixture(scope="module")
def folder(work: Path, data: Path) -> Path:
    out = work / "kept"
    zoo.compare(["circle-v0"], datasets=[str(data)], seeds=2, epochs=3, workers=1, out=out)
    return out


@pytest.fixture(scope="module")
def run_dir(work: Path, data: Path) -> Path:
    zoo.train("circle-v0", data=str(data), epochs=3, out=work / "run", plot=False)
    return work / "run"


def cli(*args: str) -> int:
    return main(list(args))


# Each writer writes to ``path`` and names the input it must never replace.
Writer = Callable[[Path], None]


@pytest.fixture(params=["predict", "compare --html", "report --html", "page", "picture", "save"])
def writer(request, comparison, folder, run_dir, data) -> tuple[Writer, Path, str]:
    """(write to a path, an input of that command, the file name the writer needs)."""
    kind = request.param
    if kind == "predict":

        def write(path: Path) -> None:
            assert cli("predict", str(run_dir), "--input", str(data), "--output", str(path)) == 0

        return write, data, "out.csv"
    if kind == "compare --html":

        def write(path: Path) -> None:
            args = ["circle-v0", "--dataset", str(data), "--seeds", "1", "--epochs", "2"]
            assert cli("compare", *args, "--jobs", "1", "--html", str(path)) == 0

        return write, data, "page.html"
    if kind == "report --html":
        return (
            lambda path: cli("report", str(folder), "--html", str(path)) == 0 or fail(),
            folder / "results.json",
            "page.html",
        )
    if kind == "page":
        return lambda path: zoo.html_report(comparison, path) and None, data, "page.html"
    if kind == "picture":
        return lambda path: zoo.plot_comparison(comparison, path) and None, data, "boundaries.png"
    return lambda path: zoo.save_comparison(comparison, path.parent), data, "summary.md"


def named_path(writer: tuple[Writer, Path, str]) -> bool:
    """Whether the writer writes the path it is given (not a file of that path's folder)."""
    return writer[2] != "summary.md"


def fail() -> None:
    raise AssertionError("the command failed")


def test_a_link_is_followed_its_target_written_and_the_link_kept(writer, tmp_path):
    write, _, name = writer
    target, link = tmp_path / "target", tmp_path / name
    target.write_text("old\n")
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old\n" and target.stat().st_size > 0


def test_a_dangling_link_creates_its_target(writer, tmp_path):
    write, _, name = writer
    target, link = tmp_path / "new-target", tmp_path / name
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and target.is_file() and target.stat().st_size > 0


def null_device(path: Path) -> Path:
    """A device node like /dev/null at ``path`` (one of the test's own, which a zoo that
    replaced devices would replace instead of the machine's)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.environ.get("CI"):
            pytest.fail("CI must be able to make a device node (mknod)")
        pytest.skip("cannot make a device node here")
    return path


def test_a_device_is_written_to_not_replaced(writer, tmp_path):
    write, _, name = writer
    device = null_device(tmp_path / name)  # named as the writer needs
    before = os.stat(device)
    write(device)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )


def test_a_link_to_a_device_writes_to_the_device(writer, tmp_path):
    write, _, name = writer
    link = tmp_path / name
    link.symlink_to(null_device(tmp_path / "null"))
    before = os.stat(tmp_path / "null")
    write(link)
    after = os.stat(tmp_path / "null")
    assert link.is_symlink() and stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_fifo_is_streamed_into_and_stays_a_fifo(writer, tmp_path):
    write, _, name = writer
    fifo = tmp_path / name
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write(fifo)
    reader.join(timeout=60)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and len(received[0]) > 0


def test_an_input_of_the_command_is_refused_and_kept(writer, tmp_path, capsys):
    write, source, name = writer
    before = source.read_bytes()
    alias = tmp_path / name
    alias.symlink_to(source)
    for path in (source, alias) if named_path(writer) else (alias,):
        capsys.readouterr()
        with pytest.raises((ZooError, AssertionError)) as caught:
            write(path)
        said = str(caught.value) + capsys.readouterr().err
        assert "is an input file of this command" in said, said
        assert source.read_bytes() == before


def test_a_folder_is_refused(writer, tmp_path, capsys):
    write, _, name = writer
    folder = tmp_path / name
    folder.mkdir()
    capsys.readouterr()
    with pytest.raises((ZooError, AssertionError)) as caught:
        write(folder)
    said = str(caught.value) + capsys.readouterr().err
    assert "folder" in said or "directory" in said, said
    assert folder.is_dir() and not any(folder.iterdir())


def test_compare_html_onto_its_data_is_refused_before_any_training(data, tmp_path, capsys):
    before = data.read_bytes()
    status = cli("compare", "circle-v0", "--dataset", str(data), "--out", str(tmp_path / "o"),
                 "--html", str(data))  # fmt: skip
    assert status == 1
    assert "is an input file of this command; write the report elsewhere" in capsys.readouterr().err
    assert data.read_bytes() == before and not (tmp_path / "o").exists()


def test_report_html_onto_a_file_of_the_folder_is_refused(folder, capsys):
    for name in ("results.json", "compare.json"):
        before = (folder / name).read_bytes()
        assert cli("report", str(folder), "--html", str(folder / name)) == 1
        assert "is an input file of this command" in capsys.readouterr().err
        assert (folder / name).read_bytes() == before


def test_a_link_planted_in_a_comparison_folder_is_replaced_not_followed(folder, tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    for path in folder.rglob("*"):
        if path.is_file():
            (kept / path.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
            (kept / path.relative_to(folder)).write_bytes(path.read_bytes())
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (kept / "report.html").symlink_to(victim)
    assert zoo.html_report(kept) == kept / "report.html"
    assert victim.read_text() == "precious\n"
    assert not (kept / "report.html").is_symlink() and "<html" in (kept / "report.html").read_text()
