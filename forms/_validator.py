"""The jsonschema validator class and format checker every form uses.

Two things differ from a bare ``Draft202012Validator``:

* formats are really checked: ``date`` (a real calendar day, so ``2026-02-30`` fails), a stricter
  ``email``, ``date-time`` even without the optional ``rfc3339-validator`` package, and the
  project's own ``attachment`` format (the id of an uploaded file);
* ``pattern`` follows ECMA-262, which JSON Schema prescribes, for ``$``: it matches only at the
  very end of the string. Python's ``$`` also matches before a trailing newline, so
  ``"0101234567\\n"`` would pass ``^[0-9]{10}$`` (:func:`forms.ecma_regex.ecma_pattern`).
"""

from __future__ import annotations

import re
from datetime import datetime

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from .ecma_regex import ecma_pattern

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


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
