"""The pages over HTTP: session cookie, CSRF, roles, escaping, security headers, the schema forms."""

from __future__ import annotations

import re

import pytest

from tests.support import PASSWORD, PDF, business, error_of, officer

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_login(client, login: str, password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    form = client.get("/login")
    return client.post(
        "/login",
        data={"login": login, "password": password, "next": next_url, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )


@pytest.fixture
def cast(client, rt):
    owner = business(client, "Công ty <b>Mũ</b> & Con")
    return {
        "owner": owner,
        "other": business(client, "Công ty Khác"),
        "clerk": officer(client, rt, "clerk"),
        "admin": officer(client, rt, "admin"),
    }


def test_login_sets_an_httponly_lax_session_cookie_and_logout_clears_it(client, cast):
    response = page_login(client, cast["owner"].email)
    assert response.status_code == 303 and response.headers["location"] == "/my/dossiers"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("tdcflow_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    page = client.get("/my/dossiers")
    assert page.status_code == 200 and "Công ty &lt;b&gt;Mũ&lt;/b&gt; &amp; Con" in page.text
    out = client.post("/logout", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/my/dossiers", follow_redirects=False).headers["location"].startswith("/login")


def test_wrong_password_keeps_the_login_and_says_so(client, cast):
    response = page_login(client, cast["owner"].email, "sai-mat-khau")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert f'value="{cast["owner"].email}"' in response.text


def test_login_never_redirects_to_another_site(client, cast):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = page_login(client, cast["owner"].email, next_url=target)
        assert response.headers["location"] == "/my/dossiers"
    assert page_login(client, cast["owner"].email, next_url="/lookup").headers["location"] == "/lookup"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client, cast):
    owner = cast["owner"]
    code = owner.submitted()
    page_login(client, owner.email)
    response = client.post(f"/dossiers/{code}/withdraw", data={"reason": "x"})
    assert response.status_code == 403
    assert "Phiên làm việc của biểu mẫu đã hết hạn" in response.text
    forged = client.post(f"/dossiers/{code}/withdraw", data={"reason": "x", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert owner.get(f"/api/dossiers/{code}").json()["status"] == "awaiting_receipt"


def test_pages_check_the_role(client, cast):
    page_login(client, cast["owner"].email)
    assert client.get("/work/inbox").status_code == 403
    assert client.get("/admin/users").status_code == 403
    page_login(client, cast["clerk"].email)
    assert client.get("/work/inbox").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert client.get("/my/dossiers/new/cong-bo-hop-chuan-hop-quy").status_code == 403
    page_login(client, cast["admin"].email)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/calendar?year=2026").status_code == 200
    assert "24/11/2026" in client.get("/admin/calendar?year=2026").text  # Vietnam Culture Day


def test_another_business_gets_404_for_the_dossier_page_and_its_files(client, cast):
    owner, other = cast["owner"], cast["other"]
    code = owner.submitted()
    attachment_id = owner.get(f"/api/dossiers/{code}").json()["attachments"][0]["id"]
    page_login(client, other.email)
    for url in (f"/dossiers/{code}", f"/dossiers/{code}/diagram.json", f"/files/attachments/{attachment_id}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Công ty &lt;b&gt;Mũ" not in response.text


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text  # no inline scripts anywhere on the page


def test_the_declaration_form_keeps_input_and_points_at_the_field(client, cast):
    owner = cast["owner"]
    page_login(client, owner.email)
    form = client.get("/my/dossiers/new/cong-bo-hop-chuan-hop-quy")
    assert form.status_code == 200
    assert f'value="{owner.tax_code}"' in form.text  # prefilled from the account
    token = csrf(form.text)
    response = client.post(
        "/my/dossiers/new/cong-bo-hop-chuan-hop-quy",
        data={
            "csrf_token": token,
            "declaration_type": "hop_quy",
            "standard.number": "QCVN 2:2021/BKHCN",
            "product.name": "<script>alert(1)</script>",
        },
        files=[("attachments.declaration_form", ("ban-cong-bo.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 422
    assert 'value="QCVN 2:2021/BKHCN"' in response.text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text and "<script>alert(1)" not in response.text
    )
    assert "ban-cong-bo.pdf" in response.text  # the uploaded file is kept, not asked again
    assert re.search(r'aria-invalid="true"[^>]*|[^<]*aria-invalid="true"', response.text)
    assert "Trường &#39;Nơi sản xuất&#39; là bắt buộc." in response.text
    # The language switch of an answer to a post goes back to the form's page, not to the post.
    again = client.post(
        "/my/dossiers/new/cong-bo-hop-chuan-hop-quy",
        data={"csrf_token": token, "declaration_type": "hop_quy"},
        headers={"referer": "http://testserver/my/dossiers/new/cong-bo-hop-chuan-hop-quy?lang=vi"},
    )
    assert 'href="/my/dossiers/new/cong-bo-hop-chuan-hop-quy?lang=en"' in again.text


def test_a_wrong_file_type_is_reported_at_its_field(client, cast):
    page_login(client, cast["owner"].email)
    form = client.get("/my/dossiers/new/cong-bo-hop-chuan-hop-quy")
    response = client.post(
        "/my/dossiers/new/cong-bo-hop-chuan-hop-quy",
        data={"csrf_token": csrf(form.text)},
        files=[
            ("attachments.declaration_form", ("ban-cong-bo.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))
        ],
    )
    assert response.status_code == 422
    assert "Loại tệp không được chấp nhận" in response.text


def test_english_switch(client):
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.text
    assert "lang=en" in response.headers.get("set-cookie", "")
    assert '<html lang="en">' in client.get("/lookup").text  # the choice is remembered
    assert '<html lang="vi">' in client.get("/?lang=vi").text


def test_leader_extends_from_the_dossier_page_and_officers_see_reports(client, rt, cast):
    owner, clerk = cast["owner"], cast["clerk"]
    leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
    code = owner.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    page_login(client, leader.email)
    page = client.get(f"/dossiers/{code}")
    assert "Gia hạn và phát hành phiếu xin lỗi" in page.text
    short = client.post(
        f"/dossiers/{code}/extend",
        data={"csrf_token": csrf(page.text), "days": "2", "reason": "ngắn"},
        follow_redirects=True,
    )
    assert "ít nhất 10 ký tự" in short.text
    done = client.post(
        f"/dossiers/{code}/extend",
        data={"csrf_token": csrf(page.text), "days": "2", "reason": "Chờ ý kiến của cơ quan chuyên ngành."},
        follow_redirects=True,
    )
    assert "Đã gia hạn" in done.text and "Gia hạn và phát hành phiếu xin lỗi" not in done.text
    assert "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết" in done.text
    assert client.get("/work/at-risk").status_code == 200
    assert client.get("/work/reports?group_by=month").status_code == 200
    page_login(client, clerk.email)
    assert "Gia hạn và phát hành phiếu xin lỗi" not in client.get(f"/dossiers/{code}").text
    page_login(client, owner.email)
    assert client.get("/work/reports").status_code == 403


def test_the_bell_counts_unread_notifications_and_the_list_marks_them_read(client, rt, cast):
    from notifications import fan_out

    owner, clerk = cast["owner"], cast["clerk"]
    code = owner.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    fan_out(rt)
    page_login(client, owner.email)
    home = client.get("/my/dossiers")
    count = re.search(r'class="bell__count">(\d+)<', home.text)
    assert count and int(count.group(1)) >= 2  # submitted + received
    listing = client.get("/notifications")
    assert code in listing.text
    client.post("/notifications/read-all", data={"csrf_token": csrf(listing.text)})
    assert 'class="bell__count"' not in client.get("/my/dossiers").text
    api = owner.get("/api/notifications").json()
    assert api["unread"] == 0 and api["total"] >= 2


def test_channels_and_admin_webhooks_pages(client, rt, cast):
    page_login(client, cast["owner"].email)
    form = client.get("/account/notifications")
    bad = client.post(
        "/account/notifications", data={"csrf_token": csrf(form.text), "sms": "1", "phone": "abc"}
    )
    assert bad.status_code == 422 and "Số điện thoại không hợp lệ." in bad.text
    good = client.post(
        "/account/notifications",
        data={"csrf_token": csrf(form.text), "email": "1", "sms": "1", "phone": "0905 123 456"},
    )
    assert good.status_code == 200 and 'value="0905 123 456"' in good.text
    page_login(client, cast["admin"].email)
    hooks = client.get("/admin/webhooks")
    refused = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf(hooks.text),
            "name": "Hải quan",
            "url": "ftp://x",
            "event_types": ["dossier_received"],
        },
    )
    assert refused.status_code == 422 and "http://" in refused.text
    created = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf(hooks.text),
            "name": "Chi cục Hải quan Lao Bảo",
            "url": "http://127.0.0.1:9/hook",
            "event_types": ["dossier_received", "result_issued"],
            "purpose": "partner",
        },
    )
    assert created.status_code == 200 and "Chi cục Hải quan Lao Bảo" in created.text
    assert client.get("/admin/deliveries").status_code == 200


def test_the_import_registration_form_renders_its_goods_lines(client, cast):
    owner = cast["owner"]
    page_login(client, owner.email)
    form = client.get("/my/dossiers/new/kiem-tra-chat-luong-hang-nhap-khau")
    assert form.status_code == 200
    # The form of the rules in force today (from 01/07/2026: the goods' risk level).
    assert "Mã HS" in form.text and "Mức độ rủi ro của hàng hóa" in form.text
    assert "Biện pháp kiểm tra theo QCVN" not in form.text
    assert "goods" in form.text and "Vận đơn" in form.text
    assert f'value="{owner.tax_code}"' in form.text  # prefilled from the account


def test_repeating_groups_and_booleans_read_as_labelled_rows(client, rt):
    """Goods lines of an import registration show as numbered groups with their labels."""
    from api.web.presentation import shown_fields

    form = rt.forms.get("import_registration_2026.schema.json")
    rows = shown_fields(
        form,
        {"goods": [{"name": "Thép cuộn", "hs_code": "72083990"}], "has_conformity_certificate": False},
    )
    goods = next(r for r in rows if r.children and r.children[0].label.endswith(" 1"))
    assert [c.label for c in goods.children[0].children][:1] == ["Tên hàng hóa"]
    assert goods.children[0].children[0].value == "Thép cuộn"
    assert any(r.value == "Không" for r in rows)


def test_a_colleagues_task_is_not_yours_and_the_leader_reads_the_findings(client, rt, cast):
    owner, clerk = cast["owner"], cast["clerk"]
    first = officer(client, rt, "specialist", name="Trần Văn Một")
    second = officer(client, rt, "specialist", name="Lê Thị Hai")
    leader = officer(client, rt, "leader", "PHÓ GIÁM ĐỐC")
    code = owner.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    task = first.task(code)
    assert first.post(f"/api/tasks/{task['id']}/claim").status_code == 200

    page_login(client, second.email)
    dossier = client.get(f"/dossiers/{code}")
    assert "Việc của bạn" not in dossier.text  # the task is held by a colleague
    held = client.get(f"/work/tasks/{task['id']}")
    assert held.status_code == 200
    assert "Công việc đang do Trần Văn Một xử lý." in held.text
    assert 'class="schema-form"' not in held.text  # no form to fill in for nothing

    page_login(client, first.email)
    assert "Việc của bạn" in client.get(f"/dossiers/{code}").text
    first.done(
        code,
        {
            "examination_findings": "Nhãn đúng mẫu, chứng nhận còn hiệu lực.",
            "examination_conclusion": "accept",
        },
    )

    page_login(client, leader.email)
    approve = client.get(f"/work/tasks/{leader.task(code)['id']}")
    assert "Ý kiến xử lý của cán bộ" in approve.text
    assert "Nhãn đúng mẫu, chứng nhận còn hiệu lực." in approve.text


def test_an_unexpected_failure_shows_the_error_page_on_pages_and_json_on_the_api(rt, monkeypatch):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from workflows import queries

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(queries, "public_lookup", broken)
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        page = client.get("/lookup?code=000.00.15.H50-260101-0001")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "Đã xảy ra lỗi hệ thống; không có thay đổi nào được lưu." in page.text
        assert "injected failure" not in page.text
        api = client.get("/api/public/dossiers/000.00.15.H50-260101-0001")
        assert api.status_code == 500
        assert api.json()["error"]["code"] == "internal_error"


def test_procedure_pages_hide_maintainer_notes_and_speak_english(client, cast):
    page = client.get("/procedures/cong-bo-hop-chuan-hop-quy")
    assert "(check" not in page.text
    assert "Phí thẩm định hồ sơ công bố" in page.text
    english = client.get("/procedures/kiem-tra-chat-luong-hang-nhap-khau?lang=en")
    assert "Standards, metrology and quality" in english.text
    assert "1 working day<" in english.text and "1 working days" not in english.text
    # The language switch keeps the page's query.
    search = client.get("/tbt/kb?q=thep")
    assert 'href="/tbt/kb?q=thep&amp;lang=vi"' in search.text  # now in English: the switch back
    # Officers do not file dossiers: no "submit" button for them.
    page_login(client, cast["clerk"].email)
    assert (
        "/my/dossiers/new/cong-bo-hop-chuan-hop-quy"
        not in client.get("/procedures/cong-bo-hop-chuan-hop-quy").text
    )


def test_a_paused_clock_is_shown_as_paused_not_counting_down(client, rt, cast):
    from tests.procedures.tbt.test_tbt_inquiry import QUESTION

    owner = cast["owner"]
    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    response = owner.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    page_login(client, owner.email)
    assert 'data-paused="true"' not in client.get(f"/dossiers/{code}").text
    tbt.done(
        code, {"topic": "conformity_assessment", "route": "forward", "forward_to": "Văn phòng TBT Việt Nam"}
    )
    page = client.get(f"/dossiers/{code}")
    assert 'data-paused="true"' in page.text
    assert "Tạm dừng tính thời gian từ" in page.text
    assert "chuyển tới Văn phòng TBT Việt Nam lúc" in page.text


def test_the_diagram_names_lanes_in_words_and_steps_in_english(client, cast):
    owner = cast["owner"]
    code = owner.submitted()
    page_login(client, owner.email)
    vi = client.get(f"/dossiers/{code}/diagram.json").json()
    assert 'name="Bộ phận một cửa"' in vi["xml"] and 'name="clerk"' not in vi["xml"]
    assert vi["current"] == ["check_completeness"]
    client.get("/?lang=en")
    en = client.get(f"/dossiers/{code}/diagram.json").json()
    assert 'name="One-stop desk"' in en["xml"]
    assert 'name="Check the dossier is complete"' in en["xml"]
    assert 'name="Kiểm tra tính đầy đủ của hồ sơ"' not in en["xml"]


def test_issued_documents_are_named_in_the_pages_language(client, cast):
    owner, clerk = cast["owner"], cast["clerk"]
    code = owner.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    page_login(client, owner.email)
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in client.get(f"/dossiers/{code}").text
    english = client.get(f"/dossiers/{code}?lang=en").text
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" not in english
    assert "Receipt" in english


def test_decimal_numbers_read_the_local_way():
    from api.web.i18n import current_language
    from api.web.presentation import _number

    token = current_language.set("vi")
    try:
        assert (_number(481.0), _number(1250.5), _number(0.25)) == ("481", "1.250,5", "0,25")
        current_language.set("en")
        assert (_number(481.0), _number(1250.5)) == ("481", "1,250.5")
    finally:
        current_language.reset(token)


def test_steps_the_model_takes_by_itself_are_not_the_applicants(client, cast):
    from tests.procedures.tbt.test_tbt_inquiry import QUESTION

    owner = cast["owner"]
    response = owner.post("/api/tbt/inquiries", json={"data": {**QUESTION, "consent_publish": False}})
    code = response.json()["code"]
    page_login(client, owner.email)
    page = client.get(f"/dossiers/{code}").text
    timeline = page[page.index('<ol class="timeline">') :]
    timeline = timeline[: timeline.index("</ol>")]
    entries = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    received = [e for e in entries if "Tiếp nhận hồ sơ" in e]
    assert received and all("Hệ thống (tự động)" in e for e in received), received
    submitted = [e for e in entries if "Nộp hồ sơ" in e]
    assert submitted and "Mũ" in submitted[0]


def test_malformed_or_huge_ids_are_not_found_not_a_crash(client, cast):
    page_login(client, cast["admin"].email)
    for url in (
        "/tbt/wto/99999999999999999999",
        "/tbt/kb/99999999999999999999",
        "/tbt/wto/abc",
        "/award/rounds/abc",
    ):
        page = client.get(url)
        assert page.status_code == 404, url
        assert page.headers["content-type"].startswith("text/html"), url
    assert client.get("/tbt/kb?page=abc").status_code == 400
    for url in ("/api/tbt/wto-notifications/99999999999999999999", "/api/tbt/kb/99999999999999999999"):
        error_of(client.get(url), 422)


def test_the_admin_sees_messages_waiting_to_be_sent(client, rt, cast):
    from notifications.dispatcher import fan_out

    owner = cast["owner"]
    owner.submitted()
    fan_out(rt)  # the "submitted" e-mail waits: the test settings name no SMTP server
    page_login(client, cast["admin"].email)
    page = client.get("/admin/deliveries")
    assert page.status_code == 200
    assert "TDCFLOW_SMTP_HOST" in page.text
    waiting = page.text[page.text.index('id="waiting-deliveries"') :]
    assert owner.email in waiting[: waiting.index("</table>")]
    counts = page.text[page.text.index('id="delivery-counts"') :]
    assert re.search(r"<td>email</td><td>[1-9]", counts)


def test_the_registration_page_asks_for_the_business_account(client):
    """The account registration page (its template shares a stem with the dossier register's)."""
    page = client.get("/register")
    assert page.status_code == 200
    assert "Đăng ký tài khoản doanh nghiệp" in page.text and 'name="tax_code"' in page.text
    assert "Sổ theo dõi hồ sơ" not in page.text
