"""The state quality inspection of imported goods, in a real browser: an importer registers a
shipment with two goods lines (after an inline error on an HS code of 7 digits), the clerk confirms
it, the importer reports the customs clearance and files the certificate, the specialist evaluates
it, the leader signs, and the importer downloads the notice of the inspection result.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import complete, login, open_task, pdf_text, status_of
from tests.support import PASSWORD, PDF, business
from workflows import accounts, document_signing
from workflows.db import transaction

IMPORTER = "Công ty TNHH Thiết Bị Điện Cửa Tùng"
PROCEDURE = "kiem-tra-chat-luong-hang-nhap-khau"
GOODS = [
    ("Dây điện bọc nhựa PVC", "Cadivi", "CV-2.5", "85444949", "Thái Lan", "Thai Yazaki", "1200", "m"),
    ("Ổ cắm điện đôi", "Panasonic", "WEV1582", "85366992", "Nhật Bản", "Panasonic Corp.", "500", "cái"),
]
QCVN = "QCVN 4:2009/BKHCN"
RESULT = "Thông báo kết quả kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def people(live_server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An importer account (through the HTTP API), one officer per role, and a PDF on disk."""
    emails: dict[str, Any] = {}
    with transaction(live_server.rt.engine) as session:
        for role, name in [("clerk", "Lê Một Cửa"), ("specialist", "Trần Kiểm Tra"), ("leader", "Phạm Ký")]:
            emails[role] = f"{role}.nk@so-khcn.quangtri.gov.vn"
            accounts.create_officer_in(
                session,
                email=emails[role],
                password=PASSWORD,
                full_name=name,
                roles=[role],
                job_title="PHÓ GIÁM ĐỐC" if role == "leader" else "",
            )
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        importer = business(client, IMPORTER, live_server.rt)  # type: ignore[arg-type]
    emails["business"] = importer.email
    pdf = tmp_path_factory.mktemp("import-files") / "chung-tu.pdf"
    pdf.write_bytes(PDF)
    emails["pdf"] = pdf
    return emails


def fill_goods_line(page: Page, index: int, values: tuple[str, ...]) -> None:
    fields = ("name", "trademark", "model", "hs_code", "origin", "manufacturer", "quantity", "unit")
    for field, value in zip(fields, values, strict=True):
        page.locator(f"#f-goods-{index}-{field}").fill(value)
    page.locator(f"#f-goods-{index}-qcvn").fill(QCVN)
    page.locator(f"#f-goods-{index}-risk_level-2").check()  # high risk (Circular 36/2026/TT-BKHCN)


def office_day(days: int = 0) -> str:
    """The office's date (Asia/Ho_Chi_Minh) ``days`` from today, as a date field takes it."""
    return (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + timedelta(days=days)).isoformat()


def test_an_import_shipment_from_registration_to_the_signed_result(live_server, people, new_page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    pdf: Path = people["pdf"]

    page = new_page()
    login(page, base, people["business"])
    page.goto(f"{base}/procedures/{PROCEDURE}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu"
    )
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    page.wait_for_url(f"**/my/dossiers/new/{PROCEDURE}")
    expect(page.locator("#f-importer-name")).to_have_value(IMPORTER)
    page.locator("#f-importer-phone").fill("0233 3561 789")  # the account has no phone to prefill

    fill_goods_line(page, 0, (*GOODS[0][:3], "8544494", *GOODS[0][4:]))  # 7 digits
    page.get_by_role("button", name="Thêm dòng").first.click()
    fill_goods_line(page, 1, GOODS[1])
    page.locator("#f-customs_declaration_number").fill("105987654320")
    page.locator("#f-contract_number").fill("HĐ-2026/TBĐ-01")
    page.locator("#f-invoice_number").fill("INV-88231")
    page.locator("#f-packing_list_number").fill("PL-88231")
    page.locator("#f-bill_of_lading_number").fill("HPH-BL-4471")
    page.locator("#f-port_of_entry").fill("Cảng Hải Phòng")
    page.locator("#f-expected_arrival").fill(office_day(7))
    page.locator("#f-has_conformity_certificate").check()
    for attachment in ("contract", "invoice", "packing_list", "bill_of_lading"):
        page.locator(f"#f-attachments-{attachment}").set_input_files(pdf)
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()

    hs_code = page.locator("#f-goods-0-hs_code")
    expect(hs_code).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[data-field="goods.0.hs_code"] .field-error')).to_be_visible()
    # What was typed is kept, the second line included.
    expect(page.locator("#f-goods-1-name")).to_have_value(GOODS[1][0])
    expect(page.locator("#f-port_of_entry")).to_have_value("Cảng Hải Phòng")
    screenshot(page, "import-registration-with-errors")
    page.console_errors.clear()

    hs_code.fill(GOODS[0][3])
    for attachment in ("contract", "invoice", "packing_list", "bill_of_lading"):
        page.locator(f"#f-attachments-{attachment}").set_input_files(pdf)
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    page.wait_for_url(re.compile(r"/dossiers/[^/?]+\?flash=submitted"))
    code = page.locator("h1 .code").inner_text()
    expect(status_of(page)).to_have_text("Chờ xác nhận đăng ký")
    content = page.locator("section", has=page.get_by_role("heading", name="Nội dung hồ sơ"))
    for line in GOODS:
        expect(content).to_contain_text(line[0])
        expect(content).to_contain_text(line[3])
    screenshot(page, "import-dossier-business")

    clerk = new_page()
    login(clerk, base, people["clerk"])
    open_task(clerk, base, code, "Xác nhận bản đăng ký kiểm tra")
    clerk.get_by_label("Xác nhận đăng ký").check()
    complete(clerk, code)
    expect(status_of(clerk)).to_have_text("Chờ báo cáo thông quan")

    page.goto(f"{base}/dossiers/{code}")
    expect(status_of(page)).to_have_text("Chờ báo cáo thông quan")
    documents = page.locator("section", has=page.get_by_role("heading", name="Kết quả giải quyết"))
    expect(documents).to_contain_text("Xác nhận đăng ký kiểm tra nhà nước")
    page.locator(".card--action").get_by_role("link", name="Báo cáo thông quan hàng hóa").click()
    page.locator("#f-clearance_date").fill(office_day())
    complete(page, code)
    expect(status_of(page)).to_have_text("Chờ nộp chứng chỉ chất lượng")
    page.locator(".card--action").get_by_role("link", name="Nộp chứng chỉ chất lượng").click()
    page.locator("#f-certificate_number").fill("VNCC-2026-11873")
    page.locator("#f-issuing_body").fill("Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 1")
    page.locator("#f-issued_on").fill(office_day())
    page.locator("#f-certificate_file").set_input_files(pdf)
    complete(page, code)

    specialist = new_page()
    login(specialist, base, people["specialist"])
    open_task(specialist, base, code, "Đánh giá chứng chỉ, dự thảo thông báo kết quả")
    specialist.get_by_label("Nhận xét").fill("Chứng chỉ hợp lệ, khớp với hai dòng hàng đã đăng ký.")
    specialist.get_by_label("Đáp ứng yêu cầu chất lượng", exact=True).check()
    complete(specialist, code)

    leader = new_page()
    login(leader, base, people["leader"])
    open_task(leader, base, code, "Ký thông báo kết quả kiểm tra")
    leader.get_by_label("Phê duyệt, ký thông báo").check()
    complete(leader, code)
    expect(status_of(leader)).to_have_text("Đáp ứng yêu cầu chất lượng")

    page.goto(f"{base}/dossiers/{code}")
    expect(status_of(page)).to_have_text("Đáp ứng yêu cầu chất lượng")
    notice = documents.locator("li").filter(has_text=RESULT)
    expect(notice).to_have_count(1)
    # The worker signs the result; the importer then opens the PDF signed by the Department.
    document_signing.sign_due(live_server.rt)
    page.reload()
    link = notice.locator("a[href^='/files/documents/']")
    expect(link).to_contain_text("PDF")
    screenshot(page, "import-dossier-passed")
    official = page.request.get(base + (link.get_attribute("href") or ""))
    assert official.ok and official.headers["content-type"] == "application/pdf"
    text = pdf_text(official.body())
    assert code.replace("-", "") in text.replace("-", "")
    assert IMPORTER in text
    for line in GOODS:
        assert line[0] in text
    for each in (page, clerk, specialist, leader):
        assert each.console_errors == []
