"""A comparison as one self-contained HTML page (``zoo compare --html``, ``zoo report DIR``).

The page holds, per dataset, the summary table with its verdicts, the intervals behind them
(rliable's interval plot: each model's IQM with its 95% interval, and its paired difference
from the best with its interval) and the spread of test accuracy over the seeds; each model's
decision boundary; its accuracy and loss curves (mean
over the seeds, min to max as a band); the settings; and the versions and machine. Pictures
are PNGs inside the page (``data:`` URIs) and the style is inline: the file opens offline, in
any browser, with no script. It is written atomically, like every file zoo writes.
"""

from __future__ import annotations

import html
import importlib.metadata
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.comparison.execute import JobResult, merge
from zoo.comparison.pictures import page_boundary, page_curves
from zoo.comparison.plan import SOURCES
from zoo.comparison.report import has_validation, heading, summary_cells, summary_headers
from zoo.comparison.runner import comparison_inputs, kept_plan
from zoo.comparison.store import ComparisonFolder
from zoo.errors import RunFolderError
from zoo.runs.figures import intervals_figure, png_uri, spread_figure
from zoo.runs.outputs import check_output, write_output

if TYPE_CHECKING:
    from zoo.comparison.summary import Comparison

PathLike = str | os.PathLike[str]
PACKAGES = ("zoo", "torch", "scikit-learn", "scipy", "numpy", "matplotlib")

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 90rem;
       padding: 0 1rem; color: #1d1d1f; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f4f4f6; } td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td:last-child { min-width: 16rem; } .wide { overflow-x: auto; }
tr.best td { background: #eef8ee; } tr.baseline td { color: #666; font-style: italic; }
tr.nothing td { background: #fbeee6; } p.nothing { color: #8a3b12; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0 0 1rem; } figcaption { color: #555; font-size: 13px; }
img { max-width: 100%; height: auto; }
"""


@dataclass(frozen=True)
class ReportData:
    """What the page shows: the comparison's records and the zoo models' trained seeds."""

    data: dict[str, Any]  # Comparison.to_json(): seeds, reach, results, summary
    jobs: list[JobResult]  # the zoo models (not baselines): histories and final weights
    source: str  # what the comparison was read from
    inputs: tuple[str, ...] = ()  # the files it was made from, which the page never replaces


def from_comparison(comparison: Comparison) -> ReportData:
    jobs = [result for result in comparison.job_results if not result.baseline]
    return ReportData(comparison.to_json(), jobs, "zoo compare", comparison.inputs)


def from_folder(path: PathLike) -> ReportData:
    """A finished ``zoo compare --out`` folder, its seeds' weights loaded safely."""
    folder = Path(path)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: no such folder; give a folder of 'zoo compare --out'")
    store = ComparisonFolder(folder)
    if not (folder / store.REQUEST).is_file():
        raise RunFolderError(
            f"{folder}: not a zoo compare folder (no {store.REQUEST}); "
            f"make one with: zoo compare MODELS --out {folder}"
        )
    store.request()  # compare.json is checked before results.json is looked for
    if not (folder / store.RESULTS).exists():
        raise RunFolderError(
            f"{folder}: the comparison has not finished (no {store.RESULTS}); "
            f"finish it with: zoo compare --resume {folder}"
        )
    data = store.results()
    request, planned = kept_plan(store)
    parts = store.load(planned)
    jobs = [merge(job, parts[index]) for index, job in enumerate(planned) if index in parts]
    return ReportData(data, jobs, str(folder), comparison_inputs(planned, request, store))


def write_report(report: ReportData, path: PathLike, *, follow: bool = True) -> Path:
    """Render the page and write it to ``path`` by the rules of every output (see
    :mod:`zoo.runs.outputs`; ``follow=False`` for a path zoo chose); returns where."""
    check_output(path, inputs=report.inputs, what="report", follow=follow)  # before rendering
    page = render(report).encode("utf-8")
    try:
        return write_output(path, page, inputs=report.inputs, what="report", follow=follow)
    except OSError as exc:
        raise RunFolderError(
            f"{path}: cannot write the report ({exc.strerror or exc}); choose another path"
        ) from None


def render(report: ReportData) -> str:
    """The whole page as text."""
    data = report.data
    rows = data["summary"]
    models = list(dict.fromkeys(row["model"] for row in rows if not row.get("baseline")))
    title = "zoo compare: " + ", ".join(models)
    if any(row.get("baseline") for row in rows):
        title += " and scikit-learn"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{_e(_overview(data))}</p>',
        _summary_section(data),
        _boundary_section(report.jobs),
        _curve_section(report.jobs),
        _settings_section(report.jobs, data),
        _environment_section(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'  # no favicon request: the page asks for nothing
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _overview(data: dict[str, Any]) -> str:
    seeds = data["seeds"]
    listed = ", ".join(map(str, seeds)) if len(seeds) <= 6 else f"{seeds[0]} ... {seeds[-1]}"
    return (
        f"{len(seeds)} seed{'s' * (len(seeds) != 1)} ({listed}), reach {data['reach']:g}% "
        f"test accuracy; each seed trained as 'zoo train' trains it. {VERDICTS}"
    )


VERDICTS = (
    "Each row is set against the best of its dataset over the seeds both trained: the mean "
    "paired difference with its 95% bootstrap interval, P(best>row) (rliable's probability "
    "of improvement) and the Wilcoxon signed-rank test, Holm-corrected over the rows. A row "
    "is called worse only when the corrected p is below 0.05 and the interval leaves out 0."
)


def _summary_section(data: dict[str, Any]) -> str:
    grid = list(data.get("grid") or {})
    validation = has_validation(data["summary"])
    headers = summary_headers(data["reach"], grid, validation)
    parts = ["<section id='summary'>", "<h2>Summary</h2>"]
    for dataset in dict.fromkeys(row["dataset"] for row in data["summary"]):
        rows = [row for row in data["summary"] if row["dataset"] == dataset]
        results = [r for r in data["results"] if r["dataset"] == dataset]
        title = heading(dataset, data["seeds"], rows, bool(grid), data.get("vary", ()))
        parts += [f"<h3>{_e(title)}</h3>"]
        parts += ['<div class="wide"><table class="summary">', _head(headers), "<tbody>"]
        nothing = [_learned_nothing(row, results, grid) for row in rows]
        cells = (_summary_row(row, grid, seeds, validation) for row, seeds in zip(rows, nothing))
        parts += [*cells, "</tbody></table></div>"]
        parts += [_nothing_note(row, grid, n) for row, n in zip(rows, nothing) if n[0]]
        picture = png_uri(intervals_figure(rows, grid))
        alt = f"interquartile mean and difference from the best, with 95% intervals, on {dataset}"
        caption = (
            f"On {dataset}: each model's interquartile mean of test accuracy (left) and its "
            "mean paired difference from the best (right), each with its 95% interval."
        )
        parts.append(_figure(picture, alt, caption))
        picture = png_uri(spread_figure(rows, results))
        alt = f"test accuracy per seed of each model on {dataset}"
        parts.append(_figure(picture, alt, f"Test accuracy over the seeds on {dataset}."))
    parts.append("</section>")
    return "\n".join(parts)


def _summary_row(
    row: dict[str, Any], grid: list[str], nothing: tuple[int, int, float], validation: bool
) -> str:
    everywhere = 0 < nothing[0] == nothing[1]  # every seed learned nothing: never "best"
    kind = "nothing" if everywhere else "baseline" if row.get("baseline") else ""
    kind = kind or ("best" if _is_best(row) else "")
    cells = "".join(
        f'<td class="num">{_e(cell)}</td>' if cell[:1].isdigit() else f"<td>{_e(cell)}</td>"
        for cell in summary_cells(row, grid, validation)
    )
    return f'<tr class="{kind}">{cells}</tr>' if kind else f"<tr>{cells}</tr>"


def _learned_nothing(
    row: dict[str, Any], results: list[dict[str, Any]], grid: list[str]
) -> tuple[int, int, float]:
    """(seeds that learned nothing, seeds, the majority class's rate) of a summary row."""
    seeds = [r for r in results if r["model"] == row["model"] and _same(r, row, grid)]
    count = sum(bool(r.get("learned_nothing")) for r in seeds)
    return count, len(seeds), max((r.get("majority_acc") or 0.0 for r in seeds), default=0.0)


def _same(result: dict[str, Any], row: dict[str, Any], grid: list[str]) -> bool:
    return all(result.get(key) == row.get(key) for key in grid)


def _nothing_note(row: dict[str, Any], grid: list[str], nothing: tuple[int, int, float]) -> str:
    count, seeds, majority = nothing
    name = " ".join([row["model"], *(f"{key}={row.get(key)}" for key in grid)])
    return (
        f'<p class="nothing">{_e(name)} learned nothing on {count}/{seeds} seeds: its test '
        f"accuracy is no better than always answering the majority class ({majority:.2f}%).</p>"
    )


def _is_best(row: dict[str, Any]) -> bool:
    return str(row.get("verdict", "")).startswith("best")


def _boundary_section(jobs: Sequence[JobResult]) -> str:
    drawable = [job for job in jobs if job.states and job.features == 2]
    parts = ["<section id='boundaries'>", "<h2>Decision boundaries</h2>"]
    if not drawable:
        parts.append("<p>No compared dataset has two features: there is no plane to draw.</p>")
    else:
        parts.append('<div class="grid">')
        for job in drawable:
            name = f"{job.job.model} on {job.job.dataset}"
            caption = f"{name}: its first seed over the test points."
            parts.append(_figure(png_uri(page_boundary(job)), f"boundary of {name}", caption))
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _curve_section(jobs: Sequence[JobResult]) -> str:
    parts = ["<section id='curves'>", "<h2>Training curves</h2>"]
    for job in jobs:
        if any(job.histories):
            name = f"{job.job.model} on {job.job.dataset}"
            caption = f"{name}: the line is the mean over the seeds, the band min to max."
            picture = png_uri(page_curves(job))
            parts.append(_figure(picture, f"accuracy and loss curves of {name}", caption))
    parts.append("</section>")
    return "\n".join(parts)


def _settings_section(jobs: Sequence[JobResult], data: dict[str, Any]) -> str:
    parts = ["<section id='settings'>", "<h2>Settings</h2>"]
    if jobs:
        settings = [_settings(job) for job in jobs]
        names = list(settings[0])
        headers = ["setting", *(f"{job.job.model} on {job.job.dataset}" for job in jobs)]
        parts += ['<table class="settings">', _head(headers), "<tbody>"]
        parts.append(_row(["seeds", *[", ".join(map(str, job.job.seeds)) for job in jobs]]))
        parts += [_row([name, *(_value(s[name]) for s in settings)]) for name in names]
        parts += ["</tbody>", "</table>"]
    if any(row.get("baseline") for row in data["summary"]):
        parts.append(
            "<p>The scikit-learn rows (in italics) were fitted once per seed, on the training "
            "split that seed's zoo models trained on.</p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _settings(result: JobResult) -> dict[str, Any]:
    """A job's settings; those its seeds set (``--vary``) say so instead of one value."""
    job = result.job
    settings = job.config.settings()
    del settings["seed"]  # the seeds have their own row
    for source in job.vary:
        if SOURCES[source] != "seed":
            settings[SOURCES[source]] = "each seed's own"
    return settings


def _environment_section(report: ReportData) -> str:
    devices = sorted({str(r.get("device")) for r in report.data["results"]})
    rows = [
        ["made", time.strftime("%Y-%m-%d %H:%M:%S %Z")],
        ["from", report.source],
        ["trained on", ", ".join(devices)],
        ["python", platform.python_version()],
        *([name, _version(name)] for name in PACKAGES),
        ["machine", f"{platform.platform()} ({platform.machine()}, {os.cpu_count()} CPUs)"],
    ]
    parts = ["<section id='environment'>", "<h2>Versions and machine</h2>"]
    parts.append("<p>Where this page was made; the devices are those the seeds trained on.</p>")
    parts += ['<table class="environment">', "<tbody>", *map(_row, rows), "</tbody>", "</table>"]
    parts.append("</section>")
    return "\n".join(parts)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


def _figure(uri: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{uri}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption></figure>'
    )


def _head(headers: Sequence[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead>"


def _row(cells: Sequence[Any]) -> str:
    return "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + "</tr>"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
