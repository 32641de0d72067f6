"""A .docx read into the model the PDF copy is laid out from (see :mod:`workflows.documents.pdf_writer`
for the OOXML subset it supports and what it does with the rest).

:func:`read_docx` gives the body's blocks (paragraphs of runs, tables of rows of cells), the section
(page, margins, headers and footers), the core properties, and the features outside the subset
that it met, each named once.
"""

from __future__ import annotations

import functools
import io
import zipfile
import zlib
from dataclasses import replace
from pathlib import PurePosixPath

from lxml import etree
from PIL import Image

from workflows.documents.ooxml_blocks import (
    Block,
    Cell,
    Field,
    Inline,
    LineBreak,
    PageBreak,
    Paragraph,
    Parsed,
    Picture,
    Row,
    Section,
    Tab,
    Table,
    Text,
    column_widths,
)
from workflows.documents.ooxml_elements import (
    NAMESPACES,
    W,
    plain_number,
    plain_text,
    w_attr,
    w_number,
    w_on,
    w_tag,
)
from workflows.documents.ooxml_numbering import Numbering
from workflows.documents.ooxml_styles import (
    JUSTIFICATION,
    TWIP,
    Border,
    ParaStyle,
    RunStyle,
    apply_ppr,
    apply_rpr,
    parse_color,
    read_borders,
    read_margins,
    unsupported_properties,
)

_R = "{" + NAMESPACES["r"] + "}"
_MATH = ("{" + NAMESPACES["m"] + "}oMath", "{" + NAMESPACES["m"] + "}oMathPara")
_ALTERNATE = "{" + NAMESPACES["mc"] + "}AlternateContent"
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_EMU = 1 / 12700  # points


# --------------------------------------------------------------------------- reading the package


class _Reader:
    """Reads a .docx package into the model of ``ooxml_blocks``, noting what is outside the subset."""

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
        compat = settings.find(f"{W}compat/{W}doNotExpandShiftReturn") if settings is not None else None
        self.expand_shift_return = not w_on(compat)
        self.override_table_size_and_alignment = settings is not None and any(
            setting.get(W + "name") == "overrideTableStyleFontSizeAndJustification"
            and setting.get(W + "val") in ("1", "true")
            for setting in settings.iterfind(f"{W}compat/{W}compatSetting")
        )
        self.table_styles: list[str | None] = []  # the style of each table being read, innermost last
        numbering_part = next(
            (n for n in self._rels(self.document_name).values() if n.endswith("numbering.xml")), None
        )
        self.numbering = Numbering(self._xml(numbering_part) if numbering_part else None, self.note)

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
            for rel in rels.iterfind("rel:Relationship", NAMESPACES):
                if rel.get("Type", "").endswith("/officeDocument"):
                    return rel.get("Target", "").lstrip("/")
        return "word/document.xml"

    def _rels(self, part: str) -> dict[str, str]:
        path = PurePosixPath(part)
        rels = self._xml(str(path.parent / "_rels" / (path.name + ".rels")))
        found: dict[str, str] = {}
        if rels is None:
            return found
        for rel in rels.iterfind("rel:Relationship", NAMESPACES):
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
        defaults = root.find(w_tag("docDefaults"))
        if defaults is not None:
            styles["rpr"] = apply_rpr({}, defaults.find(f"{W}rPrDefault/{W}rPr"))
            styles["ppr"] = apply_ppr({}, defaults.find(f"{W}pPrDefault/{W}pPr"))
        for style in root.iterfind(w_tag("style")):
            style_id = w_attr(style, "styleId")
            based = style.find(w_tag("basedOn"))
            styles["by_id"][style_id] = {
                "type": w_attr(style, "type"),
                "based": w_attr(based, "val"),
                "ppr": style.find(w_tag("pPr")),
                "rpr": style.find(w_tag("rPr")),
                "tblpr": style.find(w_tag("tblPr")),
                "conditional": style.find(w_tag("tblStylePr")) is not None,
            }
            if w_attr(style, "default") in ("1", "true", "on"):
                if w_attr(style, "type") == "paragraph":
                    styles["default_para"] = style_id
                elif w_attr(style, "type") == "table":
                    styles["cell_margins"] = style.find(f"{W}tblPr/{W}tblCellMar")
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
                ppr, rpr = apply_ppr(ppr, style["ppr"]), apply_rpr(rpr, style["rpr"])
        for style in self._chain(style_id):
            ppr, rpr = apply_ppr(ppr, style["ppr"]), apply_rpr(rpr, style["rpr"])
        if table_chain and style_id == default:
            normal_ppr, normal_rpr = dict(ppr), dict(rpr)
            for style in table_chain:
                ppr, rpr = apply_ppr(ppr, style["ppr"]), apply_rpr(rpr, style["rpr"])
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
            rpr = apply_rpr(rpr, style["rpr"])
        return rpr

    # -- the document
    def read(self) -> Parsed:
        root = self._xml(self.document_name)
        if root is None:
            raise ValueError("the .docx has no main document part")
        body = root.find(w_tag("body"))
        if body is None:
            raise ValueError("the .docx document has no body")
        self.rels = self._rels(self.document_name)
        blocks = self.blocks(body, self.rels, top=True)
        sect = body.find(w_tag("sectPr"))
        section = self.section(sect)
        if root.find(f".//{W}pPr/{W}sectPr") is not None:
            self.note("several sections (w:sectPr in a paragraph)")
        return Parsed(blocks, section, self.core(), self.features)

    def section(self, sect: etree._Element | None) -> Section:
        section = Section()
        if sect is None:
            return section
        size = sect.find(w_tag("pgSz"))
        if size is not None:
            section.width = w_number(size, "w", 11906) * TWIP
            section.height = w_number(size, "h", 16838) * TWIP
        margins = sect.find(w_tag("pgMar"))
        if margins is not None:
            for name in ("top", "bottom", "left", "right", "header", "footer"):
                if w_attr(margins, name) is not None:
                    setattr(section, name, abs(w_number(margins, name)) * TWIP)
        section.title_page = bool(w_on(sect.find(w_tag("titlePg"))))
        start = sect.find(w_tag("pgNumType"))
        if w_attr(start, "start") is not None:
            section.first_number = int(w_number(start, "start", 1))
        cols = sect.find(w_tag("cols"))
        if cols is not None and w_number(cols, "num", 1) > 1:
            self.note("several columns (w:cols)")
        for kind, target in (("header", section.headers), ("footer", section.footers)):
            for ref in sect.iterfind(w_tag(f"{kind}Reference")):
                which = w_attr(ref, "type", "default") or "default"
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
            el = root.find(path, NAMESPACES)
            if el is not None and (el.text or "").strip():
                core[key] = el.text.strip()
        return core

    def blocks(self, parent: etree._Element, rels: dict[str, str], *, top: bool) -> list[Block]:
        blocks: list[Block] = []
        for child in parent:
            tag = child.tag
            if tag == w_tag("p"):
                blocks.extend(self.paragraph(child, rels, top=top))
            elif tag == w_tag("tbl"):
                blocks.append(self.table(child, rels))
            elif tag == w_tag("sdt"):
                content = child.find(w_tag("sdtContent"))
                if content is not None:
                    blocks.extend(self.blocks(content, rels, top=top))
            elif tag in (w_tag("customXml"), w_tag("ins")):
                blocks.extend(self.blocks(child, rels, top=top))
            elif tag in _IGNORED_BLOCK_CHILDREN:
                continue
            elif isinstance(tag, str) and not tag.startswith(W + "commentRange"):
                name = etree.QName(tag).localname
                self.note(f"block element {name}")
                text = plain_text(child)
                if text:
                    base = RunStyle(**self.para_props(None)[1])
                    blocks.append(Paragraph(ParaStyle(**self.para_props(None)[0]), base, [Text(text, base)]))
        return blocks

    def paragraph(self, p: etree._Element, rels: dict[str, str], *, top: bool) -> list[Paragraph]:
        ppr = p.find(w_tag("pPr"))
        style_id = w_attr(ppr.find(w_tag("pStyle")), "val") if ppr is not None else None
        pprops, rprops = self.para_props(style_id, self.table_styles[-1] if self.table_styles else None)
        chain = self._chain(style_id or self.styles["default_para"])
        level = self.numbering.level_of([*(st["ppr"] for st in chain), ppr])
        if level is not None:  # the level's indents over the style's, under direct formatting
            pprops = apply_ppr(pprops, level.ppr)
        pprops = {
            **apply_ppr(pprops, ppr),
            "expand_shift_return": self.expand_shift_return,
            "style_id": style_id or self.styles["default_para"],
        }
        for style in [*chain, {"ppr": ppr, "rpr": None}]:
            for feature in unsupported_properties(style["ppr"], style["rpr"]):
                self.note(feature)
        mark = RunStyle(**apply_rpr(rprops, ppr.find(w_tag("rPr")) if ppr is not None else None))
        inlines: list[Inline] = []
        if level is not None:
            label = self.numbering.label(level)
            if label is not None:
                number_style = RunStyle(
                    **apply_rpr(
                        apply_rpr(rprops, ppr.find(w_tag("rPr")) if ppr is not None else None), level.rpr
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
            if tag == w_tag("r"):
                self.run(child, rels, base, out)
            elif tag in (
                w_tag("hyperlink"),
                w_tag("smartTag"),
                w_tag("ins"),
                w_tag("customXml"),
                w_tag("dir"),
                w_tag("bdo"),
            ):
                self.inlines(child, rels, base, out)
            elif tag == w_tag("sdt"):
                content = child.find(w_tag("sdtContent"))
                if content is not None:
                    self.inlines(content, rels, base, out)
            elif tag == w_tag("fldSimple"):
                name = _field_name(w_attr(child, "instr", "") or "")
                if name in _PAGE_FIELDS:
                    first = child.find(f".//{W}r")
                    style = self.run_style(first, base) if first is not None else RunStyle(**base)
                    out.append(Field(name, style))
                else:
                    self.note(f"field {name or '?'}")
                    self.inlines(child, rels, base, out)
            elif tag in _MATH:
                self.note("equation (m:oMath)")
                text = plain_text(child)
                if text:
                    out.append(Text(text, RunStyle(**base)))
            elif tag == w_tag("footnoteReference") or tag == w_tag("endnoteReference"):
                self.note("footnotes")

    def run_style(self, r: etree._Element, base: dict) -> RunStyle:
        rpr = r.find(w_tag("rPr"))
        props = base
        if rpr is not None:
            style_id = w_attr(rpr.find(w_tag("rStyle")), "val")
            props = self.char_props(tuple(sorted(base.items())), style_id)
            props = apply_rpr(props, rpr)
            for source in [rpr, *(style["rpr"] for style in self._chain(style_id))]:
                for feature in unsupported_properties(None, source):
                    self.note(feature)
        return RunStyle(**props)

    def run(self, r: etree._Element, rels: dict[str, str], base: dict, out: list[Inline]) -> None:
        style = self.run_style(r, base)
        for child in r:
            tag = child.tag
            # A complex field: PAGE/NUMPAGES are computed, any other shows its last result.
            if tag == w_tag("fldChar"):
                kind = w_attr(child, "fldCharType")
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
            if tag == w_tag("instrText"):
                if self._field:
                    self._field[0] += child.text or ""
                continue
            if self._field and self._field[1] in ("instr", "skip"):
                continue
            if style.hidden:
                continue
            if tag == w_tag("t"):
                if child.text:
                    out.append(Text(child.text, style))
            elif tag in (w_tag("tab"), w_tag("ptab")):
                out.append(Tab(style))
            elif tag == w_tag("br"):
                kind = w_attr(child, "type", "textWrapping")
                out.append(PageBreak() if kind in ("page", "column") else LineBreak(style))
            elif tag == w_tag("cr"):
                out.append(LineBreak(style))
            elif tag == w_tag("noBreakHyphen"):
                out.append(Text("\u2011", style))
            elif tag == w_tag("sym"):
                self.note("symbol characters (w:sym)")
            elif tag == w_tag("drawing"):
                self.drawing(child, rels, style, out)
            elif tag == _ALTERNATE:
                choice = child.find("mc:Choice", NAMESPACES)
                chosen = choice if choice is not None else child.find("mc:Fallback", NAMESPACES)
                if chosen is not None:
                    fake = etree.Element(w_tag("r"))
                    fake.extend(list(chosen))
                    self.run(fake, rels, base, out)
            elif tag == w_tag("pict"):
                self.note("VML picture or text box (w:pict)")
                self._boxed_text(child, style, out)
            elif tag == w_tag("object"):
                self.note("embedded object (w:object)")
            elif tag in (w_tag("footnoteReference"), w_tag("endnoteReference")):
                self.note("footnotes")
            elif tag in (w_tag("rPr"), w_tag("lastRenderedPageBreak"), w_tag("softHyphen"), w_tag("delText")):
                continue
            elif isinstance(tag, str):
                self.note(f"run element {etree.QName(tag).localname}")

    def _boxed_text(self, element: etree._Element, style: RunStyle, out: list[Inline]) -> bool:
        boxes = list(element.iter(w_tag("txbxContent")))
        for box in boxes[:1]:
            text = " ".join(t for t in (plain_text(p) for p in box.iter(w_tag("p"))) if t)
            if text:
                out.append(Text(f" {text} ", style))
        return bool(boxes)

    def drawing(
        self, drawing: etree._Element, rels: dict[str, str], style: RunStyle, out: list[Inline]
    ) -> None:
        frame = drawing.find("wp:inline", NAMESPACES)
        if frame is None:
            frame = drawing.find("wp:anchor", NAMESPACES)
            if frame is None:
                self.note("drawing of an unknown kind")
                return
            if any(True for _ in frame.iter(w_tag("txbxContent"))):
                self.note("text box")
                self._boxed_text(frame, style, out)
                return
            self.note("floating picture (wp:anchor)")
        extent = frame.find("wp:extent", NAMESPACES)
        blip = frame.find(".//a:blip", NAMESPACES)
        target = rels.get(blip.get(_R + "embed", "")) if blip is not None else None
        if target is None or target not in self.names:
            if any(True for _ in frame.iter(w_tag("txbxContent"))):
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
        width = plain_number(extent, "cx") * _EMU
        height = plain_number(extent, "cy") * _EMU
        if width > 0 and height > 0:
            out.append(Picture(data, width, height, style))

    def table(self, tbl: etree._Element, rels: dict[str, str]) -> Table:
        tbl_pr = tbl.find(w_tag("tblPr"))
        style_id = w_attr(tbl_pr.find(w_tag("tblStyle")), "val") if tbl_pr is not None else None
        style_id = style_id or self.styles["default_table"]
        margins = {"top": 0.0, "left": 5.4, "bottom": 0.0, "right": 5.4}
        borders: dict[str, Border | None] = {}
        sources = [self.styles["cell_margins"]]
        for style in self._chain(style_id):
            if style["conditional"]:
                self.note("conditional table style formatting (w:tblStylePr)")
            if style["tblpr"] is not None:
                sources.append(style["tblpr"].find(w_tag("tblCellMar")))
                read_borders(style["tblpr"].find(w_tag("tblBorders")), borders)
        if tbl_pr is not None:
            sources.append(tbl_pr.find(w_tag("tblCellMar")))
            read_borders(tbl_pr.find(w_tag("tblBorders")), borders)
            if tbl_pr.find(w_tag("tblpPr")) is not None:
                self.note("floating table (w:tblpPr)")
        for source in sources:
            read_margins(source, margins)
        align = JUSTIFICATION.get(
            w_attr(tbl_pr.find(w_tag("jc")), "val", "left") if tbl_pr is not None else "left", "left"
        )
        indent = w_number(tbl_pr.find(w_tag("tblInd")), "w") * TWIP if tbl_pr is not None else 0.0
        widths = [w_number(col, "w") * TWIP for col in tbl.iterfind(f"{W}tblGrid/{W}gridCol")]
        rows: list[Row] = []
        self.table_styles.append(style_id)
        try:
            self._rows(tbl, rels, margins, widths, rows)
        finally:
            self.table_styles.pop()
        widths = column_widths(widths, rows)
        for row in rows:
            for cell in row.cells:
                if cell.column + cell.span <= len(widths):
                    cell.width = sum(widths[cell.column : cell.column + cell.span])
        return Table(widths, align, indent, borders, rows)

    def _rows(
        self, tbl: etree._Element, rels: dict[str, str], margins: dict, widths: list[float], rows: list[Row]
    ) -> None:
        for tr in tbl.iterfind(w_tag("tr")):
            tr_pr = tr.find(w_tag("trPr"))
            header = bool(w_on(tr_pr.find(w_tag("tblHeader")))) if tr_pr is not None else False
            cant_split = bool(w_on(tr_pr.find(w_tag("cantSplit")))) if tr_pr is not None else False
            height_el = tr_pr.find(w_tag("trHeight")) if tr_pr is not None else None
            column = int(w_number(tr_pr.find(w_tag("gridBefore")), "val")) if tr_pr is not None else 0
            cells: list[Cell] = []
            for tc in tr.iterfind(w_tag("tc")):
                cell = self.cell(tc, rels, margins, column, widths)
                cells.append(cell)
                column += cell.span
            rows.append(
                Row(
                    cells,
                    header,
                    cant_split,
                    w_number(height_el, "val") * TWIP,
                    w_attr(height_el, "hRule") == "exact",
                )
            )

    def cell(
        self, tc: etree._Element, rels: dict[str, str], margins: dict, column: int, widths: list[float]
    ) -> Cell:
        tc_pr = tc.find(w_tag("tcPr"))
        cell_margins = dict(margins)
        borders: dict[str, Border | None] = {}
        span, valign, fill, vmerge, width = 1, "top", None, None, 0.0
        if tc_pr is not None:
            span = max(int(w_number(tc_pr.find(w_tag("gridSpan")), "val", 1)), 1)
            read_margins(tc_pr.find(w_tag("tcMar")), cell_margins)
            read_borders(tc_pr.find(w_tag("tcBorders")), borders)
            valign = w_attr(tc_pr.find(w_tag("vAlign")), "val", "top") or "top"
            shading = tc_pr.find(w_tag("shd"))
            fill = parse_color(w_attr(shading, "fill"))
            if fill == (255, 255, 255):
                fill = None
            merge = tc_pr.find(w_tag("vMerge"))
            if merge is not None:
                vmerge = w_attr(merge, "val", "continue")
            tcw = tc_pr.find(w_tag("tcW"))
            if w_attr(tcw, "type", "dxa") == "dxa":
                width = w_number(tcw, "w") * TWIP
            if tc_pr.find(w_tag("textDirection")) is not None:
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


_PAGE_FIELDS = ("PAGE", "NUMPAGES", "SECTIONPAGES")
_IGNORED_BLOCK_CHILDREN = frozenset(
    w_tag(tag)
    for tag in ("sectPr", "tcPr", "bookmarkStart", "bookmarkEnd", "proofErr", "del", "permStart", "permEnd")
)


def _field_name(instruction: str) -> str:
    words = instruction.split()
    return words[0].upper() if words else ""


def read_docx(docx: bytes) -> Parsed:
    """The document model of ``docx``; not a .docx, or a part that is not well-formed → ``ValueError``."""
    return _Reader(docx).read()
