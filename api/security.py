"""Access tokens (JWT, HS256) signed with the configured secret key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from workflows.clock import now
from workflows.config import Settings

ALGORITHM = "HS256"
ISSUER = "tdcflow"


def create_access_token(
    settings: Settings, user_id: int, roles: list[str], session_epoch: int = 0
) -> tuple[str, int]:
    """A token for the user, carrying the account's session epoch: ending the account's sessions
    (raising the epoch) refuses it from then on."""
    issued = now()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
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
