"""Signing issued documents (PAdES) and checking signed PDFs.

    signer = load_signer(settings)                     # PKCS#12 now; PKCS#11 is one branch away
    signed = sign_pdf(pdf, signer, reason=..., location=..., timestamper=load_timestamper(settings))
    report = validate_pdf(signed, load_trust_roots(settings))

One concept per module: ``signer`` (settings → signer, timestamp client, trust roots), ``sign``,
``validate`` (the report), ``demo_pki``, ``errors``.
"""

from workflows.signing.demo_pki import create_demo_pki, demo_pki_env
from workflows.signing.errors import SigningConfigError, SigningFailed, TimestampUnavailable
from workflows.signing.sign import DEFAULT_FIELD_NAME, sign_pdf
from workflows.signing.signer import (
    load_signer,
    load_timestamper,
    load_trust_roots,
    read_certificates,
    signing_configured,
)
from workflows.signing.validate import SignatureInfo, SignatureReport, validate_pdf

__all__ = [
    "DEFAULT_FIELD_NAME",
    "SignatureInfo",
    "SignatureReport",
    "SigningConfigError",
    "SigningFailed",
    "TimestampUnavailable",
    "create_demo_pki",
    "demo_pki_env",
    "load_signer",
    "load_timestamper",
    "load_trust_roots",
    "read_certificates",
    "sign_pdf",
    "signing_configured",
    "validate_pdf",
]
