"""Verification codes (what a document's QR code opens) and content digests."""

from __future__ import annotations

import hashlib
import re
import secrets

# --------------------------------------------------------------------------- small public helpers

# No 0/O, 1/I/L: a code read aloud or copied from paper must not be ambiguous.
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_VERIFICATION_GROUPS, _VERIFICATION_GROUP_LEN = 3, 4


def new_verification_code() -> str:
    """A random code like ``K7QF-2MXR-9HDA`` (12 characters from 31, about 59 bits)."""
    chars = [
        secrets.choice(VERIFICATION_ALPHABET) for _ in range(_VERIFICATION_GROUPS * _VERIFICATION_GROUP_LEN)
    ]
    groups = (
        "".join(chars[i : i + _VERIFICATION_GROUP_LEN]) for i in range(0, len(chars), _VERIFICATION_GROUP_LEN)
    )
    return "-".join(groups)


def normalise_verification_code(typed: str) -> str:
    """What a person typed (any case, spaces, dashes or not) → the canonical ``XXXX-XXXX-XXXX``."""
    bare = re.sub(r"[\s\-]", "", typed).upper()
    if len(bare) != _VERIFICATION_GROUPS * _VERIFICATION_GROUP_LEN:
        return bare
    n = _VERIFICATION_GROUP_LEN
    return "-".join(bare[i : i + n] for i in range(0, len(bare), n))


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
