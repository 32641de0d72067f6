"""Injected dependencies: the runtime, the current user (from the bearer token), and the
permissions policy's dependency (:func:`Permitted`) every route that needs a signed-in user uses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Annotated

import jwt
from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import DBAPIError

from api.errors import NotAuthenticated
from api.security import decode_access_token
from forms.limits import LARGEST_INTEGER
from workflows import calendar_entries, permissions, sessions
from workflows.db import reading
from workflows.models import User
from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.calendar")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    # Another process may have changed the working calendar: one primary-key read tells. A
    # database that cannot answer is the route's to report (the health check's 503), not this;
    # a command checks again inside its transaction anyway.
    try:
        calendar_entries.refresh(runtime)
    except DBAPIError:
        log.warning("Could not check the working calendar's revision", exc_info=True)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# Row ids in paths: a number beyond what the database stores is simply not found (422), not a crash.
RowId = Annotated[int, Path(ge=1, le=LARGEST_INTEGER)]
# An award round's year.
RoundYear = Annotated[int, Path(ge=2000, le=2999)]


def session_ended() -> NotAuthenticated:
    return NotAuthenticated(
        "Phiên đăng nhập đã kết thúc (đăng xuất, đổi mật khẩu hoặc khóa tài khoản). Hãy đăng nhập lại.",
        "This session was ended (logout, password change or lock). Log in again.",
        "session_ended",
    )


def authenticated(rt: Runtime, token: str | None) -> tuple[User, str]:
    """The user of an access token or session cookie, and the id of its session: 401 without a
    valid token, for an inactive account, or once the session (or every session of the account)
    was ended."""
    if not token:
        raise NotAuthenticated("Bạn cần đăng nhập.", "Authentication required.", "not_authenticated")
    try:
        claims = decode_access_token(rt.settings, token)
        user_id = int(claims["sub"])
        if not 1 <= user_id <= LARGEST_INTEGER:  # no row has it, and SQLite cannot even look
            raise ValueError(user_id)
        session_id = str(claims.get("sid") or "")
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
        is_open = user is not None and sessions.is_open(session, session_id, user_id)
        seen = sessions.last_seen(session, session_id) if is_open else None
    if user is None or not user.is_active:
        raise NotAuthenticated(
            "Tài khoản không còn hiệu lực.", "The account is not active.", "inactive_account"
        )
    if not is_open or claims.get("se", 0) != user.session_epoch:
        raise session_ended()
    if seen is not None:
        sessions.touch(rt, session_id, seen)
    return user, session_id


def user_from_token(rt: Runtime, token: str | None) -> User:
    return authenticated(rt, token)[0]


def current_user(
    request: Request, rt: RuntimeDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    user, request.state.session_id = authenticated(rt, token)
    return user


def current_session_id(request: Request) -> str | None:
    """The session of the request's signed-in user (after the user's dependency ran)."""
    return getattr(request.state, "session_id", None)


CurrentUser = Annotated[User, Depends(current_user)]


# The attribute by which a dependency says which action of the policy it asks (the route-walk
# test reads it, and so does anyone who wants to know what a route requires).
PERMISSION_ATTRIBUTE = "permission"


@cache
def Permitted(action: permissions.Action | str) -> Callable[..., User]:
    """The dependency of a JSON route: the user of the bearer token (401 without one), who must be
    allowed ``action`` by the policy (403 ``forbidden`` otherwise). One function per action, so a
    route asking twice is asked once."""
    name = action.name if isinstance(action, permissions.Action) else action

    def permitted(user: Annotated[User, Depends(current_user)]) -> User:
        permissions.require(user, action)
        return user

    permitted.__name__ = f"permitted_{name.replace('.', '_').replace('-', '_')}"
    setattr(permitted, PERMISSION_ATTRIBUTE, name)
    return permitted


def asks_policy(call: object) -> str | None:
    """The action a dependency asks the policy, or None when it is no policy dependency."""
    return getattr(call, PERMISSION_ATTRIBUTE, None)


# Any signed-in user: what the route may do is then the commands' and queries' to decide.
CurrentUser = Annotated[User, Depends(Permitted(permissions.SIGNED_IN_ACTION))]
Officer = Annotated[User, Depends(Permitted(permissions.WORK_API))]
# The department's staff (the reports span every dossier).
Staff = Annotated[User, Depends(Permitted(permissions.DOSSIER_SEE_ALL))]
