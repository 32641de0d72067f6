"""The .docx writer: lays a :class:`~workflows.documents.model.DocumentBody` out in the Decree 30 layout.

* A4, margins top/bottom 20 mm, left 30 mm, right 15 mm, Times New Roman (East-Asian font too);
* a borderless two-column header whose lines each fit on one line (workflows.documents.layout):
  parent agency, agency name (bold) and "Số: …" (and a letter's "V/v …") on the left; the
  national name and motto (bold) and the place and date (italic, local time) on the right;
* the title centred in bold, or a letter's "Kính gửi: …"; the body;
* the closing — "Nơi nhận:" bottom-left, the signature bottom-right — in one table row that may
  not split across pages (``w:cantSplit``), the last body paragraph kept with it (``w:keepNext``);
* page numbers from page 2, centred in the top margin (``w:titlePg``: the first page's header is
  empty), the verification line in the footer of every page;
* a verification block: the verification code, a QR code of the verify URL and the URL itself
  (Vietnamese first, English second).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC

from docx.opc.coreprops import CoreProperties
from docx.oxml.coreprops import CT_CoreProperties
from docx.oxml.ns import qn
from docx.shared import Cm, Mm
from lxml import etree

from workflows.clock import to_local
from workflows.documents.authority import DIRECTOR, NoSigningAuthority, authority_lines
from workflows.documents.docx_package import _base, _deflate, _zip
from workflows.documents.layout import (
    AGENCY_PT,
    AGENCY_RULE_MM,
    BODY_PT,
    DRAFT_FOOTER,
    DRAFT_NOTICE_EN,
    DRAFT_NOTICE_VI,
    EXCERPT_PT,
    HEADER_CELL_MARGIN_MM,
    HEADER_LEFT_MM,
    HEADER_PT,
    HEADER_RIGHT_MM,
    MOTTO_PT,
    MOTTO_RULE_MM,
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    NATIONAL_PT,
    QR_WIDTH,
    RECIPIENTS_HEAD_PT,
    RECIPIENTS_PT,
    SMALL_PT,
    TEXT_WIDTH_MM,
    TINY_PT,
)
from workflows.documents.model import (
    DocumentBody,
    DocumentContext,
    DocumentKind,
    Grid,
    Para,
    Span,
    kind_named,
)
from workflows.documents.qr import qr_png
from workflows.documents.text import place_and_date

# --------------------------------------------------------------------------- rendering
#
# A rendering runs inside the transaction of the command that issues the result, so it is kept
# cheap: the package (python-docx's default template with the page, margins, fonts and styles set,
# the page-number headers, footer parts and an image part) is built once per process
# (:func:`_base`); a rendering fills a fresh copy of its document and footer XML with lxml, writes
# new core properties and the QR code, and zips these with the deflated bytes of every other part
# reused as they are.
#
# The fonts live in the document defaults and the Normal style (which the Footer style is based
# on); a run only carries its size and its emphasis.


def render_document(ctx: DocumentContext) -> bytes:
    """The .docx bytes of the document. Unknown kind → ``ValueError``.

    The same context renders to the same bytes (package timestamps are pinned to ``issued_at``).
    """
    kind = kind_named(ctx.kind)
    body = kind.builder(ctx)
    writer = _Writer(ctx)
    writer.header(body)
    if body.is_letter:
        writer.addressees(body)
    else:
        writer.title(body)
    last = len(body.blocks) - 1
    for index, block in enumerate(body.blocks):
        if isinstance(block, Grid):
            writer.grid(block)
        else:
            # The last paragraph of the body goes to the page of the closing (Decree 30 practice:
            # the signature's page carries some of the text).
            writer.para(block, keep_with_next=index == last)
    writer.closing(body)
    writer.verification()
    writer.core_properties(body, kind)
    return writer.to_bytes()


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_RUN_BREAKS = re.compile(r"([\t\r\n])")
_JC = {"justify": "both", "left": "left", "center": "center", "right": "right"}
_FIRST_LINE_INDENT = str(Cm(1.27).twips)
_EDGES = ("top", "left", "bottom", "right", "insideH", "insideV")
_TABLE_LOOK = {  # what python-docx and Word write for a new table
    "w:firstColumn": "1", "w:firstRow": "1", "w:lastColumn": "0", "w:lastRow": "0",
    "w:noHBand": "0", "w:noVBand": "1", "w:val": "04A0",
}  # fmt: skip
_PICTURE = (  # an inline picture, as python-docx writes it; the document holds only this one
    '<wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="1" name="Picture 1"/>'
    '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
    '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
    '<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="image.png"/><pic:cNvPicPr/></pic:nvPicPr>'
    '<pic:blipFill><a:blip r:embed="{r_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
    '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline>'
)

_q = functools.cache(qn)  # "w:p" → "{http://…/main}p"

# The builders below append property elements in schema order, which Word insists on (ECMA-376
# part 1: <w:pPr> pStyle, pBdr, spacing, ind, jc; <w:rPr> b, i, sz; <w:tblPr> tblW, jc, tblBorders,
# tblLayout, tblLook), and write what python-docx wrote for the same layout.


def _clean(text: str) -> str:
    """Text that XML can carry (user input may hold control characters)."""
    return _XML_ILLEGAL.sub("", text)


def _sub(parent: etree._Element, tag: str, attrs: dict[str, str] | None = None) -> etree._Element:
    """Append a ``tag`` child (``"w:jc"``) with ``attrs`` (``{"w:val": "center"}``) to ``parent``."""
    child = etree.SubElement(parent, _q(tag))
    if attrs:
        for name, value in attrs.items():
            child.set(_q(name), value)
    return child


def _twips(points: float) -> str:
    return str(round(points * 20))


def _mm_twips(mm: float) -> str:
    return str(Mm(mm).twips)


def _compact(
    parent: etree._Element,
    align: str = "center",
    *,
    before: float = 0,
    after: float = 0,
    style: str | None = None,
) -> etree._Element:
    """A new paragraph with single line spacing and no space but ``before``/``after`` (points)."""
    p = _sub(parent, "w:p")
    p_pr = _sub(p, "w:pPr")
    if style:
        _sub(p_pr, "w:pStyle", {"w:val": style})
    spacing = {"w:before": _twips(before), "w:after": _twips(after), "w:line": "240", "w:lineRule": "auto"}
    _sub(p_pr, "w:spacing", spacing)
    _sub(p_pr, "w:jc", {"w:val": _JC[align]})
    return p


def _run(p: etree._Element, text: str, size: float, *, bold: bool = False, italic: bool = False) -> None:
    """A run of ``text``; tabs and line breaks become <w:tab/> and <w:br/>, as python-docx does."""
    r = _sub(p, "w:r")
    r_pr = _sub(r, "w:rPr")
    if bold:
        _sub(r_pr, "w:b")
    if italic:
        _sub(r_pr, "w:i")
    _sub(r_pr, "w:sz", {"w:val": str(round(size * 2))})
    for piece in _RUN_BREAKS.split(_clean(text)):
        if piece == "\t":
            _sub(r, "w:tab")
        elif piece in ("\r", "\n"):
            _sub(r, "w:br")
        elif piece:
            t = _sub(r, "w:t")
            t.text = piece
            if len(piece.strip()) < len(piece):
                t.set(_q("xml:space"), "preserve")


def _short_rule(parent: etree._Element, width_mm: float, container_mm: float, *, after: float = 0) -> None:
    """A short centred horizontal line (the rule under the agency name, motto and title)."""
    side = _mm_twips(max((container_mm - width_mm) / 2, 0))
    p = _sub(parent, "w:p")
    p_pr = _sub(p, "w:pPr")
    borders = _sub(p_pr, "w:pBdr")
    _sub(borders, "w:top", {"w:val": "single", "w:sz": "6", "w:space": "1", "w:color": "000000"})
    _sub(
        p_pr, "w:spacing", {"w:before": "0", "w:after": _twips(after), "w:line": "80", "w:lineRule": "exact"}
    )
    _sub(p_pr, "w:ind", {"w:left": side, "w:right": side})
    _sub(p_pr, "w:jc", {"w:val": "center"})
    _run(p, "", 4)


def _table(
    parent: etree._Element,
    widths_mm: Sequence[float],
    rows: int = 1,
    *,
    lined: Iterable[str] = (),
    header_row: bool = False,
    cant_split: bool = False,
    cell_margin_mm: float | None = None,
) -> list[list[etree._Element]]:
    """A centred fixed-layout table; ``lined`` edges get a thin line, the others none.

    ``cant_split``: no row breaks across pages; ``cell_margin_mm``: the cells' left and right
    margins (else the table style's). Returns the (still empty) cells by row; every cell must be
    given at least one paragraph.
    """
    lined = set(lined)
    widths = [_mm_twips(width) for width in widths_mm]
    tbl = _sub(parent, "w:tbl")
    tbl_pr = _sub(tbl, "w:tblPr")
    _sub(tbl_pr, "w:tblW", {"w:type": "auto", "w:w": "0"})
    _sub(tbl_pr, "w:jc", {"w:val": "center"})
    borders = _sub(tbl_pr, "w:tblBorders")
    for edge in _EDGES:
        if edge in lined:
            _sub(borders, f"w:{edge}", {"w:val": "single", "w:sz": "4", "w:space": "0", "w:color": "000000"})
        else:
            _sub(borders, f"w:{edge}", {"w:val": "nil"})
    _sub(tbl_pr, "w:tblLayout", {"w:type": "fixed"})
    if cell_margin_mm is not None:
        margins = _sub(tbl_pr, "w:tblCellMar")
        for edge in ("left", "right"):
            _sub(margins, f"w:{edge}", {"w:w": _mm_twips(cell_margin_mm), "w:type": "dxa"})
    _sub(tbl_pr, "w:tblLook", _TABLE_LOOK)
    grid = _sub(tbl, "w:tblGrid")
    for width in widths:
        _sub(grid, "w:gridCol", {"w:w": width})
    cells = []
    for index in range(rows):
        tr = _sub(tbl, "w:tr")
        if cant_split or (header_row and index == 0):
            tr_pr = _sub(tr, "w:trPr")
            if cant_split:
                _sub(tr_pr, "w:cantSplit")
            if header_row and index == 0:
                _sub(tr_pr, "w:tblHeader")  # repeats on every page
        row = []
        for width in widths:
            tc = _sub(tr, "w:tc")
            _sub(_sub(tc, "w:tcPr"), "w:tcW", {"w:type": "dxa", "w:w": width})
            row.append(tc)
        cells.append(row)
    return cells


class _Writer:
    """Lays a document out; one instance per rendering."""

    def __init__(self, ctx: DocumentContext) -> None:
        self.ctx = ctx
        self.base = _base()
        self.document = etree.fromstring(self.base.document_xml)
        self.body = self.document.find(_q("w:body"))
        self.footer = etree.fromstring(self.base.footer_xml)
        self.core = CT_CoreProperties.new()
        self.image = b""

    def _line(
        self,
        container,
        text: str,
        size: float,
        *,
        bold=False,
        italic=False,
        align="center",
        before=0.0,
        after=0.0,
    ) -> etree._Element:
        p = _compact(container, align, before=before, after=after)
        _run(p, text, size, bold=bold, italic=italic)
        return p

    # -- parts of the page
    def header(self, body: DocumentBody) -> None:
        """Decree 30, Phụ lục I: the agency (ô 2) and the number (ô 3) left, the national name
        and motto (ô 1) and the place and date (ô 4) right; a letter's excerpt (ô 5b) under its
        number."""
        ctx = self.ctx
        left_mm, right_mm = HEADER_LEFT_MM, HEADER_RIGHT_MM
        (agency, nation), (number, when) = _table(
            self.body, (left_mm, right_mm), 2, cell_margin_mm=HEADER_CELL_MARGIN_MM
        )
        if ctx.agency_parent.strip():
            self._line(agency, ctx.agency_parent.upper(), AGENCY_PT)
        self._line(agency, ctx.agency_name.upper(), AGENCY_PT, bold=True)
        _short_rule(agency, AGENCY_RULE_MM, left_mm - 2 * HEADER_CELL_MARGIN_MM)
        self._line(nation, NATIONAL_NAME, NATIONAL_PT, bold=True)
        self._line(nation, NATIONAL_MOTTO, MOTTO_PT, bold=True)
        _short_rule(nation, MOTTO_RULE_MM, right_mm - 2 * HEADER_CELL_MARGIN_MM)
        self._line(number, f"Số: {ctx.number}", HEADER_PT, after=0 if body.is_letter else 6)
        if body.is_letter:
            self._line(number, f"V/v {body.excerpt}", EXCERPT_PT, before=3, after=6)
        self._line(when, place_and_date(ctx.place, ctx.issued_at), BODY_PT, italic=True, after=6)

    def addressees(self, body: DocumentBody) -> None:
        """A letter's "Kính gửi:" (Phụ lục I: 14 pt upright; one addressee on the same line, more
        one a line with "-", ";" and a final ".")."""
        names = [" ".join(_clean(name).split()).rstrip(";.") for name in body.to]
        names = [name for name in names if name]
        if not names:
            raise ValueError(f"{self.ctx.kind}: a letter needs its addressees (DocumentBody.to)")
        if len(names) == 1:
            self._line(self.body, f"Kính gửi: {names[0]}.", BODY_PT, before=18, after=12)
            return
        self._line(self.body, "Kính gửi:", BODY_PT, before=18)
        for index, name in enumerate(names):
            end = "." if index == len(names) - 1 else ";"
            self._line(self.body, f"- {name}{end}", BODY_PT, after=12 if end == "." else 0)

    def title(self, body: DocumentBody) -> None:
        self._line(self.body, body.heading, BODY_PT, bold=True, before=18)
        if body.subject:
            self._line(self.body, body.subject, BODY_PT, bold=True)
        _short_rule(self.body, 30, TEXT_WIDTH_MM, after=12)

    def para(self, block: Para, *, keep_with_next: bool = False) -> None:
        """Body paragraphs keep the Normal style's spacing (0 before, 6 pt after, 1.15 lines)."""
        p = _sub(self.body, "w:p")
        p_pr = _sub(p, "w:pPr")
        if keep_with_next:
            _sub(p_pr, "w:keepNext")
            _sub(p_pr, "w:keepLines")
        if block.indent:
            _sub(p_pr, "w:ind", {"w:firstLine": _FIRST_LINE_INDENT})
        _sub(p_pr, "w:jc", {"w:val": _JC[block.align]})
        for part in block.parts:
            span = part if isinstance(part, Span) else Span(part)
            if span.text:
                _run(p, span.text, BODY_PT, bold=span.bold, italic=span.italic)

    def grid(self, block: Grid) -> None:
        cols = len(block.header)
        widths = block.widths_mm or tuple(TEXT_WIDTH_MM / cols for _ in range(cols))
        cells = _table(self.body, widths, 1 + len(block.rows), lined=_EDGES, header_row=True)
        for r, (row, values) in enumerate(zip(cells, (block.header, *block.rows), strict=True)):
            for c, (cell, value) in enumerate(zip(row, values, strict=True)):
                p = _compact(cell, "center" if r == 0 or c == 0 else "left")
                _run(p, value, SMALL_PT + 2, bold=r == 0)
        _compact(self.body, after=6)

    def closing(self, body: DocumentBody) -> None:
        """The recipients ("Nơi nhận") and the signature: one row that does not split across pages."""
        ((left, right),) = _table(self.body, (80.0, TEXT_WIDTH_MM - 80.0), cant_split=True)
        self._line(left, "Nơi nhận:", RECIPIENTS_HEAD_PT, bold=True, italic=True, align="left", before=12)
        items = [_clean(r).strip().rstrip(";.").strip() for r in body.recipients]
        items = [i for i in items if i]
        for index, item in enumerate(items):
            end = "." if index == len(items) - 1 else ";"
            self._line(left, f"- {item}{end}", RECIPIENTS_PT, align="left")

        signature = [(line, True, False) for line in self._signature_lines(body)]
        mark = ("DỰ THẢO", True, False) if self.ctx.draft else ("(Đã ký)", False, True)
        signature += [("", False, False)] * 2 + [mark, ("", False, False)]
        signature.append((self.ctx.signer_name, True, False))
        for index, (text, bold, italic) in enumerate(signature):
            self._line(right, text, BODY_PT, bold=bold, italic=italic, before=12 if index == 0 else 0)

    def _signature_lines(self, body: DocumentBody) -> tuple[str, ...]:
        """The title the form prescribes, else the signer's authority (a draft prepared for a
        signer not yet known: the director's title)."""
        if body.signer_title:
            return tuple(line.strip().upper() for line in body.signer_title.splitlines() if line.strip())
        try:
            return authority_lines(self.ctx.signer_title)
        except NoSigningAuthority:
            if self.ctx.draft:
                return (DIRECTOR,)
            raise NoSigningAuthority(
                f"{self.ctx.kind} must be signed by an authority (GIÁM ĐỐC, KT./TL./TUQ. GIÁM ĐỐC), "
                f"not {self.ctx.signer_title!r}"
            ) from None

    def verification(self) -> None:
        if self.ctx.draft:
            self._draft_notice()
            return
        ctx = self.ctx
        _compact(self.body, after=12)
        ((qr_cell, text_cell),) = _table(self.body, (30.0, TEXT_WIDTH_MM - 30.0), lined=("top",))
        self.image = qr_png(ctx.verify_url)
        picture = _sub(_sub(_compact(qr_cell, "left", before=3), "w:r"), "w:drawing")
        # The PNG is square: as wide as it is high.
        picture.append(etree.fromstring(_PICTURE.format(cx=QR_WIDTH, cy=QR_WIDTH, r_id=self.base.image_r_id)))

        p = self._line(text_cell, "", SMALL_PT, align="left", before=6)
        _run(p, "Mã xác thực: ", SMALL_PT)
        _run(p, ctx.verification_code, SMALL_PT + 1, bold=True)
        p = self._line(text_cell, "", SMALL_PT, align="left")
        _run(p, f"{ctx.reference_label}: ", SMALL_PT)
        _run(p, ctx.dossier_code, SMALL_PT, bold=True)
        self._line(text_cell, f"Tra cứu/xác thực văn bản tại: {ctx.verify_url}", SMALL_PT, align="left")
        self._line(
            text_cell,
            f"Verify this document at {ctx.verify_url} (verification code {ctx.verification_code}).",
            TINY_PT,
            italic=True,
            align="left",
        )

        footer = _compact(self.footer, style="Footer")
        _run(
            footer,
            f"{ctx.reference_label} {ctx.dossier_code} · Mã xác thực {ctx.verification_code} · {ctx.verify_url}",
            TINY_PT,
            italic=True,
        )

    def _draft_notice(self) -> None:
        """Where an issued document has its verification block: a draft says it has none."""
        self.image = qr_png("draft")  # the package's picture part is kept; nothing shows it
        _compact(self.body, after=12)
        ((cell,),) = _table(self.body, (TEXT_WIDTH_MM,), lined=("top",))
        self._line(cell, DRAFT_NOTICE_VI, SMALL_PT, bold=True, align="left", before=6)
        self._line(cell, DRAFT_NOTICE_EN, TINY_PT, italic=True, align="left")
        _run(_compact(self.footer, style="Footer"), DRAFT_FOOTER, TINY_PT, italic=True)

    def core_properties(self, body: DocumentBody, kind: DocumentKind) -> None:
        set_core_properties(CoreProperties(self.core), self.ctx, body.title, kind)

    def to_bytes(self) -> bytes:
        base = self.base
        self.body.append(self.body.find(_q("w:sectPr")))  # moved back to the end, after the content
        own = {
            base.document_name: _xml(self.document),
            # The first page's footer is the other pages': only the page number is left off page 1.
            base.footer_name: _xml(self.footer),
            base.first_footer_name: _xml(self.footer),
            base.core_name: _xml(self.core),
            base.image_name: self.image,
        }
        members = [(name, stored or _deflate(own[name])) for name, stored in base.members]
        return _zip(members, to_local(self.ctx.issued_at))


def _xml(element: etree._Element) -> bytes:
    """An XML part as python-docx stores one."""
    return etree.tostring(element, encoding="UTF-8", standalone=True)


def set_core_properties(props: CoreProperties, ctx: DocumentContext, title: str, kind: DocumentKind) -> None:
    """A document's core properties, whichever way it is rendered (this writer or a template):
    what it is, its number and verification code, its dates pinned to ``issued_at`` so the same
    context gives the same bytes."""
    issued_utc = ctx.issued_at.astimezone(UTC) if ctx.issued_at.tzinfo else ctx.issued_at
    issued_naive = issued_utc.replace(tzinfo=None)
    props.title = _clean(title)[:255]
    props.subject = _clean(f"{kind.title_en} — {ctx.dossier_code}")[:255]
    props.author = _clean(ctx.agency_name)[:255]
    props.last_modified_by = _clean(ctx.agency_name)[:255]
    props.identifier = _clean(ctx.number)[:255]
    props.keywords = _clean(f"{ctx.dossier_code}; {ctx.verification_code}")[:255]
    props.comments = _clean(f"Tra cứu/xác thực văn bản tại: {ctx.verify_url}")[:255]
    props.category = ctx.kind
    props.language = "vi-VN"
    props.revision = 1
    props.created = issued_naive
    props.modified = issued_naive
    props.last_printed = issued_naive
