"""Login sessions: one row per login, which its owner sees and ends.

A login opens a session (:func:`start`); the access token or session cookie it gives carries the
session's id and the account's session epoch, and is refused once the session is ended or the
epoch moved on. Ending one session (a logout, "end this one" on the account page) marks its row;
ending them all (the owner's "end all", a password change or reset, an administrator's lock) marks
every open row *and* raises the epoch, so nothing issued before survives. Every end is audited on
the account's stream. Expired rows are purged by a scheduled job (:func:`purge_expired`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlmodel import Session, select

from workflows import audit
from workflows.clock import as_utc, now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import not_found
from workflows.models import User, UserSession

if TYPE_CHECKING:
    from workflows.runtime import Runtime

# Why a session ended (``UserSession.ended_why``), as the audit trail and the account page say.
LOGOUT = "logout"
ENDED_BY_USER = "ended_by_user"
ENDED_ALL = "ended_all"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
DEACTIVATED = "deactivated"


def _reference(session_id: str) -> str:
    """What the audit trail names a session by: a prefix, enough to tell sessions apart."""
    return session_id[:8]


@dataclass(frozen=True)
class Client:
    """Who opened a session: the client's address and a summary of its browser and system."""

    address: str | None = None
    summary: str = ""


@command("start_session")
def start(rt: Runtime, actor: User, client: Client, lifetime: timedelta) -> UserSession:
    """Open a session for ``actor`` (just authenticated) lasting ``lifetime``."""
    instant = now()
    with transaction(rt.engine) as session:
        row = UserSession(
            id=secrets.token_urlsafe(24),
            user_id=actor.id,
            created_at=instant,
            last_seen_at=instant,
            expires_at=instant + lifetime,
            client_address=(client.address or None) and client.address[:64],
            client_summary=client.summary[:120],
        )
        session.add(row)
        audit.record(
            session,
            f"user:{actor.id}",
            "session_started",
            actor,
            {"session": _reference(row.id), "client": row.client_summary, "address": row.client_address},
        )
        session.flush()
        session.expunge(row)
        return row


def is_open(session: Session, session_id: str | None, user_id: int) -> bool:
    """Whether ``session_id`` is an open, unexpired session of the user."""
    if not session_id:
        return False
    row = session.get(UserSession, session_id)
    return (
        row is not None and row.user_id == user_id and row.ended_at is None and as_utc(row.expires_at) > now()
    )


def touch(rt: Runtime, session_id: str, last_seen: datetime) -> None:
    """Move the session's "last seen" to now when it is older than ``session_touch_minutes``: one
    short write every few minutes per session, none on most requests."""
    instant = now()
    stale = instant - timedelta(minutes=rt.settings.session_touch_minutes)
    if as_utc(last_seen) > stale:
        return
    with transaction(rt.engine) as session:
        # Conditional, so requests arriving together write once and never move it backwards.
        session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.last_seen_at <= stale)
            .values(last_seen_at=instant)
        )


def last_seen(session: Session, session_id: str) -> datetime | None:
    row = session.get(UserSession, session_id)
    return row.last_seen_at if row is not None else None


def active(rt: Runtime, user: User) -> list[UserSession]:
    """The user's open sessions, the most recently used first."""
    with reading(rt.engine) as session:
        rows = session.exec(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > now(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
        ).all()
        return list(rows)


def _end_rows(session: Session, user: User, actor: User | None, rows: list[UserSession], why: str) -> int:
    instant = now()
    for row in rows:
        row.ended_at = instant
        row.ended_why = why
        session.add(row)
    if rows:
        audit.record(
            session,
            f"user:{user.id}",
            "session_ended" if len(rows) == 1 else "sessions_ended",
            actor,
            {"sessions": [_reference(row.id) for row in rows], "why": why},
        )
    return len(rows)


def _open_rows(session: Session, user_id: int) -> list[UserSession]:
    return list(
        session.exec(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at)
            .with_for_update()
        ).all()
    )


def end_all_in(session: Session, user: User, actor: User | None, why: str) -> int:
    """End every session of ``user`` inside the caller's transaction (a password change or reset,
    a lock): the open rows are marked and the epoch raised, so every earlier token and cookie is
    refused. The number of sessions that were open."""
    user.session_epoch += 1
    session.add(user)
    ended = _end_rows(session, user, actor, _open_rows(session, user.id), why)
    if not ended:  # nothing listed, yet the epoch moved: still a change worth its line
        audit.record(session, f"user:{user.id}", "sessions_ended", actor, {"sessions": [], "why": why})
    return ended


@command("end_session")
def end(rt: Runtime, actor: User, session_id: str, why: str = ENDED_BY_USER) -> None:
    """End one of the actor's own sessions (not found when it is not theirs or already over)."""
    with transaction(rt.engine) as session:
        row = session.get(UserSession, session_id, with_for_update=True)
        if row is None or row.user_id != actor.id or row.ended_at is not None:
            raise not_found("phiên đăng nhập", "Session")
        user = session.get(User, actor.id)
        assert user is not None
        _end_rows(session, user, actor, [row], why)


@command("end_other_sessions")
def end_others(rt: Runtime, actor: User, keep: str | None) -> int:
    """End every session of the actor but ``keep`` (this device); the number ended."""
    with transaction(rt.engine) as session:
        user = session.get(User, actor.id)
        assert user is not None
        rows = [row for row in _open_rows(session, actor.id) if row.id != keep]
        return _end_rows(session, user, actor, rows, ENDED_BY_USER)


@command("end_all_sessions")
def end_all(rt: Runtime, actor: User) -> User:
    """End every session of the actor's account, this one included, on every device."""
    with transaction(rt.engine) as session:
        user = session.get(User, actor.id)
        if user is None:
            raise not_found("tài khoản", "Account")
        end_all_in(session, user, actor, ENDED_ALL)
        session.flush()
        session.expunge(user)
        return user


def purge_expired(rt: Runtime) -> int:
    """Delete the sessions past their expiry (their tokens are refused anyway); how many."""
    with transaction(rt.engine) as session:
        result = session.execute(delete(UserSession).where(UserSession.expires_at <= now()))
        return result.rowcount or 0
