"""The outbox dispatcher (DESIGN rule 4): events become deliveries, deliveries are sent after commit.

Two steps, each safe for several workers side by side (row claims with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite has one writer at a time):

``fan_out``
    claims undispatched outbox events in batches and, in one transaction per batch, writes one
    ``Delivery`` per (event, channel, recipient) with its rendered content and a unique
    idempotency key, writes the in-app ``Notification`` rows (in-app needs no sending: its
    deliveries are born sent) and marks the events dispatched. A crash leaves all or nothing.

``send_due``
    claims due deliveries (``pending`` and due, or ``sending`` with an expired lease) in a short
    transaction that sets ``sending`` and a lease, sends each outside any transaction, and marks it
    ``sent`` — or, on failure, schedules the next attempt with exponential backoff and jitter until
    the retry policy gives up (``notifications.retry_policy``: 72 h or 50 tries by default), after
    which it is ``dead`` until an admin retries it. A crash between sending and marking leaves a
    ``sending`` row whose lease runs out; it is sent again (at most one duplicate, with the same
    event id and Message-ID). Nothing is lost.

    A channel failing for every message is paused by its circuit breaker
    (``notifications.breaker``): its messages are not claimed (their attempts are kept) but for one
    probe now and then; claims already in hand when it pauses are put back untried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from notifications import breaker, dead_letters
from notifications.channels import DeliveryError, Email, Endpoint, Mailer, event_body, post_json, sms_body
from notifications.models import Delivery, DeliveryRequeue, Notification, Webhook
from notifications.render import Renderer
from notifications.retry_policy import RetryPolicy
from notifications.rules import Directory, Recipient, recipients
from workflows.clock import as_utc, now
from workflows.db import reading, transaction
from workflows.models import User, WorkTask
from workflows.outbox import OutboxEvent
from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.notifications")

FAN_OUT_BATCH = 100
SEND_BATCH = 10  # × the slowest channel's timeout (10 s) stays within the lease
LEASE = timedelta(minutes=2)
# Events whose message names a task: the task row gives its name to the alarms' messages.
_ALARMS_WITH_TASK = frozenset({"task_reminder", "task_escalation"})


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0  # failed, another attempt is scheduled
    dead: int = 0


@dataclass(frozen=True)
class DispatchReport:
    events: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.events or self.sent or self.retried or self.dead)


# -- fan-out ----------------------------------------------------------------------------------------


def fan_out(rt: Runtime, batch: int = FAN_OUT_BATCH) -> int:
    """Turn every undispatched outbox event into deliveries; the number of events dispatched."""
    renderer = Renderer(rt)
    done = 0
    failing: set[str] = set()
    while True:
        claimed, dispatched = _fan_out_batch(rt, renderer, batch, failing)
        done += dispatched
        if claimed == 0:
            return done


def _fan_out_batch(rt: Runtime, renderer: Renderer, batch: int, failing: set[str]) -> tuple[int, int]:
    instant = now()
    with transaction(rt.engine) as session:
        query = select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
        if failing:
            query = query.where(OutboxEvent.id.not_in(failing))
        events = session.exec(
            query.order_by(OutboxEvent.created_at, OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        directory = Directory(session, rt.catalogue)
        dispatched = 0
        for event in events:
            try:
                rows = _deliveries_of(renderer, directory, event, instant)
            except Exception:
                # A message that cannot be made must not block the others: the event stays in the
                # outbox (retried at the next run, and logged) and the batch goes on.
                log.exception("outbox event %s (%s) could not be turned into messages", event.id, event.type)
                failing.add(event.id)
                continue
            session.add_all(rows)
            event.dispatched_at = instant
            session.add(event)
            dispatched += 1
        return len(events), dispatched


def _deliveries_of(
    renderer: Renderer, directory: Directory, event: OutboxEvent, instant: datetime
) -> list[Delivery | Notification]:
    rows: list[Delivery | Notification] = []
    task = directory.task(event.payload.get("task_id")) if event.type in _ALARMS_WITH_TASK else None
    seen: set[str] = set()
    for recipient in recipients(directory, event):
        key = f"{event.id}:{recipient.key}"
        if key in seen:
            continue
        seen.add(key)
        rows.extend(_delivery(renderer, event, recipient, key, task, instant))
    return rows


def _delivery(
    renderer: Renderer,
    event: OutboxEvent,
    recipient: Recipient,
    key: str,
    task: WorkTask | None,
    instant: datetime,
) -> list[Delivery | Notification]:
    base = {
        "event_id": event.id,
        "channel": recipient.channel,
        "recipient": recipient.address[:320],
        "recipient_user_id": recipient.user.id if recipient.user else None,
        "webhook_id": recipient.webhook.id if recipient.webhook else None,
        "idempotency_key": key,
        "created_at": instant,
    }
    if recipient.channel == "webhook":
        body = event_body(event.id, event.type, as_utc(event.created_at).isoformat(), dict(event.payload))
        return [Delivery(**base, subject=event.type, body_text=body)]
    message = renderer.event_message(event, recipient.user, task)
    if recipient.channel == "email":
        return [Delivery(**base, subject=message.subject, body_text=message.text, body_html=message.html)]
    if recipient.channel == "sms":
        return [Delivery(**base, subject=message.title_vi, body_text=message.sms)]
    # In-app: the notification is the delivery; nothing to send.
    assert recipient.user is not None
    notification = Notification(
        user_id=recipient.user.id,
        event_id=event.id,
        title=message.title_vi,
        title_en=message.title_en,
        body=message.body_vi,
        body_en=message.body_en,
        link=message.link,
        created_at=as_utc(event.created_at),  # when it happened, not when the dispatcher came by
    )
    # Its notification row is the message (title, body, link): the delivery only records that it
    # was delivered.
    delivered = Delivery(**base, status="sent", sent_at=instant)
    return [notification, delivered]


# -- sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    """A claimed delivery, detached from the session, with what sending it needs."""

    id: int
    channel: str
    key: str  # its channel's breaker: email, webhook:<id>, sms:<id>
    recipient: str
    recipient_name: str | None
    subject: str
    body_text: str
    body_html: str | None
    idempotency_key: str
    event_id: str | None
    attempts: int
    lease_until: datetime
    endpoint: Endpoint | None
    window_start: datetime  # its retry age counts from here
    probe: bool = False  # the one message tried on a paused channel


def send_due(rt: Runtime, batch: int = SEND_BATCH, max_items: int = 2000) -> SendReport:
    """Send the deliveries that are due; e-mail waits (stays pending) while no SMTP host is set."""
    policy = RetryPolicy.of(rt.settings)
    sent = retried = dead = 0
    mailer = Mailer(rt.settings) if rt.settings.smtp_host else None
    expired = _expire_paused(rt, policy, email=mailer is not None)
    try:
        while sent + retried + dead < max_items:
            claims = _claim(rt, min(batch, max_items - sent - retried - dead), email=mailer is not None)
            if not claims:
                break
            paused: set[str] = set()  # channels paused during this batch: the rest of it waits
            for claim in claims:
                if claim.key in paused and not claim.probe:
                    _release(rt, claim)
                    continue
                error = _send(rt, mailer, claim)
                if error is None:
                    _mark_sent(rt, claim)
                    sent += 1
                    continue
                is_dead, is_paused = _mark_failed(rt, claim, error, policy)
                dead, retried = (dead + 1, retried) if is_dead else (dead, retried + 1)
                if is_paused:
                    paused.add(claim.key)
    finally:
        if mailer is not None:
            mailer.close()
    return SendReport(sent=sent, retried=retried, dead=dead + expired)


def _due(instant: datetime, email: bool):  # type: ignore[no-untyped-def]
    condition = or_(
        and_(
            Delivery.status == "pending",
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= instant),
        ),
        and_(Delivery.status == "sending", Delivery.lease_until < instant),
    )
    channels = ("webhook", "sms", "email") if email else ("webhook", "sms")
    return and_(condition, Delivery.channel.in_(channels))


def _expire_paused(rt: Runtime, policy: RetryPolicy, email: bool) -> int:
    """Dead-letter what waited its whole retry age on a paused channel (a write transaction only
    when some channel is paused: the usual run takes no write lock for this)."""
    with reading(rt.engine) as session:
        if not breaker.paused(session):
            return 0
    with transaction(rt.engine) as session:
        return breaker.expire_paused(session, policy, now(), email)


def _claim(rt: Runtime, batch: int, email: bool) -> list[_Claim]:
    instant = now()
    lease = instant + LEASE
    with transaction(rt.engine) as session:
        due = _due(instant, email)
        paused = breaker.paused(session)
        rows: list[tuple[Delivery, bool]] = []
        for state in paused:  # one probe per paused channel whose time has come, if one is due
            if state.next_probe_at is not None and as_utc(state.next_probe_at) > instant:
                continue
            # The message tried least first: one that fails on its own does not hold the channel.
            probe = session.exec(
                select(Delivery)
                .where(due, breaker.key_condition(state.key))
                .order_by(Delivery.attempts, Delivery.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if probe is not None and breaker.take_probe(session, state.key, instant, lease):
                rows.append((probe, True))
        if batch > len(rows):
            others = session.exec(
                select(Delivery)
                .where(due, breaker.outside({state.key for state in paused}))
                .order_by(Delivery.id)
                .limit(batch - len(rows))
                .with_for_update(skip_locked=True)
            ).all()
            rows.extend((row, False) for row in others)
        claims = []
        for row, probe in rows:
            if row.status == "sending":
                log.warning("delivery %s: its lease ran out while sending; sending it again", row.id)
            row.status = "sending"
            row.lease_until = lease
            row.attempts += 1
            session.add(row)
            requeue = session.get(DeliveryRequeue, row.id)
            claims.append(
                _Claim(
                    id=row.id,
                    channel=row.channel,
                    key=breaker.channel_key(row.channel, row.webhook_id),
                    recipient=row.recipient,
                    recipient_name=_name_of(session, row),
                    subject=row.subject,
                    body_text=row.body_text,
                    body_html=row.body_html,
                    idempotency_key=row.idempotency_key,
                    event_id=row.event_id,
                    attempts=row.attempts,
                    lease_until=lease,
                    endpoint=_endpoint(session, row.webhook_id),
                    window_start=requeue.requeued_at if requeue else row.created_at,
                    probe=probe,
                )
            )
        return claims


def _name_of(session: Session, row: Delivery) -> str | None:
    if row.channel != "email" or row.recipient_user_id is None:
        return None
    user = session.get(User, row.recipient_user_id)
    return user.display_name if user else None


def _endpoint(session: Session, webhook_id: int | None) -> Endpoint | None:
    if webhook_id is None:
        return None
    hook = session.get(Webhook, webhook_id)
    return Endpoint(url=hook.url, secret=hook.secret, active=hook.active) if hook else None


def _send(rt: Runtime, mailer: Mailer | None, claim: _Claim) -> DeliveryError | None:
    """Send one claimed delivery (no transaction is open); the error, or None when it went out."""
    event_id = claim.event_id or claim.idempotency_key
    try:
        if claim.channel == "email":
            assert mailer is not None
            mailer.send(
                Email(
                    to=claim.recipient,
                    to_name=claim.recipient_name,
                    subject=claim.subject,
                    text=claim.body_text,
                    html=claim.body_html,
                    idempotency_key=claim.idempotency_key,
                    event_id=claim.event_id,
                )
            )
        elif claim.channel in ("webhook", "sms"):
            if claim.endpoint is None:
                raise DeliveryError("the webhook was removed", permanent=True)
            body = (
                claim.body_text
                if claim.channel == "webhook"
                else sms_body(event_id, claim.recipient, claim.body_text)
            )
            post_json(claim.endpoint, body, event_id)
        else:
            raise DeliveryError(f"unknown channel {claim.channel}", permanent=True)
    except DeliveryError as exc:
        log.warning("delivery %s (%s to %s) failed: %s", claim.id, claim.channel, claim.recipient, exc)
        return exc
    return None


def _mine(claim: _Claim):  # type: ignore[no-untyped-def]
    """The row as long as the claim is still ours: another worker may have taken it after our
    lease ran out (and may even have delivered it)."""
    return and_(
        Delivery.id == claim.id,
        Delivery.status == "sending",
        Delivery.attempts == claim.attempts,
        Delivery.lease_until == claim.lease_until,
    )


def _mark_sent(rt: Runtime, claim: _Claim) -> None:
    instant = now()
    with transaction(rt.engine) as session:
        # Sent is sent, whoever holds the lease now (a slow sender whose lease ran out and a second
        # sender both reached the receiver: the event id lets it drop the repeat).
        session.execute(
            update(Delivery)
            .where(Delivery.id == claim.id, Delivery.status != "sent")
            .values(status="sent", sent_at=instant, lease_until=None, next_attempt_at=None)
        )
        breaker.record_success(session, claim.key, instant)


def _mark_failed(rt: Runtime, claim: _Claim, error: DeliveryError, policy: RetryPolicy) -> tuple[bool, bool]:
    """Schedule the next attempt, or give up, and tell the channel's breaker: (the delivery is now
    dead, the channel is paused)."""
    instant = now()
    is_dead = error.permanent or policy.gives_up(claim.attempts, claim.window_start, instant)
    values: dict[str, object] = {"last_error": str(error)[:2000], "lease_until": None}
    if is_dead:
        values.update(status="dead", next_attempt_at=None)
    else:
        values.update(status="pending", next_attempt_at=instant + policy.backoff(claim.attempts))
    with transaction(rt.engine) as session:
        session.execute(update(Delivery).where(_mine(claim)).values(**values))
        if error.permanent:
            # About this message (no such mailbox, a disabled webhook), not about the channel.
            if claim.probe:
                breaker.release_probe(session, claim.key, instant)
            return is_dead, False
        return is_dead, breaker.record_failure(session, claim.key, str(error), instant, claim.probe, policy)


def _release(rt: Runtime, claim: _Claim) -> None:
    """Put a claim back untried (its attempt not counted): its channel was paused meanwhile."""
    with transaction(rt.engine) as session:
        session.execute(
            update(Delivery)
            .where(_mine(claim))
            .values(status="pending", attempts=claim.attempts - 1, lease_until=None)
        )


def retry_dead(rt: Runtime, delivery_id: int) -> bool:
    """Put a dead delivery back in the queue (attempts reset, a new retry age); False if it was
    not dead. Administrators' pages use ``admin_commands.retry_delivery``, which audits it."""
    with transaction(rt.engine) as session:
        return dead_letters.requeue(session, [Delivery.id == delivery_id], None, now()) == 1


def dispatch(rt: Runtime) -> DispatchReport:
    """Fan out the new events, then send what is due."""
    events = fan_out(rt)
    report = send_due(rt)
    return DispatchReport(events=events, sent=report.sent, retried=report.retried, dead=report.dead)
