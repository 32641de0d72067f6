"""The check a .docx template passes before it may take effect: it opens as a .docx, every name
it uses is a variable its kind declares, it renders the kind's sample context (issued and as a
draft), the rendered document holds nothing the PDF renderer leaves out, and its PDF preview is
made. A template that fails is refused with the reasons (Vietnamese first, English second)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import TemplateError

from workflows.documents.samples import sample_context
from workflows.documents.templating import TEMPLATE_KINDS, environment, render_template

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    vi: str
    en: str


@dataclass
class CheckResult:
    kind: str
    problems: list[Problem] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # the names the template uses
    features: list[str] = field(default_factory=list)  # outside what the PDF renderer supports
    preview_pdf: bytes | None = None
    rendered_docx: bytes | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self, preview_sha256: str | None = None) -> dict[str, Any]:
        """What is stored with the version (JSON)."""
        return {
            "ok": self.ok,
            "problems": [{"vi": p.vi, "en": p.en} for p in self.problems],
            "variables": self.variables,
            "features": self.features,
            "preview_pdf_sha256": preview_sha256,
        }


def check_template(kind: str, content: bytes) -> CheckResult:
    """Check ``content`` as a template of ``kind``; the result lists every problem found."""
    result = CheckResult(kind)
    problems = result.problems
    of_kind = TEMPLATE_KINDS.get(kind)
    if of_kind is None:
        problems.append(
            Problem(
                f"Loại văn bản «{kind}» chưa dùng được mẫu .docx.",
                f"Document kind {kind!r} cannot be rendered from a .docx template.",
            )
        )
        return result
    try:
        used = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(jinja_env=environment())
    except TemplateError as exc:
        problems.append(
            Problem(f"Mẫu có lỗi cú pháp Jinja: {exc}.", f"The template has a Jinja syntax error: {exc}.")
        )
        return result
    except Exception as exc:  # not a zip, not a Word document, broken XML
        log.info("Template of %s does not open: %s", kind, exc)
        problems.append(
            Problem(
                "Tệp không phải là tài liệu Word (.docx) hợp lệ.",
                "The file is not a valid Word (.docx) document.",
            )
        )
        return result
    result.variables = sorted(used)
    unknown = sorted(used - of_kind.declared)
    if unknown:
        names = ", ".join(unknown)
        problems.append(
            Problem(
                f"Mẫu dùng biến không có trong danh sách của loại văn bản này: {names}.",
                f"The template uses variables its kind does not declare: {names}.",
            )
        )
        return result
    for draft in (False, True):
        try:
            rendered = render_template(content, sample_context(kind, draft=draft))
        except Exception as exc:
            problems.append(
                Problem(
                    f"Không tạo được văn bản mẫu{' dự thảo' if draft else ''} từ mẫu này: {exc}.",
                    f"The sample {'draft ' if draft else ''}document cannot be rendered: {exc}.",
                )
            )
            return result
        if not draft:
            result.rendered_docx = rendered
    from workflows.documents.pdf_writer import render_pdf, unsupported_features  # fpdf2: slow to import

    assert result.rendered_docx is not None
    result.features = unsupported_features(result.rendered_docx)
    if result.features:
        listed = "; ".join(result.features)
        problems.append(
            Problem(
                f"Mẫu có thành phần bản PDF không thể hiện được: {listed}.",
                f"The template holds what the PDF copy cannot show: {listed}.",
            )
        )
        return result
    try:
        result.preview_pdf = render_pdf(result.rendered_docx)
    except Exception as exc:
        problems.append(
            Problem(f"Không tạo được bản xem trước PDF: {exc}.", f"The PDF preview cannot be made: {exc}.")
        )
    return result
