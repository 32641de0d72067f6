"""Injected dependencies: the runtime, the current user (from the bearer token), role checks."""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer

from api.errors import NotAuthenticated
from api.security import decode_access_token
from workflows.db import reading
from workflows.errors import Forbidden
from workflows.models import User
from workflows.runtime import Runtime

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# Row ids in paths: a number beyond what the database stores is simply not found (422), not a crash.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# An award round's year.
RoundYear = Annotated[int, Path(ge=2000, le=2999)]


def user_from_token(rt: Runtime, token: str | None) -> User:
    if not token:
        raise NotAuthenticated("Bạn cần đăng nhập.", "Authentication required.", "not_authenticated")
    try:
        claims = decode_access_token(rt.settings, token)
        user_id = int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated(
            "Phiên đăng nhập đã hết hạn.", "The access token has expired.", "token_expired"
        ) from exc
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise NotAuthenticated(
            "Mã truy cập không hợp lệ.", "The access token is not valid.", "invalid_token"
        ) from exc
    with reading(rt.engine) as session:
        user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated(
            "Tài khoản không còn hiệu lực.", "The account is not active.", "inactive_account"
        )
    return user


def current_user(rt: RuntimeDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    return user_from_token(rt, token)


CurrentUser = Annotated[User, Depends(current_user)]


def require_officer(user: CurrentUser) -> User:
    if not user.is_officer:
        raise Forbidden("Chức năng dành cho cán bộ.", "Officers only.", "forbidden")
    return user


Officer = Annotated[User, Depends(require_officer)]
