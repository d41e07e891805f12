"""Commands that train and use models: train, eval, predict, plot, runs."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import zoo
from zoo.cli.completion import complete_models
from zoo.cli.options import (
    given,
    json_option,
    logger_option,
    registry_option,
    target_option,
    training_options,
)
from zoo.cli.output import (
    ProgressBar,
    command_stdout,
    echo,
    echo_json,
    echo_json_line,
    echo_table,
    percent,
    warn,
)
from zoo.errors import LearnedNothingWarning, TrainingDiverged

RUNS_ROOT = "runs"


@click.command("train")
@click.argument("model", required=False, shell_complete=complete_models)
@training_options()
@target_option
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
    help="Go on with a run from its last checkpoint, with its own settings; with --epochs N, "
    "train a finished or stopped run further, to N epochs in all.",
)
@click.option("--plot/--no-plot", default=True, help="Draw boundary.png and curves.png.")
@logger_option
@registry_option
@json_option
def train_command(
    model: str | None,
    out: Path | None,
    resume_dir: Path | None,
    plot: bool,
    loggers: tuple[str, ...],
    registry: list[Path] | None,
    as_json: bool,
    **settings: Any,
) -> None:
    """Train MODEL with the shared trainer and save a run folder.

    Flags override the catalogues (registry.yaml, then yours), which override the plugin's
    defaults. --dataset takes a dataset name or a CSV file. Ctrl-C stops at the end of the
    epoch with a checkpoint; --resume RUN_DIR goes on from it.
    """
    chosen = given(settings)
    if resume_dir is not None:
        if model is not None or out is not None or set(chosen) - {"epochs"} or registry:
            raise click.UsageError(
                "--resume goes on with the run's own model and settings; give only RUN_DIR "
                "(and --epochs N to train it further)"
            )
        config = zoo.load_run_config(resume_dir)
    elif model is None:
        raise click.UsageError("name the MODEL to train (zoo list shows them), or --resume RUN_DIR")
    else:
        config = zoo.resolve_config(model, registry=registry, **chosen)
    bar = ProgressBar(config.model)
    callbacks: dict[str, Any] = {
        "plot": plot,
        "on_log": _log_printer(config, as_json, bar),
        "on_progress": bar.update if bar.enabled else None,
        "loggers": list(loggers),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LearnedNothingWarning)  # said below, bar gone
            if resume_dir is not None:
                if not as_json:
                    echo(f"Resuming {config.model} in {resume_dir}")
                run = zoo.resume(resume_dir, epochs=chosen.get("epochs"), **callbacks)
            else:
                runs_root = None if out else RUNS_ROOT
                run = zoo.train(
                    model, registry=registry, out=out, runs_root=runs_root, **callbacks, **chosen
                )
    except TrainingDiverged as exc:
        if as_json and exc.summary is not None:  # stdout still holds the one JSON object
            echo_json_line(exc.summary)
        raise
    finally:
        bar.close()
    if run.summary.get("warning"):  # learned nothing: one line, and the likely why
        warn(run.summary["warning"])
    _print_done(run.summary, as_json)


def _log_printer(config: Any, as_json: bool, bar: ProgressBar) -> Callable[[Any], None]:
    """Print the lesson's log lines (to stderr with --json), after a line saying what runs."""

    def on_log(row: Any) -> None:
        bar.clear()
        bar.detail = f"loss {row.train_loss:.5f}"
        if not as_json and row.epoch == 0:  # the data and model are ready: say what runs
            scale = f", scale {config.scale}" if config.scale != "none" else ""
            echo(
                f"Training {config.model} ({config.builds}) on {config.dataset}: "
                f"{config.epochs} epochs, {_optimizer(config)}, batch {config.batch_size}, "
                f"seed {config.seed}{scale}"
            )
        echo(row.line(), err=as_json)

    return on_log


def _print_done(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json_line(summary)
        return
    best = summary.get("best_epoch")
    if summary.get("stopped_early"):
        echo(
            f"Stopped early after epoch {summary['epochs']}: the validation loss was best at "
            f"epoch {best}; its weights were kept"
        )
    elif best is not None:
        echo(f"The validation loss was best at epoch {best}; its weights were kept")
    val = summary.get("val_acc")
    val_text = "" if val is None else f", val {percent(val)}"
    echo(
        f"Done in {summary['seconds']:.2f}s on {summary['device']}: "
        f"train {percent(summary['train_acc'])}{val_text}, test {percent(summary['test_acc'])} "
        f"({summary['params']:,} parameters)"
    )
    echo(f"Run folder: {summary['run_dir']}")


@click.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="FILE",
    help="A labelled CSV file to score instead of the run's own split.",
)
@target_option
@click.option(
    "--device", default=None, metavar="D", help="Device to evaluate on (default: the run's)."
)
@json_option
def eval_command(
    run_dir: Path, data: str | None, target: str | None, device: str | None, as_json: bool
) -> None:
    """Reload a run's weights and report its metrics again, on the same data split, or on
    new labelled data (--data FILE)."""
    metrics = zoo.evaluate(run_dir, device=device, data=data, target=target)
    if as_json:
        echo_json_line(metrics)
    elif data is not None:
        echo(
            f"{metrics['model']} on {metrics['dataset']} ({metrics['device']}): "
            f"{metrics['rows']:,} rows, accuracy {percent(metrics['acc'])} "
            f"(loss {metrics['loss']:.5f})"
        )
    else:
        val = ""
        if "val_acc" in metrics:
            val = f"val {percent(metrics['val_acc'])} (loss {metrics['val_loss']:.5f}), "
        echo(
            f"{metrics['model']} on {metrics['dataset']} ({metrics['device']}): "
            f"train {percent(metrics['train_acc'])} (loss {metrics['train_loss']:.5f}), {val}"
            f"test {percent(metrics['test_acc'])} (loss {metrics['test_loss']:.5f})"
        )


@click.command("predict")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="FILE",
    help="CSV file, or - for standard input: one row of features per line; a header is allowed.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output); a regular file is replaced atomically.",
)
@click.option(
    "--target",
    default=None,
    metavar="COLUMN",
    help="A label column in the input's header to leave out (default: the run's own).",
)
@click.option("--device", default=None, metavar="D", help="Device to run on (default: the run's).")
@registry_option
@json_option
def predict_command(
    run_dir: Path,
    input_path: str,
    output_path: Path | None,
    target: str | None,
    device: str | None,
    registry: list[Path] | None,
    as_json: bool,
) -> None:
    """Predict each row's label and every class's probability (label,p_<class>,...).

    RUN_DIR is a run folder, a safetensors export, or the name of a model with trained
    weights ('zoo list --with-weights').

    The whole input is checked before any prediction is written: a bad line leaves no
    half-written output.
    """
    from zoo.runs.outputs import predict_file

    if output_path is not None and output_path.name in ("", ".", ".."):
        raise click.UsageError(f"--output must name a file, got {str(output_path)!r}")
    run = zoo.load(run_dir, device=device, registry=registry)
    with contextlib.redirect_stdout(command_stdout()):  # --json keeps sys.stdout for plugins
        predict_file(run, input_path, output_path, as_json=as_json, target=target)


@click.command("plot")
@click.argument("run_dir", type=click.Path(path_type=Path))
def plot_command(run_dir: Path) -> None:
    """Draw a run's pictures again: boundary.png (two-feature data) and curves.png."""
    for path in zoo.plot_run(run_dir):
        echo(str(path))


@click.command("runs")
@click.argument("root", required=False, default=RUNS_ROOT, type=click.Path(path_type=Path))
@json_option
def runs_command(root: Path, as_json: bool) -> None:
    """List the run folders under ROOT (default: runs): model, dataset, status, epochs, test
    accuracy and when each started."""
    listing = zoo.list_runs(root)
    if as_json:
        echo_json([run.to_dict() for run in listing])
        return
    if not listing:
        raise click.ClickException(f"no run folders under {root}; 'zoo train MODEL' makes one")
    rows = [
        [
            run.run_dir,
            run.model or "?",
            run.dataset or "?",
            run.status,
            "-" if run.epochs is None else run.epochs,
            "-" if run.test_acc is None else percent(run.test_acc),
            run.date,
        ]
        for run in listing
    ]
    echo_table(["RUN", "MODEL", "DATASET", "STATUS", "EPOCHS", "TEST ACC", "STARTED"], rows)
    for run in listing:
        if run.problem is not None:
            echo(f"zoo: warning: unreadable: {run.problem}", err=True)


def _optimizer(config: Any) -> str:
    text = f"{config.optimizer} lr {config.lr:g}"
    if config.optimizer in ("sgd", "rmsprop") and config.momentum:
        text += f" momentum {config.momentum:g}"
    return text


COMMANDS = [
    train_command,
    eval_command,
    predict_command,
    plot_command,
    runs_command,
]
