"""Least privilege (issue 13): the department's staff see every dossier; a council member sees only
the award applications they were given to score, and only the rounds they sit on; a TBT officer
the inquiries. Before, any account with a role (a council token included) listed every dossier of
every procedure and read a business's attachments."""

from __future__ import annotations

import re
from typing import Any

import time_machine
from sqlmodel import select

from tests.procedures.award.test_award import MONDAY, cast, open_round, received, relogin_all  # noqa: F401
from tests.support import business, error_of, officer
from tests.test_permissions import page_login
from workflows.db import reading
from workflows.models import AuditEvent, User


def codes(person: Any) -> set[str]:
    response = person.get("/api/dossiers")
    assert response.status_code == 200, response.text
    return {d["code"] for d in response.json()["items"]}


def test_a_council_member_sees_the_applications_of_their_round_only(client, rt, cast):  # noqa: F811
    one, two, outsider = cast["members"]
    clerk, leader = cast["clerk"], cast["leader"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        # The round's council is two of the three council members.
        open_round(cast, council_member_ids=[one.extra["id"], two.extra["id"]])
        award_code = received(cast)
        importer = business(client, "Công ty TNHH Nhập Khẩu Hải Lăng")
        declaration_code = importer.submitted()
        attachment_id = importer.get(f"/api/dossiers/{declaration_code}").json()["attachments"][0]["id"]
        tbt_officer = officer(client, rt, "tbt_officer", "CÁN BỘ TBT")

        # The department's staff see both dossiers and read the business's file.
        for staff in (clerk, leader):
            assert {award_code, declaration_code} <= codes(staff)
        assert clerk.get(f"/api/attachments/{attachment_id}").status_code == 200

        # A member of the round sees the application they score, and nothing of the declaration.
        assert codes(one) == {award_code}
        assert one.get(f"/api/dossiers/{award_code}").status_code == 200
        error_of(one.get(f"/api/dossiers/{declaration_code}"), 404, "not_found")
        error_of(one.get(f"/api/attachments/{attachment_id}"), 404, "not_found")
        # ... cannot attach files to another's dossier ...
        error_of(
            one.post(
                f"/api/dossiers/{declaration_code}/attachments",
                files={"file": ("x.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            ),
            404,
        )
        # ... reads the rounds they sit on ...
        assert [r["year"] for r in one.get("/api/award/rounds").json()] == [2026]
        assert one.get("/api/award/rounds/2026").status_code == 200
        # ... and none of the department's registers and reports.
        for url in ("/api/reports/at-risk", "/api/reports/timeliness"):
            error_of(one.get(url), 403, "forbidden")

        # A council member who does not sit on the round sees neither the round nor its applications.
        assert codes(outsider) == set()
        error_of(outsider.get(f"/api/dossiers/{award_code}"), 404, "not_found")
        assert outsider.get("/api/award/rounds").json() == []
        error_of(outsider.get("/api/award/rounds/2026"), 404, "not_found")
        error_of(outsider.get("/api/award/rounds/2026/recommendations.xlsx"), 404, "not_found")

        # A TBT officer sees the inquiries' work, not the declarations nor the award's rounds.
        assert not {award_code, declaration_code} & codes(tbt_officer)
        error_of(tbt_officer.get(f"/api/dossiers/{declaration_code}"), 404, "not_found")
        error_of(tbt_officer.get("/api/award/rounds"), 403, "forbidden")


MENU_LINK = re.compile(r'<a href="(/[^"]*)"')


def test_the_pages_and_the_menu_ask_the_same_rule(client, rt, cast):  # noqa: F811
    one = cast["members"][0]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast, council_member_ids=[one.extra["id"]])
        page_login(client, one.email)
        inbox = client.get("/work/inbox")
        assert inbox.status_code == 200
        menu = set(MENU_LINK.findall(inbox.text))
        assert "/award/rounds" in menu
        assert not {"/work/register", "/work/at-risk", "/work/reports", "/work/violations"} & menu
        for url in (
            "/work/register",
            "/work/register.xlsx",
            "/work/at-risk",
            "/work/reports",
            "/work/violations",
        ):
            assert client.get(url).status_code == 403, url
        assert client.get("/award/rounds/2026").status_code == 200
        page_login(client, cast["clerk"].email)
        assert "/work/register" in set(MENU_LINK.findall(client.get("/work/inbox").text))
        assert client.get("/work/register").status_code == 200


def test_an_officer_account_records_the_administrator_who_created_it(client, rt):
    admin = officer(client, rt, "admin", "QUẢN TRỊ", "Phạm Quản Trị")
    page_login(client, admin.email)
    form = client.get("/admin/users")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    created = client.post(
        "/admin/users",
        data={
            "email": "chuyenvien.moi@so-khcn.gov.vn",
            "full_name": "Võ Thị Mới",
            "job_title": "CHUYÊN VIÊN",
            "roles": "specialist",
            "password": "mat-khau-an-toan-2026",
            "csrf_token": token.group(1),
        },
    )
    assert created.status_code == 200, created.text
    with reading(rt.engine) as session:
        new_id = session.exec(select(User.id).where(User.email == "chuyenvien.moi@so-khcn.gov.vn")).one()
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.stream == f"user:{new_id}", AuditEvent.action == "officer_created"
            )
        ).one()
    assert event.actor_label == "Phạm Quản Trị" and event.actor_id is not None
