"""Marking a rendered .docx as an unissued draft (the round's recommendation list before a leader
issues it).

``workflows.documents`` renders every document as issued: "(Đã ký)" above the signer's name and a
verification block (code, QR, verify URL) with the same line in the footer. A draft has no number
and no verification code, so this rewrites those three parts of the rendered file: "DỰ THẢO" in
place of "(Đã ký)", and the verification block and footer replaced by a notice that the draft is
not verifiable. (A ``draft`` flag on ``DocumentContext`` in ``workflows.documents`` would make
this module unnecessary.)
"""

from __future__ import annotations

import io

from docx import Document
from docx.shared import Pt

SIGNED = "(Đã ký)"
DRAFT_MARK = "DỰ THẢO"
VERIFICATION_LABEL = "Mã xác thực"
DRAFT_NOTICE_VI = "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực."
DRAFT_NOTICE_EN = "Draft, not issued: no number, not verifiable."
DRAFT_FOOTER = "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable"


def mark_as_draft(content: bytes, reference: str) -> bytes:
    """The .docx ``content`` as a draft: "DỰ THẢO" for "(Đã ký)", no verification code or QR,
    a draft footer. ``reference`` (e.g. "GTCLQG-2026") stays in the file's keywords."""
    document = Document(io.BytesIO(content))
    for table in list(document.tables):
        texts = [p.text for cell in table._cells for p in cell.paragraphs]
        if any(text.startswith(VERIFICATION_LABEL) for text in texts):
            _replace_with_notice(document, table)
            continue
        for cell in table._cells:
            for paragraph in cell.paragraphs:
                if paragraph.text.strip() == SIGNED:
                    _set_text(paragraph, DRAFT_MARK, bold=True, italic=False)
    for section in document.sections:
        for paragraph in section.footer.paragraphs:
            if VERIFICATION_LABEL in paragraph.text:
                _set_text(paragraph, DRAFT_FOOTER)
    props = document.core_properties
    props.keywords = f"{reference}; {DRAFT_MARK}"
    props.comments = f"{DRAFT_NOTICE_VI} {DRAFT_NOTICE_EN}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_text(paragraph, text: str, *, bold: bool | None = None, italic: bool | None = None) -> None:
    """The paragraph's first run takes ``text`` (keeping its size); the other runs go."""
    first, *rest = paragraph.runs
    first.text = text
    if bold is not None:
        first.bold = bold
    if italic is not None:
        first.italic = italic
    for run in rest:
        run._r.getparent().remove(run._r)


def _replace_with_notice(document, table) -> None:
    """The verification table (QR, code, verify URL) gives way to the draft notice."""
    for text, size in ((DRAFT_NOTICE_VI, 11), (DRAFT_NOTICE_EN, 9)):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(text)
        run.italic = True
        run.font.size = Pt(size)
        table._tbl.addprevious(paragraph._p)
    table._tbl.getparent().remove(table._tbl)
