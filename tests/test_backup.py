"""Backups and restore (``tdcflow backup`` / ``tdcflow restore``, ``workflows.backup``).

The main test is made of real processes: one keeps submitting and deciding dossiers
(``tests/backup_load.py``) while ``tdcflow backup`` runs beside it on the same database; then
``tdcflow restore`` into an empty data folder and database, and the product's own checks on what
came back: every dossier committed before the backup began is there, nothing the live database
never had, every document's and attachment's stored bytes hash to the SHA-256 recorded on it, the
audit trail verifies (chains and signed checkpoints: a torn snapshot would break them), and every
outbox event is there. The others take a small backup in-process and damage it, or aim a restore
at a place that is not empty.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

import migrations
from api.cli import main as tdcflow
from migrations.runner import alembic_config
from tests.conftest import DATABASES, make_settings, sqlite_template
from tests.deployment_support import TDCFLOW, clean_environment, fresh_pg_database, pg_server_url, wait_until
from tests.support import business, officer
from workflows import backup
from workflows.audit_verify import verify as verify_audit
from workflows.config import PROJECT_ROOT, get_settings
from workflows.db import make_engine, reading
from workflows.document_rendering import all_rendered
from workflows.models import Attachment, Document, Dossier
from workflows.runtime import Runtime, build_runtime

QUICK = {"TDCFLOW_ARGON2_TIME_COST": "1", "TDCFLOW_ARGON2_MEMORY_KIB": "1024", "TDCFLOW_SCHEDULER": "0"}


def environment(url: str, data_dir: Path) -> dict[str, str]:
    """A tdcflow process's environment: its database and data folder, the secret key kept there."""
    return clean_environment({"TDCFLOW_DATABASE_URL": url, "TDCFLOW_DATA_DIR": str(data_dir), **QUICK})


def rows(url: str, sql: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {str(row[0]) for row in conn.execute(text(sql))}
    finally:
        engine.dispose()


def live_state(url: str) -> dict[str, set[str]]:
    return {
        "dossiers": rows(url, "SELECT code FROM dossier"),
        "documents": rows(url, "SELECT id FROM document"),
        "outbox": rows(url, "SELECT id FROM outbox_event"),
    }


@contextmanager
def database_pair(kind: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The live database (migrated to the head) and an empty place to restore it to."""
    if kind == "sqlite":
        live = tmp_path / "live-db" / "tdcflow.sqlite3"  # outside the data folder, as it may be
        live.parent.mkdir()
        migrations.upgrade(f"sqlite:///{live}")
        yield f"sqlite:///{live}", f"sqlite:///{tmp_path / 'restored-db' / 'tdcflow.sqlite3'}"
        return
    server = pg_server_url()
    with ExitStack() as stack:
        live_url = stack.enter_context(fresh_pg_database(server, "tdcflow_backup_live"))
        target = stack.enter_context(fresh_pg_database(server, "tdcflow_backup_restored"))
        migrations.upgrade(live_url)
        yield live_url, target


def check_restored(rt: Runtime, manifest: dict[str, Any]) -> None:
    """What the product itself says of a restored installation, against the backup's manifest."""
    with reading(rt.engine) as session:
        dossiers = session.exec(select(Dossier)).all()
        documents = session.exec(select(Document)).all()
        attachments = session.exec(select(Attachment)).all()
    assert len(dossiers) == manifest["counts"]["dossiers"]
    assert len(documents) == manifest["counts"]["documents"] > 0
    report = verify_audit(rt.engine)
    assert report.ok, [p.line() for p in report.problems]
    assert report.events == manifest["counts"]["audit_events"] > 0
    # A document issued just before the snapshot may not have been rendered yet: the restored
    # installation renders it from what its command kept, as the worker would have.
    documents = all_rendered(rt, documents)
    stored = [(d.sha256, d.size) for d in documents]
    stored += [(d.pdf_sha256, d.pdf_size) for d in documents if d.pdf_sha256]
    stored += [(r["sha256"], r["size"]) for d in documents for r in d.renditions.values()]
    stored += [(a.sha256, a.size) for a in attachments]
    for sha256, size in stored:
        content = rt.store.read(sha256)
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (sha256, size)
    report = verify_audit(rt.engine)
    assert report.ok, [p.line() for p in report.problems]


@pytest.mark.parametrize("kind", DATABASES)
def test_a_backup_taken_while_commands_run_restores_every_dossier_document_event_and_the_audit_trail(
    kind: str, tmp_path: Path
) -> None:
    with database_pair(kind, tmp_path) as (live_url, target_url):
        live_env = environment(live_url, tmp_path / "live-data")
        stop = tmp_path / "stop"
        log_path = tmp_path / "load.log"
        with log_path.open("wb") as log_file:
            load = subprocess.Popen(
                [sys.executable, "-m", "tests.backup_load", str(stop)],
                cwd=PROJECT_ROOT,
                env=live_env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:

                def commands_done() -> int:
                    assert load.poll() is None, log_path.read_text()
                    return log_path.read_text().count("\n")

                wait_until(lambda: commands_done() >= 8, "two dossiers through the desk", timeout=120)
                before = live_state(live_url)
                done_before = commands_done()
                dest = tmp_path / "backups" / "b1"
                made = subprocess.run(
                    [str(TDCFLOW), "backup", str(dest)],
                    env=live_env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert made.returncode == 0, made.stderr
                done_during = commands_done() - done_before
                # The desk kept working: commands went on while (and after) the backup ran.
                wait_until(
                    lambda: commands_done() > done_before + done_during, "one more command", timeout=60
                )
            finally:
                stop.touch()
                load.wait(120)
        assert load.returncode == 0, log_path.read_text()
        after = live_state(live_url)
        assert done_during > 0, "no command ran while the backup did"

        manifest = json.loads((dest / "manifest.json").read_text())
        assert manifest["database"]["kind"] == kind
        assert manifest["database"]["alembic_revision"] == migrations.head()
        assert manifest["secret_key_included"] is True
        assert "Đã sao lưu" in made.stdout and "backed up" in made.stdout

        restored_dir = tmp_path / "restored-data"
        restored_env = environment(target_url, restored_dir)
        done = subprocess.run(
            [str(TDCFLOW), "restore", str(dest)],
            env=restored_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Đã phục hồi" in done.stdout and "restored" in done.stdout

        rt = build_runtime(make_settings(tmp_path, target_url, data_dir=restored_dir, secret_key=None), False)
        try:
            check_restored(rt, manifest)
            restored = live_state(target_url)
        finally:
            rt.engine.dispose()
        # Everything committed before the backup began is there, and nothing the live one never had.
        for what in ("dossiers", "documents", "outbox"):
            assert before[what] <= restored[what] <= after[what], what
        assert before["dossiers"] < after["dossiers"]
        assert len(restored["outbox"]) == manifest["counts"]["outbox_events"]


# --- damaged backups, targets that are not empty ----------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``tdcflow ARGS`` in-process with the given database and data folder: (status, out, err)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), logging.getLogger("tdcflow").level
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TDCFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("TDCFLOW_STORAGE_DIR", raising=False)

    def run(url: str, data_dir: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("TDCFLOW_DATABASE_URL", url)
        monkeypatch.setenv("TDCFLOW_DATA_DIR", str(data_dir))
        get_settings.cache_clear()
        try:
            status = tdcflow(list(args))
        except SystemExit as stopped:
            status = int(stopped.code or 0)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return status, out, err

    yield run
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    logging.getLogger("tdcflow").setLevel(level)


@pytest.fixture
def small_backup(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, cli: Any) -> Path:
    """A backup of a SQLite installation with one dossier received (uploads and documents)."""
    db = tmp_path / "small" / "tdcflow.sqlite3"
    db.parent.mkdir()
    shutil.copyfile(sqlite_template(tmp_path_factory), db)
    data_dir = tmp_path / "small-data"
    rt = build_runtime(make_settings(tmp_path, f"sqlite:///{db}", data_dir=data_dir, secret_key=None), False)
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(rt)) as client:
        firm = business(client, rt=rt)
        clerk = officer(client, rt, "clerk")
        clerk.done(firm.submitted(), {"completeness_decision": "receive"})
    rt.engine.dispose()
    dest = tmp_path / "small-backup"
    status, _, err = cli(f"sqlite:///{db}", data_dir, "backup", str(dest))
    assert status == 0, err
    return dest


def rewrite_manifest(folder: Path, change: Any) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def rehash(folder: Path, relative: str) -> None:
    """Make the manifest agree with a file changed on purpose (as a forger would)."""
    content = (folder / relative).read_bytes()

    def change(manifest: dict[str, Any]) -> None:
        entry = next(f for f in manifest["files"] if f["path"] == relative)
        entry.update(size=len(content), sha256=hashlib.sha256(content).hexdigest())

    rewrite_manifest(folder, change)


def first_blob(folder: Path) -> Path:
    return next(p for p in sorted((folder / "storage").rglob("*")) if p.is_file())


def flip_a_byte(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES = {
    # a stored document's bytes changed, its size kept: only the hash tells
    "a_corrupted_blob": (flip_a_byte, first_blob, "SHA-256"),
    # a copy cut short (a disk full, an interrupted transfer)
    "a_truncated_database": (truncate, lambda folder: folder / "database.sqlite3", "bytes"),
    # interrupted before the manifest, written last, was in place
    "no_manifest": (lambda path: path.unlink(), lambda folder: folder / "manifest.json", "manifest.json"),
    "a_missing_file": (lambda path: path.unlink(), first_blob, "missing"),
    "an_extra_file": (
        lambda path: path.write_bytes(b"x"),
        lambda folder: folder / "storage" / "extra",
        "extra",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_or_partial_backup_is_refused_and_nothing_is_restored(
    damage: str, small_backup: Path, tmp_path: Path, cli: Any
) -> None:
    spoil, target_of, named = DAMAGES[damage]
    spoil(target_of(small_backup))
    target_db = tmp_path / "target" / "tdcflow.sqlite3"
    target_dir = tmp_path / "target-data"
    status, out, err = cli(f"sqlite:///{target_db}", target_dir, "backup", "--verify", str(small_backup))
    assert status == 1 and not out
    assert named in err and "Bản sao lưu" in err and "backup" in err
    assert cli(f"sqlite:///{target_db}", target_dir, "restore", "--check", str(small_backup))[0] == 1
    status, _, err = cli(f"sqlite:///{target_db}", target_dir, "restore", str(small_backup))
    assert status == 1, err
    assert not target_db.exists() and not target_dir.exists()


def test_a_good_backup_verifies_and_a_restore_into_a_place_that_is_not_empty_is_refused(
    small_backup: Path, tmp_path: Path, cli: Any
) -> None:
    status, out, _ = cli(
        "sqlite:///unused.sqlite3", tmp_path / "unused", "backup", "--verify", str(small_backup)
    )
    assert status == 0 and "nguyên vẹn" in out and "intact" in out and "1 hồ sơ / dossiers" in out

    target_db = tmp_path / "target" / "tdcflow.sqlite3"
    data_dir = tmp_path / "target-data"
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("của ai đó")
    status, _, err = cli(f"sqlite:///{target_db}", data_dir, "restore", str(small_backup))
    assert status == 2 and str(data_dir) in err and "không trống" in err and "not empty" in err
    assert not target_db.exists()

    (data_dir / "notes.txt").unlink()
    target_db.parent.mkdir()
    target_db.write_bytes(b"")
    status, _, err = cli(f"sqlite:///{target_db}", data_dir, "restore", str(small_backup))
    assert status == 2 and "already exists" in err
    assert not any(data_dir.iterdir())

    # A backup folder that is not empty is refused as well: nothing is mixed into it.
    status, _, err = cli(f"sqlite:///{target_db}", data_dir, "backup", str(small_backup))
    assert status == 2 and "not empty" in err

    target_db.unlink()
    status, out, err = cli(f"sqlite:///{target_db}", data_dir, "restore", str(small_backup))
    assert status == 0, err
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    # A second restore onto the restored one is refused (it is not empty any more).
    assert cli(f"sqlite:///{target_db}", data_dir, "restore", str(small_backup))[0] == 2


def test_a_backup_of_a_newer_version_is_refused_and_an_older_one_is_upgraded_at_start(
    tmp_path: Path, cli: Any
) -> None:
    older = "0012"
    db = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), older)
    engine.dispose()
    dest = tmp_path / "old-backup"
    assert cli(f"sqlite:///{db}", tmp_path / "old-data", "backup", str(dest))[0] == 0

    newer = tmp_path / "newer-backup"
    shutil.copytree(dest, newer)
    with closing(sqlite3.connect(newer / "database.sqlite3")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    rehash(newer, "database.sqlite3")
    rewrite_manifest(newer, lambda m: m["database"].update(alembic_revision="9999"))
    target = tmp_path / "restored.sqlite3"
    status, _, err = cli(f"sqlite:///{target}", tmp_path / "restored-data", "restore", str(newer))
    assert status == 2 and "9999" in err and "newer" in err and "mới hơn" in err
    assert not target.exists()

    status, out, err = cli(f"sqlite:///{target}", tmp_path / "restored-data", "restore", str(dest))
    assert status == 0, err
    assert f"phiên bản {older}" in out and f"revision {older}" in out
    assert cli(f"sqlite:///{target}", tmp_path / "restored-data", "migrate", "--check")[0] == 1
    assert cli(f"sqlite:///{target}", tmp_path / "restored-data", "migrate")[0] == 0
    assert migrations.status(f"sqlite:///{target}").up_to_date


@pytest.mark.postgres
def test_a_postgres_restore_refuses_a_database_that_has_tables(tmp_path: Path, cli: Any) -> None:
    server = pg_server_url()
    with (
        fresh_pg_database(server, "tdcflow_backup_source") as source,
        fresh_pg_database(server, "tdcflow_backup_busy") as busy,
    ):
        migrations.upgrade(source)
        migrations.upgrade(busy)
        dest = tmp_path / "pg-backup"
        assert cli(source, tmp_path / "source-data", "backup", str(dest))[0] == 0
        assert cli(source, tmp_path / "x", "backup", "--verify", str(dest))[0] == 0
        status, _, err = cli(busy, tmp_path / "busy-data", "restore", str(dest))
        assert status == 2 and "already has" in err and "đã có" in err
        # A SQLite backup is not restored into PostgreSQL, nor the other way round.
        status, _, err = cli(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "y", "restore", str(dest))
        assert status == 2 and "postgresql" in err


def test_verify_reads_every_file_a_backup_lists(small_backup: Path) -> None:
    manifest = backup.verify(small_backup)
    listed = {entry.path for entry in manifest.files}
    assert "database.sqlite3" in listed and "secret_key" in listed
    assert all(path.startswith("storage/") for path in listed - {"database.sqlite3", "secret_key"})
    assert manifest.counts["dossiers"] == 1 and manifest.counts["blobs"] == len(listed) - 2


def test_a_store_with_a_damaged_file_is_backed_up_as_it_is_and_named(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, cli: Any
) -> None:
    db = tmp_path / "tdcflow.sqlite3"
    shutil.copyfile(sqlite_template(tmp_path_factory), db)
    data_dir = tmp_path / "data"
    name = hashlib.sha256(b"the bytes it was stored with").hexdigest()
    rotten = data_dir / "storage" / name[:2] / name[2:4] / name
    rotten.parent.mkdir(parents=True)
    rotten.write_bytes(b"bit rot")
    (rotten.parent / ".incoming-x1").write_bytes(b"a file still being written")
    dest = tmp_path / "backup"
    status, _, err = cli(f"sqlite:///{db}", data_dir, "backup", str(dest))
    assert status == 1 and f"{name[:2]}/{name[2:4]}/{name}" in err
    manifest = backup.verify(dest)  # the backup itself is whole: what it copied is what it lists
    assert manifest.damaged_blobs == [f"{name[:2]}/{name[2:4]}/{name}"] and manifest.counts["blobs"] == 1

    # A backup that fails half-way leaves nothing behind, not even its folder.
    failed = tmp_path / "failed"
    status, _, err = cli(f"sqlite:///{tmp_path / 'none.sqlite3'}", data_dir, "backup", str(failed))
    assert status == 3 and "does not exist" in err and not failed.exists()
