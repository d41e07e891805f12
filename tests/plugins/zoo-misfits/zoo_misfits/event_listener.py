"""Event hooks as module functions: told of every run, chosen or not.

It appends one line per event to the file named by ZOO_MISFITS_EVENTS (when set), so a test
in another process can read what it was told.
"""

import os

import zoo


def _note(line):
    path = os.environ.get("ZOO_MISFITS_EVENTS")
    if path:
        with open(path, "a") as file:
            file.write(line + "\n")


@zoo.hookimpl
def on_run_start(run):
    _note(f"start {run.name} {run.run_dir}")


@zoo.hookimpl
def on_log_point(epoch):
    _note(f"log {epoch}")


@zoo.hookimpl
def on_run_end(summary):
    _note(f"end {summary['status']}")
