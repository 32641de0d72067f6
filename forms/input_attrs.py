"""A field's constraints as HTML input attributes, so the browser checks them before posting.

Only the nodes that always apply are read (the ``base`` nodes of :func:`forms._walk.always_applying`):
a ``maxLength`` or a ``pattern`` that only a ``then`` adds would block valid input in the browser.
The server checks everything anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import _walk
from .ecma_regex import html_pattern
from .form_view import FieldView
from .ui_text import localised, number_text

__all__ = ["number_attrs", "string_attrs"]


def string_attrs(view: FieldView, base: Sequence[_walk.Node], lang: str) -> None:
    """``maxlength``, ``minlength`` (above 1: ``required`` says 1) and, for one-line inputs, the
    first ``pattern`` the browser can check, with its ``x-messages`` text as the ``title``."""
    max_lengths = [n.schema["maxLength"] for n in base if isinstance(n.schema.get("maxLength"), int)]
    if max_lengths:
        view.attrs["maxlength"] = str(min(max_lengths))
    min_lengths = [n.schema["minLength"] for n in base if isinstance(n.schema.get("minLength"), int)]
    if min_lengths and max(min_lengths) > 1:
        view.attrs["minlength"] = str(max(min_lengths))
    if view.kind in ("text", "email"):
        for node in base:
            pattern = node.schema.get("pattern")
            converted = html_pattern(pattern) if isinstance(pattern, str) else None
            if converted:
                view.attrs["pattern"] = converted
                message = (node.schema.get("x-messages") or {}).get("pattern")
                if isinstance(message, Mapping):
                    text = localised(message, lang) or ""
                    view.attrs["title"] = text.replace("{title}", view.label)
                break


def number_attrs(view: FieldView, base: Sequence[_walk.Node], kind_type: str) -> None:
    """``min``, ``max`` (an integer's exclusive bounds made inclusive) and ``step``."""
    integer = kind_type == "integer"
    for node in base:
        schema = node.schema
        if "minimum" in schema and "min" not in view.attrs:
            view.attrs["min"] = number_text(schema["minimum"])
        if "maximum" in schema and "max" not in view.attrs:
            view.attrs["max"] = number_text(schema["maximum"])
        if integer and isinstance(schema.get("exclusiveMinimum"), int) and "min" not in view.attrs:
            view.attrs["min"] = str(schema["exclusiveMinimum"] + 1)
        if integer and isinstance(schema.get("exclusiveMaximum"), int) and "max" not in view.attrs:
            view.attrs["max"] = str(schema["exclusiveMaximum"] - 1)
        if "multipleOf" in schema and "step" not in view.attrs:
            view.attrs["step"] = number_text(schema["multipleOf"])
    view.attrs.setdefault("step", "1" if integer else "any")
