"""Tax-code pages: the officers' list of unverified accounts by tax code (verify one, reject one),
the verify form of a dossier's pages, the contests (a public form; the officers' list and
decision), and the business's own page (its tax code's state, correcting it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.bounds import PageNumber
from api.client_address import client_address
from api.deps import RowId, RuntimeDep
from api.errors import status_of
from api.files import file_response
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser, PagePermitted, PageUser
from api.web.templating import render
from workflows import permissions, tax_code_contests, tax_codes
from workflows.errors import DomainError, RateLimited, UploadRejected
from workflows.models import User
from workflows.paging import Page
from workflows.runtime import Runtime
from workflows.tax_codes import TaxCodeGroup

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
LIST_PAGE_SIZE = 50
VerifierPage = Annotated[User, Depends(PagePermitted(permissions.ACCOUNT_VERIFY_TAX_CODE))]

CONTEST_FIELDS = (
    "tax_code",
    "organisation_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "statement",
)


def _message(error: DomainError) -> str:
    return " ".join(
        [i18n.pick(error.message, error.message_en)]
        + [i18n.pick(f.message, f.message_en) for f in error.fields]
    )


def _back(next_url: str, fallback: str) -> str:
    """Only this site's officer pages (the task or dossier page the form was on)."""
    if next_url.startswith(("/work/", "/dossiers/")) and "//" not in next_url and "\\" not in next_url:
        return next_url
    return fallback


# --- the officers' list -----------------------------------------------------------------------------


def _groups_page(groups: list[TaxCodeGroup], page: int) -> Page:
    start = (page - 1) * LIST_PAGE_SIZE
    return Page(groups[start : start + LIST_PAGE_SIZE], len(groups), page, LIST_PAGE_SIZE)


def _list_page(
    request: Request,
    rt: Runtime,
    user: User,
    error: DomainError | None = None,
    status_code: int = 200,
    page: int = 1,
) -> Response:
    done = request.query_params.get("done")
    flash = {
        "verified": i18n._(
            "Đã xác minh mã số thuế; các tài khoản khác cùng mã số thuế đã bị từ chối và được thông báo."
        ),
        "rejected": i18n._("Đã từ chối mã số thuế; doanh nghiệp đã được thông báo."),
    }.get(done or "")
    return render(
        request,
        "tax_codes.html",
        user,
        {
            "result": _groups_page(tax_codes.unverified_groups(rt, user), page),
            "error": _message(error) if error else None,
            "flash": flash,
            "flash_kind": "success",
        },
        status_code=status_code,
    )


@router.get("/work/tax-codes")
def unverified(request: Request, rt: RuntimeDep, user: VerifierPage, page: PageNumber = 1) -> Response:
    """Accounts whose tax code is not verified yet, by tax code; several on one tax code first."""
    return _list_page(request, rt, user, page=page)


@router.post("/work/tax-codes/{user_id}/verify", dependencies=[Csrf])
def verify(
    user_id: RowId,
    request: Request,
    rt: RuntimeDep,
    user: VerifierPage,
    evidence: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        tax_codes.verify_tax_code(rt, user, user_id, evidence)
    except DomainError as exc:
        if next:
            raise  # the error page, with the message (from a dossier's or a task's page)
        return _list_page(request, rt, user, exc, 422 if exc.code == "validation_error" else 409)
    return RedirectResponse(_back(next, "/work/tax-codes?done=verified"), status_code=303)


@router.post("/work/tax-codes/{user_id}/reject", dependencies=[Csrf])
def reject(
    user_id: RowId,
    request: Request,
    rt: RuntimeDep,
    user: VerifierPage,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        tax_codes.reject_tax_code(rt, user, user_id, reason)
    except DomainError as exc:
        return _list_page(request, rt, user, exc, 422 if exc.code == "validation_error" else 409)
    return RedirectResponse("/work/tax-codes?done=rejected", status_code=303)


# --- contests -------------------------------------------------------------------------------------


@router.get("/tax-code-contests/new")
def contest_form(request: Request, user: MaybeUser, tax_code: str = "") -> Response:
    values = {"tax_code": tax_code[:14]}
    if user is not None and user.tax_code:
        values.update(
            tax_code=user.tax_code,
            organisation_name=user.organisation_name or "",
            contact_name=user.full_name,
            contact_email=user.email,
            contact_phone=user.phone or "",
        )
    return render(request, "tax_code_contest.html", user, {"values": values, "errors": {}})


@router.post("/tax-code-contests/new", dependencies=[Csrf])
async def file_contest(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, ""))[:2000] for name in CONTEST_FIELDS}
    upload = form.get("certificate")
    content, filename = b"", ""
    try:
        if upload is not None and not isinstance(upload, str):
            content = await read_limited(upload, rt.settings.max_upload_bytes)
            filename = upload.filename or ""
        contest = tax_code_contests.file_contest(
            rt,
            user,
            tax_code=values["tax_code"][:14],
            organisation_name=values["organisation_name"][:300],
            contact_name=values["contact_name"][:200],
            contact_email=values["contact_email"][:254],
            contact_phone=values["contact_phone"][:30],
            statement=values["statement"],
            certificate_name=filename,
            certificate=content,
            client_address=client_address(request, rt.settings),
        )
    except UploadRejected as exc:
        return render(
            request,
            "tax_code_contest.html",
            user,
            {"values": values, "errors": {"certificate": i18n.pick(exc.message, exc.message_en)}},
            status_code=413 if exc.too_large else 422,
        )
    except DomainError as exc:
        refused = render(
            request,
            "tax_code_contest.html",
            user,
            {
                "values": values,
                "errors": {f.field: i18n.pick(f.message, f.message_en) for f in exc.fields},
                "error": i18n.pick(exc.message, exc.message_en),
            },
            status_code=status_of(exc),
        )
        if isinstance(exc, RateLimited):
            refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    return render(request, "tax_code_contest.html", user, {"filed": contest, "values": {}, "errors": {}})


def _contests_page(
    request: Request,
    rt: Runtime,
    user: User,
    decided: bool,
    error: DomainError | None = None,
    status_code: int = 200,
    page: int = 1,
) -> Response:
    return render(
        request,
        "tax_code_contests.html",
        user,
        {
            "result": tax_code_contests.contest_page(rt, user, decided, page, LIST_PAGE_SIZE),
            "decided": decided,
            "error": _message(error) if error else None,
            "flash": i18n._("Đã giải quyết khiếu nại; người khiếu nại được báo qua thư điện tử.")
            if request.query_params.get("done")
            else None,
            "flash_kind": "success",
        },
        status_code=status_code,
    )


@router.get("/work/tax-code-contests")
def contests(
    request: Request, rt: RuntimeDep, user: VerifierPage, show: str = "open", page: PageNumber = 1
) -> Response:
    return _contests_page(request, rt, user, decided=show == "decided", page=page)


@router.get("/work/tax-code-contests/{contest_id}/certificate")
def contest_certificate(contest_id: RowId, rt: RuntimeDep, user: VerifierPage) -> Response:
    contest, content = tax_code_contests.certificate(rt, user, contest_id)
    return file_response(content, contest.certificate_type, contest.certificate_filename, inline=True)


@router.post("/work/tax-code-contests/{contest_id}/decide", dependencies=[Csrf])
def decide_contest(
    contest_id: RowId,
    request: Request,
    rt: RuntimeDep,
    user: VerifierPage,
    decision: Annotated[str, Form(pattern="^(accept|refuse)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        tax_code_contests.decide_contest(rt, user, contest_id, decision == "accept", note)
    except DomainError as exc:
        return _contests_page(request, rt, user, False, exc, 422 if exc.code == "validation_error" else 409)
    return RedirectResponse("/work/tax-code-contests?done=1", status_code=303)


# --- the business's own page ----------------------------------------------------------------------


def _account_page(
    request: Request, rt: Runtime, user: User, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    vi, en = tax_codes.state_label(user.tax_code_status)
    return render(
        request,
        "account_tax_code.html",
        user,
        {
            "state": user.tax_code_status,
            "state_label": i18n.pick(vi, en),
            "decided_by": tax_codes.decided_by_name(rt, user),
            "errors": errors or {},
            "flash": i18n._("Đã sửa mã số thuế; Sở sẽ đối chiếu khi tiếp nhận hồ sơ tiếp theo.")
            if request.query_params.get("done")
            else None,
            "flash_kind": "success",
        },
        status_code=status_code,
    )


@router.get("/account/tax-code")
def account_tax_code(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    """The business's tax code and where its verification stands."""
    return _account_page(request, rt, user)


@router.post("/account/tax-code", dependencies=[Csrf])
def correct_tax_code(
    request: Request, rt: RuntimeDep, user: PageUser, tax_code: Annotated[str, Form(max_length=14)] = ""
) -> Response:
    try:
        tax_codes.correct_tax_code(rt, user, tax_code)
    except DomainError as exc:
        errors = {f.field: i18n.pick(f.message, f.message_en) for f in exc.fields}
        errors.setdefault("tax_code", i18n.pick(exc.message, exc.message_en))
        return _account_page(request, rt, user, errors, 422 if exc.code == "validation_error" else 409)
    return RedirectResponse("/account/tax-code?done=1", status_code=303)
