"""Demo declarations in every state a clerk, a specialist and a leader meet (``make run``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from workflows import commands, extension, submission
from workflows.catalogue import office_day
from workflows.clock import as_of, now, to_local
from workflows.demo import BUSINESS, CLERK, DEMO_PDF, LEADER, SPECIALIST, demo_user, open_task
from workflows.models import User
from workflows.runtime import Runtime

PROCEDURE = "cong-bo-hop-chuan-hop-quy"


def declaration_data(account: User, product: str, basis: str, attachments: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "declaration_type": "hop_quy",
        "applicant": {
            "name": account.organisation_name,
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
            "manufacturer": account.organisation_name,
            "place_of_production": account.address,
        },
        "standard": {
            "number": "QCVN 7:2019/BKHCN",
            "title": "Quy chuẩn kỹ thuật quốc gia về thép làm cốt bê tông",
        },
        "basis": basis,
        "attachments": attachments,
    }
    # Dates relative to the day the demo is loaded: a certificate issued two months ago and valid
    # for three years stays valid whenever the demo is made.
    today = office_day(now())
    if basis == "certificate":
        issued = today - timedelta(days=60)
        data["certificate"] = {
            "number": "QC-2026-0457",
            "body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 2",
            "issued_on": issued.isoformat(),
            "valid_until": (issued + timedelta(days=3 * 365)).isoformat(),
        }
    else:
        data["self_assessment"] = {
            "test_report_number": "KQ-2026-118",
            "laboratory": "Phòng thử nghiệm VILAS 012",
            "issued_on": (today - timedelta(days=45)).isoformat(),
        }
    return data


def make_demo(rt: Runtime) -> list[str]:
    """Declarations waiting for the clerk, for a supplement, for the specialist, for the leader,
    and one issued."""
    business, clerk, specialist, leader = (demo_user(rt, e) for e in (BUSINESS, CLERK, SPECIALIST, LEADER))
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
        dossier, _ = submission.submit_dossier(
            rt,
            business,
            PROCEDURE,
            declaration_data(business, product, basis, ids),
            idempotency_key=f"demo-{product}",
        )
        for step, actor, data in steps:
            task = open_task(rt, dossier.code, step)
            commands.complete_task(rt, actor, task, data)
        codes.append(dossier.code)
    codes.extend(_late_and_at_risk(rt))
    return codes


def _working_days_ago(rt: Runtime, n: int) -> date:
    """The working day ``n`` working days before the office's last working day so far: today once
    the office has opened, else the working day before (so a demo loaded at night or on a Sunday
    has a dossier due within the next working day, as one loaded at noon has)."""
    local = to_local(now())
    day = local.date()
    if not rt.calendar.is_working_day(day) or local.time() < rt.calendar.periods[0][0]:
        n += 1
    while n > 0:
        day -= timedelta(days=1)
        if rt.calendar.is_working_day(day):
            n -= 1
    return day


def _at(rt: Runtime, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), rt.calendar.zone)


def _late_and_at_risk(rt: Runtime) -> list[str]:
    """Declarations received days ago, so the at-risk list and the statistics show something: one
    past its appointment at the specialist's, one due tomorrow, and one resolved late (after its
    appointment and its legal limit, the leader's apology slip issued on the way). Each step runs "as of" its past instant; what the real clock
    does with them next (alarms, the deadline warnings) happens as it would in an office."""
    business, clerk, specialist, leader = (demo_user(rt, e) for e in (BUSINESS, CLERK, SPECIALIST, LEADER))
    examined = {
        "examination_findings": "Hồ sơ đầy đủ, giấy chứng nhận còn hiệu lực.",
        "examination_conclusion": "accept",
    }
    # product, working days since receipt, [(step, actor, data, working days since receipt)]
    plans: list[tuple[str, int, list[tuple[str, User, dict[str, Any], int]]]] = [
        ("Thép hình chữ U 100", 5, []),
        ("Thép góc đều cạnh L50", 2, []),
        (
            "Thép tấm cán nóng SS400",
            9,
            [
                (
                    "extend",
                    leader,
                    {"days": 5, "reason": "Chờ xác minh giấy chứng nhận với tổ chức chứng nhận."},
                    4,
                ),
                ("examine", specialist, examined, 5),
                ("approve", leader, {"approval_decision": "approve"}, 7),
            ],
        ),
    ]
    codes = []
    for product, age, steps in plans:
        received = _working_days_ago(rt, age)
        # Submitted as the office opens: its appointment is then at opening time too, so the one due
        # next is within a working day of any moment of today's office hours (08:30 missed 07:30–08:30).
        opening = rt.calendar.periods[0][0]
        with as_of(_at(rt, received, opening.hour, opening.minute)):
            ids = {
                field: commands.upload_attachment(rt, business, f"{field}.pdf", DEMO_PDF).id
                for field in ("declaration_form", "business_registration", "certificate_copy")
            }
            dossier, _ = submission.submit_dossier(
                rt,
                business,
                PROCEDURE,
                declaration_data(business, product, "certificate", ids),
                idempotency_key=f"demo-late-{product}",
            )
        with as_of(_at(rt, received, 9, 15)):
            task = open_task(rt, dossier.code, "check_completeness")
            commands.complete_task(rt, clerk, task, {"completeness_decision": "receive"})
        for step, actor, data, after in steps:
            with as_of(_at(rt, _working_days_ago(rt, age - after), 10)):
                if step == "extend":  # the appointment missed: the apology slip before the result
                    extension.extend_deadline(rt, actor, dossier.code, data["days"], data["reason"])
                else:
                    commands.complete_task(rt, actor, open_task(rt, dossier.code, step), data)
        codes.append(dossier.code)
    return codes
