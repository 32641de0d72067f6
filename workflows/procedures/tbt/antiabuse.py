"""Keeping robots out of the public inquiry form, accessibly.

* a honeypot field (``website``) hidden from people, which robots fill in;
* a signed form token carrying a small sum ("3 + 4 = ?") whose answer the asker types, valid for
  two hours (no image, readable by screen readers);
* a rate limit per client address and per e-mail address (``workflows.request_limits``, counted
  in the database so that every app process sees the same count); the refusal says when to try
  again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from workflows import request_limits
from workflows.clock import now
from workflows.errors import FieldProblem, InvalidInput
from workflows.tokens import same_token

TOKEN_LIFETIME = timedelta(hours=2)
INQUIRY_LIMIT = request_limits.Limit(
    "tbt_inquiry",
    {"address": 5, "email": 3},  # inquiries an hour
    timedelta(hours=1),
    "Bạn đã gửi quá nhiều câu hỏi. Vui lòng thử lại sau {when}.",
    "Too many questions sent. Please try again after {when}.",
)


@dataclass(frozen=True)
class FormChallenge:
    token: str
    question_vi: str
    question_en: str


def _sign(secret_key: str, body: str) -> str:
    return hmac.new(secret_key.encode(), f"tbt-form:{body}".encode(), hashlib.sha256).hexdigest()[:32]


def new_challenge(secret_key: str) -> FormChallenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    payload = {"a": a, "b": b, "t": int(now().timestamp()), "n": secrets.token_hex(4)}
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return FormChallenge(
        token=f"{body}.{_sign(secret_key, body)}",
        question_vi=f"{a} cộng {b} bằng mấy?",
        question_en=f"What is {a} plus {b}?",
    )


def _problem(field: str, vi: str, en: str, code: str) -> InvalidInput:
    return InvalidInput(
        "Chưa xác nhận được bạn là người gửi câu hỏi.",
        "We could not confirm that a person sent the question.",
        "anti_abuse",
        [FieldProblem(field, vi, en, code)],
    )


def check_challenge(secret_key: str, token: str | None, answer: str | None, honeypot: str | None) -> None:
    if honeypot:
        raise _problem("website", "Trường này phải để trống.", "This field must be left empty.", "honeypot")
    body, _, signature = (token or "").partition(".")
    try:
        valid = bool(body) and same_token(_sign(secret_key, body), signature)
        payload = json.loads(base64.urlsafe_b64decode(body.encode())) if valid else {}
        issued = datetime.fromtimestamp(int(payload["t"]), tz=now().tzinfo) if valid else None
    except (ValueError, KeyError, TypeError):
        valid, issued, payload = False, None, {}
    if not valid or issued is None or now() - issued > TOKEN_LIFETIME:
        raise _problem(
            "form_token",
            "Biểu mẫu đã hết hạn, vui lòng tải lại trang.",
            "The form has expired; reload the page.",
            "expired",
        )
    try:
        typed = int(str(answer).strip())
    except ValueError:
        typed = None
    if typed != payload["a"] + payload["b"]:
        raise _problem(
            "captcha_answer",
            "Kết quả phép tính chưa đúng.",
            "The answer to the sum is not right.",
            "captcha",
        )


def check_rate(session: Session, client_address: str, email: str) -> None:
    """Refuse when the client's address or the asker's e-mail address reached its limit in the
    hour; otherwise count this inquiry (in the caller's transaction)."""
    request_limits.admit(session, INQUIRY_LIMIT, {"address": client_address, "email": email})
