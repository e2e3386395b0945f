"""Stored text made safe for the medium it is shown in, at the point of output: a study's attributes, a
task's or a partition's name may come from anyone who can write to a shared storage.

>>> for_terminal("a\\x1b[2Jb")
'a\\\\x1b[2Jb'
>>> for_markdown("<img src=x onerror=alert(1)> [x](javascript:alert(1))")
'&lt;img src=x onerror=alert\\\\(1\\\\)&gt; \\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)'
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["figure_for_terminal", "for_html", "for_markdown", "for_terminal"]

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def for_terminal(text: object) -> str:
    """``str(text)`` with every control and format character (escape sequences, carriage returns, bidi
    overrides, newlines) written as a Python escape, so a terminal shows it instead of obeying it."""
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") else ascii(ch)[1:-1] for ch in str(text))


def figure_for_terminal(value: object) -> str:
    """A stored figure for the terminal: 4 decimals when it is a number, else as stored, escaped.

    >>> figure_for_terminal(0.51234), figure_for_terminal("\x1b[31m")
    ('0.5123', '\\\\x1b[31m')
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.4f}"
    return for_terminal(value)


def for_html(text: object) -> str:
    """Text for HTML: control characters as escapes (:func:`for_terminal`), then ``&``, ``<``, ``>`` and
    both quotes as entities."""
    return html.escape(for_terminal(text), quote=True)


def for_markdown(text: object) -> str:
    """Text for Markdown, shown as written by every renderer: HTML as entities (no raw tags, no autolinks),
    Markdown's punctuation backslash-escaped (no links, images, emphasis or table cells), one line."""
    one_line = " ".join(for_terminal(text).split())
    return _MARKDOWN.sub(r"\\\1", html.escape(one_line, quote=False))
