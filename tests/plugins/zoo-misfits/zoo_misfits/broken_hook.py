"""Imports fine, then raises inside its hook."""

import zoo


@zoo.hookimpl
def register_models(register):
    raise RuntimeError("model server unreachable")
