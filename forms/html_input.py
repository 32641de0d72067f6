"""From an HTML form post to the JSON data the form's schema validates.

The names are those :mod:`forms.rendering` writes: dotted paths (``product.name``,
``missing_items.0``, ``goods.1.hs_code``), ``<name>.attachment_id`` for a file already uploaded,
``<row>._remove`` to drop an array row, ``_add_row=<array name>`` for the "add a row" button.

The walk follows the schema, not the post, so a name the form does not have (``csrf_token``,
``_add_row``, a typo, a forged key) never reaches the data. Values are coerced by the schema's
type; what cannot be coerced stays the raw string, so validation reports it at its field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import _walk
from .form_view import html_name
from .registry import AttachmentField, Form
from .text import normalise
from .ui_text import enum_text

__all__ = ["ADD_ROW", "REMOVE_ROW", "file_field", "parse_submission"]

#: The name of the "add a row" submit button; its value is the array's HTML name.
ADD_ROW = "_add_row"
#: The last segment of a row's "remove this row" checkbox (``missing_items.2._remove``).
REMOVE_ROW = "_remove"
#: The suffix of the hidden input carrying an already-uploaded file's id.
ATTACHMENT_ID = "attachment_id"

_TRUE = frozenset({"true", "on", "1", "yes"})
_FALSE = frozenset({"false", "off", "0", "no"})
_INDEX = re.compile(r"(0|[1-9][0-9]{0,5})")
_INTEGER = re.compile(r"[+-]?[0-9]{1,300}")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def parse_submission(
    form: Form,
    fields: Mapping[str, Sequence[str] | str],
    attachment_ids: Mapping[str, Sequence[str] | str] | None = None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """``(data, extra_rows)`` from an HTML post.

    ``fields`` maps each control name to its values, in post order (the non-file part of the
    multipart body: ``{k: form.getlist(k) ...}``). ``attachment_ids`` maps a file input's name to
    the ids the web layer got by storing the files uploaded under it (leave out empty file parts).
    A single file field takes the new upload, else its ``<name>.attachment_id``; a multiple one
    keeps the ticked ``<name>.attachment_id`` values and adds the new uploads.

    Blank inputs (empty or only spaces) are left out, as are array rows left blank or ticked
    ``._remove`` and objects left wholly blank; arrays keep the order of their row indexes. Text
    has CRLF turned into LF (the browser counts ``maxlength`` that way), surrounding spaces
    trimmed, and is NFC-normalised (forms.text; the validator refuses what is no text).

    ``extra_rows`` is empty unless the post holds ``_add_row``: then the caller re-renders the form
    with :func:`forms.rendering.build_view` (``extra_rows=...``) instead of submitting; it maps an
    array's name to the empty rows to show (the one asked for plus the blank ones the post had).
    """
    parser = _Parser(fields, attachment_ids or {})
    data = parser.object(_walk.always_first(form._root), (), root=True)
    extra: dict[str, int] = {}
    for value in parser.values(ADD_ROW):
        value = value.strip()
        if value and len(value) <= 1000:
            extra[value] = extra.get(value, 0) + 1
    if extra:
        for name, blank in parser.blank_rows.items():
            if blank > 0:
                extra[name] = extra.get(name, 0) + blank
    return (data if isinstance(data, dict) else {}), extra


def file_field(form: Form, name: str) -> AttachmentField | None:
    """The attachment field an HTML file input name belongs to (``goods.1.photo`` →
    ``goods[*].photo``), or None: what the web layer checks before storing an upload."""
    segments: list[str] = []
    for part in name.split("."):
        if _INDEX.fullmatch(part):
            if not segments:
                return None
            segments[-1] += "[*]"
        else:
            segments.append(part)
    wanted = ".".join(segments)
    return next((f for f in form.attachment_fields() if f.path == wanted), None)


class _Parser:
    def __init__(
        self, fields: Mapping[str, Sequence[str] | str], attachment_ids: Mapping[str, Sequence[str] | str]
    ):
        self.fields = {k: _as_list(v) for k, v in fields.items() if isinstance(k, str)}
        self.attachment_ids = {k: _as_list(v) for k, v in attachment_ids.items() if isinstance(k, str)}
        self.names = set(self.fields) | set(self.attachment_ids)
        self.blank_rows: dict[str, int] = {}

    def values(self, name: str) -> list[str]:
        return [v for v in self.fields.get(name, []) if isinstance(v, str)]

    def value(self, nodes: list[_walk.Node], path: tuple[str | int, ...], depth: int = 0) -> Any:
        if depth > 32:
            return MISSING
        if _walk.is_attachment(nodes):
            return self.attachment(html_name(path))
        if _walk.is_file_array(nodes):
            return self.attachments(html_name(path))
        kind = _walk.schema_type(nodes)
        if kind == "object":
            return self.object(nodes, path, depth=depth)
        if kind == "array":
            return self.array(nodes, path, depth)
        raw = self.last(html_name(path))
        if raw is None:
            return MISSING
        return _coerce(nodes, kind, raw)

    def last(self, name: str) -> str | None:
        """The last non-blank value posted under ``name`` (text normalised), or None."""
        found = None
        for raw in self.values(name):
            text = normalise(raw.replace("\r\n", "\n").replace("\r", "\n").strip())
            if text:
                found = text
        return found

    def object(
        self, nodes: list[_walk.Node], path: tuple[str | int, ...], *, root: bool = False, depth: int = 0
    ) -> Any:
        out: dict[str, Any] = {}
        for key in [*_walk.property_names(nodes), *_walk.undeclared_required(nodes)]:
            value = self.value(_walk.child_always_first(nodes, key), (*path, key), depth + 1)
            if value is not MISSING:
                out[key] = value
        if not out and not root:
            return MISSING
        for key in _walk.required_names(nodes):
            if key in out:
                continue
            kind = _walk.schema_type(_walk.child_always_first(nodes, key))
            if kind == "boolean":  # an unticked checkbox posts nothing: a required boolean is then false
                out[key] = False
            elif kind == "object":  # an always-required group left blank: its own fields are reported
                out[key] = {}
        return out

    def array(self, nodes: list[_walk.Node], path: tuple[str | int, ...], depth: int) -> Any:
        name = html_name(path)
        item_nodes = _walk.always_first(_walk.items(nodes))
        out: list[Any] = []
        if _walk.schema_type(item_nodes) not in ("object", "array"):
            for raw in self.values(name):  # several values under the array's own name
                text = raw.replace("\r\n", "\n").strip()
                if text:
                    out.append(_coerce(item_nodes, _walk.schema_type(item_nodes), text))
        indexes = self.indexes(name)
        blank = 0
        for index in indexes:
            row = f"{name}.{index}"
            if self.fields.get(f"{row}.{REMOVE_ROW}"):
                continue
            # A row's own nodes: a tuple's (prefixItems) position has its own schema.
            value = self.value(_walk.child_always_first(nodes, index), (*path, index), depth + 1)
            if value is MISSING:
                blank += 1
            else:
                out.append(value)
        self.blank_rows[name] = blank
        return out if out else MISSING

    def indexes(self, name: str) -> list[int]:
        prefix = f"{name}."
        found: set[int] = set()
        for key in self.names:
            if key.startswith(prefix):
                segment = key[len(prefix) :].split(".", 1)[0]
                if _INDEX.fullmatch(segment):
                    found.add(int(segment))
        return sorted(found)

    def attachment(self, name: str) -> Any:
        uploaded = [i for i in self.attachment_ids.get(name, []) if isinstance(i, str) and i]
        if uploaded:
            return uploaded[-1]
        kept = self.last(f"{name}.{ATTACHMENT_ID}")
        return kept if kept is not None else MISSING

    def attachments(self, name: str) -> Any:
        kept = [v.strip() for v in self.values(f"{name}.{ATTACHMENT_ID}") if v.strip()]
        uploaded = [i for i in self.attachment_ids.get(name, []) if isinstance(i, str) and i]
        ids = list(dict.fromkeys([*kept, *uploaded]))
        return ids if ids else MISSING


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def _coerce(nodes: list[_walk.Node], kind: str | None, raw: str) -> Any:
    enum = _walk.first(_walk.always_applying(nodes), "enum") or _walk.first(nodes, "enum")
    if isinstance(enum, list):
        for option in enum:
            if enum_text(option) == raw:
                return option
        return raw
    if kind in ("integer", "number"):
        if _INTEGER.fullmatch(raw):
            return int(raw)
        number = _float(raw)
        if number is None:
            return raw
        if kind == "integer":
            return int(number) if number.is_integer() else raw
        return number
    if kind == "boolean":
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return raw
    return raw


def _float(raw: str) -> float | None:
    if not _DECIMAL.fullmatch(raw):
        return None
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
