"""Outages an operator must be told of: the database down (``/healthz`` answers 503 naming it, and the
failure is logged with its traceback), and no scheduler ticking (``/healthz/worker`` and
``tdcflow worker --check`` say so, naming the last tick)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.cli import main as tdcflow
from api.main import create_app
from tests.conftest import make_settings
from tests.deployment_support import fresh_pg_database, pg_server_url, set_connections_allowed
from tests.support import error_of, local
from workflows import heartbeat, scheduler
from workflows.config import get_settings
from workflows.runtime import Runtime, build_runtime

HOST = socket.gethostname()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`tdcflow` configures the process's logging: put it back as it was for the other tests."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    names = ["", "tdcflow", "uvicorn", "spiff"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def check(rt: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging):  # type: ignore[no-untyped-def]
    """``tdcflow worker --check [args]`` on the test's database: (exit status, stdout, stderr)."""
    monkeypatch.setenv("TDCFLOW_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("TDCFLOW_DATA_DIR", str(rt.settings.data_dir))

    def run(*args: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        try:
            status = tdcflow(["worker", "--check", *args])
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_the_worker_readiness_follows_the_last_tick(client, rt, check):
    # No scheduler has ever run on this database (the test settings run none in the app).
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        error = error_of(client.get("/healthz/worker"), 503, "scheduler_missing")
        assert "tdcflow worker" in error["message"] and "tdcflow worker" in error["message_en"]
        status, _, err = check()
        assert status == 1 and f"trên máy {HOST}" in err and f"on host {HOST}" in err

        # A worker of this host ticks.
        me = heartbeat.Identity("worker", HOST, 4242)
        scheduler.tick_and_record(rt, me)
        ready = client.get("/healthz/worker")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert (body["status"], body["scheduler"]) == ("ok", f"worker@{HOST}:4242")
        assert body["last_tick_at"] == "2026-03-02T09:00:00+07:00"
        bound = 3 * rt.settings.tick_seconds + 30
        assert body["stale_after_seconds"] == bound
        assert body["schedulers"][0]["pid"] == 4242 and body["schedulers"][0]["fresh"]
        status, out, _ = check()
        assert status == 0 and f"worker@{HOST}:4242" in out and "2026-03-02T09:00:00+07:00" in out

        # Three ticks and the margin later it still counts; a second later it does not.
        travel.shift(timedelta(seconds=bound))
        assert client.get("/healthz/worker").status_code == 200
        assert check()[0] == 0
        travel.shift(timedelta(seconds=1))
        error = error_of(client.get("/healthz/worker"), 503, "scheduler_stale")
        assert "lượt chạy gần nhất lúc 09:00:00 02/03/2026" in error["message"]
        assert f"worker@{HOST}:4242" in error["message"]
        assert "the last tick was at 2026-03-02T09:00:00+07:00" in error["message_en"]
        assert f"{int(bound) + 1} s ago" in error["message_en"]
        status, _, err = check()
        assert status == 1 and "2026-03-02T09:00:00+07:00" in err

        # A worker on another machine ticks: the deployment is ready, this host's worker is not.
        scheduler.tick_and_record(rt, heartbeat.Identity("worker", "may-chu-2", 17))
        assert client.get("/healthz/worker").json()["scheduler"] == "worker@may-chu-2:17"
        assert check()[0] == 1
        assert check("--any-host")[0] == 0


def test_a_restarted_scheduler_has_not_ticked_yet(client, rt):
    with time_machine.travel(local(2026, 3, 2, 9, 0), tick=False) as travel:
        me = heartbeat.Identity("worker", HOST, 7)
        heartbeat.record_start(rt.engine, me, rt.settings.tick_seconds)
        error = error_of(client.get("/healthz/worker"), 503, "scheduler_stale")
        assert "khởi động lúc 09:00:00 02/03/2026" in error["message"]
        assert "has not finished a tick" in error["message_en"]
        travel.shift(timedelta(seconds=2))
        scheduler.tick_and_record(rt, me)
        assert client.get("/healthz/worker").status_code == 200
        # A week later a new scheduler starts: the silent rows are forgotten.
        travel.shift(timedelta(days=8))
        heartbeat.record_start(rt.engine, heartbeat.Identity("web", HOST, 8), rt.settings.tick_seconds)
        assert [s.name for s in heartbeat.readiness(rt.engine).schedulers] == [f"web@{HOST}:8"]


def test_the_apps_own_scheduler_reports_its_ticks(tmp_path):
    """``tdcflow serve`` with its in-process scheduler: the real APScheduler thread, real time."""
    rt = build_runtime(
        make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", scheduler=True, tick_seconds=0.1)
    )
    try:
        with TestClient(create_app(rt)) as client:
            deadline = time.monotonic() + 30
            while (response := client.get("/healthz/worker")).status_code != 200:
                assert time.monotonic() < deadline, response.text
                time.sleep(0.05)
            (web,) = response.json()["schedulers"]
            assert (web["kind"], web["host"], web["pid"]) == ("web", HOST, os.getpid())
    finally:
        rt.engine.dispose()


# -- the database down ---------------------------------------------------------------------------------


@pytest.fixture
def outage_database() -> Iterator[tuple[str, str, str]]:
    """(server URL, database name, its URL): a database of this test's own, which it may take down."""
    server = pg_server_url()
    name = f"tdcflow_outage_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with fresh_pg_database(server, name) as url:
        yield server, name, url
        set_connections_allowed(server, name, True)


@pytest.mark.postgres
def test_health_answers_503_naming_the_database_while_it_is_down(
    tmp_path: Path, outage_database, caplog: pytest.LogCaptureFixture
):
    server, name, url = outage_database
    rt = build_runtime(make_settings(tmp_path, url))
    me = heartbeat.Identity("worker", HOST, 99)
    try:
        with TestClient(create_app(rt)) as client:
            assert client.get("/healthz").status_code == 200
            scheduler.tick_and_record(rt, me)
            before = heartbeat.readiness(rt.engine).latest
            assert before is not None and before.last_tick_at is not None

            set_connections_allowed(server, name, False)
            caplog.clear()
            response = client.get("/healthz")
            error = error_of(response, 503, "database_unreachable")
            assert "cơ sở dữ liệu" in error["message"] and "database is unreachable" in error["message_en"]
            (logged,) = [r for r in caplog.records if r.name == "tdcflow.health"]
            assert logged.levelno == logging.ERROR and logged.exc_info is not None
            assert issubclass(logged.exc_info[0], OperationalError)
            assert "Traceback" in caplog.text
            error_of(client.get("/healthz/worker"), 503, "database_unreachable")
            # A tick that cannot reach the database does not count as one.
            with pytest.raises(OperationalError):
                scheduler.tick_and_record(rt, me)

            set_connections_allowed(server, name, True)
            assert client.get("/healthz").status_code == 200
            after = heartbeat.readiness(rt.engine).latest
            assert after is not None and after.last_tick_at == before.last_tick_at
    finally:
        rt.engine.dispose()
