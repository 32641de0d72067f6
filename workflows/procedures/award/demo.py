"""National Quality Award demo: an open round for the current year with three council members,
and three applications: one awaiting the completeness check, one being scored (one member done),
one finished and recommended to the national council.

One demo business, Công ty Cổ phần Mũ bảo hiểm Quảng Bình (info@mubaohiemqb.demo.vn), is left
unregistered so that a demo visitor can apply in the open round; the application being scored is
filed by an organisation of its own (``SCORED_APPLICANT``, one of this procedure's demo accounts).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from workflows import commands, submission
from workflows.db import transaction
from workflows.demo import ADMIN, BUSINESS, CLERK, DEMO_PDF, LEADER, SPECIALIST, open_task
from workflows.models import User
from workflows.plugins import DemoAccount
from workflows.procedures.award import rounds as award_rounds
from workflows.procedures.award.rounds import AWARD_PROCEDURE, RoundInput
from workflows.runtime import Runtime

COUNCIL = ("hoidong@demo.tdcflow.vn", "hoidong2@demo.tdcflow.vn", "hoidong3@demo.tdcflow.vn")
# The organisation left free to apply in the demo (a core demo business, workflows/demo.py).
UNREGISTERED = "info@mubaohiemqb.demo.vn"
SCORED_APPLICANT = "lienhe@duocquangtri.demo.vn"
# In order: awaiting the completeness check, being scored, recommended.
APPLICANTS = (BUSINESS, SCORED_APPLICANT, "lienhe@ximangqt.demo.vn")
DEMO_ACCOUNTS = (
    DemoAccount(COUNCIL[0], "demo-hoidong-2026", "Võ Quốc Bảo", ("council",), "ỦY VIÊN HỘI ĐỒNG"),
    DemoAccount(COUNCIL[1], "demo-hoidong2-2026", "Trương Thị Mai", ("council",), "ỦY VIÊN HỘI ĐỒNG"),
    DemoAccount(COUNCIL[2], "demo-hoidong3-2026", "Lý Văn Hùng", ("council",), "ỦY VIÊN HỘI ĐỒNG"),
    DemoAccount(
        APPLICANTS[2],
        "demo-doanhnghiep3-2026",
        "Hồ Văn Sơn",
        ("business",),
        tax_code="3200987653",
        organisation_name="Công ty Cổ phần Xi măng Quảng Trị",
        address="KCN Quán Ngang, huyện Gio Linh, tỉnh Quảng Trị",
        tax_code_evidence="GCN ĐKDN số 3200987653, đăng ký thay đổi lần 4 ngày 12/08/2022",
    ),
    DemoAccount(
        SCORED_APPLICANT,
        "demo-doanhnghiep4-2026",
        "Phan Thị Thu",
        ("business",),
        tax_code="3200456797",
        organisation_name="Công ty Cổ phần Dược phẩm Quảng Trị",
        address="KCN Nam Đông Hà, tỉnh Quảng Trị",
        note="hồ sơ Giải thưởng CLQG đang chấm",
        tax_code_evidence="GCN ĐKDN số 3200456797, đăng ký lần đầu ngày 20/01/2006",
    ),
)
SECTORS = ("Sản xuất thép xây dựng", "Sản xuất dược phẩm", "Sản xuất xi măng")


def _users(rt: Runtime, emails: tuple[str, ...]) -> list[User]:
    with transaction(rt.engine) as session:
        found = {u.email: u for u in session.exec(select(User).where(User.email.in_(emails))).all()}
    return [found[e] for e in emails]


def application(applicant: User, sector: str, files: dict[str, str], base: int) -> dict[str, Any]:
    return {
        "organisation": {
            "name": applicant.organisation_name,
            "tax_code": applicant.tax_code,
            "organisation_type": "manufacturing",
            "size": "medium",
            "sector": sector,
            "staff_count": 320 + base,
            "annual_revenue_bn_vnd": 480.0 + base,
            "established_on": f"{2008 + base % 10}-04-01",
            "address": applicant.address or "Quảng Trị",
            "phone": "0233 3852 123",
            "email": applicant.email,
            "representative": applicant.full_name,
        },
        "self_assessment": {
            "leadership": 90,
            "strategy": 65,
            "customers": 65,
            "measurement": 70,
            "workforce": 60,
            "operations": 60,
            "results": 330,
            "summary": "Áp dụng ISO 9001:2015 và mô hình tự đánh giá theo 7 tiêu chí.",
        },
        "attachments": files,
    }


def score_sheet(offset: int) -> dict[str, Any]:
    scores = {"leadership": 92, "strategy": 66, "customers": 64, "measurement": 70, "workforce": 62}
    scores |= {"operations": 61, "results": 330}
    return {
        "criterion_scores": {k: max(0, v - offset) for k, v in scores.items()},
        "criterion_comments": {
            k: "Điểm mạnh: có hệ thống rõ ràng. Cơ hội cải tiến: đo lường hiệu quả định kỳ." for k in scores
        },
        "overall_comment": "Tổ chức đáp ứng tốt các yêu cầu của Giải thưởng.",
    }


def make_demo(rt: Runtime) -> list[str]:
    council = _users(rt, COUNCIL)
    applicants = _users(rt, APPLICANTS)
    clerk, specialist, leader, admin = _users(rt, (CLERK, SPECIALIST, LEADER, ADMIN))
    today = award_rounds.today()
    award_rounds.create_round(
        rt,
        admin,
        RoundInput(
            year=today.year,
            registration_opens=today - timedelta(days=30),
            registration_closes=today + timedelta(days=30),
            scoring_deadline=today + timedelta(days=60),
            council_member_ids=[m.id for m in council],
            note="Đợt xét demo",
        ),
    )
    codes = []
    for index, (applicant, sector) in enumerate(zip(applicants, SECTORS, strict=True)):
        files = {
            field: commands.upload_attachment(rt, applicant, f"{field}.pdf", DEMO_PDF).id
            for field in ("registration_form", "self_assessment_report")
        }
        dossier, _ = submission.submit_dossier(
            rt,
            applicant,
            AWARD_PROCEDURE,
            application(applicant, sector, files, index),
            f"demo-award-{index}",
        )
        code = dossier.code
        codes.append(code)
        if index == 0:
            continue  # awaiting the completeness check
        commands.complete_task(
            rt, clerk, open_task(rt, code, "check_completeness"), {"completeness_decision": "receive"}
        )
        members = council[:1] if index == 1 else council
        for offset, member in enumerate(members):
            task = open_task(rt, code, "score_application", member.id)
            commands.complete_task(rt, member, task, score_sheet(offset * 8))
        if index == 1:
            continue  # being scored, one member done
        commands.complete_task(
            rt,
            specialist,
            open_task(rt, code, "site_visit"),
            {
                "site_visit_date": today.isoformat(),
                "site_visit_team": ", ".join(m.full_name for m in council),
                "site_visit_findings": "Thực tế tại cơ sở phù hợp với báo cáo tự đánh giá.",
                "site_visit_confirmed": True,
            },
        )
        commands.complete_task(
            rt,
            leader,
            open_task(rt, code, "approve_recommendation"),
            {"approval_decision": "approve", "leader_note": "Đề nghị tiếp tục duy trì và cải tiến."},
        )
    return codes
