"""Storage benchmark: bytes of database per finished declaration, deliveries included, by table.

    .venv/bin/python bench/storage.py [--dossiers 50] [--rounds 3] [--database-url URL]

Each round starts from an empty database (a fresh SQLite file unless --database-url is given), sets
up the bench's people (``bench/engine.py``), measures the database, then runs N declarations end to
end through the commands (submit → receive → examine → approve, the notice issued) and the
scheduler's work after every command (the notifications' fan-out and sending, to a real SMTP
server on loopback; the issued documents rendered), and measures again. Prints, as the median over rounds (with the range), the growth
per finished dossier by table (indexes counted with their table): SQLite pages from the ``dbstat``
virtual table, PostgreSQL ``pg_total_relation_size``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline import declaration
from bench.engine import PROCEDURE, open_task, setup_people
from notifications import dispatch
from tests.conftest import make_settings
from tests.notifications_support import start_smtp
from workflows import commands, submission
from workflows.db import drop_schema
from workflows.demo import DEMO_PDF
from workflows.document_rendering import render_due
from workflows.runtime import Runtime, build_runtime

STEPS = [
    ("clerk", {"completeness_decision": "receive"}),
    ("specialist", {"examination_findings": "Đạt.", "examination_conclusion": "accept"}),
    ("leader", {"approval_decision": "approve"}),
]


def table_bytes(rt: Runtime) -> dict[str, int]:
    """Bytes each table takes with its indexes (SQLite: pages in use; PostgreSQL: relation size)."""
    with rt.engine.connect() as connection:
        if rt.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            rows = connection.execute(
                text(
                    "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                    "LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY 1"
                )
            ).all()
        else:
            rows = connection.execute(
                text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
                )
            ).all()
    return {name: int(size) for name, size in rows}


def after_command(rt: Runtime) -> None:
    """What the scheduler does after a command: the notifications sent, the issued documents
    rendered (their ``document_rendering`` rows, which hold what a document says until then, go)."""
    dispatch(rt)
    render_due(rt)


def run_declarations(rt: Runtime, dossiers: int) -> None:
    """N declarations end to end, the scheduler's work done after each command."""
    people = setup_people(rt)
    firm = people["business"]
    after_command(rt)
    for n in range(dossiers):
        ids = {
            field: commands.upload_attachment(rt, firm, f"{field}.pdf", DEMO_PDF).id
            for field in ("declaration_form", "business_registration", "certificate_copy")
        }
        dossier, _ = submission.submit_dossier(rt, firm, PROCEDURE, declaration(n, firm.tax_code, ids))
        after_command(rt)
        for role, step_data in STEPS:
            commands.complete_task(rt, people[role], open_task(rt, dossier.code), step_data)
            after_command(rt)


def run_round(database_url: str | None, dossiers: int) -> dict[str, float]:
    controller, sink = start_smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
            settings = make_settings(
                Path(tmp), url, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False
            )
            rt = build_runtime(settings)
            try:
                before = table_bytes(rt)
                run_declarations(rt, dossiers)
                after = table_bytes(rt)
            finally:
                if database_url:
                    drop_schema(rt.engine)
                rt.engine.dispose()
            if len(sink.mails) == 0:
                raise SystemExit("no e-mail was sent: the dispatcher did not run")
            grown = {name: (after.get(name, 0) - before.get(name, 0)) / dossiers for name in after}
            grown["(total)"] = sum(grown.values())
            grown["(e-mails sent)"] = len(sink.mails) / dossiers
            return grown
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per round")
    args = parser.parse_args()
    rounds = [run_round(args.database_url, args.dossiers) for _ in range(args.rounds)]
    by_table: dict[str, list[float]] = defaultdict(list)
    for result in rounds:
        for name, value in result.items():
            by_table[name].append(value)
    print(
        f"database: {args.database_url or 'sqlite (file)'}; {args.dossiers} finished declarations with "
        f"their notifications, {args.rounds} rounds; bytes per dossier, median [min–max] over rounds"
    )
    total = by_table.pop("(total)")
    mails = by_table.pop("(e-mails sent)")
    for name, values in sorted(by_table.items(), key=lambda item: -statistics.median(item[1])):
        if max(abs(v) for v in values) < 1:
            continue
        print(f"  {name:28} {statistics.median(values):9.0f}   [{min(values):.0f}–{max(values):.0f}]")
    print(f"  {'TOTAL':28} {statistics.median(total):9.0f}   [{min(total):.0f}–{max(total):.0f}]")
    print(f"  e-mails sent per dossier: {statistics.median(mails):.1f}")


if __name__ == "__main__":
    main()
