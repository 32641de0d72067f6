"""The jsonschema validator class and format checker every form uses.

Two things differ from a bare ``Draft202012Validator``:

* formats are really checked: ``date`` (a real calendar day, so ``2026-02-30`` fails), a stricter
  ``email``, ``date-time`` even without the optional ``rfc3339-validator`` package, and the
  project's own ``attachment`` format (the id of an uploaded file);
* ``pattern`` follows ECMA-262, which JSON Schema prescribes, for ``$``: it matches only at the
  very end of the string. Python's ``$`` also matches before a trailing newline, so
  ``"0101234567\\n"`` would pass ``^[0-9]{10}$``.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

ATTACHMENT_FORMAT = "attachment"

# Attachment ids end up in URLs and file names: letters, digits and ``._:-``, at most 128 characters.
_ATTACHMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


def is_attachment_id(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return _ATTACHMENT_ID.fullmatch(instance) is not None


def _is_email(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return _EMAIL.fullmatch(instance) is not None


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if _DATE_TIME.fullmatch(instance) is None:
        return False
    datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))  # raises on 2026-02-30
    return True


def _make_format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks(ATTACHMENT_FORMAT)(is_attachment_id)
    checker.checks("email")(_is_email)
    if "date-time" not in checker.checkers:  # jsonschema only checks it with rfc3339-validator
        checker.checks("date-time", raises=ValueError)(_is_date_time)
    assert "date" in checker.checkers
    return checker


FORMAT_CHECKER = _make_format_checker()


@lru_cache(maxsize=512)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema (ECMA-262) pattern for Python: an unescaped ``$`` outside a character
    class becomes ``\\Z`` (end of string only)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a literal in Python's syntax.
            following = pattern[i + 1 : i + 3]
            if following.startswith("]") or following == "^]":
                out.append(pattern[i : i + 1 + following.index("]") + 1])
                i += 1 + following.index("]") + 1
                continue
        elif char == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(char)
        i += 1
    return re.compile("".join(out))


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
