"""The service figures (workflows.statistics) on the public page, its API and spreadsheet, and on
the officers' report with its chart; the applicants' ratings (workflows.ratings).

One scenario builds a handful of dossiers with known outcomes in March 2026 (time-machine), then
every view is checked against the figures computed from those dossiers.
"""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import select

from tests.support import business, cast_of, local, relogin, tampered
from tests.test_pages import csrf, page_login
from workflows.db import reading
from workflows.models import Dossier
from workflows.statistics import HEADINGS

MARCH = "date_from=2026-03-01&date_to=2026-03-31"


def finish(cast, code):
    cast["specialist"].done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
    return cast["leader"].complete(code, {"approval_decision": "approve"})


@pytest.fixture
def scenario(client, rt):
    """Four dossiers received Mon 02/03/2026 09:00 (appointment Thu 05/03 09:00): one resolved
    early (Wed 04/03 10:00), one on time (Thu 05/03 08:30), one late (Fri 06/03 09:00, after an
    apology), one still open; a fifth submitted and not received. The first two are rated 5 and 3."""
    cast = cast_of(client, rt, "Công ty TNHH Số Liệu")
    firm, clerk, leader = cast["business"], cast["clerk"], cast["leader"]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        relogin(cast)
        early, on_time, late, still_open = (firm.submitted() for _ in range(4))
        for code in (early, on_time, late, still_open):
            clerk.done(code, {"completeness_decision": "receive"})
        firm.submitted()  # never received: no figure counts it
        travel.move_to(local(2026, 3, 4, 10, 0))
        relogin(cast)
        assert finish(cast, early).status_code == 200
        travel.move_to(local(2026, 3, 5, 8, 30))
        relogin(cast)
        assert finish(cast, on_time).status_code == 200
        travel.move_to(local(2026, 3, 6, 9, 0))
        relogin(cast)
        cast["specialist"].done(late, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
        extended = leader.post(
            f"/api/dossiers/{late}/extend", json={"days": 2, "reason": "Chờ kết quả thử nghiệm bổ sung."}
        )
        assert extended.status_code == 200, extended.text
        assert leader.complete(late, {"approval_decision": "approve"}).status_code == 200
        travel.move_to(local(2026, 3, 9, 9, 0))
        relogin(cast)
        assert (
            firm.post(f"/api/dossiers/{early}/rating", json={"score": 5, "comment": "Nhanh."}).status_code
            == 201
        )
        assert firm.post(f"/api/dossiers/{on_time}/rating", json={"score": 3}).status_code == 201
    cast.update(codes={"early": early, "on_time": on_time, "late": late, "open": still_open})
    return cast


def check_public_figures(client, rt, scenario):
    codes = scenario["codes"]
    with reading(rt.engine) as session:
        dossiers = {d.code: d for d in session.exec(select(Dossier)).all()}
    # What the dossiers themselves say.
    assert {
        c: dossiers[c].timeliness_committed for c in ("early", "on_time", "late") for c in [codes[c]]
    } == {
        codes["early"]: "early",
        codes["on_time"]: "on_time",
        codes["late"]: "late",
    }
    # Working days from receipt (Mon 09:00) to result; a working day is 7h30 (07:30–11:30, 13:30–17:00).
    expected_days = round((2 + 1 / 7.5 + 3 - 0.5 / 7.5 + 4) / 3, 1)

    figures = client.get(f"/api/public/statistics?{MARCH}").json()
    total = figures["total"]
    assert {
        k: total[k] for k in ("received", "online", "resolved", "early", "on_time", "late", "legal_late")
    } == {
        "received": 4,
        "online": 4,
        "resolved": 3,
        "early": 1,
        "on_time": 1,
        "late": 1,
        "legal_late": 0,
    }
    assert total["in_time_share"] == pytest.approx(2 / 3)
    assert total["online_share"] == 1.0
    assert total["average_processing_days"] == expected_days
    assert (total["rating_count"], total["average_rating"]) == (2, 4.0)
    assert [(r["procedure"], r["month"]) for r in figures["rows"]] == [
        ("cong-bo-hop-chuan-hop-quy", "2026-03")
    ]
    assert "Công ty" not in str(figures)  # no personal data
    assert (
        client.get("/api/public/statistics?date_from=2026-04-01&date_to=2026-04-30").json()["total"][
            "received"
        ]
        == 0
    )

    client.cookies.clear()
    page = client.get(f"/thong-ke?{MARCH}")
    assert page.status_code == 200
    shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page.text))
    assert (shown["received"], shown["resolved"], shown["early"], shown["on_time"], shown["late"]) == (
        "4",
        "3",
        "1",
        "1",
        "1",
    )
    assert shown["in_time_share"] == "66.7%" and shown["average_rating"] == "4.0/5"
    assert "Quyết định 766/QĐ-TTg" in page.text and "Công ty TNHH Số Liệu" not in page.text
    assert 'href="/thong-ke"' in client.get("/").text
    english = client.get(f"/thong-ke?{MARCH}&lang=en").text
    assert "Statistics of administrative procedures" in english and "5. Satisfaction" in english

    sheet = client.get(f"/thong-ke.xlsx?{MARCH}")
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[2] == HEADINGS
    total_row = next(r for r in rows if r[0] == "Tổng cộng")
    assert total_row[2:12] == (4, 4, 100.0, 3, 1, 1, 1, 66.7, 0, expected_days)
    assert total_row[12:] == (2, 4.0)


def check_officer_report(client, rt, scenario):
    leader = scenario["leader"]
    assert page_login(client, leader.email).status_code == 303
    page = client.get(f"/work/reports?{MARCH}")
    assert page.status_code == 200
    svg = re.search(r"<svg[^>]*data-chart=.*?</svg>", page.text, re.S).group(0)
    assert "<title" in svg and 'role="img"' in svg
    counts = dict(re.findall(r'data-kind="(\w+)" data-count="(\d+)"', svg))
    assert counts == {"early": "1", "on_time": "1", "late": "1"}
    assert "03/2026: 1 trước hạn, 1 đúng hạn, 1 trễ hạn" in svg
    # Filtered by an officer who worked none of them: the chart has no bar segment.
    with reading(rt.engine) as session:
        from workflows.models import User

        specialist = session.exec(select(User).where(User.email == scenario["specialist"].email)).one()
    other = cast_of(client, rt, "Công ty Khác")["specialist"]
    with reading(rt.engine) as session:
        other_id = session.exec(select(User.id).where(User.email == other.email)).one()
    assert page_login(client, leader.email).status_code == 303
    mine = client.get(f"/work/reports?{MARCH}&officer={specialist.id}").text
    assert len(re.findall(r"data-kind=", mine)) == 3
    assert "data-kind=" not in client.get(f"/work/reports?{MARCH}&officer={other_id}").text
    # A period that ends before it starts is refused, naming the field.
    assert client.get("/work/reports?date_from=2026-04-01&date_to=2026-03-01").status_code == 422
    # The form's empty boxes mean the defaults (this year, every procedure and officer).
    assert client.get("/work/reports?date_from=&date_to=&procedure=&officer=").status_code == 200
    assert client.get("/thong-ke?date_from=03/2026").status_code == 422
    assert (
        client.get("/api/public/statistics?date_from=2026-04-01&date_to=2026-03-01").json()["error"][
            "fields"
        ][0]["field"]
        == "date_from"
    )
    export = client.get(f"/work/reports.xlsx?{MARCH}&procedure=cong-bo-hop-chuan-hop-quy")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("BÁO CÁO TIẾN ĐỘ") and rows[2] == HEADINGS
    assert rows[3][1] == "03/2026" and rows[3][6:9] == (1, 1, 1)
    # A business sees neither the report nor its export.
    assert page_login(client, scenario["business"].email).status_code == 303
    assert client.get("/work/reports").status_code == 403
    assert client.get("/work/reports.xlsx").status_code == 403


def check_ratings(client, rt, scenario):
    firm, leader, clerk = scenario["business"], scenario["leader"], scenario["clerk"]
    codes = scenario["codes"]
    with time_machine.travel(local(2026, 3, 9, 10, 0), tick=False):
        for person in (firm, leader, clerk):
            person.relogin()
        again = firm.post(f"/api/dossiers/{codes['early']}/rating", json={"score": 1})
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
        not_yet = firm.post(f"/api/dossiers/{codes['open']}/rating", json={"score": 4})
        assert not_yet.status_code == 409 and not_yet.json()["error"]["code"] == "not_resolved"
        bad = firm.post(f"/api/dossiers/{codes['late']}/rating", json={"score": 9})
        assert bad.status_code == 422 and "score" in bad.text
        stranger = business(client, "Công ty Lạ")
        assert stranger.post(f"/api/dossiers/{codes['late']}/rating", json={"score": 1}).status_code == 404
        assert leader.post(f"/api/dossiers/{codes['late']}/rating", json={"score": 5}).status_code == 404
        # Officers read the ratings; a business does not.
        listed = leader.get("/api/ratings").json()
        assert (listed["total"], listed["average"]) == (2, 4.0)
        assert [r["score"] for r in listed["items"]] == [3, 5] or [r["score"] for r in listed["items"]] == [
            5,
            3,
        ]
        assert firm.get("/api/ratings").status_code == 403
        # On pages: the applicant rates the late one through the form; then the form is gone.
        assert page_login(client, firm.email).status_code == 303
        page = client.get(f"/dossiers/{codes['late']}")
        assert "Đánh giá mức độ hài lòng" in page.text and 'name="score"' in page.text
        posted = client.post(
            f"/dossiers/{codes['late']}/rating",
            data={"score": "2", "comment": "Trễ hẹn.", "csrf_token": csrf(page.text)},
            follow_redirects=True,
        )
        assert "Cảm ơn bạn đã đánh giá" in posted.text and 'name="score"' not in posted.text
        assert 'name="score"' not in client.get(f"/dossiers/{codes['open']}").text
        assert client.get("/work/ratings").status_code == 403
        assert page_login(client, leader.email).status_code == 303
        seen = client.get(f"/dossiers/{codes['late']}").text
        assert "Trễ hẹn." in seen and "2/5" in seen
        assert "2/5 — Trễ hẹn." in seen  # in the history too
        ratings_page = client.get("/work/ratings?low=true").text
        assert codes["late"] in ratings_page and codes["early"] not in ratings_page
        assert page_login(client, clerk.email).status_code == 303
        assert "Nhanh." in client.get("/work/ratings").text


def test_figures_reports_and_ratings_from_one_set_of_dossiers(client, rt, scenario):
    """One scenario for the three views (building it costs most of this test's ~12 s)."""
    check_public_figures(client, rt, scenario)
    check_officer_report(client, rt, scenario)
    check_ratings(client, rt, scenario)


def test_a_tbt_visitor_rates_the_answer_through_its_follow_link(client, rt):
    from tests.procedures.tbt.test_tbt_inquiry import ask_as_visitor
    from tests.support import officer

    tbt = officer(client, rt, "tbt_officer", "CHUYÊN VIÊN", "Phạm Thu Hà")
    with time_machine.travel(local(2026, 11, 26, 9, 0), tick=False):
        tbt.relogin()
        asked = ask_as_visitor(client)
        code, path = asked["code"], asked["follow_url"].removeprefix("http://testserver")
        assert 'name="score"' not in client.get(path).text  # no result yet
        refused = client.post(
            f"{path}/rating", data={"score": "5", "csrf_token": csrf(client.get("/login").text)}
        )
        assert "chỉ đánh giá được sau khi có kết quả" in refused.text
        tbt.done(code, {"topic": "technical_regulation", "route": "answer"})
        tbt.done(
            code, {"answer": "Sản phẩm phải đáp ứng tiêu chuẩn EN 10088-2.", "references": ["EN 10088-2"]}
        )
        tbt.done(
            code,
            {
                "publication_decision": "publish",
                "published_answer": "Sản phẩm phải đáp ứng tiêu chuẩn EN 10088-2.",
            },
        )
        page = client.get(path)
        assert 'name="score"' in page.text
        assert (
            client.post(
                tampered(path) + "/rating", data={"score": "4", "csrf_token": csrf(page.text)}
            ).status_code
            == 404
        )
        rated = client.post(
            f"{path}/rating", data={"score": "4", "comment": "Rõ ràng.", "csrf_token": csrf(page.text)}
        )
        assert "Cảm ơn bạn đã đánh giá" in rated.text and "Bạn đã đánh giá: 4/5" in rated.text
        again = client.post(
            f"{path}/rating", data={"score": "1", "csrf_token": csrf(client.get("/login").text)}
        )
        assert "mỗi hồ sơ được đánh giá một lần" in again.text and "Bạn đã đánh giá: 4/5" in again.text
        tbt.relogin()
        assert tbt.get("/api/ratings").status_code == 403  # the department's staff read the list
    assert (
        client.get("/api/public/statistics?date_from=2026-11-01&date_to=2026-11-30").json()["total"][
            "average_rating"
        ]
        == 4.0
    )
