"""Event hooks that use pluggy's options; each says on stderr what it was told, in order."""

import sys

import zoo


def say(line):
    print(f"call_order: {line}", file=sys.stderr)


@zoo.hookimpl(wrapper=True)
def on_run_end(run):
    say("wrapper, before the others")
    try:
        results = yield  # every other on_run_end runs here
    except BaseException as exc:  # one of them raised (Ctrl-C, zoo's own error): passed on
        say(f"wrapper, after the others raised {type(exc).__name__}")
        raise
    say(f"wrapper, after the others returned {results}")
    return results


@zoo.hookimpl(tryfirst=True, specname="on_run_end")
def first_on_run_end(run):
    written = run.run_dir is not None and (run.run_dir / "history.csv").is_file()
    say(f"tryfirst, history.csv written: {written}")
    return "tryfirst"


@zoo.hookimpl(trylast=True, specname="on_run_end")
def last_on_run_end(run):
    say("trylast")
    return "trylast"


@zoo.hookimpl(hookwrapper=True)
def on_log_point(epoch):
    outcome = yield  # an old-style wrapper gets pluggy's Result of the others
    if outcome.exception is not None:
        say(f"old-style wrapper, epoch {epoch}: raised {type(outcome.exception).__name__}")
    else:
        say(f"old-style wrapper, epoch {epoch}: returned {outcome.get_result()}")
