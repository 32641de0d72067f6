"""The PDF copy rendered from the .docx (workflows.documents.pdf_writer), read back with poppler's tools.

Every registered kind: A4, fonts embedded, the .docx's text in order (Vietnamese intact), the QR
code. A long document: repeated table header, page numbers from page 2 when the footer says so,
a keep-together signature block never split. Same .docx, same bytes. Features outside the subset
are named.
"""

from __future__ import annotations

import copy
import io
import re
import subprocess
import sys
import tomllib
import unicodedata
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from lxml import etree

import workflows.procedures.award.documents
import workflows.procedures.declaration.documents
import workflows.procedures.import_inspection.documents
import workflows.procedures.tbt.documents  # noqa: F401  (registers the kinds)
from tests.test_documents import EXTRA_BY_KIND, STEPS, make_ctx
from workflows.documents import DOCUMENT_KINDS, PROCESS_COLUMNS, qr_png, render_document
from workflows.documents.fonts import (
    FontError,
    cut_fonts,
    document_fonts,
    find_fonts,
    missing_letters,
    vietnamese_letters,
)
from workflows.documents.ooxml import read_docx
from workflows.documents.pdf_writer import render_pdf, unsupported_features
from workflows.procedures.award.criteria import rules_from
from workflows.procedures.award.scoring import aggregate

ROOT = Path(__file__).resolve().parents[1]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# ---------------------------------------------------------------- a context for every kind


def _aggregation() -> dict:
    rules = rules_from(tomllib.loads((ROOT / "bpmn" / "award_criteria_2019.toml").read_text("utf-8")))
    sheets = [
        {
            "member_id": member,
            "scored": True,
            "scores": {c.key: c.maximum * share for c in rules.criteria},
            "comments": {rules.criteria[0].key: f"Nhận xét của thành viên {member}: lãnh đạo cam kết rõ."},
        }
        for member, share in ((1, 0.8), (2, 0.7))
    ]
    return aggregate(sheets, [1, 2, 3], rules)


AWARD_DATA = {"award_year": 2026, "aggregation": _aggregation(), "final_recommendation": "recommended"}
DATA = {
    "award_letter": AWARD_DATA,
    "award_scoring_sheet": AWARD_DATA,
    "import_inspection_result": {"inspection_conclusion": "meets"},
    "tbt_answer": {
        "answer": "Sản phẩm phải đáp ứng QCVN 16:2023/BXD.\nHồ sơ kèm theo bản dịch.",
        "question": "?",
    },
    "tbt_decline_slip": {"decline_reason": "Câu hỏi không thuộc phạm vi hỏi đáp về TBT"},
    "tbt_forward_letter": {
        "forward_to": "Cục Tiêu chuẩn Đo lường Chất lượng",
        "question": "Quy định ghi nhãn?",
    },
}
EXTRA = {
    **EXTRA_BY_KIND,
    "stop_notice": {"reason": "Tổ chức đề nghị dừng giải quyết hồ sơ"},
    "award_scoring_sheet": {"member_names": {"1": "Trần Văn Ấn", "2": "Lê Thị Ỷ"}},
}


def context_of(kind: str):
    ctx = make_ctx(kind)
    if kind in DATA:
        ctx = replace(ctx, data={**ctx.data, **DATA[kind]})
    if kind in EXTRA:
        ctx = replace(ctx, extra={**ctx.extra, **EXTRA[kind]})
    return ctx


KINDS = sorted(DOCUMENT_KINDS)


# ---------------------------------------------------------------- poppler


def poppler(tool: str, pdf: bytes, *args: str, tmp: Path) -> str:
    path = tmp / f"{tool}-{len(list(tmp.iterdir()))}.pdf"
    path.write_bytes(pdf)
    out = [] if tool in ("pdffonts", "pdfinfo", "pdfimages") else ["-"]
    result = subprocess.run([tool, *args, str(path), *out], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def page_texts(pdf: bytes, tmp: Path) -> list[str]:
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", pdf, tmp=tmp)).group(1))
    return [
        poppler("pdftotext", pdf, "-raw", "-enc", "UTF-8", "-f", str(n), "-l", str(n), tmp=tmp)
        for n in range(1, pages + 1)
    ]


def squeeze(text: str) -> str:
    """Text without whitespace: a line broken at a space or after a hyphen compares equal."""
    return "".join(unicodedata.normalize("NFC", text).split())


R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def static_text(paragraph) -> str:
    """A paragraph's text without its fields' instructions and last results (computed anew)."""
    out, skipping = [], False
    for element in paragraph.iter(W + "t", W + "fldChar", W + "fldSimple"):
        if element.tag == W + "fldChar":
            kind = element.get(W + "fldCharType")
            skipping = kind in ("begin", "separate") or (skipping and kind != "end")
        elif (
            element.tag == W + "t"
            and not skipping
            and not any(ancestor.tag == W + "fldSimple" for ancestor in element.iterancestors())
        ):
            out.append(element.text or "")
    return "".join(out)


def docx_parts(content: bytes) -> tuple[list[str], dict[str, list[str]], bool]:
    """The body's paragraphs and cells (document order, nested tables too), each footer's static
    text by reference type ("default", "first"), and whether page 1 has its own (``w:titlePg``)."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        body = etree.fromstring(package.read("word/document.xml"))
        rels = etree.fromstring(package.read("word/_rels/document.xml.rels"))
        targets = {
            rel.get("Id"): "word/" + rel.get("Target").lstrip("/").removeprefix("word/") for rel in rels
        }
        sect = body.find(f"{W}body/{W}sectPr")
        footers = {
            ref.get(W + "type", "default"): etree.fromstring(package.read(targets[ref.get(R + "id")]))
            for ref in sect.iterfind(W + "footerReference")
        }

    def paragraphs(root, text=lambda p: "".join(t.text or "" for t in p.iter(W + "t"))) -> list[str]:
        return [t for t in (text(p) for p in root.iter(W + "p")) if t.strip()]

    title_page = sect.find(W + "titlePg") is not None and sect.find(W + "titlePg").get(W + "val") not in (
        "0",
        "false",
    )
    by_type = {kind: paragraphs(root, static_text) for kind, root in footers.items()}
    return paragraphs(body), by_type, title_page


def assert_in_order(expected: list[str], text: str) -> None:
    haystack, at = squeeze(text), 0
    for item in expected:
        found = haystack.find(squeeze(item), at)
        assert found >= 0, f"{item!r} missing (or out of order) after …{haystack[max(at - 60, 0) : at]!r}"
        at = found + len(squeeze(item))


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[bytes, bytes]]:
    out = {}
    for kind in KINDS:
        content = render_document(context_of(kind))
        out[kind] = (content, render_pdf(content))
    return out


# ---------------------------------------------------------------- every kind


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a4_with_embedded_fonts_and_the_docx_text_in_order(rendered, kind, tmp_path):
    content, pdf = rendered[kind]
    assert pdf.startswith(b"%PDF-1.7")
    info = poppler("pdfinfo", pdf, "-f", "1", "-l", "99", tmp=tmp_path)
    sizes = re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", info)
    assert sizes and all(abs(float(w) - 595.3) < 0.5 and abs(float(h) - 841.9) < 0.5 for w, h in sizes)

    fonts = poppler("pdffonts", pdf, tmp=tmp_path).splitlines()[2:]
    assert fonts
    for row in fonts:
        columns = row.split()
        assert "+" in columns[0], row  # a subset
        assert columns[-5] == "yes", row  # emb

    pages = page_texts(pdf, tmp_path)
    whole = "".join(pages)
    assert unicodedata.is_normalized("NFC", whole)
    body, footers, title_page = docx_parts(content)
    assert_in_order(body, whole)
    for number, page in enumerate(pages, start=1):  # each page's footer, as the section says
        which = "first" if number == 1 and title_page else "default"
        for text in footers.get(which, []):
            assert squeeze(text) in squeeze(page), (number, text)
    assert "Độc lập - Tự do - Hạnh phúc" in whole


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_shows_its_qr_code(rendered, kind, tmp_path):
    _, pdf = rendered[kind]
    images = poppler("pdfimages", pdf, "-list", tmp=tmp_path).splitlines()[2:]
    size = len(qr_png(context_of(kind).verify_url))  # the PNG's pixel size is the QR's
    assert len(images) == 1, images
    with zipfile.ZipFile(io.BytesIO(rendered[kind][0])) as package:
        [png] = [package.read(n) for n in package.namelist() if n.startswith("word/media/")]
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert images[0].split()[3:5] == [str(width), str(height)]
    assert size > 0


def test_vietnamese_survives_in_every_style(tmp_path):
    letters = vietnamese_letters()
    document = docx.Document()
    for bold, italic in ((False, False), (True, False), (False, True), (True, True)):
        run = document.add_paragraph().add_run(letters)
        run.bold, run.italic = bold, italic
    buffer = io.BytesIO()
    document.save(buffer)
    text = squeeze(" ".join(page_texts(render_pdf(buffer.getvalue()), tmp_path)))
    assert text.count(squeeze(letters)) == 4


def test_a_character_outside_the_cut_down_fonts_is_drawn_from_the_full_ones(tmp_path):
    document = docx.Document()
    document.add_paragraph("Điện trở cách điện ≥ 5 MΩ; góc α = 30°.")  # Greek: not in the cut-down copies
    buffer = io.BytesIO()
    document.save(buffer)
    text = " ".join(page_texts(render_pdf(buffer.getvalue()), tmp_path))
    assert "Điện trở cách điện ≥ 5 MΩ; góc α = 30°." in text
    assert unsupported_features(buffer.getvalue()) == []


def test_characters_without_a_glyph_are_named():
    document = docx.Document()
    document.add_paragraph("Tên tiếng Trung: 中文")
    buffer = io.BytesIO()
    document.save(buffer)
    assert unsupported_features(buffer.getvalue()) == ["characters the font has no glyph for: 中文"]


# ---------------------------------------------------------------- fonts


def test_the_font_has_every_vietnamese_letter_and_liberation_1_does_not():
    fonts = document_fonts()
    assert fonts.family in ("Liberation Serif", "Times New Roman", "Noto Serif")
    assert all(missing_letters(path) == "" for path in fonts.files.values())
    # a-z, đ, and the 12 vowels (a ă â e ê i o ô ơ u ư y) with each of the 5 tones, in both cases
    assert len(vietnamese_letters()) == 2 * (26 + 1 + 6 + 12 * 5)
    cut = cut_fonts()  # the cheaper copies embedded when a document needs no other character
    assert cut is not None
    assert all(missing_letters(path) == "" for path in cut[0].values())
    old = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")
    if old.is_file():  # Debian's fonts-liberation 1.07: why fonts-liberation2 is required
        assert "Ộ" in missing_letters(old)


def test_a_font_folder_lacking_vietnamese_letters_is_refused_naming_them_and_the_package(tmp_path):
    old = Path("/usr/share/fonts/truetype/liberation")  # Debian's fonts-liberation 1.07
    if not (old / "LiberationSerif-Regular.ttf").is_file():
        pytest.skip("fonts-liberation 1.x is not installed here")
    for path in old.glob("LiberationSerif-*.ttf"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    with pytest.raises(FontError) as refused:
        find_fonts([tmp_path])
    assert "Ộ" in str(refused.value) and "apt-get install fonts-liberation2" in str(refused.value)
    # The same folder with Liberation Serif 2 (what TDCFLOW_PDF_FONT_DIR may name) is used.
    for path in document_fonts().files.values():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert find_fonts([tmp_path]).files["regular"].parent == tmp_path


# ---------------------------------------------------------------- a long document


def long_slip(steps: int = 60) -> bytes:
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    rows = [
        {
            **STEPS[i % 3],
            "step": f"Bước {i + 1}: thẩm định hồ sơ, đối chiếu hồ sơ gốc và lấy ý kiến",
            "received_at": start + timedelta(hours=i),
            "due_at": start + timedelta(hours=i + 8),
            "done_at": start + timedelta(hours=i + 4),
        }
        for i in range(steps)
    ]
    return render_document(make_ctx("process_control_slip", extra={"steps": rows, "appointment_at": start}))


def with_page_numbers(content: bytes, *, title_page: bool) -> bytes:
    """The .docx with "Trang <PAGE>" in its footer and, if ``title_page``, no footer on page 1."""
    document = docx.Document(io.BytesIO(content))
    section = document.sections[0]
    section.different_first_page_header_footer = title_page
    paragraph = section.footer.add_paragraph()
    paragraph.add_run("Trang ")
    paragraph._p.append(
        parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def long_pdfs() -> dict[str, bytes]:
    content = long_slip()
    return {
        "plain": render_pdf(content),
        "title_page": render_pdf(with_page_numbers(content, title_page=True)),
        "every_page": render_pdf(with_page_numbers(content, title_page=False)),
    }


def test_a_long_table_repeats_its_header_on_every_page(long_pdfs, tmp_path):
    pages = page_texts(long_pdfs["plain"], tmp_path)
    assert len(pages) >= 3
    with_rows = [page for page in pages if "Bước " in page]
    assert len(with_rows) >= 2
    header = squeeze(PROCESS_COLUMNS[-1])
    for page in with_rows:
        assert header in squeeze(page)
        # the header comes before the page's first row
        assert squeeze(page).index(header) < squeeze(page).index(squeeze("Bước "))
    numbers = [int(n) for page in pages for n in re.findall(r"Bước (\d+):", page)]
    assert numbers == list(range(1, 61))  # no row lost, none twice, none split


def test_page_numbers_from_page_2_when_the_footer_says_titlepg(long_pdfs, tmp_path):
    pages = page_texts(long_pdfs["title_page"], tmp_path)
    assert "Trang" not in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        assert re.search(rf"Trang {number}\b", page), page[-200:]
    pages = page_texts(long_pdfs["every_page"], tmp_path)
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"Trang {number}\b", page)
    assert all("Trang" not in page for page in page_texts(long_pdfs["plain"], tmp_path))


def signature_document(fillers: int) -> bytes:
    """Body paragraphs, then a "Nơi nhận" and signature block kept together by keepNext/keepLines."""
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for i in range(fillers):
        document.add_paragraph(
            f"Đoạn văn số {i + 1} của văn bản, đủ dài để chiếm trọn một dòng trên trang giấy A4."
        )
    block = [
        "Nơi nhận:",
        "- Công ty TNHH Vật liệu Miền Trung;",
        "- Lưu: VT, TĐC.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "(Đã ký)",
        "Nguyễn Văn Ấn",
    ]
    for index, text in enumerate(block):
        paragraph = document.add_paragraph(text)
        paragraph.paragraph_format.keep_together = True
        paragraph.paragraph_format.keep_with_next = index < len(block) - 1
        paragraph.paragraph_format.space_after = Pt(6)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_keep_together_signature_block_is_never_split(tmp_path):
    moved = 0
    for fillers in range(28, 44):
        pages = page_texts(render_pdf(signature_document(fillers)), tmp_path)
        holding = [n for n, page in enumerate(pages) if "Nơi nhận" in page or "Nguyễn Văn Ấn" in page]
        assert len(holding) == 1, (fillers, holding)
        page = squeeze(pages[holding[0]])
        for line in (
            "Nơi nhận:",
            "Lưu: VT, TĐC.",
            "KT. GIÁM ĐỐC",
            "PHÓ GIÁM ĐỐC",
            "(Đã ký)",
            "Nguyễn Văn Ấn",
        ):
            assert squeeze(line) in page
        # When the block moved to the next page, the body ended on the page before it.
        if holding[0] > 0 and f"Đoạn văn số {fillers} " in pages[holding[0] - 1]:
            moved += 1
    assert moved >= 1  # some filler count made the block move whole


def test_the_closing_table_row_of_every_kind_stays_on_one_page(tmp_path):
    """The writer's closing (recipients | signature) is one table row: it is never split."""
    for steps in (18, 20, 22, 24):
        pages = page_texts(render_pdf(long_slip(steps)), tmp_path)
        holding = [n for n, page in enumerate(pages) if "Nơi nhận" in page or "(Đã ký)" in page]
        assert len(holding) == 1, (steps, holding)


# ---------------------------------------------------------------- properties of the file


def test_the_same_docx_gives_the_same_bytes_in_any_process(rendered, tmp_path):
    content, pdf = rendered["declaration_notice"]
    assert render_pdf(content) == pdf
    path = tmp_path / "doc.docx"
    path.write_bytes(content)
    code = (
        "import sys; from pathlib import Path; from workflows.documents.pdf_writer import render_pdf;"
        f"sys.stdout.buffer.write(render_pdf(Path({str(path)!r}).read_bytes()))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT).stdout
    assert other == pdf


def test_metadata_comes_from_the_core_properties_for_pdf_a_2b(rendered):
    content, pdf = rendered["declaration_notice"]
    core = docx.Document(io.BytesIO(content)).core_properties
    assert b"<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>" in pdf
    assert f'<rdf:li xml:lang="x-default">{core.title}</rdf:li>'.encode() in pdf
    assert f"<rdf:li>{core.author}</rdf:li>".encode() in pdf
    assert b"<xmp:CreateDate>2026-11-25T18:30:00Z</xmp:CreateDate>" in pdf
    assert b"/OutputIntents" in pdf  # fpdf2's sRGB output intent
    assert b"Override" in render_pdf(content, title="Override")


# ---------------------------------------------------------------- outside the subset

_ANCHOR = (
    '<wp:anchor {ns} distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="0"'
    ' locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
    '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
    '<wp:extent cx="914400" cy="457200"/><wp:wrapSquare wrapText="bothSides"/><wp:docPr id="9" name="Hộp"/>'
    '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
    "<wps:wsp><wps:spPr/><wps:txbx><w:txbxContent><w:p><w:r><w:t>Chữ trong hộp văn bản</w:t></w:r></w:p>"
    "</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor>"
)


def test_text_boxes_and_floating_pictures_are_named_and_still_shown(tmp_path):
    document = docx.Document()
    document.add_paragraph("Trước hộp.")
    ns = (
        nsdecls("w", "wp", "a")
        + ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    )
    run = document.add_paragraph().add_run()
    drawing = parse_xml(f"<w:drawing {nsdecls('w')}>{_ANCHOR.format(ns=ns)}</w:drawing>")
    run._r.append(drawing)
    picture_run = document.add_paragraph().add_run()
    picture_run.add_picture(io.BytesIO(qr_png("floating")), width=Mm(20))
    inline = picture_run._r.find(qn("w:drawing"))[0]
    anchor = copy.deepcopy(inline)
    anchor.tag = qn("wp:anchor")
    inline.getparent().replace(inline, anchor)
    document.add_paragraph("Sau hộp.")
    buffer = io.BytesIO()
    document.save(buffer)
    content = buffer.getvalue()

    features = unsupported_features(content)
    assert "text box" in features
    assert "floating picture (wp:anchor)" in features
    pdf = render_pdf(content)
    assert_in_order(["Trước hộp.", "Chữ trong hộp văn bản", "Sau hộp."], "".join(page_texts(pdf, tmp_path)))
    assert len(poppler("pdfimages", pdf, "-list", tmp=tmp_path).splitlines()[2:]) == 1


def test_the_writers_documents_need_nothing_outside_the_subset(rendered):
    for kind, (content, _) in rendered.items():
        assert unsupported_features(content) == [], kind


def test_not_a_docx_is_a_value_error():
    with pytest.raises(ValueError):
        render_pdf(b"%PDF-1.7 not a docx")


def test_a_row_taller_than_a_page_continues_on_the_next_under_the_header(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.style = document.styles["Table Grid"]
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Cột một", "Cột hai"
    table.rows[0]._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))
    lines = [f"Ý kiến góp ý số {i + 1} về dự thảo quy chuẩn kỹ thuật." for i in range(90)]
    cell = table.rows[1].cells[1]
    cell.text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)
    table.rows[1].cells[0].text = "Bên trái"
    document.add_paragraph("Sau bảng.")
    buffer = io.BytesIO()
    document.save(buffer)
    pages = page_texts(render_pdf(buffer.getvalue()), tmp_path)
    assert len(pages) >= 2
    assert all(squeeze("Cột một Cột hai") in squeeze(page) for page in pages[:2])  # the header repeated
    # A paragraph may continue on the next page after the repeated header: leave the repeats out.
    rest = "".join(squeeze(page).replace(squeeze("Cột một Cột hai"), "", 1) for page in pages[1:])
    assert_in_order(["Cột một", "Cột hai", "Bên trái", *lines, "Sau bảng."], squeeze(pages[0]) + rest)


def _complex_field(paragraph, instruction: str, cached: str) -> None:
    """A field as Word writes it: begin, instruction, separate, its last result, end."""
    for xml in (
        '<w:r {ns}><w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {{ns}}><w:instrText xml:space="preserve"> {instruction} \\* MERGEFORMAT </w:instrText></w:r>',
        '<w:r {ns}><w:fldChar w:fldCharType="separate"/></w:r>',
        f"<w:r {{ns}}><w:t>{cached}</w:t></w:r>",
        '<w:r {ns}><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph._p.append(parse_xml(xml.format(ns=nsdecls("w"))))


def test_word_fields_page_breaks_and_a_first_page_footer(tmp_path):
    document = docx.Document()
    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.first_page_footer.add_paragraph("Trang đầu")
    footer = section.footer.add_paragraph("Trang ")
    _complex_field(footer, "PAGE", "9")
    footer.add_run("/")
    _complex_field(footer, "NUMPAGES", "9")
    section.header.add_paragraph("Đầu trang của Sở")
    document.add_paragraph("Một")
    document.add_paragraph().add_run().add_break(docx.enum.text.WD_BREAK.PAGE)
    document.add_paragraph("Hai").paragraph_format.page_break_before = True
    document.add_paragraph("Ba")
    buffer = io.BytesIO()
    document.save(buffer)
    pages = page_texts(render_pdf(buffer.getvalue()), tmp_path)
    assert len(pages) == 3  # the break after "Một", then "Hai" on a new page again
    assert "Trang đầu" in pages[0] and "Trang 1" not in pages[0]
    assert "Đầu trang của Sở" not in pages[0]  # titlePg: page 1 has its own (here none) header
    assert "Trang 2/3" in pages[1] and "Hai" not in pages[1] and "Trang 3/3" in pages[2]
    assert "Hai" in pages[2] and "Ba" in pages[2] and "Đầu trang của Sở" in pages[2]
    assert "9" not in "".join(pages)  # the cached results are not shown


def test_merged_cells_spans_and_cell_alignment(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.style = document.styles["Table Grid"]
    top = table.cell(0, 0).merge(table.cell(0, 2))  # gridSpan 3
    top.text = "Tiêu đề gộp ba cột"
    side = table.cell(1, 0).merge(table.cell(2, 0))  # vMerge over two rows
    side.text = "Gộp hai hàng"
    side.vertical_alignment = docx.enum.table.WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for r, c, text in ((1, 1, "Ô 1-1"), (1, 2, "Ô 1-2"), (2, 1, "Ô 2-1"), (2, 2, "Ô 2-2")):
        table.cell(r, c).text = text
        table.cell(r, c).paragraphs[0].alignment = docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    document.save(buffer)
    content = buffer.getvalue()
    assert unsupported_features(content) == []
    text = "".join(page_texts(render_pdf(content), tmp_path))
    assert_in_order(["Tiêu đề gộp ba cột", "Gộp hai hàng", "Ô 1-1", "Ô 1-2", "Ô 2-1", "Ô 2-2"], text)
    assert squeeze(text).count(squeeze("Gộp hai hàng")) == 1


def test_a_table_style_spaces_its_cells_paragraphs_over_the_normal_style():
    """Word's Table Grid: no space after and single lines in its cells, whatever Normal says."""
    document = docx.Document()  # python-docx's defaults: 10 pt after, 1.15 lines
    document.add_paragraph("Ngoài bảng")
    table = document.add_table(rows=1, cols=1)
    table.style = document.styles["Table Grid"]
    table.cell(0, 0).text = "Trong bảng"
    buffer = io.BytesIO()
    document.save(buffer)
    outside, grid = read_docx(buffer.getvalue()).body
    inside = grid.rows[0].cells[0].blocks[0]
    assert (outside.style.after, outside.style.line) == (10.0, 276)
    assert (inside.style.after, inside.style.line) == (0.0, 240)


def test_superscripts_strikes_and_ignored_run_properties(tmp_path):
    document = docx.Document()
    paragraph = document.add_paragraph("Diện tích 120 m")
    paragraph.add_run("2").font.superscript = True
    paragraph.add_run(", giá cũ ")
    paragraph.add_run("5 triệu").font.strike = True
    paragraph.add_run(" đánh dấu").font.highlight_color = docx.enum.text.WD_COLOR_INDEX.YELLOW
    buffer = io.BytesIO()
    document.save(buffer)
    assert unsupported_features(buffer.getvalue()) == ["run property w:highlight"]
    text = " ".join(page_texts(render_pdf(buffer.getvalue()), tmp_path))
    assert "Diện tích 120 m" in text and "giá cũ 5 triệu đánh dấu" in text


def test_custom_tab_stops_with_a_dot_leader_and_a_right_stop(tmp_path):
    document = docx.Document()
    section = document.sections[0]
    width = section.page_width - section.left_margin - section.right_margin
    paragraph = document.add_paragraph("Họ và tên:\t")
    paragraph.paragraph_format.tab_stops.add_tab_stop(
        width, docx.enum.text.WD_TAB_ALIGNMENT.RIGHT, docx.enum.text.WD_TAB_LEADER.DOTS
    )
    line = document.add_paragraph("Trái\tPhải")
    line.paragraph_format.tab_stops.add_tab_stop(width, docx.enum.text.WD_TAB_ALIGNMENT.RIGHT)
    buffer = io.BytesIO()
    document.save(buffer)
    assert unsupported_features(buffer.getvalue()) == []
    pdf = render_pdf(buffer.getvalue())
    layout = poppler("pdftotext", pdf, "-layout", tmp=tmp_path)
    assert re.search(r"Họ và tên:\s*\.{40,}", layout)
    # "Phải" ends at the right margin: as far right as the dots end.
    dots_end = next(row for row in layout.splitlines() if "Họ và tên" in row).rstrip()
    right = next(row for row in layout.splitlines() if "Trái" in row).rstrip()
    assert right.endswith("Phải") and abs(len(right) - len(dots_end)) <= 4


def test_numbered_and_bulleted_lists(tmp_path):
    document = docx.Document()
    document.add_paragraph("Các bước:")
    for text in ("Nộp hồ sơ", "Thẩm định", "Trả kết quả"):
        document.add_paragraph(text, style="List Number")
    for text in ("Gạch", "Ngói"):
        document.add_paragraph(text, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    assert unsupported_features(buffer.getvalue()) == []
    layout = poppler("pdftotext", render_pdf(buffer.getvalue()), "-layout", tmp=tmp_path)
    lines = [" ".join(line.split()) for line in layout.splitlines() if line.strip()]
    assert lines[1:6] == ["1. Nộp hồ sơ", "2. Thẩm định", "3. Trả kết quả", "• Gạch", "• Ngói"]


def test_a_broken_package_is_a_value_error_and_a_broken_picture_is_named(rendered):
    content, _ = rendered["declaration_notice"]
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        parts = {name: package.read(name) for name in package.namelist()}

    def repacked(**changes: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            for name, data in {**parts, **changes}.items():
                package.writestr(name, data)
        return out.getvalue()

    with pytest.raises(ValueError, match=re.escape("word/document.xml")):
        render_pdf(repacked(**{"word/document.xml": b"<w:document"}))
    [image] = [name for name in parts if name.startswith("word/media/")]
    broken = repacked(**{image: b"\x89PNG\r\n\x1a\n broken"})
    assert unsupported_features(broken) == ["unreadable picture"]
    assert render_pdf(broken).startswith(b"%PDF-")
