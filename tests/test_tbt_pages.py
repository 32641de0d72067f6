"""The TBT inquiry point's pages (server-rendered), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import time_machine

from tests.support import PDF, business, local, officer
from tests.test_pages import csrf, page_login
from tests.test_tbt_inquiry import QUESTION, ask_as_visitor

SUM = re.compile(r"Câu hỏi kiểm tra: (\d+) cộng (\d+) bằng mấy\?")


def ask_form(client, **fields: str):  # type: ignore[no-untyped-def]
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
    return client.post("/tbt/ask", data=data)


def test_visitor_asks_on_the_page_and_follows_the_link(client):
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        sent = ask_form(client)
        assert sent.status_code == 200, sent.text
        assert "Đã gửi câu hỏi" in sent.text
        link = re.search(r'id="follow-link" href="([^"]+)"', sent.text).group(1)
        followed = client.get(link)
        assert followed.status_code == 200
        assert "Đang phân loại câu hỏi" in followed.text and "03/12/2026" in followed.text
        assert client.get(link[:-4] + "xxxx").status_code == 404


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
    sent = client.post("/tbt/ask", data=data)
    assert sent.status_code == 200, sent.text
    code = re.search(r'href="/dossiers/([^"]+)"', sent.text).group(1)
    assert client.get(f"/dossiers/{code}").status_code == 200
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
    assert "1 kết quả" in page.text
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
    code = re.search(r'<dd class="code">([^<]+)</dd>', sent.text).group(1)
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
