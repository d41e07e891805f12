"""The plugin contract: the hooks a zoo plugin implements.

A plugin is a module named in the ``zoo`` entry-point group of its distribution::

    [project.entry-points.zoo]
    my_plugin = "my_package.my_module"

Its functions are marked with ``@zoo.hookimpl`` and named after the hooks below; this module
is the one list of them. Each hook receives a ``register`` callback; the plugin calls it once
per model or dataset and returns nothing. zoo keeps the rules (valid names, no two plugins
with one name, settings that pass the schema) on its side, and a plugin that breaks one, or
raises, is reported and left out without affecting the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


class RegisterModel(Protocol):
    def __call__(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None: ...


class RegisterDataset(Protocol):
    def __call__(
        self, name: str, loader: Callable[..., Any], *, description: str | None = None
    ) -> None: ...


@hookspec
def register_models(register: RegisterModel) -> None:
    """Register the plugin's models.

    :param register: call ``register(name, factory, *, description=None, defaults=None)``
        once per model.

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
        - ``defaults``: training settings the plugin suggests for this model, any of
          :data:`zoo.settings.SETTINGS` (``dataset``, ``epochs``, ``lr``,
          ``optimizer``, ``momentum``, ``params``, ...); an unknown key or a value out of
          range is the plugin's error. registry.yaml and the command line override them.

    :returns: nothing; return values are ignored.

    Called once per process, the first time zoo needs its list of models.
    """


@hookspec
def register_datasets(register: RegisterDataset) -> None:
    """Register the plugin's datasets.

    :param register: call ``register(name, loader, *, description=None)`` once per dataset.

        - ``loader(**kwargs) -> (X, y)``: numpy arrays, ``X`` float of shape ``[N, F]``, ``y``
          class labels of shape ``[N]``. Two distinct labels make a binary task, more
          make a multi-class one. ``kwargs`` are the configured ``dataset_params``.
          The loader must return the same data on every call with the same ``kwargs``:
          ``zoo eval`` and ``zoo train --resume`` call it again to rebuild a run's split.
          zoo splits the data into train and test itself.
        - ``description``: one line shown by ``zoo datasets``.

    :returns: nothing; return values are ignored.

    Called once per process, the first time zoo needs its list of datasets.
    """
