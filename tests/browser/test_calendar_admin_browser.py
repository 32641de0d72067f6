"""The working calendar changed in a real browser: the administrator adds a day off, sees the preview
with how many deadlines it moves, confirms, and the dossier's page shows the new appointment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import screenshot
from tests.browser.test_journeys import login
from tests.support import business, officer
from workflows.clock import as_utc, format_datetime, to_local
from workflows.db import reading
from workflows.models import Dossier, WorkTask

expect.set_options(timeout=10_000)

DOCUMENT = "Quyết định 45/QĐ-UBND ngày 01/12/2026 của UBND tỉnh Quảng Trị"


def test_admin_adds_a_day_off_sees_the_count_confirms_and_the_dossier_moves(
    live_server, new_page: Any
) -> None:
    base, rt = live_server.url, live_server.rt
    with httpx.Client(base_url=base, timeout=30) as client:
        owner = business(client, "Công ty TNHH Lịch Nghỉ", rt)  # type: ignore[arg-type]
        clerk = officer(client, rt, "clerk")  # type: ignore[arg-type]
        admin = officer(client, rt, "admin")  # type: ignore[arg-type]
        code = owner.submitted()
        clerk.done(code, {"completeness_decision": "receive"})
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        examination_due = max(
            as_utc(task.due_at)
            for task in session.exec(
                select(WorkTask).where(WorkTask.dossier_id == dossier.id, WorkTask.status == "open")
            ).all()
            if task.due_at is not None
        )
    appointment = as_utc(dossier.appointment_at)
    # The working day after the examination's due day (1.5 working days from the receipt, so which
    # day depends on the time of day), on or before the appointment's (3): a day off there moves only
    # the appointment and the legal deadline, to the next working day at the same time of day.
    day = to_local(examination_due).date() + timedelta(days=1)
    while not rt.calendar.is_working_day(day):
        day += timedelta(days=1)
    assert day <= to_local(appointment).date()
    moved = rt.calendar.add_working_days(appointment, 1)

    page = new_page()
    login(page, base, admin.email)
    page.goto(f"{base}/admin/calendar")
    page.get_by_label("Ngày (dd/mm/yyyy)").fill(day.strftime("%d/%m/%Y"))
    page.get_by_label("Loại").select_option("day_off")
    page.get_by_label("Tên (ví dụ Nghỉ Tết Dương lịch)").fill("Nghỉ theo quyết định của tỉnh")
    # The deciding document is required: without it the form comes back with the field marked.
    page.locator("#f-decided_by").evaluate("input => input.removeAttribute('required')")
    page.get_by_role("button", name="Xem trước thay đổi").click()
    expect(page.locator("#e-decided_by")).to_contain_text("văn bản quyết định")
    expect(page.get_by_label("Ngày (dd/mm/yyyy)")).to_have_value(day.strftime("%d/%m/%Y"))
    page.console_errors.clear()  # the browser reports the refused form's 422 itself
    page.locator("#f-decided_by").fill(DOCUMENT)
    page.get_by_role("button", name="Xem trước thay đổi").click()

    preview = page.locator("[data-calendar-preview]")
    expect(preview.locator("[data-moved-count]")).to_contain_text("Thay đổi này dời 2 thời hạn")
    row = page.locator("[data-calendar-moves] tr", has_text="Hẹn trả kết quả")
    expect(row).to_contain_text(code)
    expect(row).to_contain_text(format_datetime(appointment))
    expect(row).to_contain_text(format_datetime(moved))
    screenshot(page, "calendar-preview")
    page.get_by_role("button", name="Xác nhận và lưu").click()
    expect(page.locator(".notice--success")).to_contain_text("2 thời hạn đã được tính lại")
    entry = page.locator("[data-calendar-entries] tr", has_text=DOCUMENT)
    expect(entry).to_contain_text(day.strftime("%d/%m/%Y"))
    expect(entry).to_contain_text("Cán bộ admin")  # who entered it
    screenshot(page, "calendar-admin")

    page.goto(f"{base}/dossiers/{code}")
    expect(page.locator("dd", has_text=format_datetime(moved)).first).to_be_visible()
    expect(page.get_by_text("Tính lại thời hạn theo lịch làm việc mới")).to_be_visible()
    assert not page.console_errors
