"""The plugin contract: the hooks a zoo plugin implements.

A plugin is a module named in the ``zoo`` entry-point group of its distribution::

    [project.entry-points.zoo]
    my_plugin = "my_package.my_module"

Its functions are marked with ``@zoo.hookimpl`` and named after the hooks below. Each hook
receives a ``register`` callback; the plugin calls it once per model or dataset and returns
nothing. zoo keeps the rules (valid names, no two plugins with one name) on its side.
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

        - ``name``: lower-case letters, digits, ``-``, ``_`` and ``.``; unique across plugins.
        - ``factory(**kwargs) -> torch.nn.Module``: builds a fresh, untrained model. zoo passes
          ``in_features`` and ``out_features`` (1 for binary data, the class count for
          multi-class) and the configured hyper-parameters, only those the factory's signature
          accepts; a factory without parameters is called with none.
        - ``description``: one line shown by ``zoo list``.
        - ``defaults``: training settings the plugin suggests for this model (``dataset``,
          ``epochs``, ``lr``, ``optimizer``, ``momentum``, ``params``, ...). registry.yaml and
          the command line override them.

    :returns: nothing; return values are ignored.

    Called once per process, the first time zoo needs its list of models.
    """


@hookspec
def register_datasets(register: RegisterDataset) -> None:
    """Register the plugin's datasets.

    :param register: call ``register(name, loader, *, description=None)`` once per dataset.

        - ``loader(**kwargs) -> (X, y)``: numpy arrays, ``X`` float of shape ``[N, F]``, ``y``
          integer class labels of shape ``[N]``. Two distinct labels make a binary task, more
          make a multi-class one. ``kwargs`` are the configured ``dataset_params``.
          zoo splits the data into train and test itself.
        - ``description``: one line shown by ``zoo datasets``.

    :returns: nothing; return values are ignored.

    Called once per process, the first time zoo needs its list of datasets.
    """
