"""Scheduler benchmark: one tick over N open dossiers with deadlines, nothing due and some due.

    .venv/bin/python bench/timers.py [--dossiers 100000] [--runs 30] [--database-url URL]

Loads N open dossiers (each with a process instance whose timer is due in the future, and a
reminder and an escalation alarm in the future) with bulk inserts, then times ``scheduler.tick``:
the median and p90 of ``--runs`` ticks when nothing is due (the common case: target < 50 ms), and
the time to fire a batch of due alarms. Default database: a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, update
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_settings
from workflows.clock import now
from workflows.db import drop_schema, transaction
from workflows.models import Alarm, Dossier, ModelVersion, ProcessInstance, User
from workflows.runtime import build_runtime
from workflows.scheduler import tick

CHUNK = 5_000


def load(rt, count: int) -> None:  # type: ignore[no-untyped-def]
    start = now()
    with transaction(rt.engine) as session:
        user = User(
            email="bench@firm.vn",
            password_hash="x",
            full_name="Bench",
            roles=["business"],
            tax_code="0100109106",
        )
        session.add(user)
        session.flush()
        user_id = user.id
        version_id = session.exec(select(ModelVersion.id)).first()
    for offset in range(0, count, CHUNK):
        size = min(CHUNK, count - offset)
        with rt.engine.begin() as conn:
            conn.execute(
                insert(Dossier),
                [
                    {
                        "id": offset + i + 1,
                        "code": f"BENCH-{offset + i:07d}",
                        "procedure_code": "cong-bo-hop-chuan-hop-quy",
                        "applicant_id": user_id,
                        "applicant_name": "Bench",
                        "applicant_tax_code": "0100109106",
                        "subject": "x",
                        "status": "processing",
                        "data": {},
                        "submitted_at": start,
                        "updated_at": start,
                        "received_at": start,
                        "appointment_at": start + timedelta(days=3),
                        "legal_due_at": start + timedelta(days=5),
                        "extension_days": 0,
                    }
                    for i in range(size)
                ],
            )
            conn.execute(
                insert(ProcessInstance),
                [
                    {
                        "dossier_id": offset + i + 1,
                        "model_version_id": version_id,
                        "state": "{}",
                        "version": 1,
                        "completed": False,
                        "next_timer_at": start + timedelta(days=10, seconds=i),
                    }
                    for i in range(size)
                ],
            )
            conn.execute(
                insert(Alarm),
                [
                    {
                        "dossier_id": offset + i + 1,
                        "kind": kind,
                        "due_at": start + timedelta(days=days, seconds=i),
                        "recipient_role": "clerk",
                    }
                    for i in range(size)
                    for kind, days in (("task_reminder", 1), ("task_escalation", 2))
                ],
            )


def run(database_url: str | None, count: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        rt = build_runtime(make_settings(Path(tmp), url))
        try:
            t0 = time.perf_counter()
            load(rt, count)
            print(
                f"database: {rt.engine.dialect.name}; loaded {count} open dossiers, {2 * count} alarms "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            idle = []
            for _ in range(runs):
                t0 = time.perf_counter()
                report = tick(rt)
                idle.append((time.perf_counter() - t0) * 1000)
                assert report.timers == report.alarms == 0
            idle.sort()
            print(
                f"tick, nothing due:      median {statistics.median(idle):7.2f} ms   "
                f"p90 {idle[int(0.9 * (len(idle) - 1))]:7.2f} ms   ({runs} ticks)"
            )
            # Make 200 alarms due and time the tick that fires them.
            with rt.engine.begin() as conn:
                conn.execute(
                    update(Alarm).where(Alarm.dossier_id <= 100).values(due_at=now() - timedelta(minutes=1))
                )
            t0 = time.perf_counter()
            report = tick(rt)
            elapsed = (time.perf_counter() - t0) * 1000
            print(
                f"tick, {report.alarms} alarms due:  {elapsed:7.2f} ms   ({elapsed / max(report.alarms, 1):.2f} ms each)"
            )
        finally:
            if database_url:
                drop_schema(rt.engine)
            rt.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    run(args.database_url, args.dossiers, args.runs)


if __name__ == "__main__":
    main()
