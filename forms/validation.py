"""Validating form data: every error points at its field, in Vietnamese and English.

This module knows a form only through :class:`ValidatedForm` (what :class:`forms.registry.Form`
offers), so the registry can import it: ``Form.validate`` and ``Form.errors`` call in here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from jsonschema.exceptions import ValidationError, best_match

from . import _walk
from ._validator import NOT_BLANK_PATTERNS, VALIDATION_DAYS
from .ecma_regex import ecma_pattern
from .field_errors import FieldError, FormValidationError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "FieldError",
    "FormValidationError",
    "ValidatedForm",
    "validate",
    "validate_or_errors",
    "validation_days",
]

Path = list[str | int]

# jsonschema's unevaluatedProperties message: "... ('a', 'b' were unexpected)".
_LISTED_KEYS = re.compile(r"\((.*) (?:was|were) (?:unexpected|unevaluated and invalid)\)$", re.DOTALL)


_TYPE_NAMES = {
    "string": ("chuỗi ký tự", "text"),
    "integer": ("số nguyên", "a whole number"),
    "number": ("số", "a number"),
    "boolean": ("giá trị đúng/sai", "true or false"),
    "object": ("nhóm thông tin (đối tượng JSON)", "an object"),
    "array": ("danh sách", "a list"),
    "null": ("rỗng (null)", "null"),
}

_FORMAT_NAMES = {
    "date": ("một ngày hợp lệ theo dạng YYYY-MM-DD", "a valid date in the form YYYY-MM-DD"),
    "date-time": (
        "một thời điểm hợp lệ theo ISO 8601, có múi giờ",
        "a valid ISO 8601 date and time with a time zone",
    ),
    "email": ("một địa chỉ thư điện tử hợp lệ", "a valid e-mail address"),
    "attachment": ("mã của một tệp đã tải lên", "the id of an uploaded file"),
    "uri": ("một địa chỉ URI đầy đủ", "a full URI"),
    "uuid": ("một UUID", "a UUID"),
}


class ValidatedForm(Protocol):
    """What validation needs of a form: its validator, its title and its fields' titles and
    schemas."""

    @property
    def validator(self) -> Validator: ...

    @property
    def title_vi(self) -> str: ...

    @property
    def title_en(self) -> str: ...

    def field_title(self, path: Sequence[str | int], lang: str = "vi") -> str: ...

    def field_schemas(self, path: Sequence[str | int]) -> list[Mapping[str, Any]]: ...


@contextmanager
def validation_days(**days: date) -> Iterator[None]:
    """The days ``x-date-rules`` compare with while validating inside: ``today`` (the office's
    day) and any other the caller names (``registered_on``)."""
    token = VALIDATION_DAYS.set(days)
    try:
        yield
    finally:
        VALIDATION_DAYS.reset(token)


def validate(form: ValidatedForm, data: Any) -> None:
    """Raise :class:`FormValidationError` unless ``data`` fits ``form``. ``data`` is not changed."""
    errors = validate_or_errors(form, data)
    if errors:
        raise FormValidationError(errors)


def validate_or_errors(form: ValidatedForm, data: Any) -> list[FieldError]:
    """Every problem of ``data`` against ``form`` (empty when valid), sorted by path, each once."""
    found: list[FieldError] = []
    empty: set[str] = set()
    for error in form.validator.iter_errors(data):
        found.extend(_convert(form, error))
        if error.validator == "minLength" and error.instance == "":
            empty.add(_walk.format_path(list(error.absolute_path)))
    return _tidy(found, empty)


# -- turning jsonschema errors into field errors ---------------------------------------------------


def _convert(form: ValidatedForm, error: ValidationError) -> list[FieldError]:
    keyword = error.validator
    path: Path = list(error.absolute_path)
    instance = error.instance
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}

    if keyword in ("anyOf", "oneOf") and error.context:
        inner = best_match(error.context)
        if inner is not None:
            return _convert(form, inner)

    if keyword == "required":
        missing = [p for p in value if isinstance(instance, Mapping) and p not in instance]
        return [_required(form, [*path, name], "required") for name in missing]

    if keyword == "dependentRequired":
        out = []
        for present, needed in value.items():
            if isinstance(instance, Mapping) and present in instance:
                out.extend(
                    _required(form, [*path, n], "dependentRequired") for n in needed if n not in instance
                )
        return out

    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, Mapping):
        return [
            _unexpected(form, path, key, keyword)
            for key in _unexpected_keys(form, keyword, schema, instance, path, error.message)
        ]

    if keyword == "x-date-rules":  # its messages come made, in both languages
        vi, _, en = error.message.partition("\n")
        return [_error(path, vi, en, "date_order")]

    if keyword == "x-text":  # made too: what is wrong with the text, after the field's name
        vi, _, en = error.message.partition("\n")
        subject_vi, subject_en = _subject(form, path)
        return [_error(path, f"{subject_vi}: {vi}", f"{subject_en}: {en}", str(error.validator_value))]

    vi, en = _subject(form, path)
    custom = (schema.get("x-messages") or {}).get(keyword) if isinstance(keyword, str) else None
    if isinstance(custom, Mapping) and "vi" in custom:
        title_vi, title_en = form.field_title(path, "vi"), form.field_title(path, "en")
        message = str(custom["vi"]).replace("{title}", title_vi)
        message_en = str(custom.get("en") or custom["vi"]).replace("{title}", title_en)
        return [_error(path, message, message_en, keyword)]

    message, message_en = _texts(keyword, vi, en, value, schema, error)
    return [_error(path, message, message_en, keyword or "false")]


def _texts(
    keyword: str | None, vi: str, en: str, value: Any, schema: Mapping[str, Any], error: ValidationError
) -> tuple[str, str]:
    if keyword == "type":
        names = [value] if isinstance(value, str) else list(value)
        vi_names = " hoặc ".join(_TYPE_NAMES.get(n, (n, n))[0] for n in names)
        en_names = " or ".join(_TYPE_NAMES.get(n, (n, n))[1] for n in names)
        return f"{vi} phải là {vi_names}.", f"{en} must be {en_names}."
    if keyword == "enum":
        return (
            f"{vi} phải là một trong các giá trị: {_choices(value, schema, 'vi')}.",
            f"{en} must be one of: {_choices(value, schema, 'en')}.",
        )
    if keyword == "const":
        return (
            f"{vi} phải có giá trị {_choices([value], schema, 'vi')}.",
            f"{en} must be {_choices([value], schema, 'en')}.",
        )
    if keyword == "format":
        if value in _FORMAT_NAMES:
            name_vi, name_en = _FORMAT_NAMES[value]
            return f"{vi} phải là {name_vi}.", f"{en} must be {name_en}."
        return f"{vi} không đúng định dạng '{value}'.", f"{en} is not a valid '{value}'."
    if keyword == "pattern":
        if value in NOT_BLANK_PATTERNS:
            return f"{vi} không được để trống.", f"{en} must not be blank."
        return f"{vi} không đúng định dạng yêu cầu.", f"{en} is not in the expected format."
    if keyword == "minLength":
        if value == 1:
            return f"{vi} không được để trống.", f"{en} must not be empty."
        return f"{vi} phải có ít nhất {value} ký tự.", f"{en} must be at least {value} characters long."
    if keyword == "maxLength":
        return f"{vi} không được dài quá {value} ký tự.", f"{en} must be at most {value} characters long."
    if keyword == "minItems":
        if value == 1:
            return f"{vi} phải có ít nhất một mục.", f"{en} must have at least one item."
        return f"{vi} phải có ít nhất {value} mục.", f"{en} must have at least {value} items."
    if keyword == "maxItems":
        return f"{vi} không được có quá {value} mục.", f"{en} must have at most {value} items."
    if keyword == "uniqueItems":
        return f"{vi} không được có mục trùng nhau.", f"{en} must not contain the same item twice."
    if keyword == "minProperties":
        return f"{vi} phải có ít nhất {value} mục.", f"{en} must have at least {value} entries."
    if keyword == "maxProperties":
        return f"{vi} không được có quá {value} mục.", f"{en} must have at most {value} entries."
    if keyword == "minimum":
        return f"{vi} phải lớn hơn hoặc bằng {value}.", f"{en} must be at least {value}."
    if keyword == "maximum":
        return f"{vi} phải nhỏ hơn hoặc bằng {value}.", f"{en} must be at most {value}."
    if keyword == "exclusiveMinimum":
        return f"{vi} phải lớn hơn {value}.", f"{en} must be greater than {value}."
    if keyword == "exclusiveMaximum":
        return f"{vi} phải nhỏ hơn {value}.", f"{en} must be less than {value}."
    if keyword == "multipleOf":
        return f"{vi} phải là bội số của {value}.", f"{en} must be a multiple of {value}."
    if keyword is None:  # a `false` schema
        return f"{vi} không được phép có.", f"{en} is not allowed."
    if keyword == "not":
        return f"{vi} có giá trị không được phép.", f"{en} has a value that is not allowed."
    if keyword in ("anyOf", "oneOf"):
        return (
            f"{vi} không khớp với đúng một lựa chọn hợp lệ.",
            f"{en} does not match exactly one of the allowed choices.",
        )
    return f"{vi} không hợp lệ.", f"{en} is invalid ({keyword})."


def _subject(form: ValidatedForm, path: Sequence[str | int]) -> tuple[str, str]:
    """How a message names the field: ``Trường 'Tên sản phẩm'`` / ``'Product name'``, with the
    item numbers of any arrays on the way (``'HS code' (Goods, item 2)``)."""
    if not path:
        return f"Dữ liệu của biểu mẫu '{form.title_vi}'", f"The data of form '{form.title_en}'"
    where_vi: list[str] = []
    where_en: list[str] = []
    for position, segment in enumerate(path):
        if not isinstance(segment, int):
            continue
        if position == len(path) - 1:
            where_vi.append(f"mục {segment + 1}")
            where_en.append(f"item {segment + 1}")
        else:
            where_vi.append(f"{form.field_title(path[:position], 'vi')}, mục {segment + 1}")
            where_en.append(f"{form.field_title(path[:position], 'en')}, item {segment + 1}")
    vi = f"Trường '{form.field_title(path, 'vi')}'"
    en = f"'{form.field_title(path, 'en')}'"
    if where_vi:
        vi += f" ({'; '.join(where_vi)})"
        en += f" ({'; '.join(where_en)})"
    return vi, en


def _required(form: ValidatedForm, path: Path, code: str) -> FieldError:
    vi, en = _subject(form, path)
    return _error(path, f"{vi} là bắt buộc.", f"{en} is required.", code)


def _unexpected(form: ValidatedForm, parent: Path, key: str, code: str) -> FieldError:
    if parent:
        message = f"Trường '{key}' không thuộc '{form.field_title(parent, 'vi')}'."
        message_en = f"Unexpected field '{key}' in '{form.field_title(parent, 'en')}'."
    else:
        message = f"Trường '{key}' không có trong biểu mẫu."
        message_en = f"Unexpected field '{key}'."
    return _error([*parent, key], message, message_en, code)


def _unexpected_keys(
    form: ValidatedForm,
    keyword: str,
    schema: Mapping[str, Any],
    instance: Mapping[str, Any],
    path: Path,
    message: str,
) -> list[str]:
    if keyword == "additionalProperties":
        known = schema.get("properties") or {}
        patterns = list(schema.get("patternProperties") or {})
        return [
            key
            for key in instance
            if key not in known and not any(ecma_pattern(pattern).search(key) for pattern in patterns)
        ]
    # unevaluatedProperties: anything no subschema at this place describes (through $ref, allOf,
    # then...), and also what jsonschema lists in its message: a key that only a branch which did
    # not apply describes (a `then` whose `if` failed) is described, yet unexpected here.
    listed = _LISTED_KEYS.search(message)
    return [
        key
        for key in instance
        if not form.field_schemas([*path, key]) or (listed is not None and repr(key) in listed.group(1))
    ]


def _choices(values: Sequence[Any], schema: Mapping[str, Any], lang: str) -> str:
    labels = schema.get("x-enum-labels") or {}
    shown = []
    for value in values:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        label = labels.get(text, {}).get(lang) if isinstance(labels.get(text), Mapping) else None
        shown.append(f"{text} ({label})" if label else text)
    return ", ".join(shown)


def _error(path: Path, message: str, message_en: str, code: str) -> FieldError:
    return FieldError(
        field=_walk.format_path(path), path=list(path), message=message, message_en=message_en, code=code
    )


def _path_key(path: Sequence[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, s, "") if isinstance(s, int) else (1, 0, s) for s in path)


def _tidy(errors: list[FieldError], empty: set[str]) -> list[FieldError]:
    """Each error once, sorted by path; an empty string reports "must not be empty" only, not also
    that it is blank or badly formatted."""
    unique = {e: None for e in errors if not (e.field in empty and e.code in ("pattern", "format"))}
    return sorted(unique, key=lambda e: (_path_key(e.path), e.code, e.message))
