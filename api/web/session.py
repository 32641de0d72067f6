"""The page session: the access token in an HttpOnly, SameSite=Lax cookie (Secure under HTTPS)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import PERMISSION_ATTRIBUTE, RuntimeDep, authenticated
from api.errors import NotAuthenticated
from api.security import open_session
from workflows import permissions
from workflows.models import User
from workflows.runtime import Runtime

SESSION_COOKIE = "tdcflow_session"


class LoginRequired(Exception):
    """A page needs a logged-in user: the handler redirects to /login?next=…"""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def start_session(response: Response, request: Request, rt: Runtime, user: User) -> None:
    """Open a session for ``user`` (just authenticated) and give this browser its cookie."""
    token, lifetime = open_session(rt, request, user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def optional_page_user(request: Request, rt: RuntimeDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user, request.state.session_id = authenticated(rt, token)
    except NotAuthenticated:
        return None
    return user


def page_user(request: Request, user: Annotated[User | None, Depends(optional_page_user)]) -> User:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


@cache
def PagePermitted(action: permissions.Action | str) -> Callable[..., User]:
    """The dependency of a page: the session's user (to the login page without one), who must be
    allowed ``action`` by the policy (403 ``forbidden`` otherwise)."""
    name = action.name if isinstance(action, permissions.Action) else action

    def permitted(user: Annotated[User, Depends(page_user)]) -> User:
        permissions.require(user, action)
        return user

    permitted.__name__ = f"page_permitted_{name.replace('.', '_').replace('-', '_')}"
    setattr(permitted, PERMISSION_ATTRIBUTE, name)
    return permitted


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url, safe='/')}", status_code=303)


MaybeUser = Annotated[User | None, Depends(optional_page_user)]
PageUser = Annotated[User, Depends(PagePermitted(permissions.SIGNED_IN_ACTION))]
OfficerUser = Annotated[User, Depends(PagePermitted(permissions.WORK_PAGES))]
# The department's staff: the register, the reports, the at-risk and violation lists span every dossier.
StaffUser = Annotated[User, Depends(PagePermitted(permissions.DOSSIER_SEE_ALL))]
AdminUser = Annotated[User, Depends(PagePermitted(permissions.ADMIN_PAGES))]
