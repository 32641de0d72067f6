"""Settings people change: their own channels, and (admins) the partner webhooks."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from sqlalchemy import func
from sqlmodel import select

from notifications.models import ChannelPreference, Delivery, Webhook
from workflows import audit
from workflows.db import reading, transaction
from workflows.errors import FieldProblem, InvalidInput, not_found
from workflows.models import User
from workflows.outbox import event_types as known_event_types
from workflows.runtime import Runtime

PHONE_CHARS = set("0123456789 +-.()")


def preferences_of(rt: Runtime, user: User) -> ChannelPreference:
    with reading(rt.engine) as session:
        found = session.get(ChannelPreference, user.id)
        return found or ChannelPreference(user_id=user.id, phone=user.phone)


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
