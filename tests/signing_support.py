"""The tests' PKI and a real RFC 3161 timestamp server on 127.0.0.1, for every test that signs.

Registered as a pytest plugin (tests/conftest.py), so any test can ask for:

- ``test_pki`` (session): a :class:`SigningPki` — paths of the agency's PKCS#12 and of the root CA
  to trust, the timestamp server's URL, ``env()`` for a subprocess (``TDCFLOW_SIGNING_*``,
  ``TDCFLOW_TSA_URL``) and ``settings()`` for in-process calls;
- ``pdfsig_nssdir`` (session): an NSS database trusting the test root, for Debian's ``pdfsig``.

The names and lifetimes are in tests/fixtures/pki/pki.toml. Keys are made fresh each session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from workflows.config import Settings
from workflows.signing.demo_pki import make_certificate, make_key

PKI_CONFIG = Path(__file__).parent / "fixtures" / "pki" / "pki.toml"


@dataclass(frozen=True)
class SigningPki:
    """The files and services of the tests' PKI."""

    dir: Path
    p12: Path
    """The agency's certificate, key and chain (issuing CA, root), encrypted with ``password``."""
    password: str
    root_pem: Path
    """The root CA, the only certificate to trust."""
    stranger_p12: Path
    """An agency certificate from a root nobody trusts (same password)."""
    tsa_url: str
    agency_common_name: str
    agency_organisation: str
    agency_not_after: datetime
    root: asn1_x509.Certificate
    root_certificate: x509.Certificate | None = None
    """The root as ``cryptography`` reads it, and its key: a test issues more certificates under it
    (a leader's own, for personal signing)."""
    root_key: rsa.RSAPrivateKey | None = None

    def env(self, *, tsa: bool = True) -> dict[str, str]:
        """Settings for a subprocess (``os.environ | pki.env()``)."""
        env = {
            "TDCFLOW_SIGNING_P12": str(self.p12),
            "TDCFLOW_SIGNING_P12_PASSWORD": self.password,
            "TDCFLOW_SIGNING_TRUST_ROOTS": str(self.root_pem),
        }
        if tsa:
            env["TDCFLOW_TSA_URL"] = self.tsa_url
        return env

    def settings(self, *, tsa: bool = False, **overrides: Any) -> Settings:
        """Settings for in-process calls (the rest at their defaults)."""
        values: dict[str, Any] = {
            "signing_p12": self.p12,
            "signing_p12_password": self.password,
            "signing_trust_roots": str(self.root_pem),
            "tsa_url": self.tsa_url if tsa else None,
        }
        values.update(overrides)
        return Settings(**values)

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        return [self.root]


def _name(section: dict[str, Any]) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, section["organisation"]),
    ]
    if "unit" in section:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, section["unit"]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, section["common_name"]))
    return x509.Name(attrs)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


def build_pki(dest: Path, tsa_url: str = "") -> tuple[SigningPki, DummyTimeStamper]:
    """Write the PKI of ``pki.toml`` into ``dest``; returns it and the TSA that the server runs."""
    config = tomllib.loads(PKI_CONFIG.read_text(encoding="utf-8"))
    # Valid from three years back: tests travel in time (to 2025, 2026…) and sign there.
    start = datetime.now().astimezone() - timedelta(days=3 * 365)

    def days(section: str) -> datetime:
        return start + timedelta(days=config[section]["days"])

    root_key, ca_key, agency_key, tsa_key, stranger_key, stranger_agency_key = (make_key() for _ in range(6))
    root = make_certificate(
        subject=_name(config["root"]),
        key=root_key,
        issuer_cert=None,
        issuer_key=root_key,
        not_before=start,
        not_after=days("root"),
        ca=True,
    )
    issuing_ca = make_certificate(
        subject=_name(config["issuing_ca"]),
        key=ca_key,
        issuer_cert=root,
        issuer_key=root_key,
        not_before=start,
        not_after=days("issuing_ca"),
        ca=True,
        path_length=0,
    )
    agency = make_certificate(
        subject=_name(config["agency"]),
        key=agency_key,
        issuer_cert=issuing_ca,
        issuer_key=ca_key,
        not_before=start,
        not_after=days("agency"),
    )
    tsa = make_certificate(
        subject=_name(config["tsa"]),
        key=tsa_key,
        issuer_cert=root,
        issuer_key=root_key,
        not_before=start,
        not_after=days("tsa"),
        timestamping=True,
    )
    stranger = make_certificate(
        subject=_name(config["stranger"]),
        key=stranger_key,
        issuer_cert=None,
        issuer_key=stranger_key,
        not_before=start,
        not_after=days("stranger"),
        ca=True,
    )
    stranger_agency = make_certificate(
        subject=_name(config["agency"]),
        key=stranger_agency_key,
        issuer_cert=stranger,
        issuer_key=stranger_key,
        not_before=start,
        not_after=days("agency"),
    )
    password: str = config["p12_password"]
    encryption = serialization.BestAvailableEncryption(password.encode())
    dest.mkdir(parents=True, exist_ok=True)
    p12 = dest / "agency.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"agency", agency_key, agency, [issuing_ca, root], encryption)
    )
    stranger_p12 = dest / "stranger.p12"
    stranger_p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"stranger", stranger_agency_key, stranger_agency, [stranger], encryption
        )
    )
    root_pem = dest / "root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    stamper = DummyTimeStamper(tsa_cert=_asn1_cert(tsa), tsa_key=_asn1_key(tsa_key), certs_to_embed=[])
    pki = SigningPki(
        dir=dest,
        p12=p12,
        password=password,
        root_pem=root_pem,
        stranger_p12=stranger_p12,
        tsa_url=tsa_url,
        agency_common_name=config["agency"]["common_name"],
        agency_organisation=config["agency"]["organisation"],
        agency_not_after=agency.not_valid_after_utc,
        root=_asn1_cert(root),
        root_certificate=root,
        root_key=root_key,
    )
    return pki, stamper


class TimestampServer:
    """An RFC 3161 server over HTTP on 127.0.0.1: pyHanko's test TSA behind a real socket."""

    def __init__(self) -> None:
        self.stamper: DummyTimeStamper | None = None
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = tsp.TimeStampReq.load(self.rfile.read(min(length, 64 * 1024)))
                assert server.stamper is not None
                body = server.stamper.request_tsa_response(request).dump()
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="test-tsa", daemon=True)

    def __enter__(self) -> TimestampServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningPki]:
    """The tests' PKI with its timestamp server running (see the module)."""
    with TimestampServer() as server:
        pki, stamper = build_pki(tmp_path_factory.mktemp("pki"), server.url)
        server.stamper = stamper
        yield pki


def require_pdfsig() -> str:
    """pdfsig's path; without it the test is skipped locally and fails under CI (make test installs it)."""
    path = shutil.which("pdfsig")
    if path is None or shutil.which("certutil") is None:
        message = "pdfsig/certutil missing: apt-get install poppler-utils libnss3-tools (make pdfsig)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def pdfsig_nssdir(test_pki: SigningPki, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database (``sql:DIR`` for ``pdfsig -nssdir``) that trusts the tests' root CA only."""
    require_pdfsig()
    db = tmp_path_factory.mktemp("nssdb")
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "tdcflow test root",
            "-t",
            "C,C,C",
            "-i",
            str(test_pki.root_pem),
        ],
        check=True,
        capture_output=True,
    )
    return f"sql:{db}"


def pdfsig(pdf: Path, nssdir: str) -> str:
    """What Debian's pdfsig prints about ``pdf``, with the given NSS database's trust."""
    done = subprocess.run(
        [require_pdfsig(), "-nssdir", nssdir, str(pdf)], capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr
