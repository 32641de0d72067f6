"""A user sees their active sessions and ends them (issue 13): one per login, with the device and
the times in Vietnam's time; end one, every other, or all; every end audited; a token whose
session ended is refused; expired sessions are purged by the scheduler's job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from sqlmodel import select

from api.jobs import purge_expired_sessions, scheduler_jobs
from api.security import ALGORITHM, ISSUER
from tests.support import business, error_of, local, login
from tests.test_pages import csrf, page_login
from workflows.db import reading
from workflows.models import AuditEvent, User, UserSession

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_with(client, email: str, agent: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/auth/token",
        data={"username": email, "password": "mat-khau-an-toan-2026"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def sid_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def audit_actions(rt, email: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        events = session.exec(
            select(AuditEvent).where(AuditEvent.stream == f"user:{user.id}").order_by(AuditEvent.seq)
        ).all()
        return [(e.action, e.details) for e in events]


def test_the_sessions_are_listed_with_this_one_marked_and_end_one_by_one(client, rt):
    with time_machine.travel(local(2026, 12, 1, 8, 5), tick=False):
        firm = business(client)
        laptop = login_with(client, firm.email, FIREFOX)
    with time_machine.travel(local(2026, 12, 1, 9, 30), tick=False):
        phone = login_with(client, firm.email, IPHONE)
        listed = client.get("/api/me/sessions", headers=bearer(phone))
    assert listed.status_code == 200
    items = listed.json()["items"]
    by_client = {item["client_summary"]: item for item in items}
    assert {"Firefox 128 · Windows", "Safari 17 · iOS"} <= by_client.keys()
    assert by_client["Safari 17 · iOS"]["current"] is True
    assert by_client["Firefox 128 · Windows"]["current"] is False
    assert [item["current"] for item in items].count(True) == 1
    assert by_client["Firefox 128 · Windows"]["created_at"] == "2026-12-01T08:05:00+07:00"
    assert by_client["Firefox 128 · Windows"]["client_address"] == "testclient"
    assert FIREFOX not in listed.text  # a summary, not the raw header

    # The phone ends the laptop's session: the laptop is refused at once, the phone goes on.
    laptop_id = by_client["Firefox 128 · Windows"]["id"]
    assert client.delete(f"/api/me/sessions/{laptop_id}", headers=bearer(phone)).status_code == 204
    assert error_of(client.get("/api/me", headers=bearer(laptop)), 401, "session_ended")
    assert client.get("/api/me", headers=bearer(phone)).status_code == 200
    remaining = {item["id"] for item in client.get("/api/me/sessions", headers=bearer(phone)).json()["items"]}
    assert laptop_id not in remaining
    # Ended already, or someone else's: not found.
    error_of(client.delete(f"/api/me/sessions/{laptop_id}", headers=bearer(phone)), 404, "not_found")
    other = business(client, "Công ty CP Khác")
    error_of(
        client.delete(f"/api/me/sessions/{sorted(remaining)[0]}", headers=other.headers), 404, "not_found"
    )
    assert client.get("/api/me", headers=bearer(phone)).status_code == 200
    ends = [details for action, details in audit_actions(rt, firm.email) if action == "session_ended"]
    assert ends and ends[-1]["why"] == "ended_by_user" and ends[-1]["sessions"] == [laptop_id[:8]]


def test_end_the_others_then_all(client, rt):
    firm = business(client)
    others = [login(client, firm.email) for _ in range(2)]
    this = login(client, firm.email)
    assert client.post("/api/me/sessions/end-others", headers=bearer(this)).status_code == 204
    for token in [firm.token, *others]:
        error_of(client.get("/api/me", headers=bearer(token)), 401, "session_ended")
    listed = client.get("/api/me/sessions", headers=bearer(this)).json()["items"]
    assert [item["current"] for item in listed] == [True]
    second = login(client, firm.email)
    assert client.post("/api/me/sessions/end-all", headers=bearer(this)).status_code == 204
    for token in (this, second):
        error_of(client.get("/api/me", headers=bearer(token)), 401, "session_ended")
    actions = audit_actions(rt, firm.email)
    ended = [details for action, details in actions if action == "sessions_ended"]
    assert [d["why"] for d in ended] == ["ended_by_user", "ended_all"]
    assert len(ended[0]["sessions"]) == 3 and len(ended[1]["sessions"]) == 2


def test_the_account_page_lists_the_sessions_and_ends_them(client, rt):
    firm = business(client)
    with time_machine.travel(local(2026, 12, 2, 14, 7), tick=False):
        elsewhere = login_with(client, firm.email, FIREFOX)
        client.cookies.clear()
        form = client.get("/login")
        client.post(
            "/login",
            data={"login": firm.email, "password": "mat-khau-an-toan-2026", "csrf_token": csrf(form.text)},
            headers={"User-Agent": IPHONE},
        )
        page = client.get("/account/sessions")
    assert page.status_code == 200
    assert "Phiên đăng nhập" in page.text and "Thiết bị này" in page.text
    assert "Firefox 128 · Windows" in page.text and "Safari 17 · iOS" in page.text
    assert "02/12/2026 14:07" in page.text  # dd/mm/yyyy HH:MM, Vietnam's time
    assert page.text.count("Thiết bị này") == 1

    ended = client.post("/account/sessions/end-others", data={"csrf_token": csrf(page.text)})
    assert ended.status_code == 200 and "Đã kết thúc" in ended.text
    error_of(client.get("/api/me", headers=bearer(elsewhere)), 401, "session_ended")
    assert "Firefox 128 · Windows" not in ended.text

    copied = client.cookies.get("tdcflow_session")
    done = client.post(
        "/account/sessions/end-all", data={"csrf_token": csrf(ended.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/login")
    client.cookies.set("tdcflow_session", copied)
    assert client.get("/account/sessions", follow_redirects=False).status_code == 303


def test_the_account_page_ends_one_session(client, rt):
    firm = business(client)
    elsewhere = login(client, firm.email)
    page_login(client, firm.email)
    target = sid_of(elsewhere)
    page = client.get("/account/sessions")
    assert f"/account/sessions/{target}/end" in page.text
    response = client.post(f"/account/sessions/{target}/end", data={"csrf_token": csrf(page.text)})
    assert response.status_code == 200
    error_of(client.get("/api/me", headers=bearer(elsewhere)), 401, "session_ended")
    assert client.get("/api/me", headers=firm.headers).status_code == 200  # no other
    assert client.get("/my/dossiers").status_code == 200  # this browser stays signed in


def test_last_seen_moves_every_few_minutes_not_at_every_request(client, rt):
    with time_machine.travel(local(2026, 12, 1, 9, 0), tick=False) as travel:
        firm = business(client)
        token = login(client, firm.email)

        def last_seen() -> str:
            items = client.get("/api/me/sessions", headers=bearer(token)).json()["items"]
            return next(item["last_seen_at"] for item in items if item["current"])

        assert last_seen() == "2026-12-01T09:00:00+07:00"
        travel.move_to(local(2026, 12, 1, 9, 3))
        assert last_seen() == "2026-12-01T09:00:00+07:00"  # within 5 minutes: no write
        travel.move_to(local(2026, 12, 1, 9, 6))
        client.get("/api/me", headers=bearer(token))
        assert last_seen() == "2026-12-01T09:06:00+07:00"


def test_a_token_without_a_live_session_is_refused(client, rt):
    """Signed with the right key, the account's epoch right, yet no session of the account."""
    firm = business(client)
    other = business(client, "Công ty CP Khác")
    user_id = client.get("/api/me", headers=firm.headers).json()["id"]
    with reading(rt.engine) as session:
        epoch = session.get(User, user_id).session_epoch
    issued = datetime.now(UTC)
    for sid in (None, "", "made-up-session-id", sid_of(other.token)):
        claims = {"sub": str(user_id), "roles": ["business"], "se": epoch, "iss": ISSUER}
        claims.update(iat=issued, exp=issued + timedelta(hours=1))
        if sid is not None:
            claims["sid"] = sid
        token = jwt.encode(claims, rt.settings.signing_key(), algorithm=ALGORITHM)
        error_of(client.get("/api/me", headers=bearer(token)), 401, "session_ended")


def test_expired_sessions_are_purged_by_the_scheduler(client, rt):
    assert "sessions-purge" in {job_id for _, _, job_id in scheduler_jobs(rt)}
    with time_machine.travel(local(2026, 12, 1, 9, 0), tick=False) as travel:
        firm = business(client)
        login(client, firm.email)
        with reading(rt.engine) as session:
            assert len(session.exec(select(UserSession)).all()) == 2
        travel.move_to(local(2026, 12, 1, 9, 0) + timedelta(minutes=rt.settings.access_token_minutes + 1))
        purge_expired_sessions(rt)
        with reading(rt.engine) as session:
            assert session.exec(select(UserSession)).all() == []
        error_of(client.get("/api/me", headers=firm.headers), 401, "token_expired")
