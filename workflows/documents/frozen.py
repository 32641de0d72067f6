"""A document's context kept as JSON between its issue and its rendering.

A command issues a document (its number, verification code and what it says are fixed then) and
the .docx is rendered after the command committed (workflows.document_rendering). What it says is
stored as JSON in between, and must come back exactly: the same values of the same types, so that
the rendering later is the one the command would have made. Dates and instants, tuples and
mappings are tagged; anything else JSON cannot carry exactly raises :class:`Unfreezable`, and the
document is then rendered in the command as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from workflows.documents.model import DocumentContext

_TAGS = ("$datetime", "$date", "$tuple", "$dict")


class Unfreezable(TypeError):
    """A value JSON cannot carry exactly (a Decimal, an object of the procedure's own…)."""


def freeze(ctx: DocumentContext) -> dict[str, Any]:
    """``ctx`` as JSON-safe data (``thaw`` gives it back)."""
    return {f.name: _encode(getattr(ctx, f.name)) for f in fields(DocumentContext)}


def thaw(frozen: Mapping[str, Any]) -> DocumentContext:
    return DocumentContext(**{name: _decode(value) for name, value in frozen.items()})


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unfreezable(f"{value!r} has no JSON form")
        return value
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.tzinfo is None:
            raise Unfreezable("a naive instant")
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise Unfreezable("a mapping with keys that are not text")
        encoded = {k: _encode(v) for k, v in value.items()}
        return {"$dict": encoded} if len(encoded) == 1 and next(iter(encoded)) in _TAGS else encoded
    raise Unfreezable(f"a {type(value).__name__} has no exact JSON form")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$tuple":
            return tuple(_decode(v) for v in inner)
        if tag == "$dict":
            return {k: _decode(v) for k, v in inner.items()}
    return {k: _decode(v) for k, v in value.items()}
