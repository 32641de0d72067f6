"""The TBT inquiry point's documents, in the layout every document of tdcflow has
(workflows.documents): the letter forwarding an inquiry, the answer, the letter declining one, the
compiled comments on a WTO notification. All four are letters (công văn, Decree 30/2020/NĐ-CP):
no type title, "V/v …" under the number, "Kính gửi: …", numbered "<n>/SKHCN-<unit>"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workflows.documents import (
    Block,
    DocumentBody,
    DocumentContext,
    Grid,
    Para,
    Span,
    agency_in_text,
    document_kind,
)
from workflows.documents.templating import Variable, template_kind

TOPICS_VI = {
    "technical_regulation": "Quy chuẩn kỹ thuật",
    "standard": "Tiêu chuẩn",
    "conformity_assessment": "Đánh giá sự phù hợp",
    "labelling": "Nhãn hàng hóa",
    "other": "Khác",
}


def _t(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def _paragraphs(text: str) -> list[Block]:
    return [Para((line.strip(),)) for line in text.splitlines() if line.strip()]


def _finish(blocks: list[Block]) -> tuple[Block, ...]:
    last = blocks[-1]
    if isinstance(last, Para):
        blocks[-1] = Para((*last.parts, "/."), align=last.align, indent=last.indent)
    return tuple(blocks)


def _inquiry(data: dict[str, Any]) -> dict[str, str]:
    """The inquiry as its table prints it ("—" for no HS code; the topic's name, if any)."""
    topic = data.get("topic")
    return {
        "subject": _t(data.get("subject")),
        "product": _t(data.get("product")),
        "hs_code": _t(data.get("hs_code")) or "—",
        "market": _t(data.get("market")),
        "topic": TOPICS_VI.get(str(topic), str(topic)) if topic else "",
    }


def _inquiry_grid(data: dict[str, Any], code: str) -> Grid:
    inquiry = _inquiry(data)
    rows = [
        ("Mã hồ sơ", code),
        ("Tiêu đề", inquiry["subject"]),
        ("Sản phẩm, hàng hóa", inquiry["product"]),
        ("Mã HS", inquiry["hs_code"]),
        ("Thị trường", inquiry["market"]),
    ]
    if inquiry["topic"]:
        rows.append(("Lĩnh vực", inquiry["topic"]))
    return Grid(header=("Nội dung", "Thông tin"), rows=tuple(rows), widths_mm=(50, 115))


def _lines(text: str) -> list[str]:
    """A text's paragraphs: its lines that are not blank, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _addressee(name: str) -> str:
    """An addressee as "Kính gửi: …" prints it (workflows.documents.docx_writer)."""
    return " ".join(name.split()).rstrip(";.")


TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"
# What the check's sample context holds (workflows.documents.samples).
SAMPLE_DATA: dict[str, Any] = {
    "asker": {"name": "Trần Thị Khách", "organisation": "Công ty TNHH Vật liệu Miền Trung"},
    "subject": "Thép không gỉ sang EU",
    "product": "Thép không gỉ",
    "hs_code": "7219",
    "market": "EU",
    "topic": "standard",
    "question": "Cần đáp ứng tiêu chuẩn nào?\nCó cần chứng nhận CE không?",
}
_INQUIRY = Variable(
    "inquiry",
    "Câu hỏi: subject (tiêu đề), product, hs_code («—» nếu không có), market, topic (lĩnh vực, có thể trống)",
    "The inquiry: subject, product, hs_code («—» if none), market, topic (may be empty)",
)
_QUESTION = Variable("question", "Nội dung câu hỏi, từng đoạn", "The question, paragraph by paragraph")
_ADDRESSEE = Variable("addressee", "Nơi nhận sau «Kính gửi:»", "The addressee after «Kính gửi:»")


@template_kind(
    "tbt_forward_letter",
    _INQUIRY,
    _QUESTION,
    _ADDRESSEE,
    Variable("forward_to", "Cơ quan được chuyển câu hỏi", "The body the inquiry is forwarded to"),
    Variable("note", "Đề nghị kèm theo (có thể trống)", "The request sent with it (may be empty)"),
    directory=TEMPLATES,
    sample_data={
        **SAMPLE_DATA,
        "forward_to": "Văn phòng TBT Việt Nam",
        "forward_note": "Trả lời trước 10/12.",
    },
)
def tbt_forward_letter_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    to = _t(data.get("forward_to"))
    if not to:
        raise ValueError("tbt_forward_letter needs data['forward_to']")
    return {
        "inquiry": _inquiry(data),
        "question": _lines(_t(data.get("question"))),
        "addressee": _addressee(to),
        "forward_to": to,
        "note": _t(data.get("forward_note")),
    }


@document_kind(
    "tbt_forward_letter",
    title_vi="Công văn chuyển câu hỏi về TBT",
    title_en="Letter forwarding a TBT inquiry",
    letter=True,
)
def tbt_forward_letter(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    values = tbt_forward_letter_values(ctx)
    to = values["forward_to"]
    agency = agency_in_text(ctx.agency_name)
    blocks: list[Block] = [
        Para(
            (
                f"Điểm hỏi đáp TBT thuộc {agency} nhận được câu hỏi về hàng rào kỹ thuật trong thương "
                "mại với nội dung sau:",
            )
        ),
        _inquiry_grid(data, ctx.dossier_code),
        Para(("Nội dung câu hỏi:",), indent=False),
        *_paragraphs(_t(data.get("question"))),
    ]
    note = values["note"]
    if note:
        blocks.append(Para(("Đề nghị: ", note)))
    blocks.append(
        Para(
            (
                f"Thực hiện Điều 10 Hiệp định TBT và Quyết định số 46/2017/QĐ-TTg, {agency} trân trọng "
                f"chuyển câu hỏi để {to} xem xét, cho ý kiến trả lời. Ý kiến xin gửi về Điểm hỏi đáp "
                f"TBT, có ghi mã hồ sơ {ctx.dossier_code}.",
            )
        )
    )
    return DocumentBody(
        heading="",
        excerpt="chuyển câu hỏi về hàng rào kỹ thuật trong thương mại",
        to=(to,),
        blocks=_finish(blocks),
        recipients=("Như trên", "Lưu: VT, TĐC"),
    )


def _asker(ctx: DocumentContext, data: dict) -> str:
    """Whom a letter to the asker is addressed to, as "Kính gửi: …" prints it."""
    asker = data.get("asker") if isinstance(data.get("asker"), dict) else {}
    addressee = _addressee(_t(asker.get("organisation")) or _t(ctx.applicant_name) or _t(asker.get("name")))
    if not addressee:
        raise ValueError(f"{ctx.kind}: a letter needs its addressees (DocumentBody.to)")
    return addressee


def _to_the_asker(ctx: DocumentContext, data: dict) -> tuple[str, list[Block]]:
    """Whom a letter to the asker is addressed to, and its opening: the question as received."""
    agency = agency_in_text(ctx.agency_name)
    return _asker(ctx, data), [
        Para((f"Điểm hỏi đáp TBT thuộc {agency} nhận được câu hỏi của Quý vị:",)),
        _inquiry_grid(data, ctx.dossier_code),
        Para(("Câu hỏi:",), indent=False),
        *_paragraphs(_t(data.get("question"))),
    ]


@template_kind(
    "tbt_answer",
    _INQUIRY,
    _QUESTION,
    _ADDRESSEE,
    Variable(
        "forward_to",
        "Cơ quan đã cho ý kiến (có thể trống: Điểm hỏi đáp tự trả lời)",
        "The body whose opinion the answer rests on (may be empty)",
    ),
    Variable(
        "reply_reference", "Số hiệu văn bản ý kiến (có thể trống)", "The reply's reference (may be empty)"
    ),
    Variable("answer", "Câu trả lời, từng đoạn", "The answer, paragraph by paragraph"),
    Variable("references", "Văn bản, tiêu chuẩn, quy chuẩn viện dẫn", "The documents and standards cited"),
    directory=TEMPLATES,
    sample_data={
        **SAMPLE_DATA,
        "forward_to": "Văn phòng TBT Việt Nam",
        "reply_reference": "Công văn số 15/TBT-VP",
        "answer": "Tiêu chuẩn EN 10088-2.\nKhông cần chứng nhận CE.",
        "references": ["EN 10088-2:2014"],
    },
)
def tbt_answer_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    answer = _t(data.get("answer"))
    if not answer:
        raise ValueError("tbt_answer needs data['answer']")
    return {
        "inquiry": _inquiry(data),
        "question": _lines(_t(data.get("question"))),
        "addressee": _asker(ctx, data),
        "forward_to": _t(data.get("forward_to")),
        "reply_reference": _t(data.get("reply_reference")),
        "answer": _lines(answer),
        "references": [str(r) for r in data.get("references") or [] if str(r).strip()],
    }


@document_kind(
    "tbt_answer",
    title_vi="Công văn trả lời câu hỏi về TBT",
    title_en="Letter answering a TBT inquiry",
    letter=True,
)
def tbt_answer(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    values = tbt_answer_values(ctx)
    addressee, opening = _to_the_asker(ctx, data)
    blocks: list[Block] = list(opening)
    if values["forward_to"]:
        reference = values["reply_reference"]
        blocks.append(
            Para(
                (
                    f"Trên cơ sở ý kiến của {values['forward_to']}"
                    + (f" (văn bản {reference})" if reference else "")
                    + ", Điểm hỏi đáp TBT trả lời như sau:",
                )
            )
        )
    else:
        blocks.append(Para(("Điểm hỏi đáp TBT trả lời như sau:",)))
    blocks.extend(Para((line,)) for line in values["answer"])
    references = values["references"]
    if references:
        blocks.append(Para(("Văn bản, tiêu chuẩn, quy chuẩn viện dẫn:",), indent=False))
        blocks.extend(Para((f"- {r}",), align="left") for r in references)
    blocks.append(Para(("Trân trọng./.",), indent=False))
    return DocumentBody(
        heading="",
        excerpt="trả lời câu hỏi về hàng rào kỹ thuật trong thương mại (TBT)",
        to=(addressee,),
        blocks=tuple(blocks),
        recipients=("Như trên", "Lưu: VT, TĐC"),
    )


@template_kind(
    "tbt_decline_slip",
    _INQUIRY,
    _QUESTION,
    _ADDRESSEE,
    Variable(
        "reason", "Lý do từ chối trả lời, từng đoạn", "Why the inquiry is declined, paragraph by paragraph"
    ),
    directory=TEMPLATES,
    sample_data={**SAMPLE_DATA, "decline_reason": "Câu hỏi về vay vốn không thuộc phạm vi của Điểm hỏi đáp."},
)
def tbt_decline_slip_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    reason = _t(data.get("decline_reason"))
    if not reason:
        raise ValueError("tbt_decline_slip needs data['decline_reason']")
    return {
        "inquiry": _inquiry(data),
        "question": _lines(_t(data.get("question"))),
        "addressee": _asker(ctx, data),
        "reason": _lines(reason),
    }


@document_kind(
    "tbt_decline_slip",
    title_vi="Công văn từ chối trả lời câu hỏi về TBT",
    title_en="Letter declining a TBT inquiry",
    letter=True,
)
def tbt_decline_slip(ctx: DocumentContext) -> DocumentBody:
    """The officer declines or closes a question outside the inquiry point's scope, with the reason
    (required) the asker reads."""
    data = ctx.data or {}
    values = tbt_decline_slip_values(ctx)
    addressee, opening = _to_the_asker(ctx, data)
    blocks: list[Block] = [
        *opening,
        Para(
            (
                "Theo Quyết định số 46/2017/QĐ-TTg và Thông tư số 16/2018/TT-BKHCN, điểm hỏi đáp TBT trả "
                "lời các câu hỏi về quy chuẩn kỹ thuật, tiêu chuẩn và thủ tục đánh giá sự phù hợp. Câu hỏi "
                "trên không thuộc phạm vi trả lời của Điểm hỏi đáp TBT, với lý do:",
            )
        ),
        *(Para((line,)) for line in values["reason"]),
        Para(("Quý vị có thể gửi câu hỏi mới nếu nội dung thuộc phạm vi nêu trên. Trân trọng./.",)),
    ]
    return DocumentBody(
        heading="",
        excerpt="câu hỏi về hàng rào kỹ thuật trong thương mại (TBT) không thuộc phạm vi trả lời",
        to=(addressee,),
        blocks=tuple(blocks),
        recipients=("Như trên", "Lưu: VT, TĐC"),
    )


WTO_SAMPLE_EXTRA: dict[str, Any] = {
    "notification": {
        "symbol": "G/TBT/N/EU/1100",
        "member": "Liên minh châu Âu",
        "title": "Dự thảo quy định về thép không gỉ",
        "comment_deadline": "15/12/2026",
    },
    "comments": [
        {
            "organisation": "Công ty TNHH Vật liệu Miền Trung (MST 3200123452)",
            "date": "20/11/2026",
            "body": "Đề nghị kéo dài thời gian chuyển tiếp.",
        }
    ],
    "early_reason": "Văn phòng TBT Việt Nam đề nghị gửi sớm.",
}


@template_kind(
    "tbt_wto_comments",
    Variable(
        "notification",
        "Thông báo WTO: symbol (số hiệu), member (thành viên), title, comment_deadline (hạn góp ý)",
        "The WTO notification: symbol, member, title, comment_deadline",
    ),
    Variable(
        "comments",
        "Các ý kiến góp ý: mỗi ý kiến có organisation, date, body",
        "The comments: each with organisation, date, body",
    ),
    Variable(
        "early_reason",
        "Lý do phát hành trước hạn góp ý (có thể trống)",
        "Why it is issued before the deadline (may be empty)",
    ),
    directory=TEMPLATES,
    sample_extra=WTO_SAMPLE_EXTRA,
)
def tbt_wto_comments_values(ctx: DocumentContext) -> dict[str, Any]:
    n = ctx.extra.get("notification") or {}
    return {
        "notification": {key: _t(n.get(key)) for key in ("symbol", "member", "title", "comment_deadline")},
        "comments": [
            {key: _t(c.get(key)) for key in ("organisation", "date", "body")}
            for c in ctx.extra.get("comments") or []
        ],
        "early_reason": _t(ctx.extra.get("early_reason")),
    }


@document_kind(
    "tbt_wto_comments",
    title_vi="Công văn tổng hợp ý kiến góp ý thông báo TBT của WTO",
    title_en="Letter compiling the comments on a WTO TBT notification",
    letter=True,
)
def tbt_wto_comments(ctx: DocumentContext) -> DocumentBody:
    values = tbt_wto_comments_values(ctx)
    n = values["notification"]
    comments = values["comments"]
    agency = agency_in_text(ctx.agency_name)
    blocks: list[Block] = [
        Para(
            (
                f"{agency} tổng hợp ý kiến của các tổ chức, doanh nghiệp trên địa bàn về thông báo ",
                Span(n["symbol"], bold=True),
                f" của {n['member']}: {n['title']} (hạn góp ý: {n['comment_deadline']}).",
            )
        ),
    ]
    if comments:
        blocks.append(
            Grid(
                header=("STT", "Tổ chức, doanh nghiệp", "Ngày góp ý", "Nội dung góp ý"),
                rows=tuple(
                    (str(i), c["organisation"], c["date"], c["body"]) for i, c in enumerate(comments, start=1)
                ),
                widths_mm=(12, 45, 25, 83),
            )
        )
        blocks.append(Para((f"Tổng số ý kiến: {len(comments)}.",)))
    else:
        blocks.append(Para(("Không có tổ chức, doanh nghiệp nào gửi ý kiến góp ý.",)))
    early_reason = values["early_reason"]
    if early_reason:
        blocks.append(
            Para(
                (
                    Span(
                        f"Bản tổng hợp được phát hành trước hạn góp ý ({n['comment_deadline']}), lý do: ",
                        bold=True,
                    ),
                    early_reason,
                    " Ý kiến gửi sau ngày phát hành sẽ được tổng hợp bổ sung.",
                )
            )
        )
    blocks.append(Para(("Kính đề nghị Văn phòng TBT Việt Nam tổng hợp, xem xét.",)))
    return DocumentBody(
        heading="",
        excerpt="tổng hợp ý kiến góp ý thông báo TBT của WTO",
        to=("Văn phòng TBT Việt Nam",),
        blocks=_finish(blocks),
        recipients=("Như trên", "Lưu: VT, TĐC"),
    )
