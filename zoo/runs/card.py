"""Model cards: what a trained model is, what it was trained on, and what it is good for.

A card is a README.md in the Hugging Face layout: YAML front matter (``model-index`` with the
metrics, and zoo's own record under ``zoo``), then sections a reader can check: the model and
the plugin that provides it, the data (its SHA-256s, rows, classes, split), the settings, the
metrics with their seed beside the majority-class rate (and the learned-nothing verdict when
it applies), the training time and machine, intended use and limitations, and how to load it.

Everything that comes from data or plugins (labels, dataset and file names) is escaped: in the
front matter by the YAML dumper, in the text by a backslash before every character Markdown
reads as markup mid-line, so a label like ``*|<b>`` reads as itself and breaks no table.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import ZooError
from zoo.runs import bounded
from zoo.text import markdown_cell as md  # every name and value from data, escaped

CARD = "README.md"
MAX_CARD_BYTES = 2**20


def code(text: str, language: str = "") -> str:
    """A fenced code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def this_machine() -> dict[str, Any]:
    """The machine a model is trained on, as the card records it."""
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
    }


def recorded_training(folder: Path) -> dict[str, Any]:
    """How long a folder's model trained, and on what machine, as its card says ({} if it
    has no card)."""
    front = front_matter(folder / CARD)
    training = front.get("zoo", {}).get("training") if isinstance(front.get("zoo"), dict) else None
    return training if isinstance(training, dict) else {}


def training(seconds: Any) -> dict[str, Any]:
    """What a card says of a training that ran on this machine just now."""
    return {"seconds": seconds, "machine": this_machine()}


def front_matter(path: Path) -> dict[str, Any]:
    """A card's YAML front matter (safely loaded), or {} for a missing or foreign card."""
    try:
        text = bounded.read_bytes(path, MAX_CARD_BYTES, "missing").decode("utf-8")
        _, front, _ = text.split("---\n", 2)
        found = yaml.safe_load(front)
    except (ZooError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return {}
    return found if isinstance(found, dict) else {}


def model_card(record: dict[str, Any], load_from: str) -> str:
    """The card of the model ``record`` describes (see :mod:`zoo.runs.weights_file`);
    ``load_from`` is what ``zoo.load`` takes to get it back (a folder, a registry name)."""
    sections = [
        f"---\n{_yaml(_front(record))}---",
        f"# {md(record['model'])} on {md(record['settings']['dataset'])}",
        _opening(record),
        "## Model\n\n" + _bullets(_model(record)),
        "## Data\n\n" + _bullets(_data(record)),
        "## Training settings\n\n" + _table(["setting", "value"], _settings(record)),
        "## Results\n\n" + _results(record),
        "## Training time and machine\n\n" + _bullets(_machine(record)),
        "## Intended use and limitations\n\n" + _bullets(_limits(record)),
        "## How to load it\n\n" + _how_to_load(record, load_from),
    ]
    return "\n\n".join(sections) + "\n"


def _yaml(data: Any) -> str:
    return yaml.safe_dump(_rounded(data), sort_keys=False, allow_unicode=True, width=10**6)


def _rounded(value: Any) -> Any:
    """Numbers as a reader wants them: 56.0, not 56.00000000000001 (float noise)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _front(record: dict[str, Any]) -> dict[str, Any]:
    metrics, settings = record["metrics"], record["settings"]
    dataset = {"name": settings["dataset"], "type": settings["dataset"]}
    results = [
        {"type": "accuracy", "name": f"{part} accuracy (%)", "value": metrics.get(f"{part}_acc")}
        for part in ("test", "train")
    ]
    results.append({"type": "loss", "name": "test loss", "value": metrics.get("test_loss")})
    rate = {"type": "accuracy", "name": "majority-class rate (%)"}
    results.append({**rate, "value": metrics.get("majority_acc")})
    return {
        "library_name": "zoo",
        "pipeline_tag": "tabular-classification",
        "tags": ["zoo", "pytorch", record["plugin"]["name"]],
        "datasets": [settings["dataset"]],
        "metrics": ["accuracy"],
        "model-index": [
            {
                "name": record["model"],
                "results": [
                    {
                        "task": {"type": "tabular-classification", "name": _task(record)},
                        "dataset": dataset,
                        "metrics": [m for m in results if m["value"] is not None],
                    }
                ],
            }
        ],
        "zoo": {
            "model": record["model"],
            "builds": record["builds"],
            "plugin": record["plugin"],
            "classes": record["classes"],
            "seed": metrics.get("seed"),
            "epochs": metrics.get("epochs"),
            "partial": metrics.get("partial", False),
            "learned_nothing": metrics.get("learned_nothing", False),
            "training": record.get("training", {}),
            "zoo_version": record.get("zoo_version"),
        },
    }


def _task(record: dict[str, Any]) -> str:
    return "binary classification" if len(record["classes"]) == 2 else "multi-class classification"


def _percent(value: Any) -> str:
    return f"{value:.1f}%" if isinstance(value, (int, float)) else "not recorded"


def _opening(record: dict[str, Any]) -> str:
    metrics = record["metrics"]
    text = (
        f"{md(record['model'])} (model {md(record['builds'])}) trained by zoo "
        f"{md(record.get('zoo_version', '?'))} for {_task(record)}: "
        f"{_percent(metrics.get('test_acc'))} test accuracy with seed {metrics.get('seed')}, "
        f"where always answering the majority class scores {_percent(metrics.get('majority_acc'))}."
    )
    if metrics.get("partial"):
        text += (
            f" **Not a finished run:** these weights are its last checkpoint, after "
            f"{metrics.get('epochs')} of {record['settings'].get('epochs')} epochs."
        )
    if metrics.get("learned_nothing"):
        text += (
            " **It learned nothing:** its test accuracy is no better than the majority "
            "class's rate, so its predictions carry no information about this data."
        )
    return text


def _model(record: dict[str, Any]) -> list[str]:
    plugin = record["plugin"]
    source = " ".join(str(v) for v in (plugin.get("distribution"), plugin.get("version")) if v)
    arguments = ", ".join(f"{md(k)}={md(v)}" for k, v in record["factory_kwargs"].items())
    scaling = record["scaling"]["kind"]
    inside = "none" if scaling == "none" else f"{scaling}, fitted on the training rows"
    return [
        f"Model: {md(record['model'])}, built by {md(record['builds'])}({arguments})",
        f"Plugin: {md(plugin['name'])}" + (f", from {md(source)}" if source else ""),
        f"Parameters: {_whole(record['metrics'].get('params'))}",
        f"Input: {record['features']} raw features; scaling: {inside}",
        f"Output: the probability of each class: {', '.join(md(c) for c in record['classes'])}",
    ]


def _whole(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "not recorded"


def _data(record: dict[str, Any]) -> list[str]:
    settings, data = record["settings"], record.get("data", {})
    lines = [f"Dataset: {md(settings['dataset'])}"]
    if settings.get("dataset_params"):
        lines.append(f"Dataset parameters: {_pairs(settings['dataset_params'].items())}")
    file = data.get("file")
    if isinstance(file, dict):
        lines.append(f"File: {md(file.get('path'))}, SHA-256 `{md(file.get('sha256'))}`")
    rows = record.get("rows", {})
    lines.append(
        f"Rows: {_whole(rows.get('train'))} for training, {_whole(rows.get('test'))} held out "
        f"for testing (test_size {settings.get('test_size')}, split_seed "
        f"{settings.get('split_seed')})"
    )
    if data.get("sha256"):
        lines.append(f"SHA-256 of the split: `{md(data['sha256'])}`")
    lines.append(
        f"Classes ({len(record['classes'])}): {', '.join(md(c) for c in record['classes'])}"
    )
    return lines


def _pairs(items: Iterable[tuple[Any, Any]]) -> str:
    return ", ".join(f"{md(k)}={md(v)}" for k, v in items)


def _settings(record: dict[str, Any]) -> list[list[str]]:
    return [[md(key), _setting(value)] for key, value in record["settings"].items()]


def _setting(value: Any) -> str:
    return (_pairs(value.items()) or "none") if isinstance(value, dict) else md(value)


def _results(record: dict[str, Any]) -> str:
    metrics = record["metrics"]
    rows = [
        ["test accuracy", _percent(metrics.get("test_acc"))],
        ["train accuracy", _percent(metrics.get("train_acc"))],
        ["test loss", _number(metrics.get("test_loss"))],
        ["train loss", _number(metrics.get("train_loss"))],
        ["majority-class rate (test rows)", _percent(metrics.get("majority_acc"))],
        ["epochs", str(metrics.get("epochs"))],
        ["seed", str(metrics.get("seed"))],
    ]
    text = _table(["metric", "value"], rows)
    verdict = (
        "learned nothing: no better than the majority class"
        if metrics.get("learned_nothing")
        else None
    )
    if verdict:
        text += f"\n\nVerdict: {verdict}."
    return text + (
        "\n\nOne seed: the spread over seeds is not measured here; `zoo compare MODEL "
        "--seeds 10` measures it."
    )


def _number(value: Any) -> str:
    return f"{value:.5f}" if isinstance(value, (int, float)) else "not recorded"


def _machine(record: dict[str, Any]) -> list[str]:
    metrics, spent = record["metrics"], record.get("training", {})
    machine, seconds = spent.get("machine"), spent.get("seconds")
    took = f"{seconds:.2f} s" if isinstance(seconds, (int, float)) else "not recorded"
    lines = [f"Training time: {took} on {md(metrics.get('device', 'an unrecorded device'))}"]
    if isinstance(machine, dict):
        lines.append(
            f"Machine: {md(machine.get('platform'))} ({md(machine.get('processor'))}, "
            f"{machine.get('cpus')} CPUs), Python {md(machine.get('python'))}, torch "
            f"{md(machine.get('torch'))}"
        )
    else:
        lines.append("Machine: not recorded")
    return lines


def _limits(record: dict[str, Any]) -> list[str]:
    settings, rows = record["settings"], record.get("rows", {})
    return [
        f"Intended use: classifying rows like those of {md(settings['dataset'])}: the same "
        f"{record['features']} features, in the same order and units.",
        f"It was trained on this data only ({_whole(rows.get('train'))} rows); its accuracy "
        f"was measured on {_whole(rows.get('test'))} held-out rows of the same data and says "
        "nothing of data from elsewhere.",
        "It answers one of its classes for every row, even for rows unlike any it saw; its "
        "probabilities are the model's outputs, not calibrated frequencies.",
    ]


def _how_to_load(record: dict[str, Any], load_from: str) -> str:
    python = (
        "import zoo\n\n"
        f"run = zoo.load({load_from!r})\n"
        "run.predict(X)        # the labels\n"
        "run.predict_proba(X)  # each class's probability"
    )
    shell = f"zoo predict {_shell(load_from)} --input rows.csv"
    return (
        f"{code(python, 'python')}\n\nOr from the command line:\n\n{code(shell, 'sh')}\n\n"
        f"zoo rebuilds the model with plugin {md(record['plugin']['name'])} (it must be "
        "installed); the weights load without running code."
    )


def _shell(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)
