"""Visitors: people who ask the inquiry point without an account.

A visitor is a passwordless ``User`` keyed by e-mail, with no role: it can never log in (its
password hash is not a hash) and may do nothing but own its inquiries, so the dossier machinery
(applicant, notifications by e-mail) works unchanged. The visitor follows an inquiry through a
secret link: an HMAC of the dossier code under the installation's secret key, e-mailed with every
message about the inquiry. There is no listing of a visitor's inquiries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlmodel import Session, select

from workflows.accounts import NO_PASSWORD_MARK, normalise_email
from workflows.errors import Conflict, Forbidden
from workflows.models import User
from workflows.tokens import same_token

# Not an argon2 hash: verification always fails. An account without password and role may be
# claimed by a business registering with its address (workflows.registration): its inquiries then
# show in the account.
NO_PASSWORD = f"{NO_PASSWORD_MARK}visitor"


def is_visitor(user: User) -> bool:
    return not user.roles and user.password_hash == NO_PASSWORD


def visitor_for(session: Session, email: str, name: str, organisation: str = "", phone: str = "") -> User:
    """The visitor identity of ``email`` (made on first use). An address that belongs to an
    account must log in to ask: its inquiries then show in the account."""
    address = normalise_email(email)
    user = session.exec(select(User).where(User.email == address)).first()
    if user is not None and not is_visitor(user):
        raise Conflict(
            "Địa chỉ thư điện tử này đã có tài khoản: vui lòng đăng nhập để gửi câu hỏi.",
            "This e-mail address has an account: please log in to ask.",
            "account_exists",
        )
    if user is not None and not user.is_active:  # an administrator blocked the address (abuse)
        raise Forbidden(
            "Địa chỉ thư điện tử này đã bị khóa gửi câu hỏi.",
            "This e-mail address may no longer ask questions.",
            "blocked",
        )
    if user is None:
        user = User(email=address, password_hash=NO_PASSWORD, full_name=name.strip()[:200], roles=[])
    user.full_name = name.strip()[:200] or user.full_name
    user.organisation_name = organisation.strip()[:300] or None
    user.phone = phone.strip()[:30] or user.phone
    session.add(user)
    session.flush()
    return user


def follow_token(secret_key: str, code: str) -> str:
    digest = hmac.new(secret_key.encode(), f"tbt-follow:{code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def follow_path(secret_key: str, code: str) -> str:
    return f"/tbt/follow/{code}/{follow_token(secret_key, code)}"


def visitor_link(user: User, secret_key: str, code: str) -> str | None:
    """A visitor's link to its inquiry (for the messages about it); None for an account holder."""
    return follow_path(secret_key, code) if is_visitor(user) else None


def check_follow_token(secret_key: str, code: str, token: str) -> bool:
    return same_token(follow_token(secret_key, code), token)
