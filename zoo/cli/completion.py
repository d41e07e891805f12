"""Shell completion of model names (click's; see README for turning it on)."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem


def complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    import zoo

    try:
        entries = zoo.list_models(f"{incomplete}*", details=True)
    except Exception:  # a completion must never break the shell
        return []
    return [CompletionItem(e.name, help=e.description or "") for e in entries]
