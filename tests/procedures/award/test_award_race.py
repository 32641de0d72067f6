"""Leaders issuing a round's recommendation list at the same instant, in separate processes (on
SQLite and PostgreSQL): one numbered list is issued, the others hear that it is issued already (409), and the
round's audit stream stays intact. Before, each issued its own list: two official documents with
two numbers for one decision."""

from __future__ import annotations

import multiprocessing
from typing import Any

import time_machine
from sqlmodel import select

from tests.procedures.award.test_award import (  # noqa: F401 (cast: the fixture)
    MONDAY,
    cast,
    open_round,
    received,
    relogin_all,
    score,
    sheet,
)
from workflows.audit import verify_stream
from workflows.config import Settings
from workflows.db import reading
from workflows.models import Document, User

LEADERS = 2


def _issue_in_child(settings: Settings, leader_email: str, start: Any, out: Any) -> None:
    """One leader's process: its own runtime and connections, released with the others."""
    from workflows.errors import Conflict
    from workflows.procedures.award.recommendations import issue_recommendation_list
    from workflows.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        with reading(rt.engine) as session:
            leader = session.exec(select(User).where(User.email == leader_email)).one()
            session.expunge(leader)
        start.wait(timeout=120)
        try:
            document = issue_recommendation_list(rt, leader, 2026)
            out.put(("issued", document.number))
        except Conflict as refused:
            out.put((refused.code, ""))
        except Exception as failed:  # reported to the test, which fails on it
            out.put(("error", repr(failed)))
    finally:
        rt.engine.dispose()


def test_leaders_issuing_at_once_issue_one_list(cast, rt):  # noqa: F811
    one, two, three = cast["members"]
    specialist, leader = cast["specialist"], cast["leader"]
    with time_machine.travel(MONDAY, tick=False):
        relogin_all(cast)
        open_round(cast)
        code = received(cast)
        for member in (one, two, three):
            score(member, code, sheet(10))
        visit = {"site_visit_date": "2026-03-20", "site_visit_team": "Đoàn", "site_visit_findings": "Đúng.",
                 "site_visit_confirmed": True}  # fmt: skip
        specialist.done(code, visit)
        assert leader.done(code, {"approval_decision": "approve"})["status"] == "recommended"

    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Barrier(LEADERS), spawn.Queue()
    children = [
        spawn.Process(target=_issue_in_child, args=(rt.settings, leader.email, start, out))
        for _ in range(LEADERS)
    ]
    for child in children:
        child.start()
    answers = sorted(out.get(timeout=180) for _ in children)
    for child in children:
        child.join(timeout=60)

    assert [a for a, _ in answers] == ["issued"] + ["list_already_issued"] * (LEADERS - 1), answers
    with reading(rt.engine) as session:
        lists = session.exec(select(Document).where(Document.issued_for == "award_round")).all()
        assert [d.number for d in lists] == [answers[0][1]]
        assert verify_stream(session, f"award_round:{lists[0].issued_for_id}") is None
