"""Dossiers: submit, list, read, attach files, withdraw."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Query, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.bounds import Day, PageNumber, PageSize
from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES, UPLOAD_RESPONSES
from api.files import file_response
from api.schemas import (
    AttachmentOut,
    DocumentOut,
    DossierOut,
    DossierPageOut,
    DossierSummaryOut,
    ExtendIn,
    HistoryEventOut,
    SupplementRequestOut,
    TaskOut,
    WithdrawIn,
)
from api.uploads import read_limited
from workflows import commands, extension, permissions, queries, submission
from workflows.clock import local_zone
from workflows.models import User
from workflows.queries import DossierDetail, DossierFilter
from workflows.runtime import Runtime

router = APIRouter(prefix="/api", tags=["dossiers"], responses=ERROR_RESPONSES)


class SubmitDossier(BaseModel):
    procedure: str = Field(max_length=60, examples=["cong-bo-hop-chuan-hop-quy"])
    data: dict[str, Any]


def dossier_out(rt: Runtime, actor: User, detail: DossierDetail) -> DossierOut:
    dossier = detail.dossier
    officer = permissions.may_read_whole_data(actor)
    data = queries.data_for(rt, actor, dossier)
    summary = DossierSummaryOut.of(dossier).model_dump()
    return DossierOut(
        **summary,
        data=data,
        open_tasks=[TaskOut.of(t, dossier.code) for t in detail.open_tasks],
        history=[HistoryEventOut.of(e, with_details=officer) for e in detail.history],
        documents=[DocumentOut.of(d) for d in detail.documents],
        attachments=[AttachmentOut.of(a) for a in detail.attachments],
        supplement_requests=[
            SupplementRequestOut(
                requested_at=p.started_at, answered_at=p.ended_at, items=list(p.details.get("items") or [])
            )
            for p in detail.pauses
            if p.reason == "supplement_requested"
        ],
    )


@router.post("/dossiers", status_code=status.HTTP_201_CREATED, response_model=DossierOut)
def submit(
    body: SubmitDossier,
    user: CurrentUser,
    rt: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> Any:
    """Nộp hồ sơ / Submit a dossier. Repeating the same ``Idempotency-Key`` returns the first dossier (200)."""
    dossier, created = submission.submit_dossier(rt, user, body.procedure, body.data, idempotency_key)
    out = dossier_out(rt, user, queries.dossier_detail(rt, user, dossier.code))
    if not created:
        return JSONResponse(out.model_dump(mode="json"), status_code=status.HTTP_200_OK)
    return out


@router.get("/dossiers", response_model=DossierPageOut)
def list_dossiers(
    user: CurrentUser,
    rt: RuntimeDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Mã hồ sơ, MST, tên, sản phẩm; mọi từ phải khớp, có dấu hay không dấu / "
            "every word must match, with or without tones",
        ),
    ] = None,
    procedure: Annotated[str | None, Query(max_length=60)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    tax_code: Annotated[str | None, Query(max_length=14)] = None,
    submitted_from: Annotated[Day | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    submitted_to: Annotated[Day | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> DossierPageOut:
    """Hồ sơ: doanh nghiệp thấy hồ sơ của mình, cán bộ thấy tất cả / A business sees its own, officers all."""
    zone = local_zone()
    flt = DossierFilter(
        q=q,
        procedure=procedure,
        status=status_,
        tax_code=tax_code,
        submitted_from=datetime.combine(submitted_from, time.min, zone) if submitted_from else None,
        submitted_to=datetime.combine(submitted_to + timedelta(days=1), time.min, zone)
        if submitted_to
        else None,
        page=page,
        page_size=page_size,
    )
    result = queries.list_dossiers(rt, user, flt)
    return DossierPageOut(
        items=[DossierSummaryOut.of(d) for d in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        more=result.more,
    )


@router.get("/dossiers/{code}", response_model=DossierOut)
def get_dossier(code: str, user: CurrentUser, rt: RuntimeDep) -> DossierOut:
    return dossier_out(rt, user, queries.dossier_detail(rt, user, code))


@router.post("/dossiers/{code}/withdraw", response_model=DossierSummaryOut)
def withdraw(
    code: str, user: CurrentUser, rt: RuntimeDep, body: WithdrawIn | None = None
) -> DossierSummaryOut:
    """Rút hồ sơ trước khi có kết quả / Withdraw before the result is issued."""
    dossier = commands.withdraw_dossier(rt, user, code, body.reason if body else "")
    return DossierSummaryOut.of(dossier)


@router.post(
    "/dossiers/{code}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentOut,
    responses=UPLOAD_RESPONSES,
)
async def attach_to_dossier(
    code: str, user: CurrentUser, rt: RuntimeDep, file: Annotated[UploadFile, File()]
) -> AttachmentOut:
    content = await read_limited(file, rt.settings.max_upload_bytes)
    return AttachmentOut.of(
        commands.upload_attachment(rt, user, file.filename or "", content, dossier_code=code)
    )


@router.post(
    "/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentOut,
    tags=["attachments"],
    responses=UPLOAD_RESPONSES,
)
async def upload(user: CurrentUser, rt: RuntimeDep, file: Annotated[UploadFile, File()]) -> AttachmentOut:
    """Tải tệp lên trước khi nộp; dùng ``id`` trong biểu mẫu / Upload before submitting; put the id in the form."""
    content = await read_limited(file, rt.settings.max_upload_bytes)
    return AttachmentOut.of(commands.upload_attachment(rt, user, file.filename or "", content))


@router.get("/attachments/{attachment_id}", tags=["attachments"], response_class=Response)
def download_attachment(attachment_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    attachment, content = queries.attachment_for(rt, user, attachment_id)
    return file_response(content, attachment.content_type, attachment.filename, inline=True)


@router.post("/dossiers/{code}/extend", response_model=DossierSummaryOut)
def extend(code: str, body: ExtendIn, user: CurrentUser, rt: RuntimeDep) -> DossierSummaryOut:
    """Gia hạn một lần kèm phiếu xin lỗi (Mẫu 04) / Extend once, issuing the apology slip (leaders)."""
    return DossierSummaryOut.of(extension.extend_deadline(rt, user, code, body.days, body.reason))
