"""The backup folder's format: its manifest, its files (copied, hashed and fsynced) and the errors a
backup or restore reports (see ``workflows.backup`` for what a backup holds)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from workflows.clock import to_local

log = logging.getLogger("tdcflow.backup")

FORMAT = "tdcflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
STORAGE = "storage"
SECRET_KEY = "secret_key"
_CHUNK = 1024 * 1024


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


@contextlib.contextmanager
def file_errors(what_vi: str, what_en: str) -> Iterator[None]:
    """A file that cannot be read or written (no permission, a full disk) as a BackupError."""
    try:
        yield
    except OSError as exc:
        log.error("%s failed: %s", what_en, exc)
        raise BackupError(f"{what_vi} thất bại: {exc}", f"{what_en} failed: {exc}") from exc


def walk_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root``, in a stable order."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(folder) / name


def copy_file(source: Path, target: Path, root: Path) -> FileEntry:
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


def file_entry(root: Path, path: Path) -> FileEntry:
    size, digest = hash_file(path)
    return FileEntry(str(PurePosixPath(path.relative_to(root))), size, digest)


def hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(dest: Path, manifest: Manifest) -> None:
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
    fsync(dest)


def remove_contents(folder: Path, remove_root: bool) -> None:
    if remove_root:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir() if folder.exists() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


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


def safe_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts and "\\" not in path
