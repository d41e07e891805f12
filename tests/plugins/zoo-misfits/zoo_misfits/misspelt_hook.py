"""A hook name with a typo: pluggy's check_pending makes it an error, not a silent no-op."""

import zoo


@zoo.hookimpl
def register_model(register):
    register("never-seen", object)
