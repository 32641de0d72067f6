"""The one permissions policy (workflows/permissions.py) and who asks it.

* Every route and page asks the policy (its dependencies include ``Permitted``/``PagePermitted``)
  or is listed here as public: a new route that does neither fails the walk.
* The policy's table, role by role, is what the scattered checks said before they moved there.
* A few requests through the app show the policy's answers as the clients see them.
"""

from __future__ import annotations

import pkgutil
import re
from typing import Any

import pytest
import time_machine
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import asks_policy
from api.main import create_app
from tests.support import PASSWORD, business, error_of, local, officer
from workflows import permissions, plugins, procedures
from workflows.errors import Forbidden, NotFound
from workflows.models import Dossier, User, WorkTask
from workflows.runtime import Runtime

# Routes and pages nobody needs to sign in for ("METHOD path"); the static files and the API
# documentation too. Some show more to a signed-in user, asking the policy inside.
PUBLIC = {
    # the framework's own: the API's description; the documentation page (api/routes/docs.py)
    "GET /openapi.json",
    "GET /docs",
    "MOUNT /static",
    "MOUNT /vendor/bpmn-js",
    "MOUNT /vendor/swagger-ui-dist",
    # health, for the load balancer and the monitoring
    "GET /healthz",
    "GET /healthz/worker",
    # signing in and registering; verifying an address, resetting a password by an e-mailed link
    "POST /api/auth/register",
    "POST /api/auth/token",
    "POST /api/auth/verify-email",
    "POST /api/auth/verify-email/resend",
    "POST /api/auth/password-reset",
    "POST /api/auth/password-reset/confirm",
    "GET /login",
    "POST /login",
    "POST /logout",
    "GET /register",
    "POST /register",
    "GET /verify-email",
    "POST /verify-email",
    "GET /verify-email/resend",
    "POST /verify-email/resend",
    "GET /forgot-password",
    "POST /forgot-password",
    "GET /reset-password",
    "POST /reset-password",
    # contesting a tax code verified for another account (no account needed: the answer is e-mailed)
    "POST /api/tax-code-contests",
    "GET /tax-code-contests/new",
    "POST /tax-code-contests/new",
    # the catalogue, the public lookup of a dossier, the verification of a document
    "GET /api/procedures",
    "GET /api/procedures/{code}",
    "GET /api/public/dossiers/{code}",
    "GET /api/public/documents/{verification_code}",
    # the public statistics (Decision 766/QĐ-TTg): counts only, no personal data
    "GET /api/public/statistics",
    # the metrology database: the list of instrument kinds (data of the law), and anyone checks a
    # verification stamp by its number or its QR code (no personal data)
    "GET /api/metrology/kinds",
    "GET /api/public/stamps/{stamp_number}",
    "GET /api/public/stamps/qr/{token}",
    "GET /stamps",
    "GET /stamps/qr/{token}",
    # the metrology database's counts per kind and commune (counts only, no personal data)
    "GET /api/public/metrology/counts",
    "GET /metrology/counts",
    # a verification body's file of results: the API key typed in the form stands for its sign-in
    # (as the API's X-API-Key header does); the policy is asked of the body the key names
    "GET /metrology/report",
    "POST /metrology/report",
    "GET /thong-ke",
    "GET /thong-ke.xlsx",
    # a TBT visitor's rating through its follow link (the secret link stands for its sign-in)
    "POST /tbt/follow/{code}/{token}/rating",
    # anyone checks a file they were given: the issued document, signature valid, or not
    "POST /api/public/documents/check",
    "POST /verify/file",
    "GET /favicon.ico",
    "GET /",
    "GET /procedures/{code}",
    "GET /procedures/{code}/forms/{stem}.docx",
    "GET /lookup",
    "GET /verify",
    "GET /verify/{verification_code}",
    # the award's registration window (what it says to a business is the policy's)
    "GET /api/award/window",
    # the TBT inquiry point: visitors ask and follow by a secret link; the knowledge base and the
    # WTO notifications are public reading
    "GET /api/tbt/form-token",
    "POST /api/tbt/inquiries",
    "GET /api/tbt/follow/{code}/{token}",
    "GET /api/tbt/follow/{code}/{token}/documents/{document_id}",
    "GET /api/tbt/kb",
    "GET /api/tbt/kb/{entry_id}",
    "GET /api/tbt/wto-notifications",
    "GET /api/tbt/wto-notifications/{notification_id}",
    "GET /tbt",
    "GET /tbt/ask",
    "POST /tbt/ask",
    "GET /tbt/follow/{code}/{token}",
    "GET /tbt/follow/{code}/{token}/documents/{document_id}",
    "GET /tbt/kb",
    "GET /tbt/kb/{entry_id}",
    "GET /tbt/wto",
    "GET /tbt/wto/{notification_id}",
}


def _asked(dependant: Dependant) -> list[str]:
    """The actions a route's dependencies (and theirs) ask the policy."""
    found = [action] if (action := asks_policy(dependant.call)) else []
    for sub in dependant.dependencies:
        found += _asked(sub)
    return found


def _routes(rt: Runtime) -> dict[str, list[str] | None]:
    """Each route of the app ("METHOD path") and what it asks the policy (None: not a route of ours)."""
    routes: dict[str, list[str] | None] = {}
    for context in iter_route_contexts(create_app(rt).routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                routes[f"{method} {context.path}"] = _asked(route.dependant)
        elif context.methods:
            for method in sorted(context.methods - {"HEAD"}):
                routes[f"{method} {context.path}"] = None
        else:
            routes[f"MOUNT {context.path}"] = None
    return routes


def test_every_route_asks_the_policy_or_is_listed_as_public(rt):
    routes = _routes(rt)
    assert len(routes) > 100  # the procedures' routes are walked too
    unasked = sorted(key for key, asked in routes.items() if not asked and key not in PUBLIC)
    assert unasked == [], f"routes that neither ask the policy nor are listed as public: {unasked}"
    # A public route that asks the policy, or one that is gone, is a stale entry in the list.
    assert sorted(key for key in PUBLIC if routes.get(key)) == []
    assert sorted(PUBLIC - routes.keys()) == []
    # Every action a route asks is one the policy knows.
    assert {a for asked in routes.values() for a in asked or ()} <= permissions.table().keys()


# --- the table, role by role ----------------------------------------------------------------------

ROLES = ("business", "clerk", "specialist", "leader", "council", "tbt_officer", "admin")
OFFICERS = frozenset(ROLES) - {"business"}
EVERYONE_SIGNED_IN = frozenset(ROLES) | {"visitor"}

# Who may, as the checks said before the policy: e.g. ``has_role("business")`` in
# submission.submit_dossier, ``is_officer`` in deps.require_officer, ``has_role("tbt_officer")`` in
# tbt/wto.py. ("visitor": a TBT asker's account without a role; nobody signed in may do none.)
EXPECTED: dict[str, frozenset[str]] = {
    "account.use": EVERYONE_SIGNED_IN,
    "dossier.submit": frozenset({"business"}),
    "dossier.start_page": frozenset({"business"}),
    "dossier.my_pages": frozenset({"business"}),
    "dossier.see_all": frozenset({"clerk", "specialist", "leader", "admin"}),
    "dossier.extend": frozenset({"leader"}),
    "violation.handle": frozenset({"specialist", "leader"}),
    "account.verify_tax_code": frozenset({"clerk", "admin"}),
    "task.release_any": frozenset({"leader"}),
    "work.api": OFFICERS,
    "work.pages": OFFICERS,
    "admin.pages": frozenset({"admin"}),
    "instance.resume": frozenset({"admin"}),
    "login_locks.manage": frozenset({"admin"}),
    "account.manage": frozenset({"admin"}),
    "signer_certificate.manage": frozenset({"admin"}),
    "calendar.manage": frozenset({"admin"}),
    "procedure_versions.manage": frozenset({"admin"}),
    "document.sign_personally": frozenset({"leader"}),
    "document_templates.manage": frozenset({"admin"}),
    "dossier.rate": EVERYONE_SIGNED_IN,
    "ratings.read": frozenset({"clerk", "specialist", "leader", "admin"}),
    "tbt.inquiry.ask_with_account": frozenset({"business"}),
    "tbt.kb.edit": frozenset({"tbt_officer"}),
    "tbt.wto.manage": frozenset({"tbt_officer"}),
    "tbt.wto.pages": frozenset({"tbt_officer"}),
    "tbt.wto.comment": frozenset({"business"}),
    "tbt.wto.subscribe": frozenset({"business"}),
    "tbt.subscriptions.pages": frozenset({"business"}),
    "tbt.wto.all_comments": OFFICERS,
    "award.round.manage": frozenset({"admin"}),
    "award.recommendations.issue": frozenset({"leader"}),
    "award.results.read": frozenset({"clerk", "specialist", "leader", "admin", "council"}),
    "metrology.bodies.manage": frozenset({"admin"}),
    # a verification body's API key, no account's role
    "metrology.report": frozenset(),
    "metrology.my_instruments": frozenset({"business"}),
    "metrology.read": frozenset({"clerk", "specialist", "leader", "admin"}),
    # violation warnings: the officers who inspect and their leaders (least privilege)
    "metrology.warnings": frozenset({"specialist", "leader"}),
    # its owner (a business, its own instruments' stamps only: a data rule) or such an officer
    "metrology.stamp_lost": frozenset({"business", "specialist", "leader"}),
    # a business registers its own instruments; an inspecting officer or a leader, anyone's
    "metrology.register_own": frozenset({"business"}),
    "metrology.register": frozenset({"specialist", "leader"}),
    # The inspection campaign: specialists open it; leaders approve (its model's lane) and read.
    "metrology.campaign.open": frozenset({"specialist"}),
    "metrology.campaign.read": frozenset({"specialist", "leader"}),
}


@pytest.fixture(scope="module")
def procedures_loaded() -> None:
    """The procedures' actions, registered as loading the catalogue registers them: every
    procedure's plug-in, so that a test run alone (not after one that loaded the catalogue) knows
    them all."""
    for found in pkgutil.iter_modules(procedures.__path__, f"{procedures.__name__}."):
        if found.ispkg:
            plugins.load(found.name)


def person(role: str, user_id: int = 7) -> User:
    return User(
        id=user_id, email=f"{role}@example.vn", password_hash="x", roles=[] if role == "visitor" else [role]
    )


def test_the_table_names_every_action_once(procedures_loaded):
    assert set(permissions.table()) == set(EXPECTED)
    core = {a.name for a in permissions.CORE_ACTIONS}
    assert core.isdisjoint(plugins.plugin_permissions())  # a procedure adds, never redefines


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", (*ROLES, "visitor"))
def test_who_may(procedures_loaded, action, role):
    user = person(role)
    assert permissions.may(user, action) is (role in EXPECTED[action])
    if role in EXPECTED[action]:
        permissions.require(user, action)
    else:
        with pytest.raises(Forbidden) as refused:
            permissions.require(user, action)
        assert refused.value.code == "forbidden"
        assert refused.value.message and refused.value.message_en
    # Nobody signed in may do none of them.
    assert permissions.may(None, action) is False


def test_an_officer_holding_several_roles_may_what_each_may(procedures_loaded):
    both = User(id=3, email="x@so-khcn.gov.vn", password_hash="x", roles=["clerk", "tbt_officer"])
    assert permissions.may(both, "tbt.wto.manage") and permissions.may(both, "work.pages")
    assert not permissions.may(both, "admin.pages")


def test_an_unknown_action_is_a_mistake_in_the_code():
    with pytest.raises(permissions.UnknownAction):
        permissions.may(person("admin"), "dossier.sell")


def test_the_data_rules():
    owner, other, clerk, leader = (
        person("business", 1),
        person("business", 2),
        person("clerk", 3),
        person("leader", 4),
    )
    council = person("council", 5)
    dossier = Dossier(id=10, code="X", procedure_code="p", applicant_id=1)
    # A business sees and attaches to its own dossiers only; officers see every dossier.
    assert permissions.may_see_dossier(owner, dossier) and not permissions.may_see_dossier(other, dossier)
    assert permissions.may_see_dossier(clerk, dossier) and permissions.may_see_dossier(leader, dossier)
    assert permissions.may_attach_to_dossier(owner, dossier) and not permissions.may_attach_to_dossier(
        other, dossier
    )
    assert permissions.may_attach_to_dossier(clerk, dossier)
    # A task is worked by the holders of its role; a business's task by the applicant alone.
    receive = WorkTask(id="t1", dossier_id=10, candidate_role="clerk")
    supplement = WorkTask(id="t2", dossier_id=10, candidate_role="business")
    assert permissions.may_work_task(clerk, receive, dossier)
    assert not permissions.may_work_task(leader, receive, dossier)
    assert permissions.may_work_task(owner, supplement, dossier)
    assert not permissions.may_work_task(other, supplement, dossier)
    assert not permissions.may_work_task(clerk, supplement, dossier)
    # Refused: a business is told "not found" (it must not learn of others' work), an officer why.
    with pytest.raises(NotFound):
        permissions.require_may_work_task(other, supplement, dossier)
    with pytest.raises(Forbidden, match="clerk"):
        permissions.require_may_work_task(leader, receive, dossier)
    # An applicant reads its documents unless its procedure seals them; officers read them all.
    assert permissions.may_read_document(clerk, applicant_may_read=False)
    assert not permissions.may_read_document(owner, applicant_may_read=False)
    # A council member's inbox lists only the score sheets assigned to them.
    assert permissions.inbox_scope(council) == permissions.InboxScope((), ("council",), False)
    assert permissions.inbox_scope(owner) == permissions.InboxScope((), (), True)
    assert permissions.inbox_scope(clerk) == permissions.InboxScope(("clerk",), (), False)


# --- through the app --------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_login(client: Any, email: str) -> None:
    client.cookies.clear()
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"login": email, "password": PASSWORD, "next": "", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_a_business_does_not_see_another_business_dossier(client, rt):
    owner, other, clerk = (
        business(client, "Công ty TNHH Mũ"),
        business(client, "Công ty CP Đèn"),
        officer(client, rt, "clerk"),
    )
    code = owner.submitted()
    assert owner.get(f"/api/dossiers/{code}").status_code == 200
    assert clerk.get(f"/api/dossiers/{code}").status_code == 200
    error_of(other.get(f"/api/dossiers/{code}"), 404, "not_found")
    assert code not in {d["code"] for d in other.get("/api/dossiers").json()["items"]}
    # Only a business submits; only a leader extends; nobody signed in is asked to sign in.
    error_of(clerk.submit(owner.declaration()), 403, "forbidden")
    error_of(
        clerk.post(f"/api/dossiers/{code}/extend", json={"days": 2, "reason": "Chờ ý kiến."}),
        403,
        "forbidden",
    )
    error_of(client.get("/api/dossiers", headers={}), 401)


def test_a_clerk_cannot_open_the_administration_pages(client, rt):
    clerk, admin = officer(client, rt, "clerk"), officer(client, rt, "admin")
    page_login(client, clerk.email)
    assert client.get("/work/inbox").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/webhooks").status_code == 403
    assert "/admin/users" not in client.get("/work/inbox").text  # the menu asks the policy too
    page_login(client, admin.email)
    assert client.get("/admin/users").status_code == 200
    client.cookies.clear()
    anonymous = client.get("/admin/users", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # Officers' JSON functions answer officers only.
    error_of(business(client).get("/api/reports/at-risk"), 403, "forbidden")
    assert clerk.get("/api/reports/at-risk").status_code == 200


NOTIFICATION = {
    "member": "Liên minh châu Âu",
    "symbol": "G/TBT/N/EU/2001",
    "title": "Dự thảo quy định về đồ chơi trẻ em",
    "products": "Đồ chơi bằng nhựa",
    "hs_codes": ["9503.00"],
    "description": "Giới hạn chất hóa dẻo trong đồ chơi.",
    "objective": "Bảo vệ sức khỏe trẻ em",
    "circulated_on": "2026-11-20",
}


def test_a_tbt_officer_compiles_the_wto_comments_and_a_council_member_cannot(client, rt):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt, council = officer(client, rt, "tbt_officer"), officer(client, rt, "council")
        firm = business(client)
        created = tbt.post("/api/tbt/wto-notifications", json=NOTIFICATION)
        assert created.status_code == 201, created.text
        error_of(council.post("/api/tbt/wto-notifications", json=NOTIFICATION), 403, "forbidden")
        url = f"/api/tbt/wto-notifications/{created.json()['id']}"
        assert (
            firm.post(f"{url}/comments", json={"body": "Đề nghị thời gian chuyển tiếp 12 tháng."}).status_code
            == 201
        )
        error_of(
            council.post(f"{url}/comments", json={"body": "Hội đồng không góp ý thay doanh nghiệp."}), 403
        )
        error_of(council.post(f"{url}/compilation"), 403, "forbidden")
        error_of(firm.post(f"{url}/compilation"), 403, "forbidden")
        # Before the comment deadline only with the reason for issuing early.
        compiled = tbt.post(
            f"{url}/compilation", json={"early_reason": "Văn phòng TBT Việt Nam đề nghị gửi sớm."}
        )
        assert compiled.status_code == 200, compiled.text
        # The officers' pages say the same.
        page_login(client, council.email)
        assert client.get("/tbt/wto/new").status_code == 403
        page_login(client, tbt.email)
        assert client.get("/tbt/wto/new").status_code == 200
