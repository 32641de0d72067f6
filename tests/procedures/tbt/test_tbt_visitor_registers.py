"""A TBT visitor (an address with no account: no password, no role) registers as a business with
the same address (issue 13: it could not before, ``email_taken``): once the address is verified,
the visitor's own row becomes the business account, and its inquiries stay reachable."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from tests.procedures.tbt.test_tbt_inquiry import ask_as_visitor
from tests.support import PASSWORD, error_of, login, mailed_link, valid_tax_code
from workflows.db import reading
from workflows.models import User

EMAIL = "khach@example.vn"


def test_a_visitor_registers_with_its_address_and_keeps_its_inquiries(client, rt):
    asked = ask_as_visitor(client)
    follow = asked["follow_url"].removeprefix("http://testserver").replace("/tbt/follow/", "/api/tbt/follow/")
    with reading(rt.engine) as session:
        visitor = session.exec(select(User).where(User.email == EMAIL)).one()
        users_before = len(session.exec(select(User)).all())

    body = {
        "email": EMAIL.upper(),
        "password": PASSWORD,
        "full_name": "Trần Thị Khách",
        "tax_code": valid_tax_code(77_001),
        "organisation_name": "Công ty TNHH Khách Hỏi",
    }
    registered = client.post("/api/auth/register", json=body)
    fresh = client.post(
        "/api/auth/register",
        json={**body, "email": "khac-han@example.vn", "tax_code": valid_tax_code(77_002)},
    )
    assert (registered.status_code, registered.json()) == (fresh.status_code, fresh.json())
    # Before the address is verified nothing changed: the visitor cannot log in.
    refused = client.post("/api/auth/token", data={"username": EMAIL, "password": PASSWORD})
    error_of(refused, 401, "invalid_credentials")
    with reading(rt.engine) as session:
        assert session.get(User, visitor.id).roles == []

    link = mailed_link(rt, EMAIL)
    verified = client.post(
        "/api/auth/verify-email", json={"token": parse_qs(urlsplit(link).query)["token"][0]}
    )
    assert verified.status_code == 200, verified.text
    token = login(client, EMAIL)
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me", headers=headers).json()
    assert me["id"] == visitor.id and me["roles"] == ["business"]
    assert me["organisation_name"] == "Công ty TNHH Khách Hỏi" and me["tax_code"] == body["tax_code"]
    with reading(rt.engine) as session:
        assert len(session.exec(select(User)).all()) == users_before + 1  # the other registration only
    # The inquiry is the account's now, and the secret link still opens it.
    codes = {d["code"] for d in client.get("/api/dossiers", headers=headers).json()["items"]}
    assert asked["code"] in codes
    assert client.get(follow).status_code == 200
    # The address has an account now: asking as a visitor is refused, as for any account.
    error_of(client.post("/api/tbt/inquiries", json=_visitor_payload(client)), 409, "account_exists")


def _visitor_payload(client):  # type: ignore[no-untyped-def]
    from tests.procedures.tbt.test_tbt_inquiry import visitor_payload

    return visitor_payload(client, EMAIL)
