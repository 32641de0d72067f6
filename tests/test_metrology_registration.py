"""Registering the instruments in use (issue 18), as their users meet it: a business registers its
own by its verified tax code and corrects it until the first verification, after which only an
officer may; the same instrument is not registered twice and a body's later report attaches to
it; an officer registers a household's scale on the pages and finds it typed without tones; an
instrument never verified is warned of once, after its grace of working days, and the warning
closes once a verification is reported. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import select

from tests.metrology_support import body_key, reported, send, shown, sign_in, taxi, verified_business
from tests.support import Person, business, error_of, fields_of, local, officer
from tests.test_pages import csrf
from workflows.audit import verify_stream
from workflows.calendar import get_calendar
from workflows.db import reading
from workflows.metrology import alerts
from workflows.metrology.models import ViolationWarning
from workflows.metrology.unverified import grace_end, last_day_due
from workflows.models import AuditEvent
from workflows.outbox import OutboxEvent

# A Monday with no holiday in the next five weeks: 20 working days after it is Monday 29/06/2026.
NOW = local(2026, 6, 1, 9, 0)
OWN = {
    "kind": "taximeter",
    "model": " tx-200 ",  # as a person types it: the report's "TX-200" is the same instrument
    "approval_mark": "PDM 123-2022",
    "serial_number": "sn-0001",
    "measuring_range": "0–9999,9 km",
    "accuracy_class": "±1 %",
    "commune": "Phường Đông Hà",
    "address": "12 Lê Duẩn",
    "purpose": "Tính tiền cước taxi",
}


def patch(person: Person, path: str, body: dict[str, Any]) -> Any:
    return person.client.patch(path, headers=person.headers, json=body)


@pytest.fixture
def at_monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as travel:
        yield travel


def test_a_business_registers_its_instrument_a_report_attaches_to_it_and_then_only_an_officer_corrects(
    client, rt, at_monday
):
    clerk = officer(client, rt, "clerk")
    specialist = officer(client, rt, "specialist")
    key = body_key(client, officer(client, rt, "admin"))
    unverified = business(client, "Công ty Chưa Xác Minh")
    error_of(unverified.post("/api/metrology/instruments", json=OWN), 403, "tax_code_unverified")
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")

    created = firm.post("/api/metrology/instruments", json=OWN)
    assert created.status_code == 201, created.text
    instrument = created.json()
    assert (instrument["model"], instrument["serial_number"], instrument["version"]) == (
        "TX-200",
        "SN-0001",
        1,
    )
    assert instrument["status"] == "never_verified"
    assert instrument["status_label"] == {"vi": "Chưa được kiểm định", "en": "Never verified"}
    mine = firm.get("/api/metrology/my-instruments").json()
    assert [i["id"] for i in mine["items"]] == [instrument["id"]]

    # Registered twice (whoever tries), or with what the form lacks: refused, naming the fields.
    twice = error_of(specialist.post("/api/metrology/instruments", json={**OWN, "owner_type": "business",
                     "owner_tax_code": firm.tax_code, "owner_name": "X"}), 409, "instrument_registered")  # fmt: skip
    assert set(fields_of(twice)) == {"kind", "model", "serial_number"}
    lacking = error_of(
        firm.post(
            "/api/metrology/instruments", json={**OWN, "kind": "abacus", "commune": " ", "owner_name": "Y"}
        ),
        422,
        "validation_error",
    )
    assert set(fields_of(lacking)) == {"kind", "commune", "owner_name"}
    assert fields_of(lacking)["commune"]["message_en"] == "This field is required."
    error_of(clerk.post("/api/metrology/instruments", json=OWN), 403, "forbidden")

    # The owner corrects it; a correction made on the version it read before is refused.
    path = f"/api/metrology/instruments/{instrument['id']}"
    moved = patch(firm, path, {"version": 1, "commune": "Phường Quảng Trị", "address": "5 Trần Hưng Đạo"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["commune"], moved.json()["version"]) == ("Phường Quảng Trị", 2)
    error_of(patch(firm, path, {"version": 1, "purpose": "Khác"}), 409, "stale_instrument")
    other = verified_business(client, rt, clerk, "Công ty Vận tải Khác")
    error_of(patch(other, path, {"version": 2, "purpose": "Khác"}), 404, "not_found")

    # A body reports its verification: it lands on the registered instrument, no second one.
    answer = reported(client, key, owner_tax_code=firm.tax_code, commune="Phường Quảng Trị")
    assert answer["instrument_id"] == instrument["id"]
    assert answer["stamp_url"] == f"{rt.settings.base_url.rstrip('/')}/stamps/qr/{answer['stamp_token']}"
    on_stamp = client.get(urlsplit(answer["stamp_url"]).path)
    assert "Còn hiệu lực kiểm định đến 19/11/2027" in shown(on_stamp.text)
    failed = send(client, key, taxi(serial_number="SN-9", certificate_number="GCN-9", stamp_number="",
                                    result="fail", valid_until="", owner_tax_code=firm.tax_code))  # fmt: skip
    assert failed.json()["stamp_url"] is None  # no stamp to print
    mine = firm.get("/api/metrology/my-instruments").json()
    assert mine["total"] == 2 and mine["items"][0]["status"] == "verified"

    # Verified now: the owner may no longer correct it, an officer may, on the report's version
    # (the report changed its owner's fields: a correction made on the view before it is stale).
    error_of(patch(firm, path, {"version": 3, "purpose": "Khác"}), 403, "instrument_verified")
    error_of(patch(specialist, path, {"version": 2, "accuracy_class": "±0,5 %"}), 409, "stale_instrument")
    fixed = patch(specialist, path, {"version": 3, "accuracy_class": "±0,5 %"})
    assert fixed.status_code == 200, fixed.text
    history = specialist.get(path).json()["history"]
    assert [(e["action"], e["details"].get("by")) for e in history] == [
        ("instrument_registered", "owner"),
        ("instrument_corrected", "owner"),
        ("instrument_updated", None),  # the report's owner and place are the newer facts
        ("verification_reported", None),
        ("instrument_corrected", "officer"),
    ]
    assert history[1]["details"]["after"] == {"address": "5 Trần Hưng Đạo", "commune": "Phường Quảng Trị"}
    with reading(rt.engine) as session:
        assert verify_stream(session, f"instrument:{instrument['id']}") is None


def test_an_officer_registers_a_households_scale_on_the_page_and_finds_it_typed_without_tones(
    client, rt, at_monday
):
    specialist = officer(client, rt, "specialist")
    sign_in(client, specialist)
    form = client.get("/work/instruments")
    assert "Đăng ký phương tiện đo đang sử dụng" in shown(form.text)
    scale = {
        "kind": "spring_scale",
        "model": "Nhơn Hoà 30kg",
        "serial_number": "A-77",
        "commune": "Xã Cam Lộ",
        "owner_type": "household",
        "owner_name": "Trần Thị Bé",
        "csrf_token": csrf(form.text),
    }
    lacking = client.post("/work/instruments", data=scale, follow_redirects=False)
    assert lacking.status_code == 422
    assert "Cần địa chỉ của hộ, cá nhân sử dụng phương tiện đo." in shown(lacking.text)
    assert 'value="Trần Thị Bé"' in lacking.text  # what was typed comes back
    done = client.post(
        "/work/instruments", data={**scale, "address": "Sạp 14 chợ Cam Lộ"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    page = shown(client.get(done.headers["location"]).text)
    assert "NHƠN HOÀ 30KG" in page and "Chưa được kiểm định" in page
    assert "Đăng ký phương tiện đo (" in page  # by whom, in its history
    form = client.get(done.headers["location"]).text
    corrected = {**scale, "address": "Sạp 15 chợ Cam Lộ", "version": "1", "csrf_token": csrf(form)}
    saved = client.post(done.headers["location"], data=corrected, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = shown(client.get(saved.headers["location"]).text)
    assert "Đã lưu thông tin đăng ký." in page and "Sạp 15 chợ Cam Lộ" in page
    assert "Sửa thông tin đăng ký: address (" in page
    stale = client.post(
        done.headers["location"], data={**corrected, "address": "Nơi khác"}, follow_redirects=False
    )
    assert stale.status_code == 409
    assert "Thông tin phương tiện đo đã được người khác cập nhật; hãy tải lại." in shown(stale.text)

    for typed in ("tran thi be", "NHON HOA", "cam lo"):
        found = shown(client.get("/work/instruments", params={"q": typed}).text)
        assert "A-77" in found, typed
    assert "A-77" not in shown(client.get("/work/instruments", params={"q": "dong ha"}).text)

    clerk = officer(client, rt, "clerk")
    sign_in(client, clerk)  # reads the list, registers nothing
    listed = client.get("/work/instruments")
    assert listed.status_code == 200 and "Đăng ký phương tiện đo đang sử dụng" not in shown(listed.text)
    assert (
        client.post("/work/instruments", data={**scale, "csrf_token": csrf(listed.text)}).status_code == 403
    )

    firm = verified_business(
        client, rt, officer(client, rt, "clerk", name="Cán bộ hai"), "Công ty Cân Đông Hà"
    )
    sign_in(client, firm)
    own = client.get("/my/instruments")
    registered = client.post(
        "/my/instruments",
        data={
            "kind": "platform_scale",
            "model": "CB-1",
            "serial_number": "P-1",
            "commune": "Phường Đông Hà",
            "csrf_token": csrf(own.text),
        },
        follow_redirects=False,
    )
    assert registered.status_code == 303
    listed = shown(client.get(registered.headers["location"]).text)
    assert "Đã đăng ký phương tiện đo." in listed and "P-1" in listed
    english = shown(client.get("/my/instruments", params={"lang": "en"}).text)
    assert "Register an instrument in use" in english


def _warned(rt: Any) -> list[dict[str, Any]]:
    with reading(rt.engine) as session:
        events = session.exec(select(OutboxEvent).where(OutboxEvent.type == alerts.WARNING_EVENT)).all()
        return [e.payload for e in events]


def test_an_instrument_never_verified_is_warned_of_once_after_its_grace_and_settled_by_a_verification(
    client, rt, at_monday
):
    clerk = officer(client, rt, "clerk")
    specialist = officer(client, rt, "specialist")
    key = body_key(client, officer(client, rt, "admin"))
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Hoà Bình")
    late = firm.post("/api/metrology/instruments", json=OWN).json()
    on_time = firm.post("/api/metrology/instruments", json={**OWN, "serial_number": "SN-2"}).json()
    at_monday.move_to(local(2026, 6, 10, 9, 0))
    reported(client, key, serial_number="SN-2", owner_tax_code=firm.tax_code)

    at_monday.move_to(local(2026, 6, 29, 7, 25))  # the grace's last day (20 working days)
    assert alerts.sweep(rt).opened == 0
    at_monday.move_to(local(2026, 6, 30, 7, 25))
    assert alerts.sweep(rt).opened == 1
    assert alerts.sweep(rt).opened == 0  # once
    listed = specialist.get("/api/metrology/warnings", params={"cause": "unverified"}).json()
    assert listed["total"] == 1
    warning = listed["items"][0]
    assert (warning["instrument_id"], warning["since"], warning["days"]) == (late["id"], "30/06/2026", 0)
    assert warning["cause_label"] == {
        "vi": "Đã đăng ký nhưng chưa kiểm định",
        "en": "Registered but never verified",
    }
    assert on_time["id"] not in [w["instrument_id"] for w in listed["items"]]
    told = [p for p in _warned(rt) if p["cause"] == "unverified"]
    assert [(p["instrument_id"], p["cause_en"], p["since"]) for p in told] == [
        (late["id"], "Registered but never verified", "30/06/2026")
    ]
    planned = specialist.post(
        f"/api/metrology/warnings/{warning['id']}/actions", json={"action": "contact_owner", "version": 1}
    )
    assert planned.status_code == 200 and planned.json()["state"] == "owner_contacted"

    at_monday.move_to(local(2026, 7, 1, 9, 0))
    reported(client, key, certificate_number="GCN-LATE", stamp_number="T-LATE", verified_on="01/07/2026",
             owner_tax_code=firm.tax_code)  # fmt: skip
    assert alerts.sweep(rt).settled == 1
    closed = specialist.get("/api/metrology/warnings", params={"closed": True, "cause": "unverified"}).json()
    assert closed["items"][0]["closed_reason"] == "Đã có kết quả kiểm định / A verification was reported"
    assert specialist.get("/api/metrology/warnings", params={"cause": "unverified"}).json()["total"] == 0


def test_the_grace_counts_working_days_only():
    calendar = get_calendar()
    assert grace_end(calendar, date(2026, 6, 26), 1) == date(2026, 6, 29)  # a Friday: the Monday
    # 30/04 and 01/05 are public holidays, then a weekend: one working day after 29/04 is 04/05.
    assert grace_end(calendar, date(2026, 4, 29), 1) == date(2026, 5, 4)
    # On 05/05 every instrument registered up to 03/05 (grace ended 04/05) is due, none later.
    assert last_day_due(calendar, date(2026, 5, 5), 1) == date(2026, 5, 3)
    assert grace_end(calendar, date(2026, 5, 4), 1) == date(2026, 5, 5)


def test_a_first_sweep_over_many_never_verified_instruments_opens_their_warnings_in_sets(
    client, rt, at_monday
):
    """A registry filled at once (a bulk registration) must not cost the sweep one statement per
    instrument: the warnings, their audit events and their announcements are written in sets,
    each audited with its grace as before."""
    clerk = officer(client, rt, "clerk")
    firm = verified_business(client, rt, clerk, "Công ty TNHH Taxi Đông Hà")
    registered = [
        firm.post("/api/metrology/instruments", json={**OWN, "serial_number": f"SN-{n}"}).json()["id"]
        for n in range(12)
    ]
    at_monday.move_to(local(2026, 6, 30, 7, 25))
    inserts: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO METROLOGY_WARNING"):
            inserts.append(statement)

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        assert alerts.sweep(rt).opened == 12
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    assert len(inserts) == 1, inserts
    assert alerts.sweep(rt).opened == 0  # once
    with reading(rt.engine) as session:
        warned = session.exec(
            select(ViolationWarning.instrument_id, ViolationWarning.since).where(
                ViolationWarning.cause == "unverified"
            )
        ).all()
        assert sorted(warned) == [(i, date(2026, 6, 30)) for i in registered]
        stream = f"instrument:{registered[0]}"
        [opened] = [e for e in session.exec(select(AuditEvent).where(AuditEvent.stream == stream)).all()
                    if e.action == "warning_opened"]  # fmt: skip
        assert opened.details["grace_ended"] == "2026-06-29" and opened.details["grace_working_days"] == 20
        assert verify_stream(session, stream) is None


def test_the_officers_search_takes_quotes_backslashes_and_wildcards_as_text(client, rt, at_monday):
    """The search words are written into the statement (so each search is planned for its own
    words): a quote, a backslash, % or _ typed must match themselves, never break the query."""
    specialist = officer(client, rt, "specialist")
    firm = verified_business(client, rt, officer(client, rt, "clerk"), "Công ty TNHH O'Hara")
    odd = {**OWN, "serial_number": "AB_1%", "address": "Kho 5\\6 'Lê Lợi'"}
    created = firm.post("/api/metrology/instruments", json=odd)
    assert created.status_code == 201, created.text
    firm.post("/api/metrology/instruments", json={**OWN, "serial_number": "ABX1Z"})
    sign_in(client, specialist)
    for typed, found in (
        ("ab_1%", True),
        ("o'hara", True),
        ("5\\6", True),
        ("'le loi'", True),
        ("ab%1", False),
    ):
        page = client.get("/work/instruments", params={"q": typed})
        assert page.status_code == 200, typed
        assert ("AB_1%" in shown(page.text)) is found, typed
        assert "ABX1Z" not in shown(page.text) or typed == "o'hara", typed
