"""Which PDF library for the official copy: the same representative document drawn by each.

    python bench/pdf_libraries.py [--runs 30] [--rows 60] [--out DIR]

Run it in a throw-away venv holding the candidates (fpdf2, reportlab, weasyprint; only fpdf2 is a
dependency of tdcflow), e.g.::

    python3 -m venv /tmp/pdfbench && /tmp/pdfbench/bin/pip install fpdf2 reportlab weasyprint
    /tmp/pdfbench/bin/python bench/pdf_libraries.py

and in tdcflow's own venv for the row "tdcflow": the same document as a .docx (python-docx)
turned into a PDF by ``workflows.documents.pdf_writer`` (its own layout, fpdf2's drawing only).

The document: a borderless two-column header table, a bold centred title, justified paragraphs with
bold and italic runs, a 5-column bordered table of ``--rows`` rows spanning pages with its header
repeated, recipients and a signature block kept together, a QR-sized PNG; Liberation Serif 2
(Debian's fonts-liberation2), the font of the PDF copy. Prints, per library: median and p99
rendering time, the output's size, whether it says it is PDF/A-2b (XMP ``pdfaid``; no validator
here) and whether every font is an embedded subset (poppler's ``pdffonts``). A library that is
not installed is reported as such.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tdcflow's renderer, where installed

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FACES = {
    "": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}
HEADER = ("UBND TỈNH QUẢNG TRỊ", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PARAGRAPHS = [
    (
        ("Sở Khoa học và Công nghệ xác nhận đã nhận hồ sơ công bố hợp chuẩn của ", "", ""),
        ("Công ty TNHH Vật liệu Miền Trung", "B", ""),
        (
            " (mã số thuế 3200123452, địa chỉ: 12 Lê Lợi, phường Đông Hà, tỉnh Quảng Trị) cho sản phẩm sau; ",
            "",
            "",
        ),
        ("thông báo này không có giá trị chứng nhận", "I", ""),
        (" sự phù hợp của sản phẩm, hàng hóa với tiêu chuẩn đã công bố.", "", ""),
    ),
] * 4
COLUMNS = ("TT", "Tên sản phẩm, hàng hóa", "Nhãn hiệu", "Kiểu loại, ký hiệu", "Nhà sản xuất")
WIDTHS_MM = (12, 55, 28, 30, 40)
SIGNATURE = ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "(Đã ký)", "Nguyễn Văn Ấn")
RECIPIENTS = ("Nơi nhận:", "- Công ty TNHH Vật liệu Miền Trung;", "- Lưu: VT, TĐC.")


def qr_like_png() -> bytes:
    """A 1-bit 29-module pattern the size of the documents' QR code (Pillow: every candidate has it)."""
    from PIL import Image

    modules, scale = 29, 8
    image = Image.new("1", (modules * scale, modules * scale), 1)
    for y in range(modules):
        for x in range(modules):
            if (x * 7 + y * 13 + x * y) % 3 == 0:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def rows(count: int) -> list[tuple[str, ...]]:
    return [
        (str(i), f"Gạch bê tông không nung loại {i}, kích thước 390 x 190 x 190 mm", "VLMT", f"GB-{i:03d}",
         "Công ty TNHH Vật liệu Miền Trung, Khu công nghiệp Nam Đông Hà")
        for i in range(1, count + 1)
    ]  # fmt: skip


# --------------------------------------------------------------------------- fpdf2


def render_fpdf2(count: int, png: bytes) -> bytes:
    from datetime import UTC, datetime

    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4", enforce_compliance="PDF/A-2B")
    pdf.set_creation_date(datetime(2026, 11, 25, tzinfo=UTC))
    pdf.set_title("THÔNG BÁO")
    pdf.set_margins(30, 20, 15)
    pdf.set_auto_page_break(True, 20)
    for style, name in FACES.items():
        pdf.add_font("serif", style, str(FONT_DIR / name))
    pdf.add_page()
    pdf.set_font("serif", "", 13)
    with pdf.table(
        col_widths=(68, 97), borders_layout="NONE", text_align="CENTER", first_row_as_headings=False
    ) as t:
        t.row((f"{HEADER[0]}\n**{HEADER[1]}**", f"**{HEADER[2]}**\n**{MOTTO}**"))
    pdf.set_font("serif", "B", 14)
    pdf.cell(0, 8, "THÔNG BÁO", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", "", 14)
    for parts in PARAGRAPHS:
        text = "".join(f"**{t}**" if s == "B" else f"__{t}__" if s == "I" else t for t, s, _ in parts)
        pdf.multi_cell(0, 7, text, align="J", markdown=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", "", 12)
    with pdf.table(col_widths=WIDTHS_MM, repeat_headings=1, headings_style=FontFace(emphasis="BOLD")) as t:
        t.row(COLUMNS)
        for row in rows(count):
            t.row(row)
    pdf.ln(6)
    with pdf.unbreakable() as doc:
        doc.set_font("serif", "BI", 12)
        doc.cell(80, 6, RECIPIENTS[0])
        doc.set_font("serif", "B", 14)
        doc.cell(85, 6, SIGNATURE[0], align="C", new_x="LMARGIN", new_y="NEXT")
        for left, right in zip((*RECIPIENTS[1:], ""), SIGNATURE[1:], strict=True):
            doc.set_font("serif", "", 11)
            doc.cell(80, 6, left)
            doc.set_font("serif", "B", 14)
            doc.cell(85, 6, right, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(png), w=24, h=24)
    return bytes(pdf.output())


# --------------------------------------------------------------------------- ReportLab


def render_reportlab(count: int, png: bytes) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

    names = {"": "LS", "B": "LS-B", "I": "LS-I", "BI": "LS-BI"}
    if "LS" not in pdfmetrics.getRegisteredFontNames():
        for style, name in FACES.items():
            pdfmetrics.registerFont(TTFont(names[style], str(FONT_DIR / name)))
        pdfmetrics.registerFontFamily("LS", normal="LS", bold="LS-B", italic="LS-I", boldItalic="LS-BI")
    body = ParagraphStyle(
        "body", fontName="LS", fontSize=14, leading=16, alignment=TA_JUSTIFY, firstLineIndent=36
    )
    centre = ParagraphStyle("centre", fontName="LS", fontSize=13, leading=15, alignment=TA_CENTER)
    cell = ParagraphStyle("cell", fontName="LS", fontSize=12, leading=14)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=30 * mm, rightMargin=15 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title="THÔNG BÁO", invariant=1)  # fmt: skip
    story = [
        Table(
            [[Paragraph(f"{HEADER[0]}<br/><b>{HEADER[1]}</b>", centre),
              Paragraph(f"<b>{HEADER[2]}</b><br/><b>{MOTTO}</b>", centre)]],
            colWidths=(68 * mm, 97 * mm),
        ),
        Paragraph("<b>THÔNG BÁO</b>", centre),
    ]  # fmt: skip
    for parts in PARAGRAPHS:
        story.append(
            Paragraph(
                "".join(f"<b>{t}</b>" if s == "B" else f"<i>{t}</i>" if s == "I" else t for t, s, _ in parts),
                body,
            )
        )
    data = [[Paragraph(f"<b>{c}</b>", cell) for c in COLUMNS]] + [
        [Paragraph(v, cell) for v in r] for r in rows(count)
    ]
    table = Table(data, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=1)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story.append(table)
    closing = Table(
        [[Paragraph("<b><i>Nơi nhận:</i></b><br/>" + "<br/>".join(RECIPIENTS[1:]), cell),
          Paragraph("<br/>".join(f"<b>{s}</b>" for s in SIGNATURE), centre)]],
        colWidths=(80 * mm, 85 * mm),
    )  # fmt: skip
    story.append(KeepTogether([closing, Image(io.BytesIO(png), 24 * mm, 24 * mm)]))
    doc.build(story)
    return out.getvalue()


# --------------------------------------------------------------------------- WeasyPrint


def render_weasyprint(count: int, png: bytes) -> bytes:
    from weasyprint import HTML

    faces = "".join(
        f"@font-face{{font-family:LS;src:url('file://{FONT_DIR / name}');"
        f"font-weight:{'bold' if 'B' in style else 'normal'};font-style:{'italic' if 'I' in style else 'normal'}}}"
        for style, name in FACES.items()
    )
    css = (
        faces + "@page{size:A4;margin:20mm 15mm 20mm 30mm}body{font:14pt LS}"
        "p{text-align:justify;text-indent:1.27cm;margin:0 0 6pt}"
        ".h td{text-align:center;font-size:13pt;border:none}"
        "table.g{border-collapse:collapse;font-size:12pt}table.g td,table.g th{border:0.5pt solid black}"
        ".k{break-inside:avoid}"
    )
    para = "".join(
        "<p>"
        + "".join(f"<b>{t}</b>" if s == "B" else f"<i>{t}</i>" if s == "I" else t for t, s, _ in parts)
        + "</p>"
        for parts in PARAGRAPHS
    )
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in rows(count))
    cols = "".join(f'<col style="width:{w}mm">' for w in WIDTHS_MM)
    qr = base64.b64encode(png).decode()
    html = (
        f"<html lang=vi><head><meta charset=utf-8><title>THÔNG BÁO</title><style>{css}</style></head><body>"
        f"<table class=h><tr><td>{HEADER[0]}<br><b>{HEADER[1]}</b></td><td><b>{HEADER[2]}</b><br><b>{MOTTO}</b></td></tr></table>"
        f'<p style="text-align:center;text-indent:0"><b>THÔNG BÁO</b></p>{para}'
        f"<table class=g>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        '<div class=k><table class=h style="width:100%"><tr><td style="text-align:left;font-size:11pt">'
        + "<br>".join(RECIPIENTS)
        + "</td><td>"
        + "<br>".join(f"<b>{s}</b>" for s in SIGNATURE)
        + f'</td></tr></table><img src="data:image/png;base64,{qr}" style="width:24mm"></div></body></html>'
    )
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-2b")


# --------------------------------------------------------------------------- tdcflow's renderer


@functools.cache
def representative_docx(count: int, png: bytes) -> bytes:
    """The same document as a .docx (python-docx), for tdcflow's own renderer (fpdf2 underneath)."""
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Mm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin, section.top_margin, section.bottom_margin = (
        Mm(30), Mm(15), Mm(20), Mm(20)
    )  # fmt: skip
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(14)
    header = document.add_table(rows=1, cols=2)
    for cell, lines in zip(header.rows[0].cells, ((HEADER[0], HEADER[1]), (HEADER[2], MOTTO)), strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].add_run(lines[0]).bold = lines[0] != HEADER[0]
        line = cell.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(lines[1]).bold = True
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("THÔNG BÁO").bold = True
    for parts in PARAGRAPHS:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Mm(12.7)
        for text, style, _ in parts:
            run = paragraph.add_run(text)
            run.bold, run.italic = style == "B", style == "I"
    grid = document.add_table(rows=1 + count, cols=len(COLUMNS))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.rows[0]._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))
    for values, row in zip((COLUMNS, *rows(count)), grid.rows, strict=True):
        for value, cell, width in zip(values, row.cells, WIDTHS_MM, strict=True):
            cell.width = Mm(width)
            run = cell.paragraphs[0].add_run(value)
            run.font.size, run.bold = Pt(12), values is COLUMNS
    closing = document.add_table(rows=1, cols=2)
    left, right = closing.rows[0].cells
    for index, text in enumerate(RECIPIENTS):
        paragraph = left.paragraphs[0] if index == 0 else left.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        run = paragraph.add_run(text)
        run.font.size = Pt(12 if index == 0 else 11)
        run.bold = run.italic = index == 0
    for index, text in enumerate(SIGNATURE):
        paragraph = right.paragraphs[0] if index == 0 else right.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True
        paragraph.add_run(text).bold = True
    document.add_paragraph().add_run().add_picture(io.BytesIO(png), width=Mm(24))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_tdcflow(count: int, png: bytes) -> bytes:
    from workflows.documents.pdf_writer import render_pdf

    return render_pdf(representative_docx(count, png))


# --------------------------------------------------------------------------- measuring


def embedded_subsets(pdf: bytes) -> str:
    if not shutil.which("pdffonts"):
        return "? (no pdffonts)"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(pdf)
        tmp.flush()
        rows_ = subprocess.run(["pdffonts", tmp.name], capture_output=True, text=True).stdout.splitlines()[2:]
    ok = rows_ and all(r.split()[-5] == "yes" and r.split()[-4] == "yes" for r in rows_)
    return f"{'yes' if ok else 'NO'} ({len(rows_)} fonts)"


def claims_pdfa_2b(pdf: bytes) -> str:
    """Whether the XMP metadata says PDF/A-2b (a claim: veraPDF would be needed to check it)."""
    if not shutil.which("pdfinfo"):
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(pdf)
        tmp.flush()
        xmp = subprocess.run(["pdfinfo", "-meta", tmp.name], capture_output=True, text=True).stdout
    squeezed = "".join(xmp.split())
    part = "<pdfaid:part>2</pdfaid:part>" in squeezed or 'pdfaid:part="2"' in squeezed
    level = "<pdfaid:conformance>B</pdfaid:conformance>" in squeezed or 'pdfaid:conformance="B"' in squeezed
    return "claims" if part and level else "no"


def pages(pdf: bytes) -> str:
    if not shutil.which("pdfinfo"):
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(pdf)
        tmp.flush()
        info = subprocess.run(["pdfinfo", tmp.name], capture_output=True, text=True).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None, help="write each library's PDF here")
    args = parser.parse_args()
    png = qr_like_png()
    candidates: dict[str, Callable[[int, bytes], bytes]] = {
        "fpdf2": render_fpdf2,
        "reportlab": render_reportlab,
        "weasyprint": render_weasyprint,
        "tdcflow": render_tdcflow,  # workflows.documents.pdf_writer from the .docx (fpdf2 underneath)
    }
    print(
        f"{'library':<11} {'version':<8} {'median ms':>9} {'p99 ms':>7} {'cpu ms':>7} {'KiB':>6} {'pages':>5}  PDF/A-2b   fonts embedded subsets"
    )
    for name, render in candidates.items():
        try:
            module = __import__(
                {"fpdf2": "fpdf", "tdcflow": "workflows.documents.pdf_writer"}.get(name, name)
            )
        except ImportError as exc:
            print(f"{name:<11} not installed ({exc})")
            continue
        version = getattr(module, "__version__", None) or getattr(module, "Version", None) or "-"
        pdf = render(args.rows, png)  # warm-up: imports and font parsing caches
        times, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            pdf = render(args.rows, png)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        pdfa = claims_pdfa_2b(pdf)
        print(
            f"{name:<11} {version:<8} {statistics.median(times):>9.1f} {p99:>7.1f} {statistics.median(cpu):>7.1f} "
            f"{len(pdf) / 1024:>6.1f} "
            f"{pages(pdf):>5}  {pdfa:<9}  {embedded_subsets(pdf)}"
        )
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.pdf").write_bytes(pdf)


if __name__ == "__main__":
    main()
