"""One error shape for every failure:

``{"error": {"code", "message" (Vietnamese), "message_en", "fields": [{"field", "message", "message_en", "code"}]}}``
"""

from __future__ import annotations

import logging
from datetime import date

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workflows.errors import (
    Conflict,
    DomainError,
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

# A refusal that says when to try again (login throttling).
TOO_MANY_RESPONSE: dict[int | str, dict[str, object]] = {
    429: {
        "model": ErrorBody,
        "description": "Quá nhiều lần thử, chờ theo Retry-After / Too many attempts: wait as Retry-After says",
        "headers": {
            "Retry-After": {
                "description": "Số giây phải chờ / Seconds to wait",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}

# Any operation that reads a body (api.openapi adds them to the document: they come from below the
# routes, FastAPI's body parsing and the body-size limit).
BODY_RESPONSES = {
    400: "Nội dung gửi lên không đọc được / The request body cannot be read",
    413: "Dữ liệu gửi lên quá lớn / Payload too large",
}

# The routes that take a file: a type that is not accepted, or an empty file.
UPLOAD_RESPONSES = {
    415: {"model": ErrorBody, "description": "Loại tệp không được chấp nhận / File type not accepted"},
}

HTTP_MESSAGES = {
    400: ("Yêu cầu không hợp lệ.", "Bad request.", "bad_request"),
    401: ("Bạn cần đăng nhập.", "Authentication required.", "not_authenticated"),
    403: ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this.", "forbidden"),
    404: ("Không tìm thấy.", "Not found.", "not_found"),
    405: ("Phương thức không được hỗ trợ.", "Method not allowed.", "method_not_allowed"),
    413: ("Dữ liệu gửi lên quá lớn.", "Payload too large.", "too_large"),
}

# FastAPI's detail when it cannot read a body at all (not UTF-8 JSON, a broken multipart frame).
UNREADABLE_BODY_DETAIL = "There was an error parsing the body"
UNREADABLE_BODY = (
    "Không đọc được nội dung gửi lên: cần JSON (UTF-8) hoặc biểu mẫu đúng định dạng.",
    "The request body cannot be read: send JSON (UTF-8) or a well-formed form.",
    "unreadable_body",
)


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


def field_path(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def vietnamese_message(err: dict) -> str:
    kind = str(err.get("type", ""))
    if kind == "missing":
        return "Trường này là bắt buộc."
    if kind == "single_line":
        return "Trường này chỉ có một dòng: không được xuống dòng hay có ký tự tab."
    limits = err.get("ctx") or {}
    bounds = {
        "greater_than_equal": ("ge", "lớn hơn hoặc bằng"),
        "greater_than": ("gt", "lớn hơn"),
        "less_than_equal": ("le", "nhỏ hơn hoặc bằng"),
        "less_than": ("lt", "nhỏ hơn"),
    }
    if kind in bounds and bounds[kind][0] in limits:
        key, words = bounds[kind]
        limit = limits[key]
        shown = f"{limit:%d/%m/%Y}" if isinstance(limit, date) else str(limit)
        return f"Giá trị phải {words} {shown}."
    if kind.startswith(("string_", "int_", "float_", "bool_")) or kind in {
        "model_attributes_type",
        "dict_type",
    }:
        return "Giá trị không đúng kiểu dữ liệu."
    return "Giá trị không hợp lệ."
