"""How the app answers an error: the JSON error shape for the API, the HTML error page (or the
login page) for a page, and never a 5xx for a lost race (api.errors holds the shapes). A database
that cannot take the request (unreachable, restarting, or held by another writer past the busy
timeout) is a 503 with ``Retry-After``, not a 500: the program did nothing wrong."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import (
    HTTP_MESSAGES,
    UNREADABLE_BODY,
    UNREADABLE_BODY_DETAIL,
    NotAuthenticated,
    error_response,
    field_path,
    status_of,
    vietnamese_message,
)
from api.web.errors import is_page_request, page_error
from api.web.session import LoginRequired, login_redirect
from workflows.db import concurrent_change, database_unavailable, lost_race
from workflows.errors import DomainError, FieldProblem, InvalidInput, RateLimited

log = logging.getLogger("tdcflow.api")
RETRY_AFTER_UNAVAILABLE = 30  # seconds: a busy SQLite file or a database restarting


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc.next_url)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if is_page_request(request):
            page = page_error(request, status_of(exc), exc)
            if isinstance(exc, RateLimited):
                page.headers["Retry-After"] = str(exc.retry_after)
            return page
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(status_of(exc), exc, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def request_validation(request: Request, exc: RequestValidationError) -> Response:
        if is_page_request(request):
            # A page address with a malformed part (/tbt/wto/abc, a huge id) names nothing: 404;
            # a malformed query (?page=abc) is a bad request.
            in_path = any(tuple(err.get("loc", ()))[:1] == ("path",) for err in exc.errors())
            return page_error(
                request,
                404 if in_path else 400,
                DomainError(
                    "Không tìm thấy trang này." if in_path else "Địa chỉ trang chưa hợp lệ.",
                    "This page does not exist." if in_path else "The page address is not valid.",
                    "not_found" if in_path else "bad_request",
                ),
            )
        fields = [
            FieldProblem(
                field_path(err.get("loc", ())),
                vietnamese_message(err),
                str(err.get("msg", "")),
                str(err.get("type")),
            )
            for err in exc.errors()
        ]
        return error_response(
            422,
            InvalidInput(
                "Dữ liệu gửi lên chưa hợp lệ.", "The request is not valid.", "validation_error", fields
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        vi, en, code = HTTP_MESSAGES.get(exc.status_code, ("Lỗi.", str(exc.detail), "error"))
        if exc.status_code == 400 and exc.detail == UNREADABLE_BODY_DETAIL:
            vi, en, code = UNREADABLE_BODY
        if isinstance(exc.detail, dict):
            vi, en, code = (
                exc.detail.get("message", vi),
                exc.detail.get("message_en", en),
                exc.detail.get("code", code),
            )
        if is_page_request(request):
            return page_error(request, exc.status_code, DomainError(vi, en, code))
        return error_response(
            exc.status_code, DomainError(vi, en, code), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if lost_race(exc):
            # Commands turn these into a Conflict themselves (workflows.db.transaction); this is
            # for database work outside a command's transaction: still a 409, never a 500.
            log.error("A request lost a race with a concurrent one", exc_info=exc)
            conflict = concurrent_change()
            return (
                page_error(request, 409, conflict)
                if is_page_request(request)
                else error_response(409, conflict)
            )
        if database_unavailable(exc):
            # Not the request's fault and not a bug of the program: the database cannot take it now.
            log.error("The database could not take a request", exc_info=exc)
            busy = DomainError(
                "Hệ thống đang bận hoặc tạm thời không kết nối được cơ sở dữ liệu, thao tác chưa thực "
                "hiện được. Vui lòng thử lại sau ít phút.",
                "The system is busy or cannot reach its database right now; the action was not "
                "carried out. Please try again in a few minutes.",
                "database_unavailable",
            )
            headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
            if is_page_request(request):
                try:
                    page = page_error(request, 503, busy)
                    page.headers.update(headers)
                    return page
                except Exception:  # the page needs no database, but must not hide the first error
                    log.exception("The error page failed too")
            return error_response(503, busy, headers=headers)
        log.exception("Unhandled error", exc_info=exc)
        error = DomainError(
            "Đã xảy ra lỗi hệ thống; không có thay đổi nào được lưu.",
            "An internal error occurred; nothing was saved.",
            "internal_error",
        )
        if is_page_request(request):
            try:
                return page_error(request, 500, error)
            except Exception:  # the page itself failing must not hide the first error
                log.exception("The error page failed too")
        return error_response(500, error)
