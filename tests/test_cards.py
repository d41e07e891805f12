"""Model cards: every run folder's README.md (Hugging Face layout), `zoo card`, and the card
of a comparison; what comes from data is escaped for Markdown and YAML."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pytest
import yaml
from sklearn.datasets import load_wine

import zoo

SECTIONS = [
    "## Model",
    "## Data",
    "## Training settings",
    "## Results",
    "## Training time and machine",
    "## Intended use and limitations",
    "## How to load it",
]


def front_and_text(card: str) -> tuple[dict, str]:
    assert card.startswith("---\n")
    _, front, text = card.split("---\n", 2)
    return yaml.safe_load(front), text


def test_every_run_folder_gets_a_model_card_with_its_metrics_seed_and_machine(zoo_here, tmp_path):
    result = zoo_here("train", "blob-v0", "--epochs", "30", "--out", "run", "--no-plot")
    assert result.returncode == 0, result.stderr
    card = (tmp_path / "run" / "README.md").read_text()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    front, text = front_and_text(card)
    (result_block,) = front["model-index"][0]["results"]
    metrics = {m["name"]: m["value"] for m in result_block["metrics"]}
    assert metrics["test accuracy (%)"] == round(summary["test_acc"], 6)
    assert metrics["majority-class rate (%)"] == round(summary["majority_acc"], 6)
    assert front["zoo"]["seed"] == 42 and front["zoo"]["plugin"]["distribution"] == "torch-zoo"
    assert front["zoo"]["training"]["machine"]["cpus"] >= 1
    for section in SECTIONS:
        assert section in text
    assert "blobs" in text and "SHA-256 of the split" in text and "800 for training" in text
    assert "trained on this data only" in text.replace("It was trained", "trained")
    printed = zoo_here("card", "run")
    assert printed.returncode == 0 and printed.stdout == card


def test_a_card_says_when_the_model_learned_nothing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zoo.errors.LearnedNothingWarning)
        run = zoo.train("circle-v0", epochs=20, out=tmp_path / "run", plot=False)
    assert run.summary["learned_nothing"]
    front, text = front_and_text(run.card())
    assert front["zoo"]["learned_nothing"] is True
    assert "**It learned nothing:**" in text and "Verdict: learned nothing" in text


def test_a_csv_runs_card_names_the_file_with_its_sha256_rows_classes_and_split(zoo_here, tmp_path):
    lines = ["width,height,kind"]
    lines += [f"{i % 7}.5,{i % 5}.25,{'wide' if i % 7 > 3 else 'tall'}" for i in range(200)]
    path = tmp_path / "shapes.csv"
    path.write_text("\n".join(lines) + "\n")
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    result = zoo_here("train", "circle-v2", "--dataset", "shapes.csv", "--epochs", "5",
                      "--test-size", "0.25", "--split-seed", "3", "--out", "run",
                      "--no-plot")  # fmt: skip
    assert result.returncode == 0, result.stderr
    card = (tmp_path / "run" / "README.md").read_text()
    front, text = front_and_text(card)
    data = text.split("## Data\n", 1)[1].split("\n## ", 1)[0]
    assert f"- File: shapes.csv, SHA-256 `{sha256}`" in data.splitlines()
    assert (
        "- Rows: 150 for training, 50 held out for testing (test_size 0.25, split_seed 3)"
        in data.splitlines()
    )
    assert "- Classes (2): tall, wide" in data.splitlines()
    assert front["zoo"]["classes"] == ["tall", "wide"] and front["datasets"] == ["shapes.csv"]
    assert "trained on this data only (150 rows)" in text


@pytest.mark.filterwarnings("ignore::zoo.errors.LearnedNothingWarning")  # 5 epochs: not the point
def test_labels_and_names_from_data_are_escaped_for_markdown_and_yaml(tmp_path):
    wine = load_wine()
    odd = ["a|b", "*bold*", "<b>x</b> & $y$"]  # a table's pipe, emphasis, HTML, math
    lines = ["alcohol,colour,label"]
    lines += [
        f"{float(row[0])!r},{float(row[9])!r},{odd[t]}" for row, t in zip(wine.data, wine.target)
    ]
    path = tmp_path / "odd [name].csv"
    path.write_text("\n".join(lines) + "\n")
    run = zoo.train("circle-v2", data=str(path), epochs=5, out=tmp_path / "run", plot=False)
    front, text = front_and_text(run.card())
    assert front["zoo"]["classes"] == sorted(odd)  # YAML gives them back exactly
    assert "a\\|b" in text and "\\*bold\\*" in text and "\\<b\\>x\\</b\\> \\& \\$y\\$" in text
    assert "odd \\[name\\].csv" in text
    for line in text.splitlines():
        if line.startswith("|") and "a\\|b" not in line:
            assert line.count("|") - line.count("\\|") == 3  # two cells, never broken


def test_an_old_run_without_a_card_gets_one_made_from_its_files(zoo_here, tmp_path):
    assert (
        zoo_here("train", "blob-v0", "--epochs", "5", "--out", "run", "--no-plot").returncode == 0
    )
    (tmp_path / "run" / "README.md").unlink()
    printed = zoo_here("card", "run")
    assert printed.returncode == 0
    front, text = front_and_text(printed.stdout)
    assert front["zoo"]["model"] == "blob-v0" and "Machine: not recorded" in text
    assert not (tmp_path / "run" / "README.md").exists()  # printing writes nothing


def test_a_comparison_folder_gets_one_card_summarising_every_row(zoo_here, tmp_path: Path):
    result = zoo_here(
        "compare", "circle-v0", "circle-v2", "--seeds", "2", "--epochs", "10", "--out", "cmp"
    )
    assert result.returncode == 0, result.stderr
    card = (tmp_path / "cmp" / "README.md").read_text()
    front, text = front_and_text(card)
    assert {entry["name"] for entry in front["model-index"]} == {"circle-v0", "circle-v2"}
    for entry in front["model-index"]:
        assert entry["results"][0]["seeds"] == [42, 43] and entry["results"][0]["verdict"]
    assert "## Results" in text and "| Model |" in text


@pytest.mark.parametrize("name", ["circle-v2", "blob-v0"])
def test_the_card_of_shipped_weights_is_printed_by_name(zoo_here, name):
    printed = zoo_here("card", name)
    assert printed.returncode == 0, printed.stderr
    front, _ = front_and_text(printed.stdout)
    assert front["zoo"]["model"] == name
