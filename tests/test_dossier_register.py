"""The dossier register (Sổ theo dõi hồ sơ, Mẫu số 07 of Circular 03/2025/TT-VPCP): officers list
the dossiers of a period on a page and download them as a spreadsheet with Vietnamese headings."""

from __future__ import annotations

import io

import time_machine
from openpyxl import load_workbook

from tests.support import cast_of, local, relogin
from tests.test_pages import page_login


def test_the_register_lists_a_periods_dossiers_and_exports_them(client, rt):
    people = cast_of(client, rt, "Công ty TNHH Sổ Theo Dõi")
    firm, clerk = people["business"], people["clerk"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(people)
        received = firm.submitted()
        clerk.done(received, {"completeness_decision": "receive"})
        travel.move_to(local(2026, 3, 20, 10, 0))
        waiting = firm.submitted()
        travel.move_to(local(2026, 4, 2, 10, 0))
        april = firm.submitted()

        page_login(client, clerk.email)
        page = client.get("/work/register?date_from=2026-03-01&date_to=2026-03-31&lang=vi")
        assert page.status_code == 200
        text = page.text
        assert received in text and waiting in text and april not in text
        assert "Từ 01/03/2026 đến 31/03/2026: 2 hồ sơ" in text
        assert "09:00 02/03/2026" in text  # received on submission in office hours, dd/mm/yyyy
        assert "Công ty TNHH Sổ Theo Dõi" in text

        sheet = client.get("/work/register.xlsx?date_from=2026-03-01&date_to=2026-03-31")
        assert sheet.status_code == 200
        assert "so-theo-doi-ho-so-20260301-20260331.xlsx" in sheet.headers["content-disposition"]
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
        assert rows[0][0].startswith("SỔ THEO DÕI HỒ SƠ (Mẫu số 07")
        assert rows[2][:4] == ("STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Tên tổ chức, cá nhân")
        assert [(r[0], r[1]) for r in rows[3:]] == [(1, received), (2, waiting)]
        assert rows[3][7] == "09:00 02/03/2026" and rows[4][7] is None  # the second is not yet received

        # By default: the current month; a reversed or too long period is a field error, not a 500.
        assert april in client.get("/work/register").text
        reversed_period = client.get("/work/register?date_from=2026-03-31&date_to=2026-03-01")
        assert reversed_period.status_code == 422 and "date_from" in reversed_period.text
        assert client.get("/work/register.xlsx?date_from=2024-01-01&date_to=2026-03-01").status_code == 422
        malformed = client.get("/work/register?date_from=not-a-date")
        assert malformed.status_code == 400 and "date_from" in malformed.text

        # Officers only.
        page_login(client, firm.email)
        assert client.get("/work/register").status_code == 403
        assert client.get("/work/register.xlsx").status_code == 403
