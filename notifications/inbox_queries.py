"""The in-app notifications of one user: the list, the unread count (the bell), marking as read."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import select

from notifications.models import Notification
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import not_found
from workflows.runtime import Runtime


def list_for(
    rt: Runtime, user_id: int, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    """A page of the user's notifications, newest first, and how many there are in all."""
    condition = Notification.user_id == user_id
    if unread_only:
        condition = condition & Notification.read_at.is_(None)
    with reading(rt.engine) as session:
        total = session.exec(select(func.count()).select_from(Notification).where(condition)).one()
        rows = session.exec(
            select(Notification)
            .where(condition)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), int(total)


def unread_count(rt: Runtime, user_id: int) -> int:
    with reading(rt.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            ).one()
        )


def mark_read(rt: Runtime, user_id: int, notification_id: int | None = None) -> int:
    """Mark one notification (or, without an id, all) of the user as read; how many changed.

    Another user's notification is "not found", never touched."""
    with transaction(rt.engine) as session:
        statement = update(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        if notification_id is not None:
            statement = statement.where(Notification.id == notification_id)
        changed = session.execute(statement.values(read_at=now())).rowcount or 0
        if notification_id is not None and changed == 0:
            mine = session.exec(
                select(Notification.id).where(
                    Notification.id == notification_id, Notification.user_id == user_id
                )
            ).first()
            if mine is None:
                raise not_found("thông báo", "Notification")
        return changed
