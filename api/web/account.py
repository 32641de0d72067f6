"""Login, logout, business registration, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.client_address import client_address
from api.deps import RuntimeDep
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser, PageUser, end_session, start_session
from api.web.templating import render
from workflows import accounts, login_throttle, permissions
from workflows.errors import DomainError, RateLimited

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
def login_form(request: Request, user: MaybeUser, next: str = "") -> Response:
    return render(request, "login.html", user, {"next": next, "login": ""})


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
def logout(rt: RuntimeDep, user: MaybeUser) -> Response:
    """Log out: the account's sessions end everywhere (a copied cookie stops working too)."""
    if user is not None:
        accounts.end_sessions(rt, user)
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
        user = accounts.register_business(rt, None, password=password, **values)
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
    response = RedirectResponse("/my/dossiers?welcome=1", status_code=303)
    start_session(response, request, rt, user)
    return response


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
