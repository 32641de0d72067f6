"""Command-layer guarantees: one transaction per command, optimistic locking, race-free codes, audit chain."""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.support import business, officer
from workflows import audit, commands, engine_runs, submission
from workflows.db import reading, transaction
from workflows.errors import Conflict
from workflows.models import AuditEvent, Counter, Document, Dossier, ProcessInstance, User, WorkTask


def user(rt, email: str) -> User:
    with reading(rt.engine) as session:
        return session.exec(select(User).where(User.email == email)).one()


def snapshot(rt, code: str) -> dict:
    """Everything a command writes for one dossier."""
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        instance = session.exec(select(ProcessInstance).where(ProcessInstance.dossier_id == dossier.id)).one()
        tasks = session.exec(
            select(WorkTask).where(WorkTask.dossier_id == dossier.id).order_by(WorkTask.id)
        ).all()
        return {
            "status": dossier.status,
            "data": dossier.data,
            "received_at": dossier.received_at,
            "version": instance.version,
            "state": instance.state,
            "tasks": [(t.id, t.status, t.assignee_id) for t in tasks],
            "events": session.exec(select(func.count()).where(AuditEvent.dossier_id == dossier.id)).one(),
            "documents": session.exec(select(func.count()).where(Document.dossier_id == dossier.id)).one(),
        }


@pytest.fixture
def cast(client, rt):
    firm = business(client)
    people = {
        "business": firm,
        "clerk": officer(client, rt, "clerk"),
        "clerk2": officer(client, rt, "clerk", name="Phan Văn Tư"),
        "specialist": officer(client, rt, "specialist"),
        "leader": officer(client, rt, "leader", "PHÓ GIÁM ĐỐC"),
    }
    return people


def test_exception_in_the_middle_of_a_command_leaves_no_partial_state(cast, rt, monkeypatch):
    firm, clerk, specialist, leader = (cast[k] for k in ("business", "clerk", "specialist", "leader"))
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(code, {"examination_findings": "Đạt.", "examination_conclusion": "accept"})
    before = snapshot(rt, code)
    task_id = leader.task(code)["id"]

    # Fail after the engine ran, the state was written, the document was issued and audited,
    # but before the tasks and the dossier's fields were projected.
    def crash(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(engine_runs, "sync_after_run", crash)
    with pytest.raises(RuntimeError, match="injected failure"):
        commands.complete_task(rt, user(rt, leader.email), task_id, {"approval_decision": "approve"})
    assert snapshot(rt, code) == before

    monkeypatch.undo()
    assert leader.done(code, {"approval_decision": "approve"})["status"] == "issued"
    after = snapshot(rt, code)
    # The notice of receipt and the process control slip (Mẫu 06) join the receipt slip (Mẫu 01).
    assert after["version"] == before["version"] + 1 and after["documents"] == before["documents"] + 2


def test_a_failed_submission_leaves_no_dossier_and_no_code(cast, rt, monkeypatch):
    firm = cast["business"]
    data = firm.declaration()

    def crash(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(submission, "after_engine", crash)
    with pytest.raises(RuntimeError):
        submission.submit_dossier(rt, user(rt, firm.email), "cong-bo-hop-chuan-hop-quy", data)
    with reading(rt.engine) as session:
        assert session.exec(select(func.count()).select_from(Dossier)).one() == 0
        assert session.exec(select(func.count()).select_from(ProcessInstance)).one() == 0
    monkeypatch.undo()
    code = firm.submitted()
    assert code.endswith("-0001")  # the failed attempt consumed no sequence number


def test_two_concurrent_completions_one_wins_one_gets_409(cast, client):
    firm, clerk, clerk2 = cast["business"], cast["clerk"], cast["clerk2"]
    code = firm.submitted()
    task_id = clerk.task(code)["id"]
    barrier = threading.Barrier(2)

    def complete(person):
        barrier.wait()
        return person.post(
            f"/api/tasks/{task_id}/complete", json={"data": {"completeness_decision": "receive"}}
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(complete, [clerk, clerk2]))
    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409).json()["error"]
    assert loser["message"] and loser["message_en"]
    # The process moved exactly one step: one examine task, one "received" event.
    dossier = clerk.get(f"/api/dossiers/{code}").json()
    assert [t["step"] for t in dossier["open_tasks"]] == ["examine"]
    assert [e["action"] for e in dossier["history"]].count("received") == 1


def test_a_second_writer_waits_for_the_first_and_decides_on_what_it_committed(cast, rt, monkeypatch):
    """Interleave two completions deterministically: A has locked and read the dossier and is about
    to write; B must wait for A's commit, then find the task done (409), instead of writing a second
    outcome (the optimistic version check behind it would only catch the process state)."""
    if rt.engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite takes its one write lock at BEGIN IMMEDIATE: B cannot even begin before A commits"
        )
    firm, clerk, clerk2 = cast["business"], cast["clerk"], cast["clerk2"]
    code = firm.submitted()
    task_id = clerk.task(code)["id"]
    a_has_read, a_may_write = threading.Event(), threading.Event()
    real_save = commands._save_instance

    def pause_a(session, instance, process):
        if threading.current_thread().name == "A":
            a_has_read.set()
            assert a_may_write.wait(10)
        return real_save(session, instance, process)

    monkeypatch.setattr(commands, "_save_instance", pause_a)
    outcome = {}

    def run(name, person, data):
        try:
            commands.complete_task(rt, user(rt, person.email), task_id, data)
            outcome[name] = "ok"
        except Conflict as exc:
            outcome[name] = exc.code

    refuse = {"completeness_decision": "refuse", "refusal_reason": "Sai thẩm quyền."}
    thread_a = threading.Thread(target=run, args=("a", clerk, {"completeness_decision": "receive"}), name="A")
    thread_b = threading.Thread(target=run, args=("b", clerk2, refuse), name="B")
    thread_a.start()
    assert a_has_read.wait(10)
    thread_b.start()
    # Bounded polling of an observable condition: B's transaction waits for the dossier's lock.
    deadline = time.monotonic() + 10
    with rt.engine.connect() as watcher:
        while thread_b.is_alive() and time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                break
            time.sleep(0.02)
    assert "b" not in outcome, "B decided before A committed"
    a_may_write.set()
    thread_a.join(10)
    thread_b.join(10)
    assert outcome == {"a": "ok", "b": "task_closed"}
    assert clerk.get(f"/api/dossiers/{code}").json()["status"] == "processing"  # A received it


def test_dossier_codes_are_unique_under_concurrent_submissions(cast, rt):
    firm = cast["business"]
    applicant = user(rt, firm.email)
    payloads = [firm.declaration() for _ in range(8)]
    barrier = threading.Barrier(len(payloads))

    def submit(data):
        barrier.wait()
        dossier, _ = submission.submit_dossier(rt, applicant, "cong-bo-hop-chuan-hop-quy", data)
        return dossier.code

    with ThreadPoolExecutor(len(payloads)) as pool:
        codes = list(pool.map(submit, payloads))
    assert len(set(codes)) == len(codes)
    assert sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, len(codes) + 1))
    assert all(re.fullmatch(r"000\.00\.15\.H50-\d{6}-\d{4}", c) for c in codes)


def test_audit_chain_is_intact_and_shows_tampering(cast, rt):
    firm, clerk = cast["business"], cast["clerk"]
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "refuse", "refusal_reason": "Không thuộc thẩm quyền."})
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        stream = f"dossier:{dossier.id}"
        events = session.exec(
            select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)
        ).all()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert audit.verify_stream(session, stream) is None
        target = events[1]
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_event SET actor_label = 'Người khác' WHERE id = :id"), {"id": target.id}
        )
    with reading(rt.engine) as session:
        assert audit.verify_stream(session, stream) == target.seq


def test_a_taken_place_in_an_audit_chain_is_a_conflict_and_other_integrity_errors_are_not(rt, caplog):
    """The last line of defence: two events on one place of a chain (a writer that skipped the
    stream's lock) end the command with a Conflict, logged with its traceback; any other integrity
    error is a bug and stays one."""

    def event(seq: int) -> AuditEvent:
        return AuditEvent(
            stream="user:1", seq=seq, actor_label="x", action="x", details={}, prev_hash="", hash=""
        )

    with (
        caplog.at_level(logging.ERROR, logger="tdcflow.db"),
        pytest.raises(Conflict) as raised,
        transaction(rt.engine) as session,
    ):
        session.add(event(1))
        session.flush()
        session.add(event(1))
    assert raised.value.code == "conflict" and "tải lại" in raised.value.message
    assert any(r.exc_info and isinstance(r.exc_info[1], IntegrityError) for r in caplog.records)
    with pytest.raises(IntegrityError), transaction(rt.engine) as session:
        session.add(Counter(key="k", value=1))
        session.flush()
        session.add(Counter(key="k", value=2))
