"""Registration, e-mail verification, login (OAuth2 password flow → JWT), logout, password reset,
the current account.

Registration, the verification e-mail's resending and the password reset answer the same whatever
the address: nothing tells whether it has an account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from api.account_schemas import (
    Accepted,
    ChangePassword,
    EmailIn,
    RegisterBusiness,
    ResetPassword,
    TokenIn,
    TokenOut,
    UserOut,
)
from api.client_address import client_address
from api.deps import CurrentUser, RuntimeDep, current_session_id
from api.errors import ERROR_RESPONSES, TOO_MANY_RESPONSE, NotAuthenticated
from api.security import open_session
from workflows import accounts, login_throttle, password_reset, registration, sessions

router = APIRouter(prefix="/api", tags=["auth"], responses=ERROR_RESPONSES)

CHECK_YOUR_MAIL = Accepted(
    message="Đã nhận đăng ký. Vui lòng mở liên kết xác nhận trong thư vừa gửi tới địa chỉ thư điện tử "
    "đã khai để hoàn tất. Mã số thuế sẽ được Sở đối chiếu với đăng ký doanh nghiệp khi tiếp nhận hồ sơ "
    "đầu tiên.",
    message_en="Registration received. Open the verification link in the message just sent to the "
    "address you gave to complete it. The Department checks the tax code against the business "
    "registration when it receives your first dossier.",
)
RESET_SENT = Accepted(
    message="Nếu địa chỉ này có tài khoản, một thư có liên kết đặt lại mật khẩu vừa được gửi tới đó.",
    message_en="If this address has an account, a message with a password reset link was just sent to it.",
)
VERIFICATION_SENT = Accepted(
    message="Nếu địa chỉ này đang chờ xác nhận, một thư có liên kết xác nhận mới vừa được gửi tới đó.",
    message_en="If this address is waiting to be verified, a message with a new verification link was "
    "just sent to it.",
)


@router.post("/auth/register", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def register(body: RegisterBusiness, rt: RuntimeDep) -> Accepted:
    """Đăng ký tài khoản doanh nghiệp bằng mã số thuế; tài khoản dùng được sau khi xác nhận địa
    chỉ thư điện tử / Register a business account by tax code. The account works once its e-mail
    address is verified (the link e-mailed to it). The answer is the same whether or not the
    address already has an account (its owner is told by e-mail)."""
    registration.register(rt, None, **body.model_dump())
    return CHECK_YOUR_MAIL


@router.post("/auth/verify-email", response_model=Accepted)
def verify_email(body: TokenIn, rt: RuntimeDep) -> Accepted:
    """Xác nhận địa chỉ thư điện tử bằng mã trong liên kết / Verify the e-mail address with the
    token of the link e-mailed at registration (single use)."""
    registration.verify_email(rt, None, body.token)
    return Accepted(
        message="Đã xác nhận địa chỉ thư điện tử. Bạn có thể đăng nhập.",
        message_en="The e-mail address is verified. You can log in.",
    )


@router.post("/auth/verify-email/resend", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def resend_verification(body: EmailIn, request: Request, rt: RuntimeDep) -> Accepted:
    """Gửi lại thư xác nhận / Send the verification link again (the older links stop working).
    Tối đa 3 lần một giờ cho một địa chỉ thư, 10 từ một máy: quá thì 429 / At most 3 an hour for
    one address, 10 from one client: past that, 429 with Retry-After."""
    registration.resend_verification(rt, None, body.email, client_address(request, rt.settings))
    return VERIFICATION_SENT


@router.post("/auth/token", response_model=TokenOut, responses=TOO_MANY_RESPONSE)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, rt: RuntimeDep
) -> TokenOut:
    """Đăng nhập bằng thư điện tử (hoặc mã số thuế) và mật khẩu / Log in with e-mail (or tax code).
    Each login opens a session (see ``/api/me/sessions``). 403 ``email_unverified`` while the
    account's e-mail address is not verified. Sau nhiều lần sai: 429, chờ theo Retry-After / After
    repeated failures: 429, wait Retry-After."""
    address = client_address(request, rt.settings)
    login_throttle.admit(rt, form.username, address)
    user = accounts.authenticate(rt, form.username, form.password)
    login_throttle.record(rt, form.username, address, user)
    if user is None:
        raise NotAuthenticated(
            "Sai tên đăng nhập hoặc mật khẩu.", "Wrong login or password.", "invalid_credentials"
        )
    access_token, expires_in = open_session(rt, request, user)
    return TokenOut(access_token=access_token, expires_in=expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, request: Request, rt: RuntimeDep) -> None:
    """Đăng xuất: kết thúc phiên của mã truy cập này / Log out: end the session of this token (it
    is refused from now on). The account's other sessions go on: end them with
    ``POST /api/me/sessions/end-all`` or one by one."""
    session_id = current_session_id(request)
    if session_id:
        sessions.end(rt, user, session_id, sessions.LOGOUT)


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def request_password_reset(body: EmailIn, request: Request, rt: RuntimeDep) -> Accepted:
    """Quên mật khẩu: gửi liên kết đặt lại qua thư / Forgotten password: e-mail a reset link
    (single use, valid ``TDCFLOW_PASSWORD_RESET_MINUTES``). The answer is the same whether or not
    the address has an account. Tối đa 3 lần một giờ cho một địa chỉ thư, 10 từ một máy: quá thì
    429 / At most 3 an hour for one address, 10 from one client: past that, 429 with Retry-After."""
    password_reset.request_reset(rt, None, body.email, client_address(request, rt.settings))
    return RESET_SENT


@router.post("/auth/password-reset/confirm", response_model=Accepted)
def reset_password(body: ResetPassword, rt: RuntimeDep) -> Accepted:
    """Đặt mật khẩu mới bằng mã trong liên kết / Set a new password with the link's token: every
    session of the account ends, and its owner is told by e-mail."""
    password_reset.reset_password(rt, None, body.token, body.new_password)
    return Accepted(
        message="Đã đặt mật khẩu mới. Mọi phiên đăng nhập trước đó đã kết thúc; hãy đăng nhập lại.",
        message_en="The new password is set. Every earlier session has ended; log in again.",
    )


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: ChangePassword, user: CurrentUser, rt: RuntimeDep) -> None:
    """Đổi mật khẩu; mọi phiên cũ kết thúc / Change the password; every session of the account
    ends, this token's too (log in again for a new one)."""
    accounts.change_password(rt, user, body.current_password, body.new_password)
