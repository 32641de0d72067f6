"""Official documents (.docx) in the layout of Decree 30/2020/NĐ-CP.

Every output of a dossier — notices, refusals, slips — is built here. A *kind* of document is a
small builder that turns a :class:`DocumentContext` into a :class:`DocumentBody` (the heading, the
body blocks, the recipients); one renderer lays every kind out the same way:

* A4, margins top/bottom 20 mm, left 30 mm, right 15 mm, Times New Roman (East-Asian font too);
* a borderless two-column header: parent agency, agency name (bold) and "Số: …" on the left; the
  national name and motto (bold) and the place and date (italic, local time) on the right;
* the title centred in bold, the body, "Nơi nhận:" bottom-left and the signature bottom-right;
* a verification block: the verification code, a QR code of the verify URL and the URL itself
  (Vietnamese first, English second).

To add a kind, write a builder and decorate it with :func:`document_kind`.

The QR code comes from the ``qrcode`` package (PNG through Pillow).
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import re
import secrets
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import qrcode
import qrcode.constants
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.coreprops import CoreProperties
from docx.oxml.coreprops import CT_CoreProperties
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from lxml import etree
from PIL import Image

from workflows.clock import as_utc, to_local

__all__ = [
    "DOCUMENT_KINDS",
    "NATIONAL_MOTTO",
    "NATIONAL_NAME",
    "OUTCOMES_VI",
    "PROCESS_COLUMNS",
    "DocumentBody",
    "DocumentContext",
    "DocumentKind",
    "Grid",
    "Para",
    "Span",
    "agency_in_text",
    "document_kind",
    "document_title",
    "new_verification_code",
    "normalise_verification_code",
    "place_and_date",
    "qr_png",
    "render_document",
    "sha256_hex",
]

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"

FONT = "Times New Roman"
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH_MM = 210 - 30 - 15

BODY_PT = 14  # body, title, motto, place and date, signer
HEADER_PT = 13  # national name, agency names, number
RECIPIENTS_HEAD_PT = 12  # "Nơi nhận:"
RECIPIENTS_PT = 11
SMALL_PT = 10  # verification block
TINY_PT = 9  # English line, page footer
DRAFT_NOTICE_VI = "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực."
DRAFT_NOTICE_EN = "Draft, not issued: no number, not verifiable."
DRAFT_FOOTER = "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable"
QR_WIDTH = Mm(24)


# --------------------------------------------------------------------------- public data types


@dataclass(frozen=True)
class DocumentContext:
    """Everything a document needs; ``data`` is the dossier's form data plus decision keys."""

    kind: str
    number: str  # "15/TB-SKHCN"
    issued_at: datetime  # aware; shown in the office's time zone
    agency_parent: str  # "UBND TỈNH QUẢNG TRỊ"
    agency_name: str  # "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    place: str  # "Quảng Trị"
    dossier_code: str  # "000.00.15.H50-261126-0001"
    applicant_name: str
    applicant_tax_code: str
    applicant_address: str
    data: dict
    signer_name: str
    signer_title: str  # "PHÓ GIÁM ĐỐC" (→ "KT. GIÁM ĐỐC" above it), or lines joined by "\n"
    verification_code: str
    verify_url: str
    received_at: datetime | None = None  # receipt instant of the complete dossier
    # The applicant's contact details from the start form (representative, phone, email...).
    applicant_contact: Mapping[str, Any] = field(default_factory=dict)
    # What ``dossier_code`` is, in the verification block and footer: a dossier's code, or the
    # symbol of what a document of no dossier was issued for (a WTO notification, an award round).
    reference_label: str = "Mã hồ sơ"
    # An unissued draft (no number, no verification code): "DỰ THẢO" where the signature's
    # "(Đã ký)" goes, and a notice that it is not verifiable instead of the code and QR.
    draft: bool = False
    # Values of this slip that are not form data: the appointment, the items to supplement, the
    # steps of the process… (see each kind). Kept as a read-only copy of what was given.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra or {})))


@dataclass(frozen=True)
class Span:
    """A run of text with emphasis."""

    text: str
    bold: bool = False
    italic: bool = False


Inline = str | Span


@dataclass(frozen=True)
class Para:
    """A body paragraph (justified, first-line indent, unless told otherwise)."""

    parts: tuple[Inline, ...]
    align: str = "justify"  # "justify" | "left" | "center"
    indent: bool = True


@dataclass(frozen=True)
class Grid:
    """A bordered data table; the header row is bold and repeats on every page."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...] = ()


Block = Para | Grid


@dataclass(frozen=True)
class DocumentBody:
    """What a builder returns: the title lines, the body blocks and the recipients."""

    heading: str  # "THÔNG BÁO", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"
    subject: str = ""  # "Tiếp nhận hồ sơ công bố hợp chuẩn"
    blocks: tuple[Block, ...] = ()
    recipients: tuple[str, ...] = field(default_factory=tuple)  # without "- " and final ";"/"."
    # The title over the signature when the form prescribes one ("NGƯỜI TIẾP NHẬN HỒ SƠ");
    # empty: the signer's own title (``DocumentContext.signer_title``).
    signer_title: str = ""

    @property
    def title(self) -> str:
        return f"{self.heading} {self.subject}".strip()


Builder = Callable[[DocumentContext], DocumentBody]


@dataclass(frozen=True)
class DocumentKind:
    title_vi: str  # generic title, for lists and menus
    title_en: str
    symbol: str  # the type symbol in the document number: "TB" in "15/TB-SKHCN"
    builder: Builder


DOCUMENT_KINDS: dict[str, DocumentKind] = {}


def document_kind(kind: str, *, title_vi: str, title_en: str, symbol: str) -> Callable[[Builder], Builder]:
    """Register a builder as a document kind."""

    def register(builder: Builder) -> Builder:
        if kind in DOCUMENT_KINDS:
            raise ValueError(f"document kind {kind!r} is already registered")
        DOCUMENT_KINDS[kind] = DocumentKind(title_vi, title_en, symbol, builder)
        return builder

    return register


# --------------------------------------------------------------------------- small public helpers

# No 0/O, 1/I/L: a code read aloud or copied from paper must not be ambiguous.
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_VERIFICATION_GROUPS, _VERIFICATION_GROUP_LEN = 3, 4


def new_verification_code() -> str:
    """A random code like ``K7QF-2MXR-9HDA`` (12 characters from 31, about 59 bits)."""
    chars = [
        secrets.choice(VERIFICATION_ALPHABET) for _ in range(_VERIFICATION_GROUPS * _VERIFICATION_GROUP_LEN)
    ]
    groups = (
        "".join(chars[i : i + _VERIFICATION_GROUP_LEN]) for i in range(0, len(chars), _VERIFICATION_GROUP_LEN)
    )
    return "-".join(groups)


def normalise_verification_code(typed: str) -> str:
    """What a person typed (any case, spaces, dashes or not) → the canonical ``XXXX-XXXX-XXXX``."""
    bare = re.sub(r"[\s\-]", "", typed).upper()
    if len(bare) != _VERIFICATION_GROUPS * _VERIFICATION_GROUP_LEN:
        return bare
    n = _VERIFICATION_GROUP_LEN
    return "-".join(bare[i : i + n] for i in range(0, len(bare), n))


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def place_and_date(place: str, instant: datetime) -> str:
    """The place and date line, "Quảng Trị, ngày 26 tháng 11 năm 2026", in local time.

    Decree 30/2020 writes a leading zero for days below 10 and for the months 1 and 2 only.
    """
    local = to_local(instant)
    day = f"{local.day:02d}"
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{place}, ngày {day} tháng {month} năm {local.year}"


def document_title(ctx: DocumentContext) -> str:
    """The concrete title of this document, e.g. "THÔNG BÁO Tiếp nhận hồ sơ công bố hợp quy"."""
    return _kind(ctx.kind).builder(ctx).title


# Any of the eight mask patterns gives a valid code; choosing the "best" one tries all eight and
# was most of a document's rendering time. Pattern 2 (columns) reads well on printed slips.
QR_MASK_PATTERN = 2


def qr_png(text: str, *, module_px: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code of ``text`` (error correction M, a fixed mask pattern)."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=module_px,
        border=border,
        mask_pattern=QR_MASK_PATTERN,
    )
    qr.add_data(text)
    qr.make(fit=True)
    # The module matrix (border included) as a 1-bit image, scaled up without smoothing: the
    # same picture qrcode's PIL factory draws square by square, at a fraction of the cost.
    matrix = qr.get_matrix()
    side = len(matrix)
    modules = Image.new("1", (side, side), 1)
    modules.putdata([0 if dark else 1 for row in matrix for dark in row])
    picture = modules.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- rendering
#
# A rendering runs inside the transaction of the command that issues the result, so it is kept
# cheap: the package (python-docx's default template with the page, margins, fonts and styles set,
# a footer part and an image part) is built once per process (:func:`_base`); a rendering fills a
# fresh copy of its document and footer XML with lxml, writes new core properties and the QR code,
# and zips these with the deflated bytes of every other part reused as they are.
#
# The fonts live in the document defaults and the Normal style (which the Footer style is based
# on); a run only carries its size and its emphasis.


def render_document(ctx: DocumentContext) -> bytes:
    """The .docx bytes of the document. Unknown kind → ``ValueError``.

    The same context renders to the same bytes (package timestamps are pinned to ``issued_at``).
    """
    kind = _kind(ctx.kind)
    body = kind.builder(ctx)
    writer = _Writer(ctx)
    writer.header()
    writer.title(body)
    for block in body.blocks:
        if isinstance(block, Grid):
            writer.grid(block)
        else:
            writer.para(block)
    writer.closing(body)
    writer.verification()
    writer.core_properties(body, kind)
    return writer.to_bytes()


def _kind(name: str) -> DocumentKind:
    try:
        return DOCUMENT_KINDS[name]
    except KeyError:
        known = ", ".join(sorted(DOCUMENT_KINDS))
        raise ValueError(f"unknown document kind {name!r} (known: {known})") from None


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
) -> list[list[etree._Element]]:
    """A centred fixed-layout table; ``lined`` edges get a thin line, the others none.

    Returns the (still empty) cells by row; every cell must be given at least one paragraph.
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
    _sub(tbl_pr, "w:tblLook", _TABLE_LOOK)
    grid = _sub(tbl, "w:tblGrid")
    for width in widths:
        _sub(grid, "w:gridCol", {"w:w": width})
    cells = []
    for index in range(rows):
        tr = _sub(tbl, "w:tr")
        if header_row and index == 0:
            _sub(_sub(tr, "w:trPr"), "w:tblHeader")  # repeats on every page
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
    def header(self) -> None:
        ctx = self.ctx
        left_mm, right_mm = 68.0, TEXT_WIDTH_MM - 68.0
        (agency, nation), (number, when) = _table(self.body, (left_mm, right_mm), 2)
        if ctx.agency_parent.strip():
            self._line(agency, ctx.agency_parent.upper(), HEADER_PT)
        self._line(agency, ctx.agency_name.upper(), HEADER_PT, bold=True)
        _short_rule(agency, 22, left_mm)
        self._line(nation, NATIONAL_NAME, HEADER_PT, bold=True)
        self._line(nation, NATIONAL_MOTTO, BODY_PT, bold=True)
        _short_rule(nation, 62, right_mm)
        self._line(number, f"Số: {ctx.number}", HEADER_PT, after=6)
        self._line(when, place_and_date(ctx.place, ctx.issued_at), BODY_PT, italic=True, after=6)

    def title(self, body: DocumentBody) -> None:
        self._line(self.body, body.heading, BODY_PT, bold=True, before=18)
        if body.subject:
            self._line(self.body, body.subject, BODY_PT, bold=True)
        _short_rule(self.body, 30, TEXT_WIDTH_MM, after=12)

    def para(self, block: Para) -> None:
        """Body paragraphs keep the Normal style's spacing (0 before, 6 pt after, 1.15 lines)."""
        p = _sub(self.body, "w:p")
        p_pr = _sub(p, "w:pPr")
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
        ((left, right),) = _table(self.body, (80.0, TEXT_WIDTH_MM - 80.0))
        self._line(left, "Nơi nhận:", RECIPIENTS_HEAD_PT, bold=True, italic=True, align="left", before=12)
        items = [_clean(r).strip().rstrip(";.").strip() for r in body.recipients]
        items = [i for i in items if i]
        for index, item in enumerate(items):
            end = "." if index == len(items) - 1 else ";"
            self._line(left, f"- {item}{end}", RECIPIENTS_PT, align="left")

        title = body.signer_title or self.ctx.signer_title
        signature = [(line, True, False) for line in _signature_title_lines(title)]
        mark = ("DỰ THẢO", True, False) if self.ctx.draft else ("(Đã ký)", False, True)
        signature += [("", False, False)] * 2 + [mark, ("", False, False)]
        signature.append((self.ctx.signer_name, True, False))
        for index, (text, bold, italic) in enumerate(signature):
            self._line(right, text, BODY_PT, bold=bold, italic=italic, before=12 if index == 0 else 0)

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
        ctx = self.ctx
        props = CoreProperties(self.core)
        issued_utc = ctx.issued_at.astimezone(UTC) if ctx.issued_at.tzinfo else ctx.issued_at
        issued_naive = issued_utc.replace(tzinfo=None)
        props.title = _clean(body.title)[:255]
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

    def to_bytes(self) -> bytes:
        base = self.base
        self.body.append(self.body.find(_q("w:sectPr")))  # moved back to the end, after the content
        own = {
            base.document_name: _xml(self.document),
            base.footer_name: _xml(self.footer),
            base.core_name: _xml(self.core),
            base.image_name: self.image,
        }
        members = [(name, stored or _deflate(own[name])) for name, stored in base.members]
        return _zip(members, to_local(self.ctx.issued_at))


def _xml(element: etree._Element) -> bytes:
    """An XML part as python-docx stores one."""
    return etree.tostring(element, encoding="UTF-8", standalone=True)


# --------------------------------------------------------------------------- the package

_RT_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # the layouts of PKWARE's APPNOTE, as zipfile writes them
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_END_OF_CENTRAL_DIRECTORY = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class _Deflated:
    crc: int
    size: int
    data: bytes


@dataclass(frozen=True)
class _Base:
    """The package every document starts from; see :func:`_base`."""

    members: tuple[tuple[str, _Deflated | None], ...]  # in package order; None: each document's own
    document_xml: bytes  # an empty body but for the section properties
    footer_xml: bytes  # an empty footer
    document_name: str
    footer_name: str
    core_name: str
    image_name: str
    image_r_id: str


def _deflate(raw: bytes) -> _Deflated:
    """``raw`` compressed as zipfile does at its default level."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Deflated(zlib.crc32(raw), len(raw), compressor.compress(raw) + compressor.flush())


@functools.cache
def _base() -> _Base:
    """python-docx's default template set up for Decree 30, once per process.

    Page size and margins, Times New Roman and Vietnamese in the document defaults and the Normal
    style, a footer part and an image part (a placeholder: every document brings its own QR code).
    Its document, footer, core properties and image are replaced by each rendering; the other
    parts are kept deflated, as they are.
    """
    doc = Document()
    # python-docx's template carries a preview picture of another document, and a copy of its
    # styles "with effects" (for Word 2010) that keeps the template's Cambria: drop both, so that
    # every reader gets the styles set below.
    rels = doc.part.package.rels
    for r_id in [r_id for r_id, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        del rels[r_id]
    for r_id in [r_id for r_id, rel in doc.part.rels.items() if rel.reltype == _RT_STYLES_WITH_EFFECTS]:
        del doc.part.rels[r_id]

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance, section.footer_distance = Mm(10), Mm(8)

    # Defaults of the whole document: no theme fonts, Times New Roman everywhere, Vietnamese.
    styles_el = doc.styles.element
    r_pr = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = r_pr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = r_pr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "vi-VN")

    # Every paragraph is Normal or based on it (the footer's): its font is the one a run gets.
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    n_fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    n_fonts.set(qn("w:eastAsia"), FONT)
    n_fonts.set(qn("w:cs"), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.15

    image_r_id, _ = doc.part.get_or_add_image(io.BytesIO(qr_png("placeholder")))
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False  # adds the footer part
    footer_el = footer.part.element
    for child in list(footer_el):
        footer_el.remove(child)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)

    buffer = io.BytesIO()
    doc.save(buffer)
    package_rels = doc.part.package.rels.values()
    names = {
        "document_name": doc.part.partname,
        "footer_name": footer.part.partname,
        "core_name": next(r.target_part.partname for r in package_rels if r.reltype == RT.CORE_PROPERTIES),
        "image_name": doc.part.related_parts[image_r_id].partname,
    }
    names = {key: name.lstrip("/") for key, name in names.items()}
    own = set(names.values())
    with zipfile.ZipFile(buffer) as package:
        members = tuple(
            (name, None if name in own else _deflate(package.read(name))) for name in package.namelist()
        )
        document_xml = package.read(names["document_name"])
        footer_xml = package.read(names["footer_name"])
    return _Base(members, document_xml, footer_xml, image_r_id=image_r_id, **names)


def _zip(members: Sequence[tuple[str, _Deflated]], when: datetime) -> bytes:
    """The zip archive of deflated ``members``, each dated ``when`` (so one context gives one SHA-256).

    What ``zipfile`` writes for the same members, byte for byte, without deflating the parts
    that every document shares again.
    """
    dos_time = when.hour << 11 | when.minute << 5 | when.second // 2
    dos_date = (max(when.year, 1980) - 1980) << 9 | when.month << 5 | when.day
    local, central = bytearray(), bytearray()
    for name, member in members:
        encoded = name.encode("ascii")
        # flags, method (8: deflate), time, date, CRC-32, compressed and full size, name length
        stamp = (0, 8, dos_time, dos_date, member.crc, len(member.data), member.size, len(encoded))
        offset = len(local)
        local += _LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0, *stamp, 0)  # needs version 2.0; no extra
        local += encoded
        local += member.data
        # made by version 2.0 on Unix, needs 2.0; no extra, comment, disk; a -rw-r--r-- file
        central += _CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 3, 20, 0, *stamp, 0, 0, 0, 0, 0o644 << 16, offset)
        central += encoded
    end = _END_OF_CENTRAL_DIRECTORY.pack(
        b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    return bytes(local + central + end)


def _signature_title_lines(title: str) -> list[str]:
    """The signature title lines; a deputy signs on behalf of the head (Decree 30).

    "PHÓ GIÁM ĐỐC" → ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]; several lines may be given joined by "\\n".
    """
    lines = [line.strip().upper() for line in title.splitlines() if line.strip()]
    if len(lines) == 1 and lines[0].startswith("PHÓ "):
        lines.insert(0, "KT. " + lines[0][4:])
    return lines


# --------------------------------------------------------------------------- data helpers for builders


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return _date_vn(value)
    return str(value).strip()


def _section(data: dict, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _date_vn(value: Any) -> str:
    """Show a date: "2026-11-26" / date / datetime → "26/11/2026"; anything else is shown as given."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return to_local(value).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def _join(parts: Iterable[str], sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _labelled(label: str, value: Any) -> str:
    text = _text(value)
    return f"{label} {text}" if text else ""


def _ending(text: str, mark: str) -> str:
    """``text`` closed with ``mark`` unless it already ends in punctuation."""
    return text if text[-1:] in ".;:!?" else text + mark


def _list_of_text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [t for t in (_text(v) for v in value) if t]


_PROPER_WORDS = ("Khoa học", "Công nghệ", "Tiêu chuẩn", "Đo lường", "Chất lượng")


def agency_in_text(name: str) -> str:
    """An agency name as written inside a sentence.

    "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG TRỊ" → "Sở Khoa học và Công nghệ tỉnh Quảng Trị".
    """
    text = " ".join(name.split()).lower()
    if not text:
        return ""
    for word in _PROPER_WORDS:
        text = re.sub(rf"(?<!\w){re.escape(word.lower())}(?!\w)", word, text)
    place = re.search(r"(?<!\w)(tỉnh|thành phố)\s+(.+)$", text)
    if place:
        named = " ".join(s[:1].upper() + s[1:] for s in place.group(2).split())
        text = text[: place.start(2)] + named
    return text[:1].upper() + text[1:]


def _declaration_word(data: dict) -> str:
    return {"hop_chuan": "hợp chuẩn", "hop_quy": "hợp quy"}.get(
        data.get("declaration_type"), "hợp chuẩn/hợp quy"
    )


def _standard_phrase(data: dict) -> str:
    """The standard referred to: "tiêu chuẩn TCVN 7570:2006 …" or "quy chuẩn kỹ thuật QCVN …"."""
    standard = _section(data, "standard")
    reference = _join((_text(standard.get("number")), _text(standard.get("title"))), " ")
    if not reference:
        return ""
    noun = {"hop_chuan": "tiêu chuẩn", "hop_quy": "quy chuẩn kỹ thuật"}.get(
        data.get("declaration_type"), "tiêu chuẩn/quy chuẩn kỹ thuật"
    )
    return f"{noun} {reference}"


def _products(data: dict) -> list[dict]:
    listed = data.get("products")
    if isinstance(listed, list):
        return [p for p in listed if isinstance(p, dict)]
    product = _section(data, "product")
    return [product] if product else []


def _product_short(data: dict) -> str:
    names = []
    for product in _products(data):
        details = _join(
            (_labelled("nhãn hiệu", product.get("trademark")), _labelled("kiểu loại", product.get("model")))
        )
        name = _text(product.get("name"))
        if name:
            names.append(f"{name} ({details})" if details else name)
    return "; ".join(names)


def _product_grid(data: dict) -> Grid | None:
    rows = []
    for index, product in enumerate(_products(data), start=1):
        name = _join((_text(product.get("name")), _text(product.get("description"))), "\n")
        maker = _join((_text(product.get("manufacturer")), _text(product.get("place_of_production"))), "\n")
        rows.append((str(index), name, _text(product.get("trademark")), _text(product.get("model")), maker))
    if not rows:
        return None
    return Grid(
        header=(
            "TT",
            "Tên sản phẩm, hàng hóa",
            "Nhãn hiệu",
            "Kiểu loại, ký hiệu",
            "Nhà sản xuất, nơi sản xuất",
        ),
        rows=tuple(rows),
        widths_mm=(10, 55, 30, 30, 40),
    )


def _basis_phrase(data: dict) -> str:
    basis = data.get("basis")
    if basis == "certificate":
        cert = _section(data, "certificate")
        issued = _join(
            (_labelled("do", cert.get("body")), _labelled("cấp ngày", _date_vn(cert.get("issued_on")))), " "
        )
        detail = _join(
            (
                _join(
                    (_labelled(f"Giấy chứng nhận {_declaration_word(data)} số", cert.get("number")), issued),
                    " ",
                ),
                _labelled("có giá trị đến ngày", _date_vn(cert.get("valid_until"))),
            )
        )
        lead = "kết quả chứng nhận của tổ chức chứng nhận (bên thứ ba)"
        return f"{lead}, theo {detail}" if detail else lead
    if basis == "self_assessment":
        sa = _section(data, "self_assessment")
        report = _join(
            (
                _labelled("Phiếu kết quả thử nghiệm số", sa.get("test_report_number")),
                _labelled("ngày", _date_vn(sa.get("issued_on"))),
                _labelled("của", sa.get("laboratory")),
            ),
            " ",
        )
        lead = "kết quả tự đánh giá của tổ chức, cá nhân"
        return f"{lead}, dựa trên {report}" if report else lead
    return ""


def _applicant_identity(ctx: DocumentContext) -> list[Inline]:
    """The applicant as parts: name in bold, then "(mã số thuế …, địa chỉ: …)"."""
    rest = _join(
        (_labelled("mã số thuế", ctx.applicant_tax_code), _labelled("địa chỉ:", ctx.applicant_address))
    )
    parts: list[Inline] = [Span(_text(ctx.applicant_name), bold=True)]
    if rest:
        parts.append(f" ({rest})")
    return parts


def _received_phrase(ctx: DocumentContext, label: str) -> str:
    return f"{label} {_date_vn(ctx.received_at)}" if ctx.received_at else ""


ONE_STOP_UNIT = "Bộ phận Tiếp nhận và Trả kết quả"
DEFAULT_PROCEDURE = "Công bố hợp chuẩn/hợp quy"


def _procedure_name(ctx: DocumentContext) -> str:
    """The procedure: ``extra["procedure_name"]``, else ``data["procedure_name"]``, else the default."""
    data = ctx.data or {}
    return _text(ctx.extra.get("procedure_name")) or _text(data.get("procedure_name")) or DEFAULT_PROCEDURE


def _applicant_paras(ctx: DocumentContext) -> list[Block]:
    """The applicant as the one-stop-shop slips list it, one line a value (blank values left out)."""
    contact = ctx.applicant_contact
    blocks: list[Block] = [
        Para(("Tổ chức, cá nhân: ", Span(_text(ctx.applicant_name), bold=True)), align="left")
    ]
    for label, value in (
        ("Mã số thuế: ", ctx.applicant_tax_code),
        ("Địa chỉ: ", ctx.applicant_address),
        ("Người đại diện: ", contact.get("representative")),
        ("Số điện thoại: ", contact.get("phone")),
        ("Thư điện tử: ", contact.get("email")),
    ):
        if _text(value):
            blocks.append(Para((label, _text(value)), align="left"))
    return blocks


def _instant(value: Any, what: str) -> datetime | None:
    """``value`` as an instant: a datetime, or an ISO 8601 string (naive is taken as UTC); blank → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{what} is not a date and time: {value!r}")


def _extra_instant(ctx: DocumentContext, key: str, *, required: bool = False) -> datetime | None:
    instant = _instant(ctx.extra.get(key), f"{ctx.kind}: extra[{key!r}]")
    if instant is None and required:
        raise ValueError(f"{ctx.kind} needs extra[{key!r}] (a date and time)")
    return instant


def _extra_days(ctx: DocumentContext, key: str) -> int | None:
    """``extra[key]`` as a positive whole number of days (15, 15.0, "15"), or None when not given."""
    value = ctx.extra.get(key)
    if value is None or value == "":
        return None
    try:
        days = float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        days = 0.0
    if days <= 0 or not days.is_integer():
        raise ValueError(f"{ctx.kind}: extra[{key!r}] must be a positive whole number of days: {value!r}")
    return int(days)


def _instant_vn(instant: datetime) -> str:
    """An instant as the forms write it, in local time: "03 giờ 00 phút, ngày 20/11/2026"."""
    local = to_local(instant)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def _instant_short(instant: datetime | None) -> str:
    """An instant in a table cell, in local time: "03:00 20/11/2026"."""
    return to_local(instant).strftime("%H:%M %d/%m/%Y") if instant else ""


def _end(blocks: list[Block]) -> tuple[Block, ...]:
    """End the body with "./." as Decree 30 does."""
    last = blocks[-1]
    if isinstance(last, Para):
        blocks[-1] = replace(last, parts=(*last.parts, "/."))
    return tuple(blocks)


# --------------------------------------------------------------------------- kinds


@document_kind(
    "declaration_notice",
    title_vi="Thông báo tiếp nhận hồ sơ công bố hợp chuẩn/hợp quy",
    title_en="Notice of receipt of a declaration of conformity",
    symbol="TB",
)
def declaration_notice(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    word = _declaration_word(data)
    agency = agency_in_text(ctx.agency_name)
    standard = _standard_phrase(data)
    applicant = _text(ctx.applicant_name)

    grid = _product_grid(data)
    blocks: list[Block] = [
        Para(
            (
                f"{agency} xác nhận đã nhận hồ sơ công bố {word} của ",
                *_applicant_identity(ctx),
                " cho sản phẩm, hàng hóa sau:" if grid else ".",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    declared = f"Sản phẩm, hàng hóa nêu trên được công bố phù hợp với {standard}" if standard else ""
    if declared:
        blocks.append(Para((declared + ".",)))
    basis = _basis_phrase(data)
    if basis:
        blocks.append(Para(("Phương thức đánh giá sự phù hợp: ", basis, ".")))
    received = _received_phrase(ctx, "; ngày tiếp nhận hồ sơ đầy đủ:")
    blocks.append(Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), f"{received}.")))
    blocks.append(
        Para(
            (
                f"Thông báo này chỉ ghi nhận sự cam kết của {applicant}, "
                "không có giá trị chứng nhận sự phù hợp của sản phẩm, hàng hóa. ",
                f"{applicant} phải chịu hoàn toàn trách nhiệm về sự phù hợp của sản phẩm, "
                "hàng hóa đã công bố; duy trì liên tục và tự giám sát sự phù hợp đó trong quá trình "
                "sản xuất, kinh doanh theo quy định tại Thông tư số 28/2012/TT-BKHCN của Bộ trưởng "
                "Bộ Khoa học và Công nghệ, được sửa đổi, bổ sung bởi Thông tư số 02/2017/TT-BKHCN.",
            )
        )
    )
    cert = _section(data, "certificate")
    if data.get("basis") == "certificate" and _text(cert.get("number")) and _text(cert.get("valid_until")):
        blocks.append(
            Para(
                (
                    "Thông báo này có hiệu lực theo thời hạn của Giấy chứng nhận số "
                    f"{_text(cert.get('number'))} (đến ngày {_date_vn(cert.get('valid_until'))}).",
                )
            )
        )
    return DocumentBody(
        heading="THÔNG BÁO",
        subject=f"Tiếp nhận hồ sơ công bố {word}",
        blocks=_end(blocks),
        recipients=(applicant, "Lưu: VT, TĐC"),
    )


@document_kind(
    "declaration_rejection",
    title_vi="Thông báo không tiếp nhận hồ sơ công bố hợp chuẩn/hợp quy",
    title_en="Notice of non-acceptance of a declaration of conformity",
    symbol="TB",
)
def declaration_rejection(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    reasons = _list_of_text(data.get("rejection_reasons"))
    if not reasons:
        raise ValueError("declaration_rejection needs at least one item in data['rejection_reasons']")
    word = _declaration_word(data)
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)
    product = _product_short(data)
    standard = _standard_phrase(data)

    about = _join(
        (
            f"đối với sản phẩm, hàng hóa {product}" if product else "",
            f"công bố phù hợp với {standard}" if standard else "",
        )
    )
    received = _received_phrase(ctx, ", tiếp nhận ngày")
    blocks: list[Block] = [
        Para(
            (
                f"{agency} đã nhận hồ sơ công bố {word} của ",
                *_applicant_identity(ctx),
                f" {about}" if about else "",
                " (mã hồ sơ ",
                Span(_text(ctx.dossier_code), bold=True),
                f"{received}).",
            )
        ),
        Para((f"Sau khi xem xét, {agency} không tiếp nhận hồ sơ công bố nêu trên vì các lý do sau:",)),
    ]
    last = len(reasons)
    blocks.extend(
        Para((f"{i}. {_ending(reason, '.' if i == last else ';')}",))
        for i, reason in enumerate(reasons, start=1)
    )
    findings = _text(data.get("examination_findings"))
    if findings:
        blocks.append(Para((Span("Kết quả xem xét hồ sơ: ", italic=True), findings)))
    blocks.append(
        Para(
            (
                f"{applicant} có thể khắc phục các nội dung nêu trên và nộp lại hồ sơ công bố {word} "
                "theo quy định.",
            )
        )
    )
    return DocumentBody(
        heading="THÔNG BÁO",
        subject=f"Không tiếp nhận hồ sơ công bố {word}",
        blocks=_end(blocks),
        recipients=(applicant, "Lưu: VT, TĐC"),
    )


@document_kind(
    "receipt_refusal",
    title_vi="Phiếu từ chối tiếp nhận giải quyết hồ sơ (Mẫu 03, Thông tư 01/2018/TT-VPCP)",
    title_en="Refusal to receive a dossier (form 03, Circular 01/2018/TT-VPCP)",
    symbol="PTC",
)
def receipt_refusal(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    reason = _text(data.get("refusal_reason"))
    if not reason:
        raise ValueError("receipt_refusal needs data['refusal_reason']")
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)
    procedure = _procedure_name(ctx)

    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} đã tiếp nhận hồ sơ của:",)),
        *_applicant_paras(ctx),
    ]
    blocks.append(
        Para(("Nội dung yêu cầu giải quyết: thủ tục ", Span(procedure, bold=True), "."), align="left")
    )
    submitted = _received_phrase(ctx, "; ngày nộp hồ sơ:")
    blocks.append(
        Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), f"{submitted}."), align="left")
    )
    blocks.append(
        Para(
            (
                "Sau khi xem xét, đối chiếu thành phần hồ sơ với quy định hiện hành, Bộ phận Tiếp nhận và "
                "Trả kết quả từ chối tiếp nhận, giải quyết hồ sơ này với lý do: ",
                Span(_ending(reason, "."), bold=True),
            )
        )
    )
    blocks.append(Para((f"Xin thông báo để {applicant} biết và thực hiện.",)))
    return DocumentBody(
        heading="PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        blocks=_end(blocks),
        recipients=(applicant, "Lưu: Bộ phận Tiếp nhận và Trả kết quả"),
    )


def _numbered(items: Sequence[str]) -> list[Block]:
    """Items as "1. …;" … "n. …." paragraphs."""
    last = len(items)
    return [
        Para((f"{i}. {_ending(item, '.' if i == last else ';')}",)) for i, item in enumerate(items, start=1)
    ]


@document_kind(
    "receipt_slip",
    title_vi="Phiếu tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01, Thông tư 01/2018/TT-VPCP)",
    title_en="Receipt and appointment slip (form 01, Circular 01/2018/TT-VPCP)",
    symbol="TNHS",
)
def receipt_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 01. ``extra``: ``documents`` (the documents received), ``appointment_at`` (the instant
    the result is due), ``processing_days`` (the legal time, working days), ``procedure_name``."""
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)
    code = _text(ctx.dossier_code)
    documents = _list_of_text(ctx.extra.get("documents"))
    appointment = _extra_instant(ctx, "appointment_at")
    days = _extra_days(ctx, "processing_days")
    number = itertools.count(1)

    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} tiếp nhận hồ sơ của:",)),
        *_applicant_paras(ctx),
        Para(
            ("Nội dung yêu cầu giải quyết: thủ tục ", Span(_procedure_name(ctx), bold=True), "."),
            align="left",
        ),
        Para(("Mã hồ sơ: ", Span(code, bold=True), "."), align="left"),
    ]
    if documents:
        blocks.append(Para((f"{next(number)}. Thành phần hồ sơ nộp gồm:",)))
        last = len(documents)
        blocks.extend(
            Para((f"- {_ending(document, '.' if i == last else ';')}",))
            for i, document in enumerate(documents, start=1)
        )
    blocks.append(Para((f"{next(number)}. Số lượng hồ sơ: 01 bộ.",)))
    if days:
        blocks.append(
            Para((f"{next(number)}. Thời gian giải quyết hồ sơ theo quy định: {days} ngày làm việc.",))
        )
    if ctx.received_at:
        blocks.append(
            Para(
                (
                    f"{next(number)}. Thời gian nhận hồ sơ: ",
                    Span(_instant_vn(ctx.received_at), bold=True),
                    ".",
                )
            )
        )
    if appointment:
        blocks.append(
            Para(
                (
                    f"{next(number)}. Thời gian trả kết quả giải quyết hồ sơ: ",
                    Span(_instant_vn(appointment), bold=True),
                    ".",
                )
            )
        )
    blocks.append(
        Para(
            (
                f"{next(number)}. Nơi trả kết quả: Trả kết quả trực tuyến qua tài khoản của tổ chức; "
                f"hoặc tại Bộ phận một cửa - {agency}.",
            )
        )
    )
    blocks.append(
        Para(
            (
                f"{applicant} có thể tra cứu tình trạng giải quyết hồ sơ trực tuyến bằng mã hồ sơ ",
                Span(code, bold=True),
                ".",
            )
        )
    )
    return DocumentBody(
        heading="PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        blocks=_end(blocks),
        recipients=(applicant, f"Lưu: {ONE_STOP_UNIT}"),
        signer_title="NGƯỜI TIẾP NHẬN HỒ SƠ",
    )


@document_kind(
    "supplement_request",
    title_vi="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02, Thông tư 01/2018/TT-VPCP)",
    title_en="Request to supplement a dossier (form 02, Circular 01/2018/TT-VPCP)",
    symbol="YCBS",
)
def supplement_request(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 02. ``extra``: ``items`` (what to supplement, required), ``answer_days`` (working days
    the business has to answer), ``procedure_name``."""
    items = _list_of_text(ctx.extra.get("items"))
    if not items:
        raise ValueError("supplement_request needs at least one item in extra['items']")
    days = _extra_days(ctx, "answer_days")
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)

    received = f"; ngày nhận hồ sơ: {_date_vn(ctx.received_at)}" if ctx.received_at else ""
    blocks: list[Block] = [
        Para((f"{ONE_STOP_UNIT} - {agency} đã nhận hồ sơ của:",)),
        *_applicant_paras(ctx),
        Para(
            ("Nội dung yêu cầu giải quyết: thủ tục ", Span(_procedure_name(ctx), bold=True), "."),
            align="left",
        ),
        Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), f"{received}."), align="left"),
        Para(
            (
                f"Sau khi nghiên cứu, đối chiếu với quy định hiện hành, {ONE_STOP_UNIT} đề nghị {applicant} "
                "bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
            )
        ),
        *_numbered(items),
    ]
    if days:
        blocks.append(
            Para(
                (
                    "Thời hạn bổ sung, hoàn thiện hồ sơ: ",
                    Span(f"{days} ngày làm việc", bold=True),
                    " kể từ ngày nhận được Phiếu này.",
                )
            )
        )
    blocks.append(
        Para(
            (
                "Thời gian giải quyết hồ sơ tạm dừng trong thời gian bổ sung, hoàn thiện hồ sơ và được "
                "tiếp tục tính khi nhận đủ hồ sơ đã bổ sung, hoàn thiện.",
            )
        )
    )
    blocks.append(
        Para(
            (
                f"Trong quá trình bổ sung, hoàn thiện hồ sơ, nếu có vướng mắc, {applicant} liên hệ "
                f"{ONE_STOP_UNIT} - {agency} để được hướng dẫn.",
            )
        )
    )
    blocks.append(Para((f"Xin lỗi về sự bất tiện này và trân trọng cảm ơn sự hợp tác của {applicant}.",)))
    return DocumentBody(
        heading="PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        blocks=_end(blocks),
        recipients=(applicant, f"Lưu: {ONE_STOP_UNIT}"),
        signer_title="NGƯỜI HƯỚNG DẪN, TIẾP NHẬN HỒ SƠ",
    )


@document_kind(
    "apology_slip",
    title_vi="Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04, Thông tư 01/2018/TT-VPCP)",
    title_en="Apology and new appointment slip (form 04, Circular 01/2018/TT-VPCP)",
    symbol="XL",
)
def apology_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 04, signed by the leader. ``extra``: ``reason`` (why it is late, required),
    ``new_appointment_at`` (required), ``old_appointment_at``, ``procedure_name``."""
    reason = _text(ctx.extra.get("reason"))
    if not reason:
        raise ValueError("apology_slip needs extra['reason']")
    new = _extra_instant(ctx, "new_appointment_at", required=True)
    old = _extra_instant(ctx, "old_appointment_at")
    if new is not None and old is not None and as_utc(new) <= as_utc(old):
        raise ValueError("apology_slip: extra['new_appointment_at'] must be later than the old appointment")
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)

    received = f"Ngày {_date_vn(ctx.received_at)}, {agency} đã" if ctx.received_at else f"{agency} đã"
    blocks: list[Block] = [
        Para(("Kính gửi: ", Span(applicant, bold=True)), align="center", indent=False),
        Para(
            (
                f"{received} tiếp nhận hồ sơ của ",
                *_applicant_identity(ctx),
                " đề nghị giải quyết thủ tục ",
                Span(_procedure_name(ctx), bold=True),
                ".",
            )
        ),
        Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), "."), align="left"),
    ]
    if old is not None:
        blocks.append(Para(("Thời gian hẹn trả kết quả giải quyết hồ sơ: ", _instant_vn(old), ".")))
    blocks.append(
        Para(
            (
                f"Tuy nhiên đến nay, {agency} chưa trả kết quả giải quyết hồ sơ của {applicant} với lý do: ",
                Span(_ending(reason, "."), bold=True),
            )
        )
    )
    blocks.append(
        Para(
            (
                f"Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của {applicant}. "
                f"{agency} xin lỗi {applicant} và sẽ trả kết quả giải quyết hồ sơ vào ",
                Span(_instant_vn(new), bold=True),
                ".",
            )
        )
    )
    blocks.append(Para((f"Xin trân trọng cảm ơn sự hợp tác của {applicant}.",)))
    return DocumentBody(
        heading="PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        blocks=_end(blocks),
        recipients=(applicant, f"Lưu: VT, {ONE_STOP_UNIT}"),
    )


OUTCOMES_VI = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Trễ hạn", None: ""}
PROCESS_COLUMNS = (
    "TÊN CƠ QUAN / BƯỚC",
    "THỜI GIAN GIAO, NHẬN HỒ SƠ",
    "HẠN XỬ LÝ",
    "HOÀN THÀNH",
    "KẾT QUẢ (trước hạn / đúng hạn / trễ hạn)",
    "NGƯỜI XỬ LÝ",
)


def _step_row(ctx: DocumentContext, index: int, step: Any) -> tuple[str, ...]:
    if not isinstance(step, Mapping):
        raise ValueError(f"process_control_slip: extra['steps'][{index}] is not a mapping: {step!r}")
    outcome = step.get("outcome") or None
    if outcome not in OUTCOMES_VI:
        known = ", ".join(k for k in OUTCOMES_VI if k)
        raise ValueError(f"process_control_slip: unknown outcome {outcome!r} (known: {known})")
    instants = (
        _instant_short(_instant(step.get(key), f"process_control_slip: extra['steps'][{index}][{key!r}]"))
        for key in ("received_at", "due_at", "done_at")
    )
    return (_text(step.get("step")), *instants, OUTCOMES_VI[outcome], _text(step.get("by")))


@document_kind(
    "process_control_slip",
    title_vi="Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05, Thông tư 01/2018/TT-VPCP)",
    title_en="Dossier process control slip (form 05, Circular 01/2018/TT-VPCP)",
    symbol="KSQT",
)
def process_control_slip(ctx: DocumentContext) -> DocumentBody:
    """Mẫu 05: every hand-over of the dossier, planned against actual. ``extra``: ``steps`` (a list
    of {step, received_at, due_at, done_at, by, outcome: "early" | "on_time" | "late" | None}),
    ``appointment_at``, ``procedure_name``."""
    steps = ctx.extra.get("steps") or ()
    if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Iterable):
        raise ValueError("process_control_slip: extra['steps'] must be a list of steps")
    rows = tuple(_step_row(ctx, index, step) for index, step in enumerate(steps))
    appointment = _extra_instant(ctx, "appointment_at")
    agency = agency_in_text(ctx.agency_name)

    blocks: list[Block] = [
        Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True)), align="left"),
        *_applicant_paras(ctx),
        Para(("Nội dung yêu cầu giải quyết: thủ tục ", Span(_procedure_name(ctx), bold=True)), align="left"),
        Para((f"Cơ quan giải quyết hồ sơ: {agency}",), align="left"),
    ]
    if ctx.received_at:
        blocks.append(Para(("Thời gian nhận hồ sơ: ", _instant_vn(ctx.received_at)), align="left"))
    if appointment is not None:
        blocks.append(Para(("Thời gian hẹn trả kết quả: ", _instant_vn(appointment)), align="left"))
    blocks.append(Grid(header=PROCESS_COLUMNS, rows=rows, widths_mm=(35, 26, 26, 26, 27, 25)))
    return DocumentBody(
        heading="PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        blocks=_end(blocks),
        recipients=("Các cơ quan, bộ phận giải quyết hồ sơ", f"Lưu: {ONE_STOP_UNIT}"),
    )


# --------------------------------------------------------------------------- import inspection

IMPORT_BASIS = (
    "Căn cứ Luật Chất lượng sản phẩm, hàng hóa năm 2007; Nghị định số 132/2008/NĐ-CP, được sửa đổi, "
    "bổ sung bởi Nghị định số 74/2018/NĐ-CP và Nghị định số 154/2018/NĐ-CP"
)
INSPECTION_MEASURES = {
    1: "Biện pháp 1: người nhập khẩu tự đánh giá sự phù hợp; hồ sơ được ghi nhận, không kiểm tra nhà nước tại cửa khẩu",
    2: "Biện pháp 2: người nhập khẩu nộp giấy chứng nhận hợp quy hoặc chứng thư giám định của tổ chức được chỉ định",
    3: "Biện pháp 3: hệ thống quản lý được chứng nhận và giấy chứng nhận sản phẩm của tổ chức được chỉ định",
}
REQUIRED_HANDLING = {
    "re_export": "tái xuất hàng hóa",
    "destroy": "tiêu hủy hàng hóa",
    "reprocess": "tái chế hàng hóa dưới sự giám sát của cơ quan có thẩm quyền",
}


def _goods_grid(data: dict) -> Grid | None:
    goods = [g for g in data.get("goods") or () if isinstance(g, dict)]
    rows = []
    for index, line in enumerate(goods, start=1):
        name = _join(
            (
                _text(line.get("name")),
                _labelled("nhãn hiệu", line.get("trademark")),
                _labelled("kiểu loại", line.get("model")),
            ),
            "\n",
        )
        origin = _join((_text(line.get("origin")), _text(line.get("manufacturer"))), "\n")
        quantity = line.get("quantity")
        amount = f"{quantity:g}" if isinstance(quantity, int | float) else _text(quantity)
        rows.append(
            (
                str(index),
                name,
                _text(line.get("hs_code")),
                origin,
                _join((amount, _text(line.get("unit"))), " "),
                _text(line.get("qcvn")),
            )
        )
    if not rows:
        return None
    return Grid(
        header=(
            "TT",
            "Tên hàng hóa, nhãn hiệu, kiểu loại",
            "Mã HS",
            "Xuất xứ, nhà sản xuất",
            "Số lượng",
            "QCVN",
        ),
        rows=tuple(rows),
        widths_mm=(10, 50, 22, 35, 20, 28),
    )


def _measure(data: dict) -> int | None:
    try:
        return int(data.get("inspection_measure"))
    except (TypeError, ValueError):
        return None


def _shipment_paras(data: dict) -> list[Block]:
    blocks: list[Block] = []
    for label, key in (
        ("Số tờ khai hải quan: ", "customs_declaration_number"),
        ("Hợp đồng số: ", "contract_number"),
        ("Hóa đơn số: ", "invoice_number"),
        ("Phiếu đóng gói số: ", "packing_list_number"),
        ("Vận đơn số: ", "bill_of_lading_number"),
        ("Cửa khẩu nhập: ", "port_of_entry"),
    ):
        if _text(data.get(key)):
            blocks.append(Para((label, _text(data.get(key))), align="left"))
    if _text(data.get("expected_arrival")):
        blocks.append(
            Para(("Thời gian nhập khẩu dự kiến: ", _date_vn(data.get("expected_arrival"))), align="left")
        )
    return blocks


@document_kind(
    "import_registration_confirmation",
    title_vi="Xác nhận đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Confirmation of the registration for the state quality inspection of imported goods",
    symbol="XN",
)
def import_registration_confirmation(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)
    measure = _measure(data)
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{IMPORT_BASIS};",)),
        Para(
            (
                f"{agency} xác nhận ",
                *_applicant_identity(ctx),
                " đã đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu đối với lô hàng sau:"
                if grid
                else " đã đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu.",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    blocks.extend(_shipment_paras(data))
    blocks.append(Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), "."), align="left"))
    if measure in INSPECTION_MEASURES:
        blocks.append(
            Para(("Biện pháp kiểm tra áp dụng: ", Span(INSPECTION_MEASURES[measure], bold=True), "."))
        )
    if measure == 1:
        blocks.append(
            Para(
                (
                    f"Bản đăng ký được ghi nhận; {applicant} chịu trách nhiệm về chất lượng hàng hóa nhập khẩu.",
                )
            )
        )
    else:
        blocks.append(
            Para(
                (
                    f"Trong thời hạn 15 ngày làm việc kể từ ngày thông quan hàng hóa, {applicant} phải nộp "
                    "bản sao giấy chứng nhận hợp quy hoặc chứng thư giám định cho "
                    f"{agency}; quá thời hạn này mà không nộp là vi phạm và sẽ được thông báo "
                    "cho cơ quan quản lý thị trường.",
                )
            )
        )
    return DocumentBody(
        heading="XÁC NHẬN",
        subject="Đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
        blocks=_end(blocks),
        recipients=(applicant, "Cơ quan hải quan nơi làm thủ tục nhập khẩu", "Lưu: VT, TĐC"),
    )


@document_kind(
    "import_inspection_result",
    title_vi="Thông báo kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
    title_en="Notice of the result of the state quality inspection of imported goods",
    symbol="TB",
)
def import_inspection_result(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    agency = agency_in_text(ctx.agency_name)
    applicant = _text(ctx.applicant_name)
    conclusion = data.get("inspection_conclusion")
    if conclusion not in ("meets", "does_not_meet"):
        raise ValueError(
            "import_inspection_result needs data['inspection_conclusion'] (meets | does_not_meet)"
        )
    grid = _goods_grid(data)
    blocks: list[Block] = [
        Para((f"{IMPORT_BASIS};",)),
        Para(
            (
                f"{agency} thông báo kết quả kiểm tra nhà nước về chất lượng lô hàng nhập khẩu của ",
                *_applicant_identity(ctx),
                ":" if grid else ".",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    blocks.extend(_shipment_paras(data))
    certificate = _join(
        (
            _labelled("Giấy chứng nhận/chứng thư số", data.get("certificate_number")),
            _labelled("do", data.get("issuing_body")),
            _labelled("cấp ngày", _date_vn(data.get("issued_on"))),
        ),
        " ",
    )
    if certificate:
        blocks.append(Para(("Căn cứ kết quả đánh giá sự phù hợp: ", certificate, ".")))
    blocks.append(Para(("Mã hồ sơ: ", Span(_text(ctx.dossier_code), bold=True), "."), align="left"))
    if conclusion == "meets":
        blocks.append(
            Para(("Kết quả: ", Span("Lô hàng nhập khẩu đáp ứng yêu cầu chất lượng", bold=True), "."))
        )
    else:
        handling = REQUIRED_HANDLING.get(str(data.get("required_handling")), "")
        blocks.append(
            Para(("Kết quả: ", Span("Lô hàng nhập khẩu không đáp ứng yêu cầu chất lượng", bold=True), "."))
        )
        if handling:
            blocks.append(
                Para(
                    (
                        f"Đề nghị {applicant} ",
                        Span(handling, bold=True),
                        " và báo cáo kết quả xử lý cho cơ quan hải quan và "
                        f"{agency}. Kết quả này được ghi vào lịch sử kiểm tra của người nhập khẩu.",
                    )
                )
            )
    notes = _text(data.get("evaluation_notes"))
    if notes:
        blocks.append(Para(("Nhận xét: ", _ending(notes, "."))))
    return DocumentBody(
        heading="THÔNG BÁO",
        subject="Kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu",
        blocks=_end(blocks),
        recipients=(applicant, "Cơ quan hải quan nơi làm thủ tục nhập khẩu", "Lưu: VT, TĐC"),
    )
