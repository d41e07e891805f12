"""zoo compare: several models, datasets and seeds, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo.cli.options import given, registry_option, training_options
from zoo.cli.output import ProgressBar

FORMATS = ("table", "markdown", "csv", "json")


class SeedList(click.ParamType):
    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        try:
            seeds = [int(part) for part in str(value).split(",") if part.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of whole numbers", param, ctx)
        if not seeds or any(s < 0 for s in seeds):
            self.fail(f"{value!r} must list whole numbers ≥ 0, e.g. 1,2,3", param, ctx)
        return seeds


@click.command("compare")
@click.argument("models", nargs=-1, required=True)
@click.option("--dataset", "datasets", multiple=True, metavar="NAME",
              help="Dataset to compare on; repeat for several (default: each model's own).")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Train this many seeds, from the configured seed on (default 5).")
@click.option("--seed-list", type=SeedList(), default=None, metavar="S1,S2,...",
              help="Train exactly these seeds.")
@click.option("--target", type=click.FloatRange(0, 100), default=99.0, show_default=True,
              help="Test accuracy (percent) whose first epoch is reported.")
@training_options(without=("dataset", "seed"))
@click.option("--baselines", is_flag=True,
              help="Add scikit-learn rows: logistic regression, RBF SVM, a matching MLP.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write results.json, results.csv, summary.csv and summary.md here.")
@click.option("--plot", is_flag=True, help="Draw every model's decision boundary into one PNG.")
@click.option("--jobs", "workers", type=click.IntRange(min=1), default=None,
              help="Processes to train in (default: one per CPU core).")
@registry_option
def compare_command(
    models: tuple[str, ...],
    datasets: tuple[str, ...],
    seeds: int | None,
    seed_list: list[int] | None,
    target: float,
    baselines: bool,
    fmt: str,
    out: Path | None,
    plot: bool,
    workers: int | None,
    registry: Path | None,
    **settings: Any,
) -> None:
    """Compare MODELS (names or wildcards such as 'circle-*') across seeds.

    Every (model, dataset, seed) trains as 'zoo train' would train it. The report gives,
    per model, test and train accuracy as mean ± std and min-max over the seeds, the epoch
    that first reached --target, the training time, and whether the best really beats
    each other model on every seed.
    """
    from zoo import api, report
    from zoo.runs import claim_run_dir, new_run_dir

    if seeds is not None and seed_list is not None:
        raise click.UsageError("give --seeds or --seed-list, not both")
    folder = claim_run_dir(out) if out is not None else None  # refused before any training
    bar = ProgressBar(1.0, "compare")
    try:
        comparison = api.compare(
            list(models),
            datasets=list(datasets) or None,
            seeds=seeds,
            seed_list=seed_list,
            target=target,
            baselines=baselines,
            workers=workers,
            registry=registry,
            on_progress=bar.update if bar.enabled else None,
            **given(settings),
        )
    except BaseException:
        if folder is not None and not any(folder.iterdir()):
            folder.rmdir()
        raise
    finally:
        bar.close()
    click.echo(report.render(comparison, fmt), nl=False)
    if folder is not None:
        api.save_comparison(comparison, folder, plot=plot)
        click.echo(f"Written to {folder}", err=True)
    elif plot:
        picture = new_run_dir("runs", "compare") / "boundaries.png"
        api.plot_comparison(comparison, picture)
        click.echo(f"Boundaries: {picture}", err=True)


COMMANDS = [compare_command]
