"""The official copy of every issued document: a PDF signed by the agency, made by a worker within
seconds of the command that issued it, checked by Debian's ``pdfsig`` and pyHanko alike; the .docx
stays the officers' editable copy; anyone checks a file they were given on the verify page."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import timedelta

import pytest
import time_machine
from docx import Document as DocxDocument
from pydantic import SecretStr
from sqlmodel import select

from tests.support import cast_of, docx_text, error_of
from tests.test_pages import page_login
from workflows import document_signing
from workflows.audit_verify import verify
from workflows.clock import as_utc, now
from workflows.db import reading
from workflows.models import AuditEvent, Document, DocumentSigning
from workflows.runtime import build_runtime
from workflows.signing import validate_pdf


def pdf_text(content: bytes) -> str:
    """What a reader sees in a PDF (poppler's pdftotext, in reading order)."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def squashed(text: str) -> str:
    """Text without its spacing and hyphens: a PDF's lines break where the .docx's paragraphs flow
    (and pdftotext joins a line ending in a hyphen to the next)."""
    return re.sub(r"[\s\-]+", "", text)


def pdfsig(content: bytes, nssdir: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{hashlib.sha256(content).hexdigest()[:12]}.pdf"
    path.write_bytes(content)
    done = subprocess.run(["pdfsig", "-nssdir", nssdir, str(path)], capture_output=True, text=True)
    return done.stdout + done.stderr


@pytest.fixture
def people(client, rt):  # type: ignore[no-untyped-def]
    return cast_of(client, rt, "Công ty TNHH Mũ An Toàn")


def _received(people) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    firm, clerk = people["business"], people["clerk"]
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    detail = firm.get(f"/api/dossiers/{code}").json()
    return code, detail["documents"][0]


def test_an_issued_document_is_signed_by_the_worker_and_verifies_everywhere(
    people, rt, client, test_pki, pdfsig_nssdir, tmp_path
):
    firm, clerk = people["business"], people["clerk"]
    code, slip = _received(people)
    assert slip["kind"] == "receipt_slip" and slip["signed"] is False and slip["pdf_sha256"] is None

    # Until the worker has run, the official copy is being signed: a 409 that says so, not a 500.
    error_of(firm.get(slip["download_url"]), 409, "document_being_signed")
    page_login(client, firm.email)
    assert "data-being-signed" in client.get(f"/dossiers/{code}").text

    assert document_signing.sign_due(rt).signed == 1
    slip = firm.get(f"/api/dossiers/{code}").json()["documents"][0]
    assert slip["signed"] is True and slip["signed_at"] is not None

    download = firm.get(slip["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    pdf = download.content
    assert hashlib.sha256(pdf).hexdigest() == slip["pdf_sha256"]
    text = pdf_text(pdf)
    assert code in text and "GIẤY TIẾP NHẬN HỒ SƠ" in text and slip["verification_code"] in text
    # The same content as the .docx: every line of the officers' copy is in the PDF.
    editable = clerk.get(slip["editable_url"])
    assert editable.status_code == 200 and editable.content == rt.store.read(slip["sha256"])
    flat = squashed(text)
    for line in docx_text(editable.content).splitlines():
        assert squashed(line) in flat, line
    # The .docx is the officers' editable copy; the business gets the official one.
    assert firm.get(slip["editable_url"]).status_code == 404

    # Debian's pdfsig and pyHanko's validator agree: valid, covering the whole document.
    report = pdfsig(pdf, pdfsig_nssdir, tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report, report
    (info,) = validate_pdf(pdf, test_pki.trust_roots).signatures
    assert (info.intact, info.valid, info.trusted, info.whole_document) == (True, True, True, True)
    assert info.signer_common_name == test_pki.agency_common_name

    # A byte changed inside the signed range fails both.
    tampered = bytearray(pdf)
    at = pdf.index(code.encode()) if code.encode() in pdf else len(pdf) // 3
    tampered[at] ^= 0x01
    tampered = bytes(tampered)
    assert "Signature is Valid." not in pdfsig(tampered, pdfsig_nssdir, tmp_path)
    (broken,) = validate_pdf(tampered, test_pki.trust_roots).signatures
    assert not (broken.intact and broken.valid)

    # The signing is on the dossier's audit trail, which still verifies.
    with reading(rt.engine) as session:
        signed = session.exec(select(AuditEvent).where(AuditEvent.action == "document_signed")).all()
    assert len(signed) == 1 and signed[0].details["pdf_sha256"] == slip["pdf_sha256"]
    assert signed[0].details["certificate_serial"] == info.certificate_serial
    assert verify(rt.engine).ok

    # Anyone may check: by the code its QR opens, and by the file itself.
    verified = client.get(f"/api/public/documents/{slip['verification_code']}").json()
    assert verified["signed"] is True and verified["pdf_sha256"] == slip["pdf_sha256"]
    assert test_pki.agency_common_name in verified["signer"]
    assert verified["subject"]  # what the dossier is about

    def check(content: bytes, name: str = "van-ban.pdf") -> dict:
        response = client.post("/api/public/documents/check", files={"file": (name, content)})
        assert response.status_code == 200, response.text
        return response.json()

    genuine = check(pdf)
    assert (genuine["issued"], genuine["copy_kind"]) == (True, "pdf")
    assert genuine["message"]["vi"].startswith("Đây là văn bản đã phát hành, chữ ký số hợp lệ")
    assert genuine["document"]["number"] == slip["number"]
    assert [s["valid"] and s["whole_document"] and s["trusted"] for s in genuine["signatures"]] == [True]
    forged = check(tampered)
    assert forged["issued"] is False and forged["message"]["vi"].startswith("Không phải văn bản đã phát hành")
    assert forged["signatures"] and not (
        forged["signatures"][0]["intact"] and forged["signatures"][0]["valid"]
    )
    assert check(editable.content, "ban.docx")["copy_kind"] == "docx"
    stranger = check(b"not a document at all")
    assert stranger["issued"] is False and stranger["signatures"] == []


def test_the_verify_page_checks_an_uploaded_file(people, rt, client):
    _, slip = _received(people)
    document_signing.sign_due(rt)
    with reading(rt.engine) as session:
        pdf = rt.store.read(session.get(Document, slip["id"]).pdf_sha256)
    form = client.get("/verify")
    token = (
        form.text.split('name="csrf_token" value="')[1].split('"')[0]
        if 'name="csrf_token"' in form.text
        else ""
    )
    assert token, "the verify page's upload form carries its CSRF token"
    answer = client.post("/verify/file", data={"csrf_token": token}, files={"file": ("kq.pdf", pdf)})
    assert answer.status_code == 200
    assert 'data-file-check="pdf"' in answer.text and "chữ ký số hợp lệ" in answer.text
    assert slip["number"] in answer.text
    other = client.post(
        "/verify/file", data={"csrf_token": token}, files={"file": ("x.pdf", b"%PDF-1.7 junk")}
    )
    assert other.status_code == 200 and 'data-file-check="none"' in other.text
    empty = client.post("/verify/file", data={"csrf_token": token})
    assert empty.status_code == 422


def test_a_worker_that_dies_mid_signing_leaves_the_document_to_the_next(people, rt):
    _, slip = _received(people)
    # A worker claims the document, then dies before storing anything.
    claimed = document_signing._claim(rt)
    assert claimed is not None and claimed[0] == slip["id"]
    # While its lease runs nobody else takes the document…
    assert document_signing.sign_due(rt).signed == 0
    # …and when it has run out, the next run signs it, once.
    with time_machine.travel(now() + document_signing.LEASE + timedelta(seconds=1), tick=False):
        assert document_signing.sign_due(rt).signed == 1
    # The dead worker's lease is no longer the row's: were it to wake up, it would record nothing.
    with reading(rt.engine) as session:
        assert session.exec(select(DocumentSigning)).all() == []
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "document_signed")).all()
    assert len(events) == 1


def test_a_signing_failure_is_logged_and_retried_later(people, rt, settings, caplog):
    _, slip = _received(people)
    broken = build_runtime(
        settings.model_copy(update={"signing_p12_password": SecretStr("wrong")}), create_tables=False
    )
    try:
        with caplog.at_level("ERROR", logger="tdcflow.documents"):
            assert document_signing.sign_due(broken) == document_signing.SigningReport(0, 1)
        assert any(record.exc_info for record in caplog.records), "logged with its traceback"
    finally:
        broken.engine.dispose()
    with reading(rt.engine) as session:
        job = session.get(DocumentSigning, slip["id"])
        assert job is not None and job.lease is None and job.attempts == 1
        assert "TDCFLOW_SIGNING_P12_PASSWORD" in (job.last_error or "")
        assert as_utc(job.due_at) > now()
        assert session.get(Document, slip["id"]).pdf_sha256 is None
    # The worker's health says so, for the administrator (GET /healthz/worker).
    backlog = document_signing.backlog(rt)
    assert (backlog.waiting, backlog.failing) == (1, 1)
    assert "TDCFLOW_SIGNING_P12_PASSWORD" in (backlog.last_error or "")
    # Not retried before its time; retried after it, with the signer fixed.
    assert document_signing.sign_due(rt).signed == 0
    with time_machine.travel(now() + document_signing.RETRY_FIRST + timedelta(seconds=1), tick=False):
        assert document_signing.sign_due(rt).signed == 1


def test_the_leader_reads_the_draft_result_before_approving(people, rt, client):
    firm, clerk, specialist, leader = (people[k] for k in ("business", "clerk", "specialist", "leader"))
    code = firm.submitted()
    clerk.done(code, {"completeness_decision": "receive"})
    specialist.done(
        code, {"examination_findings": "Hồ sơ đầy đủ, hợp lệ.", "examination_conclusion": "accept"}
    )
    task = leader.task(code)
    page_login(client, leader.email)
    page = client.get(f"/work/tasks/{task['id']}")
    assert page.status_code == 200 and "data-draft" in page.text
    draft = client.get(f"/work/tasks/{task['id']}/draft.pdf")
    assert draft.status_code == 200 and draft.headers["content-type"] == "application/pdf"
    # The site's own page may frame it; nothing else may.
    assert draft.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in draft.headers["content-security-policy"]
    text = pdf_text(draft.content)
    assert "DỰ THẢO" in text and "THÔNG BÁO" in text and code in text
    assert "hợp quy" in text.lower() or "hợp chuẩn" in text.lower()
    # A draft is not issued: nothing numbered, nothing stored, nothing to sign.
    with reading(rt.engine) as session:
        assert [d.kind for d in session.exec(select(Document))] == ["receipt_slip"]
    # Only who may work the task reads the draft.
    page_login(client, firm.email)
    assert client.get(f"/work/tasks/{task['id']}/draft.pdf").status_code in (403, 404)
    page_login(client, specialist.email)
    assert client.get(f"/work/tasks/{task['id']}/draft.pdf").status_code in (403, 404)

    # Sent back with a refusal in view: the draft follows the model's choice of document.
    leader.done(code, {"approval_decision": "send_back", "approval_comment": "Xem lại kết quả thử nghiệm."})
    specialist.done(
        code,
        {
            "examination_findings": "Không phù hợp.",
            "examination_conclusion": "reject",
            "rejection_reasons": ["Kết quả thử nghiệm không phù hợp."],
        },
    )
    task = leader.relogin().task(code)
    page_login(client, leader.email)
    refusal = pdf_text(client.get(f"/work/tasks/{task['id']}/draft.pdf").content)
    assert "DỰ THẢO" in refusal and "không tiếp nhận" in refusal.lower()


def test_officers_tasks_without_a_document_offer_no_draft(people, rt, client):
    firm, clerk = people["business"], people["clerk"]
    code = firm.submitted()
    task = clerk.task(code)
    page_login(client, clerk.email)
    assert "data-draft" not in client.get(f"/work/tasks/{task['id']}").text
    assert client.get(f"/work/tasks/{task['id']}/draft.pdf").status_code == 404


def test_documents_issued_before_signing_existed_are_signed_after_the_upgrade(people, rt):
    """The upgrade (migration 0011) queues every earlier document; the worker signs them all."""
    _received(people)
    with reading(rt.engine) as session:
        queued = len(session.exec(select(DocumentSigning)).all())
    assert queued == 1
    assert document_signing.pending_count(rt) == 1
    document_signing.sign_due(rt)
    assert document_signing.pending_count(rt) == 0


def test_a_docx_pdf_pair_says_the_same(people, rt):
    """Every paragraph and cell of the issued .docx is in its PDF, in order."""
    _, slip = _received(people)
    document_signing.sign_due(rt)
    with reading(rt.engine) as session:
        row = session.get(Document, slip["id"])
    docx = DocxDocument(io.BytesIO(rt.store.read(row.sha256)))
    flat = squashed(pdf_text(rt.store.read(row.pdf_sha256)))
    position = 0
    for paragraph in docx.paragraphs:
        line = squashed(paragraph.text)
        if line:
            found = flat.find(line, position)
            assert found >= 0, paragraph.text
            position = found
