"""A comparison's model card: README.md of a ``zoo compare --out`` folder, one card for
every row, in the Hugging Face layout (front matter with each row's metrics, then the table).

The numbers are the summary's (:mod:`zoo.comparison.summary`), rendered by the same Markdown
table as ``zoo compare --format markdown``; names from data or plugins are escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from zoo.comparison import report
from zoo.text import markdown_cell

if TYPE_CHECKING:
    from zoo.comparison.summary import Comparison, SummaryRow


def comparison_card(comparison: Comparison) -> str:
    """The card of a comparison: every row's numbers and verdict, and what they mean."""
    front = {
        "library_name": "zoo",
        "tags": ["zoo", "pytorch", "comparison"],
        "datasets": comparison.datasets(),
        "metrics": ["accuracy"],
        "model-index": [_row(row, comparison) for row in comparison.rows if row.test_acc],
    }
    seeds = ", ".join(map(str, comparison.seeds))
    dump = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10**6)
    parts = [
        f"---\n{dump}---",
        "# Comparison of " + ", ".join(markdown_cell(label) for label in _labels(comparison)),
        (
            f"Every model trained with each of {len(comparison.seeds)} seeds ({seeds}; varied: "
            f"{', '.join(comparison.vary)}) on each dataset and measured on its held-out test "
            "rows. Per row: the mean test accuracy with its spread, the interquartile mean with "
            "its 95% interval, and against the best row of its dataset the paired difference "
            "and its verdict."
        ),
        "## Results\n\n" + report.markdown(comparison).strip(),
        "## Intended use and limitations\n\n"
        "- These numbers hold for these datasets and settings only; each row's weights were "
        "trained on that dataset alone.\n"
        "- With few seeds an interval is wide: a verdict of 'too few seeds to tell' means "
        "exactly that.",
        "## How to load it\n\n"
        "```sh\nzoo report FOLDER --html report.html   # the interactive report\n```",
    ]
    return "\n\n".join(parts) + "\n"


def _labels(comparison: Comparison) -> list[str]:
    return list(dict.fromkeys(row.label for row in comparison.rows))


def _row(row: SummaryRow, comparison: Comparison) -> dict[str, Any]:
    assert row.test_acc is not None
    metrics: list[dict[str, Any]] = [
        {
            "type": "accuracy",
            "name": "test accuracy (%), mean",
            "value": round(row.test_acc.mean, 6),
        },
        {"type": "accuracy", "name": "test accuracy (%), std", "value": round(row.test_acc.std, 6)},
    ]
    if row.iqm is not None:
        metrics.append(
            {
                "type": "accuracy",
                "name": "test accuracy (%), IQM",
                "value": round(row.iqm.estimate, 6),
            }
        )
    return {
        "name": row.label,
        "results": [
            {
                "task": {"type": "tabular-classification"},
                "dataset": {"name": row.dataset, "type": row.dataset},
                "metrics": metrics,
                "seeds": list(comparison.seeds),  # a copy: no YAML alias
                "verdict": row.verdict,
            }
        ],
    }
