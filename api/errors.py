"""One error shape for every failure:

``{"error": {"code", "message" (Vietnamese), "message_en", "fields": [{"field", "message", "message_en", "code"}]}}``
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from workflows.db import concurrent_change, lost_race
from workflows.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    UploadRejected,
)

log = logging.getLogger("tdcflow.api")


class NotAuthenticated(DomainError):
    """No valid credentials: HTTP 401 with a Bearer challenge."""


class FieldErrorBody(BaseModel):
    field: str
    message: str
    message_en: str
    code: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    message_en: str
    fields: list[FieldErrorBody] = []


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES = {
    401: {"model": ErrorBody, "description": "Chưa đăng nhập / Not authenticated"},
    403: {"model": ErrorBody, "description": "Không có quyền / Forbidden"},
    404: {"model": ErrorBody, "description": "Không tìm thấy / Not found"},
    409: {"model": ErrorBody, "description": "Xung đột / Conflict"},
    422: {"model": ErrorBody, "description": "Dữ liệu không hợp lệ / Invalid input"},
}

_HTTP_MESSAGES = {
    400: ("Yêu cầu không hợp lệ.", "Bad request.", "bad_request"),
    401: ("Bạn cần đăng nhập.", "Authentication required.", "not_authenticated"),
    403: ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this.", "forbidden"),
    404: ("Không tìm thấy.", "Not found.", "not_found"),
    405: ("Phương thức không được hỗ trợ.", "Method not allowed.", "method_not_allowed"),
    413: ("Dữ liệu gửi lên quá lớn.", "Payload too large.", "too_large"),
}


def error_response(status: int, error: DomainError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "message_en": error.message_en,
            "fields": [
                {"field": f.field, "message": f.message, "message_en": f.message_en, "code": f.code}
                for f in error.fields
            ],
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(error: DomainError) -> int:
    if isinstance(error, NotAuthenticated):
        return 401
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, UploadRejected):
        return 413 if error.too_large else 415
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, RateLimited):
        return 429
    return 400


def _field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def install_error_handlers(app: FastAPI) -> None:
    from api.web.errors import is_page_request, page_error
    from api.web.session import LoginRequired, login_redirect

    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc.next_url)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if is_page_request(request):
            return page_error(request, status_of(exc), exc)
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
                _field_of(err.get("loc", ())), _vi_for(err), str(err.get("msg", "")), str(err.get("type"))
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
        vi, en, code = _HTTP_MESSAGES.get(exc.status_code, ("Lỗi.", str(exc.detail), "error"))
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


def _vi_for(err: dict) -> str:
    kind = str(err.get("type", ""))
    if kind == "missing":
        return "Trường này là bắt buộc."
    if kind.startswith(("string_", "int_", "float_", "bool_")) or kind in {
        "model_attributes_type",
        "dict_type",
    }:
        return "Giá trị không đúng kiểu dữ liệu."
    return "Giá trị không hợp lệ."
