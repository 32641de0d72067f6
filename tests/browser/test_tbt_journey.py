"""The TBT inquiry point in a real browser: a visitor asks (no account, a small sum instead of a
CAPTCHA image), the TBT officer classifies, answers and publishes from the inbox, the visitor sees
the answer by the secret link, and anyone finds the published answer by searching without
diacritics."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import complete, login, open_task
from tests.support import PASSWORD
from workflows import accounts, document_signing
from workflows.db import reading, transaction
from workflows.models import Dossier

expect.set_options(timeout=10_000)

SUBJECT = "Yêu cầu đối với thép không gỉ xuất khẩu sang EU"
ANSWER = "Thép không gỉ cán nguội xuất khẩu sang EU áp dụng tiêu chuẩn EN 10088-2 và Quy định (EU) 305/2011."


def test_visitor_asks_officer_answers_published_answer_is_found(live_server, new_page: Any) -> None:
    base = live_server.url
    with transaction(live_server.rt.engine) as session:
        accounts.create_officer_in(
            session,
            email="tbt@so-khcn.gov.vn",
            password=PASSWORD,
            full_name="Phạm Thu Hà",
            roles=["tbt_officer"],
        )

    visitor = new_page()
    visitor.goto(f"{base}/")
    visitor.get_by_role("link", name="Hỏi đáp TBT").click()
    visitor.get_by_role("link", name="Gửi câu hỏi").first.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Gửi câu hỏi về TBT")
    visitor.get_by_label("Tiêu đề câu hỏi").fill(SUBJECT)
    visitor.get_by_label("Sản phẩm, hàng hóa").fill("Thép không gỉ cán nguội")
    visitor.get_by_label("Mã HS").fill("7219.33")
    visitor.get_by_label("Thị trường").fill("EU")
    visitor.get_by_label("Nội dung câu hỏi").fill(
        "Thép không gỉ cán nguội xuất khẩu sang EU cần đáp ứng tiêu chuẩn và chứng nhận nào?"
    )
    visitor.get_by_label("Họ và tên").fill("Trần Thị Khách")
    visitor.get_by_label("Thư điện tử").fill("khach@example.vn")
    visitor.get_by_label("Đồng ý công bố").check()
    label = visitor.locator("label[for='f-captcha_answer']").inner_text()
    a, b = (int(n) for n in re.findall(r"(\d+) cộng (\d+)", label)[0])
    # A wrong sum first: the form comes back with the field marked and nothing typed lost.
    visitor.locator("#f-captcha_answer").fill(str(a + b + 1))
    visitor.get_by_role("button", name="Gửi câu hỏi").click()
    expect(visitor.locator("#e-captcha_answer")).to_contain_text("Kết quả phép tính chưa đúng")
    expect(visitor.get_by_label("Tiêu đề câu hỏi")).to_have_value(SUBJECT)
    label = visitor.locator("label[for='f-captcha_answer']").inner_text()
    a, b = (int(n) for n in re.findall(r"(\d+) cộng (\d+)", label)[0])
    visitor.locator("#f-captcha_answer").fill(str(a + b))
    visitor.get_by_role("button", name="Gửi câu hỏi").click()
    # Post/Redirect/Get: the visitor lands on the inquiry's own secret page, told to keep it.
    expect(visitor.locator("#asked-notice")).to_contain_text("Câu hỏi đã được tiếp nhận với mã")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    code = visitor.locator(".page-head .code").inner_text().strip()
    follow = visitor.url.removeprefix(base).split("?")[0]
    assert follow.startswith(f"/tbt/follow/{code}/")
    screenshot(visitor, "tbt-asked")
    visitor.reload()  # a reload fetches the page again; it does not send the question twice
    expect(visitor.locator("#asked-notice")).to_be_visible()
    with reading(live_server.rt.engine) as session:
        assert len(session.exec(select(Dossier).where(Dossier.procedure_code == "hoi-dap-tbt")).all()) == 1

    officer = new_page()
    login(officer, base, "tbt@so-khcn.gov.vn")
    open_task(officer, base, code, "Phân loại câu hỏi")
    officer.get_by_label("Quy chuẩn kỹ thuật").check()
    officer.get_by_label("Điểm hỏi đáp TBT trả lời").check()
    complete(officer, code)
    open_task(officer, base, code, "Soạn câu trả lời")
    officer.get_by_label("Nội dung trả lời").fill(ANSWER)
    complete(officer, code)
    open_task(officer, base, code, "Biên tập, ẩn danh và công bố hỏi đáp")
    officer.get_by_label("Công bố", exact=True).check()
    complete(officer, code)
    expect(officer.locator(".page-head .status")).to_have_text("Đã trả lời")

    document_signing.sign_due(live_server.rt)  # the worker signs the answer letter
    visitor.goto(f"{base}{follow}")
    expect(visitor.locator(".page-head .status")).to_have_text("Đã trả lời")
    expect(visitor.locator("#answer")).to_contain_text("EN 10088-2")
    letter = visitor.get_by_role("link", name=re.compile("Công văn trả lời câu hỏi về TBT"))
    expect(letter).to_be_visible()
    official = visitor.request.get(base + (letter.get_attribute("href") or ""))
    assert official.ok and official.headers["content-type"] == "application/pdf"

    anyone = new_page()
    anyone.goto(f"{base}/tbt")
    anyone.get_by_label("Tìm trong hỏi đáp (có dấu hoặc không dấu)").fill("thep khong gi EU")
    anyone.get_by_role("button", name="Tìm", exact=True).click()
    expect(anyone.locator(".count")).to_have_text("Số kết quả tìm thấy cho “thep khong gi EU”: 1")
    result = anyone.locator(".result").first
    expect(result.locator("mark").first).to_have_text("thép")
    result.get_by_role("link").click()
    expect(anyone.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(anyone.locator("article")).not_to_contain_text("Trần Thị Khách")
    screenshot(anyone, "tbt-kb-entry")
    # The wrong sum's form came back with 422 on purpose; nothing else may fail.
    assert [e for e in visitor.console_errors if "status of 422" not in e] == []
    assert officer.console_errors == [] and anyone.console_errors == []
