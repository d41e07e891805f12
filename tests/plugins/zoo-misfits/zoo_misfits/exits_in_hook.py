"""Raises SystemExit inside its hook: a failed plugin, not the end of zoo."""

import zoo


@zoo.hookimpl
def register_models(register):
    raise SystemExit(2)
