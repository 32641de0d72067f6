"""Every list shows how many it holds and pages through them: the dossier list (API and page), the
at-risk list, the violation list and the notifications."""

from __future__ import annotations

from sqlmodel import select

from notifications import fan_out
from notifications.models import Notification
from tests.test_pages import page_login
from tests.test_search import dossiers  # noqa: F401 - the fixture
from workflows.clock import now
from workflows.db import transaction
from workflows.models import Dossier, Violation


def test_the_dossier_list_pages_with_its_total(dossiers) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clerk = dossiers["clerk"]
    seen = []
    for page in (1, 2):
        body = clerk.get("/api/dossiers", params={"page": page, "page_size": 2}).json()
        assert (body["total"], body["page"], body["page_size"]) == (3, page, 2)
        seen += [item["code"] for item in body["items"]]
    assert sorted(seen) == sorted(dossiers["codes"])  # each once, newest first across the pages
    assert clerk.get("/api/dossiers", params={"page": 3, "page_size": 2}).json()["items"] == []
    page_login(clerk.client, clerk.email)
    assert "3 hồ sơ" in clerk.client.get("/work/dossiers").text


def test_at_risk_violations_tax_codes_and_notifications_are_counted_and_paged(dossiers, rt) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    first, second, third = dossiers["codes"]
    fan_out(rt)  # the submissions' notifications
    with transaction(rt.engine) as session:
        rows = {d.code: d for d in session.exec(select(Dossier)).all()}
        for code in (first, second):
            rows[code].appointment_at = now()
            session.add(rows[code])
        session.add_all(Violation(dossier_id=rows[third].id, reason="certificate_overdue") for _ in range(51))
        mine = session.exec(
            select(Notification).where(Notification.user_id == rows[first].applicant_id)
        ).all()
        assert mine
        session.add_all(
            Notification(user_id=mine[0].user_id, event_id=mine[0].event_id, title=f"Thông báo {i}")
            for i in range(40)
        )
    total_notifications = len(mine) + 40

    clerk = dossiers["clerk"]
    page_login(clerk.client, clerk.email)
    at_risk = clerk.client.get("/work/at-risk").text
    assert first in at_risk and second in at_risk and third not in at_risk and "2 hồ sơ" in at_risk

    violations = clerk.client.get("/work/violations").text
    assert "51 vi phạm" in violations and "Trang 1 / 2" in violations
    assert violations.count(f'href="/dossiers/{third}"') == 50
    second_page = clerk.client.get("/work/violations?show=open&page=2").text
    assert second_page.count(f'href="/dossiers/{third}"') == 1 and "Trang 2 / 2" in second_page

    # The tax-code lists: the two businesses' unverified tax codes, counted.
    tax_codes = clerk.client.get("/work/tax-codes").text
    assert "2 mã số thuế" in tax_codes and dossiers["steel"].tax_code in tax_codes
    assert dossiers["steel"].tax_code not in clerk.client.get("/work/tax-codes?page=2").text
    assert clerk.client.get("/work/tax-code-contests?show=decided&page=2").status_code == 200
    assert clerk.client.get("/work/tax-codes?page=0").status_code == 400  # a bad page: a 4xx naming it

    steel = dossiers["steel"]
    page_login(steel.client, steel.email)
    listing = steel.client.get("/notifications").text
    assert f"{total_notifications} thông báo" in listing and "Trang 1 / 2" in listing
    assert listing.count('class="card notification') == 30
    rest = steel.client.get("/notifications?page=2").text
    assert rest.count('class="card notification') == total_notifications - 30
