"""Walking a form's schema alongside a data path: the one JSON Schema walker of the package.

The registry (field titles, field schemas, attachments), validation (unexpected keys), the form
page (:mod:`forms.view_builder`) and the post reader (:mod:`forms.html_input`) all walk with it.

A *node* is a subschema together with the ``referencing`` resolver its ``$ref`` values resolve
against; it unpacks as ``(schema, resolver)``. Several nodes may describe one data location: the
property's own schema, the target of its ``$ref``, the branches of ``allOf``/``anyOf``/``oneOf``
and the ``then``/``else`` of conditionals (``if`` itself only tests, it describes nothing). An
object's key is described by ``properties``, by every ``patternProperties`` pattern it matches, or
else by an ``additionalProperties`` schema; an array's item by ``prefixItems`` at its position,
else by ``items``.

A node also knows whether it applies only *sometimes* (:attr:`Node.conditional`): when it was
reached through ``then``/``else``, ``anyOf``/``oneOf`` or ``dependentSchemas`` rather than through
``$ref``/``allOf`` alone. The form page needs that (a ``maxLength`` that only a ``then`` sets must
not block the browser); titles and validation do not.

Order: nodes come in the order they are found, breadth first, so the property's own schema comes
first and its ``title`` wins (field titles, error messages). The form page prefers what always
applies, and sorts with :func:`always_first`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ._validator import ATTACHMENT_FORMAT
from .ecma_regex import ecma_pattern

if TYPE_CHECKING:
    from referencing._core import Resolver

PathSegment = str | int

_PLAIN_KEY = re.compile(r"[^.\[\]\"]+")


class _SchemaAndResolver(NamedTuple):
    schema: Mapping[str, Any]
    resolver: Resolver[Any]


class Node(_SchemaAndResolver):
    """A subschema and its resolver (it unpacks as ``(schema, resolver)``), and whether it applies
    only sometimes."""

    conditional: bool

    def __new__(cls, schema: Mapping[str, Any], resolver: Resolver[Any], conditional: bool = False) -> Node:
        node = super().__new__(cls, schema, resolver)
        node.conditional = conditional
        return node

    def __repr__(self) -> str:
        return f"Node({dict(self.schema)!r}, conditional={self.conditional})"


# -- which nodes describe a place ------------------------------------------------------------------


def expand(nodes: Iterable[Node]) -> list[Node]:
    """The given nodes plus every subschema they apply in place to the same data, each once, in
    the order found. A subschema reached both sometimes and always applies always."""
    out: list[Node] = []
    index: dict[int, int] = {}
    queue = deque(nodes)
    while queue:
        node = queue.popleft()
        schema = node.schema
        if not isinstance(schema, Mapping):
            continue
        known = index.get(id(schema))
        if known is not None:
            if not (out[known].conditional and not node.conditional):
                continue
            out[known] = node  # reached unconditionally after all: upgrade it and what it applies
        else:
            index[id(schema)] = len(out)
            out.append(node)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved = node.resolver.lookup(ref)
            queue.append(Node(resolved.contents, resolved.resolver, node.conditional))
        for sub in schema.get("allOf") or ():
            queue.append(Node(sub, node.resolver, node.conditional))
        for keyword in ("anyOf", "oneOf"):
            for sub in schema.get(keyword) or ():
                queue.append(Node(sub, node.resolver, True))
        for keyword in ("then", "else"):
            if keyword in schema:
                queue.append(Node(schema[keyword], node.resolver, True))
        for sub in (schema.get("dependentSchemas") or {}).values():
            queue.append(Node(sub, node.resolver, True))
    return out


def child(nodes: Sequence[Node], segment: PathSegment) -> list[Node]:
    """The (expanded) nodes describing ``data[segment]`` given the nodes describing ``data``: an
    object's key (``properties``, matching ``patternProperties``, else ``additionalProperties``)
    or an array's index (``prefixItems`` at that position, else ``items``)."""
    found: list[Node] = []
    for node in nodes:
        schema, resolver, sometimes = node.schema, node.resolver, node.conditional
        if isinstance(segment, int):
            prefix = schema.get("prefixItems") or []
            if segment < len(prefix):
                found.append(Node(prefix[segment], resolver, sometimes))
            elif isinstance(schema.get("items"), Mapping):
                found.append(Node(schema["items"], resolver, sometimes))
            continue
        matched = False
        properties = schema.get("properties") or {}
        if segment in properties:
            found.append(Node(properties[segment], resolver, sometimes))
            matched = True
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            if ecma_pattern(pattern).search(segment):
                found.append(Node(sub, resolver, sometimes))
                matched = True
        if not matched and isinstance(schema.get("additionalProperties"), Mapping):
            found.append(Node(schema["additionalProperties"], resolver, sometimes))
    return expand(found)


def items(nodes: Sequence[Node]) -> list[Node]:
    """The (expanded) nodes describing every item of an array (``items``, not ``prefixItems``)."""
    return expand(
        Node(node.schema["items"], node.resolver, node.conditional)
        for node in nodes
        if isinstance(node.schema.get("items"), Mapping)
    )


def at(nodes: Sequence[Node], path: Iterable[PathSegment]) -> list[Node]:
    for segment in path:
        nodes = child(nodes, segment)
        if not nodes:
            break
    return list(nodes)


def always_first(nodes: Iterable[Node]) -> list[Node]:
    """The nodes that always apply, then those that apply only sometimes (each group in order)."""
    return sorted(nodes, key=lambda node: node.conditional)


def child_always_first(nodes: Sequence[Node], segment: PathSegment) -> list[Node]:
    """:func:`child` with what always applies first: a field as the form page (and the reader of
    its post) sees it."""
    return always_first(child(nodes, segment))


def always_applying(nodes: Sequence[Node]) -> list[Node]:
    """The nodes that always apply (all of them for a field only a branch describes)."""
    return [node for node in nodes if not node.conditional] or list(nodes)


# -- what the nodes say ----------------------------------------------------------------------------


def property_names(nodes: Sequence[Node]) -> list[str]:
    """The names ``properties`` declares, in node order."""
    names: dict[str, None] = {}
    for node in nodes:
        for name in node.schema.get("properties") or {}:
            names[name] = None
    return list(names)


def undeclared_required(nodes: Sequence[Node]) -> list[str]:
    """Names the object requires (in any case) that no ``properties`` declares, but that
    ``patternProperties`` or an ``additionalProperties`` schema describes: fields all the same."""
    declared = set(property_names(nodes))
    names: dict[str, None] = {}
    for node in nodes:
        for name in node.schema.get("required") or ():
            if isinstance(name, str) and name not in declared and name not in names and child(nodes, name):
                names[name] = None
    return list(names)


def required_names(nodes: Sequence[Node], *, sometimes: bool = False) -> set[str]:
    """The names the object requires always (or, ``sometimes``, in any case at all)."""
    names: set[str] = set()
    for node in nodes:
        if sometimes or not node.conditional:
            names.update(n for n in node.schema.get("required") or () if isinstance(n, str))
    return names


def first(nodes: Sequence[Node], keyword: str, default: Any = None) -> Any:
    """The value of ``keyword`` in the first node that has it."""
    for node in nodes:
        if keyword in node.schema:
            return node.schema[keyword]
    return default


def schema_type(nodes: Sequence[Node]) -> str | None:
    """The JSON type of the place (the first one besides ``null`` of a list), preferring what
    always applies; guessed from ``properties``/``items`` when no ``type`` says it."""
    declared = first(always_applying(nodes), "type") or first(nodes, "type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if any("properties" in node.schema for node in nodes):
        return "object"
    if any("items" in node.schema or "prefixItems" in node.schema for node in nodes):
        return "array"
    return None


def title(nodes: Sequence[Node], lang: str) -> str | None:
    """A field's title: ``title`` in Vietnamese, ``x-title-en`` in English (else the Vietnamese)."""
    if lang == "en":
        return first(nodes, "x-title-en") or first(nodes, "title")
    return first(nodes, "title")


def is_attachment(nodes: Sequence[Node]) -> bool:
    return any(node.schema.get("format") == ATTACHMENT_FORMAT for node in nodes)


def is_file_array(nodes: Sequence[Node]) -> bool:
    """An array of attachment ids (a field of several files)."""
    item_nodes = items(nodes)
    return schema_type(nodes) == "array" and bool(item_nodes) and is_attachment(item_nodes)


def format_path(path: Sequence[PathSegment]) -> str:
    """``["goods", 0, "hs_code"]`` → ``goods[0].hs_code``; ``[]`` → ``""``."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN_KEY.fullmatch(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return text
