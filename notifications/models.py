"""The tables of the notifications room."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflows.clock import now
from workflows.packed import PackedText

# The preset dictionaries of the messages kept (``workflows.packed``): a rendered e-mail of each
# layout, text and HTML. Never edit a shipped one; add ``message-<n+1>.txt`` and make it current.
MESSAGE_DICTIONARIES = tuple(
    (number, (Path(__file__).resolve().parent / "dictionaries" / f"message-{number}.txt").read_bytes())
    for number in (1,)
)
MESSAGE_DICTIONARY = 1


def _message_text() -> PackedText:
    return PackedText(MESSAGE_DICTIONARIES, MESSAGE_DICTIONARY)


CHANNELS = ("email", "inapp", "webhook", "sms")


def _instant(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class Delivery(SQLModel, table=True):
    """One message of one event to one recipient on one channel; retried until sent or dead."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The outbox event it tells of; none for a message of no single event (the daily digest).
    # Not indexed (migration 0019): nothing looks deliveries up by their event; the dead letters
    # filtered by event type go from the dead deliveries to their events.
    event_id: str | None = Field(default=None, foreign_key="outbox_event.id", max_length=32)
    channel: str = Field(max_length=10)  # one of CHANNELS
    recipient: str = Field(max_length=320)  # e-mail address, user id, webhook id, phone number
    recipient_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    webhook_id: int | None = Field(default=None, foreign_key="webhook.id")
    idempotency_key: str = Field(max_length=120)  # event id + channel + recipient; "digest:<user>:<date>"
    subject: str = Field(default="", max_length=500)
    # What is (or was) sent, exactly, kept packed: an e-mail's text and HTML cost about 0.4 KB
    # instead of 4 KB (migration 0019). An in-app delivery keeps none: its notification row is the
    # message.
    body_text: str = Field(default="", sa_column=Column(_message_text(), nullable=True))
    body_html: str | None = Field(default=None, sa_column=Column(_message_text(), nullable=True))
    status: str = Field(default="pending", max_length=10)  # pending | sending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime | None = _instant()
    lease_until: datetime | None = _instant()
    last_error: str | None = Field(default=None, max_length=2000)
    sent_at: datetime | None = _instant()
    created_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Notification(SQLModel, table=True):
    """An in-app notification: the bell and the list page."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    event_id: str = Field(foreign_key="outbox_event.id", max_length=32)
    title: str = Field(max_length=300)
    title_en: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=2000)
    body_en: str = Field(default="", max_length=2000)
    link: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    read_at: datetime | None = _instant()


class Webhook(SQLModel, table=True):
    """A partner system (customs, market surveillance, the national TBT office) or an SMS gateway."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    url: str = Field(max_length=1000)
    secret: str = Field(max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str = Field(default="partner", max_length=10)  # partner | sms
    active: bool = True
    created_at: datetime = Field(
        default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ChannelPreference(SQLModel, table=True):
    """How a user wants to hear from tdcflow (in-app is always on)."""

    __tablename__ = "channel_preference"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    email: bool = True
    sms: bool = False
    phone: str | None = Field(default=None, max_length=30)
    digest: bool = True  # officers: the daily digest of their open tasks


class ChannelBreaker(SQLModel, table=True):
    """The circuit breaker of one channel: the mail server (``email``), a partner webhook
    (``webhook:<id>``) or an SMS gateway (``sms:<id>``).

    Kept in the database, not in a worker's memory: several workers share one channel's state.
    A row appears at the channel's first failure. ``failures`` counts the failures since the last
    success; at ``delivery_breaker_failures`` the channel is paused (``opened_at``): its messages
    stay pending, untried, and one of them is tried at ``next_probe_at`` (the probe), at a growing
    interval. One success closes the breaker.
    """

    __tablename__ = "channel_breaker"

    key: str = Field(primary_key=True, max_length=40)
    failures: int = 0  # in a row, since the last success
    failing_since: datetime | None = _instant()  # the first of those failures
    opened_at: datetime | None = _instant()  # paused since; None: messages are sent as usual
    probes: int = 0  # failed probes since it was paused (the next probe waits longer)
    next_probe_at: datetime | None = _instant()  # while paused: when one message may be tried
    last_error: str | None = Field(default=None, max_length=2000)
    last_failure_at: datetime | None = _instant()
    recovered_at: datetime | None = _instant()  # when it was last closed after a pause


class DeliveryRequeue(SQLModel, table=True):
    """When an administrator last put a dead delivery back in the queue: its retry age counts from
    then, not from when it was first queued (a table of its own: ``delivery`` keeps its columns)."""

    __tablename__ = "delivery_requeue"

    delivery_id: int = Field(foreign_key="delivery.id", primary_key=True)
    requeued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    requeued_by: int | None = Field(default=None, foreign_key="app_user.id")
