"""Login, logout, business registration, password change, the account's sessions."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.client_address import client_address
from api.deps import RuntimeDep, current_session_id
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser, PageUser, end_session, start_session
from api.web.templating import render
from workflows import accounts, login_throttle, permissions, registration, sessions
from workflows.errors import DomainError, NotFound, RateLimited

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)


def _safe_next(next_url: str | None, fallback: str) -> str:
    """Only same-site paths: never redirect a visitor to another site after login."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return fallback


def _home_of(user) -> str:  # type: ignore[no-untyped-def]
    if permissions.may(user, permissions.WORK_PAGES):
        return "/admin/users" if user.roles == ["admin"] else "/work/inbox"
    return "/my/dossiers"


def field_errors(error: DomainError) -> dict[str, str]:
    return {f.field: i18n.pick(f.message, f.message_en) for f in error.fields}


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str = "", ended: str = "") -> Response:
    context: dict[str, object] = {"next": next, "login": ""}
    if ended:
        context.update(flash=i18n._("Các phiên đăng nhập đã kết thúc. Hãy đăng nhập lại."), flash_kind="info")
    return render(request, "login.html", user, context)


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    rt: RuntimeDep,
    login: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    address = client_address(request, rt.settings)
    try:
        login_throttle.admit(rt, login, address)
        user = accounts.authenticate(rt, login, password)
        login_throttle.record(rt, login, address, user)
    except RateLimited as refused:
        response = render(
            request,
            "login.html",
            None,
            {"next": next, "login": login, "error": i18n.pick(refused.message, refused.message_en)},
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    except DomainError as exc:  # the password is right, the e-mail address not yet verified
        return render(
            request,
            "login.html",
            None,
            {
                "next": next,
                "login": login,
                "error": i18n.pick(exc.message, exc.message_en),
                "unverified": exc.code == "email_unverified",
            },
            status_code=403,
        )
    if user is None:
        return render(
            request,
            "login.html",
            None,
            {
                "next": next,
                "login": login,
                "error": i18n._("Sai tên đăng nhập hoặc mật khẩu."),
            },
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next, _home_of(user)), status_code=303)
    start_session(response, request, rt, user)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    """Log out: this browser's session ends (a copy of its cookie stops working too); the
    account's other sessions are ended from the account's sessions page."""
    session_id = current_session_id(request)
    if user is not None and session_id:
        with suppress(NotFound):  # ended meanwhile (another tab logged out first)
            sessions.end(rt, user, session_id, sessions.LOGOUT)
    response = RedirectResponse("/", status_code=303)
    end_session(response)
    return response


REGISTER_FIELDS = ("organisation_name", "tax_code", "full_name", "email", "phone", "address")


@router.get("/register")
def register_form(request: Request, user: MaybeUser) -> Response:
    return render(request, "register.html", user, {"values": {}, "errors": {}})


@router.post("/register", dependencies=[Csrf])
async def register(request: Request, rt: RuntimeDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, ""))[:500] for name in REGISTER_FIELDS}
    password = str(form.get("password", ""))[:200]
    if password != str(form.get("password_confirm", "")):
        return render(
            request,
            "register.html",
            None,
            {
                "values": values,
                "errors": {"password_confirm": i18n._("Hai mật khẩu không trùng nhau.")},
            },
            status_code=422,
        )
    try:
        registration.register(rt, None, password=password, **values)
    except DomainError as exc:
        return render(
            request,
            "register.html",
            None,
            {
                "values": values,
                "errors": field_errors(exc),
                "error": i18n.pick(exc.message, exc.message_en),
            },
            status_code=422 if exc.code == "validation_error" else 409,
        )
    # The same page whether or not the address had an account: nothing tells which.
    return render(
        request,
        "account_notice.html",
        None,
        {
            "heading": i18n._("Kiểm tra hộp thư của bạn"),
            "message": i18n._(
                "Đã nhận đăng ký. Vui lòng mở liên kết xác nhận trong thư vừa gửi tới %(email)s để "
                "hoàn tất đăng ký; liên kết dùng được trong %(hours)s giờ.",
                email=values["email"].strip(),
                hours=rt.settings.email_verification_hours,
            ),
            "resend": True,
            "email": values["email"].strip(),
        },
    )


@router.get("/account/password")
def password_form(request: Request, user: PageUser) -> Response:
    return render(request, "password.html", user, {"errors": {}})


@router.post("/account/password", dependencies=[Csrf])
def change_password(
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
    current_password: Annotated[str, Form(max_length=200)],
    new_password: Annotated[str, Form(max_length=200)],
    new_password_confirm: Annotated[str, Form(max_length=200)],
) -> Response:
    if new_password != new_password_confirm:
        return render(
            request,
            "password.html",
            user,
            {"errors": {"new_password_confirm": i18n._("Hai mật khẩu không trùng nhau.")}},
            status_code=422,
        )
    try:
        changed = accounts.change_password(rt, user, current_password, new_password)
    except DomainError as exc:
        return render(request, "password.html", user, {"errors": field_errors(exc)}, status_code=422)
    response = render(
        request,
        "password.html",
        changed,
        {
            "errors": {},
            "flash": i18n._("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc."),
            "flash_kind": "success",
        },
    )
    start_session(response, request, rt, changed)  # this browser stays signed in; the others do not
    return response


@router.get("/account/sessions")
def sessions_page(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    return _sessions_page(request, rt, user)


def _sessions_page(request: Request, rt: RuntimeDep, user, **context) -> Response:  # type: ignore[no-untyped-def]
    values = {"sessions": sessions.active(rt, user), "current": current_session_id(request)}
    values.update(context)
    return render(request, "account_sessions.html", user, values)


@router.post("/account/sessions/end-others", dependencies=[Csrf])
def end_other_sessions(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    ended = sessions.end_others(rt, user, current_session_id(request))
    return _sessions_page(
        request,
        rt,
        user,
        flash=i18n._("Đã kết thúc %(n)s phiên đăng nhập khác.", n=ended),
        flash_kind="success",
    )


@router.post("/account/sessions/end-all", dependencies=[Csrf])
def end_all_sessions(rt: RuntimeDep, user: PageUser) -> Response:
    """Every session ends, this browser's too: back to the login page."""
    sessions.end_all(rt, user)
    response = RedirectResponse("/login?ended=1", status_code=303)
    end_session(response)
    return response


@router.post("/account/sessions/{session_id}/end", dependencies=[Csrf])
def end_one_session(
    session_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    rt: RuntimeDep,
    user: PageUser,
) -> Response:
    sessions.end(rt, user, session_id)
    if session_id == current_session_id(request):
        response = RedirectResponse("/login?ended=1", status_code=303)
        end_session(response)
        return response
    return _sessions_page(
        request, rt, user, flash=i18n._("Đã kết thúc phiên đăng nhập."), flash_kind="success"
    )
