"""The HTML side of a form: a tree of field views that ``templates/form_macros.html`` walks.

:func:`build_view` turns a :class:`~forms.registry.Form`, the current data (a stored payload, or what
:func:`forms.html_input.parse_submission` made of a failed post), the validation errors and a
language into a :class:`FormView`. The view holds everything the template needs, already decided
and translated, so the macros stay dumb: the page renders with no JavaScript, and
``api/static/js/forms.js`` only improves it.

HTML names are dotted paths (``product.name``, ``missing_items.0``, ``goods.1.hs_code``); a file
field of several files is one ``<input type=file multiple>`` named after the array
(``attachments.other``). An already-uploaded file travels back as ``<name>.attachment_id`` (a hidden
input, or for several files a ticked "keep" checkbox per file) so nobody uploads twice after a
validation error. :func:`forms.html_input.parse_submission` reads exactly these names.

Ids are ``<id_prefix>-<key>-<key>...`` (keys reduced to ``[A-Za-z0-9_]``, array rows by index);
a field's help, hint and error paragraphs are ``<id>--help``, ``<id>--cond`` and ``<id>--error``.

What the schema says, the view follows:

* labels from ``title`` / ``x-title-en``, help from ``ui:help`` (Vietnamese; a ``{"vi", "en"}``
  object is also accepted) or ``description`` / ``x-description-en``, order from ``ui:order``;
* widget kind from the type, ``format`` and ``ui:widget``: ``text``, ``textarea``, ``email``,
  ``date``, ``number``, ``integer``, ``checkbox``, ``radio`` (an enum of ≤ 4 choices, or
  ``ui:widget: radio``), ``select``, ``file``, ``hidden``, ``group`` (an object) and ``array``;
* ``required`` (the HTML attribute) only on leaf inputs that are required whatever the data —
  required by their object through no ``if``/``then``, in objects that are themselves always
  required, never in array rows, never on a checkbox, never on a file input that already holds a
  file. Required-in-its-group fields still get the asterisk (``marked``);
* a field that an ``if``/``then`` makes required gets a hint ("Bắt buộc khi Căn cứ công bố = Kết
  quả chứng nhận…") and a ``data-required-when`` description the script evaluates;
* ``maxlength``, ``minlength``, ``pattern`` (made whole-value for HTML), ``min``, ``max``,
  ``step`` only from the parts of the schema that always apply (a pattern only a ``then`` adds
  would block valid input in the browser).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._validator import ATTACHMENT_FORMAT
from .registry import Form
from .validation import FieldError

__all__ = [
    "TEMPLATES_DIR",
    "UI_TEXT",
    "AttachmentInfo",
    "Choice",
    "CurrentFile",
    "ErrorLink",
    "FieldView",
    "FormView",
    "RowView",
    "build_view",
    "html_name",
]

#: The folder of ``form_macros.html``; add it to the page environment's loader.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

Lang = Literal["vi", "en"]

#: The few words of the form chrome, per language. The script reads the ones it needs from data
#: attributes the macros write (``data-remove-label``, ``data-uploading-label``...).
UI_TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "add_row": "Thêm dòng",
        "remove_row": "Xóa dòng này",
        "required": "Bắt buộc",
        "required_when": "Bắt buộc khi",
        "required_sometimes": "Bắt buộc trong một số trường hợp",
        "filled": "đã nhập",
        "or": "hoặc",
        "and": "và",
        "uploaded": "đã tải lên",
        "keep_file": "Giữ tệp",
        "replace_file": "Chọn tệp khác nếu muốn thay thế.",
        "add_files": "Có thể chọn thêm tệp.",
        "choose": "Chọn…",
        "no_choice": "Không chọn",
        "errors_title": "Biểu mẫu chưa hợp lệ, vui lòng sửa các lỗi sau",
        "submit": "Gửi",
        "uploading": "Đang tải lên…",
        "upload_failed": "Tải lên không thành công. Vui lòng thử lại.",
    },
    "en": {
        "add_row": "Add a row",
        "remove_row": "Remove this row",
        "required": "Required",
        "required_when": "Required when",
        "required_sometimes": "Required in some cases",
        "filled": "is filled in",
        "or": "or",
        "and": "and",
        "uploaded": "uploaded",
        "keep_file": "Keep file",
        "replace_file": "Choose another file to replace it.",
        "add_files": "You may choose more files.",
        "choose": "Choose…",
        "no_choice": "None",
        "errors_title": "There is a problem with the form",
        "submit": "Submit",
        "uploading": "Uploading…",
        "upload_failed": "The upload failed. Please try again.",
    },
}

# A safety net for ``extra_rows`` that came from a post: never render more than this many rows.
MAX_ROWS = 200


# -- the view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentInfo:
    """An uploaded file the form already holds: shown as "đã tải lên: ten-tep.pdf"."""

    id: str
    filename: str
    size: int | None = None
    download_url: str | None = None


@dataclass(frozen=True)
class CurrentFile:
    """An attachment as a file field shows it (``html_id`` is the id of its paragraph)."""

    id: str
    filename: str
    size_text: str
    download_url: str | None
    html_id: str


@dataclass(frozen=True)
class Choice:
    """One option of a radio group or select; ``value`` is the text the browser posts."""

    value: str
    label: str
    id: str
    selected: bool


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary: the message and the id of the control to jump to."""

    message: str
    target: str | None


@dataclass(eq=False)
class FieldView:
    """One field of the form, a leaf input, a group (object) or an array."""

    kind: str
    name: str
    id: str
    path: tuple[str | int, ...]
    label: str
    ui: Mapping[str, str]
    help: str | None = None
    #: "Bắt buộc khi …": set for fields an ``if``/``then`` (or ``dependentRequired``) requires.
    condition: str | None = None
    #: The same for the script: alternatives (or) of tests (and) ``{"name", "values"}``;
    #: ``values`` null means "is filled in".
    conditions: list[list[dict[str, Any]]] = field(default_factory=list)
    #: The HTML ``required`` attribute.
    required: bool = False
    #: The asterisk: required in its own object whatever the data.
    marked: bool = False
    value: str = ""
    checked: bool = False
    choices: list[Choice] = field(default_factory=list)
    placeholder: str | None = None
    #: Other attributes of the input: maxlength, minlength, pattern, title, min, max, step, rows.
    attrs: dict[str, str] = field(default_factory=dict)
    multiple: bool = False
    accept: str | None = None
    files: list[CurrentFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: The number shown after the label of an array row's input (for the script to renumber).
    row_number: int | None = None
    children: list[FieldView] = field(default_factory=list)
    rows: list[RowView] = field(default_factory=list)
    can_add: bool = False
    next_index: int = 0
    max_items: int | None = None

    @property
    def is_group(self) -> bool:
        return self.kind in ("group", "array")

    @property
    def invalid(self) -> bool:
        return bool(self.errors)

    @property
    def help_id(self) -> str:
        return f"{self.id}--help"

    @property
    def condition_id(self) -> str:
        return f"{self.id}--cond"

    @property
    def error_id(self) -> str:
        return f"{self.id}--error"

    @property
    def describedby(self) -> str:
        """The ``aria-describedby`` ids: help, condition hint, current files, errors."""
        ids = []
        if self.help:
            ids.append(self.help_id)
        if self.condition:
            ids.append(self.condition_id)
        ids.extend(f.html_id for f in self.files)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def focus_id(self) -> str:
        """The id a link to this field should point at (the first radio of a group)."""
        if self.kind == "radio" and self.choices:
            return self.choices[0].id
        return self.id

    @property
    def conditions_json(self) -> str:
        return json.dumps(self.conditions, ensure_ascii=False, separators=(",", ":"))

    def walk(self) -> Iterable[FieldView]:
        """This field and every field inside it."""
        yield self
        for child in self.children:
            yield from child.walk()
        for row in self.rows:
            for child in row.fields:
                yield from child.walk()


@dataclass(eq=False)
class RowView:
    """One row of an array: a single input (``group`` false) or the fields of an object."""

    index: int
    name: str
    id: str
    label: str
    number: int
    group: bool
    fields: list[FieldView]
    #: Whether the row holds data (it then offers the "remove this row" checkbox).
    filled: bool

    @property
    def remove_name(self) -> str:
        return f"{self.name}._remove"

    @property
    def remove_id(self) -> str:
        return f"{self.id}--remove"


@dataclass(eq=False)
class FormView:
    """A whole form, ready for ``render_fields(view)``."""

    name: str
    lang: str
    title: str
    description: str | None
    fields: list[FieldView]
    ui: Mapping[str, str]
    id_prefix: str
    #: Errors that belong to no rendered field (the whole form, an unknown key at the root).
    errors: list[str] = field(default_factory=list)
    #: Every error, in order, with the id of its control (``None`` for form-level ones).
    error_summary: list[ErrorLink] = field(default_factory=list)
    has_files: bool = False

    def walk(self) -> Iterable[FieldView]:
        for item in self.fields:
            yield from item.walk()

    def field(self, name: str) -> FieldView | None:
        """The field of that HTML name, if rendered."""
        return next((f for f in self.walk() if f.name == name), None)


def html_name(path: Sequence[str | int]) -> str:
    """``["goods", 1, "hs_code"]`` → ``"goods.1.hs_code"``, the name of the HTML control."""
    return ".".join(str(segment) for segment in path)


# -- walking the schema, knowing what is conditional -----------------------------------------------


@dataclass(frozen=True, eq=False)
class _Node:
    """A subschema, the resolver its ``$ref`` resolve against, and whether it applies only
    sometimes (reached through ``then``/``else``/``anyOf``/``oneOf``/``dependentSchemas``)."""

    schema: Mapping[str, Any]
    resolver: Any
    conditional: bool


def _expand(start: Iterable[_Node]) -> list[_Node]:
    """The nodes plus everything they apply in place, each once, the always-applying ones first."""
    out: list[_Node] = []
    index: dict[int, int] = {}
    queue = deque(start)
    while queue:
        node = queue.popleft()
        schema = node.schema
        if not isinstance(schema, Mapping):
            continue
        known = index.get(id(schema))
        if known is not None:
            if not (out[known].conditional and not node.conditional):
                continue
            out[known] = node  # reached unconditionally after all: upgrade, and what it applies
        else:
            index[id(schema)] = len(out)
            out.append(node)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved = node.resolver.lookup(ref)
            queue.append(_Node(resolved.contents, resolved.resolver, node.conditional))
        for sub in schema.get("allOf") or ():
            queue.append(_Node(sub, node.resolver, node.conditional))
        for keyword in ("anyOf", "oneOf"):
            for sub in schema.get(keyword) or ():
                queue.append(_Node(sub, node.resolver, True))
        for keyword in ("then", "else"):
            if keyword in schema:
                queue.append(_Node(schema[keyword], node.resolver, True))
        for sub in (schema.get("dependentSchemas") or {}).values():
            queue.append(_Node(sub, node.resolver, True))
    return sorted(out, key=lambda n: n.conditional)


def _root_nodes(form: Form) -> list[_Node]:
    schema, resolver = form._root[0]
    return _expand([_Node(schema, resolver, False)])


def _child(nodes: Sequence[_Node], key: str) -> list[_Node]:
    found: list[_Node] = []
    for node in nodes:
        properties = node.schema.get("properties") or {}
        if key in properties:
            found.append(_Node(properties[key], node.resolver, node.conditional))
        elif isinstance(node.schema.get("additionalProperties"), Mapping) and not node.schema.get(
            "patternProperties"
        ):
            found.append(_Node(node.schema["additionalProperties"], node.resolver, node.conditional))
    return _expand(found)


def _items(nodes: Sequence[_Node]) -> list[_Node]:
    return _expand(
        _Node(n.schema["items"], n.resolver, n.conditional)
        for n in nodes
        if isinstance(n.schema.get("items"), Mapping)
    )


def _property_names(nodes: Sequence[_Node]) -> list[str]:
    names: dict[str, None] = {}
    for node in nodes:
        for name in node.schema.get("properties") or {}:
            names[name] = None
    return list(names)


def _first(nodes: Sequence[_Node], keyword: str, default: Any = None) -> Any:
    for node in nodes:
        if keyword in node.schema:
            return node.schema[keyword]
    return default


def _base(nodes: Sequence[_Node]) -> list[_Node]:
    """The nodes that always apply (all of them for a field only a branch describes)."""
    return [n for n in nodes if not n.conditional] or list(nodes)


def _type(nodes: Sequence[_Node]) -> str | None:
    declared = _first(_base(nodes), "type") or _first(nodes, "type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if any("properties" in n.schema for n in nodes):
        return "object"
    if any("items" in n.schema for n in nodes):
        return "array"
    return None


def _is_attachment(nodes: Sequence[_Node]) -> bool:
    return any(n.schema.get("format") == ATTACHMENT_FORMAT for n in nodes)


def _is_file_array(nodes: Sequence[_Node]) -> bool:
    item_nodes = _items(nodes)
    return _type(nodes) == "array" and bool(item_nodes) and _is_attachment(item_nodes)


def _required_names(nodes: Sequence[_Node], *, sometimes: bool = False) -> set[str]:
    """The property names the object requires always (or, ``sometimes``, in any case at all)."""
    names: set[str] = set()
    for node in nodes:
        if sometimes or not node.conditional:
            names.update(n for n in node.schema.get("required") or () if isinstance(n, str))
    return names


def _title(nodes: Sequence[_Node], lang: str) -> str | None:
    if lang == "en":
        return _first(nodes, "x-title-en") or _first(nodes, "title")
    return _first(nodes, "title")


def _enum_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _enum_label(nodes: Sequence[_Node], value: Any, lang: str) -> str:
    text = _enum_text(value)
    labels = _first(nodes, "x-enum-labels") or {}
    entry = labels.get(text) if isinstance(labels, Mapping) else None
    if isinstance(entry, Mapping):
        return str(entry.get(lang) or entry.get("vi") or text)
    return text


def _localised(value: Any, lang: str) -> str | None:
    """A UI-schema text: a string (Vietnamese, shown in both languages unless told otherwise) or
    ``{"vi": ..., "en": ...}``."""
    if isinstance(value, Mapping):
        found = value.get(lang) or value.get("vi")
        return str(found) if found else None
    return str(value) if value else None


# -- conditions ------------------------------------------------------------------------------------

_Test = dict[str, Any]  # {"name": html name, "values": [texts] | None, "text": shown}


def _parse_if(
    if_schema: Any, nodes: Sequence[_Node], prefix: tuple[str | int, ...], lang: str
) -> list[_Test] | None:
    """The tests of a simple ``if``: properties of this object with a ``const`` or an ``enum``."""
    if not isinstance(if_schema, Mapping):
        return None
    if set(if_schema) - {"required", "properties", "type", "$comment"}:
        return None
    properties = if_schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return None
    tests: list[_Test] = []
    for key, sub in properties.items():
        if not isinstance(sub, Mapping):
            return None
        if "const" in sub:
            values = [sub["const"]]
        elif isinstance(sub.get("enum"), list):
            values = list(sub["enum"])
        else:
            return None
        controller = _child(nodes, key)
        title = _title(controller, lang) or key
        labels = f" {UI_TEXT[lang]['or']} ".join(_enum_label(controller, v, lang) for v in values)
        tests.append(
            {
                "name": html_name([*prefix, key]),
                "values": [_enum_text(v) for v in values],
                "text": f"{title} = {labels}",
            }
        )
    return tests


def _then_required(
    then: Any, resolver: Any, rel: tuple[str, ...] = (), depth: int = 0
) -> list[tuple[str, ...]]:
    """The (relative) paths a ``then`` makes required, through nested ``properties``/``allOf``."""
    if not isinstance(then, Mapping) or depth > 16:
        return []
    found = [(*rel, name) for name in then.get("required") or () if isinstance(name, str)]
    for key, sub in (then.get("properties") or {}).items():
        found.extend(_then_required(sub, resolver, (*rel, key), depth + 1))
    for sub in then.get("allOf") or ():
        found.extend(_then_required(sub, resolver, rel, depth + 1))
    return found


def _conditions_here(
    nodes: Sequence[_Node], prefix: tuple[str | int, ...], lang: str
) -> dict[tuple[str, ...], list[list[_Test]]]:
    """For the object the nodes describe: relative field path → the alternatives that require it."""
    found: dict[tuple[str, ...], list[list[_Test]]] = {}
    for node in nodes:
        schema = node.schema
        if "if" in schema and "then" in schema:
            tests = _parse_if(schema["if"], nodes, prefix, lang)
            if tests is not None:
                for rel in _then_required(schema["then"], node.resolver):
                    found.setdefault(rel, []).append(tests)
        for present, needed in (schema.get("dependentRequired") or {}).items():
            title = _title(_child(nodes, present), lang) or present
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


def _condition_text(alternatives: list[list[_Test]], lang: str) -> str:
    ui = UI_TEXT[lang]
    parts = [f" {ui['and']} ".join(t["text"] for t in tests) for tests in alternatives]
    return f"{ui['required_when']} " + f"; {ui['or']} ".join(dict.fromkeys(parts))


# -- HTML attributes -------------------------------------------------------------------------------

_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")
# Inside a character class, the v-flag mode browsers compile `pattern` with wants these escaped.
_CLASS_SYNTAX = frozenset("()[]{}/|")


def _html_pattern(pattern: str) -> str | None:
    """A JSON Schema (search) pattern as an HTML ``pattern`` (whole value, v-flag mode), or None
    when that would be unsafe or pointless."""
    if pattern in (r"\S", r"[^\s]"):  # "not blank": `required` says it, the server checks it
        return None
    anchored_start = pattern.startswith("^")
    anchored_end = pattern.endswith("$") and not pattern.endswith("\\$")
    body = pattern[1 if anchored_start else 0 : -1 if anchored_end else None]
    if "(?<" in body or re.search(r"\\[1-9k]", body):
        return None
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            out.append(body[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
                out.append(char)
            elif char in _CLASS_SYNTAX or (
                char == "-" and (body[i - 1] == "[" or body[i + 1 : i + 2] == "]")
            ):
                out.append("\\" + char)
            else:
                out.append(char)
        else:
            if char == "[":
                in_class = True
                out.append(char)
                if body[i + 1 : i + 2] == "^":
                    out.append("^")
                    i += 1
                i += 1
                continue
            out.append(char)
        i += 1
    converted = "".join(out)
    if not anchored_start:
        converted = "[\\s\\S]*" + converted
    if not anchored_end:
        converted += "[\\s\\S]*"
    try:
        re.compile(converted)
    except re.error:
        return None
    return converted


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _size_text(size: int | None, lang: str) -> str:
    if size is None or size < 0:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    text = f"{size / 1024 / 1024:.1f} MB"
    return text.replace(".", ",") if lang == "vi" else text


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    lowered = url.strip().lower()
    if lowered.startswith(("/", "https://", "http://")) and not lowered.startswith("//"):
        return url
    return None


# -- building --------------------------------------------------------------------------------------


class _Builder:
    def __init__(
        self,
        form: Form,
        lang: str,
        extra_rows: Mapping[str, int],
        attachments: Mapping[str, AttachmentInfo],
    ):
        self.form = form
        self.lang = lang
        self.ui = UI_TEXT[lang]
        self.extra_rows = extra_rows
        self.attachments = attachments
        self.ids: set[str] = set()
        self.has_files = False

    def unique_id(self, wanted: str) -> str:
        candidate = wanted
        n = 2
        while candidate in self.ids:
            candidate = f"{wanted}_{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def object_fields(
        self,
        nodes: list[_Node],
        ui: Mapping[str, Any],
        path: tuple[str | int, ...],
        id_base: str,
        values: Any,
        inherited: Mapping[tuple[str, ...], list[list[_Test]]],
        chain_required: bool,
    ) -> list[FieldView]:
        values = values if isinstance(values, Mapping) else {}
        conditions: dict[tuple[str, ...], list[list[_Test]]] = {k: list(v) for k, v in inherited.items()}
        for rel, alternatives in _conditions_here(nodes, path, self.lang).items():
            conditions.setdefault(rel, []).extend(alternatives)
        always = _required_names(nodes)
        sometimes = _required_names(nodes, sometimes=True)
        out = []
        for key in _ordered(_property_names(nodes), ui.get("ui:order")):
            sub_ui = ui.get(key) if isinstance(ui.get(key), Mapping) else {}
            own = conditions.get((key,), [])
            deeper = {rel[1:]: alts for rel, alts in conditions.items() if len(rel) > 1 and rel[0] == key}
            condition = None
            if key not in always:
                if own:
                    condition = _condition_text(own, self.lang)
                elif key in sometimes:
                    condition = self.ui["required_sometimes"]
            out.append(
                self.field(
                    _child(nodes, key),
                    sub_ui,
                    (*path, key),
                    f"{id_base}-{_SAFE_ID.sub('_', key)}",
                    values.get(key),
                    marked=key in always,
                    chain_required=chain_required and key in always,
                    condition=condition,
                    conditions=[[{"name": t["name"], "values": t["values"]} for t in alt] for alt in own]
                    if condition and own
                    else [],
                    inherited=deeper,
                )
            )
        return out

    def field(
        self,
        nodes: list[_Node],
        ui: Mapping[str, Any],
        path: tuple[str | int, ...],
        wanted_id: str,
        value: Any,
        *,
        marked: bool,
        chain_required: bool,
        condition: str | None = None,
        conditions: list[list[dict[str, Any]]] | None = None,
        inherited: Mapping[tuple[str, ...], list[list[_Test]]] | None = None,
        label: str | None = None,
        row_number: int | None = None,
    ) -> FieldView:
        base = _base(nodes)
        kind_type = _type(nodes)
        view = FieldView(
            kind="text",
            name=html_name(path),
            id=self.unique_id(wanted_id),
            path=path,
            label=label or _title(nodes, self.lang) or str(path[-1]),
            ui=self.ui,
            help=self.help(nodes, ui, condition),
            condition=condition,
            conditions=conditions or [],
            marked=marked,
            row_number=row_number,
        )
        widget = ui.get("ui:widget")
        if _is_attachment(nodes) or _is_file_array(nodes):
            self.file(view, nodes, value, chain_required)
        elif kind_type == "object":
            view.kind = "group"
            view.children = self.object_fields(
                nodes, ui, path, view.id, value, inherited or {}, chain_required
            )
        elif kind_type == "array":
            self.array(view, nodes, ui, value)
        else:
            self.leaf(view, nodes, base, ui, widget, kind_type, value, chain_required)
        return view

    def help(self, nodes: Sequence[_Node], ui: Mapping[str, Any], condition: str | None) -> str | None:
        text = self._help(nodes, ui)
        if text and condition and text.casefold().startswith(self.ui["required_when"].casefold()):
            return None  # "Bắt buộc khi ..." written by hand: the condition hint says it already
        return text

    def _help(self, nodes: Sequence[_Node], ui: Mapping[str, Any]) -> str | None:
        if self.lang == "en":
            own = ui.get("ui:help-en") or (
                ui.get("ui:help") if isinstance(ui.get("ui:help"), Mapping) else None
            )
            return _localised(own, "en") or _first(nodes, "x-description-en")
        return _localised(ui.get("ui:help"), "vi") or _first(nodes, "description")

    def leaf(
        self,
        view: FieldView,
        nodes: list[_Node],
        base: list[_Node],
        ui: Mapping[str, Any],
        widget: Any,
        kind_type: str | None,
        value: Any,
        chain_required: bool,
    ) -> None:
        enum = _first(base, "enum") or _first(nodes, "enum")
        fmt = _first(base, "format") or _first(nodes, "format")
        placeholder = ui.get("ui:placeholder")
        if self.lang == "en" and isinstance(placeholder, str) and not placeholder.isascii():
            placeholder = None  # Vietnamese prose; a sample value (digits, e-mail, code) stays
        view.placeholder = _localised(placeholder, self.lang)
        view.required = chain_required
        if widget == "hidden":
            view.kind = "hidden"
            view.required = False
        elif isinstance(enum, list) and enum:
            count = len(enum) + (0 if chain_required else 1)
            view.kind = "radio" if widget == "radio" or (widget != "select" and count <= 4) else "select"
            current = None if value is None else _enum_text(value)
            view.value = current or ""
            view.choices = [
                Choice(
                    value=_enum_text(option),
                    label=_enum_label(nodes, option, self.lang),
                    id=f"{view.id}-{n}",
                    selected=current == _enum_text(option),
                )
                for n, option in enumerate(enum)
            ]
            if view.kind == "radio" and not chain_required:
                view.choices.append(
                    Choice(
                        value="",
                        label=self.ui["no_choice"],
                        id=f"{view.id}-{len(enum)}",
                        selected=current is None,
                    )
                )
            for choice in view.choices:
                self.ids.add(choice.id)
            return
        elif kind_type == "boolean":
            view.kind = "checkbox"
            view.required = False
            # A required boolean is satisfied unticked (it posts false): the asterisk, which tells
            # the user to tick it, is for a box that must be ticked (const/enum true) only.
            must_tick = _first(nodes, "const") is True or _first(nodes, "enum") == [True]
            view.marked = view.marked and must_tick
            view.checked = value is True
            view.value = "true"
            return
        elif kind_type in ("integer", "number"):
            view.kind = kind_type
            self.number_attrs(view, base, kind_type)
        elif widget == "textarea":
            view.kind = "textarea"
            view.attrs["rows"] = "4"
        elif fmt == "date":
            view.kind = "date"
        elif fmt == "email":
            view.kind = "email"
        else:
            view.kind = "text"
        if value is not None:
            view.value = value if isinstance(value, str) else _number_text(value)
        if view.kind in ("text", "textarea", "email"):
            self.string_attrs(view, base)

    def string_attrs(self, view: FieldView, base: Sequence[_Node]) -> None:
        max_lengths = [n.schema["maxLength"] for n in base if isinstance(n.schema.get("maxLength"), int)]
        if max_lengths:
            view.attrs["maxlength"] = str(min(max_lengths))
        min_lengths = [n.schema["minLength"] for n in base if isinstance(n.schema.get("minLength"), int)]
        if min_lengths and max(min_lengths) > 1:
            view.attrs["minlength"] = str(max(min_lengths))
        if view.kind in ("text", "email"):
            for node in base:
                pattern = node.schema.get("pattern")
                converted = _html_pattern(pattern) if isinstance(pattern, str) else None
                if converted:
                    view.attrs["pattern"] = converted
                    message = (node.schema.get("x-messages") or {}).get("pattern")
                    if isinstance(message, Mapping):
                        text = _localised(message, self.lang) or ""
                        view.attrs["title"] = text.replace("{title}", view.label)
                    break

    def number_attrs(self, view: FieldView, base: Sequence[_Node], kind_type: str) -> None:
        integer = kind_type == "integer"
        for node in base:
            schema = node.schema
            if "minimum" in schema and "min" not in view.attrs:
                view.attrs["min"] = _number_text(schema["minimum"])
            if "maximum" in schema and "max" not in view.attrs:
                view.attrs["max"] = _number_text(schema["maximum"])
            if integer and isinstance(schema.get("exclusiveMinimum"), int) and "min" not in view.attrs:
                view.attrs["min"] = str(schema["exclusiveMinimum"] + 1)
            if integer and isinstance(schema.get("exclusiveMaximum"), int) and "max" not in view.attrs:
                view.attrs["max"] = str(schema["exclusiveMaximum"] - 1)
            if "multipleOf" in schema and "step" not in view.attrs:
                view.attrs["step"] = _number_text(schema["multipleOf"])
        view.attrs.setdefault("step", "1" if integer else "any")

    def file(self, view: FieldView, nodes: list[_Node], value: Any, chain_required: bool) -> None:
        self.has_files = True
        view.kind = "file"
        multiple = not _is_attachment(nodes)
        file_nodes = _items(nodes) if multiple else nodes
        view.multiple = multiple
        accept = _first(file_nodes, "x-accept") or []
        view.accept = ",".join(str(a) for a in accept) or None
        ids = value if isinstance(value, list) else [value] if value is not None else []
        for n, attachment_id in enumerate(i for i in ids if isinstance(i, str) and i):
            info = self.attachments.get(attachment_id)
            view.files.append(
                CurrentFile(
                    id=attachment_id,
                    filename=info.filename if info else attachment_id,
                    size_text=_size_text(info.size, self.lang) if info else "",
                    download_url=_safe_url(info.download_url) if info else None,
                    html_id=self.unique_id(f"{view.id}--file{n}"),
                )
            )
        view.required = chain_required and not view.files

    def array(self, view: FieldView, nodes: list[_Node], ui: Mapping[str, Any], value: Any) -> None:
        view.kind = "array"
        item_nodes = _items(nodes)
        item_ui = ui.get("items") if isinstance(ui.get("items"), Mapping) else {}
        values = list(value) if isinstance(value, list) else []
        max_items = _first(_base(nodes), "maxItems")
        view.max_items = max_items if isinstance(max_items, int) else None
        extra = self.extra_rows.get(view.name, 0)
        extra = max(0, min(int(extra), MAX_ROWS)) if isinstance(extra, int) else 0
        count = max(len(values) + extra, 1)
        if view.max_items is not None:
            count = max(min(count, view.max_items), len(values))
        count = min(count, max(MAX_ROWS, len(values)))
        item_title = _title(item_nodes, self.lang) or view.label
        is_object = _type(item_nodes) == "object"
        for index in range(count):
            item = values[index] if index < len(values) else None
            row_id = self.unique_id(f"{view.id}-{index}")
            row_path = (*view.path, index)
            if is_object:
                children = self.object_fields(item_nodes, item_ui, row_path, row_id, item, {}, False)
            else:
                self.ids.discard(row_id)  # the row's single input takes the row's id
                children = [
                    self.field(
                        item_nodes,
                        item_ui,
                        row_path,
                        row_id,
                        item,
                        marked=False,
                        chain_required=False,
                        label=item_title,
                        row_number=index + 1,
                    )
                ]
            view.rows.append(
                RowView(
                    index=index,
                    name=html_name(row_path),
                    id=row_id,
                    label=item_title,
                    number=index + 1,
                    group=is_object,
                    fields=children,
                    filled=index < len(values),
                )
            )
        view.next_index = count
        view.can_add = view.max_items is None or count < view.max_items


def _ordered(names: list[str], order: Any) -> list[str]:
    """Field names by ``ui:order`` (``"*"`` stands for the rest in schema order; names the order
    leaves out without a ``"*"`` come last)."""
    if not isinstance(order, list):
        return names
    listed = [n for n in order if n != "*" and n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    out: list[str] = []
    for entry in order:
        if entry == "*":
            out.extend(rest)
        elif entry in names:
            out.append(entry)
    return out


def build_view(
    form: Form,
    data: Mapping[str, Any] | None,
    errors: Sequence[FieldError] = (),
    lang: Lang | str = "vi",
    extra_rows: Mapping[str, int] | None = None,
    attachments: Mapping[str, AttachmentInfo] | None = None,
    *,
    id_prefix: str = "f",
) -> FormView:
    """The view of ``form`` filled with ``data``, showing ``errors`` in ``lang`` (``"vi"``/``"en"``).

    ``extra_rows`` maps an array's HTML name to the number of empty rows to add below its values
    (from :func:`forms.html_input.parse_submission`); ``attachments`` maps an attachment id found
    in ``data`` to what the page shows of it. ``id_prefix`` keeps ids apart when one page holds two
    forms.
    """
    lang = "en" if lang == "en" else "vi"
    prefix = _SAFE_ID.sub("_", id_prefix) or "f"
    builder = _Builder(form, lang, extra_rows or {}, attachments or {})
    builder.ids.add(prefix)
    fields = builder.object_fields(_root_nodes(form), form.ui_schema, (), prefix, data or {}, {}, True)
    view = FormView(
        name=form.name,
        lang=lang,
        title=form.title_en if lang == "en" else form.title_vi,
        description=form.description_en if lang == "en" else form.description_vi,
        fields=fields,
        ui=builder.ui,
        id_prefix=prefix,
        has_files=builder.has_files,
    )
    _place_errors(view, errors, lang)
    return view


def _place_errors(view: FormView, errors: Sequence[FieldError], lang: str) -> None:
    """Each error on its field, or on the nearest rendered object or array above it, or on the
    form; the summary lists them in the order of the page."""
    by_path = {f.path: f for f in view.walk()}
    position = {id(f): n for n, f in enumerate(view.walk())}
    placed: list[tuple[int, int, ErrorLink]] = []
    for number, error in enumerate(errors):
        message = error.message_en if lang == "en" else error.message
        path = tuple(error.path)
        target = None
        while path:
            target = by_path.get(path)
            if target is not None:
                break
            path = path[:-1]
        if target is None:
            if message not in view.errors:
                view.errors.append(message)
            placed.append((-1, number, ErrorLink(message, None)))
        elif message not in target.errors:
            target.errors.append(message)
            placed.append((position[id(target)], number, ErrorLink(message, target.focus_id)))
    view.error_summary = [link for _, _, link in sorted(placed, key=lambda p: (p[0], p[1]))]
