"""Demo import inspections: one awaiting the clerk's confirmation, one awaiting the certificate."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from workflows import commands, submission
from workflows.catalogue import office_day
from workflows.clock import as_of, now
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
        dossier, _ = submission.submit_dossier(
            rt,
            business,
            PROCEDURE,
            import_data(business, goods, hs_code, files),
            idempotency_key=f"demo-{goods}",
        )
        for step, actor, data in steps:
            commands.complete_task(rt, actor, open_task(rt, dossier.code, step), data)
        codes.append(dossier.code)
    codes += _under_earlier_rules(rt, business, clerk)
    return codes


def _under_earlier_rules(rt: Runtime, business: User, clerk: User) -> list[str]:
    """A shipment registered and confirmed under the rules before today's (the measures set by the
    goods' QCVN, until 30/06/2026) and cleared on their last day: it keeps those rules to its end,
    and its certificate, due 15 working days after the clearance, is overdue and on the violation
    list."""
    today = rt.procedure(PROCEDURE)
    if today.effective_from is None:
        return []
    earlier = rt.catalogue.get(PROCEDURE, today.effective_from - timedelta(days=1))
    if earlier is None or earlier.version_key == today.version_key:
        return []
    days = [
        d
        for d in (today.effective_from - timedelta(days=n) for n in range(1, 10))
        if rt.calendar.is_working_day(d)
    ]
    cleared, registered = days[0], days[1]  # the last two working days of the earlier rules
    zone = rt.calendar.zone
    with as_of(datetime.combine(registered, time(9, 0), zone)):
        files = {
            field: commands.upload_attachment(rt, business, f"{field}.pdf", DEMO_PDF).id
            for field in ("contract", "invoice", "packing_list", "bill_of_lading")
        }
        data = import_data(business, "Thép hình nhập khẩu", "72163100", files)
        for line in data["goods"]:
            line.pop("risk_level", None)
            line["regulation_measure"] = "b"  # a certificate of a registered body (Decree 74/2018)
        data.pop("has_conformity_certificate", None)
        dossier, _ = submission.submit_dossier(
            rt, business, PROCEDURE, data, idempotency_key="demo-earlier-rules"
        )
    with as_of(datetime.combine(registered, time(14, 0), zone)):
        commands.complete_task(
            rt, clerk, open_task(rt, dossier.code, "confirm_registration"), {"confirm_decision": "confirm"}
        )
    # The importer reports the clearance of 30/06 only now (the engine's timers run on the real
    # clock): the certificate, due 15 working days after that date, is overdue at once.
    commands.complete_task(
        rt,
        business,
        open_task(rt, dossier.code, "report_clearance"),
        {"clearance_date": cleared.isoformat(), "customs_declaration_number": "105987654111"},
    )
    return [dossier.code]
