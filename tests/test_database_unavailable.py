"""When the database cannot take a request, the answer is 503 with Retry-After and a message in
Vietnamese and English, never a 500 (the program did nothing wrong) and never a half-written
command. Both cases are real: another process holding the SQLite file's write lock past the busy
timeout, and the PostgreSQL server stopped under a running app."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from migrations import upgrade
from tests.conftest import make_settings
from tests.support import error_of
from workflows.config import PROJECT_ROOT
from workflows.runtime import build_runtime

HOLD_THE_WRITE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
"""


def _asked_again(client: TestClient) -> int:
    return client.post("/api/auth/password-reset", json={"email": "ai@example.vn"}).status_code


def test_a_sqlite_file_held_by_another_process_is_a_503_then_works_again(tmp_path: Path) -> None:
    path = tmp_path / "tdcflow.sqlite3"
    settings = make_settings(tmp_path, f"sqlite:///{path}", sqlite_busy_timeout_seconds=0.3)
    rt = build_runtime(settings)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            assert _asked_again(client) == 202
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                refused = client.post("/api/auth/password-reset", json={"email": "ai@example.vn"})
                error = error_of(refused, 503, "database_unavailable")
                assert refused.headers["retry-after"] == "30"
                assert "thử lại sau ít phút" in error["message"] and "try again" in error["message_en"]
                page = client.get("/forgot-password")
                form_token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                on_page = client.post(
                    "/forgot-password", data={"email": "ai@example.vn", "csrf_token": form_token}
                )
                assert on_page.status_code == 503 and "Hệ thống đang bận" in on_page.text
            finally:
                assert holder.stdin is not None
                holder.stdin.write("\n")
                holder.stdin.flush()
                holder.wait(timeout=30)
            assert _asked_again(client) == 202
    finally:
        rt.engine.dispose()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of this test's own (scripts/pg.sh), which the test may stop."""
    folder = tmp_path / "pg"
    script = PROJECT_ROOT / "scripts" / "pg.sh"
    started = subprocess.run(["bash", str(script), "start", str(folder)], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.skip(f"no PostgreSQL server could be started here: {started.stderr[-300:]}")
    try:
        yield started.stdout.strip(), folder
    finally:
        if folder.exists():
            subprocess.run(["bash", str(script), "stop", str(folder)], capture_output=True, check=False)


@pytest.mark.postgres
def test_a_postgresql_server_gone_under_a_running_app_is_a_503(tmp_path: Path, own_postgres) -> None:
    url, folder = own_postgres
    upgrade(url)
    rt = build_runtime(make_settings(tmp_path, url))
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            assert _asked_again(client) == 202
            stopped = subprocess.run(
                ["bash", str(PROJECT_ROOT / "scripts" / "pg.sh"), "stop", str(folder)], capture_output=True
            )
            assert stopped.returncode == 0, stopped.stderr
            refused = client.post("/api/auth/password-reset", json={"email": "ai@example.vn"})
            error_of(refused, 503, "database_unavailable")
            assert refused.headers["retry-after"] == "30"
            page = client.get("/lookup", params={"code": "000.00.15.H50-261204-0001"})
            assert page.status_code == 503 and "Hệ thống đang bận" in page.text
            health = client.get("/healthz")
            assert health.status_code == 503
    finally:
        rt.engine.dispose()
