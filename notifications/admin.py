"""What the admin pages need: the deliveries (with the dead letters to retry), the webhooks of
partner systems and of the SMS gateway, and each user's channel preferences."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import func, true
from sqlmodel import select

from notifications.models import ChannelPreference, Delivery, Webhook
from workflows.db import reading, transaction
from workflows.errors import FieldProblem, InvalidInput, not_found
from workflows.outbox import EVENT_TYPES
from workflows.runtime import Runtime

DELIVERY_STATUSES = ("pending", "sending", "sent", "dead")
WEBHOOK_PURPOSES = ("partner", "sms")


def list_deliveries(
    rt: Runtime, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Delivery], int]:
    """Deliveries, newest first (``status="dead"``: the dead letters), and how many in all."""
    with reading(rt.engine) as session:
        condition = Delivery.status == status if status else true()
        total = session.exec(select(func.count()).select_from(Delivery).where(condition)).one()
        rows = session.exec(
            select(Delivery).where(condition).order_by(Delivery.id.desc()).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total)


def delivery_counts(rt: Runtime) -> dict[str, int]:
    """How many deliveries are in each status."""
    with reading(rt.engine) as session:
        rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def list_webhooks(rt: Runtime) -> list[Webhook]:
    with reading(rt.engine) as session:
        return list(session.exec(select(Webhook).order_by(Webhook.id)).all())


def save_webhook(
    rt: Runtime,
    *,
    name: str,
    url: str,
    event_types: list[str],
    purpose: str = "partner",
    active: bool = True,
    secret: str | None = None,
    webhook_id: int | None = None,
) -> Webhook:
    """Create or change a webhook. A new one without a secret gets a random one (shown to the admin
    to give to the partner); changing one keeps its secret unless a new one is given."""
    problems = []
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(
            FieldProblem(
                "url",
                "Địa chỉ phải bắt đầu bằng http:// hoặc https://.",
                "The URL must start with http:// or https://.",
                "format",
            )
        )
    if not name.strip():
        problems.append(
            FieldProblem("name", "Nhập tên hệ thống nhận.", "Enter the receiving system's name.", "required")
        )
    unknown = [t for t in event_types if t != "*" and t not in EVENT_TYPES]
    if unknown:
        problems.append(
            FieldProblem(
                "event_types",
                f"Loại sự kiện không có: {', '.join(unknown)}.",
                f"Unknown event types: {', '.join(unknown)}.",
                "enum",
            )
        )
    if purpose not in WEBHOOK_PURPOSES:
        problems.append(FieldProblem("purpose", "Mục đích không hợp lệ.", "Unknown purpose.", "enum"))
    if secret is not None and len(secret) < 16:
        problems.append(
            FieldProblem(
                "secret",
                "Khóa bí mật cần ít nhất 16 ký tự.",
                "The secret needs at least 16 characters.",
                "minLength",
            )
        )
    if problems:
        raise InvalidInput(
            "Thông tin webhook chưa hợp lệ.", "The webhook is not valid.", "validation_error", problems
        )
    with transaction(rt.engine) as session:
        if webhook_id is None:
            hook = Webhook(
                name=name.strip(),
                url=url.strip(),
                secret=secret or secrets.token_urlsafe(32),
                event_types=sorted(set(event_types)),
                purpose=purpose,
                active=active,
            )
        else:
            found = session.get(Webhook, webhook_id)
            if found is None:
                raise not_found("webhook", "Webhook")
            hook = found
            hook.name, hook.url, hook.purpose, hook.active = name.strip(), url.strip(), purpose, active
            hook.event_types = sorted(set(event_types))
            if secret:
                hook.secret = secret
        session.add(hook)
        session.flush()
        session.refresh(hook)
        return hook


def preferences(rt: Runtime, user_id: int) -> ChannelPreference:
    """The user's choices (the defaults when never set: e-mail and digest on, SMS off)."""
    with reading(rt.engine) as session:
        return session.get(ChannelPreference, user_id) or ChannelPreference(user_id=user_id)


def set_preferences(
    rt: Runtime, user_id: int, *, email: bool, sms: bool, phone: str | None, digest: bool
) -> ChannelPreference:
    phone = (phone or "").strip() or None
    if sms and not phone:
        raise InvalidInput(
            "Nhập số điện thoại để nhận tin nhắn SMS.",
            "Enter a phone number to receive SMS.",
            "validation_error",
            [FieldProblem("phone", "Nhập số điện thoại.", "Enter a phone number.", "required")],
        )
    if phone and not all(c.isdigit() or c in "+ .-()" for c in phone):
        raise InvalidInput(
            "Số điện thoại không hợp lệ.",
            "The phone number is not valid.",
            "validation_error",
            [FieldProblem("phone", "Số điện thoại không hợp lệ.", "Not a phone number.", "format")],
        )
    with transaction(rt.engine) as session:
        row = session.get(ChannelPreference, user_id) or ChannelPreference(user_id=user_id)
        row.email, row.sms, row.phone, row.digest = email, sms, phone, digest
        session.add(row)
        return row
