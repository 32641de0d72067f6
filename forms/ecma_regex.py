"""JSON Schema patterns (ECMA-262 regular expressions), read once and written for two engines.

A form's ``pattern`` is checked by Python's ``re`` on the server (:func:`ecma_pattern`) and, where
that is safe, by the browser through the HTML ``pattern`` attribute (:func:`html_pattern`). Both
need to know the same thing about the text: which characters are escapes and which are inside a
character class. :func:`tokens` tells them.

The engines disagree about one thing the tokenizer cannot decide alone: a ``]`` right after
``[`` or ``[^``. For ECMA-262 (and so the browser) it closes the class (``[]`` matches nothing,
``[^]`` anything); for Python it is a literal ``]`` inside the class. Each conversion reads the
pattern the way its own engine will, so it passes ``literal_first_bracket`` accordingly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = ["Token", "ecma_pattern", "html_pattern", "tokens"]

TokenKind = Literal["escape", "open", "close", "char"]

# Inside a character class, the v-flag mode browsers compile `pattern` with wants these escaped.
_CLASS_SYNTAX = frozenset("()[]{}/|")
# "Not blank": the `required` attribute says it in the browser, the server checks it.
_NOT_BLANK = frozenset({r"\S", r"[^\s]"})


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of a pattern: an escape (``\\d``, ``\\$``: the backslash and one character), the
    ``[`` opening or the ``]`` closing a character class, or any other single character.
    ``in_class`` is true for the pieces between a class's brackets; ``start`` is where the piece
    begins in the pattern."""

    kind: TokenKind
    text: str
    start: int
    in_class: bool


def tokens(pattern: str, *, literal_first_bracket: bool = False) -> Iterator[Token]:
    """The pieces of ``pattern`` in order. With ``literal_first_bracket`` (Python's reading), a
    ``]`` right after ``[`` or ``[^`` is a character of the class; otherwise (ECMA-262's) it
    closes the class."""
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            yield Token("escape", pattern[i : i + 2], i, in_class)
            i += 2
            continue
        if in_class and char == "]":
            in_class = False
            yield Token("close", char, i, False)
        elif not in_class and char == "[":
            in_class = True
            yield Token("open", char, i, False)
            if literal_first_bracket:
                following = pattern[i + 1 : i + 3]
                first = 1 if following.startswith("]") else 2 if following == "^]" else 0
                for offset in range(1, first + 1):
                    yield Token("char", pattern[i + offset], i + offset, True)
                i += first
        else:
            yield Token("char", char, i, in_class)
        i += 1


@lru_cache(maxsize=512)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema (ECMA-262) pattern for Python: an unescaped ``$`` outside a character
    class becomes ``\\Z`` (end of string only; Python's ``$`` also matches before a final
    newline)."""
    out = [
        r"\Z" if token.kind == "char" and token.text == "$" and not token.in_class else token.text
        for token in tokens(pattern, literal_first_bracket=True)
    ]
    return re.compile("".join(out))


def html_pattern(pattern: str) -> str | None:
    """A JSON Schema (search) pattern as an HTML ``pattern`` (whole value, v-flag mode), or None
    when that would be unsafe or pointless."""
    if pattern in _NOT_BLANK:
        return None
    anchored_start = pattern.startswith("^")
    anchored_end = pattern.endswith("$") and not pattern.endswith("\\$")
    body = pattern[1 if anchored_start else 0 : -1 if anchored_end else None]
    if "(?<" in body or re.search(r"\\[1-9k]", body):
        return None  # lookbehind and back-references: leave them to the server
    out: list[str] = []
    for token in tokens(body):
        char = token.text
        if token.kind == "char" and token.in_class:
            at = token.start
            # A "-" that starts or ends a class is a literal; v-flag mode wants it escaped.
            dash_alone = char == "-" and (body[at - 1] == "[" or body[at + 1 : at + 2] == "]")
            if char in _CLASS_SYNTAX or dash_alone:
                char = "\\" + char
        out.append(char)
    converted = "".join(out)
    if not anchored_start:
        converted = "[\\s\\S]*" + converted
    if not anchored_end:
        converted += "[\\s\\S]*"
    try:
        re.compile(converted)
    except re.error:
        return None
    return converted
