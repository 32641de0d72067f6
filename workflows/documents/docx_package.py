"""The .docx package every document starts from, and the zip writer that fills it cheaply.

A rendering runs inside the transaction of the command that issues it, so it is kept cheap: the
package (python-docx's default template with the page, margins, fonts and styles set, a footer
part and an image part) is built once per process; a rendering replaces its document, footer,
core properties and image, and zips them with the deflated bytes of every other part as they are.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

from workflows.documents.layout import (
    BODY_PT,
    FONT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_NUMBER_PT,
    PAGE_WIDTH,
)
from workflows.documents.qr import qr_png

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
    footer_name: str  # every page's but the first
    first_footer_name: str  # the first page's (the same content: written twice)
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
    # Page numbers (Decree 30/2020/NĐ-CP, Phụ lục I): from 1, Arabic numerals, 13–14 pt upright,
    # centred in the top margin, not shown on the first page — a header with the PAGE field on
    # every page but the first (w:titlePg), whose header is empty. The footers (the
    # verification line) are each document's own, the same on every page.
    section.different_first_page_header_footer = True
    header, first_header = section.header, section.first_page_header
    footer, first_footer = section.footer, section.first_page_footer
    for part in (header, first_header, footer, first_footer):
        part.is_linked_to_previous = False  # adds the part
        for child in list(part.part.element):
            part.part.element.remove(child)
    _page_number(header.part.element)
    _empty_paragraph(first_header.part.element)
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
        "first_footer_name": first_footer.part.partname,
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


def _paragraph(parent, style: str) -> etree._Element:
    p = etree.SubElement(parent, qn("w:p"))
    p_pr = etree.SubElement(p, qn("w:pPr"))
    etree.SubElement(p_pr, qn("w:pStyle")).set(qn("w:val"), style)
    etree.SubElement(p_pr, qn("w:jc")).set(qn("w:val"), "center")
    return p


def _empty_paragraph(header: etree._Element) -> None:
    """A header part holds at least one paragraph (ECMA-376 part 1, CT_HdrFtr)."""
    _paragraph(header, "Header")


def _page_number(header: etree._Element) -> None:
    """A centred paragraph with the PAGE field, as Word writes one (begin, instruction, separate,
    the last computed value, end)."""
    p = _paragraph(header, "Header")

    def run() -> etree._Element:
        r = etree.SubElement(p, qn("w:r"))
        etree.SubElement(etree.SubElement(r, qn("w:rPr")), qn("w:sz")).set(
            qn("w:val"), str(PAGE_NUMBER_PT * 2)
        )
        return r

    etree.SubElement(run(), qn("w:fldChar")).set(qn("w:fldCharType"), "begin")
    instruction = etree.SubElement(run(), qn("w:instrText"))
    instruction.text = " PAGE "
    instruction.set(qn("xml:space"), "preserve")
    etree.SubElement(run(), qn("w:fldChar")).set(qn("w:fldCharType"), "separate")
    etree.SubElement(run(), qn("w:t")).text = "2"
    etree.SubElement(run(), qn("w:fldChar")).set(qn("w:fldCharType"), "end")


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
