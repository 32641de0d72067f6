"""Checking the signatures of a PDF, for people: is it intact, valid, trusted, and does it cover it all.

Called on files uploaded by anonymous users (the public verify page): it never raises on what it
is given and caps its work — the file's size, the number of signatures checked, the decoding of
streams (pyHanko's limits for untrusted input) — and it never reaches the network: revocation
information and certificates are not fetched from addresses that a hostile file could choose.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    PdfSignatureStatus,
    SignatureCoverageLevel,
    SignatureStatus,
    TimestampSignatureStatus,
)
from pyhanko_certvalidator import ValidationContext

from workflows.clock import now
from workflows.signing.sync import run_blocking

log = logging.getLogger("tdcflow.signing")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Largest file checked (the upload limit's default); a larger one is reported, not read."""
DEFAULT_MAX_SIGNATURES = 5
"""Signatures checked at most; an issued document has one (two with a document timestamp)."""


def _both(vi: str, en: str) -> str:
    return f"{vi} / {en}"


# The problems, Vietnamese first, English second: shown as they are on the verify page.
NOT_PDF = _both("Tệp không phải là PDF", "The file is not a PDF")
DAMAGED = _both("Tệp PDF bị hỏng hoặc không đọc được", "The PDF is damaged or unreadable")
TOO_LARGE = _both("Tệp quá lớn để kiểm tra", "The file is too large to check")
NO_SIGNATURE = _both("Tệp PDF không có chữ ký số", "The PDF has no digital signature")
TOO_MANY = _both(
    "Tệp có quá nhiều chữ ký; chỉ kiểm tra {n} chữ ký đầu", "Too many signatures; only the first {n} checked"
)
NOT_CHECKED = _both("Không kiểm tra được chữ ký này", "This signature could not be checked")
NOT_INTACT = _both(
    "Nội dung đã bị thay đổi sau khi ký (mã băm không khớp)",
    "The content was changed after signing (hash mismatch)",
)
INVALID = _both("Chữ ký không hợp lệ", "Signature invalid")
UNTRUSTED = _both(
    "Chứng thư số của người ký không thuộc cơ quan chứng thực tin cậy",
    "The signer's certificate does not chain to a trusted root",
)
EXPIRED = _both(
    "Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực, và không có dấu thời gian chứng minh "
    "thời điểm ký",
    "The signer's certificate has expired or is not yet valid, and no timestamp proves when it was signed",
)
REVOKED = _both("Chứng thư số của người ký đã bị thu hồi", "The signer's certificate was revoked")
NOT_WHOLE = _both(
    "Chữ ký không bao trùm toàn bộ tệp: có nội dung được thêm vào sau khi ký",
    "The signature does not cover the whole file: content was added after signing",
)
TIMESTAMP_BAD = _both(
    "Dấu thời gian không hợp lệ hoặc không tin cậy", "The timestamp is invalid or untrusted"
)


@dataclass(frozen=True)
class SignatureInfo:
    """One signature of the file, as a person checks it."""

    field_name: str
    kind: str
    """"signature", or "document_timestamp" (a /DocTimeStamp added for long-term validation)."""
    intact: bool
    """The digest of the signed bytes matches the one the signature covers."""
    valid: bool
    """The cryptographic signature over the signed attributes is correct (pyHanko's ``valid``); the
    signature holds only when ``intact`` too — ``problems`` says "Signature invalid" otherwise."""
    trusted: bool
    """The signer's certificate chains to one of the trust roots (and is not revoked)."""
    whole_document: bool
    """Nothing follows the signed bytes (pyHanko's coverage level ENTIRE_FILE)."""
    coverage: str
    """pyHanko's coverage level: ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCK_FROM_START, UNCLEAR."""
    signer_common_name: str | None
    signer_organisation: str | None
    certificate_serial: str | None
    """Uppercase hexadecimal, as certificate viewers show it."""
    certificate_sha256: str | None
    """SHA-256 of the certificate (DER), uppercase hexadecimal."""
    signing_time: datetime | None
    """The time the signer claims (not proof)."""
    timestamp_time: datetime | None
    """The time of the RFC 3161 timestamp, when the signature has one (proof from the TSA)."""
    timestamp_trusted: bool | None
    """None without a timestamp."""
    validation_time: datetime
    """When the signer's chain was checked: now, or the timestamp's time when the certificate has
    expired since (a trusted timestamp proves it signed while valid)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SignatureReport:
    """What ``validate_pdf`` found: the file's problems and each signature's."""

    is_pdf: bool
    signatures: list[SignatureInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Problems of the file itself (not a PDF, no signature, …); each signature has its own."""

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def ok(self) -> bool:
        """Signed, and every signature intact, valid, trusted, covering the whole file."""
        return self.signed and not self.problems and all(s.ok for s in self.signatures)

    @property
    def all_problems(self) -> list[str]:
        return self.problems + [p for s in self.signatures for p in s.problems]


def validate_pdf(
    pdf: bytes,
    trust_roots: Iterable[x509.Certificate],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> SignatureReport:
    """Check every signature of ``pdf`` (up to ``max_signatures``) against ``trust_roots``.

    Never raises on the file's content: what cannot be read becomes a problem of the report.
    Validation is at the current time (at the timestamp's time for a certificate expired since),
    without revocation checks (no fetching; see the module).
    """
    if len(pdf) > max_bytes:
        return SignatureReport(is_pdf=False, problems=[TOO_LARGE])
    # A PDF's header may follow a little junk; readers accept it within the first 1 KiB.
    if b"%PDF-" not in pdf[:1024]:
        return SignatureReport(is_pdf=False, problems=[NOT_PDF])
    roots = list(trust_roots)
    try:
        return run_blocking(lambda: _validate(pdf, roots, max_signatures))
    except Exception:  # hostile input: anything pyHanko raises means a damaged file
        log.info("a PDF could not be read for validation", exc_info=True)
        return SignatureReport(is_pdf=True, problems=[DAMAGED])


def _validate(pdf: bytes, roots: list[x509.Certificate], max_signatures: int) -> SignatureReport:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    embedded = reader.embedded_signatures
    if not embedded:
        return SignatureReport(is_pdf=True, problems=[NO_SIGNATURE])
    problems = [TOO_MANY.format(n=max_signatures)] if len(embedded) > max_signatures else []
    infos = [_check(sig, roots) for sig in embedded[:max_signatures]]
    return SignatureReport(is_pdf=True, signatures=infos, problems=problems)


# A certificate checked outside its validity period: at the timestamp's time it may have been valid.
_OUT_OF_BOUNDS = {
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.NOT_YET_VALID,
}


def _context(roots: list[x509.Certificate], moment: datetime | None = None) -> ValidationContext:
    # A new context for each signature: it caches paths and revocation information.
    return ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=moment
    )


def _check(sig: EmbeddedPdfSignature, roots: list[x509.Certificate]) -> SignatureInfo:
    name = sig.field_name or ""
    kind = "document_timestamp" if sig.sig_object_type == "/DocTimeStamp" else "signature"
    try:
        # skip_diff: the difference analysis of later revisions costs most and a hostile file
        # chooses it; any byte after the signed revision is reported as "not the whole document".
        if kind == "signature":
            status: SignatureStatus = validate_pdf_signature(sig, _context(roots), skip_diff=True)
        else:
            status = validate_pdf_timestamp(sig, _context(roots), skip_diff=True)
        validation_time = now()
        at_timestamp = _at_timestamp_time(sig, status, roots)
        if at_timestamp is not None:
            status, validation_time = at_timestamp
    except Exception:  # a malformed signature is reported, not raised
        log.info("signature %r could not be validated", name, exc_info=True)
        return _unchecked(sig, name, kind)
    return _info(status, name, kind, validation_time)


def _at_timestamp_time(
    sig: EmbeddedPdfSignature, status: SignatureStatus, roots: list[x509.Certificate]
) -> tuple[PdfSignatureStatus, datetime] | None:
    """The status with the signer's chain checked at the signature timestamp's time, when the
    certificate is out of its validity period now but a trusted timestamp proves when it signed
    (PAdES B-T: a document outlives its signer's certificate). None when that does not apply."""
    if not isinstance(status, PdfSignatureStatus) or status.trust_problem_indic not in _OUT_OF_BOUNDS:
        return None
    ts = status.timestamp_validity
    if ts is None or not (ts.intact and ts.valid and ts.trusted):
        return None
    again = validate_pdf_signature(
        sig,
        _context(roots, moment=ts.timestamp),
        ts_validation_context=_context(roots),  # the timestamp itself is checked now
        skip_diff=True,
    )
    return (again, ts.timestamp) if again.trusted else None


def _info(status: SignatureStatus, name: str, kind: str, validation_time: datetime) -> SignatureInfo:
    coverage = getattr(status, "coverage", None)
    whole = coverage == SignatureCoverageLevel.ENTIRE_FILE
    signing_time: datetime | None = None
    ts: TimestampSignatureStatus | None = None
    if isinstance(status, PdfSignatureStatus):
        signing_time = status.signer_reported_dt
        ts = status.timestamp_validity
    elif isinstance(status, TimestampSignatureStatus):
        ts = status
    ts_trusted = None if ts is None else bool(ts.valid and ts.intact and ts.trusted)

    # pyHanko's ``valid`` is the signature over the signed attributes alone: a document changed
    # after signing is "valid" but not intact. For people both mean the signature does not hold,
    # and its certificate's trust is then beside the point.
    problems: list[str] = []
    if not status.intact:
        problems.append(NOT_INTACT)
    if not (status.valid and status.intact):
        problems.append(INVALID)
    elif status.revoked:
        problems.append(REVOKED)
    elif status.trust_problem_indic in _OUT_OF_BOUNDS:
        problems.append(EXPIRED)
    elif not status.trusted:
        indic = status.trust_problem_indic
        problems.append(UNTRUSTED + (f" ({indic.name})" if indic is not None else ""))
    if not whole:
        problems.append(NOT_WHOLE)
    if ts is not None and not ts_trusted and kind == "signature":
        problems.append(TIMESTAMP_BAD)

    cert = status.signing_cert
    return SignatureInfo(
        field_name=name,
        kind=kind,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_document=whole,
        coverage=coverage.name if coverage is not None else "UNCLEAR",
        **_cert_fields(cert),
        signing_time=signing_time,
        timestamp_time=ts.timestamp if ts is not None else None,
        timestamp_trusted=ts_trusted,
        validation_time=validation_time,
        problems=problems,
    )


def _unchecked(sig: EmbeddedPdfSignature, name: str, kind: str) -> SignatureInfo:
    try:
        cert_fields = _cert_fields(sig.signer_cert)
    except Exception:
        cert_fields = _cert_fields(None)
    return SignatureInfo(
        field_name=name,
        kind=kind,
        intact=False,
        valid=False,
        trusted=False,
        whole_document=False,
        coverage="UNCLEAR",
        **cert_fields,
        signing_time=None,
        timestamp_time=None,
        timestamp_trusted=None,
        validation_time=now(),
        problems=[NOT_CHECKED],
    )


def _cert_fields(cert: x509.Certificate | None) -> dict[str, str | None]:
    if cert is None:
        return {
            "signer_common_name": None,
            "signer_organisation": None,
            "certificate_serial": None,
            "certificate_sha256": None,
        }
    subject = cert.subject.native
    return {
        "signer_common_name": _text(subject.get("common_name")),
        "signer_organisation": _text(subject.get("organization_name")),
        "certificate_serial": format(cert.serial_number, "X"),
        "certificate_sha256": hashlib.sha256(cert.dump()).hexdigest().upper(),
    }


def _text(value: object) -> str | None:
    """A name attribute (a list when the subject repeats it) as one string."""
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
