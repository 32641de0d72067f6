"""Reading and marking a user's in-app notifications (the bell, the list)."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import select

from notifications.models import Notification
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import not_found
from workflows.runtime import Runtime


def unread_count(rt: Runtime, user_id: int) -> int:
    with reading(rt.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            ).one()
        )


def list_for(
    rt: Runtime, user_id: int, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    with reading(rt.engine) as session:
        query = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        rows = session.exec(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).offset(offset).limit(limit)
        ).all()
        return list(rows), total


def mark_read(rt: Runtime, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of the user as read."""
    with transaction(rt.engine) as session:
        statement = update(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        if notification_id is not None:
            found = session.get(Notification, notification_id)
            if found is None or found.user_id != user_id:
                raise not_found("thông báo", "Notification")
            statement = statement.where(Notification.id == notification_id)
        return session.execute(statement.values(read_at=now())).rowcount
