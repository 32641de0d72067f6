"""The jsonschema validator class and format checker every form uses.

Three things differ from a bare ``Draft202012Validator``:

* formats are really checked: ``date`` (a real calendar day, so ``2026-02-30`` fails), a stricter
  ``email``, ``date-time`` even without the optional ``rfc3339-validator`` package, and the
  project's own ``attachment`` format (the id of an uploaded file);
* ``x-date-rules`` on an object orders its dates (``valid_until`` not before ``issued_on``, not
  before today), which JSON Schema cannot say;
* ``pattern`` follows ECMA-262, which JSON Schema prescribes, for ``$``: it matches only at the
  very end of the string. Python's ``$`` also matches before a trailing newline, so
  ``"0101234567\\n"`` would pass ``^[0-9]{10}$`` (:func:`forms.ecma_regex.ecma_pattern`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from .ecma_regex import ecma_pattern
from .limits import FIRST_DAY, LAST_DAY, day_in_range, integer_in_range
from .text import is_blank, text_problem

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


# A pattern that only asks for one non-space character means "not blank".
NOT_BLANK_PATTERNS = frozenset({r"\S", r"[^\s]"})


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    # "Not blank" means something shows: a zero-width space matches \S but shows nothing.
    if not ecma_pattern(pattern).search(instance) or (pattern in NOT_BLANK_PATTERNS and is_blank(instance)):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _day_in_range(instance: str) -> bool:
    """True unless ``instance`` is a calendar day outside 1900..2999 (a malformed day is the
    ``format`` keyword's to report)."""
    try:
        day = date.fromisoformat(instance)
    except ValueError:
        return True
    return day_in_range(day)


_BASE_TYPE = Draft202012Validator.VALIDATORS["type"]
_BASE_MIN_LENGTH = Draft202012Validator.VALIDATORS["minLength"]


def _type(validator, types, instance, schema):
    """The type, then what any text or number must be whatever its field (forms.text,
    forms.limits): no control characters, lone surrogates or bidi overrides; no integer past 64
    bits. Its message comes made, in both languages (keyword ``x-text``)."""
    yield from _BASE_TYPE(validator, types, instance, schema)
    if isinstance(instance, str):
        problem = text_problem(instance, multiline=True)
        if problem is not None:
            yield ValidationError(
                f"{problem.message}\n{problem.message_en}", validator="x-text", validator_value=problem.code
            )
        if schema.get("format") == "date" and not _day_in_range(instance):
            yield ValidationError(
                f"Ngày phải từ {FIRST_DAY:%d/%m/%Y} đến {LAST_DAY:%d/%m/%Y}.\n"
                f"The day must be from {FIRST_DAY:%d/%m/%Y} to {LAST_DAY:%d/%m/%Y}.",
                validator="x-text",
                validator_value="out_of_range",
            )
    elif isinstance(instance, int) and not isinstance(instance, bool) and not integer_in_range(instance):
        yield ValidationError(
            "Số quá lớn (vượt quá giới hạn số nguyên 64 bit).\n"
            "The number is too large (past the 64-bit integer range).",
            validator="x-text",
            validator_value="out_of_range",
        )


def _min_length(validator, min_length, instance, schema):
    """``minLength``, and a text of only invisible characters is as empty as "" (unless a
    not-blank ``pattern`` beside it says so already)."""
    yield from _BASE_MIN_LENGTH(validator, min_length, instance, schema)
    if (
        validator.is_type(instance, "string")
        and min_length >= 1
        and len(instance) >= min_length
        and is_blank(instance)
        and schema.get("pattern") not in NOT_BLANK_PATTERNS
    ):
        yield ValidationError(f"{instance!r} shows nothing")


# The days date rules compare with, besides the form's own fields: "today" (the office's day;
# the calendar day of this machine when the caller gives none) and what the caller adds (e.g.
# "registered_on", the day a dossier was filed). Set by the caller around a validation.
VALIDATION_DAYS: ContextVar[Mapping[str, date] | None] = ContextVar("tdcflow_validation_days", default=None)

# What a rule may compare with besides a sibling field: "@today", "@registered_on".
DAY_NAMES = {"today": ("ngày hiện tại", "today"), "registered_on": ("ngày nộp hồ sơ", "the filing date")}


def _as_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None  # the field's own ``format: date`` reports it


def _titles(schema: Mapping[str, Any], name: str) -> tuple[str, str]:
    field = (schema.get("properties") or {}).get(name) or {}
    title = str(field.get("title") or name)
    return title, str(field.get("x-title-en") or title)


def _date_rules(validator, rules, instance, schema):
    """``x-date-rules`` on an object: ``[{"field": "valid_until", "not_before": "issued_on"},
    {"field": "valid_until", "not_before": "@today"}, {"field": "issued_on", "not_after": "@today"}]``.
    Each broken rule is an error at its field, its message in Vietnamese and English."""
    if not validator.is_type(instance, "object"):
        return
    days = {"today": date.today(), **(VALIDATION_DAYS.get() or {})}
    for rule in rules:
        name = rule["field"]
        value = _as_date(instance.get(name))
        if value is None:
            continue
        for relation in ("not_before", "not_after"):
            other_name = rule.get(relation)
            if other_name is None:
                continue
            if other_name.startswith("@"):
                other = days.get(other_name[1:])
                other_vi, other_en = DAY_NAMES.get(other_name[1:], (other_name[1:], other_name[1:]))
            else:
                other = _as_date(instance.get(other_name))
                other_vi, other_en = (f"'{t}'" for t in _titles(schema, other_name))
            if other is None or (value >= other if relation == "not_before" else value <= other):
                continue
            title_vi, title_en = _titles(schema, name)
            shown = f"{other:%d/%m/%Y}"
            if relation == "not_before":
                vi = f"'{title_vi}' không được trước {other_vi} ({shown})."
                en = f"'{title_en}' cannot be before {other_en} ({shown})."
            else:
                vi = f"'{title_vi}' không được sau {other_vi} ({shown})."
                en = f"'{title_en}' cannot be after {other_en} ({shown})."
            error = ValidationError(f"{vi}\n{en}", validator="x-date-rules", validator_value=rule)
            error.path.appendleft(name)
            yield error


FormValidator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "type": _type, "minLength": _min_length, "x-date-rules": _date_rules},
)
