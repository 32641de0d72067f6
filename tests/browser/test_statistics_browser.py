"""The figures in a real browser: the business rates its resolved dossier, the public statistics
page (without JavaScript) shows the count and the score and downloads its .xlsx, the leader's
report draws the on-time chart, filters it and exports it, and reads the comment."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx2 as httpx
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login
from tests.support import business, officer
from workflows.statistics import HEADINGS

expect.set_options(timeout=10_000)


def _sheet(download: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    return list(workbook.active.iter_rows(values_only=True))


def test_rating_public_statistics_and_the_report_chart(live_server, new_page: Any) -> None:
    base, rt = live_server.url, live_server.rt
    with httpx.Client(base_url=base, timeout=30) as client:
        owner = business(client, "Công ty TNHH Đánh Giá", rt)  # type: ignore[arg-type]
        clerk = officer(client, rt, "clerk")  # type: ignore[arg-type]
        specialist = officer(client, rt, "specialist")  # type: ignore[arg-type]
        leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Nguyễn Minh Đức")  # type: ignore[arg-type]
        code = owner.submitted()
        clerk.done(code, {"completeness_decision": "receive"})
        specialist.done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
        approved = leader.complete(code, {"approval_decision": "approve"})
        assert approved.status_code == 200, approved.text

    # The business rates the service on its dossier's page, once.
    page = new_page()
    login(page, base, owner.email)
    page.goto(f"{base}/dossiers/{code}")
    rating = page.locator("#rating")
    expect(rating.get_by_role("heading", name="Đánh giá mức độ hài lòng")).to_be_visible()
    rating.get_by_label("5 — Rất hài lòng").check()
    rating.get_by_label("Ý kiến góp ý (không bắt buộc)").fill("Cán bộ hướng dẫn tận tình.")
    rating.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#rating")).to_contain_text("Cảm ơn bạn đã đánh giá")
    expect(page.locator("#rating-given")).to_contain_text("5/5")
    expect(page.locator("#rating form")).to_have_count(0)
    screenshot(page, "dossier-rated")

    # The public page, read without JavaScript, linked from the home page.
    public = new_page(java_script_enabled=False)
    public.goto(base)
    public.get_by_role(
        "link", name="Xem thống kê giải quyết hồ sơ: đúng hạn, trực tuyến, mức độ hài lòng"
    ).click()
    expect(public.get_by_role("heading", name="Thống kê giải quyết thủ tục hành chính")).to_be_visible()
    expect(public.locator('[data-figure="resolved"]')).to_have_text("1")
    expect(public.locator('[data-figure="average_rating"]')).to_have_text("5.0/5")
    expect(public.get_by_role("heading", name="5. Mức độ hài lòng")).to_be_visible()
    expect(public.locator("body")).not_to_contain_text("Công ty TNHH Đánh Giá")
    screenshot(public, "public-statistics")
    with public.expect_download() as download:
        public.get_by_role("link", name="Tải về (.xlsx)").click()
    rows = _sheet(download)
    assert rows[2] == HEADINGS
    assert next(r for r in rows if r[0] == "Tổng cộng")[5] == 1  # resolved

    # The leader's report: the chart drawn on the server, its filters, its export, the comment.
    officer_page = new_page(java_script_enabled=False)
    login(officer_page, base, leader.email)
    officer_page.get_by_role("link", name="Báo cáo").click()
    chart = officer_page.locator("svg[data-chart]")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_have_text(
        "Hồ sơ giải quyết trước hạn, đúng hạn, trễ hạn theo tháng"
    )
    assert (
        sum(
            int(n)
            for n in chart.locator("rect[data-count]").evaluate_all("els => els.map(e => e.dataset.count)")
        )
        == 1
    )
    officer_page.get_by_label("Thủ tục").select_option("cong-bo-hop-chuan-hop-quy")
    officer_page.get_by_role("button", name="Xem").click()
    expect(officer_page.locator("#report-procedures")).to_contain_text("1")
    screenshot(officer_page, "report-chart")
    with officer_page.expect_download() as export:
        officer_page.get_by_role("link", name="Tải về (.xlsx)").click()
    rows = _sheet(export)
    assert rows[0][0].startswith("BÁO CÁO TIẾN ĐỘ GIẢI QUYẾT HỒ SƠ") and rows[2] == HEADINGS
    officer_page.get_by_role("link", name="Đánh giá", exact=True).click()
    expect(officer_page.locator("table")).to_contain_text("Cán bộ hướng dẫn tận tình.")
    expect(officer_page.locator("#ratings-summary")).to_contain_text("1 lượt đánh giá")
    for each in (page, public, officer_page):
        assert each.console_errors == []
