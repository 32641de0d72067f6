"""A private SoftHSM token for the PKCS#11 signing tests and the benchmark: a real PKCS#11 module
(Debian's ``softhsm2``), its tokens in a temporary folder, never the system's /var/lib/softhsm.

:func:`make_token` initialises a token with ``softhsm2-util``, generates an RSA key pair *inside*
the token (the private key is sensitive and not extractable, as on a hardware token), has a
throw-away test CA (made with ``cryptography``) certify the token's public key and stores that
certificate on the token beside the key (same CKA_ID). :func:`softhsm_token` is the pytest fixture.

SoftHSM reads ``SOFTHSM2_CONF`` when the module is initialised (C_Initialize), and python-pkcs11
keeps one initialised module per path for the whole process; so the token lives for the whole test
session (per xdist worker), ``SOFTHSM2_CONF`` is set in this process's environment for that time,
and every test uses the same token (a test that needs another label just asks for one that does
not exist).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.util.x509 import decode_x509_certificate

from workflows.config import Settings

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SOFTHSM_UTIL = Path("/usr/bin/softhsm2-util")

TOKEN_LABEL = "tdcflow-test"
KEY_LABEL = "agency-signing"
KEY_ID = bytes.fromhex("a1b2")
CA_LABEL = "test-ca"
CA_ID = bytes.fromhex("ca01")
USER_PIN = "482915"
SO_PIN = "73204618"


@dataclass
class SoftHsmToken:
    """One initialised token: where it lives, its secrets, its test CA and the settings to reach it."""

    module: Path
    conf: Path
    token_dir: Path
    label: str
    key_label: str
    key_id: bytes
    pin: str
    so_pin: str
    pin_file: Path
    ca_cert: x509.Certificate
    ca_pem: Path
    signer_cert: x509.Certificate
    env: dict[str, str] = field(default_factory=dict)

    def settings(self, **changes: Any) -> Settings:
        """Settings that reach this token (PIN from the PIN file), with ``changes`` by field name."""
        values: dict[str, Any] = {
            "signing_pkcs11_module": self.module,
            "signing_pkcs11_token_label": self.label,
            "signing_pkcs11_key_label": self.key_label,
            "signing_pkcs11_pin_file": self.pin_file,
            "signing_pkcs11_chain_file": self.ca_pem,
        }
        values.update(changes)
        return Settings(**values)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Khoa học và Công nghệ (thử nghiệm)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _make_ca(now: dt.datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("tdcflow test CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _certify(
    ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, public_key: rsa.RSAPublicKey, now: dt.datetime
) -> x509.Certificate:
    """The agency's signing certificate for the token's public key (document signing key usage)."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name("SỞ KHOA HỌC VÀ CÔNG NGHỆ (test)"))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def make_token(folder: Path, *, label: str = TOKEN_LABEL) -> SoftHsmToken:
    """Initialise a token whose files live under ``folder``; the key and certificate are on it.

    Sets ``SOFTHSM2_CONF`` in this process's environment (the module reads it when initialised):
    the caller restores it when done (the fixture does).
    """
    if not SOFTHSM_MODULE.exists() or not SOFTHSM_UTIL.exists():
        raise RuntimeError("Debian's softhsm2 is missing: make softhsm (apt-get install softhsm2)")
    token_dir = folder / "tokens"
    token_dir.mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            str(SOFTHSM_UTIL),
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )

    now = dt.datetime.now(dt.UTC)
    ca_key, ca_cert = _make_ca(now)
    lib = pkcs11.lib(str(SOFTHSM_MODULE))
    token = lib.get_token(token_label=label)
    with token.open(rw=True, user_pin=USER_PIN) as session:
        public, _private = session.generate_keypair(
            KeyType.RSA,
            2048,
            id=KEY_ID,
            label=KEY_LABEL,
            store=True,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
        )
        public_key = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(public[Attribute.MODULUS], "big"),
        ).public_key()
        signer_cert = _certify(ca_key, ca_cert, public_key, now)
        attributes = decode_x509_certificate(signer_cert.public_bytes(serialization.Encoding.DER))
        attributes.update({Attribute.TOKEN: True, Attribute.LABEL: KEY_LABEL, Attribute.ID: KEY_ID})
        session.create_object(attributes)
        assert attributes[Attribute.CLASS] == ObjectClass.CERTIFICATE
        # The CA's certificate on the token too (as tokens often carry the chain): a certificate that
        # is not the key's, for the test of a certificate label that names the wrong one.
        attributes = decode_x509_certificate(ca_cert.public_bytes(serialization.Encoding.DER))
        attributes.update({Attribute.TOKEN: True, Attribute.LABEL: CA_LABEL, Attribute.ID: CA_ID})
        session.create_object(attributes)

    pin_file = folder / "pin"
    pin_file.write_text(USER_PIN + "\n")
    pin_file.chmod(0o600)
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    env = {
        "SOFTHSM2_CONF": str(conf),
        "TDCFLOW_SIGNING_PKCS11_MODULE": str(SOFTHSM_MODULE),
        "TDCFLOW_SIGNING_PKCS11_TOKEN_LABEL": label,
        "TDCFLOW_SIGNING_PKCS11_KEY_LABEL": KEY_LABEL,
        "TDCFLOW_SIGNING_PKCS11_PIN_FILE": str(pin_file),
        "TDCFLOW_SIGNING_PKCS11_CHAIN_FILE": str(ca_pem),
    }
    return SoftHsmToken(
        module=SOFTHSM_MODULE,
        conf=conf,
        token_dir=token_dir,
        label=label,
        key_label=KEY_LABEL,
        key_id=KEY_ID,
        pin=USER_PIN,
        so_pin=SO_PIN,
        pin_file=pin_file,
        ca_cert=ca_cert,
        ca_pem=ca_pem,
        signer_cert=signer_cert,
        env=env,
    )


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsmToken]:
    """A private SoftHSM token with the agency's key and certificate (see the module's docstring)."""
    before = os.environ.get("SOFTHSM2_CONF")
    try:
        yield make_token(tmp_path_factory.mktemp("softhsm"))
    finally:
        if before is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = before
