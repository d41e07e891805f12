"""Commands that show what is installed: list, datasets, plugins, info."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

import zoo
from zoo.cli.completion import complete_models
from zoo.cli.options import given, json_option, registry_option, target_option, training_options
from zoo.cli.output import echo, echo_json, echo_table


@click.command("list")
@click.argument("pattern", required=False)
@click.option("--with-weights", is_flag=True, help="Only the models with trained weights.")
@registry_option
@json_option
def list_command(
    pattern: str | None, with_weights: bool, registry: list[Path] | None, as_json: bool
) -> None:
    """List the models, with their plugin, default dataset, and trained weights (their
    recorded test accuracy) if they have some.

    PATTERN is a shell wildcard, e.g. 'circle-*'.
    """
    entries = zoo.list_models(pattern, registry=registry, details=True)
    if with_weights:
        entries = [entry for entry in entries if entry.weights is not None]
    if as_json:
        echo_json([entry.to_dict() for entry in entries])
        return
    if not entries and with_weights:
        raise click.ClickException(
            "no model has trained weights; 'zoo publish RUN --as NAME --registry FILE' adds some"
        )
    if not entries:
        raise click.ClickException(_nothing("model", pattern, "zoo list"))
    rows = []
    for entry in entries:
        plugin = entry.plugin.origin
        if entry.variant_of:
            plugin = f"{entry.plugin.name} (variant of {entry.variant_of})"
        rows.append([entry.name, plugin, entry.dataset, _weights(entry), entry.description or ""])
    echo_table(["MODEL", "PLUGIN", "DATASET", "WEIGHTS", "DESCRIPTION"], rows)


def _weights(entry: Any) -> str:
    """``99.5% circles``: the trained weights' recorded test accuracy, and on what."""
    if entry.weights is None:
        return "-"
    accuracy = entry.weights.test_acc
    dataset = entry.weights.metrics.get("dataset")
    text = f"{accuracy:.1f}%" if accuracy is not None else "yes"
    return f"{text} {dataset}" if dataset else text


@click.command("datasets")
@click.argument("pattern", required=False)
@json_option
def datasets_command(pattern: str | None, as_json: bool) -> None:
    """List the datasets, with their plugin."""
    specs = zoo.list_datasets(pattern, details=True)
    if as_json:
        echo_json(
            [{"name": s.name, "plugin": s.plugin.name, "description": s.description} for s in specs]
        )
        return
    if not specs:
        raise click.ClickException(_nothing("dataset", pattern, "zoo datasets"))
    echo_table(
        ["DATASET", "PLUGIN", "DESCRIPTION"],
        [[s.name, s.plugin.origin, s.description or ""] for s in specs],
    )


@click.command("plugins")
@json_option
def plugins_command(as_json: bool) -> None:
    """List the plugins: distribution, hooks, what each provides, and the ones that failed."""
    from zoo.errors import PluginWarning

    with warnings.catch_warnings():  # the failures are this command's output, not warnings
        warnings.simplefilter("ignore", PluginWarning)
        statuses = zoo.list_plugins()
    if as_json:
        echo_json([status.to_dict() for status in statuses])
        return
    loaded = [status for status in statuses if status.status == "loaded"]
    echo_table(
        ["PLUGIN", "FROM", "MODELS", "DATASETS"],
        [
            [s.name, _origin(s), ", ".join(s.models) or "-", ", ".join(s.datasets) or "-"]
            for s in loaded
        ],
    )
    for status in loaded:
        if status.loggers:  # after the table: its columns are models and datasets
            echo(f"--logger NAME: {', '.join(status.loggers)} (plugin {status.name})")
    for status in statuses:
        if status.status == "failed":
            echo(f"{status.name} ({_origin(status)}) FAILED: {status.error}")
    left_out = [status.name for status in statuses if status.status.startswith("not loaded")]
    if left_out:
        echo(f"not loaded (ZOO_LOAD_PLUGINS): {', '.join(left_out)}")
    for name, providers in _clashes(statuses).items():
        echo(
            f"note: {name!r} is registered by {' and '.join(providers)}; "
            f"use {' or '.join(p + ':' + name for p in providers)}"
        )


def _origin(status: zoo.PluginStatus) -> str:
    if status.in_process:
        return "registered in this process"
    return " ".join(filter(None, [status.distribution, status.version])) or "-"


def _clashes(statuses: list[zoo.PluginStatus]) -> dict[str, list[str]]:
    """Names that several loaded plugins register, with those plugins."""
    providers: dict[str, list[str]] = {}
    for status in statuses:
        for name in dict.fromkeys(status.models + status.datasets):
            providers.setdefault(name, []).append(status.name)
    return {name: found for name, found in providers.items() if len(found) > 1}


@click.command("info")
@click.argument("model", shell_complete=complete_models)
@training_options()
@target_option
@registry_option
@json_option
def info_command(
    model: str, registry: list[Path] | None, as_json: bool, **settings: object
) -> None:
    """Show a model's resolved settings (and where each comes from), size and layers."""
    info = zoo.describe(model, registry=registry, **given(settings))
    if as_json:
        echo_json(info)
        return
    echo(f"{info['model']}: {info['description'] or ''}".rstrip())
    echo(f"  builds      {info['builds']} from {info['plugin']}")
    echo(f"  task        {info['task']}, factory({_arguments(info['factory_kwargs'])})")
    echo(f"  parameters  {info['params']:,}")
    echo("settings:")
    echo_table(["  SETTING", "VALUE", "FROM"], _setting_rows(info))
    echo("architecture:")
    for line in info["architecture"].splitlines():
        echo(f"  {line}")


def _setting_rows(info: dict[str, Any]) -> list[list[str]]:
    """One row per setting; the model's and the dataset's parameters one row each."""
    rows = []
    for key, value in info["settings"].items():
        if isinstance(value, dict) and value:
            for name, item in value.items():
                source = info["sources"].get(f"{key}.{name}", info["sources"][key])
                rows.append([f"  {key}.{name}", str(item), source])
        else:
            rows.append([f"  {key}", _value(value), info["sources"][key]])
    return rows


def _nothing(kind: str, pattern: str | None, command: str) -> str:
    """Why a listing is empty: the pattern, or no plugin providing any."""
    if pattern:
        return f"no {kind} matches {pattern!r}; '{command}' shows them all"
    notes = [
        f"plugin {s.name!r} failed to load" for s in zoo.list_plugins() if s.status == "failed"
    ]
    left_out = [repr(s.name) for s in zoo.list_plugins() if s.status.startswith("not loaded")]
    if left_out:
        notes.append("ZOO_LOAD_PLUGINS left out " + ", ".join(left_out))
    why = f": {'; '.join(notes)} (see 'zoo plugins')" if notes else ""
    return f"no plugin provides any {kind}{why}"


def _arguments(kwargs: dict[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _value(value: object) -> str:
    if isinstance(value, dict):
        return _arguments(value) or "-"
    return str(value)


COMMANDS = [list_command, datasets_command, plugins_command, info_command]
