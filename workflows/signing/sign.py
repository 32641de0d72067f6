"""Signing a PDF: a PAdES signature (B-B, or B-T with a timestamp) in an incremental update.

The signature is appended as an incremental update, so the bytes of the rendered document (its
PDF/A identification included) stay exactly as they were, before the signed revision.
"""

from __future__ import annotations

import logging
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from workflows.signing.errors import SigningFailed, TimestampUnavailable
from workflows.signing.sync import run_blocking

log = logging.getLogger("tdcflow.signing")

DEFAULT_FIELD_NAME = "ChuKyCoQuan"
"""The signature field's name: "the agency's signature" (ASCII: some readers mangle others)."""


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    *,
    reason: str,
    location: str,
    contact: str | None = None,
    field_name: str = DEFAULT_FIELD_NAME,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """The signed PDF: ``pdf`` followed by an incremental update with an invisible signature field.

    PAdES B-B (``/SubFilter /ETSI.CAdES.detached``, SHA-256); with ``timestamper`` the signature
    carries an RFC 3161 signature timestamp (PAdES B-T). Raises :class:`TimestampUnavailable`
    when the timestamp server fails (retry later) and :class:`SigningFailed` for anything else.
    Blocking (CPU, and the network with a timestamper); safe to call from a thread that runs an
    event loop (the work then moves to a thread of its own).
    """
    meta = PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        contact_info=contact,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = PdfSigner(
        meta,
        signer=signer,
        timestamper=timestamper,
        new_field_spec=SigFieldSpec(sig_field_name=field_name),  # no box: an invisible field
    )

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        _info_agreeing_with_xmp(writer)
        out = pdf_signer.sign_pdf(writer, output=BytesIO())
        return out.getvalue()

    try:
        signed = run_blocking(sign)
    except TimestampRequestError as exc:
        log.warning("timestamp server failed: %s", exc)
        raise TimestampUnavailable(
            "Máy chủ dấu thời gian không trả lời hoặc từ chối; văn bản chưa được ký, hãy thử lại sau.",
            "The timestamp server did not answer or refused; the document is not signed, try again later.",
            code="timestamp_unavailable",
        ) from exc
    except (PdfError, SigningError, ValueError) as exc:
        log.warning("signing failed: %s", exc)
        raise SigningFailed(
            f"Không ký được văn bản: {exc}", f"The document could not be signed: {exc}", code="signing_failed"
        ) from exc
    log.debug("signed a PDF of %d bytes into %d bytes (%s)", len(pdf), len(signed), field_name)
    return signed


def _info_agreeing_with_xmp(writer: IncrementalPdfFileWriter) -> None:
    """Make the update's Info dictionary say what its XMP metadata will say.

    PDF/A requires each Info entry to equal its XMP twin (ISO 19005-2, 6.6.2.3.1). pyHanko's update
    writes ``pdf:Producer`` = "pyHanko x.y" into the XMP metadata but appends "; pyHanko x.y" to
    Info's /Producer, so /Producer becomes pyHanko's own name (nothing left to append). It also
    stamps Info's /ModDate and ``xmp:ModifyDate`` from two separate readings of the clock, which
    differ when a second ticks between them: with XMP metadata, /ModDate goes (XMP has the date).
    """
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        return
    if not isinstance(info_ref, generic.IndirectObject):
        return
    info = info_ref.get_object()
    if not isinstance(info, generic.DictionaryObject):
        return
    if "/Producer" in info:
        info["/Producer"] = generic.TextStringObject(VENDOR)
    if "/ModDate" in info and "/Metadata" in writer.root:
        del info["/ModDate"]
    writer.mark_update(info_ref)
