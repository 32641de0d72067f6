"""Errors on pages are pages: a login redirect, or an error page in the visitor's language."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from api.web import i18n
from api.web.session import login_redirect, optional_page_user
from api.web.templating import render
from workflows.errors import DomainError

API_PREFIXES = ("/api/", "/healthz", "/docs", "/openapi.json")


def is_page_request(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def page_error(request: Request, status: int, error: DomainError) -> Response:
    if status == 401:
        return login_redirect(request.url.path)
    try:
        user = optional_page_user(request, request.app.state.runtime)
    except Exception:
        user = None
    message = i18n.pick(error.message, error.message_en)
    return render(
        request,
        "error.html",
        user,
        {"status": status, "message": message, "error": error},
        status_code=status,
    )
