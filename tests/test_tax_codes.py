"""A tax code is not taken by whoever registers first (issue 13): accounts are unverified until a
clerk (or the administrator) checks the tax code against the business registration; a verified
one is refused at registration with the way to contest; the contest is decided and the contester
told by e-mail. (The race of two clerks verifying at once on PostgreSQL: tests/test_pg_races.py.)"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from notifications.dispatcher import fan_out
from notifications.inbox_queries import list_for
from notifications.models import Delivery
from notifications.render import Renderer
from tests.support import (
    PASSWORD,
    PDF,
    Person,
    error_of,
    fields_of,
    login,
    officer,
    valid_tax_code,
    verify_email,
)
from tests.test_pages import csrf, page_login
from workflows import audit, tax_codes
from workflows.db import reading, transaction
from workflows.demo import create_demo_accounts
from workflows.models import User
from workflows.outbox import OutboxEvent
from workflows.runtime import Runtime

_numbers = itertools.count(1)
EVIDENCE = "GCN ĐKDN số 3200765001, đăng ký lần đầu ngày 05/03/2015"


def register(client: Any, tax_code: str, name: str = "Công ty TNHH Cơ khí Cam Lộ") -> Any:
    number = next(_numbers)
    response = client.post(
        "/api/auth/register",
        json={
            "email": f"mst{number}@cokhi.vn",
            "password": PASSWORD,
            "full_name": "Lê Văn Tâm",
            "tax_code": tax_code,
            "organisation_name": f"{name} {number}",
        },
    )
    response.email = f"mst{number}@cokhi.vn"  # type: ignore[attr-defined]  (who registered)
    return response


def holder(client: Any, tax_code: str, name: str = "Công ty TNHH Cơ khí Cam Lộ") -> Person:
    """A business account registered with ``tax_code``, its e-mail verified through the link
    e-mailed to it, logged in (its id in ``extra['id']``)."""
    response = register(client, tax_code, name)
    assert response.status_code == 202, response.text
    verify_email(client, client.app.state.runtime, response.email)
    person = Person(client, response.email, login(client, response.email), tax_code=tax_code)
    me = person.get("/api/me").json()
    person.organisation = me["organisation_name"]
    person.extra["id"] = me["id"]
    return person


def fresh_tax_code() -> str:
    return valid_tax_code(40_000 + next(_numbers))


def state_of(rt: Runtime, user_id: int) -> User:
    with reading(rt.engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def verify(clerk: Person, person: Person, evidence: str = EVIDENCE) -> Any:
    return clerk.post(f"/api/accounts/{person.extra['id']}/tax-code/verify", json={"evidence": evidence})


# --- registration -----------------------------------------------------------------------------------


def test_a_second_registration_of_an_unverified_tax_code_is_accepted_and_the_officer_decides(client, rt):
    tax_code = fresh_tax_code()
    first = holder(client, tax_code)
    answer = register(client, tax_code, "Cơ sở Cơ khí Cam Lộ")
    assert answer.status_code == 202, answer.text
    # The answer tells the business its tax code will be checked at its first dossier's receipt.
    assert "tiếp nhận hồ sơ đầu tiên" in answer.json()["message"]
    assert "receives your first dossier" in answer.json()["message_en"]
    verify_email(client, rt, answer.email)
    second = Person(client, answer.email, login(client, answer.email), tax_code=tax_code)
    me = second.get("/api/me").json()
    second.extra["id"] = me["id"]
    assert me["tax_code_verification"]["status"] == "unverified" and me["tax_code"] == tax_code
    # The officers' list groups them under the tax code, flagged as held by several accounts.
    clerk = officer(client, rt, "clerk")
    groups = {g["tax_code"]: g for g in clerk.get("/api/tax-codes/unverified").json()}
    assert groups[tax_code]["contested"] is True
    assert [h["id"] for h in groups[tax_code]["holders"]] == [first.extra["id"], second.extra["id"]]


def test_a_verified_tax_code_is_refused_at_registration_with_the_way_to_contest(client, rt):
    tax_code = fresh_tax_code()
    first, clerk = holder(client, tax_code), officer(client, rt, "clerk")
    assert verify(clerk, first).status_code == 200
    refused = register(client, tax_code, "Công ty Mạo Danh")
    error = error_of(refused, 409, "tax_code_verified")
    assert list(fields_of(error)) == ["tax_code"]
    assert "/tax-code-contests/new" in error["message"] and "/tax-code-contests/new" in error["message_en"]
    assert "khiếu nại" in error["message"] and "contest" in error["message_en"]
    # The page says so too, beside the field, and links the contest form.
    form = client.get("/register")
    assert 'href="/tax-code-contests/new"' in form.text
    page = client.post(
        "/register",
        data={
            "organisation_name": "Công ty Mạo Danh",
            "tax_code": tax_code,
            "full_name": "Người Lạ",
            "email": "mao-danh@example.vn",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf(form.text),
        },
    )
    assert page.status_code == 409 and "/tax-code-contests/new" in page.text


# --- verifying and rejecting ------------------------------------------------------------------------


def test_verifying_one_account_rejects_the_others_who_are_told_and_submit_no_new_dossier(client, rt):
    tax_code = fresh_tax_code()
    real, other = holder(client, tax_code), holder(client, tax_code, "Cơ sở Mạo Danh")
    clerk = officer(client, rt, "clerk", name="Lê Thị Hoa")
    earlier = other.submitted()  # filed while unverified: it stays the other's
    verified = verify(clerk, real)
    assert verified.status_code == 200, verified.text
    assert verified.json()["tax_code_verification"]["evidence"] == EVIDENCE
    account = state_of(rt, real.extra["id"])
    assert (account.tax_code_status, account.tax_code_note) == ("verified", EVIDENCE)
    assert account.tax_code_decided_by_id is not None and account.tax_code_decided_at is not None
    rejected = state_of(rt, other.extra["id"])
    assert rejected.tax_code_status == "rejected" and tax_code in (rejected.tax_code_note or "")
    # Audited on each account's stream, who and what.
    with reading(rt.engine) as session:
        from workflows.models import AuditEvent

        events = {
            e.stream: e
            for e in session.exec(select(AuditEvent).where(AuditEvent.action.like("tax_code_%"))).all()
        }
        assert audit.verify_stream(session, f"user:{real.extra['id']}") is None
    assert events[f"user:{real.extra['id']}"].actor_label == "Lê Thị Hoa"
    assert events[f"user:{real.extra['id']}"].details["note"] == EVIDENCE
    assert events[f"user:{other.extra['id']}"].action == "tax_code_rejected"
    # The rejected account is told (in-app, and the verified one too).
    fan_out(rt)
    titles = [n.title for n in list_for(rt, other.extra["id"])[0]]
    assert any("không được xác minh" in t for t in titles), titles
    assert any("đã được xác minh" in n.title for n in list_for(rt, real.extra["id"])[0])
    # Its dossiers stay its own; no new one until it corrects its tax code or contests.
    assert other.get(f"/api/dossiers/{earlier}").status_code == 200
    refused = error_of(other.submit(other.declaration()), 409, "tax_code_rejected")
    assert "/tax-code-contests/new" in refused["message"] and "/account/tax-code" in refused["message_en"]
    assert other.get("/api/me").json()["tax_code_verification"]["status"] == "rejected"
    # Correcting to a tax code verified for someone else is refused the same way as registering.
    error_of(other.post("/api/me/tax-code", json={"tax_code": tax_code}), 409, "tax_code_verified")
    own = fresh_tax_code()
    corrected = other.post("/api/me/tax-code", json={"tax_code": own})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["tax_code_verification"]["status"] == "unverified"
    other.tax_code = own
    assert other.submit(other.declaration()).status_code == 201
    # A verified tax code is not the business's to change.
    error_of(real.post("/api/me/tax-code", json={"tax_code": own}), 409, "already_verified")


def test_rejecting_needs_a_reason_and_tells_the_business(client, rt):
    tax_code = fresh_tax_code()
    firm, clerk = holder(client, tax_code), officer(client, rt, "clerk")
    url = f"/api/accounts/{firm.extra['id']}/tax-code/reject"
    problem = fields_of(error_of(clerk.post(url, json={"reason": "  sai  "}), 422, "validation_error"))
    assert list(problem) == ["reason"]
    response = clerk.post(url, json={"reason": "Tên trên GCN ĐKDN khác tên đăng ký tài khoản."})
    assert response.status_code == 200, response.text
    assert (
        response.json()["tax_code_verification"]["reason"] == "Tên trên GCN ĐKDN khác tên đăng ký tài khoản."
    )
    fan_out(rt)
    notices = list_for(rt, firm.extra["id"])[0]
    assert any("Tên trên GCN ĐKDN khác tên" in n.body for n in notices), [n.body for n in notices]
    # Only an unverified tax code is rejected; a verified one moves by a contest.
    again = error_of(clerk.post(url, json={"reason": "Lần nữa, vẫn sai tên."}), 409, "not_unverified")
    assert "chưa xác minh" in again["message"]
    evidence = error_of(verify(clerk, firm, "GCN"), 422, "validation_error")
    assert list(fields_of(evidence)) == ["evidence"]


def test_only_the_clerks_and_the_administrator_verify(client, rt):
    tax_code = fresh_tax_code()
    firm = holder(client, tax_code)
    for role in ("specialist", "leader", "council", "tbt_officer"):
        error_of(verify(officer(client, rt, role), firm), 403, "forbidden")
        error_of(officer(client, rt, role).get("/api/tax-codes/unverified"), 403, "forbidden")
    error_of(verify(firm, firm), 403, "forbidden")
    error_of(
        client.post(f"/api/accounts/{firm.extra['id']}/tax-code/verify", json={"evidence": EVIDENCE}), 401
    )
    assert verify(officer(client, rt, "admin"), firm).status_code == 200
    # Twice is a conflict, not a second verification.
    error_of(verify(officer(client, rt, "clerk"), firm), 409, "already_verified")
    error_of(
        officer(client, rt, "clerk").post(
            "/api/accounts/999999/tax-code/verify", json={"evidence": EVIDENCE}
        ),
        404,
    )


def test_the_database_holds_at_most_one_verified_account_per_tax_code(client, rt):
    tax_code = fresh_tax_code()
    one, two = holder(client, tax_code), holder(client, tax_code)
    with transaction(rt.engine) as session:
        session.execute(
            text("UPDATE app_user SET tax_code_status = 'verified' WHERE id = :id"), {"id": one.extra["id"]}
        )
    with pytest.raises(IntegrityError), transaction(rt.engine) as session:
        session.execute(
            text("UPDATE app_user SET tax_code_status = 'verified' WHERE id = :id"), {"id": two.extra["id"]}
        )
    # Unverified and rejected accounts may share it as they like.
    with transaction(rt.engine) as session:
        session.execute(
            text("UPDATE app_user SET tax_code_status = 'rejected' WHERE id = :id"), {"id": two.extra["id"]}
        )
    assert holder(client, fresh_tax_code()).extra["id"]


# --- logging in by tax code ------------------------------------------------------------------------


def test_a_tax_code_logs_in_only_the_account_it_names_without_doubt(client, rt):
    tax_code = fresh_tax_code()

    def by_tax_code() -> int:
        return client.post("/api/auth/token", data={"username": tax_code, "password": PASSWORD}).status_code

    first = holder(client, tax_code)
    assert by_tax_code() == 200  # the only account holding it
    second = holder(client, tax_code)
    # Two accounts, none verified: neither logs in by tax code (the answer is a wrong password's);
    # both log in by e-mail.
    refused = client.post("/api/auth/token", data={"username": tax_code, "password": PASSWORD})
    wrong = client.post("/api/auth/token", data={"username": first.email, "password": "sai-mat-khau-1"})
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()
    assert login(client, first.email) and login(client, second.email)
    # Once one is verified, the tax code logs in that one only.
    verify(officer(client, rt, "clerk"), second)
    token = login(client, tax_code)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["id"] == second.extra["id"] and me["tax_code_verification"]["status"] == "verified"


# --- the receipt task and the officers' pages -----------------------------------------------------


def test_the_receipt_task_warns_of_an_unverified_applicant_and_verifies_it(client, rt):
    tax_code = fresh_tax_code()
    firm = holder(client, tax_code)
    holder(client, tax_code, "Cơ sở Cùng Mã")
    code = firm.submitted()
    clerk = officer(client, rt, "clerk")
    task = clerk.task(code)
    page_login(client, clerk.email)
    page = client.get(f"/work/tasks/{task['id']}")
    assert page.status_code == 200
    assert (
        "Mã số thuế chưa được xác minh" in page.text
        and f'action="/work/tax-codes/{firm.extra["id"]}/verify"' in page.text
    )
    assert "1 tài khoản khác cũng khai mã số thuế này" in page.text
    assert "Mã số thuế chưa được xác minh" in client.get(f"/dossiers/{code}").text
    # In English too.
    assert "Tax code not verified" in client.get(f"/work/tasks/{task['id']}?lang=en").text
    done = client.post(
        f"/work/tax-codes/{firm.extra['id']}/verify",
        data={"evidence": EVIDENCE, "next": f"/work/tasks/{task['id']}", "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/work/tasks/{task['id']}"
    assert "Mã số thuế chưa được xác minh" not in client.get(f"/work/tasks/{task['id']}").text
    assert state_of(rt, firm.extra["id"]).tax_code_status == "verified"
    # An officer who may not verify sees no such warning (a specialist, on the dossier page).
    specialist = officer(client, rt, "specialist")
    other = holder(client, fresh_tax_code())
    other_code = other.submitted()
    page_login(client, specialist.email)
    assert "Mã số thuế chưa được xác minh" not in client.get(f"/dossiers/{other_code}").text


def test_the_officers_list_groups_the_accounts_by_tax_code_and_verifies_or_rejects_one(client, rt):
    shared, single = fresh_tax_code(), fresh_tax_code()
    one, two = holder(client, shared), holder(client, shared, "Cơ sở Trùng Mã")
    alone = holder(client, single)
    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    page = client.get("/work/tax-codes")
    assert page.status_code == 200
    assert f'data-tax-code="{shared}" data-contested' in page.text
    assert f'data-tax-code="{single}">' in page.text
    assert page.text.index(shared) < page.text.index(single)  # several on one tax code first
    refused = client.post(
        f"/work/tax-codes/{alone.extra['id']}/reject", data={"reason": "x", "csrf_token": csrf(page.text)}
    )
    assert refused.status_code == 422 and "lý do từ chối" in refused.text
    done = client.post(
        f"/work/tax-codes/{two.extra['id']}/verify",
        data={"evidence": EVIDENCE, "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert f'data-tax-code="{shared}"' not in after.text  # nobody unverified holds it any more
    assert state_of(rt, one.extra["id"]).tax_code_status == "rejected"
    # The pages are the verifiers' own.
    page_login(client, officer(client, rt, "leader").email)
    assert client.get("/work/tax-codes").status_code == 403
    assert "/work/tax-codes" not in client.get("/work/inbox").text


def test_the_business_sees_where_its_tax_code_stands(client, rt):
    firm = holder(client, fresh_tax_code())
    page_login(client, firm.email)
    mine = client.get("/my/dossiers")
    assert 'data-tax-code-state="unverified"' in mine.text and "/account/tax-code" in mine.text
    page = client.get("/account/tax-code")
    assert 'data-tax-code-state="unverified"' in page.text and "tiếp nhận hồ sơ đầu tiên" in page.text
    clerk = officer(client, rt, "clerk", name="Lê Thị Hoa")
    verify(clerk, firm)
    page = client.get("/account/tax-code")
    assert (
        'data-tax-code-state="verified"' in page.text and EVIDENCE in page.text and "Lê Thị Hoa" in page.text
    )
    assert 'action="/account/tax-code"' not in page.text  # nothing to correct
    assert "data-tax-code-state" not in client.get("/my/dossiers").text


# --- contests ---------------------------------------------------------------------------------------


def contest(
    client: Any, tax_code: str, email: str = "phaply@cokhi-that.vn", token: str | None = None, **changes: Any
) -> Any:
    data = {
        "tax_code": tax_code,
        "organisation_name": "Công ty TNHH Cơ khí Thật",
        "contact_name": "Nguyễn Thị Thật",
        "contact_email": email,
        "contact_phone": "0233 3852 999",
        "statement": "Mã số thuế này là của công ty chúng tôi theo GCN ĐKDN đính kèm.",
        **changes,
    }
    files = {"certificate": ("gcn-dkdn.pdf", PDF, "application/pdf")}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/tax-code-contests", data=data, files=files, headers=headers)


def emails_to(rt: Runtime, address: str) -> list[Delivery]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(Delivery)
                .where(Delivery.channel == "email", Delivery.recipient == address)
                .order_by(Delivery.id)
            ).all()
        )


def test_a_contest_is_filed_listed_refused_or_accepted_and_the_contester_told_by_email(client, rt):
    tax_code = fresh_tax_code()
    holder_now = holder(client, tax_code, "Công ty Giữ Mã")
    clerk = officer(client, rt, "clerk")
    verify(clerk, holder_now)
    # Filed by anyone, no account needed, with the certificate.
    filed = contest(client, tax_code)
    assert filed.status_code == 201, filed.text
    contest_id = filed.json()["id"]
    assert "phaply@cokhi-that.vn" in filed.json()["message"]["vi"]
    fan_out(rt)
    received = emails_to(rt, "phaply@cokhi-that.vn")
    assert [d.subject for d in received] == [
        f"Đã nhận khiếu nại số {contest_id} về mã số thuế {tax_code} | Contest received"
    ]
    assert (
        "Kính gửi Nguyễn Thị Thật" in received[0].body_text
        and "Dear Nguyễn Thị Thật" in received[0].body_text
    )
    clerk_id = clerk.get("/api/me").json()["id"]
    assert any(tax_code in n.title for n in list_for(rt, clerk_id)[0])  # the desk hears of it
    # Listed for the clerks with the holder it contests and the certificate.
    listed = {c["id"]: c for c in clerk.get("/api/tax-code-contests").json()}
    assert holder_now.email in listed[contest_id]["verified_holder"]
    certificate = clerk.get(listed[contest_id]["certificate_url"])
    assert certificate.status_code == 200 and certificate.content == PDF
    error_of(holder_now.get("/api/tax-code-contests"), 403, "forbidden")
    error_of(holder_now.get(listed[contest_id]["certificate_url"]), 403, "forbidden")
    # Refused, with a reason; the contester hears why; the holder keeps the tax code.
    url = f"/api/tax-code-contests/{contest_id}"
    error_of(clerk.post(f"{url}/refuse", json={"note": "không"}), 422, "validation_error")
    refused = clerk.post(
        f"{url}/refuse", json={"note": "GCN ĐKDN đính kèm là bản sao không rõ, không đối chiếu được."}
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    error_of(clerk.post(f"{url}/accept", json={"note": EVIDENCE}), 409, "already_decided")
    fan_out(rt)
    decided = emails_to(rt, "phaply@cokhi-that.vn")[-1]
    assert "không được chấp nhận" in decided.subject and "bản sao không rõ" in decided.body_text
    assert state_of(rt, holder_now.extra["id"]).tax_code_status == "verified"
    # A second contest, accepted: the verification moves off the holder, who is told; the
    # contester, without an account, is invited to register, and can.
    again = contest(client, tax_code, "giamdoc@cokhi-that.vn").json()["id"]
    accepted = clerk.post(
        f"/api/tax-code-contests/{again}/accept",
        json={"note": "Đối chiếu GCN ĐKDN bản chính số 3200765001 ngày 05/03/2015."},
    )
    assert accepted.status_code == 200, accepted.text
    assert state_of(rt, holder_now.extra["id"]).tax_code_status == "rejected"
    fan_out(rt)
    invited = emails_to(rt, "giamdoc@cokhi-that.vn")[-1]
    assert "được chấp nhận" in invited.subject and "/register" in invited.body_text
    assert any("không được xác minh" in n.title for n in list_for(rt, holder_now.extra["id"])[0])
    assert register(client, tax_code, "Công ty TNHH Cơ khí Thật").status_code == 202
    decided_list = clerk.get("/api/tax-code-contests?decided=true").json()
    assert {c["id"]: c["status"] for c in decided_list} == {contest_id: "refused", again: "accepted"}


def test_a_contest_from_a_rejected_account_moves_the_verification_to_it(client, rt):
    tax_code = fresh_tax_code()
    impostor, real = holder(client, tax_code, "Công ty Mạo Danh"), holder(client, tax_code, "Công ty Thật")
    clerk = officer(client, rt, "admin")  # the administrator decides as the desk does
    verify(clerk, impostor)
    assert state_of(rt, real.extra["id"]).tax_code_status == "rejected"
    filed = contest(client, tax_code, real.email, token=real.token)
    assert filed.status_code == 201, filed.text
    accepted = clerk.post(f"/api/tax-code-contests/{filed.json()['id']}/accept", json={"note": EVIDENCE})
    assert accepted.status_code == 200, accepted.text
    assert state_of(rt, real.extra["id"]).tax_code_status == "verified"
    assert state_of(rt, impostor.extra["id"]).tax_code_status == "rejected"
    assert f"contest no. {filed.json()['id']}" in (state_of(rt, real.extra["id"]).tax_code_note or "")
    assert real.submit(real.declaration()).status_code == 201


def test_a_contest_needs_a_valid_tax_code_contact_and_certificate(client, rt):
    missing = client.post(
        "/api/tax-code-contests",
        data={
            "tax_code": "1234567890",
            "organisation_name": " ",
            "contact_name": "An",
            "contact_email": "khong-phai-thu",
        },
        files={"certificate": ("gcn.pdf", b"", "application/pdf")},
    )
    problems = fields_of(error_of(missing, 422, "validation_error"))
    assert set(problems) == {"tax_code", "organisation_name", "contact_email", "certificate"}
    not_a_pdf = client.post(
        "/api/tax-code-contests",
        data={
            "tax_code": fresh_tax_code(),
            "organisation_name": "Công ty A",
            "contact_name": "An",
            "contact_email": "an@a.vn",
        },
        files={"certificate": ("gcn.pdf", b"MZ\x90\x00 not a document", "application/pdf")},
    )
    assert list(fields_of(error_of(not_a_pdf, 422, "validation_error"))) == ["certificate"]


def test_the_public_contest_page_and_the_officers_decision_page(client, rt):
    tax_code = fresh_tax_code()
    verify(officer(client, rt, "clerk"), holder(client, tax_code))
    client.cookies.clear()
    form = client.get(f"/tax-code-contests/new?tax_code={tax_code}")
    assert form.status_code == 200 and f'value="{tax_code}"' in form.text
    fields = {
        "tax_code": tax_code,
        "organisation_name": "Công ty TNHH Cơ khí Thật",
        "contact_name": "Nguyễn Thị Thật",
        "contact_email": "lienhe@cokhi-that.vn",
        "csrf_token": csrf(form.text),
    }
    without = client.post("/tax-code-contests/new", data=fields)
    assert without.status_code == 422 and "Giấy chứng nhận đăng ký doanh nghiệp" in without.text
    filed = client.post(
        "/tax-code-contests/new", data=fields, files={"certificate": ("gcn.pdf", PDF, "application/pdf")}
    )
    assert (
        filed.status_code == 200
        and "data-contest-filed" in filed.text
        and "lienhe@cokhi-that.vn" in filed.text
    )
    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    listed = client.get("/work/tax-code-contests")
    assert "Công ty TNHH Cơ khí Thật" in listed.text and "/certificate" in listed.text
    contest_id = clerk.get("/api/tax-code-contests").json()[0]["id"]
    assert client.get(f"/work/tax-code-contests/{contest_id}/certificate").content == PDF
    decided = client.post(
        f"/work/tax-code-contests/{contest_id}/decide",
        data={
            "decision": "refuse",
            "note": "Không có bản chính để đối chiếu.",
            "csrf_token": csrf(listed.text),
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "Không có bản chính để đối chiếu." in client.get("/work/tax-code-contests?show=decided").text


# --- messages and demo ------------------------------------------------------------------------------


def test_the_tax_code_messages_render_in_both_languages_escaped(rt):
    renderer = Renderer(rt)
    user = User(id=7, email="a@b.vn", password_hash="x", full_name="Nguyễn Văn An", roles=["business"])
    payload = {
        "user_ids": [7],
        "tax_code": "3200765001",
        "organisation_name": "Công ty <b>Cơ khí</b>",
        "note": "GCN ĐKDN số 3200765001",
        "contest_id": 3,
        "contact_name": "Nguyễn Thị <i>Thật</i>",
        "contact_email": "that@cokhi.vn",
        "accepted": True,
        "register": True,
    }
    for event_type in sorted(t for t in tax_codes.EVENT_TYPES):
        event = OutboxEvent(id="e" * 32, type=event_type, payload=payload)
        message = renderer.event_message(event, None if "contest" in event_type else user)
        assert "3200765001" in message.subject and " | " in message.subject, event_type
        assert message.title_vi and message.title_en and message.body_vi and message.sms, event_type
        assert "<b>" not in message.html and "<i>" not in message.html, event_type
        assert "Dear " in message.text and message.html.count('lang="en"') == 1, event_type


def test_the_demo_verifies_its_businesses_and_leaves_a_pair_on_one_tax_code(rt):
    create_demo_accounts(rt)
    with reading(rt.engine) as session:
        businesses = {u.email: u for u in session.exec(select(User).where(User.tax_code.is_not(None))).all()}
        clerk = session.exec(select(User).where(User.email == "motcua@demo.tdcflow.vn")).one()
    pair = [u for u in businesses.values() if u.tax_code == "3200765001"]
    assert len(pair) == 2 and {u.tax_code_status for u in pair} == {"unverified"}
    verified = [u for u in businesses.values() if u.tax_code != "3200765001"]
    assert len(verified) >= 4
    for user in verified:
        assert user.tax_code_status == "verified", user.email
        assert user.tax_code_decided_by_id == clerk.id and len(user.tax_code_note or "") >= 10, user.email
    assert [g.contested for g in tax_codes.unverified_groups(rt, clerk) if g.tax_code == "3200765001"] == [
        True
    ]
