"""A comparison as one self-contained HTML page (``zoo compare --html``, ``zoo report DIR``).

The page holds, per dataset, the summary table with its verdicts and the spread of test
accuracy over the seeds; each model's decision boundary; its accuracy and loss curves (mean
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

from zoo.comparison import report_figures
from zoo.comparison.execute import JobResult, merge
from zoo.comparison.plan import Job, plan_jobs
from zoo.comparison.report import summary_cells, summary_headers
from zoo.comparison.store import ComparisonFolder
from zoo.config.layers import user_paths
from zoo.config.setup import open_zoo
from zoo.errors import RunFolderError
from zoo.runs.outputs import check_output, write_output

if TYPE_CHECKING:
    from zoo.comparison.summary import Comparison

PathLike = str | os.PathLike[str]
PACKAGES = ("zoo", "torch", "scikit-learn", "numpy", "matplotlib")

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d1d1f; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f4f4f6; } td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eef8ee; } tr.baseline td { color: #666; font-style: italic; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0 0 1rem; } figcaption { color: #555; font-size: 13px; }
img { max-width: 100%; height: auto; }
"""


@dataclass(frozen=True)
class ReportData:
    """What the page shows: the comparison's records and the zoo models' trained seeds."""

    data: dict[str, Any]  # Comparison.to_json(): seeds, target, results, summary
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
    request = store.request()
    if not (folder / store.RESULTS).exists():
        raise RunFolderError(
            f"{folder}: the comparison has not finished (no {store.RESULTS}); "
            f"finish it with: zoo compare --resume {folder}"
        )
    data = store.results()
    plugins, catalogue = open_zoo(request["registry"])
    models, datasets, seeds = request["models"], request["datasets"], request["seeds"]
    planned = plan_jobs(models, datasets, seeds, plugins, catalogue, request["settings"])
    parts = store.load(planned)
    jobs = [merge(job, parts[index]) for index, job in enumerate(planned) if index in parts]
    inputs = [*store.files(), *user_paths(request["registry"]), *_data_files(planned)]
    return ReportData(data, jobs, str(folder), tuple(map(str, dict.fromkeys(inputs))))


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


def _data_files(jobs: Sequence[Job]) -> list[str]:
    paths = (job.config.dataset_params.get("path") for job in jobs)
    return [path for path in paths if isinstance(path, str)]


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
        f"{len(seeds)} seed{'s' * (len(seeds) != 1)} ({listed}), target {data['target']:g}% "
        f"test accuracy; each seed trained as 'zoo train' trains it."
    )


def _summary_section(data: dict[str, Any]) -> str:
    grid = list(data.get("grid") or {})
    headers = summary_headers(data["target"], grid)
    parts = ["<section id='summary'>", "<h2>Summary</h2>"]
    for dataset in dict.fromkeys(row["dataset"] for row in data["summary"]):
        rows = [row for row in data["summary"] if row["dataset"] == dataset]
        results = [r for r in data["results"] if r["dataset"] == dataset]
        parts += [f"<h3>{_e(dataset)}</h3>", '<table class="summary">', _head(headers)]
        parts += ["<tbody>", *(_summary_row(row, grid) for row in rows), "</tbody>", "</table>"]
        picture = report_figures.spread(rows, results)
        alt = f"test accuracy per seed of each model on {dataset}"
        parts.append(_figure(picture, alt, f"Test accuracy over the seeds on {dataset}."))
    parts.append("</section>")
    return "\n".join(parts)


def _summary_row(row: dict[str, Any], grid: list[str]) -> str:
    kind = "baseline" if row.get("baseline") else "best" if _is_best(row) else ""
    cells = "".join(
        f'<td class="num">{_e(cell)}</td>' if cell[:1].isdigit() else f"<td>{_e(cell)}</td>"
        for cell in summary_cells(row, grid)
    )
    return f'<tr class="{kind}">{cells}</tr>' if kind else f"<tr>{cells}</tr>"


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
            parts.append(_figure(report_figures.boundary(job), f"boundary of {name}", caption))
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _curve_section(jobs: Sequence[JobResult]) -> str:
    parts = ["<section id='curves'>", "<h2>Training curves</h2>"]
    for job in jobs:
        if any(job.histories):
            name = f"{job.job.model} on {job.job.dataset}"
            caption = f"{name}: the line is the mean over the seeds, the band min to max."
            picture = report_figures.curves(job)
            parts.append(_figure(picture, f"accuracy and loss curves of {name}", caption))
    parts.append("</section>")
    return "\n".join(parts)


def _settings_section(jobs: Sequence[JobResult], data: dict[str, Any]) -> str:
    parts = ["<section id='settings'>", "<h2>Settings</h2>"]
    if jobs:
        settings = [job.job.config.settings() for job in jobs]
        names = [key for key in settings[0] if key != "seed"]
        headers = ["setting", *(f"{job.job.model} on {job.job.dataset}" for job in jobs)]
        parts += ['<table class="settings">', _head(headers), "<tbody>"]
        parts.append(_row(["seeds", *[", ".join(map(str, job.job.seeds)) for job in jobs]]))
        parts += [_row([name, *(_value(s[name]) for s in settings)]) for name in names]
        parts += ["</tbody>", "</table>"]
    if any(row.get("baseline") for row in data["summary"]):
        parts.append(
            "<p>The scikit-learn rows (in italics) were fitted on the same training split, "
            "once per seed.</p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


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
