"""The TBT inquiry point's pages (server-rendered), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import time_machine
from sqlmodel import select

from tests.procedures.tbt.test_tbt_inquiry import QUESTION, ask_as_visitor
from tests.support import PDF, business, local, officer, tampered
from tests.test_pages import csrf, page_login
from workflows.db import reading
from workflows.models import Dossier

SUM = re.compile(r"Câu hỏi kiểm tra: (\d+) cộng (\d+) bằng mấy\?")


def ask_form(client, follow_redirects: bool = True, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/tbt/ask")
    assert page.status_code == 200
    a, b = (int(n) for n in SUM.search(page.text).groups())
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    data = {
        "csrf_token": csrf(page.text),
        "subject": QUESTION["subject"],
        "product": QUESTION["product"],
        "hs_code": QUESTION["hs_code"],
        "market": QUESTION["market"],
        "question": QUESTION["question"],
        "asker_name": "Lê Văn Khách",
        "asker_email": "le.khach@example.vn",
        "consent_publish": "true",
        "form_token": token,
        "captcha_answer": str(a + b),
        "website": "",
        **fields,
    }
    return client.post("/tbt/ask", data=data, follow_redirects=follow_redirects)


def tbt_inquiry_count(rt) -> int:  # type: ignore[no-untyped-def]
    with reading(rt.engine) as session:
        return len(session.exec(select(Dossier).where(Dossier.procedure_code == "hoi-dap-tbt")).all())


def test_visitor_asks_on_the_page_and_follows_the_link(client, rt):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        sent = ask_form(client, follow_redirects=False)
        # Post/Redirect/Get: the answer to the POST is a redirect to the inquiry's secret page.
        assert sent.status_code == 303, sent.text
        link, _, query = sent.headers["location"].partition("?")
        assert re.fullmatch(r"/tbt/follow/[^/]+/[\w-]+", link) and query == "asked=1"
        for _reload in range(2):  # reloading the confirmation fetches it again, sends nothing
            landed = client.get(sent.headers["location"])
            assert landed.status_code == 200
            assert "Câu hỏi đã được tiếp nhận với mã" in landed.text and "giữ kín đường dẫn" in landed.text
        assert tbt_inquiry_count(rt) == 1
        # The secret address goes to no one else: not as a referrer, not into a shared cache.
        assert landed.headers["referrer-policy"] == "no-referrer"
        assert landed.headers["cache-control"] == "no-store"
        followed = client.get(link)
        assert followed.status_code == 200 and "Câu hỏi đã được tiếp nhận" not in followed.text
        assert "Đang phân loại câu hỏi" in followed.text and "03/12/2026" in followed.text
        assert client.get(tampered(link)).status_code == 404


def test_ask_page_shows_field_errors_and_keeps_the_values(client):
    wrong = ask_form(client, captcha_answer="100", asker_email="")
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text and "Kết quả phép tính chưa đúng" in wrong.text
    assert QUESTION["question"] in wrong.text  # nothing typed is lost
    bad = ask_form(client, hs_code="72-19")
    assert bad.status_code == 422 and 'id="e-hs_code"' in bad.text


def test_business_asks_without_captcha(client, rt):
    firm = business(client, "Công ty CP Thép Quảng Trị")
    page_login(client, firm.email)
    page = client.get("/tbt/ask")
    assert "Câu hỏi kiểm tra" not in page.text and "Công ty CP Thép Quảng Trị" in page.text
    data = {"csrf_token": csrf(page.text), **{k: v for k, v in QUESTION.items() if k != "consent_publish"}}
    sent = client.post("/tbt/ask", data=data, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    code = re.fullmatch(r"/dossiers/([^/?]+)\?flash=submitted", sent.headers["location"]).group(1)
    landed = client.get(sent.headers["location"])
    assert landed.status_code == 200 and "Đã nộp hồ sơ" in landed.text and code in landed.text
    assert tbt_inquiry_count(rt) == 1
    assert 'id="tbt-answer"' not in client.get(f"/dossiers/{code}").text
    tbt = officer(client, rt, "tbt_officer")
    tbt.done(code, {"topic": "standard", "route": "answer"})
    tbt.done(
        code, {"answer": "Áp dụng EN 10088-2 cho thép không gỉ cán nguội.", "references": ["EN 10088-2"]}
    )
    page = client.get(f"/dossiers/{code}")
    assert 'id="tbt-answer"' in page.text and "Áp dụng EN 10088-2" in page.text
    assert "Đã trả lời" in page.text


def test_kb_search_page_highlights_and_wto_pages(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    asked = ask_as_visitor(client)
    code = asked["code"]
    tbt.done(code, {"topic": "standard", "route": "answer"})
    tbt.done(code, {"answer": "Thép không gỉ cán nguội áp dụng tiêu chuẩn EN 10088-2 khi xuất khẩu sang EU."})
    tbt.done(code, {"publication_decision": "publish"})
    page = client.get("/tbt/kb", params={"q": "thep khong gi"})
    assert page.status_code == 200
    assert "<mark>Thép</mark>" in page.text and "<mark>không</mark>" in page.text
    assert "Số kết quả tìm thấy cho “thep khong gi”: 1" in page.text
    english = client.get("/tbt/kb", params={"q": "thep khong gi", "lang": "en"})
    assert "Results found for “thep khong gi”: 1" in english.text and "1 results" not in english.text
    client.get("/tbt/kb", params={"lang": "vi"})
    entry = re.search(r'href="(/tbt/kb/\d+)"', page.text).group(1)
    assert "EN 10088-2" in client.get(entry).text
    empty = client.get("/tbt/kb", params={"q": "xe máy điện"})
    assert "Không tìm thấy hỏi đáp phù hợp" in empty.text

    page_login(client, tbt.email)
    form = client.get("/tbt/wto/new")
    assert form.status_code == 200
    created = client.post(
        "/tbt/wto/new",
        data={
            "csrf_token": csrf(form.text),
            "member": "Hoa Kỳ",
            "symbol": "G/TBT/N/USA/2001",
            "title": "Yêu cầu ghi nhãn dụng cụ nhà bếp",
            "products": "Dụng cụ nhà bếp bằng thép không gỉ",
            "hs_codes": "7323.93",
            "description": "Yêu cầu ghi nhãn thành phần vật liệu.",
            "circulated_on": "2026-11-20",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    detail = client.get(created.headers["location"])
    assert "G/TBT/N/USA/2001" in detail.text and "19/01/2027" in detail.text
    assert "Tổng hợp góp ý" in detail.text
    listing = client.get("/tbt/wto")
    assert "G/TBT/N/USA/2001" in listing.text
    assert "G/TBT/N/USA/2001" in client.get("/tbt").text


def test_visitor_attaches_files_with_the_question(client, rt):
    page = client.get("/tbt/ask")
    a, b = (int(n) for n in SUM.search(page.text).groups())
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    fields = {
        "csrf_token": csrf(page.text),
        **{k: QUESTION[k] for k in ("subject", "product", "market", "question")},
        "asker_name": "Lê Văn Khách",
        "asker_email": "tep@example.vn",
        "form_token": token,
        "captcha_answer": str(a + b),
    }
    refused = client.post("/tbt/ask", data=fields, files=[("files", ("ghi-chu.txt", b"hello", "text/plain"))])
    assert refused.status_code == 415 and QUESTION["question"] in refused.text
    sent = client.post("/tbt/ask", data=fields, files=[("files", ("nhan-hang.pdf", PDF, "application/pdf"))])
    assert sent.status_code == 200, sent.text
    code = re.search(r'<span class="code">([^<]+)</span>', sent.text).group(1)
    tbt = officer(client, rt, "tbt_officer")
    dossier = tbt.get(f"/api/dossiers/{code}").json()
    assert [a["filename"] for a in dossier["attachments"]] == ["nhan-hang.pdf"]


def test_officer_corrects_a_published_answer_on_its_page(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    code = ask_as_visitor(client)["code"]
    tbt.done(code, {"topic": "standard", "route": "answer"})
    tbt.done(code, {"answer": "Áp dụng tiêu chuẩn EN 10088-2 cho thép không gỉ cán nguội xuất khẩu."})
    tbt.done(code, {"publication_decision": "publish"})
    entry_id = client.get("/api/tbt/kb").json()["items"][0]["id"]
    assert "Sửa nội dung đã công bố" not in client.get(f"/tbt/kb/{entry_id}").text  # not for the public
    page_login(client, tbt.email)
    page = client.get(f"/tbt/kb/{entry_id}")
    assert "Sửa nội dung đã công bố" in page.text
    saved = client.post(
        f"/tbt/kb/{entry_id}/edit",
        data={
            "csrf_token": csrf(page.text),
            "subject": "Thép không gỉ xuất khẩu sang EU",
            "question": "Cần tiêu chuẩn nào?",
            "answer": "EN 10088-2 và EN 10088-4.",
        },
    )
    assert saved.status_code == 200 and "Đã lưu nội dung sửa." in saved.text and "EN 10088-4" in saved.text
    refused = client.post(f"/tbt/kb/{entry_id}/unpublish", data={"csrf_token": csrf(page.text), "reason": ""})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.text
    gone = client.post(
        f"/tbt/kb/{entry_id}/unpublish", data={"csrf_token": csrf(page.text), "reason": "Đã lỗi thời"}
    )
    assert gone.status_code == 200 and client.get(f"/tbt/kb/{entry_id}").status_code == 404


def test_the_catalogue_sends_askers_to_the_question_form(client):
    home = client.get("/")
    assert 'href="/tbt/ask"' in home.text and 'href="/my/dossiers/new/hoi-dap-tbt"' not in home.text
    assert 'href="/tbt/ask"' in client.get("/procedures/hoi-dap-tbt").text


def test_business_follows_comments_and_subscribes_on_the_pages(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    firm = business(client, "Công ty CP Thép Quảng Trị")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        created = tbt.post(
            "/api/tbt/wto-notifications",
            json={
                "member": "Nhật Bản",
                "symbol": "G/TBT/N/JPN/800",
                "title": "Sửa đổi tiêu chuẩn JIS cho thép không gỉ",
                "products": "Thép không gỉ",
                "hs_codes": ["7219"],
                "description": "Sửa đổi yêu cầu thử nghiệm.",
                "circulated_on": "2026-11-01",
                "comment_deadline": "2026-12-31",
            },
        ).json()
        page_login(client, firm.email)
        subs = client.get("/tbt/subscriptions")
        added = client.post(
            "/tbt/subscriptions", data={"csrf_token": csrf(subs.text), "hs_prefix": "72", "keyword": ""}
        )
        assert added.status_code == 200 and "Mã HS bắt đầu bằng 72" in added.text
        empty = client.post(
            "/tbt/subscriptions", data={"csrf_token": csrf(subs.text), "hs_prefix": "", "keyword": ""}
        )
        assert empty.status_code == 422 and 'id="e-hs_prefix"' in empty.text
        sub_id = re.search(r'action="/tbt/subscriptions/(\d+)/delete"', added.text).group(1)
        removed = client.post(f"/tbt/subscriptions/{sub_id}/delete", data={"csrf_token": csrf(subs.text)})
        assert "Mã HS bắt đầu bằng 72" not in removed.text

        detail = client.get(f"/tbt/wto/{created['id']}")
        assert "Ý kiến góp ý" in detail.text
        sent = client.post(
            f"/tbt/wto/{created['id']}/comments",
            data={"csrf_token": csrf(detail.text), "body": "Đề nghị thừa nhận kết quả thử nghiệm VILAS."},
        )
        assert sent.status_code == 200 and "Đã gửi góp ý." in sent.text and "VILAS" in sent.text
    with time_machine.travel(local(2027, 1, 2, 9, 0), tick=False):
        late = client.post(
            f"/tbt/wto/{created['id']}/comments",
            data={"csrf_token": csrf(detail.text), "body": "Góp ý gửi sau hạn cuối cùng."},
        )
        assert late.status_code == 409 and "31/12/2026" in late.text


def test_the_publication_form_starts_from_the_question_and_the_answer(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    code = ask_as_visitor(client)["code"]
    tbt.done(code, {"topic": "standard", "route": "answer"})
    tbt.done(code, {"answer": "Áp dụng tiêu chuẩn EN 10088-2 cho thép không gỉ cán nguội xuất khẩu."})
    task = tbt.task(code, "publish")
    page_login(client, tbt.email)
    page = client.get(f"/work/tasks/{task['id']}")
    assert page.status_code == 200
    assert "Áp dụng tiêu chuẩn EN 10088-2" in page.text and QUESTION["question"] in page.text


def test_an_expired_notification_tells_visitors_comments_are_closed(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        created = tbt.post(
            "/api/tbt/wto-notifications",
            json={
                "member": "Hàn Quốc",
                "symbol": "G/TBT/N/KOR/1200",
                "title": "Yêu cầu an toàn đồ chơi trẻ em",
                "products": "Đồ chơi",
                "hs_codes": ["9503"],
                "description": "Sửa đổi yêu cầu an toàn.",
                "circulated_on": "2026-11-20",
                "comment_deadline": "2026-12-31",
            },
        ).json()
        open_page = client.get(f"/tbt/wto/{created['id']}")
        assert "Đăng nhập tài khoản doanh nghiệp để góp ý" in open_page.text
        assert 'id="comments-closed"' not in open_page.text
    with time_machine.travel(local(2027, 1, 1, 0, 5), tick=False):
        closed = client.get(f"/tbt/wto/{created['id']}")
        assert closed.status_code == 200
        assert "Đăng nhập tài khoản doanh nghiệp để góp ý" not in closed.text
        assert "/login?next=/tbt/wto/" not in closed.text
        assert "Đã hết hạn góp ý (hạn cuối 31/12/2026)." in closed.text
        english = client.get(f"/tbt/wto/{created['id']}", params={"lang": "en"})
        assert 'id="comments-closed"' in english.text and "to comment" not in english.text


def test_the_follow_page_says_when_the_question_was_forwarded(client, rt):
    tbt = officer(client, rt, "tbt_officer")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        link = ask_as_visitor(client)["follow_url"].removeprefix("http://testserver")
        code = link.split("/")[3]
    with time_machine.travel(local(2026, 11, 26, 21, 12), tick=False):
        tbt.relogin()
        tbt.done(
            code,
            {"topic": "conformity_assessment", "route": "forward", "forward_to": "Văn phòng TBT Việt Nam"},
        )
    with time_machine.travel(local(2026, 12, 2, 8, 5), tick=False):
        page = client.get(link)
        note = re.search(r'<p id="forwarded-note">(.*?)</p>', page.text, re.S).group(1)
        assert "chuyển tới Văn phòng TBT Việt Nam lúc 21:12 ngày 26/11/2026;" in note
        assert "ngày 21:12" not in note
        tbt.relogin()
        tbt.done(
            code,
            {
                "reply_received_on": "2026-12-02",
                "reply_summary": "Áp dụng Quy định (EU) 2023/1230.",
                "reply_outcome": "answer",
            },
        )
        page = client.get(link, params={"lang": "en"})
        note = re.search(r'<p id="forwarded-note">(.*?)</p>', page.text, re.S).group(1)
        assert "forwarded to Văn phòng TBT Việt Nam on 26/11/2026 at 21:12;" in note
        assert "Their reply was received on 02/12/2026 at 08:05." in note
        client.get(link, params={"lang": "vi"})
        note = re.search(r'<p id="forwarded-note">(.*?)</p>', client.get(link).text, re.S).group(1)
        assert "Đã nhận ý kiến lúc 08:05 ngày 02/12/2026." in note


def test_the_publication_consent_is_not_marked_required(client):
    firm = business(client, "Công ty CP Thép Quảng Trị")
    page_login(client, firm.email)
    # The generic new-dossier page sends a question to the TBT page (visitors may ask there too).
    moved = client.get("/my/dossiers/new/hoi-dap-tbt", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/tbt/ask"
    for url in ("/tbt/ask",):
        page = client.get(url)
        assert page.status_code == 200
        consent = re.search(
            r'<div class="([^"]*)"[^>]*>\s*<input[^>]*id="f-consent_publish".*?</div>', page.text, re.S
        )
        assert consent, url
        assert "field--required" not in consent.group(1) and "required-marker" not in consent.group(0), url
        assert "required" not in re.search(
            r'<input[^>]*id="f-consent_publish"[^>]*>', consent.group(0)
        ).group(0)
    # Fields that are required still carry the mark.
    assert re.search(
        r'<div class="field field--required">\s*<label for="f-subject">', client.get("/tbt/ask").text
    )


def test_the_dossier_page_says_when_the_question_was_forwarded(client, rt):
    firm = business(client, "Công ty CP Thép Quảng Trị")
    tbt = officer(client, rt, "tbt_officer")
    with time_machine.travel(local(2026, 11, 26, 21, 12), tick=False):
        firm.relogin(), tbt.relogin()
        code = firm.post("/api/tbt/inquiries", json={"data": QUESTION}).json()["code"]
        tbt.done(code, {"topic": "standard", "route": "forward", "forward_to": "Văn phòng TBT Việt Nam"})
        page_login(client, firm.email)
        page = client.get(f"/dossiers/{code}")
        assert "lúc 21:12 ngày 26/11/2026" in page.text and "ngày 21:12" not in page.text


def test_the_officer_finds_the_compilations_already_issued(client, rt):
    import hashlib

    tbt = officer(client, rt, "tbt_officer")
    created = tbt.post(
        "/api/tbt/wto-notifications",
        json={
            "member": "Hàn Quốc",
            "symbol": "G/TBT/N/KOR/1201",
            "title": "Yêu cầu an toàn đồ chơi trẻ em",
            "products": "Đồ chơi",
            "hs_codes": ["9503"],
            "description": "Sửa đổi yêu cầu an toàn.",
            "circulated_on": "2026-11-20",
        },
    ).json()
    page_login(client, tbt.email)
    detail = client.get(f"/tbt/wto/{created['id']}")
    assert 'id="compilations"' not in detail.text
    issued = client.post(
        f"/tbt/wto/{created['id']}/compilation",
        data={"csrf_token": csrf(detail.text), "early_reason": "Văn phòng TBT Việt Nam đề nghị gửi sớm."},
    )
    assert issued.status_code == 200
    detail = client.get(f"/tbt/wto/{created['id']}")
    links = re.findall(rf'href="(/tbt/wto/{created["id"]}/compilations/[0-9a-f]+)"', detail.text)
    assert len(links) == 1
    again = client.get(links[0])
    assert hashlib.sha256(again.content).digest() == hashlib.sha256(issued.content).digest()
    firm = business(client, "Công ty TNHH Đồ chơi Gio Linh")
    page_login(client, firm.email)
    assert client.get(links[0]).status_code == 403
