"""A demo PKI: a root CA marked DEMO and the agency's organisation certificate, for trying tdcflow.

Nothing it makes is trusted by any reader: the CA's name says so, and only a validator told to
trust ``ca.pem`` accepts the signatures. The CA's private key is not kept (it signs the agency's
certificate once); running again with every file present changes nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workflows.clock import now

log = logging.getLogger("tdcflow.signing")

CA_FILE = "ca.pem"
P12_FILE = "agency.p12"
PASSWORD_FILE = "agency.p12.password"

DEMO_CA_NAME = "tdcflow DEMO CA – không dùng thật / not for real use"
DEMO_MARK = "DEMO – không dùng thật / not for real use"


def create_demo_pki(dest: Path, agency_name: str) -> Path:
    """Write ``dest/ca.pem``, ``dest/agency.p12`` and ``dest/agency.p12.password`` unless all are
    there; returns ``dest``. See :func:`demo_pki_env` for the settings that use them."""
    dest.mkdir(parents=True, exist_ok=True)
    paths = [dest / CA_FILE, dest / P12_FILE, dest / PASSWORD_FILE]
    if all(p.is_file() for p in paths):
        return dest
    start = now() - timedelta(days=1)
    ca_key = make_key()
    ca_cert = make_certificate(
        subject=_name(DEMO_CA_NAME, "tdcflow DEMO", DEMO_MARK),
        key=ca_key,
        issuer_cert=None,
        issuer_key=ca_key,
        not_before=start,
        not_after=start + timedelta(days=3650),
        ca=True,
    )
    agency_key = make_key()
    agency_cert = make_certificate(
        subject=_name(f"{agency_name} (DEMO)", agency_name, DEMO_MARK),
        key=agency_key,
        issuer_cert=ca_cert,
        issuer_key=ca_key,
        not_before=start,
        not_after=start + timedelta(days=3 * 365),
        ca=False,
    )
    password = secrets.token_urlsafe(18)
    p12 = pkcs12.serialize_key_and_certificates(
        name=b"tdcflow-demo-agency",
        key=agency_key,
        cert=agency_cert,
        cas=[ca_cert],
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    _write(paths[0], ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
    _write(paths[1], p12, private=True)
    _write(paths[2], (password + "\n").encode(), private=True)
    log.info("demo PKI created in %s (CA %s)", dest, DEMO_CA_NAME)
    return dest


def demo_pki_env(dest: Path) -> dict[str, str]:
    """The ``TDCFLOW_*`` settings that sign with the demo PKI in ``dest`` and trust its CA."""
    return {
        "TDCFLOW_SIGNING_P12": str((dest / P12_FILE).resolve()),
        "TDCFLOW_SIGNING_P12_PASSWORD": (dest / PASSWORD_FILE).read_text().strip(),
        "TDCFLOW_SIGNING_TRUST_ROOTS": str((dest / CA_FILE).resolve()),
    }


# --- certificate making (also used by the tests' PKI) --------------------------------------------


def make_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    # RSA 2048: what Vietnamese CAs issue today, and what every PDF reader verifies.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_certificate(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_cert: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    not_before: datetime,
    not_after: datetime,
    ca: bool = False,
    timestamping: bool = False,
    path_length: int | None = None,
) -> x509.Certificate:
    """A certificate for ``key``: a CA's (self-signed when ``issuer_cert`` is None), a timestamp
    authority's (critical EKU timeStamping, as RFC 3161 requires) or a document signer's
    (digitalSignature and nonRepudiation, which PAdES validators look for)."""
    public = key.public_key()
    issuer = issuer_cert.subject if issuer_cert is not None else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_cert.public_key() if issuer_cert is not None else public  # type: ignore[arg-type]
            ),
            critical=False,
        )
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=not ca and not timestamping,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if timestamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _name(common_name: str, organisation: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write through a temporary file, readable by the owner only when ``private``."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
