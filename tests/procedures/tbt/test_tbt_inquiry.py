"""The TBT inquiry point end to end through the HTTP API, on SQLite and PostgreSQL: visitors and
businesses ask, the officer answers or forwards (the clock pauses while waiting, a reminder fires),
the answer is e-mailed and published in the knowledge base."""

from __future__ import annotations

import io
import re
from typing import Any

import docx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from api.main import create_app
from notifications.dispatcher import fan_out
from tests.conftest import make_settings
from tests.support import business, docx_text, error_of, fields_of, issued_docx, local, officer, tampered
from workflows import document_signing
from workflows.db import reading, transaction
from workflows.document_rendering import rendered
from workflows.models import AuditEvent, Document, Dossier, ProcessInstance, User
from workflows.outbox import OutboxEvent
from workflows.runtime import build_runtime
from workflows.scheduler import tick

QUESTION = {
    "subject": "Yêu cầu về thép không gỉ xuất khẩu sang EU",
    "product": "Thép không gỉ cán nguội",
    "hs_code": "7219.33",
    "market": "EU",
    "question": "Thép không gỉ cán nguội xuất khẩu sang EU cần đáp ứng quy chuẩn, tiêu chuẩn nào và chứng nhận ra sao?",
    "consent_publish": True,
}


def visitor_payload(client, email: str = "khach@example.vn", **changes: Any) -> dict[str, Any]:
    challenge = client.get("/api/tbt/form-token").json()
    a, b = (int(n) for n in re.findall(r"\d+", challenge["question"]))
    data = {**QUESTION, "asker": {"name": "Trần Thị Khách", "email": email}, **changes}
    return {"data": data, "form_token": challenge["token"], "captcha_answer": str(a + b)}


def ask_as_visitor(client, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/tbt/inquiries", json=visitor_payload(client, **changes))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def tbt(client, rt):
    return officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")


def test_visitor_asks_officer_answers_and_publishes(client, rt, tbt):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        asked = ask_as_visitor(client)
        code = asked["code"]
        assert asked["status"] == "tbt_classifying"
        # 5 committed working days from Thu 26/11 09:00 → Thu 03/12 09:00.
        assert asked["appointment_at"] == "2026-12-03T02:00:00+00:00"
        follow_url = asked["follow_url"]
        assert code in follow_url
        path = follow_url.removeprefix("http://testserver")
        api_path = path.replace("/tbt/follow/", "/api/tbt/follow/")

        # The visitor is an identity without role or password: it cannot log in.
        with reading(rt.engine) as session:
            visitor = session.exec(select(User).where(User.email == "khach@example.vn")).one()
            assert visitor.roles == []
        for password in ("!visitor", visitor.password_hash, "x"):
            login = client.post(
                "/api/auth/token", data={"username": "khach@example.vn", "password": password}
            )
            assert login.status_code == 401

        # A wrong token shows nothing.
        assert client.get(tampered(api_path)).status_code == 404
        followed = client.get(api_path).json()
        assert followed["status"] == "tbt_classifying" and followed["answer"] is None

        tbt.done(code, {"topic": "technical_regulation", "route": "answer"})
        answer = "Sản phẩm thép không gỉ phải đáp ứng Quy định (EU) 305/2011 và tiêu chuẩn EN 10088-2."
        result = tbt.done(code, {"answer": answer, "references": ["EN 10088-2"]})
        assert result["status"] == "tbt_publishing"
        tbt.done(
            code,
            {"publication_decision": "publish", "published_answer": answer + " (đã biên tập)"},
        )

    followed = client.get(api_path).json()
    assert followed["status"] == "answered"
    assert followed["answer"] == answer
    kinds = [d["kind"] for d in followed["documents"]]
    assert "tbt_answer" in kinds
    doc = next(d for d in followed["documents"] if d["kind"] == "tbt_answer")
    # The asker's copy is the PDF signed by the Department, once the worker has signed it.
    error_of(client.get(doc["url"]), 409, "document_being_signed")
    document_signing.sign_due(rt)
    official = client.get(doc["url"])
    assert official.status_code == 200 and official.headers["content-type"] == "application/pdf"
    with reading(rt.engine) as session:
        stored = session.get(Document, doc["id"])
    assert stored is not None and official.content == rt.store.read(stored.pdf_sha256)
    text = docx_text(rt.store.read(stored.sha256))  # what the PDF shows, as laid out in its .docx
    # A letter (công văn): no type title, "V/v …" under its number, "Kính gửi:" the asker, signed
    # by the inquiry point's authority, never the officer's job name.
    assert "V/v trả lời câu hỏi về hàng rào kỹ thuật trong thương mại (TBT)" in text
    assert "Kính gửi: Trần Thị Khách." in text and "EN 10088-2" in text
    assert f"Số: {doc['number']}" in text and re.fullmatch(r"\d{2,}/SKHCN-TĐC", doc["number"])
    assert "TUQ. GIÁM ĐỐC" in text and "PHỤ TRÁCH ĐIỂM HỎI ĐÁP TBT" in text and "Phạm Thu Hà" in text
    assert "VĂN BẢN TRẢ LỜI" not in text and "CHUYÊN VIÊN" not in text

    # The answer went out by e-mail to the visitor, with the secret link (not the login page).
    fan_out(rt)
    with reading(rt.engine) as session:
        from notifications.models import Delivery

        mails = session.exec(
            select(Delivery).where(Delivery.channel == "email", Delivery.recipient == "khach@example.vn")
        ).all()
    subjects = [m.subject for m in mails]
    assert any("đã có câu trả lời" in s for s in subjects), subjects
    answered = next(m for m in mails if "đã có câu trả lời" in m.subject)
    assert answer in answered.body_text and path in answered.body_text
    assert "/files/documents/" not in answered.body_text
    # Every message to the visitor (received, answered) links to its secret page, never to pages
    # behind a login; there is no "submitted, awaiting receipt" message beside "received".
    assert len(mails) == 2, subjects
    for mail in mails:
        assert path in mail.body_text and "/dossiers/" not in mail.body_text, mail.subject

    # Published, anonymised: both spellings find it; the asker's name is not published.
    for q in ("thép không gỉ", "thep khong gi", "THEP KHONG GI", "7219"):
        found = client.get("/api/tbt/kb", params={"q": q}).json()
        assert found["total"] == 1, (q, found)
    entry = client.get("/api/tbt/kb", params={"q": "thep"}).json()["items"][0]
    assert entry["answer"].endswith("(đã biên tập)")
    assert "«" in entry["highlight"]
    assert "Khách" not in str(entry)
    assert client.get("/api/tbt/kb", params={"q": "nhôm"}).json()["total"] == 0


def test_forwarded_inquiry_pauses_the_clock_and_reminds(client, rt, tbt):
    firm = business(client, "Công ty CP Thép Quảng Trị")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin(), firm.relogin()
        response = firm.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
        assert response.status_code == 201, response.text
        code = response.json()["code"]
        assert "follow_url" not in response.json()
        # The business sees it among its own dossiers.
        assert firm.get(f"/api/dossiers/{code}").status_code == 200
        tbt.done(
            code,
            {"topic": "conformity_assessment", "route": "forward", "forward_to": "Văn phòng TBT Việt Nam"},
        )
        dossier = firm.get(f"/api/dossiers/{code}").json()
        assert dossier["status"] == "tbt_awaiting_reply"
        assert [d["kind"] for d in dossier["documents"]][-1] == "tbt_forward_letter"

    # Five working days later (Thu 03/12 09:00) the reminder fires, the task stays open.
    with time_machine.travel(local(2026, 12, 3, 9, 30), tick=False):
        tick(rt)
        with reading(rt.engine) as session:
            types = [e.type for e in session.exec(select(OutboxEvent)).all()]
        assert "tbt_reply_overdue" in types and "tbt_inquiry_forwarded" in types
        tbt.relogin()
        tbt.task(code, "record_reply")

    # The reply comes on Mon 07/12 09:00: 7 working days paused, the appointment moves by them.
    with time_machine.travel(local(2026, 12, 7, 9, 0), tick=False):
        tbt.relogin(), firm.relogin()
        tbt.done(
            code,
            {
                "reply_received_on": "2026-12-07",
                "reply_summary": "Áp dụng Quy định (EU) 2023/1230.",
                "reply_outcome": "answer",
            },
        )
        dossier = firm.get(f"/api/dossiers/{code}").json()
        assert dossier["status"] == "tbt_answering"
        # 26/11 09:00 + 5 working days = 03/12 09:00, + the pause 26/11 09:00 → 07/12 09:00 (7 working days) = 14/12 09:00.
        assert dossier["appointment_at"] == "2026-12-14T09:00:00+07:00"
        result = tbt.done(
            code, {"answer": "Theo ý kiến của Văn phòng TBT Việt Nam, áp dụng Quy định (EU) 2023/1230."}
        )
        assert result["status"] == "answered"  # no consent: no publication step
        dossier = firm.get(f"/api/dossiers/{code}").json()
        answer_doc = next(d for d in dossier["documents"] if d["kind"] == "tbt_answer")
        text = docx_text(issued_docx(firm, answer_doc))
        assert "Trên cơ sở ý kiến của Văn phòng TBT Việt Nam" in text
    assert client.get("/api/tbt/kb", params={"q": "thep"}).json()["total"] == 0


def _signature(content: bytes) -> list[str]:
    """The lines of the signature block (the right cell of the closing table)."""
    document = docx.Document(io.BytesIO(content))
    closing = next(t for t in document.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    return [p.text for p in closing.rows[0].cells[1].paragraphs if p.text]


@pytest.mark.parametrize("who", ["business", "visitor"])
def test_the_inquiry_point_receives_a_question_not_the_asker(client, rt, who):
    """The question is received on submission: the receipt is signed by the inquiry point, with no
    person's name, and the audit log does not name the asker as who received it."""
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        if who == "business":
            firm = business(client, "Công ty CP Thép Quảng Trị")
            response = firm.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
            assert response.status_code == 201, response.text
            code, asker_name, reader = response.json()["code"], "Nguyễn Văn An", firm
        else:
            code, asker_name = ask_as_visitor(client)["code"], "Trần Thị Khách"
            reader = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        [received] = session.exec(
            select(AuditEvent).where(AuditEvent.dossier_id == dossier.id, AuditEvent.action == "received")
        ).all()
        assert received.actor_id is None and received.actor_id != dossier.applicant_id
        assert asker_name not in received.actor_label
        assert received.details["receiving_unit"] == "Điểm hỏi đáp TBT tỉnh Quảng Trị"
        [slip] = session.exec(
            select(Document).where(Document.dossier_id == dossier.id, Document.kind == "receipt_slip")
        ).all()
        assert slip.issued_by_id is None
    # The reader's copy is the signed PDF once the worker has run; its .docx says the same.
    assert reader.get(f"/api/documents/{slip.id}").status_code == 409
    content = rt.store.read(rendered(rt, slip).sha256)  # its .docx, rendered after the command
    signature = _signature(content)
    assert signature[0] == "ĐIỂM HỎI ĐÁP TBT TỈNH QUẢNG TRỊ"
    assert asker_name not in " ".join(signature)
    assert "Điểm hỏi đáp TBT tỉnh Quảng Trị - Sở Khoa học và Công nghệ tiếp nhận hồ sơ của:" in docx_text(
        content
    )


def test_visitor_checks(client, rt):
    payload = visitor_payload(client)
    bad_sum = {**payload, "captcha_answer": "99"}
    assert fields_of(error_of(client.post("/api/tbt/inquiries", json=bad_sum), 422, "anti_abuse")).keys() == {
        "captcha_answer"
    }
    honey = {**payload, "website": "http://spam.example"}
    error_of(client.post("/api/tbt/inquiries", json=honey), 422, "anti_abuse")
    forged = {**payload, "form_token": tampered(payload["form_token"])}
    assert "form_token" in fields_of(error_of(client.post("/api/tbt/inquiries", json=forged), 422))
    no_email = visitor_payload(client)
    no_email["data"]["asker"] = {"name": "Ai đó"}
    assert "asker.email" in fields_of(error_of(client.post("/api/tbt/inquiries", json=no_email), 422))
    short = visitor_payload(client, question="Ngắn quá")
    assert "question" in fields_of(error_of(client.post("/api/tbt/inquiries", json=short), 422))
    with time_machine.travel(local(2026, 11, 26, 12, 0), tick=False):
        expired = visitor_payload(client)
    error_of(client.post("/api/tbt/inquiries", json=expired), 422, "anti_abuse")
    # An e-mail that belongs to an account must log in.
    firm = business(client)
    taken = client.post("/api/tbt/inquiries", json=visitor_payload(client, email=firm.email))
    error_of(taken, 409, "account_exists")
    # An address an administrator blocked may not ask again.
    ask_as_visitor(client, email="spam@example.vn")
    with transaction(rt.engine) as session:
        spammer = session.exec(select(User).where(User.email == "spam@example.vn")).one()
        spammer.is_active = False
        session.add(spammer)
    error_of(
        client.post("/api/tbt/inquiries", json=visitor_payload(client, email="spam@example.vn")),
        403,
        "blocked",
    )
    # Officers do not ask with their work account.
    tbt = officer(client, rt, "tbt_officer")
    error_of(tbt.post("/api/tbt/inquiries", json={"data": QUESTION}), 403)


def test_rate_limit_per_email_and_ip(client):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        for _ in range(3):
            ask_as_visitor(client, email="nhieu@example.vn")
        refused = client.post("/api/tbt/inquiries", json=visitor_payload(client, email="nhieu@example.vn"))
        error = error_of(refused, 429, "rate_limited")
        assert "10:00 26/11/2026" in error["message"] and "10:00 26/11/2026" in error["message_en"]
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        ask_as_visitor(client, email="khac@example.vn")
        ask_as_visitor(client, email="khac2@example.vn")
        # Five from this IP in the hour: the IP is refused too, whatever the address.
        error_of(client.post("/api/tbt/inquiries", json=visitor_payload(client, email="moi@example.vn")), 429)
    with time_machine.travel(local(2026, 11, 26, 10, 1), tick=False):
        ask_as_visitor(client, email="nhieu@example.vn")


def test_rate_counts_older_than_the_window_are_dropped(client, rt):
    from workflows.models import RequestEvent

    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        ask_as_visitor(client, email="mot@example.vn")
    with time_machine.travel(local(2026, 11, 26, 10, 1), tick=False):
        ask_as_visitor(client, email="hai@example.vn")
    with reading(rt.engine) as session:
        keys = sorted(e.key for e in session.exec(select(RequestEvent)).all())
    assert keys == ["tbt_inquiry:address:testclient", "tbt_inquiry:email:hai@example.vn"]


def test_the_demo_has_inquiries_in_three_states_answers_and_notifications(rt, client):
    from workflows.demo import create_demo_accounts, create_demo_dossiers
    from workflows.models import Dossier

    create_demo_accounts(rt)
    create_demo_dossiers(rt)
    with reading(rt.engine) as session:
        states = sorted(
            session.exec(select(Dossier.status).where(Dossier.procedure_code == "hoi-dap-tbt")).all()
        )
    assert states == ["answered", "answered", "answered", "tbt_awaiting_reply", "tbt_classifying"]
    assert client.get("/api/tbt/kb", params={"q": "thep khong gi"}).json()["total"] == 1
    notifications = client.get("/api/tbt/wto-notifications").json()
    assert notifications["total"] == 3
    assert [n["comments_open"] for n in notifications["items"]] == [True, True, False]


def test_officer_corrects_and_takes_down_a_published_answer(client, rt, tbt):
    code = ask_as_visitor(client)["code"]
    tbt.done(code, {"topic": "standard", "route": "answer"})
    tbt.done(code, {"answer": "Áp dụng tiêu chuẩn EN 10088-2 cho thép không gỉ cán nguội xuất khẩu."})
    tbt.done(code, {"publication_decision": "publish"})
    entry = client.get("/api/tbt/kb", params={"q": "thep"}).json()["items"][0]
    firm = business(client)
    error_of(
        firm.client.patch(f"/api/tbt/kb/{entry['id']}", json={"answer": "x" * 20}, headers=firm.headers), 403
    )
    bad = tbt.client.patch(f"/api/tbt/kb/{entry['id']}", json={"answer": "ngắn"}, headers=tbt.headers)
    assert "answer" in fields_of(error_of(bad, 422))
    fixed = tbt.client.patch(
        f"/api/tbt/kb/{entry['id']}",
        json={"answer": "Từ năm 2027 áp dụng tiêu chuẩn nhôm định hình EN 755-2 thay thế."},
        headers=tbt.headers,
    )
    assert fixed.status_code == 200, fixed.text
    # The index follows the correction in the same transaction.
    assert client.get("/api/tbt/kb", params={"q": "nhom dinh hinh"}).json()["total"] == 1
    assert client.get("/api/tbt/kb", params={"q": "10088"}).json()["total"] == 0
    error_of(tbt.post(f"/api/tbt/kb/{entry['id']}/unpublish", json={"reason": ""}), 422)
    assert (
        tbt.post(
            f"/api/tbt/kb/{entry['id']}/unpublish", json={"reason": "Tiêu chuẩn đã thay thế"}
        ).status_code
        == 204
    )
    assert client.get("/api/tbt/kb", params={"q": "nhom"}).json()["total"] == 0
    error_of(client.get(f"/api/tbt/kb/{entry['id']}"), 404)
    history = [e["action"] for e in tbt.get(f"/api/dossiers/{code}").json()["history"]]
    assert {"tbt_published", "tbt_entry_edited", "tbt_entry_unpublished"} <= set(history)


def test_a_reply_before_the_reminder_cancels_it(client, rt, tbt):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        code = ask_as_visitor(client, consent_publish=False)["code"]
        tbt.done(code, {"topic": "labelling", "route": "forward", "forward_to": "Bộ Công Thương"})
    with time_machine.travel(local(2026, 11, 27, 9, 0), tick=False):
        tbt.relogin()
        tbt.done(
            code,
            {
                "reply_received_on": "2026-11-27",
                "reply_summary": "Theo Nghị định 43/2017/NĐ-CP.",
                "reply_outcome": "answer",
            },
        )
    with time_machine.travel(local(2026, 12, 10, 9, 0), tick=False):
        tick(rt)
        with reading(rt.engine) as session:
            types = {e.type for e in session.exec(select(OutboxEvent)).all()}
            instance_timer = session.exec(
                select(ProcessInstance.next_timer_at).join(Dossier).where(Dossier.code == code)
            ).one()
    assert "tbt_reply_overdue" not in types
    assert instance_timer is None


def test_an_inquiry_at_risk_warns_the_tbt_officers_not_the_specialists(client, rt, tbt):
    from notifications.models import Notification

    specialist = officer(client, rt, "specialist")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        code = ask_as_visitor(client, consent_publish=False)["code"]
    # 75% of 5 working days: Wed 02/12 around 09:00.
    with time_machine.travel(local(2026, 12, 2, 11, 0), tick=False):
        tick(rt)
        fan_out(rt)
    with reading(rt.engine) as session:
        events = session.exec(select(OutboxEvent).where(OutboxEvent.type == "appointment_at_risk")).all()
        assert [e.payload["code"] for e in events] == [code]
        ids = {e.id for e in events}
        told = {n.user_id for n in session.exec(select(Notification)).all() if n.event_id in ids}
        emails = {u.email for u in session.exec(select(User).where(User.id.in_(told))).all()}
    assert tbt.email in emails and specialist.email not in emails


def test_a_question_received_on_submission_is_announced_once_and_in_order(client, rt):
    """The asker hears "received, answer due …" only: no "submitted, awaiting receipt" beside it.
    A declaration, received later by the clerk, still hears "submitted" first."""
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        code = ask_as_visitor(client)["code"]
        firm = business(client, "Công ty CP Thép Quảng Trị")
        declaration = firm.submitted()
    with reading(rt.engine) as session:

        def types_of(dossier_code: str) -> list[str]:
            dossier = session.exec(select(Dossier).where(Dossier.code == dossier_code)).one()
            events = session.exec(
                select(OutboxEvent).where(OutboxEvent.dossier_id == dossier.id).order_by(OutboxEvent.id)
            ).all()
            return [e.type for e in events]

        asked = types_of(code)
        assert "dossier_submitted" not in asked and "dossier_received" in asked
        assert types_of(declaration)[0] == "dossier_submitted"


def test_a_business_question_is_filed_under_the_business(client, rt):
    firm = business(client, "Công ty CP Thép Quảng Trị")
    response = firm.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
    assert response.status_code == 201, response.text
    dossier = firm.get(f"/api/dossiers/{response.json()['code']}").json()
    assert dossier["applicant_name"] == "Công ty CP Thép Quảng Trị"
    assert dossier["applicant_tax_code"] == firm.tax_code
    visitor = ask_as_visitor(client)
    with reading(rt.engine) as session:
        asked = session.exec(select(Dossier).where(Dossier.code == visitor["code"])).one()
    assert asked.applicant_name  # the visitor's organisation, or their name


def test_behind_a_trusted_proxy_the_rate_limit_counts_each_asker_not_the_proxy(tmp_path, db_url):
    # Before, the limit read the proxy's own address: five askers behind the office's reverse proxy
    # filled the hour for everybody.
    rt = build_runtime(make_settings(tmp_path, db_url, trusted_proxies="10.0.0.0/8"))
    try:
        with (
            TestClient(create_app(rt), client=("10.1.2.3", 40000)) as proxy,
            time_machine.travel(local(2026, 11, 26, 9, 0), tick=False),
        ):

            def ask(email: str, address: str) -> Any:
                return proxy.post(
                    "/api/tbt/inquiries",
                    json=visitor_payload(proxy, email=email),
                    headers={"X-Forwarded-For": address},
                )

            for n in range(5):
                assert ask(f"a{n}@example.vn", "198.51.100.7").status_code == 201
            error_of(ask("a5@example.vn", "198.51.100.7"), 429, "rate_limited")
            assert ask("b@example.vn", "203.0.113.9").status_code == 201
    finally:
        rt.engine.dispose()
