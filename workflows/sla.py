"""Deadlines, always computed — from the receipt instant, the working-day limits and the pauses.

Nothing here is stored by hand: a dossier's appointment (committed) and legal deadline are
``receipt instant + N working days``, then moved by the office time that every clock pause
(waiting on the business) lasted. A task's due time is its creation + its step budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.calendar import WorkingCalendar


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None  # None while still paused


@dataclass(frozen=True)
class Deadlines:
    appointment_at: datetime
    legal_due_at: datetime


def working_day_length(calendar: WorkingCalendar) -> timedelta:
    total = timedelta()
    for start, end in calendar.periods:
        total += datetime.combine(datetime.min, end) - datetime.combine(datetime.min, start)
    return total


def add_budget(calendar: WorkingCalendar, start: datetime, days: float) -> datetime:
    """``start`` + a budget in working days; a fraction of a day counts office hours."""
    whole = int(days)
    fraction = days - whole
    due = calendar.add_working_days(start, whole)
    if fraction > 0:
        due = calendar.add_working_time(due, working_day_length(calendar) * fraction)
    return due


def paused_working_time(calendar: WorkingCalendar, pauses: Iterable[Pause], until: datetime) -> timedelta:
    total = timedelta()
    for pause in pauses:
        total += calendar.working_time_between(pause.started_at, pause.ended_at or until)
    return total


def dossier_deadlines(
    calendar: WorkingCalendar,
    received_at: datetime,
    committed_days: int,
    legal_days: int,
    pauses: Iterable[Pause],
    now: datetime,
) -> Deadlines:
    shift = paused_working_time(calendar, list(pauses), now)

    def moved(days: int) -> datetime:
        due = calendar.add_working_days(received_at, days)
        return calendar.add_working_time(due, shift) if shift else due

    return Deadlines(appointment_at=moved(committed_days), legal_due_at=moved(legal_days))


def classify(completed_at: datetime, deadline: datetime, zone: object) -> str:
    """early (done on an earlier day than the deadline), on_time (by the deadline), or late."""
    if completed_at > deadline:
        return "late"
    local_done = completed_at.astimezone(zone).date()  # type: ignore[arg-type]
    local_due = deadline.astimezone(zone).date()  # type: ignore[arg-type]
    return "early" if local_done < local_due else "on_time"


def script_functions(calendar: WorkingCalendar, now: Callable[[], datetime]) -> dict[str, Callable[..., str]]:
    """Functions a model's timer expressions may use: ``working_days(15)`` is the instant fifteen
    working days from now (ISO 8601), for a ``timeDate`` timer; ``today()`` the office's date."""

    def working_days(n: int) -> str:
        return calendar.add_working_days(now(), int(n)).isoformat()

    def working_hours(hours: float) -> str:
        return calendar.add_working_time(
            calendar.receipt_instant(now()), timedelta(hours=float(hours))
        ).isoformat()

    def working_days_after(day: str, n: int) -> str:
        """The close of office on the n-th working day after ``day`` (an ISO date of the form
        data, e.g. the reported clearance date), for a deadline "within n working days from"."""
        return calendar.end_of_working_days_after(date.fromisoformat(str(day)[:10]), int(n)).isoformat()

    def add_years(day: str, n: int) -> str:
        """The same calendar day ``n`` years after ``day`` (ISO; 29/02 becomes 28/02), e.g. a
        notice valid three years from the self-assessment."""
        start = date.fromisoformat(str(day)[:10])
        year = start.year + int(n)
        try:
            return start.replace(year=year).isoformat()
        except ValueError:
            return start.replace(year=year, day=28).isoformat()

    def today() -> str:
        """The office's date today (ISO 8601), for comparing with a date in the form data."""
        return now().astimezone(calendar.zone).date().isoformat()

    return {
        "working_days": working_days,
        "working_hours": working_hours,
        "working_days_after": working_days_after,
        "add_years": add_years,
        "today": today,
    }
