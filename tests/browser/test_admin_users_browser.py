"""The administrator's accounts page in a real browser: find an officer without diacritics, make
them a leader who signs as PHÓ GIÁM ĐỐC, send a reset link, lock and unlock a business found in
its own list."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login
from tests.support import business, officer
from workflows.db import reading
from workflows.models import User

expect.set_options(timeout=10_000)


def _user(rt: Any, email: str) -> User:
    with reading(rt.engine) as session:
        return session.query(User).filter(User.email == email).one()


def test_admin_edits_roles_sends_a_reset_link_and_locks_a_business(live_server, new_page: Any) -> None:
    base, rt = live_server.url, live_server.rt
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = officer(client, rt, "admin")  # type: ignore[arg-type]
        specialist = officer(client, rt, "specialist", name="Hoàng Văn Đức")  # type: ignore[arg-type]
        firm = business(client, "Công ty TNHH Cơ khí Đông Hà", rt)  # type: ignore[arg-type]

    page = new_page()
    login(page, base, admin.email)
    page.goto(f"{base}/admin/users")
    page.get_by_label("Tìm (thư điện tử, họ tên, tổ chức, mã số thuế, chức vụ)").fill("hoang van duc")
    page.get_by_role("button", name="Tìm", exact=True).click()
    row = page.locator("#accounts tbody tr", has_text="Hoàng Văn Đức")
    expect(row).to_contain_text("Chuyên viên")
    expect(page.locator("#accounts tbody tr")).to_have_count(1)

    row.get_by_text("Sửa vai trò, chức vụ").click()
    row.get_by_label("Chuyên viên").uncheck()
    row.get_by_label("Lãnh đạo Sở").check()
    row.get_by_label("Chức vụ (in trên văn bản, ví dụ PHÓ GIÁM ĐỐC)").fill("PHÓ GIÁM ĐỐC")
    row.get_by_role("button", name="Lưu").click()
    expect(page.locator(".notice--success")).to_contain_text("Đã lưu vai trò và chức vụ")
    row = page.locator("#accounts tbody tr", has_text="Hoàng Văn Đức")
    expect(row).to_contain_text("Lãnh đạo Sở")
    expect(row).to_contain_text("PHÓ GIÁM ĐỐC")
    edited = _user(rt, specialist.email)
    assert edited.roles == ["leader"] and edited.job_title == "PHÓ GIÁM ĐỐC"

    row.get_by_role("button", name="Gửi liên kết đặt lại mật khẩu").click()
    expect(page.locator(".notice--success")).to_contain_text(specialist.email)

    page.get_by_role("link", name="Tổ chức, doanh nghiệp").click()
    page.get_by_label("Tìm (thư điện tử, họ tên, tổ chức, mã số thuế, chức vụ)").fill("co khi dong ha")
    page.get_by_role("button", name="Tìm", exact=True).click()
    row = page.locator("#accounts tbody tr", has_text=firm.email)
    expect(row).to_contain_text(firm.tax_code)
    row.get_by_role("button", name="Khóa").click()
    row = page.locator("#accounts tbody tr", has_text=firm.email)
    expect(row).to_contain_text("Đã khóa")
    expect(page.get_by_label("Tìm (thư điện tử, họ tên, tổ chức, mã số thuế, chức vụ)")).to_have_value(
        "co khi dong ha"
    )
    assert not _user(rt, firm.email).is_active
    screenshot(page, "admin-users")
    row.get_by_role("button", name="Mở khóa").click()
    expect(page.locator("#accounts tbody tr", has_text=firm.email)).to_contain_text("Đang hoạt động")
    assert _user(rt, firm.email).is_active
    assert page.console_errors == []
