"""Issued documents: authorised download."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.files import DOCX, file_response
from workflows import queries

router = APIRouter(prefix="/api/documents", tags=["documents"], responses=ERROR_RESPONSES)


@router.get("/{document_id}", response_class=Response)
def download(document_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Tải văn bản kết quả (.docx) / Download an issued document."""
    document, content = queries.document_for(rt, user, document_id)
    return file_response(content, DOCX, document.filename)
