"""Issued documents: the official copy (the signed PDF) and the officers' editable .docx."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Response, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, Permitted, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.files import DOCX, PDF, file_response
from api.uploads import read_limited
from workflows import permissions, personal_signing, queries
from workflows.document_signing import pdf_filename
from workflows.models import Document, User

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)


class SignedDocumentOut(BaseModel):
    """A document after the leader's act: signed (its official copy's SHA-256 and signature), or
    handed to the agency (``signed`` false until the worker made the copy)."""

    id: str
    number: str
    signed: bool
    pdf_sha256: str | None
    signature: dict[str, Any]

    @classmethod
    def of(cls, document: Document) -> SignedDocumentOut:
        return cls(
            id=document.id,
            number=document.number,
            signed=document.pdf_sha256 is not None,
            pdf_sha256=document.pdf_sha256,
            signature=dict(document.signature or {}),
        )


@router.get("/{document_id}", response_class=Response)
def download(document_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Tải bản chính thức (PDF có chữ ký số của cơ quan) / Download the official copy, the PDF
    signed by the agency. 409 ``document_being_signed`` for the few seconds after issue."""
    document, content = queries.document_for(rt, user, document_id)
    return file_response(content, PDF, pdf_filename(document))


@router.get("/{document_id}/docx", response_class=Response)
def download_editable(document_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Tải bản .docx để chỉnh sửa (cán bộ) / The editable .docx copy (officers only)."""
    document, content = queries.editable_copy_for(rt, user, document_id)
    return file_response(content, DOCX, document.filename)


# --- personal signing: a leader signs a result with their own token (workflows.personal_signing) --

Signer = Annotated[User, Depends(Permitted(permissions.PERSONAL_SIGNING))]


@router.get("/{document_id}/prepared", response_class=Response)
def download_prepared(document_id: str, user: Signer, rt: RuntimeDep) -> Response:
    """Tải bản PDF đã chuẩn bị, chưa ký, để lãnh đạo ký số cá nhân / The prepared, unsigned PDF of
    a result waiting for the leader's own signature (only that leader; 404 otherwise)."""
    document, content = personal_signing.prepared_pdf(rt, user, document_id)
    return file_response(content, PDF, pdf_filename(document))


@router.post("/{document_id}/signed", response_model=SignedDocumentOut)
async def upload_signed(
    document_id: str,
    user: Signer,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="Tệp PDF đã ký / The signed PDF")],
) -> SignedDocumentOut:
    """Tải lên bản PDF lãnh đạo đã ký / Upload the PDF the leader signed: accepted only when it is
    the prepared PDF with one signature added, valid, trusted, covering the whole file, made with
    the leader's registered certificate (422 on field ``file`` otherwise, nothing stored; 409 when
    it was signed or handed to the agency meanwhile)."""
    content = await read_limited(file, rt.settings.max_upload_bytes)
    document = await run_in_threadpool(personal_signing.accept_signed, rt, user, document_id, content)
    return SignedDocumentOut.of(document)


@router.post("/{document_id}/agency-signature", response_model=SignedDocumentOut)
def hand_to_agency(document_id: str, user: Signer, rt: RuntimeDep) -> SignedDocumentOut:
    """Chuyển văn bản cho chữ ký số của cơ quan / Leave the document to the agency's signature
    (the worker signs it within seconds); audited."""
    return SignedDocumentOut.of(personal_signing.hand_back(rt, user, document_id))
