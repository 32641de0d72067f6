"""The National Quality Award pages: the rounds admin page, the closed window on the procedure and
new-dossier pages, the round page with its downloads, the aggregated scores on the task page."""

from __future__ import annotations

import pytest
import time_machine

from tests.procedures.award.test_award import (  # noqa: F401
    MONDAY,
    PROCEDURE,
    apply,
    cast,
    open_round,
    received,
    relogin_all,
    score,
    sheet,
)
from tests.support import local
from tests.test_pages import csrf, page_login

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only


def test_the_admin_opens_a_round_on_its_page(client, cast):  # noqa: F811
    admin = cast["admin"]
    with time_machine.travel(MONDAY, tick=False):
        page_login(client, admin.email)
        page = client.get("/admin/award-rounds")
        assert page.status_code == 200 and "GS. Hoàng Văn Một" in page.text
        form = {
            "csrf_token": csrf(page.text),
            "year": "2026",
            "registration_opens": "2026-03-02",
            "registration_closes": "2026-02-01",
            "scoring_deadline": "2026-03-27",
            "council_member_ids": [str(cast["members"][0].extra["id"])],
        }
        refused = client.post("/admin/award-rounds", data=form)
        assert refused.status_code == 422
        assert "Ngày đóng đăng ký phải sau hoặc bằng ngày mở đăng ký." in refused.text
        form["registration_closes"] = "2026-03-13"
        form["csrf_token"] = csrf(refused.text)
        done = client.post("/admin/award-rounds", data=form, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/award/rounds/2026")
        shown = client.get("/award/rounds/2026")
        assert "Đợt xét năm 2026" in shown.text and "02/03/2026 – 13/03/2026" in shown.text
        assert "GS. Hoàng Văn Một" in shown.text and "TS. Ngô Thị Hai" not in shown.text
        xlsx = client.get("/award/rounds/2026/recommendations.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        docx = client.get("/award/rounds/2026/recommendations.docx")
        assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_a_closed_window_shows_when_registration_opens(client, cast):  # noqa: F811
    firm = cast["firm"]
    with time_machine.travel(local(2026, 2, 20, 9, 0), tick=False):
        relogin_all(cast)
        open_round(cast)
        procedure = client.get(f"/procedures/{PROCEDURE}")
        assert 'data-window="closed"' in procedure.text and "02/03/2026" in procedure.text
        assert f"/my/dossiers/new/{PROCEDURE}" not in procedure.text
        page_login(client, firm.email)
        new = client.get(f"/my/dossiers/new/{PROCEDURE}")
        assert (
            'data-window="closed"' in new.text
            and '<form method="post" action="/my/dossiers/new' not in new.text
        )
    with time_machine.travel(MONDAY, tick=False):
        page_login(client, firm.email)
        new = client.get(f"/my/dossiers/new/{PROCEDURE}")
        assert 'data-window="open"' in new.text and "13/03/2026" in new.text
        assert 'name="organisation.name"' in new.text or "organisation" in new.text


def test_the_leader_sees_the_aggregated_scores_and_members_only_their_sheet(client, cast):  # noqa: F811
    one, two, three = cast["members"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        score(one, code, sheet(0))
        page_login(client, two.email)
        inbox = client.get("/work/inbox")
        assert inbox.text.count('href="/work/tasks/') == 1  # their own sheet, not the others'
        dossier = client.get(f"/dossiers/{code}")
        assert 'id="award-scores"' not in dossier.text
        score(two, code, sheet(10))
        score(three, code, sheet(20))
        page_login(client, cast["specialist"].email)
        [task] = [
            t for t in cast["specialist"].get("/api/tasks").json()["items"] if t["dossier_code"] == code
        ]
        page = client.get(f"/work/tasks/{task['id']}")
        assert page.status_code == 200
        assert 'id="award-scores"' in page.text and "TS. Ngô Thị Hai" in page.text and "680" in page.text
        assert "Vai trò của lãnh đạo" in page.text


def test_the_admin_edits_a_round_and_a_late_submission_is_refused_on_the_page(client, cast):  # noqa: F811
    admin, firm = cast["admin"], cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        page_login(client, admin.email)
        form = client.get("/admin/award-rounds/2026")
        assert 'value="2026-03-13"' in form.text and "Sửa đợt xét năm 2026" in form.text
        saved = client.post(
            "/admin/award-rounds/2026",
            data={
                "csrf_token": csrf(form.text),
                "year": "2026",
                "registration_opens": "2026-03-02",
                "registration_closes": "2026-03-06",
                "scoring_deadline": "2026-03-27",
                "council_member_ids": [str(m.extra["id"]) for m in cast["members"]],
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert "02/03/2026 – 06/03/2026" in client.get("/award/rounds/2026").text
        page_login(client, firm.email)
        new = client.get(f"/my/dossiers/new/{PROCEDURE}")
        assert 'data-window="open"' in new.text
    with time_machine.travel(local(2026, 3, 9, 8, 0), tick=False):  # the form was left open too long
        late = client.post(f"/my/dossiers/new/{PROCEDURE}", data={"csrf_token": csrf(new.text)})
        assert late.status_code == 409
        assert "06/03/2026" in late.text and 'role="alert"' in late.text


def test_the_leader_issues_the_list_only_when_every_application_is_decided(client, cast):  # noqa: F811
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        page_login(client, cast["specialist"].email)
        seen = client.get("/award/rounds/2026")
        assert "Danh sách đề xuất đã ban hành" in seen.text
        assert "Ban hành danh sách đề xuất</button>" not in seen.text  # a leader's act

        page_login(client, cast["leader"].email)
        page = client.get("/award/rounds/2026")
        assert "Ban hành danh sách đề xuất</button>" in page.text
        assert "Chưa ban hành danh sách đề xuất nào." in page.text
        refused = client.post("/award/rounds/2026/recommendation-lists", data={"csrf_token": csrf(page.text)})
        assert refused.status_code == 409
        assert 'role="alert"' in refused.text and code in refused.text
        assert "Chưa ban hành danh sách đề xuất nào." in refused.text
        # Without the form's token nothing is issued.
        assert client.post("/award/rounds/2026/recommendation-lists", data={}).status_code == 403


def test_an_organisation_that_applied_is_told_so_on_the_procedure_page(client, cast):  # noqa: F811
    firm = cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = apply(firm)
        anonymous = client.get(f"/procedures/{PROCEDURE}")
        assert f"/my/dossiers/new/{PROCEDURE}" in anonymous.text and code not in anonymous.text
        page_login(client, firm.email)
        seen = client.get(f"/procedures/{PROCEDURE}")
        assert "Tổ chức đã đăng ký đợt xét năm 2026" in seen.text and code in seen.text
        assert f"/my/dossiers/new/{PROCEDURE}" not in seen.text


def test_an_organisation_that_applied_gets_a_link_to_its_application_not_the_form(client, cast):  # noqa: F811
    firm = cast["firm"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = apply(firm)
        page_login(client, firm.email)
        new = client.get(f"/my/dossiers/new/{PROCEDURE}")
        assert new.status_code == 200
        assert "Tổ chức đã đăng ký đợt xét năm 2026" in new.text
        assert f'href="/dossiers/{code}"' in new.text
        assert '<form method="post" action="/my/dossiers/new' not in new.text
