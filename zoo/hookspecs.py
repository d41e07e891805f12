"""The plugin contract: the hooks a zoo plugin implements.

A plugin is a module named in the ``zoo`` entry-point group of its distribution::

    [project.entry-points.zoo]
    my_plugin = "my_package.my_module"

Its functions are marked with ``@zoo.hookimpl`` and named after the hooks below; this module
is the one list of them. There are two kinds:

- **Registration hooks** (``register_models``, ``register_datasets``, ``register_loggers``)
  receive a ``register`` callback; the plugin calls it once per model, dataset or logger and
  returns nothing. zoo keeps the rules (valid names, no two plugins with one name, settings
  that pass the schema) on its side, and a plugin that breaks one, or raises, is reported and
  left out without affecting the others. pluggy calls them for one plugin at a time, so what
  a plugin registers is its own; options (``tryfirst``, ``trylast``, wrappers) would mean
  nothing there and are refused when the plugin loads.
- **Event hooks** (``on_run_start``, ``on_log_point``, ``on_run_stopped``, ``on_run_end``,
  ``on_comparison_start``, ``on_comparison_end``) are told what training does. Each receives
  the :class:`RunInfo` (or :class:`ComparisonInfo`) it is about first, then the event's own
  data; an implementation may take only the arguments it needs, and implements only the
  events it needs. A logger's object implements them as methods and is used only when chosen
  (``--logger NAME``); a plugin module that implements them sees every run. pluggy calls
  them in the order it documents: ``@zoo.hookimpl(tryfirst=True)`` ones first (zoo's own
  history.csv writer before any), ``trylast=True`` ones last, the others between (zoo's own,
  then the plugins' in load order, then the loggers' as chosen); wrappers
  (``wrapper=True``, or the old-style ``hookwrapper=True``) run around them all and see
  their results, or what one raised (they pass it on: zoo re-raises what a wrapper would
  swallow). A plugin or logger whose hook raises (a wrapper too) is reported once, as a
  warning naming it and the hook, and dropped, all its event hooks, for the rest of the
  command: training goes on and the run is kept.

A hook zoo does not know (a misspelt name) is an error when the plugin loads, unless it is
marked ``optionalhook=True``; so is a hook spec of the plugin's own (``@zoo.hookspec``, with
``firstresult`` or ``historic``): zoo calls only the hooks below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


class RegisterModel(Protocol):
    """The ``register`` callback :func:`register_models` receives; its arguments are
    documented there."""

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        weights: Mapping[str, Any] | None = None,
    ) -> None: ...


class RegisterDataset(Protocol):
    """The ``register`` callback :func:`register_datasets` receives; its arguments are
    documented there."""

    def __call__(
        self,
        name: str,
        loader: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None: ...


class RegisterLogger(Protocol):
    """The ``register`` callback :func:`register_loggers` receives; its arguments are
    documented there."""

    def __call__(
        self,
        name: str,
        factory: Callable[[], Any],
        *,
        description: str | None = None,
        install: str | None = None,
    ) -> None: ...


@dataclass(frozen=True, eq=False)
class ComparisonInfo:
    """A ``zoo compare`` (or ``zoo.compare``), as its event hooks see it."""

    id: str  # unique to this comparison: compare-<date>-<time>-<6 hex digits>
    models: tuple[str, ...]  # as asked for, wildcards expanded
    datasets: tuple[str, ...]  # the datasets compared on
    seeds: tuple[int, ...]
    settings: Mapping[str, Any]  # the settings given for every model (not each one's own)
    out_dir: Path | None  # the --out folder; None without one


@dataclass(frozen=True, eq=False)
class RunInfo:
    """One run (one model, dataset and seed), as its event hooks see it.

    Every event of a run receives the same object: compare with ``is`` or use it as a
    dictionary key (two runs never compare equal).
    """

    name: str  # "circle-v2 on circles, seed 42"; a sweep's settings follow the model
    model: str  # the name asked for (a variant's name for a variant)
    dataset: str
    seed: int
    settings: Mapping[str, Any]  # every resolved training setting, as config.json keeps them
    run_dir: Path | None  # the run folder; None when nothing is written (a compared seed)
    comparison: ComparisonInfo | None = None  # the comparison a compared seed belongs to
    start_epoch: int = 0  # 0 for a new run; for a resumed one, its checkpoint's epoch


@hookspec
def register_models(register: RegisterModel) -> None:
    """Register the plugin's models.

    Called once per process, the first time zoo needs its list of models.

    :param register: call ``register(name, factory, *, description=None, defaults=None,
        weights=None)`` once per model.

        - ``name``: lower-case letters, digits, ``-``, ``_`` and ``.``. If two plugins use
          one name, both stay and users pick one as ``plugin:name``.
        - ``factory(**kwargs) -> torch.nn.Module``: builds a fresh, untrained model. zoo
          seeds torch first, then passes ``in_features``, ``out_features`` (1 for binary
          data, the class count for multi-class) and the configured ``params``, only the
          ones its signature accepts; a ``params`` key it does not accept is the user's error.
          The model must return raw logits (no sigmoid or softmax) of shape ``[N, 1]`` for
          binary data or ``[N, C]`` for C classes; zoo checks one forward pass before
          training. A model built only of ``nn.Linear`` layers and element-wise operations
          (activations, arithmetic), with no buffers and no randomness, trains its compared
          seeds together in one stacked model (see :mod:`zoo.batched`); any other trains
          them one after another, with the same results.
        - ``description``: one line shown by ``zoo list``.
        - ``defaults``: training settings the plugin suggests for this model, any that
          ``zoo info`` lists (``dataset``, ``epochs``, ``lr``, ``optimizer``, ``momentum``,
          ``params``, ...); an unknown key or a value out of range is the plugin's error.
          registry.yaml and the command line override them.
        - ``weights``: trained weights the plugin ships (``zoo.get_model(name,
          weights=True)``): ``{"file": ..., "sha256": ..., "metrics": {...}}``, ``file`` a
          safetensors file written by ``zoo export --format safetensors`` (its
          model.safetensors), relative to the plugin module's folder (package data) or a
          URL; zoo checks its SHA-256 every time it loads it.
    :returns: nothing; return values are ignored.
    """


@hookspec
def register_datasets(register: RegisterDataset) -> None:
    """Register the plugin's datasets.

    Called once per process, the first time zoo needs its list of datasets.

    :param register: call ``register(name, loader, *, description=None, defaults=None)``
        once per dataset.

        - ``loader(**kwargs) -> (X, y)``: numpy arrays, ``X`` float of shape ``[N, F]``, ``y``
          class labels of shape ``[N]``. Two distinct labels make a binary task, more
          make a multi-class one. ``kwargs`` are the configured ``dataset_params``.
          The loader must return the same data on every call with the same ``kwargs``:
          ``zoo eval`` and ``zoo train --resume`` call it again to rebuild a run's split.
          zoo splits the data into train and test itself.
        - ``description``: one line shown by ``zoo datasets``.
        - ``defaults``: training settings this data needs, any that ``zoo info`` lists
          but ``dataset`` and ``dataset_params`` (e.g. ``{"scale": "standard"}`` for a
          table whose columns have different units). They
          sit above the catalogues' ``defaults:`` and below the model's own defaults, its
          catalogue entry and the command line.
    :returns: nothing; return values are ignored.
    """


@hookspec
def register_loggers(register: RegisterLogger) -> None:
    """Register the plugin's loggers, which ``--logger NAME`` (``loggers=[NAME]``) chooses.

    Called once per process, the first time zoo needs its list of loggers.

    :param register: call ``register(name, factory, *, description=None, install=None)``
        once per logger.

        - ``name``: as for models.
        - ``factory() -> object``: called once per command that chooses the logger (a
          ``zoo train``, ``zoo compare``, or their ``--resume``), before anything trains or
          is written. The object's methods marked ``@zoo.hookimpl`` implement the event
          hooks below (any of them); zoo uses it for that command only. Import the logger's
          library here, not at the plugin's top: a ``ModuleNotFoundError`` becomes one error
          line saying what to install; any other exception is a one-line error too, and
          nothing trains.
        - ``description``: one line shown by ``zoo plugins``.
        - ``install``: what ``pip install`` brings the factory's imports, e.g.
          ``"torch-zoo[mlflow]"``.
    :returns: nothing; return values are ignored.
    """


# -- events: what training does ------------------------------------------------------------
# A plugin or logger whose implementation raises is reported once and dropped for the rest of
# the command (the rest of the comparison); KeyboardInterrupt is not caught. With
# ZOO_STRICT_PLUGINS=1 it is an error.


@hookspec
def on_run_start(run: RunInfo) -> None:
    """A run begins.

    Called once per run: for ``zoo train`` (``zoo.train``, ``zoo.resume``) before the first
    epoch, after config.json is written; for a compared seed when its results reach the
    process that runs the comparison, so all of a compared seed's events come together.

    :param run: the run; ``run.settings`` are its resolved settings.
    :returns: nothing; return values are ignored.
    """


@hookspec
def on_log_point(run: RunInfo, epoch: int, metrics: Mapping[str, float]) -> None:
    """The model was evaluated on every split: one row of history.csv.

    Called at every log point (every ``log_every`` epochs and at the last), never between.

    :param run: the run.
    :param epoch: epochs trained so far (0: the untrained model).
    :param metrics: ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc`` (accuracies
        in percent), all finite; with a validation split also ``val_loss``, ``val_acc``.
    :returns: nothing; return values are ignored.
    """


@hookspec
def on_run_stopped(run: RunInfo, reason: str, message: str) -> None:
    """A run stopped before its last epoch.

    Called at most once per run. For ``"interrupted"`` and ``"failed"`` it is the run's last
    event.

    :param run: the run.
    :param reason: ``"interrupted"`` (Ctrl-C or SIGTERM: the run folder keeps a checkpoint
        that ``zoo train --resume`` goes on from), ``"diverged"`` (the loss was no longer
        finite: :func:`on_run_end` follows, with the summary of the last good weights, which
        are kept) or ``"failed"`` (an error ended it).
    :param message: why, in one line: zoo's own message, or the error.
    :returns: nothing; return values are ignored.
    """


@hookspec
def on_run_end(
    run: RunInfo, summary: Mapping[str, Any], history: Sequence[Mapping[str, float]]
) -> None:
    """A run has its result: it trained every epoch, or it diverged (``summary["status"]``
    is ``"completed"`` or ``"diverged"``).

    Called once, the run's last event. With a run folder, weights.pt, the pictures and
    history.csv (written by zoo's own implementation of this hook, first) are in it;
    summary.json, which marks the run whole, is written right after.

    :param run: the run.
    :param summary: what ``zoo train --json`` prints: the final metrics, seconds, device,
        parameter count, status, run folder.
    :param history: every log row (``epoch`` and the metrics), a resumed run's earlier rows
        included: what history.csv holds.
    :returns: nothing; return values are ignored.
    """


@hookspec
def on_comparison_start(comparison: ComparisonInfo) -> None:
    """A comparison begins: everything was checked, and its seeds are about to train.

    Its seeds' run events come between this and :func:`on_comparison_end`, each seed's
    together, as its results arrive (seeds already kept in a resumed ``--out`` folder send
    none).

    :param comparison: the comparison: its id, models, datasets, seeds, settings and
        ``--out`` folder.
    :returns: nothing; return values are ignored.
    """


@hookspec
def on_comparison_end(comparison: ComparisonInfo, status: str, message: str | None) -> None:
    """A comparison ended.

    Called once, the comparison's last event, after its last seed's.

    :param comparison: the comparison, the same object :func:`on_comparison_start` received.
    :param status: ``"finished"``, ``"interrupted"`` (Ctrl-C or SIGTERM) or ``"failed"``.
    :param message: why it ended early, in one line; None when it finished.
    :returns: nothing; return values are ignored.
    """
