"""Official .docx outputs: layout of Decree 30/2020, content of each kind, QR and verification code."""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
import qrcode
import qrcode.constants
from docx.oxml.ns import qn
from fontTools.ttLib import TTFont
from PIL import Image

import workflows.procedures.declaration.documents
import workflows.procedures.import_inspection.documents
import workflows.procedures.tbt.documents  # noqa: F401
from tests.support import docx_text
from workflows.codes import document_symbol
from workflows.documents import (
    DOCUMENT_KINDS,
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    PROCESS_COLUMNS,
    DocumentContext,
    agency_in_text,
    document_title,
    new_verification_code,
    normalise_verification_code,
    place_and_date,
    qr_png,
    render_document,
    sha256_hex,
)
from workflows.documents.authority import NoSigningAuthority, authority_lines, signer_authority
from workflows.documents.codes import VERIFICATION_ALPHABET
from workflows.documents.layout import DRAFT_FOOTER
from workflows.documents.qr import QR_MASK_PATTERN

# 18:30 UTC on the 25th is 01:30 on the 26th in Asia/Ho_Chi_Minh (UTC+7).
ISSUED = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
LOCAL_DATE_LINE = "Quảng Trị, ngày 26 tháng 11 năm 2026"
VERIFY_URL = "https://motcua.skhcn.quangtri.example/xac-thuc/K7QF-2MXR-9HDA"

DECLARATION = {
    "declaration_type": "hop_chuan",
    "applicant": {
        "name": "Công ty TNHH Vật liệu Miền Trung",
        "tax_code": "3200123452",
        "address": "12 Lê Lợi, phường Đông Hà, tỉnh Quảng Trị",
        "phone": "0233 3852 123",
        "email": "info@vlmt.example",
        "representative": "Trần Thị B",
    },
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

DATA_BY_KIND = {
    "declaration_notice": DECLARATION,
    "declaration_rejection": {
        **DECLARATION,
        "rejection_reasons": [
            "Phiếu kết quả thử nghiệm không do phòng thử nghiệm đã đăng ký cấp",
            "Nhãn hàng hóa không thể hiện số hiệu tiêu chuẩn công bố",
        ],
        "examination_findings": "Chỉ tiêu cường độ nén chưa được thử nghiệm.",
    },
    "receipt_refusal": {**DECLARATION, "refusal_reason": "Hồ sơ không thuộc thẩm quyền giải quyết của Sở"},
    "receipt_slip": DECLARATION,
    "supplement_request": DECLARATION,
    "apology_slip": DECLARATION,
    "process_control_slip": DECLARATION,
}
KINDS = sorted(DATA_BY_KIND)
NUMBERS = {
    "declaration_notice": "15/TB-SKHCN",
    "declaration_rejection": "16/TB-SKHCN",
    "receipt_refusal": "03/PTC-SKHCN",
    "receipt_slip": "21/TNHS-SKHCN",
    "supplement_request": "05/YCBS-SKHCN",
    "apology_slip": "02/XL-SKHCN",
    "process_control_slip": "21/KSQT-SKHCN",
}

# Like ISSUED, an instant whose local date (26/11) is not its UTC date (25/11).
APPOINTMENT = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
STEPS = [
    {
        "step": "Bộ phận Tiếp nhận và Trả kết quả: tiếp nhận",
        "received_at": datetime(2026, 11, 19, 20, 0, tzinfo=UTC),  # 03:00 20/11 local
        "due_at": datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        "done_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        "by": "Lê Thị C",
        "outcome": "on_time",
    },
    {
        "step": "Phòng Tiêu chuẩn Đo lường Chất lượng: thẩm định",
        "received_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        "due_at": datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        "done_at": datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        "by": "Phạm Văn D",
        "outcome": "early",
    },
    {
        "step": "Lãnh đạo Sở: phê duyệt",
        "received_at": datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        "due_at": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "done_at": APPOINTMENT,
        "by": "Nguyễn Văn A",
        "outcome": "late",
    },
    {
        "step": "Bộ phận Tiếp nhận và Trả kết quả: trả kết quả",
        "received_at": APPOINTMENT,
        "due_at": None,
        "done_at": None,
        "by": "",
        "outcome": None,
    },
]
EXTRA_BY_KIND = {
    "receipt_slip": {
        "documents": ["Bản công bố hợp chuẩn", "Giấy chứng nhận hợp chuẩn HC-2026-0456 (bản sao)"],
        "appointment_at": APPOINTMENT,
        "processing_days": 5,
    },
    "supplement_request": {
        "items": [
            "Bản sao Giấy chứng nhận hợp chuẩn còn hiệu lực",
            "Mẫu nhãn hàng hóa có số hiệu tiêu chuẩn",
        ],
        "answer_days": 10,
    },
    "apology_slip": {
        "reason": "Phải lấy ý kiến của Tổng cục Tiêu chuẩn Đo lường Chất lượng",
        "old_appointment_at": APPOINTMENT,
        "new_appointment_at": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),  # 16:00 02/12 local
    },
    "process_control_slip": {"steps": STEPS, "appointment_at": APPOINTMENT},
}
# The extras a kind cannot do without.
REQUIRED_EXTRA = {
    "supplement_request": {"items": ["Bản công bố hợp chuẩn"]},
    "apology_slip": {
        "reason": "Chờ ý kiến chuyên môn",
        "new_appointment_at": datetime(2026, 12, 2, tzinfo=UTC),
    },
}
DEPUTY_SIGNATURE = ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")
SIGNATURES = {  # the slips' prescribed titles; every other document: the signer's authority
    "receipt_slip": ("NGƯỜI TIẾP NHẬN HỒ SƠ",),
    "supplement_request": ("NGƯỜI HƯỚNG DẪN, TIẾP NHẬN HỒ SƠ",),
    "receipt_refusal": ("NGƯỜI TIẾP NHẬN HỒ SƠ",),
    "process_control_slip": ("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ",),
}


def make_ctx(kind: str = "declaration_notice", **changes) -> DocumentContext:
    ctx = DocumentContext(
        kind=kind,
        number=NUMBERS.get(kind, "1/TB-SKHCN"),
        issued_at=ISSUED,
        agency_parent="UBND TỈNH QUẢNG TRỊ",
        agency_name="SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        place="Quảng Trị",
        dossier_code="000.00.15.H50-261126-0001",
        applicant_name="Công ty TNHH Vật liệu Miền Trung",
        applicant_tax_code="3200123452",
        applicant_address="12 Lê Lợi, phường Đông Hà, tỉnh Quảng Trị",
        data=DATA_BY_KIND.get(kind, DECLARATION),
        signer_name="Nguyễn Văn A",
        signer_title="PHÓ GIÁM ĐỐC",
        verification_code="K7QF-2MXR-9HDA",
        verify_url=VERIFY_URL,
        received_at=datetime(2026, 11, 19, 20, 0, tzinfo=UTC),  # 03:00 on 20/11 local
        # Issuing a dossier's document names its procedure (the slips print it).
        extra={"procedure_name": "Công bố hợp chuẩn/hợp quy", **EXTRA_BY_KIND.get(kind, {})},
    )
    if "extra" in changes:
        changes["extra"] = {"procedure_name": "Công bố hợp chuẩn/hợp quy", **changes["extra"]}
    applicant = ctx.data.get("applicant") if isinstance(ctx.data.get("applicant"), dict) else {}
    contact = {k: applicant[k] for k in ("representative", "phone", "email") if applicant.get(k)}
    return replace(ctx, **{"applicant_contact": contact, **changes})


def open_docx(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def all_text(document) -> str:
    """Every paragraph of the body, of its tables (nested too) and of the page footer."""
    body = document.element.body
    lines = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]
    for section in document.sections:
        lines += [p.text for p in section.footer.paragraphs]
    return "\n".join(lines)


def document_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return package.read("word/document.xml").decode("utf-8")


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {kind: render_document(make_ctx(kind)) for kind in KINDS}


# ---------------------------------------------------------------- every kind


def test_the_kinds_are_registered():
    assert set(KINDS) <= set(DOCUMENT_KINDS)
    symbols = {kind: DOCUMENT_KINDS[kind].symbol for kind in KINDS}
    assert symbols["receipt_slip"] == "TNHS"
    assert symbols["supplement_request"] == "YCBS"
    assert symbols["receipt_refusal"] == "PTC"
    assert symbols["apology_slip"] == "XL"
    assert symbols["process_control_slip"] == "KSQT"
    for kind in DOCUMENT_KINDS.values():
        # A letter's number has no type symbol ("12/SKHCN-TĐC").
        assert kind.title_vi and kind.title_en and (kind.symbol or kind.letter) and callable(kind.builder)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_carries_the_official_parts(rendered, kind):
    content = rendered[kind]
    assert content[:2] == b"PK"
    text = all_text(open_docx(content))
    for expected in (
        "000.00.15.H50-261126-0001",
        "Công ty TNHH Vật liệu Miền Trung",
        f"Số: {NUMBERS[kind]}",
        NATIONAL_NAME,
        NATIONAL_MOTTO,
        "UBND TỈNH QUẢNG TRỊ",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        LOCAL_DATE_LINE,
        "Nơi nhận:",
        *SIGNATURES.get(kind, DEPUTY_SIGNATURE),
        "(Đã ký)",
        "Nguyễn Văn A",
        "K7QF-2MXR-9HDA",
        f"Tra cứu/xác thực văn bản tại: {VERIFY_URL}",
        f"Verify this document at {VERIFY_URL}",
    ):
        assert expected in text, f"{kind}: {expected!r} missing"
    assert "ngày 25 tháng 11" not in text  # the UTC date must not leak
    assert "None" not in text


@pytest.mark.parametrize(
    ("kind", "heading", "subject"),
    [
        ("declaration_notice", "THÔNG BÁO", "Tiếp nhận hồ sơ công bố hợp chuẩn"),
        ("declaration_rejection", "THÔNG BÁO", "Không tiếp nhận hồ sơ công bố hợp chuẩn"),
        ("receipt_refusal", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", ""),
        ("receipt_slip", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", ""),
        ("supplement_request", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", ""),
        ("apology_slip", "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT", ""),
        ("process_control_slip", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", ""),
    ],
)
def test_title_is_centred_and_bold(rendered, kind, heading, subject):
    document = open_docx(rendered[kind])
    by_text = {p.text: p for p in document.paragraphs}
    for line in filter(None, (heading, subject)):
        paragraph = by_text[line]
        assert paragraph.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
        assert all(run.bold for run in paragraph.runs)
    assert document_title(make_ctx(kind)) == f"{heading} {subject}".strip()
    assert document.core_properties.title == f"{heading} {subject}".strip()


def test_hop_chuan_and_hop_quy_titles_differ():
    chuan = make_ctx(data={**DECLARATION, "declaration_type": "hop_chuan"})
    quy = make_ctx(
        data={**DECLARATION, "declaration_type": "hop_quy", "standard": {"number": "QCVN 16:2023/BXD"}}
    )
    assert document_title(chuan) == "THÔNG BÁO Tiếp nhận hồ sơ công bố hợp chuẩn"
    assert document_title(quy) == "THÔNG BÁO Tiếp nhận hồ sơ công bố hợp quy"
    chuan_text = all_text(open_docx(render_document(chuan)))
    quy_text = all_text(open_docx(render_document(quy)))
    assert "phù hợp với tiêu chuẩn TCVN 6477:2016 Gạch bê tông" in chuan_text
    assert "phù hợp với quy chuẩn kỹ thuật QCVN 16:2023/BXD" in quy_text
    assert "hợp quy" not in chuan_text.replace("hợp chuẩn/hợp quy", "")
    rejection = make_ctx(
        "declaration_rejection", data={**DATA_BY_KIND["declaration_rejection"], "declaration_type": "hop_quy"}
    )
    assert document_title(rejection) == "THÔNG BÁO Không tiếp nhận hồ sơ công bố hợp quy"


def test_notice_body_names_product_standard_basis_and_responsibility(rendered):
    document = open_docx(rendered["declaration_notice"])
    text = all_text(document)
    for expected in (
        "Sở Khoa học và Công nghệ xác nhận đã nhận hồ sơ công bố hợp chuẩn",
        "mã số thuế 3200123452",
        "Gạch bê tông không nung",
        "VLMT",
        "GB-390",
        "Khu công nghiệp Nam Đông Hà",
        "Giấy chứng nhận hợp chuẩn số HC-2026-0456 do Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
        "cấp ngày 05/10/2026",
        "có giá trị đến ngày 04/10/2029",
        "ngày tiếp nhận hồ sơ đầy đủ: 20/11/2026",  # 2026-11-19T20:00Z is the 20th locally
        "phải chịu hoàn toàn trách nhiệm về sự phù hợp",
        "Thông tư số 28/2012/TT-BKHCN",
        "02/2017/TT-BKHCN",
    ):
        assert expected in text, expected
    assert text.count("./.") == 1
    product_table = next(t for t in document.tables if t.rows[0].cells[0].text == "TT")
    assert [c.text for c in product_table.rows[1].cells][:4] == [
        "1",
        "Gạch bê tông không nung\nGạch block 390 x 190 x 190 mm",
        "VLMT",
        "GB-390",
    ]


def test_notice_by_self_assessment_names_the_test_report():
    data = {
        **DECLARATION,
        "basis": "self_assessment",
        "self_assessment": {"test_report_number": "KQ-789/2026", "laboratory": "Phòng thử nghiệm LAS-XD 123"},
    }
    text = all_text(open_docx(render_document(make_ctx(data=data))))
    assert "tự đánh giá" in text
    assert "Phiếu kết quả thử nghiệm số KQ-789/2026 của Phòng thử nghiệm LAS-XD 123" in text
    assert "HC-2026-0456" not in text


def test_rejection_lists_reasons_and_findings(rendered):
    text = all_text(open_docx(rendered["declaration_rejection"]))
    assert "1. Phiếu kết quả thử nghiệm không do phòng thử nghiệm đã đăng ký cấp;" in text
    assert "2. Nhãn hàng hóa không thể hiện số hiệu tiêu chuẩn công bố." in text
    assert "Chỉ tiêu cường độ nén chưa được thử nghiệm." in text


def test_receipt_refusal_is_form_03(rendered):
    text = all_text(open_docx(rendered["receipt_refusal"]))
    assert "Công bố hợp chuẩn/hợp quy" in text
    assert "với lý do: Hồ sơ không thuộc thẩm quyền giải quyết của Sở." in text
    assert "0233 3852 123" in text
    assert "ngày nộp hồ sơ: 20/11/2026" in text


def test_decisions_without_reasons_are_refused():
    no_reasons = {**DECLARATION, "rejection_reasons": []}
    with pytest.raises(ValueError, match="rejection_reasons"):
        render_document(make_ctx("declaration_rejection", data=no_reasons))
    with pytest.raises(ValueError, match="refusal_reason"):
        render_document(make_ctx("receipt_refusal", data={**DECLARATION, "refusal_reason": "  "}))


# ---------------------------------------------------------------- one-stop-shop slips (Circular 01/2018)


def test_receipt_slip_is_form_01(rendered):
    text = all_text(open_docx(rendered["receipt_slip"]))
    for expected in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Bộ phận Tiếp nhận và Trả kết quả - Sở Khoa học và Công nghệ tiếp nhận hồ sơ của:",
        "Tổ chức, cá nhân: Công ty TNHH Vật liệu Miền Trung",
        "Mã số thuế: 3200123452",
        "Địa chỉ: 12 Lê Lợi, phường Đông Hà, tỉnh Quảng Trị",
        "Số điện thoại: 0233 3852 123",
        "Thư điện tử: info@vlmt.example",
        "thủ tục Công bố hợp chuẩn/hợp quy",
        "Mã hồ sơ: 000.00.15.H50-261126-0001",
        "1. Thành phần hồ sơ nộp gồm:",
        "- Bản công bố hợp chuẩn;",
        "- Giấy chứng nhận hợp chuẩn HC-2026-0456 (bản sao).",
        "2. Số lượng hồ sơ: 01 bộ.",
        "3. Thời gian giải quyết hồ sơ theo quy định: 5 ngày làm việc.",
        "4. Thời gian nhận hồ sơ: 03 giờ 00 phút, ngày 20/11/2026.",  # 2026-11-19T20:00Z
        "5. Thời gian trả kết quả giải quyết hồ sơ: 01 giờ 30 phút, ngày 26/11/2026.",  # 2026-11-25T18:30Z
        "Trả kết quả trực tuyến qua tài khoản của tổ chức; hoặc tại Bộ phận một cửa",
        "tra cứu tình trạng giải quyết hồ sơ trực tuyến bằng mã hồ sơ 000.00.15.H50-261126-0001",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
    ):
        assert expected in text, expected
    assert "25/11/2026" not in text and "19/11/2026" not in text  # UTC dates must not leak
    assert text.count("./.") == 1


def test_receipt_slip_without_documents_or_appointment_numbers_what_it_has():
    ctx = make_ctx("receipt_slip", extra={})
    text = all_text(open_docx(render_document(ctx)))
    assert "Thành phần hồ sơ" not in text
    assert "1. Số lượng hồ sơ: 01 bộ." in text
    assert "2. Thời gian nhận hồ sơ: 03 giờ 00 phút, ngày 20/11/2026." in text
    assert "Thời gian trả kết quả" not in text
    assert "3. Nơi trả kết quả: Trả kết quả trực tuyến" in text


def test_supplement_request_is_form_02(rendered):
    text = all_text(open_docx(rendered["supplement_request"]))
    for expected in (
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "Tổ chức, cá nhân: Công ty TNHH Vật liệu Miền Trung",
        "thủ tục Công bố hợp chuẩn/hợp quy",
        "Mã hồ sơ: 000.00.15.H50-261126-0001; ngày nhận hồ sơ: 20/11/2026.",
        "bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
        "1. Bản sao Giấy chứng nhận hợp chuẩn còn hiệu lực;",
        "2. Mẫu nhãn hàng hóa có số hiệu tiêu chuẩn.",
        "Thời hạn bổ sung, hoàn thiện hồ sơ: 10 ngày làm việc",
        "Xin lỗi về sự bất tiện này",
        "NGƯỜI HƯỚNG DẪN, TIẾP NHẬN HỒ SƠ",
    ):
        assert expected in text, expected
    without_days = make_ctx(
        "supplement_request", extra={"items": ["Bản công bố hợp chuẩn"], "answer_days": None}
    )
    assert "Thời hạn bổ sung" not in all_text(open_docx(render_document(without_days)))
    whole = make_ctx("supplement_request", extra={"items": ["Bản công bố hợp chuẩn"], "answer_days": 15.0})
    assert "Thời hạn bổ sung, hoàn thiện hồ sơ: 15 ngày làm việc" in all_text(
        open_docx(render_document(whole))
    )


def test_apology_slip_is_form_04(rendered):
    text = all_text(open_docx(rendered["apology_slip"]))
    for expected in (
        "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
        "Kính gửi: Công ty TNHH Vật liệu Miền Trung",
        "Ngày 20/11/2026, Sở Khoa học và Công nghệ đã tiếp nhận hồ sơ của Công ty TNHH Vật liệu Miền Trung",
        "thủ tục Công bố hợp chuẩn/hợp quy",
        "Mã hồ sơ: 000.00.15.H50-261126-0001",
        "Thời gian hẹn trả kết quả giải quyết hồ sơ: 01 giờ 30 phút, ngày 26/11/2026.",
        "với lý do: Phải lấy ý kiến của Tổng cục Tiêu chuẩn Đo lường Chất lượng.",
        "xin lỗi Công ty TNHH Vật liệu Miền Trung",
        "sẽ trả kết quả giải quyết hồ sơ vào 16 giờ 00 phút, ngày 02/12/2026.",  # 2026-12-02T09:00Z
        "KT. GIÁM ĐỐC",  # signed by the leader
    ):
        assert expected in text, expected
    assert "25/11/2026" not in text


def test_process_control_slip_is_form_05_with_one_row_per_step(rendered):
    document = open_docx(rendered["process_control_slip"])
    text = all_text(document)
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "Mã hồ sơ: 000.00.15.H50-261126-0001",
        "Tổ chức, cá nhân: Công ty TNHH Vật liệu Miền Trung",
        "thủ tục Công bố hợp chuẩn/hợp quy",
        "Thời gian nhận hồ sơ: 03 giờ 00 phút, ngày 20/11/2026",
        "Thời gian hẹn trả kết quả: 01 giờ 30 phút, ngày 26/11/2026",
    ):
        assert expected in text, expected
    grid = next(t for t in document.tables if t.rows[0].cells[0].text == PROCESS_COLUMNS[0])
    assert len(grid.rows) == 1 + len(STEPS)
    assert tuple(c.text for c in grid.rows[0].cells) == PROCESS_COLUMNS
    assert PROCESS_COLUMNS == (
        "TÊN CƠ QUAN / BƯỚC",
        "THỜI GIAN GIAO, NHẬN HỒ SƠ",
        "HẠN XỬ LÝ",
        "HOÀN THÀNH",
        "KẾT QUẢ (trước hạn / đúng hạn / trễ hạn)",
        "NGƯỜI XỬ LÝ",
    )
    assert grid._tbl.xpath("w:tr[1]/w:trPr/w:tblHeader")  # the header repeats on every page
    rows = [[c.text for c in row.cells] for row in grid.rows[1:]]
    assert rows[0] == [
        "Bộ phận Tiếp nhận và Trả kết quả: tiếp nhận",
        "03:00 20/11/2026",
        "10:00 20/11/2026",
        "08:00 20/11/2026",
        "Đúng hạn",
        "Lê Thị C",
    ]
    assert rows[1][4] == "Trước hạn"
    assert rows[2] == [
        "Lãnh đạo Sở: phê duyệt",
        "15:00 23/11/2026",
        "17:00 25/11/2026",
        "01:30 26/11/2026",  # 2026-11-25T18:30Z
        "Trễ hạn",
        "Nguyễn Văn A",
    ]
    assert rows[3] == ["Bộ phận Tiếp nhận và Trả kết quả: trả kết quả", "01:30 26/11/2026", "", "", "", ""]


def test_process_control_slip_without_steps_has_the_header_only():
    document = open_docx(render_document(make_ctx("process_control_slip", extra={})))
    grid = next(t for t in document.tables if t.rows[0].cells[0].text == PROCESS_COLUMNS[0])
    assert len(grid.rows) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_signature_block_carries_the_title_the_form_prescribes(rendered, kind):
    document = open_docx(rendered[kind])
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    right = closing.rows[0].cells[1]
    titles = [p.text for p in right.paragraphs if p.text and all(r.bold for r in p.runs)]
    assert titles == [*SIGNATURES.get(kind, DEPUTY_SIGNATURE), "Nguyễn Văn A"]


def test_procedure_name_comes_from_extra_then_data_and_is_required():
    data = {**DECLARATION, "procedure_name": "Công bố hợp quy sản phẩm, hàng hóa vật liệu xây dựng"}
    for kind in ("receipt_slip", "supplement_request", "apology_slip", "process_control_slip"):
        extra = {**EXTRA_BY_KIND[kind], "procedure_name": "Công bố hợp chuẩn dựa trên kết quả chứng nhận"}
        from_extra = all_text(open_docx(render_document(make_ctx(kind, data=data, extra=extra))))
        assert "Công bố hợp chuẩn dựa trên kết quả chứng nhận" in from_extra, kind
        from_data = all_text(
            open_docx(
                render_document(
                    make_ctx(kind, data=data, extra={**EXTRA_BY_KIND[kind], "procedure_name": ""})
                )
            )
        )
        assert "Công bố hợp quy sản phẩm, hàng hóa vật liệu xây dựng" in from_data, kind
        with pytest.raises(ValueError, match="procedure_name"):
            render_document(make_ctx(kind, extra={**EXTRA_BY_KIND[kind], "procedure_name": ""}))


def test_slips_without_their_required_extras_are_refused():
    for items in (None, [], ["  "]):
        with pytest.raises(ValueError, match="items"):
            render_document(make_ctx("supplement_request", extra={"items": items}))
    for days in ("mười", 0, 1.5, True):
        with pytest.raises(ValueError, match="answer_days"):
            render_document(make_ctx("supplement_request", extra={"items": ["x"], "answer_days": days}))
    apology = EXTRA_BY_KIND["apology_slip"]
    with pytest.raises(ValueError, match="reason"):
        render_document(make_ctx("apology_slip", extra={**apology, "reason": " "}))
    without_new = {k: v for k, v in apology.items() if k != "new_appointment_at"}
    with pytest.raises(ValueError, match="new_appointment_at"):
        render_document(make_ctx("apology_slip", extra=without_new))
    with pytest.raises(ValueError, match="later"):
        render_document(make_ctx("apology_slip", extra={**apology, "new_appointment_at": APPOINTMENT}))
    with pytest.raises(ValueError, match="appointment_at"):
        render_document(make_ctx("receipt_slip", extra={"appointment_at": "ngày mai"}))
    with pytest.raises(ValueError, match="outcome"):
        render_document(make_ctx("process_control_slip", extra={"steps": [{**STEPS[0], "outcome": "soon"}]}))
    with pytest.raises(ValueError, match="steps"):
        render_document(make_ctx("process_control_slip", extra={"steps": "tiếp nhận"}))


def test_extra_is_a_read_only_copy_and_the_context_stays_frozen():
    given = {"items": ["Bản công bố hợp chuẩn"]}
    ctx = make_ctx("supplement_request", extra=given)
    given["items"] = []
    given["answer_days"] = 3
    assert ctx.extra == {"procedure_name": "Công bố hợp chuẩn/hợp quy", "items": ["Bản công bố hợp chuẩn"]}
    with pytest.raises(TypeError):
        ctx.extra["answer_days"] = 3  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.extra = {}  # type: ignore[misc]
    assert make_ctx().extra == {"procedure_name": "Công bố hợp chuẩn/hợp quy"}
    assert make_ctx("supplement_request", extra={"items": ["Bản công bố hợp chuẩn"]}) == ctx
    assert replace(ctx, number="9/YCBS-SKHCN").extra == ctx.extra


@pytest.mark.parametrize(
    "kind", ["receipt_slip", "supplement_request", "apology_slip", "process_control_slip"]
)
def test_slips_render_deterministically(kind):
    ctx = make_ctx(kind)
    assert render_document(ctx) == render_document(replace(ctx, extra=dict(ctx.extra)))
    assert document_title(ctx) == DOCUMENT_KINDS[kind].builder(ctx).title


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="no_such_kind"):
        render_document(make_ctx("no_such_kind"))


@pytest.mark.parametrize("kind", KINDS)
def test_missing_optional_values_do_not_crash(kind):
    required = {k: v for k, v in DATA_BY_KIND[kind].items() if k in ("rejection_reasons", "refusal_reason")}
    extra = REQUIRED_EXTRA.get(kind, {})
    sparse = {
        **required,
        "product": {"name": "Gạch", "trademark": None},
        "standard": {"number": None, "title": None},
        "basis": "certificate",
        "certificate": None,
    }
    for data in (required, sparse):
        ctx = make_ctx(
            kind, data=data, extra=extra, received_at=None, applicant_tax_code="", applicant_address=""
        )
        text = all_text(open_docx(render_document(ctx)))
        assert "None" not in text
        assert "mã số thuế" not in text.lower()
        assert "ngày tiếp nhận" not in text
        assert "ngày nhận hồ sơ" not in text
        assert "Thời gian nhận hồ sơ" not in text
        assert "Địa chỉ:" not in text
        assert "  " not in text.replace("\n", "")


def test_markup_in_input_appears_literally_and_control_characters_are_dropped():
    name = "Công ty <b>&</b> \"Q\" 'T'\x00\x0b"
    content = render_document(make_ctx(applicant_name=name))
    text = all_text(open_docx(content))
    assert "Công ty <b>&</b> \"Q\" 'T'" in text
    assert "<b>" not in document_xml(content)  # escaped, not interpreted
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in document_xml(content)


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize("kind", KINDS)
def test_page_is_a4_with_decree_30_margins(rendered, kind):
    for content in (rendered[kind],):
        section = open_docx(content).sections[0]
        for actual, mm in (
            (section.page_width, 210),
            (section.page_height, 297),
            (section.top_margin, 20),
            (section.bottom_margin, 20),
            (section.left_margin, 30),
            (section.right_margin, 15),
        ):
            assert abs(actual.mm - mm) < 0.1


FONT_SLOTS = (("w:ascii", "w:asciiTheme"), ("w:hAnsi", "w:hAnsiTheme"), ("w:eastAsia", "w:eastAsiaTheme"),
              ("w:cs", "w:cstheme"))  # fmt: skip


def effective_fonts(document, run) -> dict[str, str | None]:
    """The font of each slot a reader gets for ``run``: its own <w:rFonts>, else its paragraph style's
    (through w:basedOn), else the document defaults'; a theme font at a level beats a name there."""
    styles = document.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.iter(qn("w:style"))}
    paragraph = next(run.iterancestors(qn("w:p")))
    style_id = paragraph.xpath("string(w:pPr/w:pStyle/@w:val)") or next(
        s.get(qn("w:styleId"))
        for s in by_id.values()
        if s.get(qn("w:type")) == "paragraph" and s.get(qn("w:default")) in ("1", "true", "on")
    )
    levels = [run.find(qn("w:rPr"))]
    while style_id:
        style = by_id[style_id]
        levels.append(style.find(qn("w:rPr")))
        style_id = style.xpath("string(w:basedOn/@w:val)")
    levels.append(styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")))
    found: dict[str, str | None] = {}
    for slot, theme in FONT_SLOTS:
        found[slot] = None
        for r_pr in levels:
            fonts = None if r_pr is None else r_pr.find(qn("w:rFonts"))
            if fonts is not None and (fonts.get(qn(theme)) or fonts.get(qn(slot))):
                found[slot] = f"theme {fonts.get(qn(theme))}" if fonts.get(qn(theme)) else fonts.get(qn(slot))
                break
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_run_is_times_new_roman_including_east_asian(rendered, kind):
    document = open_docx(rendered[kind])
    parts = [document.element.body, document.sections[0].footer._element]
    runs = [r for part in parts for r in part.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    assert len(runs) > 20
    slots = [slot for slot, _ in FONT_SLOTS]
    for run in runs:
        text = "".join(t.text for t in run.iter(qn("w:t")))
        assert effective_fonts(document, run) == dict.fromkeys(slots, "Times New Roman"), text
        size = run.find(qn("w:rPr")).find(qn("w:sz"))
        assert 9 * 2 <= int(size.get(qn("w:val"))) <= 14 * 2
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    default_fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert default_fonts.get(qn("w:eastAsia")) == "Times New Roman"
    assert default_fonts.get(qn("w:asciiTheme")) is None  # a theme font would override the name
    assert document.styles["Normal"].font.name == "Times New Roman"


def test_body_text_is_13_to_14_pt(rendered):
    document = open_docx(rendered["declaration_notice"])
    body = next(p for p in document.paragraphs if "xác nhận đã nhận" in p.text)
    assert all(r.font.size.pt in (13, 14) for r in body.runs)


@pytest.mark.parametrize("kind", KINDS)
def test_header_table_is_borderless_with_agency_left_and_nation_right(rendered, kind):
    document = open_docx(rendered[kind])
    header = document.tables[0]
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}
    (agency, nation), (number, when) = ([c for c in row.cells] for row in header.rows)
    assert agency.paragraphs[0].text == "UBND TỈNH QUẢNG TRỊ"
    assert agency.paragraphs[1].text == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    assert all(r.bold for r in agency.paragraphs[1].runs)
    assert [p.text for p in nation.paragraphs[:2]] == [NATIONAL_NAME, NATIONAL_MOTTO]
    assert all(r.bold for p in nation.paragraphs[:2] for r in p.runs)
    assert number.text == f"Số: {NUMBERS[kind]}"
    assert when.text == LOCAL_DATE_LINE
    assert all(r.italic for r in when.paragraphs[0].runs)


def test_recipients_bottom_left_and_signature_bottom_right(rendered):
    document = open_docx(rendered["declaration_notice"])
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    left, right = closing.rows[0].cells
    assert left.paragraphs[-1].text == "- Lưu: VT, TĐC."
    assert left.paragraphs[1].text == "- Công ty TNHH Vật liệu Miền Trung;"
    titles = [p for p in right.paragraphs if p.text in ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")]
    assert len(titles) == 2 and all(r.bold for p in titles for r in p.runs)
    assert right.paragraphs[-1].text == "Nguyễn Văn A"


# Child order of property elements in WordprocessingML (ECMA-376 part 1, CT_PPrBase, CT_TblPr, CT_RPr).
SCHEMA_ORDER = {
    "pPr": """pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr
        shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi
        adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection
        textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange""",
    "tblPr": """tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc
        tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption
        tblDescription tblPrChange""",
    "rPr": """rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof
        snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText
        vertAlign rtl cs em lang eastAsianLayout specVanish oMath""",
}


@pytest.mark.parametrize("kind", KINDS)
def test_property_elements_follow_the_schema_order(rendered, kind):
    """Word refuses to open a file whose <w:pPr>/<w:tblPr>/<w:rPr> children are out of order."""
    document = open_docx(rendered[kind])
    parts = [document.element, *(s.footer._element for s in document.sections)]
    for name, sequence in SCHEMA_ORDER.items():
        order = [qn(f"w:{tag}") for tag in sequence.split()]
        checked = 0
        for part in parts:
            for props in part.iter(qn(f"w:{name}")):
                if props.getparent().tag == qn("w:rPrDefault") or props.getparent().tag == qn("w:pPrDefault"):
                    continue
                positions = [order.index(child.tag) for child in props]
                assert positions == sorted(positions), [child.tag for child in props]
                checked += 1
        assert checked, name


def test_place_and_date_uses_local_time_and_decree_30_zero_padding():
    assert place_and_date("Quảng Trị", ISSUED) == LOCAL_DATE_LINE
    assert place_and_date("Huế", datetime(2026, 3, 4, 17, 0, tzinfo=UTC)) == "Huế, ngày 05 tháng 3 năm 2026"
    assert place_and_date("Huế", datetime(2026, 1, 31, 20, 0, tzinfo=UTC)) == "Huế, ngày 01 tháng 02 năm 2026"
    assert place_and_date("Huế", datetime(2026, 12, 10, 3, 0, tzinfo=UTC)) == "Huế, ngày 10 tháng 12 năm 2026"


def test_agency_name_inside_sentences():
    assert agency_in_text("SỞ KHOA HỌC VÀ CÔNG NGHỆ") == "Sở Khoa học và Công nghệ"
    assert (
        agency_in_text("SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG TRỊ") == "Sở Khoa học và Công nghệ tỉnh Quảng Trị"
    )


# ---------------------------------------------------------------- QR and verification


def _png_modules(png: bytes, modules: int) -> list[list[bool]]:
    """Sample the centre of each module of the PNG with Pillow (True = dark)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.format is None or image.width == image.height
    px = image.width // modules
    return [
        [image.getpixel((c * px + px // 2, r * px + px // 2)) < 128 for c in range(modules)]
        for r in range(modules)
    ]


def _expected_modules(text: str) -> list[list[bool]]:
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=QR_MASK_PATTERN
    )
    qr.add_data(text)
    qr.make(fit=True)
    return qr.get_matrix()


def test_qr_png_encodes_the_verify_url():
    expected = _expected_modules(VERIFY_URL)
    assert _png_modules(qr_png(VERIFY_URL), len(expected)) == expected
    assert _expected_modules(VERIFY_URL + "x") != expected


@pytest.mark.parametrize("kind", KINDS)
def test_document_embeds_the_qr_png_of_the_verify_url(rendered, kind):
    document = open_docx(rendered[kind])
    assert len(document.inline_shapes) == 1
    images = [p for p in document.part.package.iter_parts() if p.content_type == "image/png"]
    assert len(images) == 1
    expected = _expected_modules(VERIFY_URL)
    assert _png_modules(images[0].blob, len(expected)) == expected
    assert abs(document.inline_shapes[0].width.mm - 24) < 0.5
    with zipfile.ZipFile(io.BytesIO(rendered[kind])) as package:
        names = package.namelist()
    assert [n for n in names if n.startswith("word/media/")] == ["word/media/image1.png"]
    assert not [n for n in names if "thumbnail" in n]  # no preview picture from the template


def test_verification_code_format_and_uniqueness():
    codes = {new_verification_code() for _ in range(1000)}
    assert len(codes) == 1000
    pattern = re.compile(
        rf"^[{VERIFICATION_ALPHABET}]{{4}}-[{VERIFICATION_ALPHABET}]{{4}}-[{VERIFICATION_ALPHABET}]{{4}}$"
    )
    assert all(pattern.match(code) for code in codes)
    assert not set("01OIL") & set("".join(codes))
    assert normalise_verification_code(" k7qf 2mxr-9hda ") == "K7QF-2MXR-9HDA"


def test_sha256_and_deterministic_rendering():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    ctx = make_ctx()
    first, second = render_document(ctx), render_document(ctx)
    assert sha256_hex(first) == sha256_hex(second)
    assert sha256_hex(render_document(replace(ctx, verification_code="AAAA-BBBB-CCCC"))) != sha256_hex(first)


def test_core_properties_are_the_documents_own(rendered):
    props = open_docx(rendered["declaration_notice"]).core_properties
    assert props.author == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
    assert props.created == ISSUED
    assert props.modified == ISSUED
    assert props.identifier == "15/TB-SKHCN"
    assert "K7QF-2MXR-9HDA" in props.keywords


def test_a_draft_says_so_where_the_signature_and_the_verification_go():
    text = docx_text(render_document(make_ctx("declaration_notice", draft=True, verification_code="")))
    assert "DỰ THẢO" in text and "(Đã ký)" not in text
    assert "Mã xác thực" not in text and "/verify/" not in text
    assert "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực." in text
    assert "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable" in text
    issued = docx_text(render_document(make_ctx("declaration_notice")))
    assert "(Đã ký)" in issued and "Mã xác thực" in issued and "DỰ THẢO" not in issued


# ---------------------------------------------------------------- the header fits (Decree 30, Phụ lục I)

# Liberation Serif 2 has the advance widths of Times New Roman and every Vietnamese letter
# (Debian: fonts-liberation2; the older fonts-liberation lacks letters such as Ộ).
LIBERATION = Path("/usr/share/fonts/truetype/liberation2")
LETTERS = {
    "tbt_answer": {
        **DECLARATION,
        "asker": {"name": "Trần Thị Khách", "organisation": "Công ty TNHH Vật liệu Miền Trung"},
        "subject": "Thép không gỉ sang EU",
        "product": "Thép không gỉ",
        "market": "EU",
        "question": "Cần đáp ứng tiêu chuẩn nào?",
        "answer": "Tiêu chuẩn EN 10088-2.",
    },
    "tbt_forward_letter": {
        **DECLARATION,
        "subject": "Thép không gỉ sang EU",
        "question": "Cần đáp ứng tiêu chuẩn nào?",
        "forward_to": "Văn phòng TBT Việt Nam",
    },
    "tbt_decline_slip": {**DECLARATION, "question": "Vay vốn?", "decline_reason": "Ngoài phạm vi."},
    "tbt_wto_comments": DECLARATION,
}
LETTER_NUMBER = "12/SKHCN-TĐC"


def letter_ctx(kind: str, **changes) -> DocumentContext:
    return make_ctx(kind, number=LETTER_NUMBER, data=LETTERS[kind], **changes)


@functools.cache
def _font(bold: bool, italic: bool) -> TTFont:
    style = {(False, False): "Regular", (True, False): "Bold", (False, True): "Italic"}.get(
        (bold, italic), "BoldItalic"
    )
    path = LIBERATION / f"LiberationSerif-{style}.ttf"
    assert path.exists(), f"{path} missing: apt-get install fonts-liberation2"
    return TTFont(path)


def text_width_mm(text: str, size_pt: float, *, bold: bool = False, italic: bool = False) -> float:
    font = _font(bold, italic)
    cmap, advances = font.getBestCmap(), font["hmtx"]
    assert all(ord(c) in cmap for c in text), f"a glyph of {text!r} is missing from {font}"
    units = sum(advances[cmap[ord(c)]][0] for c in text)
    return units / font["head"].unitsPerEm * size_pt * 25.4 / 72


def _mm(twips: str | None) -> float:
    return int(twips or 0) * 25.4 / 1440


def paragraph_width_mm(p) -> float:
    """The printed width of a paragraph's runs, each at its own size and emphasis."""
    width = 0.0
    for run in p.iter(qn("w:r")):
        text = "".join(t.text or "" for t in run.iter(qn("w:t")))
        r_pr = run.find(qn("w:rPr"))
        size = int(r_pr.find(qn("w:sz")).get(qn("w:val"))) / 2
        bold, italic = r_pr.find(qn("w:b")) is not None, r_pr.find(qn("w:i")) is not None
        width += text_width_mm(text, size, bold=bold, italic=italic)
    return width


def cell_text_width_mm(table, cell) -> float:
    """A cell's width less its left and right margins (the table's, else Word's default 0.08")."""
    margins = table.find(qn("w:tblPr")).find(qn("w:tblCellMar"))
    sides = [None if margins is None else margins.find(qn(f"w:{side}")) for side in ("left", "right")]
    inside = sum(_mm(side.get(qn("w:w"))) if side is not None else _mm("115") for side in sides)
    return _mm(cell.find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) - inside


def _size(p) -> float:
    return int(p.find(qn("w:r")).find(qn("w:rPr")).find(qn("w:sz")).get(qn("w:val"))) / 2


def _bold(p) -> bool:
    return all(r.find(qn("w:rPr")).find(qn("w:b")) is not None for r in p.iter(qn("w:r")))


def _text(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def rendered_with_letters(rendered) -> dict[str, bytes]:
    return {**rendered, **{kind: render_document(letter_ctx(kind)) for kind in LETTERS}}


def test_every_header_line_fits_on_one_line_in_times_new_roman(rendered):
    """Printed, the national name wrapped ("… VIỆT / NAM") and the agency name too ("… CÔNG /
    NGHỆ"): each header line must fit its cell in Times New Roman at its printed size."""
    for kind, content in rendered_with_letters(rendered).items():
        table = open_docx(content).tables[0]._tbl
        for tc in table.iter(qn("w:tc")):
            room = cell_text_width_mm(table, tc)
            for p in tc.iter(qn("w:p")):
                text = _text(p)
                if text and not text.startswith("V/v "):  # a letter's excerpt may take lines
                    assert paragraph_width_mm(p) <= room, (kind, text, paragraph_width_mm(p), room)


def test_header_sizes_and_rules_follow_decree_30(rendered):
    table = open_docx(rendered["declaration_notice"]).tables[0]._tbl
    agency_cell, nation_cell = table.find(qn("w:tr")).findall(qn("w:tc"))
    parent, agency, agency_rule = agency_cell.findall(qn("w:p"))
    national, motto, motto_rule = nation_cell.findall(qn("w:p"))
    assert _text(national) == NATIONAL_NAME and 12 <= _size(national) <= 13 and _bold(national)
    assert _text(motto) == NATIONAL_MOTTO and 13 <= _size(motto) <= 14 and _bold(motto)
    assert _size(motto) == _size(national) + 1  # the decree's pairs: 12 with 13, 13 with 14
    assert 12 <= _size(parent) <= 13 and not _bold(parent)
    assert 12 <= _size(agency) <= 13 and _bold(agency)

    def rule_mm(p, cell) -> float:
        assert p.find(qn("w:pPr")).find(qn("w:pBdr")) is not None
        ind = p.find(qn("w:pPr")).find(qn("w:ind"))
        return cell_text_width_mm(table, cell) - _mm(ind.get(qn("w:left"))) - _mm(ind.get(qn("w:right")))

    # Under the motto a line as long as the motto; under the agency 1/3 to 1/2 of its line.
    assert abs(rule_mm(motto_rule, nation_cell) - paragraph_width_mm(motto)) < 1.0
    agency_width = paragraph_width_mm(agency)
    assert agency_width / 3 <= rule_mm(agency_rule, agency_cell) <= agency_width / 2


# ---------------------------------------------------------------- the closing stays together


def test_recipients_and_signature_never_split_across_pages(rendered):
    """Word and the PDF renderer keep one row that cannot split on one page, and the paragraph
    before it (the last of the body) with it."""
    for kind, content in rendered_with_letters(rendered).items():
        document = open_docx(content)
        closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
        rows = closing._tbl.findall(qn("w:tr"))
        assert len(rows) == 1, kind
        assert rows[0].find(qn("w:trPr")).find(qn("w:cantSplit")) is not None, kind
        before = closing._tbl.getprevious()
        if before.tag == qn("w:p") and _text(before):  # the body ends with a paragraph
            p_pr = before.find(qn("w:pPr"))
            assert p_pr.find(qn("w:keepNext")) is not None and p_pr.find(qn("w:keepLines")) is not None, kind
        right = closing.rows[0].cells[1]
        assert right.paragraphs[-1].text == "Nguyễn Văn A"  # the signer's name is in the same row


# ---------------------------------------------------------------- page numbers


def _runs_text(element) -> str:
    return "".join(t.text or "" for t in element.iter(qn("w:t")))


@pytest.mark.parametrize("draft", [False, True])
def test_page_numbers_from_page_2_centred_in_the_top_margin(rendered, draft):
    """Decree 30, Phụ lục I: Arabic numerals, 13–14 pt upright, centred in the top margin, not on
    the first page. The verification line (or the draft notice) stays in every page's footer."""
    content = (
        render_document(make_ctx("declaration_notice", draft=True, verification_code=""))
        if draft
        else rendered["declaration_notice"]
    )
    section = open_docx(content).sections[0]
    assert section.different_first_page_header_footer  # <w:titlePg/>
    header = section.header
    assert not header.is_linked_to_previous
    [p] = header._element.findall(qn("w:p"))
    assert p.find(qn("w:pPr")).find(qn("w:jc")).get(qn("w:val")) == "center"
    instructions = [i.text.strip() for i in p.iter(qn("w:instrText"))]
    assert instructions == ["PAGE"]
    kinds = [f.get(qn("w:fldCharType")) for f in p.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    for run in p.iter(qn("w:r")):
        r_pr = run.find(qn("w:rPr"))
        assert 26 <= int(r_pr.find(qn("w:sz")).get(qn("w:val"))) <= 28
        assert r_pr.find(qn("w:b")) is None and r_pr.find(qn("w:i")) is None
    first = section.first_page_header
    assert not first.is_linked_to_previous
    assert _runs_text(first._element) == "" and not list(first._element.iter(qn("w:instrText")))
    expected = DRAFT_FOOTER if draft else "Mã xác thực K7QF-2MXR-9HDA"
    for footer in (section.footer, section.first_page_footer):
        assert not footer.is_linked_to_previous
        assert expected in _runs_text(footer._element)
        assert not list(footer._element.iter(qn("w:instrText")))


# ---------------------------------------------------------------- letters (công văn)


@pytest.mark.parametrize("kind", sorted(LETTERS))
def test_a_letter_has_its_excerpt_under_the_number_and_kinh_gui_instead_of_a_title(kind):
    assert DOCUMENT_KINDS[kind].letter
    ctx = letter_ctx(kind)
    body = DOCUMENT_KINDS[kind].builder(ctx)
    document = open_docx(render_document(ctx))
    header = document.tables[0]
    number_cell = header.rows[1].cells[0]
    assert [p.text for p in number_cell.paragraphs] == [f"Số: {LETTER_NUMBER}", f"V/v {body.excerpt}"]
    excerpt = number_cell.paragraphs[1]._p
    assert 12 <= _size(excerpt) <= 13 and not _bold(excerpt)
    texts = [p.text for p in document.paragraphs]
    assert not {"CÔNG VĂN", "VĂN BẢN TRẢ LỜI", "PHIẾU TỪ CHỐI TRẢ LỜI"} & set(texts)
    assert [t for t in texts if t.startswith("Kính gửi:")] == [f"Kính gửi: {body.to[0]}."]
    assert document_title(ctx) == f"V/v {body.excerpt}" == document.core_properties.title
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    assert closing.rows[0].cells[0].paragraphs[1].text == "- Như trên;"


def test_a_letter_is_numbered_for_the_agency_and_the_drafting_unit():
    assert document_symbol("TB", "SKHCN", "TĐC", letter=False) == "TB-SKHCN"
    assert document_symbol("", "SKHCN", "TĐC", letter=True) == "SKHCN-TĐC"
    assert not DOCUMENT_KINDS["declaration_notice"].letter and not DOCUMENT_KINDS["receipt_slip"].letter


# ---------------------------------------------------------------- signed by an authority


def test_the_authority_over_the_signature():
    assert authority_lines("GIÁM ĐỐC") == ("GIÁM ĐỐC",)
    assert authority_lines("Phó Giám đốc") == ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")
    assert authority_lines("TRƯỞNG PHÒNG TIÊU CHUẨN ĐO LƯỜNG CHẤT LƯỢNG") == (
        "TL. GIÁM ĐỐC",
        "TRƯỞNG PHÒNG TIÊU CHUẨN ĐO LƯỜNG CHẤT LƯỢNG",
    )
    assert authority_lines("PHÓ TRƯỞNG PHÒNG TĐC") == (
        "TL. GIÁM ĐỐC",
        "KT. TRƯỞNG PHÒNG TĐC",
        "PHÓ TRƯỞNG PHÒNG TĐC",
    )
    assert authority_lines("TUQ. GIÁM ĐỐC\nPHỤ TRÁCH ĐIỂM HỎI ĐÁP TBT")[0] == "TUQ. GIÁM ĐỐC"
    assert authority_lines("PHÓ CHỦ TỊCH", director="CHỦ TỊCH") == ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    for job in ("CÁN BỘ TBT", "CÁN BỘ TIẾP NHẬN", "CHUYÊN VIÊN", "", "CÁN BỘ\nTBT"):
        with pytest.raises(NoSigningAuthority):
            authority_lines(job)
    assert signer_authority("PHÓ GIÁM ĐỐC", ["leader"]) == "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
    assert signer_authority("CÁN BỘ TIẾP NHẬN", ["clerk"], authorised_position="X") == ""
    assert (
        signer_authority("CÁN BỘ TBT", ["tbt_officer"], authorised_position="Phụ trách điểm hỏi đáp TBT")
        == "TUQ. GIÁM ĐỐC\nPHỤ TRÁCH ĐIỂM HỎI ĐÁP TBT"
    )
    assert signer_authority("CÁN BỘ TBT", ["tbt_officer"], authorised_position="") == ""


@pytest.mark.parametrize("kind", ["declaration_notice", "apology_slip", "tbt_answer", "tbt_wto_comments"])
def test_letters_and_results_are_never_signed_with_a_clerks_job_name(kind):
    make = letter_ctx if kind in LETTERS else make_ctx
    for job in ("CÁN BỘ TBT", "CÁN BỘ TIẾP NHẬN", ""):
        with pytest.raises(NoSigningAuthority, match="authority"):
            render_document(make(kind, signer_title=job))
    text = all_text(open_docx(render_document(make(kind, signer_title="TRƯỞNG PHÒNG TĐC"))))
    assert "TL. GIÁM ĐỐC\nTRƯỞNG PHÒNG TĐC\n" in text


def test_slips_keep_the_title_their_form_prescribes_whoever_signs():
    text = all_text(open_docx(render_document(make_ctx("receipt_slip", signer_title="CÁN BỘ TIẾP NHẬN"))))
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text and "CÁN BỘ TIẾP NHẬN" not in text


def test_a_receipt_by_no_officer_is_signed_by_the_receiving_unit_without_a_name():
    ctx = make_ctx(
        "receipt_slip",
        signer_name="",
        signer_title="",
        extra={**EXTRA_BY_KIND["receipt_slip"], "receiving_unit": "Điểm hỏi đáp TBT tỉnh Quảng Trị"},
    )
    document = open_docx(render_document(ctx))
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    signature = [p.text for p in closing.rows[0].cells[1].paragraphs if p.text]
    assert signature == ["ĐIỂM HỎI ĐÁP TBT TỈNH QUẢNG TRỊ", "(Đã ký)"]
    assert "Điểm hỏi đáp TBT tỉnh Quảng Trị - Sở Khoa học và Công nghệ tiếp nhận hồ sơ của:" in all_text(
        document
    )
