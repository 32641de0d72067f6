"""The declaration of conformity end to end through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import time_machine

from tests.support import cast_of, docx_text, issued_docx, local, officer, relogin


@pytest.fixture
def people(client, rt):
    return cast_of(client, rt, "Công ty TNHH Mũ An Toàn")


def test_declaration_from_submission_to_issued_notice(people):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    # Friday 13/02/2026 10:00, just before Tết (Mon 16 – Fri 20/02 off).
    with time_machine.travel(local(2026, 2, 13, 10, 0), tick=False):
        relogin(people)
        response = firm.submit()
        assert response.status_code == 201, response.text
        dossier = response.json()
        code = dossier["code"]
        assert code.startswith("000.00.15.H50-260213-")
        assert dossier["status"] == "awaiting_receipt"
        assert [t["step"] for t in dossier["open_tasks"]] == ["check_completeness"]

        inbox = clerk.get("/api/tasks").json()["items"]
        assert [t["dossier_code"] for t in inbox] == [code]
        assert clerk.done(code, {"completeness_decision": "receive"})["status"] == "processing"

        received = firm.get(f"/api/dossiers/{code}").json()
        assert received["received_at"] == "2026-02-13T10:00:00+07:00"
        # 3 committed working days across Tết: Mon 23, Tue 24, Wed 25/02.
        assert received["appointment_at"] == "2026-02-25T10:00:00+07:00"
        assert received["legal_due_at"] == "2026-02-27T10:00:00+07:00"

        specialist.done(
            code, {"examination_findings": "Hồ sơ đầy đủ, hợp lệ.", "examination_conclusion": "accept"}
        )
        assert leader.done(code, {"approval_decision": "approve"})["status"] == "issued"

    relogin(people)
    final = firm.get(f"/api/dossiers/{code}").json()
    assert final["status"] == "issued" and final["status_label"]["vi"] == "Đã trả kết quả"
    assert final["open_tasks"] == []
    assert final["completed_at"] is not None
    actions = [event["action"] for event in final["history"]]
    assert actions[0] == "submitted" and actions[-1] == "closed"
    assert "received" in actions and "document_issued" in actions

    assert [d["kind"] for d in final["documents"]] == [
        "receipt_slip",
        "declaration_notice",
        "process_control_slip",
    ]
    notice = final["documents"][1]
    assert notice["kind"] == "declaration_notice"
    assert notice["number"].endswith("/TB-SKHCN")
    # The business's copy is the signed PDF, made by the worker after the approval's command
    # (tests/test_signed_documents.py); the .docx it renders is the officers' editable copy.
    assert firm.get(notice["download_url"]).status_code == 409
    download = leader.get(notice["editable_url"])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    text = docx_text(download.content)
    assert code in text
    assert "Công ty TNHH Mũ An Toàn" in text
    assert "hợp quy" in text.lower()
    assert notice["number"] in text
    assert "Nguyễn Minh Đức" in text  # the leader who approved signs

    import hashlib

    assert hashlib.sha256(download.content).hexdigest() == notice["sha256"]

    # The receipt slip (Mẫu 01) lists the dossier's components by name, each with its file.
    receipt = docx_text(issued_docx(firm, final["documents"][0]))
    assert "Bản công bố (đã ký, đóng dấu) (" in receipt
    assert "Giấy chứng nhận đăng ký doanh nghiệp (" in receipt
    # Mẫu 01 of Circular 03/2025/TT-VPCP states the legal time of the procedure's version.
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in receipt
    assert "Thời gian giải quyết hồ sơ theo quy định: 5 ngày làm việc" in receipt

    # The process control slip (Mẫu 06) has a row per step, the leader's closing approval included.
    slip = docx_text(issued_docx(firm, final["documents"][2]))
    for step in ("Kiểm tra tính đầy đủ", "Thẩm định hồ sơ", "Phê duyệt, ký kết quả"):
        assert step in slip, step
    assert slip.count("Nguyễn Minh Đức") >= 2  # the approval row and the signature

    public = firm.client.get(f"/api/public/dossiers/{code}").json()
    assert public == {
        "code": code,
        "procedure": {
            "vi": "Công bố hợp chuẩn, hợp quy",
            "en": "Declaration of conformity (to standards / technical regulations)",
        },
        "status": "issued",
        "status_label": {"vi": "Đã trả kết quả", "en": "Result issued"},
        "appointment_date": "25/02/2026",
    }
    verified = firm.client.get(f"/api/public/documents/{notice['verification_code']}").json()
    assert verified["dossier_code"] == code and verified["sha256"] == notice["sha256"]
    page = firm.client.get(f"/verify/{notice['verification_code']}")
    assert page.status_code == 200 and code in page.text
    # The notice is valid while the certificate is: stored, shown where it is verified.
    assert verified["valid_until"] == "2029-01-04"
    assert "04/01/2029" in page.text and "đã hết hiệu lực" not in page.text
    with time_machine.travel(local(2029, 1, 5, 9, 0), tick=False):
        assert "đã hết hiệu lực" in firm.client.get(f"/verify/{notice['verification_code']}").text


def test_a_self_assessed_declaration_is_valid_three_years_from_the_self_assessment(people):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    data = firm.declaration(basis="self_assessment")
    response = firm.submit(data)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(code, {"examination_findings": "Hợp lệ.", "examination_conclusion": "accept"})
    leader.done(code, {"approval_decision": "approve"})
    final = firm.get(f"/api/dossiers/{code}").json()
    notice = next(d for d in final["documents"] if d["kind"] == "declaration_notice")
    issued_on = data["self_assessment"]["issued_on"]  # 15/12/2025
    assert issued_on == "2025-12-15"
    assert "Thông báo này có hiệu lực đến ngày 15/12/2028" in docx_text(issued_docx(firm, notice))
    verified = firm.client.get(f"/api/public/documents/{notice['verification_code']}").json()
    assert verified["valid_until"] == "2028-12-15"


def test_supplement_loop_pauses_the_clock(people):
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        relogin(people)
        code = firm.submitted()
        clerk.done(
            code,
            {
                "completeness_decision": "supplement",
                "missing_items": ["Bản sao giấy chứng nhận hợp quy có chứng thực", "Nhãn hàng hóa"],
            },
        )
        waiting = firm.get(f"/api/dossiers/{code}").json()
        assert waiting["status"] == "supplement_requested"
        assert waiting["supplement_requests"][0]["items"] == [
            "Bản sao giấy chứng nhận hợp quy có chứng thực",
            "Nhãn hàng hóa",
        ]
        assert clerk.get("/api/tasks").json()["items"] == []  # nothing for the clerk while the business works
        [request] = waiting["documents"]  # Mẫu 02, listing everything missing
        assert request["kind"] == "supplement_request"
        request_text = docx_text(issued_docx(firm, request))
        assert "PHIẾU YÊU CẦU BỔ SUNG" in request_text and "Nhãn hàng hóa" in request_text

        travel.move_to(local(2026, 3, 5, 9, 0))  # Thursday: 3 working days later
        answer = firm.declaration()
        answer["product"]["name"] = "Mũ bảo hiểm cho người đi mô tô (đã sửa)"
        answer["supplement_note"] = "Đã bổ sung bản sao chứng thực và nhãn hàng hóa."
        firm.done(code, answer, step="provide_supplement")
        back = clerk.get(f"/api/dossiers/{code}").json()
        assert back["status"] == "awaiting_receipt"
        assert back["subject"] == "Mũ bảo hiểm cho người đi mô tô (đã sửa)"
        assert [t["step"] for t in back["open_tasks"]] == ["recheck_completeness"]

        # The supplement may be asked once: the re-check offers no second request.
        again = clerk.complete(code, {"completeness_decision": "supplement", "missing_items": ["x"]})
        assert again.status_code == 422
        assert again.json()["error"]["fields"][0]["field"] == "completeness_decision"

        travel.move_to(local(2026, 3, 5, 10, 0))
        clerk.done(code, {"completeness_decision": "receive"})
        received = clerk.get(f"/api/dossiers/{code}").json()
    assert received["received_at"] == "2026-03-02T09:00:00+07:00"
    # Mon + 3 working days = Thu 05/03 09:00, moved by the 3 working days paused = Tue 10/03 09:00.
    assert received["appointment_at"] == "2026-03-10T09:00:00+07:00"
    assert received["legal_due_at"] == "2026-03-12T09:00:00+07:00"
    assert received["supplement_requests"][0]["answered_at"] == "2026-03-05T09:00:00+07:00"
    assert received["data"]["product"]["name"].endswith("(đã sửa)")


def test_refusal_at_receipt_issues_the_refusal_slip(people):
    firm, clerk = people["business"], people["clerk"]
    code = firm.submitted()
    result = clerk.done(
        code,
        {
            "completeness_decision": "refuse",
            "refusal_reason": "Sản phẩm không thuộc thẩm quyền tiếp nhận của Sở.",
        },
    )
    assert result["status"] == "refused"
    dossier = firm.get(f"/api/dossiers/{code}").json()
    [slip] = dossier["documents"]
    assert slip["kind"] == "receipt_refusal"
    text = docx_text(issued_docx(firm, slip))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN" in text
    assert "không thuộc thẩm quyền tiếp nhận" in text
    assert dossier["open_tasks"] == []


def test_leader_sends_back_then_rejection_notice(people):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
    back = leader.done(
        code, {"approval_decision": "send_back", "approval_comment": "Kiểm tra lại hiệu lực giấy chứng nhận."}
    )
    assert back["status"] == "processing"
    assert specialist.task(code)["step"] == "examine"
    specialist.done(
        code,
        {
            "examination_findings": "Giấy chứng nhận đã hết hiệu lực.",
            "examination_conclusion": "reject",
            "rejection_reasons": ["Giấy chứng nhận hợp quy hết hiệu lực từ 01/10/2026."],
        },
    )
    assert leader.done(code, {"approval_decision": "approve"})["status"] == "rejected"
    dossier = firm.get(f"/api/dossiers/{code}").json()
    notice = next(d for d in dossier["documents"] if d["kind"] == "declaration_rejection")
    assert "hết hiệu lực từ 01/10/2026" in docx_text(issued_docx(firm, notice))
    # The business reads its filing back, not the department's working notes.
    assert "examination_findings" not in dossier["data"] and "approval_comment" not in dossier["data"]
    assert "examination_findings" in leader.get(f"/api/dossiers/{code}").json()["data"]


def test_withdrawal_before_the_result(people):
    firm, clerk = people["business"], people["clerk"]
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    response = firm.post(
        f"/api/dossiers/{code}/withdraw", json={"reason": "Doanh nghiệp thay đổi mẫu sản phẩm."}
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert people["specialist"].get("/api/tasks").json()["items"] == []
    again = firm.post(f"/api/dossiers/{code}/withdraw", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "closed"
    dossier = firm.get(f"/api/dossiers/{code}").json()
    history = dossier["history"]
    assert [h["action"] for h in history][-2:] == ["document_issued", "withdrawn"]
    assert history[-1]["details"]["reason"] == "Doanh nghiệp thay đổi mẫu sản phẩm."
    # A received dossier that stops gets the notice of Mẫu 05, issued by the one-stop unit (the
    # business that withdrew it does not sign it).
    stop = next(d for d in dossier["documents"] if d["kind"] == "stop_notice")
    text = docx_text(issued_docx(firm, stop))
    assert (
        "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text and "đề nghị rút hồ sơ: Doanh nghiệp thay đổi mẫu" in text
    )
    signature = text.split("Nơi nhận:")[1]
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" in signature and "Nguyễn Văn An" not in signature


def test_idempotency_key_returns_the_first_dossier(people):
    firm = people["business"]
    data = firm.declaration()
    first = firm.submit(data, key="nop-lan-1")
    second = firm.submit(data, key="nop-lan-1")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["code"] == second.json()["code"]
    assert firm.get("/api/dossiers").json()["total"] == 1


def test_claim_and_release_in_the_inbox(people, client, rt):
    firm, clerk = people["business"], people["clerk"]
    other_clerk = officer(client, rt, "clerk", name="Phan Văn Tư")
    code = firm.submitted()
    task = clerk.task(code)
    claimed = clerk.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["assignee_id"] is not None
    taken = other_clerk.post(
        f"/api/tasks/{task['id']}/complete", json={"data": {"completeness_decision": "receive"}}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == "Công việc đang do Lê Thị Hoa xử lý."
    assert clerk.post(f"/api/tasks/{task['id']}/release").status_code == 200
    assert other_clerk.done(code, {"completeness_decision": "receive"})["status"] == "processing"


def test_inbox_is_ordered_by_due_time(people):
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 4, 1, 8, 0), tick=False) as travel:
        relogin(people)
        first = firm.submitted()
        travel.move_to(local(2026, 4, 1, 14, 0))
        second = firm.submitted()
    clerk.relogin()
    items = clerk.get("/api/tasks").json()["items"]
    assert [t["dossier_code"] for t in items] == [first, second]
    assert items[0]["due_at"] < items[1]["due_at"]


def test_officers_are_warned_of_a_certificate_that_expires_while_the_dossier_is_open(people, client):
    """Filed on Mon 02/03/2026 with a certificate valid until Wed 04/03: the appointment (3 working
    days) falls after it, so the officers' pages warn; once it has expired they say so; the
    business sees no such warning."""
    from tests.test_pages import page_login

    firm, clerk, specialist = people["business"], people["clerk"], people["specialist"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(people)
        data = firm.declaration()
        data["certificate"]["valid_until"] = "2026-03-04"
        response = firm.submit(data)
        assert response.status_code == 201, response.text
        code = response.json()["code"]
        clerk.done(code, {"completeness_decision": "receive"})
        page_login(client, specialist.email)
        page = client.get(f"/dossiers/{code}").text
        assert "hết hiệu lực ngày 04/03/2026, trước ngày hẹn trả kết quả 05/03/2026" in page
        task = specialist.task(code)
        assert "hết hiệu lực ngày 04/03/2026" in client.get(f"/work/tasks/{task['id']}").text
        travel.move_to(local(2026, 3, 5, 9, 0))
        assert "đã hết hiệu lực từ ngày 04/03/2026" in client.get(f"/dossiers/{code}").text
        page_login(client, firm.email)
        assert "hết hiệu lực" not in client.get(f"/dossiers/{code}").text


def test_the_applicant_is_named_by_the_accounts_registered_organisation(people):
    """A business registered its organisation with its tax code: that name is the applicant's on
    the dossier and every document, not the text typed into the form (kept as declared)."""
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    typed = "Cty Mũ AT (tên tự ghi)"
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):
        relogin(people)
        data = firm.declaration()
        data["applicant"]["name"] = typed
        response = firm.submit(data)
        assert response.status_code == 201, response.text
        code = response.json()["code"]
        clerk.done(code, {"completeness_decision": "receive"})
        specialist.done(
            code, {"examination_findings": "Hồ sơ đầy đủ, hợp lệ.", "examination_conclusion": "accept"}
        )
        leader.done(code, {"approval_decision": "approve"})
    relogin(people)
    final = firm.get(f"/api/dossiers/{code}").json()
    assert final["applicant_name"] == "Công ty TNHH Mũ An Toàn"
    assert final["data"]["applicant"]["name"] == typed  # the form as filed: what was declared
    for document in final["documents"]:
        text = docx_text(issued_docx(firm, document))
        assert "Công ty TNHH Mũ An Toàn" in text and typed not in text, document["kind"]
        # Decree 30 (Phụ lục I): a number below 10 has a leading zero.
        assert re.fullmatch(r"\d{2,}/[A-Z]+-SKHCN", document["number"]), document["number"]
        assert f"Số: {document['number']}" in text
