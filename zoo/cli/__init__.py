"""The ``zoo`` command line: a thin layer over zoo's Python API (:mod:`zoo.api`).

Every mistake of the user's or a plugin's ends as one line on stderr and a non-zero exit:
1 for an error zoo found, 2 for a command line it cannot parse, 130 for Ctrl-C. Importing this
package does not import torch, so ``zoo --help`` and ``zoo --version`` answer at once.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click

import zoo
from zoo.cli import (
    catalogue_commands,
    compare_command,
    model_commands,
    report_command,
    run_commands,
)
from zoo.cli.output import drop_stdout, warn
from zoo.errors import StopNow, TrainingInterrupted, ZooError, ZooWarning
from zoo.names import did_you_mean
from zoo.text import printable


class ZooGroup(click.Group):
    """A group that suggests the command meant when a name is mistyped."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if args and name not in self.commands and not name.startswith("-"):
            hint = did_you_mean(name, self.commands)
            raise click.UsageError(f"no command {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(zoo.__version__, "-V", "--version", prog_name="zoo")
def cli() -> None:
    """zoo: train, evaluate and compare small PyTorch classifiers.

    Models and datasets come from plugins; 'zoo list' shows the models,
    'zoo train circle-v2' trains one.
    """


for module in (catalogue_commands, run_commands, model_commands, compare_command, report_command):
    for command in module.COMMANDS:
        cli.add_command(command)


def main(args: list[str] | None = None) -> int:
    """Run the command line; return its exit status. zoo's warnings print as ``zoo: ...``
    lines while it runs; the caller's warning settings are as they were afterwards."""
    with warnings.catch_warnings():  # restores showwarning and the filters on the way out
        warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
        return _run(args)


def _run(args: list[str] | None) -> int:
    try:
        result = cli.main(args=args, prog_name="zoo", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "zoo"
        _error(where, f"{exc.format_message()} (see '{where} --help')")
        return 2
    except click.ClickException as exc:
        _error("zoo", exc.format_message())
        return exc.exit_code
    except StopNow:
        _error("zoo", "stopped at once (asked twice); checkpoints already written are kept")
        return 130
    except (click.exceptions.Abort, KeyboardInterrupt):
        _error("zoo", _interrupted(args if args is not None else sys.argv[1:]))
        return 130
    except BrokenPipeError:  # whoever read standard output has gone: nothing left to say
        drop_stdout()
        return 0
    except TrainingInterrupted as exc:  # asked for, so not an error: where to go on from
        click.echo(f"zoo: {exc}", err=True)
        return exc.exit_status
    except ZooError as exc:
        _error("zoo", str(exc))
        return 1
    except OSError as exc:  # a file or folder the user named
        place = f"{exc.filename}: " if exc.filename else ""
        _error("zoo", f"{place}{exc.strerror or exc}")
        return 1
    return result if isinstance(result, int) else 0


def _interrupted(args: list[str]) -> str:
    """What an interruption before any training (Ctrl-C while zoo starts) left behind."""
    command = next((arg for arg in args if not arg.startswith("-")), "")
    if command in ("train", "compare"):
        return "interrupted before training started; nothing was written"
    return "interrupted; nothing was written"


def _error(where: str, message: str) -> None:
    click.echo(f"{where}: error: {printable(message)}", err=True)  # one line, data escaped


def _show_warning(
    others: Callable[..., None],
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    if issubclass(category, ZooWarning):
        warn(str(message))
    else:
        others(message, category, filename, lineno, file, line)  # as the caller shows them


if __name__ == "__main__":
    sys.exit(main())
