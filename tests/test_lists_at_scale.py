"""The dossier lists and the inbox as a department with many dossiers sees them (issue 17, scale):
past 1,000 rows a list says "more than 1,000" and still pages newest first; the search box finds
"Quảng Trị" as "quang tri" (and the other way) whether the words are rare or common, also after a
dossier changed or left; the inbox keeps its order. On SQLite and PostgreSQL. The figures at a
million dossiers are measured in bench/scale.py, not here (no timed assertion).

About 1,100 dossiers are written straight into the tables (the commands are not what is tested
here): a few seconds per database.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.support import business, officer
from tests.test_pages import page_login
from workflows import statistics
from workflows.clock import now
from workflows.db import transaction
from workflows.models import DOSSIER_SEARCH_FTS, Dossier, User, WorkTask
from workflows.paging import COUNT_CAP

PROCEDURE = "cong-bo-hop-chuan-hop-quy"
MANY = COUNT_CAP + 60
# The dossiers' tax code, fixed: the search also reads it, so the firm's own (numbered per test
# run) once held "105" and matched every steel dossier on "thep lo 105".
TAX_CODE = "3200000203"


@pytest.fixture
def crowd(client, rt):  # type: ignore[no-untyped-def]
    """``MANY`` dossiers of "Thép Đông Hà", one a minute, the newest last, each waiting for the
    clerk (due one hour apart, the oldest first; every tenth without a due time), and three of
    "Xi măng Quảng Trị"."""
    steel = business(client, "Công ty TNHH Thép Đông Hà")
    start = now() - timedelta(days=30)
    with transaction(rt.engine) as session:
        firm = session.exec(select(User).where(User.email == steel.email)).one()
        rows = []
        for n in range(MANY + 3):
            cement = n >= MANY
            rows.append(
                Dossier(
                    code=f"T-{n:05d}",
                    procedure_code=PROCEDURE,
                    applicant_id=firm.id,
                    applicant_name="Công ty Xi măng Quảng Trị" if cement else "Công ty TNHH Thép Đông Hà",
                    applicant_tax_code=TAX_CODE,
                    subject="Xi măng PCB40" if cement else f"Thép cuộn lô {n}",
                    status="processing",
                    submitted_at=start + timedelta(minutes=n),
                )
            )
        session.add_all(rows)
        session.flush()
        session.add_all(
            WorkTask(
                id=f"task-{n:05d}",
                dossier_id=row.id,
                spec_name="receive",
                name="Tiếp nhận hồ sơ",
                name_en="Receive the dossier",
                candidate_role="clerk",
                created_at=start,
                due_at=None if n % 10 == 9 else start + timedelta(hours=n),
            )
            for n, row in enumerate(rows)
        )
    return {"steel": steel, "clerk": officer(client, rt, "clerk")}


def _codes(body: dict[str, Any]) -> list[str]:
    return [item["code"] for item in body["items"]]


def test_a_long_list_says_more_than_1000_and_pages_newest_first(crowd) -> None:  # type: ignore[no-untyped-def]
    clerk = crowd["clerk"]
    first = clerk.get("/api/dossiers", params={"page_size": 50}).json()
    assert (first["total"], first["more"]) == (COUNT_CAP, True)
    assert _codes(first)[:3] == ["T-01062", "T-01061", "T-01060"]  # the newest first
    page_21 = clerk.get("/api/dossiers", params={"page_size": 50, "page": 21}).json()
    assert page_21["more"] is True and page_21["total"] == 1050  # a full page: at least as many as seen
    page_22 = clerk.get("/api/dossiers", params={"page_size": 50, "page": 22}).json()
    assert _codes(page_22)[-1] == "T-00000" and len(page_22["items"]) == 13  # the last page, the oldest
    assert page_22["more"] is False and page_22["total"] == MANY + 3  # the end reached: exact again
    # Narrowed below the cap, the count is exact again.
    cement = clerk.get("/api/dossiers", params={"q": "xi mang"}).json()
    assert (cement["total"], cement["more"], len(cement["items"])) == (3, False, 3)

    page_login(clerk.client, clerk.email)
    listing = clerk.client.get("/work/dossiers").text
    assert "Hơn 1.000 hồ sơ" in listing and "Trang 1" in listing and 'rel="next"' in listing
    assert "Trang 1 /" not in listing  # no page count it does not know
    last = clerk.client.get("/work/dossiers?page=54").text  # 20 a page
    assert 'rel="prev"' in last and 'rel="next"' not in last and "T-00000" in last
    assert "Trang 54 / 54" in last and "1063 hồ sơ" in last
    english = clerk.client.get("/work/dossiers?lang=en").text
    assert "More than 1,000 dossiers" in english


def test_search_finds_common_and_rare_words_with_or_without_tones(crowd, rt) -> None:  # type: ignore[no-untyped-def]
    clerk = crowd["clerk"]
    assert not any(word in TAX_CODE for word in ("105", "7"))  # the tax code is searched too
    for q in ("Quảng Trị", "quang tri", "QUANG TRI", "Xi măng Quảng"):
        body = clerk.get("/api/dossiers", params={"q": q}).json()
        assert _codes(body) == ["T-01062", "T-01061", "T-01060"], q
    # A word on every steel dossier: more than the cap, the newest first; with a rarer word, exact.
    common = clerk.get("/api/dossiers", params={"q": "Thép Đông Hà", "page_size": 5}).json()
    assert (common["more"], _codes(common)) == (True, [f"T-{n:05d}" for n in range(MANY - 1, MANY - 6, -1)])
    rare = clerk.get("/api/dossiers", params={"q": "thep lo 105"}).json()
    assert set(_codes(rare)) == {"T-00105"} | {f"T-0{n}" for n in range(1050, MANY)}
    assert rare["total"] == len(rare["items"]) and rare["more"] is False
    assert _codes(clerk.get("/api/dossiers", params={"q": "lo 7 pcb"}).json()) == []  # every word counts
    # Words shorter than the index's three letters still count.
    assert _codes(clerk.get("/api/dossiers", params={"q": "xi quang"}).json())[:1] == ["T-01062"]

    # The index follows a dossier that changes or leaves, in the same transaction.
    with transaction(rt.engine) as session:
        renamed = session.exec(select(Dossier).where(Dossier.code == "T-01061")).one()
        renamed.applicant_name = "Hợp tác xã Gạch Cửa Việt"
        session.add(renamed)
        gone = session.exec(select(Dossier).where(Dossier.code == "T-01060")).one()
        session.delete(session.exec(select(WorkTask).where(WorkTask.dossier_id == gone.id)).one())
        session.flush()
        session.delete(gone)
    assert _codes(clerk.get("/api/dossiers", params={"q": "quang tri"}).json()) == ["T-01062"]
    assert _codes(clerk.get("/api/dossiers", params={"q": "Cửa Việt"}).json()) == ["T-01061"]


def test_the_inbox_keeps_its_order_and_says_more_than_1000(crowd) -> None:  # type: ignore[no-untyped-def]
    clerk = crowd["clerk"]
    first = clerk.get("/api/tasks", params={"page_size": 100}).json()
    assert (first["total"], first["more"]) == (COUNT_CAP, True)
    ids = [item["id"] for item in first["items"]]
    with_due = [f"task-{n:05d}" for n in range(MANY + 3) if n % 10 != 9]
    assert ids == with_due[:100]  # the earliest due first
    tail = [
        item["id"]
        for page in (10, 11)
        for item in clerk.get("/api/tasks", params={"page_size": 100, "page": page}).json()["items"]
    ]
    without_due = {f"task-{n:05d}" for n in range(MANY + 3) if n % 10 == 9}
    assert tail[: -len(without_due)] == with_due[900:] and set(tail[-len(without_due) :]) == without_due
    page_login(clerk.client, clerk.email)
    inbox = clerk.client.get("/work/inbox").text
    assert "Hơn 1.000 việc" in inbox and 'rel="next"' in inbox


def test_the_reports_office_time_is_the_calendars(rt) -> None:  # type: ignore[no-untyped-def]
    """The month report adds each whole day's office time once (``statistics._OfficeTime``): the
    same as the calendar counts it, across weekends, holidays (Tết 2026) and part-days."""
    meter = statistics._OfficeTime(rt.calendar)
    rng = random.Random(5)
    start = datetime(2026, 1, 20, tzinfo=UTC)
    for _ in range(300):
        a = start + timedelta(minutes=rng.randrange(60 * 24 * 60))
        b = a + timedelta(minutes=rng.randrange(60 * 24 * 40))
        assert meter.between(a, b) == rt.calendar.working_time_between(a, b), (a, b)


def test_sqlite_reads_the_list_off_its_indexes(crowd, rt) -> None:  # type: ignore[no-untyped-def]
    if rt.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    with rt.engine.connect() as connection:
        page = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM dossier ORDER BY submitted_at DESC, id DESC LIMIT 20 OFFSET 40"
            )
        ).all()
        assert "ix_dossier_submitted" in str(page) and "TEMP B-TREE" not in str(page)
        search = connection.execute(
            text(
                f"EXPLAIN QUERY PLAN SELECT rowid FROM {DOSSIER_SEARCH_FTS} WHERE {DOSSIER_SEARCH_FTS} MATCH 'quang'"
            )
        ).all()
        assert "VIRTUAL TABLE INDEX" in str(search)
