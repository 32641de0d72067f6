"""Login throttling (issue 13): growing delays, then a temporary lock-out, per login and per client
address, counted in the database; HTTP 429 with Retry-After before the password is checked, the
right password included; administrators see and lift locks, every lock and lift audited. Before it,
30 wrong passwords in 6 s were all answered 401 and the 31st, right one logged in.

The defaults are the production ones: a login waits 2, 4, 8, 16, 32 s after its 5th … 9th failure
and is locked out for 15 minutes at the 10th; an address waits from its 20th and is locked out at
its 50th. The clock is frozen and moved with time-machine, never slept on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from api.main import create_app
from tests.conftest import make_settings
from tests.support import PASSWORD, business, error_of, officer
from tests.test_pages import csrf
from workflows import accounts, login_throttle
from workflows.db import reading
from workflows.errors import RateLimited
from workflows.models import AuditEvent, LoginCounter
from workflows.runtime import Runtime, build_runtime

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
WRONG = "sai-mat-khau-2026"


def token(client: TestClient, login: str, password: str) -> Any:
    return client.post("/api/auth/token", data={"username": login, "password": password})


def counters(rt: Runtime) -> dict[tuple[str, str], LoginCounter]:
    with reading(rt.engine) as session:
        return {(c.kind, c.key): c for c in session.exec(select(LoginCounter))}


def lock_events(rt: Runtime) -> list[AuditEvent]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.stream == login_throttle.AUDIT_STREAM)
                .order_by(AuditEvent.seq)
            )
        )


@contextmanager
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def fail_until_locked(client: TestClient, traveller: time_machine.Traveller, login: str) -> list[int]:
    """Wrong passwords for ``login``, each as soon as it is allowed (the clock moved by each
    Retry-After), until a lock-out: the waits asked for on the way."""
    waits = []
    for _ in range(200):
        answer = token(client, login, WRONG)
        if answer.status_code == 401:
            continue
        code = error_of(answer, 429)["code"]
        if code == "login_locked":
            return waits
        assert code == "login_delayed"
        waits.append(int(answer.headers["Retry-After"]))
        traveller.shift(waits[-1])
    raise AssertionError("never locked out")


def test_growing_delays_then_a_lock_out_that_refuses_the_right_password(client, rt):
    firm = business(client)
    with frozen() as traveller:
        for _ in range(5):
            error_of(token(client, firm.email, WRONG), 401, "invalid_credentials")
        # The 6th attempt comes too soon: refused before the password is looked at.
        early = token(client, firm.email, PASSWORD)
        error = error_of(early, 429, "login_delayed")
        assert early.headers["Retry-After"] == "2"
        assert "2 giây" in error["message"] and "2 seconds" in error["message_en"]
        traveller.shift(1)
        assert token(client, firm.email, PASSWORD).headers["Retry-After"] == "1"
        traveller.shift(1)
        waits = []
        for _ in range(4):  # the 6th … 9th failures, each as soon as allowed
            error_of(token(client, firm.email, WRONG), 401, "invalid_credentials")
            refused = token(client, firm.email, WRONG)
            error_of(refused, 429, "login_delayed")
            waits.append(int(refused.headers["Retry-After"]))
            traveller.shift(waits[-1])
        assert waits == [4, 8, 16, 32]
        error_of(token(client, firm.email, WRONG), 401, "invalid_credentials")  # the 10th
        # Locked out: the right password gets the same 429 as a wrong one, with the wait.
        for password in (PASSWORD, WRONG):
            locked = token(client, firm.email, password)
            error = error_of(locked, 429, "login_locked")
            assert locked.headers["Retry-After"] == "900"
            assert "15 phút" in error["message"] and "(lúc 09:16 02/03/2026)" in error["message"]
            assert "15 minutes" in error["message_en"]
            assert "access_token" not in locked.text
        traveller.shift(899)
        assert token(client, firm.email, PASSWORD).headers["Retry-After"] == "1"
        traveller.shift(1)
        assert token(client, firm.email, PASSWORD).status_code == 200
    # The success reset the login's counter and forgave its failures at the address.
    assert counters(rt) == {}


def test_thirty_wrong_passwords_in_six_seconds_do_not_let_the_31st_right_one_in(client, rt):
    firm = business(client)
    with frozen() as traveller:
        answers = []
        for _ in range(30):
            answers.append(token(client, firm.email, WRONG).status_code)
            traveller.shift(0.2)
        # Five failures, then a 2 s delay, one more failure, then a 4 s delay outlasting the burst.
        assert answers[:6] == [401] * 5 + [429] and answers.count(401) == 6
        error_of(token(client, firm.email, PASSWORD), 429, "login_delayed")


def test_a_lock_out_is_audited_and_logged(client, rt, caplog):
    firm = business(client)
    with frozen() as traveller, caplog.at_level("WARNING", "tdcflow.login_throttle"):
        fail_until_locked(client, traveller, firm.email)
    [event] = lock_events(rt)
    assert (event.action, event.actor_id, event.actor_label) == ("login_locked", None, "Hệ thống / System")
    assert event.details == {
        "kind": "account",
        "key": firm.email,
        "failures": 10,
        "locked_until": (START + timedelta(seconds=2 + 4 + 8 + 16 + 32 + 900)).isoformat(),
        "address": "testclient",
    }
    assert any("Login locked out: account" in r.getMessage() for r in caplog.records)


def test_an_unknown_login_is_throttled_exactly_like_a_known_one(client, rt):
    firm = business(client)

    def journey(login: str, address: str) -> list[tuple[int, str, str | None]]:
        """17 attempts: to the lock-out, through it, and the failure that locks it again."""
        seen = []
        with TestClient(create_app(rt), client=(address, 40000)) as other, frozen() as traveller:
            for _ in range(17):
                answer = token(other, login, WRONG)
                seen.append((answer.status_code, answer.text, answer.headers.get("Retry-After")))
                if answer.status_code == 429:
                    traveller.shift(int(answer.headers["Retry-After"]))
        return seen

    known = journey(firm.email, "192.0.2.1")
    unknown = journey("khong-co-ai@an-toan.vn", "192.0.2.2")
    assert known == unknown
    assert [status for status, _, _ in known].count(401) == 11
    assert [wait for _, _, wait in known if wait] == ["2", "4", "8", "16", "32", "900"]
    assert {key for key in counters(rt) if key[0] == "account"} == {
        ("account", firm.email),
        ("account", "khong-co-ai@an-toan.vn"),
    }
    # Each locked out twice: at the 10th failure, and at the first one after the lock-out ended.
    assert [e.details["key"] for e in lock_events(rt)] == [firm.email] * 2 + ["khong-co-ai@an-toan.vn"] * 2


def test_the_login_is_counted_as_typed_normalised(client, rt):
    firm = business(client)
    with frozen():
        for login in (firm.email.upper(), f"  {firm.email} ", firm.email):
            error_of(token(client, login, WRONG), 401)
    assert counters(rt)["account", firm.email].failures == 3


def test_a_success_resets_the_login_but_the_address_keeps_the_failures_of_other_logins(client, rt):
    firm = business(client)
    with frozen():
        for number in range(3):  # someone tries other accounts from the same address
            error_of(token(client, f"nguoi{number}@an-toan.vn", WRONG), 401)
        for _ in range(4):
            error_of(token(client, firm.email, WRONG), 401)
        assert counters(rt)["address", "testclient"].failures == 7
        assert token(client, firm.email, PASSWORD).status_code == 200
    left = counters(rt)
    assert ("account", firm.email) not in left
    assert left["address", "testclient"].failures == 3


def test_an_address_trying_many_accounts_is_locked_out_for_every_account(rt):
    firm = business_in(rt)
    with TestClient(create_app(rt), client=("203.0.113.7", 40000)) as sprayer, frozen() as traveller:
        failures = 0
        for number in range(200):  # one wrong password for each of many logins
            answer = token(sprayer, f"nhan-vien{number}@so-khcn.gov.vn", WRONG)
            if answer.status_code == 401:
                failures += 1
                continue
            code = error_of(answer, 429)["code"]
            if code == "login_locked":
                break
            traveller.shift(int(answer.headers["Retry-After"]))
        assert failures == 50
        # A login never tried from there, with its right password: refused while the address is locked.
        refused = token(sprayer, firm, PASSWORD)
        error_of(refused, 429, "login_locked")
        assert refused.headers["Retry-After"] == "900"
        # Another address is not affected.
        with TestClient(create_app(rt), client=("198.51.100.4", 40000)) as elsewhere:
            assert token(elsewhere, firm, PASSWORD).status_code == 200
    [event] = [e for e in lock_events(rt) if e.details["kind"] == "address"]
    assert event.details["key"] == "203.0.113.7" and event.details["failures"] == 50


def business_in(rt: Runtime) -> str:
    """A business account made through the command layer; its e-mail."""
    email = "lienhe@thep-quang-tri.vn"
    accounts.register_business(
        rt,
        None,
        email=email,
        password=PASSWORD,
        full_name="Trần Thị Bình",
        tax_code="3200123452",
        organisation_name="Công ty Thép Quảng Trị",
    )
    return email


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path, db_url):
    rt = build_runtime(make_settings(tmp_path, db_url, trusted_proxies="10.0.0.0/8, ::1"))
    try:
        firm = business_in(rt)
        app = create_app(rt)
        with TestClient(app, client=("10.1.2.3", 40000)) as proxy, frozen():
            spoofed = {"X-Forwarded-For": "192.0.2.55, 198.51.100.20, 10.9.9.9"}
            error_of(
                proxy.post("/api/auth/token", data={"username": firm, "password": WRONG}, headers=spoofed),
                401,
            )
        with TestClient(app, client=("198.51.100.20", 40000)) as direct, frozen():
            # Not a proxy: its X-Forwarded-For is whatever the client wrote, and is ignored.
            headers = {"X-Forwarded-For": "203.0.113.99"}
            error_of(
                direct.post("/api/auth/token", data={"username": firm, "password": WRONG}, headers=headers),
                401,
            )
        with TestClient(app, client=("2001:db8:7:1::5", 40000)) as ipv6, frozen():
            error_of(token(ipv6, firm, WRONG), 401)
        # The first hop left of the trusted proxies (what the client wrote further left is not believed).
        seen = counters(rt)
        assert seen["address", "198.51.100.20"].failures == 2
        assert ("address", "192.0.2.55") not in seen and ("address", "203.0.113.99") not in seen
        assert seen["address", "2001:db8:7:1::/64"].failures == 1
    finally:
        rt.engine.dispose()


def test_failures_are_forgotten_after_the_window(client, rt):
    firm = business(client)
    with frozen() as traveller:
        for _ in range(4):
            error_of(token(client, firm.email, WRONG), 401)
        traveller.shift(timedelta(minutes=60, seconds=1))
        error_of(token(client, firm.email, WRONG), 401)
        assert counters(rt)["account", firm.email].failures == 1  # not 5: no delay follows
        error_of(token(client, firm.email, WRONG), 401)


def test_attempts_admitted_together_are_refused_once_the_lock_out_starts(rt):
    """Two processes admit attempts at the same time; the failures that lock the login out are
    recorded first. The other attempts then get the lock-out's 429, the right password too: once
    the lock-out starts no attempt succeeds and no answer tells a right password from a wrong one."""
    login, address = "lienhe@thep-quang-tri.vn", "203.0.113.7"
    user = accounts.create_officer(
        rt, None, email=login, password=PASSWORD, full_name="Trần Bình", roles=["clerk"]
    )
    with frozen():
        for _ in range(4):
            login_throttle.admit(rt, login, address)
            login_throttle.record(rt, login, address, None)
        for _ in range(3):  # three attempts admitted at once, before any is recorded
            login_throttle.admit(rt, login, address)
        login_throttle.record(rt, login, address, None)  # the 5th failure: a 2 s delay starts
        with pytest.raises(RateLimited) as right:
            login_throttle.record(rt, login, address, user)
        with pytest.raises(RateLimited) as wrong:
            login_throttle.record(rt, login, address, None)
    assert right.value.code == wrong.value.code == "login_delayed"
    # The refused success was not counted, the late failure was.
    assert counters(rt)["account", login].failures == 6


def test_the_login_page_shows_the_wait_and_answers_429(client, rt):
    firm = business(client)
    client.cookies.clear()
    with frozen() as traveller:
        page = client.get("/login")
        for _ in range(10):
            answer = client.post(
                "/login",
                data={"login": firm.email, "password": WRONG, "csrf_token": csrf(page.text)},
                follow_redirects=False,
            )
            if answer.status_code == 429:
                traveller.shift(int(answer.headers["Retry-After"]))
                answer = client.post(
                    "/login",
                    data={"login": firm.email, "password": WRONG, "csrf_token": csrf(page.text)},
                    follow_redirects=False,
                )
            assert answer.status_code == 401
            assert "Sai tên đăng nhập hoặc mật khẩu." in answer.text
        right = {"login": firm.email, "password": PASSWORD, "csrf_token": csrf(page.text)}
        locked = client.post("/login", data=right, follow_redirects=False)
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
        assert "Đăng nhập tạm bị khóa vì nhập sai quá nhiều lần" in locked.text
        assert "15 phút" in locked.text and "09:16 02/03/2026" in locked.text
        assert "tdcflow_session" not in locked.headers.get("set-cookie", "")
        assert f'value="{firm.email}"' in locked.text  # the form is there again, the login kept
        english = client.post("/login?lang=en", data=right, follow_redirects=False)
        assert english.status_code == 429
        assert "Logging in is locked for a while after too many failed attempts" in english.text
        assert "15 minutes" in english.text


def test_an_administrator_sees_and_lifts_a_lock_on_the_page(client, rt):
    firm = business(client)
    admin = officer(client, rt, "admin")
    with frozen() as traveller:
        fail_until_locked(client, traveller, firm.email)
        client.cookies.clear()
        form = client.get("/login")
        signed_in = client.post(
            "/login",
            data={"login": admin.email, "password": PASSWORD, "csrf_token": csrf(form.text)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        page = client.get("/admin/login-locks")
        assert page.status_code == 200
        assert firm.email in page.text and "tạm khóa" in page.text and "09:16 02/03/2026" in page.text
        [lock] = [lk for lk in login_throttle.current_locks(rt) if lk.kind == "account"]
        # Without the CSRF token: refused, nothing lifted.
        assert client.post(f"/admin/login-locks/{lock.id}/lift", follow_redirects=False).status_code == 403
        lifted = client.post(
            f"/admin/login-locks/{lock.id}/lift", data={"csrf_token": csrf(page.text)}, follow_redirects=False
        )
        assert lifted.status_code == 303
        after = client.get(lifted.headers["location"])
        assert "Đã gỡ khóa" in after.text and firm.email not in after.text
        assert token(client, firm.email, PASSWORD).status_code == 200
        # A lock that is no longer there.
        gone = client.post(
            f"/admin/login-locks/{lock.id}/lift", data={"csrf_token": csrf(page.text)}, follow_redirects=False
        )
        assert gone.status_code == 404
    lifted_event = lock_events(rt)[-1]
    assert lifted_event.action == "login_lock_lifted"
    assert lifted_event.actor_id is not None and lifted_event.actor_label == "Cán bộ admin"
    assert lifted_event.details["key"] == firm.email and lifted_event.details["was_waiting"] is True


def test_an_administrator_lists_and_lifts_locks_through_the_api(client, rt):
    firm = business(client)
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    with frozen() as traveller:
        admin.relogin(), clerk.relogin()  # tokens issued at the frozen instant
        fail_until_locked(client, traveller, firm.email)
        assert error_of(clerk.get("/api/admin/login-locks"), 403, "forbidden")
        assert error_of(client.get("/api/admin/login-locks"), 401)
        listed = admin.get("/api/admin/login-locks")
        assert listed.status_code == 200
        [lock] = [lk for lk in listed.json() if lk["kind"] == "account"]
        assert lock["key"] == firm.email and lock["failures"] == 10 and lock["lockout"] is True
        assert lock["locked_until"] == "2026-03-02T09:16:02+07:00"
        assert error_of(clerk.post(f"/api/admin/login-locks/{lock['id']}/lift"), 403, "forbidden")
        assert admin.post(f"/api/admin/login-locks/{lock['id']}/lift").status_code == 204
        assert [lk for lk in admin.get("/api/admin/login-locks").json() if lk["kind"] == "account"] == []
        error_of(admin.post(f"/api/admin/login-locks/{lock['id']}/lift"), 404, "not_found")
        assert token(client, firm.email, PASSWORD).status_code == 200
    assert [e.action for e in lock_events(rt)] == ["login_locked", "login_lock_lifted"]


def test_the_api_documents_the_refusal(client):
    described = client.get("/openapi.json").json()["paths"]["/api/auth/token"]["post"]["responses"]
    assert "Retry-After" in described["429"]["headers"]


def test_the_counter_keys():
    assert login_throttle.login_key("  Lien.He@Thep.VN ") == "lien.he@thep.vn"
    assert login_throttle.address_key("203.0.113.5") == "203.0.113.5"
    assert login_throttle.address_key("::ffff:203.0.113.5") == "203.0.113.5"
    # An IPv6 line has many addresses: its /64 is counted.
    assert login_throttle.address_key("2001:db8:7:1:abcd::5") == "2001:db8:7:1::/64"
    assert login_throttle.address_key("testclient") == "testclient"


def test_a_login_with_characters_no_database_stores_is_counted_without_them(rt):
    with frozen():
        for login in ("a\x00b@an-toan.vn", "a\ud800b@an-toan.vn"):
            login_throttle.admit(rt, login, "203.0.113.5")
            login_throttle.record(rt, login, "203.0.113.5", None)
    assert counters(rt)["account", "ab@an-toan.vn"].failures == 2
