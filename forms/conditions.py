"""When a field is required only sometimes: "Bắt buộc khi Căn cứ công bố = Kết quả chứng nhận…".

An object's ``if``/``then`` (inside ``allOf`` or not) and ``dependentRequired`` say which of its
fields, or of its sub-objects' fields, become required and when. A simple ``if`` (properties of
this object with a ``const`` or an ``enum``) becomes a list of :data:`Test`; anything more
complicated is left out, and the field gets the vaguer "required in some cases" hint. The page
shows the tests' ``text``; the script (``data-required-when``) evaluates their ``name`` and
``values``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _walk
from .form_view import html_name
from .ui_text import UI_TEXT, enum_label, enum_text

__all__ = ["Alternatives", "Test", "condition_text", "conditions_here"]

#: One test: ``{"name": html name, "values": [texts] | None, "text": shown}``; ``values`` None
#: means "is filled in".
Test = dict[str, Any]
#: Alternatives (or) of tests that all (and) must hold.
Alternatives = list[list[Test]]


def conditions_here(
    nodes: Sequence[_walk.Node], prefix: tuple[str | int, ...], lang: str
) -> dict[tuple[str, ...], Alternatives]:
    """For the object the nodes describe (at ``prefix``): relative field path → the alternatives
    that require it."""
    found: dict[tuple[str, ...], Alternatives] = {}
    for node in nodes:
        schema = node.schema
        if "if" in schema and "then" in schema:
            tests = _parse_if(schema["if"], nodes, prefix, lang)
            if tests is not None:
                for rel in _then_required(schema["then"]):
                    found.setdefault(rel, []).append(tests)
        for present, needed in (schema.get("dependentRequired") or {}).items():
            title = _walk.title(_walk.child_always_first(nodes, present), lang) or present
            test = {
                "name": html_name([*prefix, present]),
                "values": None,
                "text": f"{UI_TEXT[lang]['filled']} {title}"
                if lang == "vi"
                else f"{title} {UI_TEXT[lang]['filled']}",
            }
            for name in needed:
                found.setdefault((name,), []).append([test])
    return found


def condition_text(alternatives: Alternatives, lang: str) -> str:
    """``Bắt buộc khi A = x và B = y; hoặc C = z``, each alternative once."""
    ui = UI_TEXT[lang]
    parts = [f" {ui['and']} ".join(t["text"] for t in tests) for tests in alternatives]
    return f"{ui['required_when']} " + f"; {ui['or']} ".join(dict.fromkeys(parts))


def _parse_if(
    if_schema: Any, nodes: Sequence[_walk.Node], prefix: tuple[str | int, ...], lang: str
) -> list[Test] | None:
    """The tests of a simple ``if``: properties of this object with a ``const`` or an ``enum``."""
    if not isinstance(if_schema, Mapping):
        return None
    if set(if_schema) - {"required", "properties", "type", "$comment"}:
        return None
    properties = if_schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return None
    tests: list[Test] = []
    for key, sub in properties.items():
        if not isinstance(sub, Mapping):
            return None
        if "const" in sub:
            values = [sub["const"]]
        elif isinstance(sub.get("enum"), list):
            values = list(sub["enum"])
        else:
            return None
        controller = _walk.child_always_first(nodes, key)
        title = _walk.title(controller, lang) or key
        labels = f" {UI_TEXT[lang]['or']} ".join(enum_label(controller, v, lang) for v in values)
        tests.append(
            {
                "name": html_name([*prefix, key]),
                "values": [enum_text(v) for v in values],
                "text": f"{title} = {labels}",
            }
        )
    return tests


def _then_required(then: Any, rel: tuple[str, ...] = (), depth: int = 0) -> list[tuple[str, ...]]:
    """The (relative) paths a ``then`` makes required, through nested ``properties``/``allOf``."""
    if not isinstance(then, Mapping) or depth > 16:
        return []
    found = [(*rel, name) for name in then.get("required") or () if isinstance(name, str)]
    for key, sub in (then.get("properties") or {}).items():
        found.extend(_then_required(sub, (*rel, key), depth + 1))
    for sub in then.get("allOf") or ():
        found.extend(_then_required(sub, rel, depth + 1))
    return found
