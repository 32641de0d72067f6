"""Settings people change: their own channels, and (admins) the partner webhooks and the messages
to send again."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from notifications import dead_letters
from notifications.channel_status import channel_keys
from notifications.dead_letters import DeadFilter
from notifications.models import ChannelPreference, Delivery, Webhook
from workflows import audit
from workflows.clock import now
from workflows.command_log import command
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import User
from workflows.outbox import event_types as known_event_types
from workflows.runtime import Runtime

PHONE_CHARS = set("0123456789 +-.()")


def preferences_of(rt: Runtime, user: User) -> ChannelPreference:
    with reading(rt.engine) as session:
        found = session.get(ChannelPreference, user.id)
        return found or ChannelPreference(user_id=user.id, phone=user.phone)


@command("save_preferences")
def save_preferences(rt: Runtime, user: User, *, email: bool, sms: bool, phone: str, digest: bool) -> None:
    phone = phone.strip()
    if sms and (not phone or not set(phone) <= PHONE_CHARS or sum(c.isdigit() for c in phone) < 9):
        raise InvalidInput(
            "Cần số điện thoại hợp lệ để nhận tin nhắn.",
            "A valid phone number is needed for text messages.",
            "validation_error",
            [FieldProblem("phone", "Số điện thoại không hợp lệ.", "Invalid phone number.", "pattern")],
        )
    with transaction(rt.engine) as session:
        row = session.get(ChannelPreference, user.id) or ChannelPreference(user_id=user.id)
        row.email, row.sms, row.phone, row.digest = email, sms, phone or None, digest
        session.add(row)
        audit.record(
            session,
            f"user:{user.id}",
            "channels_changed",
            user,
            {"email": email, "sms": sms, "digest": digest},
        )


def list_webhooks(rt: Runtime) -> list[Webhook]:
    with reading(rt.engine) as session:
        return list(session.exec(select(Webhook).order_by(Webhook.id)).all())


@command("create_webhook")
def create_webhook(
    rt: Runtime, admin: User, *, name: str, url: str, event_types: list[str], purpose: str, secret: str = ""
) -> Webhook:
    problems = []
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(
            FieldProblem(
                "url",
                "Địa chỉ phải bắt đầu bằng http:// hoặc https://.",
                "The address must start with http:// or https://.",
                "format",
            )
        )
    if not name.strip():
        problems.append(FieldProblem("name", "Tên là bắt buộc.", "A name is required.", "required"))
    unknown = [t for t in event_types if t != "*" and t not in known_event_types()]
    if unknown or not event_types:
        problems.append(
            FieldProblem(
                "event_types",
                "Chọn ít nhất một loại sự kiện hợp lệ.",
                "Choose at least one valid event type.",
                "enum",
            )
        )
    if purpose not in ("partner", "sms"):
        problems.append(FieldProblem("purpose", "Mục đích không hợp lệ.", "Invalid purpose.", "enum"))
    if problems:
        raise InvalidInput(
            "Cấu hình webhook chưa hợp lệ.", "The webhook is not valid.", "validation_error", problems
        )
    with transaction(rt.engine) as session:
        hook = Webhook(
            name=name.strip(),
            url=url.strip(),
            secret=secret.strip() or secrets.token_urlsafe(32),
            event_types=sorted(set(event_types)),
            purpose=purpose,
        )
        session.add(hook)
        session.flush()
        audit.record(
            session,
            f"webhook:{hook.id}",
            "webhook_created",
            admin,
            {"name": hook.name, "url": hook.url, "event_types": hook.event_types},
        )
        return hook


@command("set_webhook_active")
def set_webhook_active(rt: Runtime, admin: User, webhook_id: int, active: bool) -> None:
    with transaction(rt.engine) as session:
        hook = session.get(Webhook, webhook_id)
        if hook is None:
            raise not_found("webhook", "Webhook")
        hook.active = active
        session.add(hook)
        audit.record(
            session, f"webhook:{hook.id}", "webhook_activated" if active else "webhook_deactivated", admin
        )


def dead_deliveries(rt: Runtime, limit: int = 200) -> list[Delivery]:
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(Delivery)
                .where(Delivery.status == "dead")
                .order_by(Delivery.created_at.desc())
                .limit(limit)
            ).all()
        )


def delivery_counts(rt: Runtime) -> dict[str, dict[str, int]]:
    """How many deliveries each channel has in each state (pending, sending, sent, dead)."""
    counts: dict[str, dict[str, int]] = {}
    with reading(rt.engine) as session:
        rows = session.exec(
            select(Delivery.channel, Delivery.status, func.count()).group_by(
                Delivery.channel, Delivery.status
            )
        ).all()
    for channel, status, count in rows:
        counts.setdefault(channel, {})[status] = count
    return counts


def waiting_deliveries(rt: Runtime, limit: int = 100) -> list[Delivery]:
    """Messages not sent yet (first to be sent first): what an administrator checks when mail
    seems not to go out (no SMTP server configured, a server refusing)."""
    with reading(rt.engine) as session:
        return list(
            session.exec(
                select(Delivery)
                .where(Delivery.status.in_(("pending", "sending")))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
            ).all()
        )


def dead_filter(rt: Runtime, values: Mapping[str, Any]) -> DeadFilter:
    """The dead letters' filter from a form or a query (``InvalidInput`` naming the field at fault)."""
    return dead_letters.parse_filter(values, set(channel_keys(list_webhooks(rt))))


def find_dead(
    rt: Runtime, flt: DeadFilter, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[Delivery, str]], int]:
    """A page of the dead deliveries matching the filter (newest first, with their event type) and
    how many match in all: what "send again" for the filter covers."""
    with reading(rt.engine) as session:
        return dead_letters.find(session, flt, limit, offset)


@command("retry_delivery")
def retry_delivery(rt: Runtime, admin: User, delivery_id: int) -> bool:
    """Send one dead delivery again (audited); False when it was not dead."""
    with transaction(rt.engine) as session:
        done = dead_letters.requeue(session, [Delivery.id == delivery_id], admin.id, now()) == 1
        if done:
            audit.record(session, f"delivery:{delivery_id}", "delivery_requeued", admin)
        return done


@command("retry_dead_matching")
def retry_dead_matching(rt: Runtime, admin: User, flt: DeadFilter) -> int:
    """Send again every dead delivery of a channel matching the filter, in one transaction, audited
    with the filter and the count; how many were put back in the queue."""
    if not flt.channel:
        raise InvalidInput(
            "Chọn kênh cần gửi lại.",
            "Choose the channel to send again.",
            "validation_error",
            [FieldProblem("channel", "Chọn một kênh.", "Choose a channel.", "required")],
        )
    try:
        with transaction(rt.engine) as session:
            count = dead_letters.requeue(session, dead_letters.conditions(flt), admin.id, now())
            if count:
                audit.record(
                    session,
                    f"channel:{flt.channel}",
                    "deliveries_requeued",
                    admin,
                    {**flt.describe(), "count": count},
                )
    except IntegrityError as exc:
        # Two administrators sent the same channel's messages again at the same moment.
        raise Conflict(
            "Một quản trị viên khác vừa gửi lại các thông báo này; hãy tải lại trang.",
            "Another administrator has just sent these messages again; reload the page.",
            "conflict",
        ) from exc
    return count
