"""The PDF copy of a document, rendered from its .docx: the .docx is the document, the PDF shows it.

Templates edited in Word will make the .docx; the official copy is a PDF. Rendering the PDF from the
rendered .docx (not from the data) means the two say the same by construction. The renderer reads
the OOXML itself (:mod:`~workflows.documents.ooxml`, with lxml), lays the text out with the metrics
of the embedded font (Liberation Serif, metric-compatible with Times New Roman: see
:mod:`~workflows.documents.fonts`) and paginates it (:mod:`~workflows.documents.pdf_layout`), and
draws with fpdf2 in its PDF/A-2b mode. It is its own page layout engine, so that page breaks follow the .docx's
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

import logging
import re
import unicodedata
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from fpdf import FPDF
from fpdf import __version__ as FPDF_VERSION

from workflows.documents.fonts import cut_fonts, document_fonts
from workflows.documents.ooxml import read_docx
from workflows.documents.ooxml_blocks import Block, Parsed, Table, Text
from workflows.documents.pdf_layout import Canvas, block_units, paginate, stack
from workflows.documents.pdf_lines import metrics

log = logging.getLogger("tdcflow.documents")

__all__ = ["render_pdf", "unsupported_features"]


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
    parsed = read_docx(docx)
    faces = metrics().values()
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

    body_units = block_units(parsed.body, width, {})
    pages = paginate(body_units, section.top, section.height - section.bottom)

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
    canvas = Canvas(pdf, {face: str(files[style]) for face, style in faces.items()})
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
            _, draw = stack(block_units(header, width, fields))
            draw(canvas, section.left, section.header)
        footer = section.footers.get(which)
        if footer:
            height, draw = stack(block_units(footer, width, fields))
            draw(canvas, section.left, section.height - section.footer - height)
    return bytes(pdf.output())
