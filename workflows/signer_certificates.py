"""Leaders' own signing certificates, registered by the administrator (personal signing).

A leader who signs a result with their own token (``workflows.personal_signing``) is recognised by
the certificate the administrator registered for them here: the signed PDF is accepted only when
its signer's certificate is that one, byte for byte (its SHA-256 fingerprint). Registering refuses
what is not a certificate, an expired one, and one whose key usage does not allow signing
documents (digitalSignature or nonRepudiation). Each act is on the leader's audit stream.
"""

from __future__ import annotations

import hashlib
import logging

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from workflows import audit, permissions
from workflows.awaiting_signature import release_all_for
from workflows.clock import as_utc, now
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import SignerCertificate, User
from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.signing")

MAX_CERTIFICATE_BYTES = 64 * 1024


def _refused(vi: str, en: str, code: str = "certificate_refused") -> InvalidInput:
    return InvalidInput(vi, en, code, [FieldProblem("file", vi, en, code)])


def parse_certificate(content: bytes) -> x509.Certificate:
    """The certificate of a .cer/.crt/.pem file (DER or PEM); ``InvalidInput`` on field ``file``
    when it is none, has expired or may not sign documents."""
    if not content or len(content) > MAX_CERTIFICATE_BYTES:
        raise _refused(
            "Tệp không phải là chứng thư số.", "The file is not a certificate.", "not_a_certificate"
        )
    try:
        cert = (
            x509.load_pem_x509_certificate(content)
            if b"-----BEGIN CERTIFICATE-----" in content
            else x509.load_der_x509_certificate(content)
        )
    except ValueError as exc:
        raise _refused(
            "Tệp không phải là chứng thư số.", "The file is not a certificate.", "not_a_certificate"
        ) from exc
    at = now()
    if as_utc(cert.not_valid_after_utc) <= at or as_utc(cert.not_valid_before_utc) > at:
        raise _refused(
            "Chứng thư số đã hết hạn hoặc chưa có hiệu lực.",
            "The certificate has expired or is not yet valid.",
            "certificate_expired",
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        may_sign = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        may_sign = False
    if not may_sign:
        raise _refused(
            "Chứng thư số không dùng để ký văn bản (thiếu digitalSignature/nonRepudiation).",
            "The certificate may not sign documents (no digitalSignature/nonRepudiation key usage).",
            "certificate_not_for_signing",
        )
    return cert


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER, uppercase hexadecimal: what ``validate_pdf`` reports of a signer."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()


def active_for(session: Session, user_id: int | None) -> SignerCertificate | None:
    """The user's registration in force: not revoked, the certificate within its validity."""
    if user_id is None:
        return None
    row = session.exec(
        select(SignerCertificate)
        .where(SignerCertificate.user_id == user_id, col(SignerCertificate.revoked_at).is_(None))
        .order_by(col(SignerCertificate.registered_at).desc())
    ).first()
    if row is None or as_utc(row.valid_until) <= now():
        return None
    return row


def current(rt: Runtime, user_id: int) -> SignerCertificate | None:
    """The user's latest unrevoked registration (shown even when its certificate has expired)."""
    with reading(rt.engine) as session:
        return session.exec(
            select(SignerCertificate)
            .where(SignerCertificate.user_id == user_id, col(SignerCertificate.revoked_at).is_(None))
            .order_by(col(SignerCertificate.registered_at).desc())
        ).first()


def register(
    rt: Runtime, admin: User, user_id: int, content: bytes, *, signs_personally: bool = True
) -> SignerCertificate:
    """Register ``content`` as the leader's certificate, replacing (revoking) their earlier one."""
    permissions.require(admin, permissions.SIGNER_CERTIFICATE_MANAGE)
    cert = parse_certificate(content)
    digest = fingerprint(cert)
    at = now()
    with transaction(rt.engine) as session:
        leader = session.get(User, user_id)
        if leader is None:
            raise not_found("tài khoản", "Account")
        if not leader.has_role("leader"):
            raise Conflict(
                "Chỉ đăng ký chứng thư số cá nhân cho lãnh đạo.",
                "A personal signing certificate is registered for a leader only.",
                "not_a_leader",
            )
        taken = session.exec(
            select(SignerCertificate).where(
                SignerCertificate.sha256 == digest,
                col(SignerCertificate.revoked_at).is_(None),
                SignerCertificate.user_id != user_id,
            )
        ).first()
        if taken is not None:
            raise Conflict(
                "Chứng thư số này đã được đăng ký cho người khác.",
                "This certificate is registered for someone else.",
                "certificate_taken",
            )
        for earlier in session.exec(
            select(SignerCertificate).where(
                SignerCertificate.user_id == user_id, col(SignerCertificate.revoked_at).is_(None)
            )
        ):
            earlier.revoked_at, earlier.revoked_by_id = at, admin.id
            session.add(earlier)
        session.flush()
        row = SignerCertificate(
            user_id=user_id,
            certificate_pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
            sha256=digest,
            subject=cert.subject.rfc4514_string()[:500],
            serial=format(cert.serial_number, "X"),
            valid_from=cert.not_valid_before_utc,
            valid_until=cert.not_valid_after_utc,
            signs_personally=signs_personally,
            registered_by_id=admin.id,
            registered_at=at,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            f"user:{user_id}",
            "signer_certificate_registered",
            admin,
            {
                "sha256": digest,
                "serial": row.serial,
                "subject": row.subject,
                "signs_personally": signs_personally,
            },
            at=at,
        )
    log.info("signing certificate %s registered for user %s", digest, user_id)
    return row


def revoke(rt: Runtime, admin: User, user_id: int) -> SignerCertificate:
    """Revoke the leader's registration: what they sign with it is refused from now on, and the
    documents waiting for them go back to the agency's signature."""
    permissions.require(admin, permissions.SIGNER_CERTIFICATE_MANAGE)
    at = now()
    with transaction(rt.engine) as session:
        row = session.exec(
            select(SignerCertificate).where(
                SignerCertificate.user_id == user_id, col(SignerCertificate.revoked_at).is_(None)
            )
        ).first()
        if row is None:
            raise not_found("chứng thư số đã đăng ký", "Registered certificate")
        row.revoked_at, row.revoked_by_id = at, admin.id
        session.add(row)
        audit.record(
            session, f"user:{user_id}", "signer_certificate_revoked", admin, {"sha256": row.sha256}, at=at
        )
        release_all_for(session, user_id, admin, at)
    return row
