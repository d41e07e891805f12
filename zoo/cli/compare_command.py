"""zoo compare: several models, datasets and seeds, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import zoo
from zoo.cli.options import (
    SettingType,
    given,
    json_option,
    logger_option,
    registry_option,
    target_option,
    training_options,
)
from zoo.cli.output import ProgressBar, command_stdout, echo
from zoo.cli.report_command import check_report_path, html_option, write_html
from zoo.comparison.grid import parse_option
from zoo.comparison.report import FORMATS
from zoo.errors import ConfigError
from zoo.names import is_csv_path
from zoo.settings import InvalidSetting, check_setting


class Percent(click.ParamType):
    name = "percent"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not 0 <= number <= 100:  # NaN fails this too
            self.fail(f"must be a percentage from 0 to 100, got {value!r}", param, ctx)
        return number


class SeedList(click.ParamType):
    """A comma-separated list of seeds, each checked like --seed."""

    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        try:
            seeds = [int(part) for part in str(value).split(",") if part.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of whole numbers", param, ctx)
        if not seeds:
            self.fail("list one or more seeds, e.g. 1,2,3", param, ctx)
        for seed in seeds:
            try:
                check_setting("seed", seed)
            except InvalidSetting as exc:
                self.fail(str(exc), param, ctx)
        return seeds


class VaryOption(click.ParamType):
    """``init,split,order`` or ``all``: the sources of variance each compared seed changes."""

    name = "sources"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from zoo.comparison.plan import check_vary  # torch: only once --vary is given

        try:
            return list(check_vary(str(value)))
        except ConfigError as exc:
            self.fail(str(exc).partition(": ")[2], param, ctx)


class GridOption(click.ParamType):
    """``KEY=V1,V2,...``: a setting (or param.NAME, dataset.NAME) and the values to sweep."""

    name = "KEY=V1,V2"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            key, values = parse_option(str(value))
        except ConfigError as exc:
            self.fail(str(exc).partition(": ")[2], param, ctx)
        if not values:
            self.fail(f"{key}: list one or more values, e.g. --grid {key}=A,B", param, ctx)
        return key, values


def grid_of(options: tuple[tuple[str, list[Any]], ...]) -> dict[str, list[Any]] | None:
    """The --grid options as one mapping; a key given twice is a usage error."""
    grid: dict[str, list[Any]] = {}
    for key, values in options:
        if key in grid:
            raise click.UsageError(
                f"--grid {key} is given twice; list all its values once: --grid {key}=A,B,C"
            )
        grid[key] = values
    return grid or None


@click.command("compare")
@click.argument("models", nargs=-1)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="NAME",
    type=SettingType("dataset"),
    help="Dataset to compare on; repeat for several (default: each model's own).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1, max=100_000),
    default=None,
    help="Train this many seeds, from the configured seed on (default 10: enough for a verdict).",
)
@click.option(
    "--seed-list",
    type=SeedList(),
    default=None,
    metavar="S1,S2,...",
    help="Train exactly these seeds.",
)
@click.option(
    "--reach",
    type=Percent(),
    default=None,
    metavar="PERCENT",
    help="Test accuracy (percent) whose first epoch is reported (default 99).",
)
@click.option(
    "--vary",
    type=VaryOption(),
    default=None,
    metavar="SOURCES",
    help="What each seed changes: init (the weights; default), split (the train/test split), "
    "order (the mini-batch order), comma-separated, or all.",
)
@target_option
@training_options(without=("dataset", "seed", "checkpoint_every"))
@click.option(
    "--grid",
    "grid_options",
    multiple=True,
    type=GridOption(),
    metavar="KEY=V1,V2",
    help="Sweep a setting (lr=0.01,0.1), a model parameter (param.hidden_units=5,10) or a "
    "dataset parameter (dataset.noise=0.1,0.2); repeat for more: every combination trains.",
)
@click.option(
    "--exact/--no-exact",
    default=None,
    help="Each seed equal to its solo run, bit for bit (the default on the CPU), or fast batched "
    "kernels within rounding of it (the default on CUDA).",
)
@click.option(
    "--baselines",
    is_flag=True,
    help="Add scikit-learn rows: logistic regression, RBF SVM, a matching MLP.",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None, help="Report format [table]."
)
@json_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep finished seeds here as they come, then results.json, results.csv, summary.csv "
    "and summary.md (a new or empty folder).",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Finish a stopped comparison kept in DIR: only the seeds it lacks are trained.",
)
@click.option("--plot", is_flag=True, help="Draw every model's decision boundary into one PNG.")
@html_option
@click.option(
    "--jobs",
    "workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to train in (default: one per CPU core); with --cluster, chunks per "
    "model (default: one per CPU of the cluster).",
)
@click.option(
    "--cluster",
    type=click.Choice(["ray"]),
    default=None,
    help="Train the chunks of seeds as Ray tasks (needs: pip install 'torch-zoo[ray]').",
)
@click.option(
    "--cluster-address",
    metavar="HOST:PORT",
    default=None,
    help="The Ray head to use (default: RAY_ADDRESS, else a local Ray for this run).",
)
@logger_option
@registry_option
def compare_command(
    models: tuple[str, ...],
    datasets: tuple[str, ...],
    seeds: int | None,
    seed_list: list[int] | None,
    reach: float | None,
    vary: list[str] | None,
    grid_options: tuple[tuple[str, list[Any]], ...],
    exact: bool | None,
    baselines: bool,
    fmt: str | None,
    as_json: bool,
    out: Path | None,
    resume_dir: Path | None,
    plot: bool,
    html: Path | None,
    workers: int | None,
    cluster: str | None,
    cluster_address: str | None,
    loggers: tuple[str, ...],
    registry: list[Path] | None,
    **settings: Any,
) -> None:
    """Compare MODELS (names or wildcards such as 'circle-*') across seeds.

    Every (model, dataset, seed) trains as 'zoo train' would train it. The report gives,
    per model, test and train accuracy as mean ± std and min-max over the seeds, the
    interquartile mean with its 95% interval, the epoch that first reached --reach, the
    training time, and a verdict against the best model of the dataset from the paired
    differences over the seeds: their mean with its 95% interval, the probability of
    improvement, and a Holm-corrected Wilcoxon signed-rank test.
    """
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json is --format json; give one of --json or --format {fmt}")
    fmt = "json" if as_json else fmt or "table"
    grid = grid_of(grid_options)
    _check_target(settings.get("target"), datasets)
    if resume_dir is not None:
        request = (models, datasets, seeds, seed_list, reach, vary, grid, baselines, out, registry)
        if any(request) or given(settings) or exact is not None:
            raise click.UsageError(
                "--resume finishes the comparison as it was asked; give only DIR "
                "(and where to train it: --jobs, --cluster, --cluster-address; --logger)"
            )
    elif not models:
        raise click.UsageError("name the MODELS to compare, or --resume DIR")
    elif seeds is not None and seed_list is not None:
        raise click.UsageError("give --seeds or --seed-list, not both")
    if html is not None:  # before any training; the comparison itself knows all its inputs
        check_report_path(html, [*(registry or []), *map(Path, datasets)])
    if cluster_address is not None and cluster is None:
        raise click.UsageError("--cluster-address needs --cluster ray")
    bar = ProgressBar("compare", as_percent=True)
    progress = bar.update if bar.enabled else None
    try:
        if resume_dir is not None:
            comparison = zoo.resume_comparison(
                resume_dir,
                workers=workers,
                on_progress=progress,
                cluster=cluster,
                cluster_address=cluster_address,
                loggers=list(loggers),
            )
        else:
            comparison = zoo.compare(
                list(models),
                datasets=list(datasets) or None,
                seeds=seeds,
                seed_list=seed_list,
                reach=99.0 if reach is None else reach,
                vary=vary,
                baselines=baselines,
                workers=workers,
                out=out,
                registry=registry,
                on_progress=progress,
                grid=grid,
                exact=exact,
                cluster=cluster,
                cluster_address=cluster_address,
                loggers=list(loggers),
                **given(settings),
            )
    finally:
        bar.close()
    _show(comparison, fmt, plot, resume_dir or out)
    if html is not None:
        write_html(comparison, html)


def _check_target(target: str | None, datasets: tuple[str, ...]) -> None:
    """--target is a CSV file's label column, as in zoo train; a number where no CSV file is
    compared (or a fraction) is the accuracy it used to mean here: that is --reach now."""
    if target is None:
        return
    try:
        number = float(target)
    except ValueError:
        return
    csv = any(is_csv_path(name) or name == "csv" for name in datasets)
    if not csv or not number.is_integer():
        raise click.UsageError(
            f"--target names the label column of a CSV file; the test accuracy to reach is "
            f"--reach {target}"
        )


def _show(comparison: Any, fmt: str, plot: bool, folder: Path | None) -> None:
    """The report on stdout; the picture and the folder's name on stderr."""
    echo(comparison.render(fmt), nl=False, file=command_stdout())
    if plot and not comparison.grid and not comparison.drawable():
        click.echo("zoo: warning: nothing to draw: no compared data has two features", err=True)
    elif plot:
        name = comparison.picture_name
        picture = zoo.plot_comparison(comparison, folder / name if folder else None)
        click.echo(f"{'Sweep' if comparison.grid else 'Boundaries'}: {picture}", err=True)
    if folder is not None:
        click.echo(f"Written to {folder}", err=True)


COMMANDS = [compare_command]
