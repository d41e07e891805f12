"""Benchmark 4: how fast `zoo --help` answers, against `python -c "import click"`.

zoo's command line imports neither torch nor any plugin to print its help, so it should cost
little more than importing click. Median of 15 interleaved runs of each.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import subprocess
import sys
import time

from common import interleaved, machine, median

REPEATS = 15


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    seconds = interleaved(
        {
            "zoo --help": lambda: timed(["-m", "zoo", "--help"]),
            "zoo --version": lambda: timed(["-m", "zoo", "--version"]),
            "import click": lambda: timed(["-c", "import click"]),
            "import torch": lambda: timed(["-c", "import torch"]),
        },
        REPEATS,
    )
    click_time = median(seconds["import click"])
    print(f"machine: {machine()}")
    print(f"median of {REPEATS} runs, each a fresh Python process")
    for name in ("zoo --help", "zoo --version", "import click", "import torch"):
        value = median(seconds[name])
        print(f"  {name:14} {value * 1000:7.0f} ms   ({value / click_time:.2f}x import click)")


if __name__ == "__main__":
    main()
