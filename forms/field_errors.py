"""The errors of form data: :class:`FieldError` (one problem at one field) and
:class:`FormValidationError` (all of them), what :mod:`forms.validation` reports and the pages
show. They depend on nothing else of the package, so any module may import them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FieldError", "FormValidationError"]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field.

    ``field`` is the dotted path (``product.name``, ``goods[0].hs_code``, ``""`` for the whole
    form), ``path`` the same as a list, ``code`` the JSON Schema keyword that failed (``required``,
    ``type``, ``pattern``, ``enum``, ``format``, ``minLength``, ``additionalProperties``...). An
    unexpected key is reported at the key itself, with code ``additionalProperties``, or
    ``unevaluatedProperties`` where the object is closed that way (the root of a form that
    ``$ref``-s its fields, such as ``declaration`` and ``supplement``).
    """

    field: str
    path: list[str | int]
    message: str
    message_en: str
    code: str

    def __hash__(self) -> int:
        return hash((self.field, tuple(self.path), self.message, self.message_en, self.code))

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "path": list(self.path),
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }


class FormValidationError(ValueError):
    """The data does not fit the form; ``errors`` lists every problem, sorted by path."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        shown = "; ".join(f"{e.field or '(form)'}: {e.message_en}" for e in self.errors[:10])
        more = f" (+{len(self.errors) - 10} more)" if len(self.errors) > 10 else ""
        super().__init__(f"{len(self.errors)} invalid field(s): {shown}{more}")

    def to_list(self) -> list[dict[str, Any]]:
        return [error.to_dict() for error in self.errors]
