"""National Quality Award demo: an open round for the current year with three council members,
and three applications: one awaiting the completeness check, one being scored (one member done),
one finished and recommended to the national council.

One demo business, Công ty Cổ phần Mũ bảo hiểm Quảng Bình (info@mubaohiemqb.demo.vn), is left
unregistered so that a demo visitor can apply in the open round; the application being scored is
filed by an organisation of its own (``SCORED_APPLICANT``, created here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from workflows import accounts, award_rounds, commands
from workflows.award_rounds import AWARD_PROCEDURE, RoundInput
from workflows.db import transaction
from workflows.models import Dossier, User, WorkTask
from workflows.runtime import Runtime

COUNCIL = ("hoidong@demo.tdcflow.vn", "hoidong2@demo.tdcflow.vn", "hoidong3@demo.tdcflow.vn")
# The organisation left free to apply in the demo (a demo business account of workflows/demo.py).
UNREGISTERED = "info@mubaohiemqb.demo.vn"
SCORED_APPLICANT = {
    "email": "lienhe@duocquangtri.demo.vn",
    "password": "demo-doanhnghiep4-2026",
    "full_name": "Phan Thị Thu",
    "tax_code": "3200456789",
    "organisation_name": "Công ty Cổ phần Dược phẩm Quảng Trị",
    "address": "KCN Nam Đông Hà, tỉnh Quảng Trị",
}
# In order: awaiting the completeness check, being scored, recommended.
APPLICANTS = ("lienhe@thepdongha.demo.vn", SCORED_APPLICANT["email"], "lienhe@ximangqt.demo.vn")
CLERK, SPECIALIST, LEADER, ADMIN = (
    "motcua@demo.tdcflow.vn",
    "chuyenvien@demo.tdcflow.vn",
    "lanhdao@demo.tdcflow.vn",
    "quantri@demo.tdcflow.vn",
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
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


def _open_task(rt: Runtime, code: str, spec_name: str, assignee_id: int | None = None) -> str:
    with transaction(rt.engine) as session:
        query = (
            select(WorkTask.id)
            .join(Dossier, Dossier.id == WorkTask.dossier_id)
            .where(Dossier.code == code, WorkTask.spec_name == spec_name, WorkTask.status == "open")
        )
        if assignee_id is not None:
            query = query.where(WorkTask.assignee_id == assignee_id)
        return session.exec(query).one()


def _scored_applicant(rt: Runtime) -> None:
    """The organisation whose application is being scored (not one a visitor would try with)."""
    with transaction(rt.engine) as session:
        if session.exec(select(User.id).where(User.email == SCORED_APPLICANT["email"])).first() is None:
            accounts.register_business(session, **SCORED_APPLICANT)


def create_award_demo(rt: Runtime) -> list[str]:
    _scored_applicant(rt)
    council = _users(rt, COUNCIL)
    applicants = _users(rt, APPLICANTS)
    clerk, specialist, leader, admin = _users(rt, (CLERK, SPECIALIST, LEADER, ADMIN))
    today = award_rounds.today()
    award_rounds.create_round(
        rt.engine,
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
            field: commands.upload_attachment(rt, applicant, f"{field}.pdf", PDF).id
            for field in ("registration_form", "self_assessment_report")
        }
        dossier, _ = commands.submit_dossier(
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
            rt, clerk, _open_task(rt, code, "check_completeness"), {"completeness_decision": "receive"}
        )
        members = council[:1] if index == 1 else council
        for offset, member in enumerate(members):
            task = _open_task(rt, code, "score_application", member.id)
            commands.complete_task(rt, member, task, score_sheet(offset * 8))
        if index == 1:
            continue  # being scored, one member done
        commands.complete_task(
            rt,
            specialist,
            _open_task(rt, code, "site_visit"),
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
            _open_task(rt, code, "approve_recommendation"),
            {"approval_decision": "approve", "leader_note": "Đề nghị tiếp tục duy trì và cải tiến."},
        )
    return codes
