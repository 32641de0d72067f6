"""Public pages that a printed document leads to (the QR code opens /verify/<code>)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import RuntimeDep
from workflows import queries
from workflows.clock import format_datetime
from workflows.errors import NotFound

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")


@router.get("/verify/{verification_code}", response_class=HTMLResponse)
def verify_page(verification_code: str, request: Request, rt: RuntimeDep) -> HTMLResponse:
    try:
        document, dossier = queries.verify_document(rt, verification_code)
    except NotFound:
        return templates.TemplateResponse(
            request, "verify.html", {"found": False, "code": verification_code}, status_code=404
        )
    return templates.TemplateResponse(
        request,
        "verify.html",
        {
            "found": True,
            "code": document.verification_code,
            "document": document,
            "dossier": dossier,
            "issued": format_datetime(document.issued_at),
            "agency": rt.settings.agency_name,
        },
    )
