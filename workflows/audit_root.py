"""The daily root hash over every audit stream's head, made once a day by the scheduler.

The root of a day is the SHA-256 of the previous day's root followed by one line per stream
(sorted by name): the stream, its number of events and its head hash, as the checkpoints say at
that moment. Each root is signed (HMAC, the audit key) and chained to the one before, so rewriting
a checkpoint or deleting a whole stream with its checkpoint no longer matches the roots already
made; and a root leaves the database: the administration page shows it and the officers' digest
e-mails carry it, where no database write can reach.

A root stores only the heads that moved since the previous root (``AuditRoot.heads``); the full
list of a day is the fold of every root up to it. Several schedulers may run the job: the root is
inserted with the day as key (``ON CONFLICT DO NOTHING``), so one of them makes it and only that
one runs the full verification afterwards and records its result on the root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from workflows import audit_verify
from workflows.audit import GENESIS
from workflows.audit_anchor import fold, key_of, root_hash, root_mac
from workflows.clock import now
from workflows.db import transaction
from workflows.models import AuditCheckpoint, AuditRoot
from workflows.runtime import Runtime
from workflows.scheduler import Job

log = logging.getLogger("tdcflow.audit")

# What the job stores of a verification (the command line prints it all).
REPORT_CHARS = 4000


def make_root(rt: Runtime, day: date | None = None) -> AuditRoot | None:
    """Make the root of ``day`` (today, local time) unless it exists; the root made, or None."""
    key = key_of(rt.engine)
    day = day or now().astimezone(ZoneInfo(rt.settings.timezone)).date()
    with transaction(rt.engine) as session:
        if session.get(AuditRoot, day) is not None:
            return None
        roots = session.exec(select(AuditRoot).order_by(AuditRoot.day)).all()
        before = fold(roots)
        heads = dict(before)
        # A stream whose checkpoint went missing keeps the head the roots knew: verification
        # reports the missing checkpoint; the root does not forget the stream.
        for stream, events, head_hash in session.exec(
            select(AuditCheckpoint.stream, AuditCheckpoint.events, AuditCheckpoint.head_hash)
        ):
            heads[stream] = (events, head_hash)
        moved = {stream: [n, h] for stream, (n, h) in heads.items() if before.get(stream) != (n, h)}
        prev_hash = roots[-1].root_hash if roots else GENESIS
        hash_ = root_hash(prev_hash, heads)
        events = sum(n for n, _ in heads.values())
        values = {
            "day": day,
            "computed_at": now(),
            "prev_hash": prev_hash,
            "root_hash": hash_,
            "streams": len(heads),
            "events": events,
            "heads": moved,
            "mac": root_mac(key, day, prev_hash, hash_, len(heads), events),
            "verify_report": "",
        }
        made = _insert_once(session, values)
    if not made:
        return None
    log.info("audit root of %s: %s (%s streams, %s events)", day, hash_, len(heads), events)
    return AuditRoot(**values)


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """Insert the day's root unless another scheduler just did."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AuditRoot).values(**values).on_conflict_do_nothing(index_elements=["day"])
    return bool(session.execute(statement.returning(AuditRoot.day)).all())  # type: ignore[arg-type]


def record_verification(rt: Runtime, day: date, report: audit_verify.Report) -> None:
    with transaction(rt.engine) as session:
        session.execute(
            update(AuditRoot)
            .where(AuditRoot.day == day)  # type: ignore[arg-type]
            .values(verified_at=now(), verify_ok=report.ok, verify_report=report.text()[:REPORT_CHARS])
        )


def daily_job(rt: Runtime) -> None:
    """Make today's root if no scheduler has, then verify everything and record the result."""
    root = make_root(rt)
    if root is None:
        return
    report = audit_verify.verify(rt.engine)
    record_verification(rt, root.day, report)
    if report.ok:
        log.info("audit verification: %s", report.summary_en())
    else:
        log.error("audit verification: %s", report.text())


def jobs(rt: Runtime) -> list[Job]:
    """The root job: every hour at :15, the first run of a local day makes that day's root (so a
    scheduler that was down at 00:15 still makes it when it comes back)."""
    return [(daily_job, CronTrigger(minute=15, timezone=ZoneInfo(rt.settings.timezone)), "audit-daily-root")]


@dataclass(frozen=True)
class RootView:
    """A root as the administration page and the digest show it."""

    day: date
    computed_at: datetime
    root_hash: str
    streams: int
    events: int
    verified_at: datetime | None
    verify_ok: bool | None
    verify_report: str


def latest_roots(session: Session, limit: int = 30) -> list[RootView]:
    rows = session.exec(select(AuditRoot).order_by(AuditRoot.day.desc()).limit(limit))  # type: ignore[attr-defined]
    return [
        RootView(
            r.day,
            r.computed_at,
            r.root_hash,
            r.streams,
            r.events,
            r.verified_at,
            r.verify_ok,
            r.verify_report,
        )
        for r in rows
    ]
