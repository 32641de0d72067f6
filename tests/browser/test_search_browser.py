"""Dossier search in a real browser: an officer types the company's name with and without tones
(and đ/Đ), then narrows by procedure, and the status filter offers that procedure's statuses only;
the business finds its own dossier by its product without tones."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login
from tests.support import business, officer

expect.set_options(timeout=10_000)


def test_search_finds_with_and_without_diacritics(live_server, new_page: Any) -> None:
    base, rt = live_server.url, live_server.rt
    with httpx.Client(base_url=base, timeout=30) as client:
        steel = business(client, "Công ty TNHH Thép Đông Hà", rt)  # type: ignore[arg-type]
        product = {**steel.declaration()["product"], "name": "Thép cuộn cán nóng"}
        code = steel.submitted(product=product)
        other = business(client, "Công ty Cổ phần Xi măng Quảng Trị", rt)  # type: ignore[arg-type]
        other_code = other.submitted()
        clerk = officer(client, rt, "clerk")  # type: ignore[arg-type]

    page = new_page()
    login(page, base, clerk.email)
    page.goto(f"{base}/work/dossiers")
    results = page.locator("table.table tbody")
    for typed in ("Đông Hà", "dong ha", "ĐÔNG HÀ", "thep"):
        page.get_by_label("Mã hồ sơ, tên tổ chức hoặc sản phẩm").fill(typed)
        page.get_by_role("button", name="Tìm", exact=True).click()
        expect(results).to_contain_text(code)
        expect(results).not_to_contain_text(other_code)
        expect(page.locator("p.count")).to_have_text("1 hồ sơ")
    screenshot(page, "search-without-tones")

    # The status filter follows the procedure chosen beside it, before any search is sent.
    status = page.get_by_label("Tình trạng")
    page.get_by_label("Thủ tục").select_option("hoi-dap-tbt")
    expect(status.locator("option[value='tbt_answering']")).to_be_enabled()
    expect(status.locator("option[value='awaiting_receipt']")).to_be_disabled()
    page.get_by_label("Thủ tục").select_option("cong-bo-hop-chuan-hop-quy")
    expect(status.locator("option[value='tbt_answering']")).to_be_disabled()
    status.select_option("awaiting_receipt")
    page.get_by_label("Mã hồ sơ, tên tổ chức hoặc sản phẩm").fill("xi mang quang tri")
    page.get_by_role("button", name="Tìm", exact=True).click()
    expect(results).to_contain_text(other_code)
    expect(status).to_have_value("awaiting_receipt")

    # The business searches its own list by its product, without tones.
    assert not page.console_errors
    own = new_page()
    login(own, base, steel.email)
    own.goto(f"{base}/my/dossiers")
    own.get_by_label("Tìm theo mã hồ sơ hoặc sản phẩm").fill("cuon can nong")
    own.get_by_role("button", name="Lọc").click()
    expect(own.locator("table.table tbody")).to_contain_text(code)
    expect(own.locator("p.count")).to_have_text("1 hồ sơ")
    assert not own.console_errors
