"""The request-body limit, enforced while the body is read, for every route.

A declared ``Content-Length`` over the limit is refused before anything is read; a body without
one (``Transfer-Encoding: chunked``) or lying about it is counted as it arrives and refused as
soon as it passes the limit, so a 60 MB JSON body is never held in memory. A multipart body may
carry files (up to ``max_upload_bytes`` each, checked again while each file is read); every
other body (JSON, a page's form) is small: ``max_form_bytes``.

The refusal is the project's error shape, 413 ``too_large``, or the error page for a page.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from workflows.attachments import too_large
from workflows.errors import DomainError

log = logging.getLogger("tdcflow.api")

# Multipart framing and form fields on top of the largest accepted file.
UPLOAD_OVERHEAD = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passed the limit: whatever the app answers then is
    replaced by the 413."""


def body_too_large(max_bytes: int) -> DomainError:
    mb = max_bytes / (1024 * 1024)
    return DomainError(
        f"Dữ liệu gửi lên quá lớn (tối đa {mb:g} MB).",
        f"The request body is larger than the {mb:g} MB limit.",
        "too_large",
    )


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def limit_of(scope: Scope) -> tuple[int, DomainError]:
        """The most bytes this request's body may have, and the refusal past it."""
        settings = scope["app"].state.runtime.settings
        content_type = _header(scope, b"content-type").lower()
        if content_type.startswith("multipart/"):
            return settings.max_upload_bytes + UPLOAD_OVERHEAD, too_large(settings.max_upload_bytes)
        return settings.max_form_bytes, body_too_large(settings.max_form_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, error = self.limit_of(scope)
        declared = _header(scope, b"content-length")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, receive, send, error)
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a body it could not read: ours goes out instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            log.warning("A request body passed the %d-byte limit while being read: %s", limit, scope["path"])
            if not started:
                await self.refuse(scope, receive, send, error)

    @staticmethod
    async def refuse(scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
        # Imported here: the page machinery imports the app's routes' helpers, not the other way.
        from api.web.errors import is_page_request, page_error

        request = Request(scope, receive)
        response = page_error(request, 413, error) if is_page_request(request) else error_response(413, error)
        # The client may still be sending: closing the connection is the server's part.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""
