"""The PDF copy of a document, rendered from its .docx: the .docx is the document, the PDF shows it.

Templates edited in Word will make the .docx; the official copy is a PDF. Rendering the PDF from the
rendered .docx (not from the data) means the two say the same by construction. The renderer reads
the OOXML itself (lxml), lays the text out with the metrics of the embedded font (Liberation Serif,
metric-compatible with Times New Roman: see :mod:`workflows.documents.fonts`) and draws with fpdf2
in its PDF/A-2b mode. It is its own page layout engine, so that page breaks follow the .docx's
keep rules exactly, and it is deterministic: the same .docx gives the same PDF bytes (the dates
come from the .docx's core properties, never from the clock).

The OOXML subset (ECMA-376 part 1 semantics):

* section (the last ``w:sectPr``): ``w:pgSz`` page size, ``w:pgMar`` margins and header/footer
  distances, ``w:titlePg`` (page 1 takes the *first* header/footer, empty when there is none),
  ``w:pgNumType w:start``;
* headers and footers (``default`` and ``first`` references), with the fields ``PAGE``,
  ``NUMPAGES`` and ``SECTIONPAGES`` as ``w:fldSimple`` or ``w:fldChar``/``w:instrText``;
* paragraphs: ``w:jc`` (left/start, center, right/end, both/distribute = justified), ``w:ind``
  (left/start, right/end, firstLine, hanging), ``w:spacing`` (before, after, line with lineRule
  auto/exact/atLeast), ``w:keepNext``, ``w:keepLines``, ``w:widowControl``, ``w:pageBreakBefore``,
  top and bottom ``w:pBdr`` (the short rules under the header lines), the paragraph mark's size;
* styles: ``w:docDefaults``, the default paragraph style and the ``w:pStyle`` chain
  (``w:basedOn``), character styles (``w:rStyle``), a table style's paragraph and run properties
  for its cells (over Normal, under any other paragraph style, as Word does), for every paragraph
  and run property here; ``w:doNotExpandShiftReturn`` and
  ``overrideTableStyleFontSizeAndJustification`` from settings.xml;
* runs: ``w:b``, ``w:i``, ``w:u`` (any but none: a single line), ``w:strike``/``w:dstrike`` (a
  single line), ``w:vertAlign`` (superscript, subscript), ``w:sz``, ``w:caps``, ``w:color``
  (every run is drawn in the one serif family of :mod:`~workflows.documents.fonts`: ``w:rFonts``
  is not read),
  ``w:vanish`` (hidden: not drawn); ``w:t``, ``w:tab`` (to the next ``w:tabs`` stop of the
  paragraph and its styles, left/center/right, decimal and bar as left, dot/hyphen/underscore
  leaders; past them, the default stops every half inch),
  ``w:br`` (line break; ``type="page"``/``"column"``: a page break), ``w:cr``,
  ``w:noBreakHyphen``; hyperlinks, smart tags, content controls and insertions are read through;
  deletions are not shown;
* tables: column widths from the first row's ``w:tcW`` (dxa) when all its cells give one, as Word
  does, else ``w:tblGrid``/``w:gridCol``; ``w:gridSpan``,
  ``w:gridBefore``, ``w:vMerge``, ``w:jc`` and ``w:tblInd``, cell margins (``w:tblCellMar``,
  ``w:tcMar``, the default table style's), borders (``w:tblBorders``, ``w:tcBorders``; none/nil
  draws nothing), cell shading fill, ``w:vAlign``, ``w:trHeight``, ``w:tblHeader`` rows repeated
  at the top of every page the table continues on, ``w:cantSplit``; nested tables;
* lists (numbering.xml): ``w:numPr`` of the paragraph or its style, ``w:lvlText`` with ``%1``…``%9``
  in decimal, decimalZero, lower/upper letter and roman, bullets (Word's Symbol-font bullets drawn
  as •, ▪…), ``w:start``/``w:startOverride``, ``w:suff``, the level's indents (over the style's,
  under direct formatting) and its run properties, counted per ``w:numId`` in document order;
  ``w:contextualSpacing``;
* inline pictures (``wp:inline`` with an ``a:blip`` PNG/JPEG, sized by ``wp:extent``).

Pagination: a line is the unit of a paragraph, a row the unit of a table. A unit that does not fit
the rest of the page goes to the next one. ``keepNext`` chains a paragraph's last line to what
follows (a row is kept with what follows when the last paragraph of one of its cells has
``keepNext``; rows of a vertical merge are kept together), ``keepLines`` makes a paragraph one unit, widow control keeps
two lines together at each end. A chain that does not fit moves whole to the next page; one
taller than a page is laid out unit by unit, as Word does. A row that fits a page is never split
(it goes whole to the next page: stricter than Word for rows without ``cantSplit``); a row taller
than a page is cut between its cells' lines and continues on the next page under the repeated
header rows. "Space before" is dropped at the top of a page after a natural break, kept after a
page break.

Anything else (text boxes, floating pictures, VML, other number formats, other fields, footnotes,
equations, embedded objects, several sections, columns, highlighting, character
spacing, paragraph shading and side borders, conditional table-style formatting, characters the
font has no glyph for…) is rendered as plain text in its place or, for a floating picture, as an
inline one, and logged once per feature and document; :func:`unsupported_features` names them so
that a template checker can refuse the template.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf import __version__ as FPDF_VERSION
from lxml import etree
from PIL import Image

from workflows.documents.fonts import cut_fonts, document_fonts

log = logging.getLogger("tdcflow.documents")

__all__ = ["render_pdf", "unsupported_features"]

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

_TWIP = 1 / 20  # points
_EMU = 1 / 12700  # points
_DEFAULT_TAB = 36.0  # points (720 twips, Word's default)


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
                    props[key] = _num(ind, name) * _TWIP
        if _attr(ind, "hanging") is not None:
            props["first_line"] = -_num(ind, "hanging") * _TWIP
        elif _attr(ind, "firstLine") is not None:
            props["first_line"] = _num(ind, "firstLine") * _TWIP
    spacing = ppr.find(_w("spacing"))
    if spacing is not None:
        for name in ("before", "after"):
            if _attr(spacing, name) is not None:
                props[name] = _num(spacing, name) * _TWIP
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
            position = _num(tab, "pos") * _TWIP
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
            section.width = _num(size, "w", 11906) * _TWIP
            section.height = _num(size, "h", 16838) * _TWIP
        margins = sect.find(_w("pgMar"))
        if margins is not None:
            for name in ("top", "bottom", "left", "right", "header", "footer"):
                if _attr(margins, name) is not None:
                    setattr(section, name, abs(_num(margins, name)) * _TWIP)
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
        indent = _num(tbl_pr.find(_w("tblInd")), "w") * _TWIP if tbl_pr is not None else 0.0
        widths = [_num(col, "w") * _TWIP for col in tbl.iterfind(f"{_W}tblGrid/{_W}gridCol")]
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
                    _num(height_el, "val") * _TWIP,
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
                width = _num(tcw, "w") * _TWIP
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
                margins[name] = _num(el, "w") * _TWIP


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


# --------------------------------------------------------------------------- font metrics


class _Metrics:
    """Advance widths (rounded as the PDF's widths array is) and vertical metrics of one face."""

    def __init__(self, path: str) -> None:
        with TTFont(path, lazy=True) as font:
            upm = font["head"].unitsPerEm
            cmap = font.getBestCmap() or {}
            hmtx = font["hmtx"].metrics
            hhea = font["hhea"]
            self.ascent = hhea.ascent / upm
            self.descent = -hhea.descent / upm
            self.gap = hhea.lineGap / upm
            notdef = hmtx.get(".notdef", (upm // 2, 0))[0]
            self.widths = {
                code: round(hmtx.get(name, (notdef, 0))[0] * 1000 / upm + 0.001) / 1000
                for code, name in cmap.items()
            }
            self.missing = round(notdef * 1000 / upm) / 1000

    @functools.lru_cache(maxsize=8192)  # noqa: B019 (a handful of faces per process)
    def em_width(self, text: str) -> float:
        widths, missing = self.widths, self.missing
        return sum(widths.get(ord(char), missing) for char in text)


@functools.cache
def _metrics() -> dict[str, _Metrics]:
    fonts = document_fonts()
    faces = {"": "regular", "B": "bold", "I": "italic", "BI": "bold_italic"}
    return {face: _Metrics(str(fonts.files[style])) for face, style in faces.items()}


def _width(text: str, style: RunStyle) -> float:
    return _metrics()[style.face].em_width(text) * style.drawn_size


# --------------------------------------------------------------------------- line layout


@dataclass
class _Piece:
    kind: str  # "text", "space", "tab", "picture"
    text: str
    style: RunStyle
    width: float
    picture: Picture | None = None
    breakable_after: bool = False  # a hyphen inside a word


@dataclass
class _Line:
    pieces: list[_Piece]
    width: float  # natural width, trailing spaces excluded
    ascent: float
    descent: float
    height: float
    baseline: float  # from the line's top
    indent: float  # x of the line from the paragraph's left edge (indent included)
    available: float
    justify: bool


_SPACES = re.compile(r"( +)")
_HYPHEN_BREAK = re.compile(r"(?<=-)(?=[^-])")


def _pieces(inlines: list[Inline], fields: dict[str, str]) -> list[_Piece | None]:
    """The paragraph as pieces; None is a line break."""
    pieces: list[_Piece | None] = []
    for inline in inlines:
        if isinstance(inline, Field):
            inline = Text(fields.get(inline.name, ""), inline.style)
        if isinstance(inline, Text):
            text = unicodedata.normalize("NFC", inline.text)
            if inline.style.caps:
                text = text.upper()
            for chunk in _SPACES.split(text):
                if not chunk:
                    continue
                if chunk[0] == " ":
                    pieces.append(_Piece("space", chunk, inline.style, _width(chunk, inline.style)))
                    continue
                parts = _HYPHEN_BREAK.split(chunk)
                for index, part in enumerate(parts):
                    pieces.append(
                        _Piece(
                            "text",
                            part,
                            inline.style,
                            _width(part, inline.style),
                            breakable_after=index < len(parts) - 1,
                        )
                    )
        elif isinstance(inline, Tab):
            pieces.append(_Piece("tab", "", inline.style, 0.0))
        elif isinstance(inline, LineBreak):
            pieces.append(None)
        elif isinstance(inline, Picture):
            pieces.append(_Piece("picture", "", inline.style, inline.width, picture=inline))
    return pieces


def _words(pieces: list[_Piece | None]) -> Iterator[list[_Piece] | str | _Piece]:
    """Boxes that do not break inside (a word, a picture), spaces and tabs, and "br"."""
    word: list[_Piece] = []
    for piece in pieces:
        if piece is not None and piece.kind == "text":
            word.append(piece)
            if piece.breakable_after:
                yield word
                word = []
            continue
        if word:
            yield word
            word = []
        if piece is None:
            yield "br"
        elif piece.kind == "picture":
            yield [piece]
        else:
            yield piece
    if word:
        yield word


def _tab(tab: _Piece, position: float, stops: tuple[tuple[float, str, str], ...], rest: list) -> _Piece:
    """A tab at ``position`` (from the text's left edge) as wide as it is to the next stop.

    A custom stop (left, center, right; decimal and bar as left) first, then the default stops
    every half inch. A centre or right stop aligns the text up to the next tab or line break.
    """
    following = [entry for entry in stops if entry[0] > position + 0.01]
    default = ((int(position / _DEFAULT_TAB) + 1) * _DEFAULT_TAB, "left", "none")
    stop, kind, leader = following[0] if following else default
    width = stop - position
    if kind in ("center", "right"):
        segment = 0.0
        for item in rest:
            if item == "br" or (isinstance(item, _Piece) and item.kind == "tab"):
                break
            segment += item.width if isinstance(item, _Piece) else sum(piece.width for piece in item)
        width -= segment / 2 if kind == "center" else segment
    width = max(width, _width(" ", tab.style) if kind == "left" else 0.0)
    fill = {"dot": ".", "hyphen": "-", "underscore": "_", "middleDot": "·"}.get(leader or "none")
    text = ""
    if fill and width > 0:
        text = fill * int(width / max(_width(fill, tab.style), 0.1) - 1)
    return replace(tab, width=width, text=text)


def _split_word(word: list[_Piece], available: float) -> list[list[_Piece]]:
    """A word wider than a line, cut between characters."""
    chunks: list[list[_Piece]] = [[]]
    used = 0.0
    for piece in word:
        if piece.kind != "text":
            chunks[-1].append(piece)
            used += piece.width
            continue
        for char in piece.text:
            w = _width(char, piece.style)
            if used + w > available and used > 0:
                chunks.append([])
                used = 0.0
            last = chunks[-1][-1] if chunks[-1] else None
            if last is not None and last.kind == "text" and last.style == piece.style:
                last.text += char
                last.width += w
            else:
                chunks[-1].append(_Piece("text", char, piece.style, w))
            used += w
    return [chunk for chunk in chunks if chunk]


def _layout_lines(para: Paragraph, width: float, fields: dict[str, str]) -> list[_Line]:
    style = para.style
    pieces = _pieces(para.inlines, fields)
    lines: list[_Line] = []
    current: list[_Piece] = []
    x = 0.0
    first = True

    def start() -> tuple[float, float]:
        indent = style.left + (style.first_line if first else 0.0)
        return indent, max(width - indent - style.right, 1.0)

    indent, available = start()

    def finish(forced: bool, last: bool = False) -> None:
        nonlocal current, x, first, indent, available
        while current and current[-1].kind == "space":
            current.pop()
        natural = sum(piece.width for piece in current)
        # Word stretches a justified line ending in a line break unless told not to (compat option).
        justify = style.align == "justify" and not last and (not forced or style.expand_shift_return)
        lines.append(_line(current, natural, indent, available, justify, para.mark, style))
        current, x, first = [], 0.0, False
        indent, available = start()

    items = list(_words(pieces))
    for index, item in enumerate(items):
        if item == "br":
            finish(True)
            continue
        if isinstance(item, _Piece):  # a space or a tab
            if item.kind == "tab":
                stops = style.tabs
                if first and style.first_line < 0:  # Word's implicit stop at a hanging indent
                    stops = tuple(sorted((*stops, (style.left, "left", "none"))))
                item = _tab(item, indent + x, stops, items[index + 1 :])
            elif not current and lines:
                continue  # no space at the start of a wrapped line
            current.append(item)
            x += item.width
            continue
        w = sum(piece.width for piece in item)
        if x + w > available + 0.01 and any(piece.kind != "space" for piece in current):
            finish(False)
        if w > available + 0.01:
            chunks = _split_word(item, available)
            for chunk in chunks[:-1]:
                current.extend(chunk)
                finish(False)
            item = chunks[-1]
            w = sum(piece.width for piece in item)
        current.extend(item)
        x += w
    finish(True, last=True)
    return lines


def _line(
    pieces: list[_Piece],
    natural: float,
    indent: float,
    available: float,
    justify: bool,
    mark: RunStyle,
    style: ParaStyle,
) -> _Line:
    metrics = _metrics()
    ascent = descent = gap = 0.0
    texts = [piece for piece in pieces if piece.kind != "picture"]
    for piece in texts or ([] if pieces else [_Piece("space", "", mark, 0.0)]):
        m = metrics[piece.style.face]
        ascent = max(
            ascent, m.ascent * piece.style.size, m.ascent * piece.style.drawn_size + piece.style.rise
        )
        descent = max(descent, m.descent * piece.style.size)
        gap = max(gap, m.gap * piece.style.size)
    for piece in pieces:
        if piece.picture is not None:
            ascent = max(ascent, piece.picture.height)
    natural_height = ascent + descent + gap
    if style.line_rule == "exact":
        height = style.line * _TWIP
    elif style.line_rule == "atLeast":
        height = max(natural_height, style.line * _TWIP)
    else:
        height = natural_height * style.line / 240
    baseline = gap + ascent if style.line_rule != "exact" else height - descent
    return _Line(pieces, natural, ascent, descent, height, baseline, indent, available, justify)


# --------------------------------------------------------------------------- boxes and pages

Draw = Callable[["_Canvas", float, float], None]


@dataclass
class _Unit:
    """What pagination moves: a line of a paragraph, a row of a table (with what it draws)."""

    height: float
    draw: Draw
    keep_next: bool = False
    page_break_before: bool = False
    space_before: float = 0.0  # dropped at the top of a page after a natural break
    repeat: list[_Unit] | None = None  # the table's header rows, drawn first on a new page
    parts: list[_Unit] | None = None  # the lines of a keepLines paragraph, if it must be split
    split: Callable[[float], tuple[_Unit, _Unit] | None] | None = None  # a row taller than a page


class _Canvas:
    """The fpdf2 document with the little state the drawing needs."""

    def __init__(self, pdf: FPDF, files: dict[str, str]) -> None:
        self.pdf = pdf
        self.files = files  # face ("", "B", "I", "BI") → font file
        self.added: set[str] = set()
        self.font: tuple[str, float] | None = None
        self.color: tuple[int, int, int] = (0, 0, 0)

    def set_style(self, style: RunStyle) -> None:
        key = (style.face, style.drawn_size)
        if key != self.font:
            if style.face not in self.added:  # a face is embedded only if it is used (cheaper)
                self.pdf.add_font("body", style.face, self.files[style.face])
                self.added.add(style.face)
            self.pdf.set_font("body", style.face, style.drawn_size)
            self.font = key
        if style.color != self.color:
            self.pdf.set_text_color(*style.color)
            self.color = style.color

    def rule(self, x1: float, y1: float, x2: float, y2: float, border: Border) -> None:
        self.pdf.set_line_width(border.width)
        self.pdf.set_draw_color(*border.color)
        self.pdf.line(x1, y1, x2, y2)


def _draw_line(canvas: _Canvas, line: _Line, align: str, x0: float, top: float) -> None:
    pdf = canvas.pdf
    extra = line.available - line.width
    x = x0 + line.indent
    if align == "center":
        x += max(extra, 0) / 2
    elif align == "right":
        x += max(extra, 0)
    spaces = [piece for piece in line.pieces if piece.kind == "space"]
    stretch = extra / len(spaces) if line.justify and spaces and extra > 0 else 0.0
    baseline = top + line.baseline
    # Runs of text and spaces in one style are one string, unless justified spaces must stretch.
    pending: list[_Piece] = []

    def flush() -> None:
        nonlocal pending, x
        if not pending:
            return
        text = "".join(piece.text for piece in pending)
        width = sum(piece.width for piece in pending)
        style = pending[0].style
        if text.strip():
            canvas.set_style(style)
            pdf.text(x, baseline - style.rise, text)
        size, rise = style.drawn_size, style.rise
        if style.underline:
            canvas.rule(
                x, baseline - rise + size * 0.12, x + width, baseline - rise + size * 0.12,
                Border(size * 0.05, 0, style.color),
            )  # fmt: skip
        if style.strike:
            canvas.rule(
                x, baseline - rise - size * 0.27, x + width, baseline - rise - size * 0.27,
                Border(size * 0.05, 0, style.color),
            )  # fmt: skip
        x += width
        pending = []

    for piece in line.pieces:
        if piece.kind == "picture":
            flush()
            picture = piece.picture
            assert picture is not None
            pdf.image(
                io.BytesIO(picture.data), x=x, y=baseline - picture.height, w=picture.width, h=picture.height
            )
            x += piece.width
        elif piece.kind == "tab" and piece.text:  # a leader: dots up to the stop
            flush()
            canvas.set_style(piece.style)
            pdf.text(
                x + piece.width - _width(piece.text, piece.style), baseline - piece.style.rise, piece.text
            )
            x += piece.width
        elif piece.kind == "tab" or (piece.kind == "space" and stretch):
            flush()
            if (piece.style.underline or piece.style.strike) and piece.kind == "space":
                pending = [replace(piece, width=piece.width + stretch)]
                flush()
            else:
                x += piece.width + (stretch if piece.kind == "space" else 0.0)
        else:
            if pending and pending[0].style != piece.style:
                flush()
            pending.append(piece)
    flush()


def _paragraph_units(para: Paragraph, width: float, fields: dict[str, str]) -> list[_Unit]:
    style = para.style
    lines = _layout_lines(para, width, fields)
    top_rule = style.border_top.width + style.border_top.space if style.border_top else 0.0
    bottom_rule = style.border_bottom.width + style.border_bottom.space if style.border_bottom else 0.0
    units: list[_Unit] = []
    for index, line in enumerate(lines):
        first, last = index == 0, index == len(lines) - 1
        above = (style.before if first else 0.0) + (top_rule if first else 0.0)
        below = (style.after if last else 0.0) + (bottom_rule if last else 0.0)

        def draw(canvas: _Canvas, x: float, y: float, line=line, first=first, last=last, above=above) -> None:
            left, right = x + style.left, x + width - style.right
            if first and style.border_top:
                border = style.border_top
                rule_y = y + style.before + border.width / 2
                canvas.rule(left, rule_y, right, rule_y, border)
            _draw_line(canvas, line, style.align, x, y + above)
            if last and style.border_bottom:
                border = style.border_bottom
                rule_y = y + above + line.height + border.space + border.width / 2
                canvas.rule(left, rule_y, right, rule_y, border)

        units.append(
            _Unit(
                above + line.height + below,
                draw,
                space_before=style.before if first else 0.0,
                page_break_before=style.page_break_before and first,
            )
        )
    if style.widow_control and len(units) >= 2:
        units[0].keep_next = True
        units[-2].keep_next = True
    if style.keep_lines and len(units) > 1:
        units = [_merge(units)]
    units[-1].keep_next = units[-1].keep_next or style.keep_next
    return units


def _merge(units: list[_Unit]) -> _Unit:
    """Units drawn one below the other as one unit."""
    offsets, total = [], 0.0
    for unit in units:
        offsets.append(total)
        total += unit.height

    def draw(canvas: _Canvas, x: float, y: float) -> None:
        for unit, offset in zip(units, offsets, strict=True):
            unit.draw(canvas, x, y + offset)

    return _Unit(
        total,
        draw,
        keep_next=units[-1].keep_next,
        page_break_before=units[0].page_break_before,
        space_before=units[0].space_before,
        parts=units,
    )


def _contextual(blocks: list[Block]) -> list[Block]:
    """``w:contextualSpacing``: no space before or after where the neighbour has the same style."""
    out = list(blocks)
    for index in range(len(out) - 1):
        first, second = out[index], out[index + 1]
        if not (isinstance(first, Paragraph) and isinstance(second, Paragraph)):
            continue
        if first.style.style_id != second.style.style_id:
            continue
        if first.style.contextual:
            out[index] = first = replace(first, style=replace(first.style, after=0.0))
        if second.style.contextual:
            out[index + 1] = replace(second, style=replace(second.style, before=0.0))
    return out


def _block_units(blocks: list[Block], width: float, fields: dict[str, str]) -> list[_Unit]:
    units: list[_Unit] = []
    for block in _contextual(blocks):
        if isinstance(block, Paragraph):
            units.extend(_paragraph_units(block, width, fields))
        else:
            units.extend(_table_units(block, width, fields))
    return units


def _stack(units: list[_Unit]) -> tuple[float, Draw]:
    """Units of a cell, header or footer drawn one below the other (no pagination inside)."""
    merged = _merge(units) if units else _Unit(0.0, lambda canvas, x, y: None)
    return merged.height, merged.draw


def _table_units(table: Table, width: float, fields: dict[str, str]) -> list[_Unit]:
    total = sum(table.widths)
    if table.align == "center":
        offset = (width - total) / 2
    elif table.align == "right":
        offset = width - total
    else:
        offset = table.indent
    starts = [sum(table.widths[:i]) for i in range(len(table.widths) + 1)]
    # Each cell's content, laid out once.
    contents: list[list[tuple[Cell, float, list[_Unit]]]] = []
    for row in table.rows:
        laid = []
        for cell in row.cells:
            inner = max(cell.width - cell.margins[1] - cell.margins[3], 1.0)
            cell_units = _block_units(cell.blocks, inner, fields)
            height = sum(unit.height for unit in cell_units)
            laid.append((cell, height + cell.margins[0] + cell.margins[2], cell_units))
        contents.append(laid)
    # Row heights: the tallest cell not in a vertical merge, then merged cells grow their last row.
    heights = []
    for row, laid in zip(table.rows, contents, strict=True):
        tallest = max((h for cell, h, _ in laid if cell.vmerge is None), default=0.0)
        heights.append(row.height if row.exact else max(tallest, row.height))
    spans: dict[tuple[int, int], int] = {}  # (row, column) of a restart cell → rows it spans
    for r, laid in enumerate(contents):
        for cell, needed, _ in laid:
            if cell.vmerge != "restart":
                continue
            last = r
            while last + 1 < len(contents) and any(
                c.column == cell.column and c.vmerge == "continue" for c, _, _ in contents[last + 1]
            ):
                last += 1
            spans[(r, cell.column)] = last - r + 1
            have = sum(heights[r : last + 1])
            if needed > have:
                heights[last] += needed - have
    n_rows = len(table.rows)
    n_cols = len(table.widths)

    def edge(cell: Cell, name: str, r: int) -> Border | None:
        if name in cell.borders:
            return cell.borders[name]
        outer = {
            "top": r == 0,
            "bottom": r + spans.get((r, cell.column), 1) - 1 == n_rows - 1,
            "left": cell.column == 0,
            "right": cell.column + cell.span >= n_cols,
        }[name]
        inner = "insideH" if name in ("top", "bottom") else "insideV"
        return table.borders.get(name if outer else inner)

    def row_unit(r: int, laid: list[tuple[Cell, float, list[_Unit]]], height: float, merged: bool) -> _Unit:
        """The unit of row ``r`` (or of a slice of it: ``laid`` holds the slice's content)."""

        def draw(canvas: _Canvas, x: float, y: float) -> None:
            for cell, needed, cell_units in laid:
                if cell.vmerge == "continue" and merged:
                    continue
                h = sum(heights[r : r + spans.get((r, cell.column), 1)]) if merged else height
                left = x + offset + starts[min(cell.column, n_cols)]
                right = left + cell.width
                if cell.fill is not None:
                    canvas.pdf.set_fill_color(*cell.fill)
                    canvas.pdf.rect(left, y, cell.width, h, style="F")
                free = h - needed
                shift = {"center": free / 2, "bottom": free}.get(cell.valign, 0.0)
                _, content = _stack(cell_units)
                content(canvas, left + cell.margins[1], y + cell.margins[0] + max(shift, 0.0))
                for name, (x1, y1, x2, y2) in (
                    ("top", (left, y, right, y)),
                    ("bottom", (left, y + h, right, y + h)),
                    ("left", (left, y, left, y + h)),
                    ("right", (right, y, right, y + h)),
                ):
                    border = edge(cell, name, r)
                    if border is not None:
                        canvas.rule(x1, y1, x2, y2, border)

        def split(available: float) -> tuple[_Unit, _Unit] | None:
            """The slice of the row that fits ``available`` and the rest (a row taller than a page)."""
            first, rest = [], []
            for cell, _, cell_units in laid:
                room = available - cell.margins[0] - cell.margins[2]
                used, count = 0.0, 0
                while count < len(cell_units) and used + cell_units[count].height <= room + 0.01:
                    used += cell_units[count].height
                    count += 1
                first.append((cell, used + cell.margins[0] + cell.margins[2], cell_units[:count]))
                left = cell_units[count:]
                rest.append((cell, sum(u.height for u in left) + cell.margins[0] + cell.margins[2], left))
            if not any(units for _, _, units in first):
                return None
            first_height = max(needed for _, needed, _ in first)
            rest_height = max(needed for _, needed, _ in rest)
            return row_unit(r, first, first_height, False), row_unit(r, rest, rest_height, False)

        return _Unit(height, draw, split=None if table.rows[r].exact else split)

    units: list[_Unit] = []
    for r, (row, laid) in enumerate(zip(table.rows, contents, strict=True)):
        unit = row_unit(r, laid, heights[r], True)
        unit.keep_next = (
            any(u.keep_next for cell in row.cells for u in _last_units(cell))
            or any(spans.get((r, c.column), 1) > 1 for c in row.cells)
            or any(c.vmerge == "continue" for c in (table.rows[r + 1].cells if r + 1 < n_rows else []))
        )
        units.append(unit)
    header_count = 0
    while header_count < n_rows and table.rows[header_count].header:
        header_count += 1
    headers = units[:header_count]
    for unit in headers:
        unit.keep_next = True  # a header row is never alone at the bottom of a page
    for unit in units[header_count:]:
        unit.repeat = headers or None
    return units


def _last_units(cell: Cell) -> list[_Unit]:
    """Whether the cell's last paragraph keeps with the next: its properties, not a layout."""
    if cell.blocks and isinstance(cell.blocks[-1], Paragraph) and cell.blocks[-1].style.keep_next:
        return [_Unit(0.0, lambda canvas, x, y: None, keep_next=True)]
    return []


@dataclass
class _Page:
    placed: list[tuple[_Unit, float]] = field(default_factory=list)


def _paginate(units: list[_Unit], top: float, bottom: float) -> list[_Page]:
    """Places units on pages, honouring page breaks, keep chains and repeated table headers."""
    pages = [_Page()]
    y = top
    natural = False  # the current page began at a natural break
    body = bottom - top
    headers_on_page: set[int] = set()

    def new_page(is_natural: bool) -> None:
        nonlocal y, natural
        pages.append(_Page())
        y = top
        natural = is_natural
        headers_on_page.clear()

    def empty() -> bool:
        return not pages[-1].placed

    def needs_header(unit: _Unit) -> list[_Unit]:
        if unit.repeat and empty() and id(unit.repeat[0]) not in headers_on_page and len(pages) > 1:
            return unit.repeat
        return []

    def place(unit: _Unit) -> None:
        nonlocal y
        for header in needs_header(unit):
            headers_on_page.add(id(header))
            pages[-1].placed.append((header, y))
            y += header.height
        if unit.repeat is None:
            headers_on_page.add(id(unit))
        drop = unit.space_before if empty() and natural else 0.0
        pages[-1].placed.append((unit, y - drop))
        y += unit.height - drop

    def height_of(chain: list[_Unit], fresh: bool) -> float:
        total = sum(unit.height for unit in chain)
        if fresh:
            total -= chain[0].space_before
            if chain[0].repeat:
                total += sum(header.height for header in chain[0].repeat)
        return total

    i = 0
    while i < len(units):
        unit = units[i]
        if unit.page_break_before and not (empty() and len(pages) == 1 and y == top):
            if not empty():
                new_page(False)
            else:
                natural = False
        j = i
        while units[j].keep_next and j + 1 < len(units) and not units[j + 1].page_break_before:
            j += 1
        chain = units[i : j + 1]
        if y + height_of(chain, empty() and natural) <= bottom + 0.01:
            for unit in chain:
                place(unit)
            i = j + 1
            continue
        if not empty() and height_of(chain, True) <= body + 0.01:
            new_page(True)
            for unit in chain:
                place(unit)
            i = j + 1
            continue
        # The chain is taller than a page: unit by unit; a keepLines paragraph that is taller
        # than a page is split into its lines, as Word does.
        if unit.parts and height_of([unit], True) > body + 0.01:
            units[i : i + 1] = unit.parts
            continue
        if unit.split is not None and height_of([unit], True) > body + 0.01:
            # A row taller than a page: what fits here, the rest on the next page (under the header).
            available = bottom - y - sum(header.height for header in needs_header(unit))
            pieces = unit.split(available) if available > 0 else None
            if pieces is None and not empty():
                new_page(True)
                continue
            if pieces is not None:
                first, rest = pieces
                first.repeat, rest.repeat, rest.keep_next = unit.repeat, unit.repeat, unit.keep_next
                place(first)
                new_page(True)
                units[i] = rest
                continue
        if not empty() and y + height_of([unit], False) > bottom + 0.01:
            new_page(True)
        if height_of([unit], True) > body + 0.01:
            log.warning("a line or picture taller than the page runs past the bottom margin")
        place(unit)
        i += 1
    return pages


# --------------------------------------------------------------------------- the PDF


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_PRODUCER = f"tdcflow (fpdf2 {FPDF_VERSION})"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # a .docx without a creation date: fixed, never the clock


def _xmp(
    title: str, author: str, subject: str, keywords: str, language: str, when: datetime, producer: str
) -> str:
    """XMP metadata for PDF/A-2b (fpdf2's own would carry the clock as the modification date)."""
    stamp = when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def alt(tag: str, value: str) -> str:
        if not value:
            return ""
        return f'<{tag}><rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt></{tag}>'

    creator = (
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>" if author else ""
    )
    lang = (
        f"<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>"
        if language
        else ""
    )
    keys = f"<pdf:Keywords>{escape(keywords)}</pdf:Keywords>" if keywords else ""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f"{alt('dc:title', title)}{creator}{alt('dc:description', subject)}{lang}</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate><xmp:CreatorTool>tdcflow</xmp:CreatorTool>"
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Producer>{escape(producer)}</pdf:Producer>{keys}</rdf:Description>"
        "</rdf:RDF></x:xmpmeta>"
    )


def _clean_meta(value: str | None) -> str:
    return unicodedata.normalize("NFC", re.sub(r"[\x00-\x1f]", " ", value or "")).strip()


def _characters(parsed: Parsed) -> set[int]:
    """Every character the document may draw (its text, upper-cased too, and page numbers)."""
    found: set[int] = set(map(ord, "0123456789 "))

    def walk(blocks: list[Block]) -> None:
        for block in blocks:
            if isinstance(block, Table):
                for row in block.rows:
                    for cell in row.cells:
                        walk(cell.blocks)
                continue
            for inline in block.inlines:
                if isinstance(inline, Text):
                    text = unicodedata.normalize("NFC", inline.text)
                    found.update(map(ord, text))
                    found.update(map(ord, text.upper()))

    walk(parsed.body)
    for parts in (parsed.section.headers, parsed.section.footers):
        for blocks in parts.values():
            walk(blocks)
    return found


def unsupported_features(docx: bytes) -> list[str]:
    """The features of ``docx`` outside the subset this renderer supports (see the module's doc).

    An empty list: the PDF shows everything the .docx shows. Not a .docx → ``ValueError``.
    """
    return list(_read(docx).features)


def _read(docx: bytes) -> Parsed:
    """The parsed document, with characters that no face of the font has among its features."""
    parsed = _Reader(docx).read()
    faces = _metrics().values()
    missing = sorted(
        code
        for code in _characters(parsed)
        if code > 0x20 and not unicodedata.category(chr(code)).startswith(("C", "Z"))
        and any(code not in face.widths for face in faces)
    )  # fmt: skip
    if missing:
        parsed.features["characters the font has no glyph for: " + "".join(map(chr, missing[:40]))] = None
    return parsed


def render_pdf(
    docx: bytes,
    *,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
) -> bytes:
    """The PDF/A-2b copy of ``docx``: its pages laid out as the .docx says (see the module's doc).

    Title, author and subject default to the .docx's core properties; the creation date is the
    core properties' (never the clock), so the same .docx gives the same bytes. Not a .docx →
    ``ValueError``; no usable font → :class:`workflows.documents.fonts.FontError`.
    """
    parsed = _read(docx)
    for feature in parsed.features:
        log.warning("PDF copy: %s is outside the supported subset (shown as plain text or inline)", feature)
    fonts = document_fonts()
    section = parsed.section
    width = section.width - section.left - section.right

    body_units = _block_units(parsed.body, width, {})
    pages = _paginate(body_units, section.top, section.height - section.bottom)

    pdf = FPDF(unit="pt", format=(section.width, section.height), enforce_compliance="PDF/A-2B")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_text_shaping(False)
    core = parsed.core
    meta_title = _clean_meta(title if title is not None else core.get("title"))
    meta_author = _clean_meta(author if author is not None else core.get("author"))
    meta_subject = _clean_meta(subject if subject is not None else core.get("subject"))
    created = _parse_date(core.get("created")) or _parse_date(core.get("modified")) or _EPOCH
    pdf.set_creation_date(created)
    pdf.set_producer(_PRODUCER)
    if meta_title:
        pdf.set_title(meta_title)
    if meta_author:
        pdf.set_author(meta_author)
    if meta_subject:
        pdf.set_subject(meta_subject)
    language = _clean_meta(core.get("language")) or "vi-VN"
    pdf.set_lang(language)
    pdf.set_xmp_metadata(
        _xmp(
            meta_title,
            meta_author,
            meta_subject,
            _clean_meta(core.get("keywords")),
            language,
            created,
            _PRODUCER,
        )
    )
    faces = {"": "regular", "B": "bold", "I": "italic", "BI": "bold_italic"}
    files = fonts.files
    cut = cut_fonts()
    if cut is not None and _characters(parsed) <= cut[1]:
        files = cut[0]  # the same glyphs and widths, cheaper to embed
    canvas = _Canvas(pdf, {face: str(files[style]) for face, style in faces.items()})
    total = str(len(pages) + section.first_number - 1)
    for index, page in enumerate(pages):
        pdf.add_page()
        canvas.font = None
        canvas.color = (0, 0, 0)
        for unit, y in page.placed:
            unit.draw(canvas, section.left, y)
        number = index + section.first_number
        which = "first" if index == 0 and section.title_page else "default"
        fields = {"PAGE": str(number), "NUMPAGES": total, "SECTIONPAGES": total}
        header = section.headers.get(which)
        if header:
            _, draw = _stack(_block_units(header, width, fields))
            draw(canvas, section.left, section.header)
        footer = section.footers.get(which)
        if footer:
            height, draw = _stack(_block_units(footer, width, fields))
            draw(canvas, section.left, section.height - section.footer - height)
    return bytes(pdf.output())
