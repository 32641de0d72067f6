"""Each audit stream's head, anchored in a signed checkpoint written with the append.

A hash chain shows an edited or removed event inside a stream, but not the removal of its last
events (nor of the whole stream): what is left is still a valid chain. So the transaction that
appends to a stream also writes the stream's checkpoint (``audit_checkpoint``: events counted,
head event id, head hash), signed with an HMAC under a key derived from the secret key. Someone who
can write to the database but does not hold the secret key cannot move a checkpoint back; the
daily root (``workflows.audit_root``) covers the checkpoints themselves.

The checkpoints are written just before the transaction commits (a session's ``before_commit``):
one upsert statement for all the streams the transaction appended to, however many events, while
the transaction still holds each stream's lock (``workflows.audit``), so writers of a stream never
race on its checkpoint.
The key travels with the engine (an execution option set by :func:`install_key`), as the
commands hand ``workflows.audit.record`` a session, not the settings.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from workflows.clock import now
from workflows.db import transaction
from workflows.models import AuditCheckpoint, AuditRoot

# session.info keys: the last event appended to each stream in the transaction (to anchor at
# commit), and each stream's head as read once per transaction (``workflows.audit.record``).
PENDING = "audit_pending"
HEADS = "audit_heads"
_KEY_OPTION = "tdcflow_audit_key"
_CHECKPOINT = AuditCheckpoint.__table__  # type: ignore[attr-defined]


class StreamHead(NamedTuple):
    """The last event a transaction appended to a stream."""

    seq: int
    id: int
    hash: str


class AuditKeyMissing(RuntimeError):
    """Audit events were written through an engine that :func:`install_key` did not prepare."""


def derive_key(secret_key: str) -> bytes:
    """The audit key: derived from the secret key, never the secret key itself (which signs tokens)."""
    return hmac.new(secret_key.encode(), b"tdcflow audit anchor v1", hashlib.sha256).digest()


def install_key(engine: Engine, key: bytes) -> None:
    """Let every session on ``engine`` sign the checkpoints it writes."""
    engine.update_execution_options(**{_KEY_OPTION: key})


def key_of(engine_or_session: Engine | Session) -> bytes:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    key = bind.get_execution_options().get(_KEY_OPTION)
    if key is None:
        raise AuditKeyMissing("audit checkpoints need the engine's key: workflows.audit_anchor.install_key")
    return key


def sign(key: bytes, *parts: object) -> str:
    """HMAC-SHA256 of the parts, one per line."""
    message = "\n".join(str(part) for part in parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def checkpoint_mac(key: bytes, stream: str, events: int, head_event_id: int, head_hash: str) -> str:
    return sign(key, "checkpoint", stream, events, head_event_id, head_hash)


def checkpoint_signed(key: bytes, checkpoint: Any) -> bool:
    """Whether ``checkpoint`` (a row or an ``AuditCheckpoint``) carries its own valid signature."""
    if not checkpoint.mac:
        return False
    expected = checkpoint_mac(
        key, checkpoint.stream, checkpoint.events, checkpoint.head_event_id, checkpoint.head_hash
    )
    return hmac.compare_digest(expected, checkpoint.mac)


@event.listens_for(Session, "before_commit")
def _anchor_heads(session: Session) -> None:
    """Write the checkpoint of every stream this transaction appended to: one statement."""
    pending: dict[str, StreamHead] = session.info.pop(PENDING, None) or {}
    if not pending:
        return
    key = key_of(session)
    instant = now()
    rows = [
        {
            "stream": stream,
            "events": head.seq,
            "head_event_id": head.id,
            "head_hash": head.hash,
            "updated_at": instant,
            "mac": checkpoint_mac(key, stream, head.seq, head.id, head.hash),  # type: ignore[arg-type]
        }
        for stream, head in sorted(pending.items())
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_CHECKPOINT).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["stream"],
        set_={name: statement.excluded[name] for name in rows[0] if name != "stream"},
    )
    session.execute(statement)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_heads(session: Session) -> None:
    # A stream's head is only known while its lock is held, i.e. within one transaction.
    session.info.pop(PENDING, None)
    session.info.pop(HEADS, None)


def sign_unsigned(engine: Engine) -> int:
    """Sign the checkpoints migration 0010 made from the events it found (the first start after
    it); the number signed. Only while no daily root exists: once one does, every checkpoint was
    signed when written, so an unsigned one is a tampering that verification reports."""
    key = key_of(engine)
    with transaction(engine) as session:
        unsigned = session.execute(select(_CHECKPOINT).where(_CHECKPOINT.c.mac.is_(None))).all()
        if not unsigned or session.execute(select(AuditRoot.day).limit(1)).first() is not None:
            return 0
        for row in unsigned:
            session.execute(
                update(_CHECKPOINT)
                .where(_CHECKPOINT.c.stream == row.stream)
                .values(mac=checkpoint_mac(key, row.stream, row.events, row.head_event_id, row.head_hash))
            )
        return len(unsigned)


# --- the daily roots' arithmetic (made by workflows.audit_root, checked by workflows.audit_verify) --


def root_hash(prev_hash: str, heads: Mapping[str, tuple[int, str]]) -> str:
    """The root over ``heads`` (stream -> (events, head hash)), chained to ``prev_hash``."""
    digest = hashlib.sha256(prev_hash.encode())
    for stream in sorted(heads):
        events, head_hash = heads[stream]
        digest.update(f"\n{stream} {events} {head_hash}".encode())
    return digest.hexdigest()


def root_mac(key: bytes, day: date, prev_hash: str, hash_: str, streams: int, events: int) -> str:
    return sign(key, "root", day.isoformat(), prev_hash, hash_, streams, events)


def root_signed(key: bytes, root: Any) -> bool:
    """Whether ``root`` (a row or an ``AuditRoot``) carries its own valid signature."""
    expected = root_mac(key, root.day, root.prev_hash, root.root_hash, root.streams, root.events)
    return hmac.compare_digest(expected, root.mac or "")


def fold(roots: Iterable[Any]) -> dict[str, tuple[int, str]]:
    """Every stream's head as of the last of ``roots`` (in day order)."""
    heads: dict[str, tuple[int, str]] = {}
    for root in roots:
        heads.update({stream: (int(n), str(h)) for stream, (n, h) in root.heads.items()})
    return heads
