"""A .docx's run and paragraph properties (:mod:`workflows.documents.ooxml`): the ``RunStyle``,
``ParaStyle`` and ``Border`` types, and the ``w:rPr``, ``w:pPr``, border and margin elements read
into them, with the properties outside the subset noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from workflows.documents.ooxml_elements import w_attr, w_number, w_on, w_tag

# --------------------------------------------------------------------------- properties

TWIP = 1 / 20  # points
DEFAULT_TAB = 36.0  # points (720 twips, Word's default)


@dataclass(frozen=True)
class RunStyle:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    caps: bool = False
    hidden: bool = False
    size: float = 10.0  # points
    color: tuple[int, int, int] = (0, 0, 0)
    strike: bool = False
    vert: str = "baseline"  # superscript, subscript

    @property
    def face(self) -> str:
        return ("B" if self.bold else "") + ("I" if self.italic else "")

    @property
    def drawn_size(self) -> float:
        """The size the glyphs are drawn at: superscripts and subscripts are smaller."""
        return self.size * 0.65 if self.vert in ("superscript", "subscript") else self.size

    @property
    def rise(self) -> float:
        """How far above the baseline the glyphs sit (negative: below)."""
        return {"superscript": 0.35, "subscript": -0.14}.get(self.vert, 0.0) * self.size


@dataclass(frozen=True)
class Border:
    width: float  # points
    space: float  # points
    color: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class ParaStyle:
    align: str = "left"
    left: float = 0.0
    right: float = 0.0
    first_line: float = 0.0  # negative: hanging
    before: float = 0.0
    after: float = 0.0
    line: float = 240.0
    line_rule: str = "auto"
    keep_next: bool = False
    keep_lines: bool = False
    widow_control: bool = False
    page_break_before: bool = False
    border_top: Border | None = None
    border_bottom: Border | None = None
    expand_shift_return: bool = True  # settings: no w:doNotExpandShiftReturn
    tabs: tuple[tuple[float, str, str], ...] = ()  # custom stops: (position, kind, leader), sorted
    style_id: str | None = None
    contextual: bool = False  # w:contextualSpacing: no space between paragraphs of the same style


JUSTIFICATION = {
    "both": "justify",
    "distribute": "justify",
    "center": "center",
    "right": "right",
    "end": "right",
}


def parse_color(value: str | None) -> tuple[int, int, int] | None:
    if not value or value == "auto" or not re.fullmatch(r"[0-9A-Fa-f]{6}", value):
        return None
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _border(el: etree._Element | None) -> Border | bool | None:
    """A border element: a Border, None for none/nil, False when the element is absent."""
    if el is None:
        return False
    if w_attr(el, "val", "none") in ("none", "nil"):
        return None
    return Border(
        max(w_number(el, "sz", 4) / 8, 0.25),
        w_number(el, "space"),
        parse_color(w_attr(el, "color")) or (0, 0, 0),
    )


def apply_rpr(props: dict, rpr: etree._Element | None) -> dict:
    if rpr is None:
        return props
    props = dict(props)
    for name, key in (("b", "bold"), ("i", "italic"), ("caps", "caps"), ("vanish", "hidden")):
        value = w_on(rpr.find(w_tag(name)))
        if value is not None:
            props[key] = value
    u = rpr.find(w_tag("u"))
    if u is not None:
        props["underline"] = w_attr(u, "val", "single") != "none"
    sz = rpr.find(w_tag("sz"))
    if sz is not None and w_attr(sz, "val"):
        props["size"] = w_number(sz, "val", 20) / 2
    color = rpr.find(w_tag("color"))
    if color is not None:
        props["color"] = parse_color(w_attr(color, "val")) or (0, 0, 0)
    strikes = [w_on(rpr.find(w_tag(name))) for name in ("strike", "dstrike")]
    if any(value is not None for value in strikes):
        props["strike"] = any(strikes)
    vert = rpr.find(w_tag("vertAlign"))
    if vert is not None:
        props["vert"] = w_attr(vert, "val", "baseline") or "baseline"
    return props


# Properties outside the subset that change how text looks (w:kern, w:lang, w:rFonts… do not here).
_UNSUPPORTED_RUN = ("highlight", "smallCaps", "shd", "position", "spacing", "w", "em", "outline",
                    "shadow", "emboss", "imprint", "bdr", "fitText", "eastAsianLayout")  # fmt: skip
_UNSUPPORTED_PARAGRAPH = ("shd", "framePr", "textDirection", "bidi")


def unsupported_properties(ppr: etree._Element | None, rpr: etree._Element | None) -> list[str]:
    """The paragraph (``ppr``) and run (``rpr``) properties set here that the renderer ignores."""
    found = []
    if ppr is not None:
        found += [
            f"paragraph property w:{name}"
            for name in _UNSUPPORTED_PARAGRAPH
            if ppr.find(w_tag(name)) is not None
        ]
        borders = ppr.find(w_tag("pBdr"))
        if borders is not None:
            for edge in ("left", "right", "between", "bar"):
                if _border(borders.find(w_tag(edge))) not in (None, False):
                    found.append(f"paragraph border w:{edge}")
    if rpr is not None:
        for name in _UNSUPPORTED_RUN:
            el = rpr.find(w_tag(name))
            if (
                el is not None
                and w_on(el) is not False
                and not (name == "shd" and w_attr(el, "fill") in (None, "auto", "FFFFFF"))
            ):
                found.append(f"run property w:{name}")
    return found


def apply_ppr(props: dict, ppr: etree._Element | None) -> dict:
    if ppr is None:
        return props
    props = dict(props)
    jc = ppr.find(w_tag("jc"))
    if jc is not None:
        props["align"] = JUSTIFICATION.get(w_attr(jc, "val", "left") or "left", "left")
    ind = ppr.find(w_tag("ind"))
    if ind is not None:
        for names, key in ((("left", "start"), "left"), (("right", "end"), "right")):
            for name in names:
                if w_attr(ind, name) is not None:
                    props[key] = w_number(ind, name) * TWIP
        if w_attr(ind, "hanging") is not None:
            props["first_line"] = -w_number(ind, "hanging") * TWIP
        elif w_attr(ind, "firstLine") is not None:
            props["first_line"] = w_number(ind, "firstLine") * TWIP
    spacing = ppr.find(w_tag("spacing"))
    if spacing is not None:
        for name in ("before", "after"):
            if w_attr(spacing, name) is not None:
                props[name] = w_number(spacing, name) * TWIP
        if w_attr(spacing, "line") is not None:
            props["line"] = w_number(spacing, "line", 240)
            props["line_rule"] = w_attr(spacing, "lineRule", "auto")
    for name, key in (
        ("keepNext", "keep_next"),
        ("keepLines", "keep_lines"),
        ("widowControl", "widow_control"),
        ("pageBreakBefore", "page_break_before"),
        ("contextualSpacing", "contextual"),
    ):
        value = w_on(ppr.find(w_tag(name)))
        if value is not None:
            props[key] = value
    tabs = ppr.find(w_tag("tabs"))
    if tabs is not None:
        stops = {position: (kind, leader) for position, kind, leader in props.get("tabs", ())}
        for tab in tabs.iterfind(w_tag("tab")):
            position = w_number(tab, "pos") * TWIP
            kind = w_attr(tab, "val", "left") or "left"
            if kind == "clear":
                stops.pop(position, None)
            else:
                stops[position] = (
                    {"end": "right", "start": "left"}.get(kind, kind),
                    w_attr(tab, "leader", "none"),
                )
        props["tabs"] = tuple(sorted((position, *stop) for position, stop in stops.items()))
    borders = ppr.find(w_tag("pBdr"))
    if borders is not None:
        for edge in ("top", "bottom"):
            border = _border(borders.find(w_tag(edge)))
            if border is not False:
                props[f"border_{edge}"] = border
    return props


def read_margins(source: etree._Element | None, margins: dict) -> None:
    if source is None:
        return
    for name, aliases in (("top", ()), ("bottom", ()), ("left", ("start",)), ("right", ("end",))):
        for tag in (name, *aliases):
            el = source.find(w_tag(tag))
            if el is not None and w_attr(el, "type", "dxa") == "dxa":
                margins[name] = w_number(el, "w") * TWIP


def read_borders(source: etree._Element | None, borders: dict) -> None:
    if source is None:
        return
    for edge, aliases in (
        ("top", ()),
        ("bottom", ()),
        ("left", ("start",)),
        ("right", ("end",)),
        ("insideH", ()),
        ("insideV", ()),
    ):
        for tag in (edge, *aliases):
            border = _border(source.find(w_tag(tag)))
            if border is not False:
                borders[edge] = border
