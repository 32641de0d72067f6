"""Login throttling across processes, on PostgreSQL: the app served as in production by
``uvicorn --workers 2`` (two OS processes, each with its own connection pool), with a connection held
open to each process so that both answer (which process accepts a new connection is the kernel's
choice: under load one process could take them all). The counters live in the database, so the two processes
lock a login out at the same count as one process would, wrong passwords sent one after another or
all at once. (Without the database's counters, each process kept its own count, or none: 30 wrong
passwords were all answered 401 and the 31st, right one logged in.)

Delays are switched off here (they start at the lock-out's count), so that the test never waits on
the real clock; the delays are tested in ``tests/test_login_throttle.py`` with a frozen clock. Each
test's attempts come from an address of its own, named by X-Forwarded-For (the server trusts the
loopback proxy), so that the address counter of one test does not reach into another's.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
import pytest
from sqlmodel import select

from tests.conftest import make_settings, postgres_database
from tests.test_pg_races import Server, two_workers
from workflows import accounts, login_throttle
from workflows.db import reading
from workflows.models import AuditEvent, LoginCounter
from workflows.runtime import Runtime, build_runtime

pytestmark = pytest.mark.postgres

PASSWORD = "mat-khau-an-toan-2026"
WRONG = "sai-mat-khau-2026"
LOCK_AFTER = 10


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    url = postgres_database()
    runtime = build_runtime(make_settings(tmp_path_factory.mktemp("throttle"), url))
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def server(pg: Runtime) -> Iterator[Server]:
    # The app's own log lines (tdcflow.*, with the process id) go to the log: the test reads
    # which processes counted.
    extra = {
        "TDCFLOW_LOGIN_ACCOUNT_LOCK_AFTER": str(LOCK_AFTER),
        "TDCFLOW_LOGIN_ACCOUNT_DELAY_AFTER": str(LOCK_AFTER),
        "TDCFLOW_TRUSTED_PROXIES": "127.0.0.1",
        "TDCFLOW_LOG_LEVEL": "INFO",
    }
    with two_workers(pg.settings, "tests.logged_app:create", extra) as served:
        yield served


def attempt(server: Server, login: str, password: str, address: str) -> httpx.Response:
    """One login on a connection of its own (a new connection may go to either process)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return client.post(
            "/api/auth/token",
            data={"username": login, "password": password},
            headers={"X-Forwarded-For": address},
        )


def outcome(response: httpx.Response) -> str:
    if response.status_code < 400:
        return str(response.status_code)
    return f"{response.status_code} {response.json()['error']['code']}"


def officer(rt: Runtime, email: str) -> str:
    accounts.create_officer(rt, None, email=email, password=PASSWORD, full_name="Cán bộ", roles=["clerk"])
    return email


def counter(rt: Runtime, kind: str, key: str) -> LoginCounter:
    with reading(rt.engine) as session:
        return session.exec(
            select(LoginCounter).where(LoginCounter.kind == kind, LoginCounter.key == key)
        ).one()


def lock_events(rt: Runtime, key: str) -> list[AuditEvent]:
    with reading(rt.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.stream == login_throttle.AUDIT_STREAM))
        return [e for e in events if e.details.get("key") == key and e.action == "login_locked"]


def processes_that_counted(server: Server, login: str) -> set[str]:
    pattern = re.compile(rf"\[(\d+)\] Login failed: login {re.escape(login)} ")
    return set(pattern.findall(server.log_text()))


@contextmanager
def one_connection_per_process(server: Server) -> Iterator[list[httpx.Client]]:
    """Two keep-alive clients, each connected to another of the two processes: new connections are
    opened (and kept) until a probe on one is logged by a process no other connection reached. A
    probe is a wrong password for a login of its own from an address of its own, so that it counts
    toward no tested login or address."""
    opened: list[httpx.Client] = []
    by_process: dict[str, httpx.Client] = {}
    try:
        for n in range(60):
            client = httpx.Client(base_url=server.url, timeout=60)
            opened.append(client)
            probe = f"tham-do-{n}-{id(client)}@so-khcn.gov.vn"
            client.post(
                "/api/auth/token",
                data={"username": probe, "password": WRONG},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            for pid in processes_that_counted(server, probe):
                by_process.setdefault(pid, client)
            if len(by_process) == 2:
                break
        assert len(by_process) == 2, "60 connections reached only one process"
        yield list(by_process.values())
    finally:
        for client in opened:
            client.close()


def test_two_processes_lock_out_at_the_count_of_one(pg, server):
    login = officer(pg, "motcua-mot@so-khcn.gov.vn")
    with one_connection_per_process(server) as connections:
        answers = [
            outcome(
                connections[n % 2].post(
                    "/api/auth/token",
                    data={"username": login, "password": WRONG},
                    headers={"X-Forwarded-For": "203.0.113.1"},
                )
            )
            for n in range(LOCK_AFTER)
        ]
    assert answers == ["401 invalid_credentials"] * LOCK_AFTER
    # The next attempt, with the right password, is refused before the password is checked.
    locked = attempt(server, login, PASSWORD, "203.0.113.1")
    assert outcome(locked) == "429 login_locked"
    assert 800 < int(locked.headers["Retry-After"]) <= 900
    assert counter(pg, "account", login).failures == LOCK_AFTER
    assert len(lock_events(pg, login)) == 1
    # Both processes counted failures of this login: the count is the database's, not a process's.
    assert len(processes_that_counted(server, login)) == 2, server.log_text()[-3000:]


def test_thirty_wrong_passwords_at_once_get_exactly_the_allowed_failures(pg, server):
    login = officer(pg, "motcua-hai@so-khcn.gov.vn")
    barrier = threading.Barrier(30)

    def wrong() -> Any:
        barrier.wait(timeout=30)
        return outcome(attempt(server, login, WRONG, "203.0.113.2"))

    with ThreadPoolExecutor(30) as pool:
        tally = Counter(pool.map(lambda _: wrong(), range(30)))
    # However the two processes interleave them: ten answered "wrong password", the rest refused.
    assert tally == {"401 invalid_credentials": LOCK_AFTER, "429 login_locked": 30 - LOCK_AFTER}, tally
    assert outcome(attempt(server, login, PASSWORD, "203.0.113.2")) == "429 login_locked"
    # Every failure that reached the password check was counted, none lost between processes.
    assert LOCK_AFTER <= counter(pg, "account", login).failures <= 30
    assert len(lock_events(pg, login)) == 1
