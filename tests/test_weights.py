"""Trained weights in the registry: shipped by the built-in plugins, named by a catalogue entry
(a file beside it, or a URL downloaded once into the cache), checked by SHA-256 on every
load, and published from a run with `zoo publish`.

Downloads come from an `http.server` this test starts on a free local port: no test needs
the internet.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_one_line_error
from limits import MiB, in_child
from safetensors.torch import load_file

import zoo
from zoo.plugins.loader import add_plugin_object, load_plugins
from zoo.plugins.specs import PluginInfo
from zoo.runs import pretrained
from zoo.training.data import load_split

SHIPPED = ROOT / "plugins" / "weights"


def circles_test_split() -> tuple[np.ndarray, np.ndarray]:
    split = load_split(load_plugins().dataset("circles"), {}, 0.2, 42)
    return split.X_test, split.y_test


def catalogue(folder: Path, name: str, file: str, sha256: str, **extra: object) -> Path:
    entry = {"weights": {"file": file, "sha256": sha256, "metrics": {"test_acc": 99.5}}, **extra}
    path = folder / "mine.yaml"
    path.write_text(json.dumps({"models": {name: entry}}))  # JSON is YAML
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the test's output is zoo's
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder of its own: (its URL, the folder)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# -- shipped with the built-in plugins --------------------------------------------------------


def test_get_model_with_weights_is_the_trained_model_in_eval_mode_and_without_untrained():
    trained = zoo.get_model("circle-v2", weights=True)
    assert not trained.training
    X, y = circles_test_split()
    with torch.inference_mode():
        labels = (torch.sigmoid(trained(torch.from_numpy(X)).squeeze(-1)) > 0.5).numpy()
    accuracy = float((labels == y).mean() * 100)
    listed = json.loads((SHIPPED / "weights.json").read_text())["circle-v2"]["metrics"]
    assert accuracy == pytest.approx(listed["test_acc"]) and accuracy >= 99.0
    untrained = zoo.get_model("circle-v2")
    assert untrained.training
    assert not torch.equal(untrained.layer_1.weight, trained.layer_1.weight)


def test_predict_takes_a_model_name_with_weights_as_it_takes_a_run_folder(zoo_here, tmp_path):
    X, _ = circles_test_split()
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2\n" + "\n".join(f"{a!r},{b!r}" for a, b in X[:5].tolist()) + "\n")
    result = zoo_here("predict", "circle-v2", "--input", "rows.csv")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header == "label,p_0,p_1" and len(lines) == 5
    expected = zoo.load("circle-v2").predict(X[:5])
    assert [int(line.split(",")[0]) for line in lines] == list(expected)


def test_zoo_list_shows_the_weights_test_accuracy_and_lists_only_those_with_weights(zoo_here):
    listing = zoo_here("list")
    header, *rows = listing.stdout.splitlines()
    assert "WEIGHTS" in header
    row = next(line for line in rows if line.startswith("circle-v2 "))
    assert "99.5% circles" in row
    wide = next(line for line in rows if line.startswith("circle-v2-wide"))
    assert " - " in wide  # a variant has no weights of its plugin's
    only = zoo_here("list", "--with-weights").stdout
    assert "circle-v2-wide" not in only and "blob-v0" in only
    entries = json.loads(zoo_here("list", "--json").stdout)
    shipped = {e["name"]: e["weights"] for e in entries if e["weights"]}
    assert set(shipped) == {"blob-v0", "circle-v0", "circle-v0-seq", "circle-v1", "circle-v2"}


@pytest.mark.slow
def test_rerunning_the_script_reproduces_the_shipped_weights(tmp_path):
    """The script gives the shipped weights: the same metrics, and tensors equal up to the
    drift between CPUs (PyTorch is bit-exact on one platform, not across instruction sets;
    on the machine that wrote them, the bytes are the same)."""
    script = ROOT / "scripts" / "train_shipped_weights.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    shipped = json.loads((SHIPPED / "weights.json").read_text())
    again = json.loads((tmp_path / "weights.json").read_text())
    assert {name: entry["metrics"] for name, entry in again.items()} == {
        name: entry["metrics"] for name, entry in shipped.items()
    }
    for name, entry in shipped.items():
        file = SHIPPED / f"{name}.safetensors"
        assert hashlib.sha256(file.read_bytes()).hexdigest() == entry["sha256"]
        kept, made = load_file(file), load_file(tmp_path / f"{name}.safetensors")
        assert kept.keys() == made.keys()
        for key in kept:
            torch.testing.assert_close(made[key], kept[key], rtol=1e-3, atol=1e-4)


# -- shipped by a plugin that is not zoo's ----------------------------------------------------

ACME = """\
\"\"\"zoo_acme: a plugin whose package data, weights/ beside this file, holds its model's
trained weights (listed in weights/weights.json once they were trained).\"\"\"
import json
from pathlib import Path

from torch import nn

import zoo

LISTING = Path(__file__).parent / "weights" / "weights.json"


def acme_net(in_features=2, out_features=1, hidden_units=8):
    return nn.Sequential(
        nn.Linear(in_features, hidden_units), nn.ReLU(), nn.Linear(hidden_units, out_features)
    )


@zoo.hookimpl
def register_models(register):
    weights = json.loads(LISTING.read_text()) if LISTING.exists() else None
    register("acme-net", acme_net, defaults={"dataset": "circles"}, weights=weights)
"""


@pytest.mark.parametrize("entry_point", ["zoo_acme", "zoo_acme:plugin"])
def test_a_third_party_plugin_ships_weights_as_package_data(
    zoo_here, tmp_path, monkeypatch, entry_point
):
    package = tmp_path / "site" / "zoo_acme"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(ACME)
    spec = importlib.util.spec_from_file_location("zoo_acme", package / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "zoo_acme", module)
    spec.loader.exec_module(module)
    module.plugin = module  # what "zoo_acme:plugin" names

    def install() -> None:  # as zoo finds an installed plugin: afresh, by its entry point
        load_plugins.cache_clear()
        add_plugin_object(load_plugins(), module, PluginInfo("acme", entry_point))

    install()  # without weights: trained here, and its weights put in its package
    run = zoo.train("acme-net", epochs=100, lr=0.1, out=tmp_path / "run", plot=False)
    run.export(package / "weights", format="safetensors")
    file = package / "weights" / "model.safetensors"
    metrics = {"test_acc": run.summary["test_acc"], "dataset": "circles"}
    listing = {"file": "weights/model.safetensors", "sha256": sha256_of(file), "metrics": metrics}
    (package / "weights" / "weights.json").write_text(json.dumps(listing))
    monkeypatch.chdir(tmp_path / "site")  # anywhere but the package: its file is found by it
    install()

    X, _ = circles_test_split()
    model = zoo.get_model("acme-net", weights=True)
    assert not model.training
    with torch.inference_mode():
        assert torch.equal(model(torch.from_numpy(X)), run.model.eval()(torch.from_numpy(X)))
    loaded = zoo.load("acme-net")
    assert np.array_equal(loaded.predict_proba(X), run.predict_proba(X))
    assert loaded.summary["weights"]["file"] == str(file)
    assert loaded.summary["weights"]["origin"] == "plugin acme"
    assert zoo.get_model("acme-net").training  # without weights=True: untrained, as ever
    listed = zoo_here("list", "--with-weights")
    row = next(line for line in listed.stdout.splitlines() if line.startswith("acme-net "))
    assert f"{run.summary['test_acc']:.1f}% circles" in row


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- named by a catalogue, checked by SHA-256 ---------------------------------------------------


def test_a_weights_file_that_is_not_the_published_one_is_one_line_and_unused(zoo_here, tmp_path):
    data = bytearray((SHIPPED / "circle-v2.safetensors").read_bytes())
    published = hashlib.sha256(data).hexdigest()
    data[-1] ^= 1  # one bit of one weight
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "circle-v2.safetensors").write_bytes(bytes(data))
    registry = catalogue(tmp_path, "circle-v2", "weights/circle-v2.safetensors", published)
    (tmp_path / "rows.csv").write_text("0.1,0.2\n")
    result = zoo_here("predict", "circle-v2", "--registry", str(registry), "--input", "rows.csv")
    assert_one_line_error(result, "SHA-256", "not the one published", "nothing was used")
    assert result.stdout == ""
    with pytest.raises(zoo.errors.WeightsError):
        zoo.get_model("circle-v2", weights=True, registry=registry)


def test_a_malformed_weights_entry_is_one_line_with_its_file_and_line(zoo_here, tmp_path):
    registry = catalogue(tmp_path, "circle-v2", "w.safetensors", "not-a-digest")
    result = zoo_here("list", "--registry", str(registry))
    assert_one_line_error(result, "mine.yaml:1:", "weights.sha256", "64 lower-case hex digits")


def test_a_url_is_downloaded_once_into_the_cache_and_checked(server, tmp_path, monkeypatch):
    url, served = server
    shutil.copy(SHIPPED / "circle-v2.safetensors", served / "circle.safetensors")
    digest = hashlib.sha256((served / "circle.safetensors").read_bytes()).hexdigest()
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    registry = catalogue(tmp_path, "circle-v2", f"{url}/circle.safetensors", digest)
    first = zoo.load("circle-v2", registry=registry)
    cached = tmp_path / "cache" / f"{digest}.safetensors"
    assert cached.read_bytes() == (served / "circle.safetensors").read_bytes()
    (served / "circle.safetensors").unlink()  # gone from the server: the cache answers
    again = zoo.load("circle-v2", registry=registry)
    X, _ = circles_test_split()
    assert np.array_equal(first.predict_proba(X), again.predict_proba(X))
    assert again.summary["weights"]["file"] == str(cached)


TAMPERINGS = ["one bit flipped", "grown past the bound"]


def downloaded_then_tampered(
    server, tmp_path: Path, monkeypatch, how: str
) -> tuple[Path, Path, bytes]:
    """circle-v2's weights downloaded once into the cache, then the cached copy tampered
    with: (the catalogue naming the URL, the cached copy, the published bytes)."""
    url, served = server
    published = (SHIPPED / "circle-v2.safetensors").read_bytes()
    (served / "circle.safetensors").write_bytes(published)
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    registry = catalogue(
        tmp_path, "circle-v2", f"{url}/circle.safetensors", hashlib.sha256(published).hexdigest()
    )
    zoo.load("circle-v2", registry=registry)
    (cached,) = (tmp_path / "cache").iterdir()
    if how == "one bit flipped":  # of one weight: a file that still parses
        tampered = bytearray(cached.read_bytes())
        tampered[-1] ^= 1
        cached.write_bytes(bytes(tampered))
    else:  # sparse: a gigabyte on no disk, refused by its size, never read
        with open(cached, "r+b") as file:
            file.truncate(pretrained.MAX_DOWNLOAD_BYTES + 1)
    return registry, cached, published


@pytest.mark.parametrize("how", TAMPERINGS)
def test_a_cached_copy_that_was_tampered_with_is_downloaded_again_not_used(
    server, tmp_path, monkeypatch, how
):
    registry, cached, published = downloaded_then_tampered(server, tmp_path, monkeypatch, how)
    again = zoo.load("circle-v2", registry=registry)
    assert cached.read_bytes() == published  # the cache holds the published file again
    X, _ = circles_test_split()
    shipped = zoo.load("circle-v2")  # the same bytes, shipped with the plugin
    assert np.array_equal(again.predict_proba(X), shipped.predict_proba(X))


@pytest.mark.parametrize("how", TAMPERINGS)
def test_a_tampered_cached_copy_that_cannot_be_fetched_again_is_one_line_and_unused(
    zoo_here, server, tmp_path, monkeypatch, how
):
    registry, cached, _ = downloaded_then_tampered(server, tmp_path, monkeypatch, how)
    (server[1] / "circle.safetensors").unlink()  # gone from the server too
    (tmp_path / "rows.csv").write_text("0.1,0.2\n")
    result = zoo_here("predict", "circle-v2", "--registry", str(registry), "--input", "rows.csv")
    assert_one_line_error(result, "circle.safetensors: cannot be downloaded", "404")
    assert result.stdout == ""
    assert not cached.exists()  # nothing left in the cache for a later load to trust
    with pytest.raises(zoo.errors.WeightsError, match="cannot be downloaded"):
        zoo.get_model("circle-v2", weights=True, registry=registry)


def test_a_download_that_is_not_the_published_file_is_not_kept(server, tmp_path, monkeypatch):
    url, served = server
    shutil.copy(SHIPPED / "circle-v1.safetensors", served / "circle.safetensors")
    published = json.loads((SHIPPED / "weights.json").read_text())["circle-v2"]["sha256"]
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    registry = catalogue(tmp_path, "circle-v2", f"{url}/circle.safetensors", published)
    with pytest.raises(zoo.errors.WeightsError, match="nothing was kept or used"):
        zoo.load("circle-v2", registry=registry)
    assert not list((tmp_path / "cache").iterdir())


def test_a_download_larger_than_the_bound_is_refused(server, tmp_path, monkeypatch):
    url, served = server
    shutil.copy(SHIPPED / "circle-v2.safetensors", served / "circle.safetensors")
    digest = hashlib.sha256((served / "circle.safetensors").read_bytes()).hexdigest()
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pretrained, "MAX_DOWNLOAD_BYTES", 1000)
    registry = catalogue(tmp_path, "circle-v2", f"{url}/circle.safetensors", digest)
    with pytest.raises(zoo.errors.WeightsError, match="larger than 1,000 bytes"):
        zoo.load("circle-v2", registry=registry)
    assert not list((tmp_path / "cache").iterdir())


def test_an_unreachable_url_is_one_line(zoo_here, server, tmp_path, monkeypatch):
    url, _ = server
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    registry = catalogue(tmp_path, "circle-v2", f"{url}/missing.safetensors", "0" * 64)
    result = zoo_here("card", "circle-v2", "--registry", str(registry))
    assert_one_line_error(result, "missing.safetensors: cannot be downloaded", "404")


def test_a_file_url_works_as_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    source = SHIPPED / "blob-v0.safetensors"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    registry = catalogue(tmp_path, "blob-v0", source.as_uri(), digest)
    assert zoo.load("blob-v0", registry=registry).classes == [0, 1, 2, 3]


# -- zoo publish --------------------------------------------------------------------------------


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    zoo.train("circle-v2", epochs=200, out=tmp_path / "run", plot=False)
    return tmp_path / "run"


def test_publish_adds_the_entry_and_keeps_the_rest_of_the_file(zoo_here, trained, tmp_path):
    registry = tmp_path / "mine.yaml"
    registry.write_text(
        "# my models\nmodels:\n  # the lesson's, slower\n  circle-v1:\n    lr: 0.05\n\n# end\n"
    )
    result = zoo_here("publish", "run", "--as", "my-circle", "--registry", "mine.yaml")
    assert result.returncode == 0, result.stderr
    text = registry.read_text()
    assert text.startswith(
        "# my models\nmodels:\n  # the lesson's, slower\n  circle-v1:\n    lr: 0.05\n"
    )
    assert text.endswith("\n# end\n")
    assert (tmp_path / "weights" / "my-circle.safetensors").is_file()
    assert (tmp_path / "weights" / "my-circle.md").read_text().startswith("---\n")
    run = zoo.load(trained)
    X, _ = circles_test_split()
    back = zoo.load("my-circle", registry=registry)
    assert np.array_equal(back.predict_proba(X), run.predict_proba(X))
    assert back.summary["test_acc"] == run.summary["test_acc"]
    model = zoo.get_model("my-circle", weights=True, registry=registry)
    assert not model.training
    listed = zoo_here("list", "--registry", "mine.yaml", "--with-weights").stdout
    assert "my-circle" in listed and f"{run.summary['test_acc']:.1f}% circles" in listed


def test_publish_refuses_a_different_entry_of_that_name_unless_forced(zoo_here, trained, tmp_path):
    assert zoo_here("publish", "run", "--as", "mine", "--registry", "m.yaml").returncode == 0
    same = zoo_here("publish", "run", "--as", "mine", "--registry", "m.yaml")
    assert same.returncode == 0 and "nothing changed" in same.stdout
    zoo.train("circle-v2", epochs=20, out=tmp_path / "other", plot=False)
    before = (tmp_path / "m.yaml").read_text()
    refused = zoo_here("publish", "other", "--as", "mine", "--registry", "m.yaml")
    assert_one_line_error(refused, "models.mine already exists and differs", "--force")
    assert (tmp_path / "m.yaml").read_text() == before
    forced = zoo_here("publish", "other", "--as", "mine", "--registry", "m.yaml", "--force")
    assert forced.returncode == 0, forced.stderr
    assert zoo.load("mine", registry=tmp_path / "m.yaml").summary["epochs"] == 20
    assert (tmp_path / "m.yaml").read_text().count("mine:") == 1


def test_publish_checks_a_file_already_in_the_weights_place_within_bounds(trained, tmp_path):
    (tmp_path / "weights").mkdir()
    huge = tmp_path / "weights" / "mine.safetensors"
    with open(huge, "wb") as file:
        file.truncate(8 * 2**30)  # sparse: 8 GiB on no disk, in no memory
    run = zoo.load(trained)
    outcome = in_child(lambda: run.publish("mine", tmp_path / "m.yaml"), 256 * MiB, hang=60)
    assert outcome.kind == "error", outcome.text
    assert (
        outcome.text
        == f"{huge}: already exists and holds other weights; give --force to replace it"
    )
    assert outcome.growth < 64 * MiB  # its size said it differs: not a byte of it was read
    assert huge.stat().st_size == 8 * 2**30 and not (tmp_path / "m.yaml").exists()
    run.publish("mine", tmp_path / "m.yaml", force=True)
    assert (
        zoo.load("mine", registry=tmp_path / "m.yaml").summary["test_acc"]
        == run.summary["test_acc"]
    )


def test_publish_refuses_another_plugins_model_name(zoo_here, trained):
    result = zoo_here("publish", "run", "--as", "circle-v1", "--registry", "m.yaml")
    assert_one_line_error(result, "is a model of plugin 'circle_models'")
