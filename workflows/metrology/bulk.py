"""Applying verification reports in bulk: a file's rows (or one JSON report) in one transaction.

The rows are decided one after the other, in the file's order, exactly as if each were applied
alone (:func:`apply`'s rules: ``unchanged``, refused with the fields that differ, a stamp in use,
an instrument found or registered, its owner and place updated by a newer report), but nothing is
written row by row: what the rows find in the database is read first in a few queries
(:class:`Known`), then the new instruments, the new records, the instruments' current
verification and the audit events are each written together (``audit.record_many``: the same
chains as one ``audit.record`` per event). A 10,000-row file took about six statements per new
row that way (26 s on SQLite, 47 s on PostgreSQL); it now takes a few dozen in all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from workflows import audit, permissions
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.db import among, transaction
from workflows.errors import Conflict, DomainError, FieldProblem, InvalidInput
from workflows.metrology import reports
from workflows.metrology.bodies import BodyPrincipal
from workflows.metrology.models import Instrument, VerificationRecord
from workflows.runtime import Runtime

Identity = tuple[str, str, str]  # kind, model, serial number
# Values per lookup query (PostgreSQL: one array; SQLite: at most 32,766 variables per statement).
CHUNK = 500


def _chunks(values: list[str], size: int = CHUNK) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


@dataclass
class Known:
    """What a file's rows find in the database, read in a few queries before the rows are decided
    (one query per row and lookup made a 10,000-row file several times slower), and kept up to
    date as they are: a row finds the instrument or certificate an earlier row of the file added."""

    records: dict[str, VerificationRecord]
    stamps: set[str]
    instruments: dict[Identity, Instrument]

    @classmethod
    def of(cls, session: Session, reports_: list[reports.Report]) -> Known:
        numbers = sorted({r["certificate_number"] for r in reports_})
        stamps = sorted({r["stamp_number"] for r in reports_ if r["stamp_number"]})
        serials = sorted({r["serial_number"] for r in reports_})
        known = cls({}, set(), {})
        for chunk in _chunks(numbers):
            query = among(
                session, select(VerificationRecord), col(VerificationRecord.certificate_number), chunk
            )
            for record in session.exec(query):
                known.records[record.certificate_number] = record
        for chunk in _chunks(stamps):
            query = among(
                session, select(VerificationRecord.stamp_number), col(VerificationRecord.stamp_number), chunk
            )
            known.stamps.update(session.exec(query).all())  # type: ignore[arg-type]
        for chunk in _chunks(serials):
            query = among(session, select(Instrument), col(Instrument.serial_number), chunk)
            for instrument in session.exec(query):
                known.instruments[(instrument.kind, instrument.model, instrument.serial_number)] = instrument
        return known


@dataclass
class Batch:
    """The writes the decided rows call for, in the rows' order, made by :meth:`write`."""

    new_instruments: list[Instrument] = field(default_factory=list)
    # Each new record with its instrument (whose id a new instrument only has once written).
    new_records: list[tuple[VerificationRecord, Instrument]] = field(default_factory=list)
    # The record each instrument's latest report made current (the last one wins).
    current: dict[int, tuple[Instrument, VerificationRecord]] = field(default_factory=dict)
    # Audit events: the instrument (its stream) and the event's action and details.
    events: list[tuple[Instrument, str, dict[str, Any]]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        if not self.new_records:
            return  # every row unchanged or refused: nothing to write
        session.add_all(self.new_instruments)
        session.flush()  # the new instruments (one INSERT … RETURNING) and the updated ones
        for record, instrument in self.new_records:
            assert instrument.id is not None
            record.instrument_id = instrument.id
        session.add_all([record for record, _ in self.new_records])
        session.flush()
        for instrument, record in self.current.values():
            instrument.current_verification_id = record.id
        session.flush()
        audit.record_many(
            session,
            [
                audit.Event(f"instrument:{instrument.id}", action, None, details)
                for instrument, action, details in self.events
            ],
        )


def _conflict(fields: list[FieldProblem], vi: str, en: str, code: str) -> Conflict:
    return Conflict(vi, en, code, fields)


def decide(
    body: BodyPrincipal, report: reports.Report, known: Known, batch: Batch
) -> tuple[str, VerificationRecord]:
    """One report (the reports' turn taken): ``created`` or ``unchanged``; Conflict (with the
    fields) for another content under a known certificate or a stamp in use. What it writes goes
    into ``batch`` (and ``known``, for the next rows)."""
    number = report["certificate_number"]
    existing = known.records.get(number)
    mine = {**report.content, "body": body.body_code}
    if existing is not None:
        differing = [
            name for name in (*reports.COLUMNS, "body") if existing.content.get(name) != mine.get(name)
        ]
        if not differing:
            return reports.UNCHANGED, existing
        raise _conflict(
            [
                reports.problem(
                    name,
                    f"Khác với giấy chứng nhận số {number} đã báo cáo ({_shown(name, existing.content) or 'trống'}).",
                    f"Differs from certificate {number} as reported ({_shown(name, existing.content) or 'empty'}).",
                    "differs",
                )
                for name in differing
            ],
            f"Giấy chứng nhận số {number} đã được báo cáo với nội dung khác.",
            f"Certificate {number} was already reported with a different content.",
            "certificate_differs",
        )
    stamp = report["stamp_number"] or None
    if stamp is not None and stamp in known.stamps:
        raise _conflict(
            [
                reports.problem(
                    "stamp_number",
                    "Số tem đã được dùng cho giấy chứng nhận khác.",
                    "This stamp number is on another certificate.",
                    "unique",
                )
            ],
            f"Tem số {stamp} đã được báo cáo cho một giấy chứng nhận khác.",
            f"Stamp {stamp} was reported for another certificate.",
            "stamp_taken",
        )
    identity = (report["kind"], report["model"], report["serial_number"])
    instrument = known.instruments.get(identity)
    actor_details = {"body": body.body_code, "key": body.key_prefix}
    newest = instrument is None or (
        instrument.current_verified_on is None or report.verified_on >= instrument.current_verified_on
    )
    owner = {name: report[name] or ("" if name != "owner_tax_code" else None) for name in reports.MUTABLE}
    if instrument is None:
        instrument = Instrument(
            kind=report["kind"], model=report["model"], serial_number=report["serial_number"], **owner
        )
        batch.new_instruments.append(instrument)
        known.instruments[identity] = instrument
        batch.events.append(
            (
                instrument,
                "instrument_registered",
                {**actor_details, "instrument": _instrument_fields(instrument)},
            )
        )
    elif newest:
        before = _instrument_fields(instrument)
        for name, value in owner.items():
            setattr(instrument, name, value)
        after = _instrument_fields(instrument)
        if after != before:
            # A registration's correction made on the view from before this report is then stale.
            instrument.version += 1
            changed = sorted(k for k in after if after[k] != before[k])
            batch.events.append(
                (
                    instrument,
                    "instrument_updated",
                    {
                        **actor_details,
                        "before": {k: before[k] for k in changed},
                        "after": {k: after[k] for k in changed},
                    },
                )
            )
    record = VerificationRecord(
        instrument_id=instrument.id or 0,  # a new instrument's id once written (Batch.write)
        body_id=body.body_id,
        certificate_number=number,
        stamp_number=stamp,
        stamp_token=secrets.token_urlsafe(18),
        verified_on=report.verified_on,
        result=report["result"],
        valid_until=report.valid_until,
        api_key_id=body.key_id,
        content=mine,
    )
    batch.new_records.append((record, instrument))
    known.records[number] = record
    if stamp:
        known.stamps.add(stamp)
    if newest:
        instrument.current_verified_on = record.verified_on
        instrument.current_result = record.result
        instrument.current_valid_until = record.valid_until
        batch.current[id(instrument)] = (instrument, record)
    batch.events.append(
        (
            instrument,
            "verification_reported",
            {
                **actor_details,
                "certificate_number": number,
                "stamp_number": stamp,
                "verified_on": report["verified_on"],
                "result": report["result"],
                "valid_until": report["valid_until"] or None,
                "current": newest,
            },
        )
    )
    return reports.CREATED, record


def _shown(name: str, content: dict[str, str]) -> str:
    """A stored value as a person reads it (dates dd/mm/yyyy)."""
    value = content.get(name) or ""
    if value and name in ("verified_on", "valid_until"):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    return value


def _instrument_fields(instrument: Instrument) -> dict[str, Any]:
    return {name: getattr(instrument, name) for name in ("kind", "model", "serial_number", *reports.MUTABLE)}


def lock_reports(session: Session) -> None:
    """Reports take turns (held until commit): two reports of one new instrument, certificate or
    stamp must not both find it absent. SQLite's writers already take turns."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('metrology:reports', 0))"))


def apply(session: Session, body: BodyPrincipal, report: reports.Report) -> tuple[str, VerificationRecord]:
    """One report in ``session`` (the JSON route): ``created`` or ``unchanged``, or Conflict."""
    known = Known.of(session, [report])
    batch = Batch()
    with session.no_autoflush:
        outcome, record = decide(body, report, known, batch)
    batch.write(session)
    return outcome, record


def report_one(rt: Runtime, body: BodyPrincipal, raw: dict[str, Any]) -> tuple[str, VerificationRecord]:
    """One record (the JSON route): InvalidInput with every field at fault, Conflict as
    :func:`decide` says, else ``created`` or ``unchanged``."""
    permissions.require(body, permissions.METROLOGY_REPORT)
    checked = reports.validate(raw, office_day(now()))
    if isinstance(checked, list):
        raise InvalidInput(
            "Kết quả kiểm định chưa hợp lệ.",
            "The verification report is not valid.",
            "validation_error",
            checked,
        )
    with transaction(rt.engine) as session:
        lock_reports(session)
        return apply(session, body, checked)


def report_rows(
    rt: Runtime, body: BodyPrincipal, rows: list[tuple[int, dict[str, Any]]]
) -> list[reports.RowOutcome]:
    """Many records (a file's rows with their numbers in it) in one transaction: the good ones
    applied, each bad one reported with its row number and fields."""
    permissions.require(body, permissions.METROLOGY_REPORT)
    today = office_day(now())
    outcomes: dict[int, reports.RowOutcome] = {}
    good: list[tuple[int, reports.Report]] = []
    for number, raw in rows:
        checked = reports.validate(raw, today)
        if isinstance(checked, list):
            certificate = " ".join(str(raw.get("certificate_number") or "").split()).upper()[:60]
            outcomes[number] = reports.RowOutcome(number, certificate, reports.REJECTED, problems=checked)
        else:
            good.append((number, checked))
    with transaction(rt.engine) as session:
        lock_reports(session)
        known = Known.of(session, [report for _, report in good])
        batch = Batch()
        decided: list[tuple[int, str, str, VerificationRecord]] = []
        # The rows' own lookups are in ``known``: nothing needs flushing before a query.
        with session.no_autoflush:
            for number, report in good:
                certificate = report["certificate_number"]
                try:
                    outcome, record = decide(body, report, known, batch)
                except DomainError as refused:
                    outcomes[number] = reports.RowOutcome(
                        number, certificate, reports.REJECTED, problems=list(refused.fields)
                    )
                    continue
                decided.append((number, certificate, outcome, record))
        batch.write(session)
        for number, certificate, outcome, record in decided:
            outcomes[number] = reports.RowOutcome(number, certificate, outcome, record.id, record.stamp_token)
    return [outcomes[number] for number, _ in rows]
