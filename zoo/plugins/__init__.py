"""Plugins: finding them through entry points, and what they provide.

``loader`` imports each plugin in the ``zoo`` entry-point group on its own and asks its hooks
(see :mod:`zoo.hookspecs`) for models and datasets; ``loaded`` keeps what they registered, by
name; ``specs`` describes one plugin, model or dataset.
"""
