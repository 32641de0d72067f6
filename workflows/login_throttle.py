"""Login throttling, counted in the database so that every app process sees the same count.

Failed logins are counted twice: per login text (``kind`` "account": the e-mail or tax code as
typed, normalised, whether or not an account has it, so that a refusal says nothing of whether
the account exists) and per client address (``kind`` "address": an IPv4 address, an IPv6 /64).
From ``delay_after`` failures on, each further attempt must wait 2, 4, 8 … seconds after the last
one (at most ``login_delay_max_seconds``); from ``lock_after`` failures on, attempts are refused
for ``login_lock_minutes`` (a lock-out, audited). An address's thresholds are higher than a
login's: an office behind one NAT shares its address. Failures are forgotten once
``login_failure_window_minutes`` passed since the last one.

A login goes through two calls around the password check (``accounts.authenticate``):

* :func:`admit`, before it: a refusal (:class:`~workflows.errors.RateLimited`, HTTP 429 with
  ``Retry-After``) while either counter waits, so that during a lock-out the right password is
  refused too, without being checked;
* :func:`record`, after it, one transaction: a failure is counted on both counters, a success
  resets the login's counter and forgives, at the address, the failures of that login.

Concurrency: each attempt's transaction takes its counters' rows in one order (the login's, then
the address's) with an upsert that locks them (PostgreSQL: ``INSERT … ON CONFLICT DO UPDATE``
takes the row lock; SQLite: the database's write lock, held since ``BEGIN IMMEDIATE``), so no
failure is lost whichever process counts it. Attempts admitted together may still be running
when a lock-out starts: :func:`record` then refuses them too, a right password included, so that
once the lock-out starts no attempt succeeds and no answer tells a right password from a wrong one.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from workflows import audit
from workflows.clock import as_utc, format_datetime, now
from workflows.command_log import command
from workflows.config import Settings
from workflows.db import reading, transaction
from workflows.errors import RateLimited, not_found
from workflows.models import LoginCounter, User

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.login_throttle")

ACCOUNT = "account"
ADDRESS = "address"
KINDS = (ACCOUNT, ADDRESS)
# Lock-outs and their lifting, one audit stream for them all (a login text may name no account).
AUDIT_STREAM = "login_throttle"
KEY_LENGTH = 254
# Stale counters deleted by one attempt at most (keeps a flood of made-up logins from growing the table).
_PRUNE_BATCH = 100
# Control characters (NUL among them) and lone surrogates.
_UNSTORABLE = frozenset({"Cc", "Cs"})
# 2**30 seconds is far beyond any configured maximum: no larger power is ever computed.
_MAX_EXPONENT = 30


@dataclass(frozen=True)
class Policy:
    """The thresholds of one kind of counter."""

    delay_after: int
    lock_after: int
    delay_max: timedelta
    lock: timedelta
    window: timedelta

    def wait_after(self, failures: int) -> timedelta | None:
        """How long the next attempt must wait after the ``failures``-th failure in a row."""
        if failures >= self.lock_after:
            return self.lock
        if failures >= self.delay_after:
            exponent = min(failures - self.delay_after + 1, _MAX_EXPONENT)
            return min(timedelta(seconds=2**exponent), self.delay_max)
        return None

    def locks_out(self, failures: int) -> bool:
        return failures >= self.lock_after


def policy(settings: Settings, kind: str) -> Policy:
    account = kind == ACCOUNT
    return Policy(
        delay_after=settings.login_account_delay_after if account else settings.login_address_delay_after,
        lock_after=settings.login_account_lock_after if account else settings.login_address_lock_after,
        delay_max=timedelta(seconds=settings.login_delay_max_seconds),
        lock=timedelta(minutes=settings.login_lock_minutes),
        window=timedelta(minutes=settings.login_failure_window_minutes),
    )


def login_key(login: str) -> str:
    """The counter key of a login text: what ``accounts.authenticate`` compares, normalised the
    same way for every text (an account's or not). Control characters and lone surrogates, which
    no login has and a database may refuse to store, are left out."""
    return _storable(unicodedata.normalize("NFC", login).strip().lower())


def _storable(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in _UNSTORABLE)[:KEY_LENGTH]


def address_key(host: str) -> str:
    """The counter key of a client address: an IPv4 address as is, an IPv6 address by its /64
    network (one subscriber's line; its addresses are many), anything else as given."""
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return _storable(host.strip()) or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _keys(login: str, address: str) -> list[tuple[str, str]]:
    """The two counters of an attempt, in the order every transaction locks them."""
    return [(ACCOUNT, login_key(login)), (ADDRESS, address_key(address))]


def _waiting(counter: LoginCounter, at: datetime) -> bool:
    return counter.locked_until is not None and as_utc(counter.locked_until) > at


def _wait_text(seconds: int) -> tuple[str, str]:
    if seconds < 120:
        return f"{seconds} giây", f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} phút", f"{minutes} minutes"


def refusal(settings: Settings, counters: list[LoginCounter], at: datetime) -> RateLimited | None:
    """The refusal an attempt gets while any of ``counters`` waits, else None. It names the wait,
    never which counter (nor whether an account has the login)."""
    waiting = [c for c in counters if _waiting(c, at)]
    if not waiting:
        return None
    until = max(as_utc(c.locked_until) for c in waiting if c.locked_until is not None)
    seconds = max(1, math.ceil((until - at).total_seconds()))
    vi, en = _wait_text(seconds)
    if any(policy(settings, c.kind).locks_out(c.failures) for c in waiting):
        when = format_datetime(until)
        return RateLimited(
            f"Đăng nhập tạm bị khóa vì nhập sai quá nhiều lần. Vui lòng thử lại sau {vi} "
            f"(lúc {when}) hoặc liên hệ quản trị viên.",
            f"Logging in is locked for a while after too many failed attempts. Try again in {en} "
            f"(at {when}) or contact the administrator.",
            "login_locked",
            retry_after=seconds,
        )
    return RateLimited(
        f"Bạn đã đăng nhập sai nhiều lần. Vui lòng chờ {vi} rồi thử lại.",
        f"Too many failed logins. Wait {en}, then try again.",
        "login_delayed",
        retry_after=seconds,
    )


def admit(rt: Runtime, login: str, address: str) -> None:
    """Before the password is checked: raise RateLimited while the login's or the address's
    counter waits (a delay or a lock-out), whatever the password."""
    keys = _keys(login, address)
    with reading(rt.engine) as session:
        counters = list(
            session.exec(
                select(LoginCounter).where(
                    or_(*(and_(LoginCounter.kind == kind, LoginCounter.key == key) for kind, key in keys))
                )
            )
        )
    refused = refusal(rt.settings, counters, now())
    if refused is not None:
        raise refused


def record(rt: Runtime, login: str, address: str, user: User | None) -> None:
    """After the password was checked (``user``: the account it opened, None for a failure), in
    one transaction: count a failure, or reset the login's counter on a success. Raises
    RateLimited when a lock-out or delay started meanwhile (an attempt admitted together with
    others): the success is refused, the failure counted."""
    at = now()
    refused: RateLimited | None = None
    with transaction(rt.engine) as session:
        if user is not None:
            # A success only reads and clears counters: a wait needs failures, so its rows exist.
            found = [_existing(session, kind, key) for kind, key in _keys(login, address)]
            refused = refusal(rt.settings, [c for c in found if c is not None], at)
            if refused is not None:
                raise refused  # rolled back: nothing of this attempt is kept
            _forgive(session, *found)
            return
        account, address_counter = (_take(session, kind, key, at) for kind, key in _keys(login, address))
        counters = [account, address_counter]
        waited = refusal(rt.settings, counters, at) is not None
        for counter, other in ((account, address_counter), (address_counter, account)):
            _count_failure(rt.settings, session, counter, other, at)
        log.info(
            "Login failed: login %s (%d failures), address %s (%d failures)",
            account.key,
            account.failures,
            address_counter.key,
            address_counter.failures,
        )
        refused = refusal(rt.settings, counters, at) if waited else None
        _prune(session, rt.settings, at, keep=(account.id, address_counter.id))
    if refused is not None:
        raise refused  # counted, and answered as every attempt is during the wait


def _existing(session: Session, kind: str, key: str) -> LoginCounter | None:
    """The counter's row if there is one, locked until the transaction ends."""
    return session.exec(
        select(LoginCounter)
        .where(LoginCounter.kind == kind, LoginCounter.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _take(session: Session, kind: str, key: str, at: datetime) -> LoginCounter:
    """The counter's row, created when missing, locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LoginCounter).values(
        kind=kind, key=key, failures=0, first_failure_at=at, last_failure_at=at, locked_until=None
    )
    # A no-op update rather than DO NOTHING: it returns the id of an existing row and locks it.
    stmt = stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={"kind": stmt.excluded.kind})
    counter_id = session.execute(stmt.returning(LoginCounter.id)).scalar_one()
    counter = session.exec(
        select(LoginCounter).where(LoginCounter.id == counter_id).execution_options(populate_existing=True)
    ).one()
    return counter


def _count_failure(
    settings: Settings, session: Session, counter: LoginCounter, other: LoginCounter, at: datetime
) -> None:
    rules = policy(settings, counter.kind)
    was_waiting = _waiting(counter, at)
    was_locked_out = was_waiting and rules.locks_out(counter.failures)
    if counter.failures and not was_waiting and as_utc(counter.last_failure_at) <= at - rules.window:
        counter.failures = 0  # the earlier failures are too old to count
    if counter.failures == 0:
        counter.first_failure_at = at
    counter.failures += 1
    counter.last_failure_at = at
    wait = rules.wait_after(counter.failures)
    if wait is not None:
        until = at + wait
        if was_waiting and counter.locked_until is not None:
            until = max(until, as_utc(counter.locked_until))
        counter.locked_until = until
    session.add(counter)
    if rules.locks_out(counter.failures) and not was_locked_out:
        details = {
            "kind": counter.kind,
            "key": counter.key,
            "failures": counter.failures,
            "locked_until": as_utc(counter.locked_until).isoformat() if counter.locked_until else None,
            # the other side of the attempt that locked it: the address a login was tried from,
            # the login last tried from an address
            "address" if counter.kind == ACCOUNT else "login": other.key,
        }
        audit.record(session, AUDIT_STREAM, "login_locked", None, details, at=at)
        log.warning(
            "Login locked out: %s %s after %d failures, until %s",
            counter.kind,
            counter.key,
            counter.failures,
            details["locked_until"],
        )


def _forgive(session: Session, account: LoginCounter | None, address: LoginCounter | None) -> None:
    """A success: the login's counter starts again; the address keeps the failures of other
    logins (an address trying many accounts stays counted) and forgets this login's."""
    if account is None:
        return
    session.delete(account)
    if address is None:
        return
    address.failures = max(0, address.failures - account.failures)
    if address.failures == 0:
        session.delete(address)
    else:
        session.add(address)


def _prune(session: Session, settings: Settings, at: datetime, keep: tuple[int | None, ...]) -> None:
    """Delete a few counters nobody needs any more (their failures forgotten, no wait running);
    rows another transaction holds are skipped, never waited for."""
    window = timedelta(minutes=settings.login_failure_window_minutes)
    stale = (
        select(LoginCounter.id)
        .where(
            LoginCounter.last_failure_at <= at - window,
            (LoginCounter.locked_until.is_(None)) | (LoginCounter.locked_until <= at),  # type: ignore[union-attr]
            LoginCounter.id.not_in([k for k in keep if k is not None]),  # type: ignore[union-attr]
        )
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.exec(stale))
    if ids:
        session.execute(delete(LoginCounter).where(LoginCounter.id.in_(ids)))  # type: ignore[union-attr]


# --- the administrator's view -------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLock:
    """A counter whose wait is running: a lock-out, or a shorter delay."""

    id: int
    kind: str
    key: str
    failures: int
    first_failure_at: datetime
    last_failure_at: datetime
    locked_until: datetime
    lockout: bool

    @classmethod
    def of(cls, settings: Settings, counter: LoginCounter) -> LoginLock:
        assert counter.id is not None and counter.locked_until is not None
        return cls(
            id=counter.id,
            kind=counter.kind,
            key=counter.key,
            failures=counter.failures,
            first_failure_at=as_utc(counter.first_failure_at),
            last_failure_at=as_utc(counter.last_failure_at),
            locked_until=as_utc(counter.locked_until),
            lockout=policy(settings, counter.kind).locks_out(counter.failures),
        )


def current_locks(rt: Runtime) -> list[LoginLock]:
    """The counters whose wait runs now, the latest to end first."""
    with reading(rt.engine) as session:
        counters = session.exec(
            select(LoginCounter)
            .where(LoginCounter.locked_until > now())  # type: ignore[operator]
            .order_by(LoginCounter.locked_until.desc(), LoginCounter.id)  # type: ignore[union-attr]
        ).all()
        return [LoginLock.of(rt.settings, counter) for counter in counters]


@command("lift_login_lock")
def lift(rt: Runtime, actor: User, counter_id: int) -> None:
    """An administrator lifts a lock (or a delay): the counter starts again from nothing. Audited
    with the administrator as actor."""
    with transaction(rt.engine) as session:
        counter = session.exec(
            select(LoginCounter).where(LoginCounter.id == counter_id).with_for_update()
        ).one_or_none()
        if counter is None:
            raise not_found("khóa đăng nhập", "Login lock")
        at = now()
        details = {
            "kind": counter.kind,
            "key": counter.key,
            "failures": counter.failures,
            "locked_until": as_utc(counter.locked_until).isoformat() if counter.locked_until else None,
            "was_waiting": _waiting(counter, at),
        }
        session.delete(counter)
        audit.record(session, AUDIT_STREAM, "login_lock_lifted", actor, details, at=at)
        log.info("Login lock lifted: %s %s by user %s", counter.kind, counter.key, actor.id)
