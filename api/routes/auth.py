"""Registration, login (OAuth2 password flow → JWT), the current account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from api.client_address import client_address
from api.deps import CurrentUser, RuntimeDep
from api.errors import ERROR_RESPONSES, TOO_MANY_RESPONSE, NotAuthenticated
from api.schemas import ChangePassword, RegisterBusiness, TokenOut, UserOut
from api.security import create_access_token
from workflows import accounts, login_throttle

router = APIRouter(prefix="/api", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: RegisterBusiness, rt: RuntimeDep) -> UserOut:
    """Đăng ký tài khoản doanh nghiệp bằng mã số thuế / Register a business account by tax code."""
    user = accounts.register_business(rt, None, **body.model_dump())
    return UserOut.of(user)


@router.post("/auth/token", response_model=TokenOut, responses=TOO_MANY_RESPONSE)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], rt: RuntimeDep, request: Request
) -> TokenOut:
    """Đăng nhập bằng thư điện tử (hoặc mã số thuế) và mật khẩu / Log in with e-mail (or tax code).
    Sau nhiều lần sai: 429, chờ theo Retry-After / After repeated failures: 429, wait Retry-After."""
    address = client_address(request, rt.settings)
    login_throttle.admit(rt, form.username, address)
    user = accounts.authenticate(rt, form.username, form.password)
    login_throttle.record(rt, form.username, address, user)
    if user is None:
        raise NotAuthenticated(
            "Sai tên đăng nhập hoặc mật khẩu.", "Wrong login or password.", "invalid_credentials"
        )
    access_token, expires_in = create_access_token(rt.settings, user.id, user.roles, user.session_epoch)
    return TokenOut(access_token=access_token, expires_in=expires_in)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: ChangePassword, user: CurrentUser, rt: RuntimeDep) -> None:
    """Đổi mật khẩu; mọi mã truy cập cũ hết hiệu lực / Change the password; every earlier token
    stops working (log in again for a new one)."""
    accounts.change_password(rt, user, body.current_password, body.new_password)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, rt: RuntimeDep) -> None:
    """Đăng xuất mọi phiên / End every session of the account: every token issued before stops
    working, on every device."""
    accounts.end_sessions(rt, user)
