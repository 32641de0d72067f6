"""Append-only audit trail, hash-chained per stream so that any edit or deletion shows.

A stream is ``dossier:<id>``, ``user:<id>``, ``wto:<id>``, ``award_round:<id>``, ``webhook:<id>``.
Each event's hash covers its content and the hash of the previous event of the stream;
``(stream, seq)`` is unique, so the chain can never fork.

Writers of one stream take turns: the first ``record`` on a stream in a transaction waits for the
stream's lock (on PostgreSQL a transaction-scoped advisory lock keyed by the stream's name; on
SQLite the database's write lock, held since ``BEGIN IMMEDIATE``) and only then reads the head,
so two concurrent commands append one after the other instead of taking the same number. A
dossier's commands already hold the dossier's lock (``workflows.locking``), taken first, so for
them the stream's lock is never contended; it serialises the streams that have no such row lock
(a WTO notification's comments, an account's changes).

Before the transaction commits, still under those locks, each stream it appended to gets its
signed checkpoint (``workflows.audit_anchor``), so that deleting a stream's last events shows
too; ``workflows.audit_verify`` checks every stream against its checkpoint and the daily roots.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlmodel import Session, select

from workflows.audit_anchor import HEADS, PENDING, StreamHead
from workflows.clock import as_utc, now
from workflows.models import AuditEvent, User

GENESIS = "0" * 64
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
# Built once: every command reads a stream's head (building a statement costs more than running it).
_HEAD = (
    select(AuditEvent.seq, AuditEvent.hash)
    .where(AuditEvent.stream == bindparam("stream"))
    .order_by(AuditEvent.seq.desc())
    .limit(1)
)


def event_hash(event: Any) -> str:
    """The hash of an event (an ``AuditEvent`` or a row of ``audit_event``)."""
    body = {
        "stream": event.stream,
        "seq": event.seq,
        "dossier_id": event.dossier_id,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "at": as_utc(event.at).isoformat(timespec="microseconds"),
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "Hệ thống / System"
    return actor.display_name


def record(
    session: Session,
    stream: str,
    action: str,
    actor: User | None,
    details: dict[str, Any] | None = None,
    dossier_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Append an event to ``stream`` in the caller's transaction; its id."""
    # The chain's head is read once per transaction and stream, then carried in the session until
    # the transaction ends (workflows.audit_anchor forgets it at commit or rollback).
    heads: dict[str, tuple[int, str]] = session.info.setdefault(HEADS, {})
    if stream not in heads:
        _take_stream_lock(session, stream)
        last = session.exec(_HEAD, params={"stream": stream}).first()
        heads[stream] = (last[0], last[1]) if last else (0, GENESIS)
    last_seq, last_hash = heads[stream]
    row = {
        "stream": stream,
        "seq": last_seq + 1,
        "dossier_id": dossier_id,
        "actor_id": actor.id if actor else None,
        "actor_label": actor_label(actor),
        "action": action,
        "at": at or now(),
        "details": json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)),
        "prev_hash": last_hash,
    }
    row["hash"] = event_hash(SimpleNamespace(**row))
    # Written at once (one statement, no object in the session): the head's id is what the
    # stream's checkpoint names at commit.
    event_id = session.execute(insert(_EVENTS).values(**row).returning(_EVENTS.c.id)).scalar_one()
    heads[stream] = (row["seq"], row["hash"])
    session.info.setdefault(PENDING, {})[stream] = StreamHead(row["seq"], event_id, row["hash"])
    return event_id


def _take_stream_lock(session: Session, stream: str) -> None:
    """Wait until no other transaction is appending to ``stream``; held until commit or rollback."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"audit:{stream}"}
        )


def verify_stream(session: Session, stream: str) -> int | None:
    """The seq of the first event whose chain is broken, or None when the chain is intact (the
    chain alone: ``workflows.audit_verify`` also holds it against the stream's checkpoint)."""
    previous = GENESIS
    expected_seq = 1
    for event in session.exec(select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)):
        if event.seq != expected_seq or event.prev_hash != previous or event_hash(event) != event.hash:
            return event.seq
        previous = event.hash
        expected_seq += 1
    return None
