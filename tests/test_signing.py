"""Signing issued documents (PAdES) and checking them, as a recipient of the PDF would.

Every signed file is checked twice: by our validator (pyHanko) and by Debian's pdfsig (poppler with
NSS), an independent implementation, given an NSS database that trusts the tests' root CA only —
so "Certificate is Trusted" is asserted, not just the signature's mathematics. The timestamp comes
from a real RFC 3161 server on 127.0.0.1 (tests/signing_support.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import hypothesis.strategies as st
import pytest
import time_machine
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.signing_support import SigningPki, pdfsig
from workflows.config import Settings
from workflows.signing import (
    SignatureReport,
    SigningConfigError,
    TimestampUnavailable,
    create_demo_pki,
    load_signer,
    load_timestamper,
    load_trust_roots,
    read_certificates,
    sign_pdf,
    validate_pdf,
)
from workflows.signing.sync import run_blocking
from workflows.signing.validate import (
    DAMAGED,
    EXPIRED,
    INVALID,
    NO_SIGNATURE,
    NOT_INTACT,
    NOT_PDF,
    NOT_WHOLE,
    TOO_LARGE,
    UNTRUSTED,
)

TDCFLOW = Path(sys.executable).with_name("tdcflow")
MARK = b"So tiep nhan 000.00.15.H50-261203-0001"


def receipt_pdf(pages: int = 2) -> bytes:
    """A small receipt slip, as the renderer would hand it over (fpdf2's core font: ASCII text)."""
    pdf = FPDF()
    pdf.set_title(MARK.decode())
    pdf.set_font("helvetica", size=12)
    for page in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"PHIEU TIEP NHAN HO SO - trang {page + 1}\n" + "Noi dung ho so. " * 60)
    return bytes(pdf.output())


def sign(pki: SigningPki, pdf: bytes | None = None, *, tsa: bool = False) -> bytes:
    settings = pki.settings(tsa=tsa)
    return sign_pdf(
        pdf if pdf is not None else receipt_pdf(),
        load_signer(settings),
        reason="Phát hành phiếu tiếp nhận",
        location="Quảng Trị",
        contact="skhcn@quangtri.gov.vn",
        timestamper=load_timestamper(settings),
    )


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def only_signature(report: SignatureReport):  # type: ignore[no-untyped-def]
    assert report.is_pdf and len(report.signatures) == 1, report
    return report.signatures[0]


# --- a signed document, as its recipients see it ---------------------------------------------------


def test_signed_pdf_is_intact_valid_trusted_and_whole_for_pyhanko_and_pdfsig(
    test_pki: SigningPki, pdfsig_nssdir: str, tmp_path: Path
) -> None:
    original = receipt_pdf()
    signed = sign(test_pki, original)

    # An incremental update: the rendered bytes (a PDF/A's identification among them) are unchanged.
    assert signed.startswith(original)

    sig = only_signature(validate_pdf(signed, test_pki.trust_roots))
    assert (sig.intact, sig.valid, sig.trusted, sig.whole_document) == (True, True, True, True)
    assert sig.coverage == "ENTIRE_FILE" and sig.problems == []
    assert sig.signer_common_name == test_pki.agency_common_name
    assert sig.signer_organisation == test_pki.agency_organisation
    assert sig.certificate_serial and len(sig.certificate_sha256 or "") == 64
    assert sig.signing_time is not None and abs(sig.signing_time - datetime.now(UTC)) < timedelta(minutes=5)
    assert sig.timestamp_time is None and sig.timestamp_trusted is None

    out = pdfsig(write(tmp_path, "signed.pdf", signed), pdfsig_nssdir)
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Certificate Validation: Certificate is Trusted." in out, out
    assert "Total document signed" in out and "Not total document signed" not in out, out
    assert "Signature Type: ETSI.CAdES.detached" in out, out  # PAdES, not adbe.pkcs7.detached
    assert f"Signer Certificate Common Name: {test_pki.agency_common_name}" in out, out


PDFA_XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance><pdf:Producer>LibreOffice 24.8</pdf:Producer>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_signing_keeps_the_pdfa_identification_and_info_agreeing_with_xmp(test_pki: SigningPki) -> None:
    """PDF/A (ISO 19005-2, 6.6.2.3.1): Info entries equal their XMP twins, also after the update."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="PDF/A")
    pdf.set_producer("LibreOffice 24.8")
    pdf.set_xmp_metadata(PDFA_XMP)
    # fpdf2 writes no /ModDate: its /CreationDate becomes one (same length, offsets unchanged).
    original = re.sub(rb"/CreationDate \(", b"/ModDate      (", bytes(pdf.output()))
    assert b"/ModDate" in original
    signed = sign(test_pki, original)
    assert signed.startswith(original)

    reader = PdfFileReader(BytesIO(signed))
    xmp = reader.root["/Metadata"].data.decode()
    assert re.search(r'pdfaid:part(="|>)2', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp), xmp
    xmp_producer = re.search(r'pdf:Producer(?:="|>)([^"<]*)', xmp)
    assert xmp_producer is not None, xmp
    info = reader.trailer["/Info"]
    assert str(info["/Producer"]) == xmp_producer.group(1)
    assert "/ModDate" not in info  # xmp:ModifyDate has the date; two clock readings could differ
    assert validate_pdf(signed, test_pki.trust_roots).ok


def test_one_byte_changed_in_the_signed_range_fails_both_validators(
    test_pki: SigningPki, pdfsig_nssdir: str, tmp_path: Path
) -> None:
    signed = sign(test_pki)
    assert signed.count(MARK) == 1
    tampered = signed.replace(MARK, MARK[:-1] + b"2")  # the document's title: inside the signed bytes

    report = validate_pdf(tampered, test_pki.trust_roots)
    sig = only_signature(report)
    assert not report.ok and not sig.intact and not sig.trusted
    assert sig.problems == [NOT_INTACT, INVALID]

    out = pdfsig(write(tmp_path, "tampered.pdf", tampered), pdfsig_nssdir)
    assert "Signature is Valid" not in out, out
    assert "Digest Mismatch" in out, out


def test_content_appended_after_signing_is_not_the_whole_document(
    test_pki: SigningPki, pdfsig_nssdir: str, tmp_path: Path
) -> None:
    signed = sign(test_pki)
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/AddedAfterSigning"] = writer.add_object(generic.TextStringObject("sửa sau khi ký"))
    writer.update_root()
    out_buffer = BytesIO()
    writer.write(out_buffer)
    appended = out_buffer.getvalue()
    assert appended.startswith(signed) and len(appended) > len(signed)

    report = validate_pdf(appended, test_pki.trust_roots)
    sig = only_signature(report)
    assert sig.intact and sig.valid and sig.trusted  # the signed revision itself is untouched …
    assert not sig.whole_document and sig.coverage != "ENTIRE_FILE"  # … but something follows it
    assert sig.problems == [NOT_WHOLE] and not report.ok

    out = pdfsig(write(tmp_path, "appended.pdf", appended), pdfsig_nssdir)
    assert "Not total document signed" in out, out


def test_timestamped_signature_reports_the_timestamp_servers_time(
    test_pki: SigningPki, pdfsig_nssdir: str, tmp_path: Path
) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    with time_machine.travel(moment, tick=True):
        signed = sign(test_pki, tsa=True)
        sig = only_signature(validate_pdf(signed, test_pki.trust_roots))
    assert sig.ok, sig.problems
    assert sig.timestamp_time is not None and sig.timestamp_trusted is True
    assert abs(sig.timestamp_time - moment) < timedelta(minutes=1)
    assert sig.signing_time is not None and abs(sig.signing_time - moment) < timedelta(minutes=1)

    out = pdfsig(write(tmp_path, "timestamped.pdf", signed), pdfsig_nssdir)
    assert "Signature Validation: Signature is Valid." in out and "Total document signed" in out, out


def test_after_the_certificate_expires_only_the_timestamped_signature_still_holds(
    test_pki: SigningPki,
) -> None:
    timestamped, plain = sign(test_pki, receipt_pdf(1), tsa=True), sign(test_pki, receipt_pdf(1))
    with time_machine.travel(test_pki.agency_not_after + timedelta(days=30)):
        b_t = only_signature(validate_pdf(timestamped, test_pki.trust_roots))
        b_b = only_signature(validate_pdf(plain, test_pki.trust_roots))
    assert b_t.ok and b_t.trusted, b_t.problems
    assert b_t.validation_time == b_t.timestamp_time  # the chain was checked when it signed
    assert b_b.intact and b_b.valid and not b_b.trusted
    assert b_b.problems == [EXPIRED]


def test_a_timestamp_server_that_does_not_answer_leaves_the_document_unsigned(test_pki: SigningPki) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = test_pki.settings(tsa_url=f"http://127.0.0.1:{port}/tsa")
    with pytest.raises(TimestampUnavailable) as raised:
        sign_pdf(
            receipt_pdf(1),
            load_signer(settings),
            reason="r",
            location="l",
            timestamper=load_timestamper(settings),
        )
    assert "thử lại sau" in raised.value.message and "try again later" in raised.value.message_en


def test_a_signature_from_another_ca_is_valid_but_not_trusted(test_pki: SigningPki) -> None:
    settings = test_pki.settings(signing_p12=test_pki.stranger_p12)
    signed = sign_pdf(receipt_pdf(1), load_signer(settings), reason="r", location="l")
    sig = only_signature(validate_pdf(signed, test_pki.trust_roots))
    assert sig.intact and sig.valid and not sig.trusted
    assert [p for p in sig.problems if p.startswith(UNTRUSTED)] == sig.problems
    # Vietnamese first, English second, as the verify page shows it.
    assert (
        sig.problems[0].startswith("Chứng thư số của người ký")
        and " / The signer's certificate" in sig.problems[0]
    )


def test_signing_and_validating_work_from_inside_an_event_loop(test_pki: SigningPki) -> None:
    """An ``async def`` handler calling the library directly (pyHanko's wrappers use asyncio.run)."""

    async def handler() -> SignatureReport:
        signed = sign(test_pki, receipt_pdf(1), tsa=True)
        return validate_pdf(signed, test_pki.trust_roots)

    # A fresh thread: the test worker's own thread may already run a loop (a browser test's).
    assert run_blocking(lambda: asyncio.run(handler())).ok


# --- settings ----------------------------------------------------------------------------------------


def test_wrong_p12_password_names_the_password_setting(test_pki: SigningPki) -> None:
    with pytest.raises(SigningConfigError) as raised:
        load_signer(test_pki.settings(signing_p12_password="sai mật khẩu"))
    assert raised.value.setting == "TDCFLOW_SIGNING_P12_PASSWORD"
    assert str(raised.value).startswith("TDCFLOW_SIGNING_P12_PASSWORD: wrong password")
    assert raised.value.message.startswith("TDCFLOW_SIGNING_P12_PASSWORD: sai mật khẩu")


def test_missing_p12_file_names_the_file_setting(test_pki: SigningPki, tmp_path: Path) -> None:
    with pytest.raises(SigningConfigError) as raised:
        load_signer(test_pki.settings(signing_p12=tmp_path / "khong-co.p12"))
    assert raised.value.setting == "TDCFLOW_SIGNING_P12"
    assert "does not exist" in raised.value.message_en and "không có tệp" in raised.value.message


def test_no_signer_configured_names_the_file_setting() -> None:
    with pytest.raises(SigningConfigError) as raised:
        load_signer(Settings(signing_p12=None))
    assert raised.value.setting == "TDCFLOW_SIGNING_P12"


def test_expired_certificate_is_refused_at_loading(test_pki: SigningPki) -> None:
    with (
        time_machine.travel(test_pki.agency_not_after + timedelta(days=1)),
        pytest.raises(SigningConfigError) as raised,
    ):
        load_signer(test_pki.settings())
    assert raised.value.setting == "TDCFLOW_SIGNING_P12" and "expired" in raised.value.message_en


def test_a_p12_without_private_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from tests.signing_support import build_pki

    pki, _ = build_pki(tmp_path / "pki")
    cert = pkcs12.load_key_and_certificates(pki.p12.read_bytes(), pki.password.encode())[1]
    assert cert is not None
    certs_only = pkcs12.serialize_key_and_certificates(
        b"no-key", None, cert, None, BestAvailableEncryption(pki.password.encode())
    )
    p12 = write(tmp_path, "no-key.p12", certs_only)
    with pytest.raises(SigningConfigError) as raised:
        load_signer(pki.settings(signing_p12=p12))
    assert raised.value.setting == "TDCFLOW_SIGNING_P12" and "no private key" in raised.value.message_en


def test_bad_tsa_url_and_trust_roots_name_their_settings(test_pki: SigningPki, tmp_path: Path) -> None:
    with pytest.raises(SigningConfigError) as raised:
        load_timestamper(Settings(tsa_url="ftp://tsa.example"))
    assert raised.value.setting == "TDCFLOW_TSA_URL"
    with pytest.raises(SigningConfigError) as raised:
        load_trust_roots(test_pki.settings(signing_trust_roots=str(tmp_path / "none.pem")))
    assert raised.value.setting == "TDCFLOW_SIGNING_TRUST_ROOTS"
    with pytest.raises(SigningConfigError) as raised:
        read_certificates(write(tmp_path, "junk.pem", b"not a certificate"))
    assert raised.value.setting == "TDCFLOW_SIGNING_TRUST_ROOTS"


def test_default_trust_root_is_the_issuer_of_the_signing_certificate(test_pki: SigningPki) -> None:
    settings = test_pki.settings(signing_trust_roots=None)
    roots = load_trust_roots(settings)
    assert [r.subject.native["common_name"] for r in roots] == ["tdcflow TEST Issuing CA"]
    sig = only_signature(validate_pdf(sign(test_pki), roots))
    assert sig.trusted and sig.ok


# --- hostile input to the public verify page ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("empty", b"", NOT_PDF),
        ("random", os.urandom(4096), NOT_PDF),
        ("random after a PDF header", b"%PDF-1.7\n" + os.urandom(4096), DAMAGED),
        ("a PDF header alone", b"%PDF-1.4\n%%EOF\n", DAMAGED),
        ("an unsigned PDF", receipt_pdf(1), NO_SIGNATURE),
    ],
)
def test_hostile_or_unsigned_input_gets_a_report_not_an_exception(
    name: str, data: bytes, problem: str
) -> None:
    report = validate_pdf(data, [])
    assert not report.ok and not report.signed
    assert report.problems == [problem], name


def test_truncated_and_oversized_signed_pdfs_get_a_report(test_pki: SigningPki) -> None:
    signed = sign(test_pki)
    for cut in (len(signed) // 3, len(signed) // 2, len(signed) - 40):
        report = validate_pdf(signed[:cut], test_pki.trust_roots)
        assert not report.ok, cut
        assert report.problems or any(s.problems for s in report.signatures), cut
    assert validate_pdf(signed, test_pki.trust_roots, max_bytes=1000).problems == [TOO_LARGE]


def test_garbage_in_the_signature_contents_is_reported(test_pki: SigningPki) -> None:
    signed = sign(test_pki)
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    garbage = signed[:start] + b"30" + b"ff" * 40 + signed[start + 82 :]
    assert len(garbage) == len(signed)
    report = validate_pdf(garbage, test_pki.trust_roots)
    assert not report.ok
    assert report.all_problems


@pytest.fixture(scope="module")
def signed_receipt(test_pki: SigningPki) -> bytes:
    return sign(test_pki, receipt_pdf(1), tsa=True)


@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_signed_pdfs_never_raise_and_never_pass(
    data: st.DataObject, signed_receipt: bytes, test_pki: SigningPki
) -> None:
    """Random edits of a signed PDF (bytes overwritten, cut, inserted): a report each time, and one
    that never says "ok" unless the edit left the file as it was."""
    pdf = bytearray(signed_receipt)
    edit = data.draw(st.sampled_from(["overwrite", "truncate", "insert"]))
    at = data.draw(st.integers(0, len(pdf) - 1))
    chunk = data.draw(st.binary(min_size=1, max_size=16))
    if edit == "overwrite":
        pdf[at : at + len(chunk)] = chunk
    elif edit == "truncate":
        del pdf[at:]
    else:
        pdf[at:at] = chunk
    report = validate_pdf(bytes(pdf), test_pki.trust_roots)
    assert isinstance(report, SignatureReport)
    if bytes(pdf) != signed_receipt:
        assert not report.ok or _only_unsigned_bytes_changed(signed_receipt, bytes(pdf))


def _only_unsigned_bytes_changed(original: bytes, changed: bytes) -> bool:
    """An edit of the signature's own hex (inside /Contents <…>, outside the signed ranges) or of
    its zero padding can leave the signature valid: that is correct, not a miss."""
    if len(original) != len(changed):
        return False
    start = original.index(b"/Contents <") + len(b"/Contents <")
    end = original.index(b">", start)
    return all(a == b for i, (a, b) in enumerate(zip(original, changed, strict=True)) if not start <= i < end)


# --- the demo PKI --------------------------------------------------------------------------------------


def test_demo_pki_command_creates_files_once_and_its_signatures_validate(
    tmp_path: Path, pdfsig_nssdir: str
) -> None:
    dest = tmp_path / "demo-pki"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TDCFLOW_")}
    env["TDCFLOW_DATA_DIR"] = str(tmp_path)
    first = subprocess.run(  # no folder named: TDCFLOW_DATA_DIR/demo-pki
        [str(TDCFLOW), "signing", "demo-pki"], env=env, capture_output=True, text=True, check=True
    )
    files = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert set(files) == {"ca.pem", "agency.p12", "agency.p12.password"}
    second = subprocess.run(
        [str(TDCFLOW), "signing", "demo-pki", str(dest)], env=env, capture_output=True, text=True, check=True
    )
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == files  # nothing made again
    assert first.stdout == second.stdout
    assert "KHÔNG dùng thật" in first.stderr and "NOT for real use" in first.stderr

    exported = dict(
        line.removeprefix("export ").split("=", 1)
        for line in first.stdout.splitlines()
        if line.startswith("export ")
    )
    assert set(exported) == {
        "TDCFLOW_SIGNING_P12",
        "TDCFLOW_SIGNING_P12_PASSWORD",
        "TDCFLOW_SIGNING_TRUST_ROOTS",
    }
    settings = Settings(
        signing_p12=exported["TDCFLOW_SIGNING_P12"],
        signing_p12_password=(dest / "agency.p12.password").read_text().strip(),
        signing_trust_roots=exported["TDCFLOW_SIGNING_TRUST_ROOTS"],
    )
    roots = load_trust_roots(settings)
    assert "DEMO" in roots[0].subject.native["common_name"]
    signed = sign_pdf(receipt_pdf(1), load_signer(settings), reason="Demo", location="Quảng Trị")
    sig = only_signature(validate_pdf(signed, roots))
    assert sig.ok, sig.problems
    assert "DEMO" in (sig.signer_common_name or "")

    # The tests' NSS database does not trust the demo CA: pdfsig finds the signature valid only.
    out = pdfsig(write(tmp_path, "demo.pdf", signed), pdfsig_nssdir)
    assert "Signature Validation: Signature is Valid." in out and "Certificate is Trusted" not in out, out


def test_create_demo_pki_is_idempotent_in_process(tmp_path: Path) -> None:
    first = create_demo_pki(tmp_path / "pki", "Sở KH&CN")
    before = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    create_demo_pki(tmp_path / "pki", "Sở KH&CN")
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == before
    assert oct((first / "agency.p12").stat().st_mode & 0o777) == "0o600"
