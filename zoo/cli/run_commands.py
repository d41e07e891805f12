"""Commands that train and use models: train, eval, predict."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import zoo
from zoo.cli.options import given, json_option, registry_option, training_options
from zoo.cli.output import ProgressBar, echo_json_line, percent
from zoo.errors import TrainingDiverged

RUNS_ROOT = "runs"


@click.command("train")
@click.argument("model", required=False)
@training_options()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder to write (new or empty). Default: runs/<model>/<timestamp>.",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="RUN_DIR",
    help="Go on with an interrupted run from its last checkpoint, with its own settings.",
)
@click.option("--plot/--no-plot", default=True, help="Draw the decision boundary PNG.")
@registry_option
@json_option
def train_command(
    model: str | None,
    out: Path | None,
    resume_dir: Path | None,
    plot: bool,
    registry: Path | None,
    as_json: bool,
    **settings: Any,
) -> None:
    """Train MODEL with the shared trainer and save a run folder.

    Flags override the catalogue (registry.yaml), which overrides the plugin's defaults.
    Ctrl-C stops at the end of the epoch with a checkpoint; --resume RUN_DIR goes on from it.
    """
    if resume_dir is not None:
        if model is not None or out is not None or given(settings) or registry is not None:
            raise click.UsageError(
                "--resume goes on with the run's own model and settings; give only RUN_DIR"
            )
        config = zoo.load_run_config(resume_dir)
    elif model is None:
        raise click.UsageError("name the MODEL to train (zoo list shows them), or --resume RUN_DIR")
    else:
        config = zoo.resolve_config(model, registry=registry, **given(settings))
    bar = ProgressBar(config.model)
    callbacks: dict[str, Any] = {
        "plot": plot,
        "on_log": _log_printer(config, as_json, bar),
        "on_progress": bar.update if bar.enabled else None,
    }
    try:
        if resume_dir is not None:
            if not as_json:
                click.echo(f"Resuming {config.model} in {resume_dir}")
            summary = zoo.resume(resume_dir, **callbacks)
        else:
            summary = zoo.train(
                config.model,
                registry=registry,
                out=out,
                runs_root=None if out else RUNS_ROOT,
                **callbacks,
                **given(settings),
            )
    except TrainingDiverged as exc:
        if as_json and exc.summary is not None:  # stdout still holds the one JSON object
            echo_json_line(exc.summary)
        raise
    finally:
        bar.close()
    _print_done(summary, as_json)


def _log_printer(config: Any, as_json: bool, bar: ProgressBar) -> Callable[[Any], None]:
    """Print the lesson's log lines (to stderr with --json), after a line saying what runs."""
    log = sys.stderr if as_json else sys.stdout

    def on_log(row: Any) -> None:
        bar.clear()
        bar.detail = f"loss {row.train_loss:.5f}"
        if not as_json and row.epoch == 0:  # the data and model are ready: say what runs
            click.echo(
                f"Training {config.model} ({config.builds}) on {config.dataset}: "
                f"{config.epochs} epochs, {_optimizer(config)}, batch {config.batch_size}, "
                f"seed {config.seed}"
            )
        click.echo(row.line(), file=log)

    return on_log


def _print_done(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json_line(summary)
        return
    click.echo(
        f"Done in {summary['seconds']:.2f}s on {summary['device']}: "
        f"train {percent(summary['train_acc'])}, test {percent(summary['test_acc'])} "
        f"({summary['params']:,} parameters)"
    )
    click.echo(f"Run folder: {summary['run_dir']}")


@click.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--device", default=None, metavar="D", help="Device to evaluate on (default: the run's)."
)
@json_option
def eval_command(run_dir: Path, device: str | None, as_json: bool) -> None:
    """Reload a run's weights and report its metrics again, on the same data split."""
    metrics = zoo.evaluate(run_dir, device=device)
    if as_json:
        echo_json_line(metrics)
        return
    click.echo(
        f"{metrics['model']} on {metrics['dataset']} ({metrics['device']}): "
        f"train {percent(metrics['train_acc'])} (loss {metrics['train_loss']:.5f}), "
        f"test {percent(metrics['test_acc'])} (loss {metrics['test_loss']:.5f})"
    )


@click.command("predict")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV file: one row of features per line; a header line is allowed.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write (default: standard output).",
)
@click.option("--device", default=None, metavar="D", help="Device to run on (default: the run's).")
def predict_command(
    run_dir: Path, input_path: Path, output_path: Path | None, device: str | None
) -> None:
    """Predict a label and its probability for each row of a CSV file.

    The whole input is checked before any prediction is written: a bad line leaves no
    half-written output.
    """
    import tempfile

    from zoo.runs.files import atomic_open

    if output_path is not None and output_path.name in ("", ".", ".."):
        raise click.UsageError(f"--output must name a file, got {str(output_path)!r}")

    run = zoo.load_run(run_dir, device=device, with_data=False)
    if output_path is not None:
        with atomic_open(output_path, "w", newline="") as out:
            _predict_rows(run, input_path, out)
        return
    with tempfile.TemporaryFile("w+", newline="") as spool:  # stdout gets all or nothing
        _predict_rows(run, input_path, spool)
        spool.seek(0)
        for chunk in iter(lambda: spool.read(1 << 16), ""):
            sys.stdout.write(chunk)


def _predict_rows(run: Any, input_path: Path, out: Any) -> None:
    from zoo.runs.csv_files import read_rows, write_predictions

    header = True
    for rows in read_rows(input_path, run.features):
        labels, probabilities = run.predict(rows)
        write_predictions(out, labels, probabilities, header)
        header = False


def _optimizer(config: Any) -> str:
    text = f"{config.optimizer} lr {config.lr:g}"
    if config.optimizer in ("sgd", "rmsprop") and config.momentum:
        text += f" momentum {config.momentum:g}"
    return text


COMMANDS = [train_command, eval_command, predict_command]
