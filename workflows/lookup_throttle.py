"""Throttling of a public lookup (the metrology stamp check): at most N lookups per minute per
client address, then 429 with ``Retry-After`` until the minute ends.

The count is **per process**, in memory, unlike the login's (:mod:`workflows.login_throttle`,
counted in the database so that every process sees one count). The reasons:

- a login guards a secret: a guess spread over four workers must count four times against one
  account. A stamp lookup guards nothing secret (the answer is public): the limit only keeps one
  client from reading the registry stamp by stamp or loading the server, and ``workers × N`` a
  minute still does that;
- the lookup is the fastest public read (p95 < 10 ms at 100,000 instruments, ``bench/``); a
  database counter would add a write transaction to every read, and on SQLite every lookup would
  queue behind the one writer.

A shared limit, when wanted, belongs in front of the app (the reverse proxy's per-address limit).
The window is the calendar minute of :func:`workflows.clock.now` (so tests travel in time); the
addresses are keyed as the login's are (an IPv6 client by its /64). Memory is bounded: when more
than :data:`MAX_KEYS` addresses are held, the previous minutes' entries are dropped first, and
if the current minute alone is over the bound, the table starts again (a flood of addresses
forgets counts, it never grows memory).
"""

from __future__ import annotations

import math
import threading

from workflows.clock import now
from workflows.errors import RateLimited
from workflows.login_throttle import address_key

MAX_KEYS = 50_000


class LookupThrottle:
    """The count of one kind of lookup in this process: :meth:`admit` once per lookup."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._counts: dict[str, tuple[int, int]] = {}  # address key → (minute, lookups in it)
        self._lock = threading.Lock()

    def admit(self, address: str) -> None:
        """Count a lookup from ``address``, or refuse it (:class:`RateLimited`, its
        ``retry_after`` the seconds left in the minute) when the address has used up this minute's."""
        instant = now().timestamp()
        minute = math.floor(instant / 60)
        key = address_key(address)
        with self._lock:
            held_minute, used = self._counts.get(key, (minute, 0))
            if held_minute != minute:
                used = 0
            if used >= self.per_minute:
                retry_after = max(1, math.ceil((minute + 1) * 60 - instant))
                raise RateLimited(
                    f"Quá nhiều lượt tra cứu từ địa chỉ này: tối đa {self.per_minute} lượt mỗi phút. "
                    f"Hãy thử lại sau {retry_after} giây.",
                    f"Too many lookups from this address: at most {self.per_minute} a minute. "
                    f"Try again in {retry_after} second{'s' if retry_after != 1 else ''}.",
                    "too_many_lookups",
                    retry_after=retry_after,
                )
            if key not in self._counts and len(self._counts) >= MAX_KEYS:
                self._forget(minute)
            self._counts[key] = (minute, used + 1)

    def _forget(self, minute: int) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] == minute}
        if len(self._counts) >= MAX_KEYS:
            self._counts = {}
