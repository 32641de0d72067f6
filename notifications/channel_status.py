"""What the administrator sees of each channel: working, failing or paused, since when, the next
try, how many messages wait and the last error (read from the breakers and the deliveries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from notifications.breaker import channel_key
from notifications.models import ChannelBreaker, Delivery, Webhook
from workflows.clock import as_utc
from workflows.db import reading
from workflows.runtime import Runtime


@dataclass(frozen=True)
class ChannelStatus:
    key: str  # email | webhook:<id> | sms:<id>
    kind: str  # email | webhook | sms
    name: str  # the SMTP server, or the webhook's name
    configured: bool  # an SMTP host is set / the webhook is switched on
    paused: bool
    failures: int  # in a row since the last success
    failing_since: datetime | None
    retry_at: datetime | None  # paused: when a message is tried next (None: none is waiting)
    waiting: int  # pending or being sent
    dead: int
    last_error: str | None
    last_failure_at: datetime | None
    recovered_at: datetime | None


def channel_keys(hooks: list[Webhook]) -> dict[str, Webhook | None]:
    """Every channel an administrator may pick: the mail server and each webhook / SMS gateway."""
    keys: dict[str, Webhook | None] = {"email": None}
    for hook in hooks:
        keys[channel_key("sms" if hook.purpose == "sms" else "webhook", hook.id)] = hook
    return keys


def _later(*instants: datetime | None) -> datetime | None:
    present = [as_utc(i) for i in instants if i is not None]
    return max(present) if present else None


def channel_statuses(rt: Runtime) -> list[ChannelStatus]:
    with reading(rt.engine) as session:
        hooks = list(session.exec(select(Webhook).order_by(Webhook.id)).all())
        breakers = {row.key: row for row in session.exec(select(ChannelBreaker)).all()}
        counts: dict[tuple[str, str], int] = {}
        first_due: dict[str, datetime] = {}
        rows = session.exec(
            select(
                Delivery.channel,
                Delivery.webhook_id,
                Delivery.status,
                func.count(),
                func.min(func.coalesce(Delivery.next_attempt_at, Delivery.created_at)),
            )
            .where(Delivery.channel != "inapp", Delivery.status != "sent")
            .group_by(Delivery.channel, Delivery.webhook_id, Delivery.status)
        ).all()
    for channel, webhook_id, status, count, due in rows:
        key = channel_key(channel, webhook_id)
        state = "dead" if status == "dead" else "waiting"
        counts[(key, state)] = counts.get((key, state), 0) + count
        if status == "pending" and due is not None:
            first_due[key] = min(first_due.get(key, as_utc(due)), as_utc(due))
    smtp = f"{rt.settings.smtp_host}:{rt.settings.smtp_port}" if rt.settings.smtp_host else ""
    statuses = []
    for key, hook in channel_keys(hooks).items():
        row = breakers.get(key)
        paused = row is not None and row.opened_at is not None
        waiting = first_due.get(key)
        statuses.append(
            ChannelStatus(
                key=key,
                kind=key.partition(":")[0],
                name=hook.name if hook else smtp,
                configured=hook.active if hook else bool(smtp),
                paused=paused,
                failures=row.failures if row else 0,
                failing_since=row.failing_since if row else None,
                retry_at=_later(row.next_probe_at, waiting) if paused and row and waiting else None,
                waiting=counts.get((key, "waiting"), 0),
                dead=counts.get((key, "dead"), 0),
                last_error=row.last_error if row else None,
                last_failure_at=row.last_failure_at if row else None,
                recovered_at=row.recovered_at if row else None,
            )
        )
    return statuses
