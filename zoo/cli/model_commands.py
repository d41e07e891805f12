"""Commands that take a trained model out of zoo: export, card, publish."""

from __future__ import annotations

from pathlib import Path

import click

import zoo
from zoo.cli.options import json_option, registry_option
from zoo.cli.output import echo, echo_json_line, warn
from zoo.runs.export import FORMATS, TOLERANCE

_NAMES = {"onnx": "ONNX", "torchscript": "TorchScript", "safetensors": "safetensors"}


@click.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="What to write.")
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The file to write (onnx, torchscript: replaced atomically), or a new or empty "
    "folder (safetensors).",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Export the last checkpoint of a run that did not finish.",
)
@json_option
def export_command(
    run_dir: Path, fmt: str, output_path: Path, partial: bool, as_json: bool
) -> None:
    """Export a trained run: one graph from raw features to class probabilities, its
    scaling inside, its classes and metrics with it.

    The export is run on the run's test split first (by ONNX Runtime, torch.jit.load, or
    zoo's safetensors reader); if a probability differs from torch's by more than 1e-5,
    nothing is written.
    """
    run = zoo.load(run_dir, partial=partial)
    if run.summary.get("partial"):
        warn(
            f"{run_dir} did not finish: exporting its last checkpoint, epoch "
            f"{run.summary['epochs']} of {run.config.epochs}"
        )
    report = run.export(output_path, format=fmt)
    if as_json:
        echo_json_line(report.to_dict())
        return
    echo(
        f"Exported {report.model} ({report.epochs} epochs) to {report.path} as "
        f"{_NAMES[report.format]}: run on its {report.rows:,} test rows by "
        f"{report.checked_by}, largest probability difference from torch "
        f"{report.max_difference:.3g} (at most {TOLERANCE:g} allowed)"
    )


@click.command("card")
@click.argument("source", type=click.Path(path_type=Path))
@registry_option
def card_command(source: Path, registry: list[Path] | None) -> None:
    """Print the model card of a run folder, an exported folder, or a model name with
    trained weights: README.md in the Hugging Face layout."""
    run = zoo.load(source, partial=True, registry=registry)
    click.echo(run.card(), nl=False)


@click.command("publish")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--as", "name", required=True, metavar="NAME", help="The model name to publish as.")
@click.option(
    "--registry",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The catalogue (YAML) to add the entry to; created if missing.",
)
@click.option("--force", is_flag=True, help="Replace an entry or weights file of that name.")
@json_option
def publish_command(run_dir: Path, name: str, registry: Path, force: bool, as_json: bool) -> None:
    """Publish a finished run's trained weights as NAME in a catalogue: writes
    weights/NAME.safetensors and weights/NAME.md (the card) beside FILE and adds the entry
    (the rest of FILE is kept as it is)."""
    published = zoo.load(run_dir).publish(name, registry, force=force)
    if as_json:
        echo_json_line(published.to_dict())
        return
    if not published.changed:
        echo(f"{name} is already published in {registry} with these weights; nothing changed")
        return
    echo(f"Published {name} in {registry}: {published.weights} (sha256 {published.sha256[:12]}...)")
    echo(f"Use it: zoo predict {name} --registry {registry} --input FILE")


COMMANDS = [export_command, card_command, publish_command]
