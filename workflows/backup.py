"""Backups of a tdcflow installation and their restore (``tdcflow backup`` / ``tdcflow restore``).

A backup is a folder:

* ``database.sqlite3`` (SQLite: made with SQLite's online backup API) or ``database.pgdump``
  (PostgreSQL: ``pg_dump``'s custom format);
* ``storage/…``: the content-addressed store (uploads, issued documents), as laid out on disk;
* ``secret_key``: the key kept in the data folder when ``TDCFLOW_SECRET_KEY`` is not set (the
  audit checkpoints are signed with a key derived from it: without it the restored trail cannot
  be verified);
* ``manifest.json``, written last and atomically: the format, tdcflow's version, the database's
  kind and Alembic revision, when it was made, a few counts, and every other file's relative path,
  size and SHA-256. A backup without its manifest is incomplete (it was interrupted).

Consistency while commands run: the database is copied from one read snapshot (SQLite: a read
transaction around the backup API; PostgreSQL: a REPEATABLE READ transaction whose exported
snapshot ``pg_dump`` uses), and the manifest's counts and revision are read in that same snapshot.
A command writes its blobs before the transaction that references them commits, so copying the
store *after* the snapshot finds every blob the snapshot references. Every blob in the store is
copied, referenced or not: knowing what references a blob would mean knowing every procedure's
tables, and an unreferenced blob (left by a rolled-back command) is harmless.

A restore verifies the whole backup first (the manifest, each file's size and hash, no file
missing or extra, the database file readable) and refuses a database newer than this software; it
writes only into an empty target (a new or empty data folder and storage folder, no SQLite file,
a PostgreSQL database without tables). Starting tdcflow afterwards upgrades an older revision.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
from sqlalchemy.engine import URL, make_url

from workflows.clock import now, to_local
from workflows.config import Settings

log = logging.getLogger("tdcflow.backup")

FORMAT = "tdcflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
STORAGE = "storage"
SECRET_KEY = "secret_key"
# The files BlobStore.put writes before renaming them into place: a copy in flight, not a blob.
_INCOMING = ".incoming-"
_VERSION_TABLE = "alembic_version"
_COUNTED = {
    "dossiers": "dossier",
    "documents": "document",
    "audit_events": "audit_event",
    "outbox_events": "outbox_event",
}
_CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message in Vietnamese and in English.

    ``exit_code``: 1 the backup is damaged or incomplete, 2 refused (a destination or target that
    is not empty, a database newer than this software, a backup of another kind of database),
    3 a step failed (a database or tool error, a file that could not be written)."""

    exit_code = 3

    def __init__(self, message_vi: str, message_en: str, problems: Collection[str] = ()) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.problems = list(problems)


class BackupInvalid(BackupError):
    """The backup is damaged or incomplete: a restore would lose or invent data."""

    exit_code = 1


class Refused(BackupError):
    exit_code = 2


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, with '/'
    size: int
    sha256: str


@dataclass
class Manifest:
    tdcflow_version: str
    created_at: str  # UTC, ISO 8601
    database_kind: str  # sqlite | postgresql
    database_file: str
    alembic_revision: str | None
    counts: dict[str, int | None]
    secret_key_included: bool
    files: list[FileEntry] = field(default_factory=list)
    damaged_blobs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tdcflow_version": self.tdcflow_version,
            "created_at": self.created_at,
            "database": {
                "kind": self.database_kind,
                "file": self.database_file,
                "alembic_revision": self.alembic_revision,
            },
            "counts": self.counts,
            "secret_key_included": self.secret_key_included,
            "damaged_blobs": self.damaged_blobs,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest of ``data`` (parsed JSON); ValueError/KeyError/TypeError when malformed."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a tdcflow backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {data.get('format_version')!r} is not {FORMAT_VERSION}")
        database = data["database"]
        files = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"]]
        manifest = cls(
            tdcflow_version=str(data["tdcflow_version"]),
            created_at=str(data["created_at"]),
            database_kind=str(database["kind"]),
            database_file=str(database["file"]),
            alembic_revision=database["alembic_revision"],
            counts=dict(data["counts"]),
            secret_key_included=bool(data["secret_key_included"]),
            files=files,
            damaged_blobs=list(data.get("damaged_blobs", [])),
        )
        datetime.fromisoformat(manifest.created_at)  # ValueError when it is no instant
        if manifest.database_kind not in ("sqlite", "postgresql"):
            raise ValueError(f"unknown database kind {manifest.database_kind!r}")
        return manifest

    @property
    def created_local(self) -> str:
        """When it was made, dd/mm/yyyy HH:MM in the office's time zone."""
        return f"{to_local(datetime.fromisoformat(self.created_at)):%d/%m/%Y %H:%M}"


def tdcflow_version() -> str:
    try:
        return metadata.version("tdcflow")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


# --- making a backup -------------------------------------------------------------------------------


def backup(settings: Settings, dest: Path) -> Manifest:
    """Write a backup of the configured database and storage into ``dest`` (new or empty).

    On any failure what was written is removed again (a backup killed outright has no manifest,
    which is what ``verify`` looks for first)."""
    with _file_errors("Sao lưu", "The backup"):
        return _backup(settings, dest)


@contextlib.contextmanager
def _file_errors(what_vi: str, what_en: str) -> Iterator[None]:
    """A file that cannot be read or written (no permission, a full disk) as a BackupError."""
    try:
        yield
    except OSError as exc:
        log.error("%s failed: %s", what_en, exc)
        raise BackupError(f"{what_vi} thất bại: {exc}", f"{what_en} failed: {exc}") from exc


def _backup(settings: Settings, dest: Path) -> Manifest:
    dest = dest.resolve()
    storage = settings.storage_path.resolve()
    if dest == storage or storage in dest.parents:
        raise Refused(
            f"Thư mục sao lưu {dest} nằm trong thư mục lưu trữ {storage}.",
            f"The backup folder {dest} is inside the storage folder {storage}.",
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Refused(
            f"Thư mục sao lưu {dest} đã có dữ liệu; hãy chọn một thư mục mới hoặc trống.",
            f"The backup folder {dest} is not empty; choose a new or empty folder.",
        )
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)  # personal data and, perhaps, the secret key
    try:
        manifest = _write_backup(settings, dest, storage)
    except BaseException:
        _remove_contents(dest, remove_root=created)
        raise
    log.info(
        "backup written to %s: %s database at revision %s, %s files (%s)",
        dest,
        manifest.database_kind,
        manifest.alembic_revision,
        len(manifest.files),
        ", ".join(f"{k} {v}" for k, v in manifest.counts.items()),
    )
    return manifest


def _write_backup(settings: Settings, dest: Path, storage: Path) -> Manifest:
    created_at = now().astimezone(UTC).isoformat(timespec="seconds")
    url = make_url(settings.database_url)
    kind = url.get_backend_name()
    if kind == "sqlite":
        revision, counts = _sqlite_snapshot(url, dest / SQLITE_FILE)
        database_file = SQLITE_FILE
    elif kind == "postgresql":
        revision, counts = _pg_snapshot(url, dest / PG_FILE)
        database_file = PG_FILE
    else:
        raise Refused(f"Không sao lưu được loại cơ sở dữ liệu {kind}.", f"Cannot back up a {kind} database.")
    files = [_entry(dest, dest / database_file)]
    # After the snapshot: every blob it references was written before its commit.
    blobs, damaged = _copy_storage(storage, dest / STORAGE)
    files += blobs
    counts["blobs"] = len(blobs)
    key_included = False
    key_file = settings.data_dir / SECRET_KEY
    if not settings.secret_key and key_file.is_file():
        target = dest / SECRET_KEY
        files.append(_copy_file(key_file, target, dest))
        target.chmod(0o600)
        key_included = True
    manifest = Manifest(
        tdcflow_version=tdcflow_version(),
        created_at=created_at,
        database_kind=kind,
        database_file=database_file,
        alembic_revision=revision,
        counts=counts,
        secret_key_included=key_included,
        files=sorted(files, key=lambda f: f.path),
        damaged_blobs=damaged,
    )
    _write_manifest(dest, manifest)
    return manifest


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise Refused(
            "Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu hay phục hồi được.",
            "An in-memory SQLite database cannot be backed up or restored.",
        )
    return Path(url.database)


def _sqlite_snapshot(url: URL, target: Path) -> tuple[str | None, dict[str, int | None]]:
    """Copy the database from one read transaction; its revision and counts from the same one."""
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(
            f"Không có tệp cơ sở dữ liệu {source_path}.", f"The database file {source_path} does not exist."
        )
    try:
        source = sqlite3.connect(source_path, isolation_level=None, timeout=30)
        try:
            source.execute("PRAGMA busy_timeout=30000")
            source.execute("BEGIN")  # the read transaction: one snapshot for the counts and the copy
            revision, counts = _read_facts(source.execute)
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
    _fsync(target)
    return revision, counts


def _read_facts(execute: Callable[[str], sqlite3.Cursor]) -> tuple[str | None, dict[str, int | None]]:
    """The Alembic revision and the counts of a SQLite database (None: no such table)."""

    def scalar(sql: str) -> Any:
        try:
            row = execute(sql).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    counts = {name: scalar(f"SELECT count(*) FROM {table}") for name, table in _COUNTED.items()}
    return scalar(f"SELECT version_num FROM {_VERSION_TABLE}"), counts


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
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


def _run_tool(args: list[str], env: dict[str, str], what_vi: str, what_en: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        log.error("%s failed (exit %s): %s", args[0], result.returncode, detail)
        raise BackupError(f"{what_vi} thất bại: {detail}", f"{what_en} failed: {detail}")


def _pg_snapshot(url: URL, target: Path) -> tuple[str | None, dict[str, int | None]]:
    """``pg_dump`` of the snapshot a REPEATABLE READ transaction exported, the counts read in it."""
    pg_dump = pg_tool("pg_dump")
    uri, env = _libpq(url)
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
            _run_tool(
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
    _fsync(target)
    return revision, counts


def _walk(root: Path) -> Iterator[Path]:
    """Every regular file under ``root``, in a stable order."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(folder) / name


def _copy_storage(source: Path, target: Path) -> tuple[list[FileEntry], list[str]]:
    """Copy the store (every file but the ones still being written); also the blobs whose bytes
    do not hash to their name (damaged in the store itself: copied as they are, and named)."""
    entries: list[FileEntry] = []
    damaged: list[str] = []
    backup_root = target.parent
    for path in _walk(source):
        if path.name.startswith(_INCOMING):
            continue
        relative = path.relative_to(source)
        try:
            entry = _copy_file(path, target / relative, backup_root)
        except FileNotFoundError:  # gone since it was listed: no snapshot references it
            continue
        entries.append(entry)
        if _SHA256.fullmatch(path.name) and entry.sha256 != path.name:
            damaged.append(str(PurePosixPath(relative)))
            log.error("blob %s in the store does not hash to its name (%s): damaged", relative, entry.sha256)
    return entries, damaged


def _copy_file(source: Path, target: Path, root: Path) -> FileEntry:
    """Copy ``source`` to ``target`` (fsynced), hashing it on the way; its entry relative to ``root``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return FileEntry(str(PurePosixPath(target.relative_to(root))), size, digest.hexdigest())


def _entry(root: Path, path: Path) -> FileEntry:
    size, digest = _hash(path)
    return FileEntry(str(PurePosixPath(path.relative_to(root))), size, digest)


def _hash(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_manifest(dest: Path, manifest: Manifest) -> None:
    """The manifest, last and atomically: a temporary file, fsynced, renamed, the folder fsynced."""
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=".manifest-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(manifest.to_json(), handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync(dest)


def _remove_contents(folder: Path, remove_root: bool) -> None:
    if remove_root:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir() if folder.exists() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# --- checking a backup -----------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupInvalid(f"Không có thư mục sao lưu {source}.", f"There is no backup folder {source}.")
    if not path.is_file():
        raise BackupInvalid(
            f"Bản sao lưu {source} không có {MANIFEST}: nó chưa hoàn tất (bị ngắt giữa chừng) hoặc không "
            "phải bản sao lưu của tdcflow.",
            f"The backup {source} has no {MANIFEST}: it is incomplete (interrupted) or not a tdcflow backup.",
        )
    try:
        manifest = Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BackupInvalid(
            f"Tệp {MANIFEST} của bản sao lưu {source} bị hỏng: {exc}",
            f"The {MANIFEST} of the backup {source} is damaged: {exc}",
        ) from exc
    return manifest


def _safe_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts and "\\" not in path


def verify(source: Path) -> Manifest:
    """Check a backup without restoring it: the manifest, every file's size and SHA-256, no file
    missing or extra, the database file readable. BackupInvalid lists every problem found."""
    with _file_errors("Kiểm tra bản sao lưu", "Checking the backup"):
        return _verify(source)


def _verify(source: Path) -> Manifest:
    source = source.resolve()
    manifest = read_manifest(source)
    problems: list[str] = []
    listed = {}
    for entry in manifest.files:
        if not _safe_relative(entry.path) or entry.path == MANIFEST:
            problems.append(f"{entry.path}: not a file a backup holds")
            continue
        listed[entry.path] = entry
    present = {str(PurePosixPath(p.relative_to(source))) for p in _walk(source) if p.name != MANIFEST}
    for path in sorted(set(listed) - present):
        problems.append(f"{path}: missing")
    for path in sorted(present - set(listed)):
        problems.append(f"{path}: not in the manifest")
    for path in sorted(set(listed) & present):
        entry = listed[path]
        size, digest = _hash(source / path)
        if size != entry.size:
            problems.append(f"{path}: {size} bytes, the manifest says {entry.size}")
        elif digest != entry.sha256:
            problems.append(f"{path}: SHA-256 {digest}, the manifest says {entry.sha256}")
    if manifest.database_file not in listed:
        problems.append(f"{manifest.database_file}: the database is not in the manifest")
    elif not problems:
        problems += _check_database(source / manifest.database_file, manifest)
    if problems:
        for problem in problems:
            log.error("backup %s: %s", source, problem)
        shown = "; ".join(problems[:5]) + (f"; … (+{len(problems) - 5})" if len(problems) > 5 else "")
        raise BackupInvalid(
            f"Bản sao lưu {source} bị hỏng hoặc không đầy đủ ({len(problems)} lỗi): {shown}",
            f"The backup {source} is damaged or incomplete ({len(problems)} problems): {shown}",
            problems,
        )
    return manifest


def _check_database(path: Path, manifest: Manifest) -> list[str]:
    if manifest.database_kind == "sqlite":
        try:
            # immutable: nothing is written beside the file (no -wal, no -shm), the folder stays as made
            with contextlib.closing(
                sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            ) as conn:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                revision, _ = _read_facts(conn.execute)
        except sqlite3.Error as exc:
            return [f"{path.name}: not a readable SQLite database ({exc})"]
        if check != "ok":
            return [f"{path.name}: quick_check says {check}"]
        if revision != manifest.alembic_revision:
            return [f"{path.name}: at revision {revision}, the manifest says {manifest.alembic_revision}"]
        return []
    try:
        pg_restore = pg_tool("pg_restore")
    except Refused:
        log.warning("pg_restore not found: %s checked by its hash only", path)
        return []
    result = subprocess.run(
        [str(pg_restore), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return [f"{path.name}: pg_restore cannot read it ({result.stderr.strip()})"]
    return []


# --- restoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    head: str | None
    upgrade_needed: bool


def restore(settings: Settings, source: Path, known_revisions: Collection[str], head: str | None) -> Restored:
    """Restore the backup in ``source`` into the configured (empty) data folder, storage folder and
    database. ``known_revisions``: the Alembic revisions this software has (a backup at another
    one was made by a newer tdcflow); ``head``: the newest of them."""
    source = source.resolve()
    manifest = verify(source)
    revision = manifest.alembic_revision
    if revision is not None and revision not in known_revisions:
        raise Refused(
            f"Bản sao lưu ở phiên bản cơ sở dữ liệu {revision}, mới hơn phiên bản tdcflow này (biết đến {head}); "
            f"nó được tạo bởi tdcflow {manifest.tdcflow_version}. Hãy phục hồi bằng bản tdcflow đó hoặc mới hơn.",
            f"The backup's database is at revision {revision}, newer than this tdcflow knows (up to {head}); "
            f"it was made by tdcflow {manifest.tdcflow_version}. Restore it with that tdcflow or a newer one.",
        )
    url = make_url(settings.database_url)
    kind = url.get_backend_name()
    if kind != manifest.database_kind:
        raise Refused(
            f"Bản sao lưu là cơ sở dữ liệu {manifest.database_kind}, còn TDCFLOW_DATABASE_URL là {kind}.",
            f"The backup holds a {manifest.database_kind} database; TDCFLOW_DATABASE_URL is {kind}.",
        )
    data_dir = settings.data_dir.resolve()
    storage = settings.storage_path.resolve()
    _require_empty_folder(data_dir, "thư mục dữ liệu", "data folder")
    _require_empty_folder(storage, "thư mục lưu trữ", "storage folder")
    if kind == "sqlite":
        db_path = _sqlite_path(url).resolve()
        for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-journal")):
            if path.exists():
                raise Refused(
                    f"Đã có tệp cơ sở dữ liệu {path}; phục hồi chỉ ghi vào chỗ trống.",
                    f"The database file {path} already exists; a restore only writes where nothing is.",
                )
    else:
        _require_empty_pg(url)

    made: list[Path] = []  # what this restore created, removed again when it fails
    try:
        for folder in (data_dir, storage):
            if not folder.exists():
                folder.mkdir(parents=True)
                made.append(folder)
        entries = {entry.path: entry for entry in manifest.files}
        for path, entry in entries.items():
            if path.startswith(f"{STORAGE}/"):
                _restore_file(source / path, storage / path.removeprefix(f"{STORAGE}/"), entry)
        if manifest.secret_key_included:
            key = data_dir / SECRET_KEY
            _restore_file(source / SECRET_KEY, key, entries[SECRET_KEY])
            key.chmod(0o600)
        if kind == "sqlite":
            db_path = _sqlite_path(url).resolve()
            db_path.parent.mkdir(parents=True, exist_ok=True)
            partial = db_path.with_name(f".{db_path.name}.restoring")
            made.append(partial)
            _restore_file(source / SQLITE_FILE, partial, entries[SQLITE_FILE])
            os.replace(partial, db_path)
            made.append(db_path)
            _fsync(db_path.parent)
        else:
            _pg_restore(url, source / PG_FILE)
    except BaseException:
        for path in reversed(made):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        # Folders that existed (empty) are emptied again.
        for folder in (data_dir, storage):
            if folder.exists():
                _remove_contents(folder, remove_root=False)
        raise
    if manifest.secret_key_included and settings.secret_key:
        log.warning(
            "TDCFLOW_SECRET_KEY is set: it, not the key restored into the data folder, is used; the "
            "audit checkpoints verify only if it is the key the backup was made with"
        )
    if not manifest.secret_key_included and not settings.secret_key:
        log.warning(
            "the backup holds no secret key (it came from TDCFLOW_SECRET_KEY): set the same one, "
            "or the audit checkpoints will not verify and every login token is void"
        )
    log.info(
        "restored %s (made %s, revision %s) into %s",
        source,
        manifest.created_at,
        revision,
        url.render_as_string(hide_password=True),
    )
    return Restored(manifest, head, upgrade_needed=revision != head)


def _require_empty_folder(folder: Path, name_vi: str, name_en: str) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Refused(
            f"{name_vi.capitalize()} {folder} không trống; phục hồi chỉ ghi vào thư mục mới hoặc trống.",
            f"The {name_en} {folder} is not empty; a restore only writes into a new or empty folder.",
        )


def _require_empty_pg(url: URL) -> None:
    uri, env = _libpq(url)
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


def _pg_restore(url: URL, dump: Path) -> None:
    """Everything in one transaction: a failed restore leaves the target database empty."""
    uri, env = _libpq(url)
    _run_tool(
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


def _restore_file(source: Path, target: Path, entry: FileEntry) -> None:
    """Copy one file of the backup, refusing it if it changed since ``verify`` read it."""
    copied = _copy_file(source, target, target.parent)
    if (copied.size, copied.sha256) != (entry.size, entry.sha256):
        raise BackupInvalid(
            f"Tệp {entry.path} của bản sao lưu đã thay đổi trong khi phục hồi.",
            f"The backup's file {entry.path} changed during the restore.",
        )
