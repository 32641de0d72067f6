"""What counts as text at the boundary: every text input is NFC-normalised and refused when it
carries what no person types and what breaks storage or display.

* a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON but no text: it cannot be encoded to be
  stored);
* NUL and the other C0 controls, DEL and the C1 controls (PostgreSQL refuses NUL; the others hide
  in logs, documents and e-mails), except a tab and line breaks in text that may span lines;
* the bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069), which
  make text read differently from what it is ("hoa-don\\u202efdp.exe").

Vietnamese typed with a "Unicode tổ hợp" keyboard arrives decomposed (NFD); NFC makes the same
word the same string for search, comparison and documents.

A name made only of invisible characters (zero-width space, joiners, BOM, blank Hangul fillers)
is blank: :func:`is_blank` says so, and whoever requires the name reports it as missing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

LINE_BREAKS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that show nothing, besides the format (Cf) and separator (Z*) categories.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")


@dataclass(frozen=True)
class TextProblem:
    """Why a text is refused, in Vietnamese and English; ``code`` for the client."""

    message: str
    message_en: str
    code: str = "invalid_text"


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def text_problem(value: str, *, multiline: bool = True) -> TextProblem | None:
    """The first reason ``value`` is not acceptable text, or None. A tab and line breaks are
    text only when ``multiline``."""
    for char in value:
        point = ord(char)
        if 0xD800 <= point <= 0xDFFF:
            return TextProblem(
                "Văn bản có ký tự không hợp lệ (nửa cặp thay thế UTF-16).",
                "The text contains an invalid character (a lone UTF-16 surrogate).",
            )
        if char in LINE_BREAKS:
            if multiline:
                continue
            return TextProblem(
                "Trường này chỉ có một dòng: không được xuống dòng hay có ký tự tab.",
                "This field is a single line: no line breaks or tabs.",
                "single_line",
            )
        if point < 0x20 or 0x7F <= point <= 0x9F:
            return TextProblem(
                f"Văn bản có ký tự điều khiển không được phép ({_code_point(char)}).",
                f"The text contains a control character that is not allowed ({_code_point(char)}).",
            )
        if char in BIDI_CONTROLS:
            return TextProblem(
                f"Văn bản có ký tự đảo chiều hiển thị không được phép ({_code_point(char)}).",
                f"The text contains a bidirectional control character that is not allowed ({_code_point(char)}).",
            )
    return None


def normalise(value: str) -> str:
    """NFC, the composed form (call after :func:`text_problem` found nothing)."""
    return unicodedata.normalize("NFC", value)


def is_invisible(char: str) -> bool:
    return (
        unicodedata.category(char) in ("Cf", "Cc", "Zs", "Zl", "Zp")
        or char in _BLANK_LOOKING
        or char.isspace()
        or 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
    )


def visible(value: str) -> str:
    """``value`` without the characters that show nothing."""
    return "".join(char for char in value if not is_invisible(char))


def is_blank(value: str) -> bool:
    """True when nothing of ``value`` would show: empty, spaces, zero-width characters."""
    return not visible(value)
