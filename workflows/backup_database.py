"""The database's part of a backup: SQLite's online backup API and PostgreSQL's ``pg_dump`` /
``pg_restore``, each from one consistent snapshot with the revision and counts read in it."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from workflows.backup_files import BackupError, Manifest, Refused, fsync

log = logging.getLogger("tdcflow.backup")

_VERSION_TABLE = "alembic_version"
_COUNTED = {
    "dossiers": "dossier",
    "documents": "document",
    "audit_events": "audit_event",
    "outbox_events": "outbox_event",
}


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise Refused(
            "Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu hay phục hồi được.",
            "An in-memory SQLite database cannot be backed up or restored.",
        )
    return Path(url.database)


def sqlite_snapshot(url: URL, target: Path) -> tuple[str | None, dict[str, int | None]]:
    """Copy the database from one read transaction; its revision and counts from the same one."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(
            f"Không có tệp cơ sở dữ liệu {source_path}.", f"The database file {source_path} does not exist."
        )
    try:
        source = sqlite3.connect(source_path, isolation_level=None, timeout=30)
        try:
            source.execute("PRAGMA busy_timeout=30000")
            source.execute("BEGIN")  # the read transaction: one snapshot for the counts and the copy
            revision, counts = read_facts(source.execute)
            copy = sqlite3.connect(target, isolation_level=None)
            try:
                source.backup(copy)  # every page in one step, from this transaction's snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                check = copy.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                copy.close()
            source.execute("COMMIT")
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(
            f"Sao chép cơ sở dữ liệu SQLite thất bại: {exc}", f"Copying the SQLite database failed: {exc}"
        ) from exc
    if check != "ok":
        raise BackupError(
            f"Bản sao cơ sở dữ liệu bị lỗi (quick_check: {check}).",
            f"The copy of the database is damaged (quick_check: {check}).",
        )
    fsync(target)
    return revision, counts


def read_facts(execute: Callable[[str], sqlite3.Cursor]) -> tuple[str | None, dict[str, int | None]]:
    """The Alembic revision and the counts of a SQLite database (None: no such table)."""

    def scalar(sql: str) -> Any:
        try:
            row = execute(sql).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    counts = {name: scalar(f"SELECT count(*) FROM {table}") for name, table in _COUNTED.items()}
    return scalar(f"SELECT version_num FROM {_VERSION_TABLE}"), counts


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """``url`` as a libpq connection URI without its password, and the environment carrying it
    (a password on a command line is visible to every user of the machine)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> Path:
    """A PostgreSQL client program: the newest in Debian's /usr/lib/postgresql/*/bin (a newer
    pg_dump reads an older server; the reverse fails), else the one on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version)
    candidates = [c for c in candidates if os.access(c, os.X_OK)]
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found:
        return Path(found)
    raise Refused(
        f"Không tìm thấy chương trình {name} của PostgreSQL (trong /usr/lib/postgresql/*/bin hoặc PATH); "
        "hãy cài gói postgresql-client.",
        f"PostgreSQL's {name} was not found (in /usr/lib/postgresql/*/bin or on PATH); "
        "install the postgresql-client package.",
    )


def run_tool(args: list[str], env: dict[str, str], what_vi: str, what_en: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        log.error("%s failed (exit %s): %s", args[0], result.returncode, detail)
        raise BackupError(f"{what_vi} thất bại: {detail}", f"{what_en} failed: {detail}")


def pg_snapshot(url: URL, target: Path) -> tuple[str | None, dict[str, int | None]]:
    """``pg_dump`` of the snapshot a REPEATABLE READ transaction exported, the counts read in it."""
    pg_dump = pg_tool("pg_dump")
    uri, env = libpq(url)
    try:
        with psycopg.connect(uri, password=env.get("PGPASSWORD")) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert snapshot is not None
            tables = {
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
            counts: dict[str, int | None] = {}
            for name, table in _COUNTED.items():
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone() if table in tables else None
                counts[name] = row[0] if row else None
            row = (
                conn.execute(f"SELECT version_num FROM {_VERSION_TABLE}").fetchone()
                if _VERSION_TABLE in tables
                else None
            )
            revision = row[0] if row else None
            # The snapshot lives while this transaction is open: pg_dump runs inside it.
            run_tool(
                [
                    str(pg_dump),
                    "--format=custom",
                    f"--snapshot={snapshot[0]}",
                    f"--file={target}",
                    f"--dbname={uri}",
                ],
                env,
                "pg_dump",
                "pg_dump",
            )
            conn.execute("COMMIT")
    except psycopg.Error as exc:
        raise BackupError(
            f"Không đọc được cơ sở dữ liệu PostgreSQL: {exc}", f"Cannot read the PostgreSQL database: {exc}"
        ) from exc
    fsync(target)
    return revision, counts


def check_database(path: Path, manifest: Manifest) -> list[str]:
    if manifest.database_kind == "sqlite":
        try:
            # immutable: nothing is written beside the file (no -wal, no -shm), the folder stays as made
            with contextlib.closing(
                sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            ) as conn:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                revision, _ = read_facts(conn.execute)
        except sqlite3.Error as exc:
            return [f"{path.name}: not a readable SQLite database ({exc})"]
        if check != "ok":
            return [f"{path.name}: quick_check says {check}"]
        if revision != manifest.alembic_revision:
            return [f"{path.name}: at revision {revision}, the manifest says {manifest.alembic_revision}"]
        return []
    try:
        restore_tool = pg_tool("pg_restore")
    except Refused:
        log.warning("pg_restore not found: %s checked by its hash only", path)
        return []
    result = subprocess.run(
        [str(restore_tool), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return [f"{path.name}: pg_restore cannot read it ({result.stderr.strip()})"]
    return []


def require_empty_pg(url: URL) -> None:
    uri, env = libpq(url)
    try:
        with psycopg.connect(uri, password=env.get("PGPASSWORD")) as conn:
            row = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as exc:
        raise BackupError(
            f"Không kết nối được cơ sở dữ liệu đích: {exc}", f"Cannot connect to the target database: {exc}"
        ) from exc
    if row and row[0]:
        where = url.render_as_string(hide_password=True)
        raise Refused(
            f"Cơ sở dữ liệu {where} đã có {row[0]} bảng; phục hồi chỉ ghi vào cơ sở dữ liệu trống.",
            f"The database {where} already has {row[0]} tables; a restore only writes into an empty database.",
        )


def pg_restore(url: URL, dump: Path) -> None:
    """Everything in one transaction: a failed restore leaves the target database empty."""
    uri, env = libpq(url)
    run_tool(
        [
            str(pg_tool("pg_restore")),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={uri}",
            str(dump),
        ],
        env,
        "pg_restore",
        "pg_restore",
    )
