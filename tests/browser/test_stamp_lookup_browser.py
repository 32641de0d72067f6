"""The public stamp lookup in a real browser: someone at a market or a petrol station types the
number printed on a verification stamp (in lower case, as phones do), or opens the address its QR
code carries on a phone, and reads whether the instrument is validly verified and until when; a
household owner's name never appears; the English switch keeps the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.metrology_support import body_key, send, taxi
from tests.support import officer
from workflows.catalogue import office_day
from workflows.clock import now

expect.set_options(timeout=10_000)


def test_a_stamp_is_checked_by_its_number_and_by_its_qr_code(live_server, new_page: Any) -> None:
    base, rt = live_server.url, live_server.rt
    today = office_day(now())
    until = today + timedelta(days=400)
    with httpx.Client(base_url=base, timeout=30) as client:
        key = body_key(client, officer(client, rt, "admin"), name="Trung tâm Kỹ thuật TĐC Quảng Trị")  # type: ignore[arg-type]
        sent = send(
            client,
            key,
            taxi(
                kind="spring_scale",
                model="NHƠN HOÀ 30KG",
                serial_number="A-77",
                owner_type="household",
                owner_name="Trần Thị Bé",
                commune="Xã Cam Lộ",
                address="Sạp 14 chợ Cam Lộ",
                stamp_number="C-000100",
                verified_on=(today - timedelta(days=10)).strftime("%d/%m/%Y"),
                valid_until=until.strftime("%d/%m/%Y"),
            ),
        )
        assert sent.status_code == 201, sent.text
    valid = f"Còn hiệu lực kiểm định đến {until:%d/%m/%Y}"

    page = new_page()
    page.goto(f"{base}/")
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role(
        "link", name="Tra cứu phương tiện đo"
    ).click()
    page.get_by_label("Số tem kiểm định").fill("c-000100")
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    answer = page.get_by_test_id("stamp-answer")
    expect(answer).to_have_text(valid)
    main = page.locator("main")
    expect(main).to_contain_text("Cân đồng hồ lò xo")
    expect(main).to_contain_text("Xã Cam Lộ")
    expect(main).to_contain_text("Trung tâm Kỹ thuật TĐC Quảng Trị")
    expect(main).not_to_contain_text("Trần Thị Bé")
    expect(main).not_to_contain_text("Sạp 14")
    screenshot(page, "stamp-lookup")

    # The QR code on the stamp, scanned with a phone: the same answer, and in English on request.
    phone = new_page(viewport_width=390)
    phone.goto(f"{base}/stamps/qr/{sent.json()['stamp_token']}")
    expect(phone.get_by_test_id("stamp-answer")).to_have_text(valid)
    expect(phone.get_by_label("Số tem kiểm định")).to_have_value("C-000100")
    phone.get_by_role("link", name="EN").click()
    expect(phone.get_by_test_id("stamp-answer")).to_have_text(f"Verified until {until:%d/%m/%Y}")
    expect(phone.locator("main")).not_to_contain_text("Trần Thị Bé")
    screenshot(phone, "stamp-lookup-qr-phone")
    assert not page.console_errors and not phone.console_errors
