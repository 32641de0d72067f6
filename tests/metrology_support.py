"""What the metrology tests share (issue 18): a verification body with an API key and its
reports, a business whose tax code the department verified, and the pages' text as read."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.support import Person, business
from tests.test_pages import page_login

EVIDENCE_FOR_TAX_CODE = "GCN ĐKDN số 3200765001, đăng ký lần đầu ngày 05/03/2015"


def body_key(client: Any, admin: Person, code: str = "QTEST-QT", name: str = "Trung tâm Kỹ thuật TĐC") -> str:
    """A verification body registered by ``admin`` and the API key it reports with."""
    created = admin.post(
        "/api/metrology/bodies", json={"code": code, "name": name, "designation": "QĐ 123/QĐ-TĐC"}
    )
    assert created.status_code == 201, created.text
    key = admin.post(f"/api/metrology/bodies/{created.json()['id']}/keys", json={"label": "máy chủ báo cáo"})
    assert key.status_code == 201, key.text
    return key.json()["key"]


def taxi(**changes: Any) -> dict[str, Any]:
    """A passed taxi meter's report, with ``changes``."""
    report = {
        "kind": "taximeter",
        "model": "TX-200",
        "approval_mark": "PDM 123-2022",
        "serial_number": "SN-0001",
        "measuring_range": "0–9999,9 km",
        "accuracy_class": "±1 %",
        "owner_type": "business",
        "owner_tax_code": "",
        "owner_name": "Công ty TNHH Taxi Hoà Bình",
        "commune": "Phường Đông Hà",
        "address": "12 Lê Duẩn",
        "purpose": "Tính tiền cước taxi",
        "certificate_number": "GCN-2026-0001",
        "stamp_number": "T-000001",
        "verified_on": "20/05/2026",
        "result": "pass",
        "valid_until": "19/11/2027",
    }
    report.update(changes)
    return report


def send(client: Any, key: str, report: dict[str, Any]) -> Any:
    return client.post("/api/metrology/reports", json=report, headers={"X-API-Key": key})


def reported(client: Any, key: str, **changes: Any) -> dict[str, Any]:
    """A taxi meter reported (with ``changes``): the API's answer, which must be a creation."""
    response = send(client, key, taxi(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def verify_tax_code(clerk: Person, firm: Person) -> None:
    me = firm.get("/api/me").json()
    verified = clerk.post(
        f"/api/accounts/{me['id']}/tax-code/verify", json={"evidence": EVIDENCE_FOR_TAX_CODE}
    )
    assert verified.status_code == 200, verified.text


def verified_business(client: Any, rt: Any, clerk: Person, name: str) -> Person:
    """A business account whose tax code ``clerk`` verified."""
    firm = business(client, name)
    verify_tax_code(clerk, firm)
    return firm


def sign_in(client: Any, person: Person) -> None:
    """``person`` signed in on the pages (the client's session cookie replaces any other's)."""
    answer = page_login(client, person.email)
    assert answer.status_code == 303, answer.text


def shown(html: str) -> str:
    """The page's text as read on screen: tags out, entities decoded, spaces collapsed."""
    body = html.split('id="main"', 1)[-1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
