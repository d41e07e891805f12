"""Benchmark 5: `zoo train circle-v2` from a shell, start to finish, against a script.

What a learner feels: a fresh process that imports everything, trains circle-v2 for 1000
epochs and reports. The baseline is `lesson_script.py`, the same work written by hand with
nothing saved. zoo also finds its plugins, reads registry.yaml, checks the model and writes
a run folder (config, checkpoints, history, summary), with and without the picture.
Median of 7 interleaved runs of each, each a fresh Python process.

    .venv/bin/python benchmarks/cold_train.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import interleaved, machine, median

REPEATS = 7
SCRIPT = Path(__file__).with_name("lesson_script.py")


def timed(args: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        zoo = ["-m", "zoo", "train", "circle-v2", "--out"]
        runs = iter(range(10**6))  # a fresh run folder for every zoo run
        seconds = interleaved(
            {
                "lesson script": lambda: timed([str(SCRIPT)], folder),
                "zoo train --no-plot": lambda: timed([*zoo, f"r{next(runs)}", "--no-plot"], folder),
                "zoo train": lambda: timed([*zoo, f"r{next(runs)}"], folder),
                "import torch": lambda: timed(["-c", "import torch"], folder),
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
