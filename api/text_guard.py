"""Every text a request carries is checked and NFC-normalised once, before any route sees it.

An ASGI middleware, so no route, model or procedure can forget it: the query string, a JSON body
(whatever its model: ``dict[str, Any]`` form data too) and a page's url-encoded form. Text with a
lone surrogate, NUL or another control character or a bidirectional override is refused with the
field at fault (forms.text says what passes); the rest goes on in NFC. A JSON number the database
cannot hold (past 64 bits, ``NaN``, ``Infinity``) and nesting past :data:`MAX_DEPTH` are refused
the same way. Passwords are checked only for what cannot be encoded, never changed: the hash of
what the user typed must stay the hash of what the user typed.

Multipart bodies (uploads and the schema forms' pages) are left to the form validator
(forms.validation) and to the CSRF check of every page post, which refuses their text the same
way. The body's size is api.body_limit's (outside this middleware), so reading it here is bounded.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTP_MESSAGES, error_response, field_path
from forms.limits import integer_in_range
from forms.text import normalise, text_problem
from workflows.errors import DomainError, FieldProblem, InvalidInput

MAX_DEPTH = 64
MAX_PROBLEMS = 20


class _NotANumber:
    """What ``NaN``/``Infinity`` parse to here, to be reported at their place."""


_NOT_A_NUMBER = _NotANumber()


def _verbatim(key: str) -> bool:
    """Fields kept exactly as sent: secrets, compared or hashed byte for byte."""
    name = key.lower()
    return "password" in name or name in ("csrf_token", "client_secret", "form_token")


class _Checker:
    """Walks one input, collecting problems and normalising text."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []
        self.changed = False

    def problem(self, loc: list[str | int], message: str, message_en: str, code: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            shown = [part if isinstance(part, int) else _shown(part) for part in loc]
            self.problems.append(FieldProblem(field_path(shown) or "body", message, message_en, code))

    def text(self, value: str, loc: list[str | int], verbatim: bool = False) -> str:
        found = text_problem(value, multiline=True)
        if verbatim:
            # Only what cannot be encoded at all: a lone surrogate.
            if found is not None and _has_surrogate(value):
                self.problem(loc, found.message, found.message_en, found.code)
            return value
        if found is not None:
            self.problem(loc, found.message, found.message_en, found.code)
            return value
        normal = normalise(value)
        if normal != value:
            self.changed = True
        return normal

    def json(self, value: Any, loc: list[str | int], verbatim: bool = False) -> Any:
        if len(loc) > MAX_DEPTH:
            self.problem(
                loc,
                f"Dữ liệu lồng nhau quá {MAX_DEPTH} cấp.",
                f"The data is nested deeper than {MAX_DEPTH} levels.",
                "too_deep",
            )
            return value
        if isinstance(value, str):
            return self.text(value, loc, verbatim)
        if value is _NOT_A_NUMBER:
            self.problem(
                loc,
                "Giá trị phải là một số hữu hạn (không nhận NaN, Infinity).",
                "The value must be a finite number (not NaN or Infinity).",
                "not_finite",
            )
            return value
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and not integer_in_range(value):
            self.problem(
                loc,
                "Số quá lớn (vượt quá giới hạn số nguyên 64 bit).",
                "The number is too large (past the 64-bit integer range).",
                "out_of_range",
            )
            return value
        if isinstance(value, float) and not math.isfinite(value):  # 1e999 parses to inf
            self.problem(
                loc,
                "Giá trị phải là một số hữu hạn.",
                "The value must be a finite number.",
                "not_finite",
            )
            return value
        if isinstance(value, list):
            return [self.json(item, [*loc, index]) for index, item in enumerate(value)]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                clean_key = self.text(key, [*loc, key])
                out[clean_key] = self.json(item, [*loc, key], verbatim or _verbatim(key))
            return out
        return value

    def pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for key, value in pairs:
            clean_key = self.text(key, [key])
            out.append((clean_key, self.text(value, [key], _verbatim(key))))
        return out


def _shown(name: str) -> str:
    """A field's name as the answer can carry it: what is not text becomes U+FFFD."""
    return "".join("\ufffd" if text_problem(char) else char for char in name[:200])


def _has_surrogate(value: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in value)


def _refuse_constant(_: str) -> _NotANumber:
    return _NOT_A_NUMBER


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def _is_json(content_type: str) -> bool:
    """As FastAPI decides to parse a body as JSON: no type, ``application/json`` or ``+json``."""
    if not content_type:
        return True
    main, _, sub = content_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if text_problem(scope.get("path", ""), multiline=False) is not None:
            # No address of ours has a control character in it (PostgreSQL cannot even compare
            # one with a NUL): the page simply does not exist.
            await self.not_found(scope, receive, send)
            return
        checker = _Checker()
        query = scope.get("query_string", b"")
        if query:
            pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
            clean = checker.pairs(pairs)
            if checker.problems:
                await self.refuse(scope, receive, send, checker.problems)
                return
            if checker.changed:
                scope = {**scope, "query_string": urlencode(clean).encode("ascii")}

        content_type = _content_type(scope)
        if not (_is_json(content_type) or content_type == "application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        body, rest = await _read_body(receive)
        if body:
            checker = _Checker()
            replaced = self.check_body(checker, content_type, body)
            if checker.problems:
                await self.refuse(scope, _replay(body, rest, receive), send, checker.problems)
                return
            if replaced is not None:
                body = replaced
                scope = {
                    **scope,
                    "headers": [
                        (k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                        for k, v in scope["headers"]
                    ],
                }
        await self.app(scope, _replay(body, rest, receive), send)

    @staticmethod
    def check_body(checker: _Checker, content_type: str, body: bytes) -> bytes | None:
        """The body to pass on when it changed (None: as sent), problems in ``checker``."""
        if content_type == "application/x-www-form-urlencoded":
            pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            clean = checker.pairs(pairs)
            return urlencode(clean).encode("ascii") if checker.changed else None
        try:
            value = json.loads(body, parse_constant=_refuse_constant)
        except RecursionError:
            checker.problem(
                [],
                f"Dữ liệu lồng nhau quá {MAX_DEPTH} cấp.",
                f"The data is nested deeper than {MAX_DEPTH} levels.",
                "too_deep",
            )
            return None
        except ValueError:
            return None  # not JSON: the route answers that itself
        clean = checker.json(value, [])
        if not checker.changed:
            return None
        return json.dumps(clean, ensure_ascii=False).encode("utf-8")

    @staticmethod
    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        from api.web.errors import is_page_request, page_error

        vi, en, code = HTTP_MESSAGES[404]
        error = DomainError(vi, en, code)
        request = Request(scope, receive)
        response = page_error(request, 404, error) if is_page_request(request) else error_response(404, error)
        await response(scope, receive, send)

    @staticmethod
    async def refuse(scope: Scope, receive: Receive, send: Send, problems: list[FieldProblem]) -> None:
        from api.web.errors import is_page_request, page_error

        names = ", ".join(dict.fromkeys(p.field for p in problems))
        error = InvalidInput(
            f"Dữ liệu gửi lên có ký tự hoặc giá trị không được phép ở: {names}.",
            f"The request has characters or values that are not allowed in: {names}.",
            "validation_error",
            problems,
        )
        request = Request(scope, receive)
        response = page_error(request, 422, error) if is_page_request(request) else error_response(422, error)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and any message after it (a disconnect) to hand on."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, rest: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the body (read already) once, then what the client sends next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *rest]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
