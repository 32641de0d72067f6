"""The officers' list of metrology violation warnings and what they do with one (issue 18):
longest-standing first, filtered by kind, commune and cause; plan an inspection, record that the
owner was contacted, or close it with a reason, each audited in the instrument's stream. The sweep
and the reports that open warnings are in :mod:`workflows.metrology.alerts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from workflows import audit, permissions
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.metrology.alerts import ACTIONS, CLOSED
from workflows.metrology.models import Instrument, ViolationWarning
from workflows.models import User
from workflows.runtime import Runtime


@dataclass(frozen=True)
class WarningRow:
    warning: ViolationWarning
    instrument: Instrument
    days: int  # since the violation began


@dataclass(frozen=True)
class WarningPage:
    items: list[WarningRow]
    total: int
    today: date


def warnings(
    rt: Runtime,
    actor: User,
    *,
    kind: str | None = None,
    commune: str | None = None,
    cause: str | None = None,
    closed: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> WarningPage:
    """The warnings still to handle (or, ``closed``, the closed ones), longest-standing first."""
    permissions.require(actor, permissions.METROLOGY_WARNINGS)
    today = office_day(now())
    conditions = [(ViolationWarning.state == CLOSED) if closed else (ViolationWarning.state != CLOSED)]
    if kind:
        conditions.append(Instrument.kind == kind)
    if commune:
        # Exactly as registered, spaces aside: SQLite's lower() knows no Vietnamese capitals.
        conditions.append(Instrument.commune == " ".join(commune.split()))
    if cause:
        conditions.append(ViolationWarning.cause == cause)
    joined = (
        select(ViolationWarning, Instrument)
        .join(Instrument, col(Instrument.id) == ViolationWarning.instrument_id)
        .where(and_(*conditions))
    )
    with reading(rt.engine) as session:
        total = session.exec(
            select(func.count())
            .select_from(ViolationWarning)
            .join(Instrument, col(Instrument.id) == ViolationWarning.instrument_id)
            .where(and_(*conditions))
        ).one()
        rows = session.exec(
            joined.order_by(col(ViolationWarning.since), col(ViolationWarning.id)).limit(limit).offset(offset)
        ).all()
    items = [WarningRow(w, i, (today - w.since).days) for w, i in rows]
    return WarningPage(items, int(total), today)


def handle(
    rt: Runtime, actor: User, warning_id: int, action: str, version: int, note: str
) -> ViolationWarning:
    """Plan an inspection, record that the owner was contacted, or close the warning (a reason is
    required). ``version`` is the one the officer saw: another officer's change since, or a
    closed warning, is refused (409) rather than overwritten."""
    permissions.require(actor, permissions.METROLOGY_WARNINGS)
    note = note.strip()
    if action == "close" and not note:
        raise InvalidInput(
            "Cần ghi lý do đóng cảnh báo.",
            "A reason is required to close a warning.",
            "validation_error",
            [
                FieldProblem(
                    "note", "Cần ghi lý do đóng cảnh báo.", "A reason is required to close a warning."
                )
            ],
        )
    with transaction(rt.engine) as session:
        warning = session.exec(
            select(ViolationWarning).where(ViolationWarning.id == warning_id).with_for_update()
        ).first()
        if warning is None:
            raise not_found("cảnh báo", "Warning")
        if warning.state == CLOSED:
            raise Conflict("Cảnh báo đã được đóng.", "The warning has been closed.", "warning_closed")
        if warning.version != version:
            raise Conflict(
                "Cảnh báo đã được người khác cập nhật; hãy tải lại.",
                "Someone else updated the warning; reload it.",
                "stale_warning",
            )
        apply_action(session, actor, warning, action, note)
        session.refresh(warning)
        session.expunge(warning)
    return warning


def apply_action(session: Session, actor: User, warning: ViolationWarning, action: str, note: str) -> None:
    """Move ``warning`` by ``action`` (one of ACTIONS) in the caller's transaction, audited: what
    :func:`handle` does once it has checked the officer's view, and what an inspection campaign's
    handling of a violation does to the warning it found."""
    instant = now()
    before = warning.state
    warning.state = ACTIONS[action]
    if action == "close":
        warning.closed_reason = note
    else:
        warning.note = note
    warning.version += 1
    warning.updated_at, warning.updated_by_id = instant, actor.id
    session.add(warning)
    audit.record(
        session,
        f"instrument:{warning.instrument_id}",
        f"warning_{warning.state}",
        actor,
        {"warning_id": warning.id, "from": before, "note": note},
        at=instant,
    )
    session.flush()


def open_warning_of(session: Session, instrument_id: int) -> int | None:
    """The instrument's longest-standing warning not yet closed, if any."""
    return session.exec(
        select(ViolationWarning.id)
        .where(ViolationWarning.instrument_id == instrument_id, ViolationWarning.state != CLOSED)
        .order_by(col(ViolationWarning.since), col(ViolationWarning.id))
    ).first()


def warning_instrument(rt: Runtime, warning: ViolationWarning) -> Instrument:
    with reading(rt.engine) as session:
        instrument = session.get(Instrument, warning.instrument_id)
        assert instrument is not None
        return instrument
