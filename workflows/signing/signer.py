"""The agency's signer, its timestamp client and the validator's trust roots, from the settings.

Every misconfiguration becomes a :class:`SigningConfigError` naming the ``TDCFLOW_*`` variable at
fault, found when the signer is loaded (at start-up or by the signing job), not half-way through
signing a document.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import pem as asn1_pem
from asn1crypto import x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from workflows.clock import now
from workflows.config import Settings
from workflows.signing.errors import SigningConfigError, config_error
from workflows.signing.sync import warm_certificate

log = logging.getLogger("tdcflow.signing")

P12 = "TDCFLOW_SIGNING_P12"
P12_PASSWORD = "TDCFLOW_SIGNING_P12_PASSWORD"
TSA_URL = "TDCFLOW_TSA_URL"
TRUST_ROOTS = "TDCFLOW_SIGNING_TRUST_ROOTS"

# A timestamp server that does not answer in this time fails the signature (the job retries later).
TSA_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Pkcs12Contents:
    """What a PKCS#12 file holds, checked: a private key, its certificate and the rest of the chain."""

    key: object
    certificate: pyca_x509.Certificate
    chain: list[pyca_x509.Certificate]
    data: bytes
    passphrase: bytes | None


def signing_configured(settings: Settings) -> bool:
    """Whether the settings name a signer at all (issued documents are signed only then)."""
    return settings.signing_p12 is not None or settings.signing_pkcs11_module is not None


def load_signer(settings: Settings) -> Signer:
    """The pyHanko signer of the agency's organisation certificate: on a PKCS#11 token or HSM
    (``TDCFLOW_SIGNING_PKCS11_*``, its session kept open: :mod:`workflows.signing.pkcs11`) when one
    is configured, else from a PKCS#12 file. Either is a pyHanko ``Signer`` that ``sign_pdf`` takes.
    """
    if settings.signing_pkcs11_module is not None:
        from workflows.signing.pkcs11 import open_pkcs11_signer

        return open_pkcs11_signer(settings)
    if settings.signing_p12 is not None:
        return load_p12_signer(settings.signing_p12, _password(settings))
    raise config_error(
        P12,
        "chưa cấu hình chứng thư số để ký văn bản (đặt TDCFLOW_SIGNING_P12 và TDCFLOW_SIGNING_P12_PASSWORD).",
        "no signing certificate is configured (set TDCFLOW_SIGNING_P12 and TDCFLOW_SIGNING_P12_PASSWORD).",
    )


def load_p12_signer(path: Path, password: str | None) -> SimpleSigner:
    """A signer from a PKCS#12 file, after checking the file, the password, the key and the dates."""
    contents = read_pkcs12(path, password)
    loaded = SimpleSigner.load_pkcs12_data(contents.data, other_certs=[], passphrase=contents.passphrase)
    signer = KeptKeySigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
        private_key=contents.key,
    )
    cert = signer.signing_cert
    log.info(
        "signing certificate loaded: %s (serial %X, valid until %s)",
        cert.subject.human_friendly,
        cert.serial_number,
        cert.not_valid_after.isoformat(),
    )
    warm_certificate(signer)
    return signer


class KeptKeySigner(SimpleSigner):
    """pyHanko's in-memory signer, holding the private key as an object.

    ``SimpleSigner.sign_raw`` loads the key from DER for every signature, and cryptography checks an
    RSA key when loading it (~60 ms on this project's machines, twice a document: pyHanko signs once
    to size the signature). RSA PKCS#1 v1.5 and ECDSA use the kept key; any other mechanism
    (PSS, EdDSA…) goes through pyHanko's own code.
    """

    def __init__(self, *, private_key: object, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = mechanism["algorithm"].native
        key = self._private_key
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algorithm == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)


def read_pkcs12(path: Path, password: str | None) -> Pkcs12Contents:
    """Open and check a PKCS#12 file; every failure names the setting at fault."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise config_error(P12, f"không có tệp {path}.", f"the file {path} does not exist.") from None
    except OSError as exc:
        raise config_error(
            P12, f"không đọc được tệp {path} ({exc.strerror}).", f"cannot read {path} ({exc.strerror})."
        ) from None
    try:
        (key, cert, chain), passphrase = _load_pkcs12(data, password)
    except ValueError:
        raise config_error(
            P12_PASSWORD,
            f"sai mật khẩu của tệp {path.name}, hoặc tệp không phải PKCS#12.",
            f"wrong password for {path.name}, or the file is not PKCS#12.",
        ) from None
    if key is None:  # (a file without a key lists its certificates as the chain: cert is None too)
        raise config_error(
            P12,
            f"tệp {path.name} không có khóa bí mật (chỉ có chứng thư).",
            f"{path.name} holds no private key (a certificate only).",
        )
    if cert is None:
        raise config_error(
            P12, f"tệp {path.name} không có chứng thư số.", f"{path.name} holds no certificate."
        )
    if key.public_key().public_bytes(Encoding.DER, _SPKI) != cert.public_key().public_bytes(
        Encoding.DER, _SPKI
    ):
        raise config_error(
            P12,
            f"khóa bí mật trong {path.name} không khớp với chứng thư số.",
            f"the private key in {path.name} does not match its certificate.",
        )
    _check_dates(cert, path)
    _check_key_usage(cert, path)
    return Pkcs12Contents(key=key, certificate=cert, chain=list(chain), data=data, passphrase=passphrase)


def load_timestamper(settings: Settings) -> TimeStamper | None:
    """The RFC 3161 client of ``TDCFLOW_TSA_URL``, or None when no timestamp server is configured."""
    url = (settings.tsa_url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise config_error(
            TSA_URL,
            f"'{url}' không phải địa chỉ http(s) của máy chủ dấu thời gian.",
            f"'{url}' is not an http(s) URL of a timestamp server.",
        )
    return HTTPTimeStamper(url, timeout=TSA_TIMEOUT_SECONDS)


def load_trust_roots(settings: Settings) -> list[x509.Certificate]:
    """The CA certificates the validator trusts.

    ``TDCFLOW_SIGNING_TRUST_ROOTS`` when set; otherwise the CA that issued the configured signing
    certificate when the PKCS#12 chain holds it (so a fresh install verifies its own documents);
    otherwise none (every signature is then reported as not trusted).
    """
    if settings.signing_trust_roots and settings.signing_trust_roots.strip():
        roots: list[x509.Certificate] = []
        for part in settings.signing_trust_roots.split(os.pathsep):
            if part.strip():
                roots.extend(read_certificates(Path(part.strip())))
        return roots
    if settings.signing_p12 is None:
        return []
    contents = read_pkcs12(settings.signing_p12, _password(settings))
    issuer = contents.certificate.issuer
    return [_to_asn1(c) for c in contents.chain if c.subject == issuer and _is_ca(c)]


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM (or DER) file; a missing or empty file names the trust-roots setting."""
    try:
        data = path.read_bytes()
    except OSError:
        raise config_error(
            TRUST_ROOTS, f"không đọc được tệp {path}.", f"cannot read the file {path}."
        ) from None
    try:
        if asn1_pem.detect(data):
            certs = [x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(data, multiple=True)]
        else:
            certs = [x509.Certificate.load(data)]
        for cert in certs:
            cert.native  # noqa: B018  (parses the whole structure now, not at validation time)
    except (ValueError, TypeError):
        raise config_error(
            TRUST_ROOTS,
            f"tệp {path} không chứa chứng thư số PEM/DER đọc được.",
            f"{path} holds no readable PEM/DER certificate.",
        ) from None
    if not certs:
        raise config_error(
            TRUST_ROOTS, f"tệp {path} không có chứng thư số nào.", f"{path} holds no certificate."
        )
    return certs


# --- helpers -------------------------------------------------------------------------------------

_SPKI = PublicFormat.SubjectPublicKeyInfo


def _password(settings: Settings) -> str | None:
    secret = settings.signing_p12_password
    return secret.get_secret_value() if secret is not None else None


def _load_pkcs12(data: bytes, password: str | None):  # type: ignore[no-untyped-def]
    """(key, certificate, chain) and the passphrase that opened the file: an empty or unset password
    opens both a file made without a password and one made with the empty password."""
    if password:
        return pkcs12.load_key_and_certificates(data, password.encode()), password.encode()
    try:
        return pkcs12.load_key_and_certificates(data, None), None
    except ValueError:
        return pkcs12.load_key_and_certificates(data, b""), b""


def _check_dates(cert: pyca_x509.Certificate, path: Path) -> None:
    current = now()
    until: datetime = cert.not_valid_after_utc
    since: datetime = cert.not_valid_before_utc
    if current > until:
        raise config_error(
            P12,
            f"chứng thư số trong {path.name} đã hết hạn ngày {until:%d/%m/%Y}.",
            f"the certificate in {path.name} expired on {until:%Y-%m-%d}.",
        )
    if current < since:
        raise config_error(
            P12,
            f"chứng thư số trong {path.name} chỉ có hiệu lực từ ngày {since:%d/%m/%Y}.",
            f"the certificate in {path.name} is not valid before {since:%Y-%m-%d}.",
        )


def _check_key_usage(cert: pyca_x509.Certificate, path: Path) -> None:
    """A certificate whose key usage forbids signing documents is refused now, not by every validator."""
    try:
        usage = cert.extensions.get_extension_for_class(pyca_x509.KeyUsage).value
    except pyca_x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise config_error(
            P12,
            f"chứng thư số trong {path.name} không được phép dùng để ký (KeyUsage).",
            f"the certificate in {path.name} may not sign documents (its KeyUsage).",
        )


def _is_ca(cert: pyca_x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(pyca_x509.BasicConstraints).value.ca)
    except pyca_x509.ExtensionNotFound:
        return False


def _to_asn1(cert: pyca_x509.Certificate) -> x509.Certificate:
    return x509.Certificate.load(cert.public_bytes(Encoding.DER))


__all__ = [
    "P12",
    "P12_PASSWORD",
    "TRUST_ROOTS",
    "TSA_URL",
    "KeptKeySigner",
    "Pkcs12Contents",
    "SigningConfigError",
    "load_p12_signer",
    "load_signer",
    "load_timestamper",
    "load_trust_roots",
    "read_certificates",
    "read_pkcs12",
    "signing_configured",
]
