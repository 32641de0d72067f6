"""The National Quality Award end to end through the HTTP API: rounds and their registration
window, independent multi-instance scoring by the round's council, the deadline, the aggregation,
the site visit, the recommendation table, the documents and the round's recommendation list."""

from __future__ import annotations

import hashlib
import io
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import select

from notifications.dispatcher import fan_out
from notifications.inbox_queries import list_for
from tests.support import VN, Person, business, docx_text, error_of, fields_of, issued_docx, local, officer
from workflows import scheduler
from workflows.clock import as_utc
from workflows.db import reading
from workflows.models import AuditEvent, WorkTask
from workflows.procedures.award.criteria import rules_from

PROCEDURE = "giai-thuong-chat-luong-quoc-gia"
CRITERIA_FILE = Path(__file__).resolve().parents[3] / "bpmn" / "award_criteria_2019.toml"
RULES = rules_from(tomllib.loads(CRITERIA_FILE.read_text(encoding="utf-8")))
CRITERIA = RULES.criteria
MONDAY = local(2026, 3, 2, 9, 0)


@pytest.fixture
def cast(client, rt) -> dict[str, Any]:
    with time_machine.travel(MONDAY, tick=False):
        people = {
            "admin": officer(client, rt, "admin", "QUẢN TRỊ", "Phạm Quản Trị"),
            "clerk": officer(client, rt, "clerk", "CÁN BỘ TIẾP NHẬN", "Lê Thị Hoa"),
            "specialist": officer(client, rt, "specialist", "CHUYÊN VIÊN", "Trần Văn Nam"),
            "leader": officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Nguyễn Minh Đức"),
            "firm": business(client, "Công ty CP Thép Đông Hà"),
            "members": [
                officer(client, rt, "council", "THÀNH VIÊN HỘI ĐỒNG", name)
                for name in ("GS. Hoàng Văn Một", "TS. Ngô Thị Hai", "ThS. Đỗ Văn Ba")
            ],
        }
    for person in [*people["members"]]:
        person.extra["id"] = user_id(rt, person)
    return people


def user_id(rt, person: Person) -> int:
    from workflows.models import User

    with reading(rt.engine) as session:
        return session.exec(select(User.id).where(User.email == person.email)).one()


def relogin_all(cast: dict[str, Any]) -> None:
    for value in cast.values():
        for person in value if isinstance(value, list) else [value]:
            person.relogin()


def round_body(cast: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "year": 2026,
        "registration_opens": "2026-03-02",
        "registration_closes": "2026-03-13",
        "scoring_deadline": "2026-03-27",
        "council_member_ids": [m.extra["id"] for m in cast["members"]],
        "note": "Đợt xét năm 2026",
    }
    body.update(changes)
    return body


def open_round(cast: dict[str, Any], **changes: Any) -> dict[str, Any]:
    response = cast["admin"].post("/api/award/rounds", json=round_body(cast, **changes))
    assert response.status_code == 201, response.text
    return response.json()


def application(firm: Person, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": {
            "name": firm.organisation,
            "tax_code": firm.tax_code,
            "organisation_type": "manufacturing",
            "size": "large",
            "sector": "Sản xuất thép xây dựng",
            "main_products": "Thép cuộn, thép thanh vằn",
            "staff_count": 850,
            "annual_revenue_bn_vnd": 1250.5,
            "founded_year": 2004,
            "established_on": "2004-05-12",
            "address": "Khu công nghiệp Nam Đông Hà, Quảng Trị",
            "phone": "0233 3555 888",
            "email": firm.email,
            "representative": "Trần Văn Bốn",
        },
        "self_assessment": {
            "leadership": 90,
            "strategy": 65,
            "customers": 70,
            "measurement": 70,
            "workforce": 65,
            "operations": 70,
            "results": 320,
            "summary": "Áp dụng ISO 9001, 14001 và mô hình Baldrige từ 2020.",
        },
        "attachments": {
            "registration_form": firm.upload("don-dang-ky.pdf"),
            "self_assessment_report": firm.upload("bao-cao-tu-danh-gia.pdf"),
        },
    }
    data.update(changes)
    return data


def apply(firm: Person) -> str:
    response = firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(firm)})
    assert response.status_code == 201, response.text
    return response.json()["code"]


BASE_SHEET = {
    "leadership": 90,
    "strategy": 65,
    "customers": 65,
    "measurement": 70,
    "workforce": 60,
    "operations": 60,
    "results": 340,
}


def sheet(base: int = 0, comment: str = "Điểm mạnh rõ, cần cải tiến đo lường") -> dict[str, Any]:
    """A score sheet of 750 points, ``base`` points below that on each criterion."""
    return {
        "criterion_scores": {c.key: BASE_SHEET[c.key] - base for c in CRITERIA},
        "criterion_comments": {c.key: f"{comment} ({c.name_vi})" for c in CRITERIA},
        "overall_comment": "Tổ chức có hệ thống quản lý tốt.",
    }


def score(member: Person, code: str, data: dict[str, Any]) -> dict[str, Any]:
    return member.done(code, data, step="score_application")


def received(cast: dict[str, Any]) -> str:
    code = apply(cast["firm"])
    assert cast["clerk"].done(code, {"completeness_decision": "receive"})["status"] == "scoring"
    return code


def test_the_main_journey_from_round_to_recommendation(cast, rt):
    firm, clerk, specialist, leader = (cast[k] for k in ("firm", "clerk", "specialist", "leader"))
    one, two, three = cast["members"]
    with time_machine.travel(MONDAY, tick=False) as travel:
        relogin_all(cast)
        opened = open_round(cast)
        assert opened["open_now"] is True
        assert [m["full_name"] for m in opened["council_members"]] == [
            "GS. Hoàng Văn Một",
            "TS. Ngô Thị Hai",
            "ThS. Đỗ Văn Ba",
        ]
        code = apply(firm)
        seen = clerk.get(f"/api/dossiers/{code}").json()
        assert seen["status"] == "awaiting_receipt"
        assert seen["data"]["award_year"] == 2026 and seen["subject"] == "Sản xuất thép xây dựng"
        assert clerk.done(code, {"completeness_decision": "receive"})["status"] == "scoring"

        # One score sheet per member, each assigned to its member; each sees only their own.
        for member in (one, two, three):
            [mine] = [t for t in member.get("/api/tasks").json()["items"] if t["dossier_code"] == code]
            assert mine["step"] == "score_application" and mine["assignee_id"] == member.extra["id"]
        with reading(rt.engine) as session:
            rows = session.exec(select(WorkTask).where(WorkTask.spec_name == "score_application")).all()
        assert sorted(r.assignee_id for r in rows) == sorted(m.extra["id"] for m in (one, two, three))
        # Each sheet is due at the end of office hours of the round's scoring deadline (27/03/2026,
        # inclusive): 17:00 with the default office hours, and the inbox says so.
        assert {as_utc(r.due_at) for r in rows} == {local(2026, 3, 27, 17, 0)}
        [listed] = [t for t in one.get("/api/tasks").json()["items"] if t["dossier_code"] == code]
        assert as_utc(datetime.fromisoformat(listed["due_at"])) == local(2026, 3, 27, 17, 0)
        # ... and the "task available" notice reaches that member alone (in-app).
        fan_out(rt)
        for member in (one, two, three):
            titles = [n.title for n in list_for(rt, member.extra["id"])[0]]
            assert len([t for t in titles if code in t]) == 1, titles

        travel.move_to(local(2026, 3, 3, 9, 0))
        score(one, code, sheet(0))
        # Independent scoring: nobody reads the first sheet before the aggregation.
        for reader in (two, leader):
            data = reader.get(f"/api/dossiers/{code}").json()
            assert not {"criterion_scores", "council_scores", "score"} & set(data["data"]), data[
                "data"
            ].keys()
            events = [e for e in data["history"] if e.get("details", {}).get("task") == "score_application"]
            assert all("data" not in e["details"] for e in events)
        [two_task] = [t for t in two.get("/api/tasks").json()["items"] if t["dossier_code"] == code]
        assert "criterion_scores" not in two.get(f"/api/tasks/{two_task['id']}").json()["data"]
        # A member cannot take another member's sheet, nor release their own.
        assert two.post(f"/api/tasks/{two_task['id']}/release").status_code == 409
        error_of(three.post(f"/api/tasks/{two_task['id']}/complete", json={"data": sheet()}), 409)

        score(two, code, sheet(10))
        after = score(three, code, sheet(20))
        assert after["status"] == "site_visit"

        detail = leader.get(f"/api/dossiers/{code}").json()
        aggregation = detail["data"]["aggregation"]
        assert aggregation["scored_count"] == 3 and aggregation["missing_members"] == []
        leadership = aggregation["criteria"]["leadership"]
        assert leadership["mean"] == 80.0 and leadership["spread"] == 20.0 and leadership["maximum"] == 120
        assert aggregation["total"]["mean"] == 680.0  # 750 − 7 criteria × 10 points on average
        assert aggregation["total"]["spread"] == 140.0
        specialist.done(
            code,
            {
                "site_visit_date": "2026-03-20",
                "site_visit_team": "GS. Hoàng Văn Một, TS. Ngô Thị Hai",
                "site_visit_findings": "Hồ sơ phản ánh đúng thực tế.",
                "site_visit_confirmed": True,
            },
        )
        proposed = leader.get(f"/api/dossiers/{code}").json()
        assert proposed["status"] == "awaiting_approval"
        assert proposed["data"]["recommendation"] == "recommended"
        final = leader.done(
            code, {"approval_decision": "approve", "leader_note": "Đề nghị tiếp tục cải tiến."}
        )
        assert final["status"] == "recommended"

        closed = leader.get(f"/api/dossiers/{code}").json()
        kinds = {d["kind"] for d in closed["documents"]}
        assert {"receipt_slip", "award_scoring_sheet", "award_letter", "process_control_slip"} <= kinds
        # The slips name the organisation with its details from the registration form.
        receipt = document_text(firm, firm.get(f"/api/dossiers/{code}").json(), "receipt_slip")
        for detail in ("Khu công nghiệp Nam Đông Hà, Quảng Trị", "0233 3555 888", "Trần Văn Bốn", firm.email):
            assert detail in receipt, detail
        # The scoring sheet (each member's scores, by name) is the council's: not the applicant's.
        [internal] = [d for d in closed["documents"] if d["kind"] == "award_scoring_sheet"]
        error_of(firm.get(f"/api/documents/{internal['id']}"), 404)
        own = firm.get(f"/api/dossiers/{code}").json()
        assert "award_scoring_sheet" not in {d["kind"] for d in own["documents"]}
        assert "award_letter" in {d["kind"] for d in own["documents"]}
        sheet_text = document_text(leader, closed, "award_scoring_sheet")
        assert "PHIẾU TỔNG HỢP ĐIỂM" in sheet_text and "TS. Ngô Thị Hai" in sheet_text
        assert (
            "Vai trò của lãnh đạo" in sheet_text and "Điểm trung bình" in sheet_text and "680" in sheet_text
        )
        # The process control slip (Mẫu 06) shows the sheets due at 17:00 on the deadline day.
        slip = document_text(leader, closed, "process_control_slip")
        assert "17:00 27/03/2026" in slip and "00:00 28/03/2026" not in slip
        letter = document_text(firm, own, "award_letter")
        assert "được đề xuất lên Hội đồng Giải thưởng Chất lượng Quốc gia" in letter
        assert "Điểm mạnh rõ" in letter and "680/1000" in letter
        assert "TS. Ngô Thị Hai" not in letter  # the feedback is the council's, not a member's

        # The round's page lists it; the recommendation list in .docx and .xlsx.
        detail = leader.get("/api/award/rounds/2026").json()
        [entry] = detail["dossiers"]
        assert (
            entry["code"] == code
            and entry["total_mean"] == 680.0
            and entry["recommendation"] == "recommended"
        )
        docx = leader.get("/api/award/rounds/2026/recommendations.docx")
        assert docx.status_code == 200
        listing = docx_text(docx.content)
        assert "Công ty CP Thép Đông Hà" in listing and "680" in listing
        # The draft says it is one: no "(Đã ký)", no verification code, not verifiable.
        assert "DỰ THẢO" in listing and "(Đã ký)" not in listing
        assert "Mã xác thực" not in listing and "verification code" not in listing
        assert "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable" in listing
        assert "Nguyễn Minh Đức" in listing  # prepared for the leader who downloads it to sign
        drafted_by_specialist = docx_text(
            specialist.get("/api/award/rounds/2026/recommendations.docx").content
        )
        assert "DỰ THẢO" in drafted_by_specialist and "Trần Văn Nam" not in drafted_by_specialist
        xlsx = leader.get("/api/award/rounds/2026/recommendations.xlsx")
        assert xlsx.status_code == 200
        rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
        [row] = [r for r in rows if r and r[1] == code]
        assert row[2] == "Công ty CP Thép Đông Hà" and 680.0 in row
        assert "Đề xuất xét Giải thưởng Chất lượng Quốc gia" in row
        # A business cannot read the round's list.
        error_of(firm.get("/api/award/rounds/2026/recommendations.xlsx"), 403)

        # The leader issues it: numbered, with a verification code on the .docx and the .xlsx.
        lists = "/api/award/rounds/2026/recommendation-lists"
        error_of(specialist.post(lists), 403)
        error_of(firm.post(lists), 403)
        issued = leader.post(lists)
        assert issued.status_code == 201, issued.text
        issued = issued.json()
        assert issued["number"].endswith("/TTr-SKHCN")
        assert issued["listed_count"] == 1 and issued["recommended_count"] == 1
        assert issued["issued_by"] == "Nguyễn Minh Đức"
        assert [x["id"] for x in specialist.get(lists).json()] == [issued["id"]]
        # Issued again with nothing changed (a second click): refused, still one numbered list.
        again = error_of(leader.post(lists), 409, "list_already_issued")
        assert issued["number"] in again["message"] and issued["number"] in again["message_en"]
        assert [x["id"] for x in specialist.get(lists).json()] == [issued["id"]]
        issued_docx = leader.get(f"{lists}/{issued['id']}.docx")
        assert hashlib.sha256(issued_docx.content).hexdigest() == issued["docx_sha256"]
        issued_text = docx_text(issued_docx.content)
        assert issued["number"] in issued_text and issued["verification_code"] in issued_text
        assert "Công ty CP Thép Đông Hà" in issued_text and "dự thảo" not in issued_text.lower()
        # The issued list is signed and verifiable.
        assert "(Đã ký)" in issued_text and "Nguyễn Minh Đức" in issued_text
        assert f"Mã xác thực: {issued['verification_code']}" in issued_text
        issued_xlsx = leader.get(f"{lists}/{issued['id']}.xlsx")
        assert hashlib.sha256(issued_xlsx.content).hexdigest() == issued["xlsx_sha256"]
        header = [
            r[0] for r in load_workbook(io.BytesIO(issued_xlsx.content)).active.iter_rows(values_only=True)
        ]
        assert any(issued["number"] in str(h) and issued["verification_code"] in str(h) for h in header)
        error_of(firm.get(f"{lists}/{issued['id']}.docx"), 403)
        # Anyone verifies it by its code, like a dossier's document.
        verified = firm.client.get(f"/api/public/documents/{issued['verification_code']}").json()
        assert verified["number"] == issued["number"] and verified["sha256"] == issued["docx_sha256"]
        assert verified["reference"] == "Giải thưởng Chất lượng Quốc gia năm 2026"
        assert verified["dossier_code"] is None


def document_text(person: Person, dossier: dict[str, Any], kind: str) -> str:
    [document] = [d for d in dossier["documents"] if d["kind"] == kind]
    return docx_text(issued_docx(person, document))


def test_the_list_waits_for_every_application_of_the_round(cast):
    firm, leader = cast["firm"], cast["leader"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        lists = "/api/award/rounds/2026/recommendation-lists"
        error_of(leader.post(lists), 409, "nothing_to_list")
        code = apply(firm)
        error = error_of(leader.post(lists), 409, "applications_pending")
        assert code in error["message"] and code in error["message_en"]
        assert leader.get(lists).json() == []


def test_registration_is_closed_outside_the_window(cast, client):
    firm = cast["firm"]
    with time_machine.travel(local(2026, 2, 20, 9, 0), tick=False):
        relogin_all(cast)
        response = firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(firm)})
        error = error_of(response, 409, "registration_closed")
        assert "Chưa mở" in error["message"]
        open_round(cast)
        error = error_of(
            firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(firm)}),
            409,
            "registration_closed",
        )
        assert "02/03/2026" in error["message"] and "13/03/2026" in error["message"]
        assert "02/03/2026" in error["message_en"]
        assert error["message_en"].startswith("Registration has not opened yet")
        window = client.get("/api/award/window").json()
        assert window["open"] is False and window["registration_opens"] == "2026-03-02"
    with time_machine.travel(local(2026, 3, 13, 16, 0), tick=False):  # last day, inclusive
        relogin_all(cast)
        assert client.get("/api/award/window").json()["open"] is True
        code = apply(firm)
        # One application per organisation and round.
        error_of(
            firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(firm)}),
            409,
            "already_registered",
        )
        assert code
    with time_machine.travel(local(2026, 3, 14, 8, 0), tick=False):
        relogin_all(cast)
        other = business(firm.client, "Công ty TNHH Muộn")
        error = error_of(
            other.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(other)}),
            409,
            "registration_closed",
        )
        assert "13/03/2026" in error["message"]


def test_an_organisation_that_applied_is_told_so_before_the_form(cast, client, rt):
    from workflows.start_windows import notice_for

    firm, clerk = cast["firm"], cast["clerk"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        other = business(firm.client, "Công ty TNHH Chưa Đăng Ký")
        assert firm.get("/api/award/window").json()["already_registered_code"] is None
        code = apply(firm)
        # The window's state for this business names its application, before any form is filled.
        window = firm.get("/api/award/window").json()
        assert window["open"] is True and window["already_registered_code"] == code
        assert "đã đăng ký đợt xét năm 2026" in window["message"] and code in window["message"]
        assert code in window["message_en"]
        for asker in (other, clerk):
            assert asker.get("/api/award/window").json()["already_registered_code"] is None
        anonymous = client.get("/api/award/window").json()
        assert anonymous["already_registered_code"] is None and code not in anonymous["message"]
        error_of(client.get("/api/award/window", headers={"Authorization": "Bearer junk"}), 401)
        # The notice the procedure and new-dossier pages read (workflows.start_windows).
        notice = notice_for(rt.engine, rt.procedure(PROCEDURE).start_window, account(rt, firm))
        assert notice is not None and notice.open is False and notice.already_registered_code == code
        assert code in notice.message and code in notice.message_en
        for asker in (account(rt, other), account(rt, clerk), None):
            seen = notice_for(rt.engine, rt.procedure(PROCEDURE).start_window, asker)
            assert seen is not None and seen.open is True and seen.already_registered_code is None
        # The refusal of a second registration says the same, naming the application.
        error = error_of(
            firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": application(firm)}),
            409,
            "already_registered",
        )
        assert code in error["message"] and code in error["message_en"]
        # A withdrawn application no longer holds the place: the form is offered again.
        assert firm.post(f"/api/dossiers/{code}/withdraw", json={"reason": "Nộp nhầm"}).status_code == 200
        assert firm.get("/api/award/window").json()["already_registered_code"] is None
        assert notice_for(rt.engine, rt.procedure(PROCEDURE).start_window, account(rt, firm)).open is True


def account(rt, person: Person):
    from workflows.models import User

    with reading(rt.engine) as session:
        return session.exec(select(User).where(User.email == person.email)).one()


def test_rounds_are_checked_and_audited(cast, rt):
    admin, leader = cast["admin"], cast["leader"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        # Only an administrator opens a round.
        error_of(leader.post("/api/award/rounds", json=round_body(cast)), 403)
        bad = round_body(
            cast,
            registration_closes="2026-02-01",
            scoring_deadline="2026-01-15",
            council_member_ids=[cast["members"][0].extra["id"], user_id(rt, leader)],
        )
        fields = fields_of(error_of(admin.post("/api/award/rounds", json=bad), 422, "validation_error"))
        assert {"registration_closes", "scoring_deadline", "council_member_ids"} <= set(fields)
        assert fields["council_member_ids"]["message_en"].startswith("Not an active council member")
        open_round(cast)
        fields = fields_of(error_of(admin.post("/api/award/rounds", json=round_body(cast)), 422))
        assert "year" in fields and "registration_opens" in fields  # same year, overlapping window
        changed = admin.client.put(
            "/api/award/rounds/2026",
            json=round_body(cast, council_member_ids=[cast["members"][0].extra["id"]]),
            headers=admin.headers,
        )
        assert changed.status_code == 200, changed.text
        assert [m["full_name"] for m in changed.json()["council_members"]] == ["GS. Hoàng Văn Một"]
    with reading(rt.engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.stream.like("award_round:%")).order_by(AuditEvent.id)
        ).all()
    assert list(actions) == ["award_round_opened", "award_round_changed"]


@pytest.mark.parametrize("year", [1999, 2101, 2**63, -(2**63) - 1])
def test_a_year_out_of_range_is_a_field_error_never_a_500(cast, year):
    # Found by the schemathesis run: 2**63 reached the database (OverflowError, HTTP 500).
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        response = cast["admin"].post("/api/award/rounds", json=round_body(cast, year=year))
        fields = fields_of(error_of(response, 422, "validation_error"))
        assert set(fields) == {"year"}
        if abs(year) < 2**63:  # the round's own range, 2000..2100
            assert fields["year"]["code"] == "range"
            assert "2000" in fields["year"]["message"] and "2100" in fields["year"]["message_en"]
        else:  # no 64-bit integer: refused at the boundary, before any route (api/text_guard.py)
            assert fields["year"]["code"] == "out_of_range"
            assert "64" in fields["year"]["message"] and "64" in fields["year"]["message_en"]


def test_an_out_of_range_score_is_a_field_error(cast):
    one = cast["members"][0]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        bad = sheet()
        bad["criterion_scores"]["results"] = 451
        del bad["criterion_comments"]["strategy"]
        response = one.complete(code, bad, step="score_application")
        fields = fields_of(error_of(response, 422, "validation_error"))
        assert "criterion_scores.results" in fields and "450" in fields["criterion_scores.results"]["message"]
        assert "criterion_comments.strategy" in fields


def test_the_deadline_aggregates_who_scored_and_lists_who_did_not(cast, rt):
    one, two, three = cast["members"]
    leader, specialist = cast["leader"], cast["specialist"]
    with time_machine.travel(MONDAY, tick=False) as travel:
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        score(one, code, sheet(-20))  # 890 points, results 360: a Gold award candidate
        # The deadline's day is inclusive, to the end of office hours (17:00): the sheets close then.
        travel.move_to(local(2026, 3, 27, 16, 59, 59))
        assert scheduler.tick(rt).timers == 0
        travel.move_to(local(2026, 3, 27, 17, 0, 1))
        assert scheduler.tick(rt).timers >= 1
        relogin_all(cast)
        detail = leader.get(f"/api/dossiers/{code}").json()
        assert detail["status"] == "site_visit"
        aggregation = detail["data"]["aggregation"]
        assert aggregation["scored_count"] == 1
        assert sorted(aggregation["missing_members"]) == sorted(str(m.extra["id"]) for m in (two, three))
        assert two.get("/api/tasks").json()["items"] == []  # the sheet is closed
        specialist.done(
            code,
            {
                "site_visit_date": "2026-03-30",
                "site_visit_team": "Đoàn đánh giá",
                "site_visit_findings": "Xác nhận.",
                "site_visit_confirmed": True,
            },
        )
        assert leader.get(f"/api/dossiers/{code}").json()["data"]["recommendation"] == "gold_candidate"
        # The leader changes the proposal, with a reason.
        error_of(
            leader.complete(code, {"approval_decision": "approve", "recommendation_override": "recommended"}),
            422,
        )
        final = leader.done(
            code,
            {
                "approval_decision": "approve",
                "recommendation_override": "recommended",
                "override_reason": "Chỉ một thành viên chấm điểm.",
            },
        )
        assert final["status"] == "recommended"
        closed = leader.get(f"/api/dossiers/{code}").json()
        assert closed["data"]["final_recommendation"] == "recommended"
        text = document_text(leader, closed, "award_scoring_sheet")
        assert "TS. Ngô Thị Hai" in text and "không chấm điểm đúng hạn" in text


def test_nobody_scored_goes_to_the_leader_who_may_extend_or_stop(cast, rt):
    one = cast["members"][0]
    leader = cast["leader"]
    with time_machine.travel(MONDAY, tick=False) as travel:
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        travel.move_to(local(2026, 3, 30, 9, 0))
        scheduler.tick(rt)
        relogin_all(cast)
        waiting = leader.get(f"/api/dossiers/{code}").json()
        assert waiting["status"] == "awaiting_decision"
        assert [t["step"] for t in waiting["open_tasks"]] == ["decide_unscored"]
        fields = fields_of(error_of(leader.complete(code, {"unscored_decision": "rescore"}), 422))
        assert "new_scoring_deadline" in fields
        again = leader.done(code, {"unscored_decision": "rescore", "new_scoring_deadline": "2026-04-10"})
        assert again["status"] == "scoring"
        # The new deadline is due, and ends the scoring, at the end of its office hours too.
        with reading(rt.engine) as session:
            due = session.exec(
                select(WorkTask.due_at).where(
                    WorkTask.spec_name == "score_application", WorkTask.status == "open"
                )
            ).all()
        assert {as_utc(d) for d in due} == {local(2026, 4, 10, 17, 0)}
        score(one, code, sheet(40))
        travel.move_to(local(2026, 4, 10, 16, 59, 59))
        assert scheduler.tick(rt).timers == 0
        assert leader.get(f"/api/dossiers/{code}").json()["status"] == "scoring"
        travel.move_to(local(2026, 4, 10, 17, 0, 1))
        scheduler.tick(rt)
        relogin_all(cast)
        assert leader.get(f"/api/dossiers/{code}").json()["status"] == "site_visit"


def test_nobody_scored_and_the_leader_stops(cast, rt):
    leader, firm = cast["leader"], cast["firm"]
    with time_machine.travel(MONDAY, tick=False) as travel:
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        travel.move_to(local(2026, 3, 30, 9, 0))
        scheduler.tick(rt)
        relogin_all(cast)
        done = leader.done(
            code, {"unscored_decision": "close", "unscored_reason": "Hội đồng không đủ thành viên."}
        )
        assert done["status"] == "not_recommended"
        assert firm.post(f"/api/dossiers/{code}/withdraw", json={"reason": "x"}).status_code == 409


def test_a_low_score_is_not_recommended_and_the_letter_says_so(cast):
    one, two, three = cast["members"]
    leader, specialist, firm = cast["leader"], cast["specialist"], cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        for member in (one, two, three):
            score(member, code, sheet(30, comment="Cần cải tiến"))
        specialist.done(
            code,
            {
                "site_visit_date": "2026-03-20",
                "site_visit_team": "Đoàn",
                "site_visit_findings": "Đúng thực tế.",
                "site_visit_confirmed": True,
            },
        )
        assert leader.get(f"/api/dossiers/{code}").json()["data"]["recommendation"] == "not_recommended"
        # The leader asks for another visit first; the table decides again on its findings.
        assert leader.done(code, {"approval_decision": "revisit"})["status"] == "site_visit"
        specialist.done(
            code,
            {
                "site_visit_date": "2026-03-24",
                "site_visit_team": "Đoàn",
                "site_visit_findings": "Lần hai: đúng thực tế.",
                "site_visit_confirmed": True,
            },
        )
        assert leader.done(code, {"approval_decision": "approve"})["status"] == "not_recommended"
        letter = document_text(firm, firm.get(f"/api/dossiers/{code}").json(), "award_letter")
        assert "chưa đủ điều kiện" in letter and "Cần cải tiến" in letter


@pytest.mark.parametrize(
    ("confirmed", "results", "expected"),
    [
        # Circular 27/2019/TT-BKHCN: the award at 600 points, the Gold award among those at 800.
        (True, 370, "gold_candidate"),  # 450 + 370 = 820
        (True, 350, "gold_candidate"),  # exactly 800
        (True, 300, "recommended"),  # 750: the award, no Gold (a results score alone decides nothing)
        (True, 150, "recommended"),  # exactly 600
        (True, 140, "not_recommended"),  # 590
        (False, 400, "not_recommended"),  # 850, but the site visit did not confirm it
    ],
)
def test_the_recommendation_table(confirmed, results, expected, tmp_path):
    """The DMN thresholds, run through the model: one member's sheet, the site visit, the table."""
    from tests.conftest import make_settings
    from workflows.engine import RunningProcess
    from workflows.procedures.award.scoring import script_functions
    from workflows.runtime import build_runtime

    rt = build_runtime(make_settings(tmp_path, f"sqlite:///{tmp_path / 'dmn.sqlite3'}"))
    model = rt.catalogue.get(PROCEDURE).model
    functions = {
        **script_functions(rt.calendar, rt.catalogue.get(PROCEDURE)),
        "working_days": lambda n: "2099-01-01T00:00:00+00:00",
    }
    start = {
        "council_member_ids": [7],
        "scoring_deadline_at": "2099-01-01T00:00:00+00:00",
        "scoring_round": 1,
    }
    process = RunningProcess.start(model, start, functions)
    [check] = process.ready_user_tasks()
    process.complete(check.id, {"completeness_decision": "receive"})
    [sheet_task] = process.ready_user_tasks()
    assert sheet_task.spec_name == "score_application" and sheet_task.assignee == "7"
    scores = {"leadership": 100, "strategy": 70, "customers": 70, "measurement": 70, "workforce": 70}
    scores |= {"operations": 70, "results": results}
    process.complete(
        sheet_task.id,
        {"criterion_scores": scores, "criterion_comments": {c.key: "x" for c in CRITERIA}},
    )
    [visit] = process.ready_user_tasks()
    process.complete(visit.id, {"site_visit_confirmed": confirmed, "site_visit_date": "2026-03-20"})
    assert process.data["total_mean"] == 450 + results
    assert process.data["recommendation"] == expected
    rt.engine.dispose()


def test_aggregate_means_spreads_and_missing():
    from workflows.calendar import WorkingCalendar, parse_periods
    from workflows.procedures.award.scoring import aggregate, local_day_end

    def sheet_of(member: int, value: int) -> dict[str, Any]:
        return {
            "member_id": member,
            "scored": True,
            "scores": {c.key: min(value, c.maximum) for c in CRITERIA},
            "comments": {"leadership": f"nhận xét {member}", "strategy": "  "},
        }

    result = aggregate(
        [sheet_of(1, 50), sheet_of(2, 80), {"member_id": 3, "scored": False}], [1, 2, 3, 4], RULES
    )
    same = aggregate(
        [sheet_of(1, 50), {**sheet_of(2, 80), "comments": {"leadership": "nhận xét 1"}}], [1, 2], RULES
    )
    assert same["criteria"]["leadership"]["comments"] == ["nhận xét 1"]  # quoted once
    assert RULES.total_maximum == result["total"]["maximum"] == 1000
    assert result["scored_count"] == 2 and result["member_count"] == 4
    assert result["missing_members"] == ["3", "4"]
    leadership = result["criteria"]["leadership"]
    assert (leadership["mean"], leadership["spread"], leadership["stdev"]) == (65.0, 30.0, 15.0)
    assert leadership["by_member"] == {"1": 50, "2": 80}
    assert leadership["comments"] == ["nhận xét 1", "nhận xét 2"]
    assert result["criteria"]["strategy"]["comments"] == []  # blank comments are left out
    assert result["total"]["by_member"] == {"1": 350.0, "2": 560.0}
    assert result["total"]["mean"] == 455.0 and result["total"]["spread"] == 210.0
    nobody = aggregate([], [1], RULES)
    assert (
        nobody["scored_count"] == 0 and nobody["total"]["mean"] == 0.0 and nobody["missing_members"] == ["1"]
    )
    # An inclusive local deadline ends with the office hours of that day: 17:00 local (UTC+7) ...
    assert local_day_end("2026-03-27") == "2026-03-27T10:00:00+00:00"
    # ... or whenever the configured office hours end.
    shorter = WorkingCalendar(VN, periods=parse_periods("07:00-11:00,13:00-16:30"))
    assert local_day_end("2026-03-27", shorter) == "2026-03-27T09:30:00+00:00"


def test_the_demo_has_an_open_round_and_award_dossiers_in_three_states(rt):
    from workflows.demo import create_demo_accounts, create_demo_dossiers
    from workflows.models import Dossier, User

    create_demo_accounts(rt)
    create_demo_dossiers(rt)
    with reading(rt.engine) as session:
        dossiers = session.exec(
            select(Dossier).where(Dossier.procedure_code == PROCEDURE).order_by(Dossier.id)
        ).all()
        statuses = [d.status for d in dossiers]
        scoring = dossiers[1]
        open_sheets = session.exec(
            select(WorkTask).where(WorkTask.dossier_id == scoring.id, WorkTask.status == "open")
        ).all()
        finished = dossiers[2]
        from workflows.procedures.award.rounds import window_state

        assert window_state(session).open
    assert statuses == ["awaiting_receipt", "scoring", "recommended"]
    assert len(open_sheets) == 2 and all(t.assignee_id for t in open_sheets)
    assert finished.data["aggregation"]["scored_count"] == 3
    assert finished.data["final_recommendation"] == "recommended"
    # One demo business has not applied in the open round: it is offered the form; the others
    # are told which application they filed.
    from workflows.procedures.award.demo import UNREGISTERED
    from workflows.start_windows import notice_for

    with reading(rt.engine) as session:
        users = {u.email: u for u in session.exec(select(User)).all()}
    free = notice_for(rt.engine, rt.procedure(PROCEDURE).start_window, users[UNREGISTERED])
    assert free is not None and free.open and free.already_registered_code is None
    assert users[UNREGISTERED].organisation_name == "Công ty Cổ phần Mũ bảo hiểm Quảng Bình"
    assert users[UNREGISTERED].id not in {d.applicant_id for d in dossiers}
    for dossier in dossiers:
        [applicant] = [u for u in users.values() if u.id == dossier.applicant_id]
        taken = notice_for(rt.engine, rt.procedure(PROCEDURE).start_window, applicant)
        assert taken is not None and not taken.open and taken.already_registered_code == dossier.code


def test_a_supplement_before_the_council_scores(cast):
    firm, clerk = cast["firm"], cast["clerk"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = apply(firm)
        asked = clerk.done(
            code, {"completeness_decision": "supplement", "missing_items": ["Báo cáo tự đánh giá có chữ ký"]}
        )
        assert asked["status"] == "supplement_requested"
        data = application(firm)
        data["self_assessment"]["results"] = 350
        fields = fields_of(error_of(firm.complete(code, data), 422))
        assert "supplement_note" in fields
        data["supplement_note"] = "Đã bổ sung báo cáo có chữ ký."
        assert firm.done(code, data)["status"] == "awaiting_receipt"
        assert clerk.done(code, {"completeness_decision": "receive"}, step="recheck_completeness")[
            "status"
        ] == ("scoring")
        seen = clerk.get(f"/api/dossiers/{code}").json()
        assert seen["data"]["self_assessment"]["results"] == 350
        assert len(cast["members"][0].get("/api/tasks").json()["items"]) == 1


def test_the_catalogue_refuses_a_plugin_that_is_not_one(tmp_path):
    from tests.test_startup import broken_copy, start
    from workflows.catalogue import CatalogueError

    folder = broken_copy(
        tmp_path,
        "catalogue.toml",
        'plugin = "workflows.procedures.award"',
        'plugin = "workflows.procedures.award.rounds"',
    )
    with pytest.raises(CatalogueError) as caught:
        start(tmp_path, folder)
    assert PROCEDURE in str(caught.value)
    assert "'workflows.procedures.award.rounds' has no PLUGIN = ProcedurePlugin(...)" in str(caught.value)


def test_the_model_assigns_each_sheet_and_opens_in_a_modeller():
    """The scoring is a parallel multi-instance sub-process over the council, each sheet assigned
    and due by task properties; every flow node has its shape in the diagram (BPMN DI)."""
    from lxml import etree

    from workflows.config import PROJECT_ROOT

    tree = etree.parse(str(PROJECT_ROOT / "bpmn" / "national_quality_award.bpmn"))
    ns = {
        "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
        "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    }
    [loop] = tree.findall(".//bpmn:subProcess/bpmn:multiInstanceLoopCharacteristics", ns)
    assert loop.get("isSequential") in (None, "false")
    assert loop.findtext("bpmn:loopDataInputRef", namespaces=ns) == "council_member_ids"
    assert loop.findtext("bpmn:loopDataOutputRef", namespaces=ns) == "council_scores"
    props = {
        p.get("name"): p.get("value")
        for p in tree.findall(".//bpmn:userTask[@id='score_application']//spiffworkflow:property", ns)
    }
    assert props["assigneeVariable"] == "member_id" and props["dueVariable"] == "scoring_deadline_at"
    nodes = {
        e.get("id")
        for e in tree.iter()
        if isinstance(e.tag, str)
        and e.tag.split("}")[1]
        in {"userTask", "serviceTask", "scriptTask", "businessRuleTask", "exclusiveGateway", "startEvent"}
        | {"endEvent", "boundaryEvent", "subProcess"}
    }
    shapes = {s.get("bpmnElement") for s in tree.findall(".//bpmndi:BPMNShape", ns)}
    flows = {f.get("id") for f in tree.findall(".//bpmn:sequenceFlow", ns)}
    edges = {s.get("bpmnElement") for s in tree.findall(".//bpmndi:BPMNEdge", ns)}
    assert nodes <= shapes and flows <= edges


def test_the_draft_list_says_it_is_a_draft_and_the_issued_list_is_signed(tmp_path):
    from datetime import date

    from tests.conftest import make_settings
    from workflows.models import User
    from workflows.procedures.award.reports import RoundEntry, recommendation_docx
    from workflows.procedures.award.rounds import AwardRound

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    award_round = AwardRound(
        id=1,
        year=2026,
        registration_opens=date(2026, 3, 2),
        registration_closes=date(2026, 3, 13),
        scoring_deadline=date(2026, 3, 27),
        council_member_ids=[],
    )
    entry = RoundEntry(
        code="000.00.15.H50-260302-0001",
        applicant_name="Công ty CP Thép Đông Hà",
        sector="Sản xuất thép xây dựng",
        status="recommended",
        scored_count=3,
        member_count=3,
        total_mean=680.0,
        total_spread=140.0,
        criteria_means={},
        recommendation="recommended",
    )
    leader = User(email="ld@x.vn", full_name="Nguyễn Minh Đức", roles=["leader"], job_title="PHÓ GIÁM ĐỐC")
    clerk = User(email="mc@x.vn", full_name="Lê Thị Hoa", roles=["clerk"], job_title="CÁN BỘ TIẾP NHẬN")
    with time_machine.travel(MONDAY, tick=False):
        draft = docx_text(recommendation_docx(settings, award_round, [entry], leader))
        by_clerk = docx_text(recommendation_docx(settings, award_round, [entry], clerk))
        issued = docx_text(
            recommendation_docx(
                settings,
                award_round,
                [entry],
                leader,
                number="12/TTr-SKHCN",
                verification_code="ABCD-EFGH-JKLM",
                issued_at=MONDAY,
            )
        )
    # A draft: "DỰ THẢO" where the signature goes, no verification code, said not to verify.
    assert "Công ty CP Thép Đông Hà" in draft and "DỰ THẢO" in draft
    assert "(Đã ký)" not in draft and "Mã xác thực" not in draft and "verification code" not in draft
    assert "Bản dự thảo, chưa ban hành: không có số, không có giá trị xác thực." in draft
    assert "Bản dự thảo, không có giá trị xác thực / Draft, not verifiable" in draft  # the footer
    assert "KT. GIÁM ĐỐC" in draft and "Nguyễn Minh Đức" in draft  # for the leader to sign
    # Downloaded by a clerk, it names no signer: the leader who signs it is not known yet.
    assert "DỰ THẢO" in by_clerk and "Lê Thị Hoa" not in by_clerk and "CÁN BỘ TIẾP NHẬN" not in by_clerk
    # The issued list keeps its number, signature and verification code.
    assert "Số: 12/TTr-SKHCN" in issued and "(Đã ký)" in issued and "Nguyễn Minh Đức" in issued
    assert "Mã xác thực: ABCD-EFGH-JKLM" in issued and "DỰ THẢO" not in issued
    assert "verification code ABCD-EFGH-JKLM" in issued


def registration(firm: Person, **organisation: Any) -> dict[str, Any]:
    data = application(firm)
    data["organisation"] |= organisation
    return data


def test_an_organisation_needs_36_months_of_operation(cast):
    """Circular 27/2019/TT-BKHCN: at least 36 months of continuous operation when registering
    (registered on 02/03/2026: operating since 03/03/2023 is 35 months and 27 days; since
    02/03/2023, 36 months)."""
    firm = cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        refused = firm.post(
            "/api/dossiers",
            json={"procedure": PROCEDURE, "data": registration(firm, established_on="2023-03-03")},
        )
        error = error_of(refused, 422, "validation_error")
        problem = fields_of(error)["organisation.established_on"]
        assert "36 tháng" in problem["message"] and "03/03/2026" in problem["message"]
        assert "36 months" in problem["message_en"] and "27/2019/TT-BKHCN" in problem["message_en"]
        missing = dict(registration(firm))
        del missing["organisation"]["established_on"]
        fields = fields_of(
            error_of(firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": missing}), 422)
        )
        assert "organisation.established_on" in fields
        accepted = firm.post(
            "/api/dossiers",
            json={"procedure": PROCEDURE, "data": registration(firm, established_on="2023-03-02")},
        )
        assert accepted.status_code == 201, accepted.text


def test_a_gold_winner_enters_again_two_years_after_its_gold_year(cast):
    """A Gold award of 2025: refused in the 2026 round, accepted in the 2027 round."""
    firm = cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        refused = firm.post(
            "/api/dossiers", json={"procedure": PROCEDURE, "data": registration(firm, gold_award_year=2025)}
        )
        problem = fields_of(error_of(refused, 422, "validation_error"))["organisation.gold_award_year"]
        assert "2025" in problem["message"] and "từ năm 2027" in problem["message"]
        assert "from 2027" in problem["message_en"]
        earlier = firm.post(
            "/api/dossiers", json={"procedure": PROCEDURE, "data": registration(firm, gold_award_year=2024)}
        )
        assert earlier.status_code == 201, earlier.text
    with time_machine.travel(local(2027, 3, 1, 9, 0), tick=False):
        relogin_all(cast)
        open_round(
            cast,
            year=2027,
            registration_opens="2027-03-01",
            registration_closes="2027-03-12",
            scoring_deadline="2027-03-26",
        )
        accepted = firm.post(
            "/api/dossiers", json={"procedure": PROCEDURE, "data": registration(firm, gold_award_year=2025)}
        )
        assert accepted.status_code == 201, accepted.text


def test_the_criteria_and_their_maxima_are_the_versions_data(tmp_path):
    """A catalogue whose criteria file gives criterion 7 a maximum of 400: the score sheet and the
    self-assessment allow 400, the aggregation counts out of 950; a bad file stops start-up."""
    from tests.test_startup import broken_copy, start
    from workflows.catalogue import CatalogueError
    from workflows.procedures.award.scoring import script_functions

    folder = broken_copy(tmp_path, "award_criteria_2019.toml", "maximum = 450", "maximum = 400")
    rt = start(tmp_path, folder)
    try:
        procedure = rt.catalogue.get(PROCEDURE)
        sheet_form = procedure.form(rt.forms, "award_scoring.schema.json")
        results = sheet_form.schema["properties"]["criterion_scores"]["properties"]["results"]
        assert results["maximum"] == 400 and "tối đa 400" in results["title"]
        scores = {c.key: 0 for c in CRITERIA} | {"results": 401}
        comments = {c.key: "x" for c in CRITERIA}
        errors = sheet_form.errors({"criterion_scores": scores, "criterion_comments": comments})
        assert [e.field for e in errors] == ["criterion_scores.results"]
        assert not sheet_form.errors(
            {"criterion_scores": scores | {"results": 400}, "criterion_comments": comments}
        )
        start_form = procedure.form(rt.forms, procedure.start_form)
        self_assessment = start_form.schema["$defs"]["award_fields"]["properties"]["self_assessment"]
        assert self_assessment["properties"]["results"]["maximum"] == 400
        functions = script_functions(rt.calendar, procedure)
        sheets = [{"member_id": 1, "scored": True, "scores": scores | {"results": 400}}]
        aggregation = functions["aggregate_scores"](sheets, [1])
        assert aggregation["total"]["maximum"] == 950
        assert aggregation["criteria"]["results"]["maximum"] == 400
        assert aggregation["criteria_source"] == "Thông tư 27/2019/TT-BKHCN"
    finally:
        rt.engine.dispose()
    # The shipped file: 1,000 points, 450 for results.
    assert RULES.total_maximum == 1000 and CRITERIA[-1].maximum == 450

    broken = broken_copy(tmp_path / "broken", "award_criteria_2019.toml", "maximum = 85", "maximum = -5")
    with pytest.raises(CatalogueError, match="maximum must be a whole number above 0"):
        start(tmp_path / "broken", broken)
