"""SLA alarms: when to warn, and what firing one does.

* a task: a reminder to its assignee (or role) at 75% of its budget, an escalation to the leader
  role at its due time;
* a received dossier: "at risk" at 75% of the committed time, "appointment missed" at the
  appointment, "legal limit missed" at the legal deadline.

Alarms are rows with a due instant; the scheduler fires them (``workflows.scheduler``). Whenever a
deadline moves (a pause, an extension) the dossier's pending alarms are recomputed; a task's are
deleted when it is done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlmodel import Session

from workflows import audit
from workflows.calendar import WorkingCalendar
from workflows.clock import as_utc
from workflows.context import CommandContext
from workflows.models import Alarm, Dossier, WorkTask
from workflows.outbox import dossier_event

REMINDER_SHARE = 0.75
DOSSIER_KINDS = ("appointment_at_risk", "appointment_missed", "legal_limit_missed")


def share_of(calendar: WorkingCalendar, start: datetime, end: datetime, share: float) -> datetime:
    """The instant ``share`` of the office time from ``start`` to ``end`` has passed."""
    span = calendar.working_time_between(start, end)
    return calendar.add_working_time(start, span * share)


_ALARM = Alarm.__table__  # type: ignore[attr-defined]


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """New alarms, written at once in one statement: nothing in a command reads an alarm back as
    an object, and the rows are in the database for the deletes that may follow in the same
    command (a task closed by the run that opened it)."""
    if rows:
        session.execute(insert(_ALARM), [{**_EMPTY, **row} for row in rows])


_EMPTY = {"task_id": None, "recipient_role": None, "recipient_user_id": None, "fired_at": None}


def schedule_task_alarms(ctx: CommandContext, task: WorkTask) -> None:
    if task.due_at is None:
        return
    created, due = as_utc(task.created_at), as_utc(task.due_at)
    reminder = {
        "dossier_id": ctx.dossier.id,
        "task_id": task.id,
        "kind": "task_reminder",
        "due_at": share_of(ctx.rt.calendar, created, due, REMINDER_SHARE),
        "recipient_role": task.candidate_role,
        "recipient_user_id": task.assignee_id,
    }
    escalation = {
        "dossier_id": ctx.dossier.id,
        "task_id": task.id,
        "kind": "task_escalation",
        "due_at": due,
        "recipient_role": "leader",
    }
    _insert(ctx.session, [reminder, escalation])


# Built once: commands run it on every step (building a statement costs more than running it). The
# deletes stay ORM statements built per call: they flush the session first, so an alarm being
# fired in it is not taken for a pending one.
_FIRED_DOSSIER_ALARMS = select(_ALARM.c.kind).where(
    _ALARM.c.dossier_id == bindparam("dossier"), _ALARM.c.task_id.is_(None), _ALARM.c.fired_at.is_not(None)
)


def drop_task_alarms(session: Session, task_id: str) -> None:
    session.execute(delete(Alarm).where(Alarm.task_id == task_id, Alarm.fired_at.is_(None)))


def schedule_dossier_alarms(ctx: CommandContext) -> None:
    """(Re)compute the dossier's pending deadline alarms from its current deadlines."""
    dossier = ctx.dossier
    ctx.session.execute(
        delete(Alarm).where(Alarm.dossier_id == dossier.id, Alarm.task_id.is_(None), Alarm.fired_at.is_(None))
    )
    if dossier.received_at is None or dossier.completed_at is not None or dossier.appointment_at is None:
        return
    received, appointment = as_utc(dossier.received_at), as_utc(dossier.appointment_at)
    fired = {kind for (kind,) in ctx.session.execute(_FIRED_DOSSIER_ALARMS, {"dossier": dossier.id})}
    legal = as_utc(dossier.legal_due_at) if dossier.legal_due_at else None
    plan = dossier_alarm_plan(ctx.rt.calendar, received, appointment, legal)
    # A warning already given is not given again for the same deadline, unless it moved later.
    _insert(
        ctx.session,
        [
            dossier_alarm_row(dossier.id, kind, due)
            for kind, due in plan.items()
            if due is not None and not (kind in fired and due <= ctx.at)
        ],
    )


def dossier_alarm_row(dossier_id: int, kind: str, due: datetime) -> dict[str, Any]:
    """A dossier's deadline alarm of ``kind`` due at ``due``: the specialist hears of the risk,
    the leader of a missed deadline."""
    return {
        "dossier_id": dossier_id,
        "kind": kind,
        "due_at": due,
        "recipient_role": "leader" if kind != "appointment_at_risk" else "specialist",
    }


def dossier_alarm(dossier_id: int, kind: str, due: datetime) -> Alarm:
    """:func:`dossier_alarm_row` as an object, for a caller that adds it to its session."""
    return Alarm(**dossier_alarm_row(dossier_id, kind, due))


def dossier_alarm_plan(
    calendar: WorkingCalendar, received: datetime, appointment: datetime, legal_due: datetime | None
) -> dict[str, datetime | None]:
    """When each of a received dossier's deadline alarms falls due, by kind."""
    return {
        "appointment_at_risk": share_of(calendar, received, appointment, REMINDER_SHARE),
        "appointment_missed": appointment,
        "legal_limit_missed": legal_due,
    }


def fire(session: Session, alarm: Alarm, dossier: Dossier, at: datetime) -> None:
    """Record that the alarm went off (the notification channels pick it up from the audit trail)."""
    alarm.fired_at = at
    session.add(alarm)
    dossier_event(
        session,
        alarm.kind,
        dossier,
        at,
        task_id=alarm.task_id,
        recipient_role=alarm.recipient_role,
        recipient_user_id=alarm.recipient_user_id,
        due_at=as_utc(alarm.due_at),
        appointment_at=dossier.appointment_at,
    )
    audit.record(
        session,
        f"dossier:{dossier.id}",
        "alarm",
        None,
        {
            "kind": alarm.kind,
            "task_id": alarm.task_id,
            "recipient_role": alarm.recipient_role,
            "recipient_user_id": alarm.recipient_user_id,
            "due_at": as_utc(alarm.due_at).isoformat(),
        },
        dossier_id=dossier.id,
        at=at,
    )
