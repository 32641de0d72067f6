"""The declaration of conformity's documents: the notice of receipt of the declaration (Mẫu
3.TBTNHS) and the notice that it is not accepted, with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workflows.documents.model import Block, DocumentBody, DocumentContext, Grid, Para, Span, document_kind
from workflows.documents.templating import Variable, template_kind
from workflows.documents.text import (
    agency_in_text,
    applicant_identity,
    as_text,
    date_vn,
    ended,
    ending,
    joined,
    labelled,
    received_phrase,
    section,
    texts,
)


def _declaration_word(data: dict) -> str:
    return {"hop_chuan": "hợp chuẩn", "hop_quy": "hợp quy"}.get(
        data.get("declaration_type"), "hợp chuẩn/hợp quy"
    )


def _standard_phrase(data: dict) -> str:
    """The standard referred to: "tiêu chuẩn TCVN 7570:2006 …" or "quy chuẩn kỹ thuật QCVN …"."""
    standard = section(data, "standard")
    reference = joined((as_text(standard.get("number")), as_text(standard.get("title"))), " ")
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
    product = section(data, "product")
    return [product] if product else []


def _product_short(data: dict) -> str:
    names = []
    for product in _products(data):
        details = joined(
            (labelled("nhãn hiệu", product.get("trademark")), labelled("kiểu loại", product.get("model")))
        )
        name = as_text(product.get("name"))
        if name:
            names.append(f"{name} ({details})" if details else name)
    return "; ".join(names)


def _product_rows(data: dict) -> list[dict[str, str]]:
    """The products as the table prints them (a name over its description, a maker over its place)."""
    return [
        {
            "name": joined((as_text(product.get("name")), as_text(product.get("description"))), "\n"),
            "trademark": as_text(product.get("trademark")),
            "model": as_text(product.get("model")),
            "maker": joined(
                (as_text(product.get("manufacturer")), as_text(product.get("place_of_production"))), "\n"
            ),
        }
        for product in _products(data)
    ]


def _product_grid(data: dict) -> Grid | None:
    rows = [
        (str(index), row["name"], row["trademark"], row["model"], row["maker"])
        for index, row in enumerate(_product_rows(data), start=1)
    ]
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
        cert = section(data, "certificate")
        issued = joined(
            (labelled("do", cert.get("body")), labelled("cấp ngày", date_vn(cert.get("issued_on")))), " "
        )
        detail = joined(
            (
                joined(
                    (labelled(f"Giấy chứng nhận {_declaration_word(data)} số", cert.get("number")), issued),
                    " ",
                ),
                labelled("có giá trị đến ngày", date_vn(cert.get("valid_until"))),
            )
        )
        lead = "kết quả chứng nhận của tổ chức chứng nhận (bên thứ ba)"
        return f"{lead}, theo {detail}" if detail else lead
    if basis == "self_assessment":
        sa = section(data, "self_assessment")
        report = joined(
            (
                labelled("Phiếu kết quả thử nghiệm số", sa.get("test_report_number")),
                labelled("ngày", date_vn(sa.get("issued_on"))),
                labelled("của", sa.get("laboratory")),
            ),
            " ",
        )
        lead = "kết quả tự đánh giá của tổ chức, cá nhân"
        return f"{lead}, dựa trên {report}" if report else lead
    return ""


# --------------------------------------------------------------------------- kinds

TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"

# What the check's sample context holds (workflows.documents.samples): a declaration by certificate.
SAMPLE_DATA: dict[str, Any] = {
    "declaration_type": "hop_chuan",
    "product": {
        "name": "Gạch bê tông không nung",
        "trademark": "VLMT",
        "model": "GB-390",
        "description": "Gạch block 390 x 190 x 190 mm",
        "manufacturer": "Công ty TNHH Vật liệu Miền Trung",
        "place_of_production": "Khu công nghiệp Nam Đông Hà",
    },
    "standard": {"number": "TCVN 6477:2016", "title": "Gạch bê tông"},
    "basis": "certificate",
    "certificate": {
        "number": "HC-2026-0456",
        "body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
        "issued_on": "2026-10-05",
        "valid_until": "2029-10-04",
    },
}

_WORD = Variable(
    "declaration_word", "Loại công bố: «hợp chuẩn», «hợp quy»", "What is declared: «hợp chuẩn» or «hợp quy»"
)
_STANDARD = Variable(
    "standard",
    "Tiêu chuẩn, quy chuẩn công bố: «tiêu chuẩn TCVN 6477:2016 Gạch bê tông» (có thể trống)",
    "The standard or technical regulation declared (may be empty)",
)


@template_kind(
    "declaration_notice",
    _WORD,
    _STANDARD,
    Variable(
        "products",
        "Các sản phẩm, hàng hóa: mỗi sản phẩm có name, trademark, model, maker",
        "The products: each with name, trademark, model, maker",
    ),
    Variable(
        "basis", "Phương thức đánh giá sự phù hợp (có thể trống)", "The conformity assessment (may be empty)"
    ),
    Variable(
        "validity",
        "Hiệu lực của thông báo: «certificate» (theo giấy chứng nhận), «until» (đến ngày) hoặc trống",
        "How long the notice is valid: «certificate», «until» or empty",
    ),
    Variable("certificate_number", "Số giấy chứng nhận hợp chuẩn/hợp quy", "The certificate's number"),
    Variable("valid_until", "Ngày hết hiệu lực (dd/mm/yyyy)", "The last day of validity (dd/mm/yyyy)"),
    directory=TEMPLATES,
    sample_data=SAMPLE_DATA,
)
def declaration_notice_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    cert = section(data, "certificate")
    validity, valid_until = "", ""
    if (
        data.get("basis") == "certificate"
        and as_text(cert.get("number"))
        and as_text(cert.get("valid_until"))
    ):
        validity, valid_until = "certificate", date_vn(cert.get("valid_until"))
    elif data.get("basis") != "certificate" and as_text(ctx.extra.get("valid_until")):
        # Self-assessment: valid three years from the self-assessment (Circular 28/2012 as amended).
        validity, valid_until = "until", date_vn(ctx.extra.get("valid_until"))
    return {
        "declaration_word": _declaration_word(data),
        "standard": _standard_phrase(data),
        "products": _product_rows(data),
        "basis": _basis_phrase(data),
        "validity": validity,
        "certificate_number": as_text(cert.get("number")) if validity == "certificate" else "",
        "valid_until": valid_until,
    }


@document_kind(
    "declaration_notice",
    title_vi="Thông báo tiếp nhận hồ sơ công bố hợp chuẩn/hợp quy",
    title_en="Notice of receipt of a declaration of conformity",
    symbol="TB",
)
def declaration_notice(ctx: DocumentContext) -> DocumentBody:
    data = ctx.data or {}
    values = declaration_notice_values(ctx)
    word = values["declaration_word"]
    agency = agency_in_text(ctx.agency_name)
    standard = values["standard"]
    applicant = as_text(ctx.applicant_name)

    grid = _product_grid(data)
    blocks: list[Block] = [
        Para(
            (
                f"{agency} xác nhận đã nhận hồ sơ công bố {word} của ",
                *applicant_identity(ctx),
                " cho sản phẩm, hàng hóa sau:" if grid else ".",
            )
        ),
    ]
    if grid:
        blocks.append(grid)
    declared = f"Sản phẩm, hàng hóa nêu trên được công bố phù hợp với {standard}" if standard else ""
    if declared:
        blocks.append(Para((declared + ".",)))
    basis = values["basis"]
    if basis:
        blocks.append(Para(("Phương thức đánh giá sự phù hợp: ", basis, ".")))
    received = received_phrase(ctx, "; ngày tiếp nhận hồ sơ đầy đủ:")
    blocks.append(Para(("Mã hồ sơ: ", Span(as_text(ctx.dossier_code), bold=True), f"{received}.")))
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
    if values["validity"] == "certificate":
        blocks.append(
            Para(
                (
                    "Thông báo này có hiệu lực theo thời hạn của Giấy chứng nhận số "
                    f"{values['certificate_number']} (đến ngày {values['valid_until']}).",
                )
            )
        )
    elif values["validity"] == "until":
        blocks.append(Para((f"Thông báo này có hiệu lực đến ngày {values['valid_until']}.",)))
    return DocumentBody(
        heading="THÔNG BÁO",
        subject=f"Tiếp nhận hồ sơ công bố {word}",
        blocks=ended(blocks),
        recipients=(applicant, "Lưu: VT, TĐC"),
    )


@template_kind(
    "declaration_rejection",
    _WORD,
    Variable(
        "about",
        "Sản phẩm và tiêu chuẩn công bố: «đối với sản phẩm, hàng hóa …, công bố phù hợp với …» (có thể trống)",
        "The products and the standard declared, as a phrase (may be empty)",
    ),
    Variable("reasons", "Các lý do không tiếp nhận", "Why the declaration is not accepted"),
    Variable("findings", "Kết quả xem xét hồ sơ (có thể trống)", "What the examination found (may be empty)"),
    directory=TEMPLATES,
    sample_data={
        **SAMPLE_DATA,
        "rejection_reasons": ["Nhãn hàng hóa không thể hiện số hiệu tiêu chuẩn công bố"],
        "examination_findings": "Chỉ tiêu cường độ nén chưa được thử nghiệm.",
    },
)
def declaration_rejection_values(ctx: DocumentContext) -> dict[str, Any]:
    data = ctx.data or {}
    reasons = texts(data.get("rejection_reasons"))
    if not reasons:
        raise ValueError("declaration_rejection needs at least one item in data['rejection_reasons']")
    product = _product_short(data)
    standard = _standard_phrase(data)
    about = joined(
        (
            f"đối với sản phẩm, hàng hóa {product}" if product else "",
            f"công bố phù hợp với {standard}" if standard else "",
        )
    )
    return {
        "declaration_word": _declaration_word(data),
        "about": about,
        "reasons": reasons,
        "findings": as_text(data.get("examination_findings")),
    }


@document_kind(
    "declaration_rejection",
    title_vi="Thông báo không tiếp nhận hồ sơ công bố hợp chuẩn/hợp quy",
    title_en="Notice of non-acceptance of a declaration of conformity",
    symbol="TB",
)
def declaration_rejection(ctx: DocumentContext) -> DocumentBody:
    values = declaration_rejection_values(ctx)
    reasons = values["reasons"]
    word = values["declaration_word"]
    agency = agency_in_text(ctx.agency_name)
    applicant = as_text(ctx.applicant_name)
    about = values["about"]
    received = received_phrase(ctx, ", tiếp nhận ngày")
    blocks: list[Block] = [
        Para(
            (
                f"{agency} đã nhận hồ sơ công bố {word} của ",
                *applicant_identity(ctx),
                f" {about}" if about else "",
                " (mã hồ sơ ",
                Span(as_text(ctx.dossier_code), bold=True),
                f"{received}).",
            )
        ),
        Para((f"Sau khi xem xét, {agency} không tiếp nhận hồ sơ công bố nêu trên vì các lý do sau:",)),
    ]
    last = len(reasons)
    blocks.extend(
        Para((f"{i}. {ending(reason, '.' if i == last else ';')}",))
        for i, reason in enumerate(reasons, start=1)
    )
    findings = values["findings"]
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
        blocks=ended(blocks),
        recipients=(applicant, "Lưu: VT, TĐC"),
    )
