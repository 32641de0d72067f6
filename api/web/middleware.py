"""Per-request page context: the language (cookie or ?lang=) and the CSRF cookie."""

from __future__ import annotations

from fastapi import Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from api.web.csrf import CSRF_COOKIE
from api.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language
from api.web.session import is_secure

LANG_COOKIE = "lang"


class PageContext(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        asked = request.query_params.get("lang")
        lang = asked if asked in LANGUAGES else request.cookies.get(LANG_COOKIE)
        if lang not in LANGUAGES:
            lang = DEFAULT_LANGUAGE
        token = current_language.set(lang)
        try:
            response = await call_next(request)
        finally:
            current_language.reset(token)
        if asked in LANGUAGES:
            response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax", path="/")
        new_csrf = getattr(request.state, "new_csrf_token", None)
        if new_csrf:
            response.set_cookie(
                CSRF_COOKIE, new_csrf, httponly=True, samesite="strict", secure=is_secure(request), path="/"
            )
        response.headers.setdefault("Content-Language", lang)
        return response
