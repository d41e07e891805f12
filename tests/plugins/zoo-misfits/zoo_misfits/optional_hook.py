"""An event zoo does not have, marked optionalhook=True: pluggy's promise that an unknown hook
is fine, so the plugin loads (and the hook is never called)."""

import zoo


@zoo.hookimpl(optionalhook=True)
def on_epoch_end(epoch):
    raise AssertionError("zoo has no on_epoch_end event")


@zoo.hookimpl
def register_models(register):
    register("optional-model", object)
