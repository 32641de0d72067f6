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

The work is shared out: :mod:`forms.form_view` (the view's types), :mod:`forms.view_builder` (the
fields, from the schema walker :mod:`forms._walk`), :mod:`forms.conditions` ("required when"),
:mod:`forms.input_attrs` and :mod:`forms.ecma_regex` (constraints as input attributes),
:mod:`forms.ui_text` (the words) and :mod:`forms.error_placement` (errors on their fields).

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
  would block valid input in the browser);
* an object's fields are its ``properties``, then the keys it requires that only
  ``patternProperties`` (or an ``additionalProperties`` schema) describes; a key's schema is
  everything that describes it (a property that also matches a pattern gets both);
* an array with ``prefixItems`` (a tuple) shows a row for each position, each labelled and built
  from its position's schema; rows past them follow ``items`` (none when ``items`` is false).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _walk
from .error_placement import place_errors
from .field_errors import FieldError
from .form_view import (
    AttachmentInfo,
    Choice,
    CurrentFile,
    ErrorLink,
    FieldView,
    FormView,
    RowView,
    html_name,
    safe_id,
)
from .registry import Form
from .ui_text import UI_TEXT, Lang
from .view_builder import ViewBuilder

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
    prefix = safe_id(id_prefix) or "f"
    builder = ViewBuilder(lang, extra_rows or {}, attachments or {})
    builder.ids.add(prefix)
    root = _walk.always_first(form._root)
    fields = builder.object_fields(root, form.ui_schema, (), prefix, data or {}, {}, True)
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
    place_errors(view, errors, lang)
    return view
