"""Outages of the channels that leave the building: a mail server or a partner down for an hour or
for days, the circuit breaker that stops hammering it, the retry policy measured in days, and the
administrator's one action that sends a channel's dead messages again.

Real servers on loopback (aiosmtpd, a socket answering "421 Service not available", an HTTP
receiver), the default retry settings unless a test says otherwise, time moved with time_machine.
Runs on SQLite and PostgreSQL (the ``rt``/``client`` fixtures of conftest)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

import notifications.models  # noqa: F401  (registers the room's tables before a runtime is built)
from notifications import admin_commands, dispatch, send_due
from notifications.models import Delivery
from tests.conftest import make_settings
from tests.notifications_support import DownSmtp, MailSink, Receiver, start_smtp
from tests.support import local, officer
from tests.test_pages import csrf, page_login
from workflows.clock import as_utc
from workflows.config import Settings
from workflows.db import reading, transaction
from workflows.models import AuditEvent, User
from workflows.outbox import emit
from workflows.runtime import Runtime, build_runtime

START = local(2026, 3, 2, 9, 0)  # a Monday
TICK = timedelta(minutes=1)


# -- fixtures and helpers -------------------------------------------------------------------------------


@pytest.fixture
def down() -> Iterator[DownSmtp]:
    """The mail server, down from the start."""
    server = DownSmtp()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, down: DownSmtp) -> Settings:
    """conftest's settings with the (down) mail server; the retry policy is the default one."""
    return make_settings(
        tmp_path,
        db_url,
        smtp_host="127.0.0.1",
        smtp_port=down.port,
        smtp_starttls=False,
        mail_from="Một cửa TĐC Quảng Trị <mot-cua@skhcn.quangtri.gov.vn>",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver().start()
    yield endpoint
    endpoint.stop()


def people(rt: Runtime, count: int, prefix: str = "dn") -> list[int]:
    with transaction(rt.engine) as session:
        taken = len(session.exec(select(User.id)).all())
        rows = [
            User(
                email=f"{prefix}{taken + i}@cty.vn",
                password_hash="x",
                full_name="Hồ Thị Lan",
                roles=["business"],
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def queue(rt: Runtime, event_type: str, user_ids: list[int]) -> None:
    """One event per person, as commands write them: each person hears of it by e-mail."""
    for user_id in user_ids:
        with transaction(rt.engine) as session:
            emit(session, event_type, None, {"code": "000.00.15.H50-260302-0042", "applicant_id": user_id})


def deliveries(rt: Runtime, channel: str | None = None) -> list[Delivery]:
    with reading(rt.engine) as session:
        query = select(Delivery).where(Delivery.channel != "inapp").order_by(Delivery.id)
        if channel:
            query = query.where(Delivery.channel == channel)
        return list(session.exec(query).all())


def age(delivery: Delivery, instant: datetime) -> timedelta:
    return as_utc(instant) - as_utc(delivery.created_at)


def admin_page(client, rt, url: str = "/admin/deliveries"):  # type: ignore[no-untyped-def]
    admin = officer(client, rt, "admin")
    page_login(client, admin.email)
    return client.get(url)


def mail_back_on(port: int) -> tuple[object, MailSink]:
    """A working mail server on the port the down one held."""
    return start_smtp(port)


# -- the retry policy -----------------------------------------------------------------------------------


def test_the_default_policy_backs_off_to_hours_and_gives_up_after_three_days_not_before():
    from notifications.retry_policy import BACKOFF_BASE, RetryPolicy

    policy = RetryPolicy.of(Settings())
    assert policy.max_age == timedelta(hours=72)
    assert timedelta(seconds=22.5) <= policy.backoff(1) <= timedelta(seconds=37.5)
    for attempts in (12, 20, 45):
        assert timedelta(hours=2, minutes=15) <= policy.backoff(attempts) <= timedelta(hours=3, minutes=45)
    # The fastest a message can use up its tries (every wait at -25%) is longer than three days:
    # with the defaults the age decides, not the number of tries.
    shortest_waits = [
        0.75 * min(BACKOFF_BASE * 2 ** min(a - 1, 20), policy.backoff_cap)
        for a in range(1, policy.max_attempts)
    ]
    fastest = sum(shortest_waits, timedelta())
    assert fastest > timedelta(hours=72)
    assert not policy.gives_up(policy.max_attempts - 1, START, START + timedelta(hours=71, minutes=59))
    assert policy.gives_up(3, START, START + timedelta(hours=72))
    assert policy.gives_up(policy.max_attempts, START, START + timedelta(minutes=5))


# -- the mail server down -------------------------------------------------------------------------------


def test_a_mail_server_down_for_an_hour_then_back_delivers_every_queued_email_once(rt, down):
    """75 minutes: past the 54–75 minutes after which the old 8 tries dead-lettered everything."""
    queue(rt, "dossier_submitted", people(rt, 20))
    with time_machine.travel(START, tick=False) as travel:
        for _ in range(75):  # a run a minute for 75 minutes
            dispatch(rt)
            assert not [d for d in deliveries(rt) if d.status == "dead"]
            travel.shift(TICK)
        # While down: one connection at the first run, then one try at 1, 2, 4, 8, 16, 30 minutes.
        assert down.connections <= 8
        attempts = [d.attempts for d in deliveries(rt)]
        assert sum(attempts) <= down.connections + 5  # the others were not tried: nothing burnt
        down.stop()
        controller, sink = mail_back_on(down.port)
        try:
            for _ in range(45):
                dispatch(rt)
                travel.shift(TICK)
        finally:
            controller.stop()  # type: ignore[attr-defined]
    rows = deliveries(rt)
    assert len(rows) == 20 and {d.status for d in rows} == {"sent"}
    arrivals = Counter(m.message_id for m in sink.mails)
    assert len(arrivals) == 20 and set(arrivals.values()) == {1}  # each e-mail once
    assert sorted(m.rcpt_tos[0] for m in sink.mails) == sorted(d.recipient for d in rows)
    from notifications.models import ChannelBreaker

    with reading(rt.engine) as session:
        (state,) = session.exec(select(ChannelBreaker)).all()
    assert state.opened_at is None and state.failures == 0 and state.recovered_at is not None


def test_a_mail_server_down_for_four_days_dead_letters_only_after_three_days(client, rt, down):
    queue(rt, "dossier_submitted", people(rt, 6))
    step = timedelta(minutes=15)
    seen_dead_at: dict[int, datetime] = {}
    with time_machine.travel(START, tick=False) as travel:
        instant = START
        while instant <= START + timedelta(days=4):
            dispatch(rt)
            for d in deliveries(rt):
                if d.status == "dead":
                    seen_dead_at.setdefault(d.id, instant)
                    assert age(d, instant) >= timedelta(hours=72), (d.id, instant, d.last_error)
            if instant == START + timedelta(days=2):
                # The administrator sees the channel down, since when, the next try, the waiting mail.
                page = admin_page(client, rt)
                assert page.status_code == 200
                banner = re.search(r'id="channel-paused-email">([^<]*)<', page.text)
                assert banner, page.text
                assert banner.group(1).startswith(
                    "Máy chủ thư không phản hồi hoặc báo lỗi từ 09:00 02/03/2026, đã tạm dừng gửi; "
                )
                assert re.search(
                    r"thử lại (lúc \d\d:\d\d 0[45]/03/2026|ở lượt gửi kế tiếp)\.$", banner.group(1)
                )
                channels = page.text[page.text.index('id="delivery-channels"') :]
                row = channels[: channels.index("</tr>", channels.index("<tbody>"))]
                assert "Tạm dừng gửi" in row and "<td>6</td>" in row and "421" in row
                waiting = page.text[page.text.index('id="waiting-deliveries"') :]
                waiting = waiting[: waiting.index("</table>")]
                assert waiting.count("Khi kênh gửi hoạt động lại") == 6  # not a time that will not hold
                english = client.get("/admin/deliveries?lang=en").text
                assert (
                    "The mail server has not responded or has answered with errors since 09:00 02/03/2026"
                    in (english)
                )
            travel.shift(step)
            instant += step
    rows = deliveries(rt)
    assert {d.status for d in rows} == {"dead"}
    assert all(age(d, seen_dead_at[d.id]) >= timedelta(hours=72) for d in rows)
    assert all("paused" in d.last_error or "421" in d.last_error for d in rows)
    # Four days, one try at most every 30 minutes: the breaker held.
    assert down.connections <= 4 * 24 * 2 + 8
    assert max(d.attempts for d in rows) <= 40


def test_two_workers_try_a_paused_channel_once(rt, down):
    queue(rt, "dossier_submitted", people(rt, 8))
    with time_machine.travel(START, tick=False) as travel:
        dispatch(rt)  # five failures: the mail server's channel is paused
        before = down.connections
        travel.shift(timedelta(minutes=2))  # its try is due
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait()
                send_due(rt, batch=2)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert down.connections - before == 1
    assert sum(d.attempts for d in deliveries(rt)) == 5 + 1


# -- a partner down -------------------------------------------------------------------------------------


def partner(rt: Runtime, receiver: Receiver, name: str) -> int:
    with transaction(rt.engine) as session:
        taken = len(session.exec(select(User.id)).all())
        admin = User(
            email=f"quantri{taken}@so.gov.vn", password_hash="x", full_name="Quản trị", roles=["admin"]
        )
        session.add(admin)
    hook = admin_commands.create_webhook(
        rt, admin, name=name, url=receiver.url, event_types=["dossier_received"], purpose="partner"
    )
    assert hook.id is not None
    return hook.id


def test_each_webhook_has_its_own_breaker(client, rt, receiver):
    failing = Receiver().start()
    try:
        partner(rt, failing, "Chi cục Hải quan Lao Bảo")
        partner(rt, receiver, "Chi cục Quản lý thị trường")
        failing.fail_next(10**6)  # HTTP 500 to everything
        with time_machine.travel(START, tick=False) as travel:
            queue(rt, "dossier_received", people(rt, 12))
            for _ in range(20):
                dispatch(rt)
                travel.shift(TICK)
            # The working partner got every message; the failing one five, then one try now and then.
            assert len(receiver.accepted) == 12
            assert len(failing.requests) <= 5 + 5
            page = admin_page(client, rt)
            assert (
                "Hệ thống đối tác Chi cục Hải quan Lao Bảo không phản hồi hoặc báo lỗi từ 09:00 02/03/2026"
                in (page.text)
            )
            assert "Chi cục Quản lý thị trường" not in "".join(
                re.findall(r'id="channel-paused-[^"]*">[^<]*', page.text)
            )
            failing.fail_next(0)  # back
            for _ in range(40):
                dispatch(rt)
                travel.shift(TICK)
        assert len(failing.accepted) == 12
        assert len({r.json["id"] for r in failing.accepted}) == 12
        assert {d.status for d in deliveries(rt, "webhook")} == {"sent"}
    finally:
        failing.stop()


# -- sending again, in bulk -----------------------------------------------------------------------------


def bulk_form(page_text: str) -> dict[str, str]:
    form = page_text[page_text.index('id="dead-retry-all"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_sending_again_in_bulk_requeues_exactly_the_filtered_dead_messages_and_delivers_them_once(
    client, rt, down, receiver
):
    # Dead letters made the real way: the mail server down past a short retry age (1 hour).
    worker = build_runtime(rt.settings.model_copy(update={"delivery_max_age_hours": 1}))
    try:
        _bulk(client, rt, worker, down, receiver)
    finally:
        worker.engine.dispose()


def _bulk(client, rt: Runtime, worker: Runtime, down: DownSmtp, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    partner(rt, receiver, "Chi cục Hải quan Lao Bảo")
    receiver.stop()
    first_day = people(rt, 205)
    others = people(rt, 3, prefix="khac")
    with time_machine.travel(START, tick=False) as travel:
        queue(rt, "dossier_submitted", first_day)
        queue(rt, "dossier_received", others[:1])  # e-mail and the partner's webhook
        for _ in range(15):
            dispatch(worker)
            travel.shift(timedelta(minutes=10))
        travel.move_to(local(2026, 3, 3, 9, 0))
        queue(rt, "dossier_submitted", others[1:])
        for _ in range(15):
            dispatch(worker)
            travel.shift(timedelta(minutes=10))
        rows = deliveries(rt)
        assert len(rows) == 205 + 3 + 1 and {d.status for d in rows} == {"dead"}

        down.stop()
        controller, sink = mail_back_on(down.port)
        receiver.start()
        try:
            wanted = "/admin/deliveries?channel=email&event_type=dossier_submitted&since=2026-03-02&until=02/03/2026"
            page = admin_page(client, rt, wanted)
            assert page.status_code == 200
            assert "205 thông báo gửi không thành công khớp bộ lọc." in page.text
            assert page.text.count('/retry" class="inline-form"') == 100  # one page of them
            form = bulk_form(page.text)
            assert form.pop("csrf_token")
            assert form == {
                "channel": "email",
                "event_type": "dossier_submitted",
                "since": "2026-03-02",
                "until": "2026-03-02",
            }
            done = client.post("/admin/deliveries/retry", data={**bulk_form(page.text)})
            assert done.status_code == 200, done.text
            assert "Đã đưa 205 thông báo vào hàng đợi gửi lại." in done.text
            again = client.post("/admin/deliveries/retry", data={**bulk_form(page.text)})
            assert "Không có thông báo gửi lỗi nào khớp bộ lọc." in again.text

            requeued = {d.id for d in deliveries(rt) if d.status == "pending"}
            assert len(requeued) == 205
            with reading(rt.engine) as session:
                addresses = set(session.exec(select(User.email).where(User.id.in_(first_day))).all())
            assert {d.recipient for d in deliveries(rt) if d.id in requeued} == addresses
            left = [d for d in deliveries(rt) if d.id not in requeued]
            assert len(left) == 4 and {d.status for d in left} == {"dead"}

            for _ in range(40):  # the paused channel's next try, then everything
                dispatch(worker)
                travel.shift(TICK)
        finally:
            controller.stop()  # type: ignore[attr-defined]
    arrivals = Counter(m.message_id for m in sink.mails)
    assert len(arrivals) == 205 and set(arrivals.values()) == {1}
    assert {d.status for d in deliveries(rt) if d.id in requeued} == {"sent"}
    assert {d.status for d in deliveries(rt) if d.id not in requeued} == {"dead"}
    assert receiver.requests == []  # the partner's dead message was not in the filter
    with reading(rt.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "deliveries_requeued")).all()
    assert event.stream == "channel:email" and event.actor_id is not None
    assert event.details == {
        "channel": "email",
        "event_type": "dossier_submitted",
        "since": "2026-03-02",
        "until": "2026-03-02",
        "count": 205,
    }


def test_only_an_administrator_sends_again_and_a_bad_filter_is_refused_naming_its_field(client, rt, down):
    with transaction(rt.engine) as session:
        session.add(
            User(email="khong-co@cty.vn", password_hash="x", full_name="Hồ Thị Lan", roles=["business"])
        )
    down.stop()
    controller, mail = start_smtp(down.port)
    try:
        mail.unknown.add("khong-co@cty.vn")
        with reading(rt.engine) as session:
            someone = session.exec(select(User.id).where(User.email == "khong-co@cty.vn")).one()
        queue(rt, "dossier_submitted", [someone])
        dispatch(rt)  # 550: dead at once
    finally:
        controller.stop()  # type: ignore[attr-defined]
    (dead,) = deliveries(rt)
    assert dead.status == "dead"
    form = {"channel": "email", "event_type": "", "since": "", "until": ""}

    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    token = csrf(client.get("/work/inbox").text)
    assert client.get("/admin/deliveries").status_code == 403
    assert client.post("/admin/deliveries/retry", data={**form, "csrf_token": token}).status_code == 403
    client.cookies.clear()
    anonymous = client.post("/admin/deliveries/retry", data=form, follow_redirects=False)
    assert anonymous.status_code in (303, 403)
    assert deliveries(rt)[0].status == "dead"

    page = admin_page(client, rt)
    token = csrf(page.text)
    assert client.post("/admin/deliveries/retry", data=form).status_code == 403  # no CSRF token
    cases = [
        ("channel", {"channel": ""}, "Chọn một kênh."),
        ("channel", {"channel": "webhook:999"}, "Kênh không hợp lệ."),
        ("event_type", {"event_type": "no_such_event"}, "Loại sự kiện không hợp lệ."),
        ("since", {"since": "31/02/2026"}, "Nhập ngày theo dạng dd/mm/yyyy."),
        ("until", {"until": "1/1/99999999999999999999"}, "Nhập ngày theo dạng dd/mm/yyyy."),
        ("until", {"since": "2026-03-05", "until": "2026-03-02"}, "Ngày kết thúc phải sau ngày bắt đầu."),
    ]
    for name, change, message in cases:
        refused = client.post("/admin/deliveries/retry", data={**form, **change, "csrf_token": token})
        assert refused.status_code == 422, change
        assert f'id="e-{name}" role="alert">{message}<' in refused.text, change
    english = client.post(
        "/admin/deliveries/retry?lang=en", data={**form, "channel": "", "csrf_token": token}
    )
    assert english.status_code == 422 and 'id="e-channel" role="alert">Choose a channel.<' in english.text
    bad_day = client.get("/admin/deliveries?lang=vi&since=hôm-qua")
    assert bad_day.status_code == 422 and "Nhập ngày theo dạng dd/mm/yyyy." in bad_day.text
    assert deliveries(rt)[0].status == "dead"

    done = client.post("/admin/deliveries/retry", data={**form, "csrf_token": token})
    assert done.status_code == 200 and "Đã đưa 1 thông báo vào hàng đợi gửi lại." in done.text
    assert deliveries(rt)[0].status == "pending"
