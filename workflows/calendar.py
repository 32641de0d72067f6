"""The one working-time calendar: office hours, weekends, Vietnamese public holidays, overrides.

Every legal deadline is computed here (DESIGN.md rule 5; domain.md "Time counting", "Holidays").

* Office periods default to 07:30–11:30 and 13:30–17:00, Monday to Friday, in the office's zone
  (Asia/Ho_Chi_Minh, no DST). Periods are half-open: 11:30 and 17:00 are already outside them.
* Public holidays, lunar ones included, and the government's day swaps come from
  ``holidays.country_holidays("VN")``: a holiday is a day off, and a make-up Saturday the package
  knows (its ``weekend_workdays``) is a working day.
* The overrides file wins over the package.
* Instants taken are aware (naive ones are read as UTC); instants returned are aware UTC. The
  arithmetic runs on local wall time.

Overrides file (TOML; by default ``bpmn/calendar_overrides.toml``; a missing file means none)::

    # Extra days off: a later government decision, a provincial decision.
    days_off = [
        2026-12-31,                                        # a TOML date,
        "2027-01-04",                                      # an ISO date string,
        { date = 2027-02-05, name = "Nghỉ theo QĐ ..." },  # or a table with a name.
    ]
    # Make-up working days (usually a Saturday); also turns a package holiday into a working day.
    working_days = [{ date = 2027-01-09, name = "Làm bù cho ngày 04/01/2027" }]

``[[days_off]]`` / ``[[working_days]]`` array-of-tables syntax gives the same data. Any other key,
a value that is not a date, a repeated date or a date in both lists raises ``CalendarConfigError``
naming the file and the entry.
"""

from __future__ import annotations

import copy
import threading
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

import holidays

from workflows.config import Settings, get_settings

Period = tuple[time, time]
DayKind = Literal["holiday", "day_off", "working_day"]

DEFAULT_PERIODS: tuple[Period, ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
MONDAY_TO_FRIDAY = frozenset(range(5))
DEFAULT_DAY_OFF_NAME = "Ngày nghỉ (bổ sung)"
MAKE_UP_DAY_NAME = "Ngày làm việc bù"
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MAX_IDLE_DAYS = 400  # no real calendar goes this long without a working day


class CalendarConfigError(ValueError):
    """The calendar's configuration (the overrides file, the periods) is unusable."""


class CalendarDay(NamedTuple):
    """One row of the admin view: a holiday, an extra day off or a make-up working day."""

    day: date
    name: str
    kind: DayKind


# 24/11, Vietnam Culture Day: the package makes it a holiday from 2026; a setting can undo that.
CULTURE_DAY = (11, 24)


class WorkingCalendar:
    def __init__(
        self,
        zone: ZoneInfo,
        *,
        periods: Sequence[Period] = DEFAULT_PERIODS,
        workdays: Iterable[int] = MONDAY_TO_FRIDAY,
        overrides_path: Path | None = None,
        language: str = "vi",
        culture_day_off: bool = True,
    ) -> None:
        self.zone = zone
        self.periods = _check_periods(periods)
        self.workdays = frozenset(workdays)
        if not self.workdays or not self.workdays <= set(range(7)):
            raise CalendarConfigError(f"workdays must be weekday numbers 0 (Monday) .. 6: {workdays!r}")
        self.overrides_path = overrides_path
        # (extra days off, make-up working days), swapped as one (``set_overrides``) so that a
        # reader in another thread never sees one list new and the other old.
        self._overrides = _load_overrides(overrides_path)
        # The calendar entries' revision these overrides come from (workflows.calendar_entries);
        # None: the overrides file's alone.
        self.revision: int | None = None
        self.culture_day_off = culture_day_off
        self._holidays = holidays.country_holidays("VN", language=language)
        # The package fills a year's holidays on first use; that is not thread-safe.
        self._lock = threading.Lock()

    # -- overrides ----------------------------------------------------------------------------

    def file_overrides(self) -> tuple[dict[date, str], dict[date, str]]:
        """(extra days off, make-up working days) of the overrides file, each date → name."""
        return _load_overrides(self.overrides_path)

    def overrides(self) -> tuple[dict[date, str], dict[date, str]]:
        """(extra days off, make-up working days) in force, each date → name."""
        return self._overrides

    def set_overrides(
        self, days_off: dict[date, str], working_days: dict[date, str], revision: int | None
    ) -> None:
        """Put the overrides in force (the calendar entries of ``revision``), replacing the others."""
        if both := sorted(days_off.keys() & working_days.keys()):
            raise CalendarConfigError(f"{both[0].isoformat()} is both a day off and a working day")
        self._overrides = (dict(days_off), dict(working_days))
        self.revision = revision

    def with_overrides(self, days_off: dict[date, str], working_days: dict[date, str]) -> WorkingCalendar:
        """A copy of this calendar with other overrides (what a change would make of it)."""
        other = copy.copy(self)
        other.set_overrides(days_off, working_days, None)
        return other

    def package_day_off(self, d: date) -> bool:
        """Whether ``d`` is a day off by the weekends and the holidays package alone."""
        return not self._package_day(d)[0]

    # -- days ---------------------------------------------------------------------------------

    def _package_day(self, d: date) -> tuple[bool, str | None]:
        """(working day?, holiday name) by the holidays package alone.

        The rule of ``HolidayBase.is_working_day`` with this calendar's workdays: a workday is
        working unless it is a holiday; another day only if it is a make-up day.
        """
        with self._lock:
            name = self._holidays.get(d)  # also fills d's year, its make-up days included
            make_up_day = d in self._holidays.weekend_workdays
        if name is not None and not self.culture_day_off and (d.month, d.day) == CULTURE_DAY:
            name = None  # an administrator turned the (unconfirmed) Culture Day off
        if d.weekday() in self.workdays:
            return name is None, name
        return make_up_day, name

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; use is_working_time for an instant")
        days_off, working_days = self._overrides
        if d in days_off:
            return False
        if d in working_days:
            return True
        return self._package_day(d)[0]

    def holiday_name(self, d: date) -> str | None:
        """The name of the holiday or extra day off on ``d``; None on a (make-up) working day."""
        days_off, working_days = self._overrides
        if d in days_off:
            return days_off[d]
        if d in working_days:
            return None
        return self._package_day(d)[1]

    def days_in_year(self, year: int) -> list[CalendarDay]:
        """Holidays, extra days off and make-up working days of ``year``, by date (read-only view)."""
        days_off, working_days = self._overrides
        rows: list[CalendarDay] = []
        d = date(year, 1, 1)
        while d.year == year:
            if d in days_off:
                rows.append(CalendarDay(d, days_off[d], "day_off"))
            elif d in working_days:
                rows.append(CalendarDay(d, working_days[d], "working_day"))
            else:
                working, name = self._package_day(d)
                if name is not None and not working:
                    rows.append(CalendarDay(d, name, "holiday"))
                elif working and d.weekday() not in self.workdays:
                    rows.append(CalendarDay(d, MAKE_UP_DAY_NAME, "working_day"))
            d += _ONE_DAY
        return rows

    def _working_days_from(self, d: date) -> Iterator[date]:
        """``d`` if it is a working day, then every later working day."""
        idle = 0
        while True:
            if self.is_working_day(d):
                idle = 0
                yield d
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise CalendarConfigError(f"no working day in the {_MAX_IDLE_DAYS} days before {d}")
            d += _ONE_DAY

    def _periods_from(self, d: date) -> Iterator[tuple[datetime, datetime]]:
        """The office periods of ``d`` and of every later working day, in local time."""
        for day in self._working_days_from(d):
            for start, end in self.periods:
                yield datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone)

    # -- instants -----------------------------------------------------------------------------

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.zone)

    def is_working_time(self, instant: datetime) -> bool:
        local = self._local(instant)
        wall = local.time()
        return self.is_working_day(local.date()) and any(start <= wall < end for start, end in self.periods)

    def receipt_instant(self, instant: datetime) -> datetime:
        """When a dossier submitted at ``instant`` counts as received: the instant itself inside
        office hours, else the start of the next working period (11:30 and 17:00 included)."""
        local = self._local(instant)
        for start, end in self._periods_from(local.date()):
            if local < end:
                return max(start, local).astimezone(UTC)
        raise AssertionError("unreachable: _periods_from never ends")

    def add_working_days(self, instant: datetime, n: int) -> datetime:
        """The same time of day on the ``n``-th working day after ``instant``, once moved into
        office hours (``receipt_instant``). ``n == 0`` gives the receipt instant."""
        if n < 0:
            raise ValueError(f"n must not be negative: {n}")
        start = self._local(self.receipt_instant(instant))
        day = next(islice(self._working_days_from(start.date()), n, None))
        return datetime.combine(day, start.time(), self.zone).astimezone(UTC)

    def working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (the day itself not counted), ``n`` ≥ 1."""
        if n < 1:
            raise ValueError(f"n must be at least 1: {n}")
        return next(islice(self._working_days_from(day + _ONE_DAY), n - 1, None))

    def end_of_working_days_after(self, day: date, n: int) -> datetime:
        """The close of office on the ``n``-th working day after ``day``: the last moment of a
        period "within n working days from ``day``" (the day itself not counted), e.g. the
        certificate due 15 working days from the customs clearance date."""
        last = self.working_day_after(day, n)
        return datetime.combine(last, self.periods[-1][1], self.zone).astimezone(UTC)

    def add_working_time(self, instant: datetime, delta: timedelta) -> datetime:
        """The earliest instant by which ``delta`` of office time has passed since ``instant``.

        The inverse of ``working_time_between``; the result may be a period's end (11:30, 17:00).
        A zero delta returns ``instant`` itself.
        """
        if delta < _ZERO:
            raise ValueError(f"delta must not be negative: {delta}")
        local = self._local(instant)
        if not delta:
            return local.astimezone(UTC)
        remaining = delta
        for start, end in self._periods_from(local.date()):
            if end <= local:
                continue
            begin = max(start, local)
            if remaining <= end - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= end - begin
        raise AssertionError("unreachable: _periods_from never ends")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Office time from ``a`` to ``b``; zero when ``b`` is not after ``a``."""
        first, last = self._local(a), self._local(b)
        total = _ZERO
        if last <= first:
            return total
        for start, end in self._periods_from(first.date()):
            if start >= last:
                break
            total += max(_ZERO, min(end, last) - max(start, first))
        return total


@lru_cache(maxsize=1)
def get_calendar() -> WorkingCalendar:
    """The installation's calendar (settings' time zone and overrides file); ``cache_clear()`` resets."""
    return calendar_for(get_settings())


def calendar_for(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(
        ZoneInfo(settings.timezone),
        periods=parse_periods(settings.office_hours),
        overrides_path=settings.overrides_path,
        culture_day_off=settings.culture_day_off,
    )


def parse_periods(text: str) -> tuple[Period, ...]:
    """``"07:30-11:30,13:30-17:00"`` → the office periods (a clear error on anything else)."""
    periods = []
    for part in text.split(","):
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError as exc:
            raise CalendarConfigError(f"office hours '{text}': '{part}' is not HH:MM-HH:MM") from exc
        periods.append((start, end))
    return _check_periods(periods)


def _check_periods(periods: Sequence[Period]) -> tuple[Period, ...]:
    checked = tuple((start, end) for start, end in periods)
    if not checked:
        raise CalendarConfigError("at least one office period is needed")
    previous_end: time | None = None
    for start, end in checked:
        if start.tzinfo is not None or end.tzinfo is not None or not start < end:
            raise CalendarConfigError(f"an office period is two naive times, start < end: {start}-{end}")
        if previous_end is not None and start < previous_end:
            raise CalendarConfigError(f"office periods must be in order and not overlap: {checked}")
        previous_end = end
    return checked


def _load_overrides(path: Path | None) -> tuple[dict[date, str], dict[date, str]]:
    """(extra days off, make-up working days), each date → name, from the TOML file at ``path``."""
    if path is None or not path.exists():
        return {}, {}
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarConfigError(f"{path}: not valid TOML: {exc}") from exc
    if unknown := sorted(set(data) - {"days_off", "working_days"}):
        raise CalendarConfigError(f"{path}: unknown key {unknown[0]!r}; expected days_off and working_days")
    days_off = _parse_days(path, "days_off", data.get("days_off", []), DEFAULT_DAY_OFF_NAME)
    working_days = _parse_days(path, "working_days", data.get("working_days", []), MAKE_UP_DAY_NAME)
    if both := sorted(days_off.keys() & working_days.keys()):
        raise CalendarConfigError(f"{path}: {both[0].isoformat()} is in both days_off and working_days")
    return days_off, working_days


def _parse_days(path: Path, key: str, entries: Any, default_name: str) -> dict[date, str]:
    if not isinstance(entries, list):
        raise CalendarConfigError(f"{path}: {key} must be a list of dates, not {entries!r}")
    days: dict[date, str] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: {key}[{index}] = {entry!r}"
        value, name = entry, default_name
        if isinstance(entry, dict):
            if "date" not in entry or set(entry) - {"date", "name"}:
                raise CalendarConfigError(f"{where}: a table needs 'date' and may have 'name', nothing else")
            value, name = entry["date"], entry.get("name", default_name)
            if not isinstance(name, str) or not name.strip():
                raise CalendarConfigError(f"{where}: 'name' must be a non-empty string")
        day = _as_date(value)
        if day is None:
            raise CalendarConfigError(f"{where}: not a date (write 2026-09-03)")
        if day in days:
            raise CalendarConfigError(f"{where}: {day.isoformat()} is listed twice")
        days[day] = name.strip()
    return days


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):  # a TOML date-time is not a day
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
