"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import String, bindparam, event, func, insert, inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, SQLModel, create_engine

from workflows import models, outbox  # noqa: F401  (registers the tables)
from workflows.errors import Conflict
from workflows.models import AUDIT_CHAIN_KEY, Counter

log = logging.getLogger("tdcflow.db")

_WRITE_OPTION = "tdcflow_writes"

# PostgreSQL's SQLSTATEs for a transaction that lost to a concurrent one: serialization failure,
# deadlock detected (PostgreSQL aborted this transaction to break a cycle of lock waits), lock not
# available (a lock_timeout or NOWAIT ran out).
_LOST_RACE_STATES = frozenset({"40001", "40P01", "55P03"})
# PostgreSQL's SQLSTATEs for a server that cannot take the request now: the connection's class
# (08…), an administrator's or a crash's shutdown (57P01, 57P02), a server starting (57P03), too
# many connections (53300).
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def make_engine(url: str, sqlite_busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout (how long a
    statement waits for another process's write lock before it gives up)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_seconds},
            json_serializer=_json_text,
        )
        milliseconds = round(sqlite_busy_timeout_seconds * 1000)
        event.listen(engine, "connect", lambda connection, record: _sqlite_pragmas(connection, milliseconds))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=_json_text)


def _json_text(value: Any) -> str:
    """JSON columns as UTF-8 text: Vietnamese takes 2–3 bytes a letter, not the 6–12 of ``\\u`` escapes
    (the same values read back; the audit chain hashes its own canonical form, not this text)."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(dbapi_connection, busy_timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # A command reads then writes; taking the write lock at BEGIN (IMMEDIATE) avoids the
    # SQLITE_BUSY that two deferred transactions upgrading to writers at once would meet.
    # Reads stay deferred so they never wait for a writer (WAL).
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


class SchemaOutOfDate(Exception):
    """The database lacks tables or columns this version needs: ``tdcflow migrate`` has not run."""


def create_schema(engine: Engine) -> None:
    """Create the tables in a database that has none of them (tests, a throw-away database), then
    refuse to run on one that lacks tables or columns. A database holding tdcflow's tables is never
    changed here: ``tdcflow migrate`` (Alembic, the ``migrations`` package) does that."""
    present = set(inspect(engine).get_table_names())
    if not present & set(SQLModel.metadata.tables):
        SQLModel.metadata.create_all(engine)
    check_schema(engine)


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate naming the tables and columns of the models the database lacks."""
    # Every table's columns in one reading (one query on PostgreSQL, not one per table).
    present = {
        table: {column["name"] for column in columns}
        for (_, table), columns in inspect(engine).get_multi_columns().items()
    }
    missing = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in present:
            missing.append(table.name)
            continue
        columns = present[table.name]
        missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in columns]
    if missing:
        where = engine.url.render_as_string(hide_password=True)
        lacks = ", ".join(missing)
        raise SchemaOutOfDate(
            f"cơ sở dữ liệu {where} thiếu {lacks}. Hãy sao lưu rồi chạy 'tdcflow migrate'. / "
            f"the database at {where} lacks {lacks}. Back it up, then run 'tdcflow migrate'."
        )


def drop_schema(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back everything on any exception.

    A database error that means another transaction got there first (see ``lost_race``) becomes a
    ``Conflict`` (HTTP 409, "reload and try again"), logged with its traceback: the commands lock
    what they write, so reaching this is a missing lock worth finding, not the user's fault.
    """
    try:
        with (
            _write_turn(engine),
            Session(_writer(engine), expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
    except DBAPIError as exc:
        if not lost_race(exc):
            raise
        log.error("A transaction lost a race with a concurrent one and was rolled back", exc_info=True)
        raise concurrent_change() from exc


def lost_race(exc: BaseException) -> bool:
    """Whether a database error means a concurrent transaction changed the same thing first: a
    serialization failure, a deadlock, a lock wait that ran out, or two events taking one place in
    an audit chain."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    state = getattr(original, "sqlstate", None)
    if state in _LOST_RACE_STATES:
        return True
    if state == "23505":  # unique_violation
        return getattr(getattr(original, "diag", None), "constraint_name", None) == AUDIT_CHAIN_KEY
    # SQLite names the columns, not the constraint.
    return isinstance(exc, IntegrityError) and "audit_event.stream, audit_event.seq" in str(original)


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database cannot take the request now, whatever the
    request: the PostgreSQL server cannot be reached or is shutting down, the connection pool stayed
    full, or another process held SQLite's write lock for longer than the busy timeout. (Not an
    error of the schema or of a statement: those are the program's, and stay 500s.)"""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    original = exc.orig
    if isinstance(original, sqlite3.OperationalError):
        text = str(original)
        return "database is locked" in text or "database is busy" in text
    state = getattr(original, "sqlstate", None)
    return state is None or state.startswith("08") or state in _UNAVAILABLE_STATES


def concurrent_change() -> Conflict:
    return Conflict(
        "Dữ liệu vừa được người khác thay đổi. Vui lòng tải lại và thử lại.",
        "This was just changed by someone else. Reload and try again.",
        "conflict",
    )


def writing(connection: Connection) -> Connection:
    """``connection``, taking the write lock when its transactions begin (SQLite: BEGIN IMMEDIATE)."""
    return connection.execution_options(**{_WRITE_OPTION: True})


# How long a thread queues for its process's turn to write before it lets SQLite's busy timeout
# decide (a writer holding the turn this long is stuck, and the caller should hear of it as before).
WRITE_TURN_SECONDS = 30.0


@contextmanager
def _write_turn(engine: Engine) -> Iterator[None]:
    """This process's turn to write, for a SQLite file: one writer at a time is SQLite's rule, and
    threads that queue on a lock here are woken the moment the writer before them commits, where
    SQLite's busy handler would have them sleep and retry (1, 2, 5 … 100 ms between tries: the
    p99 of a request behind a few writers). Other processes on the file still meet the busy
    handler. Re-entrant, so that a transaction opened inside another fails as it did before (the
    busy timeout) instead of waiting for itself. PostgreSQL locks rows: nothing to queue on."""
    if engine.dialect.name != "sqlite":
        yield
        return
    # setdefault: two threads meeting a new engine at once still share one lock.
    turn = engine.__dict__.setdefault("_tdcflow_write_turn", threading.RLock())
    taken = turn.acquire(timeout=WRITE_TURN_SECONDS)
    try:
        yield
    finally:
        if taken:
            turn.release()


def _writer(engine: Engine) -> Engine:
    """The engine with the write option set, made once per engine (making it costs per call)."""
    writer = getattr(engine, "_tdcflow_writer", None)
    if writer is None:
        writer = engine.execution_options(**{_WRITE_OPTION: True})
        engine._tdcflow_writer = writer  # type: ignore[attr-defined]
    return writer


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work (queries for pages and lists)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def next_in_sequence(session: Session, key: str) -> int:
    """Atomically take the next number of a named counter (row-locked upsert)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(Counter).values(key=key, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": Counter.value + 1})
    elif dialect == "sqlite":
        stmt = sqlite_insert(Counter).values(key=key, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": Counter.value + 1})
    else:  # pragma: no cover - other databases are not supported
        stmt = insert(Counter).values(key=key, value=1)
    result = session.execute(stmt.returning(Counter.value))
    return int(result.scalar_one())


def among(session: Session, statement: Any, column: Any, values: list[str]) -> Any:
    """``statement`` restricted to the rows whose ``column`` is one of ``values`` (text, distinct).

    On PostgreSQL the values are one array joined as a table: ``column IN (...)`` on a table the
    planner has no statistics for yet (just filled, not yet analysed) becomes a sequential scan
    comparing every row with every value, which made resending a 10,000-row file grow with the
    square of its rows; the join looks each value up in the column's index whatever the planner
    knows. SQLite always uses the index for ``IN``."""
    if session.get_bind().dialect.name != "postgresql":
        return statement.where(column.in_(values))
    keys = func.unnest(bindparam(None, values, type_=ARRAY(String))).table_valued("key").render_derived()
    return statement.join(keys, column == keys.c.key)
