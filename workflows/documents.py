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

import hashlib
import io
import re
import secrets
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import qrcode
import qrcode.constants
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from workflows.clock import to_local

__all__ = [
    "DOCUMENT_KINDS",
    "NATIONAL_MOTTO",
    "NATIONAL_NAME",
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


def qr_png(text: str, *, module_px: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code of ``text`` (error correction M)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- rendering


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
    writer.closing(body.recipients)
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
_ALIGN = {
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}


# Word rejects a package whose property children are out of schema order: the elements that must
# follow <w:tblBorders> in <w:tblPr> and <w:pBdr> in <w:pPr> (ECMA-376 part 1, §17.4.60, §17.3.1.26).
_AFTER_TBL_BORDERS = (
    "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange",
)  # fmt: skip
_AFTER_P_BDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _clean(text: str) -> str:
    """Text that XML can carry (user input may hold control characters)."""
    return _XML_ILLEGAL.sub("", text)


def _set_run_font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic


def _compact(paragraph, align: str = "center", after: float = 0) -> None:
    fmt = paragraph.paragraph_format
    fmt.alignment = _ALIGN[align]
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.0
    fmt.first_line_indent = None


def _set_table_borders(table, value: str) -> None:
    """``value`` "nil" for none, "single" for thin lines."""
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblBorders")):
        tbl_pr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), value)
        if value != "nil":
            el.set(qn("w:sz"), "4")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.insert_element_before(borders, *_AFTER_TBL_BORDERS)


def _fix_widths(table, widths_mm: Sequence[float]) -> None:
    table.autofit = False  # also writes <w:tblLayout w:type="fixed"/>
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    for col, width in zip(table.columns, widths_mm, strict=True):
        col.width = Mm(width)


def _short_rule(cell_or_doc, width_mm: float, container_mm: float) -> None:
    """A short centred horizontal line (the rule under the agency name, motto and title)."""
    p = cell_or_doc.add_paragraph()
    _compact(p)
    side = max((container_mm - width_mm) / 2, 0)
    p.paragraph_format.left_indent = Mm(side)
    p.paragraph_format.right_indent = Mm(side)
    p_pr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for attr, val in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(attr), val)
    borders.append(top)
    p_pr.insert_element_before(borders, *_AFTER_P_BDR)
    run = p.add_run("")
    _set_run_font(run, 4)
    p.paragraph_format.line_spacing = Pt(4)


class _Writer:
    """Lays a document out; one instance per rendering."""

    def __init__(self, ctx: DocumentContext) -> None:
        self.ctx = ctx
        self.doc = Document()
        self._drop_template_thumbnail()
        self._page_and_fonts()

    def _drop_template_thumbnail(self) -> None:
        """python-docx's template carries a preview picture of another document: drop it."""
        rels = self.doc.part.package.rels
        for r_id in [r_id for r_id, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
            del rels[r_id]

    # -- set-up
    def _page_and_fonts(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
        section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
        section.header_distance, section.footer_distance = Mm(10), Mm(8)

        # Defaults of the whole document: no theme fonts, Times New Roman everywhere, Vietnamese.
        styles_el = self.doc.styles.element
        r_pr = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = r_pr.find(qn("w:rFonts"))
        for attr in list(fonts.attrib):
            del fonts.attrib[attr]
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
        lang = r_pr.find(qn("w:lang"))
        if lang is not None:
            lang.set(qn("w:val"), "vi-VN")

        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        n_fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        n_fonts.set(qn("w:eastAsia"), FONT)
        n_fonts.set(qn("w:cs"), FONT)
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.15

    def _run(self, paragraph, text: str, size: float = BODY_PT, *, bold: bool = False, italic: bool = False):
        run = paragraph.add_run(_clean(text))
        _set_run_font(run, size, bold=bold, italic=italic)
        return run

    def _line(
        self, container, text: str, size: float, *, bold=False, italic=False, align="center", after=0.0
    ):
        p = container.add_paragraph()
        _compact(p, align, after)
        self._run(p, text, size, bold=bold, italic=italic)
        return p

    def _layout_table(self, rows: int, widths_mm: Sequence[float]):
        table = self.doc.add_table(rows=rows, cols=len(widths_mm))
        _set_table_borders(table, "nil")
        _fix_widths(table, widths_mm)
        return table

    @staticmethod
    def _first_paragraph(cell):
        """A cell starts with one empty paragraph; drop it once real paragraphs follow."""
        first = cell.paragraphs[0]
        if len(cell.paragraphs) > 1 and not first.text:
            first._p.getparent().remove(first._p)

    # -- parts of the page
    def header(self) -> None:
        ctx = self.ctx
        left_mm, right_mm = 68.0, TEXT_WIDTH_MM - 68.0
        table = self._layout_table(2, (left_mm, right_mm))
        agency, nation = table.rows[0].cells
        if ctx.agency_parent.strip():
            self._line(agency, ctx.agency_parent.upper(), HEADER_PT)
        self._line(agency, ctx.agency_name.upper(), HEADER_PT, bold=True)
        _short_rule(agency, 22, left_mm)
        self._line(nation, NATIONAL_NAME, HEADER_PT, bold=True)
        self._line(nation, NATIONAL_MOTTO, BODY_PT, bold=True)
        _short_rule(nation, 62, right_mm)
        number, when = table.rows[1].cells
        self._line(number, f"Số: {ctx.number}", HEADER_PT, after=6)
        self._line(when, place_and_date(ctx.place, ctx.issued_at), BODY_PT, italic=True, after=6)
        for cell in (agency, nation, number, when):
            self._first_paragraph(cell)

    def title(self, body: DocumentBody) -> None:
        p = self._line(self.doc, body.heading, BODY_PT, bold=True)
        p.paragraph_format.space_before = Pt(18)
        if body.subject:
            self._line(self.doc, body.subject, BODY_PT, bold=True)
        _short_rule(self.doc, 30, TEXT_WIDTH_MM)
        self.doc.paragraphs[-1].paragraph_format.space_after = Pt(12)

    def para(self, block: Para) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.alignment = _ALIGN[block.align]
        if block.indent:
            p.paragraph_format.first_line_indent = Cm(1.27)
        for part in block.parts:
            span = part if isinstance(part, Span) else Span(part)
            if span.text:
                self._run(p, span.text, bold=span.bold, italic=span.italic)

    def grid(self, block: Grid) -> None:
        cols = len(block.header)
        widths = block.widths_mm or tuple(TEXT_WIDTH_MM / cols for _ in range(cols))
        table = self.doc.add_table(rows=1 + len(block.rows), cols=cols)
        _set_table_borders(table, "single")
        _fix_widths(table, widths)
        header_row = table.rows[0]
        tr_pr = header_row._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        tr_pr.append(repeat)
        for r, values in enumerate((block.header, *block.rows)):
            for c, value in enumerate(values):
                p = table.rows[r].cells[c].paragraphs[0]
                _compact(p, "center" if r == 0 or c == 0 else "left")
                self._run(p, value, SMALL_PT + 2, bold=r == 0)
        spacer = self.doc.add_paragraph()
        _compact(spacer, after=6)

    def closing(self, recipients: Sequence[str]) -> None:
        table = self._layout_table(1, (80.0, TEXT_WIDTH_MM - 80.0))
        left, right = table.rows[0].cells
        head = self._line(left, "Nơi nhận:", RECIPIENTS_HEAD_PT, bold=True, italic=True, align="left")
        head.paragraph_format.space_before = Pt(12)
        items = [_clean(r).strip().rstrip(";.").strip() for r in recipients]
        items = [i for i in items if i]
        for index, item in enumerate(items):
            end = "." if index == len(items) - 1 else ";"
            self._line(left, f"- {item}{end}", RECIPIENTS_PT, align="left")

        for line in _signature_title_lines(self.ctx.signer_title):
            self._line(right, line, BODY_PT, bold=True)
        for _ in range(2):
            self._line(right, "", BODY_PT)
        self._line(right, "(Đã ký)", BODY_PT, italic=True)
        self._line(right, "", BODY_PT)
        self._line(right, self.ctx.signer_name, BODY_PT, bold=True)
        self._first_paragraph(left)
        self._first_paragraph(right)
        right.paragraphs[0].paragraph_format.space_before = Pt(12)

    def verification(self) -> None:
        ctx = self.ctx
        spacer = self.doc.add_paragraph()
        _compact(spacer, after=12)
        table = self._layout_table(1, (30.0, TEXT_WIDTH_MM - 30.0))
        top = table._tbl.tblPr.find(qn("w:tblBorders")).find(qn("w:top"))
        top.set(qn("w:val"), "single")
        top.set(qn("w:sz"), "4")
        top.set(qn("w:space"), "0")
        top.set(qn("w:color"), "000000")
        qr_cell, text_cell = table.rows[0].cells
        pic = qr_cell.paragraphs[0]
        _compact(pic, "left")
        pic.paragraph_format.space_before = Pt(3)
        pic.add_run().add_picture(io.BytesIO(qr_png(ctx.verify_url)), width=QR_WIDTH)

        p = self._line(text_cell, "", SMALL_PT, align="left")
        p.paragraph_format.space_before = Pt(6)
        self._run(p, "Mã xác thực: ", SMALL_PT)
        self._run(p, ctx.verification_code, SMALL_PT + 1, bold=True)
        p = self._line(text_cell, "", SMALL_PT, align="left")
        self._run(p, "Mã hồ sơ: ", SMALL_PT)
        self._run(p, ctx.dossier_code, SMALL_PT, bold=True)
        self._line(text_cell, f"Tra cứu/xác thực văn bản tại: {ctx.verify_url}", SMALL_PT, align="left")
        self._line(
            text_cell,
            f"Verify this document at {ctx.verify_url} (verification code {ctx.verification_code}).",
            TINY_PT,
            italic=True,
            align="left",
        )
        self._first_paragraph(text_cell)

        footer = self.doc.sections[0].footer.paragraphs[0]
        _compact(footer)
        self._run(
            footer,
            f"Mã hồ sơ {ctx.dossier_code} · Mã xác thực {ctx.verification_code} · {ctx.verify_url}",
            TINY_PT,
            italic=True,
        )

    def core_properties(self, body: DocumentBody, kind: DocumentKind) -> None:
        ctx = self.ctx
        props = self.doc.core_properties
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
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return _pin_zip_times(buffer.getvalue(), to_local(self.ctx.issued_at))


def _pin_zip_times(blob: bytes, when: datetime) -> bytes:
    """Rewrite the package with every member dated ``when`` so one context gives one SHA-256."""
    stamp = (
        max(when.year, 1980),
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second - when.second % 2,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=stamp)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o644 << 16
            dst.writestr(pinned, src.read(info.filename))
    return out.getvalue()


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
    contact = _section(data, "applicant")
    procedure = _text(data.get("procedure_name")) or "Công bố hợp chuẩn/hợp quy"

    blocks: list[Block] = [
        Para((f"Bộ phận Tiếp nhận và Trả kết quả - {agency} đã tiếp nhận hồ sơ của:",)),
        Para(("Tổ chức, cá nhân: ", Span(applicant, bold=True)), align="left"),
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
