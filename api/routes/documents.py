"""Issued documents: the official copy (the signed PDF) and the officers' editable .docx."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.files import DOCX, PDF, file_response
from workflows import queries
from workflows.document_signing import pdf_filename

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)


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
