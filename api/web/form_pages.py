"""Pages with a schema form: a business starts a dossier, and anyone does a task (clerk, specialist,
leader, or the business answering a supplement request).

The form is rendered from the same JSON Schema the API validates with. Files arrive with the post;
each is stored (size and type checked) before the data is validated, so a failed submission keeps
them: the page shows them as already uploaded and the user does not send them again.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import RuntimeDep
from api.files import PDF, file_response
from api.procedure_web import form_start, fragments
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf_token
from api.web.dossier_pages import task_forms
from api.web.presentation import shown_fields, timeline, working_notes
from api.web.session import PagePermitted, PageUser
from api.web.templating import render
from forms.html_input import parse_submission
from forms.registry import Form
from forms.rendering import AttachmentInfo, build_view
from forms.validation import FieldError
from workflows import commands, document_drafts, official_copy, permissions, queries, tax_codes
from workflows import submission as dossier_submission
from workflows.catalogue import Procedure
from workflows.clock import now
from workflows.errors import Conflict, DomainError, Forbidden, InvalidInput, UploadRejected, not_found
from workflows.models import User
from workflows.runtime import Runtime
from workflows.start_windows import notice_for

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf_token)
IDEMPOTENCY_FIELD = "_submission"
# Who may send a dossier's application form (a business).
Applicant = Annotated[User, Depends(PagePermitted(permissions.DOSSIER_START_PAGE))]


def _errors_of(error: DomainError) -> list[FieldError]:
    return [
        FieldError(
            field=f.field, path=_path_of(f.field), message=f.message, message_en=f.message_en, code=f.code
        )
        for f in error.fields
    ]


def _path_of(field: str) -> list[str | int]:
    path: list[str | int] = []
    for part in field.replace("]", "").replace("[", ".").split("."):
        if part:
            path.append(int(part) if part.isascii() and part.isdigit() else part)
    return path


def _attachment_infos(rt: Runtime, data: Any, form: Form) -> dict[str, AttachmentInfo]:
    ids = [attachment_id for _, attachment_id in form.attachment_paths(data)]
    return {
        a.id: AttachmentInfo(
            id=a.id, filename=a.filename, size=a.size, download_url=f"/files/attachments/{a.id}"
        )
        for a in queries.attachments_by_id(rt, ids).values()
    }


async def _store_files(
    rt: Runtime, user: User, form_data: FormData, dossier_code: str | None
) -> tuple[dict[str, list[str]], list[FieldError]]:
    """Store every uploaded file; returns attachment ids by field name and the files refused."""
    ids: dict[str, list[str]] = {}
    problems: list[FieldError] = []
    for name, value in form_data.multi_items():
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        try:
            content = await read_limited(value, rt.settings.max_upload_bytes)
            attachment = commands.upload_attachment(
                rt, user, value.filename, content, dossier_code=dossier_code
            )
        except UploadRejected as exc:
            problems.append(
                FieldError(
                    field=name,
                    path=_path_of(name),
                    message=exc.message,
                    message_en=exc.message_en,
                    code=exc.code,
                )
            )
            continue
        ids.setdefault(name, []).append(attachment.id)
    return ids, problems


def _text_fields(form_data: FormData) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in form_data.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


def _form_page(
    request: Request,
    rt: Runtime,
    user: User,
    template: str,
    form: Form,
    data: dict[str, Any],
    context: dict[str, Any],
    errors: list[FieldError] | None = None,
    extra_rows: dict[str, int] | None = None,
    status_code: int | None = None,
) -> Response:
    view = build_view(
        form,
        data,
        errors or [],
        i18n.current_language.get(),
        extra_rows=extra_rows or {},
        attachments=_attachment_infos(rt, data, form),
    )
    status = status_code or (422 if errors else 200)
    return render(
        request,
        template,
        user,
        {"form": form, "view": view, "errors": errors or [], **context},
        status_code=status,
    )


# --- a business starts a dossier -----------------------------------------------------------------


def _prefill(user: User, section: str = "applicant") -> dict[str, Any]:
    """The account's details, under the start form's applicant section (``applicant``, ``importer``)."""
    applicant = {
        "name": user.organisation_name,
        "tax_code": user.tax_code,
        "address": user.address,
        "phone": user.phone,
        "email": user.email,
        "representative": user.full_name,
    }
    return {section: {k: v for k, v in applicant.items() if v}}


def _starting(rt: Runtime, procedure_code: str) -> Procedure:
    """The version a dossier submitted now would follow (its form), else the procedure as it
    stands today (submitting then says why it cannot start)."""
    procedure = rt.procedure_for_new_dossier(procedure_code, now()) or rt.procedure(procedure_code)
    if procedure.internal:  # started by the staff (an inspection campaign), not on this page
        raise not_found("thủ tục", "Procedure")
    return procedure


@router.get("/my/dossiers/new/{procedure_code}")
def new_dossier(procedure_code: str, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    procedure = _starting(rt, procedure_code)
    if procedure.start_page:  # a procedure with its own start page (TBT questions)
        return RedirectResponse(procedure.start_page, status_code=303)
    permissions.require(user, permissions.DOSSIER_START_PAGE)
    form = procedure.form(rt.forms, procedure.start_form)
    return _form_page(
        request,
        rt,
        user,
        "dossier_new.html",
        form,
        _prefill(user, procedure.applicant_tax_code_field.partition(".")[0] or "applicant"),
        {
            "procedure": procedure,
            "submission": secrets.token_urlsafe(16),
            "window": notice_for(rt.engine, procedure.start_window, user),
        },
    )


@router.post("/my/dossiers/new/{procedure_code}", dependencies=[Csrf])
async def submit_dossier(procedure_code: str, request: Request, rt: RuntimeDep, user: Applicant) -> Response:
    procedure = _starting(rt, procedure_code)
    form = procedure.form(rt.forms, procedure.start_form)
    form_data = await request.form()
    attachment_ids, upload_problems = await _store_files(rt, user, form_data, None)
    data, extra_rows = parse_submission(form, _text_fields(form_data), attachment_ids)
    submission = str(form_data.get(IDEMPOTENCY_FIELD) or secrets.token_urlsafe(16))[:60]
    context = {
        "procedure": procedure,
        "submission": submission,
        "window": notice_for(rt.engine, procedure.start_window, user),
    }
    if extra_rows:
        return _form_page(request, rt, user, "dossier_new.html", form, data, context, extra_rows=extra_rows)
    if upload_problems:
        return _form_page(request, rt, user, "dossier_new.html", form, data, context, errors=upload_problems)
    try:
        dossier, _ = dossier_submission.submit_dossier(
            rt, user, procedure.code, data, idempotency_key=f"web-{submission}"
        )
    except InvalidInput as exc:
        return _form_page(request, rt, user, "dossier_new.html", form, data, context, errors=_errors_of(exc))
    except Conflict as exc:  # e.g. the registration window closed meanwhile, or already applied
        context["refusal"] = exc
        return _form_page(request, rt, user, "dossier_new.html", form, data, context, status_code=409)
    return RedirectResponse(f"/dossiers/{dossier.code}?flash=submitted", status_code=303)


# --- tasks ------------------------------------------------------------------------------------


def _task_context(
    rt: Runtime, user: User, task_id: str
) -> tuple[Any, Any, Form, dict[str, Any], dict[str, Any]]:
    task, dossier, data = queries.task_with_dossier(rt, user, task_id)
    if not permissions.may_work_task(user, task, dossier):
        raise Forbidden("Công việc này dành cho vai trò khác.", "This task is for another role.", "forbidden")
    procedure = rt.catalogue.for_dossier(dossier)
    form = procedure.form(rt.forms, task.form) if procedure else rt.forms.get(task.form)
    # The form starts from the dossier's current values of its own fields (e.g. the declaration
    # for a supplement, the earlier findings after a send-back).
    own = set(form.field_names())
    start = form_start(rt, user, dossier, task, {k: v for k, v in data.items() if k in own})
    detail = queries.dossier_detail(rt, user, dossier.code)
    start_form = rt.forms.get(procedure.start_form) if procedure else None
    visible = queries.data_for(rt, user, dossier)
    context = {
        "task": task,
        "dossier": dossier,
        "detail": detail,
        "procedure": procedure,
        "holder": queries.holder_name(rt, task) if task.assignee_id not in (None, user.id) else None,
        "fields": shown_fields(start_form, visible) if start_form else [],
        # What the earlier steps found (the specialist's findings for the leader who approves).
        "notes": working_notes(task_forms(rt, procedure), start_form, visible)
        if permissions.may_read_whole_data(user) and start_form and procedure
        else [],
        **fragments(rt, user, dossier, visible),
        "attachments": {a.id: a for a in detail.attachments},
        "timeline": timeline(detail.history, detail.all_tasks, detail.dossier.applicant_id),
        "warnings": queries.dossier_warnings(rt, user, dossier),
        "tax_code_check": tax_codes.applicant_check(rt, user, dossier),
        # The document this task's completion issues, as a draft the leader reads first.
        "draft_url": f"/work/tasks/{task.id}/draft.pdf"
        if task.status == "open" and document_drafts.task_has_draft(rt, task, dossier)
        else None,
    }
    return task, dossier, form, start, context


@router.get("/work/tasks/{task_id}/draft.pdf")
def task_draft(task_id: str, rt: RuntimeDep, user: PageUser) -> Response:
    """The draft of the document the task leads to, as a PDF shown in the browser (unsigned,
    unnumbered, marked "DỰ THẢO")."""
    draft = document_drafts.draft_for_task(rt, user, task_id)
    pdf = official_copy.render_pdf(draft.docx)
    return file_response(
        pdf, PDF, draft.filename.removesuffix(".docx") + ".pdf", inline=True, embeddable=True
    )


@router.get("/work/tasks/{task_id}")
@router.get("/my/tasks/{task_id}")
def task_page(task_id: str, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    task, _, form, start, context = _task_context(rt, user, task_id)
    if task.status != "open":
        return RedirectResponse(f"/dossiers/{context['dossier'].code}", status_code=303)
    return _form_page(request, rt, user, "task.html", form, start, context)


@router.post("/work/tasks/{task_id}", dependencies=[Csrf])
@router.post("/my/tasks/{task_id}", dependencies=[Csrf])
async def complete_task(task_id: str, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    task, dossier, form, _, context = _task_context(rt, user, task_id)
    form_data = await request.form()
    attachment_ids, upload_problems = await _store_files(rt, user, form_data, dossier.code)
    data, extra_rows = parse_submission(form, _text_fields(form_data), attachment_ids)
    if extra_rows:
        return _form_page(request, rt, user, "task.html", form, data, context, extra_rows=extra_rows)
    if upload_problems:
        return _form_page(request, rt, user, "task.html", form, data, context, errors=upload_problems)
    try:
        commands.complete_task(rt, user, task_id, data)
    except InvalidInput as exc:
        return _form_page(request, rt, user, "task.html", form, data, context, errors=_errors_of(exc))
    except DomainError as exc:
        if exc.code in {"conflict", "task_closed", "task_taken"}:
            return render(
                request,
                "error.html",
                user,
                {
                    "status": 409,
                    "message": i18n.pick(exc.message, exc.message_en),
                    "error": exc,
                    "back": f"/dossiers/{dossier.code}",
                },
                status_code=409,
            )
        raise
    flash = "supplemented" if task.candidate_role == "business" else "done"
    return RedirectResponse(f"/dossiers/{dossier.code}?flash={flash}", status_code=303)
