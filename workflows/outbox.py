"""The outbox (DESIGN rule 4): what happened, written in the same transaction as the change.

Commands and the scheduler ``emit`` an event row; the notifications room reads the rows after
commit and turns each into deliveries (e-mail, in-app, webhook, SMS) with retries. An event
that was committed is never lost, and one that was rolled back was never sent.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, event, insert, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session, SQLModel

from workflows.clock import now
from workflows.plugins import EventType, plugin_event_types

# The events of every procedure (see notifications.rules for who hears of each); a procedure's
# own come with its plug-in.
CORE_EVENT_TYPES = (
    EventType("dossier_submitted", applicant_hears=True),
    EventType("dossier_received", applicant_hears=True),
    EventType("supplement_requested", applicant_hears=True),
    EventType("supplement_received"),
    EventType("dossier_refused", applicant_hears=True),
    EventType("result_issued", applicant_hears=True),
    EventType("apology_issued", applicant_hears=True),
    EventType("dossier_withdrawn", applicant_hears=True),
    EventType("dossier_expired", applicant_hears=True),
    EventType("task_available"),
    EventType("task_reminder"),
    EventType("task_escalation"),
    EventType("appointment_at_risk"),
    EventType("appointment_missed"),
    EventType("legal_limit_missed"),
    EventType("inspection_violation", applicant_hears=True, roles=("specialist", "leader")),
    # About an account, not a dossier (workflows.registration, workflows.password_reset).
    EventType("email_verification_requested", account_mail=True),
    EventType("registration_attempted", account_mail=True),
    EventType("password_reset_requested", account_mail=True),
    EventType("password_changed", account_mail=True),
    # A business's tax code checked (workflows.tax_codes): the account hears of the decision.
    EventType("tax_code_verified", users_key="user_ids"),
    EventType("tax_code_rejected", users_key="user_ids"),
    # A contest of a verified tax code: the contester hears by e-mail (it may have no account),
    # the one-stop desk hears of a new one.
    EventType("tax_code_contest_received", email_key="contact_email"),
    EventType("tax_code_contest_filed", roles=("clerk",)),
    EventType("tax_code_contest_decided", email_key="contact_email"),
    # A result waits for its leader's own signature (workflows.personal_signing).
    EventType("personal_signature_requested", users_key="user_ids"),
    # The metrology database (workflows.metrology.alerts): an owner's business accounts hear that a
    # verification ends soon; a new violation warning goes to the partner systems subscribed
    # (market surveillance), while officers read the warning list rather than one message each.
    EventType("metrology_expiry_reminder", users_key="user_ids"),
    EventType("metrology_warning_opened"),
)


def event_types() -> dict[str, EventType]:
    """Every event type known now: the core's and those of the plug-ins loaded."""
    return {event.name: event for event in (*CORE_EVENT_TYPES, *plugin_event_types())}


def model_event_types() -> frozenset[str]:
    """The events a model may emit itself, with its issue_document step's ``event`` parameter."""
    return frozenset(name for name, event in event_types().items() if event.model_may_emit)


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    # Only the events not dispatched yet are in it (migration 0019): the fan-out's queue, in order.
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "created_at",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32, description="Also the idempotency key receivers see")
    type: str = Field(max_length=40)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Set when the dispatcher has turned the event into deliveries (in its own transaction).
    dispatched_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


def emit(
    session: Session,
    event_type: str,
    dossier_id: int | None,
    payload: dict[str, Any],
    at: datetime | None = None,
) -> str:
    """Add the event to the caller's transaction; its id, which :func:`retract` takes. The events
    of a transaction are written together just before it commits (one statement): nothing reads
    an event back before then, and a transaction rolled back writes none."""
    if event_type not in event_types():
        raise ValueError(f"unknown event type {event_type}")
    at = at or now()
    event_id = _event_id(at)
    row = {"id": event_id, "type": event_type, "dossier_id": dossier_id, "payload": payload, "created_at": at}
    session.info.setdefault(_PENDING, []).append(row)
    return event_id


def retract(session: Session, event_id: str) -> None:
    """Take back an event emitted earlier in the same transaction (it was never written)."""
    session.info[_PENDING] = [row for row in session.info.get(_PENDING, []) if row["id"] != event_id]


@event.listens_for(OrmSession, "before_commit")
def _write_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.flush()  # the rows the events refer to (a dossier written in this transaction)
        session.execute(insert(_OUTBOX), rows)


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


_OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
_PENDING = "outbox_pending"  # session.info: the transaction's events, written before it commits
_SEQUENCE = itertools.count()


def _event_id(at: datetime) -> str:
    """32 hex characters that sort in emission order: the instant (µs), a per-process sequence
    (events of one command share their instant), then randomness for uniqueness across processes.
    The dispatcher sends in id order, so a person reads "received" after "submitted"."""
    micros = int(at.timestamp() * 1_000_000)
    return f"{micros:014x}{next(_SEQUENCE) % 0x1000000:06x}{secrets.token_hex(6)}"


def dossier_event(
    session: Session, event_type: str, dossier: Any, at: datetime | None = None, **details: Any
) -> str:
    """An event about a dossier, carrying what a message about it needs (code, applicant, subject)."""
    if dossier.id is None:
        session.flush()  # a dossier added in this transaction: its id
    payload = {
        "code": dossier.code,
        "procedure_code": dossier.procedure_code,
        "applicant_id": dossier.applicant_id,
        "applicant_name": dossier.applicant_name,
        "subject": dossier.subject,
        **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()},
    }
    return emit(session, event_type, dossier.id, payload, at)
