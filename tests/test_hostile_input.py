"""Hostile input never gets a 500: every request below once crashed the server or slipped through.

Each is refused with the one error shape (a Vietnamese and an English message, the field at
fault) or, on a page, an error page; nothing is stored.
"""

from __future__ import annotations

import asyncio
import io
import json
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from PIL import Image

from api.security import ALGORITHM, ISSUER
from tests.support import PASSWORD, PDF, Person, business, error_of, fields_of, officer, valid_tax_code
from tests.test_pages import csrf, page_login
from workflows.clock import now

HUGE = 9223372036854775807  # the largest signed 64-bit integer: any offset past page 1 overflows
HUGER = 10**30


def raw_json(person: Person | None, client, method: str, url: str, text: str):  # type: ignore[no-untyped-def]
    """A request with a JSON body written by hand (``"\\ud800"`` is valid JSON, not valid text)."""
    headers = {"Content-Type": "application/json", **(person.headers if person else {})}
    return client.request(method, url, content=text.encode(), headers=headers)


# --- 1, 2: secrets compared as bytes ----------------------------------------------------------------


def test_a_non_ascii_follow_token_is_simply_not_found(client):
    for url in ("/api/tbt/follow/x/%C3%A9", "/api/tbt/follow/x/%C3%A9/documents/abc"):
        error_of(client.get(url), 404, "not_found")
    assert client.get("/tbt/follow/x/%C3%A9").status_code == 404


def test_a_non_ascii_csrf_token_is_refused_like_a_wrong_one(client, rt):
    firm = business(client)
    page_login(client, firm.email)
    page = client.get("/my/dossiers")
    assert page.status_code == 200
    code = firm.submitted()
    for forged in ("é", "\u00e9" * 43, "tổng"):
        response = client.post(f"/dossiers/{code}/withdraw", data={"reason": "x", "csrf_token": forged})
        assert response.status_code == 403, response.text
    assert firm.get(f"/api/dossiers/{code}").json()["status"] != "withdrawn"
    # The real token still works.
    done = client.post(
        f"/dossiers/{code}/withdraw", data={"reason": "Nộp nhầm", "csrf_token": csrf(page.text)}
    )
    assert done.status_code in (200, 303), done.text


def test_a_tbt_form_token_with_non_ascii_is_expired_not_a_crash(client):
    data = {"name": "Khách", "email": "khach@example.vn", "subject": "Hỏi", "question": "Câu hỏi thử?"}
    response = client.post(
        "/api/tbt/inquiries", json={"data": data, "form_token": "abc.é", "captcha_answer": "3"}
    )
    assert response.status_code == 422, response.text
    assert fields_of(error_of(response, 422))["form_token"]["code"] == "expired"


# --- 3: page numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/tasks", "/api/dossiers", "/api/notifications"])
def test_a_page_number_past_the_end_of_the_database_is_a_field_error(client, rt, url):
    clerk = officer(client, rt, "clerk")
    for query in (f"page={HUGE}", f"page={HUGER}", f"page_size={HUGE}", "page=0"):
        problems = fields_of(error_of(clerk.get(f"{url}?{query}"), 422, "validation_error"))
        field = query.split("=")[0]
        assert set(problems) == {field}, problems
        assert problems[field]["message"] != problems[field]["message_en"]
    # The last page the API serves is still an (empty) answer.
    assert clerk.get(f"{url}?page=10000").status_code == 200


def test_a_page_number_past_the_end_on_a_list_page_is_a_bad_request(client, rt):
    clerk, firm, admin = officer(client, rt, "clerk"), business(client), officer(client, rt, "admin")
    for person, urls in (
        (firm, ["/my/dossiers"]),
        (clerk, ["/work/inbox", "/work/dossiers"]),
        (admin, ["/admin/deliveries"]),
        (None, ["/tbt/kb", "/tbt/wto"]),
    ):
        client.cookies.clear()
        if person is not None:
            page_login(client, person.email)
        for url in urls:
            response = client.get(f"{url}?page={HUGE}")
            assert response.status_code == 400, (url, response.status_code)
            assert "Địa chỉ trang chưa hợp lệ." in response.text
            assert client.get(f"{url}?page=2").status_code == 200, url


def test_the_tbt_lists_refuse_huge_pages_too(client):
    for url in ("/api/tbt/kb", "/api/tbt/wto-notifications"):
        problems = fields_of(error_of(client.get(f"{url}?page={HUGE}"), 422, "validation_error"))
        assert set(problems) == {"page"}


# --- 4: days far in the past or the future -----------------------------------------------------------


def test_days_outside_1900_to_2999_are_field_errors(client, rt):
    clerk = officer(client, rt, "clerk")
    for url, field in (
        ("/api/dossiers?submitted_from=0001-01-01", "submitted_from"),
        ("/api/dossiers?submitted_to=9999-12-31", "submitted_to"),
        ("/api/reports/timeliness?completed_from=0001-01-01", "completed_from"),
        ("/api/reports/timeliness?completed_to=9999-12-31", "completed_to"),
    ):
        problems = fields_of(error_of(clerk.get(url), 422, "validation_error"))
        assert set(problems) == {field}, problems
        assert "1900" in problems[field]["message"] or "2999" in problems[field]["message"]
    assert clerk.get("/api/dossiers?submitted_from=1900-01-01&submitted_to=2999-12-31").status_code == 200
    assert (
        clerk.get("/api/reports/timeliness?completed_from=1900-01-01&completed_to=2999-12-31").status_code
        == 200
    )

    page_login(client, clerk.email)
    for url in (
        "/work/register?date_from=0001-01-01",
        "/work/register?date_to=9999-12-31",
        "/work/register.xlsx?date_to=9999-12-31",
    ):
        assert client.get(url).status_code == 400, url
    # The search page treats a day it cannot mean as it treats a malformed one: no filter, the
    # box shown back to correct (its days are typed in text boxes).
    for url in ("/work/dossiers?date_from=0001-01-01", "/work/dossiers?date_to=9999-12-31"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "0001-01-01" in response.text or "9999-12-31" in response.text
    assert client.get("/work/dossiers?date_from=1900-01-01&date_to=2999-12-31").status_code == 200


# --- 5: text that is not text --------------------------------------------------------------------------


def test_a_lone_surrogate_in_any_json_text_is_refused_at_its_field(client, rt):
    firm = business(client)
    code = firm.submitted()
    data = firm.declaration()
    body = json.dumps({"procedure": "cong-bo-hop-chuan-hop-quy", "data": data}).replace(
        json.dumps(data["product"]["name"]), '"M\\ud800"'
    )
    problems = fields_of(error_of(raw_json(firm, client, "POST", "/api/dossiers", body), 422))
    assert list(problems) == ["data.product.name"], problems
    assert problems["data.product.name"]["code"] == "invalid_text"

    problems = fields_of(
        error_of(
            raw_json(firm, client, "POST", f"/api/dossiers/{code}/withdraw", '{"reason": "\\udfff"}'), 422
        )
    )
    assert list(problems) == ["reason"]
    # A key is text too.
    problems = fields_of(error_of(raw_json(firm, client, "POST", "/api/dossiers", '{"\\ud800": 1}'), 422))
    assert list(problems) == ["\ufffd"] or len(problems) == 1
    assert firm.get("/api/dossiers").json()["total"] == 1
    assert firm.get(f"/api/dossiers/{code}").json()["status"] != "withdrawn"


def test_nul_controls_and_bidi_overrides_are_refused_in_json(client, rt):
    firm = business(client)
    code = firm.submitted()
    for text in ("Nộp\\u0000nhầm", "a\\u0007b", "\\u0085x", "abc\\u202edcba", "x\\u2066y"):
        response = raw_json(firm, client, "POST", f"/api/dossiers/{code}/withdraw", f'{{"reason": "{text}"}}')
        problems = fields_of(error_of(response, 422))
        assert list(problems) == ["reason"], text
        assert problems["reason"]["message"] != problems["reason"]["message_en"]
    assert firm.get(f"/api/dossiers/{code}").json()["status"] != "withdrawn"
    # Line breaks and tabs are text.
    response = firm.post(f"/api/dossiers/{code}/withdraw", json={"reason": "Nộp nhầm:\n\tthiếu hồ sơ"})
    assert response.status_code == 200, response.text


def test_text_is_stored_in_nfc(client, rt):
    decomposed = unicodedata.normalize("NFD", "Công ty Cổ phần Đông Hà")
    assert decomposed != "Công ty Cổ phần Đông Hà"
    firm = business(client, decomposed)
    assert firm.get("/api/me").json()["organisation_name"] == "Công ty Cổ phần Đông Hà"
    code = firm.submitted(
        product={**firm.declaration()["product"], "name": unicodedata.normalize("NFD", "Mũ")}
    )
    assert firm.get(f"/api/dossiers/{code}").json()["data"]["product"]["name"] == "Mũ"


def test_a_name_of_invisible_characters_is_required(client):
    for field in ("full_name", "organisation_name"):
        body = {
            "email": f"{field}@an-toan.vn",
            "password": PASSWORD,
            "full_name": "Nguyễn Văn An",
            "tax_code": valid_tax_code(900 + len(field)),
            "organisation_name": "Công ty An Toàn",
            field: "\u200b\u200c\ufeff ",
        }
        problems = fields_of(error_of(client.post("/api/auth/register", json=body), 422))
        assert field in problems, problems
        assert problems[field]["code"] == "required"


def test_single_line_fields_refuse_line_breaks(client):
    body = {
        "email": "xuongdong@an-toan.vn",
        "password": PASSWORD,
        "full_name": "Nguyễn\nVăn An",
        "tax_code": valid_tax_code(950),
        "organisation_name": "Công ty An Toàn",
    }
    problems = fields_of(error_of(client.post("/api/auth/register", json=body), 422))
    assert set(problems) == {"full_name"}


def test_the_form_validator_refuses_controls_and_invisible_names(client, rt):
    firm = business(client)
    data = firm.declaration()
    data["product"]["name"] = "\u200b\u2060"
    data["applicant"]["representative"] = "\u200b"
    problems = fields_of(error_of(firm.submit(data), 422, "validation_error"))
    assert {"product.name", "applicant.representative"} <= set(problems), problems
    assert firm.get("/api/dossiers").json()["total"] == 0


def test_a_page_form_with_a_control_character_names_the_field(client, rt):
    firm = business(client)
    code = firm.submitted()
    page_login(client, firm.email)
    page = client.get(f"/dossiers/{code}")
    response = client.post(
        f"/dossiers/{code}/withdraw", data={"reason": "Nộp\x00nhầm", "csrf_token": csrf(page.text)}
    )
    assert response.status_code == 422, response.text
    assert "reason" in response.text
    assert firm.get(f"/api/dossiers/{code}").json()["status"] != "withdrawn"


def test_a_start_form_page_post_with_a_nul_is_refused_at_its_field(client, rt):
    firm = business(client)
    page_login(client, firm.email)
    form = client.get("/my/dossiers/new/cong-bo-hop-chuan-hop-quy")
    response = client.post(
        "/my/dossiers/new/cong-bo-hop-chuan-hop-quy",
        data={"csrf_token": csrf(form.text), "declaration_type": "hop_quy", "product.name": "Mũ\x00"},
        files=[("attachments.declaration_form", ("ban-cong-bo.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 422
    assert "aria-invalid" in response.text
    assert (
        "Trường &#39;Tên sản phẩm&#39;: Văn bản có ký tự điều khiển không được phép (U+0000)."
        in response.text
    )
    assert firm.get("/api/dossiers").json()["total"] == 0


# --- 6, 7: numbers the database cannot hold ---------------------------------------------------------------


def test_huge_ids_in_an_award_round_are_field_errors(client, rt):
    admin = officer(client, rt, "admin")
    body = {
        "year": 2031,
        "registration_opens": "2031-03-01",
        "registration_closes": "2031-05-31",
        "scoring_deadline": "2031-07-31",
        "council_member_ids": [HUGER],
    }
    problems = fields_of(error_of(admin.post("/api/award/rounds", json=body), 422))
    assert set(problems) == {"council_member_ids[0]"}, problems
    for year in (HUGER, HUGE, -1):
        problems = fields_of(
            error_of(
                admin.post("/api/award/rounds", json={**body, "year": year, "council_member_ids": []}), 422
            )
        )
        assert "year" in problems


def test_any_json_integer_beyond_64_bits_is_refused(client, rt):
    firm = business(client)
    data = firm.declaration()
    data["extra_number"] = HUGER
    problems = fields_of(error_of(firm.submit(data), 422))
    assert list(problems) == ["data.extra_number"]
    for constant in ("NaN", "Infinity", "-Infinity"):
        body = f'{{"procedure": "cong-bo-hop-chuan-hop-quy", "data": {{"x": {constant}}}}}'
        problems = fields_of(error_of(raw_json(firm, client, "POST", "/api/dossiers", body), 422))
        assert list(problems) == ["data.x"]


def test_a_token_whose_subject_is_a_huge_number_is_invalid(client, rt):
    for subject in (str(HUGER), str(HUGE + 1), "-1", "0"):
        claims = {"sub": subject, "iat": now(), "exp": now() + timedelta(hours=1), "iss": ISSUER, "se": 0}
        token = jwt.encode(claims, rt.settings.signing_key(), algorithm=ALGORITHM)
        response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        error_of(response, 401, "invalid_token")
        client.cookies.set("tdcflow_session", token)
        assert client.get("/my/dossiers", follow_redirects=False).status_code == 303
        client.cookies.clear()


# --- the body-size limit, while reading ------------------------------------------------------------------


def post_in_chunks(app, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    """Post a body without a length, chunk by chunk, straight to the ASGI app (the test client
    reads a generator body whole before the app sees it): the status and body of the answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (k.lower().encode(), v.encode()) for k, v in {**headers, "transfer-encoding": "chunked"}.items()
        ],
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
        "app": app,
    }
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["body"]


def test_a_chunked_json_body_over_the_limit_is_refused_while_reading(client, rt):
    firm = business(client)
    sent: list[int] = []

    def sixty_megabytes() -> Iterator[bytes]:
        yield b'{"procedure": "cong-bo-hop-chuan-hop-quy", "data": {"x": "'
        for _ in range(60):
            sent.append(1)
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    status, body = post_in_chunks(
        client.app, "/api/dossiers", {**firm.headers, "Content-Type": "application/json"}, sixty_megabytes()
    )
    assert status == 413, body
    error = json.loads(body)["error"]
    assert error["code"] == "too_large" and "2 MB" in error["message"] and "2 MB" in error["message_en"]
    assert len(sent) <= 3  # the rest was never read, let alone parsed
    assert firm.get("/api/dossiers").json()["total"] == 0


def test_a_chunked_upload_over_the_upload_limit_is_refused(client, rt):
    firm = business(client)
    limit = rt.settings.max_upload_bytes
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        yield b"Content-Type: application/pdf\r\n\r\n" + PDF
        for _ in range(40):
            sent.append(1)
            yield b"0" * limit
        yield b"\r\n--b--\r\n"

    headers = {**firm.headers, "Content-Type": "multipart/form-data; boundary=b"}
    status, answer = post_in_chunks(client.app, "/api/attachments", headers, body())
    assert status == 413, answer
    assert json.loads(answer)["error"]["code"] == "file_too_large"
    assert len(sent) <= 6


def test_a_chunked_page_post_over_the_limit_gets_the_error_page(client, rt):
    status, answer = post_in_chunks(
        client.app,
        "/login",
        {"Content-Type": "application/x-www-form-urlencoded"},
        iter([b"login=a&password=" + b"x" * (1024 * 1024)] * 10),
    )
    assert status == 413
    assert "Dữ liệu gửi lên quá lớn" in answer.decode()


def test_a_declared_length_over_the_limit_is_refused_before_reading(client, rt):
    firm = business(client)
    response = client.post(
        "/api/dossiers",
        content=b"{}",
        headers={**firm.headers, "Content-Type": "application/json", "Content-Length": str(10**9)},
    )
    assert response.status_code == 413


# --- uploads: the whole file, its name ---------------------------------------------------------------------


def upload(person: Person, name: str, content: bytes, mime: str = "application/octet-stream"):  # type: ignore[no-untyped-def]
    return person.post("/api/attachments", files={"file": (name, content, mime)})


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def docx_bytes(content_types: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            content_types
            or b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", b"<w:document/>")
    return buffer.getvalue()


def test_a_file_must_be_whole_not_just_its_signature(client):
    firm = business(client)
    png, jpeg = png_bytes(), jpeg_bytes()
    for name, content in (
        ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("anh.png", png[: len(png) // 2]),
        ("anh.jpg", jpeg[:-2]),
        ("van-ban.pdf", PDF.replace(b"%%EOF", b"")),
        ("van-ban.pdf", b"%PDF-1.4\n" + b"x" * 64),
        ("van-ban.docx", b"PK\x03\x04" + b"\x00" * 64),
        ("van-ban.docx", docx_bytes(b"<Types/>")),
    ):
        response = upload(firm, name, content)
        assert response.status_code in (415, 422), (name, response.status_code, response.text)
        error = error_of(response, response.status_code)
        assert error["message"] != error["message_en"]
    for name, content in (
        ("anh.png", png),
        ("anh.jpg", jpeg),
        ("van-ban.pdf", PDF),
        ("van-ban.docx", docx_bytes()),
    ):
        response = upload(firm, name, content)
        assert response.status_code == 201, (name, response.text)


def test_a_long_file_name_keeps_its_extension_and_loses_bidi_controls(client):
    firm = business(client)
    long_name = "bien-ban-" + "rất-dài-" * 60 + ".pdf"
    stored = upload(firm, long_name, PDF).json()["filename"]
    assert stored.endswith(".pdf") and len(stored) <= 200
    tricky = "hoa-don\u202efdp.exe\u2066\u200e\u061c.pdf"
    stored = upload(firm, tricky, PDF).json()["filename"]
    assert stored == "hoa-donfdp.exe.pdf"


def test_the_award_round_page_takes_no_odd_digits_or_huge_numbers(client, rt):
    admin = officer(client, rt, "admin")
    page_login(client, admin.email)
    form = client.get("/admin/award-rounds")
    assert form.status_code == 200
    for year, members in (("2031", ["²"]), (str(HUGER), ["1"]), ("2031", [str(HUGER)])):
        response = client.post(
            "/admin/award-rounds",
            data={
                "csrf_token": csrf(form.text),
                "year": year,
                "registration_opens": "2031-03-01",
                "registration_closes": "2031-05-31",
                "scoring_deadline": "9999-12-31",
                "council_member_ids": members,
            },
        )
        assert response.status_code == 422, (year, members, response.status_code)
    assert admin.get("/api/award/rounds").json() == []


def test_a_form_day_outside_1900_to_2999_is_refused_at_its_field(client):
    firm = business(client)
    data = firm.declaration()
    data["certificate"]["valid_until"] = "9999-12-31"
    problems = fields_of(error_of(firm.submit(data), 422, "validation_error"))
    assert problems["certificate.valid_until"]["code"] == "out_of_range"
    assert "31/12/2999" in problems["certificate.valid_until"]["message"]


def test_a_control_character_in_an_address_is_not_found(client, rt):
    firm = business(client)
    for url in ("/api/dossiers/a%00b", "/api/tasks/%01", "/api/tbt/follow/x%00/y"):
        error_of(firm.get(url), 404, "not_found")
    page_login(client, firm.email)
    assert client.get("/dossiers/a%00b").status_code == 404


def test_a_search_typed_decomposed_finds_what_was_stored_composed(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()  # its product: "Mũ bảo hiểm cho người đi mô tô"
    typed = unicodedata.normalize("NFD", "Mũ bảo hiểm")
    assert typed != "Mũ bảo hiểm"
    found = clerk.get("/api/dossiers", params={"q": typed}).json()
    assert [d["code"] for d in found["items"]] == [code]


def test_json_nested_past_64_levels_is_refused(client, rt):
    firm = business(client)
    for body in (
        '{"procedure": "cong-bo-hop-chuan-hop-quy", "data": {"x": ' + "[" * 70 + "]" * 70 + "}}",
        "[" * 100_000,
    ):
        error = error_of(raw_json(firm, client, "POST", "/api/dossiers", body), 422, "validation_error")
        assert {p["code"] for p in error["fields"]} == {"too_deep"}
    assert firm.get("/api/dossiers").json()["total"] == 0
