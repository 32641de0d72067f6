"""A forgotten password, reset by e-mail: a single-use link that works for a short while.

Asking (``request_reset``) answers the same whether or not the address has an account; an active
account with a password gets the link (``password_reset_minutes``), a newer request spends the
older links, a locked account gets none. Using it (``reset_password``) sets the new password, ends
every session of the account, verifies its e-mail address (the link proved the mailbox) and tells
the owner by e-mail. An administrator may send the link to an account (``send_reset_link``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from workflows import account_tokens, accounts, audit, request_limits, sessions
from workflows.clock import now
from workflows.command_log import command
from workflows.db import transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import User
from workflows.outbox import emit

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflows.runtime import Runtime

RESET_PATH = "/reset-password"


def _may_reset(user: User) -> bool:
    return user.is_active and accounts.has_password(user)


def _send_link_in(rt: Runtime, session: Session, user: User, admin: User | None) -> None:
    minutes = rt.settings.password_reset_minutes
    secret = account_tokens.issue(session, user, account_tokens.PASSWORD_RESET, timedelta(minutes=minutes))
    emit(
        session,
        "password_reset_requested",
        None,
        {
            "user_id": user.id,
            "action_path": f"{RESET_PATH}?token={secret}",
            "minutes": minutes,
            "by_admin": admin is not None,
        },
    )
    audit.record(
        session, f"user:{user.id}", "password_reset_sent" if admin else "password_reset_requested", admin
    )


@command("request_password_reset")
def request_reset(rt: Runtime, actor: User | None, email: str, client_address: str | None = None) -> None:
    """E-mail a reset link to the account of ``email`` when there is one that may be reset; the
    answer is the same either way (the request is counted either way: at most
    ``request_limits.PASSWORD_RESET`` an hour for one address, or from one client)."""
    with transaction(rt.engine) as session:
        request_limits.admit(
            session, request_limits.PASSWORD_RESET, {"address": client_address, "email": email}
        )
        user = accounts.user_by_email(session, email)
        if user is not None and _may_reset(user):
            _send_link_in(rt, session, user, None)


@command("send_password_reset")
def send_reset_link(rt: Runtime, actor: User, user_id: int) -> User:
    """An administrator e-mails a reset link to an account (audited with the administrator)."""
    with transaction(rt.engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise not_found("tài khoản", "Account")
        if not user.is_active:
            raise Conflict(
                "Tài khoản đang bị khóa: hãy mở khóa trước khi gửi liên kết đặt lại mật khẩu.",
                "The account is locked: unlock it before sending a password reset link.",
                "inactive_account",
            )
        if not accounts.has_password(user):
            raise Conflict(
                "Tài khoản này không đăng nhập bằng mật khẩu.",
                "This account does not log in with a password.",
                "no_password",
            )
        _send_link_in(rt, session, user, actor)
        session.flush()
        session.expunge(user)
        return user


@command("reset_password")
def reset_password(rt: Runtime, actor: User | None, token: str, new_password: str) -> User:
    """Set the password of the link's account; 422 when the link is not valid any more or the
    password too short."""
    if len(new_password) < accounts.MIN_PASSWORD:
        raise InvalidInput(
            f"Mật khẩu mới phải có ít nhất {accounts.MIN_PASSWORD} ký tự.",
            f"The new password must be at least {accounts.MIN_PASSWORD} characters long.",
            "validation_error",
            [FieldProblem("new_password", "Quá ngắn.", "Too short.", "minLength")],
        )
    with transaction(rt.engine) as session:
        spent = account_tokens.redeem(session, token, account_tokens.PASSWORD_RESET)
        user = session.get(User, spent.user_id, with_for_update=True)
        if user is None or not _may_reset(user):
            raise account_tokens.refused()
        accounts.set_password_in(session, user, new_password, sessions.PASSWORD_RESET)
        if user.email_verified_at is None:
            user.email_verified_at = now()  # the link reached the mailbox: the address is the owner's
        audit.record(session, f"user:{user.id}", "password_reset", user)
        emit(
            session,
            "password_changed",
            None,
            {"user_id": user.id, "action_path": "/forgot-password", "at": now().isoformat()},
        )
        session.flush()
        session.expunge(user)
        return user
