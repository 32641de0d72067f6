"""Pages that work without logging in, through links e-mailed to the account's address: the
forgotten password ("Quên mật khẩu") and its reset link, the e-mail verification link, and
sending that link again. Asking answers the same whatever the address.

Opening a link shows a form; only posting it uses the link (single use): a mail scanner that
fetches every link it sees must not spend it, nor verify an address on its owner's behalf.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from api.client_address import client_address
from api.deps import RuntimeDep
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser
from api.web.templating import render
from workflows import password_reset, registration
from workflows.errors import DomainError

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
# A page whose address holds a secret is kept by nobody's cache.
NO_STORE = {"Cache-Control": "no-store"}
# A business's first login, after verifying its address: to its dossiers, welcomed.
WELCOME_LOGIN = "/login?next=" + quote("/my/dossiers?welcome=1", safe="/")


def _notice(request: Request, user, heading: str, message: str, **context) -> Response:  # type: ignore[no-untyped-def]
    response = render(
        request, "account_notice.html", user, {"heading": heading, "message": message, **context}
    )
    response.headers.update(NO_STORE)
    return response


@router.get("/forgot-password")
def forgot_form(request: Request, user: MaybeUser) -> Response:
    return render(request, "forgot_password.html", user, {"email": ""})


@router.post("/forgot-password", dependencies=[Csrf])
def forgot(
    request: Request, rt: RuntimeDep, user: MaybeUser, email: Annotated[str, Form(max_length=254)]
) -> Response:
    password_reset.request_reset(rt, None, email, client_address(request, rt.settings))
    return _notice(
        request,
        user,
        i18n._("Kiểm tra hộp thư của bạn"),
        i18n._(
            "Nếu địa chỉ %(email)s có tài khoản, một thư có liên kết đặt lại mật khẩu vừa được gửi tới "
            "đó; liên kết dùng được một lần, trong %(minutes)s phút.",
            email=email.strip(),
            minutes=rt.settings.password_reset_minutes,
        ),
    )


@router.get("/reset-password")
def reset_form(request: Request, user: MaybeUser, token: str = "") -> Response:
    response = render(request, "reset_password.html", user, {"token": token[:128], "errors": {}})
    response.headers.update(NO_STORE)
    return response


@router.post("/reset-password", dependencies=[Csrf])
def reset(
    request: Request,
    rt: RuntimeDep,
    user: MaybeUser,
    token: Annotated[str, Form(max_length=128)],
    new_password: Annotated[str, Form(max_length=200)],
    new_password_confirm: Annotated[str, Form(max_length=200)],
) -> Response:
    def again(errors: dict[str, str], error: str | None = None) -> Response:
        page = render(
            request,
            "reset_password.html",
            user,
            {"token": token, "errors": errors, "error": error},
            status_code=422,
        )
        page.headers.update(NO_STORE)
        return page

    if new_password != new_password_confirm:
        return again({"new_password_confirm": i18n._("Hai mật khẩu không trùng nhau.")})
    try:
        password_reset.reset_password(rt, None, token, new_password)
    except DomainError as exc:
        return again(field_errors(exc), i18n.pick(exc.message, exc.message_en))
    return _notice(
        request,
        None,
        i18n._("Đã đặt mật khẩu mới"),
        i18n._("Mật khẩu mới đã được đặt. Mọi phiên đăng nhập trước đó đã kết thúc; hãy đăng nhập lại."),
        login_link=True,
    )


@router.get("/verify-email")
def verify_form(request: Request, user: MaybeUser, token: str = "") -> Response:
    response = render(request, "verify_email.html", user, {"token": token[:128]})
    response.headers.update(NO_STORE)
    return response


@router.post("/verify-email", dependencies=[Csrf])
def verify(
    request: Request, rt: RuntimeDep, user: MaybeUser, token: Annotated[str, Form(max_length=128)]
) -> Response:
    try:
        registration.verify_email(rt, None, token)
    except DomainError as exc:
        response = render(
            request,
            "account_notice.html",
            user,
            {
                "heading": i18n._("Chưa xác nhận được địa chỉ thư điện tử"),
                "error": i18n.pick(exc.message, exc.message_en),
                "resend": exc.code != "already_verified",
                "login_link": exc.code == "already_verified",
            },
            status_code=409 if exc.code == "already_verified" else 422,
        )
        response.headers.update(NO_STORE)
        return response
    return _notice(
        request,
        user,
        i18n._("Đã xác nhận địa chỉ thư điện tử"),
        i18n._("Tài khoản đã sẵn sàng. Bạn có thể đăng nhập."),
        login_link=True,
        login_href=WELCOME_LOGIN,
    )


@router.get("/verify-email/resend")
def resend_form(request: Request, user: MaybeUser, email: str = "") -> Response:
    return render(
        request,
        "account_notice.html",
        user,
        {"heading": i18n._("Gửi lại thư xác nhận"), "resend": True, "email": email[:254]},
    )


@router.post("/verify-email/resend", dependencies=[Csrf])
def resend(
    request: Request, rt: RuntimeDep, user: MaybeUser, email: Annotated[str, Form(max_length=254)]
) -> Response:
    registration.resend_verification(rt, None, email, client_address(request, rt.settings))
    return _notice(
        request,
        user,
        i18n._("Kiểm tra hộp thư của bạn"),
        i18n._(
            "Nếu địa chỉ %(email)s đang chờ xác nhận, một thư có liên kết xác nhận mới vừa được gửi tới "
            "đó; các liên kết cũ không còn dùng được.",
            email=email.strip(),
        ),
    )
