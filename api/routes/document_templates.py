"""Document templates for administrators: the kinds with the template in force and its versions,
downloading the template to edit in Word, uploading a version (checked before it is stored),
withdrawing one, the PDF preview of a version."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import Permitted, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.files import DOCX, PDF, file_response
from api.uploads import read_limited
from workflows import permissions
from workflows.documents import template_versions
from workflows.errors import FieldProblem, InvalidInput, not_found
from workflows.models import DocumentTemplate, User

router = APIRouter(prefix="/api/admin/templates", tags=["admin"], responses=ERROR_RESPONSES)
Admin = Annotated[User, Depends(Permitted(permissions.DOCUMENT_TEMPLATES_MANAGE))]


class TemplateVersionOut(BaseModel):
    id: int
    kind: str
    procedure_code: str | None
    effective_from: date
    sha256: str
    filename: str
    decided_by: str
    uploaded_by_id: int | None
    uploaded_at: datetime
    check_report: dict[str, Any]
    withdrawn_at: datetime | None
    withdrawn_by_id: int | None


class VariableOut(BaseModel):
    name: str
    vi: str
    en: str


class KindTemplatesOut(BaseModel):
    kind: str
    title_vi: str
    title_en: str
    in_force: dict[str, Any] | None  # {"source": "upload" | "package", "id", "sha256"}
    versions: list[TemplateVersionOut]
    variables: list[VariableOut]


def version_out(version: DocumentTemplate) -> TemplateVersionOut:
    return TemplateVersionOut.model_validate(version, from_attributes=True)


def parse_day(text: str) -> date:
    """dd/mm/yyyy (or ISO yyyy-mm-dd) → a date; else InvalidInput on ``effective_from``."""
    text = text.strip()
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "Ngày hiệu lực phải có dạng ngày/tháng/năm (dd/mm/yyyy).",
            "The effective date must be dd/mm/yyyy.",
            "validation_error",
            [FieldProblem("effective_from", "Ngày không hợp lệ.", "Not a date.")],
        ) from None


@router.get("", response_model=list[KindTemplatesOut])
def list_templates(user: Admin, rt: RuntimeDep) -> list[KindTemplatesOut]:
    """Các loại văn bản có mẫu, mẫu đang áp dụng và các phiên bản / Kinds with their template in
    force, versions and variables."""
    return [
        KindTemplatesOut(
            kind=item.kind,
            title_vi=item.title_vi,
            title_en=item.title_en,
            in_force=item.in_force.record() if item.in_force else None,
            versions=[version_out(v) for v in item.versions],
            variables=[VariableOut(name=v.name, vi=v.vi, en=v.en) for v in item.variables],
        )
        for item in template_versions.overview(rt)
    ]


@router.get("/{kind}/current", response_class=Response)
def download_current(kind: str, user: Admin, rt: RuntimeDep) -> Response:
    """Tải mẫu đang áp dụng để sửa trong Word / Download the template in force, to edit in Word."""
    chosen = template_versions.current_template(rt, kind)
    return file_response(chosen.content, DOCX, f"{kind}.docx")


@router.post("/{kind}", response_model=TemplateVersionOut, status_code=201)
async def upload(
    kind: str,
    user: Admin,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="Mẫu .docx / The .docx template")],
    effective_from: Annotated[str, Form(description="Ngày hiệu lực dd/mm/yyyy / Effective date")],
    decided_by: Annotated[str, Form(description="Văn bản quyết định / The deciding document")],
    procedure_code: Annotated[str, Form(description="Mã thủ tục (trống: mọi thủ tục)")] = "",
) -> TemplateVersionOut:
    """Tải lên phiên bản mẫu mới: kiểm tra rồi lưu; không đạt → 422 với lý do / Upload a version:
    checked, then stored; a failing one is refused (422) with the reasons."""
    content = await read_limited(file, template_versions.MAX_TEMPLATE_BYTES)
    version, _ = await run_in_threadpool(
        template_versions.upload,
        rt,
        user,
        kind,
        content,
        filename=file.filename or f"{kind}.docx",
        effective_from=parse_day(effective_from),
        decided_by=decided_by,
        procedure_code=procedure_code.strip() or None,
    )
    return version_out(version)


@router.post("/versions/{version_id}/withdraw", response_model=TemplateVersionOut)
def withdraw(version_id: RowId, user: Admin, rt: RuntimeDep) -> TemplateVersionOut:
    """Thu hồi một phiên bản (ghi nhật ký) / Withdraw a version (audited)."""
    return version_out(template_versions.withdraw(rt, user, version_id))


@router.get("/versions/{version_id}/docx", response_class=Response)
def download_version(version_id: RowId, user: Admin, rt: RuntimeDep) -> Response:
    """Tải tệp mẫu của một phiên bản / Download a version's .docx."""
    version = template_versions.version_of(rt, version_id)
    return file_response(rt.store.read(version.sha256), DOCX, version.filename)


@router.get("/versions/{version_id}/preview.pdf", response_class=Response)
def preview(version_id: RowId, user: Admin, rt: RuntimeDep) -> Response:
    """Bản xem trước PDF của văn bản mẫu / The PDF preview of the sample document."""
    version = template_versions.version_of(rt, version_id)
    sha = (version.check_report or {}).get("preview_pdf_sha256")
    if not sha:
        raise not_found("bản xem trước", "Preview")
    return file_response(rt.store.read(sha), PDF, f"{version.kind}-{version.id}-preview.pdf", inline=True)
