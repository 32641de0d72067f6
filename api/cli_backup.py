"""``tdcflow backup`` and ``tdcflow restore``: what they print and their exit status (the work is
``workflows.backup``'s)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli_startup import start as _start

if TYPE_CHECKING:
    from workflows.backup import BackupError, Manifest

log = logging.getLogger("tdcflow.cli")


def _print_manifest(manifest: Manifest) -> None:
    counts = manifest.counts
    print(
        f"  tạo lúc / made {manifest.created_local} (tdcflow {manifest.tdcflow_version}), "
        f"{manifest.database_kind}, phiên bản CSDL / revision {manifest.alembic_revision or '-'}"
    )
    print(
        f"  {counts.get('dossiers')} hồ sơ / dossiers, {counts.get('documents')} văn bản / documents, "
        f"{counts.get('audit_events')} sự kiện kiểm toán / audit events, "
        f"{counts.get('outbox_events')} sự kiện outbox / outbox events, {counts.get('blobs')} tệp lưu trữ / stored files"
    )


def _backup_failed(command: str, exc: BackupError) -> int:
    print(f"tdcflow {command}: {exc.message_vi}\n{exc.message_en}", file=sys.stderr)
    log.error("%s refused or failed (exit %s): %s", command, exc.exit_code, exc.message_en)
    return int(exc.exit_code)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup into a new or empty folder; ``--verify``: check one without restoring it.
    Exit status 0 done, 1 the backup is damaged or incomplete, 2 refused, 3 failed."""
    from workflows import backup

    settings = _start()
    if args.verify:
        return _check_backup("backup --verify", Path(args.path))
    try:
        manifest = backup.backup(settings, Path(args.path))
    except backup.BackupError as exc:
        return _backup_failed("backup", exc)
    print(f"Đã sao lưu / backed up into {Path(args.path).resolve()}")
    _print_manifest(manifest)
    if not manifest.secret_key_included:
        print(
            "  Khóa bí mật lấy từ TDCFLOW_SECRET_KEY, không nằm trong bản sao lưu: hãy giữ nó riêng.\n"
            "  The secret key comes from TDCFLOW_SECRET_KEY and is not in the backup: keep it yourself."
        )
    if manifest.damaged_blobs:
        print(
            f"tdcflow backup: {len(manifest.damaged_blobs)} tệp trong thư mục lưu trữ không khớp mã băm của nó "
            f"(đã sao như hiện có): {', '.join(manifest.damaged_blobs[:10])}\n"
            f"{len(manifest.damaged_blobs)} stored files do not match their hash (copied as they are)",
            file=sys.stderr,
        )
        return 1
    return 0


def _check_backup(command: str, path: Path) -> int:
    from workflows import backup

    try:
        manifest = backup.verify(path)
    except backup.BackupError as exc:
        return _backup_failed(command, exc)
    print(f"Bản sao lưu nguyên vẹn / the backup is intact: {path.resolve()} ({len(manifest.files)} files)")
    _print_manifest(manifest)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into the configured, empty data folder, storage folder and database;
    ``--check``: only verify it. Exit status as for ``backup``."""
    from sqlalchemy.engine import make_url

    from migrations import head
    from migrations.runner import scripts
    from workflows import backup

    settings = _start()
    source = Path(args.path)
    if args.check:
        return _check_backup("restore --check", source)
    known = {script.revision for script in scripts().walk_revisions()}
    try:
        done = backup.restore(settings, source, known, head())
    except backup.BackupError as exc:
        return _backup_failed("restore", exc)
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"Đã phục hồi / restored {source.resolve()}")
    print(f"  vào / into {where}, {settings.data_dir}, {settings.storage_path}")
    _print_manifest(done.manifest)
    if done.upgrade_needed:
        print(
            f"  Cơ sở dữ liệu ở phiên bản {done.manifest.alembic_revision}: 'tdcflow migrate' (hoặc lần "
            f"khởi động tới) nâng cấp lên {done.head}.\n"
            f"  The database is at revision {done.manifest.alembic_revision}: 'tdcflow migrate' (or the next "
            f"start) upgrades it to {done.head}."
        )
    return 0
