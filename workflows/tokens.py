"""Comparing a secret with what a client sent, in constant time, whatever the client sent.

``hmac.compare_digest`` takes two ASCII strings or two byte strings: a token with an "é" in it
(``/api/tbt/follow/x/%C3%A9``) raised TypeError, a 500. Both sides are compared as UTF-8 bytes
instead (a lone surrogate too, which plain UTF-8 refuses), so any text is simply not equal.
"""

from __future__ import annotations

import hmac


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def same_token(expected: str, given: str | None) -> bool:
    """True when ``given`` is ``expected``, compared in constant time; False for None or any
    other text."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(_bytes(expected), _bytes(given))
