"""Pages of the TBT inquiry point: ask (visitors too), follow by secret link, the knowledge base,
WTO notifications (list, detail, comments, registration, compilation), subscriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.bounds import PageNumber
from api.deps import RowId, RuntimeDep
from api.errors import status_of
from api.files import PDF, file_response
from api.procedures.tbt.routes import DOCX, client_ip
from api.uploads import read_limited
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser, PagePermitted, PageUser
from api.web.templating import render
from workflows import permissions, ratings
from workflows.clock import now, to_local
from workflows.document_signing import pdf_filename
from workflows.errors import Conflict, DomainError, Forbidden, InvalidInput
from workflows.models import User
from workflows.procedures.tbt import actions, antiabuse, inquiries, knowledge, wto

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)


def _form(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


# --- the hub and asking -------------------------------------------------------------------------


@router.get("/tbt")
def home(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    today = to_local(now()).date()
    notifications = [
        n for n in wto.list_notifications(rt, page_size=100).items if n.comment_deadline >= today
    ]
    return render(
        request,
        "tbt_home.html",
        user,
        {
            "procedure": rt.procedure(inquiries.PROCEDURE),
            "latest": knowledge.search(rt, "", 1, 5),
            "open_notifications": notifications[:5],
        },
    )


ASK_FIELDS = (
    "subject",
    "product",
    "hs_code",
    "market",
    "question",
    "asker_name",
    "asker_email",
    "asker_organisation",
    "asker_phone",
    "consent_publish",
)


def _ask_page(
    request: Request, rt: Any, user: Any, values: dict[str, Any], error: DomainError | None = None
) -> Response:
    errors = field_errors(error) if error else {}
    status = 200
    if error is not None:
        status = status_of(error)
    return render(
        request,
        "tbt_ask.html",
        user,
        {
            "values": values,
            "errors": errors,
            "error": i18n.pick(error.message, error.message_en) if error else None,
            "challenge": antiabuse.new_challenge(rt.settings.signing_key()),
        },
        status_code=status,
    )


@router.get("/tbt/ask")
def ask_form(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    return _ask_page(request, rt, user, {})


@router.post("/tbt/ask", dependencies=[Csrf])
async def ask(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    form = await request.form()
    values: dict[str, Any] = _form(form, *ASK_FIELDS)
    data: dict[str, Any] = {
        key: values[key] for key in ("subject", "product", "hs_code", "market", "question") if values[key]
    }
    data["consent_publish"] = values["consent_publish"] == "true"
    asker = {
        key: values[f"asker_{key}"]
        for key in ("name", "email", "organisation", "phone")
        if values[f"asker_{key}"]
    }
    if asker:
        data["asker"] = asker
    try:
        files = [
            (upload.filename, await read_limited(upload, rt.settings.max_upload_bytes))
            for upload in form.getlist("files")
            if getattr(upload, "filename", "")
        ]
        asked = inquiries.ask(
            rt,
            user,
            data,
            client_ip=client_ip(request, rt.settings),
            form_token=str(form.get("form_token") or ""),
            captcha_answer=str(form.get("captcha_answer") or ""),
            honeypot=str(form.get("website") or ""),
            files=files,
        )
    except (InvalidInput, DomainError) as exc:
        if isinstance(exc, Forbidden):
            raise
        return _ask_page(request, rt, user, values, exc)
    # Post/Redirect/Get: reloading the confirmation must not send the question again. A visitor
    # lands on the inquiry's own secret page (the link is e-mailed too, and Referrer-Policy keeps
    # it from other sites); a business on the dossier in its account.
    if asked.follow_path:
        return RedirectResponse(f"{asked.follow_path}?asked=1", status_code=303)
    return RedirectResponse(f"/dossiers/{asked.dossier.code}?flash=submitted", status_code=303)


@router.get("/tbt/follow/{code}/{token}")
def follow(code: str, token: str, request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    view = inquiries.follow(rt, code, token)
    data = view.dossier.data
    response = render(
        request,
        "tbt_follow.html",
        user,
        {
            "view": view,
            "dossier": view.dossier,
            "data": data,
            "answered": any(d.kind == "tbt_answer" for d in view.documents),
            "base": f"/tbt/follow/{code}/{token}",
            "just_asked": bool(request.query_params.get("asked")),
            "may_rate": view.dossier.completed_at is not None and view.dossier.outcome != "withdrawn",
            "rating": ratings.rating_of(rt, view.dossier.id or 0),
            "rating_flash": request.query_params.get("rating", "")[:40],
        },
    )
    # The address is the secret: not even our own pages get it as a referrer, and no cache keeps it.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tbt/follow/{code}/{token}/rating", dependencies=[Csrf])
def follow_rate(
    code: str,
    token: str,
    rt: RuntimeDep,
    score: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=ratings.MAX_COMMENT)] = "",
) -> Response:
    """The visitor's rating of the answer, the follow link standing for its sign-in."""
    try:
        inquiries.follow_rate(rt, code, token, score, comment)
    except DomainError as exc:
        if exc.code not in ("validation_error", "already_rated", "not_resolved"):
            raise
        outcome = exc.code
    else:
        outcome = "rated"
    response = RedirectResponse(f"/tbt/follow/{code}/{token}?rating={outcome}#rating", status_code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/tbt/follow/{code}/{token}/documents/{document_id}")
def follow_document(code: str, token: str, document_id: str, rt: RuntimeDep) -> Response:
    document, content = inquiries.follow_document(rt, code, token, document_id)
    return file_response(content, PDF, pdf_filename(document), inline=True)


# --- knowledge base -----------------------------------------------------------------------------


@router.get("/tbt/kb")
def kb(request: Request, rt: RuntimeDep, user: MaybeUser, q: str = "", page: PageNumber = 1) -> Response:
    return render(
        request, "tbt_kb.html", user, {"result": knowledge.search(rt, q[:200], max(1, min(page, 1000)))}
    )


@router.get("/tbt/kb/{entry_id}")
def kb_entry(entry_id: RowId, request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    flash = i18n._("Đã lưu nội dung sửa.") if request.query_params.get("saved") else None
    context = {"entry": knowledge.get_entry(rt, entry_id), "values": {}, "errors": {}, "flash_message": flash}
    return render(request, "tbt_kb_entry.html", user, context)


@router.post("/tbt/kb/{entry_id}/edit", dependencies=[Csrf])
async def kb_edit(entry_id: RowId, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    values = _form(await request.form(), "subject", "question", "answer")
    try:
        knowledge.edit_entry(rt, user, entry_id, values)
    except InvalidInput as exc:
        context = {
            "entry": knowledge.get_entry(rt, entry_id),
            "values": values,
            "errors": field_errors(exc),
            "error": i18n.pick(exc.message, exc.message_en),
        }
        return render(request, "tbt_kb_entry.html", user, context, status_code=422)
    return RedirectResponse(f"/tbt/kb/{entry_id}?saved=1", status_code=303)


@router.post("/tbt/kb/{entry_id}/unpublish", dependencies=[Csrf])
async def kb_unpublish(entry_id: RowId, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    values = _form(await request.form(), "reason")
    try:
        knowledge.unpublish(rt, user, entry_id, values["reason"])
    except InvalidInput as exc:
        context = {
            "entry": knowledge.get_entry(rt, entry_id),
            "values": {},
            "errors": field_errors(exc),
            "error": i18n.pick(exc.message, exc.message_en),
        }
        return render(request, "tbt_kb_entry.html", user, context, status_code=422)
    return RedirectResponse("/tbt/kb", status_code=303)


# --- WTO notifications --------------------------------------------------------------------------


@router.get("/tbt/wto")
def wto_list(
    request: Request, rt: RuntimeDep, user: MaybeUser, q: str = "", page: PageNumber = 1
) -> Response:
    result = wto.list_notifications(rt, q[:200], max(1, min(page, 1000)))
    return render(request, "tbt_wto_list.html", user, {"result": result, "q": q})


NOTIFICATION_FIELDS = (
    "member",
    "symbol",
    "title",
    "products",
    "hs_codes",
    "description",
    "objective",
    "circulated_on",
    "comment_deadline",
)


# The TBT inquiry point's officers' pages; the subscription page, a business's.
TbtOfficer = Annotated[User, Depends(PagePermitted(actions.WTO_PAGES))]
Subscriber = Annotated[User, Depends(PagePermitted(actions.SUBSCRIPTION_PAGES))]


@router.get("/tbt/wto/new")
def wto_new(request: Request, user: TbtOfficer) -> Response:
    values = {"circulated_on": to_local(now()).date().isoformat()}
    return render(request, "tbt_wto_new.html", user, {"values": values, "errors": {}})


@router.post("/tbt/wto/new", dependencies=[Csrf])
async def wto_register(request: Request, rt: RuntimeDep, user: TbtOfficer) -> Response:
    values = _form(await request.form(), *NOTIFICATION_FIELDS)
    try:
        notification = wto.register_notification(rt, user, dict(values))
    except (InvalidInput, DomainError) as exc:
        if isinstance(exc, Forbidden):
            raise
        return render(
            request,
            "tbt_wto_new.html",
            user,
            {"values": values, "errors": field_errors(exc), "error": i18n.pick(exc.message, exc.message_en)},
            status_code=status_of(exc),
        )
    return RedirectResponse(f"/tbt/wto/{notification.id}?registered=1", status_code=303)


def _detail(
    request: Request,
    rt: Any,
    user: Any,
    notification_id: RowId,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    n = wto.get_notification(rt, notification_id)
    comments = wto.comments_of(rt, user, notification_id) if user is not None else []
    flash = None
    if request.query_params.get("registered"):
        flash = i18n._("Đã đăng ký thông báo và báo cho doanh nghiệp theo dõi.")
    if request.query_params.get("commented"):
        flash = i18n._("Đã gửi góp ý.")
    is_officer = permissions.may(user, actions.WTO_MANAGE)
    context = {
        "n": n,
        "open": wto.comments_open(n),
        "comments": comments,
        "compilations": wto.compilations_of(rt, user, notification_id) if is_officer else [],
        "values": {},
        "errors": {},
        "flash_message": flash,
        **(extra or {}),
    }
    return render(request, "tbt_wto_detail.html", user, context, status_code=status)


@router.get("/tbt/wto/{notification_id}")
def wto_detail(notification_id: RowId, request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    return _detail(request, rt, user, notification_id)


@router.post("/tbt/wto/{notification_id}/comments", dependencies=[Csrf])
async def wto_comment(notification_id: RowId, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    values = _form(await request.form(), "body")
    try:
        wto.add_comment(rt, user, notification_id, values["body"])
    except (InvalidInput, DomainError) as exc:
        if isinstance(exc, Forbidden):
            raise
        extra = {
            "values": values,
            "errors": field_errors(exc),
            "error": i18n.pick(exc.message, exc.message_en),
        }
        return _detail(request, rt, user, notification_id, extra, status_of(exc))
    return RedirectResponse(f"/tbt/wto/{notification_id}?commented=1", status_code=303)


@router.get("/tbt/wto/{notification_id}/compilations/{compilation_id}")
def wto_compilation_file(
    notification_id: RowId, compilation_id: str, rt: RuntimeDep, user: PageUser
) -> Response:
    compilation, content = wto.compilation_file(rt, user, notification_id, compilation_id)
    return file_response(content, DOCX, f"tong-hop-gop-y-{compilation.number.replace('/', '-')}.docx")


@router.post("/tbt/wto/{notification_id}/compilation", dependencies=[Csrf])
async def wto_compile(notification_id: RowId, request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    values = _form(await request.form(), "early_reason")
    try:
        compilation, content = wto.compile_comments(rt, user, notification_id, values["early_reason"])
    except Conflict as exc:
        extra = {
            "compile_values": values,
            "compile_error": i18n.pick(exc.message, exc.message_en),
        }
        return _detail(request, rt, user, notification_id, extra, status_of(exc))
    return file_response(content, DOCX, f"tong-hop-gop-y-{compilation.number.replace('/', '-')}.docx")


# --- subscriptions ------------------------------------------------------------------------------


def _subscriptions_page(
    request: Request, rt: Any, user: Any, values: dict[str, str], error: DomainError | None = None
) -> Response:
    return render(
        request,
        "tbt_subscriptions.html",
        user,
        {
            "subscriptions": wto.subscriptions_of(rt, user),
            "values": values,
            "errors": field_errors(error) if error else {},
            "error": i18n.pick(error.message, error.message_en) if error else None,
        },
        status_code=422 if error else 200,
    )


@router.get("/tbt/subscriptions")
def subscriptions(request: Request, rt: RuntimeDep, user: Subscriber) -> Response:
    return _subscriptions_page(request, rt, user, {})


@router.post("/tbt/subscriptions", dependencies=[Csrf])
async def subscribe(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    values = _form(await request.form(), "hs_prefix", "keyword")
    try:
        wto.subscribe(rt, user, values["hs_prefix"], values["keyword"])
    except InvalidInput as exc:
        return _subscriptions_page(request, rt, user, values, exc)
    return RedirectResponse("/tbt/subscriptions", status_code=303)


@router.post("/tbt/subscriptions/{subscription_id}/delete", dependencies=[Csrf])
def unsubscribe(subscription_id: RowId, rt: RuntimeDep, user: PageUser) -> Response:
    wto.unsubscribe(rt, user, subscription_id)
    return RedirectResponse("/tbt/subscriptions", status_code=303)
