"""The circuit breaker of each channel: stop hammering a mail server, a partner or an SMS gateway
that fails for every message, and try it again now and then.

A channel is the mail server (key ``email``), one partner webhook (``webhook:<id>``) or one SMS
gateway (``sms:<id>``). Its state is a ``ChannelBreaker`` row, shared by every worker:

* each failure of a message on the channel (not a permanent one: a 550 for one mailbox says
  nothing about the server) adds one to ``failures``; after ``delivery_breaker_failures`` in a
  row with no success the channel is *paused*;
* while paused, the dispatcher claims none of its messages (they stay pending and keep their
  attempts), except one at ``next_probe_at``: the probe, taken by one worker only (the
  conditional update below moves ``next_probe_at`` past a lease). A failed probe waits longer
  before the next one (1 min doubling up to ``delivery_probe_max_minutes``);
* any success closes the breaker; the waiting messages go out at the next run;
* a paused channel's messages whose retry age runs out are dead-lettered without being tried.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from notifications.models import ChannelBreaker, Delivery, DeliveryRequeue
from notifications.retry_policy import RetryPolicy
from workflows.clock import as_utc

log = logging.getLogger("tdcflow.notifications")

SENT_CHANNELS = ("email", "webhook", "sms")  # in-app deliveries are born sent
EXPIRE_BATCH = 1000


def channel_key(channel: str, webhook_id: int | None) -> str:
    """The breaker a delivery answers to."""
    if channel in ("webhook", "sms") and webhook_id is not None:
        return f"{channel}:{webhook_id}"
    return channel


def parse_key(key: str) -> tuple[str, int | None]:
    """``email`` → ("email", None); ``webhook:3`` → ("webhook", 3); ValueError otherwise."""
    channel, _, number = key.partition(":")
    if channel == "email" and not number:
        return channel, None
    if channel in ("webhook", "sms") and number.isdigit() and len(number) <= 18:
        return channel, int(number)
    raise ValueError(f"not a channel: {key!r}")


def key_condition(key: str) -> Any:
    """The deliveries of a channel, as a SQL condition."""
    channel, webhook_id = parse_key(key)
    if webhook_id is None:
        return Delivery.channel == channel
    return and_(Delivery.channel == channel, Delivery.webhook_id == webhook_id)


def outside(keys: set[str]) -> Any:
    """Deliveries on none of these channels."""
    if not keys:
        return true()
    conditions = []
    for channel in SENT_CHANNELS:
        ids = sorted(w for c, w in map(parse_key, keys) if c == channel and w is not None)
        if channel in keys:
            conditions.append(Delivery.channel != channel)
        elif ids:
            conditions.append(
                or_(
                    Delivery.channel != channel,
                    Delivery.webhook_id.is_(None),
                    Delivery.webhook_id.not_in(ids),
                )
            )
    return and_(*conditions) if conditions else true()


def window_start() -> Any:
    """Where a delivery's retry age counts from (needs an outer join of ``DeliveryRequeue``)."""
    return func.coalesce(DeliveryRequeue.requeued_at, Delivery.created_at)


def paused(session: Session) -> list[ChannelBreaker]:
    """The paused channels, by key (the order in which their rows are locked)."""
    return list(
        session.exec(
            select(ChannelBreaker).where(ChannelBreaker.opened_at.is_not(None)).order_by(ChannelBreaker.key)
        ).all()
    )


def take_probe(session: Session, key: str, instant: datetime, lease_until: datetime) -> bool:
    """Take the channel's probe if it is due and nobody took it: True when this worker may try one
    message. The row stays locked until the caller commits; a second worker's update waits, then
    finds ``next_probe_at`` moved and takes nothing."""
    result = session.execute(
        update(ChannelBreaker)
        .where(
            ChannelBreaker.key == key,
            ChannelBreaker.opened_at.is_not(None),
            or_(ChannelBreaker.next_probe_at.is_(None), ChannelBreaker.next_probe_at <= instant),
        )
        .values(next_probe_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _ensure(session: Session, key: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ChannelBreaker).values(key=key).on_conflict_do_nothing(index_elements=["key"]))


def record_failure(
    session: Session, key: str, error: str, instant: datetime, probe: bool, policy: RetryPolicy
) -> bool:
    """Count a failure of the channel; True when the channel is paused (now or already)."""
    _ensure(session, key)
    row = session.exec(select(ChannelBreaker).where(ChannelBreaker.key == key).with_for_update()).one()
    row.failures += 1
    row.last_error = error[:2000]
    row.last_failure_at = instant
    row.failing_since = row.failing_since or instant
    if row.opened_at is None:
        if row.failures >= policy.breaker_failures:
            row.opened_at, row.probes = instant, 0
            row.next_probe_at = instant + policy.probe_interval(0)
            log.warning(
                "channel %s: %s failures in a row since %s; sending paused, next try at %s (last error: %s)",
                key,
                row.failures,
                as_utc(row.failing_since).isoformat(),
                row.next_probe_at.isoformat(),
                row.last_error,
            )
    elif probe:
        row.probes += 1
        row.next_probe_at = instant + policy.probe_interval(row.probes)
        log.warning("channel %s: still failing; next try at %s", key, row.next_probe_at.isoformat())
    session.add(row)
    return row.opened_at is not None


def record_success(session: Session, key: str, instant: datetime) -> None:
    """A message went out: the channel works (no write unless it was failing)."""
    row = session.get(ChannelBreaker, key)
    if row is None or (row.failures == 0 and row.opened_at is None):
        return
    result = session.execute(
        update(ChannelBreaker)
        .where(
            ChannelBreaker.key == key, or_(ChannelBreaker.failures > 0, ChannelBreaker.opened_at.is_not(None))
        )
        .values(
            failures=0,
            failing_since=None,
            opened_at=None,
            probes=0,
            next_probe_at=None,
            recovered_at=instant if row.opened_at is not None else ChannelBreaker.recovered_at,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount and row.opened_at is not None:  # type: ignore[attr-defined]
        log.warning("channel %s works again: sending resumed", key)


def release_probe(session: Session, key: str, instant: datetime) -> None:
    """The probe's message failed for a reason of its own (permanently): probe again at once."""
    session.execute(
        update(ChannelBreaker)
        .where(ChannelBreaker.key == key, ChannelBreaker.opened_at.is_not(None))
        .values(next_probe_at=instant)
        .execution_options(synchronize_session=False)
    )


def expire_paused(session: Session, policy: RetryPolicy, instant: datetime, email: bool) -> int:
    """Dead-letter the pending messages of paused channels whose retry age is over; how many."""
    cutoff = instant - policy.max_age
    hours = f"{policy.max_age / timedelta(hours=1):g}"
    expired = 0
    for row in paused(session):
        if row.key == "email" and not email:
            continue  # no mail server configured: e-mail waits, it is not failing
        reason = f"gave up after {hours} h: the channel was paused (failing since {row.failing_since}); "
        while True:
            ids = session.exec(
                select(Delivery.id)
                .outerjoin(DeliveryRequeue, DeliveryRequeue.delivery_id == Delivery.id)
                .where(Delivery.status == "pending", key_condition(row.key), window_start() <= cutoff)
                .limit(EXPIRE_BATCH)
                .with_for_update(of=Delivery, skip_locked=True)
            ).all()
            if ids:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids), Delivery.status == "pending")
                    .values(
                        status="dead",
                        next_attempt_at=None,
                        lease_until=None,
                        last_error=(reason + (row.last_error or ""))[:2000],
                    )
                )
                log.warning(
                    "channel %s: %s messages dead-lettered after %s h paused", row.key, len(ids), hours
                )
                expired += len(ids)
            if len(ids) < EXPIRE_BATCH:
                break
    return expired
