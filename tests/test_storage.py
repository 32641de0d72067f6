"""What the database keeps, kept small: messages and instances packed (migration 0019), in-app
deliveries without a second copy of their notification, loops without their old passes.

What a person notices must not change: the e-mail kept is the e-mail sent, and sent again the same;
the bell shows the message; a loop run hundreds of times, restored between every step, ends right.
(Old rows packed by the migration: tests/test_migrations.py reads the release's back unchanged.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from notifications import dispatch, retry_dead
from notifications.models import Notification
from notifications.render import Renderer
from tests.conftest import make_settings
from tests.notifications_support import MailSink, start_smtp
from tests.test_notifications import deliveries, emit_event
from workflows.config import Settings
from workflows.db import reading, transaction
from workflows.engine import RunningProcess, parse_model
from workflows.models import User
from workflows.outbox import OutboxEvent
from workflows.packed import unpack

LOOP = Path(__file__).parent / "fixtures" / "models" / "long_loop.bpmn"


@pytest.fixture
def mail() -> Iterator[MailSink]:
    controller, sink = start_smtp()
    yield sink
    controller.stop()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, mail: MailSink) -> Settings:
    return make_settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=mail.port, smtp_starttls=False)


def a_business(rt, email: str) -> User:  # type: ignore[no-untyped-def]
    with transaction(rt.engine) as session:
        user = User(email=email, password_hash="x", full_name="Công ty TNHH Thép Đông Hà", roles=["business"])
        session.add(user)
    return user


def test_the_e_mail_kept_is_the_one_sent_and_is_resent_the_same(rt, mail):
    firm = a_business(rt, "lienhe@thepdongha.vn")
    mail.unknown.add(firm.email)  # the mailbox is refused: the message ends dead
    emit_event(rt, "dossier_received", applicant_id=firm.id, appointment_at="2026-03-05T02:00:00+00:00")
    assert dispatch(rt).dead == 1
    (dead,) = deliveries(rt, channel="email")
    assert "Kính gửi Công ty TNHH Thép Đông Hà" in dead.body_text and "<strong>" in dead.body_html
    with reading(rt.engine) as session:
        stored = session.execute(
            text("SELECT body_text, body_html FROM delivery WHERE id = :id"), {"id": dead.id}
        ).one()
    # Kept packed: a few hundred bytes, not the 4 KB of the e-mail.
    assert all(isinstance(value, bytes) for value in stored)
    assert sum(len(value) for value in stored) < (len(dead.body_text) + len(dead.body_html)) / 4

    mail.unknown.clear()  # the mailbox exists again; an administrator sends the message again
    assert retry_dead(rt, dead.id) is True
    assert dispatch(rt).sent == 1
    (sent,) = mail.to(firm.email)
    # The same message, line for line (the wire ends lines with CRLF).
    assert sent.text.splitlines() == dead.body_text.splitlines()
    assert sent.html.splitlines() == dead.body_html.splitlines()
    (again,) = deliveries(rt, channel="email")
    assert (again.status, again.body_text, again.body_html) == ("sent", dead.body_text, dead.body_html)


def test_the_bell_shows_the_message_and_its_delivery_keeps_no_second_copy(rt, mail):
    firm = a_business(rt, "kinhdoanh@ximang.vn")
    emit_event(rt, "dossier_received", applicant_id=firm.id, appointment_at="2026-03-05T02:00:00+00:00")
    dispatch(rt)
    with reading(rt.engine) as session:
        (notification,) = session.exec(select(Notification)).all()
        event = session.exec(select(OutboxEvent)).one()
    message = Renderer(rt).event_message(event, firm)
    assert (notification.title, notification.body, notification.title_en, notification.body_en) == (
        message.title_vi,
        message.body_vi,
        message.title_en,
        message.body_en,
    )
    assert "000.00.15.H50-260302-0042" in notification.title
    (inapp,) = deliveries(rt, channel="inapp")
    assert (inapp.status, inapp.subject, inapp.body_text) == ("sent", "", "")


@pytest.mark.xfail(
    strict=True,
    reason="known: SpiffWorkflow keeps every pass of a loop in its task tree and walks it recursively, "
    "so the state grows with each pass and the instance ends wrongly after about 250 (Python's "
    "recursion limit). Pruning the passes from the stored tree was tried and reverted: relinking a "
    "task to another element's task broke the award's send-back (its DMN result was lost).",
)
def test_a_loop_keeps_the_size_of_its_state_restored_between_every_step():
    """A loop run 30 times, restored before every step, ends where it should, and its stored
    state stays about the size it had after a few passes (today it grows with every pass; at about
    250 passes the instance ends wrongly: ``bench/long_instance.py`` shows it)."""
    model = parse_model("long_loop", {LOOP.name: LOOP.read_text(encoding="utf-8")})
    state = RunningProcess.start(model, {"steps": 0, "total": 30}).serialize()
    sizes = {}
    for n in range(1, 31):
        process = RunningProcess.restore(model, state)  # a fresh process for every command
        [task] = process.ready_user_tasks()
        assert task.spec_name == "step" and process.data["steps"] == n - 1
        process.complete(task.id, {"note": f"lần {n}"})
        state = process.serialize()
        sizes[n] = len(state)
    process = RunningProcess.restore(model, state)
    assert process.completed and process.data == {"steps": 30, "total": 30, "note": "lần 30"}
    assert sizes[30] < sizes[5] + 200


def test_packed_text_names_its_dictionary():
    from notifications.models import MESSAGE_DICTIONARIES
    from workflows.packed import pack

    body = "Kính gửi Công ty TNHH Thép Đông Hà,\n" * 3
    stored = pack(body, dict(MESSAGE_DICTIONARIES), 1)
    assert stored[0] == 1 and unpack(stored, dict(MESSAGE_DICTIONARIES)) == body
    assert unpack(body, {}) == body  # a row not packed yet reads as it is
    with pytest.raises(ValueError, match="no such dictionary"):
        unpack(stored, {})
