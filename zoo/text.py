"""Text from data shown safely: on a terminal, in a spreadsheet, in Markdown.

Labels, descriptions, model and dataset names come from data files and plugins, so zoo shows
them as data, never as commands: control characters (a terminal's escape sequences, a carriage
return that hides a line, Unicode's bidirectional overrides) are written escaped, a spreadsheet
cell that would start a formula is prefixed with ``'`` (OWASP's advice against CSV injection),
and Markdown's special characters are escaped. Torch-free: the command line uses it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, and the invisible marks that reorder or hide text (bidi overrides
# and isolates, zero-width joiners): what can make a terminal or an editor show other text.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROLS_BUT_NEWLINES = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: cells a spreadsheet may evaluate
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~!&$])")


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control character written as an escape (``\\x1b``); with
    ``newlines``, line breaks are kept (a table or a report of several lines)."""
    pattern = _CONTROLS_BUT_NEWLINES if newlines else _CONTROLS
    return pattern.sub(_escape, text)


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a text that would start a formula gets a
    leading ``'``; numbers (``-1.5`` too) and other texts stay as they are."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def markdown_cell(value: Any) -> str:
    """``value`` as text that Markdown shows as it is, on one line, in a table cell, a heading
    or a sentence: no link, emphasis, HTML, math or column break."""
    return _MARKDOWN.sub(r"\\\1", printable(str(value)))


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    if character in _NAMED:
        return _NAMED[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
