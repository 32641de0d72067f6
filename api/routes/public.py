"""No login: look a dossier up by its code; verify a document by its verification code."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import Label, PublicDossierOut, VerifiedDocumentOut
from workflows import queries
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
