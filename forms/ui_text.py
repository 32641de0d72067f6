"""The words a form page shows besides the schema's own: the form chrome per language
(:data:`UI_TEXT`), texts of the UI schema, enumeration codes and their labels, numbers and sizes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from . import _walk

__all__ = ["UI_TEXT", "Lang", "enum_label", "enum_text", "localised", "number_text", "size_text"]

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


def localised(value: Any, lang: str) -> str | None:
    """A UI-schema text: a string (Vietnamese, shown in both languages unless told otherwise) or
    ``{"vi": ..., "en": ...}``."""
    if isinstance(value, Mapping):
        found = value.get(lang) or value.get("vi")
        return str(found) if found else None
    return str(value) if value else None


def enum_text(value: Any) -> str:
    """An enumeration value as the browser posts it: a string as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def enum_label(nodes: Sequence[_walk.Node], value: Any, lang: str) -> str:
    """The label ``x-enum-labels`` gives an enumeration value, else the value itself."""
    text = enum_text(value)
    labels = _walk.first(nodes, "x-enum-labels") or {}
    entry = labels.get(text) if isinstance(labels, Mapping) else None
    if isinstance(entry, Mapping):
        return str(entry.get(lang) or entry.get("vi") or text)
    return text


def number_text(value: Any) -> str:
    """A number as an input's value or attribute: ``3.0`` → ``3``."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def size_text(size: int | None, lang: str) -> str:
    """A file size for people: ``512 B``, ``12 KB``, ``1,5 MB`` (``1.5 MB`` in English)."""
    if size is None or size < 0:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    text = f"{size / 1024 / 1024:.1f} MB"
    return text.replace(".", ",") if lang == "vi" else text
