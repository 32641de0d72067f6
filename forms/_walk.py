"""Walking a form's schema alongside a data path: field titles, field schemas, attachments.

A *node* is a subschema together with the ``referencing`` resolver its ``$ref`` values resolve
against. Several nodes may describe one data location: the property's own schema, the target of
its ``$ref``, the branches of ``allOf``/``anyOf``/``oneOf`` and the ``then``/``else`` of
conditionals (``if`` itself only tests, it describes nothing). The property's own schema always
comes first, so its ``title`` wins.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._validator import ATTACHMENT_FORMAT, ecma_pattern

if TYPE_CHECKING:
    from referencing._core import Resolver

Node = tuple[Mapping[str, Any], "Resolver[Any]"]
PathSegment = str | int

_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_SINGLE = ("then", "else")
_PLAIN_KEY = re.compile(r"[^.\[\]\"]+")


def expand(nodes: Iterable[Node]) -> list[Node]:
    """The given nodes plus every subschema they apply in place to the same data, each once."""
    out: list[Node] = []
    seen: set[int] = set()
    queue = deque(nodes)
    while queue:
        schema, resolver = queue.popleft()
        if not isinstance(schema, Mapping) or id(schema) in seen:
            continue
        seen.add(id(schema))
        out.append((schema, resolver))
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved = resolver.lookup(ref)
            queue.append((resolved.contents, resolved.resolver))
        for keyword in _IN_PLACE_LISTS:
            for sub in schema.get(keyword) or ():
                queue.append((sub, resolver))
        for keyword in _IN_PLACE_SINGLE:
            if keyword in schema:
                queue.append((schema[keyword], resolver))
        for sub in (schema.get("dependentSchemas") or {}).values():
            queue.append((sub, resolver))
    return out


def child(nodes: Sequence[Node], segment: PathSegment) -> list[Node]:
    """The (expanded) nodes describing ``data[segment]`` given the nodes describing ``data``."""
    found: list[Node] = []
    for schema, resolver in nodes:
        if isinstance(segment, int):
            prefix = schema.get("prefixItems") or []
            if segment < len(prefix):
                found.append((prefix[segment], resolver))
            elif isinstance(schema.get("items"), Mapping):
                found.append((schema["items"], resolver))
            continue
        matched = False
        properties = schema.get("properties") or {}
        if segment in properties:
            found.append((properties[segment], resolver))
            matched = True
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            if ecma_pattern(pattern).search(segment):
                found.append((sub, resolver))
                matched = True
        if not matched and isinstance(schema.get("additionalProperties"), Mapping):
            found.append((schema["additionalProperties"], resolver))
    return expand(found)


def items(nodes: Sequence[Node]) -> list[Node]:
    """The (expanded) nodes describing every item of an array (``items``, not ``prefixItems``)."""
    return expand(
        (schema["items"], resolver) for schema, resolver in nodes if isinstance(schema.get("items"), Mapping)
    )


def at(nodes: Sequence[Node], path: Iterable[PathSegment]) -> list[Node]:
    for segment in path:
        nodes = child(nodes, segment)
        if not nodes:
            break
    return list(nodes)


def property_names(nodes: Sequence[Node]) -> list[str]:
    names: dict[str, None] = {}
    for schema, _ in nodes:
        for name in schema.get("properties") or {}:
            names[name] = None
    return list(names)


def first(nodes: Sequence[Node], keyword: str) -> Any:
    for schema, _ in nodes:
        if keyword in schema:
            return schema[keyword]
    return None


def title(nodes: Sequence[Node], lang: str) -> str | None:
    """A field's title: ``title`` in Vietnamese, ``x-title-en`` in English (else the Vietnamese)."""
    if lang == "en":
        return first(nodes, "x-title-en") or first(nodes, "title")
    return first(nodes, "title")


def is_attachment(nodes: Sequence[Node]) -> bool:
    return any(schema.get("format") == ATTACHMENT_FORMAT for schema, _ in nodes)


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
