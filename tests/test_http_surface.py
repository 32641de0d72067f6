"""What every answer of the app carries, whatever the route: caching rules, the documentation page
and its Content-Security-Policy, the trailing-slash redirect, and an OpenAPI document that names
every status a client can meet (issue 13)."""

from __future__ import annotations

import re

import pytest

from api.main import NODE_MODULES
from tests.support import PDF, business, error_of, officer

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATIC = "/static/css/app.css"


def page_login(client, email: str) -> None:  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"login": email, "password": "mat-khau-an-toan-2026", "next": "", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


# --- no answer that may carry personal data is kept by a browser or a cache ---------------------


def test_json_answers_and_pages_with_personal_data_are_never_stored(client, rt):
    firm = business(client)
    code = firm.submitted()
    clerk = officer(client, rt, "clerk")
    attachment = clerk.get(f"/api/dossiers/{code}").json()["attachments"][0]["id"]
    for response in (
        firm.get("/api/me"),
        firm.get(f"/api/dossiers/{code}"),
        firm.get("/api/dossiers"),
        clerk.get("/api/tasks"),
        clerk.get(f"/api/attachments/{attachment}"),
        client.get(f"/api/public/dossiers/{code}"),
        client.get("/api/dossiers"),  # an error answer too
        client.get("/api/procedures"),
        client.get("/healthz"),
    ):
        assert response.status_code < 500, response.text
        assert "no-store" in response.headers.get("cache-control", ""), response.request.url
    page_login(client, firm.email)
    for url in ("/", "/my/dossiers", f"/lookup?code={code}", "/login", "/notifications"):
        response = client.get(url)
        assert "no-store" in response.headers.get("cache-control", ""), url


def test_static_assets_may_be_cached(client):
    response = client.get(STATIC)
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


# --- the API documentation: served from the app, under the app's one strict policy ---------------


def test_the_api_documentation_loads_nothing_from_another_site_and_has_a_strict_policy(client):
    response = client.get("/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'self'" in policy
    assert "unsafe-eval" not in policy and "cdn" not in policy
    page = response.text
    assert "<script>" not in page  # no inline script: the policy would refuse it
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    if (NODE_MODULES / "swagger-ui-dist").is_dir():
        for source in sources:
            if source.endswith((".js", ".css")):
                assert client.get(source).status_code == 200, source
    # The documents FastAPI would load from a CDN are gone, not left behind without a policy.
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404


# --- the trailing-slash redirect names this site only --------------------------------------------


@pytest.mark.parametrize("path", ["/api/dossiers/", "/api/procedures/?page=2", "/lookup/"])
def test_the_trailing_slash_redirect_does_not_name_the_host_header(client, path):
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 307
    location = response.headers["location"]
    assert "evil.example" not in location
    assert location == path.replace("/?", "?").rstrip("/")


def test_a_path_that_would_leave_the_site_is_not_redirected(client):
    for path in ("//evil.example/", "/\\evil.example/"):
        response = client.get(f"http://testserver{path}", follow_redirects=False)
        assert response.status_code == 404, path
        assert "evil.example" not in response.headers.get("location", "")


# --- the OpenAPI document names the statuses that come from below the routes ---------------------


def test_openapi_documents_400_and_413_on_every_body_and_415_on_uploads(client):
    document = client.get("/openapi.json").json()
    with_body = {
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }
    assert ("post", "/api/dossiers") in with_body and ("post", "/api/auth/token") in with_body
    for method, path in with_body:
        responses = document["paths"][path][method]["responses"]
        assert {"400", "413"} <= responses.keys(), (method, path)
        assert responses["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    for path in ("/api/attachments", "/api/dossiers/{code}/attachments"):
        assert "415" in document["paths"][path]["post"]["responses"], path
    # A GET reads no body: nothing to document there.
    assert "400" not in document["paths"]["/api/dossiers"]["get"]["responses"]


def test_a_body_that_cannot_be_read_is_a_400_in_both_languages(client):
    firm = business(client)
    response = firm.post(
        "/api/dossiers", content=b'{"procedure": "\xc3\x28"}', headers={"Content-Type": "application/json"}
    )
    error = error_of(response, 400, "unreadable_body")
    assert "JSON" in error["message"] and "JSON" in error["message_en"]


def test_an_upload_of_a_refused_type_is_a_documented_415(client):
    firm = business(client)
    response = firm.post("/api/attachments", files={"file": ("a.pdf", b"", "application/pdf")})
    error_of(response, 415, "empty_file")
    fine = firm.post("/api/attachments", files={"file": ("a.pdf", PDF, "application/pdf")})
    assert fine.status_code == 201
