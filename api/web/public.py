"""Pages for everyone: the catalogue, a procedure, dossier lookup, document verification."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import RuntimeDep
from api.files import DOCX, file_response
from api.uploads import read_limited
from api.verification_schemas import file_check_message
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser
from api.web.templating import render
from workflows import queries, verification
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.errors import NotFound, UploadRejected, not_found
from workflows.form_templates import form_template
from workflows.start_windows import notice_for

router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    return render(request, "home.html", user, {"procedures": list(rt.catalogue.public.values())})


@router.get("/procedures/{code}")
def procedure_page(
    code: str, request: Request, rt: RuntimeDep, user: MaybeUser, version: str | None = None
) -> Response:
    """The procedure as it stands today (its rules in force), announcing the next version of its
    rules when one is known; ``?version=`` shows another version (its key: the date it took effect)."""
    procedure = rt.public_procedure(code)
    chosen = rt.catalogue.version(code, version) if version is not None else None
    shown = chosen or procedure
    upcoming = rt.catalogue.upcoming(code) if chosen is None else None
    window = notice_for(rt.engine, procedure.start_window, user)
    return render(
        request,
        "procedure.html",
        user,
        {
            "procedure": shown,
            "window": window,
            "upcoming": upcoming,
            "start_form": shown.form(rt.forms, shown.start_form),
            "form_stem": shown.start_form.removesuffix(".schema.json"),
        },
    )


@router.get("/procedures/{code}/forms/{stem}.docx")
def procedure_form_template(
    code: str, stem: str, request: Request, rt: RuntimeDep, version: str | None = None
) -> Response:
    """The procedure's form as a blank .docx (in the page's language), made from the schema the
    online form is: only the form the procedure's version asks (its start form)."""
    procedure = rt.procedure(code)
    shown = (rt.catalogue.version(code, version) if version is not None else None) or procedure
    if f"{stem}.schema.json" != shown.start_form:
        raise not_found("biểu mẫu", "Form")
    lang = i18n.current_language.get()
    form = shown.form(rt.forms, shown.start_form)
    content = form_template(form, lang, i18n.pick(shown.name_vi, shown.name_en))
    return file_response(content, DOCX, f"{code}-{stem}.docx")


@router.get("/lookup")
def lookup(request: Request, rt: RuntimeDep, user: MaybeUser, code: str = "") -> Response:
    dossier = procedure = None
    not_found = False
    if code.strip():
        try:
            dossier = queries.public_lookup(rt, code)
            procedure = rt.catalogue.for_dossier(dossier)
        except NotFound:
            not_found = True
    return render(
        request,
        "lookup.html",
        user,
        {
            "code": code,
            "dossier": dossier,
            "procedure": procedure,
            "not_found": not_found,
        },
        status_code=404 if not_found else 200,
    )


@router.get("/verify")
def verify_form(request: Request, rt: RuntimeDep, user: MaybeUser, code: str = "") -> Response:
    if code.strip():
        return verify_page(code, request, rt, user)
    return render(request, "verify.html", user, {"asked": False})


@router.get("/verify/{verification_code}")
def verify_page(verification_code: str, request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    try:
        document = queries.verify_document(rt, verification_code)
    except NotFound:
        return render(
            request,
            "verify.html",
            user,
            {"asked": True, "found": False, "code": verification_code},
            status_code=404,
        )
    return render(
        request,
        "verify.html",
        user,
        {
            "asked": True,
            "found": True,
            "code": document.verification_code,
            "document": document,
            "today": office_day(now()),
        },
    )


@router.post("/verify/file", dependencies=[Depends(verify_csrf)])
async def verify_file(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    """Check a file someone was given: the issued document (signature valid), or not."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(
            request,
            "verify.html",
            user,
            {"asked": False, "file_error": i18n._("Hãy chọn tệp văn bản cần kiểm tra.")},
            status_code=422,
        )
    try:
        content = await read_limited(upload, rt.settings.max_upload_bytes)
    except UploadRejected as exc:
        return render(
            request,
            "verify.html",
            user,
            {"asked": False, "file_error": i18n.pick(exc.message, exc.message_en)},
            status_code=413,
        )
    check = await run_in_threadpool(verification.check_file, rt, content)
    vi, en = file_check_message(check)
    return render(
        request,
        "verify.html",
        user,
        {
            "asked": False,
            "checked": check,
            "checked_name": upload.filename,
            "checked_message": i18n.pick(vi, en),
            "document": check.document,
            "today": office_day(now()),
        },
    )
