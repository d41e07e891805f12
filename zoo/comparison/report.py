"""A comparison as text: an aligned table, markdown, CSV, JSON or HTML (for notebooks).

Every format renders the same numbers, computed once by :mod:`zoo.comparison.summary`. A
sweep's settings are columns of their own, after the model's name; with a validation split,
so is the validation accuracy the rows are ranked on. Each block's heading says what the
rows are ranked on where it matters: always with a validation split, and for a sweep without
one (then it is the test split, and the best setting's test accuracy is optimistic)."""

from __future__ import annotations

import csv
import io
import statistics
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
    "IQM [95% CI]",
    "MIN-MAX",
    "TRAIN ACC",
    "TEST LOSS",
    "EPOCHS TO {reach}%",
    "SECONDS",
    "P(BEST>ROW)",
    "VERDICT",
]
SUMMARY_FIELDS = [
    "dataset",
    "model",
    "params",
    "seeds",
    "varied",
    "test_acc_mean",
    "test_acc_std",
    "test_acc_min",
    "test_acc_max",
    "iqm",
    "iqm_low",
    "iqm_high",
    "iqm_method",
    "against",
    "shared_seeds",
    "difference",
    "difference_low",
    "difference_high",
    "difference_method",
    "p_improvement",
    "p_value",
    "p_holm",
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
    "failed",
    "verdict",
]
# With a validation split: more columns, each list before the column named.
VALIDATION_FIELDS = {
    "test_acc_mean": ["val_acc_mean", "val_acc_std", "val_acc_min", "val_acc_max"],
    "train_acc": ["best_epoch", "stopped_early"],  # after a result's epochs
    "test_acc": ["val_acc", "val_loss"],
}
RESULT_FIELDS = [
    "dataset",
    "model",
    "seed",
    "init_seed",
    "split_seed",
    "order_seed",
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
        swept = {key.upper() for key in comparison.grid}  # a setting's name as it is written
        headers = [h.lower() if h in swept else _sentence_case(h) for h in _headers(comparison)]
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
    """One line per row; the JSON's nested numbers flattened: ``test_acc_mean``, ``iqm`` and
    ``iqm_low``, ``difference`` and ``difference_high``, ..."""
    rows = []
    for row in comparison.summary:
        flat = {k: v for k, v in row.items() if not isinstance(v, (dict, list))}
        flat["varied"] = ",".join(row["varied"])
        for key in ("test_acc", "train_acc", "val_acc"):
            for stat, value in (row[key] or {}).items():
                flat[f"{key}_{stat}"] = value
        for key in ("iqm", "difference"):
            interval = row[key] or {}
            flat[key] = interval.get("estimate")
            for part in ("low", "high", "method"):
                flat[f"{key}_{part}"] = interval.get(part)
        rows.append(flat)
    return _csv(_with_grid(_with_validation(SUMMARY_FIELDS, comparison), comparison), rows)


def results_csv(comparison: Comparison) -> str:
    fields = _with_grid(_with_validation(RESULT_FIELDS, comparison), comparison)
    return _csv(fields, comparison.results)


def _with_validation(fields: Sequence[str], comparison: Comparison) -> list[str]:
    """``fields`` with the validation columns (:data:`VALIDATION_FIELDS`), if there are any."""
    if not has_validation(comparison.summary):
        return list(fields)
    return [new for name in fields for new in [*VALIDATION_FIELDS.get(name, []), name]]


def has_validation(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether any summary row (JSON form) has validation accuracies."""
    return any(row.get("val_acc") for row in rows)


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


def _sentence_case(header: str) -> str:
    """``TEST ACC`` as ``Test acc``, ``P(BEST>ROW)`` as ``P(best>row)``; IQM and CI stay."""
    words = [w if w.strip("[]") in ("IQM", "CI") else w.lower() for w in header.split(" ")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _headers(comparison: Comparison) -> list[str]:
    validation = has_validation(comparison.summary)
    return summary_headers(comparison.reach, list(comparison.grid), validation)


def summary_headers(reach: float, grid: Sequence[str], validation: bool = False) -> list[str]:
    """The summary table's column names: a column per swept setting after the model's, and
    the validation accuracy before the test accuracy where there is one."""
    headers = [h.format(reach=f"{reach:g}") for h in HEADERS]
    val = ["VAL ACC"] if validation else []
    return [headers[0], *(key.upper() for key in grid), headers[1], *val, *headers[2:]]


def _heading(comparison: Comparison, dataset: str) -> str:
    rows = [row for row in comparison.summary if row["dataset"] == dataset]
    return heading(
        dataset, comparison.seeds, rows, sweep=bool(comparison.grid), asked=comparison.vary
    )


def heading(
    dataset: str,
    seeds: Sequence[int],
    rows: Sequence[dict[str, Any]],
    sweep: bool = False,
    asked: Sequence[str] = (),
) -> str:
    """``circles: 10 seeds (42 ... 51); varied: init, split``: what differed between seeds
    (and an order ``asked`` to vary that full-batch training does not have), and what the
    rows are ranked on (with a validation split, or for a sweep)."""
    listed = ", ".join(map(str, seeds)) if len(seeds) <= 6 else f"{seeds[0]} ... {seeds[-1]}"
    found = {source for row in rows for source in row.get("varied", ())}
    varied = ", ".join(s for s in ("init", "split", "order") if s in found) or "nothing"
    if "order" in asked and "order" not in found:
        varied += " (full batch: no batch order to vary)"
    text = f"{dataset}: {len(seeds)} seeds ({listed}); varied: {varied}"
    majority = [row["majority_acc"] for row in rows if row.get("majority_acc") is not None]
    if majority:  # what "better than chance" means here, always on the page
        text += f"; majority class {statistics.fmean(majority):.2f}%"
    ranked = [row for row in rows if not row.get("failed")]
    if ranked and all(row.get("val_acc") for row in ranked):
        return text + "; ranked on validation, verdicts on test"
    if sweep:
        return text + (
            "; ranked on the test split, so the best row's test accuracy is optimistic "
            "(--val-size F ranks on validation)"
        )
    return text


def _cells(comparison: Comparison, row: dict[str, Any]) -> list[str]:
    return summary_cells(row, list(comparison.grid), has_validation(comparison.summary))


def summary_cells(row: dict[str, Any], grid: Sequence[str], validation: bool = False) -> list[str]:
    """One summary row (its JSON form) as the table's cells, in :func:`summary_headers` order."""
    test, train = row["test_acc"], row["train_acc"]
    reached = (
        "never"
        if row["epochs_to_target"] is None
        else f"{row['epochs_to_target']:.0f} ({row['reached_target']}/{row['seeds']})"
    )
    if row["baseline"]:
        reached = "-"
    verdict = row["verdict"]
    if row["diverged"]:
        verdict += f"; {row['diverged']} seed(s) diverged"
    swept = [shown(row[key]) if key in row else "-" for key in grid]
    improvement = row.get("p_improvement")
    val = row.get("val_acc")
    val_cells = [] if not validation else ["-" if not val else _spread(val)]
    return [
        row["model"],
        *swept,
        "-" if row["params"] is None else f"{row['params']:,}",
        *val_cells,
        "-" if test is None else _spread(test),
        _interval(row.get("iqm")),
        "-" if test is None else f"{test['min']:.1f}-{test['max']:.1f}",
        "-" if train is None else f"{train['mean']:.2f} ± {train['std']:.2f}",
        _loss(row),
        reached,
        f"{row['seconds']:.2f}",
        "-" if improvement is None else f"{improvement:.2f}",
        verdict,
    ]


def _spread(stats: dict[str, float]) -> str:
    return f"{stats['mean']:.2f} ± {stats['std']:.2f}"


def _interval(interval: dict[str, Any] | None) -> str:
    if interval is None:
        return "-"
    if interval["low"] is None:
        return f"{interval['estimate']:.2f}"
    return f"{interval['estimate']:.2f} [{interval['low']:.2f}, {interval['high']:.2f}]"


def _loss(row: dict[str, Any]) -> str:
    """The mean test loss of the seeds that did not diverge; ``diverged`` when none is left."""
    loss = row["test_loss"]
    if loss is None:
        return "diverged" if row["diverged"] and row["diverged"] == row["seeds"] else "-"
    return f"{loss:.4f}" if abs(loss) < 1e4 else f"{loss:.3g}"
