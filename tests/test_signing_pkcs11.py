"""The PKCS#11 signer against a real module: Debian's SoftHSM, with a private token made for the run
(tests/softhsm_support.py). Signed PDFs are checked by pyHanko's validator and, when Debian's
poppler-utils is installed, by its ``pdfsig``."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import pkcs11
import pytest
import time_machine
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from tests.softhsm_support import CA_LABEL, SoftHsmToken, softhsm_token
from workflows.config import Settings
from workflows.signing import pkcs11 as p11
from workflows.signing.pkcs11 import (
    Pkcs11TokenSigner,
    SigningConfigError,
    SigningUnavailable,
    open_pkcs11_signer,
)
from workflows.signing.sync import run_blocking

__all__ = ["softhsm_token"]  # the fixture: pytest finds it through this import


def small_pdf() -> bytes:
    """A one-page PDF, as an issued document would be before signing."""
    writer = PdfFileWriter()
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        }
    )
    content = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 760 Td (Quyet dinh so 1/QD-SKHCN) Tj ET")
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)]),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): writer.add_object(font)})}
            ),
            pdf_name("/Contents"): writer.add_object(content),
        }
    )
    writer.insert_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = small_pdf()


def sign(signer: Pkcs11TokenSigner, pdf: bytes = PDF) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name="ChuKySo", subfilter=fields.SigSeedSubFilter.PADES, reason="Ban hành văn bản"
    )
    # pyHanko's blocking API runs its own event loop: off this thread when one runs here.
    return run_blocking(
        lambda: signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), metadata, signer=signer).getvalue()
    )


def assert_valid(signed: bytes, token: SoftHsmToken) -> None:
    """Intact, valid, trusted against the test CA, covering the whole file."""
    (embedded,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    ca = asn1_x509.Certificate.load(token.ca_cert.public_bytes(serialization.Encoding.DER))
    status = run_blocking(lambda: validate_pdf_signature(embedded, ValidationContext(trust_roots=[ca])))
    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    assert status.signing_cert.dump() == token.signer_cert.public_bytes(serialization.Encoding.DER)


def test_a_pdf_signed_on_the_token_validates(softhsm_token: SoftHsmToken, tmp_path: Path) -> None:
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        signed = sign(signer)
    assert_valid(signed, softhsm_token)
    # The CA of the chain file is embedded beside the signer's certificate.
    (embedded,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    embedded_subjects = {c.subject.human_friendly for c in embedded.other_embedded_certs}
    assert any("tdcflow test CA" in s for s in embedded_subjects)

    pdfsig = shutil.which("pdfsig")
    if pdfsig is None:
        return  # poppler-utils not installed: pyHanko's validation above is the check
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    report = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, check=True).stdout
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report, report
    assert "ETSI.CAdES.detached" in report, report


def test_settings_come_from_the_environment(
    softhsm_token: SoftHsmToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture's env dict, as a deployment would set it, is what the Settings read."""
    for name, value in softhsm_token.env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.signing_pkcs11_pin is None  # the PIN comes from the file, not the environment
    with open_pkcs11_signer(settings) as signer:
        assert_valid(sign(signer), softhsm_token)


def test_pin_in_the_environment_and_key_found_by_id(softhsm_token: SoftHsmToken) -> None:
    settings = softhsm_token.settings(
        signing_pkcs11_pin=softhsm_token.pin,
        signing_pkcs11_pin_file=None,
        signing_pkcs11_key_label=None,
        signing_pkcs11_key_id=softhsm_token.key_id.hex(":"),
        signing_pkcs11_chain_file=None,
    )
    assert softhsm_token.pin not in repr(settings)
    with open_pkcs11_signer(settings) as signer:
        assert_valid(sign(signer), softhsm_token)


def misconfigured(settings: Settings) -> SigningConfigError:
    with pytest.raises(SigningConfigError) as caught:
        open_pkcs11_signer(settings)
    error = caught.value
    # Vietnamese first, English second; both name the setting.
    assert error.message.startswith(f"Cấu hình ký số chưa đúng ({error.setting})")
    assert error.message_en.startswith(f"Signing is misconfigured ({error.setting})")
    assert [f.field for f in error.fields] == [error.setting]
    return error


def test_a_wrong_pin_names_the_pin_setting(softhsm_token: SoftHsmToken, tmp_path: Path) -> None:
    error = misconfigured(softhsm_token.settings(signing_pkcs11_pin="000000", signing_pkcs11_pin_file=None))
    assert error.setting == "TDCFLOW_SIGNING_PKCS11_PIN"
    assert "PinIncorrect" in error.message_en
    wrong = tmp_path / "pin"
    wrong.write_text("111111\n")
    wrong.chmod(0o600)
    assert misconfigured(softhsm_token.settings(signing_pkcs11_pin_file=wrong)).setting == (
        "TDCFLOW_SIGNING_PKCS11_PIN_FILE"
    )
    # The right PIN still works afterwards (SoftHSM does not lock it).
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        assert_valid(sign(signer), softhsm_token)


def test_unknown_token_or_objects_name_their_setting(softhsm_token: SoftHsmToken) -> None:
    token = misconfigured(softhsm_token.settings(signing_pkcs11_token_label="khong-co"))
    assert token.setting == "TDCFLOW_SIGNING_PKCS11_TOKEN_LABEL"
    assert "khong-co" in token.message and "khong-co" in token.message_en
    key = misconfigured(softhsm_token.settings(signing_pkcs11_key_label="khong-co"))
    assert key.setting == "TDCFLOW_SIGNING_PKCS11_KEY_LABEL"
    key_id = misconfigured(
        softhsm_token.settings(signing_pkcs11_key_label=None, signing_pkcs11_key_id="ff00")
    )
    assert key_id.setting == "TDCFLOW_SIGNING_PKCS11_KEY_ID"
    cert = misconfigured(softhsm_token.settings(signing_pkcs11_cert_label="khong-co"))
    assert cert.setting == "TDCFLOW_SIGNING_PKCS11_CERT_LABEL"
    cert_id = misconfigured(softhsm_token.settings(signing_pkcs11_cert_id="ff00"))
    assert cert_id.setting == "TDCFLOW_SIGNING_PKCS11_CERT_ID"


def test_a_certificate_that_is_not_the_keys_or_out_of_date_is_refused(softhsm_token: SoftHsmToken) -> None:
    """Every signature would be invalid: refused at open, naming the setting that found the certificate."""
    other = misconfigured(softhsm_token.settings(signing_pkcs11_cert_label=CA_LABEL))
    assert other.setting == "TDCFLOW_SIGNING_PKCS11_CERT_LABEL"
    assert "does not belong" in other.message_en
    later = softhsm_token.signer_cert.not_valid_after_utc + dt.timedelta(days=1)
    with time_machine.travel(later, tick=False):
        expired = misconfigured(softhsm_token.settings())
    assert (
        expired.setting == "TDCFLOW_SIGNING_PKCS11_KEY_LABEL"
    )  # the certificate is found by the key's label
    assert "valid only" in expired.message_en


def test_missing_or_contradictory_settings_name_their_setting(
    softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    cases = [
        ({"signing_pkcs11_module": None}, "MODULE"),
        ({"signing_pkcs11_module": tmp_path / "khong-co.so"}, "MODULE"),
        ({"signing_pkcs11_token_label": None}, "TOKEN_LABEL"),
        ({"signing_pkcs11_pin_file": None}, "PIN_FILE"),
        ({"signing_pkcs11_pin": softhsm_token.pin}, "PIN_FILE"),  # both a PIN and a PIN file
        ({"signing_pkcs11_pin_file": tmp_path / "khong-co"}, "PIN_FILE"),
        ({"signing_pkcs11_key_label": None}, "KEY_LABEL"),
        ({"signing_pkcs11_key_label": None, "signing_pkcs11_key_id": "xyz"}, "KEY_ID"),
        ({"signing_pkcs11_chain_file": softhsm_token.pin_file}, "CHAIN_FILE"),
    ]
    for changes, setting in cases:
        assert misconfigured(softhsm_token.settings(**changes)).setting == (
            f"TDCFLOW_SIGNING_PKCS11_{setting}"
        ), changes
    # A file that is no PKCS#11 module at all.
    not_a_module = tmp_path / "not-a-module.so"
    not_a_module.write_bytes(b"\x7fELF but not really")
    assert misconfigured(softhsm_token.settings(signing_pkcs11_module=not_a_module)).setting == (
        "TDCFLOW_SIGNING_PKCS11_MODULE"
    )


def test_one_session_serves_many_signatures(softhsm_token: SoftHsmToken) -> None:
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        session = signer.pkcs11_session
        for _ in range(40):
            assert_valid(sign(signer), softhsm_token)
        assert signer.pkcs11_session is session
        assert signer.opened_sessions == 1


def test_threads_share_one_signer(softhsm_token: SoftHsmToken) -> None:
    with open_pkcs11_signer(softhsm_token.settings()) as signer, ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(pool.map(lambda _: sign(signer), range(24)))
        assert signer.opened_sessions == 1
    for document in signed:
        assert_valid(document, softhsm_token)


def test_two_signers_on_one_token_share_its_log_in(softhsm_token: SoftHsmToken) -> None:
    """PKCS#11 logs in the application: the second signer's session shares the first's log-in, and
    closing the second does not log the first out."""
    with open_pkcs11_signer(softhsm_token.settings()) as first:
        with open_pkcs11_signer(softhsm_token.settings()) as second:
            assert_valid(sign(second), softhsm_token)
            assert_valid(sign(first), softhsm_token)
        assert_valid(sign(first), softhsm_token)
        assert first.opened_sessions == 1


def test_a_lost_session_is_reopened(softhsm_token: SoftHsmToken) -> None:
    """The session ends under the signer (as when a token is pulled out and put back): the next
    signature opens a new one and is valid."""
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        assert_valid(sign(signer), softhsm_token)
        signer.pkcs11_session.close()
        assert_valid(sign(signer), softhsm_token)
        assert signer.opened_sessions == 2
        assert_valid(sign(signer), softhsm_token)
        assert signer.opened_sessions == 2


def test_a_restarted_module_is_reopened(softhsm_token: SoftHsmToken) -> None:
    """The module is finalised and initialised again (an HSM restart): every handle is invalid."""
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        assert_valid(sign(signer), softhsm_token)
        pkcs11.lib(str(softhsm_token.module)).reinitialize()
        assert_valid(sign(signer), softhsm_token)
        assert signer.opened_sessions == 2


def test_a_token_that_is_away_fails_cleanly_and_is_used_again_when_back(
    softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    """SoftHSM's token folder moved away and the module restarted: the token is gone; the signature
    fails with SigningUnavailable (not a crash, not a hang); once it is back the same signer signs."""
    (folder,) = softhsm_token.token_dir.iterdir()
    away = tmp_path / "away"
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        shutil.move(folder, away)
        try:
            pkcs11.lib(str(softhsm_token.module)).reinitialize()
            for _ in range(2):  # the failed reopen is tried again at the next signature
                with pytest.raises(SigningUnavailable) as caught:
                    sign(signer)
                assert caught.value.code == "signing_unavailable"
                assert softhsm_token.label in caught.value.message
        finally:
            shutil.move(away, folder)
        assert_valid(sign(signer), softhsm_token)


def test_a_pin_refused_at_a_reopen_is_not_tried_again(softhsm_token: SoftHsmToken) -> None:
    """The PIN changed on the token under a running signer: the reopen's log-in is refused, and the
    signer does not try again (each try counts towards locking a hardware token's PIN): even once
    the old PIN is back it keeps refusing, until it is opened anew."""
    new_pin = "594027"
    token = pkcs11.lib(str(softhsm_token.module)).get_token(token_label=softhsm_token.label)
    restored = False
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        with token.open(rw=True) as session:  # shares the signer's log-in
            session.set_pin(softhsm_token.pin, new_pin)
        try:
            signer.pkcs11_session.close()  # logs the process out: the next signature must log in
            with pytest.raises(SigningConfigError) as refused:
                sign(signer)
            assert refused.value.setting == "TDCFLOW_SIGNING_PKCS11_PIN_FILE"
            with token.open(rw=True, user_pin=new_pin) as session:
                session.set_pin(new_pin, softhsm_token.pin)
            restored = True
            with pytest.raises(SigningConfigError) as again:
                sign(signer)  # would succeed if it tried the (again right) PIN
            assert again.value is refused.value
        finally:
            if not restored:
                with token.open(rw=True, user_pin=new_pin) as session:
                    session.set_pin(new_pin, softhsm_token.pin)
    with open_pkcs11_signer(softhsm_token.settings()) as signer:
        assert_valid(sign(signer), softhsm_token)


def test_a_closed_signer_refuses_to_sign(softhsm_token: SoftHsmToken) -> None:
    signer = open_pkcs11_signer(softhsm_token.settings())
    signer.close()
    signer.close()  # idempotent
    assert signer.closed
    with pytest.raises(SigningUnavailable) as caught:
        sign(signer)
    assert caught.value.code == "signing_closed"


def test_params_can_be_given_without_settings(softhsm_token: SoftHsmToken) -> None:
    params = p11.Pkcs11Params(
        module=softhsm_token.module,
        token_label=softhsm_token.label,
        pin=softhsm_token.pin,
        key_id=softhsm_token.key_id,
    )
    assert softhsm_token.pin not in repr(params)
    with open_pkcs11_signer(params) as signer:
        assert_valid(sign(signer), softhsm_token)
