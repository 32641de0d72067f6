"""The administrator's accounts page: three lists (officers, businesses with their tax code's
state, TBT visitors), searched without caring for case or diacritics, paged; an officer's roles
and job title edited (audited), locks, reset links; role names in Vietnamese; no server path."""

from __future__ import annotations

from sqlmodel import select

from tests.support import business, error_of, officer
from tests.test_account_recovery import actions, user_of
from tests.test_pages import csrf, page_login
from workflows.db import reading, transaction
from workflows.models import User


def patch(person, url: str, **kw):  # type: ignore[no-untyped-def]
    return person.client.patch(url, headers=person.headers, **kw)


def visitor(rt, email: str, name: str) -> User:  # type: ignore[no-untyped-def]
    """A TBT visitor as the inquiry point keeps one: no password, no role."""
    with transaction(rt.engine) as session:
        row = User(email=email, password_hash="!no-password", full_name=name, roles=[])
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def test_three_lists_searched_without_diacritics(client, rt):
    admin = officer(client, rt, "admin")
    officer(client, rt, "leader", title="PHÓ GIÁM ĐỐC", name="Lê Thị Đông")
    firm = business(client, "Công ty TNHH Thép Đông Hà")
    visitor(rt, "khach@vi-du.vn", "Trần Khách")
    page_login(client, admin.email)
    officers = client.get("/admin/users")
    assert officers.status_code == 200
    assert "Lãnh đạo Sở" in officers.text and "Quản trị" in officers.text  # role names, not codes
    assert ">leader<" not in officers.text and firm.email not in officers.text
    assert "Gửi thất bại" in officers.text and "Gửi lỗi" not in officers.text
    found = client.get("/admin/users", params={"q": "le thi dong"})
    assert "Lê Thị Đông" in found.text and admin.email not in found.text
    firms = client.get("/admin/users", params={"kind": "businesses", "q": "THEP dong ha"})
    assert firm.email in firms.text and firm.tax_code in firms.text
    assert "Chưa xác minh" in firms.text  # the tax code's state
    assert "1 tài khoản" in firms.text
    visitors = client.get("/admin/users", params={"kind": "visitors"})
    assert "khach@vi-du.vn" in visitors.text and firm.email not in visitors.text
    assert client.get("/admin/users", params={"kind": "everyone"}).status_code == 400
    assert client.get("/admin/users", params={"page": 0}).status_code == 400


def test_the_lists_are_paged(client, rt):
    admin = officer(client, rt, "admin")
    for n in range(26):
        visitor(rt, f"khach{n:02d}@vi-du.vn", f"Khách {n}")
    page_login(client, admin.email)
    first = client.get("/admin/users", params={"kind": "visitors"})
    assert "26 tài khoản" in first.text and "khach24@vi-du.vn" in first.text
    assert "khach25@vi-du.vn" not in first.text and 'rel="next"' in first.text
    second = client.get("/admin/users", params={"kind": "visitors", "page": 2})
    assert "khach25@vi-du.vn" in second.text and 'rel="prev"' in second.text


def test_an_administrator_edits_an_officers_roles_and_title(client, rt):
    admin = officer(client, rt, "admin")
    specialist = officer(client, rt, "specialist", name="Phạm Văn Ký")
    target = user_of(rt, specialist.email)
    page_login(client, admin.email)
    page = client.get("/admin/users")
    saved = client.post(
        f"/admin/users/{target.id}/roles",
        data={
            "csrf_token": csrf(page.text),
            "roles": ["leader"],
            "job_title": "PHÓ GIÁM ĐỐC",
            "kind": "officers",
        },
    )
    assert saved.status_code == 200 and "Đã lưu vai trò và chức vụ" in saved.text
    with reading(rt.engine) as session:
        row = session.exec(select(User).where(User.id == target.id)).one()
    assert row.roles == ["leader"] and row.job_title == "PHÓ GIÁM ĐỐC"
    admin_id = user_of(rt, admin.email).id
    assert ("officer_updated", admin_id) in actions(rt, row)
    # No role, an unknown role, the business role, a business account: refused, nothing changed.
    for roles in ([], ["root"], ["business"]):
        refused = client.post(
            f"/admin/users/{target.id}/roles",
            data={"csrf_token": csrf(page.text), "roles": roles, "job_title": "X"},
        )
        assert refused.status_code == 422 and "vai trò" in refused.text
    firm = user_of(rt, business(client).email)
    page_login(client, admin.email)
    page = client.get("/admin/users")
    refused = client.post(
        f"/admin/users/{firm.id}/roles", data={"csrf_token": csrf(page.text), "roles": ["clerk"]}
    )
    assert refused.status_code == 422
    assert user_of(rt, firm.email).roles == ["business"]
    # An administrator keeps their own admin role.
    own = client.post(
        f"/admin/users/{admin_id}/roles", data={"csrf_token": csrf(page.text), "roles": ["clerk"]}
    )
    assert own.status_code == 422 and "quản trị" in own.text
    assert user_of(rt, admin.email).roles == ["admin"]


def test_lock_and_unlock_keep_the_list_and_only_the_admin_may(client, rt):
    admin = officer(client, rt, "admin")
    clerk = officer(client, rt, "clerk")
    firm = business(client, "Công ty Cổ phần Xi măng")
    firm_id = user_of(rt, firm.email).id
    page_login(client, clerk.email)
    assert client.get("/admin/users").status_code == 403
    page_login(client, admin.email)
    page = client.get("/admin/users", params={"kind": "businesses"})
    token = csrf(page.text)
    locked = client.post(
        f"/admin/users/{firm_id}/active",
        data={"csrf_token": token, "active": "0", "kind": "businesses", "q": "xi mang"},
        follow_redirects=False,
    )
    assert locked.status_code == 303 and locked.headers["location"].startswith("/admin/users?kind=businesses")
    assert not user_of(rt, firm.email).is_active
    assert "Đã khóa" in client.get(locked.headers["location"]).text
    client.post(f"/admin/users/{firm_id}/active", data={"csrf_token": token, "active": "1"})
    assert user_of(rt, firm.email).is_active
    assert [a for a, _ in actions(rt, user_of(rt, firm.email))][-2:] == ["deactivated", "activated"]


def test_no_server_path_on_the_admin_pages(client, rt):
    admin = officer(client, rt, "admin")
    page_login(client, admin.email)
    for path in ("/admin/users", "/admin/catalogue", "/admin/calendar", "/admin/templates"):
        text = client.get(path).text
        assert str(rt.settings.bpmn_dir) not in text and "calendar_overrides.toml" not in text, path
        assert "catalogue.toml" not in text and str(rt.settings.data_dir) not in text, path


def test_the_json_api_lists_edits_locks_and_unlocks(client, rt):
    admin, clerk = officer(client, rt, "admin"), officer(client, rt, "clerk", name="Võ Thị Hà")
    firm = business(client, "Công ty TNHH Đông Hà")
    clerk_id, firm_id = user_of(rt, clerk.email).id, user_of(rt, firm.email).id
    error_of(clerk.get("/api/admin/users"), 403, "forbidden")
    error_of(patch(clerk, f"/api/admin/users/{clerk_id}", json={"roles": ["admin"]}), 403, "forbidden")
    listed = admin.get("/api/admin/users", params={"q": "vo thi ha"}).json()
    assert [a["email"] for a in listed["items"]] == [clerk.email] and listed["total"] == 1
    firms = admin.get("/api/admin/users", params={"kind": "businesses", "q": "đông hà"}).json()
    assert firms["items"][0]["tax_code_verification"]["status"] == "unverified"
    changed = patch(
        admin,
        f"/api/admin/users/{clerk_id}",
        json={"roles": ["clerk", "specialist"], "job_title": "CHUYÊN VIÊN"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["clerk", "specialist"] and changed.json()["job_title"] == "CHUYÊN VIÊN"
    error_of(patch(admin, f"/api/admin/users/{firm_id}", json={"roles": ["clerk"]}), 422, "not_an_officer")
    error_of(patch(admin, "/api/admin/users/999999", json={"roles": ["clerk"]}), 404, "not_found")
    error_of(patch(admin, f"/api/admin/users/{clerk_id}", json={"roles": []}), 422)
    locked = admin.post(f"/api/admin/users/{firm_id}/lock")
    assert locked.status_code == 200 and locked.json()["is_active"] is False
    error_of(firm.get("/api/me"), 401)
    assert admin.post(f"/api/admin/users/{firm_id}/unlock").json()["is_active"] is True
    error_of(admin.post(f"/api/admin/users/{user_of(rt, admin.email).id}/lock"), 409, "self")
    error_of(admin.post("/api/admin/users/999999/lock"), 404, "not_found")
