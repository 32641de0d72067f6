"""The audit trail's anchors: tampering by update, deletion in the middle, deletion at the end (of a
stream's last events or of a whole stream), and rewriting or deleting a checkpoint, each named by
``tdcflow audit verify``; the daily root (made once, shown to the administrator, carried by the
digest); the checkpoint costs one statement per transaction that appends.

The trail is written by the commands as in production; the tampering is done the way someone
with access to the database would, with SQL beside tdcflow.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, text
from sqlmodel import Session, select

from api.cli import main as tdcflow
from notifications import dispatch, send_digest
from tests.conftest import make_settings
from tests.notifications_support import MailSink, start_smtp
from tests.support import business, local, officer
from workflows import audit, audit_root, audit_verify
from workflows.audit_anchor import AuditKeyMissing
from workflows.config import PROJECT_ROOT, get_settings
from workflows.db import make_engine, reading, transaction
from workflows.models import AuditCheckpoint, AuditEvent, AuditRoot, Dossier
from workflows.runtime import Runtime, build_runtime

RECEIVE = {"completeness_decision": "receive"}


# --- the trail, the command, the tampering -----------------------------------------------------


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``tdcflow ARGS`` in-process on the test's database with its secret key: (status, out, err)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), logging.getLogger("tdcflow").level
    monkeypatch.setenv("TDCFLOW_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("TDCFLOW_SECRET_KEY", str(rt.settings.secret_key))
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(rt.settings.data_dir))

    def run(*args: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            status = tdcflow(list(args))
        except SystemExit as stopped:
            status = int(stopped.code or 0)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return status, out, err

    assert run("migrate")[0] == 0  # a database made by create_all is stamped; verify wants it current
    yield run
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    logging.getLogger("tdcflow").setLevel(level)


def trail(client, rt: Runtime) -> str:  # type: ignore[no-untyped-def]
    """A received declaration (its stream has several events) beside other streams; its stream."""
    firm, clerk = business(client), officer(client, rt, "clerk")
    code = firm.submitted()
    clerk.done(code, RECEIVE)
    with reading(rt.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
    stream = f"dossier:{dossier.id}"
    assert len(events_of(rt, stream)) >= 4
    return stream


def events_of(rt: Runtime, stream: str) -> list[AuditEvent]:
    with reading(rt.engine) as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq))
        )


def tamper(rt: Runtime, sql: str, **params: Any) -> None:
    """Change the database beside tdcflow (no audit, no checkpoint)."""
    with rt.engine.begin() as connection:
        assert connection.execute(text(sql), params).rowcount >= 1


def broken(cli, stream: str) -> str:  # type: ignore[no-untyped-def]
    """The verify command's line about ``stream`` (it must fail, naming it once)."""
    status, out, err = cli("audit", "verify")
    assert status == 1, out + err
    assert "The audit trail was tampered with" in err and "Nhật ký kiểm toán bị can thiệp" in err
    (line,) = [line for line in out.splitlines() if line.startswith(f"BROKEN  {stream}  ")]
    return line


# --- a clean trail -------------------------------------------------------------------------------


def test_a_clean_trail_verifies_with_a_summary(client, rt, cli):
    stream = trail(client, rt)
    status, out, err = cli("audit", "verify")
    assert status == 0, out + err
    with reading(rt.engine) as session:
        streams = len(set(session.exec(select(AuditEvent.stream))))
        events = len(session.exec(select(AuditEvent.id)).all())
    assert f"ok  {streams} streams, {events} events, no root yet" in out
    assert f"ok  {streams} luồng, {events} sự kiện, chưa có gốc" in out
    root = audit_root.make_root(rt, date(2026, 12, 3))
    assert root is not None and root.streams == streams and root.events == events
    status, out, _ = cli("audit", "verify")
    assert status == 0 and f"root of 03/12/2026: {root.root_hash}" in out
    with reading(rt.engine) as session:
        checkpoint = session.get(AuditCheckpoint, stream)
    assert checkpoint is not None and checkpoint.events == len(events_of(rt, stream))
    assert checkpoint.head_event_id == events_of(rt, stream)[-1].id


# --- the events --------------------------------------------------------------------------------


def test_an_updated_event_is_a_hash_mismatch(client, rt, cli):
    stream = trail(client, rt)
    second = events_of(rt, stream)[1]
    tamper(rt, "UPDATE audit_event SET actor_label = 'Người khác' WHERE id = :id", id=second.id)
    line = broken(cli, stream)
    assert f"event {second.id} (seq 2)  hash mismatch" in line
    assert "the event's content was changed" in line and "nội dung sự kiện đã bị sửa" in line


def test_an_event_rewritten_with_its_hash_breaks_the_link_of_the_next(client, rt, cli):
    stream = trail(client, rt)
    second, third = events_of(rt, stream)[1:3]
    second.actor_label = "Người khác"
    tamper(
        rt,
        "UPDATE audit_event SET actor_label = :label, hash = :hash WHERE id = :id",
        label=second.actor_label,
        hash=audit.event_hash(second),
        id=second.id,
    )
    assert f"event {third.id} (seq 3)  link mismatch" in broken(cli, stream)


def test_the_last_event_rewritten_with_its_hash_is_not_the_head_the_checkpoint_signed(client, rt, cli):
    stream = trail(client, rt)
    last = events_of(rt, stream)[-1]
    last.actor_label = "Người khác"
    tamper(
        rt,
        "UPDATE audit_event SET actor_label = :label, hash = :hash WHERE id = :id",
        label=last.actor_label,
        hash=audit.event_hash(last),
        id=last.id,
    )
    with reading(rt.engine) as session:
        assert audit.verify_stream(session, stream) is None  # the chain alone cannot tell
    assert f"event {last.id} (seq {last.seq})  head mismatch" in broken(cli, stream)


def test_an_event_deleted_in_the_middle_is_a_gap_before_the_next(client, rt, cli):
    stream = trail(client, rt)
    second, third = events_of(rt, stream)[1:3]
    tamper(rt, "DELETE FROM audit_event WHERE id = :id", id=second.id)
    line = broken(cli, stream)
    assert f"event {third.id} (seq 3)  gap: seq 2 missing before this event" in line


def test_the_last_events_deleted_are_a_truncation(client, rt, cli):
    stream = trail(client, rt)
    events = events_of(rt, stream)
    tamper(rt, "DELETE FROM audit_event WHERE stream = :s AND seq > 2", s=stream)
    with reading(rt.engine) as session:
        assert audit.verify_stream(session, stream) is None  # what remains is a valid chain
    line = broken(cli, stream)
    assert f"event {events[1].id} (seq 2)  truncated: checkpoint says {len(events)} events, 2 found" in line


def test_a_whole_stream_deleted_leaves_its_checkpoint(client, rt, cli):
    stream = trail(client, rt)
    count = len(events_of(rt, stream))
    tamper(rt, "DELETE FROM audit_event WHERE stream = :s", s=stream)
    assert f"-  stream missing: checkpoint says {count} events, 0 found" in broken(cli, stream)


def test_an_event_added_beside_tdcflow_is_beyond_the_checkpoint(client, rt, cli):
    stream = trail(client, rt)
    last = events_of(rt, stream)[-1]
    extra = AuditEvent(
        stream=stream,
        seq=last.seq + 1,
        actor_label="Người khác",
        action="forged",
        at=last.at,
        details={},
        prev_hash=last.hash,
        hash="",
    )
    extra.hash = audit.event_hash(extra)
    tamper(
        rt,
        "INSERT INTO audit_event (stream, seq, actor_label, action, at, details, prev_hash, hash) "
        "VALUES (:stream, :seq, :actor_label, :action, :at, '{}', :prev_hash, :hash)",
        **{
            k: getattr(extra, k)
            for k in ("stream", "seq", "actor_label", "action", "at", "prev_hash", "hash")
        },
    )
    line = broken(cli, stream)
    assert f"(seq {last.seq + 1})  events beyond the checkpoint" in line and f"says {last.seq} events" in line


# --- the checkpoints and the roots -------------------------------------------------------------


def test_a_checkpoint_moved_back_over_a_truncation_fails_its_hmac(client, rt, cli):
    stream = trail(client, rt)
    second = events_of(rt, stream)[1]
    tamper(rt, "DELETE FROM audit_event WHERE stream = :s AND seq > 2", s=stream)
    tamper(
        rt,
        "UPDATE audit_checkpoint SET events = 2, head_event_id = :id, head_hash = :hash WHERE stream = :s",
        id=second.id,
        hash=second.hash,
        s=stream,
    )
    assert "-  checkpoint rewritten: its HMAC does not match" in broken(cli, stream)


def test_a_checkpoint_deleted_with_the_last_events(client, rt, cli):
    stream = trail(client, rt)
    tamper(rt, "DELETE FROM audit_event WHERE stream = :s AND seq > 2", s=stream)
    tamper(rt, "DELETE FROM audit_checkpoint WHERE stream = :s", s=stream)
    assert "(seq 2)  no checkpoint: 2 events that nothing anchors" in broken(cli, stream)


def test_a_stream_deleted_with_its_checkpoint_after_a_root_is_named_by_the_root(client, rt, cli):
    stream = trail(client, rt)
    count = len(events_of(rt, stream))
    assert audit_root.make_root(rt, date(2026, 12, 3)) is not None
    tamper(rt, "DELETE FROM audit_event WHERE stream = :s", s=stream)
    tamper(rt, "DELETE FROM audit_checkpoint WHERE stream = :s", s=stream)
    line = broken(cli, stream)
    assert (
        f"seq {count}  root head missing: the root of 03/12/2026 counted {count} events; event seq {count} is gone"
        in line
    )
    # The next day's root still counts the stream: a root never forgets one.
    later = audit_root.make_root(rt, date(2026, 12, 4))
    first = session_root(rt, date(2026, 12, 3))
    assert later is not None and later.streams == first.streams and later.events == first.events
    assert "root head missing" in broken(cli, stream)


def session_root(rt: Runtime, day: date) -> AuditRoot:
    with reading(rt.engine) as session:
        root = session.get(AuditRoot, day)
    assert root is not None
    return root


def test_a_rewritten_or_deleted_root_is_detected(client, rt, cli):
    trail(client, rt)
    assert audit_root.make_root(rt, date(2026, 12, 3)) is not None
    assert audit_root.make_root(rt, date(2026, 12, 4)) is not None
    tamper(rt, "UPDATE audit_root SET events = events - 1 WHERE day = :d", d=date(2026, 12, 4))
    assert "-  root rewritten: its HMAC does not match" in broken(cli, "root 04/12/2026")
    tamper(rt, "UPDATE audit_root SET events = events + 1 WHERE day = :d", d=date(2026, 12, 4))
    assert cli("audit", "verify")[0] == 0
    tamper(rt, "DELETE FROM audit_root WHERE day = :d", d=date(2026, 12, 3))
    status, out, _ = cli("audit", "verify")
    assert status == 1 and "BROKEN  root 04/12/2026  -  root chain broken" in out


def test_an_unsigned_checkpoint_is_only_signed_before_the_first_root(client, rt, tmp_path, cli):
    """Migration 0010 leaves the checkpoints it makes unsigned and the first start signs them;
    once a root exists every checkpoint was signed when written, so an unsigned one is reported."""
    stream = trail(client, rt)
    tamper(rt, "UPDATE audit_checkpoint SET mac = NULL WHERE stream = :s", s=stream)
    build_runtime(rt.settings).engine.dispose()  # a start: signs it
    assert cli("audit", "verify")[0] == 0
    assert audit_root.make_root(rt, date(2026, 12, 3)) is not None
    tamper(rt, "UPDATE audit_checkpoint SET mac = NULL WHERE stream = :s", s=stream)
    build_runtime(rt.settings).engine.dispose()  # a start: leaves it
    assert "checkpoint unsigned: it carries no HMAC" in broken(cli, stream)


def test_events_written_through_an_engine_without_the_audit_key_are_refused(rt):
    engine = make_engine(rt.settings.database_url)
    try:
        with pytest.raises(AuditKeyMissing), transaction(engine) as session:
            audit.record(session, "test:keyless", "tested", None)
    finally:
        engine.dispose()
    assert audit_verify.verify(rt.engine).ok  # nothing was written


# --- one statement per transaction ---------------------------------------------------------------


def test_the_checkpoint_costs_one_statement_per_transaction_that_appends(client, rt):
    trail(client, rt)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(rt.engine, "before_cursor_execute", seen)
    try:
        with transaction(rt.engine) as session:
            for n in range(3):
                audit.record(session, "test:one", "tested", None, {"n": n})
            audit.record(session, "test:two", "tested", None)
        with transaction(rt.engine) as session:
            audit.record(session, "test:one", "tested", None)
    finally:
        event.remove(rt.engine, "before_cursor_execute", seen)
    anchoring = [s for s in statements if "audit_checkpoint" in s]
    assert len(anchoring) == 2 and all(s.lstrip().upper().startswith("INSERT") for s in anchoring)
    with reading(rt.engine) as session:
        one, two = session.get(AuditCheckpoint, "test:one"), session.get(AuditCheckpoint, "test:two")
    assert (one.events, two.events) == (4, 1)  # type: ignore[union-attr]
    assert audit_verify.verify(rt.engine).ok


def test_events_written_together_chain_exactly_as_written_one_by_one(rt):
    """``record_many`` (a file of verification reports) gives each stream the seq, prev_hash and
    hash that as many ``record`` calls would, after a head already stored and before a ``record``
    in the same transaction, and the checkpoint at commit names the last one."""

    class Undo(Exception):
        pass

    events = [
        audit.Event("many:old", "tested", None, {"n": 1, "text": "Tiếng Việt"}),
        audit.Event("many:new", "tested", None, {"n": 2}),
        audit.Event("many:old", "tested", None, {"n": 3, "day": date(2026, 6, 1)}),
    ]

    def written(session: Any) -> list[tuple[Any, ...]]:
        found = session.exec(
            select(AuditEvent).where(AuditEvent.stream.like("many:%")).order_by(AuditEvent.id)
        )
        return [(e.stream, e.seq, e.action, e.details, e.prev_hash, e.hash) for e in found]

    with time_machine.travel(local(2026, 6, 1, 9, 0), tick=False):
        with transaction(rt.engine) as session:
            audit.record(session, "many:old", "tested", None, {"n": 0})
        with pytest.raises(Undo), transaction(rt.engine) as session:
            for event in events:
                audit.record(session, *event)
            audit.record(session, "many:new", "after", None)
            one_by_one = written(session)
            raise Undo
        with transaction(rt.engine) as session:
            ids = audit.record_many(session, events)
            audit.record(session, "many:new", "after", None)
            together = written(session)
    assert together == one_by_one and len(together) == 5
    assert [seq for stream, seq, *_ in together] == [1, 2, 1, 3, 2]
    with reading(rt.engine) as session:
        old = session.get(AuditCheckpoint, "many:old")
        new = session.get(AuditCheckpoint, "many:new")
    assert old is not None and (old.events, old.head_event_id) == (3, ids[2])
    assert new is not None and (new.events, new.head_hash) == (2, together[-1][-1])
    assert audit_verify.verify(rt.engine).ok
    assert audit.record_many(Session(rt.engine), []) == []


# --- the daily root: once, on the admin page, in the digest ---------------------------------------


def test_the_daily_job_makes_one_root_a_day_verifies_and_the_admin_page_shows_it(client, rt):
    from tests.test_permissions import page_login

    stream = trail(client, rt)
    admin = officer(client, rt, "admin")
    page_login(client, admin.email)
    assert "Chưa có mã băm gốc nào." in client.get("/admin/audit").text
    with time_machine.travel(local(2026, 12, 3, 0, 15), tick=False):
        audit_root.daily_job(rt)
        audit_root.daily_job(rt)  # the next hour, another worker: nothing more
    with reading(rt.engine) as session:
        (root,) = session.exec(select(AuditRoot)).all()
    assert (root.day, root.verify_ok) == (date(2026, 12, 3), True)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "03/12/2026" in page.text and root.root_hash in page.text
    assert "nhật ký toàn vẹn" in page.text and "/admin/audit" in page.text

    tamper(rt, "DELETE FROM audit_event WHERE stream = :s AND seq > 1", s=stream)
    with time_machine.travel(local(2026, 12, 4, 0, 15), tick=False):
        audit_root.daily_job(rt)
    page = client.get("/admin/audit").text
    assert "nhật ký đã bị can thiệp" in page and f"{stream}" in page and "truncated" in page
    client.cookies.clear()
    clerk = officer(client, rt, "clerk")
    page_login(client, clerk.email)
    assert client.get("/admin/audit").status_code == 403


def test_the_digest_carries_the_latest_root(client, rt):
    controller, mail = start_smtp()
    try:
        settings = make_settings(
            rt.settings.data_dir.parent,
            rt.settings.database_url,
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
            smtp_starttls=False,
        )
        runtime = build_runtime(settings, create_tables=False)
        _digest_with_root(client, runtime, mail)
        runtime.engine.dispose()
    finally:
        controller.stop()


def _digest_with_root(client, rt: Runtime, mail: MailSink) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:  # Monday
        firm, clerk = business(client), officer(client, rt, "clerk")
        firm.submitted()
        travel.move_to(local(2026, 3, 3, 0, 15))
        audit_root.daily_job(rt)
        travel.move_to(local(2026, 3, 3, 7, 0))  # Tuesday, digest time: the check is overdue
        assert send_digest(rt) == 1
        dispatch(rt)
    with reading(rt.engine) as session:
        root = session.get(AuditRoot, date(2026, 3, 3))
    assert root is not None
    (digest,) = [m for m in mail.to(clerk.email) if "Daily digest" in m.subject]
    assert f"Mã băm gốc nhật ký kiểm toán ngày 03/03/2026 ({root.streams} luồng" in digest.text
    assert f"Audit trail root hash of 03/03/2026 ({root.streams} streams" in digest.text
    assert root.root_hash in digest.text and root.root_hash in digest.html


def test_several_workers_make_the_day_s_root_once(rt, tmp_path):
    """Two processes run the job at once: one root, verified once."""
    go = tmp_path / "go"
    script = (
        "import os, sys, time\n"
        "from workflows.config import Settings\n"
        "from workflows.runtime import build_runtime\n"
        "from workflows import audit_root\n"
        "rt = build_runtime(Settings(database_url=sys.argv[2], secret_key=sys.argv[4], data_dir=sys.argv[1]),"
        " create_tables=False)\n"
        "open(sys.argv[1] + '.ready', 'w').close()\n"
        "while not os.path.exists(sys.argv[3]): time.sleep(0.01)  # all go together\n"
        "audit_root.daily_job(rt)\n"
    )
    with transaction(rt.engine) as session:
        audit.record(session, "test:workers", "tested", None)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(tmp_path / f"w{n}"),
                rt.settings.database_url,
                str(go),
                str(rt.settings.secret_key),
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        for n in range(2)
    ]
    # Once both have built their runtime (the slow part), both go.
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"w{n}.ready").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), (
            "a worker never got ready"
        )
        time.sleep(0.02)  # bounded polling of an observable condition
    go.write_text("")
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    with reading(rt.engine) as session:
        roots = session.exec(select(AuditRoot)).all()
    assert len(roots) == 1 and roots[0].verify_ok is True and roots[0].streams >= 1


# --- many writers of one stream, on PostgreSQL ------------------------------------------------------


@pytest.mark.postgres
def test_concurrent_appends_to_one_stream_keep_its_checkpoint_at_the_head(tmp_path):
    """Eight threads, each its own connection, append at once to one shared stream and to a stream
    none of them has made yet (its checkpoint is inserted by one and updated by the others)."""
    from tests.conftest import postgres_database

    runtime = build_runtime(make_settings(tmp_path, postgres_database()))
    writers, rounds = 8, 5
    barrier = threading.Barrier(writers)

    def write(n: int) -> None:
        for k in range(rounds):
            barrier.wait(timeout=30)
            with transaction(runtime.engine) as session:
                audit.record(session, "race:shared", "tested", None, {"writer": n, "round": k})
                audit.record(session, f"race:new-{k}", "tested", None, {"writer": n})

    try:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        report = audit_verify.verify(runtime.engine)
        assert report.ok, report.text()
        with reading(runtime.engine) as session:
            checkpoints = {c.stream: c for c in session.exec(select(AuditCheckpoint))}
        assert checkpoints["race:shared"].events == writers * rounds
        assert all(checkpoints[f"race:new-{k}"].events == writers for k in range(rounds))
    finally:
        runtime.engine.dispose()
