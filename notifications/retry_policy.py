"""When a failed message is tried again, and when it is given up.

A message that fails is tried again after a backoff of 30 s doubling at each try, up to
``delivery_backoff_max_minutes`` (3 h by default), ±25% jitter so that many messages failing
together do not come back together. It is given up (a dead letter an administrator can send
again) when its failure is permanent, once ``delivery_max_age_hours`` (72 h) have passed since it
was queued or last put back by an administrator, or after ``delivery_max_attempts`` tries —
whichever comes first. With the defaults the age decides: the backoff allows at most about 40
tries in 72 hours, under the 50 tries of the default limit, so a message survives an outage of
up to three days.

A channel that fails for every message is paused by its circuit breaker (``notifications.breaker``)
and tried again after ``PROBE_BASE`` doubling up to ``delivery_probe_max_minutes`` (30 min).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.clock import as_utc
from workflows.config import Settings

BACKOFF_BASE = timedelta(seconds=30)
JITTER = 0.25
PROBE_BASE = timedelta(minutes=1)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    max_age: timedelta
    backoff_cap: timedelta
    breaker_failures: int
    probe_cap: timedelta

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            max_age=timedelta(hours=settings.delivery_max_age_hours),
            backoff_cap=timedelta(minutes=settings.delivery_backoff_max_minutes),
            breaker_failures=settings.delivery_breaker_failures,
            probe_cap=timedelta(minutes=settings.delivery_probe_max_minutes),
        )

    def backoff(self, attempts: int) -> timedelta:
        """30 s × 2^(attempts-1), at most the cap, then ±25% jitter (the cap's too: messages that
        failed together spread out)."""
        base = BACKOFF_BASE * (2 ** max(attempts - 1, 0)) if attempts < 40 else self.backoff_cap
        return min(base, self.backoff_cap) * random.uniform(1 - JITTER, 1 + JITTER)

    def gives_up(self, attempts: int, window_start: datetime, instant: datetime) -> bool:
        """True when a message that just failed (not permanently) is not to be tried again."""
        return attempts >= self.max_attempts or self.expired(window_start, instant)

    def expired(self, window_start: datetime, instant: datetime) -> bool:
        """Its retry age is over: ``max_age`` since it was queued (or put back in the queue)."""
        return as_utc(instant) - as_utc(window_start) >= self.max_age

    def probe_interval(self, failed_probes: int) -> timedelta:
        """How long a paused channel waits before its next try: 1 min doubling, at most the cap."""
        if failed_probes >= 30:
            return self.probe_cap
        return min(PROBE_BASE * (2**failed_probes), self.probe_cap)
