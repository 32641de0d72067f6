"""CSRF protection for every page form post: a double-submit token.

A random token lives in a cookie (``tdcflow_csrf``, SameSite=Strict) and in a hidden field of
every form; a post whose field does not match the cookie is refused. A cross-site page can make
the browser send the cookie but can neither read it nor guess it.

Every page post passes here, so the text of its fields is checked here too (forms.text): a
url-encoded form was checked and normalised already (api.text_guard), a multipart one was not.
The schema forms' pages check only the token: their validator reports bad text at its field.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from forms.text import text_problem
from workflows.errors import FieldProblem, Forbidden, InvalidInput
from workflows.tokens import same_token

CSRF_COOKIE = "tdcflow_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The request's token: the cookie's, or a new one the middleware will set."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


async def verify_csrf_token(request: Request) -> None:
    """Dependency for the posts of a schema form (whose validator checks the text)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not isinstance(sent, str) or not same_token(expected, sent):
        raise Forbidden(
            "Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng tải lại trang và gửi lại.",
            "The form's session expired. Reload the page and send it again.",
            "csrf_failed",
        )


async def verify_csrf(request: Request) -> None:
    """Dependency for page posts: the token, then the text of every field."""
    await verify_csrf_token(request)
    form = await request.form()
    problems = []
    for name, value in form.multi_items():
        if not isinstance(value, str) or "password" in name:
            continue
        found = text_problem(value, multiline=True)
        if found is not None:
            problems.append(FieldProblem(name, found.message, found.message_en, found.code))
    if problems:
        names = ", ".join(dict.fromkeys(p.field for p in problems))
        raise InvalidInput(
            f"Dữ liệu gửi lên có ký tự không được phép ở: {names}.",
            f"The form has characters that are not allowed in: {names}.",
            "validation_error",
            problems,
        )
