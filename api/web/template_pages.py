"""Administration of document templates: the kinds with the template in force and its versions,
download to edit in Word, upload a version (checked, with its PDF preview), withdraw one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.files import DOCX, PDF, file_response
from api.routes.document_templates import parse_day
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.documents import template_versions
from workflows.errors import DomainError, UploadRejected, not_found
from workflows.models import User

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
TemplatesAdmin = Annotated[User, Depends(PagePermitted(permissions.DOCUMENT_TEMPLATES_MANAGE))]


def _page(request: Request, rt: Any, user: User, status_code: int = 200, **context: Any) -> Response:
    values = {
        "kinds": template_versions.overview(rt),
        "flash": None,
        "flash_kind": "success",
        "problems": [],
        "uploaded": None,
        "values": {},
    }
    values.update(context)
    return render(request, "admin_templates.html", user, values, status_code=status_code)


@router.get("/admin/templates")
def templates(request: Request, rt: RuntimeDep, user: TemplatesAdmin, withdrawn: bool = False) -> Response:
    flash = i18n._("Đã thu hồi phiên bản mẫu.") if withdrawn else None
    return _page(request, rt, user, flash=flash)


@router.get("/admin/templates/{kind}/current.docx")
def download_current(kind: str, rt: RuntimeDep, user: TemplatesAdmin) -> Response:
    chosen = template_versions.current_template(rt, kind)
    return file_response(chosen.content, DOCX, f"{kind}.docx")


@router.post("/admin/templates/{kind}", dependencies=[Csrf])
async def upload(kind: str, request: Request, rt: RuntimeDep, user: TemplatesAdmin) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, ""))[:300] for k in ("effective_from", "decided_by", "procedure_code")}
    values["kind"] = kind
    upload_file = form.get("file")
    if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
        problems = [(i18n._("Hãy chọn tệp mẫu .docx."), "")]
        return _page(request, rt, user, 422, problems=problems, values=values)
    try:
        content = await read_limited(upload_file, template_versions.MAX_TEMPLATE_BYTES)
        version, _ = await run_in_threadpool(
            template_versions.upload,
            rt,
            user,
            kind,
            content,
            filename=upload_file.filename,
            effective_from=parse_day(values["effective_from"]),
            decided_by=values["decided_by"],
            procedure_code=values["procedure_code"].strip() or None,
        )
    except UploadRejected as exc:
        return _page(request, rt, user, 413, problems=[(exc.message, exc.message_en)], values=values)
    except DomainError as exc:
        problems = [(p.message, p.message_en) for p in exc.fields] or [(exc.message, exc.message_en)]
        status = 404 if exc.code == "not_found" else 422
        return _page(request, rt, user, status, problems=problems, values=values)
    flash = i18n._(
        "Mẫu đạt kiểm tra và đã được lưu; áp dụng từ ngày %(day)s.",
        day=version.effective_from.strftime("%d/%m/%Y"),
    )
    return _page(request, rt, user, flash=flash, uploaded=version)


@router.post("/admin/templates/versions/{version_id}/withdraw", dependencies=[Csrf])
def withdraw(version_id: RowId, rt: RuntimeDep, user: TemplatesAdmin) -> Response:
    template_versions.withdraw(rt, user, version_id)
    return RedirectResponse("/admin/templates?withdrawn=1", status_code=303)


@router.get("/admin/templates/versions/{version_id}/preview.pdf")
def preview(version_id: RowId, rt: RuntimeDep, user: TemplatesAdmin) -> Response:
    version = template_versions.version_of(rt, version_id)
    sha = (version.check_report or {}).get("preview_pdf_sha256")
    if not sha:
        raise not_found("bản xem trước", "Preview")
    return file_response(rt.store.read(sha), PDF, f"{version.kind}-{version.id}-preview.pdf", inline=True)


@router.get("/admin/templates/versions/{version_id}.docx")
def download_version(version_id: RowId, rt: RuntimeDep, user: TemplatesAdmin) -> Response:
    version = template_versions.version_of(rt, version_id)
    return file_response(rt.store.read(version.sha256), DOCX, version.filename)
