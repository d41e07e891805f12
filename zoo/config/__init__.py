"""A model's settings: the catalogues read from registry files, and resolving them layer by layer.

``catalogue`` reads a registry.yaml; ``layers`` stacks zoo's and the user's catalogues;
``resolve`` merges zoo's fallbacks, the catalogues, a plugin's defaults and the caller's
overrides into one :class:`~zoo.config.resolve.TrainConfig`; ``model_entries`` lists every model
and variant; ``checks`` loads the plugins and the catalogues and checks them against each other
(``open_zoo``); ``registry_edit`` adds an entry to a user's registry file. The schema of each
setting is :mod:`zoo.settings`.
"""
