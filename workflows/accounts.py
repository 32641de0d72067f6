"""Accounts: business accounts, officer accounts, passwords hashed with argon2.

The commands (``register_business``, ``create_officer``, ``change_password``, ``set_active``)
take the runtime and the person acting, each one transaction; ``register_business_in`` and
``create_officer_in`` do the same inside a caller's transaction (an installer's first
administrator, a test's set-up). A business registering itself goes through
``workflows.registration`` (its e-mail verified first); these make accounts directly.

An account whose password hash starts with ``!`` has no password (no hash does): it can never log
in. One that also holds no role is *claimable*: someone who registers with its e-mail address and
proves the mailbox is theirs turns that very row into their account (a procedure may keep such
rows for people who use it without an account, e.g. by a secret link).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, func, select

from forms.text import is_blank
from workflows import account_tokens, audit, sessions, tax_codes
from workflows.clock import now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, Forbidden, InvalidInput, not_found
from workflows.models import User, known_roles

if TYPE_CHECKING:
    from workflows.runtime import Runtime

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
NO_PASSWORD_MARK = "!"  # a password hash starting with it is no hash: the account has no password

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown account like a known one.
_DUMMY_HASH = _hasher.hash("tdcflow-timing-equaliser")


def configure_password_hashing(time_cost: int, memory_kib: int) -> None:
    """Set the argon2 cost (from settings). Existing hashes keep verifying and are upgraded at login."""
    global _hasher, _DUMMY_HASH
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _DUMMY_HASH = _hasher.hash("tdcflow-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def has_password(user: User) -> bool:
    return not user.password_hash.startswith(NO_PASSWORD_MARK)


def is_claimable(user: User) -> bool:
    """An active account with neither password nor role: a registration may take it over once its
    e-mail is verified (see the module's docstring)."""
    return user.is_active and not user.roles and not has_password(user)


def user_by_email(session: Session, email: str) -> User | None:
    """The account of this address; None for an address that cannot be one (no query is made
    with a NUL or a lone surrogate, which a database refuses)."""
    address = normalise_email(email)
    if not EMAIL.match(address) or "\x00" in address or not address.isprintable():
        return None
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return session.exec(select(User).where(User.email == address)).first()


def registration_problems(
    email: str, password: str, full_name: str, tax_code: str, organisation_name: str
) -> None:
    """Raise 422 with every field at fault of a registration."""
    problems = _problems_for_registration(
        normalise_email(email), password, full_name, tax_code.strip(), organisation_name
    )
    if problems:
        raise InvalidInput(
            "Thông tin đăng ký chưa hợp lệ.", "The registration is not valid.", "validation_error", problems
        )


def check_tax_code_free(session: Session, tax_code: str) -> None:
    """Refuse a tax code an account holds verified (409 ``tax_code_verified``, with the way to
    contest); one held only by unverified accounts may be registered again (an officer decides)."""
    tax_codes.check_registrable(session, tax_code.strip())


def _problems_for_registration(
    email: str, password: str, full_name: str, tax_code: str, organisation_name: str
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not EMAIL.match(email):
        problems.append(
            FieldProblem("email", "Địa chỉ thư điện tử không hợp lệ.", "Invalid e-mail address.", "format")
        )
    if len(password) < MIN_PASSWORD:
        problems.append(
            FieldProblem(
                "password",
                f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.",
                f"The password must be at least {MIN_PASSWORD} characters long.",
                "minLength",
            )
        )
    tax_code_problem = tax_codes.tax_code_problem(tax_code)
    if tax_code_problem is not None:
        problems.append(tax_code_problem)
    if is_blank(full_name):  # a zero-width space is no name
        problems.append(
            FieldProblem(
                "full_name", "Họ tên người đăng ký là bắt buộc.", "Full name is required.", "required"
            )
        )
    if is_blank(organisation_name):
        problems.append(
            FieldProblem(
                "organisation_name",
                "Tên tổ chức, doanh nghiệp là bắt buộc.",
                "Organisation name is required.",
                "required",
            )
        )
    return problems


def register_business_in(
    session: Session,
    *,
    email: str,
    password: str,
    full_name: str,
    tax_code: str,
    organisation_name: str,
    address: str = "",
    phone: str = "",
    verified: bool = False,
) -> User:
    """A business account, made at once (an import, the demo, a test's set-up: ``verified`` when
    whoever makes it vouches for the e-mail address)."""
    email = normalise_email(email)
    tax_code = tax_code.strip()
    registration_problems(email, password, full_name, tax_code, organisation_name)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(
            "Địa chỉ thư điện tử này đã được đăng ký.",
            "This e-mail address is already registered.",
            "email_taken",
            [FieldProblem("email", "Đã được đăng ký.", "Already registered.", "unique")],
        )
    # A tax code is not taken by registering: the account is unverified until the Department checks
    # it (at its first dossier's receipt); only a verified holder stands in the way.
    check_tax_code_free(session, tax_code)
    user = User(
        email=email,
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        roles=["business"],
        tax_code=tax_code,
        tax_code_status=tax_codes.UNVERIFIED,
        organisation_name=organisation_name.strip(),
        address=address.strip() or None,
        phone=phone.strip() or None,
        email_verified_at=now() if verified else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, f"user:{user.id}", "registered", user, {"email": email, "tax_code": tax_code})
    return user


def create_officer_in(
    session: Session,
    *,
    email: str,
    password: str,
    full_name: str,
    roles: list[str],
    job_title: str = "",
    created_by: User | None = None,
) -> User:
    """An officer's account; ``created_by`` is the administrator the audit names (None: the
    installer or the demo, which the history shows as the system)."""
    unknown = [r for r in roles if r not in known_roles() or r == "business"]
    if unknown or not roles:
        raise InvalidInput(
            f"Vai trò không hợp lệ: {', '.join(unknown) or '(trống)'}.",
            f"Unknown roles: {', '.join(unknown) or '(none)'}.",
            "validation_error",
            [FieldProblem("roles", "Vai trò không hợp lệ.", "Invalid role.", "enum")],
        )
    if is_blank(full_name):
        raise InvalidInput(
            "Họ tên cán bộ là bắt buộc.",
            "The officer's full name is required.",
            "validation_error",
            [FieldProblem("full_name", "Họ tên là bắt buộc.", "Full name is required.", "required")],
        )
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise InvalidInput(
            "Địa chỉ thư điện tử không hợp lệ.",
            "Invalid e-mail address.",
            "validation_error",
            [FieldProblem("email", "Địa chỉ thư điện tử không hợp lệ.", "Invalid e-mail address.", "format")],
        )
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(
            "Địa chỉ thư điện tử này đã có tài khoản.",
            "This e-mail address already has an account.",
            "email_taken",
            [FieldProblem("email", "Đã có tài khoản.", "Already registered.", "unique")],
        )
    user = User(
        email=email,
        password_hash=hash_password(password),
        full_name=full_name,
        roles=list(roles),
        job_title=job_title or None,
        email_verified_at=now(),  # an administrator vouches for an officer's address
    )
    session.add(user)
    session.flush()
    audit.record(
        session, f"user:{user.id}", "officer_created", created_by, {"email": user.email, "roles": roles}
    )
    return user


def _authenticate(session: Session, login: str, password: str) -> User | None:
    """The active user with this e-mail (or business tax code) and password, else None."""
    login = login.strip()
    key = normalise_email(login)
    user = session.exec(select(User).where(func.lower(User.email) == key)).first()
    if user is None:
        user = _by_tax_code(session, login)
    if user is None:
        _safe_verify(_DUMMY_HASH, password)
        return None
    if not _safe_verify(user.password_hash, password) or not user.is_active:
        return None
    if user.email_verified_at is None:
        # Told only to whoever knows the password: it reveals nothing to anyone else.
        raise Forbidden(
            "Địa chỉ thư điện tử của tài khoản chưa được xác nhận: vui lòng mở liên kết xác nhận "
            "trong thư đã gửi tới địa chỉ này, hoặc yêu cầu gửi lại thư.",
            "The account's e-mail address is not verified yet: open the verification link in the "
            "message sent to it, or ask for it to be sent again.",
            "email_unverified",
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def _by_tax_code(session: Session, tax_code: str) -> User | None:
    """The one account a tax code logs in: its verified holder, or, with none verified, its only
    holder. Several accounts and none verified: nobody (they log in by e-mail), and the answer is
    the same as for a wrong password, so a login reveals nothing of who else holds a tax code."""
    holders = session.exec(select(User).where(User.tax_code == tax_code).order_by(User.id).limit(50)).all()
    verified = [h for h in holders if h.tax_code_status == tax_codes.VERIFIED]
    if verified:
        return verified[0]
    return holders[0] if len(holders) == 1 else None


def _change_password(session: Session, user: User, current: str, new: str) -> None:
    if not _safe_verify(user.password_hash, current):
        raise InvalidInput(
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
            "validation_error",
            [FieldProblem("current_password", "Không đúng.", "Wrong password.", "invalid")],
        )
    if len(new) < MIN_PASSWORD:
        raise InvalidInput(
            f"Mật khẩu mới phải có ít nhất {MIN_PASSWORD} ký tự.",
            f"The new password must be at least {MIN_PASSWORD} characters long.",
            "validation_error",
            [FieldProblem("new_password", "Quá ngắn.", "Too short.", "minLength")],
        )
    set_password_in(session, user, new, sessions.PASSWORD_CHANGED)
    audit.record(session, f"user:{user.id}", "password_changed", user)


def set_password_in(session: Session, user: User, new: str, why: str) -> None:
    """Set a new password: every session ends (every earlier token and cookie stops working) and
    the reset links not yet used stop working too."""
    user.password_hash = hash_password(new)
    session.add(user)
    sessions.end_all_in(session, user, user, why)
    account_tokens.spend_all(session, user, account_tokens.PASSWORD_RESET, why)


def _safe_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _set_active(session: Session, admin: User, user_id: int, active: bool) -> User:
    """Deactivate (or reactivate) an account; its tokens stop working at once."""
    user = session.get(User, user_id)
    if user is None:
        raise not_found("tài khoản", "Account")
    if user.id == admin.id and not active:
        raise Conflict(
            "Không thể tự khóa tài khoản của mình.", "You cannot deactivate your own account.", "self"
        )
    user.is_active = active
    session.add(user)
    if active:
        user.session_epoch += 1  # an unlock revives none of the old sessions
    else:
        sessions.end_all_in(session, user, admin, sessions.DEACTIVATED)  # a lock ends every session
    audit.record(session, f"user:{user.id}", "activated" if active else "deactivated", admin)
    return user


def _update_officer(session: Session, admin: User, user_id: int, roles: list[str], job_title: str) -> User:
    """Set an officer's roles and job title (the title a leader signs under, e.g. "PHÓ GIÁM ĐỐC").
    Audited with both states. An administrator keeps their own ``admin`` role: removing it would
    leave the office, perhaps, with nobody to give it back."""
    user = session.get(User, user_id)
    if user is None:
        raise not_found("tài khoản", "Account")
    if "business" in user.roles or not has_password(user):
        raise InvalidInput(
            "Chỉ tài khoản cán bộ mới có vai trò và chức vụ để sửa.",
            "Only an officer's account has roles and a job title to edit.",
            "not_an_officer",
        )
    unknown = [r for r in roles if r not in known_roles() or r == "business"]
    if unknown or not roles:
        raise InvalidInput(
            "Hãy chọn ít nhất một vai trò hợp lệ.",
            "Choose at least one valid role.",
            "validation_error",
            [FieldProblem("roles", "Vai trò không hợp lệ.", "Invalid role.", "enum")],
        )
    job_title = job_title.strip()
    if len(job_title) > 120:
        raise InvalidInput(
            "Chức vụ dài quá 120 ký tự.",
            "The job title is longer than 120 characters.",
            "validation_error",
            [FieldProblem("job_title", "Dài quá 120 ký tự.", "Longer than 120 characters.", "maxLength")],
        )
    if user.id == admin.id and "admin" in user.roles and "admin" not in roles:
        raise Conflict(
            "Không thể tự bỏ vai trò quản trị của mình.",
            "You cannot remove your own administrator role.",
            "self",
            [FieldProblem("roles", "Giữ vai trò quản trị.", "Keep the administrator role.", "self")],
        )
    ordered = [r for r in known_roles() if r in roles]
    before = {"roles": list(user.roles), "job_title": user.job_title}
    after = {"roles": ordered, "job_title": job_title or None}
    if before == after:
        return user
    user.roles = ordered
    user.job_title = job_title or None
    session.add(user)
    audit.record(session, f"user:{user.id}", "officer_updated", admin, {"before": before, "after": after})
    return user


def _list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.is_active.desc(), User.email)).all())


# --- the commands ---------------------------------------------------------------------------------


@command("register_business")
def register_business(
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
    verified: bool = True,
) -> User:
    """A business account made by the demo or an import, which vouches for its e-mail address
    (``verified``). A business registering itself goes through ``workflows.registration``."""
    with transaction(rt.engine) as session:
        return register_business_in(
            session,
            email=email,
            password=password,
            full_name=full_name,
            tax_code=tax_code,
            organisation_name=organisation_name,
            address=address,
            phone=phone,
            verified=verified,
        )


@command("create_officer")
def create_officer(
    rt: Runtime,
    actor: User | None,
    *,
    email: str,
    password: str,
    full_name: str,
    roles: list[str],
    job_title: str = "",
) -> User:
    with transaction(rt.engine) as session:
        return create_officer_in(
            session,
            email=email,
            password=password,
            full_name=full_name,
            roles=roles,
            job_title=job_title,
            created_by=actor,
        )


@command("change_password")
def change_password(rt: Runtime, actor: User, current: str, new: str) -> User:
    """Change the actor's password; every earlier session ends. Returns the account as it now is
    (its new session epoch), for a page that keeps its own session going."""
    with transaction(rt.engine) as session:
        user = session.merge(actor)
        _change_password(session, user, current, new)
        session.flush()
        session.expunge(user)
        return user


@command("set_active")
def set_active(rt: Runtime, actor: User, user_id: int, active: bool) -> User:
    with transaction(rt.engine) as session:
        return _set_active(session, actor, user_id, active)


@command("update_officer")
def update_officer(rt: Runtime, actor: User, user_id: int, *, roles: list[str], job_title: str) -> User:
    with transaction(rt.engine) as session:
        return _update_officer(session, actor, user_id, roles, job_title)


def authenticate(rt: Runtime, login: str, password: str) -> User | None:
    """The active user with this login and password (its hash upgraded when the cost rose);
    403 ``email_unverified`` when the password is right but the e-mail address not yet verified."""
    with transaction(rt.engine) as session:
        return _authenticate(session, login, password)


def list_users(rt: Runtime) -> list[User]:
    with reading(rt.engine) as session:
        return _list_users(session)
