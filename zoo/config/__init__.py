"""A model's settings: the registry.yaml catalogue, and resolving them layer by layer.

``catalogue`` reads registry.yaml; ``resolve`` merges zoo's fallbacks, the catalogue, a
plugin's defaults and the caller's overrides into one
:class:`~zoo.config.resolve.TrainConfig`; ``listing`` lists every model and variant; ``setup``
loads the plugins and the catalogue and checks them against each other. The schema of each
setting is :mod:`zoo.settings`.
"""
