"""zoo's built-in plugins, installed as ``zoo_plugins``.

They are found through the ``zoo`` entry-point group and use only the public ``zoo`` API,
exactly as a third-party plugin does: nothing is special about being built in.
"""
