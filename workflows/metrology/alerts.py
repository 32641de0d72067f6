"""The metrology database's alerts and violation warnings (issue 18).

The daily sweep (:func:`sweep`, a scheduler job run by the scheduler lock's holder):

- reminds an instrument's owner — the business accounts whose verified tax code the instrument is
  registered under — when its verification ends within ``metrology_reminder_working_days``
  working days (the runtime's working-time calendar counts them). One ``metrology_reminder`` row
  per verification is written with the reminder's outbox event, so a second sweep the same day,
  after a restart or on another worker sends nothing new;
- opens a warning for each instrument past the end of its verification and each whose latest
  verification failed, once per verification (a unique key: the sweep never opens one twice);
- closes the open warnings whose instrument has a newer verification since.

A lost stamp is reported by its owner or an officer (:func:`report_stamp_lost`). Officers list the
warnings and handle them (:mod:`workflows.metrology.warning_list`): inspection planned, owner
contacted, closed with a reason. Every change is audited in the instrument's stream ``instrument:<id>`` and
each new warning emits ``metrology_warning_opened``, which a partner's webhook (market
surveillance) subscribes to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from workflows import audit, calendar_entries, outbox, permissions
from workflows.calendar import WorkingCalendar
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading, transaction
from workflows.errors import Conflict, FieldProblem, InvalidInput, not_found
from workflows.metrology import unverified
from workflows.metrology.kinds import kind as kind_of
from workflows.metrology.models import ExpiryReminder, Instrument, VerificationRecord, ViolationWarning
from workflows.models import User
from workflows.runtime import Runtime
from workflows.tax_codes import VERIFIED

REMINDER_EVENT = "metrology_expiry_reminder"
WARNING_EVENT = "metrology_warning_opened"

OVERDUE, FAILED, STAMP_LOST = "overdue", "failed", "stamp_lost"
CAUSES = (OVERDUE, FAILED, STAMP_LOST, unverified.UNVERIFIED)
OPEN, INSPECTION_PLANNED, OWNER_CONTACTED, CLOSED = "open", "inspection_planned", "owner_contacted", "closed"
STATES = (OPEN, INSPECTION_PLANNED, OWNER_CONTACTED, CLOSED)
# What an officer does to a warning, and the state it leaves the warning in.
ACTIONS = {"plan_inspection": INSPECTION_PLANNED, "contact_owner": OWNER_CONTACTED, "close": CLOSED}

CAUSE_LABELS = {
    OVERDUE: ("Quá hạn kiểm định", "Used past the end of its verification"),
    FAILED: ("Không đạt kiểm định", "Failed its latest verification"),
    STAMP_LOST: ("Báo mất tem kiểm định", "Verification stamp reported lost"),
    unverified.UNVERIFIED: unverified.LABEL,
}
STATE_LABELS = {
    OPEN: ("Mới", "Open"),
    INSPECTION_PLANNED: ("Đã lên kế hoạch kiểm tra", "Inspection planned"),
    OWNER_CONTACTED: ("Đã liên hệ chủ phương tiện", "Owner contacted"),
    CLOSED: ("Đã đóng", "Closed"),
}
NOTE_LENGTH = 1000  # ViolationWarning.note's column
# What the sweep writes when a newer verification settles a warning.
SETTLED_REASON = "Đã có kết quả kiểm định mới / A newer verification was reported"


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def reminder_horizon(calendar: WorkingCalendar, today: date, working_days: int) -> date:
    """The ``working_days``-th working day after ``today``: a verification ending on or before it
    ends within that many working days (one ending on a day off counts from the working day
    before it)."""
    return calendar.working_day_after(today, working_days)


def _insert_once(session: Session, table: Any, values: dict[str, Any], key: list[str] | None) -> Any:
    """Insert unless the unique ``key`` is taken (another sweep, another report came first): the
    inserted row's first column, or None."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    primary = next(iter(table.__table__.primary_key.columns))
    return session.execute(statement.returning(primary)).scalar_one_or_none()


def _insert_many(
    session: Session, table: Any, rows: list[dict[str, Any]], key: list[str], where: Any = None
) -> dict[tuple[Any, ...], Any]:
    """:func:`_insert_once` for many rows, in a few statements: the inserted rows' first column by
    their ``key``'s values (a row whose key was taken is not among them). ``where`` names a partial
    unique index's condition when the key is one."""
    if not rows:
        return {}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    primary = next(iter(table.__table__.primary_key.columns))
    columns = [table.__table__.c[name] for name in key]
    conflict = insert(table).on_conflict_do_nothing(index_elements=key, index_where=where)
    statement = conflict.returning(primary, *columns)
    found = session.execute(statement, rows).all()
    return {tuple(row[1:]): row[0] for row in found}


def _instrument_facts(instrument: Instrument) -> dict[str, Any]:
    found = kind_of(instrument.kind)
    return {
        "instrument_id": instrument.id,
        "kind": instrument.kind,
        "kind_vi": found.name_vi if found else instrument.kind,
        "kind_en": found.name_en if found else instrument.kind,
        "model": instrument.model,
        "serial_number": instrument.serial_number,
        "commune": instrument.commune,
    }


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    opened: int
    settled: int


def sweep(rt: Runtime, today: date | None = None) -> SweepReport:
    """Today's reminders and warnings, in one transaction: all of them or, after a crash, none."""
    calendar_entries.refresh(rt)  # an administrator may have changed the calendar in another process
    today = today or office_day(now())
    horizon = reminder_horizon(rt.calendar, today, rt.settings.metrology_reminder_working_days)
    grace = rt.settings.metrology_unverified_grace_working_days
    with transaction(rt.engine) as session:
        reminded = _remind(session, today, horizon, rt.settings.metrology_reminder_working_days)
        settled = _close(session, _reverified(session), SETTLED_REASON) + _close(
            session, unverified.to_settle(session, CLOSED), unverified.SETTLED_REASON
        )
        never_verified = [
            Opening(instrument, unverified.UNVERIFIED, since, details)
            for instrument, since, details in unverified.due(session, today, rt.calendar, grace)
        ]
        opened = _open_many(session, _lapsed(session, today) + never_verified)
    return SweepReport(reminded, opened, settled)


def _owners(session: Session, tax_codes: set[str]) -> dict[str, list[int]]:
    """The active business accounts of each tax code the department verified."""
    if not tax_codes:
        return {}
    rows = session.exec(
        select(User.id, User.tax_code).where(
            col(User.tax_code).in_(tax_codes), User.tax_code_status == VERIFIED, User.is_active.is_(True)
        )
    ).all()
    found: dict[str, list[int]] = {}
    for user_id, tax_code in rows:
        found.setdefault(tax_code, []).append(user_id)
    return found


def _remind(session: Session, today: date, horizon: date, working_days: int) -> int:
    reminded = exists().where(ExpiryReminder.verification_id == Instrument.current_verification_id)
    due = session.exec(
        select(Instrument, VerificationRecord.stamp_number)
        .join(VerificationRecord, col(VerificationRecord.id) == Instrument.current_verification_id)
        .where(
            Instrument.current_result == "pass",
            col(Instrument.current_valid_until) >= today,
            col(Instrument.current_valid_until) <= horizon,
            col(Instrument.owner_tax_code).is_not(None),
            ~reminded,
        )
        .order_by(col(Instrument.current_valid_until), col(Instrument.id))
    ).all()
    owners = _owners(session, {i.owner_tax_code for i, _ in due if i.owner_tax_code})
    # Nobody to tell yet: a later sweep reminds an owner who registers meanwhile.
    due = [(i, stamp) for i, stamp in due if owners.get(i.owner_tax_code or "")]
    instant = now()
    written = _insert_many(
        session,
        ExpiryReminder,
        [
            {
                "verification_id": instrument.current_verification_id,
                "instrument_id": instrument.id,
                "valid_until": instrument.current_valid_until,
                "sent_at": instant,
            }
            for instrument, _ in due
        ],
        ["verification_id"],
    )
    sent = 0
    for instrument, stamp_number in due:
        if (instrument.current_verification_id,) not in written:
            continue  # another sweep reminded first
        outbox.emit(
            session,
            REMINDER_EVENT,
            None,
            {
                **_instrument_facts(instrument),
                "user_ids": owners[instrument.owner_tax_code or ""],
                "stamp_number": stamp_number or "",
                "valid_until": _dmy(instrument.current_valid_until),
                "working_days": working_days,
            },
        )
        sent += 1
    return sent


def _open_warning(
    session: Session,
    instrument: Instrument,
    cause: str,
    verification_id: int | None,
    since: date,
    actor: User | None,
    details: dict[str, Any],
) -> int | None:
    """Open a warning unless one of this cause and verification exists; its id, or None."""
    instant = now()
    warning_id = _insert_once(
        session,
        ViolationWarning,
        {
            "instrument_id": instrument.id,
            "cause": cause,
            "verification_id": verification_id,
            "since": since,
            "state": OPEN,
            "version": 1,
            "note": details.get("note", ""),
            "closed_reason": "",
            "opened_at": instant,
            "updated_at": instant,
            "updated_by_id": actor.id if actor else None,
        },
        # ``unverified`` has no verification: its own unique index (one per instrument) decides.
        ["cause", "verification_id"] if verification_id is not None else None,
    )
    if warning_id is None:
        return None
    audit.record(
        session,
        f"instrument:{instrument.id}",
        "warning_opened",
        actor,
        {"warning_id": warning_id, "cause": cause, "since": since.isoformat(), **details},
        at=instant,
    )
    _tell_partner(session, instrument, cause, since, warning_id, instant)
    return warning_id


def _tell_partner(
    session: Session, instrument: Instrument, cause: str, since: date, warning_id: int, instant: datetime
) -> None:
    """The new warning's outbox event, which a partner's webhook (market surveillance) receives."""
    vi, en = CAUSE_LABELS[cause]
    outbox.emit(
        session,
        WARNING_EVENT,
        None,
        {
            **_instrument_facts(instrument),
            "warning_id": warning_id,
            "cause": cause,
            "cause_vi": vi,
            "cause_en": en,
            "since": _dmy(since),
            # A household's name is personal data: a partner reads a business's name only.
            "owner_name": instrument.owner_name if instrument.owner_type == "business" else None,
            "owner_tax_code": instrument.owner_tax_code,
        },
        instant,
    )


@dataclass(frozen=True)
class Opening:
    """A warning the sweep opens: on ``instrument`` for ``cause``, running from ``since``, with
    ``details`` for its audit event."""

    instrument: Instrument
    cause: str
    since: date
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes it once only: the instrument for ``unverified`` (it has no verification),
        the cause and verification otherwise."""
        if self.cause == unverified.UNVERIFIED:
            return (self.instrument.id,)
        return (self.cause, self.instrument.current_verification_id)


def _lapsed(session: Session, today: date) -> list[Opening]:
    """The instruments whose current verification ended or failed, with no warning of it yet."""
    passed = Instrument.current_result == "pass"
    valid = col(Instrument.current_valid_until)
    cases = (
        (OVERDUE, passed & valid.is_not(None) & (valid < today)),
        (
            FAILED,
            col(Instrument.current_verification_id).is_not(None)
            & ((col(Instrument.current_result) != "pass") | valid.is_(None)),
        ),
    )
    found: list[Opening] = []
    for cause, condition in cases:
        known = exists().where(
            ViolationWarning.cause == cause,
            ViolationWarning.verification_id == Instrument.current_verification_id,
        )
        for instrument in session.exec(
            select(Instrument).where(condition, ~known).order_by(col(Instrument.id))
        ).all():
            assert instrument.current_verification_id is not None
            if cause == OVERDUE:
                assert instrument.current_valid_until is not None
                since = instrument.current_valid_until + timedelta(days=1)
            else:
                since = instrument.current_verified_on or today
            found.append(Opening(instrument, cause, since))
    return found


def _open_many(session: Session, openings: list[Opening]) -> int:
    """:func:`_open_warning` (by the sweep, no actor) for many, in a few statements: how many were
    opened (one another sweep opened first is not)."""
    instant = now()

    def row(opening: Opening) -> dict[str, Any]:
        return {
            "instrument_id": opening.instrument.id,
            "cause": opening.cause,
            "verification_id": opening.key[1] if len(opening.key) == 2 else None,
            "since": opening.since,
            "state": OPEN,
            "version": 1,
            "note": "",
            "closed_reason": "",
            "opened_at": instant,
            "updated_at": instant,
            "updated_by_id": None,
        }

    never_verified = [o for o in openings if o.cause == unverified.UNVERIFIED]
    lapsed = [o for o in openings if o.cause != unverified.UNVERIFIED]
    written = _insert_many(session, ViolationWarning, [row(o) for o in lapsed], ["cause", "verification_id"])
    written |= _insert_many(
        session,
        ViolationWarning,
        [row(o) for o in never_verified],
        ["instrument_id"],
        where=text(f"cause = '{unverified.UNVERIFIED}'"),  # the partial unique index's condition
    )
    opened = [(o, written[o.key]) for o in openings if o.key in written]  # else another sweep opened it
    audit.record_many(
        session,
        [
            audit.Event(
                f"instrument:{o.instrument.id}",
                "warning_opened",
                None,
                {"warning_id": warning_id, "cause": o.cause, "since": o.since.isoformat(), **o.details},
                at=instant,
            )
            for o, warning_id in opened
        ],
    )
    for o, warning_id in opened:
        _tell_partner(session, o.instrument, o.cause, o.since, warning_id, instant)
    return len(opened)


def _reverified(session: Session) -> list[ViolationWarning]:
    """The open overdue and failed warnings whose instrument was verified again since, locked."""
    return list(
        session.exec(
            select(ViolationWarning)
            .join(Instrument, col(Instrument.id) == ViolationWarning.instrument_id)
            .where(
                col(ViolationWarning.cause).in_((OVERDUE, FAILED)),
                ViolationWarning.state != CLOSED,
                col(Instrument.current_verification_id) != ViolationWarning.verification_id,
            )
            .order_by(col(ViolationWarning.id))
            .with_for_update(of=ViolationWarning)
        ).all()
    )


def _close(session: Session, warnings: list[ViolationWarning], reason: str) -> int:
    """Close the warnings for ``reason`` (by the sweep, no actor), audited in a few statements."""
    instant = now()
    events = []
    for warning in warnings:
        before = warning.state
        warning.state, warning.closed_reason = CLOSED, reason
        warning.version += 1
        warning.updated_at, warning.updated_by_id = instant, None
        session.add(warning)
        events.append(
            audit.Event(
                f"instrument:{warning.instrument_id}",
                "warning_closed",
                None,
                {"warning_id": warning.id, "from": before, "reason": reason},
                at=instant,
            )
        )
    audit.record_many(session, events)
    return len(warnings)


# --- a lost stamp ---------------------------------------------------------------------------------


def report_stamp_lost(rt: Runtime, actor: User, stamp_number: str, note: str) -> ViolationWarning:
    """Open a ``stamp_lost`` warning for the stamp. A business reports only its own instruments'
    stamps (any other answers "not found": whether a stamp exists is no secret, whose it is is);
    a second report of the same stamp is refused (409)."""
    permissions.require(actor, permissions.METROLOGY_STAMP_LOST)
    typed = " ".join(stamp_number.split()).upper()
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidInput(
            "Ghi chú quá dài.",
            "The note is too long.",
            "invalid",
            [
                FieldProblem(
                    "note",
                    f"Tối đa {NOTE_LENGTH} ký tự.",
                    f"At most {NOTE_LENGTH} characters.",
                    "too_long",
                )
            ],
        )
    today = office_day(now())
    with transaction(rt.engine) as session:
        record = session.exec(
            select(VerificationRecord).where(VerificationRecord.stamp_number == typed)
        ).first()
        instrument = session.get(Instrument, record.instrument_id) if record is not None else None
        if record is None or instrument is None or not _may_report(actor, instrument):
            raise not_found("tem kiểm định với số này", "Verification stamp with this number")
        assert record.id is not None
        warning_id = _open_warning(
            session,
            instrument,
            STAMP_LOST,
            record.id,
            today,
            actor,
            {"stamp_number": typed, "note": note},
        )
        if warning_id is None:
            raise Conflict(
                "Tem kiểm định này đã được báo mất.",
                "This verification stamp has already been reported lost.",
                "stamp_already_reported_lost",
            )
        warning = session.get(ViolationWarning, warning_id)
        assert warning is not None
        session.expunge(warning)
    return warning


def _may_report(actor: User, instrument: Instrument) -> bool:
    if actor.is_officer:
        return True
    return bool(
        actor.tax_code and actor.tax_code_status == VERIFIED and instrument.owner_tax_code == actor.tax_code
    )


def open_or_link_warning(
    session: Session, instrument: Instrument, cause: str, since: date, actor: User, note: str
) -> int | None:
    """The warning of ``cause`` on the instrument, in the caller's transaction: opened now (audited,
    announced to market surveillance) or the one already there (the sweep's, a lost stamp's
    report). ``unverified`` hangs on the instrument (one each), the other causes on its current
    verification: None when it has none. For a violation found in the field (an inspection
    campaign's finding)."""
    verification_id = instrument.current_verification_id
    if cause == unverified.UNVERIFIED:
        verification_id = None
    elif verification_id is None:
        return None
    opened = _open_warning(session, instrument, cause, verification_id, since, actor, {"note": note})
    if opened is not None:
        return opened
    same = (
        ViolationWarning.verification_id == verification_id
        if verification_id is not None
        else ViolationWarning.instrument_id == instrument.id
    )
    return session.exec(select(ViolationWarning.id).where(ViolationWarning.cause == cause, same)).first()


def counts(rt: Runtime, today: date | None = None) -> dict[str, int]:
    """How many instruments end their verification within the reminder window, how many are
    overdue, how many warnings are open: figures for a summary."""
    today = today or office_day(now())
    horizon = reminder_horizon(rt.calendar, today, rt.settings.metrology_reminder_working_days)
    valid = col(Instrument.current_valid_until)
    passed = Instrument.current_result == "pass"
    with reading(rt.engine) as session:
        soon = session.exec(
            select(func.count()).select_from(Instrument).where(passed, valid >= today, valid <= horizon)
        ).one()
        overdue = session.exec(
            select(func.count()).select_from(Instrument).where(passed, valid < today)
        ).one()
        open_ = session.exec(
            select(func.count()).select_from(ViolationWarning).where(ViolationWarning.state != CLOSED)
        ).one()
    return {"expiring_soon": int(soon), "overdue": int(overdue), "open_warnings": int(open_)}
