"""Demo accounts and a few demo dossiers, for ``make run`` (demo mode only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from workflows import accounts, commands
from workflows.db import transaction
from workflows.demo_award import create_award_demo
from workflows.demo_tbt import create_demo_tbt
from workflows.models import User
from workflows.runtime import Runtime


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    full_name: str
    roles: tuple[str, ...]
    job_title: str = ""
    tax_code: str = ""
    organisation: str = ""
    address: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("motcua@demo.tdcflow.vn", "demo-motcua-2026", "Lê Thị Hoa", ("clerk",), "CÁN BỘ TIẾP NHẬN"),
    DemoAccount(
        "chuyenvien@demo.tdcflow.vn", "demo-chuyenvien-2026", "Trần Văn Nam", ("specialist",), "CHUYÊN VIÊN"
    ),
    DemoAccount(
        "lanhdao@demo.tdcflow.vn", "demo-lanhdao-2026", "Nguyễn Minh Đức", ("leader",), "PHÓ GIÁM ĐỐC"
    ),
    DemoAccount("tbt@demo.tdcflow.vn", "demo-tbt-2026", "Phạm Thu Trang", ("tbt_officer",), "CÁN BỘ TBT"),
    DemoAccount(
        "hoidong@demo.tdcflow.vn", "demo-hoidong-2026", "Võ Quốc Bảo", ("council",), "ỦY VIÊN HỘI ĐỒNG"
    ),
    DemoAccount(
        "quantri@demo.tdcflow.vn", "demo-quantri-2026", "Hoàng Anh Tuấn", ("admin",), "QUẢN TRỊ HỆ THỐNG"
    ),
    DemoAccount(
        "lienhe@thepdongha.demo.vn",
        "demo-doanhnghiep1-2026",
        "Nguyễn Văn Thép",
        ("business",),
        tax_code="3200123456",
        organisation="Công ty TNHH Thép Đông Hà",
        address="Số 12 Lê Duẩn, phường Đông Hà, tỉnh Quảng Trị",
    ),
    DemoAccount(
        "info@mubaohiemqb.demo.vn",
        "demo-doanhnghiep2-2026",
        "Đặng Thị Lan",
        ("business",),
        tax_code="3100654321-001",
        organisation="Công ty Cổ phần Mũ bảo hiểm Quảng Bình",
        address="KCN Tây Bắc Đồng Hới, tỉnh Quảng Trị",
    ),
    # National Quality Award (workflows/demo_award.py): two more council members and a third applicant.
    DemoAccount(
        "hoidong2@demo.tdcflow.vn", "demo-hoidong2-2026", "Trương Thị Mai", ("council",), "ỦY VIÊN HỘI ĐỒNG"
    ),
    DemoAccount(
        "hoidong3@demo.tdcflow.vn", "demo-hoidong3-2026", "Lý Văn Hùng", ("council",), "ỦY VIÊN HỘI ĐỒNG"
    ),
    DemoAccount(
        "lienhe@ximangqt.demo.vn",
        "demo-doanhnghiep3-2026",
        "Hồ Văn Sơn",
        ("business",),
        tax_code="3200987654",
        organisation="Công ty Cổ phần Xi măng Quảng Trị",
        address="KCN Quán Ngang, huyện Gio Linh, tỉnh Quảng Trị",
    ),
    DemoAccount(
        "lienhe@duocquangtri.demo.vn",
        "demo-doanhnghiep4-2026",
        "Phan Thị Thu",
        ("business",),
        tax_code="3200456789",
        organisation="Công ty Cổ phần Dược phẩm Quảng Trị",
        address="KCN Nam Đông Hà, tỉnh Quảng Trị",
    ),
)

# The smallest well-formed PDF: enough for the content check and for a viewer.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def create_demo_accounts(rt: Runtime) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; returns those created."""
    created = []
    with transaction(rt.engine) as session:
        for account in DEMO_ACCOUNTS:
            if session.exec(select(User.id).where(User.email == account.email)).first() is not None:
                continue
            if "business" in account.roles:
                accounts.register_business(
                    session,
                    email=account.email,
                    password=account.password,
                    full_name=account.full_name,
                    tax_code=account.tax_code,
                    organisation_name=account.organisation,
                    address=account.address,
                )
            else:
                accounts.create_officer(
                    session,
                    email=account.email,
                    password=account.password,
                    full_name=account.full_name,
                    roles=list(account.roles),
                    job_title=account.job_title,
                )
            created.append(account)
    return created


def declaration_data(
    account: DemoAccount, product: str, basis: str, attachments: dict[str, str]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "declaration_type": "hop_quy",
        "applicant": {
            "name": account.organisation,
            "tax_code": account.tax_code,
            "address": account.address,
            "phone": "0233 3852 123",
            "email": account.email,
            "representative": account.full_name,
        },
        "product": {
            "name": product,
            "trademark": "ĐH",
            "model": "DH-2026",
            "manufacturer": account.organisation,
            "place_of_production": account.address,
        },
        "standard": {
            "number": "QCVN 7:2019/BKHCN",
            "title": "Quy chuẩn kỹ thuật quốc gia về thép làm cốt bê tông",
        },
        "basis": basis,
        "attachments": attachments,
    }
    if basis == "certificate":
        data["certificate"] = {
            "number": "QC-2026-0457",
            "body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
            "issued_on": "2026-10-01",
            "valid_until": "2029-09-30",
        }
    else:
        data["self_assessment"] = {
            "test_report_number": "KQ-2026-118",
            "laboratory": "Phòng thử nghiệm VILAS 012",
            "issued_on": "2026-10-15",
        }
    return data


def _user(rt: Runtime, email: str) -> User:
    """The demo account with this e-mail."""
    with transaction(rt.engine) as session:
        return session.exec(select(User).where(User.email == email)).one()


def create_demo_dossiers(rt: Runtime) -> list[str]:
    """A few declarations and import inspections in different states, so a new user sees a
    living system."""
    business, clerk, specialist, leader = (
        _user(rt, a.email) for a in (DEMO_ACCOUNTS[6], DEMO_ACCOUNTS[0], DEMO_ACCOUNTS[1], DEMO_ACCOUNTS[2])
    )
    account = DEMO_ACCOUNTS[6]
    codes = []
    plans = [
        ("Thép cốt bê tông D10", "certificate", []),
        (
            "Thép cuộn D6",
            "self_assessment",
            [
                (
                    "check_completeness",
                    clerk,
                    {
                        "completeness_decision": "supplement",
                        "missing_items": ["Phiếu kết quả thử nghiệm bản có chữ ký, đóng dấu"],
                    },
                )
            ],
        ),
        (
            "Thép thanh vằn D16",
            "certificate",
            [
                ("check_completeness", clerk, {"completeness_decision": "receive"}),
                (
                    "examine",
                    specialist,
                    {
                        "examination_findings": "Hồ sơ đầy đủ, giấy chứng nhận còn hiệu lực.",
                        "examination_conclusion": "accept",
                    },
                ),
                ("approve", leader, {"approval_decision": "approve"}),
            ],
        ),
        # Work waiting in the specialist's and the leader's inboxes.
        (
            "Thép cốt bê tông vằn D25",
            "certificate",
            [("check_completeness", clerk, {"completeness_decision": "receive"})],
        ),
        (
            "Thép cốt bê tông cuộn D8",
            "self_assessment",
            [
                ("check_completeness", clerk, {"completeness_decision": "receive"}),
                (
                    "examine",
                    specialist,
                    {
                        "examination_findings": "Kết quả thử nghiệm phù hợp QCVN 7:2019/BKHCN; "
                        "kế hoạch kiểm soát chất lượng đầy đủ.",
                        "examination_conclusion": "accept",
                    },
                ),
            ],
        ),
    ]
    for product, basis, steps in plans:
        ids = {}
        basis_files = (
            ("certificate_copy",) if basis == "certificate" else ("test_report", "quality_control_plan")
        )
        for field in ("declaration_form", "business_registration", *basis_files):
            ids[field] = commands.upload_attachment(rt, business, f"{field}.pdf", DEMO_PDF).id
        dossier, _ = commands.submit_dossier(
            rt,
            business,
            "cong-bo-hop-chuan-hop-quy",
            declaration_data(account, product, basis, ids),
            idempotency_key=f"demo-{product}",
        )
        for step, actor, data in steps:
            task = _open_task(rt, dossier.code, step)
            commands.complete_task(rt, actor, task, data)
        codes.append(dossier.code)
    codes.extend(_import_dossiers(rt, business, clerk, account))
    codes.extend(create_demo_tbt(rt, business, _user(rt, DEMO_ACCOUNTS[3].email)))
    codes.extend(create_award_demo(rt))
    return codes


def import_data(
    account: DemoAccount, goods: str, hs_code: str, attachments: dict[str, Any]
) -> dict[str, Any]:
    return {
        "importer": {
            "name": account.organisation,
            "tax_code": account.tax_code,
            "address": account.address,
            "phone": "0233 3852 123",
            "email": account.email,
        },
        "goods": [
            {
                "name": goods,
                "trademark": "POSCO",
                "model": "SD390",
                "hs_code": hs_code,
                "origin": "Hàn Quốc",
                "manufacturer": "POSCO Steel Co., Ltd.",
                "quantity": 250,
                "unit": "tấn",
                "qcvn": "QCVN 7:2019/BKHCN",
            }
        ],
        "customs_declaration_number": "105987654320",
        "contract_number": "HĐ-2026/021",
        "invoice_number": "INV-2026-3301",
        "packing_list_number": "PL-2026-3301",
        "bill_of_lading_number": "BL-KR-7702",
        "port_of_entry": "Cảng Cửa Việt",
        "expected_arrival": "2026-11-20",
        "certification_body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
        "attachments": attachments,
    }


def _import_dossiers(rt: Runtime, business: User, clerk: User, account: DemoAccount) -> list[str]:
    """Two import inspections: one awaiting the clerk's confirmation, one awaiting the certificate."""
    plans = [
        ("Thép thanh cán nóng nhập khẩu", "72142031", []),
        (
            "Thép cuộn cán nóng nhập khẩu",
            "72083990",
            [
                ("confirm_registration", clerk, {"confirm_decision": "confirm"}),
                (
                    "report_clearance",
                    business,
                    {"clearance_date": "2026-11-21", "customs_declaration_number": "105987654320"},
                ),
            ],
        ),
    ]
    codes = []
    for goods, hs_code, steps in plans:
        files: dict[str, Any] = {
            field: commands.upload_attachment(rt, business, f"{field}.pdf", DEMO_PDF).id
            for field in ("contract", "invoice", "packing_list", "bill_of_lading")
        }
        dossier, _ = commands.submit_dossier(
            rt,
            business,
            "kiem-tra-chat-luong-hang-nhap-khau",
            import_data(account, goods, hs_code, files),
            idempotency_key=f"demo-{goods}",
        )
        for step, actor, data in steps:
            commands.complete_task(rt, actor, _open_task(rt, dossier.code, step), data)
        codes.append(dossier.code)
    return codes


def _open_task(rt: Runtime, code: str, spec_name: str) -> str:
    from workflows.models import Dossier, WorkTask

    with transaction(rt.engine) as session:
        return session.exec(
            select(WorkTask.id)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(Dossier.code == code, WorkTask.spec_name == spec_name, WorkTask.status == "open")
        ).one()
