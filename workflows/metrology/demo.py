"""The metrology database's demo (``tdcflow demo``, what ``make run`` loads): a verification body
with a fixed API key, and instruments of several kinds owned by the demo business (Công ty TNHH
Thép Đông Hà, tax code 3200123452) and by a household — some verified, some ending within the
reminder window, some overdue, one that failed, one whose stamp was reported lost — then the daily
sweep, so that the owner has a reminder and the officers' warning list has entries.

Every date is counted from the day the demo is loaded, so the demo tells the same story on any day.

The key :data:`DEMO_API_KEY` is printed by ``tdcflow demo`` and written in the README, like the demo
accounts' passwords: it is a demo's, known to anyone who reads them, never to be used outside the
demo (``tdcflow demo`` refuses to run outside demo mode).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading
from workflows.demo import ADMIN, SPECIALIST, demo_user
from workflows.metrology import alerts, bodies, bulk, reports
from workflows.metrology.models import VerificationBody
from workflows.runtime import Runtime

DEMO_BODY_CODE = "TTKT-QT"
DEMO_BODY_NAME = "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Quảng Trị (demo)"
DEMO_API_KEY = "mtk_demo-kiem-dinh-quang-tri-2026"
BUSINESS_TAX_CODE = "3200123452"
BUSINESS_NAME = "Công ty TNHH Thép Đông Hà"
HOUSEHOLD_NAME = "Hộ kinh doanh Nguyễn Thị Mai"
# The stamp the demo specialist reports lost (found missing at a market inspection).
LOST_STAMP = "QT-D-0007"


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _row(
    today: date,
    number: int,
    kind: str,
    model: str,
    serial: str,
    verified_days_ago: int,
    valid_days: int | None,
    household: bool = False,
    commune: str = "Phường Đông Hà",
    address: str = "Số 12 Lê Duẩn",
    purpose: str = "",
) -> dict[str, Any]:
    """A report row: verified ``verified_days_ago`` days ago, valid until ``valid_days`` from
    today (negative: ended; None: failed)."""
    verified_on = today - timedelta(days=verified_days_ago)
    return {
        "kind": kind,
        "model": model,
        "approval_mark": "",
        "serial_number": serial,
        "measuring_range": "",
        "accuracy_class": "",
        "owner_type": "household" if household else "business",
        "owner_tax_code": "" if household else BUSINESS_TAX_CODE,
        "owner_name": HOUSEHOLD_NAME if household else BUSINESS_NAME,
        "commune": commune,
        "address": address,
        "purpose": purpose,
        "certificate_number": f"GCN-DEMO-{number:04d}",
        "stamp_number": "" if valid_days is None else f"QT-D-{number:04d}",
        "verified_on": _dmy(verified_on),
        "result": "fail" if valid_days is None else "pass",
        "valid_until": "" if valid_days is None else _dmy(today + timedelta(days=valid_days)),
    }


def demo_rows(today: date) -> list[dict[str, Any]]:
    """The demo's reports on ``today``."""
    market = {"household": True, "commune": "Xã Cam Lộ", "address": "Sạp 14 chợ Cam Lộ"}
    return [
        _row(today, 1, "platform_scale", "CÂN BÀN 500KG", "CB-2024-001", 60, 305, purpose="Cân thép cuộn"),
        # Ends within a week: within the reminder window (10 working days by default).
        _row(today, 2, "technical_balance", "KERN PLJ 2000", "KB-7781", 358, 7, purpose="Phòng thí nghiệm"),
        # Ends within the month: "expiring soon" on the owner's list, no reminder yet.
        _row(
            today, 3, "fuel_dispenser", "TATSUNO SUNNY", "CD-0311", 345, 20, address="Cửa hàng xăng dầu số 3"
        ),
        # Ended a fortnight ago: overdue, a warning.
        _row(today, 4, "taximeter", "TX-200", "TX-55120", 560, -15, purpose="Xe đưa đón công nhân"),
        # Failed ten days ago: a warning.
        _row(today, 5, "analytical_balance", "OHAUS PX224", "PT-0042", 10, None, purpose="Phòng thí nghiệm"),
        # The household's scales at a market: one verified, one overdue, one whose stamp is lost.
        _row(today, 6, "spring_scale", "NHƠN HOÀ 30KG", "NH-3001", 100, 265, **market),
        _row(today, 7, "spring_scale", "NHƠN HOÀ 60KG", "NH-6002", 100, 265, **market),
        _row(today, 8, "spring_scale", "NHƠN HOÀ 30KG", "NH-3003", 400, -35, **market),
    ]


def create_metrology_demo(rt: Runtime) -> bool:
    """Load the demo once (the demo accounts must exist); False when it was loaded before."""
    with reading(rt.engine) as session:
        if session.exec(select(VerificationBody.id).where(VerificationBody.code == DEMO_BODY_CODE)).first():
            return False
    admin = demo_user(rt, ADMIN)
    body = bodies.create_body(rt, admin, DEMO_BODY_CODE, DEMO_BODY_NAME, "QĐ số 01/QĐ-TĐC (demo)")
    label = "Khóa demo (cố định, chỉ dùng cho bản demo)"
    bodies.create_key(rt, admin, body.id or 0, label, fixed_key=DEMO_API_KEY)
    principal = bodies.body_of_key(rt, DEMO_API_KEY)
    assert principal is not None
    today = office_day(now())
    outcomes = bulk.report_rows(rt, principal, list(enumerate(demo_rows(today), start=2)))
    refused = [o for o in outcomes if o.outcome == reports.REJECTED]
    assert not refused, refused  # the demo's own rows: a mistake in this module, never a user's
    alerts.report_stamp_lost(
        rt,
        demo_user(rt, SPECIALIST),
        LOST_STAMP,
        "Kiểm tra chợ Cam Lộ: cân không còn tem kiểm định (demo)",
    )
    alerts.sweep(rt, today)
    return True
