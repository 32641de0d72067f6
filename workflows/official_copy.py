"""Making the official copy of an issued document (its .docx rendered to PDF, signed by the
agency) and checking the signatures of a PDF someone was given.

The two parts are the documents room's renderer (``workflows.documents.pdf_writer``) and the
signing package (``workflows.signing``); this module puts them together for the worker
(``workflows.document_signing``), the approval page's draft and the verify page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.config import Settings
from workflows.documents.pdf_writer import render_pdf
from workflows.models import Document
from workflows.signing import (
    SignatureReport,
    SigningFailed,
    load_signer,
    load_timestamper,
    load_trust_roots,
    sign_pdf,
    validate_pdf,
)

log = logging.getLogger("tdcflow.documents")

__all__ = ["CopyMaker", "SignedCopy", "maker_from_settings", "render_pdf", "validate_signatures"]


@dataclass(frozen=True)
class SignedCopy:
    """A signed PDF and who signed it (kept on the document, shown by the verify page)."""

    content: bytes
    signature: dict[str, Any]


# (the document, its .docx) → its signed PDF. Built once per runtime from the settings.
CopyMaker = Callable[[Document, bytes], SignedCopy]


def maker_from_settings(settings: Settings) -> CopyMaker:
    """The maker of signed copies with the configured signer (PKCS#12 or PKCS#11), timestamp
    server and trust roots. A signer that is not configured raises ``SigningConfigError`` here,
    naming the setting; the worker logs it and retries later."""
    signer = load_signer(settings)
    timestamper = load_timestamper(settings)
    trust_roots = load_trust_roots(settings)

    def make(document: Document, docx: bytes) -> SignedCopy:
        pdf = render_pdf(docx, title=document.title)
        signed = sign_pdf(
            pdf,
            signer,
            reason=f"Ban hành {document.title} số {document.number} / Issued document no. {document.number}",
            location=settings.agency_place,
            timestamper=timestamper,
        )
        # What the agency publishes must verify: a chain or clock problem is caught here, before
        # anyone downloads a copy that a customs officer's check would refuse.
        report = validate_pdf(signed, trust_roots)
        info = report.signatures[0] if report.signatures else None
        if info is None or not (info.intact and info.valid and info.whole_document):
            problems = "; ".join((info.problems if info else []) or report.problems)
            raise SigningFailed(
                f"Bản ký số không kiểm tra được: {problems}",
                f"The signed copy does not verify: {problems}",
                "signature_self_check",
            )
        if not info.trusted:
            log.warning(
                "document %s: its signature does not chain to TDCFLOW_SIGNING_TRUST_ROOTS", document.id
            )
        return SignedCopy(signed, _described(info))

    return make


def _described(info: Any) -> dict[str, Any]:
    """What the document row keeps of its signature (the verify page shows it)."""
    return {
        "signer": ", ".join(part for part in (info.signer_common_name, info.signer_organisation) if part),
        "certificate_serial": info.certificate_serial,
        "certificate_sha256": info.certificate_sha256,
        "signing_time": _iso(info.signing_time),
        "timestamp_at": _iso(info.timestamp_time),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def validate_signatures(settings: Settings, content: bytes) -> SignatureReport:
    """What the signatures of an uploaded PDF say, against the configured trust roots."""
    return validate_pdf(content, load_trust_roots(settings))
