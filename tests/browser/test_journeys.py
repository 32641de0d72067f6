"""The people of a dossier, in a real browser: a business registers and files a declaration, the clerk
asks for a supplement, the business completes it, the clerk, the specialist and the leader take it to
the end, and anyone checks the result. Also: access between businesses, the English interface, no
console errors, escaping, phone-width pages and the no-JavaScript "add a row".

The journey tests (``test_1_`` to ``test_6_``) share one dossier on the module's live server: each
runs its step, after the earlier steps if this worker has not run them (see ``Journey``). The other
tests seed what they need through the HTTP API.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from babel.messages.pofile import read_po
from docx import Document
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.support import PASSWORD, PDF, PROCEDURE, Person, business, mailed_link
from workflows import accounts, document_signing
from workflows.db import transaction
from workflows.runtime import Runtime

PRODUCT = "Mũ bảo hiểm cho người đi mô tô"
PRODUCT_FIXED = "Mũ bảo hiểm cho người đi mô tô, xe máy (kiểu AT-02)"
STANDARD = "QCVN 2:2021/BKHCN"
ORGANISATION = "Công ty TNHH Mũ Bảo Hiểm Quảng Trị"
XSS = "<img src=x onerror=alert(1)>"
NOTICE = "Thông báo tiếp nhận hồ sơ công bố"
MISSING = [
    "Bản sao giấy chứng nhận hợp quy còn hiệu lực",
    "Mẫu nhãn sản phẩm có dấu hợp quy CR",
]
PO_FILE = Path(__file__).resolve().parents[2] / "api" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
DUE = re.compile(r"\d{2}:\d{2} \d{2}/\d{2}/\d{4}")

# Some headroom over the 5 s default: the suite also runs under `pytest -n 2` beside the other tests.
expect.set_options(timeout=10_000)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def officers(live_server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One officer per role (and an admin), made directly in the database; their e-mails by role."""
    emails = {}
    with transaction(live_server.rt.engine) as session:
        for role, name in [
            ("clerk", "Lê Thị Tiếp Nhận"),
            ("specialist", "Trần Văn Thẩm Định"),
            ("leader", "Phạm Quang Lãnh Đạo"),
            ("admin", "Quản Trị Viên"),
        ]:
            emails[role] = f"{role}@so-khcn.quangtri.gov.vn"
            accounts.create_officer_in(
                session,
                email=emails[role],
                password=PASSWORD,
                full_name=name,
                roles=[role],
                # A leader signs results as a deputy director (KT. GIÁM ĐỐC), never as a bare name.
                job_title="PHÓ GIÁM ĐỐC" if role == "leader" else "",
            )
    return emails


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small valid PDFs on disk, for set_input_files."""
    folder = tmp_path_factory.mktemp("uploads")
    paths = {}
    for key, name in [
        ("declaration_form", "ban-cong-bo.pdf"),
        ("business_registration", "dang-ky-kinh-doanh.pdf"),
        ("certificate_copy", "giay-chung-nhan-hop-quy.pdf"),
    ]:
        paths[key] = folder / name
        paths[key].write_bytes(PDF)
    return paths


@pytest.fixture(scope="module")
def seeded(live_server) -> Person:  # type: ignore[no-untyped-def]
    """A business with a dossier waiting for the clerk, made through the HTTP API (not the pages)."""
    client = httpx.Client(base_url=live_server.url, timeout=30)
    owner = business(client, "Công ty CP Thiết Bị Điện Gio Linh", live_server.rt)  # type: ignore[arg-type]
    owner.extra["code"] = owner.submitted()
    yield owner
    client.close()


# --- helpers -----------------------------------------------------------------------------------


def login(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Thư điện tử hoặc mã số thuế").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def register(page: Page, base: str, organisation: str, tax_code: str, email: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Tên tổ chức, doanh nghiệp").fill(organisation)
    page.get_by_label("Mã số thuế").fill(tax_code)
    page.get_by_label("Họ tên người đăng ký").fill("Nguyễn Văn An")
    page.get_by_label("Thư điện tử").fill(email)
    page.get_by_label("Điện thoại").fill("0233 3852 123")
    page.get_by_label("Địa chỉ").fill("12 Lê Duẩn, Đông Hà, Quảng Trị")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("#f-password_confirm").fill(PASSWORD)


def confirm_email(page: Page, base: str, rt: Runtime, email: str) -> None:
    """After registering: open the verification link e-mailed (written to the outbox), confirm,
    and log in from the page that says it is done (to "my dossiers", welcomed)."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra hộp thư của bạn")
    page.goto(base + mailed_link(rt, email))
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đã xác nhận địa chỉ thư điện tử")
    page.locator("main").get_by_role("link", name="Đăng nhập").click()
    page.get_by_label("Thư điện tử hoặc mã số thuế").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Đăng nhập").click()


def open_task(page: Page, base: str, code: str, task_name: str) -> None:
    """From the inbox, the task of this dossier."""
    page.goto(f"{base}/work/inbox")
    row = page.locator("tr", has=page.get_by_role("link", name=code)).filter(has_text=task_name)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=task_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(task_name))


def complete(page: Page, code: str) -> None:
    page.get_by_role("button", name="Hoàn thành").click()
    page.wait_for_url(re.compile(rf"/dossiers/{re.escape(code)}\?flash="))


def wait_for_diagram(page: Page) -> None:
    expect(page.locator("#diagram.diagram--ready svg").first).to_be_attached(timeout=10_000)
    expect(page.locator("#diagram.diagram--failed")).to_have_count(0)


def status_of(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".page-head .status")


def pdf_text(content: bytes) -> str:
    """What a reader sees in a PDF (poppler's pdftotext), lines joined."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


def docx_text(path: str) -> str:
    document = Document(path)
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def no_horizontal_scroll(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")


# --- the journey -------------------------------------------------------------------------------

STEPS: list[Callable[[Journey, Any], None]] = []


def step(function: Callable[[Journey, Any], None]) -> Callable[[Journey, Any], None]:
    STEPS.append(function)
    return function


class Journey:
    """The one dossier the journey tests share, and what its steps hand to each other.

    Each journey test runs the earlier steps this worker has not run yet (``pytest -n`` may send a
    module's tests to different workers, each with its own live server), every step at most once; a
    step that failed is not run again, the tests after it are skipped.
    """

    def __init__(self, base: str, officers: dict[str, str], files: dict[str, Path], rt: Runtime) -> None:
        self.base = base
        self.rt = rt
        self.officers = officers
        self.files = files
        self.state: dict[str, Any] = {}
        self.done: set[str] = set()
        self.failed: set[str] = set()

    def run(self, function: Callable[[Journey, Any], None], new_page: Any) -> None:
        for earlier in STEPS[: STEPS.index(function)]:
            if earlier.__name__ in self.failed:
                pytest.skip(f"the journey step {earlier.__name__} failed")
            if earlier.__name__ not in self.done:
                self._do(earlier, new_page)
        self._do(function, new_page)

    def _do(self, function: Callable[[Journey, Any], None], new_page: Any) -> None:
        try:
            function(self, new_page)
        except BaseException:
            self.failed.add(function.__name__)
            raise
        self.done.add(function.__name__)


@pytest.fixture(scope="module")
def journey(live_server, officers, files) -> Journey:  # type: ignore[no-untyped-def]
    return Journey(live_server.url, officers, files, live_server.rt)


@step
def business_registers_and_submits_after_an_inline_error(j: Journey, new_page: Any) -> None:
    base = j.base
    page = new_page()
    page.goto(base + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dịch vụ công trực tuyến")
    screenshot(page, "home")

    page.get_by_role("link", name="Đăng ký doanh nghiệp").click()
    register(page, base, ORGANISATION, "3201234564", "phaply@mubaohiem-qt.vn")
    screenshot(page, "register")
    page.get_by_role("button", name="Đăng ký").click()
    confirm_email(page, base, j.rt, "phaply@mubaohiem-qt.vn")
    page.wait_for_url("**/my/dossiers?welcome=1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ của tôi")
    expect(page.get_by_role("status")).to_contain_text("Đăng ký thành công")
    expect(page.locator(".whoami")).to_have_text(ORGANISATION)

    # The procedure from the home page, then "Nộp hồ sơ".
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role(
        "link", name="Danh mục thủ tục"
    ).click()
    card = page.locator(".procedure-card").first
    expect(card.get_by_role("link", name="Nộp hồ sơ", exact=True)).to_have_attribute(
        "href", f"/my/dossiers/new/{PROCEDURE}"
    )
    card.get_by_role("heading").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Công bố hợp chuẩn, hợp quy")
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    page.wait_for_url(f"**/my/dossiers/new/{PROCEDURE}")
    # Prefilled from the account.
    expect(page.locator("#f-applicant-tax_code")).to_have_value("3201234564")
    expect(page.locator("#f-applicant-name")).to_have_value(ORGANISATION)

    page.get_by_label("Công bố hợp quy").check()
    page.locator("#f-product-manufacturer").fill(ORGANISATION)
    page.locator("#f-product-place_of_production").fill("Khu công nghiệp Nam Đông Hà, Quảng Trị")
    page.get_by_label("Số hiệu tiêu chuẩn / quy chuẩn").fill(STANDARD)
    page.get_by_label("Kết quả chứng nhận của tổ chức chứng nhận").check()
    page.locator("#f-certificate-number").fill("QC-2026-001")
    page.locator("#f-certificate-body").fill("Quacert")
    page.locator("#f-certificate-issued_on").fill("2026-01-05")
    page.get_by_label("Có hiệu lực đến").fill("2029-01-04")
    page.locator("#f-attachments-declaration_form").set_input_files(j.files["declaration_form"])
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()

    # The inline error next to the product name; what was typed and uploaded is kept.
    name = page.locator("#f-product-name")
    expect(name).to_have_attribute("aria-invalid", "true")
    error = page.locator('[data-field="product.name"] .field-error')
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    assert error.get_attribute("id") in (name.get_attribute("aria-describedby") or "").split()
    expect(page.locator(".error-summary a[href='#f-product-name']")).to_be_visible()
    expect(page.get_by_label("Số hiệu tiêu chuẩn / quy chuẩn")).to_have_value(STANDARD)
    expect(page.locator("#f-product-place_of_production")).to_have_value(
        re.compile("Khu công nghiệp Nam Đông Hà")
    )
    expect(page.get_by_label("Công bố hợp quy")).to_be_checked()
    uploaded = page.locator('[data-field="attachments.declaration_form"] .file-current')
    expect(uploaded).to_contain_text("ban-cong-bo.pdf")
    screenshot(page, "new-dossier-with-errors")
    # Chrome logs the form's 422 answer as a failed resource; that one is expected, nothing else.
    assert all("status of 422" in message for message in page.console_errors), page.console_errors
    page.console_errors.clear()

    name.fill(PRODUCT)
    page.locator("#f-attachments-business_registration").set_input_files(j.files["business_registration"])
    page.locator("#f-attachments-certificate_copy").set_input_files(j.files["certificate_copy"])
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()

    page.wait_for_url(re.compile(r"/dossiers/[^/?]+\?flash=submitted"))
    code = page.locator("h1 .code").inner_text()
    assert re.fullmatch(r"000\.00\.15\.H50-\d{6}-\d{4}", code), code
    expect(status_of(page)).to_have_text("Chờ tiếp nhận")
    expect(page.get_by_role("status")).to_contain_text("Đã nộp hồ sơ")
    content = page.locator("section", has=page.get_by_role("heading", name="Nội dung hồ sơ"))
    expect(content).to_contain_text(PRODUCT)
    for pdf in j.files.values():
        expect(content.get_by_role("link", name=pdf.name)).to_be_visible()
    wait_for_diagram(page)
    screenshot(page, "dossier-business")
    assert page.console_errors == []
    j.state.update(code=code, email="phaply@mubaohiem-qt.vn")


@step
def clerk_requests_a_supplement_of_two_items(j: Journey, new_page: Any) -> None:
    code = j.state["code"]
    base = j.base
    page = new_page()
    login(page, base, j.officers["clerk"])
    page.wait_for_url("**/work/inbox")
    row = page.locator("tr", has=page.get_by_role("link", name=code))
    expect(row).to_have_count(1)
    expect(row.locator(".due").first).to_have_text(DUE)
    expect(row).to_contain_text(ORGANISATION)
    expect(row).to_contain_text("Chưa nhận")
    screenshot(page, "inbox")

    row.get_by_role("link", name="Kiểm tra tính đầy đủ của hồ sơ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra tính đầy đủ của hồ sơ")
    expect(page.locator(".page-head .due")).to_contain_text("Hạn:")
    page.get_by_label("Yêu cầu bổ sung, hoàn thiện hồ sơ").check()
    page.locator("#f-missing_items-0").fill(MISSING[0])
    url = page.url
    page.evaluate("window.__samePage = true")
    page.get_by_role("button", name="Thêm dòng").click()
    second = page.locator("#f-missing_items-1")
    expect(second).to_be_visible()
    expect(second).to_be_focused()
    assert page.url == url and page.evaluate("window.__samePage === true"), "the row was added in the page"
    expect(page.locator("#f-missing_items-0")).to_have_value(MISSING[0])
    second.fill(MISSING[1])
    screenshot(page, "task-clerk")
    complete(page, code)
    expect(status_of(page)).to_have_text("Yêu cầu bổ sung")
    expect(page.locator(".missing-items li")).to_have_text(MISSING)
    assert page.console_errors == []


@step
def business_sees_the_request_and_supplements(j: Journey, new_page: Any) -> None:
    code = j.state["code"]
    base = j.base
    page = new_page()
    login(page, base, j.state["email"])
    page.get_by_role("link", name=code).click()
    expect(status_of(page)).to_have_text("Yêu cầu bổ sung")
    request = page.locator(
        "section", has=page.get_by_role("heading", name="Yêu cầu bổ sung, hoàn thiện hồ sơ")
    )
    expect(request.locator(".missing-items li")).to_have_text(MISSING)

    page.locator(".card--action").get_by_role("link", name="Bổ sung, hoàn thiện hồ sơ").click()
    page.wait_for_url("**/my/tasks/*")
    expect(page.locator(".card--attention .missing-items li")).to_have_text(MISSING)
    name = page.locator("#f-product-name")
    expect(name).to_have_value(PRODUCT)
    # The files already filed come back with the form.
    expect(page.locator('[data-field="attachments.declaration_form"] .file-current')).to_contain_text(
        "ban-cong-bo.pdf"
    )
    name.fill(PRODUCT_FIXED)
    page.get_by_label("Nội dung đã bổ sung").fill("Đã sửa tên sản phẩm; bổ sung mẫu nhãn có dấu CR.")
    screenshot(page, "task-supplement")
    complete(page, code)
    expect(page.get_by_role("status")).to_contain_text("Đã gửi hồ sơ bổ sung")
    expect(status_of(page)).to_have_text("Chờ tiếp nhận")
    content = page.locator("section", has=page.get_by_role("heading", name="Nội dung hồ sơ"))
    expect(content).to_contain_text(PRODUCT_FIXED)
    assert page.console_errors == []


@step
def officers_take_it_to_the_result_and_the_business_downloads_it(j: Journey, new_page: Any) -> None:
    code = j.state["code"]
    base = j.base

    clerk = new_page()
    login(clerk, base, j.officers["clerk"])
    open_task(clerk, base, code, "Kiểm tra lại hồ sơ đã bổ sung")
    clerk.get_by_label("Hồ sơ đầy đủ, tiếp nhận").check()
    complete(clerk, code)
    expect(status_of(clerk)).to_have_text("Đang xử lý")

    specialist = new_page()
    login(specialist, base, j.officers["specialist"])
    open_task(specialist, base, code, "Thẩm định hồ sơ")
    dossier_column = specialist.locator("section.card").filter(
        has=specialist.get_by_role("heading", name="Hồ sơ", exact=True)
    )
    expect(dossier_column).to_contain_text(PRODUCT_FIXED)
    specialist.get_by_label("Nhận xét, kết quả xem xét hồ sơ").fill(
        "Hồ sơ đầy đủ, giấy chứng nhận còn hiệu lực."
    )
    specialist.get_by_label("Đạt: đề nghị ban hành thông báo").check()
    complete(specialist, code)
    expect(status_of(specialist)).to_have_text("Chờ phê duyệt")

    leader = new_page()
    login(leader, base, j.officers["leader"])
    open_task(leader, base, code, "Phê duyệt, ký kết quả")
    leader.get_by_label("Phê duyệt, ký ban hành").check()
    complete(leader, code)
    expect(status_of(leader)).to_have_text("Đã trả kết quả")

    page = new_page()
    login(page, base, j.state["email"])
    page.goto(f"{base}/dossiers/{code}")
    expect(status_of(page)).to_have_text("Đã trả kết quả")
    documents = page.locator("section", has=page.get_by_role("heading", name="Kết quả giải quyết"))
    # The result, set apart from the one-stop slips (receipt, supplement request, process control).
    notice = documents.locator("li").filter(has_text=NOTICE)
    expect(notice).to_have_count(1)
    # Until the worker has signed it, the result says so; then it is the PDF signed by the agency.
    expect(notice.locator("[data-being-signed]")).to_have_count(1)
    document_signing.sign_due(j.rt)
    page.reload()
    link = notice.locator("a[href^='/files/documents/']")
    expect(link).to_contain_text("PDF")
    expect(notice.locator(".badge--signed")).to_have_count(1)
    expect(notice.locator("a[download]")).to_have_count(0)  # the .docx is the officers' copy
    wait_for_diagram(page)
    screenshot(page, "dossier-issued")
    official = page.request.get(base + (link.get_attribute("href") or ""))
    assert official.ok and official.headers["content-type"] == "application/pdf"
    text = pdf_text(official.body())
    assert code.replace("-", "") in text.replace("-", "")
    assert ORGANISATION in text
    verification = notice.locator("a[href^='/verify/']").inner_text()
    j.state.update(document_url=link.get_attribute("href"), verification=verification)
    # The leader's dossier page offers the editable .docx beside it.
    leader.goto(f"{base}/dossiers/{code}")
    with leader.expect_download() as info:
        leader.locator("li").filter(has_text=NOTICE).locator("a[download]").click()
    assert info.value.suggested_filename.endswith(".docx"), info.value.suggested_filename
    assert ORGANISATION in docx_text(info.value.path())
    for each in (clerk, specialist, leader, page):
        assert each.console_errors == []


@step
def anyone_looks_the_dossier_up_and_verifies_the_document(j: Journey, new_page: Any) -> None:
    code = j.state["code"]
    verification = j.state["verification"]
    base = j.base
    page = new_page()
    page.goto(base + "/")
    page.get_by_role("link", name="Tra cứu hồ sơ").click()
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(code)
    expect(facts.locator(".status")).to_have_text("Đã trả kết quả")
    expect(page.get_by_text(ORGANISATION)).to_have_count(0)  # the public page names no one
    screenshot(page, "lookup")

    page.get_by_role("link", name="Xác thực văn bản").click()
    page.get_by_label("Mã xác thực").fill(verification)
    page.get_by_role("button", name="Xác thực", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Văn bản hợp lệ")
    expect(page.locator("dl.facts")).to_contain_text(code)
    expect(page.locator("dl.facts")).to_contain_text(NOTICE)
    screenshot(page, "verify")

    assert page.console_errors == []

    response = page.goto(f"{base}/verify/AAAA-BBBB-CCCC")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("Không tìm thấy văn bản")


@step
def another_business_cannot_open_the_dossier_or_its_document(j: Journey, new_page: Any) -> None:
    code = j.state["code"]
    document_url = j.state["document_url"]
    base = j.base
    page = new_page()
    register(page, base, "Công ty TNHH Thép Cửa Việt", "3209876549", "ketoan@thep-cuaviet.vn")
    page.get_by_role("button", name="Đăng ký").click()
    confirm_email(page, base, j.rt, "ketoan@thep-cuaviet.vn")
    page.wait_for_url("**/my/dossiers?welcome=1")

    response = page.goto(f"{base}/dossiers/{code}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
    expect(page.get_by_text(ORGANISATION)).to_have_count(0)
    for url in (document_url, f"/dossiers/{code}/diagram.json"):
        answer = page.request.get(base + url)
        assert answer.status == 404, url
        assert ORGANISATION not in answer.text()


def test_1_business_registers_and_submits_after_an_inline_error(journey: Journey, new_page: Any) -> None:
    journey.run(business_registers_and_submits_after_an_inline_error, new_page)


def test_2_clerk_requests_a_supplement_of_two_items(journey: Journey, new_page: Any) -> None:
    journey.run(clerk_requests_a_supplement_of_two_items, new_page)


def test_3_business_sees_the_request_and_supplements(journey: Journey, new_page: Any) -> None:
    journey.run(business_sees_the_request_and_supplements, new_page)


def test_4_officers_take_it_to_the_result_and_the_business_downloads_it(
    journey: Journey, new_page: Any
) -> None:
    journey.run(officers_take_it_to_the_result_and_the_business_downloads_it, new_page)


def test_5_anyone_looks_the_dossier_up_and_verifies_the_document(journey: Journey, new_page: Any) -> None:
    journey.run(anyone_looks_the_dossier_up_and_verifies_the_document, new_page)


def test_6_another_business_cannot_open_the_dossier_or_its_document(journey: Journey, new_page: Any) -> None:
    journey.run(another_business_cannot_open_the_dossier_or_its_document, new_page)


# --- the rest ----------------------------------------------------------------------------------


def test_without_javascript_add_row_re_renders_with_one_more_row(live_server, new_page, officers, seeded):
    base = live_server.url
    code = seeded.extra["code"]
    page = new_page(java_script_enabled=False)
    login(page, base, officers["clerk"])
    open_task(page, base, code, "Kiểm tra tính đầy đủ của hồ sơ")
    task_url = page.url
    page.get_by_label("Yêu cầu bổ sung, hoàn thiện hồ sơ").check()
    page.locator("#f-missing_items-0").fill(MISSING[0])
    expect(page.locator("#f-missing_items-1")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Thêm dòng").click()
    assert page.url == task_url
    expect(page.locator("#f-missing_items-1")).to_be_visible()
    expect(page.locator("#f-missing_items-0")).to_have_value(MISSING[0])
    expect(page.get_by_label("Yêu cầu bổ sung, hoàn thiện hồ sơ")).to_be_checked()
    expect(page.locator(".array-row__number")).to_have_text(["1", "2"])
    # Nothing was decided: the task is still open and unclaimed.
    page.goto(f"{base}/work/inbox")
    row = page.locator("tr", has=page.get_by_role("link", name=code))
    expect(row).to_contain_text("Chưa nhận")


def test_language_switch_shows_the_english_interface(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="EN", exact=True).click()
    page.wait_for_url("**/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Data carries its own English (the catalogue), whatever the message catalogue holds.
    expect(page.locator(".procedure-card h3").first).to_contain_text("Declaration of conformity")
    expect(page.locator(".lang-switch [aria-current]")).to_have_text("EN")
    # The language sticks (cookie) on the next page.
    page.get_by_role("link", name="Declaration of conformity").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(live_server.url + "/")

    message = None
    if PO_FILE.exists():
        with PO_FILE.open("rb") as handle:
            message = read_po(handle, locale="en").get("Danh mục thủ tục")
    if message is None or not message.string:
        pytest.xfail(
            "catalogue pending: api/locale/en/LC_MESSAGES/messages.po has no English for 'Danh mục thủ tục'"
        )
    nav = page.get_by_role("navigation").filter(has=page.locator("a[href='/lookup']"))
    expect(nav.get_by_role("link", name=message.string, exact=True)).to_be_visible()


def test_main_pages_have_no_console_errors(live_server, new_page, officers, seeded):
    base = live_server.url
    code = seeded.extra["code"]
    owner = new_page()
    login(owner, base, seeded.email)
    for path in ("/", f"/my/dossiers/new/{PROCEDURE}", "/my/dossiers"):
        owner.goto(base + path)
        owner.wait_for_load_state("networkidle")
    owner.goto(f"{base}/dossiers/{code}")
    wait_for_diagram(owner)
    # The step waiting now is marked on the diagram.
    expect(owner.locator("#diagram .djs-element.step-current")).not_to_have_count(0)
    assert owner.console_errors == []

    clerk = new_page()
    login(clerk, base, officers["clerk"])
    clerk.wait_for_load_state("networkidle")
    open_task(clerk, base, code, "Kiểm tra tính đầy đủ của hồ sơ")
    clerk.wait_for_load_state("networkidle")
    clerk.goto(f"{base}/dossiers/{code}")
    wait_for_diagram(clerk)
    assert clerk.console_errors == []


def test_html_in_the_business_name_shows_as_text(live_server, new_page, officers):
    base = live_server.url
    page = new_page()
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    register(page, base, XSS, "3205550017", "xss@vi-du.vn")
    page.get_by_role("button", name="Đăng ký").click()
    confirm_email(page, base, live_server.rt, "xss@vi-du.vn")
    page.wait_for_url("**/my/dossiers?welcome=1")
    expect(page.locator(".whoami")).to_have_text(XSS)
    page.goto(f"{base}/my/dossiers/new/{PROCEDURE}")
    expect(page.locator("#f-applicant-name")).to_have_value(XSS)
    expect(page.locator("img[src='x']")).to_have_count(0)

    # A dossier under that name, then the pages that show it to officers.
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/auth/token", data={"username": "xss@vi-du.vn", "password": PASSWORD})
    person = Person(client, "xss@vi-du.vn", token.json()["access_token"], "3205550017", XSS)  # type: ignore[arg-type]
    code = person.submitted()
    client.close()
    page.goto(f"{base}/dossiers/{code}")
    expect(page.locator(".page-head")).to_contain_text(XSS)
    wait_for_diagram(page)

    clerk = new_page()
    clerk.on("dialog", on_dialog)
    login(clerk, base, officers["clerk"])
    row = clerk.locator("tr", has=clerk.get_by_role("link", name=code))
    expect(row).to_contain_text(XSS)
    open_task(clerk, base, code, "Kiểm tra tính đầy đủ của hồ sơ")
    expect(clerk.locator(".page-head")).to_contain_text(XSS)
    for each in (page, clerk):
        expect(each.locator("img[src='x']")).to_have_count(0)
        assert each.console_errors == []
    assert dialogs == []


def test_admin_sees_the_accounts(live_server, new_page, officers):
    page = new_page()
    login(page, live_server.url, officers["admin"])
    page.wait_for_url("**/admin/users")
    table = page.locator("table")
    for email in officers.values():
        expect(table).to_contain_text(email)
    screenshot(page, "admin-users")
    assert page.console_errors == []


@pytest.mark.parametrize("which", ["home", "dossier"])
def test_phone_width_has_no_horizontal_scroll(live_server, new_page, seeded, which):
    base = live_server.url
    page = new_page(viewport_width=390)
    if which == "home":
        page.goto(base + "/")
    else:
        login(page, base, seeded.email)
        page.goto(f"{base}/dossiers/{seeded.extra['code']}")
        wait_for_diagram(page)
    page.wait_for_load_state("networkidle")
    scroll_width, inner_width = no_horizontal_scroll(page)
    screenshot(page, f"phone-{which}")
    assert scroll_width <= inner_width + 1, f"{which}: {scroll_width} px wide in a {inner_width} px window"


@pytest.mark.parametrize(("where", "width"), [("dossier", 390), ("task", 1280)])
def test_a_tax_code_in_the_dossier_summary_fits_on_one_line(
    live_server, new_page, officers, seeded, where, width
):
    base = live_server.url
    code = seeded.extra["code"]
    page = new_page(viewport_width=width)
    if where == "dossier":
        login(page, base, seeded.email)
        page.goto(f"{base}/dossiers/{code}")
    else:
        login(page, base, officers["clerk"])
        open_task(page, base, code, "Kiểm tra tính đầy đủ của hồ sơ")
    value = page.locator(".data .data dd").filter(has_text=re.compile(rf"^\s*{seeded.tax_code}\s*$"))
    expect(value).to_have_count(1)
    lines = value.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e); "
        "return new Set(Array.from(r.getClientRects(), (b) => Math.round(b.top))).size; }"
    )
    assert lines == 1, f"the tax code {seeded.tax_code} takes {lines} lines on the {where} page at {width} px"
