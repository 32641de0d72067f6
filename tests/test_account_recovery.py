"""Password reset by e-mail and e-mail verification at registration (issue 13): single-use,
short-lived links; answers that never tell whether an address has an account (``email_taken``
told it before, for officers and TBT visitors too)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import time_machine
from sqlmodel import func, select

from notifications.render import Renderer
from tests.support import PASSWORD, business, error_of, local, login, mailed_link, officer, valid_tax_code
from tests.test_pages import csrf, page_login
from workflows import accounts
from workflows.db import reading
from workflows.models import AuditEvent, User
from workflows.outbox import OutboxEvent

NEW_PASSWORD = "mat-khau-moi-sau-khi-quen-2026"


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def mails(rt, event_type: str) -> list[OutboxEvent]:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id)
            ).all()
        )


def user_of(rt, email: str) -> User:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        return session.exec(select(User).where(User.email == email)).one()


def rendered(rt, event: OutboxEvent) -> str:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        user = session.get(User, event.payload["user_id"])
        return Renderer(rt).event_message(event, user).text


def actions(rt, user: User) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.stream == f"user:{user.id}").order_by(AuditEvent.seq)
        ).all()
        return [(e.action, e.actor_id) for e in events]


def registration(email: str, number: int, **changes: str) -> dict[str, str]:
    return {
        "email": email,
        "password": PASSWORD,
        "full_name": "Phan Thị Lan",
        "tax_code": valid_tax_code(90_000 + number),
        "organisation_name": "HTX Nông sản Cam Lộ",
        "address": "Cam Lộ, Quảng Trị",
        **changes,
    }


# --- password reset ------------------------------------------------------------------------------


def test_a_forgotten_password_is_reset_through_the_link_e_mailed(client, rt):
    firm = business(client)
    other_device = login(client, firm.email)
    asked = client.post("/api/auth/password-reset", json={"email": firm.email.upper()})
    unknown = client.post("/api/auth/password-reset", json={"email": "ai-do@khong-co.vn"})
    # The same answer whether or not the address has an account.
    assert (asked.status_code, asked.json()) == (unknown.status_code, unknown.json())
    assert asked.status_code == 202 and "Nếu địa chỉ này có tài khoản" in asked.json()["message"]
    (sent,) = mails(rt, "password_reset_requested")
    text = rendered(rt, sent)
    assert text.index("Để đặt mật khẩu mới") < text.index("To set a new password")  # Vietnamese first
    assert "30 phút" in text and "30 minutes" in text
    link = mailed_link(rt, firm.email, "password_reset_requested")
    assert link.startswith("/reset-password?token=")

    # The link opens a form; the form sets the password.
    page = client.get(link)
    assert page.status_code == 200 and "Đặt mật khẩu mới" in page.text
    short = client.post(
        "/api/auth/password-reset/confirm", json={"token": token_of(link), "new_password": "ngan"}
    )
    error_of(short, 422, "validation_error")
    done = client.post(
        "/api/auth/password-reset/confirm", json={"token": token_of(link), "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    # Every session ended; the old password is gone, the new one works.
    for token in (firm.token, other_device):
        error_of(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "session_ended")
    refused = client.post("/api/auth/token", data={"username": firm.email, "password": PASSWORD})
    error_of(refused, 401, "invalid_credentials")
    assert login(client, firm.email, NEW_PASSWORD)
    # Single use.
    again = client.post(
        "/api/auth/password-reset/confirm", json={"token": token_of(link), "new_password": "lai-lan-nua-2026"}
    )
    error_of(again, 422, "invalid_token")
    # The owner is told, and it is audited.
    (told,) = mails(rt, "password_changed")
    assert "đã được đặt lại" in rendered(rt, told)
    user = user_of(rt, firm.email)
    assert [a for a, _ in actions(rt, user) if a.startswith("password")] == [
        "password_reset_requested",
        "password_reset",
    ]


def test_a_reset_link_expires_and_a_newer_one_replaces_it(client, rt):
    with time_machine.travel(local(2026, 12, 1, 9, 0), tick=False) as travel:
        firm = business(client)
        client.post("/api/auth/password-reset", json={"email": firm.email})
        first = mailed_link(rt, firm.email, "password_reset_requested")
        travel.move_to(local(2026, 12, 1, 9, 1))
        client.post("/api/auth/password-reset", json={"email": firm.email})
        second = mailed_link(rt, firm.email, "password_reset_requested")
        assert first != second
        body = {"token": token_of(first), "new_password": NEW_PASSWORD}
        error_of(client.post("/api/auth/password-reset/confirm", json=body), 422, "invalid_token")
        travel.move_to(local(2026, 12, 1, 9, 32))  # 31 minutes later
        body = {"token": token_of(second), "new_password": NEW_PASSWORD}
        error = error_of(client.post("/api/auth/password-reset/confirm", json=body), 422, "token_expired")
        assert "hết hạn" in error["message"]
        assert login(client, firm.email)  # the password is unchanged


def test_a_changed_password_spends_the_reset_links(client, rt):
    firm = business(client)
    client.post("/api/auth/password-reset", json={"email": firm.email})
    link = mailed_link(rt, firm.email, "password_reset_requested")
    changed = firm.post("/api/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    body = {"token": token_of(link), "new_password": "ke-khac-doi-lai-2026"}
    error_of(client.post("/api/auth/password-reset/confirm", json=body), 422, "invalid_token")


def test_no_reset_for_a_locked_account_nor_an_unknown_address_officers_alike(client, rt):
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    firm = business(client)
    admin_user = user_of(rt, admin.email)
    accounts.set_active(rt, admin_user, user_of(rt, firm.email).id, False)
    for email in (firm.email, "khong-ai@vi-du.vn", "not an address"):
        response = client.post("/api/auth/password-reset", json={"email": email})
        assert response.status_code == 202
    assert mails(rt, "password_reset_requested") == []
    # An officer resets like anyone.
    assert client.post("/api/auth/password-reset", json={"email": clerk.email}).status_code == 202
    link = mailed_link(rt, clerk.email, "password_reset_requested")
    body = {"token": token_of(link), "new_password": NEW_PASSWORD}
    assert client.post("/api/auth/password-reset/confirm", json=body).status_code == 200
    assert login(client, clerk.email, NEW_PASSWORD)


def test_an_administrator_sends_a_reset_link(client, rt):
    admin, clerk = officer(client, rt, "admin"), officer(client, rt, "clerk")
    firm = business(client)
    firm_id = user_of(rt, firm.email).id
    error_of(clerk.post(f"/api/admin/users/{firm_id}/password-reset"), 403, "forbidden")
    sent = admin.post(f"/api/admin/users/{firm_id}/password-reset")
    assert sent.status_code == 202 and firm.email in sent.json()["message"]
    text = rendered(rt, mails(rt, "password_reset_requested")[-1])
    assert "Quản trị viên" in text and "An administrator" in text
    admin_id = user_of(rt, admin.email).id
    assert ("password_reset_sent", admin_id) in actions(rt, user_of(rt, firm.email))
    error_of(admin.post("/api/admin/users/999999/password-reset"), 404, "not_found")
    accounts.set_active(rt, user_of(rt, admin.email), firm_id, False)
    error_of(admin.post(f"/api/admin/users/{firm_id}/password-reset"), 409, "inactive_account")

    # The administration page's button does the same.
    page_login(client, admin.email)
    page = client.get("/admin/users")
    clerk_id = user_of(rt, clerk.email).id
    assert f"/admin/users/{clerk_id}/password-reset" in page.text
    assert f"/admin/users/{firm_id}/password-reset" not in page.text  # locked
    done = client.post(f"/admin/users/{clerk_id}/password-reset", data={"csrf_token": csrf(page.text)})
    assert done.status_code == 200 and "Đã gửi liên kết đặt lại mật khẩu" in done.text
    assert mailed_link(rt, clerk.email, "password_reset_requested")


def test_the_forgotten_password_pages(client, rt):
    firm = business(client)
    client.cookies.clear()
    login_page = client.get("/login")
    assert 'href="/forgot-password"' in login_page.text and "Quên mật khẩu" in login_page.text
    form = client.get("/forgot-password")
    assert form.status_code == 200
    asked = client.post("/forgot-password", data={"email": firm.email, "csrf_token": csrf(form.text)})
    unknown = client.post("/forgot-password", data={"email": "ai@khong-co.vn", "csrf_token": csrf(form.text)})
    assert asked.status_code == unknown.status_code == 200
    assert "Nếu địa chỉ" in asked.text and asked.text.replace(firm.email, "X") == unknown.text.replace(
        "ai@khong-co.vn", "X"
    )
    link = mailed_link(rt, firm.email, "password_reset_requested")
    page = client.get(link)
    assert page.headers["cache-control"] == "no-store"
    fields = {"token": token_of(link), "csrf_token": csrf(page.text)}
    mismatch = client.post(
        "/reset-password",
        data={**fields, "new_password": NEW_PASSWORD, "new_password_confirm": "khac-han-2026"},
    )
    assert mismatch.status_code == 422 and "không trùng" in mismatch.text
    done = client.post(
        "/reset-password", data={**fields, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    )
    assert done.status_code == 200 and "Đã đặt mật khẩu mới" in done.text
    reused = client.post(
        "/reset-password", data={**fields, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    )
    assert reused.status_code == 422 and "Yêu cầu liên kết mới" in reused.text
    assert page_login(client, firm.email, NEW_PASSWORD).status_code == 303


# --- e-mail verification -------------------------------------------------------------------------


def test_a_new_account_logs_in_once_its_email_is_verified(client, rt):
    body = registration("lienhe@camlo-xacnhan.vn", 1)
    registered = client.post("/api/auth/register", json=body)
    assert registered.status_code == 202 and "xác nhận" in registered.json()["message"]
    refused = client.post("/api/auth/token", data={"username": body["email"], "password": PASSWORD})
    error = error_of(refused, 403, "email_unverified")
    assert "chưa được xác nhận" in error["message"] and "not verified" in error["message_en"]
    # A wrong password still says only "wrong login or password".
    wrong = client.post("/api/auth/token", data={"username": body["email"], "password": "sai-mat-khau-9"})
    error_of(wrong, 401, "invalid_credentials")

    first = mailed_link(rt, body["email"])
    text = rendered(rt, mails(rt, "email_verification_requested")[-1])
    assert text.index("Để hoàn tất đăng ký") < text.index("To complete the registration")
    # Asking again sends a new link and spends the old one; an unknown address gets the same answer.
    again = client.post("/api/auth/verify-email/resend", json={"email": body["email"]})
    unknown = client.post("/api/auth/verify-email/resend", json={"email": "khong-co@vi-du.vn"})
    assert again.status_code == unknown.status_code == 202 and again.json() == unknown.json()
    second = mailed_link(rt, body["email"])
    assert second != first
    error_of(client.post("/api/auth/verify-email", json={"token": token_of(first)}), 422, "invalid_token")
    assert client.post("/api/auth/verify-email", json={"token": token_of(second)}).status_code == 200
    assert login(client, body["email"])
    error_of(client.post("/api/auth/verify-email", json={"token": token_of(second)}), 422, "invalid_token")
    # Verified: resending sends nothing.
    count = len(mails(rt, "email_verification_requested"))
    client.post("/api/auth/verify-email/resend", json={"email": body["email"]})
    assert len(mails(rt, "email_verification_requested")) == count
    assert ("email_verified", user_of(rt, body["email"]).id) in actions(rt, user_of(rt, body["email"]))


def test_a_verification_link_expires(client, rt):
    with time_machine.travel(local(2026, 12, 1, 9, 0), tick=False) as travel:
        body = registration("lienhe@hethan-xacnhan.vn", 2)
        assert client.post("/api/auth/register", json=body).status_code == 202
        link = mailed_link(rt, body["email"])
        travel.shift(timedelta(hours=rt.settings.email_verification_hours, minutes=1))
        error_of(client.post("/api/auth/verify-email", json={"token": token_of(link)}), 422, "token_expired")


def test_the_verification_pages(client, rt):
    body = registration("lienhe@trang-xacnhan.vn", 3)
    client.cookies.clear()
    form = client.get("/register")
    fields = {k: v for k, v in body.items() if k != "password"}
    sent = client.post(
        "/register",
        data={**fields, "password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": csrf(form.text)},
    )
    assert sent.status_code == 200 and "Kiểm tra hộp thư" in sent.text and body["email"] in sent.text
    assert client.cookies.get("tdcflow_session") is None  # not signed in yet
    # Logging in first: the message, and the way to get the link again.
    response = page_login(client, body["email"])
    assert response.status_code == 403 and "chưa được xác nhận" in response.text
    assert "/verify-email/resend" in response.text
    link = mailed_link(rt, body["email"])
    # Opening the link (a mail scanner too) spends nothing; the button does.
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200 and "Xác nhận" in page.text
    done = client.post("/verify-email", data={"token": token_of(link), "csrf_token": csrf(page.text)})
    assert done.status_code == 200 and "Đã xác nhận địa chỉ thư điện tử" in done.text
    assert page_login(client, body["email"]).status_code == 303
    page = client.get(link)
    reused = client.post("/verify-email", data={"token": token_of(link), "csrf_token": csrf(page.text)})
    assert reused.status_code == 422 and "Gửi lại thư xác nhận" in reused.text


def test_registering_a_taken_address_answers_as_a_new_one_and_tells_its_owner(client, rt):
    firm = business(client)
    clerk = officer(client, rt, "clerk")
    fresh = client.post("/api/auth/register", json=registration("moi-tinh@camlo.vn", 4))
    with reading(rt.engine) as session:
        accounts_before = session.exec(select(func.count()).select_from(User)).one()
    for number, email in enumerate((firm.email, clerk.email.upper()), start=5):
        taken = client.post("/api/auth/register", json=registration(email, number, password="ke-gian-2026-x"))
        assert (taken.status_code, taken.json()) == (fresh.status_code, fresh.json())
    with reading(rt.engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == accounts_before
    told = mails(rt, "registration_attempted")
    owners = {user_of(rt, firm.email).id, user_of(rt, clerk.email).id}
    assert {event.payload["user_id"] for event in told} == owners and len(told) == 2
    text = rendered(rt, told[0])
    assert "có người đã đăng ký" in text and "/forgot-password" in text
    assert text.index("có người đã đăng ký") < text.index("someone registered")
    # The owners' accounts are untouched: their passwords work, the newcomer's never did.
    assert login(client, firm.email) and login(client, clerk.email)
    refused = client.post("/api/auth/token", data={"username": firm.email, "password": "ke-gian-2026-x"})
    error_of(refused, 401, "invalid_credentials")


def test_officers_and_demo_like_accounts_are_verified_by_whoever_made_them(client, rt):
    clerk = officer(client, rt, "clerk")
    assert user_of(rt, clerk.email).email_verified_at is not None
    made = accounts.register_business(
        rt,
        None,
        email="nhap@du-lieu.vn",
        password=PASSWORD,
        full_name="Nhập Dữ Liệu",
        tax_code=valid_tax_code(95_000),
        organisation_name="Công ty Nhập",
    )
    assert made.email_verified_at is not None and login(client, "nhap@du-lieu.vn")
