"""Benchmark 4: how fast `zoo --help` answers, against `python -c "import click"`.

zoo's command line imports neither torch nor any plugin to print its help, so it should cost
little more than importing click. Median of 15 interleaved runs of each.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

from common import fresh_process, interleaved, machine, median

REPEATS = 15


def main() -> None:
    seconds = interleaved(
        {
            "zoo --help": lambda: fresh_process(["-m", "zoo", "--help"]),
            "zoo --version": lambda: fresh_process(["-m", "zoo", "--version"]),
            "import click": lambda: fresh_process(["-c", "import click"]),
            "import torch": lambda: fresh_process(["-c", "import torch"]),
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
