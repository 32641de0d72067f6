"""The officer's day and the public's view (issue 16): a step that follows in the same role is
offered to the same officer, the import task pages show what decided the measure, the business's
timeline, procedure pages, print styles."""

from __future__ import annotations

import re

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from api.files import DOCX
from api.main import create_app
from tests.conftest import make_settings
from tests.procedures.import_inspection.test_import_inspection import submitted as import_submitted
from tests.procedures.tbt.test_tbt_inquiry import ask_as_visitor
from tests.support import business, cast_of, docx_text, error_of, local, officer, relogin
from tests.test_pages import page_login
from tests.test_startup import broken_copy
from workflows.db import transaction
from workflows.models import User
from workflows.procedures.import_inspection.decision import decision_facts
from workflows.runtime import build_runtime

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

SUPPLEMENT = {"completeness_decision": "supplement", "missing_items": ["Nhãn hàng hóa"]}


def _answer(firm, code: str) -> None:
    firm.done(code, {**firm.declaration(), "supplement_note": "Đã bổ sung nhãn."}, step="provide_supplement")


def _open_task(person, code: str, step: str) -> dict:
    return next(t for t in person.get(f"/api/dossiers/{code}").json()["open_tasks"] if t["step"] == step)


def test_the_recheck_after_a_supplement_waits_for_the_clerk_who_asked_for_it(client, rt):
    firm, clerk, colleague = business(client), officer(client, rt, "clerk"), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, SUPPLEMENT)
    _answer(firm, code)

    recheck = _open_task(clerk, code, "recheck_completeness")
    me = clerk.get("/api/me").json()["id"]
    assert recheck["assignee_id"] == me
    # It is in the clerk's own inbox; a colleague sees it held and cannot take it over.
    mine = clerk.get("/api/tasks?mine=true").json()["items"]
    assert [t["id"] for t in mine if t["dossier_code"] == code] == [recheck["id"]]
    error_of(colleague.post(f"/api/tasks/{recheck['id']}/claim"), 409, "task_taken")

    # Claiming stays what it was: the clerk hands it back, the colleague takes it and finishes.
    assert clerk.post(f"/api/tasks/{recheck['id']}/release").status_code == 200
    assert colleague.post(f"/api/tasks/{recheck['id']}/claim").status_code == 200
    colleague.done(code, {"completeness_decision": "receive", "clerk_note": ""}, step="recheck_completeness")
    # The next role's step is nobody's yet: the specialists share it.
    assert _open_task(clerk, code, "examine")["assignee_id"] is None


def test_a_step_is_not_offered_to_an_officer_who_left(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, SUPPLEMENT)
    colleague = officer(client, rt, "clerk")
    with transaction(rt.engine) as session:  # moved to another post: no longer a clerk
        user = session.exec(select(User).where(User.email == clerk.email)).one()
        user.roles = ["specialist"]
        session.add(user)
    _answer(firm, code)
    assert _open_task(colleague, code, "recheck_completeness")["assignee_id"] is None


def test_the_business_timeline_hides_who_held_a_task_and_the_answered_supplement_leaves_the_top(client, rt):
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    task = _open_task(clerk, code, "check_completeness")
    clerk.post(f"/api/tasks/{task['id']}/claim")
    clerk.post(f"/api/tasks/{task['id']}/release")
    clerk.done(code, SUPPLEMENT)

    page_login(client, firm.email)
    waiting = client.get(f"/dossiers/{code}").text
    assert "data-supplement-open" in waiting and "Nhãn hàng hóa" in waiting
    _answer(firm, code)

    page = client.get(f"/dossiers/{code}").text
    assert "Nhận xử lý" not in page and "Trả lại việc" not in page
    assert "data-supplement-open" not in page
    # The supplement request is a one-stop slip, listed apart; no result has been issued yet.
    slips = page[page.index("data-slips") :]
    assert 'data-document="supplement_request"' in slips and "data-results" not in page
    # The answered request is still there, below the history, with when it was answered.
    answered = page.index("data-supplement-answered")
    assert page.index("Quá trình xử lý") < answered and "Nhãn hàng hóa" in page[answered:]
    api_history = [e["action"] for e in firm.get(f"/api/dossiers/{code}").json()["history"]]
    assert "task_claimed" not in api_history and "task_released" not in api_history

    # The officers still read who held what, and that the recheck went to the clerk who asked.
    page_login(client, clerk.email)
    officer_page = client.get(f"/dossiers/{code}").text
    assert "Nhận xử lý" in officer_page and "Trả lại việc" in officer_page
    assert "Giao cho cán bộ đã xử lý bước trước" in officer_page


def _task_page(client, clerk, code: str) -> str:
    task = _open_task(clerk, code, "confirm_registration")
    page_login(client, clerk.email)
    response = client.get(f"/work/tasks/{task['id']}")
    assert response.status_code == 200
    return response.text


def test_the_import_confirmation_task_shows_the_measure_the_regulation_and_the_history(client, rt):
    people = cast_of(client, rt, "Công ty TNHH Xuất nhập khẩu Đông Hà")
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False):  # the measures set by the QCVN
        relogin(people)
        code = import_submitted(people["business"])
        page = _task_page(client, people["clerk"], code)
    decided = page[page.index("data-import-decision") :]
    assert "Biện pháp b: kiểm tra trên cơ sở kết quả chứng nhận" in decided
    assert "QCVN 2:2021/BKHCN; QCVN 3:2019/BKHCN" in decided
    assert "0 lô liên tiếp đạt kể từ lần không đạt gần nhất; 0 lô không đạt trong 12 tháng qua" in decided

    relogin(people)  # today: the risk-based rules of Decree 37/2026
    code = import_submitted(people["business"])
    page = _task_page(client, people["clerk"], code)
    decided = page[page.index("data-import-decision") :]
    assert "Hàng hóa rủi ro cao: kiểm tra trên cơ sở giấy chứng nhận hợp quy đã có" in decided
    assert "Mức độ rủi ro của lô hàng" in decided and "Cao" in decided
    task = _open_task(people["clerk"], code, "confirm_registration")
    english = client.get(f"/work/tasks/{task['id']}?lang=en")
    assert "High-risk goods: inspected on the certificate of conformity already held" in english.text


def test_three_passes_in_a_row_show_the_importer_may_ask_for_an_exemption():
    data = {
        "inspection_measure": 2,
        "regulation_measure": "b",
        "goods": [{"qcvn": "QCVN 2:2021/BKHCN"}, {"qcvn": "QCVN 2:2021/BKHCN"}],
        "consecutive_passes": 3,
        "recent_failures": 0,
        "exemption_notice_number": "12/XN-TĐC",
        "exemption_valid_until": "2026-01-31",
        "exemption_valid": False,
    }
    facts = {f.label_vi: f.value_vi for f in decision_facts(data)}
    assert facts["Quy chuẩn kỹ thuật áp dụng"] == "QCVN 2:2021/BKHCN"
    assert facts["Văn bản miễn kiểm tra"] == "Số 12/XN-TĐC, hiệu lực đến 31/01/2026 (hết hiệu lực)"
    assert facts["Lịch sử kiểm tra của người nhập khẩu"].endswith("đủ điều kiện đề nghị miễn kiểm tra")
    assert decision_facts({"goods": []}) == []  # before the decision table ran: nothing to show


def test_a_procedure_page_offers_its_form_as_docx_and_the_footer_tells_where_and_when(client):
    page = client.get("/procedures/kiem-tra-chat-luong-hang-nhap-khau").text
    assert "data-national-code" not in page  # not set in the catalogue: not guessed
    footer = page[page.index('<footer class="site-footer">') :]
    # The defaults not yet confirmed: the address without its "(check)", no hotline at all.
    assert "Địa chỉ: Bộ phận Tiếp nhận và Trả kết quả, Sở Khoa học và Công nghệ tỉnh Quảng Trị" in footer
    assert "(check" not in footer and "Đường dây nóng" not in footer
    assert "Giờ làm việc: 07:30–11:30, 13:30–17:00, thứ Hai đến thứ Sáu" in footer
    assert "Căn cứ pháp lý" in page and "Phí, lệ phí" in page and "Thời hạn luật định" in page
    link = re.search(r'href="(/procedures/kiem-tra-chat-luong-hang-nhap-khau/forms/[^"]+\.docx[^"]*)"', page)
    assert link, "no form template on the procedure page"
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(DOCX)
    text = docx_text(response.content)
    # The form of the rules in force (the risk levels of Decree 37/2026), with its goods table.
    assert "Bản đăng ký kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu" in text
    assert "Mức độ rủi ro của hàng hóa" in text and "Số tờ khai hải quan: ...." in text
    assert "☐ Hợp đồng mua bán" in text
    english = client.get(link.group(1).replace("&amp;", "&"), params={"lang": "en"})
    assert "Customs declaration number" in docx_text(english.content)
    # Only the procedure's own form, by its name: anything else is a 404 naming the form.
    other = client.get("/procedures/kiem-tra-chat-luong-hang-nhap-khau/forms/approve.docx")
    assert other.status_code == 404 and "Form" in other.text
    assert client.get("/procedures/khong-co/forms/declaration.docx").status_code == 404


def test_a_procedure_shows_its_national_code_when_the_catalogue_gives_it_and_the_hotline_when_set(tmp_path):
    folder = broken_copy(
        tmp_path,
        "catalogue.toml",
        'code = "cong-bo-hop-chuan-hop-quy"\n',
        'code = "cong-bo-hop-chuan-hop-quy"\nnational_code = "1.000000 (check)"\n',
    )
    runtime = build_runtime(
        make_settings(
            tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", bpmn_dir=folder, office_hotline="0233 3 000 000"
        )
    )
    try:
        with TestClient(create_app(runtime)) as own:
            page = own.get("/procedures/cong-bo-hop-chuan-hop-quy").text
    finally:
        runtime.engine.dispose()
    # The code as the catalogue gives it, without the maintainers' "(check)" (as every figure).
    assert "Mã thủ tục hành chính (mã TTHC)" in page and "<dd>1.000000</dd>" in page
    assert "(check" not in page
    assert "Đường dây nóng: 0233 3 000 000" in page[page.index('<footer class="site-footer">') :]


def test_a_tbt_question_is_claimed_once_by_the_officer_who_takes_it_up(client, rt):
    first, second = (officer(client, rt, "tbt_officer") for _ in range(2))
    code = ask_as_visitor(client)["code"]
    classify = _open_task(first, code, "classify")
    assert first.post(f"/api/tasks/{classify['id']}/claim").status_code == 200
    first.done(code, {"topic": "technical_regulation", "route": "answer"})
    me = first.get("/api/me").json()["id"]
    assert _open_task(first, code, "answer")["assignee_id"] == me
    assert all(
        t["dossier_code"] != code or t["assignee_id"] == me for t in second.get("/api/tasks").json()["items"]
    )
    first.done(code, {"answer": "Áp dụng QCVN 7:2019/BKHCN.", "references": ["QCVN 7:2019/BKHCN"]})
    assert _open_task(first, code, "publish")["assignee_id"] == me
