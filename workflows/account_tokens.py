"""Single-use secrets e-mailed to an account's owner (a password reset, an e-mail verification).

The secret is random (32 bytes, URL-safe) and only its SHA-256 is stored, so a copy of the
database opens no account. Each lives a short while, is spent by its use, and a new one of the
same purpose spends the older ones: only the latest link e-mailed works.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, select

from workflows.clock import as_utc, now
from workflows.errors import FieldProblem, InvalidInput
from workflows.models import AccountToken, User

PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"
# A token is random URL-safe text; anything longer is no token of ours.
MAX_TOKEN_LENGTH = 128
# Spent and expired rows are kept this long (for the audit's sake nothing needs them after).
KEEP_AFTER_EXPIRY = timedelta(days=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(
    session: Session, user: User, purpose: str, lifetime: timedelta, details: dict[str, Any] | None = None
) -> str:
    """A new token for ``user`` (the older ones of this purpose spent); the secret, to e-mail."""
    instant = now()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.spent_at.is_(None),
        )
        .values(spent_at=instant, spent_why="replaced")
    )
    secret = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(secret),
            created_at=instant,
            expires_at=instant + lifetime,
            details=details or {},
        )
    )
    return secret


def refused(expired: bool = False) -> InvalidInput:
    if expired:
        return InvalidInput(
            "Liên kết đã hết hạn. Vui lòng yêu cầu một liên kết mới.",
            "The link has expired. Please ask for a new one.",
            "token_expired",
            [FieldProblem("token", "Đã hết hạn.", "Expired.", "expired")],
        )
    return InvalidInput(
        "Liên kết không hợp lệ hoặc đã được dùng. Vui lòng yêu cầu một liên kết mới.",
        "The link is not valid or was already used. Please ask for a new one.",
        "invalid_token",
        [FieldProblem("token", "Không hợp lệ.", "Not valid.", "invalid")],
    )


def redeem(session: Session, token: str, purpose: str) -> AccountToken:
    """Spend the token (locked: two uses at once, one wins); 422 when it is unknown, spent, of
    another purpose or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise refused()
    row = session.exec(
        select(AccountToken).where(AccountToken.token_hash == _digest(token)).with_for_update()
    ).first()
    if row is None or row.purpose != purpose or row.spent_at is not None:
        raise refused()
    if as_utc(row.expires_at) <= now():
        raise refused(expired=True)
    row.spent_at = now()
    row.spent_why = "used"
    session.add(row)
    return row


def latest_pending(session: Session, user: User, purpose: str) -> AccountToken | None:
    """The unspent token of this purpose last issued to ``user`` (expired or not)."""
    return session.exec(
        select(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.spent_at.is_(None),
        )
        .order_by(AccountToken.id.desc())
        .limit(1)
    ).first()


def spend_all(session: Session, user: User, purpose: str, why: str) -> None:
    """Spend every unspent token of this purpose of ``user`` (e.g. the reset links once the
    password changed another way)."""
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.spent_at.is_(None),
        )
        .values(spent_at=now(), spent_why=why)
    )


def purge_expired(session: Session) -> int:
    """Delete the tokens expired for a day (spent or not); how many."""
    result = session.execute(delete(AccountToken).where(AccountToken.expires_at <= now() - KEEP_AFTER_EXPIRY))
    return result.rowcount or 0
