"""The tiny procedure's one document kind."""

from workflows.documents import DocumentBody, DocumentContext, Para, Span, document_kind


@document_kind(
    "tiny_certificate", title_vi="Giấy chứng nhận (thử)", title_en="Certificate (tiny)", symbol="GCN"
)
def tiny_certificate(ctx: DocumentContext) -> DocumentBody:
    return DocumentBody(
        heading="GIẤY CHỨNG NHẬN",
        subject="(thủ tục thử)",
        blocks=(
            Para(("Cấp cho ", Span(ctx.applicant_name, bold=True), f" — {ctx.data.get('purpose', '')}.")),
        ),
        recipients=(ctx.applicant_name, "Lưu: VT"),
    )
