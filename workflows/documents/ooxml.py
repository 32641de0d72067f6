"""A .docx read into the model the PDF copy is laid out from (see :mod:`workflows.documents.pdf_writer`
for the OOXML subset it supports and what it does with the rest).

:func:`read_docx` gives the body's blocks (paragraphs of runs, tables of rows of cells), the section
(page, margins, headers and footers), the core properties, and the features outside the subset
that it met, each named once.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from lxml import etree
from PIL import Image

# --------------------------------------------------------------------------- namespaces

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
}
_W = "{" + _NS["w"] + "}"
_R = "{" + _NS["r"] + "}"
_MATH = ("{" + _NS["m"] + "}oMath", "{" + _NS["m"] + "}oMathPara")
_ALTERNATE = "{" + _NS["mc"] + "}AlternateContent"
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _w(tag: str) -> str:
    return _W + tag


def _attr(el: etree._Element | None, name: str, default: str | None = None) -> str | None:
    if el is None:
        return default
    return el.get(_W + name, default)


def _num(el: etree._Element | None, name: str, default: float = 0.0) -> float:
    value = _attr(el, name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _on(el: etree._Element | None) -> bool | None:
    """An OOXML on/off property: None when absent."""
    if el is None:
        return None
    return _attr(el, "val", "true") not in ("0", "false", "off", "none")


# --------------------------------------------------------------------------- properties

TWIP = 1 / 20  # points
_EMU = 1 / 12700  # points
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


_JC = {"both": "justify", "distribute": "justify", "center": "center", "right": "right", "end": "right"}


def _color(value: str | None) -> tuple[int, int, int] | None:
    if not value or value == "auto" or not re.fullmatch(r"[0-9A-Fa-f]{6}", value):
        return None
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _border(el: etree._Element | None) -> Border | bool | None:
    """A border element: a Border, None for none/nil, False when the element is absent."""
    if el is None:
        return False
    if _attr(el, "val", "none") in ("none", "nil"):
        return None
    return Border(
        max(_num(el, "sz", 4) / 8, 0.25), _num(el, "space"), _color(_attr(el, "color")) or (0, 0, 0)
    )


def _apply_rpr(props: dict, rpr: etree._Element | None) -> dict:
    if rpr is None:
        return props
    props = dict(props)
    for name, key in (("b", "bold"), ("i", "italic"), ("caps", "caps"), ("vanish", "hidden")):
        value = _on(rpr.find(_w(name)))
        if value is not None:
            props[key] = value
    u = rpr.find(_w("u"))
    if u is not None:
        props["underline"] = _attr(u, "val", "single") != "none"
    sz = rpr.find(_w("sz"))
    if sz is not None and _attr(sz, "val"):
        props["size"] = _num(sz, "val", 20) / 2
    color = rpr.find(_w("color"))
    if color is not None:
        props["color"] = _color(_attr(color, "val")) or (0, 0, 0)
    strikes = [_on(rpr.find(_w(name))) for name in ("strike", "dstrike")]
    if any(value is not None for value in strikes):
        props["strike"] = any(strikes)
    vert = rpr.find(_w("vertAlign"))
    if vert is not None:
        props["vert"] = _attr(vert, "val", "baseline") or "baseline"
    return props


# Properties outside the subset that change how text looks (w:kern, w:lang, w:rFonts… do not here).
_UNSUPPORTED_RUN = ("highlight", "smallCaps", "shd", "position", "spacing", "w", "em", "outline",
                    "shadow", "emboss", "imprint", "bdr", "fitText", "eastAsianLayout")  # fmt: skip
_UNSUPPORTED_PARAGRAPH = ("shd", "framePr", "textDirection", "bidi")


def _unsupported_properties(ppr: etree._Element | None, rpr: etree._Element | None) -> list[str]:
    """The paragraph (``ppr``) and run (``rpr``) properties set here that the renderer ignores."""
    found = []
    if ppr is not None:
        found += [
            f"paragraph property w:{name}"
            for name in _UNSUPPORTED_PARAGRAPH
            if ppr.find(_w(name)) is not None
        ]
        borders = ppr.find(_w("pBdr"))
        if borders is not None:
            for edge in ("left", "right", "between", "bar"):
                if _border(borders.find(_w(edge))) not in (None, False):
                    found.append(f"paragraph border w:{edge}")
    if rpr is not None:
        for name in _UNSUPPORTED_RUN:
            el = rpr.find(_w(name))
            if (
                el is not None
                and _on(el) is not False
                and not (name == "shd" and _attr(el, "fill") in (None, "auto", "FFFFFF"))
            ):
                found.append(f"run property w:{name}")
    return found


def _apply_ppr(props: dict, ppr: etree._Element | None) -> dict:
    if ppr is None:
        return props
    props = dict(props)
    jc = ppr.find(_w("jc"))
    if jc is not None:
        props["align"] = _JC.get(_attr(jc, "val", "left") or "left", "left")
    ind = ppr.find(_w("ind"))
    if ind is not None:
        for names, key in ((("left", "start"), "left"), (("right", "end"), "right")):
            for name in names:
                if _attr(ind, name) is not None:
                    props[key] = _num(ind, name) * TWIP
        if _attr(ind, "hanging") is not None:
            props["first_line"] = -_num(ind, "hanging") * TWIP
        elif _attr(ind, "firstLine") is not None:
            props["first_line"] = _num(ind, "firstLine") * TWIP
    spacing = ppr.find(_w("spacing"))
    if spacing is not None:
        for name in ("before", "after"):
            if _attr(spacing, name) is not None:
                props[name] = _num(spacing, name) * TWIP
        if _attr(spacing, "line") is not None:
            props["line"] = _num(spacing, "line", 240)
            props["line_rule"] = _attr(spacing, "lineRule", "auto")
    for name, key in (
        ("keepNext", "keep_next"),
        ("keepLines", "keep_lines"),
        ("widowControl", "widow_control"),
        ("pageBreakBefore", "page_break_before"),
        ("contextualSpacing", "contextual"),
    ):
        value = _on(ppr.find(_w(name)))
        if value is not None:
            props[key] = value
    tabs = ppr.find(_w("tabs"))
    if tabs is not None:
        stops = {position: (kind, leader) for position, kind, leader in props.get("tabs", ())}
        for tab in tabs.iterfind(_w("tab")):
            position = _num(tab, "pos") * TWIP
            kind = _attr(tab, "val", "left") or "left"
            if kind == "clear":
                stops.pop(position, None)
            else:
                stops[position] = (
                    {"end": "right", "start": "left"}.get(kind, kind),
                    _attr(tab, "leader", "none"),
                )
        props["tabs"] = tuple(sorted((position, *stop) for position, stop in stops.items()))
    borders = ppr.find(_w("pBdr"))
    if borders is not None:
        for edge in ("top", "bottom"):
            border = _border(borders.find(_w(edge)))
            if border is not False:
                props[f"border_{edge}"] = border
    return props


# --------------------------------------------------------------------------- the document model


@dataclass
class Text:
    text: str
    style: RunStyle


@dataclass
class Tab:
    style: RunStyle


@dataclass
class LineBreak:
    style: RunStyle


@dataclass
class PageBreak:
    pass


@dataclass
class Field:
    name: str  # PAGE, NUMPAGES
    style: RunStyle


@dataclass
class Picture:
    data: bytes
    width: float
    height: float
    style: RunStyle


Inline = Text | Tab | LineBreak | PageBreak | Field | Picture


@dataclass
class Paragraph:
    style: ParaStyle
    mark: RunStyle  # the paragraph mark: the height of an empty paragraph
    inlines: list[Inline]


@dataclass
class Cell:
    width: float
    span: int
    margins: tuple[float, float, float, float]  # top, left, bottom, right
    borders: dict[str, Border | None]  # only the edges the cell sets
    valign: str
    fill: tuple[int, int, int] | None
    vmerge: str | None  # "restart", "continue" or None
    blocks: list[Block]
    column: int = 0


@dataclass
class Row:
    cells: list[Cell]
    header: bool
    cant_split: bool
    height: float
    exact: bool


@dataclass
class Table:
    widths: list[float]
    align: str
    indent: float
    borders: dict[str, Border | None]
    rows: list[Row]


Block = Paragraph | Table


@dataclass
class Section:
    width: float = 595.3
    height: float = 841.9
    top: float = 72.0
    bottom: float = 72.0
    left: float = 72.0
    right: float = 72.0
    header: float = 36.0
    footer: float = 36.0
    title_page: bool = False
    first_number: int = 1
    headers: dict[str, list[Block]] = field(default_factory=dict)
    footers: dict[str, list[Block]] = field(default_factory=dict)


@dataclass
class Parsed:
    body: list[Block]
    section: Section
    core: dict[str, str]
    features: dict[str, None]  # unsupported features, in order of discovery


# --------------------------------------------------------------------------- reading the package


class _Reader:
    """Reads a .docx package into the model above, noting what is outside the subset."""

    def __init__(self, docx: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(docx))
        except zipfile.BadZipFile as exc:
            raise ValueError("not a .docx (zip) package") from exc
        self.features: dict[str, None] = {}
        self.names = set(self.zip.namelist())
        self.document_name = self._main_part()
        self.styles = self._styles()
        settings = self._xml(str(PurePosixPath(self.document_name).parent / "settings.xml"))
        compat = settings.find(f"{_W}compat/{_W}doNotExpandShiftReturn") if settings is not None else None
        self.expand_shift_return = not _on(compat)
        self.override_table_size_and_alignment = settings is not None and any(
            setting.get(_W + "name") == "overrideTableStyleFontSizeAndJustification"
            and setting.get(_W + "val") in ("1", "true")
            for setting in settings.iterfind(f"{_W}compat/{_W}compatSetting")
        )
        self.table_styles: list[str | None] = []  # the style of each table being read, innermost last
        numbering_part = next(
            (n for n in self._rels(self.document_name).values() if n.endswith("numbering.xml")), None
        )
        self.numbering = _Numbering(self._xml(numbering_part) if numbering_part else None, self.note)

    # -- parts
    def _xml(self, name: str) -> etree._Element | None:
        if name not in self.names:
            return None
        try:
            return etree.fromstring(self.zip.read(name), _XML_PARSER)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error) as exc:
            raise ValueError(f"{name} of the .docx cannot be read: {exc}") from exc

    def _main_part(self) -> str:
        rels = self._xml("_rels/.rels")
        if rels is not None:
            for rel in rels.iterfind("rel:Relationship", _NS):
                if rel.get("Type", "").endswith("/officeDocument"):
                    return rel.get("Target", "").lstrip("/")
        return "word/document.xml"

    def _rels(self, part: str) -> dict[str, str]:
        path = PurePosixPath(part)
        rels = self._xml(str(path.parent / "_rels" / (path.name + ".rels")))
        found: dict[str, str] = {}
        if rels is None:
            return found
        for rel in rels.iterfind("rel:Relationship", _NS):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            resolved = target.lstrip("/") if target.startswith("/") else str(path.parent / target)
            parts: list[str] = []
            for piece in resolved.split("/"):
                if piece == "..":
                    if parts:
                        parts.pop()
                elif piece not in ("", "."):
                    parts.append(piece)
            found[rel.get("Id", "")] = "/".join(parts)
        return found

    def note(self, feature: str) -> None:
        self.features.setdefault(feature, None)

    # -- styles
    def _styles(self) -> dict:
        rels = self._rels(self.document_name)
        name = next((n for n in rels.values() if n.endswith("styles.xml")), "word/styles.xml")
        root = self._xml(name)
        styles: dict = {
            "ppr": {},
            "rpr": {},
            "by_id": {},
            "default_para": None,
            "default_table": None,
            "cell_margins": None,
        }
        if root is None:
            return styles
        defaults = root.find(_w("docDefaults"))
        if defaults is not None:
            styles["rpr"] = _apply_rpr({}, defaults.find(f"{_W}rPrDefault/{_W}rPr"))
            styles["ppr"] = _apply_ppr({}, defaults.find(f"{_W}pPrDefault/{_W}pPr"))
        for style in root.iterfind(_w("style")):
            style_id = _attr(style, "styleId")
            based = style.find(_w("basedOn"))
            styles["by_id"][style_id] = {
                "type": _attr(style, "type"),
                "based": _attr(based, "val"),
                "ppr": style.find(_w("pPr")),
                "rpr": style.find(_w("rPr")),
                "tblpr": style.find(_w("tblPr")),
                "conditional": style.find(_w("tblStylePr")) is not None,
            }
            if _attr(style, "default") in ("1", "true", "on"):
                if _attr(style, "type") == "paragraph":
                    styles["default_para"] = style_id
                elif _attr(style, "type") == "table":
                    styles["cell_margins"] = style.find(f"{_W}tblPr/{_W}tblCellMar")
                    styles["default_table"] = style_id
        return styles

    def _chain(self, style_id: str | None) -> list[dict]:
        """A style and those it is based on, base first."""
        chain: list[dict] = []
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.styles["by_id"]:
            seen.add(style_id)
            style = self.styles["by_id"][style_id]
            chain.insert(0, style)
            style_id = style["based"]
        return chain

    @functools.cache  # noqa: B019 (one reader per rendering)
    def para_props(self, style_id: str | None, table_style: str | None = None) -> tuple[dict, dict]:
        """Paragraph and run properties of a paragraph of style ``style_id`` (in a table of style
        ``table_style``): the document defaults, then the styles.

        In a table, Word applies the table style's paragraph and run properties over the default
        paragraph style (Normal) but under any other paragraph style; with the compatibility
        setting overrideTableStyleFontSizeAndJustification, Normal's size and alignment still win
        where Normal sets them to other values than the document defaults.
        """
        default = self.styles["default_para"]
        style_id = style_id or default
        ppr, rpr = dict(self.styles["ppr"]), dict(self.styles["rpr"])
        table_chain = self._chain(table_style) if table_style else []
        if table_chain and style_id != default:
            for style in table_chain:
                ppr, rpr = _apply_ppr(ppr, style["ppr"]), _apply_rpr(rpr, style["rpr"])
        for style in self._chain(style_id):
            ppr, rpr = _apply_ppr(ppr, style["ppr"]), _apply_rpr(rpr, style["rpr"])
        if table_chain and style_id == default:
            normal_ppr, normal_rpr = dict(ppr), dict(rpr)
            for style in table_chain:
                ppr, rpr = _apply_ppr(ppr, style["ppr"]), _apply_rpr(rpr, style["rpr"])
            if self.override_table_size_and_alignment:
                if normal_rpr.get("size") != self.styles["rpr"].get("size") and "size" in normal_rpr:
                    rpr["size"] = normal_rpr["size"]
                if normal_ppr.get("align") != self.styles["ppr"].get("align") and "align" in normal_ppr:
                    ppr["align"] = normal_ppr["align"]
        return ppr, rpr

    @functools.cache  # noqa: B019
    def char_props(self, base: tuple, style_id: str | None) -> dict:
        rpr = dict(base)
        for style in self._chain(style_id):
            rpr = _apply_rpr(rpr, style["rpr"])
        return rpr

    # -- the document
    def read(self) -> Parsed:
        root = self._xml(self.document_name)
        if root is None:
            raise ValueError("the .docx has no main document part")
        body = root.find(_w("body"))
        if body is None:
            raise ValueError("the .docx document has no body")
        self.rels = self._rels(self.document_name)
        blocks = self.blocks(body, self.rels, top=True)
        sect = body.find(_w("sectPr"))
        section = self.section(sect)
        if root.find(f".//{_W}pPr/{_W}sectPr") is not None:
            self.note("several sections (w:sectPr in a paragraph)")
        return Parsed(blocks, section, self.core(), self.features)

    def section(self, sect: etree._Element | None) -> Section:
        section = Section()
        if sect is None:
            return section
        size = sect.find(_w("pgSz"))
        if size is not None:
            section.width = _num(size, "w", 11906) * TWIP
            section.height = _num(size, "h", 16838) * TWIP
        margins = sect.find(_w("pgMar"))
        if margins is not None:
            for name in ("top", "bottom", "left", "right", "header", "footer"):
                if _attr(margins, name) is not None:
                    setattr(section, name, abs(_num(margins, name)) * TWIP)
        section.title_page = bool(_on(sect.find(_w("titlePg"))))
        start = sect.find(_w("pgNumType"))
        if _attr(start, "start") is not None:
            section.first_number = int(_num(start, "start", 1))
        cols = sect.find(_w("cols"))
        if cols is not None and _num(cols, "num", 1) > 1:
            self.note("several columns (w:cols)")
        for kind, target in (("header", section.headers), ("footer", section.footers)):
            for ref in sect.iterfind(_w(f"{kind}Reference")):
                which = _attr(ref, "type", "default") or "default"
                part = self.rels.get(ref.get(_R + "id", ""))
                element = self._xml(part) if part else None
                if element is None:
                    continue
                if which == "even":
                    self.note("even-page headers and footers")
                    continue
                target[which] = self.blocks(element, self._rels(part), top=False)
        return section

    def core(self) -> dict[str, str]:
        root = self._xml("docProps/core.xml")
        core: dict[str, str] = {}
        if root is None:
            return core
        for key, path in (
            ("title", "dc:title"),
            ("subject", "dc:subject"),
            ("author", "dc:creator"),
            ("keywords", "cp:keywords"),
            ("language", "dc:language"),
            ("created", "dcterms:created"),
            ("modified", "dcterms:modified"),
        ):
            el = root.find(path, _NS)
            if el is not None and (el.text or "").strip():
                core[key] = el.text.strip()
        return core

    def blocks(self, parent: etree._Element, rels: dict[str, str], *, top: bool) -> list[Block]:
        blocks: list[Block] = []
        for child in parent:
            tag = child.tag
            if tag == _w("p"):
                blocks.extend(self.paragraph(child, rels, top=top))
            elif tag == _w("tbl"):
                blocks.append(self.table(child, rels))
            elif tag == _w("sdt"):
                content = child.find(_w("sdtContent"))
                if content is not None:
                    blocks.extend(self.blocks(content, rels, top=top))
            elif tag in (_w("customXml"), _w("ins")):
                blocks.extend(self.blocks(child, rels, top=top))
            elif tag in _IGNORED_BLOCK_CHILDREN:
                continue
            elif isinstance(tag, str) and not tag.startswith(_W + "commentRange"):
                name = etree.QName(tag).localname
                self.note(f"block element {name}")
                text = _plain_text(child)
                if text:
                    base = RunStyle(**self.para_props(None)[1])
                    blocks.append(Paragraph(ParaStyle(**self.para_props(None)[0]), base, [Text(text, base)]))
        return blocks

    def paragraph(self, p: etree._Element, rels: dict[str, str], *, top: bool) -> list[Paragraph]:
        ppr = p.find(_w("pPr"))
        style_id = _attr(ppr.find(_w("pStyle")), "val") if ppr is not None else None
        pprops, rprops = self.para_props(style_id, self.table_styles[-1] if self.table_styles else None)
        chain = self._chain(style_id or self.styles["default_para"])
        level = self.numbering.level_of([*(st["ppr"] for st in chain), ppr])
        if level is not None:  # the level's indents over the style's, under direct formatting
            pprops = _apply_ppr(pprops, level.ppr)
        pprops = {
            **_apply_ppr(pprops, ppr),
            "expand_shift_return": self.expand_shift_return,
            "style_id": style_id or self.styles["default_para"],
        }
        for style in [*chain, {"ppr": ppr, "rpr": None}]:
            for feature in _unsupported_properties(style["ppr"], style["rpr"]):
                self.note(feature)
        mark = RunStyle(**_apply_rpr(rprops, ppr.find(_w("rPr")) if ppr is not None else None))
        inlines: list[Inline] = []
        if level is not None:
            label = self.numbering.label(level)
            if label is not None:
                number_style = RunStyle(
                    **_apply_rpr(
                        _apply_rpr(rprops, ppr.find(_w("rPr")) if ppr is not None else None), level.rpr
                    )
                )
                inlines.append(Text(label, number_style))
                if level.suffix == "tab":
                    inlines.append(Tab(number_style))
                elif level.suffix == "space":
                    inlines.append(Text(" ", number_style))
        self._field: list = []  # the complex field being read: [instruction, state]
        self.inlines(p, rels, rprops, inlines)
        style = ParaStyle(**pprops)
        # A page break splits the paragraph: what follows starts a new page.
        pieces: list[Paragraph] = []
        current: list[Inline] = []
        for inline in inlines:
            if isinstance(inline, PageBreak):
                if top:
                    pieces.append(Paragraph(style, mark, current))
                    current = []
                continue
            current.append(inline)
        pieces.append(Paragraph(style, mark, current))
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            changes: dict = {}
            if index > 0:
                changes.update(page_break_before=True, before=0.0, first_line=0.0, border_top=None)
            if index < last:
                changes.update(after=0.0, keep_next=False, border_bottom=None)
            if changes:
                piece.style = replace(style, **changes)
        return pieces

    def inlines(self, parent: etree._Element, rels: dict[str, str], base: dict, out: list[Inline]) -> None:
        for child in parent:
            tag = child.tag
            if tag == _w("r"):
                self.run(child, rels, base, out)
            elif tag in (_w("hyperlink"), _w("smartTag"), _w("ins"), _w("customXml"), _w("dir"), _w("bdo")):
                self.inlines(child, rels, base, out)
            elif tag == _w("sdt"):
                content = child.find(_w("sdtContent"))
                if content is not None:
                    self.inlines(content, rels, base, out)
            elif tag == _w("fldSimple"):
                name = _field_name(_attr(child, "instr", "") or "")
                if name in _PAGE_FIELDS:
                    first = child.find(f".//{_W}r")
                    style = self.run_style(first, base) if first is not None else RunStyle(**base)
                    out.append(Field(name, style))
                else:
                    self.note(f"field {name or '?'}")
                    self.inlines(child, rels, base, out)
            elif tag in _MATH:
                self.note("equation (m:oMath)")
                text = _plain_text(child)
                if text:
                    out.append(Text(text, RunStyle(**base)))
            elif tag == _w("footnoteReference") or tag == _w("endnoteReference"):
                self.note("footnotes")

    def run_style(self, r: etree._Element, base: dict) -> RunStyle:
        rpr = r.find(_w("rPr"))
        props = base
        if rpr is not None:
            style_id = _attr(rpr.find(_w("rStyle")), "val")
            props = self.char_props(tuple(sorted(base.items())), style_id)
            props = _apply_rpr(props, rpr)
            for source in [rpr, *(style["rpr"] for style in self._chain(style_id))]:
                for feature in _unsupported_properties(None, source):
                    self.note(feature)
        return RunStyle(**props)

    def run(self, r: etree._Element, rels: dict[str, str], base: dict, out: list[Inline]) -> None:
        style = self.run_style(r, base)
        for child in r:
            tag = child.tag
            # A complex field: PAGE/NUMPAGES are computed, any other shows its last result.
            if tag == _w("fldChar"):
                kind = _attr(child, "fldCharType")
                if kind == "begin":
                    self._field = ["", "instr"]
                elif kind == "separate" and self._field:
                    name = _field_name(self._field[0])
                    if name in _PAGE_FIELDS:
                        out.append(Field(name, style))
                        self._field[1] = "skip"
                    else:
                        self.note(f"field {name or '?'}")
                        self._field[1] = "result"
                elif kind == "end" and self._field:
                    if self._field[1] == "instr" and _field_name(self._field[0]) in _PAGE_FIELDS:
                        out.append(Field(_field_name(self._field[0]), style))
                    self._field = []
                continue
            if tag == _w("instrText"):
                if self._field:
                    self._field[0] += child.text or ""
                continue
            if self._field and self._field[1] in ("instr", "skip"):
                continue
            if style.hidden:
                continue
            if tag == _w("t"):
                if child.text:
                    out.append(Text(child.text, style))
            elif tag in (_w("tab"), _w("ptab")):
                out.append(Tab(style))
            elif tag == _w("br"):
                kind = _attr(child, "type", "textWrapping")
                out.append(PageBreak() if kind in ("page", "column") else LineBreak(style))
            elif tag == _w("cr"):
                out.append(LineBreak(style))
            elif tag == _w("noBreakHyphen"):
                out.append(Text("\u2011", style))
            elif tag == _w("sym"):
                self.note("symbol characters (w:sym)")
            elif tag == _w("drawing"):
                self.drawing(child, rels, style, out)
            elif tag == _ALTERNATE:
                choice = child.find("mc:Choice", _NS)
                chosen = choice if choice is not None else child.find("mc:Fallback", _NS)
                if chosen is not None:
                    fake = etree.Element(_w("r"))
                    fake.extend(list(chosen))
                    self.run(fake, rels, base, out)
            elif tag == _w("pict"):
                self.note("VML picture or text box (w:pict)")
                self._boxed_text(child, style, out)
            elif tag == _w("object"):
                self.note("embedded object (w:object)")
            elif tag in (_w("footnoteReference"), _w("endnoteReference")):
                self.note("footnotes")
            elif tag in (_w("rPr"), _w("lastRenderedPageBreak"), _w("softHyphen"), _w("delText")):
                continue
            elif isinstance(tag, str):
                self.note(f"run element {etree.QName(tag).localname}")

    def _boxed_text(self, element: etree._Element, style: RunStyle, out: list[Inline]) -> bool:
        boxes = list(element.iter(_w("txbxContent")))
        for box in boxes[:1]:
            text = " ".join(t for t in (_plain_text(p) for p in box.iter(_w("p"))) if t)
            if text:
                out.append(Text(f" {text} ", style))
        return bool(boxes)

    def drawing(
        self, drawing: etree._Element, rels: dict[str, str], style: RunStyle, out: list[Inline]
    ) -> None:
        frame = drawing.find("wp:inline", _NS)
        if frame is None:
            frame = drawing.find("wp:anchor", _NS)
            if frame is None:
                self.note("drawing of an unknown kind")
                return
            if any(True for _ in frame.iter(_w("txbxContent"))):
                self.note("text box")
                self._boxed_text(frame, style, out)
                return
            self.note("floating picture (wp:anchor)")
        extent = frame.find("wp:extent", _NS)
        blip = frame.find(".//a:blip", _NS)
        target = rels.get(blip.get(_R + "embed", "")) if blip is not None else None
        if target is None or target not in self.names:
            if any(True for _ in frame.iter(_w("txbxContent"))):
                self.note("text box")
                self._boxed_text(frame, style, out)
            else:
                self.note("drawing without a picture (shape, chart)")
            return
        data = self.zip.read(target)
        if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
            self.note(f"picture format {PurePosixPath(target).suffix or '?'}")
            return
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except Exception:  # Pillow raises many kinds of error for a broken file
            self.note("unreadable picture")
            return
        width = _num_plain(extent, "cx") * _EMU
        height = _num_plain(extent, "cy") * _EMU
        if width > 0 and height > 0:
            out.append(Picture(data, width, height, style))

    def table(self, tbl: etree._Element, rels: dict[str, str]) -> Table:
        tbl_pr = tbl.find(_w("tblPr"))
        style_id = _attr(tbl_pr.find(_w("tblStyle")), "val") if tbl_pr is not None else None
        style_id = style_id or self.styles["default_table"]
        margins = {"top": 0.0, "left": 5.4, "bottom": 0.0, "right": 5.4}
        borders: dict[str, Border | None] = {}
        sources = [self.styles["cell_margins"]]
        for style in self._chain(style_id):
            if style["conditional"]:
                self.note("conditional table style formatting (w:tblStylePr)")
            if style["tblpr"] is not None:
                sources.append(style["tblpr"].find(_w("tblCellMar")))
                _read_borders(style["tblpr"].find(_w("tblBorders")), borders)
        if tbl_pr is not None:
            sources.append(tbl_pr.find(_w("tblCellMar")))
            _read_borders(tbl_pr.find(_w("tblBorders")), borders)
            if tbl_pr.find(_w("tblpPr")) is not None:
                self.note("floating table (w:tblpPr)")
        for source in sources:
            _read_margins(source, margins)
        align = _JC.get(_attr(tbl_pr.find(_w("jc")), "val", "left") if tbl_pr is not None else "left", "left")
        indent = _num(tbl_pr.find(_w("tblInd")), "w") * TWIP if tbl_pr is not None else 0.0
        widths = [_num(col, "w") * TWIP for col in tbl.iterfind(f"{_W}tblGrid/{_W}gridCol")]
        rows: list[Row] = []
        self.table_styles.append(style_id)
        try:
            self._rows(tbl, rels, margins, widths, rows)
        finally:
            self.table_styles.pop()
        widths = _column_widths(widths, rows)
        for row in rows:
            for cell in row.cells:
                if cell.column + cell.span <= len(widths):
                    cell.width = sum(widths[cell.column : cell.column + cell.span])
        return Table(widths, align, indent, borders, rows)

    def _rows(
        self, tbl: etree._Element, rels: dict[str, str], margins: dict, widths: list[float], rows: list[Row]
    ) -> None:
        for tr in tbl.iterfind(_w("tr")):
            tr_pr = tr.find(_w("trPr"))
            header = bool(_on(tr_pr.find(_w("tblHeader")))) if tr_pr is not None else False
            cant_split = bool(_on(tr_pr.find(_w("cantSplit")))) if tr_pr is not None else False
            height_el = tr_pr.find(_w("trHeight")) if tr_pr is not None else None
            column = int(_num(tr_pr.find(_w("gridBefore")), "val")) if tr_pr is not None else 0
            cells: list[Cell] = []
            for tc in tr.iterfind(_w("tc")):
                cell = self.cell(tc, rels, margins, column, widths)
                cells.append(cell)
                column += cell.span
            rows.append(
                Row(
                    cells,
                    header,
                    cant_split,
                    _num(height_el, "val") * TWIP,
                    _attr(height_el, "hRule") == "exact",
                )
            )

    def cell(
        self, tc: etree._Element, rels: dict[str, str], margins: dict, column: int, widths: list[float]
    ) -> Cell:
        tc_pr = tc.find(_w("tcPr"))
        cell_margins = dict(margins)
        borders: dict[str, Border | None] = {}
        span, valign, fill, vmerge, width = 1, "top", None, None, 0.0
        if tc_pr is not None:
            span = max(int(_num(tc_pr.find(_w("gridSpan")), "val", 1)), 1)
            _read_margins(tc_pr.find(_w("tcMar")), cell_margins)
            _read_borders(tc_pr.find(_w("tcBorders")), borders)
            valign = _attr(tc_pr.find(_w("vAlign")), "val", "top") or "top"
            shading = tc_pr.find(_w("shd"))
            fill = _color(_attr(shading, "fill"))
            if fill == (255, 255, 255):
                fill = None
            merge = tc_pr.find(_w("vMerge"))
            if merge is not None:
                vmerge = _attr(merge, "val", "continue")
            tcw = tc_pr.find(_w("tcW"))
            if _attr(tcw, "type", "dxa") == "dxa":
                width = _num(tcw, "w") * TWIP
            if tc_pr.find(_w("textDirection")) is not None:
                self.note("vertical text (w:textDirection)")
        blocks = self.blocks(tc, rels, top=False)
        return Cell(
            width,
            span,
            (cell_margins["top"], cell_margins["left"], cell_margins["bottom"], cell_margins["right"]),
            borders,
            valign,
            fill,
            vmerge,
            blocks,
            column,
        )


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


class _Numbering:
    """Lists (numbering.xml): each paragraph's number or bullet, counted in document order."""

    def __init__(self, root: etree._Element | None, note: Callable[[str], None]) -> None:
        self.note = note
        self.counters: dict[str, list[int]] = {}
        self.abstract: dict[str, dict[int, etree._Element]] = {}
        self.nums: dict[str, tuple[str, dict[int, etree._Element], dict[int, int]]] = {}
        if root is None:
            return
        for abstract in root.iterfind(_w("abstractNum")):
            levels = {int(_num(lvl, "ilvl")): lvl for lvl in abstract.iterfind(_w("lvl"))}
            self.abstract[_attr(abstract, "abstractNumId", "") or ""] = levels
        for num in root.iterfind(_w("num")):
            abstract_id = _attr(num.find(_w("abstractNumId")), "val", "") or ""
            overrides, starts = {}, {}
            for override in num.iterfind(_w("lvlOverride")):
                index = int(_num(override, "ilvl"))
                if override.find(_w("lvl")) is not None:
                    overrides[index] = override.find(_w("lvl"))
                if override.find(_w("startOverride")) is not None:
                    starts[index] = int(_num(override.find(_w("startOverride")), "val", 1))
            self.nums[_attr(num, "numId", "") or ""] = (abstract_id, overrides, starts)

    def _level(self, key: str, index: int) -> _Level | None:
        if key not in self.nums:
            return None
        abstract_id, overrides, starts = self.nums[key]
        lvl = overrides.get(index, self.abstract.get(abstract_id, {}).get(index))
        if lvl is None:
            return None
        start = starts.get(index, int(_num(lvl.find(_w("start")), "val", 1)))
        return _Level(
            key,
            index,
            start,
            _attr(lvl.find(_w("numFmt")), "val", "decimal") or "decimal",
            _attr(lvl.find(_w("lvlText")), "val", "") or "",
            _attr(lvl.find(_w("suff")), "val", "tab") or "tab",
            lvl.find(_w("pPr")),
            lvl.find(_w("rPr")),
        )

    def level_of(self, pprs: list[etree._Element | None]) -> _Level | None:
        """The list level of a paragraph whose style chain and own pPr are ``pprs`` (last wins)."""
        key, index = None, 0
        for ppr in pprs:
            num_pr = ppr.find(_w("numPr")) if ppr is not None else None
            if num_pr is None:
                continue
            if num_pr.find(_w("numId")) is not None:
                key = _attr(num_pr.find(_w("numId")), "val")
            if num_pr.find(_w("ilvl")) is not None:
                index = int(_num(num_pr.find(_w("ilvl")), "val"))
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


_PAGE_FIELDS = ("PAGE", "NUMPAGES", "SECTIONPAGES")
_IGNORED_BLOCK_CHILDREN = frozenset(
    _w(tag)
    for tag in ("sectPr", "tcPr", "bookmarkStart", "bookmarkEnd", "proofErr", "del", "permStart", "permEnd")
)


def _column_widths(grid: list[float], rows: list[Row]) -> list[float]:
    """The columns' widths: the first row's preferred cell widths (``w:tcW``) where it gives them
    all, as Word lays a table out; else the grid (``w:tblGrid``, Word's record of its last layout)."""
    if not rows or not rows[0].cells or not all(cell.width > 0 for cell in rows[0].cells):
        return grid
    widths = list(grid)
    for cell in rows[0].cells:
        if cell.column + cell.span > len(widths):
            widths.extend([0.0] * (cell.column + cell.span - len(widths)))
        span = widths[cell.column : cell.column + cell.span]
        total = sum(span)
        for offset, width in enumerate(span):
            share = width / total if total > 0 else 1 / cell.span
            widths[cell.column + offset] = cell.width * share
    return widths


def _field_name(instruction: str) -> str:
    words = instruction.split()
    return words[0].upper() if words else ""


def _num_plain(el: etree._Element | None, name: str) -> float:
    try:
        return float(el.get(name, "0")) if el is not None else 0.0
    except ValueError:
        return 0.0


def _plain_text(element: etree._Element) -> str:
    return "".join(t.text or "" for t in element.iter(_w("t"))).strip()


def _read_margins(source: etree._Element | None, margins: dict) -> None:
    if source is None:
        return
    for name, aliases in (("top", ()), ("bottom", ()), ("left", ("start",)), ("right", ("end",))):
        for tag in (name, *aliases):
            el = source.find(_w(tag))
            if el is not None and _attr(el, "type", "dxa") == "dxa":
                margins[name] = _num(el, "w") * TWIP


def _read_borders(source: etree._Element | None, borders: dict) -> None:
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
            border = _border(source.find(_w(tag)))
            if border is not False:
                borders[edge] = border


def read_docx(docx: bytes) -> Parsed:
    """The document model of ``docx``; not a .docx, or a part that is not well-formed → ``ValueError``."""
    return _Reader(docx).read()
