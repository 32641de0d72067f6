"""A business registers itself: its e-mail address is verified before it may log in, and the
answer never tells whether an address already has an account.

Every well-formed registration gets the same answer ("check your e-mail"); what happens depends
on the address:

* no account has it: the account is made, unverified, and a verification link is e-mailed;
* a claimable account has it (no password, no role: see ``workflows.accounts``): nothing changes
  yet; the registration waits in the verification token, and once the link is opened that very
  row becomes the business account (whatever was attached to it stays attached);
* any other account has it: nothing is made, and the owner is told by e-mail that someone tried
  to register with the address ("if it was you, log in or reset your password").

The verification link is single use and short-lived (``email_verification_hours``); asking for it
again (``resend_verification``) answers the same whatever the address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from workflows import account_tokens, accounts, audit, request_limits, tax_codes
from workflows.clock import now
from workflows.command_log import command
from workflows.db import transaction
from workflows.errors import Conflict
from workflows.models import User
from workflows.outbox import emit

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflows.runtime import Runtime

VERIFY_PATH = "/verify-email"


def _lifetime(rt: Runtime) -> timedelta:
    return timedelta(hours=rt.settings.email_verification_hours)


def send_verification_in(
    rt: Runtime, session: Session, user: User, details: dict[str, Any] | None = None
) -> None:
    """E-mail ``user`` a new verification link (older ones stop working)."""
    secret = account_tokens.issue(session, user, account_tokens.EMAIL_VERIFICATION, _lifetime(rt), details)
    emit(
        session,
        "email_verification_requested",
        None,
        {
            "user_id": user.id,
            "action_path": f"{VERIFY_PATH}?token={secret}",
            "hours": rt.settings.email_verification_hours,
            "claim": bool(details),
        },
    )


@command("register")
def register(
    rt: Runtime,
    actor: User | None,
    *,
    email: str,
    password: str,
    full_name: str,
    tax_code: str,
    organisation_name: str,
    address: str = "",
    phone: str = "",
) -> None:
    """A business registers itself (``actor`` None). Returns nothing: the answer is the same
    whether or not the address has an account (see the module's docstring)."""
    accounts.registration_problems(email, password, full_name, tax_code, organisation_name)
    fields = {
        "full_name": full_name.strip(),
        "tax_code": tax_code.strip(),
        "organisation_name": organisation_name.strip(),
        "address": address.strip(),
        "phone": phone.strip(),
    }
    with transaction(rt.engine) as session:
        accounts.check_tax_code_free(session, fields["tax_code"])
        existing = accounts.user_by_email(session, email)
        if existing is None:
            user = accounts.register_business_in(session, email=email, password=password, **fields)
            send_verification_in(rt, session, user)
            return
        password_hash = accounts.hash_password(password)  # as long as the other paths take
        if accounts.is_claimable(existing):
            pending = {**fields, "password_hash": password_hash}
            send_verification_in(rt, session, existing, pending)
            audit.record(
                session,
                f"user:{existing.id}",
                "registration_requested",
                None,
                {"tax_code": fields["tax_code"]},
            )
            return
        if existing.is_active:
            emit(
                session,
                "registration_attempted",
                None,
                {"user_id": existing.id, "action_path": "/forgot-password", "at": now().isoformat()},
            )
        audit.record(session, f"user:{existing.id}", "registration_attempted", None)


def _claim(session: Session, user: User, pending: dict[str, Any]) -> None:
    """Turn a claimable account into the business account registered for its address."""
    if not accounts.is_claimable(user):
        raise account_tokens.refused()
    accounts.check_tax_code_free(session, pending["tax_code"])
    user.password_hash = pending["password_hash"]
    user.full_name = pending["full_name"]
    user.roles = ["business"]
    user.tax_code = pending["tax_code"]
    user.tax_code_status = tax_codes.UNVERIFIED
    user.organisation_name = pending["organisation_name"]
    user.address = pending.get("address") or None
    user.phone = pending.get("phone") or user.phone
    audit.record(
        session,
        f"user:{user.id}",
        "registered",
        user,
        {"email": user.email, "tax_code": user.tax_code, "claimed": True},
    )


@command("verify_email")
def verify_email(rt: Runtime, actor: User | None, token: str) -> User:
    """Open a verification link: the address is verified (and a waiting registration completes).
    422 ``invalid_token``/``token_expired`` otherwise."""
    with transaction(rt.engine) as session:
        spent = account_tokens.redeem(session, token, account_tokens.EMAIL_VERIFICATION)
        user = session.get(User, spent.user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise account_tokens.refused()
        if spent.details:
            _claim(session, user, spent.details)
        elif user.email_verified_at is not None:
            raise Conflict(
                "Địa chỉ thư điện tử đã được xác nhận trước đó: vui lòng đăng nhập.",
                "The e-mail address was already verified: please log in.",
                "already_verified",
            )
        user.email_verified_at = now()
        session.add(user)
        audit.record(session, f"user:{user.id}", "email_verified", user, {"email": user.email})
        session.flush()
        session.expunge(user)
        return user


@command("resend_verification")
def resend_verification(
    rt: Runtime, actor: User | None, email: str, client_address: str | None = None
) -> None:
    """E-mail a new verification link to an address waiting for one; nothing otherwise (the
    answer is the same either way; the request is counted either way: at most
    ``request_limits.VERIFICATION_RESEND`` an hour for one address, or from one client)."""
    with transaction(rt.engine) as session:
        request_limits.admit(
            session, request_limits.VERIFICATION_RESEND, {"address": client_address, "email": email}
        )
        user = accounts.user_by_email(session, email)
        if user is None or not user.is_active:
            return
        if user.email_verified_at is None and accounts.has_password(user):
            send_verification_in(rt, session, user)
            return
        if accounts.is_claimable(user):
            waiting = account_tokens.latest_pending(session, user, account_tokens.EMAIL_VERIFICATION)
            if waiting is not None and waiting.details:
                send_verification_in(rt, session, user, dict(waiting.details))
