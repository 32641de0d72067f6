"""Verify an issued document: by its verification code (what its QR code opens), or by a file
someone was given ("is this the issued document, and is its signature valid?").

Every document, whatever it was issued for (a dossier, a WTO notification, an award round), is a
row of the one ``document`` table, which records what it was issued for: one look-up verifies
them all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, or_, select

from workflows.db import reading
from workflows.documents import normalise_verification_code
from workflows.models import Document, Dossier
from workflows.official_copy import validate_signatures

if TYPE_CHECKING:
    from workflows.runtime import Runtime


@dataclass(frozen=True)
class VerifiedDocument:
    """What the verify page shows of a genuine document: enough to compare, nothing private."""

    verification_code: str
    kind: str
    title: str
    number: str
    issued_at: datetime
    sha256: str
    # What it was issued for: a dossier code, a WTO notification symbol, an award round.
    reference: str
    reference_label_vi: str
    reference_label_en: str
    holder_name: str = ""  # the applicant the document is addressed to, when there is one
    dossier_code: str | None = None
    valid_until: date | None = None  # a result valid until a day (a declaration's notice)
    subject: str = ""  # what the dossier is about: its product, goods or question
    # The official copy: the signed PDF's hash, when it was signed and by which certificate.
    pdf_sha256: str | None = None
    signed_at: datetime | None = None
    signature: dict[str, Any] | None = None
    document_id: str = ""  # the row (not shown): its .docx may still be rendering (empty sha256)

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    @property
    def signed(self) -> bool:
        return self.pdf_sha256 is not None


@dataclass(frozen=True)
class FileCheck:
    """What a file someone was given turned out to be."""

    sha256: str
    size: int
    # The issued document whose official (``"pdf"``) or editable (``"docx"``) copy the file is,
    # byte for byte; None: not a file this agency issued.
    document: VerifiedDocument | None
    copy: str | None
    # For a PDF: what its signature says (valid, whole document, who signed), whatever its hash.
    signature: Any = None

    @property
    def is_issued_document(self) -> bool:
        return self.document is not None


def find_document(session: Session, verification_code: str) -> VerifiedDocument | None:
    code = normalise_verification_code(verification_code)
    if not code:
        return None
    document = session.exec(select(Document).where(Document.verification_code == code)).first()
    return _verified(session, document) if document else None


def _verified(session: Session, document: Document) -> VerifiedDocument:
    dossier_code, subject = None, ""
    if document.dossier_id is not None:
        dossier_code, subject = session.exec(
            select(Dossier.code, Dossier.subject).where(Dossier.id == document.dossier_id)
        ).one()
    return VerifiedDocument(
        verification_code=document.verification_code,
        kind=document.kind,
        title=document.title,
        number=document.number,
        issued_at=document.issued_at,
        sha256=document.sha256,
        reference=document.reference,
        reference_label_vi=document.reference_label_vi,
        reference_label_en=document.reference_label_en,
        holder_name=document.holder_name,
        dossier_code=dossier_code,
        valid_until=_day((document.details or {}).get("valid_until")),
        subject=subject or "",
        pdf_sha256=document.pdf_sha256,
        signed_at=document.signed_at,
        signature=dict(document.signature or {}) or None,
        document_id=document.id,
    )


def check_file(rt: Runtime, content: bytes) -> FileCheck:
    """Which issued document ``content`` is (by its SHA-256: the signed PDF or the .docx), and,
    for a PDF, what its signature says. Any bytes are accepted: anyone may upload anything."""
    digest = hashlib.sha256(content).hexdigest()
    with reading(rt.engine) as session:
        document = session.exec(
            select(Document).where(or_(Document.pdf_sha256 == digest, Document.sha256 == digest)).limit(1)
        ).first()
        verified = _verified(session, document) if document else None
    copy = None if document is None else ("pdf" if document.pdf_sha256 == digest else "docx")
    signature = None
    if content.startswith(b"%PDF"):
        signature = validate_signatures(rt.settings, content)
    return FileCheck(digest, len(content), verified, copy, signature)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
