"""The ``tdcflow`` command: serve, worker, demo, migrate, check, resume, audit verify, signing demo-pki,
backup, restore."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from api import cli_backup
from api.cli_startup import start as _start
from workflows.catalogue import CatalogueError
from workflows.config import Settings, get_settings

log = logging.getLogger("tdcflow.cli")


def _runtime(upgrade: bool = False):  # type: ignore[no-untyped-def]
    """The runtime on the configured database. ``upgrade``: bring the database to the head first
    (serve, worker, demo); otherwise refuse one that ``tdcflow migrate`` has not brought there."""
    from migrations import MigrationRefused, require_current, upgrade_on_start
    from workflows.db import SchemaOutOfDate
    from workflows.runtime import build_runtime

    url = get_settings().database_url
    try:
        if upgrade:
            upgrade_on_start(url)
            return build_runtime(create_tables=False)
        try:
            # The catalogue is checked first: its faults are reported whatever the database.
            rt = build_runtime(create_tables=False)
        except SchemaOutOfDate:
            require_current(url)  # says where the database stands, when it can
            raise
        try:
            require_current(url)
        except MigrationRefused:
            rt.engine.dispose()
            raise
        return rt
    except (CatalogueError, SchemaOutOfDate, MigrationRefused) as exc:
        print(f"tdcflow: cannot start — {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the database to this version's schema (Alembic); ``--check`` only says whether it is
    there (exit status 1 when not), ``--sql`` prints the SQL an upgrade would run."""
    from sqlalchemy.engine import make_url

    from migrations import MigrationRefused, describe, offline_sql, status, upgrade

    url = _start().database_url
    try:
        if args.sql:
            sys.stdout.write(offline_sql(url))
            return 0
        print(f"Cơ sở dữ liệu / database: {make_url(url).render_as_string(hide_password=True)}")
        if args.check:
            state = status(url)
            print(f"  phiên bản hiện tại / current revision: {describe(state.current)}")
            if state.adoptable:
                print(
                    f"  tạo trước khi có migration, khớp / made before migrations, matches: {describe(state.adoptable)}"
                )
            print(f"  phiên bản mới nhất / head revision: {describe(state.head)}")
            if state.up_to_date:
                print("Đã ở phiên bản mới nhất / up to date")
                return 0
            print(f"Cần nâng cấp ('tdcflow migrate') / to upgrade: {', '.join(state.pending) or '-'}")
            return 1
        done = upgrade(url)
    except MigrationRefused as exc:
        print(f"tdcflow migrate: {exc.message_vi}\n{exc.message_en}", file=sys.stderr)
        return 2
    if done.adopted:
        print(
            "  tạo trước khi có migration; đã đánh dấu / made before migrations; stamped: "
            f"{describe(done.adopted)}"
        )
    start = done.adopted or done.before
    if done.applied:
        print(f"  từ / from: {describe(start)}")
        print(f"  lên / to:  {describe(done.after)}")
        print(f"Đã nâng cấp / upgraded ({len(done.applied)}: {', '.join(done.applied)})")
    else:
        print(f"Đã ở phiên bản mới nhất / already at the head: {describe(done.after)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Parse and cross-check the catalogue, models and forms; with --instances, list stuck dossiers."""
    _start()
    rt = _runtime()
    for procedure in rt.catalogue.all_versions():
        dates = ""
        if procedure.effective_from or procedure.effective_until:
            since = f"{procedure.effective_from:%d/%m/%Y}" if procedure.effective_from else "…"
            until = f"{procedure.effective_until:%d/%m/%Y}" if procedure.effective_until else "…"
            dates = f"  rules {since}–{until}"
        print(
            f"ok  {procedure.code}  ({procedure.process_id}, model version {rt.model_version_of(procedure)}){dates}"
        )
    if not args.instances:
        return 0
    from workflows.stuck_instances import find_stuck

    stuck = find_stuck(rt)
    for item in stuck:
        mark = "resumable" if item.resumable else "look at it"
        print(f"STUCK  {item.code}  {item.procedure_code}  status={item.status}  [{mark}]  {item.describe()}")
    if stuck:
        print(
            f"{len(stuck)} hồ sơ bị kẹt / stuck dossier(s); "
            "'tdcflow resume --by ADMIN_EMAIL' khôi phục các hồ sơ 'resumable' / resumes the resumable ones",
            file=sys.stderr,
        )
        return 1
    print("Không có hồ sơ bị kẹt / no stuck dossier")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Check a procedure version bundle (folder or .zip) and deploy it, as an administrator."""
    from workflows import deployments
    from workflows.errors import DomainError
    from workflows.stuck_instances import admin_by_email

    _start()
    rt = _runtime()
    path = Path(args.path)
    try:
        files = deployments.read_zip(path.read_bytes()) if path.is_file() else deployments.read_folder(path)
        if args.check:
            prepared = deployments.prepare(rt, files)
            print(
                f"ok  {prepared.procedure.code}  effective {prepared.procedure.effective_from:%d/%m/%Y}  "
                f"bundle {prepared.sha256[:12]}  (not deployed / chưa triển khai)"
            )
            return 0
        if not args.by:
            print("tdcflow deploy: --by ADMIN_EMAIL là bắt buộc / is required (or --check)", file=sys.stderr)
            return 2
        admin = admin_by_email(rt, args.by)
        row = deployments.deploy(rt, admin, files, note=args.note)
    except DomainError as exc:
        problems = "; ".join(f"{p.message_en}" for p in exc.fields) or exc.message_en
        print(f"tdcflow deploy: {exc.message} / {problems}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tdcflow deploy: không đọc được / cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    print(
        f"Đã triển khai / deployed  {row.procedure_code}  version d{row.id}  "
        f"effective {row.effective_from:%d/%m/%Y}  bundle {row.bundle_sha256[:12]}"
    )
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Resume stuck dossiers (all resumable ones, or the codes given), as an administrator."""
    from workflows.errors import DomainError
    from workflows.stuck_instances import admin_by_email, find_stuck, resume

    _start()
    rt = _runtime()
    try:
        admin = admin_by_email(rt, args.by)
    except DomainError as exc:
        print(f"tdcflow resume: {exc.message} / {exc.message_en}", file=sys.stderr)
        return 2
    codes = args.codes or [item.code for item in find_stuck(rt) if item.resumable]
    failed = 0
    for code in codes:
        try:
            counted = resume(rt, admin, code)
        except DomainError as exc:
            print(f"not resumed  {code}: {exc.message} / {exc.message_en}", file=sys.stderr)
            failed += 1
            continue
        steps = ", ".join(f"{j.name}: {j.instances}" for j in counted)
        print(f"resumed  {code}  ({steps})")
    if not codes:
        print("Không có hồ sơ cần khôi phục / nothing to resume")
    return 1 if failed else 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check every audit stream, its checkpoint and the daily roots; exit 1 naming each broken
    stream's first broken event, 0 with a summary when all is intact."""
    from workflows.audit_verify import verify

    _start()
    rt = _runtime()
    try:
        report = verify(rt.engine)
    finally:
        rt.engine.dispose()
    if report.ok:
        print(f"ok  {report.summary_vi()}")
        print(f"ok  {report.summary_en()}")
        return 0
    for problem in report.problems[: args.limit]:
        print(f"BROKEN  {problem.line()}")
    hidden = len(report.problems) - args.limit
    if hidden > 0:
        print(f"… {hidden} vấn đề nữa / more problems")
    broken = len(report.broken_streams)
    print(
        f"Nhật ký kiểm toán bị can thiệp: {broken} luồng hỏng ({report.summary_vi()})\n"
        f"The audit trail was tampered with: {broken} broken stream(s) ({report.summary_en()})",
        file=sys.stderr,
    )
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from workflows.demo import create_demo_accounts, create_demo_dossiers

    settings = _start()
    if not (settings.demo_mode or args.force):
        print(
            "tdcflow demo: refusing outside demo mode (set TDCFLOW_DEMO_MODE=1 or pass --force).",
            file=sys.stderr,
        )
        return 2
    from api.base_url import apply_recorded

    apply_recorded(settings)
    rt = _runtime(upgrade=True)
    created = create_demo_accounts(rt)
    if created:
        codes = create_demo_dossiers(rt)
        print(f"Demo dossiers: {', '.join(codes)}")
    from workflows.metrology.demo import DEMO_API_KEY, create_metrology_demo

    create_metrology_demo(rt)  # once: instruments, a body and its key, warnings (issue 18)
    # The demo's documents are signed now, so the first page shown has their official copies.
    from workflows import document_signing

    while document_signing.sign_due(rt, max_items=200).signed:
        pass
    left = document_signing.pending_count(rt)
    if left:
        print(f"tdcflow demo: {left} documents are not signed yet (see the log); the worker retries.")
    print("Tài khoản demo / demo accounts (e-mail, mật khẩu / password, vai trò / role):")
    from workflows.demo import demo_accounts

    for account in demo_accounts(rt):
        print(f"  {account.email:32} {account.password:24} {', '.join(account.roles)}")
    print(f"Khóa API demo của tổ chức kiểm định / demo verification body's API key: {DEMO_API_KEY}")
    print(f"Database: {settings.database_url}")
    return 0


# How long a web worker may take to answer uvicorn's supervisor before it is killed and restarted.
WORKER_PING_SECONDS = 60


def serve_workers(args: argparse.Namespace, settings: Settings) -> int:
    """How many processes serve: ``--workers``, else TDCFLOW_WEB_WORKERS, else one per CPU available."""
    import os

    return args.workers or settings.web_workers or len(os.sched_getaffinity(0)) or 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app. With several workers (uvicorn's processes, each importing the app through
    ``api.main:served_app``) the database is migrated here, once, before they start; each may run
    the in-process scheduler, and the scheduler lock lets one of them do the work."""
    import os

    import uvicorn

    from api.base_url import apply_served

    settings = _start()
    apply_served(settings, args.host, args.port)
    workers = serve_workers(args, settings)
    # uvicorn keeps the logging configured by _start (no log_config, no level of its own). It
    # believes X-Forwarded-For/-Proto from the same proxies as the login throttle does.
    options = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "log_level": None,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies or "",
    }
    if workers == 1:
        from api.main import create_app

        uvicorn.run(create_app(_runtime(upgrade=True)), **options)
        return 0
    _runtime(upgrade=True).engine.dispose()
    # The workers read the settings from the environment: the address served travels with it.
    os.environ["TDCFLOW_BASE_URL"] = settings.base_url
    log.info("serving with %s worker processes", workers)
    # uvicorn's supervisor kills a worker that does not answer its ping within the timeout: a worker
    # still importing and loading the catalogue on a busy machine (seconds of CPU) is not hung.
    uvicorn.run(
        "api.main:served_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_PING_SECONDS,
        **options,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """The scheduler alone (timers, alarms, notifications, digest); run the web app with
    TDCFLOW_SCHEDULER=0 beside it. ``--check``: is a scheduler of this host ticking?"""
    settings = _start()
    if args.check:
        return _check_worker(settings, any_host=args.any_host)
    from api.base_url import apply_recorded
    from api.jobs import scheduler_jobs  # before the runtime: registers every room's tables
    from workflows.scheduler import run_forever

    apply_recorded(settings)

    rt = _runtime(upgrade=True)
    jobs = scheduler_jobs(rt)
    log.info(
        "worker: a tick every %s s (timers, alarms) and the jobs %s",
        settings.tick_seconds,
        ", ".join(job_id for _, _, job_id in jobs),
    )
    run_forever(rt, jobs)
    return 0


def _check_worker(settings: Settings, any_host: bool) -> int:
    """Exit 0 when a scheduler of this host (of any host with ``any_host``) ticked recently, else 1.
    Reads the heartbeats only: quick enough for a container health check."""
    import socket

    from sqlalchemy.exc import SQLAlchemyError

    from workflows.clock import to_local
    from workflows.db import make_engine
    from workflows.heartbeat import readiness

    engine = make_engine(settings.database_url)
    try:
        state = readiness(engine, None if any_host else socket.gethostname())
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        print(
            f"tdcflow worker --check: không đọc được cơ sở dữ liệu / cannot read the database: {reason}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    problem = state.problem()
    if problem is not None:
        print(f"tdcflow worker --check: {problem.message}\n{problem.message_en}", file=sys.stderr)
        return 1
    latest = state.latest
    assert latest is not None and latest.last_tick_at is not None
    last = to_local(latest.last_tick_at).isoformat(timespec="seconds")
    print(f"ok  {latest.name}  lượt chạy gần nhất / last tick {last}")
    return 0


def cmd_signing_demo_pki(args: argparse.Namespace) -> int:
    """Create the demo PKI (once) and print the settings that use it, as shell ``export`` lines on
    stdout (``eval "$(tdcflow signing demo-pki DIR)"``); the explanation goes to stderr."""
    import shlex

    from workflows.signing import create_demo_pki, demo_pki_env

    settings = _start()
    place = settings.agency_parent.removeprefix("UBND ").strip()
    agency = args.agency or f"{settings.agency_name} {place}".strip()
    dest = create_demo_pki(Path(args.dest) if args.dest else settings.data_dir / "demo-pki", agency)
    print(
        f"PKI demo trong {dest} — KHÔNG dùng thật; đặt các biến sau để ký văn bản bằng nó:\n"
        f"Demo PKI in {dest} — NOT for real use; set these variables to sign with it:",
        file=sys.stderr,
    )
    for name, value in demo_pki_env(dest).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tdcflow", description="Một cửa điện tử TĐC / TĐC online one-stop shop"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app and API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_at_least_one,
        default=None,
        help="worker processes (default: TDCFLOW_WEB_WORKERS, else one per CPU)",
    )
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", help="create the database, demo accounts and demo dossiers")
    demo.add_argument("--force", action="store_true", help="run even when TDCFLOW_DEMO_MODE is not set")
    demo.set_defaults(func=cmd_demo)
    worker = sub.add_parser(
        "worker", help="run the scheduler (timers, SLA alarms, notifications, digest) without the web app"
    )
    worker.add_argument(
        "--check",
        action="store_true",
        help="exit 0 when a scheduler of this host ticked recently, 1 otherwise (a container health check)",
    )
    worker.add_argument(
        "--any-host", action="store_true", help="with --check: a scheduler of any host will do"
    )
    worker.set_defaults(func=cmd_worker)
    migrate = sub.add_parser(
        "migrate",
        help="upgrade the database to this version's schema (serve, worker and demo do it at start-up)",
    )
    how = migrate.add_mutually_exclusive_group()
    how.add_argument(
        "--check", action="store_true", help="only say whether it is up to date (exit status 1 when not)"
    )
    how.add_argument("--sql", action="store_true", help="print the SQL the upgrade would run, change nothing")
    migrate.set_defaults(func=cmd_migrate)
    check = sub.add_parser("check", help="validate the catalogue, models and forms")
    check.add_argument(
        "--instances",
        action="store_true",
        help="also list dossiers whose process nothing can move (exit status 1 when there are some)",
    )
    check.set_defaults(func=cmd_check)
    deploy = sub.add_parser("deploy", help="check and deploy a procedure version (a folder or .zip bundle)")
    deploy.add_argument("path", help="the bundle: a folder with procedure.toml, or a .zip of it")
    deploy.add_argument("--by", help="the deploying administrator's e-mail (required unless --check)")
    deploy.add_argument("--check", action="store_true", help="check only, deploy nothing")
    deploy.add_argument("--note", default="", help="why (the deciding document)")
    deploy.set_defaults(func=cmd_deploy)
    resume = sub.add_parser(
        "resume", help="resume stuck dossiers (see 'check --instances'); audited as the given administrator"
    )
    resume.add_argument("codes", nargs="*", help="dossier codes (default: every resumable stuck dossier)")
    resume.add_argument("--by", required=True, metavar="ADMIN_EMAIL", help="the administrator acting")
    resume.set_defaults(func=cmd_resume)
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check every stream's hash chain, its signed checkpoint and the daily roots "
        "(exit status 1 naming the first broken event of each broken stream)",
    )
    verify.add_argument("--limit", type=int, default=100, help="print at most this many problems")
    verify.set_defaults(func=cmd_audit_verify)
    signing = sub.add_parser("signing", help="signing of issued documents (PAdES)")
    signing_sub = signing.add_subparsers(dest="signing_command", required=True)
    demo_pki = signing_sub.add_parser(
        "demo-pki",
        help="create (once) a DEMO CA and the agency's certificate as PKCS#12, and print the "
        "TDCFLOW_SIGNING_* variables to set",
    )
    demo_pki.add_argument(
        "dest", nargs="?", help="folder (default: TDCFLOW_DATA_DIR/demo-pki, i.e. var/demo-pki)"
    )
    demo_pki.add_argument(
        "--agency", help="the agency's name in the certificate (default: from the settings)"
    )
    demo_pki.set_defaults(func=cmd_signing_demo_pki)
    backup_cmd = sub.add_parser(
        "backup",
        help="write a consistent backup (database, stored files, manifest with SHA-256s) into a new "
        "or empty folder, while tdcflow runs; exit 0 done, 1 damaged, 2 refused, 3 failed",
    )
    backup_cmd.add_argument("path", metavar="DEST", help="the backup folder (new or empty)")
    backup_cmd.add_argument(
        "--verify", action="store_true", help="check the backup in DEST (hashes, sizes, files) instead"
    )
    backup_cmd.set_defaults(func=cli_backup.cmd_backup)
    restore_cmd = sub.add_parser(
        "restore",
        help="restore a backup into an empty data folder, storage folder and database (refuses a "
        "damaged or incomplete backup, or one newer than this version)",
    )
    restore_cmd.add_argument("path", metavar="SRC", help="the backup folder")
    restore_cmd.add_argument("--check", action="store_true", help="only verify the backup, restore nothing")
    restore_cmd.set_defaults(func=cli_backup.cmd_restore)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
