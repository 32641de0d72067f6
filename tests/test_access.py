"""Who may see and do what, through the HTTP API, on SQLite and PostgreSQL.

A business sees and touches only its own dossiers (another's is "not found", never "forbidden",
so it cannot even learn that the code exists); officers see every dossier but act only on the
tasks of their own role; every protected call needs a valid access token; accounts are created
with checked tax codes and passwords that are stored only as argon2 hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import time_machine
from argon2 import PasswordHasher
from sqlmodel import select

from api.security import ALGORITHM, ISSUER, create_access_token
from tests.support import (
    PASSWORD,
    PDF,
    PROCEDURE,
    Person,
    business,
    error_of,
    fields_of,
    login,
    officer,
    stored_files,
    verify_email,
)
from workflows import document_signing
from workflows.db import reading
from workflows.models import User


def codes(person: Person, **params: Any) -> tuple[int, set[str]]:
    page = person.get("/api/dossiers", params=params).json()
    return page["total"], {d["code"] for d in page["items"]}


# --- a business and another business's dossier -------------------------------------------------


def test_business_cannot_read_another_business_dossier(client, rt):
    owner, other = business(client, "Công ty TNHH Mũ An Toàn"), business(client, "Công ty CP Đèn Sáng")
    code = owner.submitted()

    assert owner.get(f"/api/dossiers/{code}").status_code == 200
    response = other.get(f"/api/dossiers/{code}")
    error = error_of(response, 404, "not_found")
    assert "Mũ bảo hiểm" not in response.text and owner.tax_code not in response.text
    # Exactly what a code that does not exist answers: nothing tells the two apart.
    missing = other.get("/api/dossiers/000.00.15.H50-260101-9999")
    assert error_of(missing, 404) == error


def test_business_reads_back_what_it_filed_but_not_the_officers_notes(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    filed = firm.declaration()
    response = firm.submit(filed)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    clerk.done(code, {"completeness_decision": "receive", "clerk_note": "Hồ sơ tốt, ưu tiên xử lý."})

    data = firm.get(f"/api/dossiers/{code}").json()["data"]
    assert data["product"] == filed["product"]
    assert data["applicant"]["tax_code"] == firm.tax_code
    assert data["attachments"] == filed["attachments"]
    assert "clerk_note" not in data and "completeness_decision" not in data
    assert clerk.get(f"/api/dossiers/{code}").json()["data"]["clerk_note"] == "Hồ sơ tốt, ưu tiên xử lý."


def test_business_cannot_download_another_business_files(client, rt):
    owner, other, clerk = business(client), business(client), officer(client, rt, "clerk")
    code = owner.submitted()
    refused = clerk.done(code, {"completeness_decision": "refuse", "refusal_reason": "Sai thủ tục."})
    assert refused["status"] == "refused"
    detail = owner.get(f"/api/dossiers/{code}").json()
    assert detail["documents"] and detail["attachments"]
    unsubmitted = owner.upload("nhan-hang-hoa.pdf")

    for attachment in [*detail["attachments"], {"download_url": f"/api/attachments/{unsubmitted}"}]:
        url = attachment["download_url"]
        mine = owner.get(url)
        assert mine.status_code == 200 and mine.content == PDF
        error_of(other.get(url), 404, "not_found")
    document_signing.sign_due(rt)
    detail = owner.get(f"/api/dossiers/{code}").json()
    for document in detail["documents"]:
        url = document["download_url"]
        mine = owner.get(url)
        assert mine.status_code == 200 and mine.content.startswith(b"%PDF")
        assert clerk.get(url).content == mine.content
        error_of(other.get(url), 404, "not_found")
        # The editable .docx is the officers' copy: not the owner's, not another business's.
        assert clerk.get(document["editable_url"]).content.startswith(b"PK")
        error_of(owner.get(document["editable_url"]), 404, "not_found")
        error_of(other.get(document["editable_url"]), 404, "not_found")
    # The clerk may read what was filed with the dossier, not a file nobody filed yet.
    assert clerk.get(detail["attachments"][0]["download_url"]).content == PDF
    error_of(clerk.get(f"/api/attachments/{unsubmitted}"), 404, "not_found")


def test_lists_show_a_business_only_its_own_dossiers_and_officers_all(client, rt):
    first, second, clerk = business(client), business(client), officer(client, rt, "clerk")
    first_codes = {first.submitted(), first.submitted()}
    second_code = second.submitted()

    assert codes(first) == (2, first_codes)
    assert codes(second) == (1, {second_code})
    # Searching for the other's code or tax code finds nothing rather than leaking it.
    for code in first_codes:
        assert codes(second, q=code) == (0, set())
    assert codes(second, tax_code=first.tax_code) == (0, set())
    assert codes(second, page_size=1)[0] == 1

    assert codes(clerk) == (3, {*first_codes, second_code})
    assert codes(clerk, tax_code=first.tax_code) == (2, first_codes)
    for code in {*first_codes, second_code}:
        detail = clerk.get(f"/api/dossiers/{code}")
        assert detail.status_code == 200
        assert detail.json()["data"]["product"]["name"] == "Mũ bảo hiểm cho người đi mô tô"


def test_business_cannot_act_on_another_business_dossier(client, rt):
    owner, other, clerk = business(client), business(client), officer(client, rt, "clerk")
    code = owner.submitted()
    clerk.done(code, {"completeness_decision": "supplement", "missing_items": ["Mẫu nhãn sản phẩm"]})
    task = owner.task(code, "provide_supplement")
    before = owner.get(f"/api/dossiers/{code}").json()
    assert before["status"] == "supplement_requested"

    assert all(t["dossier_code"] != code for t in other.get("/api/tasks").json()["items"])
    unknown_task = error_of(other.post("/api/tasks/0123456789abcdef/claim"), 404)
    for response in (
        other.get(f"/api/tasks/{task['id']}"),
        other.post(f"/api/tasks/{task['id']}/claim"),
        other.post(f"/api/tasks/{task['id']}/complete", json={"data": {"supplement_note": "Đã bổ sung."}}),
    ):
        assert error_of(response, 404, "not_found") == unknown_task
    error_of(
        other.post(f"/api/dossiers/{code}/withdraw", json={"reason": "Không cần nữa."}), 404, "not_found"
    )
    attach = other.post(
        f"/api/dossiers/{code}/attachments", files={"file": ("x.pdf", PDF, "application/pdf")}
    )
    error_of(attach, 404, "not_found")

    after = owner.get(f"/api/dossiers/{code}").json()
    assert after["status"] == "supplement_requested"
    assert [t["id"] for t in after["open_tasks"]] == [task["id"]]
    assert after["open_tasks"][0]["assignee_id"] == before["open_tasks"][0]["assignee_id"] == _user_id(owner)
    assert len(after["attachments"]) == len(before["attachments"])
    assert [e["action"] for e in after["history"]] == [e["action"] for e in before["history"]]
    # The owner still can: the refusals above were about who asked, not about the dossier.
    withdrawn = owner.post(f"/api/dossiers/{code}/withdraw", json={"reason": "Nộp lại sau."})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_business_cannot_file_another_business_attachment(client, rt):
    owner, other = business(client), business(client)
    loose = owner.upload("ban-cong-bo-rieng.pdf")
    filed_code = owner.submitted()
    filed = owner.get(f"/api/dossiers/{filed_code}").json()["attachments"][0]["id"]

    data = other.declaration()
    data["attachments"]["declaration_form"] = loose
    data["attachments"]["business_registration"] = filed
    data["attachments"]["certificate_copy"] = "f" * 32
    error = error_of(other.submit(data), 422, "validation_error")
    problems = fields_of(error)
    assert set(problems) == {
        "attachments.declaration_form",
        "attachments.business_registration",
        "attachments.certificate_copy",
    }
    assert all(p["message"] and p["message_en"] for p in problems.values())
    assert codes(other) == (0, set())
    error_of(other.get(f"/api/attachments/{loose}"), 404)

    # The refused attempt did not take the file away from its owner.
    mine = owner.declaration()
    mine["attachments"]["declaration_form"] = loose
    response = owner.submit(mine)
    assert response.status_code == 201, response.text
    assert loose in {a["id"] for a in response.json()["attachments"]}


def test_business_cannot_declare_another_tax_code(client, rt):
    owner, other = business(client), business(client)
    data = other.declaration()
    data["applicant"]["tax_code"] = owner.tax_code
    error = error_of(other.submit(data), 422, "validation_error")
    problem = fields_of(error)["applicant.tax_code"]
    assert other.tax_code in problem["message"] and other.tax_code in problem["message_en"]
    assert codes(other) == (0, set())
    assert codes(owner) == (0, set())


def test_officer_cannot_submit_a_dossier(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    response = clerk.post("/api/dossiers", json={"procedure": PROCEDURE, "data": firm.declaration()})
    error_of(response, 403, "forbidden")
    assert codes(clerk) == (0, set())


# --- officers and the tasks of other roles -----------------------------------------------------


def test_officers_act_only_on_the_tasks_of_their_role(client, rt):
    firm = business(client)
    clerk, specialist = officer(client, rt, "clerk"), officer(client, rt, "specialist")
    code = firm.submitted()
    check = clerk.task(code, "check_completeness")

    for response in (
        specialist.post(f"/api/tasks/{check['id']}/claim"),
        specialist.post(
            f"/api/tasks/{check['id']}/complete", json={"data": {"completeness_decision": "receive"}}
        ),
    ):
        assert "clerk" in error_of(response, 403, "forbidden")["message_en"]
    assert firm.get(f"/api/dossiers/{code}").json()["open_tasks"][0]["assignee_id"] is None

    assert clerk.done(code, {"completeness_decision": "receive"})["status"] == "processing"
    examine = specialist.task(code, "examine")
    findings = {"examination_findings": "Đạt.", "examination_conclusion": "accept"}
    for response in (
        clerk.post(f"/api/tasks/{examine['id']}/claim"),
        clerk.post(f"/api/tasks/{examine['id']}/complete", json={"data": findings}),
    ):
        assert "specialist" in error_of(response, 403, "forbidden")["message_en"]

    detail = clerk.get(f"/api/dossiers/{code}").json()
    assert detail["status"] == "processing"
    assert [(t["step"], t["assignee_id"]) for t in detail["open_tasks"]] == [("examine", None)]
    assert specialist.done(code, findings, "examine")["status"] == "awaiting_approval"


# --- tokens and logins -------------------------------------------------------------------------


def _user_id(person: Person) -> int:
    return person.get("/api/me").json()["id"]


def _claims(user_id: int, **changes: Any) -> dict[str, Any]:
    issued = datetime.now(UTC)
    claims = {"sub": str(user_id), "roles": ["business"], "iat": issued, "iss": ISSUER}
    claims["exp"] = issued + timedelta(hours=1)
    claims.update(changes)
    return claims


def _bad_tokens(rt, person: Person) -> dict[str, tuple[dict[str, str], str]]:
    """Authorization headers that must not open the API, with the error code each gets."""
    user_id = _user_id(person)
    other_key = "another-deployment-secret-key-0123456789-abcdef"
    with time_machine.travel(datetime.now(UTC) - timedelta(days=400), tick=False):
        expired, _ = create_access_token(rt.settings, user_id, ["business"])
    unsigned = jwt.encode(_claims(user_id), key=None, algorithm="none")
    return {
        "missing": ({}, "not_authenticated"),
        "malformed": ({"Authorization": "Bearer this.is-not-a.token"}, "invalid_token"),
        "not bearer": ({"Authorization": f"Basic {person.token}"}, "not_authenticated"),
        "other key": (
            {"Authorization": f"Bearer {jwt.encode(_claims(user_id), other_key, algorithm=ALGORITHM)}"},
            "invalid_token",
        ),
        "unsigned": ({"Authorization": f"Bearer {unsigned}"}, "invalid_token"),
        "expired": ({"Authorization": f"Bearer {expired}"}, "token_expired"),
    }


def test_a_token_made_with_the_right_key_opens_the_api(client, rt):
    firm = business(client)
    # Its claims must name a live session of the account (the one of a login here).
    session_id = jwt.decode(firm.token, options={"verify_signature": False})["sid"]
    claims = _claims(_user_id(firm), sid=session_id)
    token = jwt.encode(claims, rt.settings.signing_key(), algorithm=ALGORITHM)
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["email"] == firm.email


def test_requests_without_a_valid_token_are_refused(client, rt):
    firm = business(client)
    code = firm.submitted()
    stored = stored_files(rt)
    for kind, (headers, error_code) in _bad_tokens(rt, firm).items():
        for url in ("/api/me", "/api/dossiers", f"/api/dossiers/{code}", "/api/tasks"):
            response = client.get(url, headers=headers)
            assert response.status_code >= 400, (kind, url)
            assert error_of(response, response.status_code, error_code), (kind, url)
            assert firm.email not in response.text and code not in response.text
        upload = client.post(
            "/api/attachments", headers=headers, files={"file": ("a.pdf", PDF, "application/pdf")}
        )
        error_of(upload, upload.status_code, error_code)
    assert stored_files(rt) == stored
    assert firm.get("/api/dossiers").json()["total"] == 1


def test_requests_without_a_valid_token_get_401_with_a_bearer_challenge(client, rt):
    firm = business(client)
    for kind, (headers, _) in _bad_tokens(rt, firm).items():
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 401, kind
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), kind


def test_wrong_password_or_unknown_login_gets_no_token(client, rt):
    firm = business(client)
    wrong = client.post("/api/auth/token", data={"username": firm.email, "password": PASSWORD + "x"})
    unknown = client.post("/api/auth/token", data={"username": "ai-do@khong-co.vn", "password": PASSWORD})
    error = error_of(wrong, wrong.status_code, "invalid_credentials")
    assert 400 <= wrong.status_code < 500 and "access_token" not in wrong.text
    # An unknown account answers exactly like a wrong password: no account enumeration.
    assert (unknown.status_code, error_of(unknown, unknown.status_code)) == (wrong.status_code, error)


def test_wrong_password_gets_401(client, rt):
    firm = business(client)
    response = client.post("/api/auth/token", data={"username": firm.email, "password": "sai-mat-khau-1"})
    error_of(response, 401, "invalid_credentials")


def test_login_by_tax_code_or_any_case_of_the_email(client, rt):
    firm = business(client)
    for username in (firm.tax_code, firm.email.upper(), f"  {firm.email}  "):
        token = login(client, username)
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["email"] == firm.email, username


def test_me_tells_who_is_logged_in_and_their_roles(client, rt):
    firm, leader = business(client, "HTX Nông sản Cam Lộ"), officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
    me = firm.get("/api/me").json()
    assert me["roles"] == ["business"]
    assert (me["email"], me["tax_code"], me["organisation_name"]) == (
        firm.email,
        firm.tax_code,
        "HTX Nông sản Cam Lộ",
    )
    assert "password" not in str(me) and "argon2" not in str(me)
    me = leader.get("/api/me").json()
    assert me["roles"] == ["leader"] and me["tax_code"] is None and me["job_title"] == "PHÓ GIÁM ĐỐC"


# --- registration --------------------------------------------------------------------------------


def _registration(**changes: Any) -> dict[str, Any]:
    body = {
        "email": "lienhe@hoptac-camlo.vn",
        "password": PASSWORD,
        "full_name": "Phan Thị Lan",
        "tax_code": "3201234564",
        "organisation_name": "HTX Nông sản Cam Lộ",
        "address": "Cam Lộ, Quảng Trị",
    }
    body.update(changes)
    return body


def test_registration_rejects_malformed_tax_codes(client, rt):
    for number, bad in enumerate(("123", "32012345678", "3201234564-1", "320123456A", "3201234564 001")):
        body = _registration(email=f"dn{number}@sai-mst.vn", tax_code=bad)
        error = error_of(client.post("/api/auth/register", json=body), 422, "validation_error")
        assert list(fields_of(error)) == ["tax_code"], bad
        refused = client.post("/api/auth/token", data={"username": body["email"], "password": PASSWORD})
        assert refused.status_code != 200, bad


def test_registration_refuses_a_tax_code_whose_check_digit_is_wrong(client, rt):
    """python-stdnum's stdnum.vn.mst: 0000000000 and 1234567890 were accepted before."""
    for number, bad in enumerate(("0000000000", "1234567890", "3200123456", "0100109107-001")):
        body = _registration(email=f"dn{number}@kiem-tra-mst.vn", tax_code=bad)
        problem = fields_of(error_of(client.post("/api/auth/register", json=body), 422, "validation_error"))[
            "tax_code"
        ]
        assert problem["code"] == "checksum", bad
        assert "chữ số kiểm tra" in problem["message"] and "check digit" in problem["message_en"]
    assert client.post("/api/auth/register", json=_registration(tax_code="0100109106")).status_code == 202


def test_registration_accepts_a_dependent_unit_tax_code(client, rt):
    response = client.post("/api/auth/register", json=_registration(tax_code="0100109106-001"))
    assert response.status_code == 202, response.text
    verify_email(client, rt, _registration()["email"])
    assert (
        client.post("/api/auth/token", data={"username": "0100109106-001", "password": PASSWORD}).status_code
        == 200
    )


def test_registration_never_tells_a_taken_email_and_an_unverified_tax_code_is_not_taken(client, rt):
    assert client.post("/api/auth/register", json=_registration()).status_code == 202
    verify_email(client, rt, _registration()["email"])

    # A taken e-mail answers as a new registration does (its owner is told by e-mail instead).
    same_email = client.post(
        "/api/auth/register", json=_registration(email="LienHe@HopTac-CamLo.vn", tax_code="3209999999")
    )
    assert same_email.status_code == 202, same_email.text
    # An unverified tax code is not taken by registering first: a second account may hold it until
    # an officer decides (tests/test_tax_codes.py).
    same_tax_code = client.post("/api/auth/register", json=_registration(email="khac@hoptac-camlo.vn"))
    assert same_tax_code.status_code == 202, same_tax_code.text
    # The first account is untouched: its password still works.
    assert login(client, "lienhe@hoptac-camlo.vn")


def test_registration_needs_a_password_of_eight_characters(client, rt):
    short = client.post("/api/auth/register", json=_registration(password="1234567"))
    problem = fields_of(error_of(short, 422, "validation_error"))["password"]
    assert "8" in problem["message"] and "8" in problem["message_en"]
    assert client.post("/api/auth/register", json=_registration(password="12345678")).status_code == 202


def test_passwords_are_stored_only_as_argon2_hashes(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    with reading(rt.engine) as session:
        rows = session.exec(select(User).where(User.email.in_([firm.email, clerk.email]))).all()
    assert len(rows) == 2
    for user in rows:
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert PasswordHasher().verify(user.password_hash, PASSWORD)
    assert rows[0].password_hash != rows[1].password_hash  # salted
