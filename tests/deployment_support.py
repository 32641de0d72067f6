"""Real ``tdcflow`` processes for the deployment tests: free ports, a database of the test's own on the
PostgreSQL test server, sub-processes whose output is kept in a file, and bounded waits on conditions
a person could observe (never a sleep that assumes how long something takes)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from sqlalchemy.engine import make_url

T = TypeVar("T")

# The `tdcflow` of this virtual environment (pytest runs as .venv/bin/pytest).
TDCFLOW = Path(sys.executable).with_name("tdcflow")
if not TDCFLOW.exists():  # pragma: no cover - pytest run from another interpreter
    TDCFLOW = Path(shutil.which("tdcflow") or "tdcflow")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_server_url() -> str:
    """The test PostgreSQL server (``TDCFLOW_TEST_PG_URL``): skipped without one, failed under CI
    (as the conftest fixtures do)."""
    url = os.environ.get("TDCFLOW_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TDCFLOW_TEST_PG_URL is not set: run the tests with 'make test'")
        pytest.skip("no PostgreSQL server (run 'make test' to start one)")
    return url


def _admin_url(server_url: str) -> str:
    return (
        make_url(server_url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


@contextmanager
def fresh_pg_database(server_url: str, name: str) -> Iterator[str]:
    """An empty database ``name`` on the test server for the duration; dropped afterwards."""
    admin = _admin_url(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_connections_allowed(server_url: str, name: str, allowed: bool) -> None:
    """Take database ``name`` down (refuse new connections, end the open ones) or bring it back."""
    with psycopg.connect(_admin_url(server_url), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The test's environment without any ``TDCFLOW_*`` variable of the caller's, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TDCFLOW_")}
    env["TDCFLOW_WEB_WORKERS"] = "1"  # one web process unless ``settings`` says otherwise
    env.update(settings)
    return env


class Process:
    """One ``tdcflow`` sub-process in its own process group; stdout and stderr go to one file."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [str(TDCFLOW), *args],
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; only this process's own group."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
            except ProcessLookupError:
                pass
        self._log.close()


class Launcher:
    """Starts ``tdcflow`` processes and stops every one of them at the end of the test."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[Process] = []

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> Process:
        process = Process(name, args, env, self.log_dir)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()

    def outputs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.output()[-tail:]}" for p in self.processes)


def wait_until(
    condition: Callable[[], T],
    what: str,
    timeout: float,
    launcher: Launcher | None = None,
    interval: float = 0.1,
) -> T:
    """Poll ``condition`` until it gives a true value, at most ``timeout`` seconds; fail naming
    ``what`` (with the processes' output) on time-out or when one of the processes has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if launcher is not None:
            dead = [p for p in launcher.processes if not p.alive()]
            if dead:
                names = ", ".join(f"{p.name} (exit {p.popen.returncode})" for p in dead)
                raise AssertionError(f"{names} stopped while waiting for {what}\n{launcher.outputs()}")
        if time.monotonic() > deadline:
            output = f"\n{launcher.outputs()}" if launcher is not None else ""
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}{output}")
        time.sleep(interval)
