"""Loggers that misbehave: one whose library is missing, one that cannot start, one that
exits in a hook."""

import zoo


def needs_a_missing_library():
    import zoo_misfits_missing_tracker  # noqa: F401  (not installed anywhere)


def needs_a_key():
    raise RuntimeError("no API key in TRACKER_KEY")


class Quitter:
    @zoo.hookimpl
    def on_run_end(self, run):
        raise SystemExit("logger gave up")


@zoo.hookimpl
def register_loggers(register):
    register("tracker", needs_a_missing_library, install="zoo-misfits[tracker]")
    register("keyless", needs_a_key)
    register("quitter", Quitter, description="exits at the end of every run")
