"""A leader signs a result personally: the administrator registers the leader's certificate; the
result the leader approves waits for them (the agency's worker leaves it); they download the
prepared PDF, sign it with their own token's software (here pyHanko's own API, as such software
would), and upload it. Only the prepared file with the leader's valid, whole-file signature made
with the registered certificate is accepted; anything else is refused with the reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
import time_machine
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlmodel import select

from notifications.dispatcher import fan_out
from notifications.inbox_queries import list_for
from tests.signing_support import SigningPki
from tests.support import cast_of, error_of, officer
from tests.test_pages import csrf, page_login
from tests.test_signed_documents import pdfsig
from workflows import document_signing
from workflows.audit_verify import verify
from workflows.clock import now
from workflows.db import reading
from workflows.models import AuditEvent, Document, DocumentSigning, User
from workflows.signing import validate_pdf
from workflows.signing.demo_pki import make_certificate, make_key
from workflows.signing.sync import run_blocking

# Markup, headers and form errors: the same on either database (see tests/conftest.py).
pytestmark = pytest.mark.sqlite_only


@dataclass(frozen=True)
class Token:
    """What a leader's USB token holds: a certificate and its key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def sha256(self) -> str:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return hashlib.sha256(der).hexdigest().upper()

    def sign(self, pdf: bytes, pki: SigningPki, *, repaint: bytes | None = None) -> bytes:
        """Sign as the token's software does: an incremental update with a PAdES signature
        (``repaint``: the same update also replaces the first page's content, as a forger would)."""
        key = asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert = asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))
        signer = SimpleSigner(
            signing_cert=cert, signing_key=key, cert_registry=SimpleCertificateStore.from_certs([pki.root])
        )
        meta = PdfSignatureMetadata(
            field_name="ChuKyLanhDao", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
        )
        pdf_signer = PdfSigner(
            meta, signer=signer, new_field_spec=SigFieldSpec(sig_field_name="ChuKyLanhDao")
        )
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        if repaint is not None:
            page = writer.root["/Pages"]["/Kids"][0].get_object()
            page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=repaint))
            writer.update_container(page)
        # pyHanko's blocking API runs its own event loop: off this thread when one runs here (the
        # browser tests' Playwright keeps one running in an xdist worker for the session).
        return run_blocking(lambda: pdf_signer.sign_pdf(writer, output=BytesIO()).getvalue())


def leader_token(pki: SigningPki, name: str, *, days: int = 365, start: datetime | None = None) -> Token:
    """A leader's certificate under the tests' root CA (as a Vietnamese CA issues one)."""
    assert pki.root_certificate is not None and pki.root_key is not None
    key = make_key()
    start = start or now() - timedelta(days=1)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Khoa học và Công nghệ"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = make_certificate(
        subject=subject,
        key=key,
        issuer_cert=pki.root_certificate,
        issuer_key=pki.root_key,
        not_before=start,
        not_after=start + timedelta(days=days),
    )
    return Token(cert, key)


@pytest.fixture
def people(client, rt):  # type: ignore[no-untyped-def]
    cast = cast_of(client, rt, "Công ty TNHH Mũ An Toàn")
    cast["admin"] = officer(client, rt, "admin", "QUẢN TRỊ", "Phạm Quản Trị")
    return cast


def user_id_of(person) -> int:  # type: ignore[no-untyped-def]
    rt = person.client.app.state.runtime
    with reading(rt.engine) as session:
        user = session.exec(select(User).where(User.email == person.email)).one()
    assert user.id is not None
    return user.id


def register(people: dict[str, Any], token: Token, leader: str = "leader", **form: str):  # type: ignore[no-untyped-def]
    user_id = user_id_of(people[leader])
    return people["admin"].post(
        f"/api/admin/users/{user_id}/signer-certificate",
        files={"file": ("lanh-dao.cer", token.pem)},
        data=form,
    )


def approved(people: dict[str, Any], rt) -> str:  # type: ignore[no-untyped-def]
    """A declaration the leader approved; the id of its result (the document waiting for them)."""
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(
        code, {"examination_findings": "Hồ sơ đầy đủ, hợp lệ.", "examination_conclusion": "accept"}
    )
    assert leader.done(code, {"approval_decision": "approve"})["status"] == "issued"
    with reading(rt.engine) as session:
        waiting = session.exec(
            select(DocumentSigning).where(DocumentSigning.awaiting_user_id.is_not(None))
        ).all()  # type: ignore[union-attr]
    assert len(waiting) == 1
    return waiting[0].document_id


def upload(person, document_id: str, content: bytes):  # type: ignore[no-untyped-def]
    return person.post(f"/api/documents/{document_id}/signed", files={"file": ("da-ky.pdf", content)})


def refused(response, code: str) -> str:  # type: ignore[no-untyped-def]
    error = error_of(response, 422, code)
    assert [f["field"] for f in error["fields"]] == ["file"], error
    return str(error["message"])


def test_a_leader_signs_the_result_personally(people, rt, client, test_pki, pdfsig_nssdir, tmp_path):
    leader = people["leader"]
    token = leader_token(test_pki, "Nguyễn Minh Đức")
    registered = register(people, token)
    assert registered.status_code == 201, registered.text
    assert registered.json()["sha256"] == token.sha256 and registered.json()["signs_personally"] is True

    document_id = approved(people, rt)
    code = ""
    with reading(rt.engine) as session:
        code = session.get(Document, document_id).reference
    # The agency's worker signs the slips but leaves the result to the leader.
    document_signing.sign_due(rt)
    with reading(rt.engine) as session:
        result = session.get(Document, document_id)
        assert result.pdf_sha256 is None
        assert session.get(DocumentSigning, document_id).awaiting_user_id is not None
    assert document_signing.pending_count(rt) == 0
    # The business is told that the result awaits its leader's signature (not "a few seconds").
    error_of(people["business"].get(f"/api/documents/{document_id}"), 409, "document_awaiting_leader")
    # The leader hears of it, and sees it on the dossier's page and their account page.
    fan_out(rt)
    titles = [n.title for n in list_for(rt, user_id_of(leader))[0]]
    assert any("chờ anh/chị ký số" in t for t in titles), titles
    page_login(client, leader.email)
    page = client.get(f"/dossiers/{code}").text
    assert "data-awaiting-me" in page and f"/files/documents/{document_id}/prepared" in page
    account = client.get("/account/signing").text
    assert token.sha256 in account and f'data-waiting="{document_id}"' in account

    prepared = leader.get(f"/api/documents/{document_id}/prepared")
    assert prepared.status_code == 200 and prepared.headers["content-type"] == "application/pdf"
    assert leader.get(f"/api/documents/{document_id}/prepared").content == prepared.content  # stored once
    # Nobody else downloads it.
    assert people["specialist"].get(f"/api/documents/{document_id}/prepared").status_code == 403

    signed = token.sign(prepared.content, test_pki)
    accepted = upload(leader, document_id, signed)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["signature"]["mode"] == "personal"
    # A second upload of the same file finds nothing waiting.
    assert upload(leader, document_id, signed).status_code == 404

    official = leader.get(f"/api/documents/{document_id}")
    assert official.status_code == 200 and official.content == signed
    report = pdfsig(signed, pdfsig_nssdir, tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report, report
    with reading(rt.engine) as session:
        row = session.get(Document, document_id)
        assert row.signature["certificate_sha256"] == token.sha256
        assert session.get(DocumentSigning, document_id) is None
        (event,) = [
            e
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == "document_signed"))
            if e.details.get("mode") == "personal"
        ]
    assert (
        event.details["certificate_sha256"] == token.sha256 and event.details["pdf_sha256"] == row.pdf_sha256
    )
    assert verify(rt.engine).ok
    verified = client.get(f"/api/public/documents/{row.verification_code}").json()
    assert verified["signed"] is True and "Nguyễn Minh Đức" in verified["signer"]
    # The agency's worker never touches it.
    assert document_signing.sign_due(rt).signed == 0


def test_uploads_that_are_not_the_leaders_signature_of_the_prepared_file_are_refused(people, rt, test_pki):
    leader = people["leader"]
    token = leader_token(test_pki, "Nguyễn Minh Đức")
    assert register(people, token).status_code == 201
    document_id = approved(people, rt)
    # Before the prepared PDF was downloaded, there is nothing to compare with.
    error_of(upload(leader, document_id, b"%PDF-1.7"), 409, "not_prepared")
    prepared = leader.get(f"/api/documents/{document_id}/prepared").content

    # Signed by another certificate of the same CA.
    other = leader_token(test_pki, "Người Khác")
    refused(upload(leader, document_id, other.sign(prepared, test_pki)), "certificate_not_registered")
    # The prepared file with one byte changed before signing.
    changed = bytearray(prepared)
    changed[len(changed) // 2] ^= 0x01
    refused(upload(leader, document_id, token.sign(bytes(changed), test_pki)), "not_the_prepared_file")
    # The prepared file kept as the prefix, but the signing update repaints the page: the signature
    # covers it and verifies, yet what the document says changed.
    forged = token.sign(prepared, test_pki, repaint=b"BT /F1 24 Tf 72 720 Td (KHONG DAT) Tj ET")
    assert forged.startswith(prepared)
    (forged_info,) = validate_pdf(forged, test_pki.trust_roots).signatures
    assert forged_info.ok
    refused(upload(leader, document_id, forged), "not_the_prepared_file")
    # Content appended after the signature.
    signed = token.sign(prepared, test_pki)
    message = refused(upload(leader, document_id, signed + b"\n% appended\n"), "signature_invalid")
    assert "toàn bộ tệp" in message
    # An unsigned file: the prepared one itself, or anything else.
    refused(upload(leader, document_id, prepared), "not_the_prepared_file")
    refused(upload(leader, document_id, b"not a pdf"), "not_the_prepared_file")
    # Nothing was stored or recorded by any refusal.
    with reading(rt.engine) as session:
        assert session.get(Document, document_id).pdf_sha256 is None
        assert session.get(DocumentSigning, document_id).awaiting_user_id is not None
    for content in (other.sign(prepared, test_pki), signed + b"\n% appended\n"):
        assert not rt.store.path(hashlib.sha256(content).hexdigest()).exists()

    # Another leader, with a registered certificate of their own, may not upload it.
    people["deputy"] = officer(leader.client, rt, "leader", "PHÓ GIÁM ĐỐC", "Trần Phó")
    deputy_token = leader_token(test_pki, "Trần Phó")
    assert register(people, deputy_token, "deputy").status_code == 201
    error_of(upload(people["deputy"], document_id, deputy_token.sign(prepared, test_pki)), 404, "not_found")
    # The leader's own signature is accepted after all that.
    assert upload(leader, document_id, signed).status_code == 200


def test_a_revoked_registration_or_an_expired_certificate_is_refused(people, rt, test_pki):
    leader, admin = people["leader"], people["admin"]
    token = leader_token(test_pki, "Nguyễn Minh Đức", days=30)
    assert register(people, token).status_code == 201
    document_id = approved(people, rt)
    prepared = leader.get(f"/api/documents/{document_id}/prepared").content
    signed = token.sign(prepared, test_pki)

    # The certificate has expired by the time the leader uploads (no timestamp proves when it signed).
    with time_machine.travel(now() + timedelta(days=31), tick=False):
        leader.relogin()
        refused(upload(leader, document_id, signed), "no_registered_certificate")
    leader.relogin()

    # Revoked: refused, and the result goes back to the agency's signature.
    user_id = user_id_of(leader)
    assert (
        admin.client.delete(
            f"/api/admin/users/{user_id}/signer-certificate", headers=admin.headers
        ).status_code
        == 200
    )
    refused(upload(leader, document_id, signed), "no_registered_certificate")
    assert document_signing.sign_due(rt).signed >= 1
    with reading(rt.engine) as session:
        assert session.get(Document, document_id).signature.get("mode") is None

    # An expired certificate, or what is no certificate, is not registered at all.
    old = leader_token(test_pki, "Cũ", days=10, start=now() - timedelta(days=20))
    refused(register(people, old), "certificate_expired")
    assert test_pki.root_certificate is not None and test_pki.root_key is not None
    ca_key = make_key()
    a_ca = make_certificate(
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Không ký văn bản")]),
        key=ca_key,
        issuer_cert=test_pki.root_certificate,
        issuer_key=test_pki.root_key,
        not_before=now() - timedelta(days=1),
        not_after=now() + timedelta(days=30),
        ca=True,  # keyCertSign and cRLSign only
    )
    refused(register(people, Token(a_ca, ca_key)), "certificate_not_for_signing")
    response = people["admin"].post(
        f"/api/admin/users/{user_id}/signer-certificate", files={"file": ("x.cer", b"hello")}
    )
    refused(response, "not_a_certificate")


def test_the_leader_hands_the_result_to_the_agency_signature(people, rt, client, test_pki):
    leader = people["leader"]
    token = leader_token(test_pki, "Nguyễn Minh Đức")
    assert register(people, token).status_code == 201
    document_id = approved(people, rt)
    with reading(rt.engine) as session:
        code = session.get(Document, document_id).reference
    page_login(client, leader.email)
    page = client.get(f"/dossiers/{code}")
    # The page's upload form: a refusal comes back to the page with its reason.
    bad = client.post(
        f"/documents/{document_id}/signed",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("da-ky.pdf", b"%PDF-1.7 not signed")},
    )
    assert bad.status_code == 200 and "data-sign-error" in bad.text
    answer = client.post(
        f"/documents/{document_id}/agency-signature",
        data={"csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "handed_to_agency" in answer.headers["location"]
    assert document_signing.sign_due(rt).signed >= 1
    with reading(rt.engine) as session:
        row = session.get(Document, document_id)
        assert row.pdf_sha256 is not None and row.signature.get("mode") is None
        assert test_pki.agency_common_name in row.signature["signer"]
        handed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "personal_signing_handed_back")
        ).all()
    assert [e.details["reason"] for e in handed] == ["leader_chose_agency"]
    # Nothing waits any more: the leader's upload finds nothing.
    assert leader.get(f"/api/documents/{document_id}/prepared").status_code == 404


def test_a_leader_who_leaves_signing_to_the_agency_has_results_signed_by_it(people, rt, test_pki):
    assert (
        register(people, leader_token(test_pki, "Nguyễn Minh Đức"), signs_personally="false").status_code
        == 201
    )
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(
        code, {"examination_findings": "Hồ sơ đầy đủ, hợp lệ.", "examination_conclusion": "accept"}
    )
    leader.done(code, {"approval_decision": "approve"})
    with reading(rt.engine) as session:
        assert (
            session.exec(select(DocumentSigning).where(DocumentSigning.awaiting_user_id.is_not(None))).all()
            == []
        )  # type: ignore[union-attr]


def test_the_administrator_registers_on_the_admin_page(people, rt, client, test_pki):
    token = leader_token(test_pki, "Nguyễn Minh Đức")
    user_id = user_id_of(people["leader"])
    page_login(client, people["admin"].email)
    page = client.get("/admin/signer-certificates")
    assert page.status_code == 200 and f'id="leader-{user_id}"' in page.text
    done = client.post(
        f"/admin/signer-certificates/{user_id}",
        data={"csrf_token": csrf(page.text), "signs_personally": "1"},
        files={"file": ("ld.pem", token.pem)},
    )
    assert done.status_code == 200 and token.sha256 in done.text
    bad = client.post(
        f"/admin/signer-certificates/{user_id}",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("ld.pem", b"junk")},
    )
    assert bad.status_code == 422
    with reading(rt.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.stream == f"user:{user_id}")).all()
    assert "signer_certificate_registered" in [e.action for e in events]
    # Not for a leader: the page and the API refuse.
    page_login(client, people["leader"].email)
    assert client.get("/admin/signer-certificates").status_code == 403
