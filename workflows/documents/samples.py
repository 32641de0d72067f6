"""A sample context of each kind a template may be made for: what a template is rendered with
before it takes effect (workflows.documents.template_check), and its preview. The values are
those ``tests/test_documents.py`` renders the same kinds with (issued on 26/11/2026 local time,
received three working days before)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from workflows.documents.model import DocumentContext
from workflows.documents.templating import TEMPLATE_KINDS

ISSUED = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # 01:30 on 26/11/2026 in Asia/Ho_Chi_Minh
APPOINTMENT = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
PROCEDURE_NAME = "Công bố hợp chuẩn/hợp quy"
APPLICANT = {
    "name": "Công ty TNHH Vật liệu Miền Trung",
    "tax_code": "3200123452",
    "address": "12 Lê Lợi, phường Đông Hà, tỉnh Quảng Trị",
    "phone": "0233 3852 123",
    "email": "info@vlmt.example",
    "representative": "Trần Thị B",
}
STEPS: list[dict[str, Any]] = [
    {
        "step": "Bộ phận Tiếp nhận và Trả kết quả: tiếp nhận",
        "received_at": datetime(2026, 11, 19, 20, 0, tzinfo=UTC),
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
        "step": "Bộ phận Tiếp nhận và Trả kết quả: trả kết quả",
        "received_at": APPOINTMENT,
        "due_at": None,
        "done_at": None,
        "by": "",
        "outcome": None,
    },
]
NUMBERS = {
    "receipt_refusal": "03/PTC-SKHCN",
    "receipt_slip": "21/TNHS-SKHCN",
    "supplement_request": "05/YCBS-SKHCN",
    "apology_slip": "02/XL-SKHCN",
    "process_control_slip": "21/KSQT-SKHCN",
    "stop_notice": "01/TBDGQ-SKHCN",
}
EXTRA: dict[str, dict[str, Any]] = {
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
        "new_appointment_at": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    },
    "process_control_slip": {"steps": STEPS, "appointment_at": APPOINTMENT},
    "stop_notice": {"reason": "Tổ chức đề nghị rút hồ sơ"},
}
DATA: dict[str, dict[str, Any]] = {
    "receipt_refusal": {"refusal_reason": "Hồ sơ không thuộc thẩm quyền giải quyết của Sở"},
}


def sample_context(kind: str, *, draft: bool = False) -> DocumentContext:
    """A context of ``kind`` with every value a slip prints, and what the kind's registration
    adds (a procedure's kind: its form data) (a draft: no number, no code)."""
    of_kind = TEMPLATE_KINDS.get(kind)
    own_data = dict(of_kind.sample_data) if of_kind else {}
    own_extra = dict(of_kind.sample_extra) if of_kind else {}
    ctx = DocumentContext(
        kind=kind,
        number=NUMBERS.get(kind, "1/TB-SKHCN"),
        issued_at=ISSUED,
        agency_parent="UBND TỈNH QUẢNG TRỊ",
        agency_name="SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        place="Quảng Trị",
        dossier_code="000.00.15.H50-261126-0001",
        applicant_name=APPLICANT["name"],
        applicant_tax_code=APPLICANT["tax_code"],
        applicant_address=APPLICANT["address"],
        applicant_contact={k: APPLICANT[k] for k in ("representative", "phone", "email")},
        data={"applicant": dict(APPLICANT), **DATA.get(kind, {}), **own_data},
        signer_name="Nguyễn Văn A",
        signer_title="PHÓ GIÁM ĐỐC",
        verification_code="K7QF-2MXR-9HDA",
        verify_url="https://motcua.skhcn.quangtri.example/xac-thuc/K7QF-2MXR-9HDA",
        received_at=datetime(2026, 11, 19, 20, 0, tzinfo=UTC),
        extra={"procedure_name": PROCEDURE_NAME, **EXTRA.get(kind, {}), **own_extra},
    )
    if draft:
        return replace(ctx, draft=True, number="", verification_code="", verify_url="")
    return ctx
