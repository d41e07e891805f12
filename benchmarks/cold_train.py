"""Benchmark 5: `zoo train circle-v2` from a shell, start to finish, against a script.

What a learner feels: a fresh process that imports everything, trains circle-v2 for 1000
epochs and reports. The baseline is `lesson_script.py`, the same work written by hand with
nothing saved. zoo also finds its plugins, reads registry.yaml, checks the model and writes
a run folder (config, checkpoints, history, summary), with and without the picture.
Median of 7 interleaved runs of each, each a fresh Python process.

    .venv/bin/python benchmarks/cold_train.py
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from common import fresh_process, interleaved, machine, median

REPEATS = 7
SCRIPT = Path(__file__).with_name("lesson_script.py")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runs = itertools.count()

        def zoo_train(*flags: str) -> float:  # a fresh run folder for every run
            return fresh_process(
                ["-m", "zoo", "train", "circle-v2", "--out", f"r{next(runs)}", *flags], folder
            )

        seconds = interleaved(
            {
                "lesson script": lambda: fresh_process([str(SCRIPT)], folder),
                "zoo train --no-plot": lambda: zoo_train("--no-plot"),
                "zoo train": zoo_train,
                "import torch": lambda: fresh_process(["-c", "import torch"], folder),
            },
            REPEATS,
        )
    script = median(seconds["lesson script"])
    print(f"machine: {machine()}")
    print(f"circle-v2, 1000 epochs, median of {REPEATS} runs, each a fresh Python process")
    for name in ("lesson script", "zoo train --no-plot", "zoo train", "import torch"):
        value = median(seconds[name])
        print(f"  {name:20} {value:5.2f} s   ({value / script:.2f}x the lesson script)")


if __name__ == "__main__":
    main()
