"""A hook spec of the plugin's own (firstresult): zoo never calls it, so it is refused."""

import zoo.hookspecs


@zoo.hookspecs.hookspec(firstresult=True)
def pick_model(name):
    """Which model to train for ``name``: the first answer wins."""
