"""The dead letters: finding them by channel, event type and day, and putting them back in the queue.

An administrator recovers from an outage with one action over every dead message of a channel
(narrowed by event type and the days they were queued), however many there are; the page lists
them a page at a time and says how many the action will cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, and_, func, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from notifications.breaker import key_condition
from notifications.models import Delivery, DeliveryRequeue
from workflows.clock import local_zone
from workflows.errors import FieldProblem, InvalidInput
from workflows.outbox import OutboxEvent, event_types

DIGEST = "digest"  # the officers' daily digest: a message of no single event


def event_choices() -> tuple[str, ...]:
    """The event types a filter may name (every procedure's, then the digest)."""
    return (*sorted(event_types()), DIGEST)


@dataclass(frozen=True)
class DeadFilter:
    """Which dead deliveries: a channel key (``email``, ``webhook:<id>``, ``sms:<id>``), an event
    type (or ``digest``), and the local days they were queued, both inclusive. None: any."""

    channel: str | None = None
    event_type: str | None = None
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        """The filter as the page's form fields (ISO dates, as ``<input type="date">`` sends them)."""
        return {
            "channel": self.channel or "",
            "event_type": self.event_type or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }

    def describe(self) -> dict[str, str | None]:
        """For the audit trail."""
        return {
            "channel": self.channel,
            "event_type": self.event_type,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def _day(text: str) -> date:
    text = text.strip()
    if "/" in text:
        day, month, year = text.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def parse_filter(values: Mapping[str, Any], channels: set[str]) -> DeadFilter:
    """The filter from a form or a query; ``InvalidInput`` naming each field at fault."""
    text = {k: str(values.get(k) or "").strip()[:40] for k in ("channel", "event_type", "since", "until")}
    problems = []
    if text["channel"] and text["channel"] not in channels:
        problems.append(FieldProblem("channel", "Kênh không hợp lệ.", "Unknown channel.", "enum"))
    if text["event_type"] and text["event_type"] not in event_choices():
        problems.append(
            FieldProblem("event_type", "Loại sự kiện không hợp lệ.", "Unknown event type.", "enum")
        )
    days: dict[str, date | None] = {}
    for name in ("since", "until"):
        try:
            days[name] = _day(text[name]) if text[name] else None
        except (ValueError, OverflowError):  # not a date, or numbers too large for one
            days[name] = None
            problems.append(
                FieldProblem(name, "Nhập ngày theo dạng dd/mm/yyyy.", "Enter a date as dd/mm/yyyy.", "format")
            )
    since, until = days["since"], days["until"]
    if since and until and since > until:
        problems.append(
            FieldProblem(
                "until",
                "Ngày kết thúc phải sau ngày bắt đầu.",
                "The end date must not be before the start.",
                "range",
            )
        )
    if problems:
        raise InvalidInput("Bộ lọc chưa hợp lệ.", "The filter is not valid.", "validation_error", problems)
    return DeadFilter(text["channel"] or None, text["event_type"] or None, since, until)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, local_zone())


def conditions(flt: DeadFilter) -> list[Any]:
    """The filter as SQL conditions on ``Delivery`` (the status aside)."""
    found: list[Any] = []
    if flt.channel:
        found.append(key_condition(flt.channel))
    if flt.event_type == DIGEST:
        found.append(Delivery.event_id.is_(None))
    elif flt.event_type:
        found.append(Delivery.event_id.in_(select(OutboxEvent.id).where(OutboxEvent.type == flt.event_type)))
    if flt.since:
        found.append(Delivery.created_at >= _midnight(flt.since))
    if flt.until:
        found.append(Delivery.created_at < _midnight(flt.until + timedelta(days=1)))
    return found


def find(
    session: Session, flt: DeadFilter, limit: int, offset: int = 0
) -> tuple[list[tuple[Delivery, str]], int]:
    """One page of the dead deliveries matching, newest first, each with its event type; the total."""
    where = and_(Delivery.status == "dead", *conditions(flt))
    total = session.exec(select(func.count()).select_from(Delivery).where(where)).one()
    rows = session.exec(
        select(Delivery, OutboxEvent.type)
        .outerjoin(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .where(where)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [(delivery, event_type or DIGEST) for delivery, event_type in rows], int(total)


def requeue(session: Session, where: list[Any], admin_id: int | None, instant: datetime) -> int:
    """Put the dead deliveries matching back in the queue, due now, attempts reset, their retry age
    counted from now; how many. Runs in the caller's transaction."""
    dead = and_(Delivery.status == "dead", *where)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    windows = insert(DeliveryRequeue).from_select(
        ["delivery_id", "requeued_at", "requeued_by"],
        select(Delivery.id, literal(instant, DateTime(timezone=True)), literal(admin_id, Integer)).where(
            dead
        ),
    )
    session.execute(
        windows.on_conflict_do_update(
            index_elements=["delivery_id"],
            set_={"requeued_at": windows.excluded.requeued_at, "requeued_by": windows.excluded.requeued_by},
        )
    )
    result = session.execute(
        update(Delivery)
        .where(dead)
        .values(status="pending", attempts=0, next_attempt_at=instant, lease_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
