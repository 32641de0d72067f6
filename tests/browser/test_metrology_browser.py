"""The metrology database in a real browser, on the demo's data (loaded as ``tdcflow demo`` loads
it, dates counted from today): a business sees its instruments and the one ending within a week on
``/my/instruments``; a specialist finds an instrument on ``/work/instruments``, opens the warnings
page from the navigation and closes a warning with a reason; a citizen opens the public counts from
the stamp lookup and reads one commune's figures. One server for the three."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.demo import BUSINESS, SPECIALIST, create_demo_accounts, demo_accounts
from workflows.metrology.demo import create_metrology_demo

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def demo(live_server):  # type: ignore[no-untyped-def]
    create_demo_accounts(live_server.rt)
    create_metrology_demo(live_server.rt)
    passwords = {a.email: a.password for a in demo_accounts(live_server.rt)}
    return live_server.url, passwords


def login(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Thư điện tử hoặc mã số thuế").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name=name, exact=True).click()


def test_a_business_sees_its_instruments_and_the_one_ending_soon(demo, new_page: Any) -> None:
    base, passwords = demo
    page = new_page()
    login(page, base, BUSINESS, passwords[BUSINESS])
    nav(page, "Phương tiện đo của tôi")
    ends = office_day(now()) + timedelta(days=7)
    row = page.get_by_role("row").filter(has_text="KB-7781")
    expect(row).to_contain_text(f"Sắp hết hạn kiểm định: {ends:%d/%m/%Y}")
    expect(page.get_by_role("row").filter(has_text="TX-55120")).to_contain_text("Quá hạn kiểm định từ")
    expect(page.locator("main")).not_to_contain_text("NH-3001")  # a household's, not the business's
    screenshot(page, "metrology-my-instruments")
    assert not page.console_errors


def test_a_specialist_finds_an_instrument_and_closes_its_warning_with_a_reason(demo, new_page: Any) -> None:
    base, passwords = demo
    page = new_page()
    login(page, base, SPECIALIST, passwords[SPECIALIST])
    nav(page, "Phương tiện đo")
    page.get_by_label("Số sản xuất, kiểu, chủ sở hữu, mã số thuế, xã/phường").fill("tx-55120")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.get_by_role("link", name="TX-55120").click()
    expect(page.locator("main")).to_contain_text("GCN-DEMO-0004")

    nav(page, "Cảnh báo đo lường")
    warning = page.get_by_role("row").filter(has_text="TX-55120")
    expect(warning).to_contain_text("Quá hạn kiểm định")
    expect(page.get_by_role("row").filter(has_text="NH-6002")).to_contain_text("Báo mất tem kiểm định")
    screenshot(page, "metrology-warnings")
    warning.get_by_label("Ghi chú, hoặc lý do đóng").fill("Doanh nghiệp đã ngừng sử dụng taximet")
    warning.get_by_role("button", name="Đóng cảnh báo").click()
    expect(page.get_by_role("status")).to_have_text("Đã đóng cảnh báo.")
    expect(page.get_by_role("row").filter(has_text="TX-55120")).to_have_count(0)
    page.get_by_role("link", name="Đã đóng", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="TX-55120")).to_contain_text(
        "Lý do đóng: Doanh nghiệp đã ngừng sử dụng taximet"
    )
    assert not page.console_errors


def test_a_citizen_reads_the_counts_of_a_commune(demo, new_page: Any) -> None:
    base, _ = demo
    page = new_page(viewport_width=390)
    page.goto(f"{base}/stamps")
    page.get_by_role("link", name="Số liệu phương tiện đo theo loại và xã, phường").click()
    total = page.get_by_test_id("counts-total")
    expect(total).to_contain_text(
        re.compile(r"Đã đăng ký\s*8\s*Còn hiệu lực kiểm định\s*5\s*Quá hạn kiểm định\s*2")
    )
    page.get_by_label("Xem từng loại trong xã, phường, đặc khu").select_option("Xã Cam Lộ")
    page.get_by_role("button", name="Xem", exact=True).click()
    in_commune = page.get_by_test_id("counts-in-commune")
    # The household's three scales: two verified (a lost stamp leaves the verification), one overdue.
    expect(in_commune.get_by_role("row").filter(has_text="Cân đồng hồ lò xo")).to_have_text(
        re.compile(r"Cân đồng hồ lò xo\s*3\s*2\s*1")
    )
    expect(page.locator("main")).not_to_contain_text("Nguyễn Thị Mai")
    screenshot(page, "metrology-counts-phone")
    assert not page.console_errors
