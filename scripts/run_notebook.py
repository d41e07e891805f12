"""Run examples/lesson-02.ipynb from a clean kernel and keep its outputs in the file.

The documentation site shows the notebook with the outputs committed here (it does not run
it at build time: the site builds in seconds, with no kernel, and GitHub shows the same
outputs); tests/test_lesson_notebook.py runs it again and checks that what it shows is what
is committed. After changing the notebook, or anything that moves its numbers:

    .venv/bin/python scripts/run_notebook.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "lesson-02.ipynb"


def execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` run top to bottom in a new kernel whose folder is ``cwd``."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        record_timing=False,  # no dates in the committed file
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return notebook


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOK
    with tempfile.TemporaryDirectory() as folder:
        notebook = execute(path, Path(folder))
    nbformat.write(notebook, path)
    print(path)


if __name__ == "__main__":
    main()
