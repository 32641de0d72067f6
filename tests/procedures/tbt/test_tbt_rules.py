"""The TBT inquiry point's rules as an officer meets them: a forwarded question is chased every N
working days and its paused clock has a ceiling (then it counts again and the leader hears of it);
an out-of-scope question is declined with a reason and a slip; the WTO compilation waits for the
comment deadline unless the officer gives the reason for issuing early."""

from __future__ import annotations

import time_machine
from sqlmodel import select

from notifications.dispatcher import fan_out
from notifications.models import Notification
from tests.procedures.tbt.test_tbt_inquiry import QUESTION, ask_as_visitor
from tests.procedures.tbt.test_tbt_wto import NOTIFICATION
from tests.support import business, docx_text, error_of, fields_of, issued_docx, local, officer
from tests.test_pages import csrf, page_login
from workflows.db import reading
from workflows.models import AuditEvent, ClockPause, Dossier, ProcessInstance, User
from workflows.outbox import OutboxEvent
from workflows.scheduler import tick


def _events(rt, event_type: str, code: str) -> list[OutboxEvent]:
    with reading(rt.engine) as session:
        events = session.exec(select(OutboxEvent).where(OutboxEvent.type == event_type)).all()
    return [e for e in events if e.payload.get("code") == code]


def _forwarded(client, rt, forward_to: str = "Bộ Công Thương") -> tuple[object, object, str]:
    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    firm = business(client, "Công ty CP Thép Quảng Trị")
    response = firm.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    tbt.done(code, {"topic": "technical_regulation", "route": "forward", "forward_to": forward_to})
    return tbt, firm, code


def test_a_forwarded_question_is_chased_every_five_working_days_and_its_pause_has_a_ceiling(client, rt):
    leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Lê Văn Lãnh")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):  # Thu
        leader.relogin()
        tbt, firm, code = _forwarded(client, rt)
    # Reminders every 5 working days, each from the one before, while the task stays open.
    for n, at in enumerate(
        [local(2026, 12, 3, 9, 30), local(2026, 12, 10, 10, 0), local(2026, 12, 17, 10, 30)], start=1
    ):
        with time_machine.travel(at, tick=False):
            tick(rt)
            reminders = _events(rt, "tbt_reply_overdue", code)
            assert [e.payload["reminder"] for e in reminders] == list(range(1, n + 1))
            assert reminders[-1].payload["every_days"] == 5
            assert reminders[-1].payload["forwarded_to"] == "Bộ Công Thương"
            assert not _events(rt, "tbt_pause_ceiling_reached", code)
            tbt.relogin()
            tbt.task(code, "record_reply")
    # 20 working days after forwarding (Thu 24/12 09:00) the clock counts again: the 5 committed
    # working days left run from now, and the leader is told.
    with time_machine.travel(local(2026, 12, 24, 9, 30), tick=False):
        tick(rt)
        fan_out(rt)
        [ceiling] = _events(rt, "tbt_pause_ceiling_reached", code)
        assert ceiling.payload["ceiling_days"] == 20
        assert len(_events(rt, "tbt_reply_overdue", code)) == 3
        firm.relogin(), tbt.relogin()
        dossier = firm.get(f"/api/dossiers/{code}").json()
        assert dossier["appointment_at"] == "2026-12-31T09:30:00+07:00"
        assert dossier["status"] == "tbt_awaiting_reply"  # the reply is still awaited
        tbt.task(code, "record_reply")
        with reading(rt.engine) as session:
            pause = session.exec(
                select(ClockPause).join(Dossier).where(Dossier.code == code, ClockPause.reason == "forwarded")
            ).one()
            told = {n.user_id for n in session.exec(select(Notification)).all() if n.event_id == ceiling.id}
            emails = {u.email for u in session.exec(select(User).where(User.id.in_(told))).all()}  # type: ignore[union-attr]
            actions = [
                a.action
                for a in session.exec(select(AuditEvent).join(Dossier).where(Dossier.code == code)).all()
            ]
        assert pause.ended_at is not None and pause.details["ended_by"] == "ceiling"
        assert leader.email in emails and firm.email not in emails
        assert actions.count("tbt_reply_reminder") == 3 and actions.count("tbt_pause_ceiling") == 1
        history = tbt.get(f"/api/dossiers/{code}").json()["history"]
        assert [h["details"]["clock_resumed"] for h in history if h["action"] == "tbt_pause_ceiling"] == [
            True
        ]
    # From the ceiling on the leader has the matter: no more reminders.
    with time_machine.travel(local(2026, 12, 25, 16, 0), tick=False):
        tick(rt)
        assert len(_events(rt, "tbt_reply_overdue", code)) == 3
    # The reply comes: nothing waits on a timer any more.
    with time_machine.travel(local(2026, 12, 28, 9, 0), tick=False):
        tbt.relogin()
        tbt.done(
            code,
            {
                "reply_received_on": "2026-12-28",
                "reply_summary": "Theo QCVN 20:2019/BKHCN.",
                "reply_outcome": "answer",
            },
        )
        assert tbt.get(f"/api/dossiers/{code}").json()["status"] == "tbt_answering"
    with time_machine.travel(local(2027, 1, 20, 9, 0), tick=False):
        tick(rt)
        assert len(_events(rt, "tbt_reply_overdue", code)) == 3
        with reading(rt.engine) as session:
            timer = session.exec(
                select(ProcessInstance.next_timer_at).join(Dossier).where(Dossier.code == code)
            ).one()
        assert timer is None


def test_a_reply_between_two_reminders_stops_them(client, rt):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt, _, code = _forwarded(client, rt)
    with time_machine.travel(local(2026, 12, 3, 9, 30), tick=False):
        tick(rt)
    # No tick between the second reminder's instant (10/12 09:30) and the reply: the overdue
    # reminder goes out with the reply's command, and none follows.
    with time_machine.travel(local(2026, 12, 11, 9, 0), tick=False):
        tbt.relogin()
        tbt.done(
            code,
            {
                "reply_received_on": "2026-12-11",
                "reply_summary": "Theo QCVN 20:2019/BKHCN.",
                "reply_outcome": "answer",
            },
        )
    with time_machine.travel(local(2027, 1, 20, 9, 0), tick=False):
        tick(rt)
        assert len(_events(rt, "tbt_reply_overdue", code)) == 2
        assert not _events(rt, "tbt_pause_ceiling_reached", code)
        with reading(rt.engine) as session:
            timer = session.exec(
                select(ProcessInstance.next_timer_at).join(Dossier).where(Dossier.code == code)
            ).one()
        assert timer is None


def test_the_reminder_interval_and_the_ceiling_are_settings(client, rt, monkeypatch):
    monkeypatch.setenv("TDCFLOW_TBT_REPLY_REMINDER_DAYS", "2")
    monkeypatch.setenv("TDCFLOW_TBT_PAUSE_CEILING_DAYS", "3")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):  # Thu
        _, _, code = _forwarded(client, rt, "Văn phòng TBT Việt Nam")
    with time_machine.travel(local(2026, 11, 30, 9, 30), tick=False):  # Mon: 2 working days
        tick(rt)
        assert len(_events(rt, "tbt_reply_overdue", code)) == 1
        assert not _events(rt, "tbt_pause_ceiling_reached", code)
    with time_machine.travel(local(2026, 12, 1, 9, 30), tick=False):  # Tue: 3 working days
        tick(rt)
        [ceiling] = _events(rt, "tbt_pause_ceiling_reached", code)
        assert ceiling.payload["ceiling_days"] == 3


def test_the_officer_declines_an_out_of_scope_question_with_a_reason_and_a_slip(client, rt):
    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        code = ask_as_visitor(client, question="Xin tư vấn thủ tục vay vốn ngân hàng để mua máy móc?")["code"]
        # The reason is required.
        refused = tbt.complete(code, {"topic": "other", "route": "decline"})
        assert "decline_reason" in fields_of(error_of(refused, 422))
        reason = "Câu hỏi về tín dụng ngân hàng, không về quy chuẩn, tiêu chuẩn hay đánh giá sự phù hợp."
        result = tbt.done(code, {"topic": "other", "route": "decline", "decline_reason": reason})
        assert result["status"] == "tbt_declined"
        dossier = tbt.get(f"/api/dossiers/{code}").json()
        assert dossier["status"] == "tbt_declined"
        slip = next(d for d in dossier["documents"] if d["kind"] == "tbt_decline_slip")
        # A letter to the asker, signed by the inquiry point's authority, not the officer's job name.
        assert slip["number"].endswith("/SKHCN-TĐC")
        text = docx_text(issued_docx(tbt, slip))
        assert "V/v câu hỏi về hàng rào kỹ thuật trong thương mại (TBT) không thuộc phạm vi" in text
        assert "Kính gửi: Trần Thị Khách." in text and reason in text
        assert "TUQ. GIÁM ĐỐC" in text and "CHUYÊN VIÊN" not in text
        assert "Quyết định số 46/2017/QĐ-TTg" in text and "Thông tư số 16/2018/TT-BKHCN" in text
        verified = client.get(f"/api/public/documents/{slip['verification_code']}")
        assert verified.status_code == 200, verified.text
        assert verified.json()["number"] == slip["number"]
        # The asker hears of it, with the reason.
        [declined] = _events(rt, "tbt_inquiry_declined", code)
        assert declined.payload["reason"] == reason and declined.payload["document_id"] == slip["id"]
        assert not tbt.get("/api/tasks").json()["items"] or all(
            t["dossier_code"] != code for t in tbt.get("/api/tasks").json()["items"]
        )


def test_a_forwarded_question_the_ministry_finds_out_of_scope_is_declined_after_the_reply(client, rt):
    """The body the question went to says it is outside technical regulations: the officer records
    that reply and declines, with the reason on the slip; no answer step follows."""
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt, firm, code = _forwarded(client, rt)
        tbt.relogin()
        reply = {
            "reply_received_on": "2026-11-26",
            "reply_summary": "Không thuộc phạm vi quy chuẩn kỹ thuật.",
        }
        missing = tbt.complete(code, {**reply, "reply_outcome": "out_of_scope"})
        assert "decline_reason" in fields_of(error_of(missing, 422))
        future = tbt.complete(code, {**reply, "reply_received_on": "2026-11-27", "reply_outcome": "answer"})
        assert fields_of(error_of(future, 422))["reply_received_on"]["code"] == "date_order"
        reason = "Bộ Công Thương trả lời: nội dung hỏi về hạn ngạch, không về hàng rào kỹ thuật."
        result = tbt.done(code, {**reply, "reply_outcome": "out_of_scope", "decline_reason": reason})
        assert result["status"] == "tbt_declined"
        dossier = firm.get(f"/api/dossiers/{code}").json()
        assert dossier["open_tasks"] == []
        slip = next(d for d in dossier["documents"] if d["kind"] == "tbt_decline_slip")
        assert reason in docx_text(issued_docx(firm, slip))
        [declined] = _events(rt, "tbt_inquiry_declined", code)
        assert declined.payload["reason"] == reason


def test_the_wto_compilation_waits_for_the_comment_deadline_or_an_early_issue_reason(client, rt):
    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    firm = business(client, "Công ty CP Thép Quảng Trị")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin(), firm.relogin()
        notification = tbt.post("/api/tbt/wto-notifications", json=NOTIFICATION).json()
        url = f"/api/tbt/wto-notifications/{notification['id']}/compilation"
        firm.post(url.replace("/compilation", "/comments"), json={"body": "Đề nghị lùi hiệu lực 12 tháng."})
        # Comments are open until 19/01/2027: no compilation yet, and the message says until when.
        early = error_of(tbt.post(url), 409, "comments_still_open")
        assert "19/01/2027" in early["message"] and "19/01/2027" in early["message_en"]
        error_of(tbt.post(url, json={"early_reason": "   "}), 409, "comments_still_open")
        # With the reason: issued, the reason recorded and printed.
        reason = "Văn phòng TBT Việt Nam đề nghị gửi ý kiến trước ngày 15/12/2026 để kịp phiên họp."
        issued = tbt.post(url, json={"early_reason": reason})
        assert issued.status_code == 200, issued.text
        text = docx_text(issued.content)
        assert "phát hành trước hạn góp ý (19/01/2027)" in text and reason in text
        with reading(rt.engine) as session:
            audit = session.exec(select(AuditEvent).where(AuditEvent.action == "wto_comments_compiled")).one()
        assert audit.details["early_reason"] == reason
        # The page says it too, and keeps what was typed.
        page_login(client, tbt.email)
        detail = client.get(f"/tbt/wto/{notification['id']}")
        assert "Lý do phát hành trước hạn góp ý" in detail.text
        refused = client.post(
            f"/tbt/wto/{notification['id']}/compilation", data={"csrf_token": csrf(detail.text)}
        )
        assert refused.status_code == 409
        assert 'id="compile-error"' in refused.text and "19/01/2027" in refused.text
    # The deadline day is still open; the day after, no reason is asked for and none is printed.
    with time_machine.travel(local(2027, 1, 19, 16, 0), tick=False):
        tbt.relogin()
        error_of(tbt.post(url), 409, "comments_still_open")
    with time_machine.travel(local(2027, 1, 20, 8, 0), tick=False):
        tbt.relogin()
        issued = tbt.post(url)
        assert issued.status_code == 200, issued.text
        assert "trước hạn góp ý" not in docx_text(issued.content)
