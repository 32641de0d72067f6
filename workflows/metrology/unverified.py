"""Instruments registered but never verified (issue 18, "alerts and warnings").

An instrument its owner or an officer registered (``workflows.metrology.registration``) has no
verification until a verification body reports one. Every kind of the list must be verified
(group 2: Luật Đo lường 04/2011/QH13, Điều 16), so once ``metrology_unverified_grace_working_days``
working days have passed since the day of registration (the runtime's working-time calendar
counts them, the day itself not counted) with still no verification, the daily sweep
(:func:`workflows.metrology.alerts.sweep`) opens an ``unverified`` warning — once per instrument
(a partial unique index, migration 0023) — dated from the day after the grace period ended. The
same sweep closes it once a verification has been reported.

This module finds what is due; the alerts open and close the warnings, in sets, with the other
causes' (so each is audited and announced to the partners the same way).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, select

from workflows.calendar import WorkingCalendar
from workflows.catalogue import office_day
from workflows.clock import local_zone
from workflows.metrology.kinds import KINDS
from workflows.metrology.models import Instrument, ViolationWarning

UNVERIFIED = "unverified"
LABEL = ("Đã đăng ký nhưng chưa kiểm định", "Registered but never verified")
SETTLED_REASON = "Đã có kết quả kiểm định / A verification was reported"


def grace_end(calendar: WorkingCalendar, registered_on: date, working_days: int) -> date:
    """The ``working_days``-th working day after the day of registration: the last day of grace."""
    return calendar.working_day_after(registered_on, working_days)


def last_day_due(calendar: WorkingCalendar, today: date, working_days: int) -> date:
    """The latest day of registration whose grace has ended before ``today`` (the grace's end
    grows with the day of registration, so every earlier day's has ended too)."""
    day = today - timedelta(days=1)
    while grace_end(calendar, day, working_days) >= today:
        day -= timedelta(days=1)
    return day


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), local_zone()).astimezone(UTC)


def due(
    session: Session, today: date, calendar: WorkingCalendar, working_days: int
) -> list[tuple[Instrument, date, dict[str, Any]]]:
    """Each instrument past its grace with no verification and no ``unverified`` warning yet, with
    the day its warning runs from and the facts the warning's audit event records."""
    cutoff = _start_of(last_day_due(calendar, today, working_days) + timedelta(days=1))
    to_verify = [k.code for k in KINDS if k.in_force(today)]
    warned = exists().where(
        ViolationWarning.cause == UNVERIFIED, ViolationWarning.instrument_id == Instrument.id
    )
    instruments = session.exec(
        select(Instrument)
        .where(
            col(Instrument.current_verification_id).is_(None),
            col(Instrument.kind).in_(to_verify),
            col(Instrument.registered_at) < cutoff,
            ~warned,
        )
        .order_by(col(Instrument.id))
    ).all()
    found = []
    for instrument in instruments:
        ended = grace_end(calendar, office_day(instrument.registered_at), working_days)
        details = {"grace_working_days": working_days, "grace_ended": ended.isoformat()}
        found.append((instrument, ended + timedelta(days=1), details))
    return found


def to_settle(session: Session, closed: str) -> list[ViolationWarning]:
    """The ``unverified`` warnings not yet in state ``closed`` whose instrument has been verified
    since, locked for closing."""
    return list(
        session.exec(
            select(ViolationWarning)
            .join(Instrument, col(Instrument.id) == ViolationWarning.instrument_id)
            .where(
                ViolationWarning.cause == UNVERIFIED,
                ViolationWarning.state != closed,
                col(Instrument.current_verification_id).is_not(None),
            )
            .order_by(col(ViolationWarning.id))
            .with_for_update(of=ViolationWarning)
        ).all()
    )
