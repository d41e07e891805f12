"""A comparison as text: an aligned table, markdown, CSV, JSON or HTML (for notebooks).

A sweep's settings are columns of their own, after the model's name."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zoo.comparison.grid import shown
from zoo.runs.files import json_text
from zoo.text import markdown_cell, spreadsheet_cell

if TYPE_CHECKING:  # the command line reads FORMATS before torch is imported
    from zoo.comparison.summary import Comparison

FORMATS = ("table", "markdown", "csv", "json")
HEADERS = [
    "MODEL",
    "PARAMS",
    "TEST ACC",
    "MIN-MAX",
    "TRAIN ACC",
    "TEST LOSS",
    "EPOCHS TO {target}%",
    "SECONDS",
    "VERDICT",
]
SUMMARY_FIELDS = [
    "dataset",
    "model",
    "params",
    "seeds",
    "test_acc_mean",
    "test_acc_std",
    "test_acc_min",
    "test_acc_max",
    "train_acc_mean",
    "train_acc_std",
    "train_acc_min",
    "train_acc_max",
    "train_loss",
    "test_loss",
    "epochs_to_target",
    "reached_target",
    "seconds",
    "batched",
    "baseline",
    "diverged",
    "verdict",
]
RESULT_FIELDS = [
    "dataset",
    "model",
    "seed",
    "params",
    "epochs",
    "train_acc",
    "test_acc",
    "train_loss",
    "test_loss",
    "epochs_to_target",
    "seconds",
    "device",
    "status",
    "baseline",
]


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison in one of :data:`FORMATS`."""
    if fmt == "json":
        return json_text(comparison.to_json(), indent=2) + "\n"  # strict: NaN is null
    if fmt == "csv":
        return summary_csv(comparison)
    if fmt == "markdown":
        return markdown(comparison)
    return table(comparison)


def table(comparison: Comparison) -> str:
    blocks = []
    for dataset in comparison.datasets():
        rows = [_cells(comparison, row) for row in comparison.summary if row["dataset"] == dataset]
        headers = _headers(comparison)
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        lines = [_heading(comparison, dataset)]
        for row in [headers, *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def markdown(comparison: Comparison) -> str:
    blocks = []
    for dataset in comparison.datasets():
        rows = [_cells(comparison, row) for row in comparison.summary if row["dataset"] == dataset]
        headers = [h.title() if h.isupper() else h for h in _headers(comparison)]
        lines = [
            f"### {markdown_cell(_heading(comparison, dataset))}",
            "",
            "| " + " | ".join(map(markdown_cell, headers)) + " |",
            "|" + "|".join("---" for _ in headers) + "|",
        ]
        lines += ["| " + " | ".join(map(markdown_cell, row)) + " |" for row in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def html(comparison: Comparison) -> str:
    """The table as HTML, one table per dataset: how a notebook shows a comparison."""
    from html import escape

    blocks = []
    for dataset in comparison.datasets():
        rows = [_cells(comparison, row) for row in comparison.summary if row["dataset"] == dataset]
        head = "".join(f"<th>{escape(h)}</th>" for h in _headers(comparison))
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
        )
        blocks.append(
            f"<p><b>{escape(_heading(comparison, dataset))}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    return "\n".join(blocks)


def summary_csv(comparison: Comparison) -> str:
    rows = []
    for row in comparison.summary:
        flat = {k: v for k, v in row.items() if not isinstance(v, dict)}
        for key in ("test_acc", "train_acc"):
            for stat, value in row[key].items():
                flat[f"{key}_{stat}"] = value
        rows.append(flat)
    return _csv(_with_grid(SUMMARY_FIELDS, comparison), rows)


def results_csv(comparison: Comparison) -> str:
    return _csv(_with_grid(RESULT_FIELDS, comparison), comparison.results)


def _with_grid(fields: Sequence[str], comparison: Comparison) -> list[str]:
    """``fields`` with a column per swept setting after ``model`` (``epochs`` is one already)."""
    swept = [key for key in comparison.grid if key not in fields]
    at = list(fields).index("model") + 1
    return [*fields[:at], *swept, *fields[at:]]


def _csv(fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def _headers(comparison: Comparison) -> list[str]:
    return summary_headers(comparison.target, list(comparison.grid))


def summary_headers(target: float, grid: Sequence[str]) -> list[str]:
    """The summary table's column names: a column per swept setting after the model's."""
    headers = [h.format(target=f"{target:g}") for h in HEADERS]
    return [headers[0], *(key.upper() for key in grid), *headers[1:]]


def _heading(comparison: Comparison, dataset: str) -> str:
    seeds = comparison.seeds
    listed = ", ".join(map(str, seeds)) if len(seeds) <= 6 else f"{seeds[0]} ... {seeds[-1]}"
    return f"{dataset}: {len(seeds)} seeds ({listed})"


def _cells(comparison: Comparison, row: dict[str, Any]) -> list[str]:
    return summary_cells(row, list(comparison.grid))


def summary_cells(row: dict[str, Any], grid: Sequence[str]) -> list[str]:
    """One summary row (its JSON form) as the table's cells, in :func:`summary_headers` order."""
    test, train = row["test_acc"], row["train_acc"]
    reached = (
        "never"
        if row["epochs_to_target"] is None
        else f"{row['epochs_to_target']:.0f} ({row['reached_target']}/{row['seeds']})"
    )
    if row["baseline"]:
        reached = "-"
    loss = "-" if row["test_loss"] is None else f"{row['test_loss']:.4f}"
    verdict = row["verdict"]
    if row["diverged"]:
        verdict += f"; {row['diverged']} seed(s) diverged"
    swept = [shown(row[key]) if key in row else "-" for key in grid]
    return [
        row["model"],
        *swept,
        "-" if row["params"] is None else f"{row['params']:,}",
        f"{test['mean']:.2f} ± {test['std']:.2f}",
        f"{test['min']:.1f}-{test['max']:.1f}",
        f"{train['mean']:.2f} ± {train['std']:.2f}",
        loss,
        reached,
        f"{row['seconds']:.2f}",
        verdict,
    ]
