"""Plugins: finding them through entry points, what they provide, and telling them events.

``loader`` imports each plugin in the ``zoo`` entry-point group on its own and lets pluggy ask
its hooks (see :mod:`zoo.hookspecs`) for models, datasets and loggers; ``loaded`` keeps what
they registered, by name; ``specs`` describes one plugin, model or dataset; ``events`` calls
the event hooks of one command through pluggy, each implementation wrapped by ``isolation`` so
that one which fails cannot stop the others.
"""
