"""A dossier's page (business and officers alike), the business's list, files, withdrawal, diagram data."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from api.bounds import PageNumber
from api.deps import RuntimeDep
from api.files import DOCX, PDF, file_response
from api.procedure_web import fragments
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.diagram import readable_diagram
from api.web.presentation import shown_fields, timeline, working_notes
from api.web.session import PageUser
from api.web.templating import render
from forms.registry import Form as FormSchema
from workflows import commands, extension, permissions, personal_signing, queries, ratings, tax_codes
from workflows.catalogue import Procedure
from workflows.document_signing import pdf_filename
from workflows.documents.slips import ONE_STOP_KINDS
from workflows.errors import DomainError, InvalidInput
from workflows.models import User
from workflows.queries import DossierFilter
from workflows.runtime import Runtime
from workflows.statuses import status_label, status_options

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)


def task_forms(rt: Runtime, procedure: Procedure) -> list[FormSchema]:
    return [rt.forms.get(task.form) for task in procedure.model.user_task_specs() if task.form]


@router.get("/my/dossiers")
def my_dossiers(
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=40)] = "",
    page: PageNumber = 1,
    welcome: str = "",
) -> Response:
    result = queries.list_dossiers(rt, user, DossierFilter(q=q or None, status=status or None, page=page))
    return render(
        request,
        "my_dossiers.html",
        user,
        {
            "result": result,
            "q": q,
            "status": status,
            "statuses": _statuses_of_own(rt, user, status),
            "catalogue": rt.catalogue,
            "flash": i18n._("Đăng ký thành công. Chào mừng!") if welcome else None,
            "flash_kind": "success",
        },
    )


def _statuses_of_own(rt: Runtime, user: User, chosen: str) -> dict[str, tuple[str, str]]:
    """The statuses the business's own dossiers are in (and the one chosen), in the flow's order."""
    used = queries.statuses_in_use(rt, user) | {chosen}
    keys = [o.key for o in status_options(rt.catalogue.versions) if o.key in used]
    return {key: status_label(key) for key in keys}


@router.get("/dossiers/{code}")
def dossier_page(
    code: str,
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
    flash: str = "",
    extend_error: str = "",
    sign_error: str = "",
) -> Response:
    detail = queries.dossier_detail(rt, user, code)
    dossier = detail.dossier
    procedure = rt.catalogue.for_dossier(dossier)
    data = queries.data_for(rt, user, dossier)
    start_form = rt.forms.get(procedure.start_form) if procedure else None
    attachments = {a.id: a for a in detail.attachments}
    # Tasks the user may take: of their role and held by nobody else (a colleague's claimed task, or
    # a council member's own score sheet, is not "yours").
    my_tasks = [
        t
        for t in detail.open_tasks
        if permissions.may_work_task(user, t, dossier) and t.assignee_id in (None, user.id)
    ]
    messages = {
        "submitted": i18n._("Đã nộp hồ sơ. Mã hồ sơ của bạn được ghi ở trên; hãy dùng mã này để tra cứu."),
        "withdrawn": i18n._("Đã rút hồ sơ."),
        "closed": i18n._("Hồ sơ đã kết thúc nên không thể rút."),
        "withdrawal_not_allowed": i18n._("Không thể rút hồ sơ ở bước này theo quy định của thủ tục."),
        "supplemented": i18n._("Đã gửi hồ sơ bổ sung. Bộ phận một cửa sẽ kiểm tra lại."),
        "done": i18n._("Đã hoàn thành công việc."),
        "extended": i18n._("Đã gia hạn và phát hành phiếu xin lỗi, hẹn lại ngày trả kết quả."),
        "signed_personally": i18n._("Đã nhận bản anh/chị ký số; đây là bản chính thức của văn bản."),
        "handed_to_agency": i18n._("Văn bản sẽ được ký bằng chữ ký số của cơ quan trong ít giây."),
    }
    waiting = personal_signing.waiting_in(rt, [d.id for d in detail.documents])
    return render(
        request,
        "dossier.html",
        user,
        {
            "detail": detail,
            # The result the dossier was filed for stands apart from the one-stop slips around it.
            "results": [d for d in detail.documents if d.kind not in ONE_STOP_KINDS],
            "slips": [d for d in detail.documents if d.kind in ONE_STOP_KINDS],
            "dossier": dossier,
            "procedure": procedure,
            "fields": shown_fields(start_form, data) if start_form else [],
            **fragments(rt, user, dossier, data),
            "notes": working_notes(task_forms(rt, procedure), start_form, data)
            if permissions.may_read_whole_data(user) and start_form
            else [],
            "attachments": attachments,
            "timeline": timeline(detail.history, detail.all_tasks, detail.dossier.applicant_id),
            "my_tasks": my_tasks,
            "closed": dossier.completed_at is not None,
            "is_applicant": dossier.applicant_id == user.id,
            "may_edit_documents": permissions.may_read_editable_copy(user),
            "can_withdraw": dossier.applicant_id == user.id and commands.withdrawal_open(rt, dossier),
            "warnings": queries.dossier_warnings(rt, user, dossier),
            "tax_code_check": tax_codes.applicant_check(rt, user, dossier),
            "can_extend": permissions.may(user, permissions.DOSSIER_EXTEND)
            and dossier.received_at is not None
            and dossier.completed_at is None
            and dossier.extension_days == 0,
            "extend_error": extend_error[:500],
            # Results waiting for a leader's own signature: this user's (the forms), or another's.
            "awaiting_me": {d for d, who in waiting.items() if who == user.id},
            "awaiting_leader": set(waiting),
            "sign_error": sign_error[:500],
            "flash": messages.get(flash),
            "flash_kind": "success",
            # Satisfaction (workflows.ratings): the applicant's form once there is a result; what
            # officers read of it. The form's outcome comes back as ``flash=rated|rating_<code>``.
            "may_rate": permissions.may_rate_dossier(user, dossier),
            "rating_visible": permissions.may_read_rating(user, dossier, worked_on=True),
            "rating": ratings.rating_of(rt, dossier.id or 0),
            "rating_outcome": "rated"
            if flash == "rated"
            else flash.removeprefix("rating_")
            if flash.startswith("rating_")
            else "",
        },
    )


@router.get("/dossiers/{code}/diagram.json")
def diagram(code: str, rt: RuntimeDep, user: PageUser) -> Response:
    """The model version the dossier runs on, with the steps done and the steps waiting."""
    detail = queries.dossier_detail(rt, user, code)
    sources = queries.model_sources(rt, detail.model_version_id)
    xml = next((text for name, text in sources.items() if name.endswith(".bpmn")), "")
    return JSONResponse(
        {
            "xml": readable_diagram(xml, i18n.current_language.get()),
            "current": sorted({t.spec_name for t in detail.open_tasks}),
            "done": sorted({t.spec_name for t in detail.all_tasks if t.status == "completed"}),
        },
        headers={"Cache-Control": "private, no-store"},
    )


@router.post("/dossiers/{code}/withdraw", dependencies=[Csrf])
def withdraw(
    code: str,
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        commands.withdraw_dossier(rt, user, code, reason)
    except DomainError as exc:
        if exc.code not in ("closed", "withdrawal_not_allowed"):
            raise
        return RedirectResponse(f"/dossiers/{code}?flash={exc.code}", status_code=303)
    return RedirectResponse(f"/dossiers/{code}?flash=withdrawn", status_code=303)


@router.get("/files/attachments/{attachment_id}")
def attachment_file(attachment_id: str, rt: RuntimeDep, user: PageUser) -> Response:
    attachment, content = queries.attachment_for(rt, user, attachment_id)
    return file_response(content, attachment.content_type, attachment.filename, inline=True)


@router.get("/files/documents/{document_id}")
def document_file(document_id: str, rt: RuntimeDep, user: PageUser) -> Response:
    """The official copy, shown in the browser (the counter prints slips from it, without Word)."""
    document, content = queries.document_for(rt, user, document_id)
    return file_response(content, PDF, pdf_filename(document), inline=True)


@router.get("/files/documents/{document_id}/docx")
def document_editable_file(document_id: str, rt: RuntimeDep, user: PageUser) -> Response:
    document, content = queries.editable_copy_for(rt, user, document_id)
    return file_response(content, DOCX, document.filename)


@router.post("/dossiers/{code}/extend", dependencies=[Csrf])
def extend(
    code: str,
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
    days: Annotated[int, Form(ge=1, le=30)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    try:
        extension.extend_deadline(rt, user, code, days, reason)
    except InvalidInput as exc:
        message = "; ".join(i18n.pick(f.message, f.message_en) for f in exc.fields)
        return RedirectResponse(f"/dossiers/{code}?extend_error={quote(message)}", status_code=303)
    return RedirectResponse(f"/dossiers/{code}?flash=extended", status_code=303)
