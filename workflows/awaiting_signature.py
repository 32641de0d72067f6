"""Documents waiting for a leader's own signature, handed back to the agency's signature.

A row of ``document_signing`` with ``awaiting_user_id`` set is the leader's (the agency's worker
skips it, ``workflows.document_signing``); handing it back clears the mark and makes it due now,
so the worker signs it within seconds. The leader chooses so (``workflows.personal_signing``), or
their registration is revoked (``workflows.signer_certificates``): either is on the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from workflows import audit
from workflows.models import Document, DocumentSigning, User


def release_all_for(session: Session, user_id: int, actor: User | None, at: datetime) -> int:
    """Hand every document waiting for ``user_id`` back to the agency (their registration ended)."""
    jobs = session.exec(select(DocumentSigning).where(DocumentSigning.awaiting_user_id == user_id)).all()
    for job in jobs:
        hand_to_agency(session, job, actor, at, "registration_revoked")
    return len(jobs)


def hand_to_agency(
    session: Session, job: DocumentSigning, actor: User | None, at: datetime, why: str
) -> None:
    job.awaiting_user_id = None
    job.due_at = at
    job.lease = job.leased_until = None
    session.add(job)
    document = session.get(Document, job.document_id)
    assert document is not None
    audit.record(
        session,
        document.audit_stream or f"document:{document.id}",
        "personal_signing_handed_back",
        actor,
        {"number": document.number, "reason": why},
        dossier_id=document.dossier_id,
        at=at,
    )
