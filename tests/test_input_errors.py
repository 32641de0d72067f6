"""Bad input is refused with an answer that says what is wrong, and changes nothing.

Form errors name the field's path with a Vietnamese and an English message; uploads are checked
by size (while reading, and by the declared length before reading) and by content, not by name.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from tests.support import PDF, Person, business, error_of, fields_of, officer, stored_files

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

LIMIT = 256 * 1024  # the test settings' max_upload_bytes


def upload(person: Person, name: str, content: bytes, mime: str = "application/pdf"):  # type: ignore[no-untyped-def]
    return person.post("/api/attachments", files={"file": (name, content, mime)})


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# --- the start form ------------------------------------------------------------------------------


def test_invalid_declaration_names_every_faulty_field_and_creates_nothing(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    data = firm.declaration()
    del data["product"]["name"]
    data["certificate"]["valid_until"] = "2026-02-30"
    data["colour"] = "đỏ"

    error = error_of(firm.submit(data), 422, "validation_error")
    problems = fields_of(error)
    assert set(problems) == {"product.name", "certificate.valid_until", "colour"}
    assert problems["product.name"]["code"] == "required"
    assert "Tên sản phẩm" in problems["product.name"]["message"]
    assert "Product name" in problems["product.name"]["message_en"]
    assert problems["certificate.valid_until"]["code"] == "format"
    assert "Có hiệu lực đến" in problems["certificate.valid_until"]["message"]
    assert "YYYY-MM-DD" in problems["certificate.valid_until"]["message_en"]
    assert "colour" in problems["colour"]["message"] and "colour" in problems["colour"]["message_en"]
    for problem in problems.values():
        assert problem["message"] != problem["message_en"]

    assert firm.get("/api/dossiers").json()["total"] == 0
    assert clerk.get("/api/dossiers").json()["total"] == 0
    assert clerk.get("/api/tasks").json()["total"] == 0

    # Corrected, the same attachments go through: the refusal did not use them up.
    data["product"]["name"] = "Mũ bảo hiểm"
    data["certificate"]["valid_until"] = "2028-02-29"
    del data["colour"]
    response = firm.submit(data)
    assert response.status_code == 201, response.text
    assert firm.get("/api/dossiers").json()["total"] == 1


def test_a_certificate_basis_needs_the_certificate(client, rt):
    firm = business(client)
    data = firm.declaration(basis="certificate")
    del data["certificate"]
    del data["attachments"]["certificate_copy"]
    problems = fields_of(error_of(firm.submit(data), 422, "validation_error"))
    assert set(problems) == {"certificate", "attachments.certificate_copy"}
    assert {p["code"] for p in problems.values()} == {"required"}
    assert "Giấy chứng nhận" in problems["certificate"]["message"]
    assert "Certificate" in problems["certificate"]["message_en"]

    # A self-assessment needs its own details instead, not a certificate.
    data = firm.declaration(basis="self_assessment")
    del data["self_assessment"]
    problems = fields_of(error_of(firm.submit(data), 422, "validation_error"))
    assert set(problems) == {"self_assessment"}
    assert firm.get("/api/dossiers").json()["total"] == 0


def test_a_request_without_the_form_data_points_at_it(client, rt):
    firm = business(client)
    response = firm.post("/api/dossiers", json={"procedure": "cong-bo-hop-chuan-hop-quy"})
    problems = fields_of(error_of(response, 422, "validation_error"))
    assert problems["data"]["code"] == "missing"
    unknown = firm.post(
        "/api/dossiers", json={"procedure": "khong-co-thu-tuc-nay", "data": firm.declaration()}
    )
    assert fields_of(error_of(unknown, 422, "validation_error"))["procedure"]["code"] == "enum"
    assert firm.get("/api/dossiers").json()["total"] == 0


# --- a task form ---------------------------------------------------------------------------------


def test_a_supplement_request_must_list_what_is_missing(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    before = clerk.get(f"/api/dossiers/{code}").json()
    task = clerk.task(code, "check_completeness")

    for data, field, keyword in (
        ({"completeness_decision": "supplement"}, "missing_items", "required"),
        ({"completeness_decision": "supplement", "missing_items": []}, "missing_items", "minItems"),
        ({"completeness_decision": "supplement", "missing_items": ["   "]}, "missing_items[0]", None),
        ({"completeness_decision": "refuse"}, "refusal_reason", "required"),
    ):
        response = clerk.post(f"/api/tasks/{task['id']}/complete", json={"data": data})
        problems = fields_of(error_of(response, 422, "validation_error"))
        assert list(problems) == [field], data
        assert keyword is None or problems[field]["code"] == keyword
        assert problems[field]["message"] != problems[field]["message_en"]

    after = clerk.get(f"/api/dossiers/{code}").json()
    assert after["status"] == before["status"] == "awaiting_receipt"
    assert [t["id"] for t in after["open_tasks"]] == [task["id"]]
    assert after["history"] == before["history"]
    assert after["supplement_requests"] == []
    assert all(t["step"] != "provide_supplement" for t in firm.get("/api/tasks").json()["items"])

    # The task is still there to be done properly.
    done = clerk.done(code, {"completeness_decision": "supplement", "missing_items": ["Mẫu nhãn sản phẩm"]})
    assert done["status"] == "supplement_requested"


# --- uploads -------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(client, rt):
    firm = business(client)
    too_big = PDF + b"0" * (300 * 1024)
    error = error_of(upload(firm, "ho-so-lon.pdf", too_big), 413, "file_too_large")
    assert "0.25" in error["message"] and "0.25" in error["message_en"]
    error_of(upload(firm, "ho-so-lon.pdf", PDF + b"0" * (LIMIT - len(PDF) + 1)), 413, "file_too_large")
    assert stored_files(rt) == []
    # Exactly at the limit is still accepted.
    # (A whole PDF: the padding is a comment before its end-of-file marker.)
    at_limit = b"%PDF-1.4\n%" + b"0" * (LIMIT - len(PDF) - 2) + PDF[len(b"%PDF-1.4") :]
    assert len(at_limit) == LIMIT
    response = upload(firm, "vua-du.pdf", at_limit)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == LIMIT


def test_a_disguised_file_is_refused_by_its_content(client, rt):
    firm = business(client)
    disguised = {
        "windows program": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240,
        "linux program": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 248,
        "plain text": "Bản công bố hợp quy — bản nháp\n".encode() * 8,
        "shell script": b"#!/bin/sh\nrm -rf /\n",
    }
    for what, content in disguised.items():
        error = error_of(upload(firm, "ban-cong-bo.pdf", content), 415, "unsupported_file_type")
        assert "pdf" in error["message"] and "pdf" in error["message_en"], what
    assert stored_files(rt) == []


def test_an_image_named_as_a_pdf_is_refused(client, rt):
    firm = business(client)
    picture = png_bytes()
    error = error_of(upload(firm, "x.pdf", picture), 415, "file_type_mismatch")
    assert "PNG" in error["message_en"] and ".pdf" in error["message_en"]
    assert stored_files(rt) == []
    # Under its own name the same picture is welcome.
    response = upload(firm, "nhan.png", picture, "image/png")
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/png"


def test_an_empty_file_is_refused(client, rt):
    firm = business(client)
    response = upload(firm, "rong.pdf", b"")
    assert 400 <= response.status_code < 500
    error_of(response, response.status_code, "empty_file")
    assert stored_files(rt) == []


def test_a_path_in_the_file_name_is_dropped(client, rt):
    firm = business(client)
    for name, expected in (
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\win.pdf", "win.pdf"),
        ("/tmp/../ban công bố.pdf", "ban công bố.pdf"),
    ):
        response = upload(firm, name, PDF)
        assert response.status_code == 201, response.text
        stored = response.json()
        assert stored["filename"] == expected
        download = firm.get(stored["download_url"])
        assert download.status_code == 200 and download.content == PDF
        disposition = download.headers["content-disposition"]
        assert "/" not in disposition.split("filename*=")[0] and ".." not in disposition
    assert not (rt.settings.storage_path.parent / "etc").exists()


def test_a_valid_pdf_is_stored_with_its_sha256(client, rt):
    firm = business(client)
    content = PDF.replace(b"595 842", b"842 595")
    response = upload(firm, "Giấy chứng nhận.pdf", content)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert (stored["size"], stored["content_type"]) == (len(content), "application/pdf")
    assert stored["filename"] == "Giấy chứng nhận.pdf"
    download = firm.get(stored["download_url"])
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"


def test_the_same_bytes_uploaded_twice_are_stored_once(client, rt):
    firm = business(client)
    first = upload(firm, "a.pdf", PDF).json()
    second = upload(firm, "b.pdf", PDF).json()
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert stored_files(rt) == [first["sha256"]]
    assert firm.get(first["download_url"]).content == firm.get(second["download_url"]).content == PDF

    other = PDF + b"% ban khac\n"
    third = upload(firm, "c.pdf", other).json()
    assert stored_files(rt) == sorted([first["sha256"], third["sha256"]])


def test_a_body_declared_too_large_is_refused_before_it_is_read(client, rt):
    firm = business(client)
    # The body that follows is tiny: had the app waited for the declared terabyte or parsed the
    # multipart body, the answer would be a hang or a 4xx about the form, not a 413.
    response = firm.post(
        "/api/attachments",
        content=b"--x\r\n",
        headers={"Content-Length": str(10**12), "Content-Type": "multipart/form-data; boundary=x"},
    )
    error_of(response, 413, "file_too_large")

    # A real body over the limit plus the multipart allowance is refused the same way.
    body = b"0" * (LIMIT + 1024 * 1024 + 1)
    response = firm.post(
        "/api/attachments", content=body, headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    error_of(response, 413, "file_too_large")
    # Also before the token is looked at: a stranger cannot make the server read a huge body.
    response = client.post(
        "/api/attachments",
        content=b"--x\r\n",
        headers={"Content-Length": str(10**12), "Content-Type": "multipart/form-data; boundary=x"},
    )
    error_of(response, 413, "file_too_large")
    assert stored_files(rt) == []
