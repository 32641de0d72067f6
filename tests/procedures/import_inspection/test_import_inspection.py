"""The state quality inspection of imported goods end to end through the HTTP API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from notifications import admin_commands, dispatch
from notifications.inbox_queries import list_for
from notifications.models import Delivery
from tests.notifications_support import Receiver
from tests.support import (
    Person,
    business,
    cast_of,
    docx_text,
    error_of,
    fields_of,
    issued_docx,
    local,
    relogin,
)
from tests.test_pages import csrf, page_login
from tests.test_startup import broken_copy, start
from workflows import scheduler
from workflows.catalogue import CatalogueError, office_day
from workflows.clock import now
from workflows.db import transaction
from workflows.demo import create_demo_accounts, create_demo_dossiers
from workflows.engine import RunningProcess
from workflows.models import Alarm, Dossier, OutcomeRecord, User, Violation
from workflows.outbox import OutboxEvent

PROCEDURE = "kiem-tra-chat-luong-hang-nhap-khau"
# The first day of the risk-based rules (Decree 37/2026, Circular 36/2026): registrations received
# before it follow the measures set by the goods' QCVN.
NEW_RULES = date(2026, 7, 1)


@pytest.fixture
def people(client, rt):
    return cast_of(client, rt, "Công ty TNHH Xuất nhập khẩu Đông Hà")


def import_registration(firm: Person, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "importer": {
            "name": firm.organisation,
            "tax_code": firm.tax_code,
            "address": "25 Hùng Vương, Đông Hà, Quảng Trị",
            "phone": "0233 3852 456",
            "email": firm.email,
        },
        "goods": [
            {
                "name": "Mũ bảo hiểm cho người đi mô tô",
                "trademark": "SafeRide",
                "model": "SR-200",
                "hs_code": "65061010",
                "origin": "Thái Lan",
                "manufacturer": "SafeRide Co., Ltd.",
                "quantity": 1200,
                "unit": "chiếc",
                "qcvn": "QCVN 2:2021/BKHCN",
            },
            {
                "name": "Đồ chơi trẻ em bằng nhựa",
                "hs_code": "95030099",
                "origin": "Trung Quốc",
                "manufacturer": "Happy Toys Ltd.",
                "quantity": 350.5,
                "unit": "kg",
                "qcvn": "QCVN 3:2019/BKHCN",
            },
        ],
        "customs_declaration_number": "105123456780",
        "contract_number": "HĐ-2026/015",
        "invoice_number": "INV-88120",
        "packing_list_number": "PL-88120",
        "bill_of_lading_number": "BL-TH-5531",
        "port_of_entry": "Cửa khẩu quốc tế Lao Bảo",
        "expected_arrival": (office_day(now()) + timedelta(days=8)).isoformat(),
        "certification_body": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 1",
        "attachments": {
            "contract": firm.upload("hop-dong.pdf"),
            "invoice": firm.upload("hoa-don.pdf"),
            "packing_list": firm.upload("packing-list.pdf"),
            "bill_of_lading": firm.upload("van-don.pdf"),
            "photos_labels": [firm.upload("nhan-hang.pdf")],
        },
    }
    if office_day(now()) < NEW_RULES:
        # Until 30/06/2026 each goods line states the measure its QCVN sets.
        for line in data["goods"]:
            line["regulation_measure"] = "b"
    else:
        # From 01/07/2026 each goods line states its risk level (Circular 36/2026/TT-BKHCN).
        for line in data["goods"]:
            line["risk_level"] = "high"
        data["has_conformity_certificate"] = True
    data.update(changes)
    return data


def today() -> str:
    """The office's date now (the clock tests travel with): what dates filed "today" say."""
    return office_day(now()).isoformat()


def submit(firm: Person, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return firm.post("/api/dossiers", json={"procedure": PROCEDURE, "data": data})


def submitted(firm: Person, **changes: Any) -> str:
    response = submit(firm, import_registration(firm, **changes))
    assert response.status_code == 201, response.text
    return response.json()["code"]


def certificate(firm: Person) -> dict[str, Any]:
    return {
        "certificate_number": "HQ-2026-0331",
        "issuing_body": "Quacert",
        "issued_on": today(),
        "certificate_file": firm.upload("giay-chung-nhan-hop-quy.pdf"),
    }


def document_text(person: Person, dossier: dict[str, Any], kind: str) -> str:
    found = next(d for d in dossier["documents"] if d["kind"] == kind)
    return docx_text(issued_docx(person, found))


def events_of(rt, code: str, event_type: str) -> list[OutboxEvent]:
    with transaction(rt.engine) as session:
        dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).one()
        return list(
            session.exec(
                select(OutboxEvent).where(
                    OutboxEvent.dossier_id == dossier_id, OutboxEvent.type == event_type
                )
            ).all()
        )


@pytest.fixture
def old_rules(people) -> Iterator[Any]:
    """The clock on Monday 02/03/2026 09:00, when the measures set by the goods' QCVN applied."""
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(people)
        yield travel


def test_measure_b_from_registration_to_passed(people, old_rules):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    response = submit(firm, import_registration(firm))
    assert response.status_code == 201, response.text
    dossier = response.json()
    code = dossier["code"]
    assert dossier["status"] == "awaiting_confirmation"
    assert [t["step"] for t in dossier["open_tasks"]] == ["confirm_registration"]

    seen = clerk.get(f"/api/dossiers/{code}").json()
    assert seen["data"]["inspection_measure"] == 2
    assert seen["subject"] == "Mũ bảo hiểm cho người đi mô tô"
    assert seen["applicant_name"] == "Công ty TNHH Xuất nhập khẩu Đông Hà"

    assert clerk.done(code, {"confirm_decision": "confirm"})["status"] == "awaiting_clearance"
    confirmed = firm.get(f"/api/dossiers/{code}").json()
    text = document_text(firm, confirmed, "import_registration_confirmation")
    assert "XÁC NHẬN" in text and code in text and "65061010" in text and "Biện pháp b" in text

    assert (
        firm.done(code, {"clearance_date": today(), "customs_declaration_number": "105123456780"})["status"]
        == "awaiting_certificate"
    )
    assert firm.done(code, certificate(firm))["status"] == "processing"
    specialist.done(
        code,
        {
            "evaluation_notes": "Giấy chứng nhận còn hiệu lực, khớp các dòng hàng.",
            "inspection_conclusion": "meets",
        },
    )
    # The leader sends it back once, then signs.
    back = leader.done(code, {"sign_decision": "send_back", "sign_comment": "Ghi rõ số giấy chứng nhận."})
    assert back["status"] == "processing"
    specialist.done(
        code,
        {"evaluation_notes": "Giấy chứng nhận HQ-2026-0331 còn hiệu lực.", "inspection_conclusion": "meets"},
    )
    assert leader.done(code, {"sign_decision": "approve"})["status"] == "passed"

    final = firm.get(f"/api/dossiers/{code}").json()
    assert final["status"] == "passed" and final["open_tasks"] == []
    assert final["status_label"]["vi"] == "Đáp ứng yêu cầu chất lượng"
    assert {d["kind"] for d in final["documents"]} == {
        "import_registration_confirmation",
        "import_inspection_result",
    }
    result = document_text(firm, final, "import_inspection_result")
    assert code in result
    assert "Công ty TNHH Xuất nhập khẩu Đông Hà" in result
    assert "65061010" in result and "95030099" in result
    assert "đáp ứng yêu cầu chất lượng" in result and "HQ-2026-0331" in result
    # A closed dossier cannot be withdrawn.
    assert firm.post(f"/api/dossiers/{code}/withdraw", json={"reason": "x"}).status_code == 409


def test_does_not_meet_requires_and_prints_the_handling(people):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = submitted(firm)
    clerk.done(code, {"confirm_decision": "confirm"})
    firm.done(code, {"clearance_date": today(), "customs_declaration_number": "105123456780"})
    firm.done(code, certificate(firm))
    missing = specialist.complete(
        code, {"evaluation_notes": "Chứng chỉ không khớp model.", "inspection_conclusion": "does_not_meet"}
    )
    assert "required_handling" in fields_of(error_of(missing, 422))
    specialist.done(
        code,
        {
            "evaluation_notes": "Chứng chỉ không khớp model SR-200.",
            "inspection_conclusion": "does_not_meet",
            "required_handling": "re_export",
        },
    )
    assert leader.done(code, {"sign_decision": "approve"})["status"] == "failed"
    final = firm.get(f"/api/dossiers/{code}").json()
    result = document_text(firm, final, "import_inspection_result")
    assert "không đáp ứng yêu cầu chất lượng" in result and "tái xuất hàng hóa" in result


def test_the_clerk_refuses_the_registration(people):
    firm, clerk = people["business"], people["clerk"]
    code = submitted(firm)
    missing = clerk.complete(code, {"confirm_decision": "refuse"})
    assert "refusal_reason" in fields_of(error_of(missing, 422))
    result = clerk.done(
        code, {"confirm_decision": "refuse", "refusal_reason": "Hàng hóa không thuộc nhóm 2 phải kiểm tra."}
    )
    assert result["status"] == "refused"
    dossier = firm.get(f"/api/dossiers/{code}").json()
    assert [d["kind"] for d in dossier["documents"]] == ["receipt_refusal"]
    text = document_text(firm, dossier, "receipt_refusal")
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN" in text and "không thuộc nhóm 2" in text
    assert "25 Hùng Vương" in text  # the importer's address


def test_an_hs_code_of_seven_digits_is_refused_at_the_field(people):
    firm = people["business"]
    data = import_registration(firm)
    data["goods"][0]["hs_code"] = "6506101"
    data["goods"][1]["qcvn"] = "TCVN 6238"
    error = error_of(submit(firm, data), 422, "validation_error")
    fields = fields_of(error)
    assert fields["goods[0].hs_code"]["code"] == "pattern"
    assert "8 chữ số" in fields["goods[0].hs_code"]["message"]
    assert "8 digits" in fields["goods[0].hs_code"]["message_en"]
    assert fields["goods[1].qcvn"]["code"] == "pattern"
    empty = import_registration(firm, goods=[])
    assert "goods" in fields_of(error_of(submit(firm, empty), 422))
    zero = import_registration(firm)
    zero["goods"][0]["quantity"] = 0
    assert "goods[0].quantity" in fields_of(error_of(submit(firm, zero), 422))


def test_the_goods_regulation_sets_the_measure_and_the_strictest_line_wins(people, old_rules):
    """Decree 74/2018: the measure is the one the goods' QCVN sets, not the importer's history."""
    firm, clerk = people["business"], people["clerk"]
    data = import_registration(firm)
    data["goods"][0]["regulation_measure"] = "a"
    data["goods"][1]["regulation_measure"] = "c"
    code = submitted(firm, goods=data["goods"])
    assert clerk.get(f"/api/dossiers/{code}").json()["data"]["inspection_measure"] == 3
    clerk.done(code, {"confirm_decision": "confirm"})
    confirmed = firm.get(f"/api/dossiers/{code}").json()
    assert confirmed["status"] == "awaiting_clearance"
    assert "Biện pháp c" in document_text(firm, confirmed, "import_registration_confirmation")
    # Goods all under measure (a): the registration is recorded, no certificate is awaited.
    for line in data["goods"]:
        line["regulation_measure"] = "a"
    self_assessed = submitted(firm, goods=data["goods"])
    assert clerk.done(self_assessed, {"confirm_decision": "confirm"})["status"] == "recorded"
    # The measure is stated per line: a line without one is refused at its field.
    del data["goods"][1]["regulation_measure"]
    missing = fields_of(error_of(submit(firm, import_registration(firm, goods=data["goods"])), 422))
    assert missing["goods[1].regulation_measure"]["code"] == "required"


def test_missing_certificate_15_working_days_after_the_clearance_date_flags_the_dossier(people, rt, client):
    """The 15 working days count from the clearance date the importer reports (Mon 02/03), not from
    the day they report it (Wed 04/03): the certificate is due by 17:00 on Mon 23/03. A late
    certificate stays on the officers' violation list until one of them records its handling."""
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        relogin(people)
        code = submitted(firm)
        clerk.done(code, {"confirm_decision": "confirm"})
        travel.move_to(local(2026, 3, 4, 10, 0))
        firm.done(code, {"clearance_date": "2026-03-02", "customs_declaration_number": "105123456780"})
        # Cleared goods: the obligation to file the certificate stands, so no withdrawal any more.
        refused = firm.post(f"/api/dossiers/{code}/withdraw", json={"reason": "Không nhập nữa."})
        assert error_of(refused, 409, "withdrawal_not_allowed")
        travel.move_to(local(2026, 3, 23, 17, 0))
        assert scheduler.tick(rt).timers == 0
        assert events_of(rt, code, "inspection_violation") == []
        travel.move_to(local(2026, 3, 23, 17, 1))
        assert scheduler.tick(rt).timers == 1
        [violation] = events_of(rt, code, "inspection_violation")
        assert violation.payload["code"] == code
        assert violation.payload["reason"] == "certificate_overdue"

        relogin(people)
        flagged = firm.get(f"/api/dossiers/{code}").json()
        assert flagged["status"] == "certificate_overdue"
        assert [t["step"] for t in flagged["open_tasks"]] == ["submit_certificate_late"]
        page_login(client, specialist.email)
        listed = client.get("/work/violations").text
        assert code in listed and "Quá hạn nộp chứng chỉ chất lượng" in listed

        firm.done(code, certificate(firm), step="submit_certificate_late")
        specialist.done(
            code, {"evaluation_notes": "Nộp muộn, chứng chỉ hợp lệ.", "inspection_conclusion": "meets"}
        )
        assert leader.done(code, {"sign_decision": "approve"})["status"] == "passed"
        assert len(events_of(rt, code, "inspection_violation")) == 1
        # Filed late and passed, the violation still waits for its handling.
        assert code in client.get("/work/violations").text
        form = client.get("/work/violations").text
        [violation_id] = re.findall(r'action="/work/violations/(\d+)/handle"', form)
        token = csrf(form)
        short = client.post(
            f"/work/violations/{violation_id}/handle", data={"handling": "ok", "csrf_token": token}
        )
        assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
        done = client.post(
            f"/work/violations/{violation_id}/handle",
            data={"handling": "Đã lập biên bản, nhắc nhở doanh nghiệp.", "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert code not in client.get("/work/violations").text
        handled = client.get("/work/violations?show=handled").text
        assert code in handled and "Đã lập biên bản, nhắc nhở doanh nghiệp." in handled
        again = client.post(
            f"/work/violations/{violation_id}/handle",
            data={"handling": "Xử lý lần hai, không được.", "csrf_token": token},
        )
        assert again.status_code == 409
        history = specialist.get(f"/api/dossiers/{code}").json()["history"]
        assert [h["action"] for h in history][-1] == "violation_handled"
        # Who handles: specialists and leaders, not the clerk, never the business.
        page_login(client, clerk.email)
        assert "Ghi nhận xử lý" not in client.get("/work/violations?show=open").text
        page_login(client, firm.email)
        assert client.get("/work/violations").status_code == 403


def test_an_importer_may_withdraw_before_the_clearance_and_sees_no_button_after(people, client):
    firm, clerk = people["business"], people["clerk"]
    code = submitted(firm)
    page_login(client, firm.email)
    assert "Rút hồ sơ" in client.get(f"/dossiers/{code}").text
    clerk.done(code, {"confirm_decision": "confirm"})
    firm.done(code, {"clearance_date": today(), "customs_declaration_number": "105123456780"})
    assert "Rút hồ sơ" not in client.get(f"/dossiers/{code}").text
    other = submitted(firm)
    assert firm.post(f"/api/dossiers/{other}/withdraw", json={"reason": "Đổi lô hàng."}).json()["status"] == (
        "withdrawn"
    )


def test_the_clearance_report_has_a_deadline_with_a_reminder_and_an_escalation(people, rt):
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):
        relogin(people)
        code = submitted(firm)
        clerk.done(code, {"confirm_decision": "confirm"})
        [task] = [
            t
            for t in firm.get(f"/api/dossiers/{code}").json()["open_tasks"]
            if t["step"] == "report_clearance"
        ]
        assert task["due_at"] is not None
    with transaction(rt.engine) as session:
        dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).one()
        kinds = sorted(
            a.kind
            for a in session.exec(
                select(Alarm).where(Alarm.dossier_id == dossier_id, Alarm.task_id == task["id"])
            )
        )
    assert kinds == ["task_escalation", "task_reminder"]


def _started(model, data: dict[str, Any], today: str = "2026-03-02") -> RunningProcess:
    functions = {"working_days": lambda n: "2099-01-01T00:00:00+00:00", "today": lambda: today}
    return RunningProcess.start(model, data, functions)


def test_the_measure_table_until_30_06_2026(rt):
    """Hit policy FIRST: a valid exemption, else the strictest measure of the goods' QCVNs; the
    importer's history decides nothing (it only makes the importer eligible for an exemption)."""
    model = rt.catalogue.get(PROCEDURE, date(2026, 6, 30)).model

    def goods(*measures: str) -> list[dict[str, str]]:
        return [{"name": f"Hàng {m}", "regulation_measure": m} for m in measures]

    exemption = {"exemption_notice_number": "45/MKT-TĐC"}
    cases = [
        ({"goods": goods("a")}, 1),
        ({"goods": goods("b")}, 2),
        ({"goods": goods("c")}, 3),
        ({"goods": goods("a", "c", "b")}, 3),
        ({"goods": goods()}, 3),  # none stated: the strictest
        ({"goods": goods("a"), "consecutive_passes": 5}, 1),
        ({"goods": goods("b"), "consecutive_passes": 3}, 2),  # history alone gives no measure
        ({"goods": goods("c"), **exemption, "exemption_valid_until": "2027-03-01"}, 0),
        ({"goods": goods("c"), **exemption, "exemption_valid_until": "2026-03-02"}, 0),  # its last day
        ({"goods": goods("c"), **exemption, "exemption_valid_until": "2026-03-01"}, 3),  # expired
        ({"goods": goods("c"), "exemption_valid_until": "2027-03-01"}, 3),  # no notice number
    ]
    for data, measure in cases:
        assert _started(model, data).data["inspection_measure"] == measure, data
    eligible = _started(model, {"goods": goods("b"), "consecutive_passes": 3, "recent_failures": 0})
    assert eligible.data["exemption_eligible"] is True
    assert (
        _started(model, {"goods": goods("b"), "consecutive_passes": 3, "recent_failures": 1}).data[
            "exemption_eligible"
        ]
        is False
    )
    # Exempt goods: recorded and closed right after the clerk's confirmation.
    process = _started(model, {"goods": goods("b"), **exemption, "exemption_valid_until": "2027-01-01"})
    [task] = process.ready_user_tasks()
    process.drain_effects()
    process.complete(task.id, {"confirm_decision": "confirm"})
    assert process.completed
    assert [
        (e.operation, e.params.get("outcome") or e.params.get("kind")) for e in process.drain_effects()
    ] == [
        ("issue_document", "import_registration_confirmation"),
        ("close", "recorded"),
    ]


def test_the_risk_table_from_01_07_2026(rt):
    """Decree 37/2026 and Circular 36/2026: low risk no inspection, medium a declaration of
    conformity (both recorded), high risk inspected with the certificate or by a designated body."""
    model = rt.catalogue.get(PROCEDURE, date(2026, 7, 1)).model

    def goods(*levels: str) -> list[dict[str, str]]:
        return [{"name": f"Hàng {level}", "risk_level": level} for level in levels]

    cases = [
        ({"goods": goods("low")}, "none"),
        ({"goods": goods("medium")}, "declaration"),
        ({"goods": goods("low", "medium")}, "declaration"),
        ({"goods": goods("high"), "has_conformity_certificate": True}, "certificate"),
        ({"goods": goods("medium", "high")}, "designated_body"),
        ({"goods": goods("low"), "has_conformity_certificate": True}, "none"),
        ({"goods": goods()}, "designated_body"),  # none stated: the strictest
    ]
    for data, route in cases:
        process = _started(model, data)
        assert process.data["inspection_route"] == route, data
        assert "inspection_measure" not in process.data
    for data, recorded in (({"goods": goods("medium")}, True), ({"goods": goods("high")}, False)):
        process = _started(model, data)
        [task] = process.ready_user_tasks()
        process.complete(task.id, {"confirm_decision": "confirm"})
        assert process.completed is recorded


# -- the rules in force on the day of receipt ---------------------------------------------------------


def _risk_based(data: dict[str, Any]) -> dict[str, Any]:
    """A registration as the rules from 01/07/2026 ask it (each line's risk level)."""
    for line in data["goods"]:
        line.pop("regulation_measure", None)
        line["risk_level"] = "high"
    return {**data, "has_conformity_certificate": True}


def test_a_registration_follows_the_rules_of_its_receipt_day_to_its_end(people, rt):
    """Received Tuesday 30/06/2026 16:00: the measures of Decree 74/2018, even when it ends in July;
    received 01/07/2026 07:30 (or submitted after hours on 30/06): the goods' risk level."""
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    with time_machine.travel(local(2026, 6, 30, 16, 0), tick=False) as travel:
        relogin(people)
        old = submitted(firm)
        # 17:30 is after office hours: it counts as received at 07:30 on 01/07, under the new rules.
        travel.move_to(local(2026, 6, 30, 17, 30))
        refused = fields_of(error_of(submit(firm, import_registration(firm)), 422, "validation_error"))
        assert "goods[0].risk_level" in refused
        late = submit(firm, _risk_based(import_registration(firm)))
        assert late.status_code == 201, late.text
        travel.move_to(local(2026, 7, 1, 7, 30))
        new = submitted(firm)

        def data_of(code: str) -> dict[str, Any]:
            return clerk.get(f"/api/dossiers/{code}").json()["data"]

        assert data_of(old)["inspection_measure"] == 2 and "inspection_route" not in data_of(old)
        for code in (late.json()["code"], new):
            assert data_of(code)["inspection_route"] == "certificate" and "inspection_measure" not in data_of(
                code
            )
        with transaction(rt.engine) as session:
            pinned = dict(session.exec(select(Dossier.code, Dossier.rules_version)).all())
        assert (pinned[old], pinned[late.json()["code"]], pinned[new]) == ("", "2026-07-01", "2026-07-01")

        # The old registration ends in July under the rules it was received under.
        clerk.done(old, {"confirm_decision": "confirm"})
        confirmation = document_text(
            firm, firm.get(f"/api/dossiers/{old}").json(), "import_registration_confirmation"
        )
        assert "Biện pháp b" in confirmation and "Nghị định 132/2008/NĐ-CP" in confirmation
        assert "37/2026" not in confirmation
        travel.move_to(local(2026, 7, 10, 9, 0))
        relogin(people)
        firm.done(old, {"clearance_date": "2026-07-08", "customs_declaration_number": "105123456780"})
        firm.done(old, certificate(firm))
        specialist.done(old, {"evaluation_notes": "Hợp lệ.", "inspection_conclusion": "meets"})
        assert leader.done(old, {"sign_decision": "approve"})["status"] == "passed"
        result = document_text(firm, firm.get(f"/api/dossiers/{old}").json(), "import_inspection_result")
        assert "Nghị định 132/2008/NĐ-CP" in result and "37/2026" not in result

        # The new one cites the new texts.
        clerk.done(new, {"confirm_decision": "confirm"})
        confirmation = document_text(
            firm, firm.get(f"/api/dossiers/{new}").json(), "import_registration_confirmation"
        )
        assert "Hàng hóa rủi ro cao" in confirmation and "Thông tư 36/2026/TT-BKHCN" in confirmation
        assert "132/2008" not in confirmation


# -- the importer's history feeds the measure -------------------------------------------------------


def inspected(people: dict, conclusion: str = "meets") -> str:
    """One dossier of measure b from registration to its result (passed or failed)."""
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = submitted(firm)
    assert clerk.get(f"/api/dossiers/{code}").json()["data"]["inspection_measure"] == 2
    clerk.done(code, {"confirm_decision": "confirm"})
    firm.done(code, {"clearance_date": today(), "customs_declaration_number": "105123456780"})
    firm.done(code, certificate(firm))
    evaluation: dict[str, Any] = {"evaluation_notes": "Đã đánh giá.", "inspection_conclusion": conclusion}
    if conclusion == "does_not_meet":
        evaluation["required_handling"] = "re_export"
    specialist.done(code, evaluation)
    expected = "passed" if conclusion == "meets" else "failed"
    assert leader.done(code, {"sign_decision": "approve"})["status"] == expected
    return code


def history_of(rt, tax_code: str) -> list[tuple[str, str]]:
    with transaction(rt.engine) as session:
        rows = session.exec(
            select(Dossier.code, OutcomeRecord.outcome)
            .join(Dossier, Dossier.id == OutcomeRecord.dossier_id)
            .where(OutcomeRecord.subject_key == tax_code)
            .order_by(OutcomeRecord.id)
        ).all()
        return [(code, outcome) for code, outcome in rows]


def test_three_passes_make_the_importer_eligible_for_an_exemption_not_a_measure(people, rt):
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        relogin(people)
        passes = []
        for hour in (9, 10, 11):
            travel.move_to(local(2026, 3, 2, hour, 0))
            passes.append(inspected(people))
        assert history_of(rt, firm.tax_code) == [(code, "passed") for code in passes]

        travel.move_to(local(2026, 3, 2, 14, 0))
        code = submitted(firm)
        seen = clerk.get(f"/api/dossiers/{code}").json()
        assert seen["data"]["inspection_measure"] == 2  # the QCVN's measure still applies
        assert seen["data"]["consecutive_passes"] == 3 and seen["data"]["recent_failures"] == 0
        assert seen["data"]["exemption_eligible"] is True
        assert clerk.done(code, {"confirm_decision": "confirm"})["status"] == "awaiting_clearance"

        # With the written exemption (Decree 154/2018 art. 4(3)), identical goods are only recorded.
        exempt = submitted(firm, exemption_notice_number="12/MKT-TĐC", exemption_valid_until="2028-03-01")
        assert clerk.get(f"/api/dossiers/{exempt}").json()["data"]["inspection_measure"] == 0
        assert clerk.done(exempt, {"confirm_decision": "confirm"})["status"] == "recorded"
        recorded = firm.get(f"/api/dossiers/{exempt}").json()
        assert recorded["open_tasks"] == []
        assert [d["kind"] for d in recorded["documents"]] == ["import_registration_confirmation"]
        assert "Miễn kiểm tra" in document_text(firm, recorded, "import_registration_confirmation")
        assert len(history_of(rt, firm.tax_code)) == 3  # a recorded dossier is no inspection
        # An expired exemption exempts nothing.
        expired = submitted(firm, exemption_notice_number="3/MKT-TĐC", exemption_valid_until="2026-02-27")
        assert clerk.get(f"/api/dossiers/{expired}").json()["data"]["inspection_measure"] == 2


def test_a_failure_resets_the_run_of_passes_and_counts_for_12_months(people, rt):
    firm, clerk = people["business"], people["clerk"]

    def facts(code: str) -> tuple[int, int]:
        data = clerk.get(f"/api/dossiers/{code}").json()["data"]
        return data["consecutive_passes"], data["recent_failures"]

    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        relogin(people)
        inspected(people)
        inspected(people)
        travel.move_to(local(2026, 3, 2, 11, 0))
        failed = inspected(people, "does_not_meet")
        assert [o for _, o in history_of(rt, firm.tax_code)] == ["passed", "passed", "failed"]
        assert history_of(rt, firm.tax_code)[-1][0] == failed
        for hour in (13, 14, 15):
            travel.move_to(local(2026, 3, 2, hour, 0))
            inspected(people)
        travel.move_to(local(2026, 3, 3, 9, 0))
        assert facts(submitted(firm)) == (3, 1)
        # Thirteen months on (under the new rules by then), the failure is no longer recent.
        travel.move_to(local(2027, 4, 5, 9, 0))
        relogin(people)
        assert facts(submitted(firm)) == (3, 0)


def test_the_history_is_the_importers_own(people, client, rt):
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):
        relogin(people)
        for _ in range(3):
            inspected(people)
        other = business(client, "Công ty TNHH Nhập khẩu Gio Linh")
        code = submitted(other)
        data = people["clerk"].get(f"/api/dossiers/{code}").json()["data"]
        assert (data["consecutive_passes"], data["exemption_eligible"]) == (0, False)
        mine = submitted(people["business"])
        assert people["clerk"].get(f"/api/dossiers/{mine}").json()["data"]["exemption_eligible"] is True
        # The history comes from the records: the filed form cannot carry it (it is validated as filed).
        forged = submit(other, import_registration(other, consecutive_passes=99))
        assert error_of(forged, 422, "validation_error")


# -- the confirmed registration goes to customs ------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver().start()
    yield endpoint
    endpoint.stop()


def test_the_confirmed_registration_goes_to_the_customs_webhook(people, rt, receiver):
    firm, clerk = people["business"], people["clerk"]
    with transaction(rt.engine) as session:
        admin = User(email="quantri@so-khcn.gov.vn", password_hash="x", full_name="Quản trị", roles=["admin"])
        session.add(admin)
    customs = admin_commands.create_webhook(
        rt,
        admin,
        name="Chi cục Hải quan Lao Bảo",
        url=receiver.url,
        event_types=["registration_confirmed"],
        purpose="partner",
        secret="chia-se-bi-mat-voi-hai-quan-2026",
    )
    code = submitted(firm)
    dispatch(rt)
    assert receiver.requests == []  # subscribed to confirmations only
    clerk.done(code, {"confirm_decision": "confirm"})
    [event] = events_of(rt, code, "registration_confirmed")
    confirmation = next(
        d
        for d in firm.get(f"/api/dossiers/{code}").json()["documents"]
        if d["kind"] == "import_registration_confirmation"
    )
    assert event.payload["document_id"] in confirmation["download_url"]

    dispatch(rt)
    [request] = receiver.accepted
    body = json.loads(request.body)
    assert body["type"] == "registration_confirmed" and body["id"] == event.id
    assert body["dossier"]["code"] == code and body["dossier"]["document_id"] == event.payload["document_id"]
    with transaction(rt.engine) as session:
        [delivery] = session.exec(
            select(Delivery).where(Delivery.channel == "webhook", Delivery.event_id == event.id)
        ).all()
        assert delivery.webhook_id == customs.id
        owner_id = session.exec(select(User.id).where(User.email == firm.email)).one()
    titles = [n.title for n in list_for(rt, owner_id)[0]]
    assert f"Đã xác nhận đăng ký kiểm tra: {code}" in titles
    # A refused registration is no confirmation.
    refused = submitted(firm)
    clerk.done(refused, {"confirm_decision": "refuse", "refusal_reason": "Không thuộc nhóm 2."})
    assert events_of(rt, refused, "registration_confirmed") == []


# -- the catalogue checks what the model and the catalogue name ---------------------------------------

MODEL_FILE = "import_quality_inspection.bpmn"
BROKEN = {
    "unknown event": (
        MODEL_FILE,
        "value=\"'registration_confirmed'\"",
        "value=\"'registration_sent'\"",
        ["issue_confirmation", "registration_sent", "registration_confirmed"],
    ),
    "event not written literally": (
        MODEL_FILE,
        "value=\"'registration_confirmed'\"",
        'value="event_name"',
        ["issue_confirmation", "event_name"],
    ),
    "unknown outcome": (
        MODEL_FILE,
        "value=\"'passed'\" />\n          </spiffworkflow:parameters>\n        </spiffworkflow:serviceTaskOperator>\n      </bpmn:extensionElements>\n      <bpmn:incoming>flow_gw_conclusion_to_record_passed",
        "value=\"'good'\" />\n          </spiffworkflow:parameters>\n        </spiffworkflow:serviceTaskOperator>\n      </bpmn:extensionElements>\n      <bpmn:incoming>flow_gw_conclusion_to_record_passed",
        ["record_passed", "record_outcome", "outcome"],
    ),
    "unknown plug-in": (
        "catalogue.toml",
        'plugin = "workflows.procedures.import_inspection"',
        'plugin = "workflows.procedures.importer"',
        [PROCEDURE, "plug-in module 'workflows.procedures.importer' cannot be imported"],
    ),
    "another procedure's document kind": (
        MODEL_FILE,
        "value=\"'import_inspection_result'\"",
        "value=\"'declaration_notice'\"",
        ["issue_result", "kind 'declaration_notice' is not one of this procedure's document kinds"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_catalogue_refuses_unknown_events_outcomes_and_facts(tmp_path, case):
    file, old, new, expected = BROKEN[case]
    with pytest.raises(CatalogueError) as caught:
        start(tmp_path, broken_copy(tmp_path, file, old, new))
    for words in expected:
        assert words in str(caught.value), f"{words!r} not in: {caught.value}"


def test_a_procedure_without_a_plugin_runs_on_the_core_alone(tmp_path):
    """The declaration with its plug-in line taken out: its own documents are refused (they are its
    plug-in's), the core's slips are not."""
    with pytest.raises(CatalogueError) as caught:
        start(
            tmp_path,
            broken_copy(tmp_path, "catalogue.toml", 'plugin = "workflows.procedures.declaration"\n', ""),
        )
    assert "issue_notice: issue_document: kind 'declaration_notice' is not one of this procedure's" in str(
        caught.value
    )


# -- demo ---------------------------------------------------------------------------------------------


def test_the_demo_has_import_inspections_under_both_versions_of_the_rules(rt):
    """Two registrations under today's rules (awaiting the clerk, awaiting the certificate) and one
    registered and cleared on the last days of the earlier rules, which it keeps: its certificate
    is long overdue, so it is flagged and on the violation list."""
    create_demo_accounts(rt)
    create_demo_dossiers(rt)

    def demo_dossiers() -> list[tuple[str, str, str | None]]:
        with transaction(rt.engine) as session:
            return sorted(
                (d.status, d.code, d.rules_version)
                for d in session.exec(
                    select(Dossier).where(
                        Dossier.procedure_code == PROCEDURE, Dossier.applicant_tax_code == "3200123452"
                    )
                )
            )

    dossiers = demo_dossiers()
    assert [status for status, _, _ in dossiers] == [
        "awaiting_certificate",
        "awaiting_confirmation",
        "certificate_overdue",
    ]
    [(_, earlier, version)] = [d for d in dossiers if d[0] == "certificate_overdue"]
    assert version == "" and earlier.split("-")[1] == "260629"  # registered on Mon 29/06/2026
    assert sorted(version for _, _, version in dossiers) == ["", "2026-07-01", "2026-07-01"]
    assert len(events_of(rt, earlier, "inspection_violation")) == 1
    with transaction(rt.engine) as session:
        assert session.exec(select(Violation).where(Violation.handled_at.is_(None))).all()  # type: ignore[union-attr]
