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

import logging
import os
import re
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import make_url

from workflows.backup_database import (
    check_database,
    pg_restore,
    pg_snapshot,
    require_empty_pg,
    sqlite_path,
    sqlite_snapshot,
)
from workflows.backup_files import (
    MANIFEST,
    PG_FILE,
    SECRET_KEY,
    SQLITE_FILE,
    STORAGE,
    BackupError,
    BackupInvalid,
    FileEntry,
    Manifest,
    Refused,
    copy_file,
    file_entry,
    file_errors,
    fsync,
    hash_file,
    read_manifest,
    remove_contents,
    safe_relative,
    tdcflow_version,
    walk_files,
    write_manifest,
)
from workflows.clock import now
from workflows.config import Settings

__all__ = ["BackupError", "BackupInvalid", "Manifest", "Refused", "Restored", "backup", "restore", "verify"]

log = logging.getLogger("tdcflow.backup")

# The files BlobStore.put writes before renaming them into place: a copy in flight, not a blob.
_INCOMING = ".incoming-"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def backup(settings: Settings, dest: Path) -> Manifest:
    """Write a backup of the configured database and storage into ``dest`` (new or empty).

    On any failure what was written is removed again (a backup killed outright has no manifest,
    which is what ``verify`` looks for first)."""
    with file_errors("Sao lưu", "The backup"):
        return _backup(settings, dest)


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
        remove_contents(dest, remove_root=created)
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
        revision, counts = sqlite_snapshot(url, dest / SQLITE_FILE)
        database_file = SQLITE_FILE
    elif kind == "postgresql":
        revision, counts = pg_snapshot(url, dest / PG_FILE)
        database_file = PG_FILE
    else:
        raise Refused(f"Không sao lưu được loại cơ sở dữ liệu {kind}.", f"Cannot back up a {kind} database.")
    files = [file_entry(dest, dest / database_file)]
    # After the snapshot: every blob it references was written before its commit.
    blobs, damaged = _copy_storage(storage, dest / STORAGE)
    files += blobs
    counts["blobs"] = len(blobs)
    key_included = False
    key_file = settings.data_dir / SECRET_KEY
    if not settings.secret_key and key_file.is_file():
        target = dest / SECRET_KEY
        files.append(copy_file(key_file, target, dest))
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
    write_manifest(dest, manifest)
    return manifest


def _copy_storage(source: Path, target: Path) -> tuple[list[FileEntry], list[str]]:
    """Copy the store (every file but the ones still being written); also the blobs whose bytes
    do not hash to their name (damaged in the store itself: copied as they are, and named)."""
    entries: list[FileEntry] = []
    damaged: list[str] = []
    backup_root = target.parent
    for path in walk_files(source):
        if path.name.startswith(_INCOMING):
            continue
        relative = path.relative_to(source)
        try:
            entry = copy_file(path, target / relative, backup_root)
        except FileNotFoundError:  # gone since it was listed: no snapshot references it
            continue
        entries.append(entry)
        if _SHA256.fullmatch(path.name) and entry.sha256 != path.name:
            damaged.append(str(PurePosixPath(relative)))
            log.error("blob %s in the store does not hash to its name (%s): damaged", relative, entry.sha256)
    return entries, damaged


def verify(source: Path) -> Manifest:
    """Check a backup without restoring it: the manifest, every file's size and SHA-256, no file
    missing or extra, the database file readable. BackupInvalid lists every problem found."""
    with file_errors("Kiểm tra bản sao lưu", "Checking the backup"):
        return _verify(source)


def _verify(source: Path) -> Manifest:
    source = source.resolve()
    manifest = read_manifest(source)
    problems: list[str] = []
    listed = {}
    for entry in manifest.files:
        if not safe_relative(entry.path) or entry.path == MANIFEST:
            problems.append(f"{entry.path}: not a file a backup holds")
            continue
        listed[entry.path] = entry
    present = {str(PurePosixPath(p.relative_to(source))) for p in walk_files(source) if p.name != MANIFEST}
    for path in sorted(set(listed) - present):
        problems.append(f"{path}: missing")
    for path in sorted(present - set(listed)):
        problems.append(f"{path}: not in the manifest")
    for path in sorted(set(listed) & present):
        entry = listed[path]
        size, digest = hash_file(source / path)
        if size != entry.size:
            problems.append(f"{path}: {size} bytes, the manifest says {entry.size}")
        elif digest != entry.sha256:
            problems.append(f"{path}: SHA-256 {digest}, the manifest says {entry.sha256}")
    if manifest.database_file not in listed:
        problems.append(f"{manifest.database_file}: the database is not in the manifest")
    elif not problems:
        problems += check_database(source / manifest.database_file, manifest)
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
        db_path = sqlite_path(url).resolve()
        for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-journal")):
            if path.exists():
                raise Refused(
                    f"Đã có tệp cơ sở dữ liệu {path}; phục hồi chỉ ghi vào chỗ trống.",
                    f"The database file {path} already exists; a restore only writes where nothing is.",
                )
    else:
        require_empty_pg(url)

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
            db_path = sqlite_path(url).resolve()
            db_path.parent.mkdir(parents=True, exist_ok=True)
            partial = db_path.with_name(f".{db_path.name}.restoring")
            made.append(partial)
            _restore_file(source / SQLITE_FILE, partial, entries[SQLITE_FILE])
            os.replace(partial, db_path)
            made.append(db_path)
            fsync(db_path.parent)
        else:
            pg_restore(url, source / PG_FILE)
    except BaseException:
        for path in reversed(made):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        # Folders that existed (empty) are emptied again.
        for folder in (data_dir, storage):
            if folder.exists():
                remove_contents(folder, remove_root=False)
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


def _restore_file(source: Path, target: Path, entry: FileEntry) -> None:
    """Copy one file of the backup, refusing it if it changed since ``verify`` read it."""
    copied = copy_file(source, target, target.parent)
    if (copied.size, copied.sha256) != (entry.size, entry.sha256):
        raise BackupInvalid(
            f"Tệp {entry.path} của bản sao lưu đã thay đổi trong khi phục hồi.",
            f"The backup's file {entry.path} changed during the restore.",
        )
