"""What a change to the working calendar moves, computed the way each instant was computed.

For every open dossier: its appointment and legal deadline (``sla.dossier_deadlines`` from the
receipt, the limits, the extension and the pauses), its open tasks' due times (``sla.add_budget``
from a task's creation and its step budget), its waiting BPMN timers (a timer's own expression,
e.g. ``working_days(15)``, evaluated as of when it started waiting) and its pending alarms
(``alarms`` for the warnings). ``workflows.calendar_change`` shows these and applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from sqlmodel import Session, select

from workflows import sla
from workflows.alarms import REMINDER_SHARE, dossier_alarm_plan, share_of
from workflows.calendar import WorkingCalendar
from workflows.calendar_entries import entries_in_force, overrides_of
from workflows.catalogue import Procedure
from workflows.clock import as_utc, now
from workflows.engine import RunningProcess
from workflows.engine_runs import script_functions
from workflows.models import Alarm, CalendarEntry, ClockPause, Dossier, ProcessInstance, WorkTask

if TYPE_CHECKING:
    from workflows.runtime import Runtime

MoveKind = Literal["appointment", "legal_due", "task_due", "timer", "alarm"]
DEADLINE_KINDS = ("appointment", "legal_due", "task_due", "timer")


@dataclass(frozen=True)
class Change:
    """Add an entry (``entry_id`` None) or remove the entry ``entry_id``; ``decided_by`` is the
    deciding document of the change (for a removal: the document that cancels the day)."""

    action: Literal["add", "remove"]
    day: date
    kind: str
    name: str
    decided_by: str
    entry_id: int | None = None


@dataclass(frozen=True)
class Move:
    """One instant the change moves: a dossier's deadline, a task's due time or a pending alarm."""

    kind: MoveKind
    dossier_id: int
    dossier_code: str
    old: datetime | None
    new: datetime
    task_id: str | None = None
    task_name: str | None = None
    task_name_en: str | None = None
    alarm_id: int | None = None
    alarm_kind: str | None = None


def calendar_of(base: WorkingCalendar, entries: list[CalendarEntry]) -> WorkingCalendar:
    return base.with_overrides(*overrides_of(entries))


def changed_entries(entries: list[CalendarEntry], change: Change) -> list[CalendarEntry]:
    if change.action == "remove":
        return [e for e in entries if e.id != change.entry_id]
    return [
        *entries,
        CalendarEntry(day=change.day, kind=change.kind, name=change.name, decided_by=change.decided_by),
    ]


def moves_of(rt: Runtime, session: Session, change: Change) -> list[Move]:
    entries = entries_in_force(session)
    before = calendar_of(rt.calendar, entries)
    after = calendar_of(rt.calendar, changed_entries(entries, change))
    at = now()
    moves: list[Move] = []
    rows = session.exec(
        select(Dossier, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.dossier_id == Dossier.id)
        .where(Dossier.completed_at.is_(None))
        .order_by(Dossier.id)
    ).all()
    for dossier, instance in rows:
        procedure = rt.catalogue.for_dossier(dossier)
        if procedure is None:
            continue
        alarms = list(
            session.exec(
                select(Alarm)
                .where(Alarm.dossier_id == dossier.id, Alarm.fired_at.is_(None))
                .order_by(Alarm.id)
            )
        )
        if dossier.received_at is not None:
            moves += _deadline_moves(session, dossier, procedure, alarms, before, after, at)
        moves += _task_moves(session, dossier, procedure, alarms, before, after)
        if instance.next_timer_at is not None and not instance.completed:
            moves += _timer_moves(rt, dossier, procedure, instance, before, after)
    return moves


def _deadline_moves(
    session: Session,
    dossier: Dossier,
    procedure: Procedure,
    alarms: list[Alarm],
    before: WorkingCalendar,
    after: WorkingCalendar,
    at: datetime,
) -> list[Move]:
    """The appointment and legal deadline (``sla.dossier_deadlines``, as ``effects.refresh_deadlines``
    computes them) and the dossier's pending deadline alarms."""
    pauses = session.exec(select(ClockPause).where(ClockPause.dossier_id == dossier.id)).all()
    # A paused dossier keeps the deadlines computed when its clock last ran (its pause's length is
    # added when it resumes): both computations stop at the open pause's start.
    open_since = next((as_utc(p.started_at) for p in pauses if p.ended_at is None), None)
    until = open_since or at
    sla_pauses = [sla.Pause(as_utc(p.started_at), as_utc(p.ended_at) if p.ended_at else None) for p in pauses]
    received = as_utc(dossier.received_at)  # type: ignore[arg-type]

    def deadlines(calendar: WorkingCalendar) -> sla.Deadlines:
        return sla.dossier_deadlines(
            calendar,
            received,
            procedure.committed_days + dossier.extension_days,
            procedure.legal_days,
            sla_pauses,
            until,
        )

    old, new = deadlines(before), deadlines(after)
    code, moves = dossier.code, []
    assert dossier.id is not None
    if old.appointment_at != new.appointment_at:
        moves.append(
            Move("appointment", dossier.id, code, _aware(dossier.appointment_at), new.appointment_at)
        )
    if old.legal_due_at != new.legal_due_at:
        moves.append(Move("legal_due", dossier.id, code, _aware(dossier.legal_due_at), new.legal_due_at))
    plan = dossier_alarm_plan(after, received, new.appointment_at, new.legal_due_at)
    pending = set()
    for alarm in alarms:
        due = plan.get(alarm.kind)
        if alarm.task_id is None:
            pending.add(alarm.kind)
        if alarm.task_id is None and due is not None and due != as_utc(alarm.due_at):
            moves.append(
                Move(
                    "alarm",
                    dossier.id,
                    code,
                    as_utc(alarm.due_at),
                    due,
                    alarm_id=alarm.id,
                    alarm_kind=alarm.kind,
                )
            )
    # As ``alarms.schedule_dossier_alarms`` does: a warning already given is given again when its
    # deadline moved later than now (the dossier is no longer at risk until then).
    fired = set(
        session.exec(
            select(Alarm.kind).where(
                Alarm.dossier_id == dossier.id, Alarm.task_id.is_(None), Alarm.fired_at.is_not(None)
            )
        )
    )
    for kind, due in plan.items():
        if due is not None and kind in fired - pending and due > at:
            moves.append(Move("alarm", dossier.id, code, None, due, alarm_kind=kind))
    return moves


def _task_moves(
    session: Session,
    dossier: Dossier,
    procedure: Procedure,
    alarms: list[Alarm],
    before: WorkingCalendar,
    after: WorkingCalendar,
) -> list[Move]:
    """Open tasks' due times (creation + step budget, ``sla.add_budget``) and their alarms."""
    assert dossier.id is not None
    moves: list[Move] = []
    tasks = session.exec(
        select(WorkTask)
        .where(WorkTask.dossier_id == dossier.id, WorkTask.status == "open")
        .order_by(WorkTask.id)
    ).all()
    for task in tasks:
        budget = procedure.step_budgets.get(task.spec_name)
        created = as_utc(task.created_at)
        if budget:
            old_due, new_due = sla.add_budget(before, created, budget), sla.add_budget(after, created, budget)
        elif task.due_at is not None:  # a due time the model set: it stays; its reminder may move
            old_due = new_due = as_utc(task.due_at)
        else:
            continue
        names = {"task_id": task.id, "task_name": task.name, "task_name_en": task.name_en}
        if old_due != new_due:
            moves.append(Move("task_due", dossier.id, dossier.code, _aware(task.due_at), new_due, **names))
        plan = {
            "task_reminder": share_of(after, created, new_due, REMINDER_SHARE),
            "task_escalation": new_due,
        }
        for alarm in alarms:
            due = plan.get(alarm.kind)
            if alarm.task_id == task.id and due is not None and due != as_utc(alarm.due_at):
                moves.append(
                    Move(
                        "alarm",
                        dossier.id,
                        dossier.code,
                        as_utc(alarm.due_at),
                        due,
                        alarm_id=alarm.id,
                        alarm_kind=alarm.kind,
                        **names,
                    )
                )
    return moves


def _timer_moves(
    rt: Runtime,
    dossier: Dossier,
    procedure: Procedure,
    instance: ProcessInstance,
    before: WorkingCalendar,
    after: WorkingCalendar,
) -> list[Move]:
    """The waiting BPMN timers whose expression (``working_days(15)``…) gives another instant on
    the changed calendar, evaluated as of when each started waiting. The timer moves by the
    difference, so it keeps the exact instant it was given otherwise."""
    assert dossier.id is not None
    since: list[datetime] = [now()]
    model = rt.models.get(instance.model_version_id)
    on = {
        name: RunningProcess.restore(
            model, instance.state, script_functions(rt, procedure, calendar, clock=lambda: since[0])
        )
        for name, calendar in (("before", before), ("after", after))
    }
    moves = []
    for timer in on["before"].date_timers():
        since[0] = timer.waiting_since
        old, new = on["before"].evaluate_timer(timer.task_id), on["after"].evaluate_timer(timer.task_id)
        if old is None or new is None or old == new:
            continue
        moves.append(
            Move(
                "timer",
                dossier.id,
                dossier.code,
                timer.instant,
                timer.instant + (new - old),
                task_id=timer.task_id,
                task_name=timer.name or timer.element,
                task_name_en=timer.name or timer.element,
            )
        )
    return moves


def _aware(instant: datetime | None) -> datetime | None:
    return as_utc(instant) if instant is not None else None
