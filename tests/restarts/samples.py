"""Valid payloads for any form, made from its JSON Schema: one per choice a person can make.

Every property is filled (so a conditional "then required" is always met), numbers at their
maximum in the first payload and at their minimum in another (a score sheet of full marks and one
of none), and one payload per other value of every enum and boolean — the data the models'
gateways and decision tables branch on. Strings with a pattern take an example from ``EXAMPLES``;
a new pattern without one fails loudly, naming it.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from forms import _walk
from forms._validator import ecma_pattern
from forms.registry import Form

# An example for every pattern the forms use (a new pattern needs one here).
EXAMPLES = {
    r"\S": "Nội dung mẫu",
    r"^QCVN\s*\S": "QCVN 2:2021/BKHCN",
    r"^\s*(QCVN|QCĐP)\s": "QCVN 2:2021/BKHCN",
    r"^[0-9]{8}$": "72142090",
    r"^[0-9]{4}(\.?[0-9]{2}){0,3}$": "7219.33",
    r"^\+?[0-9(][0-9 .()-]{6,17}[0-9]$": "0233 3852 123",
}
TAX_CODE_PATTERN = r"^[0-9]{10}(-[0-9]{3})?$"


@dataclass
class SampleContext:
    """What a payload takes from the person filling it in."""

    tax_code: str
    email: str
    today: date
    attachment: Callable[[], str]


def count(form: Form) -> int:
    """How many distinct payloads ``payload`` makes for ``form``."""
    return len(_recipes(form))


def payload(form: Form, context: SampleContext, index: int) -> dict[str, Any]:
    """The ``index``-th payload of ``form`` (the first fills every field, numbers at their maximum;
    the second only the required ones, numbers at their minimum), valid."""
    mode, overrides = _recipes(form)[index]
    made = _value(form._root, (), mode, overrides, context, [])
    problems = form.errors(made)
    assert not problems, f"{form.name}: the sample payload {index} is not valid: {problems}"
    return made


_Recipe = tuple[str, dict[tuple[Any, ...], Any]]

# The recipes depend on the form's schema alone, and a walk asks for them at every step (``count``
# for the options, ``payload`` for the choice): made once per form object, not once per call.
_made_recipes: weakref.WeakKeyDictionary[Form, list[_Recipe]] = weakref.WeakKeyDictionary()


def _recipes(form: Form) -> list[_Recipe]:
    """(number mode, values forced at paths) of each distinct payload, attachments aside."""
    if form not in _made_recipes:
        _made_recipes[form] = _make_recipes(form)
    return _made_recipes[form]


def _make_recipes(form: Form) -> list[_Recipe]:
    blank = SampleContext("0000000000", "mau@example.vn", date(2026, 1, 1), lambda: "-")
    root = form._root  # the schema walker's nodes for the whole form
    choices: list[tuple[tuple[Any, ...], Any]] = []
    _value(root, (), "high", {}, blank, choices)
    minimal_choices: list[tuple[tuple[Any, ...], Any]] = []
    _value(root, (), "low", {}, blank, minimal_choices)
    recipes: list[_Recipe] = [("high", {}), ("low", {})]
    recipes += [("high", {path: value}) for path, value in choices]
    # The same choices on the smallest payload: optional fields left out change paths too (an
    # import registration without an exemption notice is inspected).
    recipes += [("low", {path: value}) for path, value in minimal_choices]
    distinct: dict[str, _Recipe] = {}
    for mode, overrides in recipes:
        made = _value(root, (), mode, overrides, blank, [])
        distinct.setdefault(json.dumps(made, sort_keys=True, ensure_ascii=False), (mode, overrides))
    return list(distinct.values())


def _value(
    nodes: list[_walk.Node],
    path: tuple[Any, ...],
    mode: str,
    overrides: dict[tuple[Any, ...], Any],
    context: SampleContext,
    choices: list[tuple[tuple[Any, ...], Any]],
) -> Any:
    if path in overrides:
        return overrides[path]
    const = _walk.first(nodes, "const")
    if const is not None:
        return const
    # A field's example, where its schema gives one (a date that meets a rule of the procedure,
    # e.g. an organisation's years of operation), is what a person would write.
    examples = _walk.first(nodes, "examples")
    if examples:
        return examples[0]
    enum = _walk.first(nodes, "enum")
    if enum:
        choices.extend((path, other) for other in enum[1:])
        return enum[0]
    if _walk.is_attachment(nodes):
        return context.attachment()
    kind = _walk.first(nodes, "type")
    if kind == "boolean":
        choices.append((path, False))
        return True
    if kind == "object" or _walk.property_names(nodes):
        # "high" fills every property; "low" only those the schema always requires.
        required = _walk.required_names(nodes, sometimes=True)
        return {
            name: _value(_walk.child(nodes, name), (*path, name), mode, overrides, context, choices)
            for name in _walk.property_names(nodes)
            if mode == "high" or name in required
        }
    if kind == "array":
        size = max(1, _walk.first(nodes, "minItems") or 0)
        element = _walk.items(nodes)
        values = [
            _value(element, (*path, index), mode, overrides, context, choices if index == 0 else [])
            for index in range(size)
        ]
        if _walk.first(nodes, "uniqueItems") and size > 1 and not _walk.is_attachment(element):
            values = [f"{v} {i + 1}" if isinstance(v, str) else v for i, v in enumerate(values)]
        return values
    if kind in ("integer", "number"):
        return _number(nodes, kind, mode)
    if kind == "string":
        return _string(nodes, context)
    raise AssertionError(f"no sample for the schema at {_walk.format_path(list(path))}: {nodes[0][0]}")


def _number(nodes: list[_walk.Node], kind: str, mode: str) -> int | float:
    low = _walk.first(nodes, "minimum")
    exclusive = _walk.first(nodes, "exclusiveMinimum")
    high = _walk.first(nodes, "maximum")
    if low is None:
        low = exclusive + 1 if exclusive is not None else 0
    value = low if mode == "low" else (high if high is not None else low + 100)
    return int(value) if kind == "integer" else float(value)


def _string(nodes: list[_walk.Node], context: SampleContext) -> str:
    fmt = _walk.first(nodes, "format")
    if fmt == "date":
        return context.today.isoformat()
    if fmt == "email":
        return context.email
    # Every pattern that may apply here, a conditional branch's too (e.g. 'QCVN …' for hợp quy).
    patterns = [schema["pattern"] for schema, _ in nodes if "pattern" in schema]
    if TAX_CODE_PATTERN in patterns:
        return context.tax_code
    for pattern in patterns:
        assert pattern in EXAMPLES, f"add an example for the pattern {pattern!r} to {__name__}.EXAMPLES"
    fitting = [
        text
        for text in ("Nội dung mẫu", *EXAMPLES.values())
        if all(ecma_pattern(pattern).search(text) for pattern in patterns)
    ]
    assert fitting, f"no example in {__name__}.EXAMPLES matches all of {patterns}"
    text = fitting[0]
    shortest = _walk.first(nodes, "minLength") or 0
    while len(text) < shortest:
        text = f"{text} {text}"
    limit = _walk.first(nodes, "maxLength")
    return text[:limit] if limit else text
