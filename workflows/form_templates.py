"""A blank form to download (.docx), made from the form's JSON Schema: what a business reads or
fills by hand before filing online, with the same fields, titles and choices as the online form
(DESIGN rule 7: one schema), so it never drifts from what the form asks."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH

from forms.registry import Form

BLANK = "." * 60
# Repeating groups (the goods lines) print as a table with this many empty rows.
EMPTY_ROWS = 3
MAX_DEPTH = 8


def _schemas(form: Form, path: Sequence[str | int]) -> list[Mapping[str, Any]]:
    return form.field_schemas(path)


def _has(schemas: list[Mapping[str, Any]], key: str, value: Any = None) -> bool:
    return any((s.get(key) == value) if value is not None else (key in s) for s in schemas)


def _is_attachment(schemas: list[Mapping[str, Any]]) -> bool:
    return _has(schemas, "format", "attachment") or any(
        isinstance(s.get("items"), dict) and s["items"].get("format") == "attachment" for s in schemas
    )


def _choices(schemas: list[Mapping[str, Any]], lang: str) -> list[str]:
    for schema in schemas:
        values = schema.get("enum") or (schema.get("items") or {}).get("enum")
        if isinstance(values, list) and values:
            labels = schema.get("x-enum-labels") or (schema.get("items") or {}).get("x-enum-labels") or {}
            return [
                str((labels.get(v) or {}).get(lang, v)) if isinstance(labels, dict) else str(v)
                for v in values
            ]
    return []


def form_template(form: Form, lang: str = "vi", heading: str = "") -> bytes:
    """The blank form as a .docx: ``heading`` (the procedure's name) over the form's title, each
    field a labelled dotted line, choices as boxes to tick, repeating groups as a table, the files
    to attach as a checklist."""
    document = Document()
    if heading:
        document.add_paragraph(heading).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(form.field_title((), lang), level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
    attachments: list[str] = []
    _fields(document, form, (), lang, attachments, 0)
    if attachments:
        document.add_heading("Tài liệu kèm theo" if lang == "vi" else "Documents attached", level=2)
        for title in attachments:
            document.add_paragraph(f"☐ {title}")
    place = "…………, ngày …… tháng …… năm ……" if lang == "vi" else "…………, date ……/……/……"
    document.add_paragraph(place).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    signer = (
        "ĐẠI DIỆN TỔ CHỨC, CÁ NHÂN\n(Ký tên, ghi rõ họ tên, chức vụ và đóng dấu)"
        if lang == "vi"
        else "FOR THE ORGANISATION\n(Signature, full name, position and seal)"
    )
    document.add_paragraph(signer).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _fields(
    document: DocxDocument,
    form: Form,
    path: tuple[str | int, ...],
    lang: str,
    attachments: list[str],
    depth: int,
) -> None:
    if depth > MAX_DEPTH:  # a recursive schema: stop somewhere
        return
    for name in form.field_names(path):
        here = (*path, name)
        schemas = _schemas(form, here)
        title = form.field_title(here, lang)
        if _is_attachment(schemas):
            attachments.append(title)
        elif _has(schemas, "type", "array") and form.field_names((*here, 0)):
            columns = [form.field_title((*here, 0, n), lang) for n in form.field_names((*here, 0))]
            document.add_paragraph(title).runs[0].bold = True
            table = document.add_table(rows=1 + EMPTY_ROWS, cols=len(columns) + 1)
            table.style = "Table Grid"
            for index, label in enumerate(["TT" if lang == "vi" else "No.", *columns]):
                table.rows[0].cells[index].text = label
            for row in range(1, EMPTY_ROWS + 1):
                table.rows[row].cells[0].text = str(row)
        elif form.field_names(here) and all(
            _is_attachment(_schemas(form, (*here, n))) for n in form.field_names(here)
        ):
            attachments.extend(form.field_title((*here, n), lang) for n in form.field_names(here))
        elif form.field_names(here):
            document.add_heading(title, level=2 if depth == 0 else 3)
            _fields(document, form, here, lang, attachments, depth + 1)
        elif choices := _choices(schemas, lang):
            document.add_paragraph(f"{title}:")
            for choice in choices:
                document.add_paragraph(f"☐ {choice}")
        elif _has(schemas, "type", "boolean"):
            document.add_paragraph(f"☐ {title}")
        else:
            document.add_paragraph(f"{title}: {BLANK}")
