"""The view of a form page: the tree of field views ``templates/form_macros.html`` walks.

:func:`forms.rendering.build_view` makes a :class:`FormView`; everything in it is already decided
and translated, so the macros stay dumb.

HTML names are dotted paths (:func:`html_name`: ``product.name``, ``missing_items.0``,
``goods.1.hs_code``). Ids are ``<id_prefix>-<key>-<key>...`` (keys reduced to ``[A-Za-z0-9_]`` by
:func:`safe_id`, array rows by index); a field's help, hint and error paragraphs are
``<id>--help``, ``<id>--cond`` and ``<id>--error``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AttachmentInfo",
    "Choice",
    "CurrentFile",
    "ErrorLink",
    "FieldView",
    "FormView",
    "RowView",
    "html_name",
    "safe_id",
]

_UNSAFE_ID_CHARACTER = re.compile(r"[^A-Za-z0-9_]")


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


def safe_id(text: str) -> str:
    """``text`` with every character but ``[A-Za-z0-9_]`` turned into ``_``: a piece of an id."""
    return _UNSAFE_ID_CHARACTER.sub("_", text)
