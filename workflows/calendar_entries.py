"""The working calendar's entries in the database: extra days off and make-up working days.

The holidays package gives the public holidays and the swaps it knows; what the government or the
province decides beyond that is an entry (``models.CalendarEntry``) with its deciding document,
entered by an administrator (``workflows.calendar_change``). The overrides file
(``bpmn/calendar_overrides.toml``) is only the first import: on the first start of an installation
its days become entries (``source = "import"``, audited); from then on the database is the source.

Several processes (web processes, a worker) each hold a calendar (``Runtime.calendar``). Each
change takes the next number of the ``calendar_revision`` counter in its own transaction; every
process compares that number with its calendar's (``refresh``: one primary-key read) before each
request, each scheduler tick and, inside each command's transaction, once the command holds its
dossier's lock; it reloads the entries when the number moved.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from workflows import audit
from workflows.calendar import DEFAULT_DAY_OFF_NAME, MAKE_UP_DAY_NAME, WorkingCalendar
from workflows.clock import now
from workflows.db import next_in_sequence, reading, transaction
from workflows.models import CalendarEntry, Counter

if TYPE_CHECKING:
    from workflows.runtime import Runtime

log = logging.getLogger("tdcflow.calendar")

REVISION_KEY = "calendar_revision"
AUDIT_STREAM = "calendar"
DEFAULT_NAMES = {"day_off": DEFAULT_DAY_OFF_NAME, "working_day": MAKE_UP_DAY_NAME}
# The deciding document named in an imported entry's name, e.g. "(Công văn số 12729/VPCP-KGVX …)".
_DOCUMENT_IN_NAME = re.compile(
    r"\(((?:Công văn|Quyết định|Thông báo|Nghị định|Chỉ thị|Văn bản)[^()]*)\)", re.IGNORECASE
)


@dataclass(frozen=True)
class Overrides:
    """The calendar entries in force as the calendar takes them, and their revision."""

    days_off: dict[date, str]
    working_days: dict[date, str]
    revision: int | None


_REVISION = select(Counter.value).where(Counter.key == REVISION_KEY)  # read by every command: built once


def current_revision(session: Session) -> int | None:
    """The calendar revision in the database; None before the first import."""
    return session.exec(_REVISION).first()


def entries_in_force(session: Session) -> list[CalendarEntry]:
    return list(
        session.exec(
            select(CalendarEntry).where(CalendarEntry.removed_at.is_(None)).order_by(CalendarEntry.day)
        )
    )


def all_entries(session: Session) -> list[CalendarEntry]:
    """Every entry, the removed ones too (the page's history), latest day first."""
    return list(
        session.exec(select(CalendarEntry).order_by(CalendarEntry.day.desc(), CalendarEntry.id.desc()))
    )


def overrides_of(entries: list[CalendarEntry]) -> tuple[dict[date, str], dict[date, str]]:
    days_off = {e.day: e.name for e in entries if e.kind == "day_off"}
    working_days = {e.day: e.name for e in entries if e.kind == "working_day"}
    return days_off, working_days


def load(session: Session) -> Overrides:
    revision = current_revision(session)
    days_off, working_days = overrides_of(entries_in_force(session))
    return Overrides(days_off, working_days, revision)


def install(calendar: WorkingCalendar, overrides: Overrides) -> None:
    calendar.set_overrides(overrides.days_off, overrides.working_days, overrides.revision)


def refresh(rt: Runtime, session: Session | None = None) -> bool:
    """Reload this process's calendar when another process (or this one) changed the entries.
    One primary-key read when nothing changed; True when the calendar was reloaded.

    ``session``: a command's transaction, after it locked its dossier. A calendar change locks
    every open dossier while it recomputes them, so a command reading the revision after its lock
    computes with the calendar that change committed (not the one its request started with)."""
    if session is None:
        with reading(rt.engine) as own:
            return refresh(rt, own)
    revision = current_revision(session)
    if revision == rt.calendar.revision:
        return False
    overrides = load(session)
    install(rt.calendar, overrides)
    log.info("Working calendar reloaded at revision %s", overrides.revision)
    return True


def import_file_once(rt: Runtime) -> None:
    """On the first start (no calendar revision yet): the overrides file's days become entries,
    audited as one import. Then (every start) the runtime's calendar takes the database's entries."""
    with transaction(rt.engine) as session:
        if current_revision(session) is None:
            days_off, working_days = rt.calendar.file_overrides()
            revision = next_in_sequence(session, REVISION_KEY)
            if revision == 1:  # not a concurrent first start that got here first
                _import(session, rt, days_off, working_days)
        overrides = load(session)
    install(rt.calendar, overrides)


def _import(session: Session, rt: Runtime, days_off: dict[date, str], working_days: dict[date, str]) -> None:
    at = now()
    source = str(rt.calendar.overrides_path or "")
    rows = [("day_off", d, name) for d, name in days_off.items()]
    rows += [("working_day", d, name) for d, name in working_days.items()]
    for kind, day, name in sorted(rows, key=lambda row: row[1]):
        found = _DOCUMENT_IN_NAME.search(name)
        decided_by = (
            found.group(1).strip()
            if found
            else (rt.calendar.overrides_path.name if rt.calendar.overrides_path else "")
        )
        session.add(
            CalendarEntry(
                day=day,
                kind=kind,
                name=name[:300],
                decided_by=decided_by[:300] or "-",
                source="import",
                created_at=at,
            )
        )
    audit.record(
        session,
        AUDIT_STREAM,
        "calendar_imported",
        None,
        {
            "file": source,
            "days_off": sorted(d.isoformat() for d in days_off),
            "working_days": sorted(d.isoformat() for d in working_days),
        },
        at=at,
    )
    # The audit event above is the record; a command such as ``tdcflow check`` that happens to be
    # the first start stays quiet.
    log.debug(
        "Calendar entries imported from %s: %d days off, %d working days",
        source,
        len(days_off),
        len(working_days),
    )
