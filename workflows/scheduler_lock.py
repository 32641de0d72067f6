"""Which scheduler does the periodic work: the one process that holds the scheduler lock.

Several processes may run a scheduler on one database: the web app's workers (``tdcflow serve
--workers N``, each with its in-process scheduler) and any ``tdcflow worker``. The due work claims
its rows (DESIGN rule 6), so doing it side by side loses nothing, but the jobs that look at the
whole database (the daily digest, the audit trail's daily root and its full verification, the
purge) would each be done, or attempted, once per process. So one process leads: the holder of a
lock that the operating system or the database frees when its holder dies — no lease to expire,
no clock involved:

- SQLite: an exclusive ``flock`` on a file beside the database file (every process on one SQLite
  file is on one machine);
- PostgreSQL: a session advisory lock held by a connection kept for it (freed when that
  connection ends, the process's death included).

The others stand by and try again at every tick: when the leader dies, one of them takes over
within a tick. A leader that loses its PostgreSQL connection stops leading at its next check.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("tdcflow.scheduler")

# The advisory lock's key: any 64-bit number no other lock of the database uses.
ADVISORY_KEY = 0x7464_6366_6C6F_7701  # "tdcflow" + 1
LOCK_SUFFIX = ".scheduler-lock"


class SchedulerLock:
    """The lock one scheduler holds while it does the periodic work; ``held()`` takes it when free."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._guard = threading.Lock()  # APScheduler runs the jobs in a pool of threads
        self._file: int | None = None
        self._connection: Connection | None = None
        self._held = False
        url = engine.url
        self._path: Path | None = None
        self._shared = True  # False: an in-memory database, seen by this process alone
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                self._path = Path(url.database).resolve().with_name(Path(url.database).name + LOCK_SUFFIX)
            else:
                self._shared = False

    def held(self) -> bool:
        """True when this process leads (taking the lock if nobody holds it)."""
        with self._guard:
            was = self._held
            try:
                self._held = self._check() if was else self._take()
            except (OSError, DBAPIError):
                log.warning("could not take or check the scheduler lock", exc_info=True)
                self._drop()
                self._held = False
            if self._held != was:
                if self._held:
                    log.info("this process (pid %s) now runs the scheduler's jobs", os.getpid())
                else:
                    log.warning("this process (pid %s) no longer runs the scheduler's jobs", os.getpid())
            return self._held

    def release(self) -> None:
        with self._guard:
            self._drop()
            self._held = False

    def _take(self) -> bool:
        if not self._shared:
            return True
        if self._path is not None:
            descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                return False
            self._file = descriptor
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
        if taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def _check(self) -> bool:
        """Still the holder? A file lock lasts as long as the process; the advisory lock as long as
        its connection, asked here."""
        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))
        return True

    def _drop(self) -> None:
        if self._file is not None:
            os.close(self._file)  # closing the file frees the lock
            self._file = None
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # a connection gone took the lock with it
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            try:
                self._connection.invalidate()  # never back to the pool: its session held the lock
            finally:
                self._connection = None
