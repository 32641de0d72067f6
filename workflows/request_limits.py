"""Limits on the public requests that send mail or give the department work: asking for a password
reset link, asking for a new verification link, filing a tax code contest, sending a TBT inquiry.

Each is counted per key (the client's address, the e-mail address it mails, ...) in a window; past
a key's limit the request is refused (:class:`~workflows.errors.RateLimited`, HTTP 429 with
``Retry-After``: when the oldest request of the window leaves it). Without a limit, anyone could
fill a person's mailbox with reset links, or the clerks' inbox with contests.

The count lives in the database (``request_event``, migration 0026), so every app process sees
the same one, and it is written in the request's own transaction: a request refused for another
reason (a bad field) is not counted, nor one whose transaction failed. A key is counted whatever
the answer says (a reset link asked for an address with no account counts the same), so a refusal
tells nothing of whether an account exists.

Two requests of one key admitted at the same instant by two PostgreSQL processes may both pass the
last place (the count is read, not locked): a limit may be passed by the requests racing for its
last place, which for keeping mail floods away is enough (SQLite takes them one at a time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from workflows.clock import as_utc, format_datetime, now
from workflows.errors import RateLimited
from workflows.login_throttle import address_key
from workflows.models import RequestEvent

KEY_LENGTH = 300  # RequestEvent.key's column


@dataclass(frozen=True)
class Limit:
    """At most ``per_key[kind]`` requests of ``purpose`` per key of that kind in ``window``."""

    purpose: str
    per_key: dict[str, int]
    window: timedelta
    refusal_vi: str  # "… Vui lòng thử lại sau {when}." with the instant filled in
    refusal_en: str


PASSWORD_RESET = Limit(
    "password_reset",
    {"address": 10, "email": 3},
    timedelta(hours=1),
    "Đã có quá nhiều yêu cầu đặt lại mật khẩu. Vui lòng thử lại sau {when}.",
    "Too many password reset requests. Please try again after {when}.",
)
VERIFICATION_RESEND = Limit(
    "verification_resend",
    {"address": 10, "email": 3},
    timedelta(hours=1),
    "Đã có quá nhiều yêu cầu gửi lại thư xác nhận. Vui lòng thử lại sau {when}.",
    "Too many requests to send the verification link again. Please try again after {when}.",
)
TAX_CODE_CONTEST = Limit(
    "tax_code_contest",
    {"address": 5, "email": 3},
    timedelta(hours=24),
    "Đã có quá nhiều khiếu nại gửi từ đây. Vui lòng thử lại sau {when}.",
    "Too many contests sent from here. Please try again after {when}.",
)


def _key(limit: Limit, kind: str, value: str) -> str:
    text = address_key(value) if kind == "address" else " ".join(value.split()).lower()
    return f"{limit.purpose}:{kind}:{text}"[:KEY_LENGTH]


def admit(session: Session, limit: Limit, keys: dict[str, str | None]) -> None:
    """Count this request against each of its keys (``{"address": "203.0.113.5", "email":
    "a@b.vn"}``; a key whose value is None or blank is not counted), in the caller's transaction;
    refuse it when any key already reached its limit in the window."""
    instant = now()
    since = instant - limit.window
    counted = [(kind, _key(limit, kind, value)) for kind, value in keys.items() if value and value.strip()]
    for kind, key in counted:
        count, oldest = session.exec(
            select(func.count(), func.min(RequestEvent.at)).where(
                RequestEvent.key == key, col(RequestEvent.at) > since
            )
        ).one()
        if count >= limit.per_key[kind]:
            retry_at = as_utc(oldest) + limit.window
            when = format_datetime(retry_at)
            raise RateLimited(
                limit.refusal_vi.format(when=when),
                limit.refusal_en.format(when=when),
                "rate_limited",
                retry_after=max(1, math.ceil((retry_at - instant).total_seconds())),
            )
    for _, key in counted:
        session.add(RequestEvent(key=key, at=instant))
    # What no window can count any more is of no use: keep the table small.
    session.execute(
        delete(RequestEvent).where(
            col(RequestEvent.key).startswith(f"{limit.purpose}:"), RequestEvent.at <= since
        )
    )
