"""Verify an issued document by its verification code (what its QR code opens).

Every document, whatever it was issued for (a dossier, a WTO notification, an award round), is a
row of the one ``document`` table, which records what it was issued for: one look-up verifies
them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from workflows.documents import normalise_verification_code
from workflows.models import Document, Dossier


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

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today


def find_document(session: Session, verification_code: str) -> VerifiedDocument | None:
    code = normalise_verification_code(verification_code)
    if not code:
        return None
    document = session.exec(select(Document).where(Document.verification_code == code)).first()
    if document is None:
        return None
    dossier_code = None
    if document.dossier_id is not None:
        dossier_code = session.exec(select(Dossier.code).where(Dossier.id == document.dossier_id)).one()
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
    )


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
