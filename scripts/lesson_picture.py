"""Draw docs/lesson.png, the picture at the top of README.md and of the site's home page.

Lesson 02 in one picture: the decision boundaries of circle-v0 (linear: a straight line
through two rings) and circle-v2 (ReLU: a closed curve around the inner ring), each trained
with its configured settings at seed 42 and drawn over the test points. Run it from the
repository's folder after a change that moves those numbers:

    .venv/bin/python scripts/lesson_picture.py
"""

from __future__ import annotations

from pathlib import Path

import zoo

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "lesson.png"


def main() -> None:
    comparison = zoo.compare(["circle-v0", "circle-v2"], seeds=1, workers=1)
    print(zoo.plot_comparison(comparison, PICTURE))


if __name__ == "__main__":
    main()
