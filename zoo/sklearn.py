"""zoo's models as a scikit-learn classifier: ``from zoo.sklearn import ZooClassifier``.

``ZooClassifier("circle-v2")`` trains a zoo model with zoo's shared trainer on every row given to
``fit`` (there is no train/test split: cross-validation is scikit-learn's job) and then works as
any scikit-learn classifier, in a ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone``
and pickle. Each training setting is a constructor parameter, stored as given; ``None`` means
the model's configured value, resolved exactly as ``zoo train`` resolves it (registry.yaml, the
plugin's defaults). So the same settings and seed on the rows of ``zoo train``'s training split
give ``zoo train``'s weights, bit for bit.

``import zoo`` does not import this module (it needs torch and scikit-learn).
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from zoo.config.checks import open_zoo
from zoo.config.resolve import TrainConfig, resolve
from zoo.errors import ConfigError, TrainingDiverged
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import ModelSpec
from zoo.training.data import Split, float32_features
from zoo.training.devices import resolve_device
from zoo.training.diagnosis import divergence_message
from zoo.training.experiment import Experiment
from zoo.training.records import FitResult
from zoo.training.trainer import Trainer

__all__ = ["ZooClassifier"]

# The constructor's parameters that are zoo settings of the same name (see zoo/settings.py).
_SETTINGS = (
    "epochs",
    "lr",
    "optimizer",
    "momentum",
    "weight_decay",
    "batch_size",
    "params",
    "device",
    "threads",
    "scale",
)
# What fit learns (besides scikit-learn's n_features_in_ and feature_names_in_).
_LEARNED = ("classes_", "module_", "scaling_", "settings_", "n_iter_", "loss_")
SCALE_FIX = "scale='standard', or a StandardScaler before it"  # how a user of this scales


class ZooClassifier(ClassifierMixin, BaseEstimator):
    """A zoo model, trained by zoo's shared trainer, as a scikit-learn classifier.

    Parameters
    ----------
    model : str, default="circle-v2"
        A model or variant name, as ``zoo list`` shows them (or ``plugin:name``).
    epochs, lr, optimizer, momentum, weight_decay, batch_size, threads : default=None
        zoo's training settings (``zoo info MODEL`` shows them); None takes the model's
        configured value. ``batch_size`` is a number or ``"full"``.
    params : dict or None, default=None
        Arguments for the model's factory, on top of the configured ones, e.g.
        ``{"hidden_units": 32}``. A grid search lists whole dicts.
    device : str, default="auto"
        Where to train: auto, cpu, cuda, cuda:N or mps. Predictions always run on the CPU.
    scale : {"none", "standard", "minmax"}, default="none"
        Feature scaling fitted in ``fit`` and applied by every prediction, as ``zoo train
        --scale``. "none" by default: in scikit-learn, a ``Pipeline`` with a scaler scales.
    random_state : int, numpy RandomState or None, default=None
        The seed of the weights and of the batch order; None takes the configured seed (42),
        so two fits give the same model, as two ``zoo train`` runs do.
    registry : path or None, default=None
        A registry.yaml (or a list of them) to read on top of zoo's own.

    Attributes
    ----------
    classes_ : the labels seen in ``fit``, as given (text labels stay text).
    module_ : the trained ``torch.nn.Module``, on the CPU, with its float32 weights as trained.
    scaling_ : the fitted ``zoo.training.scaling.Scaling`` (kind, offset and scale per feature).
    settings_ : the resolved training settings (``zoo info``'s values).
    n_iter_ : epochs trained.  loss_ : the training loss after the last epoch.
    n_features_in_, feature_names_in_ : as scikit-learn defines them.

    Predictions are computed in float64 from the trained float32 weights (converted exactly),
    so a row's result does not depend on the other rows in the batch.
    """

    def __init__(
        self,
        model: str = "circle-v2",
        *,
        epochs: int | None = None,
        lr: float | None = None,
        optimizer: str | None = None,
        momentum: float | None = None,
        weight_decay: float | None = None,
        batch_size: int | str | None = None,
        params: dict[str, Any] | None = None,
        device: str | None = "auto",
        threads: int | None = None,
        scale: str = "none",
        random_state: int | np.random.RandomState | None = None,
        registry: str | None = None,
    ) -> None:
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.params = params
        self.device = device
        self.threads = threads
        self.scale = scale
        self.random_state = random_state
        self.registry = registry

    def fit(self, X: Any, y: Any) -> ZooClassifier:
        """Train a fresh model on all rows of ``X`` (numbers, [n_samples, n_features])."""
        for name in _LEARNED:  # a fit that fails leaves no model of an earlier fit behind
            self.__dict__.pop(name, None)
        config, spec, plugins = self._resolve()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data "
                f"contains only one class: {_plain(classes[0])!r}"
            )
        split = _rows(X, encoded, classes)
        experiment = Experiment.prepare(config, spec, plugins, resolve_device(config.device), split)
        model, result = _train(experiment)
        if result.diverged_at is not None:
            note = experiment.scale_note()
            raise TrainingDiverged(
                divergence_message(result.diverged_at, config.lr, note, SCALE_FIX)
            )
        self.classes_ = classes
        self.module_ = model.cpu().eval()
        self.scaling_ = experiment.scaling
        self.settings_ = config.settings()
        self.n_iter_ = result.epochs
        self.loss_ = result.final.train_loss
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's logits: [n_samples] for two classes (> 0 means ``classes_[1]``), else
        [n_samples, n_classes]."""
        check_is_fitted(self, _LEARNED)
        X = self.scaling_.apply(validate_data(self, X, reset=False, dtype=np.float64))
        scorer = copy.deepcopy(self.module_).double()  # float32 -> float64 is exact
        with torch.no_grad():
            logits: np.ndarray = scorer(torch.tensor(X)).numpy()
        return logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each class's probability, [n_samples, n_classes], in the order of ``classes_``."""
        logits = torch.from_numpy(self.decision_function(X))  # float64, as computed
        if logits.ndim == 1:
            return torch.stack([torch.sigmoid(-logits), torch.sigmoid(logits)], dim=1).numpy()
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most likely label of each row, one of ``classes_``."""
        logits = self.decision_function(X)
        best = (logits > 0).astype(np.intp) if logits.ndim == 1 else np.argmax(logits, axis=1)
        labels: np.ndarray = self.classes_[best]
        return labels

    def _resolve(self) -> tuple[TrainConfig, ModelSpec, Plugins]:
        """The settings ``zoo train`` would use with these parameters; every check is here."""
        if not isinstance(self.model, str):
            raise ConfigError(
                f"model: must be a model name such as 'circle-v2' ('zoo list' shows them), "
                f"got {self.model!r}"
            )
        overrides = {name: _plain(getattr(self, name)) for name in _SETTINGS}
        overrides["seed"] = _seed(self.random_state)
        plugins, catalogue = open_zoo(self.registry)
        config, spec = resolve(self.model, plugins, catalogue, overrides)
        return config, spec, plugins


def _plain(value: Any) -> Any:
    """numpy scalars (as a grid of ``np.arange`` gives them) as the Python numbers zoo checks."""
    return value.item() if isinstance(value, np.generic) else value


def _seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    whole = isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    if whole and 0 <= int(random_state) < 2**63:
        return int(random_state)
    raise ConfigError(
        "random_state: must be None, a whole number from 0 to 2**63-1 or a numpy RandomState, "
        f"got {random_state!r}"
    )


def _rows(X: np.ndarray, encoded: np.ndarray, classes: np.ndarray) -> Split:
    """The rows given to ``fit`` as zoo's split: float32 (as zoo's datasets are), C-ordered.

    The trainer's log points evaluate a test split too; with no held-out rows, that is the
    training rows again (evaluation never changes the weights).
    """
    features = np.ascontiguousarray(float32_features("fit", X))  # a float64 that overflows
    labels = np.ascontiguousarray(encoded, dtype=np.int64)
    return Split("X", features, features, labels, labels, classes.tolist())


def _train(experiment: Experiment) -> tuple[nn.Module, FitResult]:
    """Build (seeded) and train as ``zoo train`` does, leaving the caller's torch RNG alone."""
    device = experiment.device
    cuda = [device.index or torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        model = experiment.build(experiment.config.seed)
        result = Trainer(model, experiment.data, experiment.config).fit()
    return model, result
