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
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, func, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from workflows.audit_anchor import HEADS, PENDING, StreamHead
from workflows.clock import as_utc, now
from workflows.db import among
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


class Event(NamedTuple):
    """One event of :func:`record_many`: the arguments :func:`record` takes."""

    stream: str
    action: str
    actor: User | None = None
    details: dict[str, Any] | None = None
    dossier_id: int | None = None
    at: datetime | None = None


def record_many(session: Session, events: Sequence[Event]) -> list[int]:
    """Append ``events`` in the caller's transaction, in their order, exactly as as many calls of
    :func:`record` would (the same seq, prev_hash and hash in each stream, the same checkpoints at
    commit), in a few statements whatever their number: the streams' locks taken at once (in the
    order of their names), their heads read in one query per 500 streams, the events written by
    one INSERT. Their ids, in order."""
    if not events:
        return []
    heads: dict[str, tuple[int, str]] = session.info.setdefault(HEADS, {})
    unread = sorted({event.stream for event in events} - heads.keys())
    _take_stream_locks(session, unread)
    for start in range(0, len(unread), 500):
        chunk = unread[start : start + 500]
        latest = among(
            session,
            select(AuditEvent.stream, func.max(AuditEvent.seq).label("seq")),
            col(AuditEvent.stream),
            chunk,
        ).group_by(col(AuditEvent.stream))
        latest = latest.subquery()
        found = session.exec(
            select(AuditEvent.stream, AuditEvent.seq, AuditEvent.hash).join(
                latest, (col(AuditEvent.stream) == latest.c.stream) & (col(AuditEvent.seq) == latest.c.seq)
            )
        ).all()
        heads.update({stream: (0, GENESIS) for stream in chunk})
        heads.update({stream: (seq, hash_) for stream, seq, hash_ in found})
    rows = []
    for event in events:
        last_seq, last_hash = heads[event.stream]
        row = {
            "stream": event.stream,
            "seq": last_seq + 1,
            "dossier_id": event.dossier_id,
            "actor_id": event.actor.id if event.actor else None,
            "actor_label": actor_label(event.actor),
            "action": event.action,
            "at": event.at or now(),
            "details": json.loads(json.dumps(event.details or {}, ensure_ascii=False, default=str)),
            "prev_hash": last_hash,
        }
        row["hash"] = event_hash(SimpleNamespace(**row))
        heads[event.stream] = (row["seq"], row["hash"])
        rows.append(row)
    ids = list(
        session.execute(insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True), rows).scalars()
    )
    pending = session.info.setdefault(PENDING, {})
    for row, event_id in zip(rows, ids, strict=True):
        pending[row["stream"]] = StreamHead(row["seq"], event_id, row["hash"])
    return ids


def _take_stream_locks(session: Session, streams: list[str]) -> None:
    """:func:`_take_stream_lock` for many streams in one statement, in the order given."""
    if streams and session.get_bind().dialect.name == "postgresql":
        keys = bindparam("keys", [f"audit:{stream}" for stream in streams], type_=ARRAY(String))
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(:keys) AS t(k)"
            ).bindparams(keys)
        )


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
