"""Ending sessions (issue 13, first part): a password change, a logout and an administrator's lock
end every earlier token and session cookie of the account at once, on every device; until now a
token stayed valid for its 8 hours (after a password change the old token could even change it
again; a copied cookie worked after logout)."""

from __future__ import annotations

from tests.support import PASSWORD, business, error_of, login, officer
from tests.test_pages import csrf, page_login
from workflows import accounts
from workflows.db import reading
from workflows.models import User

NEW_PASSWORD = "mat-khau-moi-2026-rat-dai"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_password_change_ends_every_earlier_token(client):
    firm = business(client)
    other_device = login(client, firm.email)
    changed = client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=firm.headers,
    )
    assert changed.status_code == 204
    for token in (firm.token, other_device):
        refused = client.get("/api/me", headers=bearer(token))
        assert error_of(refused, 401, "session_ended")
        assert "đăng nhập lại" in refused.json()["error"]["message"]
    # The old token cannot change the password back.
    again = client.post(
        "/api/me/password",
        json={"current_password": NEW_PASSWORD, "new_password": PASSWORD},
        headers=bearer(firm.token),
    )
    assert again.status_code == 401
    fresh = login(client, firm.email, NEW_PASSWORD)
    assert client.get("/api/me", headers=bearer(fresh)).status_code == 200


def test_logout_ends_this_session_a_copied_cookie_included(client):
    firm = business(client)
    page_login(client, firm.email)
    copied = client.cookies.get("tdcflow_session")
    assert copied and client.get("/my/dossiers").status_code == 200
    api_token = login(client, firm.email)
    page = client.get("/my/dossiers")
    client.post("/logout", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    client.cookies.set("tdcflow_session", copied)
    assert client.get("/my/dossiers", follow_redirects=False).status_code == 303  # to the login page
    # The account's other session (the API token) goes on.
    assert client.get("/api/me", headers=bearer(api_token)).status_code == 200
    # The API's own logout ends its token's session alone.
    token = login(client, firm.email)
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    assert error_of(client.get("/api/me", headers=bearer(token)), 401, "session_ended")
    assert client.get("/api/me", headers=bearer(api_token)).status_code == 200


def test_the_page_that_changes_the_password_keeps_its_own_session(client):
    firm = business(client)
    page_login(client, firm.email)
    elsewhere = login(client, firm.email)
    form = client.get("/account/password")
    done = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "csrf_token": csrf(form.text),
        },
    )
    assert done.status_code == 200 and "Các phiên đăng nhập khác đã kết thúc" in done.text
    assert client.get("/my/dossiers").status_code == 200  # this browser stays signed in
    assert error_of(client.get("/api/me", headers=bearer(elsewhere)), 401, "session_ended")


def test_a_lock_ends_the_sessions_and_an_unlock_revives_none(client, rt):
    admin = officer(client, rt, "admin", "QUẢN TRỊ", "Quản Trị Viên")
    firm = business(client)
    with reading(rt.engine) as session:
        me = session.get(User, int(client.get("/api/me", headers=admin.headers).json()["id"]))
        target = session.exec(User.__table__.select().where(User.email == firm.email)).first()  # type: ignore[attr-defined]
    accounts.set_active(rt, me, target.id, False)
    assert error_of(client.get("/api/me", headers=firm.headers), 401, "inactive_account")
    accounts.set_active(rt, me, target.id, True)
    assert error_of(client.get("/api/me", headers=firm.headers), 401, "session_ended")
    assert client.get("/api/me", headers=bearer(login(client, firm.email))).status_code == 200
