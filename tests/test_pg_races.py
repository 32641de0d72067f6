"""Two people writing to one dossier (or one audit stream) at the same instant, on PostgreSQL.

The races are real. The app runs as in production, ``uvicorn --factory api.main:create_app
--workers 2`` in a subprocess: two OS processes, each with its own connection pool and thread
pool. Each racing request goes out from its own thread on its own keep-alive connection, and a
barrier releases them together. (A TestClient would run the app inside the test's process, under
its GIL, and serialise more than production does.) When the scheduler's tick races, it runs in the
test's process, a third process, as ``tdcflow worker`` does.

Each race runs ``TRIALS`` times. Every trial must end with no 5xx, exactly the expected winners, an
intact audit chain and consistent task rows. Failures are collected and reported together, so a run
on broken code says how many trials went wrong.

Setup (accounts, dossiers, the clerk's receipt) goes through the command layer in the test's
process, on the same database: it is faster, and it is not what is being tested.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import time_machine
from sqlalchemy import func, text
from sqlmodel import select

from api.security import create_access_token
from tests.conftest import make_settings, postgres_database
from tests.support import PDF, PROCEDURE, Person, valid_tax_code
from workflows import accounts, audit_verify, commands, scheduler, sessions, submission
from workflows.config import PROJECT_ROOT, Settings
from workflows.db import reading, transaction
from workflows.errors import Conflict
from workflows.models import Alarm, Attachment, AuditEvent, Dossier, User, WorkTask
from workflows.procedures.tbt import wto
from workflows.runtime import Runtime, build_runtime

pytestmark = pytest.mark.postgres

TRIALS = 20
RECEIVE = {"completeness_decision": "receive"}
PASSWORD = "mat-khau-an-toan-2026"
_numbers = itertools.count(1)


# --- the server and the people ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime on this worker's PostgreSQL database, emptied once for the module."""
    url = postgres_database()
    runtime = build_runtime(make_settings(tmp_path_factory.mktemp("races"), url))
    yield runtime
    runtime.engine.dispose()


@dataclass
class Server:
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def two_workers(
    settings: Settings, factory: str = "api.main:create_app", env_extra: dict[str, str] | None = None
) -> Iterator[Server]:
    """The app (``factory``) served by uvicorn with two worker processes, on ``settings``'
    database and files (``env_extra``: more settings), stopped on leaving."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TDCFLOW_")}
    env.update(
        {
            "TDCFLOW_DATABASE_URL": settings.database_url,
            "TDCFLOW_SECRET_KEY": settings.secret_key or "",
            "TDCFLOW_DATA_DIR": str(settings.data_dir),
            "TDCFLOW_BPMN_DIR": str(settings.bpmn_dir),
            "TDCFLOW_BASE_URL": f"http://127.0.0.1:{port}",
            "TDCFLOW_MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
            "TDCFLOW_SCHEDULER": "0",  # the tests tick the scheduler themselves
            "TDCFLOW_ARGON2_TIME_COST": "1",
            "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
            **(env_extra or {}),
        }
    )
    log = settings.data_dir.parent / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", factory]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    served = Server(f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_serving(served, process)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(pg: Runtime) -> Iterator[Server]:
    """The app served by uvicorn with two worker processes, on the module's database and files."""
    with two_workers(pg.settings) as served:
        yield served


def _wait_until_serving(served: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=served.url, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{served.log_text()[-3000:]}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # bounded polling of an observable condition: the server answers
    pytest.fail(f"the server did not start within 60 s:\n{served.log_text()[-3000:]}")


@dataclass
class Racer(Person):
    """A person with a connection of their own to the server (for racing requests) and their
    account row (for setting up dossiers through the command layer)."""

    user: User | None = None
    rt: Runtime | None = None

    def upload(self, name: str = "tep.pdf", content: bytes = PDF, mime: str = "application/pdf") -> str:
        """An attachment for a form, stored in process (setup, not a racing request)."""
        return commands.upload_attachment(self.rt, self.user, name, content).id


class Cast:
    """Makes accounts, each with its own HTTP client (closed at the end of the module)."""

    def __init__(self, rt: Runtime, server: Server) -> None:
        self.rt, self.server, self.clients = rt, server, []

    def _racer(self, user: User) -> Racer:
        opened = sessions.start(self.rt, user, sessions.Client(), timedelta(hours=1))
        token, _ = create_access_token(self.rt.settings, user.id, user.roles, user.session_epoch, opened.id)
        client = httpx.Client(base_url=self.server.url, timeout=60)
        self.clients.append(client)
        return Racer(
            client,  # type: ignore[arg-type]
            user.email,
            token,
            tax_code=user.tax_code,
            organisation=user.organisation_name,
            user=user,
            rt=self.rt,
        )

    def business(self, name: str = "Công ty TNHH An Toàn", tax_code: str | None = None) -> Racer:
        number = next(_numbers)
        with transaction(self.rt.engine) as session:
            user = accounts.register_business_in(
                session,
                email=f"dn{number}@dua-tranh.vn",
                password=PASSWORD,
                full_name="Nguyễn Văn An",
                tax_code=tax_code or valid_tax_code(60_000 + number),
                organisation_name=f"{name} {number}",
                address="12 Lê Duẩn, Đông Hà",
            )
        return self._racer(user)

    def officer(self, role: str, name: str | None = None) -> Racer:
        with transaction(self.rt.engine) as session:
            user = accounts.create_officer_in(
                session,
                email=f"{role}{next(_numbers)}@so-khcn.gov.vn",
                password=PASSWORD,
                full_name=name or f"Cán bộ {role}",
                roles=[role],
                # A leader signs what they issue (the apology slip of an extension) as a deputy.
                job_title="PHÓ GIÁM ĐỐC" if role == "leader" else "",
            )
        return self._racer(user)


@pytest.fixture(scope="module")
def cast(pg: Runtime, server: Server) -> Iterator[Cast]:
    people = Cast(pg, server)
    yield people
    for client in people.clients:
        client.close()


# --- racing and checking ------------------------------------------------------------------------


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run each action in a thread of its own, all released together by a barrier. An action that
    raises gives its exception as its result."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        barrier.wait(timeout=30)
        try:
            return action()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


def outcome(response: Any) -> str:
    """'200', '409 task_taken', or what went wrong (an exception, a malformed error body)."""
    if isinstance(response, Exception):
        return f"{type(response).__name__}: {str(response).splitlines()[0][:160]}"
    if response.status_code < 400:
        return str(response.status_code)
    try:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "message_en", "fields"}
        assert error["message"].strip() and error["message_en"].strip()
        assert error["message"] != error["message_en"]
        return f"{response.status_code} {error['code']}"
    except (ValueError, KeyError, AssertionError):
        return f"{response.status_code} malformed: {response.text[:200]}"


def chain_problems(rt: Runtime, stream: str) -> list[str]:
    """What is wrong with ``stream``: its chain, and its checkpoint (written by each racer)."""
    return [f"the trail of {p.line()}" for p in audit_verify.verify(rt.engine, stream).problems]


def no_failures(problems: list[str], what: str, tally: Counter[str]) -> None:
    failed = len({p.split(":", 1)[0] for p in problems})
    summary = f"{what}: {failed} of {TRIALS} trials failed; outcomes {dict(tally)}"
    print(summary)
    assert not problems, summary + "\n" + "\n".join(problems[:40])


def submitted(rt: Runtime, firm: Racer) -> Dossier:
    dossier, _ = submission.submit_dossier(rt, firm.user, PROCEDURE, firm.declaration())
    return dossier


def open_task(rt: Runtime, dossier_id: int) -> WorkTask:
    with reading(rt.engine) as session:
        return session.exec(
            select(WorkTask).where(WorkTask.dossier_id == dossier_id, WorkTask.status == "open")
        ).one()


def task_row(rt: Runtime, task_id: str) -> WorkTask:
    with reading(rt.engine) as session:
        return session.get(WorkTask, task_id)


def actions_of(rt: Runtime, dossier_id: int) -> list[str]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(AuditEvent.action)
                .where(AuditEvent.stream == f"dossier:{dossier_id}")
                .order_by(AuditEvent.seq)
            )
        )


def complete(person: Racer, task_id: str, data: dict[str, Any] = RECEIVE) -> Callable[[], Any]:
    return partial(person.post, f"/api/tasks/{task_id}/complete", json={"data": data})


def claim(person: Racer, task_id: str) -> Callable[[], Any]:
    return partial(person.post, f"/api/tasks/{task_id}/claim")


# --- the races ----------------------------------------------------------------------------------


def test_a_claim_racing_a_completion_has_one_winner_and_a_consistent_task(pg, cast):
    firm, clerk, rival = cast.business(), cast.officer("clerk"), cast.officer("clerk", "Phan Văn Tư")
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        dossier = submitted(pg, firm)
        task_id = open_task(pg, dossier.id).id
        completed, claimed = race(complete(clerk, task_id), claim(rival, task_id))
        result = (outcome(completed), outcome(claimed))
        tally[" / ".join(result)] += 1
        task = task_row(pg, task_id)
        if result == ("200", "409 task_closed"):
            if task.status != "completed" or task.completed_by_id != clerk.user.id:
                problems.append(f"trial {trial}: completion won but the task is {task}")
        elif result == ("409 task_taken", "200"):
            if task.status != "open" or task.assignee_id != rival.user.id or task.completed_by_id:
                problems.append(f"trial {trial}: the claim won but the task is {task}")
        else:
            problems.append(f"trial {trial}: completion {result[0]}, claim {result[1]}")
        if task.assignee_id == rival.user.id and task.completed_by_id == clerk.user.id:
            problems.append(f"trial {trial}: claimed by one clerk, completed by the other")
        problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"dossier:{dossier.id}")]
    no_failures(problems, "claim vs completion", tally)


def test_an_upload_racing_the_clerks_completion_both_succeed(pg, cast):
    firm, clerk = cast.business(), cast.officer("clerk")
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        dossier = submitted(pg, firm)
        task_id = open_task(pg, dossier.id).id
        upload = partial(
            firm.post,
            f"/api/dossiers/{dossier.code}/attachments",
            files={"file": (f"bo-sung-{trial}.pdf", PDF, "application/pdf")},
        )
        uploaded, completed = race(upload, complete(clerk, task_id))
        result = (outcome(uploaded), outcome(completed))
        tally[" / ".join(result)] += 1
        if result != ("201", "200"):
            problems.append(f"trial {trial}: upload {result[0]}, completion {result[1]}")
            continue
        with reading(pg.engine) as session:
            attachment = session.get(Attachment, uploaded.json()["id"])
        actions = actions_of(pg, dossier.id)
        if attachment.dossier_id != dossier.id or actions.count("attachment_added") != 1:
            problems.append(f"trial {trial}: the upload is not recorded on the dossier: {actions}")
        if actions.count("task_completed") != 1 or task_row(pg, task_id).status != "completed":
            problems.append(f"trial {trial}: the completion is not recorded: {actions}")
        problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"dossier:{dossier.id}")]
    no_failures(problems, "upload vs completion", tally)


def test_two_completions_of_one_task_one_wins_the_process_moves_once(pg, cast):
    firm, clerk, rival = cast.business(), cast.officer("clerk"), cast.officer("clerk", "Phan Văn Tư")
    problems: list[str] = []
    tally: Counter[str] = Counter()
    refuse = {"completeness_decision": "refuse", "refusal_reason": "Không thuộc thẩm quyền."}
    for trial in range(TRIALS):
        dossier = submitted(pg, firm)
        task_id = open_task(pg, dossier.id).id
        first, second = race(complete(clerk, task_id), complete(rival, task_id, refuse))
        result = sorted((outcome(first), outcome(second)))
        tally[" / ".join(result)] += 1
        if result[0] != "200" or not result[1].startswith("409 "):
            problems.append(f"trial {trial}: {outcome(first)}, {outcome(second)}")
        actions = actions_of(pg, dossier.id)
        if actions.count("task_completed") != 1:
            problems.append(f"trial {trial}: {actions.count('task_completed')} completions recorded")
        task = task_row(pg, task_id)
        winner = clerk if outcome(first) == "200" else rival
        if task.status != "completed" or task.completed_by_id != winner.user.id:
            problems.append(f"trial {trial}: the task is {task}")
        problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"dossier:{dossier.id}")]
    no_failures(problems, "completion vs completion", tally)


def test_an_extension_racing_the_specialists_completion_both_succeed(pg, cast):
    firm, clerk, specialist = cast.business(), cast.officer("clerk"), cast.officer("specialist")
    leader = cast.officer("leader", "Nguyễn Minh Đức")
    examined = {"examination_findings": "Đạt.", "examination_conclusion": "accept"}
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        dossier = submitted(pg, firm)
        commands.complete_task(pg, clerk.user, open_task(pg, dossier.id).id, RECEIVE)
        task_id = open_task(pg, dossier.id).id
        extend = partial(
            leader.post,
            f"/api/dossiers/{dossier.code}/extend",
            json={"days": 3, "reason": "Cần thêm thời gian xác minh chứng nhận."},
        )
        extended, completed = race(extend, complete(specialist, task_id, examined))
        result = (outcome(extended), outcome(completed))
        tally[" / ".join(result)] += 1
        if result != ("200", "200"):
            problems.append(f"trial {trial}: extension {result[0]}, completion {result[1]}")
        actions = actions_of(pg, dossier.id)
        if actions.count("deadline_extended") != 1 or actions.count("task_completed") != 2:
            problems.append(f"trial {trial}: recorded {actions}")
        problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"dossier:{dossier.id}")]
    no_failures(problems, "extension vs completion", tally)


def test_the_alarm_tick_racing_a_claim(pg, cast):
    firm, clerk, specialist = cast.business(), cast.officer("clerk"), cast.officer("specialist")
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        # Received four months ago: the examination's and the dossier's alarms are all due now.
        with time_machine.travel(datetime.now(UTC) - timedelta(days=120), tick=False):
            dossier = submitted(pg, firm)
            commands.complete_task(pg, clerk.user, open_task(pg, dossier.id).id, RECEIVE)
        task_id = open_task(pg, dossier.id).id
        ticked, claimed = race(partial(scheduler.tick, pg), claim(specialist, task_id))
        result = (
            "tick ok" if isinstance(ticked, scheduler.TickReport) else outcome(ticked),
            outcome(claimed),
        )
        # Whether the racing tick fired the alarms, or found the dossier locked and left them.
        fired = f"fired {ticked.alarms}" if isinstance(ticked, scheduler.TickReport) else "failed"
        tally[" / ".join(result) + f" (tick {fired})"] += 1
        if result != ("tick ok", "200"):
            problems.append(f"trial {trial}: tick {result[0]}, claim {result[1]}")
        for _ in range(5):  # an alarm skipped because the claim held the dossier fires at a later tick
            try:
                if scheduler.tick(pg).alarms == 0:
                    break
            except Exception as exc:
                problems.append(f"trial {trial}: a later tick failed: {exc}")
                break
        with reading(pg.engine) as session:
            alarms = session.exec(select(Alarm).where(Alarm.dossier_id == dossier.id)).all()
        if not alarms or any(a.fired_at is None for a in alarms):
            problems.append(f"trial {trial}: alarms not all fired: {[(a.kind, a.fired_at) for a in alarms]}")
        if actions_of(pg, dossier.id).count("alarm") != len(alarms):
            problems.append(f"trial {trial}: {len(alarms)} alarms but {actions_of(pg, dossier.id)}")
        task = task_row(pg, task_id)
        if (task.status, task.assignee_id) != ("open", specialist.user.id):
            problems.append(f"trial {trial}: the task is {task}")
        problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"dossier:{dossier.id}")]
    no_failures(problems, "alarm tick vs claim", tally)


def test_businesses_commenting_on_one_wto_notification_at_once_all_succeed(pg, cast):
    """A stream that is not a dossier's: the WTO notification's (``wto:<id>``)."""
    officer = cast.officer("tbt_officer")
    firms = [cast.business(f"Công ty Thép {n}") for n in range(3)]
    notification = wto.register_notification(
        pg,
        officer.user,
        {
            "member": "Liên minh châu Âu",
            "symbol": "G/TBT/N/EU/2207",
            "title": "Dự thảo quy định về thép không gỉ dùng trong thực phẩm",
            "products": "Thép không gỉ cán nguội",
            "hs_codes": ["7219.33"],
            "description": "Quy định giới hạn thôi nhiễm kim loại của vật liệu tiếp xúc thực phẩm.",
            "circulated_on": date.today().isoformat(),
        },
    )
    url = f"/api/tbt/wto-notifications/{notification.id}/comments"
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        results = race(
            *(partial(f.post, url, json={"body": f"Góp ý số {trial} của {f.organisation}."}) for f in firms)
        )
        outcomes = sorted(outcome(r) for r in results)
        tally[" / ".join(outcomes)] += 1
        if outcomes != ["201"] * len(firms):
            problems.append(f"trial {trial}: {outcomes}")
    stream = f"wto:{notification.id}"
    problems += [f"end: {p}" for p in chain_problems(pg, stream)]
    with reading(pg.engine) as session:
        events = session.exec(select(func.count()).where(AuditEvent.stream == stream)).one()
    accepted = sum(n * k.count("201") for k, n in tally.items())
    if events != 1 + accepted:
        problems.append(f"end: {events} events for {accepted} comments and the registration")
    no_failures(problems, "WTO comments", tally)


# --- the last line of defence -------------------------------------------------------------------


def test_an_audit_conflict_that_slips_through_is_a_409_and_is_logged(pg, cast, server):
    """A writer that bypasses the locks (here: a raw insert of the stream's next event, left
    uncommitted) makes a completion fail on the chain's unique key: a 409, never a 500."""
    firm, clerk = cast.business(), cast.officer("clerk")
    dossier = submitted(pg, firm)
    task_id = open_task(pg, dossier.id).id
    stream = f"dossier:{dossier.id}"
    with pg.engine.connect() as rogue, ThreadPoolExecutor(1) as pool:
        head = rogue.execute(
            text("SELECT max(seq) FROM audit_event WHERE stream = :s"), {"s": stream}
        ).scalar_one()
        rogue.execute(
            text(
                "INSERT INTO audit_event (stream, seq, dossier_id, actor_label, action, at, details, "
                "prev_hash, hash) VALUES (:s, :seq, :d, 'rogue', 'rogue', now(), '{}', '', '')"
            ),
            {"s": stream, "seq": head + 1, "d": dossier.id},
        )
        pending = pool.submit(complete(clerk, task_id))
        _wait_for_a_blocked_audit_insert(pg)
        rogue.commit()
        response = pending.result(timeout=30)
    assert outcome(response) == "409 conflict", response.text
    error = response.json()["error"]
    assert "tải lại" in error["message"] and "reload" in error["message_en"].lower()
    log = server.log_text()
    assert "lost a race" in log and "Traceback" in log and "audit_event_stream_seq_key" in log, log[-3000:]


def _wait_for_a_blocked_audit_insert(rt: Runtime) -> None:
    """Until a server's transaction waits on the rogue's uncommitted event (bounded)."""
    deadline = time.monotonic() + 20
    with rt.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO audit_event%'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)  # bounded polling of an observable condition
    pytest.fail("the completion never reached the audit insert")


def test_a_deadlock_becomes_a_conflict_and_is_logged(pg, cast, caplog):
    """Two transactions locking two rows in opposite orders: PostgreSQL kills one of them; the
    victim's command ends with a Conflict (409 at the API), logged with its traceback."""
    one, other = cast.officer("clerk").user.id, cast.officer("clerk").user.id
    barrier = threading.Barrier(2)

    def lock_both(first: int, second: int) -> str:
        with transaction(pg.engine) as session:
            lock = text("SELECT id FROM app_user WHERE id = :id FOR UPDATE")
            session.execute(lock, {"id": first})
            barrier.wait(timeout=30)
            session.execute(lock, {"id": second})
        return "committed"

    with caplog.at_level(logging.ERROR, logger="tdcflow"):
        results = race(partial(lock_both, one, other), partial(lock_both, other, one))
    assert sorted(type(r).__name__ if isinstance(r, Exception) else r for r in results) == [
        "Conflict",
        "committed",
    ], results
    conflict = next(r for r in results if isinstance(r, Conflict))
    assert conflict.code == "conflict" and "tải lại" in conflict.message
    tracebacks = [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    assert any("DeadlockDetected" in t for t in tracebacks), [r.getMessage() for r in caplog.records]


# --- tax codes: at most one verified account per tax code -------------------------------------------


def verify(clerk: Racer, account: Racer) -> Callable[[], Any]:
    evidence = {"evidence": f"GCN ĐKDN số {account.tax_code}, đối chiếu bản chính"}
    return partial(clerk.post, f"/api/accounts/{account.user.id}/tax-code/verify", json=evidence)


def tax_code_states(rt: Runtime, tax_code: str) -> dict[int, str]:
    with reading(rt.engine) as session:
        rows = session.exec(select(User.id, User.tax_code_status).where(User.tax_code == tax_code)).all()
    return {user_id: status for user_id, status in rows}


def test_two_clerks_verifying_two_accounts_of_one_tax_code_one_wins(pg, cast):
    """Two clerks, on the two server processes, each verify a different account holding one tax
    code at the same instant: one wins (the other account is rejected), the other is told the tax
    code is verified for another account (409); never two verified."""
    clerk, rival = cast.officer("clerk"), cast.officer("clerk", "Phan Văn Tư")
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for trial in range(TRIALS):
        tax_code = valid_tax_code(70_000 + next(_numbers))
        one, two = cast.business("Công ty Một", tax_code), cast.business("Công ty Hai", tax_code)
        first, second = race(verify(clerk, one), verify(rival, two))
        result = (outcome(first), outcome(second))
        tally[" / ".join(sorted(result))] += 1
        states = tax_code_states(pg, tax_code)
        if sorted(result) != ["200", "409 tax_code_verified"]:
            problems.append(f"trial {trial}: {result}")
        winner, loser = (one, two) if result[0] == "200" else (two, one)
        if states != {winner.user.id: "verified", loser.user.id: "rejected"}:
            problems.append(f"trial {trial}: {result} left the accounts {states}")
        for account in (one, two):
            problems += [f"trial {trial}: {p}" for p in chain_problems(pg, f"user:{account.user.id}")]
    no_failures(problems, "two verifications of one tax code", tally)


def test_the_database_refuses_a_second_verified_account_the_locks_did_not_see(pg, cast):
    """A writer past the commands' locks (here: a raw insert of a verified account of the tax code,
    left uncommitted, which no lock of the command can see) and a clerk verifying another account:
    the partial unique index makes the clerk's update wait, then refuses it; the clerk gets the
    409 of a tax code verified elsewhere, never a 500, and only one account is verified."""
    clerk = cast.officer("clerk")
    tax_code = valid_tax_code(80_000 + next(_numbers))
    account = cast.business("Công ty Chờ Xác Minh", tax_code)
    with pg.engine.connect() as rogue, ThreadPoolExecutor(1) as pool:
        rogue.execute(
            text(
                "INSERT INTO app_user (email, password_hash, full_name, roles, tax_code, tax_code_status, "
                "is_active, created_at, session_epoch) VALUES ('rogue@dua-tranh.vn', '!', 'Rogue', "
                "'[\"business\"]', :t, 'verified', true, now(), 0)"
            ),
            {"t": tax_code},
        )
        pending = pool.submit(verify(clerk, account))
        _wait_for_a_blocked_update(pg)
        rogue.commit()
        response = pending.result(timeout=30)
    assert outcome(response) == "409 tax_code_verified", response.text
    states = tax_code_states(pg, tax_code)
    assert sorted(states.values()) == ["unverified", "verified"], states
    assert states[account.user.id] == "unverified"


def _wait_for_a_blocked_update(rt: Runtime) -> None:
    """Until a server's transaction waits on the rogue's uncommitted account (bounded)."""
    deadline = time.monotonic() + 20
    with rt.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE app_user%'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)  # bounded polling of an observable condition
    pytest.fail("the verification never reached the update of the account")
