"""One scheduler does the periodic work, however many processes run one (web workers, ``tdcflow
worker``s): the holder of the scheduler lock. Checked across real processes on one database: the
daily digest and the audit trail's daily root are made once, by one process only; killing it lets
another take over within a tick."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from notifications.digest import digest_key
from notifications.models import Delivery
from tests.support import business, local, officer
from workflows.db import reading
from workflows.models import AuditRoot, SchedulerHeartbeat, User
from workflows.runtime import Runtime
from workflows.scheduler_lock import SchedulerLock

# A working Thursday, three seconds before the digest and the audit root's hourly run (hh:15).
DAY = date(2026, 12, 3)
START = datetime(2026, 12, 3, 8, 14, 57, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
DEADLINE_SECONDS = 90

# ``tdcflow worker`` (api.cli.cmd_worker's steps) whose clock is set to START once it is ready to
# schedule, and runs on from there (time-machine, in the child): each child reaches hh:15 a few
# seconds after it starts, however long its start took on a busy machine.
WORKER = f"""
import sys, time_machine
from datetime import datetime
from api.cli import _runtime, _start
from api.jobs import scheduler_jobs
from workflows.scheduler import run_forever
_start()
rt = _runtime(upgrade=True)
jobs = scheduler_jobs(rt)
time_machine.travel(datetime.fromisoformat({START.isoformat()!r}), tick=True).start()
run_forever(rt, jobs)
"""


def _env(rt: Runtime, **extra: str) -> dict[str, str]:
    settings = rt.settings
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TDCFLOW_")},
        "TDCFLOW_DATABASE_URL": settings.database_url,
        "TDCFLOW_DATA_DIR": str(settings.data_dir),
        "TDCFLOW_SECRET_KEY": settings.secret_key or "",
        "TDCFLOW_BPMN_DIR": str(settings.bpmn_dir),
        "TDCFLOW_BASE_URL": "http://testserver",
        "TDCFLOW_LOG_LEVEL": "INFO",
        "TDCFLOW_TICK_SECONDS": "0.5",
        "TDCFLOW_DIGEST_TIME": "08:15",
        "TDCFLOW_ARGON2_TIME_COST": "1",
        "TDCFLOW_ARGON2_MEMORY_KIB": "1024",
        **extra,
    }


@contextmanager
def _processes(
    commands: list[list[str]], env: dict[str, str], logs: list[Path]
) -> Iterator[list[subprocess.Popen]]:
    started = []
    try:
        for command, log in zip(commands, logs, strict=True):
            with log.open("ab") as output:
                started.append(subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT))
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _until(
    what: str, condition: Callable[[], object], processes: list[subprocess.Popen], logs: list[Path]
) -> object:
    """Poll the database for ``condition`` until the deadline (cross-process: no clock to travel)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None and process.returncode not in (-signal.SIGKILL,):
                raise AssertionError(f"a scheduler process exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            processes[0].wait(timeout=0.1)  # a bounded pause between two looks at the database
    raise AssertionError(
        f"not within {DEADLINE_SECONDS} s: {what}\n" + "\n".join(log.read_text() for log in logs)
    )


def _ticking(rt: Runtime) -> list[SchedulerHeartbeat]:
    with reading(rt.engine) as session:
        return list(
            session.exec(select(SchedulerHeartbeat).where(SchedulerHeartbeat.last_tick_at.is_not(None)))
        )


def test_one_process_makes_the_digest_and_the_daily_root_and_another_takes_over(
    client: TestClient, rt: Runtime, tmp_path: Path
) -> None:
    with time_machine.travel(local(2026, 12, 2, 9, 0), tick=False):  # the day before: due by the digest
        clerk = officer(client, rt, "clerk")
        business(client).submitted()
    with reading(rt.engine) as session:
        clerk_id = session.exec(select(User.id).where(User.email == clerk.email)).one()
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    command = [sys.executable, "-c", WORKER]
    with _processes([command, command], _env(rt), logs) as workers:

        def made() -> bool:
            with reading(rt.engine) as session:
                root = session.get(AuditRoot, DAY)
                digest = session.exec(
                    select(Delivery).where(Delivery.idempotency_key == digest_key(clerk_id, DAY))
                ).first()
            return root is not None and root.verified_at is not None and digest is not None

        _until("the daily root (verified) and the clerk's digest", made, workers, logs)
        with reading(rt.engine) as session:
            assert len(session.exec(select(AuditRoot)).all()) == 1
            assert (
                len(session.exec(select(Delivery).where(Delivery.idempotency_key.like("digest:%"))).all())
                == 1
            )
        # One process ran the jobs: the other never ticked and never tried to make either.
        [leader] = _ticking(rt)
        texts = {process.pid: log.read_text() for process, log in zip(workers, logs, strict=True)}
        assert "audit root of 2026-12-03" in texts[leader.pid]
        assert "daily digest: 1 officers" in texts[leader.pid]
        [other] = [pid for pid in texts if pid != leader.pid]
        assert "now runs the scheduler's jobs" not in texts[other]
        assert "audit root of" not in texts[other] and "daily digest" not in texts[other]

        os.kill(leader.pid, signal.SIGKILL)
        _until(
            "the other scheduler ticking after the first was killed",
            lambda: any(row.pid == other for row in _ticking(rt)),
            [p for p in workers if p.pid == other],
            [log for process, log in zip(workers, logs, strict=True) if process.pid == other],
        )
        assert "now runs the scheduler's jobs" in next(
            log.read_text() for process, log in zip(workers, logs, strict=True) if process.pid == other
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_with_two_workers_answers_and_one_of_them_schedules(rt: Runtime, tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    command = [str(Path(sys.executable).with_name("tdcflow")), "serve", "--port", str(port), "--workers", "2"]
    env = _env(rt, TDCFLOW_SCHEDULER="1")
    with (
        _processes([command], env, [log]) as [server],
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):

        def two_workers_one_ticking() -> bool:
            with reading(rt.engine) as session:
                rows = session.exec(select(SchedulerHeartbeat).where(SchedulerHeartbeat.kind == "web")).all()
            return len(rows) == 2 and len([r for r in rows if r.last_tick_at is not None]) == 1

        _until("two web workers, one of them ticking", two_workers_one_ticking, [server], [log])
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz/worker").status_code == 200
        [leader] = _ticking(rt)
        os.kill(leader.pid, signal.SIGKILL)
        _until(
            "another web worker ticking once the first was killed",
            lambda: any(row.pid != leader.pid and row.kind == "web" for row in _ticking(rt)),
            [server],
            [log],
        )
        assert client.get("/healthz").status_code == 200


def test_the_lock_is_held_by_one_holder_at_a_time(rt: Runtime) -> None:
    first, second = SchedulerLock(rt.engine), SchedulerLock(rt.engine)
    assert first.held() and first.held()
    assert not second.held()
    first.release()
    assert second.held()
    assert not first.held()
    second.release()
