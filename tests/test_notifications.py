"""Notifications end to end: the outbox, a real SMTP server (aiosmtpd), a real HTTP receiver on
loopback, retries with backoff, dead letters, crashes, the daily digest and two dispatchers at once.
Runs on SQLite and PostgreSQL (the ``rt``/``client`` fixtures of conftest)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

import notifications.models  # noqa: F401  (registers the room's tables before a runtime is built)
from notifications import (
    DispatchReport,
    SendReport,
    admin_commands,
    dispatch,
    dispatcher,
    fan_out,
    jobs,
    retry_dead,
    send_digest,
    send_due,
)
from notifications.channels import message_id
from notifications.inbox_queries import list_for, mark_read, unread_count
from notifications.models import Delivery, Notification
from notifications.render import Renderer
from tests.conftest import make_settings
from tests.notifications_support import MailSink, Receiver, start_smtp
from tests.support import VN, business, local, officer
from workflows import audit, commands
from workflows.clock import as_utc
from workflows.config import Settings
from workflows.db import reading, transaction
from workflows.errors import NotFound
from workflows.models import Dossier, User
from workflows.outbox import OutboxEvent, emit, event_types
from workflows.runtime import Runtime, build_runtime

SECRET = "chia-se-bi-mat-voi-hai-quan-2026"
MAX_ATTEMPTS = 3


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def mail() -> Iterator[MailSink]:
    controller, sink = start_smtp()
    yield sink
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, mail: MailSink) -> Settings:
    """conftest's settings, with the SMTP server of this test."""
    return make_settings(
        tmp_path,
        db_url,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_starttls=False,
        mail_from="Một cửa TĐC Quảng Trị <mot-cua@skhcn.quangtri.gov.vn>",
        delivery_max_attempts=MAX_ATTEMPTS,
    )


def user_by_email(rt: Runtime, address: str) -> User:
    with reading(rt.engine) as session:
        return session.exec(select(User).where(User.email == address)).one()


def deliveries(rt: Runtime, **where: object) -> list[Delivery]:
    with reading(rt.engine) as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.exec(query).all())


def event_of(rt: Runtime, event_type: str) -> OutboxEvent:
    with reading(rt.engine) as session:
        return session.exec(select(OutboxEvent).where(OutboxEvent.type == event_type)).one()


def emit_event(rt: Runtime, event_type: str, **payload: object) -> str:
    """An event as a command writes it (committed), without a dossier behind it."""
    with transaction(rt.engine) as session:
        return emit(session, event_type, None, {"code": "000.00.15.H50-260302-0042", **payload})


def an_admin(rt: Runtime) -> User:
    with transaction(rt.engine) as session:
        count = len(session.exec(select(User.id)).all())
        admin = User(
            email=f"quantri{count}@so-khcn.gov.vn", password_hash="x", full_name="Quản trị", roles=["admin"]
        )
        session.add(admin)
        return admin


def partner(rt: Runtime, receiver: Receiver, event_types: list[str], purpose: str = "partner") -> int:
    hook = admin_commands.create_webhook(
        rt,
        an_admin(rt),
        name="Chi cục Hải quan Lao Bảo",
        url=receiver.url,
        event_types=event_types,
        purpose=purpose,
        secret=SECRET,
    )
    assert hook.id is not None
    return hook.id


# -- the business and the officers hear of a dossier ----------------------------------------------------


def test_submission_and_receipt_reach_the_business_the_clerks_and_the_partner(client, rt, mail, receiver):
    hook_id = partner(rt, receiver, ["dossier_received"])
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        firm = business(client, "Công ty TNHH Mũ Bảo Hiểm Đông Hà")
        clerks = [officer(client, rt, "clerk", name=name) for name in ("Lê Thị Hoa", "Phạm Văn Đức")]
        specialist = officer(client, rt, "specialist", name="Trần Văn Nam")
        verification_mails_sent(rt, mail)
        code = firm.submitted()

        report = dispatch(rt)
        assert report.events == 2  # dossier_submitted, task_available
        assert (
            report.sent == 3 and report.retried == report.dead == 0
        )  # three e-mails; in-app needs no sending
        (submitted,) = mail.to(firm.email)
        assert code in submitted.subject and "đã nộp" in submitted.subject
        for clerk in clerks:
            (task_mail,) = mail.to(clerk.email)
            assert task_mail.subject.startswith("Việc mới: Kiểm tra")
            assert code in task_mail.subject
            assert "/work/tasks/" in task_mail.text
        assert not receiver.requests  # the partner subscribed to receipts only

        travel.shift(timedelta(minutes=30))
        clerks[0].relogin().done(code, {"completeness_decision": "receive"})
        assert dispatch(rt).events >= 2  # dossier_received, task_available (specialist)

        # The in-app list through the API: the bell's count and the newest first.
        page = firm.relogin().get("/api/notifications").json()
        assert page["unread"] == page["total"] == 2
        assert page["items"][0]["title"] == {
            "vi": f"Đã tiếp nhận hồ sơ {code}",
            "en": f"Dossier {code} received",
        }
        assert page["items"][0]["link"] == f"/dossiers/{code}"

    received = event_of(rt, "dossier_received")
    (receipt,) = [m for m in mail.to(firm.email) if m.event_id == received.id]
    assert receipt.rcpt_tos == (firm.email,)
    assert receipt.mail_from == "mot-cua@skhcn.quangtri.gov.vn"
    message = receipt.message
    assert message.get_content_type() == "multipart/alternative"
    assert "=?utf-8?" in receipt.raw.decode("ascii").split("\r\n\r\n")[0].lower()  # encoded on the wire
    assert receipt.subject.startswith(f"Hồ sơ {code}: đã tiếp nhận, hẹn trả kết quả ")
    assert str(message["From"]) == "Một cửa TĐC Quảng Trị <mot-cua@skhcn.quangtri.gov.vn>"
    assert "Công ty TNHH Mũ Bảo Hiểm Đông Hà" in str(message["To"])
    assert receipt.message_id == message_id(
        f"{received.id}:email:u{user_by_email(rt, firm.email).id}", rt.settings.mail_from
    )
    with reading(rt.engine) as session:
        appointment = session.exec(select(Dossier.appointment_at).where(Dossier.code == code)).one()
    shown = as_utc(appointment).astimezone(VN).strftime("%H:%M %d/%m/%Y")
    document_id = received.payload["document_id"]
    for part in (receipt.text, receipt.html):
        assert "Kính gửi Công ty TNHH Mũ Bảo Hiểm Đông Hà" in part
        assert "Ngày hẹn trả kết quả: " in part and shown in part
        assert f"http://testserver/files/documents/{document_id}" in part
        assert f"http://testserver/dossiers/{code}" in part
        assert "Dear " in part  # Vietnamese first, then English
        assert part.index("Kính gửi") < part.index("Dear ")
    assert "<strong>" in receipt.html and "<strong>" not in receipt.text

    (specialist_mail,) = mail.to(specialist.email)
    assert code in specialist_mail.subject

    # The partner: one signed JSON body carrying the event id.
    (request,) = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert request.signed_with(SECRET) and not request.signed_with("another-secret-of-someone-else")
    body = request.json
    assert body["id"] == request.headers["x-tdcflow-event-id"] == received.id
    assert body["type"] == "dossier_received"
    assert body["dossier"]["code"] == code and body["dossier"]["document_id"] == document_id
    assert body["dossier"]["appointment_at"] == received.payload["appointment_at"]
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    (webhook_delivery,) = deliveries(rt, channel="webhook")
    assert webhook_delivery.webhook_id == hook_id and webhook_delivery.status == "sent"

    # In-app: the bell and the list.
    firm_id = user_by_email(rt, firm.email).id
    items, total = list_for(rt, firm_id)
    assert total == 2 and unread_count(rt, firm_id) == 2
    assert [n.title for n in items] == [f"Đã tiếp nhận hồ sơ {code}", f"Đã nộp hồ sơ {code}"]  # newest first
    assert items[0].title_en == f"Dossier {code} received" and items[0].link == f"/dossiers/{code}"
    assert shown in items[0].body
    clerk_items, _ = list_for(rt, user_by_email(rt, clerks[1].email).id)
    (clerk_note,) = clerk_items
    assert clerk_note.link.startswith("/work/tasks/") and code in clerk_note.title
    assert mark_read(rt, firm_id, items[1].id) == 1
    assert unread_count(rt, firm_id) == 1 and list_for(rt, firm_id, unread_only=True)[1] == 1
    with pytest.raises(NotFound):
        mark_read(rt, firm_id, clerk_note.id)  # another user's
    assert mark_read(rt, firm_id) == 1 and unread_count(rt, firm_id) == 0

    # Each (event, channel, recipient) once; nothing left to send.
    keys = [d.idempotency_key for d in deliveries(rt)]
    assert len(keys) == len(set(keys))
    assert {d.status for d in deliveries(rt)} == {"sent"}
    assert dispatch(rt).busy is False


def test_supplement_request_lists_the_missing_items_and_its_answer_reaches_the_clerks(client, rt, mail):
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        firm = business(client)
        clerk = officer(client, rt, "clerk")
        code = firm.submitted()
        items = ["Bản sao giấy chứng nhận hợp quy có chứng thực", "Nhãn hàng hóa <mẫu mới>"]
        clerk.done(code, {"completeness_decision": "supplement", "missing_items": items})
        dispatch(rt)
        (request_mail,) = [m for m in mail.to(firm.email) if "bổ sung" in m.subject]
        for item in items:
            assert f"  - {item}" in request_mail.text
        assert "<li>Nhãn hàng hóa &lt;mẫu mới&gt;</li>" in request_mail.html  # autoescaped
        # The business's own task: the supplement form, on its own task page.
        (task_mail,) = [m for m in mail.to(firm.email) if "việc cần quý tổ chức thực hiện" in m.subject]
        assert "http://testserver/my/tasks/" in task_mail.text

        mail.clear()
        travel.shift(timedelta(hours=2))
        answer = firm.relogin().declaration()
        answer["supplement_note"] = "Đã bổ sung bản sao chứng thực và nhãn hàng hóa."
        firm.done(code, answer, step="provide_supplement")
        dispatch(rt)
        answered, recheck = sorted(mail.to(clerk.email), key=lambda m: not m.subject.startswith("Hồ sơ"))
        assert answered.subject == f"Hồ sơ {code}: đã nhận hồ sơ bổ sung | Supplement received"
        assert recheck.subject.startswith("Việc mới: ") and code in recheck.subject


# -- retries, dead letters, crashes -------------------------------------------------------------------


def test_a_receiver_that_fails_twice_gets_exactly_one_accepted_delivery(rt, receiver):
    partner(rt, receiver, ["*"])
    receiver.fail_next(2)
    start = local(2026, 3, 2, 9, 0)
    with time_machine.travel(start, tick=False) as travel:
        event_id = emit_event(rt, "dossier_received", appointment_at="2026-03-05T02:00:00+00:00")
        assert dispatch(rt).retried == 1
        (delivery,) = deliveries(rt)
        assert delivery.status == "pending" and delivery.attempts == 1 and "HTTP 500" in delivery.last_error
        assert timedelta(seconds=22.5) <= _gap(delivery.next_attempt_at, start) <= timedelta(seconds=37.5)

        assert send_due(rt).sent == 0  # not due yet
        travel.shift(timedelta(minutes=1))
        assert send_due(rt).retried == 1
        (delivery,) = deliveries(rt)
        assert (
            timedelta(seconds=45)
            <= _gap(delivery.next_attempt_at, start + timedelta(minutes=1))
            <= timedelta(seconds=75)
        )

        travel.shift(timedelta(minutes=2))
        assert send_due(rt).sent == 1
        travel.shift(timedelta(hours=1))
        assert send_due(rt) == SendReport()
    assert [r.status for r in receiver.requests] == [500, 500, 202]
    (accepted,) = receiver.accepted
    assert accepted.json["id"] == event_id and accepted.signed_with(SECRET)
    assert {r.headers["x-tdcflow-event-id"] for r in receiver.requests} == {event_id}
    (delivery,) = deliveries(rt)
    assert delivery.status == "sent" and delivery.attempts == 3 and delivery.sent_at is not None


def _gap(stored: datetime | None, since: datetime) -> timedelta:
    assert stored is not None
    return as_utc(stored) - as_utc(since)


def test_a_receiver_down_for_good_ends_dead_and_is_delivered_once_retried(rt, receiver):
    partner(rt, receiver, ["result_issued"])
    receiver.stop()  # nothing listens: connection refused
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        event_id = emit_event(rt, "result_issued", outcome="issued", documents=["d1"])
        reports = [dispatch(rt)]
        for _ in range(MAX_ATTEMPTS):
            travel.shift(timedelta(hours=1))
            reports.append(dispatch(rt))
        assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
        (delivery,) = admin_commands.dead_deliveries(rt)
        assert delivery.attempts == MAX_ATTEMPTS and delivery.next_attempt_at is None
        assert "refused" in delivery.last_error.lower()

        receiver.start()  # back, on the same port
        assert send_due(rt).sent == 0  # the dead stay dead until someone retries them
        assert retry_dead(rt, delivery.id) is True
        assert retry_dead(rt, delivery.id) is False  # pending now, not dead
        assert send_due(rt).sent == 1
        assert retry_dead(rt, delivery.id) is False  # sent
    (request,) = receiver.requests
    assert (
        request.accepted and request.json["id"] == event_id and request.json["dossier"]["documents"] == ["d1"]
    )
    assert deliveries(rt)[0].status == "sent"


def verification_mails_sent(rt, mail) -> None:  # type: ignore[no-untyped-def]
    """Send what registering the businesses wrote (their verification e-mails), then forget it:
    the test is about what comes after."""
    dispatch(rt)
    mail.clear()


class Crash(BaseException):
    """The worker dies (not an error the dispatcher would catch)."""


def test_a_crash_between_send_and_mark_resends_with_the_same_ids_and_loses_nothing(
    client, rt, mail, receiver, monkeypatch
):
    partner(rt, receiver, ["*"])
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        firm = business(client)
        clerk = officer(client, rt, "clerk")
        verification_mails_sent(rt, mail)
        firm.submitted()
        assert dispatcher.fan_out(rt) == 2
        to_send = deliveries(rt, status="pending")
        assert len(to_send) == 4  # e-mail to the firm and the clerk, the partner twice

        def crash(*args: object) -> None:
            raise Crash

        monkeypatch.setattr(dispatcher, "_mark_sent", crash)
        with pytest.raises(Crash):
            send_due(rt)
        monkeypatch.undo()
        # The first one went out but was not marked; the batch is leased to the dead worker.
        (first,) = [m.message_id for m in mail.mails] + [r.json["id"] for r in receiver.requests]
        leased = {d.id for d in to_send}
        assert {d.status for d in deliveries(rt) if d.id in leased} == {"sending"}
        assert send_due(rt).sent == 0  # the lease still holds

        travel.shift(timedelta(minutes=3))  # the lease ran out
        assert send_due(rt).sent == 4
    assert {d.status for d in deliveries(rt)} == {"sent"}
    # Everything arrived; one message twice, with the same ids, so the receiver can drop it.
    arrivals = Counter([m.message_id for m in mail.mails] + [r.json["id"] for r in receiver.requests])
    assert arrivals[first] == 2 and sum(arrivals.values()) == 5 and len(arrivals) == 4
    submitted, available = event_of(rt, "dossier_submitted").id, event_of(rt, "task_available").id
    assert [m.event_id for m in mail.to(firm.email)] in ([submitted], [submitted, submitted])
    assert [m.event_id for m in mail.to(clerk.email)] in ([available], [available, available])
    assert {r.json["id"] for r in receiver.requests} == {submitted, available}
    assert all(r.headers["x-tdcflow-event-id"] == r.json["id"] for r in receiver.requests)


def test_an_event_rolled_back_with_its_command_is_never_delivered(client, rt, mail, monkeypatch):
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):
        firm = business(client)
        code = firm.submitted()
        original = audit.record

        def fail_on_withdrawal(session, stream, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            if action == "withdrawn":
                raise RuntimeError("disk full")
            return original(session, stream, action, *args, **kwargs)

        monkeypatch.setattr(audit, "record", fail_on_withdrawal)
        with pytest.raises(RuntimeError):
            commands.withdraw_dossier(rt, user_by_email(rt, firm.email), code, "Không còn nhu cầu")
        monkeypatch.undo()
        dispatch(rt)
    with reading(rt.engine) as session:
        types = set(session.exec(select(OutboxEvent.type)).all())
    assert types == {"email_verification_requested", "dossier_submitted", "task_available"}
    assert not [m for m in mail.mails if "rút" in m.subject]
    assert {d.event_id for d in deliveries(rt)} <= {event_of(rt, t).id for t in types}


def test_email_waits_while_no_smtp_host_is_set(tmp_path, db_url, rt, mail, receiver):
    partner(rt, receiver, ["*"])
    without_smtp = build_runtime(make_settings(tmp_path, db_url))
    try:
        with transaction(rt.engine) as session:
            someone = User(email="ktv@cty.vn", password_hash="x", full_name="Hồ Thị Lan", roles=["business"])
            session.add(someone)
            session.flush()
            someone_id = someone.id
        emit_event(rt, "dossier_withdrawn", applicant_id=someone_id, reason="Đổi sản phẩm")
        report = dispatch(without_smtp)
        assert (report.events, report.sent) == (1, 1)  # the webhook
        (waiting,) = deliveries(rt, channel="email")
        assert waiting.status == "pending" and waiting.attempts == 0 and waiting.last_error is None
        assert dispatch(rt).sent == 1
    finally:
        without_smtp.engine.dispose()
    (sent,) = mail.to("ktv@cty.vn")
    assert "Đổi sản phẩm" in sent.text


def test_an_unreachable_mail_server_means_retry_and_an_unknown_mailbox_means_dead(tmp_path, db_url, rt, mail):
    with transaction(rt.engine) as session:
        people = [
            User(email=address, password_hash="x", full_name="Hồ Thị Lan", roles=["business"])
            for address in ("co-that@cty.vn", "khong-co@cty.vn")
        ]
        session.add_all(people)
    mail.unknown.add("khong-co@cty.vn")
    for person in people:
        emit_event(rt, "dossier_submitted", applicant_id=person.id)
    closed = Receiver().start()  # a port that is free again once closed
    closed.stop()
    unreachable = build_runtime(make_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=closed.port))
    try:
        with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
            assert dispatch(unreachable) == DispatchReport(events=2, retried=2)
            assert {d.last_error.split(":")[0] for d in deliveries(rt, channel="email")} == {"SMTP 127.0.0.1"}
            travel.shift(timedelta(minutes=5))
            assert dispatch(rt) == DispatchReport(sent=1, dead=1)  # 550: no use trying again
    finally:
        unreachable.engine.dispose()
    (dead,) = deliveries(rt, status="dead")
    assert dead.recipient == "khong-co@cty.vn" and dead.attempts == 2 and "550" in dead.last_error
    assert [m.rcpt_tos for m in mail.mails] == [("co-that@cty.vn",)]


def test_sms_goes_through_the_gateway_when_chosen(rt, receiver):
    gateway_id = partner(rt, receiver, ["*"], purpose="sms")  # the gateway hears of no event as a partner
    with transaction(rt.engine) as session:
        people = [
            User(email=f"dn{i}@cty.vn", password_hash="x", full_name="Hồ Thị Lan", roles=["business"])
            for i in range(2)
        ]
        session.add_all(people)
        session.flush()
        ids = [p.id for p in people]
    admin_commands.save_preferences(rt, people[0], email=False, sms=True, phone="0912 345 678", digest=False)
    for user_id in ids:
        emit_event(rt, "dossier_received", applicant_id=user_id, appointment_at="2026-03-05T02:00:00+00:00")
    assert dispatch(rt).sent == 2  # one SMS; the other person's e-mail (the first turned e-mail off)
    (request,) = receiver.requests
    assert request.signed_with(SECRET)
    assert request.json["to"] == "0912 345 678"
    assert (
        request.json["text"]
        == "Hồ sơ 000.00.15.H50-260302-0042 đã được tiếp nhận. Hẹn trả kết quả: 09:00 05/03/2026."
    )
    (sms,) = deliveries(rt, channel="sms")
    assert sms.webhook_id == gateway_id and sms.recipient_user_id == ids[0]
    assert [d.recipient for d in deliveries(rt, channel="email")] == ["dn1@cty.vn"]


# -- the daily digest ---------------------------------------------------------------------------------


def test_the_digest_goes_once_per_officer_on_working_days_only(client, rt, mail):
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        firm = business(client)
        hoa, duc = (
            officer(client, rt, "clerk", name="Lê Thị Hoa"),
            officer(client, rt, "clerk", name="Phạm Văn Đức"),
        )
        officer(client, rt, "leader")  # nothing to do: no digest
        code = firm.submitted()
        other = firm.submitted()
        dispatch(rt)
        mail.clear()

        travel.move_to(local(2026, 3, 3, 7, 0))  # Tuesday, digest time: both checks are overdue
        task = duc.relogin().task(other)
        assert duc.post(f"/api/tasks/{task['id']}/claim").status_code == 200
        assert send_digest(rt) == 2
        assert send_digest(rt) == 0  # once per officer per day
        dispatch(rt)
        (hoa_digest,) = mail.to(hoa.email)
        (duc_digest,) = mail.to(duc.email)
        assert len(mail.mails) == 2
        assert hoa_digest.subject == "Việc cần xử lý ngày 03/03/2026: 1 việc, 1 quá hạn | Daily digest"
        assert code in hoa_digest.text and other not in hoa_digest.text  # Đức claimed the other one
        assert code in duc_digest.text and other in duc_digest.text
        assert "Quá hạn (1)" in hoa_digest.text and "Overdue (1)" in hoa_digest.text
        assert "http://testserver/work/tasks/" in hoa_digest.html
        assert hoa_digest.message_id != duc_digest.message_id
        assert {d.idempotency_key for d in deliveries(rt, channel="email") if d.event_id is None} == {
            f"digest:{user_by_email(rt, hoa.email).id}:2026-03-03",
            f"digest:{user_by_email(rt, duc.email).id}:2026-03-03",
        }

        travel.move_to(local(2026, 3, 8, 7, 0))  # Sunday
        assert send_digest(rt) == 0
        assert send_digest(rt, date(2026, 4, 30)) == 0  # Reunification Day
        travel.move_to(local(2026, 3, 9, 7, 0))  # Monday again: a new day, a new digest
        assert send_digest(rt) == 2


def test_jobs_for_the_scheduler(rt):
    (dispatch_job, interval, dispatch_id), (digest_job, cron, digest_id) = jobs(rt)
    assert (dispatch_id, digest_id) == ("notifications-dispatch", "notifications-digest")
    assert interval.interval == timedelta(seconds=rt.settings.tick_seconds)
    after = local(2026, 3, 6, 8, 0)  # Friday, past 07:00
    assert cron.get_next_fire_time(None, after) == local(2026, 3, 7, 7, 0)  # the calendar decides per day
    with time_machine.travel(local(2026, 3, 7, 7, 0), tick=False):  # Saturday: nothing
        digest_job(rt)
        dispatch_job(rt)
    assert deliveries(rt) == []


# -- two dispatchers at once ----------------------------------------------------------------------------


def test_two_dispatchers_create_and_send_each_delivery_once(client, rt, mail, receiver):
    partner(rt, receiver, ["*"])
    firm = business(client)
    verification_mails_sent(rt, mail)
    firm_id = user_by_email(rt, firm.email).id
    events = [emit_event(rt, "dossier_submitted", applicant_id=firm_id) for _ in range(24)]
    barrier = threading.Barrier(2)
    counts: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            fanned = dispatcher.fan_out(rt, batch=3)
            sent = send_due(rt, batch=2).sent
            counts.append((fanned, sent))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(f for f, _ in counts) == len(events)  # each event fanned out by one of them
    assert sum(s for _, s in counts) == 2 * len(events)  # each e-mail and webhook sent by one of them
    rows = [row for row in deliveries(rt) if row.event_id in events]  # not the verification e-mail
    assert len(rows) == 3 * len(events) == len({r.idempotency_key for r in rows})
    assert {r.status for r in rows} == {"sent"}
    assert sorted(m.event_id for m in mail.mails) == sorted(events)
    assert sorted(r.json["id"] for r in receiver.requests) == sorted(events)
    with reading(rt.engine) as session:
        assert len(session.exec(select(Notification)).all()) == len(events)


# -- templates ------------------------------------------------------------------------------------------


def test_every_event_type_renders_in_both_languages_with_escaped_html(rt):
    renderer = Renderer(rt)
    user = User(
        id=7,
        email="a@b.vn",
        password_hash="x",
        full_name="Nguyễn Văn An",
        organisation_name="Công ty <b>An Toàn</b>",
        roles=["business"],
    )
    payload = {
        "code": "000.00.15.H50-260302-0001",
        "procedure_code": "cong-bo-hop-chuan-hop-quy",
        "applicant_id": 7,
        "applicant_name": "Công ty <b>An Toàn</b>",
        "subject": "Mũ bảo hiểm",
        "appointment_at": "2026-03-05T02:00:00+00:00",
        "received_at": "2026-03-02T02:00:00+00:00",
        "document_id": "doc1",
        "items": ["Nhãn"],
        "documents": ["doc1"],
        "reason": "Thiếu hồ sơ",
        "outcome": "issued",
        "task_id": "t-1",
        "step": "check_completeness",
        "task_name": "Kiểm tra hồ sơ",
        "task_name_en": "Check the dossier",
        "role": "business",
        "due_at": "2026-03-02T09:00:00+00:00",
        "recipient_role": "business",
    }
    # A WTO notification alert is about no dossier: tests/test_tbt_wto.py renders it; nor are the
    # tax codes' events (tests/test_tax_codes.py) and the messages about an account, below.
    # The metrology database's events are about instruments: tests/test_metrology_alerts.py.
    about_no_dossier = {"wto_notification_alert"} | {
        e for e in event_types() if e.startswith(("tax_code_", "metrology_"))
    }
    about_dossiers = {name for name, kind in event_types().items() if not kind.account_mail}
    for event_type in sorted(about_dossiers - about_no_dossier):
        event = OutboxEvent(id="e" * 32, type=event_type, payload=payload, created_at=local(2026, 3, 2, 9, 0))
        message = renderer.event_message(event, user)
        assert payload["code"] in message.subject, event_type
        assert message.title_vi and message.title_en and message.body_vi and message.sms, event_type
        assert "<b>" not in message.html and "Công ty &lt;b&gt;An Toàn&lt;/b&gt;" in message.html, event_type
        assert "Kính gửi Công ty <b>An Toàn</b>," in message.text, event_type
        assert "Dear " in message.text and message.html.count('lang="en"') == 1, event_type
        assert message.link in (f"/dossiers/{payload['code']}", "/my/tasks/t-1"), event_type


def test_the_messages_about_an_account_render_in_both_languages_with_their_link(rt):
    renderer = Renderer(rt)
    user = User(id=7, email="a@b.vn", password_hash="x", full_name="Nguyễn <b>An</b>", roles=["business"])
    payload = {
        "user_id": 7,
        "action_path": "/reset-password?token=abc-123",
        "minutes": 30,
        "hours": 48,
        "at": "2026-03-02T02:00:00+00:00",
    }
    account_mails = sorted(name for name, kind in event_types().items() if kind.account_mail)
    assert account_mails == [
        "email_verification_requested",
        "password_changed",
        "password_reset_requested",
        "registration_attempted",
    ]
    for event_type in account_mails:
        event = OutboxEvent(id="e" * 32, type=event_type, payload=payload, created_at=local(2026, 3, 2, 9, 0))
        message = renderer.event_message(event, user)
        assert " | " in message.subject, event_type  # Vietnamese | English
        assert "http://testserver/reset-password?token=abc-123" in message.text, event_type
        assert 'href="http://testserver/reset-password?token=abc-123"' in message.html, event_type
        assert message.text.index("Kính gửi Nguyễn <b>An</b>,") < message.text.index("Dear "), event_type
        assert "<b>An" not in message.html and "Nguyễn &lt;b&gt;An&lt;/b&gt;" in message.html, event_type
        assert message.link is None, event_type  # nothing in-app links to it


def test_an_extension_tells_the_business_with_the_new_appointment(rt, client):
    firm = business(client)
    clerk, leader = officer(client, rt, "clerk"), officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    response = leader.post(
        f"/api/dossiers/{code}/extend", json={"days": 2, "reason": "Chờ ý kiến của cơ quan chuyên ngành."}
    )
    assert response.status_code == 200, response.text
    fan_out(rt)
    with reading(rt.engine) as session:
        owner_id = session.exec(select(User.id).where(User.email == firm.email)).one()
    titles = [n.title for n in list_for(rt, owner_id)[0]]
    assert any(code in t and ("xin lỗi" in t.lower() or "hẹn lại" in t.lower()) for t in titles), titles
