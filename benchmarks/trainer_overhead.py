"""Benchmark 1: the shared trainer against a hand-written loop doing the same work.

zoo.train("circle-v2", epochs=2000) against the lesson's loop written by hand: full batch,
SGD momentum 0.9 (circle-v2's setting), evaluation at the same log points (every 200 epochs),
and, as zoo records them for its curves, each epoch's loss and the accuracy of its logits
(the lesson's loop computes that accuracy every epoch too). Also shown: the hand-written loop
without the per-epoch numbers, zoo's loop before it recorded them. Ratio of training
seconds; the target is at most 1.1 against the same work.

    .venv/bin/python benchmarks/trainer_overhead.py
"""

from __future__ import annotations

from common import circles, interleaved, lesson_loop, machine, median, paired_ratio

import zoo

EPOCHS, REPEATS = 2000, 11


def main() -> None:
    data = circles()
    seconds = interleaved(
        {
            "zoo.train": lambda: zoo.train("circle-v2", epochs=EPOCHS)["seconds"],
            "loop": lambda: lesson_loop(data, 42, EPOCHS, 0.9, EPOCHS // 10, every_epoch=True)[0],
            "bare": lambda: lesson_loop(data, 42, EPOCHS, 0.9, EPOCHS // 10)[0],
        },
        REPEATS,
    )
    ours, theirs, bare = (median(seconds[name]) for name in ("zoo.train", "loop", "bare"))
    print(f"machine: {machine()}")
    print(f"circle-v2, {EPOCHS} epochs, median of {REPEATS} interleaved runs")
    print(f"  zoo.train                                {ours:.3f} s")
    print(f"  hand-written loop, each epoch's numbers  {theirs:.3f} s")
    print(f"  hand-written loop, log points only       {bare:.3f} s")
    ratio = paired_ratio(seconds["zoo.train"], seconds["loop"])
    print(
        f"  ratio zoo / loop    {ratio:.3f}   (the same work; median of paired runs; target <= 1.1)"
    )
    ratio = paired_ratio(seconds["zoo.train"], seconds["bare"])
    print(f"  ratio zoo / bare    {ratio:.3f}   (the loop without each epoch's numbers)")


if __name__ == "__main__":
    main()
