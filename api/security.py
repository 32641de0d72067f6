"""Access tokens (JWT, HS256) signed with the configured secret key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from fastapi import Request

from api.client_address import client_address
from api.user_agents import summarise
from workflows import sessions
from workflows.clock import now
from workflows.config import Settings
from workflows.models import User
from workflows.runtime import Runtime

ALGORITHM = "HS256"
ISSUER = "tdcflow"


def create_access_token(
    settings: Settings, user_id: int, roles: list[str], session_epoch: int = 0, session_id: str = ""
) -> tuple[str, int]:
    """A token for the user, carrying its session's id (``sid``: ending that session refuses it)
    and the account's session epoch (``se``: ending every session of the account refuses it)."""
    issued = now()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "roles": roles,
        "se": session_epoch,
        "iat": issued,
        "exp": issued + lifetime,
        "iss": ISSUER,
    }
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM), int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The token's claims; raises ``jwt.PyJWTError`` for an expired, malformed or wrongly signed token."""
    return jwt.decode(
        token,
        settings.signing_key(),
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["sub", "exp", "iat", "iss"]},
    )


def client_of(request: Request, settings: Settings) -> sessions.Client:
    """The client opening a session: its address (through trusted proxies, as the login throttle
    reads it) and a summary of its User-Agent."""
    address = client_address(request, settings)
    return sessions.Client(
        address=None if address == "unknown" else address,
        summary=summarise(request.headers.get("user-agent")),
    )


def open_session(rt: Runtime, request: Request, user: User) -> tuple[str, int]:
    """Start a session for ``user`` (just authenticated): its access token and lifetime in seconds."""
    lifetime = timedelta(minutes=rt.settings.access_token_minutes)
    row = sessions.start(rt, user, client_of(request, rt.settings), lifetime)
    return create_access_token(rt.settings, user.id, user.roles, user.session_epoch, row.id)
