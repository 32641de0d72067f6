"""Reading the metrology database: an instrument's status, a business's own instruments, the
public stamp lookup and an officer's view of one instrument with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, func, select

from workflows import permissions
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import reading
from workflows.errors import Forbidden, not_found
from workflows.metrology.models import Instrument, VerificationBody, VerificationRecord, ViolationWarning
from workflows.models import AuditEvent, User
from workflows.runtime import Runtime
from workflows.tax_codes import VERIFIED

# A verification ending within this many days is "expiring soon" (the owner's list; reminders in
# working days come with the alerts).
EXPIRING_SOON_DAYS = 30
VERIFIED_STATUS, EXPIRING, OVERDUE, FAILED, NEVER = (
    "verified",
    "expiring_soon",
    "overdue",
    "failed",
    "never_verified",
)
STATUSES = (VERIFIED_STATUS, EXPIRING, OVERDUE, FAILED, NEVER)


def status_of(instrument: Instrument, today: date) -> str:
    """verified / expiring_soon / overdue / failed (the latest verification failed: no valid
    verification) / never_verified."""
    if instrument.current_verification_id is None:
        return NEVER
    if instrument.current_result != "pass" or instrument.current_valid_until is None:
        return FAILED
    if instrument.current_valid_until < today:
        return OVERDUE
    if instrument.current_valid_until <= today + timedelta(days=EXPIRING_SOON_DAYS):
        return EXPIRING
    return VERIFIED_STATUS


def status_label(status: str, valid_until: date | None) -> tuple[str, str]:
    """What a person reads: "Còn hiệu lực đến 31/12/2026" / "Verified until 31/12/2026"."""
    until = valid_until.strftime("%d/%m/%Y") if valid_until else ""
    if status == VERIFIED_STATUS:
        return (f"Còn hiệu lực kiểm định đến {until}", f"Verified until {until}")
    if status == EXPIRING:
        return (f"Sắp hết hạn kiểm định: {until}", f"Verification expiring soon: {until}")
    if status == OVERDUE:
        return (f"Quá hạn kiểm định từ {until}", f"Verification overdue since {until}")
    if status == FAILED:
        return ("Không đạt ở lần kiểm định gần nhất", "Failed its latest verification")
    return ("Chưa được kiểm định", "Never verified")


def _status_filter(status: str, today: date):  # type: ignore[no-untyped-def]
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    valid = col(Instrument.current_valid_until)
    passed = col(Instrument.current_result) == "pass"
    return {
        NEVER: col(Instrument.current_verification_id).is_(None),
        FAILED: col(Instrument.current_verification_id).is_not(None)
        & ((col(Instrument.current_result) != "pass") | valid.is_(None)),
        OVERDUE: passed & (valid < today),
        EXPIRING: passed & (valid >= today) & (valid <= soon),
        VERIFIED_STATUS: passed & (valid > soon),
    }[status]


@dataclass(frozen=True)
class OwnerPage:
    items: list[Instrument]
    total: int
    today: date


def may_see_own(actor: User) -> None:
    """Who may see the instruments registered under a tax code: a business whose tax code the
    department verified (before, anyone could register with another's); else ``Forbidden``."""
    permissions.require(actor, permissions.METROLOGY_MY_INSTRUMENTS)
    if not actor.tax_code or actor.tax_code_status != VERIFIED:
        raise Forbidden(
            "Mã số thuế của tài khoản chưa được Sở xác minh: chưa xem được phương tiện đo đăng ký theo mã số thuế.",
            "The account's tax code is not verified by the department yet: its instruments cannot be shown.",
            "tax_code_unverified",
        )


def own_instruments(
    rt: Runtime, actor: User, status: str | None = None, limit: int = 50, offset: int = 0
) -> OwnerPage:
    """A business's instruments (those reported under its tax code), once the department has
    verified that the account holds that tax code: before, anyone could register with another's."""
    may_see_own(actor)
    today = office_day(now())
    mine = col(Instrument.owner_tax_code) == actor.tax_code
    where = mine if status is None else mine & _status_filter(status, today)
    with reading(rt.engine) as session:
        total = session.exec(select(func.count()).select_from(Instrument).where(where)).one()
        items = session.exec(
            select(Instrument).where(where).order_by(col(Instrument.id)).limit(limit).offset(offset)
        ).all()
    return OwnerPage(list(items), int(total), today)


@dataclass(frozen=True)
class StampAnswer:
    """What anyone reads of a stamp: valid or not, until when, the instrument's kind and serial
    number, its commune, and its owner's name only when the owner is a business."""

    stamp_number: str
    valid: bool
    valid_until: date | None
    verified_on: date
    kind: str
    model: str
    serial_number: str
    commune: str
    owner_name: str | None
    body_name: str
    today: date
    # Reported lost (workflows.metrology.alerts): whoever shows this stamp now, it proves nothing.
    lost: bool = False


def _stamp_answer(session: Session, where: Any, today: date) -> StampAnswer | None:
    """The answer for the record ``where`` finds: its record, instrument, body and whether the
    stamp was reported lost, read in one query (the public lookup's whole cost)."""
    lost = (
        exists()
        .where(
            ViolationWarning.cause == "stamp_lost", ViolationWarning.verification_id == VerificationRecord.id
        )
        .label("lost")
    )
    found = session.exec(
        select(VerificationRecord, Instrument, VerificationBody.name, lost)
        .join(Instrument, col(Instrument.id) == VerificationRecord.instrument_id)
        .join(VerificationBody, col(VerificationBody.id) == VerificationRecord.body_id)
        .where(where)
    ).first()
    if found is None or found[0].stamp_number is None:
        return None
    record, instrument, body_name, lost = found
    # Valid: this stamp's verification passed, is the instrument's latest, has not ended, and the
    # stamp was not reported lost.
    valid = (
        not lost
        and record.result == "pass"
        and instrument.current_verification_id == record.id
        and record.valid_until is not None
        and record.valid_until >= today
    )
    return StampAnswer(
        stamp_number=record.stamp_number or "",
        valid=valid,
        valid_until=record.valid_until if valid else None,
        verified_on=record.verified_on,
        kind=instrument.kind,
        model=instrument.model,
        serial_number=instrument.serial_number,
        commune=instrument.commune,
        owner_name=instrument.owner_name if instrument.owner_type == "business" else None,
        body_name=body_name,
        today=today,
        lost=bool(lost),
    )


def lookup_stamp(rt: Runtime, stamp_number: str) -> StampAnswer:
    typed = " ".join(stamp_number.split()).upper()
    with reading(rt.engine) as session:
        answer = _stamp_answer(session, VerificationRecord.stamp_number == typed, office_day(now()))
    if answer is None:
        raise not_found("tem kiểm định với số này", "Verification stamp with this number")
    return answer


def lookup_stamp_token(rt: Runtime, token: str) -> StampAnswer:
    with reading(rt.engine) as session:
        answer = _stamp_answer(session, VerificationRecord.stamp_token == token.strip(), office_day(now()))
    if answer is None:
        raise not_found("tem kiểm định", "Verification stamp")
    return answer


@dataclass(frozen=True)
class InstrumentFile:
    instrument: Instrument
    records: list[tuple[VerificationRecord, str]]  # each with its body's name
    history: list[AuditEvent]
    today: date
    lost_stamps: frozenset[int] = frozenset()  # the verifications whose stamp was reported lost


def instrument_file(rt: Runtime, actor: User, instrument_id: int) -> InstrumentFile:
    """An instrument, its verifications (newest first) and its history, for the department."""
    permissions.require(actor, permissions.METROLOGY_READ)
    with reading(rt.engine) as session:
        instrument = session.get(Instrument, instrument_id)
        if instrument is None:
            raise not_found("phương tiện đo", "Instrument")
        history = session.exec(
            select(AuditEvent)
            .where(AuditEvent.stream == f"instrument:{instrument_id}")
            .order_by(col(AuditEvent.seq))
        ).all()
        records = _records(session, instrument_id)
        lost = _lost_stamps(session, instrument_id)
    return InstrumentFile(instrument, records, list(history), office_day(now()), lost)


def own_instrument_file(rt: Runtime, actor: User, instrument_id: int) -> InstrumentFile:
    """One of a business's own instruments and its verifications, for its owner; another's
    answers "not found" (whose an instrument is, is not the asker's to learn). The history stays
    the department's: its events name the officers who acted."""
    may_see_own(actor)
    with reading(rt.engine) as session:
        instrument = session.get(Instrument, instrument_id)
        if instrument is None or instrument.owner_tax_code != actor.tax_code:
            raise not_found("phương tiện đo", "Instrument")
        records = _records(session, instrument_id)
        lost = _lost_stamps(session, instrument_id)
    return InstrumentFile(instrument, records, [], office_day(now()), lost)


def _lost_stamps(session: Session, instrument_id: int) -> frozenset[int]:
    """The instrument's verifications whose stamp was reported lost."""
    lost = session.exec(
        select(ViolationWarning.verification_id).where(
            ViolationWarning.instrument_id == instrument_id, ViolationWarning.cause == "stamp_lost"
        )
    ).all()
    return frozenset(v for v in lost if v is not None)


def _records(session: Session, instrument_id: int) -> list[tuple[VerificationRecord, str]]:
    """The instrument's verifications, newest first, each with its body's name."""
    rows = session.exec(
        select(VerificationRecord, VerificationBody.name)
        .join(VerificationBody, col(VerificationBody.id) == VerificationRecord.body_id)
        .where(VerificationRecord.instrument_id == instrument_id)
        .order_by(col(VerificationRecord.verified_on).desc(), col(VerificationRecord.id).desc())
    ).all()
    return [(record, name) for record, name in rows]
