"""Lists in a .docx (``numbering.xml``, :mod:`workflows.documents.ooxml`): each paragraph's
level, and its number or bullet counted in document order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from workflows.documents.ooxml_elements import w_attr, w_number, w_tag


@dataclass(frozen=True)
class _Level:
    key: str  # the numbering instance (w:numId)
    index: int  # w:ilvl
    start: int
    fmt: str  # w:numFmt
    text: str  # w:lvlText, "%1." …
    suffix: str  # tab, space, nothing
    ppr: etree._Element | None
    rpr: etree._Element | None


_BULLETS = {
    "\uf0b7": "•",
    "\uf0a7": "▪",
    "\uf076": "❖",
    "\uf0d8": "➢",
    "\uf0fc": "✓",
    "\uf06c": "●",
    "\uf06e": "■",
}


def _roman(number: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):  # fmt: skip
        while number >= value:
            out, number = out + letters, number - value
    return out


def _letters(number: int) -> str:
    """1 → a, 26 → z, 27 → aa (Word repeats the letter)."""
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _format_number(number: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(number)
    if fmt == "upperLetter":
        return _letters(number).upper()
    if fmt == "lowerRoman":
        return _roman(number)
    if fmt == "upperRoman":
        return _roman(number).upper()
    if fmt == "decimalZero":
        return f"{number:02d}"
    return str(number)


class Numbering:
    """Lists (numbering.xml): each paragraph's number or bullet, counted in document order."""

    def __init__(self, root: etree._Element | None, note: Callable[[str], None]) -> None:
        self.note = note
        self.counters: dict[str, list[int]] = {}
        self.abstract: dict[str, dict[int, etree._Element]] = {}
        self.nums: dict[str, tuple[str, dict[int, etree._Element], dict[int, int]]] = {}
        if root is None:
            return
        for abstract in root.iterfind(w_tag("abstractNum")):
            levels = {int(w_number(lvl, "ilvl")): lvl for lvl in abstract.iterfind(w_tag("lvl"))}
            self.abstract[w_attr(abstract, "abstractNumId", "") or ""] = levels
        for num in root.iterfind(w_tag("num")):
            abstract_id = w_attr(num.find(w_tag("abstractNumId")), "val", "") or ""
            overrides, starts = {}, {}
            for override in num.iterfind(w_tag("lvlOverride")):
                index = int(w_number(override, "ilvl"))
                if override.find(w_tag("lvl")) is not None:
                    overrides[index] = override.find(w_tag("lvl"))
                if override.find(w_tag("startOverride")) is not None:
                    starts[index] = int(w_number(override.find(w_tag("startOverride")), "val", 1))
            self.nums[w_attr(num, "numId", "") or ""] = (abstract_id, overrides, starts)

    def _level(self, key: str, index: int) -> _Level | None:
        if key not in self.nums:
            return None
        abstract_id, overrides, starts = self.nums[key]
        lvl = overrides.get(index, self.abstract.get(abstract_id, {}).get(index))
        if lvl is None:
            return None
        start = starts.get(index, int(w_number(lvl.find(w_tag("start")), "val", 1)))
        return _Level(
            key,
            index,
            start,
            w_attr(lvl.find(w_tag("numFmt")), "val", "decimal") or "decimal",
            w_attr(lvl.find(w_tag("lvlText")), "val", "") or "",
            w_attr(lvl.find(w_tag("suff")), "val", "tab") or "tab",
            lvl.find(w_tag("pPr")),
            lvl.find(w_tag("rPr")),
        )

    def level_of(self, pprs: list[etree._Element | None]) -> _Level | None:
        """The list level of a paragraph whose style chain and own pPr are ``pprs`` (last wins)."""
        key, index = None, 0
        for ppr in pprs:
            num_pr = ppr.find(w_tag("numPr")) if ppr is not None else None
            if num_pr is None:
                continue
            if num_pr.find(w_tag("numId")) is not None:
                key = w_attr(num_pr.find(w_tag("numId")), "val")
            if num_pr.find(w_tag("ilvl")) is not None:
                index = int(w_number(num_pr.find(w_tag("ilvl")), "val"))
        if key is None or key == "0":
            return None
        level = self._level(key, index)
        if level is None:
            self.note("numbering without its definition (w:numPr)")
        return level

    def label(self, level: _Level) -> str | None:
        """The number or bullet of the next paragraph at ``level`` ("2.", "a)", "•"), counting it."""
        counters = self.counters.setdefault(level.key, [0] * 9)
        index = min(level.index, 8)
        counters[index] = counters[index] + 1 if counters[index] else level.start
        for deeper in range(index + 1, 9):
            counters[deeper] = 0
        if level.fmt == "none":
            return level.text.replace("%", "") if "%" not in level.text else ""
        if level.fmt == "bullet":
            return "".join(_BULLETS.get(char, char) for char in level.text) or "•"
        if level.fmt not in (
            "decimal",
            "lowerLetter",
            "upperLetter",
            "lowerRoman",
            "upperRoman",
            "decimalZero",
        ):
            self.note(f"numbering format {level.fmt}")

        def value(match: re.Match) -> str:
            which = int(match.group(1)) - 1
            other = self._level(level.key, which) if which != index else level
            number = counters[which] or (other.start if other else 1)
            return _format_number(number, other.fmt if other else "decimal")

        return re.sub(r"%([1-9])", value, level.text)
