"""An option on a registration hook: zoo calls each plugin's registration hooks on their own,
so tryfirst could not be honoured; the plugin is refused at load, not silently misordered."""

import zoo


@zoo.hookimpl(tryfirst=True)
def register_models(register):
    register("first-model", object)
