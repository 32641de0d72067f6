"""What a person notices of issue 16's details in a real browser: the import task page shows what
decided the inspection, and the dossier page prints without menus, buttons or the diagram."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login
from tests.procedures.import_inspection.test_import_inspection import submitted as import_submitted
from tests.support import business, officer

expect.set_options(timeout=10_000)


def test_the_import_task_shows_the_route_and_the_dossier_page_prints_plainly(
    live_server, new_page: Any
) -> None:
    base, rt = live_server.url, live_server.rt
    with httpx.Client(base_url=base, timeout=30) as client:
        firm = business(client, "Công ty TNHH Nhập khẩu In Ấn", rt)  # type: ignore[arg-type]
        clerk = officer(client, rt, "clerk")  # type: ignore[arg-type]
        code = import_submitted(firm)

    page = new_page()
    login(page, base, clerk.email)
    page.goto(f"{base}/work/inbox")
    page.locator("tr", has=page.get_by_role("link", name=code)).get_by_role(
        "link", name="Xác nhận bản đăng ký kiểm tra"
    ).click()
    decided = page.locator("[data-import-decision]")
    expect(decided.get_by_role("heading")).to_have_text("Căn cứ xác định cách kiểm tra")
    expect(decided).to_contain_text("Hàng hóa rủi ro cao: kiểm tra trên cơ sở giấy chứng nhận hợp quy đã có")
    expect(decided).to_contain_text("QCVN 2:2021/BKHCN; QCVN 3:2019/BKHCN")
    expect(decided).to_contain_text("0 lô liên tiếp đạt")
    screenshot(page, "import-task-decision")
    page.get_by_label("Xác nhận đăng ký").check()
    page.get_by_role("button", name="Hoàn thành").click()
    page.wait_for_url(f"**/dossiers/{code}?flash=*")

    results = page.locator("[data-results]")
    expect(results.get_by_role("heading")).to_have_text("Kết quả giải quyết")
    expect(results).to_contain_text("Xác nhận đăng ký kiểm tra nhà nước")
    expect(page.locator(".main-nav")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in (".main-nav", ".lang-switch", "#diagram", "form.inline-form"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(results).to_be_visible()
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_be_visible()
    expect(page.locator(".site-footer")).to_contain_text("Giờ làm việc")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    screenshot(page, "dossier-print")
    page.goto(f"{base}/work/dossiers")  # a list prints without the menus and the search form
    expect(page.get_by_role("link", name=code)).to_be_visible()
    expect(page.locator(".main-nav")).to_be_hidden()
    for element in page.locator("main form").all():
        expect(element).to_be_hidden()
    assert page.console_errors == []
