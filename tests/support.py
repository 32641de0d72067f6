"""Helpers that act as the people of a dossier through the HTTP API."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from docx import Document as DocxDocument
from fastapi.testclient import TestClient
from sqlmodel import select
from stdnum.vn import mst

from notifications.render import Renderer
from workflows import accounts
from workflows.db import reading
from workflows.models import User
from workflows.outbox import OutboxEvent
from workflows.runtime import Runtime

PROCEDURE = "cong-bo-hop-chuan-hop-quy"
PASSWORD = "mat-khau-an-toan-2026"

# The smallest well-formed PDF, PNG and DOCX-like inputs the type check recognises by content.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

_tax_codes = itertools.count(1)


@dataclass
class Person:
    client: TestClient
    email: str
    token: str
    tax_code: str | None = None
    organisation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def relogin(self) -> Person:
        """A new token, e.g. after travelling in time to before the old one was issued."""
        self.token = login(self.client, self.email)
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.post(url, headers=headers, **kw)

    # --- as a business -------------------------------------------------------------------------
    def upload(self, name: str = "tep.pdf", content: bytes = PDF, mime: str = "application/pdf") -> str:
        response = self.post("/api/attachments", files={"file": (name, content, mime)})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def declaration(self, basis: str = "certificate", **changes: Any) -> dict[str, Any]:
        attachments = {
            "declaration_form": self.upload("ban-cong-bo.pdf"),
            "business_registration": self.upload("dang-ky-kinh-doanh.pdf"),
        }
        if basis == "certificate":
            attachments["certificate_copy"] = self.upload("giay-chung-nhan.pdf")
        else:
            attachments["test_report"] = self.upload("phieu-thu-nghiem.pdf")
            attachments["quality_control_plan"] = self.upload("ke-hoach-kiem-soat-chat-luong.pdf")
        data: dict[str, Any] = {
            "declaration_type": "hop_quy",
            "applicant": {
                "name": self.organisation,
                "tax_code": self.tax_code,
                "address": "12 Lê Duẩn, Đông Hà",
                "phone": "0233 3852 123",
                "email": self.email,
                "representative": "Nguyễn Văn An",
            },
            "product": {
                "name": "Mũ bảo hiểm cho người đi mô tô",
                "trademark": "AnToàn",
                "model": "AT-01",
                "manufacturer": self.organisation,
                "place_of_production": "Quảng Trị",
            },
            "standard": {"number": "QCVN 2:2021/BKHCN", "title": "Mũ bảo hiểm cho người đi mô tô, xe máy"},
            "basis": basis,
            "attachments": attachments,
        }
        if basis == "certificate":
            data["certificate"] = {
                "number": "QC-2026-001",
                "body": "Quacert",
                "issued_on": "2025-12-05",
                "valid_until": "2029-01-04",
            }
        else:
            data["self_assessment"] = {
                "test_report_number": "KQ-118",
                "laboratory": "VILAS 012",
                "issued_on": "2025-12-15",
            }
        data.update(changes)
        return data

    def submit(self, data: dict[str, Any] | None = None, key: str | None = None):  # type: ignore[no-untyped-def]
        headers = {"Idempotency-Key": key} if key else {}
        return self.post(
            "/api/dossiers",
            json={"procedure": PROCEDURE, "data": data or self.declaration()},
            headers=headers,
        )

    def submitted(self, **changes: Any) -> str:
        response = self.submit(self.declaration(**changes))
        assert response.status_code == 201, response.text
        return response.json()["code"]

    # --- as anyone with tasks ------------------------------------------------------------------
    def task(self, code: str, step: str | None = None) -> dict[str, Any]:
        items = self.get("/api/tasks").json()["items"]
        matching = [t for t in items if t["dossier_code"] == code and (step is None or t["step"] == step)]
        assert matching, f"no open task {step or ''} of {code} for {self.email}: {items}"
        return matching[0]

    def complete(self, code: str, data: dict[str, Any], step: str | None = None):  # type: ignore[no-untyped-def]
        task = self.task(code, step)
        return self.post(f"/api/tasks/{task['id']}/complete", json={"data": data})

    def done(self, code: str, data: dict[str, Any], step: str | None = None) -> dict[str, Any]:
        response = self.complete(code, data, step)
        assert response.status_code == 200, response.text
        return response.json()


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def valid_tax_code(number: int) -> str:
    """The ``number``-th valid tax code from 320000000x (the tenth digit checks the first nine)."""
    base = 320_000_000 + number * 20
    while True:
        check = mst.calc_check_digit(f"{base:09d}")
        if len(check) == 1 and mst.is_valid(f"{base:09d}{check}"):
            return f"{base:09d}{check}"
        base += 1


def mailed_link(rt: Runtime, email: str, event_type: str = "email_verification_requested") -> str:
    """The link (path and query) of the last e-mail of ``event_type`` written to the outbox for
    the account of ``email``, read from the e-mail's text as its reader would."""
    with reading(rt.engine) as session:
        user = session.exec(select(User).where(User.email == email.lower())).one()
        events = session.exec(
            select(OutboxEvent)
            .where(OutboxEvent.type == event_type)
            .order_by(OutboxEvent.created_at.desc(), OutboxEvent.id.desc())
        ).all()
        event = next(e for e in events if e.payload.get("user_id") == user.id)
        text = Renderer(rt).event_message(event, user).text
    base = rt.settings.base_url.rstrip("/")
    found = re.search(rf"{re.escape(base)}(/[\w/-]+\?token=[\w-]+)", text)
    assert found, f"no link in the e-mail: {text}"
    return found.group(1)


def verify_email(client: TestClient, rt: Runtime, email: str) -> None:
    """Open the verification link e-mailed to ``email`` and confirm it, as its owner would."""
    link = mailed_link(rt, email)
    assert client.get(link).status_code == 200  # the page the link opens
    token = parse_qs(urlsplit(link).query)["token"][0]
    response = client.post("/api/auth/verify-email", json={"token": token})
    assert response.status_code == 200, response.text


def business(client: TestClient, name: str = "Công ty TNHH An Toàn", rt: Runtime | None = None) -> Person:
    """A business registered through the API, its e-mail verified through the link e-mailed to it
    (``rt``: the server's runtime, when ``client`` is no TestClient of the app), logged in."""
    number = next(_tax_codes)
    tax_code = valid_tax_code(number)
    email = f"dn{number}@an-toan.vn"
    response = client.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Nguyễn Văn An",
            "tax_code": tax_code,
            "organisation_name": name,
            "address": "12 Lê Duẩn, Đông Hà",
        },
    )
    assert response.status_code == 202, response.text
    verify_email(client, rt or client.app.state.runtime, email)
    return Person(client, email, login(client, email), tax_code=tax_code, organisation=name)


def officer(client: TestClient, rt: Runtime, role: str, title: str = "", name: str | None = None) -> Person:
    email = f"{role}{next(_tax_codes)}@so-khcn.gov.vn"
    accounts.create_officer(
        rt,
        None,
        email=email,
        password=PASSWORD,
        full_name=name or f"Cán bộ {role}",
        roles=[role],
        job_title=title,
    )
    return Person(client, email, login(client, email))


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error of a refused request, after checking the one error shape every failure has."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "message_en", "fields"}, error
    assert error["message"].strip() and error["message_en"].strip()
    assert error["message"] != error["message_en"]  # both languages, not one copied
    for problem in error["fields"]:
        assert set(problem) == {"field", "message", "message_en", "code"}, problem
    if code is not None:
        assert error["code"] == code, error
    return error


def fields_of(error: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {problem["field"]: problem for problem in error["fields"]}


def tampered(secret: str) -> str:
    """The secret with its last character changed, always to a different one of the same alphabet
    (hex, base64url and path tokens all allow '0' and '1'). Overwriting a fixed tail instead
    ("...[:-2] + '00'") leaves the secret as it was whenever it already ended so: 1 in 256 for a
    hex signature, a flaky test."""
    return secret[:-1] + ("1" if secret[-1] == "0" else "0")


def stored_files(rt: Runtime) -> list[str]:
    """The files in the content-addressed store."""
    root = rt.settings.storage_path
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args: int) -> datetime:
    """An instant in the office's time zone: local(2026, 3, 2, 9, 0)."""
    return datetime(*args, tzinfo=VN)


def cast_of(client: TestClient, rt: Runtime, business_name: str) -> dict[str, Person]:
    """A business and the three officers a dossier passes through."""
    return {
        "business": business(client, business_name),
        "clerk": officer(client, rt, "clerk", "CÁN BỘ TIẾP NHẬN", "Lê Thị Hoa"),
        "specialist": officer(client, rt, "specialist", "CHUYÊN VIÊN", "Trần Văn Nam"),
        "leader": officer(client, rt, "leader", "PHÓ GIÁM ĐỐC", "Nguyễn Minh Đức"),
    }


def relogin(people: dict[str, Person]) -> None:
    """New tokens for everyone, e.g. after travelling in time before the old ones were issued."""
    for person in people.values():
        person.relogin()


def issued_docx(person: Person, document: dict[str, Any]) -> bytes:
    """The .docx a document was issued as (what its signed PDF shows), as stored; the API gives it
    to officers only (``editable_url``), the business gets the signed PDF (tests/test_signed_documents)."""
    return person.client.app.state.runtime.store.read(document["sha256"])


def docx_text(content: bytes) -> str:
    """The text a reader sees in a .docx: paragraphs, table cells and footers."""
    document = DocxDocument(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)
