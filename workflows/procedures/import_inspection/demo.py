"""Demo import inspections: one awaiting the clerk's confirmation, one awaiting the certificate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workflows import commands
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.demo import BUSINESS, CLERK, DEMO_PDF, demo_user, open_task
from workflows.models import User
from workflows.runtime import Runtime

PROCEDURE = "kiem-tra-chat-luong-hang-nhap-khau"


def import_data(account: User, goods: str, hs_code: str, attachments: dict[str, Any]) -> dict[str, Any]:
    """A registration as the rules in force today ask it (from 01/07/2026: the goods' risk level)."""
    return {
        "importer": {
            "name": account.organisation_name,
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
                "risk_level": "high",  # steel: annex I of Circular 36/2026/TT-BKHCN (check)
            }
        ],
        "has_conformity_certificate": False,
        "customs_declaration_number": "105987654320",
        "contract_number": "HĐ-2026/021",
        "invoice_number": "INV-2026-3301",
        "packing_list_number": "PL-2026-3301",
        "bill_of_lading_number": "BL-KR-7702",
        "port_of_entry": "Cảng Cửa Việt",
        "expected_arrival": (office_day(now()) + timedelta(days=7)).isoformat(),
        "certification_body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
        "attachments": attachments,
    }


def make_demo(rt: Runtime) -> list[str]:
    business, clerk = demo_user(rt, BUSINESS), demo_user(rt, CLERK)
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
                    {
                        "clearance_date": office_day(now()).isoformat(),
                        "customs_declaration_number": "105987654320",
                    },
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
            PROCEDURE,
            import_data(business, goods, hs_code, files),
            idempotency_key=f"demo-{goods}",
        )
        for step, actor, data in steps:
            commands.complete_task(rt, actor, open_task(rt, dossier.code, step), data)
        codes.append(dossier.code)
    return codes
