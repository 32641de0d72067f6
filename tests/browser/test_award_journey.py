"""The National Quality Award in a real browser: the administrator opens this year's round and
assigns the council, a business applies, the clerk receives the application, each council member
scores their own sheet, the site visit, the leader approves with the aggregated scores in view,
and the round's page lists the recommendation with its downloads."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from api.main import NODE_MODULES
from tests.browser.conftest import screenshot
from tests.browser.test_journeys import complete, login
from tests.support import PASSWORD, business
from workflows import accounts, document_signing
from workflows.db import transaction
from workflows.procedures.award.criteria import rules_from
from workflows.procedures.award.rounds import today

PROCEDURE = "giai-thuong-chat-luong-quoc-gia"
CRITERIA = rules_from(
    tomllib.loads(
        (Path(__file__).resolve().parents[2] / "bpmn" / "award_criteria_2019.toml").read_text("utf-8")
    )
).criteria
MEMBERS = [("Hoàng Văn Một", 0), ("Ngô Thị Hai", 10), ("Đỗ Văn Ba", 20)]
SHEET = {"leadership": 90, "strategy": 65, "customers": 65, "measurement": 70, "workforce": 60}
SHEET |= {"operations": 60, "results": 340}

expect.set_options(timeout=10_000)
# Without the front-end libraries (``make install`` puts bpmn-js in node_modules) the dossier page's
# diagram cannot load: the browser then reports the missing script and style, nothing else.
VENDOR_MISSING = not (NODE_MODULES / "bpmn-js").is_dir()


def errors_of(page: Page) -> list[str]:
    return [
        m
        for m in page.console_errors
        if "status of 422" not in m and not (VENDOR_MISSING and ("MIME type" in m or "status of 404" in m))
    ]


@pytest.fixture(scope="module")
def people(live_server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    emails = {}
    with transaction(live_server.rt.engine) as session:
        for key, role, name in [
            ("admin", "admin", "Quản Trị Giải Thưởng"),
            ("clerk", "clerk", "Lê Thị Một Cửa"),
            ("specialist", "specialist", "Trần Văn Thư Ký"),
            ("leader", "leader", "Phạm Quang Lãnh Đạo"),
        ] + [(f"member{i}", "council", name) for i, (name, _) in enumerate(MEMBERS)]:
            emails[key] = f"{key}@giaithuong.quangtri.gov.vn"
            accounts.create_officer_in(
                session,
                email=emails[key],
                password=PASSWORD,
                full_name=name,
                roles=[role],
                job_title="PHÓ GIÁM ĐỐC" if role == "leader" else "",
            )
    return emails


def test_the_award_from_round_to_recommendation(live_server, people, new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    day = today()
    # The administrator opens this year's round and assigns the three members.
    page: Page = new_page()
    login(page, base, people["admin"])
    page.goto(f"{base}/admin/award-rounds")
    page.get_by_label("Năm").fill(str(day.year))
    page.get_by_label("Ngày mở đăng ký").fill((day - timedelta(days=1)).isoformat())
    page.get_by_label("Ngày đóng đăng ký (tính cả ngày này)").fill((day + timedelta(days=10)).isoformat())
    page.get_by_label("Hạn chấm điểm của Hội đồng (đến hết giờ làm việc ngày này)").fill(
        (day + timedelta(days=20)).isoformat()
    )
    for name, _ in MEMBERS:
        page.get_by_label(re.compile(name)).check()
    screenshot(page, "award-round-form")
    page.get_by_role("button", name="Mở đợt xét giải").click()
    page.wait_for_url(re.compile(rf"/award/rounds/{day.year}\?flash=opened"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Đợt xét năm {day.year}")
    for name, _ in MEMBERS:
        expect(page.locator(".facts")).to_contain_text(name)
    # Scoring closes at the end of office hours of the deadline day.
    expect(page.locator("[data-scoring-due]")).to_have_text(f"17:00 {day + timedelta(days=20):%d/%m/%Y}")
    assert errors_of(page) == []

    # A business applies through the procedure page.
    client = httpx.Client(base_url=base, timeout=30)
    firm = business(client, "Công ty CP Thép Gio Linh", live_server.rt)  # type: ignore[arg-type]
    client.close()
    pdf = tmp_path / "bao-cao-tu-danh-gia.pdf"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    page = new_page()
    login(page, base, firm.email)
    page.goto(f"{base}/procedures/{PROCEDURE}")
    expect(page.locator("[data-window=open]")).to_contain_text(str(day.year))
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    expect(page.locator("#f-organisation-tax_code")).to_have_value(firm.tax_code)
    page.get_by_label("Doanh nghiệp sản xuất", exact=True).check()
    page.get_by_label("Vừa", exact=True).check()
    page.locator("#f-organisation-sector").fill("Sản xuất thép xây dựng")
    page.locator("#f-organisation-staff_count").fill("420")
    page.locator("#f-organisation-annual_revenue_bn_vnd").fill("650.5")
    page.locator("#f-organisation-phone").fill("0233 3555 888")
    page.locator("#f-organisation-email").fill(firm.email)
    page.locator("#f-organisation-established_on").fill("2004-05-12")
    for criterion in CRITERIA:
        page.locator(f"#f-self_assessment-{criterion.key}").fill(str(SHEET[criterion.key]))
    page.locator("#f-attachments-registration_form").set_input_files(pdf)
    page.locator("#f-attachments-self_assessment_report").set_input_files(pdf)
    page.get_by_role("button", name="Nộp hồ sơ", exact=True).click()
    page.wait_for_url(re.compile(r"/dossiers/[^/?]+\?flash=submitted"))
    code = page.locator("h1 .code").inner_text()
    expect(page.locator(".page-head .status")).to_have_text("Chờ tiếp nhận")

    # The clerk receives it.
    page = new_page()
    login(page, base, people["clerk"])
    page.goto(f"{base}/work/inbox")
    page.locator("tr", has=page.get_by_role("link", name=code)).get_by_role(
        "link", name="Kiểm tra tính đầy đủ của hồ sơ đăng ký"
    ).click()
    page.get_by_label("Hồ sơ đầy đủ, tiếp nhận").check()
    complete(page, code)
    expect(page.locator(".page-head .status")).to_have_text("Hội đồng đang chấm điểm")

    # Each member scores their own sheet; an out-of-range score is refused at its field first.
    for index, (name, minus) in enumerate(MEMBERS):
        page = new_page()
        login(page, base, people[f"member{index}"])
        page.goto(f"{base}/work/inbox")
        rows = page.locator("tr", has=page.get_by_role("link", name=code))
        expect(rows).to_have_count(1)
        rows.get_by_role("link", name="Chấm điểm 7 tiêu chí").click()
        expect(page.locator("#award-scores")).to_have_count(0)
        for criterion in CRITERIA:
            page.locator(f"#f-criterion_scores-{criterion.key}").fill(str(SHEET[criterion.key] - minus))
            page.locator(f"#f-criterion_comments-{criterion.key}").fill(f"Nhận xét của {name}: tốt")
        if index == 0:
            page.locator("#f-criterion_scores-results").fill("451")
            page.get_by_role("button", name="Hoàn thành").click()
            expect(page.locator('[data-field="criterion_scores.results"] .field-error')).to_contain_text(
                "450"
            )
            screenshot(page, "award-score-sheet-error")
            page.locator("#f-criterion_scores-results").fill(str(SHEET["results"] - minus))
        complete(page, code)
        assert errors_of(page) == []

    # The site visit, then the leader approves with the aggregated scores in view.
    page = new_page()
    login(page, base, people["specialist"])
    page.goto(f"{base}/work/inbox")
    page.locator("tr", has=page.get_by_role("link", name=code)).get_by_role(
        "link", name="Đánh giá tại cơ sở"
    ).click()
    expect(page.locator("#award-scores")).to_contain_text("Ngô Thị Hai")
    page.locator("#f-site_visit_date").fill(day.isoformat())
    page.locator("#f-site_visit_team").fill("Hoàng Văn Một, Ngô Thị Hai")
    page.locator("#f-site_visit_findings").fill("Thực tế phù hợp báo cáo tự đánh giá.")
    page.locator("#f-site_visit_confirmed").check()
    complete(page, code)

    page = new_page()
    login(page, base, people["leader"])
    page.goto(f"{base}/work/inbox")
    page.locator("tr", has=page.get_by_role("link", name=code)).get_by_role(
        "link", name="Phê duyệt đề xuất của hội đồng"
    ).click()
    scores = page.locator("#award-scores")
    expect(scores).to_contain_text("680")
    expect(scores).to_contain_text("Đề xuất xét Giải thưởng Chất lượng Quốc gia")
    screenshot(page, "award-approve")
    page.get_by_label("Phê duyệt, ban hành phiếu điểm và thư thông báo").check()
    complete(page, code)
    expect(page.locator(".page-head .status")).to_have_text("Được đề xuất lên Hội đồng quốc gia")
    expect(page.locator("[data-being-signed]").first).to_be_visible()
    document_signing.sign_due(live_server.rt)  # the worker signs the scoring sheet and the letter
    page.reload()
    expect(page.get_by_role("link", name=re.compile("Phiếu tổng hợp điểm"))).to_be_visible()

    # The round's page lists it; the .xlsx holds the recommendation.
    page.goto(f"{base}/award/rounds/{day.year}")
    row = page.locator("#award-entries tr", has=page.get_by_role("link", name=code))
    expect(row).to_contain_text("680")
    expect(row).to_contain_text("Đề xuất xét Giải thưởng Chất lượng Quốc gia")
    screenshot(page, "award-round")
    with page.expect_download() as download:
        page.get_by_role("link", name="Dự thảo danh sách đề xuất (.xlsx)").click()
    rows = list(
        load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active.iter_rows(values_only=True)
    )
    assert any(r and r[1] == code and 680.0 in r for r in rows), rows

    # Every application decided: the leader issues the list, which then verifies by its code.
    page.get_by_role("button", name="Ban hành danh sách đề xuất").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ban hành danh sách đề xuất")
    issued = page.locator("#issued-lists-table tbody tr")
    expect(issued).to_have_count(1)
    expect(issued).to_contain_text("/TTr-")
    screenshot(page, "award-round-issued")
    issued.locator("a[href^='/verify/']").click()
    expect(page.get_by_role("status")).to_contain_text("Văn bản hợp lệ")
    expect(page.locator("dl.facts")).to_contain_text(f"Giải thưởng Chất lượng Quốc gia năm {day.year}")
    assert errors_of(page) == []
