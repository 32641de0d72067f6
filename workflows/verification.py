"""Verify an issued document by its verification code (what its QR code opens).

Most documents belong to a dossier (the ``document`` table), but some are issued for something
else: the compilation of comments on a WTO notification, the recommendation list of an award
round. Each such room registers a finder with :func:`verification_finder`; the public verify page
and API ask them in turn, so a code printed on any of them verifies the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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


Finder = Callable[[Session, str], VerifiedDocument | None]
_FINDERS: list[Finder] = []


def verification_finder(finder: Finder) -> Finder:
    """Register ``finder(session, normalised_code)`` → the document, or None if it is not its own."""
    if finder not in _FINDERS:
        _FINDERS.append(finder)
    return finder


@verification_finder
def dossier_document(session: Session, code: str) -> VerifiedDocument | None:
    document = session.exec(select(Document).where(Document.verification_code == code)).first()
    if document is None:
        return None
    dossier = session.get(Dossier, document.dossier_id)
    assert dossier is not None
    return VerifiedDocument(
        verification_code=document.verification_code,
        kind=document.kind,
        title=document.title,
        number=document.number,
        issued_at=document.issued_at,
        sha256=document.sha256,
        reference=dossier.code,
        reference_label_vi="Hồ sơ",
        reference_label_en="Dossier",
        holder_name=dossier.applicant_name,
        dossier_code=dossier.code,
    )


def find_document(session: Session, verification_code: str) -> VerifiedDocument | None:
    code = normalise_verification_code(verification_code)
    if not code:
        return None
    for finder in _FINDERS:
        found = finder(session, code)
        if found is not None:
            return found
    return None
