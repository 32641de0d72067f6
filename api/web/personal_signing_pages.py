"""Personal signing's pages: the administrator registers leaders' certificates; a leader sees
their registration and the results waiting for their signature, downloads the prepared PDF,
uploads it signed, or hands it to the agency's signature (``workflows.personal_signing``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.files import PDF, file_response
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import permissions, personal_signing, signer_certificates
from workflows.db import reading
from workflows.document_signing import pdf_filename
from workflows.errors import DomainError
from workflows.models import Document, DocumentSigning, SignerCertificate, User

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
CertificateAdmin = Annotated[User, Depends(PagePermitted(permissions.SIGNER_CERTIFICATE_MANAGE))]
Signer = Annotated[User, Depends(PagePermitted(permissions.PERSONAL_SIGNING))]


def _message(exc: DomainError) -> str:
    return i18n.pick(exc.message, exc.message_en)


# --- the administrator ---------------------------------------------------------------------------


def _admin_page(request: Request, rt: RuntimeDep, user: User, **context: object) -> Response:
    with reading(rt.engine) as session:
        leaders = [
            u for u in session.exec(select(User).order_by(col(User.full_name))) if u.has_role("leader")
        ]
        registrations = {
            row.user_id: row
            for row in session.exec(
                select(SignerCertificate)
                .where(col(SignerCertificate.revoked_at).is_(None))
                .order_by(col(SignerCertificate.registered_at))
            )
        }
    values: dict[str, object] = {"leaders": leaders, "registrations": registrations}
    values.update(context)
    return render(
        request,
        "admin_signer_certificates.html",
        user,
        values,
        status_code=422 if context.get("flash_kind") == "error" else 200,
    )


@router.get("/admin/signer-certificates")
def admin_page(request: Request, rt: RuntimeDep, user: CertificateAdmin) -> Response:
    return _admin_page(request, rt, user)


@router.post("/admin/signer-certificates/{user_id}", dependencies=[Csrf])
async def register(user_id: RowId, request: Request, rt: RuntimeDep, user: CertificateAdmin) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        content = (
            await read_limited(upload, signer_certificates.MAX_CERTIFICATE_BYTES)
            if upload is not None and not isinstance(upload, str)
            else b""
        )
        signer_certificates.register(
            rt, user, user_id, content, signs_personally=form.get("signs_personally") == "1"
        )
    except DomainError as exc:
        return _admin_page(request, rt, user, flash=_message(exc), flash_kind="error")
    return _admin_page(request, rt, user, flash=i18n._("Đã đăng ký chứng thư số."), flash_kind="success")


@router.post("/admin/signer-certificates/{user_id}/revoke", dependencies=[Csrf])
def revoke(user_id: RowId, request: Request, rt: RuntimeDep, user: CertificateAdmin) -> Response:
    try:
        signer_certificates.revoke(rt, user, user_id)
    except DomainError as exc:
        return _admin_page(request, rt, user, flash=_message(exc), flash_kind="error")
    return _admin_page(request, rt, user, flash=i18n._("Đã thu hồi đăng ký."), flash_kind="success")


# --- the leader ----------------------------------------------------------------------------------


@router.get("/account/signing")
def account_signing(request: Request, rt: RuntimeDep, user: Signer) -> Response:
    """The leader's registration and the results waiting for their signature."""
    with reading(rt.engine) as session:
        waiting = session.exec(
            select(Document)
            .join(DocumentSigning, col(DocumentSigning.document_id) == col(Document.id))
            .where(DocumentSigning.awaiting_user_id == user.id)
            .order_by(col(Document.issued_at))
        ).all()
    return render(
        request,
        "account_signing.html",
        user,
        {"registration": signer_certificates.current(rt, user.id or 0), "waiting": waiting},
    )


@router.get("/files/documents/{document_id}/prepared")
def prepared_file(document_id: str, rt: RuntimeDep, user: Signer) -> Response:
    document, content = personal_signing.prepared_pdf(rt, user, document_id)
    return file_response(content, PDF, pdf_filename(document))


def _back(rt: RuntimeDep, document_id: str, **query: str) -> RedirectResponse:
    with reading(rt.engine) as session:
        document = session.get(Document, document_id)
    path = (
        f"/dossiers/{quote(document.reference)}" if document and document.dossier_id else "/account/signing"
    )
    params = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    return RedirectResponse(f"{path}?{params}", status_code=303)


@router.post("/documents/{document_id}/signed", dependencies=[Csrf])
async def upload_signed(document_id: str, request: Request, rt: RuntimeDep, user: Signer) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        content = (
            await read_limited(upload, rt.settings.max_upload_bytes)
            if upload is not None and not isinstance(upload, str)
            else b""
        )
        await run_in_threadpool(personal_signing.accept_signed, rt, user, document_id, content)
    except DomainError as exc:
        return _back(rt, document_id, sign_error=_message(exc)[:500])
    return _back(rt, document_id, flash="signed_personally")


@router.post("/documents/{document_id}/agency-signature", dependencies=[Csrf])
def hand_to_agency(document_id: str, rt: RuntimeDep, user: Signer) -> Response:
    personal_signing.hand_back(rt, user, document_id)
    return _back(rt, document_id, flash="handed_to_agency")
