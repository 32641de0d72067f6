"""CSRF protection for every page form post: a double-submit token.

A random token lives in a cookie (``tdcflow_csrf``, SameSite=Strict) and in a hidden field of
every form; a post whose field does not match the cookie is refused. A cross-site page can make
the browser send the cookie but can neither read it nor guess it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from workflows.errors import Forbidden

CSRF_COOKIE = "tdcflow_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The request's token: the cookie's, or a new one the middleware will set."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


async def verify_csrf(request: Request) -> None:
    """Dependency for page posts."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng tải lại trang và gửi lại.",
            "The form's session expired. Reload the page and send it again.",
            "csrf_failed",
        )
