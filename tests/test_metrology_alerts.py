"""The metrology database's alerts and warnings (issue 18), as their users meet them: a business is
e-mailed N working days before a verification ends, once; the daily sweep puts the instruments used
past their verification and those that failed on the officers' warning list, longest-standing
first, and tells the partner webhook (market surveillance); an owner or an officer reports a stamp
lost; a specialist or leader handles each warning, audited, and a stale view is refused. On SQLite
and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from sqlmodel import func, select

from notifications import admin_commands
from notifications.digest import send_digest
from notifications.dispatcher import fan_out
from notifications.models import Delivery
from tests.metrology_support import body_key, reported, send, taxi, verified_business
from tests.support import Person, business, error_of, local, officer
from workflows.audit import verify_stream
from workflows.db import reading
from workflows.metrology import alerts
from workflows.models import AuditEvent, User
from workflows.outbox import OutboxEvent

# A Monday. Ten working days after it (the default reminder) is Monday 15/06/2026; ten calendar
# days would be Thursday 11/06.
NOW = local(2026, 6, 1, 9, 0)


@pytest.fixture
def at_monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def user_of(rt: Any, person: Person) -> User:
    with reading(rt.engine) as session:
        found = session.exec(select(User).where(User.email == person.email)).one()
        session.expunge(found)
        return found


def deliveries(rt: Any, **where: Any) -> list[Delivery]:
    fan_out(rt)
    with reading(rt.engine) as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.exec(query).all())


def test_the_owner_is_reminded_ten_working_days_before_the_end_once(client, rt, at_monday):
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    key = body_key(client, admin)
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")
    own = {"owner_tax_code": firm.tax_code, "owner_name": "Công ty TNHH Taxi Hoà Bình"}
    reported(client, key, serial_number="SN-A", certificate_number="GCN-A", stamp_number="T-A",
             valid_until="15/06/2026", **own)  # fmt: skip
    reported(client, key, serial_number="SN-B", certificate_number="GCN-B", stamp_number="T-B",
             valid_until="16/06/2026", **own)  # fmt: skip
    # No account holds the tax code 3200765001; a household has none: nobody to remind.
    reported(client, key, serial_number="SN-C", certificate_number="GCN-C", stamp_number="T-C",
             valid_until="05/06/2026", owner_tax_code="3200765001")  # fmt: skip
    reported(client, key, serial_number="SN-H", certificate_number="GCN-H", stamp_number="T-H",
             valid_until="05/06/2026", owner_type="household", owner_name="Hộ bà Lê Thị Hoa")  # fmt: skip

    assert alerts.sweep(rt).reminded == 1
    mails = deliveries(rt, channel="email", recipient=firm.email)
    reminders = [m for m in mails if "kiểm định" in m.subject and "SN-" in m.subject]
    assert [m.subject for m in reminders] == [
        "Phương tiện đo SN-A sắp hết hạn kiểm định (15/06/2026) | Verification ending 15/06/2026"
    ]
    text = reminders[0].body_text
    assert text.index("Taximet, kiểu TX-200, số SN-A (tem T-A)") < text.index("Taxi meter, model TX-200")
    assert "không quá 10 ngày làm việc" in text
    inapp = firm.get("/api/notifications").json()
    assert {
        "vi": "Sắp hết hạn kiểm định: Taximet SN-A",
        "en": "Verification ending soon: Taxi meter SN-A",
    } in [n["title"] for n in inapp["items"]]

    # A second sweep the same day (a restart, the hourly run): nothing new.
    assert alerts.sweep(rt).reminded == 0
    at_monday.move_to(local(2026, 6, 1, 17, 0))
    assert alerts.sweep(rt).reminded == 0
    # The next day SN-B's end is ten working days away.
    at_monday.move_to(local(2026, 6, 2, 7, 0))
    assert alerts.sweep(rt).reminded == 1
    after = [m.subject for m in deliveries(rt, channel="email", recipient=firm.email) if "SN-" in m.subject]
    assert len(after) == 2 and "SN-B" in after[1] and "16/06/2026" in after[1]


def test_a_day_off_moves_the_reminder_earlier(client, rt, at_monday):
    """Working days are the calendar's: a day off the administrator adds inside the window brings
    the reminder one day sooner."""
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    key = body_key(client, admin)
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")
    reported(client, key, serial_number="SN-B", certificate_number="GCN-B", stamp_number="T-B",
             valid_until="16/06/2026", owner_tax_code=firm.tax_code)  # fmt: skip
    assert alerts.sweep(rt).reminded == 0
    change = {
        "action": "add",
        "day": "05/06/2026",
        "kind": "day_off",
        "name": "Nghỉ lễ tỉnh",
        "decided_by": "Quyết định 99/QĐ-UBND ngày 20/05/2026 của UBND tỉnh Quảng Trị",
    }
    preview = admin.post("/api/admin/calendar/changes/preview", json=change)
    assert preview.status_code == 200, preview.text
    applied = admin.post("/api/admin/calendar/changes", json={**change, "token": preview.json()["token"]})
    assert applied.status_code == 200, applied.text
    assert alerts.sweep(rt).reminded == 1
    subjects = [m.subject for m in deliveries(rt, channel="email", recipient=firm.email)]
    assert any("SN-B" in s and "16/06/2026" in s for s in subjects), subjects


def _fleet(client: Any, rt: Any) -> dict[str, Any]:
    """A verification body's key, a verified business and its instruments: one overdue since
    01/12/2025 (Đông Hà), one that failed on 20/05/2026 (Cam Lộ), one valid (Đông Hà)."""
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    key = body_key(client, admin)
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")
    own = {"owner_tax_code": firm.tax_code, "owner_name": "Công ty TNHH Taxi Hoà Bình"}
    overdue = reported(client, key, serial_number="SN-OLD", certificate_number="GCN-OLD", stamp_number="T-OLD",
                       verified_on="01/06/2024", valid_until="30/11/2025", **own)  # fmt: skip
    failed = reported(client, key, kind="platform_scale", model="CB-60", serial_number="SN-FAIL",
                      certificate_number="GCN-FAIL", stamp_number="", verified_on="20/05/2026",
                      result="fail", valid_until="", commune="Xã Cam Lộ", **own)  # fmt: skip
    valid = reported(client, key, serial_number="SN-OK", certificate_number="GCN-OK", stamp_number="T-OK",
                     valid_until="19/11/2027", **own)  # fmt: skip
    return {"admin": admin, "clerk": clerk, "key": key, "firm": firm, "overdue": overdue, "failed": failed,
            "valid": valid}  # fmt: skip


def test_the_sweep_lists_violations_longest_first_and_tells_market_surveillance_once(client, rt, at_monday):
    fleet = _fleet(client, rt)
    hook = admin_commands.create_webhook(
        rt,
        user_of(rt, fleet["admin"]),
        name="Chi cục Quản lý thị trường",
        url="https://qltt.example.vn/hooks/tdc",
        event_types=["metrology_warning_opened"],
        purpose="partner",
        secret="s" * 32,
    )
    specialist = officer(client, rt, "specialist")
    assert specialist.get("/api/metrology/warnings").json() == {"items": [], "total": 0}

    report = alerts.sweep(rt)
    assert (report.opened, report.settled) == (2, 0)
    listed = specialist.get("/api/metrology/warnings").json()
    assert listed["total"] == 2
    first, second = listed["items"]
    assert (first["serial_number"], first["cause"], first["since"], first["days"]) == (
        "SN-OLD",
        "overdue",
        "01/12/2025",
        182,
    )
    assert first["cause_label"] == {"vi": "Quá hạn kiểm định", "en": "Used past the end of its verification"}
    assert first["state"] == "open" and first["version"] == 1
    assert (second["serial_number"], second["cause"], second["since"], second["days"]) == (
        "SN-FAIL",
        "failed",
        "20/05/2026",
        12,
    )
    assert second["kind_label"] == {"vi": "Cân bàn", "en": "Platform scale"}
    # Filtered by kind and by commune (extra spaces do not matter).
    by_kind = specialist.get("/api/metrology/warnings", params={"kind": "platform_scale"}).json()
    assert [w["serial_number"] for w in by_kind["items"]] == ["SN-FAIL"]
    by_commune = specialist.get("/api/metrology/warnings", params={"commune": " Phường  Đông Hà "}).json()
    assert [w["serial_number"] for w in by_commune["items"]] == ["SN-OLD"]
    by_cause = specialist.get("/api/metrology/warnings", params={"cause": "stamp_lost"}).json()
    assert by_cause["total"] == 0

    # Market surveillance's webhook heard of each new warning, once, without a household's name.
    assert alerts.sweep(rt).opened == 0
    at_monday.move_to(local(2026, 6, 2, 7, 25))
    assert alerts.sweep(rt).opened == 0
    sent = deliveries(rt, channel="webhook", webhook_id=hook.id)
    assert len(sent) == 2
    assert all(d.subject == "metrology_warning_opened" for d in sent)
    assert '"serial_number": "SN-OLD"' in sent[0].body_text or '"serial_number":"SN-OLD"' in sent[0].body_text
    # Officers are not e-mailed one message per warning: the list is where they read them.
    assert deliveries(rt, channel="email", recipient=specialist.email) == []


def test_a_warning_is_handled_audited_and_a_stale_view_is_refused(client, rt, at_monday):
    fleet = _fleet(client, rt)
    alerts.sweep(rt)
    specialist = officer(client, rt, "specialist")
    leader = officer(client, rt, "leader")
    warning = specialist.get("/api/metrology/warnings").json()["items"][0]
    path = f"/api/metrology/warnings/{warning['id']}/actions"

    planned = specialist.post(
        path, json={"action": "plan_inspection", "version": 1, "note": "Kiểm tra 10/06/2026"}
    )
    assert planned.status_code == 200, planned.text
    assert planned.json()["state"] == "inspection_planned" and planned.json()["version"] == 2
    assert planned.json()["state_label"] == {"vi": "Đã lên kế hoạch kiểm tra", "en": "Inspection planned"}
    # The leader acts on the list read before that change: refused, nothing overwritten.
    error_of(leader.post(path, json={"action": "contact_owner", "version": 1}), 409, "stale_warning")
    contacted = leader.post(path, json={"action": "contact_owner", "version": 2, "note": "Gọi điện 02/06"})
    assert contacted.status_code == 200 and contacted.json()["state"] == "owner_contacted"
    error_of(leader.post(path, json={"action": "close", "version": 3, "note": "  "}), 422)
    closed = leader.post(path, json={"action": "close", "version": 3, "note": "Đã niêm phong, chờ kiểm định"})
    assert closed.status_code == 200 and closed.json()["closed_reason"] == "Đã niêm phong, chờ kiểm định"
    error_of(specialist.post(path, json={"action": "plan_inspection", "version": 4}), 409, "warning_closed")
    error_of(specialist.post("/api/metrology/warnings/999999/actions", json={"action": "close", "version": 1,
                                                                           "note": "x"}), 404)  # fmt: skip

    still_open = specialist.get("/api/metrology/warnings").json()
    assert [w["serial_number"] for w in still_open["items"]] == ["SN-FAIL"]
    gone = specialist.get("/api/metrology/warnings", params={"closed": "true"}).json()
    assert [w["serial_number"] for w in gone["items"]] == ["SN-OLD"]
    # A closed warning is not reopened by the next sweep: its verification is the same.
    assert alerts.sweep(rt).opened == 0

    stream = f"instrument:{warning['instrument_id']}"
    history = specialist.get(f"/api/metrology/instruments/{warning['instrument_id']}").json()["history"]
    actions = [
        (h["action"], h["details"].get("note", "")) for h in history if h["action"].startswith("warning_")
    ]
    assert actions == [
        ("warning_opened", ""),
        ("warning_inspection_planned", "Kiểm tra 10/06/2026"),
        ("warning_owner_contacted", "Gọi điện 02/06"),
        ("warning_closed", "Đã niêm phong, chờ kiểm định"),
    ]
    with reading(rt.engine) as session:
        assert verify_stream(session, stream) is None
        assert session.exec(select(AuditEvent).where(AuditEvent.stream == stream)).first() is not None

    # A new verification of the failed scale settles its warning at the next sweep.
    renewed = send(client, fleet["key"], taxi(kind="platform_scale", model="CB-60", serial_number="SN-FAIL",
                                              certificate_number="GCN-FAIL-2", stamp_number="T-FAIL-2",
                                              verified_on="01/06/2026", valid_until="31/05/2027",
                                              commune="Xã Cam Lộ", owner_tax_code=fleet["firm"].tax_code,
                                              owner_name="Công ty TNHH Taxi Hoà Bình"))  # fmt: skip
    assert renewed.status_code == 201, renewed.text
    assert alerts.sweep(rt).settled == 1
    assert specialist.get("/api/metrology/warnings").json()["total"] == 0


def test_a_stamp_is_reported_lost_by_its_owner_or_an_officer_once(client, rt, at_monday):
    fleet = _fleet(client, rt)
    firm, clerk = fleet["firm"], fleet["clerk"]
    other = verified_business(client, rt, clerk, "Công ty CP Vận tải Khác")
    specialist = officer(client, rt, "specialist")

    # Another business cannot tell whose stamp it is, nor report it.
    error_of(other.post("/api/metrology/stamps/T-OK/lost", json={"note": "x"}), 404, "not_found")
    error_of(clerk.post("/api/metrology/stamps/T-OK/lost", json={}), 403, "forbidden")
    lost = firm.post("/api/metrology/stamps/t-ok/lost", json={"note": "Tem bong tróc khi rửa xe 30/05"})
    assert lost.status_code == 201, lost.text
    assert (lost.json()["cause"], lost.json()["since"], lost.json()["serial_number"]) == (
        "stamp_lost",
        "01/06/2026",
        "SN-OK",
    )
    # Anyone checking the stamp now reads that it proves nothing.
    checked = client.get("/api/public/stamps/T-OK").json()
    assert checked["valid"] is False and checked["lost"] is True and checked["valid_until"] is None
    assert (
        checked["message"]["en"]
        == "This verification stamp was reported lost: it proves no valid verification"
    )
    assert client.get("/api/public/stamps/T-OLD").json()["lost"] is False
    error_of(specialist.post("/api/metrology/stamps/T-OK/lost", json={}), 409, "stamp_already_reported_lost")
    assert specialist.post("/api/metrology/stamps/T-OLD/lost", json={}).status_code == 201
    error_of(specialist.post("/api/metrology/stamps/T-NONE/lost", json={}), 404, "not_found")
    listed = specialist.get("/api/metrology/warnings", params={"cause": "stamp_lost"}).json()
    assert sorted(w["serial_number"] for w in listed["items"]) == ["SN-OK", "SN-OLD"]


def test_two_sweeps_at_once_remind_and_warn_once(client, rt, at_monday):
    """Two schedulers sweeping side by side (the scheduler lock lets one lead; this is the guard
    beneath it): one reminder, one warning each, one event each, whichever commits first."""
    fleet = _fleet(client, rt)
    reported(client, fleet["key"], serial_number="SN-SOON", certificate_number="GCN-SOON", stamp_number="T-SOON",
             valid_until="12/06/2026", owner_tax_code=fleet["firm"].tax_code)  # fmt: skip
    start = threading.Barrier(2)

    def sweep() -> alerts.SweepReport:
        start.wait()
        return alerts.sweep(rt)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: sweep(), range(2)))
    assert sum(r.reminded for r in reports) == 1
    assert sum(r.opened for r in reports) == 2
    with reading(rt.engine) as session:
        events = session.exec(select(OutboxEvent.type, func.count()).group_by(OutboxEvent.type)).all()
        assert {"metrology_expiry_reminder": 1, "metrology_warning_opened": 2}.items() <= dict(events).items()
        opened = session.exec(select(func.count()).where(AuditEvent.action == "warning_opened")).one()
        assert opened == 2


def test_the_digest_of_those_who_handle_warnings_carries_the_metrology_figures(client, rt, at_monday):
    fleet = _fleet(client, rt)
    reported(client, fleet["key"], serial_number="SN-SOON", certificate_number="GCN-SOON", stamp_number="T-SOON",
             valid_until="12/06/2026", owner_tax_code=fleet["firm"].tax_code)  # fmt: skip
    specialist = officer(client, rt, "specialist")
    clerk = fleet["clerk"]
    alerts.sweep(rt)
    at_monday.move_to(local(2026, 6, 2, 7, 0))  # the next day's digest, before that day's sweep
    # Neither has a task: the specialist hears of the figures, the clerk (who does not handle
    # warnings) gets no digest.
    assert send_digest(rt) == 1
    (digest,) = [
        d for d in deliveries(rt, channel="email", recipient=specialist.email) if d.subject.startswith("Việc")
    ]
    assert digest.subject == "Việc cần xử lý ngày 02/06/2026: 0 việc; đo lường: 2 cảnh báo | Daily digest"
    assert (
        "Đo lường: 1 phương tiện đo sắp hết hạn kiểm định, 1 quá hạn kiểm định, 2 cảnh báo vi phạm chưa xử lý xong."
        in digest.body_text
    )
    assert (
        "Metrology: 1 instruments' verifications ending soon, 1 overdue, 2 violation warnings"
        in digest.body_text
    )
    assert not [
        d for d in deliveries(rt, channel="email", recipient=clerk.email) if d.subject.startswith("Việc")
    ]
    assert send_digest(rt) == 0  # once a day


@pytest.mark.parametrize("role", ["clerk", "admin", "business"])
def test_only_specialists_and_leaders_read_and_handle_warnings(client, rt, role):
    person = officer(client, rt, role) if role != "business" else business(client, "Công ty TNHH Chỉ Đọc", rt)
    error_of(person.get("/api/metrology/warnings"), 403, "forbidden")
    error_of(person.post("/api/metrology/warnings/1/actions", json={"action": "close", "version": 1}), 403)
    error_of(client.get("/api/metrology/warnings"), 401)


ODD_FILTERS = [
    {"kind": "'; DROP TABLE x; --"},
    {"commune": "%_\\\x00"},
    {"cause": "other"},
    {"limit": "0"},
    {"offset": "-1"},
    {"closed": "maybe"},
    {"kind": "k" * 41},
]


def test_odd_filters_answer_without_a_server_error(client, rt):
    specialist = officer(client, rt, "specialist")  # one account for every filter: signing in costs
    for params in ODD_FILTERS:
        response = specialist.get("/api/metrology/warnings", params=params)
        assert response.status_code in (200, 422), (params, response.text)
    odd_actions = [
        ("/api/metrology/warnings/1/actions", {"action": "delete", "version": 1}),
        ("/api/metrology/warnings/1/actions", {"action": "close", "version": 10**12, "note": "x"}),
        ("/api/metrology/warnings/1/actions", {"action": "close", "version": "một"}),
        ("/api/metrology/warnings/99999999999999999999/actions", {"action": "close", "version": 1}),
        ("/api/metrology/stamps/%00%25/lost", {"note": "\x00"}),
        ("/api/metrology/stamps/T-1/lost", {"note": "x" * 1001}),
    ]
    for path, body in odd_actions:
        response = specialist.post(path, json=body)
        assert response.status_code in (404, 422), (path, body, response.text)
