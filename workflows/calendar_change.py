"""Changing the working calendar: add or remove an entry, see what it moves, then apply it.

A change to the calendar moves deadlines (DESIGN rule 13: calendar changes are admin acts and
recompute what they move). ``preview`` computes, for every open dossier, what its appointment and
legal deadline, its open tasks' due times, its waiting BPMN timers and its pending alarms would
become under the changed calendar, each the way it was computed (``sla.dossier_deadlines`` from
the receipt, the limits, the extension and the pauses; ``sla.add_budget`` from a task's creation
and its step budget; a timer's own expression, e.g. ``working_days(15)``, evaluated as of when it
started waiting; ``alarms`` for the warnings). ``apply`` writes the entry and all of those in one
transaction, after checking that the preview the administrator saw still holds (its ``token``).
The moves themselves are computed in ``workflows.calendar_moves``.

What is not recomputed: a task's due time a model set itself (``dueVariable``, evaluated once when
the task was created; its reminder is), and a timer on a multiple-event gateway.
No e-mail is sent: the dossier's page, the lookup and the inbox show the new times, and each moved
dossier's history records the recomputation.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from workflows import audit, permissions
from workflows.alarms import dossier_alarm
from workflows.calendar import WorkingCalendar
from workflows.calendar_entries import (
    AUDIT_STREAM,
    DEFAULT_NAMES,
    REVISION_KEY,
    current_revision,
    entries_in_force,
    install,
    load,
)
from workflows.calendar_moves import DEADLINE_KINDS, Change, Move, calendar_of, moves_of
from workflows.clock import now, to_local
from workflows.db import next_in_sequence, reading, transaction
from workflows.engine import RunningProcess
from workflows.engine_runs import script_functions
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.models import (
    CALENDAR_ENTRY_KINDS,
    Alarm,
    CalendarEntry,
    Dossier,
    ProcessInstance,
    User,
    WorkTask,
)

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.calendar")

MAX_TEXT = 300
YEARS_AHEAD = 2  # an entry may be entered for this year and the next two


@dataclass(frozen=True)
class Preview:
    change: Change
    revision: int | None
    moves: list[Move] = field(default_factory=list)

    @property
    def deadlines(self) -> list[Move]:
        """The deadlines and due times that move (what "this change moves N deadlines" counts)."""
        return [m for m in self.moves if m.kind in DEADLINE_KINDS]

    @property
    def alarms(self) -> list[Move]:
        return [m for m in self.moves if m.kind == "alarm"]

    @property
    def count(self) -> int:
        return len(self.deadlines)

    @property
    def dossiers(self) -> int:
        return len({m.dossier_id for m in self.moves})

    @property
    def token(self) -> str:
        """What the administrator saw: the calendar's revision, the change and every move. Applying
        refuses a token that no longer matches (someone changed the calendar or a dossier since)."""
        text = json.dumps(
            [
                self.revision,
                [
                    self.change.action,
                    self.change.day.isoformat(),
                    self.change.kind,
                    self.change.name,
                    self.change.decided_by,
                    self.change.entry_id,
                ],
                [
                    [m.kind, m.dossier_id, m.task_id, m.alarm_id, str(m.old), m.new.isoformat()]
                    for m in self.moves
                ],
            ]
        )
        return f"{self.revision or 0}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


# --- validation ---------------------------------------------------------------------------------


def _invalid(field_name: str, vi: str, en: str) -> InvalidInput:
    return InvalidInput(
        "Thông tin ngày trong lịch chưa hợp lệ.",
        "The calendar entry is not valid.",
        "validation_error",
        [FieldProblem(field_name, vi, en)],
    )


def _office_today() -> date:
    return to_local(now()).date()


def _check_document(decided_by: str) -> str:
    decided_by = " ".join(decided_by.split())
    if not decided_by:
        raise _invalid(
            "decided_by",
            "Cần ghi văn bản quyết định (số, ngày), ví dụ Công văn 12729/VPCP-KGVX ngày 25/12/2025.",
            "The deciding document (number, date) is required, e.g. Công văn 12729/VPCP-KGVX ngày 25/12/2025.",
        )
    if len(decided_by) > MAX_TEXT:
        raise _invalid(
            "decided_by",
            f"Văn bản quyết định dài tối đa {MAX_TEXT} ký tự.",
            f"The deciding document is at most {MAX_TEXT} characters.",
        )
    return decided_by


def _check_day_open(day: date) -> None:
    today = _office_today()
    if day < today:
        raise _invalid(
            "day",
            f"Ngày {day:%d/%m/%Y} đã qua: lịch của những ngày đã qua không sửa được.",
            f"{day:%d/%m/%Y} is past: the calendar of past days cannot be changed.",
        )
    if day.year > today.year + YEARS_AHEAD:
        raise _invalid(
            "day",
            f"Chỉ nhập được ngày đến hết năm {today.year + YEARS_AHEAD}.",
            f"Days can be entered up to the end of {today.year + YEARS_AHEAD}.",
        )


def propose_addition(rt: Runtime, actor: User, day: date, kind: str, name: str, decided_by: str) -> Change:
    """An addition by ``actor``, checked (InvalidInput naming the field), not saved."""
    permissions.require(actor, permissions.CALENDAR_MANAGE)
    with reading(rt.engine) as session:
        return addition(session, rt.calendar, day, kind, name, decided_by)


def propose_removal(rt: Runtime, actor: User, entry_id: int, decided_by: str) -> Change:
    """The removal of entry ``entry_id`` by ``actor``, checked, not saved."""
    permissions.require(actor, permissions.CALENDAR_MANAGE)
    with reading(rt.engine) as session:
        return removal(session, entry_id, decided_by)


def addition(
    session: Session, calendar: WorkingCalendar, day: date, kind: str, name: str, decided_by: str
) -> Change:
    """A checked addition: a day off on a working day, a working day on a day off, with the
    deciding document; else InvalidInput naming the field."""
    if kind not in CALENDAR_ENTRY_KINDS:
        raise _invalid(
            "kind",
            "Loại ngày phải là ngày nghỉ hoặc ngày làm việc bù.",
            "The kind is a day off or a working day.",
        )
    _check_day_open(day)
    name = " ".join(name.split()) or DEFAULT_NAMES[kind]
    if len(name) > MAX_TEXT:
        raise _invalid(
            "name", f"Tên dài tối đa {MAX_TEXT} ký tự.", f"The name is at most {MAX_TEXT} characters."
        )
    decided_by = _check_document(decided_by)
    existing = next((e for e in entries_in_force(session) if e.day == day), None)
    if existing is not None:
        raise _invalid(
            "day",
            f"Ngày {day:%d/%m/%Y} đã có trong lịch ({existing.name}); hãy xóa mục đó trước.",
            f"{day:%d/%m/%Y} already has an entry ({existing.name}); remove it first.",
        )
    current = calendar_of(calendar, entries_in_force(session))
    if kind == "day_off" and not current.is_working_day(day):
        raise _invalid(
            "day",
            f"Ngày {day:%d/%m/%Y} đã là ngày nghỉ.",
            f"{day:%d/%m/%Y} is already a day off.",
        )
    if kind == "working_day" and current.is_working_day(day):
        raise _invalid(
            "day",
            f"Ngày {day:%d/%m/%Y} đã là ngày làm việc: ngày làm việc bù là một ngày nghỉ (thứ Bảy, ngày lễ) được làm việc.",
            f"{day:%d/%m/%Y} is already a working day: a make-up working day is a day off (a Saturday, a holiday) that is worked.",
        )
    return Change("add", day, kind, name, decided_by)


def removal(session: Session, entry_id: int, decided_by: str) -> Change:
    entry = session.get(CalendarEntry, entry_id)
    if entry is None or entry.removed_at is not None:
        raise not_found("ngày trong lịch", "Calendar entry")
    _check_day_open(entry.day)
    return Change("remove", entry.day, entry.kind, entry.name, _check_document(decided_by), entry.id)


def preview(rt: Runtime, actor: User, change: Change) -> Preview:
    """What ``change`` would move, computed on the database's calendar entries (not saved)."""
    permissions.require(actor, permissions.CALENDAR_MANAGE)
    with reading(rt.engine) as session:
        return Preview(change, current_revision(session), moves_of(rt, session, change))


def apply(rt: Runtime, actor: User, change: Change, token: str) -> Preview:
    """Save the change and everything it moves in one transaction, if the preview the
    administrator confirmed (``token``) still holds; else Conflict ``calendar_preview_stale``."""
    permissions.require(actor, permissions.CALENDAR_MANAGE)
    with transaction(rt.engine) as session:
        # Taking the next revision locks the counter: changes to the calendar go one at a time.
        revision = next_in_sequence(session, REVISION_KEY)
        # Then every open dossier, in one order (workflows.locking): a command in flight commits
        # first and is recomputed here; one that starts now waits, then reads the new revision.
        _lock_open_dossiers(session)
        done = Preview(change, revision - 1, moves_of(rt, session, change))
        if done.token != token or not _still_valid(session, change):
            raise Conflict(
                "Bản xem trước đã cũ: lịch hoặc hồ sơ vừa thay đổi. Hãy xem lại thay đổi trước khi lưu.",
                "The preview is out of date: the calendar or a dossier changed since. Review the change again before saving.",
                "calendar_preview_stale",
            )
        at = now()
        entry = _write_entry(session, actor, change, at)
        _write_moves(rt, session, actor, change, done.moves, at)
        audit.record(
            session,
            AUDIT_STREAM,
            "calendar_entry_added" if change.action == "add" else "calendar_entry_removed",
            actor,
            {
                "entry_id": entry.id,
                "day": change.day.isoformat(),
                "kind": change.kind,
                "name": change.name,
                "decided_by": change.decided_by,
                "revision": revision,
                "deadlines_moved": done.count,
                "alarms_moved": len(done.alarms),
                "dossiers": sorted({m.dossier_code for m in done.moves}),
            },
            at=at,
        )
        overrides = load(session)
    install(rt.calendar, overrides)
    log.info(
        "Calendar %s %s (%s) by user %s: %d deadlines and %d alarms moved",
        change.action,
        change.day.isoformat(),
        change.kind,
        actor.id,
        done.count,
        len(done.alarms),
    )
    return done


def _move_timers(rt: Runtime, session: Session, dossier: Dossier, timers: dict[str | None, datetime]) -> None:
    instance = session.exec(select(ProcessInstance).where(ProcessInstance.dossier_id == dossier.id)).one()
    process = RunningProcess.restore(
        rt.models.get(instance.model_version_id),
        instance.state,
        script_functions(rt, rt.procedure_of(dossier)),
    )
    for task_id, instant in timers.items():
        process.move_timer(str(task_id), instant)
    instance.state = process.serialize()
    instance.next_timer_at = process.next_timer_at()
    instance.version += 1
    session.add(instance)


def _lock_open_dossiers(session: Session) -> None:
    open_ids = select(Dossier.id).where(Dossier.completed_at.is_(None))
    session.exec(
        select(ProcessInstance.id)
        .where(ProcessInstance.dossier_id.in_(open_ids))
        .order_by(ProcessInstance.dossier_id)
        .with_for_update()
    ).all()


def _still_valid(session: Session, change: Change) -> bool:
    """The change still makes sense (an entry to remove is still in force; the day still free)."""
    in_force = {e.day: e for e in entries_in_force(session)}
    if change.action == "remove":
        entry = in_force.get(change.day)
        return entry is not None and entry.id == change.entry_id
    return change.day not in in_force


def _write_entry(session: Session, actor: User, change: Change, at: datetime) -> CalendarEntry:
    if change.action == "remove":
        entry = session.get(CalendarEntry, change.entry_id)
        assert entry is not None
        entry.removed_at = at
        entry.removed_by_id = actor.id
        entry.removal_decided_by = change.decided_by
    else:
        entry = CalendarEntry(
            day=change.day,
            kind=change.kind,
            name=change.name,
            decided_by=change.decided_by,
            source="admin",
            created_by_id=actor.id,
            created_at=at,
        )
    session.add(entry)
    session.flush()
    return entry


def _write_moves(
    rt: Runtime, session: Session, actor: User, change: Change, moves: list[Move], at: datetime
) -> None:
    by_dossier: dict[int, list[Move]] = {}
    for move in moves:
        by_dossier.setdefault(move.dossier_id, []).append(move)
    for dossier_id, its_moves in by_dossier.items():
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        for move in its_moves:
            if move.kind == "appointment":
                dossier.appointment_at = move.new
            elif move.kind == "legal_due":
                dossier.legal_due_at = move.new
            elif move.kind == "timer":
                continue  # below, in the process instance
            elif move.kind == "task_due":
                task = session.get(WorkTask, move.task_id)
                assert task is not None
                task.due_at = move.new
                session.add(task)
            elif move.alarm_id is None:  # a warning given before, due again later
                session.add(dossier_alarm(dossier_id, str(move.alarm_kind), move.new))
            else:
                alarm = session.get(Alarm, move.alarm_id)
                assert alarm is not None
                alarm.due_at = move.new
                session.add(alarm)
        dossier.updated_at = at
        session.add(dossier)
        timers = {m.task_id: m.new for m in its_moves if m.kind == "timer"}
        if timers:
            _move_timers(rt, session, dossier, timers)
        audit.record(
            session,
            f"dossier:{dossier_id}",
            "deadlines_recomputed",
            actor,
            {
                "reason": f"{change.day:%d/%m/%Y}: {change.name}",
                "decided_by": change.decided_by,
                "moves": [
                    {
                        "what": m.alarm_kind or m.kind,
                        "task_id": m.task_id,
                        "before": m.old.isoformat() if m.old else None,
                        "after": m.new.isoformat(),
                    }
                    for m in its_moves
                ],
            },
            dossier_id=dossier_id,
            at=at,
        )


def next_year_unplanned(rt: Runtime, today: date | None = None) -> int | None:
    """In November and December: next year, when it has no calendar entry yet (only the holidays
    package's days); else None. The government announces the New Year and Tết swaps late in the
    year, and the package may not know them."""
    today = today or _office_today()
    if today.month < 11:
        return None
    year = today.year + 1
    with reading(rt.engine) as session:
        entries = entries_in_force(session)
    if any(e.day.year == year for e in entries):
        return None
    return year
