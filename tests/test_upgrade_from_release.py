"""Upgrading the software itself (DESIGN rule 15): a database written by the previous release,
holding its demo data and running dossiers of all four procedures, is upgraded with tdcflow's own
path, and every dossier it left open is then completed through the commands, as its people would,
on SQLite and on PostgreSQL.

The release's data: ``tests/fixtures/release_594244b_demo.json.gz`` holds every row of every table
of a database made by release 594244b's own code (the last before this one, at migration 0013):
its ``tdcflow demo`` (16 dossiers: open ones of every procedure — a declaration of conformity
awaiting receipt, a supplement, the examination and the approval; an import inspection awaiting
the clerk's confirmation, the certificate, and one whose certificate is overdue; a National
Quality Award application awaiting receipt and one being scored; a TBT question to classify and
one forwarded, awaiting the reply — and closed ones, their documents signed with the demo PKI as
``make run`` does), then one run of its notification dispatcher. The release ran with the tests'
secret key: the audit trail's checkpoints and daily roots are signed under a key derived from it,
and an upgrade keeps its key (a changed key makes every checkpoint fail, by design).

Its storage folder cannot sit in the fixture whole: the release's 25 issued documents are 1.9 MB
compressed (each PDF embeds its font). A real upgrade keeps its storage folder; the fixture keeps
of it what this test opens: every attachment (the dossiers' uploads) and the signed PDF of one
issued result (the declaration's notice), with the public certificate of the demo CA that signed
it, so a result issued before the upgrade is shown to verify after it (the fixture: 0.2 MB). No command that completes a
dossier reads an earlier document's bytes. The fixture was made with these commands, from the
root of a checkout whose ``make install`` has run, and can be made again so::

    git worktree add /tmp/release594 594244b
    (cd /tmp/release594 && export TDCFLOW_DEMO_MODE=1 TDCFLOW_DATA_DIR=/tmp/release594/var \\
        TDCFLOW_DATABASE_URL=sqlite:////tmp/release594/demo.sqlite3 PYTHONPATH=/tmp/release594 \\
        TDCFLOW_SECRET_KEY=test-secret-key-not-for-production-0123456789 \\
     && eval "$($OLDPWD/.venv/bin/python -m api.cli signing demo-pki /tmp/release594/var/demo-pki)" \\
     && $OLDPWD/.venv/bin/python -m api.cli demo \\
     && $OLDPWD/.venv/bin/python -c "import api.main; from notifications.dispatcher import dispatch; \\
            from workflows.runtime import build_runtime; print(dispatch(build_runtime()))")
    .venv/bin/python -c "from tests.test_upgrade_from_release import export_release_fixture; \\
        export_release_fixture('sqlite:////tmp/release594/demo.sqlite3', '/tmp/release594/var')"
    git worktree remove --force /tmp/release594

(The release's demo already leaves a running dossier of every procedure: nothing is added to it.)
The dossiers' instants are those of the day the fixture was made; the test starts the next
morning and lets the clock move only where a step waits on a timer.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from sqlmodel import select

import migrations
from tests.conftest import make_settings
from tests.restarts.drivers import CommandDriver, World
from tests.restarts.explorer import TIMER, Choice
from tests.restarts.test_procedures import PROCEDURES
from tests.signing_support import SigningPki
from tests.support import local
from tests.test_migrations import (
    RENAMED_SINCE_RELEASE,
    _records,
    _without,
    comparable,
    dump,
    empty_url,  # noqa: F401  (the fixture: an empty database, SQLite and PostgreSQL)
    export_fixture,
    load,
    release_fixture,
    to_revision,
    unpacked,
)
from workflows import audit_root, audit_verify, document_signing, scheduler
from workflows.audit import verify_stream
from workflows.clock import now, to_local
from workflows.db import reading
from workflows.models import AuditEvent, AuditRoot, Document, Dossier, ProcessInstance, User
from workflows.runtime import Runtime, build_runtime
from workflows.storage import BlobStore
from workflows.verification import check_file, find_document

FIXTURE = Path(__file__).parent / "fixtures" / "release_594244b_demo.json.gz"
RELEASE = "594244b"
RELEASE_REVISION = "0013"  # the release's head: its database is at this revision
# The issued result whose files the fixture keeps (see the module's docstring).
KEPT_DOCUMENT_KIND = "declaration_notice"
# A dossier still open after this many steps is stuck (the longest path here takes 6).
MAX_STEPS = 40
# What the dossiers the release left open end as: results issued (a supplement never came: the
# declaration is stopped), goods passed, applications recommended, questions answered.
FINAL_STATUSES = {
    "cong-bo-hop-chuan-hop-quy": {"issued", "expired"},
    "kiem-tra-chat-luong-hang-nhap-khau": {"passed"},
    "giai-thuong-chat-luong-quoc-gia": {"recommended"},
    "hoi-dap-tbt": {"answered"},
}


def export_release_fixture(url: str, data_dir: str | Path) -> None:
    """Write the fixture from the release's database at ``url`` and its data folder: the rows, the
    files of storage this test opens, and the demo CA's certificate (public; never its key)."""
    data_dir = Path(data_dir)
    store = BlobStore(data_dir / "storage")
    tables = dump(url)
    kept = {attachment["sha256"] for attachment in _records(tables["attachment"])}
    result = next(d for d in _records(tables["document"]) if d["kind"] == KEPT_DOCUMENT_KIND)
    kept.add(result["pdf_sha256"])
    export_fixture(
        url,
        FIXTURE,
        release=RELEASE,
        storage={digest: base64.b64encode(store.read(digest)).decode() for digest in sorted(kept)},
        trust_roots=(data_dir / "demo-pki" / "ca.pem").read_text(),
    )


def _restore_storage(fixture: dict[str, Any], store: BlobStore) -> None:
    """What a real upgrade keeps: the release's storage folder (the part the fixture holds)."""
    for digest, content in fixture["storage"].items():
        assert store.put(base64.b64decode(content)) == digest


def _the_department(rt: Runtime, traveller: Any) -> World:
    """The release's own officers and council, who act on its dossiers after the upgrade."""
    with reading(rt.engine) as session:
        users = session.exec(select(User).where(User.is_active).order_by(User.id)).all()
    officers: dict[str, User] = {}
    for user in users:
        for role in user.roles:
            officers.setdefault(role, user)
    council = [user for user in users if "council" in user.roles]
    return World(rt, traveller, officers, council)


def _complete(driver: CommandDriver, *, wait: bool) -> list[str]:
    """Act on the dossier until it is closed: a waiting task first (the first payload its form
    allows: every field filled, the first option of every choice — receive, accept, approve…),
    else the next timer firing; with ``wait``, the timer the dossier waits on fires first (nobody
    acted in time: the clock moves to it and the scheduler ticks). Returns the steps taken."""
    steps: list[str] = []
    for _ in range(MAX_STEPS):
        if driver.finished():
            return steps
        options = driver.options()
        tasks = [o for o in options if not o.spec_name.startswith(TIMER)]
        timers = [o for o in options if o.spec_name.startswith(TIMER)]
        for option in timers + tasks if wait and not steps else tasks + timers:
            if driver.take(Choice(option.spec_name, option.ordinal, 0)):
                steps.append(option.spec_name)
                break
        else:
            raise AssertionError(f"dossier {driver.dossier_id}: nothing can be done after {steps}")
    raise AssertionError(f"dossier {driver.dossier_id} still open after {MAX_STEPS} steps: {steps}")


def _timers(rt: Runtime) -> dict[int, datetime]:
    """The open dossiers whose instance waits on a timer, with when it falls due."""
    with reading(rt.engine) as session:
        return dict(
            session.exec(
                select(ProcessInstance.dossier_id, ProcessInstance.next_timer_at).where(
                    ProcessInstance.next_timer_at.is_not(None), ProcessInstance.completed.is_(False)
                )
            ).all()
        )


def test_a_release_database_is_upgraded_and_every_dossier_it_left_open_is_completed(
    empty_url: str,  # noqa: F811
    tmp_path: Path,
    test_pki: SigningPki,
):
    fixture = release_fixture(FIXTURE)
    assert fixture["release"] == RELEASE
    release = comparable(fixture["tables"], empty_url)
    to_revision(empty_url, RELEASE_REVISION)
    load(empty_url, release)
    # The release's storage folder; its demo CA trusted beside the certificate signing from now on.
    release_ca = tmp_path / "release-demo-ca.pem"
    release_ca.write_text(fixture["trust_roots"])
    settings = make_settings(
        tmp_path,
        empty_url,
        signing_p12=test_pki.p12,
        signing_p12_password=test_pki.password,
        signing_trust_roots=f"{test_pki.root_pem}:{release_ca}",
    )
    _restore_storage(fixture, BlobStore(settings.storage_path))

    done = migrations.upgrade(empty_url)  # what ``tdcflow migrate`` runs
    assert (done.before, done.after, done.adopted) == (RELEASE_REVISION, migrations.head(), None)
    # Nothing of the release is lost: every row of its tables, every value of its columns (a later
    # migration may add tables and columns beside them).
    after = unpacked(dump(empty_url), like=release)  # the messages and instances 0019 packed, as text
    for name, table in release.items():
        now_named = RENAMED_SINCE_RELEASE.get(name, name)
        added = set(after[now_named]["columns"]) - set(table["columns"])
        assert _without(after[now_named], added) == table, f"{name} changed"

    dossiers = _records(release["dossier"])
    left_open = [d for d in dossiers if d["completed_at"] is None]
    # Every procedure the release had is running (a procedure added since, e.g. the inspection
    # campaign, has no dossier in it).
    assert {d["procedure_code"] for d in left_open} == set(FINAL_STATUSES)
    assert set(FINAL_STATUSES) <= set(PROCEDURES)
    last_event = max(datetime.fromisoformat(e["at"]) for e in _records(release["audit_event"]))
    next_morning = to_local(last_event).date() + timedelta(days=1)
    start = local(next_morning.year, next_morning.month, next_morning.day, 9, 0)

    rt = build_runtime(settings, create_tables=False)
    try:
        with time_machine.travel(start, tick=False) as traveller:
            # The first start's scheduler: the release's alarms that fell due overnight.
            assert scheduler.tick(rt).failed == 0
            department = _the_department(rt, traveller)
            # The dossiers waiting on a timer (a supplement's, the certificate's, the scoring
            # deadline, a forwarded question's reminder) are left until it fires, in the order they
            # fall due; the others are acted on this morning.
            timers = _timers(rt)
            order = sorted(left_open, key=lambda d: (d["id"] in timers, timers.get(d["id"], start), d["id"]))
            steps = {
                d["code"]: _complete(CommandDriver.resume(department, d["id"]), wait=d["id"] in timers)
                for d in order
            }
            while document_signing.sign_due(rt, max_items=200).signed:
                pass
            # The next morning's audit job: a root over the release's streams and the new events,
            # then the whole trail verified.
            traveller.move_to(to_local(now()).replace(hour=0, minute=15) + timedelta(days=1))
            audit_root.daily_job(rt)

            with reading(rt.engine) as session:
                closed = {
                    d.code: (d.procedure_code, d.status, d.outcome)
                    for d in session.exec(select(Dossier).where(Dossier.completed_at.is_not(None)))
                }
                unfinished = session.exec(
                    select(ProcessInstance.dossier_id).where(ProcessInstance.completed.is_(False))
                ).all()
                streams = set(session.exec(select(AuditEvent.stream)))
                broken = {s: verify_stream(session, s) for s in streams}
                issued_before = {d["id"] for d in _records(release["document"])}
                issued_after = [
                    d
                    for d in session.exec(select(Document).order_by(Document.issued_at))
                    if d.id not in issued_before
                ]
                kept = session.exec(select(Document).where(Document.kind == KEPT_DOCUMENT_KIND)).first()
            # Every dossier of the release is closed, each with its final status, every instance ended.
            assert set(closed) >= {d["code"] for d in dossiers}, steps
            assert all(steps.values()) and unfinished == []
            finals: dict[str, set[str]] = {}
            for d in left_open:
                finals.setdefault(closed[d["code"]][0], set()).add(closed[d["code"]][1])
            assert finals == FINAL_STATUSES, steps
            # Timers the release set fired under this version: a reminder, two deadlines missed.
            assert sum(step.startswith(TIMER) for taken in steps.values() for step in taken) == len(timers)
            # The audit trail — the release's events and the new ones on the same chains — verifies.
            assert {s: problem for s, problem in broken.items() if problem is not None} == {}
            report = audit_verify.verify(rt.engine)
            assert report.ok, report.problems
            with reading(rt.engine) as session:
                root = session.exec(select(AuditRoot)).one()
            assert (root.streams, root.events, root.verify_ok) == (report.streams, report.events, True)
            assert len(_records(release["audit_event"])) < report.events
            # The results issued after the upgrade verify: found by their code, their signed PDF
            # is theirs, intact and trusted.
            assert {d.dossier_id for d in issued_after} >= {d["id"] for d in left_open}
            for document in issued_after:
                assert document.pdf_sha256 is not None, f"{document.kind} not signed"
                with reading(rt.engine) as session:
                    assert find_document(session, document.verification_code).sha256 == document.sha256
                check = check_file(rt, rt.store.read(document.pdf_sha256))
                assert (check.copy, check.document.verification_code) == ("pdf", document.verification_code)
                assert check.signature.ok, (document.kind, check.signature.all_problems)
            # A result issued before the upgrade still verifies, its files kept in storage.
            assert kept is not None and kept.id in issued_before
            check = check_file(rt, rt.store.read(kept.pdf_sha256))
            assert check.document.verification_code == kept.verification_code
            assert check.signature.ok, check.signature.all_problems
    finally:
        rt.engine.dispose()
