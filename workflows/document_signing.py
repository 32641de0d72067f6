"""The official copy of every issued document: its PDF, signed by the agency (DESIGN rule 8).

Rendering the PDF and signing it costs tens of milliseconds (``bench/documents.py``,
``bench/signing.py``), far more than the command that issues the document may spend, so issuing
only queues the document (a ``document_signing`` row in the command's transaction) and a worker
makes the copy within seconds:

1. *claim*: a short transaction takes the oldest due row for a lease (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, so workers side by side never take the same row; SQLite has one writer);
2. *make*: outside any transaction, the stored .docx is rendered to PDF and signed;
3. *store*: a short transaction checks that the lease is still ours, records the PDF on the
   document, writes the ``document_signed`` audit event on the document's stream and deletes the
   row. A worker that dies anywhere leaves the lease to expire and the next one resumes; a copy
   made twice is stored once (content-addressed) and recorded once (the lease check).

A failure (signing not configured, a token unplugged, a renderer bug) is logged with its
traceback and retried later, with a growing wait; the document stays "being signed" meanwhile.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, or_, select

from workflows import audit
from workflows.clock import as_utc, now
from workflows.db import reading, transaction
from workflows.document_rendering import rendered
from workflows.models import Document, DocumentSigning
from workflows.official_copy import CopyMaker, maker_from_settings

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.documents")

LEASE = timedelta(minutes=2)
RETRY_FIRST = timedelta(seconds=30)
RETRY_MOST = timedelta(hours=1)


@dataclass(frozen=True)
class SigningReport:
    signed: int
    failed: int


def pdf_filename(document: Document) -> str:
    """The PDF's file name: the .docx's, with the PDF's extension."""
    stem = document.filename.rsplit(".", 1)[0] if "." in document.filename else document.filename
    return f"{stem}.pdf"


def sign_due(rt: Runtime, max_items: int = 50, budget_seconds: float | None = None) -> SigningReport:
    """Make the signed copies that are due, at most ``max_items``, and no new one once
    ``budget_seconds`` have passed (the rest wait for the next run: a backlog, e.g. after the
    upgrade that queued every earlier document, never makes a run overlap the next)."""
    signed = failed = 0
    started = time.monotonic()
    while signed + failed < max_items:
        if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            break
        claimed = _claim(rt)
        if claimed is None:
            break
        document_id, lease = claimed
        if _make_one(rt, document_id, lease):
            signed += 1
        else:
            failed += 1
    return SigningReport(signed, failed)


def pending_count(rt: Runtime) -> int:
    """Documents whose signed copy is still to be made by the worker (not those waiting for a
    leader's own signature: ``workflows.personal_signing``)."""
    return backlog(rt).waiting


@dataclass(frozen=True)
class Backlog:
    """What the worker's health shows of the signing: how many wait, since when, how many failed
    at least once and the last error (a wrong password or an unplugged token shows here)."""

    waiting: int
    failing: int
    oldest_due_at: datetime | None
    last_error: str | None


def backlog(rt: Runtime) -> Backlog:
    """The worker's backlog; a document waiting for a leader's own signature is not part of it
    (it may wait for days, and the worker does not touch it)."""
    workers = col(DocumentSigning.awaiting_user_id).is_(None)
    with reading(rt.engine) as session:
        waiting, oldest = session.exec(
            select(func.count(), func.min(DocumentSigning.due_at)).select_from(DocumentSigning).where(workers)
        ).one()
        failing = session.exec(
            select(func.count())
            .select_from(DocumentSigning)
            .where(col(DocumentSigning.last_error).is_not(None))
        ).one()
        last_error = session.exec(
            select(DocumentSigning.last_error)
            .where(col(DocumentSigning.last_error).is_not(None))
            .order_by(col(DocumentSigning.due_at).desc())
            .limit(1)
        ).first()
    return Backlog(int(waiting), int(failing), as_utc(oldest) if oldest else None, last_error)


def _claim(rt: Runtime) -> tuple[str, str] | None:
    at = now()
    with transaction(rt.engine) as session:
        job = session.exec(
            select(DocumentSigning)
            .where(
                DocumentSigning.due_at <= at,
                # Not one waiting for a leader's own signature (workflows.personal_signing).
                col(DocumentSigning.awaiting_user_id).is_(None),
                or_(col(DocumentSigning.leased_until).is_(None), col(DocumentSigning.leased_until) < at),
            )
            .order_by(col(DocumentSigning.due_at))
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        job.lease = secrets.token_hex(16)
        job.leased_until = at + LEASE
        job.attempts += 1
        session.add(job)
        return job.document_id, job.lease


def _make_one(rt: Runtime, document_id: str, lease: str) -> bool:
    try:
        with reading(rt.engine) as session:
            document = session.get(Document, document_id)
        if document is None:  # cannot happen (foreign key), but a lost row must not loop forever
            raise LookupError(f"document {document_id} is gone")
        document = rendered(rt, document)  # issued by a command moments ago: its .docx first
        if not document.sha256:
            raise RuntimeError(f"document {document_id} could not be rendered")
        copy = copy_maker(rt)(document, rt.store.read(document.sha256))
        digest = rt.store.put(copy.content)
    except Exception as exc:
        log.exception("signing document %s failed; it will be retried", document_id)
        _give_back(rt, document_id, lease, exc)
        return False
    with transaction(rt.engine) as session:
        job = session.get(DocumentSigning, document_id, with_for_update=True)
        if job is None or job.lease != lease:
            # Our lease expired and another worker took the row: its copy is the one recorded.
            log.info("document %s was signed by another worker meanwhile", document_id)
            return True
        row = session.get(Document, document_id)
        assert row is not None
        at = now()
        row.pdf_sha256 = digest
        row.pdf_size = len(copy.content)
        row.signed_at = at
        row.signature = dict(copy.signature)
        session.add(row)
        session.delete(job)
        audit.record(
            session,
            row.audit_stream or f"document:{row.id}",
            "document_signed",
            None,
            {
                "kind": row.kind,
                "number": row.number,
                "sha256": row.sha256,
                "pdf_sha256": digest,
                **{k: v for k, v in copy.signature.items() if k in AUDITED_SIGNATURE_FIELDS},
            },
            dossier_id=row.dossier_id,
            at=at,
        )
    return True


# What of a signature goes into the audit event: enough to tell which certificate signed.
AUDITED_SIGNATURE_FIELDS = ("signer", "certificate_serial", "certificate_sha256", "timestamp_at")


def _give_back(rt: Runtime, document_id: str, lease: str, error: Exception) -> None:
    with transaction(rt.engine) as session:
        job = session.get(DocumentSigning, document_id, with_for_update=True)
        if job is None or job.lease != lease:
            return
        wait = min(RETRY_FIRST * 2 ** max(job.attempts - 1, 0), RETRY_MOST)
        job.due_at = now() + wait
        job.lease = None
        job.leased_until = None
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
        session.add(job)


def copy_maker(rt: Runtime) -> CopyMaker:
    """The runtime's maker of signed copies (its signer is opened once, on first use)."""
    maker = rt.services.get("copy_maker")
    if maker is None:
        maker = rt.services.setdefault("copy_maker", maker_from_settings(rt.settings))
    return maker
