"""Limits on the public requests that send mail or give the clerks work (workflows.request_limits):
a password reset link, a verification link sent again, a tax code contest. A person's mailbox
cannot be filled with links, nor the clerks' inbox with contests; the refusal says when to try
again (429 with Retry-After) and tells nothing of whether an account exists. Counted in the
database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.support import business, error_of, local, stored_files, valid_tax_code
from tests.test_account_recovery import mails
from tests.test_pages import csrf
from tests.test_tax_codes import contest

START = local(2026, 12, 3, 9, 0)


def test_reset_links_are_limited_per_address_and_per_client_then_allowed_again(client, rt):
    with time_machine.travel(START, tick=False) as travel:
        firm = business(client)
        for _ in range(3):
            assert client.post("/api/auth/password-reset", json={"email": firm.email}).status_code == 202
        refused = client.post("/api/auth/password-reset", json={"email": firm.email.upper()})
        error = error_of(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == "3600"
        assert "10:00 03/12/2026" in error["message"] and "after 10:00 03/12/2026" in error["message_en"]
        assert len(mails(rt, "password_reset_requested")) == 3  # the fourth mail was never sent
        # An address with no account is counted the same: the refusal tells nothing of accounts.
        for _ in range(3):
            client.post("/api/auth/password-reset", json={"email": "ai-do@khong-co.vn"})
        error_of(client.post("/api/auth/password-reset", json={"email": "ai-do@khong-co.vn"}), 429)

        # From one client, ten requests an hour whatever the addresses (six so far, four refused
        # ones not counted): four more pass, the next is refused.
        for n in range(4):
            assert (
                client.post("/api/auth/password-reset", json={"email": f"x{n}@example.vn"}).status_code == 202
            )
        error_of(client.post("/api/auth/password-reset", json={"email": "y@example.vn"}), 429)

        travel.shift(timedelta(hours=1, seconds=1))
        assert client.post("/api/auth/password-reset", json={"email": firm.email}).status_code == 202
        assert len(mails(rt, "password_reset_requested")) == 4


def test_the_forgotten_password_page_says_when_to_try_again(client, rt):
    with time_machine.travel(START, tick=False):
        firm = business(client)
        for _ in range(3):
            form = client.get("/forgot-password")
            client.post("/forgot-password", data={"email": firm.email, "csrf_token": csrf(form.text)})
        form = client.get("/forgot-password")
        refused = client.post("/forgot-password", data={"email": firm.email, "csrf_token": csrf(form.text)})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
        assert (
            "Đã có quá nhiều yêu cầu đặt lại mật khẩu. Vui lòng thử lại sau 10:00 03/12/2026." in refused.text
        )


def test_verification_links_sent_again_are_limited(client, rt):
    with time_machine.travel(START, tick=False):
        email = "cho-xac-nhan@example.vn"
        registered = client.post(
            "/api/auth/register",
            json={
                "email": email,
                "password": "mat-khau-an-toan-2026",
                "full_name": "Phan Thị Lan",
                "tax_code": valid_tax_code(91_001),
                "organisation_name": "HTX Nông sản Cam Lộ",
                "address": "Cam Lộ, Quảng Trị",
            },
        )
        assert registered.status_code == 202, registered.text
        sent = len(mails(rt, "email_verification_requested"))
        for _ in range(3):
            assert client.post("/api/auth/verify-email/resend", json={"email": email}).status_code == 202
        error_of(client.post("/api/auth/verify-email/resend", json={"email": email}), 429, "rate_limited")
        assert len(mails(rt, "email_verification_requested")) == sent + 3


def test_contests_are_limited_per_contact_address_and_a_refused_one_stores_nothing(client, rt):
    with time_machine.travel(START, tick=False) as travel:
        for n in range(3):
            assert contest(client, valid_tax_code(92_000 + n)).status_code == 201
        files = stored_files(rt)
        refused = contest(client, valid_tax_code(92_010))
        error_of(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == str(24 * 3600)
        assert stored_files(rt) == files
        # Another contact address from the same client: two more of the five a day.
        for n in range(2):
            assert contest(client, valid_tax_code(92_020 + n), email=f"khac{n}@example.vn").status_code == 201
        error_of(contest(client, valid_tax_code(92_030), email="nua@example.vn"), 429)

        page = client.get("/tax-code-contests/new")
        on_page = client.post(
            "/tax-code-contests/new",
            data={
                "tax_code": valid_tax_code(92_040),
                "organisation_name": "Công ty TNHH Cơ khí Thật",
                "contact_name": "Nguyễn Thị Thật",
                "contact_email": "trang@example.vn",
                "csrf_token": csrf(page.text),
            },
            files={"certificate": ("gcn.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        )
        assert on_page.status_code == 429 and on_page.headers["retry-after"] == str(24 * 3600)
        assert "Đã có quá nhiều khiếu nại gửi từ đây." in on_page.text
        assert 'value="Nguyễn Thị Thật"' in on_page.text  # what was typed is kept

        travel.shift(timedelta(hours=24, seconds=1))
        assert contest(client, valid_tax_code(92_050)).status_code == 201
