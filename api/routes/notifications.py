"""In-app notifications: the list, the unread count, marking as read."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from api.bounds import PageNumber, PageSize, offset_of
from api.deps import CurrentUser, RowId, RuntimeDep
from api.errors import ERROR_RESPONSES
from api.schemas import Label, LocalTimes
from notifications.inbox_queries import list_for, mark_read, unread_count
from notifications.models import Notification

router = APIRouter(prefix="/api/notifications", tags=["notifications"], responses=ERROR_RESPONSES)


class NotificationOut(LocalTimes):
    id: int
    title: Label
    body: Label
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationPageOut(BaseModel):
    items: list[NotificationOut]
    unread: int
    total: int


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        title=Label(vi=n.title, en=n.title_en or n.title),
        body=Label(vi=n.body, en=n.body_en or n.body),
        link=n.link,
        created_at=n.created_at,
        read_at=n.read_at,
    )


@router.get("", response_model=NotificationPageOut)
def my_notifications(
    user: CurrentUser,
    rt: RuntimeDep,
    unread: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> NotificationPageOut:
    """Thông báo của tôi, mới nhất trước / My notifications, newest first."""
    rows, total = list_for(rt, user.id, unread, page_size, offset_of(page, page_size))
    return NotificationPageOut(items=[_out(n) for n in rows], unread=unread_count(rt, user.id), total=total)


@router.post("/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read_one(notification_id: RowId, user: CurrentUser, rt: RuntimeDep) -> None:
    mark_read(rt, user.id, notification_id)


@router.post("/read-all", status_code=status.HTTP_204_NO_CONTENT)
def read_all(user: CurrentUser, rt: RuntimeDep) -> None:
    mark_read(rt, user.id)
