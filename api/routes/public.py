"""No login: look a dossier up by its code; verify a document by its verification code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import FileCheckOut, Label, PublicDossierOut, VerifiedDocumentOut
from api.uploads import read_limited
from workflows import queries, verification
from workflows.clock import format_date
from workflows.statuses import status_label

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)


@router.get("/dossiers/{code}", response_model=PublicDossierOut)
def lookup(code: str, rt: RuntimeDep) -> PublicDossierOut:
    """Tra cứu tình trạng hồ sơ / Dossier status and appointment date only."""
    dossier = queries.public_lookup(rt, code)
    procedure = rt.catalogue.for_dossier(dossier)
    vi, en = status_label(dossier.status)
    return PublicDossierOut(
        code=dossier.code,
        procedure=Label(
            vi=procedure.name_vi if procedure else dossier.procedure_code,
            en=procedure.name_en if procedure else dossier.procedure_code,
        ),
        status=dossier.status,
        status_label=Label(vi=vi, en=en),
        appointment_date=format_date(dossier.appointment_at) or None,
    )


@router.get("/documents/{verification_code}", response_model=VerifiedDocumentOut)
def verify(verification_code: str, rt: RuntimeDep) -> VerifiedDocumentOut:
    """Xác thực văn bản theo mã / Verify a document by its code (what its QR code opens)."""
    return VerifiedDocumentOut.of(queries.verify_document(rt, verification_code))


@router.post("/documents/check", response_model=FileCheckOut)
async def check_file(
    rt: RuntimeDep,
    file: Annotated[
        UploadFile, File(description="Tệp văn bản nhận được (PDF hoặc .docx) / The file you were given")
    ],
) -> FileCheckOut:
    """Kiểm tra tệp văn bản: có đúng là văn bản đã phát hành, chữ ký số có hợp lệ / Is this file the
    issued document, and is its signature valid? Any file is accepted; nothing is stored."""
    content = await read_limited(file, rt.settings.max_upload_bytes)
    # Checking a signature is CPU work (and pyHanko runs its own event loop): off the server's loop.
    return FileCheckOut.of(await run_in_threadpool(verification.check_file, rt, content))
