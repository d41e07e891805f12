"""Benchmark: the cost of `--log-every 1` grows linearly with the epochs (issue #22).

A checkpoint is written at every log point. It used to hold the whole history, so with
``--log-every 1`` each one was larger than the last and N epochs cost O(N²): 3000 epochs took
73 s against 1.4 s by default. Now history.csv and epochs.csv are appended and the checkpoint
only counts their rows, so each checkpoint costs the same and N epochs cost O(N).

For each N, ``zoo.train("circle-v2", epochs=N, log_every=1)`` into a run folder (a checkpoint,
with its fsyncs, after every epoch) and the same run with the default log points (every
N/10 epochs), interleaved. Printed: the seconds, the milliseconds per epoch (flat when the
cost is linear), and how the per-epoch cost at each N compares with the smallest N's.

    .venv/bin/python benchmarks/log_every.py
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from pathlib import Path

from common import interleaved, machine, median

import zoo

EPOCHS, REPEATS = (250, 500, 1000, 2000), 3


def timed(epochs: int, log_every: int | str) -> float:
    """Seconds of one training into a fresh run folder, the folder's writes included."""
    folder = Path(tempfile.mkdtemp(prefix="zoo-log-every-"))
    try:
        start = time.perf_counter()
        zoo.train("circle-v2", epochs=epochs, log_every=log_every, out=folder / "run", plot=False)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(folder)


def main() -> None:
    print(f"machine: {machine()}")
    print(f"circle-v2 into a run folder, median of {REPEATS} interleaved runs each")
    print("  epochs   --log-every 1   per epoch   default   per epoch(1) / per epoch(1) at first")
    first = None
    for epochs in EPOCHS:
        seconds = interleaved(
            {
                "every": functools.partial(timed, epochs, 1),
                "auto": functools.partial(timed, epochs, "auto"),
            },
            REPEATS,
            warm_up=epochs == EPOCHS[0],
        )
        every, auto = median(seconds["every"]), median(seconds["auto"])
        per_epoch = every / epochs
        first = first or per_epoch
        print(
            f"  {epochs:6d}   {every:10.2f} s   {per_epoch * 1000:6.2f} ms   {auto:6.2f} s"
            f"   {per_epoch / first:5.2f}x"
        )
    print("linear: the per-epoch cost stays flat (about 1x) as the epochs grow")


if __name__ == "__main__":
    main()
