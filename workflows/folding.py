"""Vietnamese text folded for search: lower case, diacritics stripped, đ → d.

"Thép không gỉ" and "thep khong gi" fold to the same text, so either spelling finds the other.
``fold`` works character by character and keeps the length, so a match found in the folded text
sits at the same place in the original (used to highlight results). ``search_key`` is the form a
stored search column and the words typed against it share (the dossier lists).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


def fold(text: str) -> str:
    """The search form of ``text`` (same length as ``text``)."""
    return "".join(_fold_char(ch) for ch in text)


_BLANKS = re.compile(r"\s+")


def search_key(text: str) -> str:
    """``text`` as a "contains" search stores and compares it: composed first (a browser may send
    decomposed letters, "e" + U+0301), folded, any combining mark left over dropped, blanks
    collapsed. "Công ty TNHH Thép Đông Hà" → "cong ty tnhh thep dong ha"."""
    folded = fold(unicodedata.normalize("NFC", text))
    kept = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _BLANKS.sub(" ", kept).strip()


def terms(query: str, limit: int = 8) -> list[str]:
    """The folded words of a query (letters and digits only: safe in FTS5 and tsquery syntax)."""
    seen: list[str] = []
    for word in _WORD.findall(fold(query)):
        if word not in seen:
            seen.append(word)
    return seen[:limit]


def highlight(text: str, words: list[str], width: int = 0) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_match) segments, a match being a word that starts with one of
    ``words``. With ``width``, only a window of about that many characters around the first match."""
    folded = fold(text)
    if not words:
        return (
            [(text[:width] + ("…" if width and len(text) > width else ""), False)]
            if width
            else [(text, False)]
        )
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in words) + r")[^\W_]*")
    spans = [m.span() for m in pattern.finditer(folded)]
    start, end = 0, len(text)
    if width and len(text) > width:
        first = spans[0][0] if spans else 0
        start = max(0, first - width // 3)
        end = min(len(text), start + width)
    segments: list[tuple[str, bool]] = []
    if start > 0:
        segments.append(("…", False))
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > cursor:
            segments.append((text[cursor:s], False))
        segments.append((text[s:e], True))
        cursor = e
    if cursor < end:
        segments.append((text[cursor:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments
