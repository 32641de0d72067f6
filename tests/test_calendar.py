"""The working-time calendar: domain.md "Time counting" and "Holidays"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendar import CalendarConfigError, CalendarDay, WorkingCalendar, get_calendar
from workflows.config import PROJECT_ROOT, get_settings

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar(ZONE)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local (Asia/Ho_Chi_Minh) wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar_overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- domain.md's worked examples --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at(2026, 2, 13, 10), 5, at(2026, 2, 27, 10)),  # Tết, Mon 16 – Fri 20/02, skipped
        (at(2026, 3, 14, 9), 2, at(2026, 3, 18, 7, 30)),  # Saturday → received Mon 16/03 07:30
        (at(2026, 1, 20, 12, 15), 1, at(2026, 1, 21, 13, 30)),  # lunch break → counts from 13:30
    ],
)
def test_domain_examples(start: datetime, n: int, due: datetime) -> None:
    result = CAL.add_working_days(start, n)
    assert result == due
    assert result.tzinfo is UTC


def test_saturday_submission_is_received_monday_morning() -> None:
    assert CAL.receipt_instant(at(2026, 3, 14, 9)) == at(2026, 3, 16, 7, 30)


# -- submissions around office hours ----------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "received"),
    [
        (at(2026, 1, 20, 16, 59), at(2026, 1, 20, 16, 59)),  # inside: stays
        (at(2026, 1, 20, 17, 0), at(2026, 1, 21, 7, 30)),  # 17:00 ends the period
        (at(2026, 1, 20, 17, 1), at(2026, 1, 21, 7, 30)),
        (at(2026, 1, 20, 11, 30), at(2026, 1, 20, 13, 30)),  # 11:30 ends the morning
        (at(2026, 1, 20, 7, 29), at(2026, 1, 20, 7, 30)),
        (at(2026, 1, 20, 7, 30), at(2026, 1, 20, 7, 30)),
        (at(2026, 1, 18, 10), at(2026, 1, 19, 7, 30)),  # Sunday
        (at(2026, 1, 16, 23, 59), at(2026, 1, 19, 7, 30)),  # Friday night
    ],
)
def test_receipt_instant(submitted: datetime, received: datetime) -> None:
    assert CAL.receipt_instant(submitted) == received
    assert CAL.receipt_instant(submitted).tzinfo is UTC


def test_submissions_at_1659_1701_and_on_sunday_get_different_deadlines() -> None:
    assert CAL.add_working_days(at(2026, 1, 20, 16, 59), 1) == at(2026, 1, 21, 16, 59)
    assert CAL.add_working_days(at(2026, 1, 20, 17, 1), 1) == at(2026, 1, 22, 7, 30)
    assert CAL.add_working_days(at(2026, 1, 18, 10), 1) == at(2026, 1, 20, 7, 30)


def test_naive_input_is_utc_and_results_are_utc() -> None:
    naive = datetime(2026, 1, 20, 3, 0)  # 10:00 in Hà Nội
    assert CAL.receipt_instant(naive) == at(2026, 1, 20, 10)
    assert CAL.is_working_time(naive)
    assert not CAL.is_working_time(datetime(2026, 1, 20, 10, 0))  # 17:00 local
    assert CAL.add_working_days(naive, 1) == datetime(2026, 1, 21, 3, 0, tzinfo=UTC)


def test_is_working_time() -> None:
    assert CAL.is_working_time(at(2026, 1, 20, 7, 30))
    assert not CAL.is_working_time(at(2026, 1, 20, 11, 30))
    assert not CAL.is_working_time(at(2026, 1, 20, 12, 0))
    assert CAL.is_working_time(at(2026, 1, 20, 16, 59))
    assert not CAL.is_working_time(at(2026, 1, 20, 17, 0))
    assert not CAL.is_working_time(at(2026, 1, 17, 9))  # Saturday
    assert not CAL.is_working_time(at(2026, 2, 17, 9))  # Tết


# -- 2026 holidays and swaps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at(2026, 4, 24, 9), 1, at(2026, 4, 28, 9)),  # Hùng Kings Sun 26/04 → Mon 27/04 off
        (at(2026, 4, 29, 14), 2, at(2026, 5, 5, 14)),  # 30/04 and 01/05 off, then the weekend
        (at(2026, 8, 28, 8), 1, at(2026, 9, 3, 8)),  # Mon 31/08 swapped off, 01–02/09 National Day
        (at(2026, 8, 21, 10), 1, at(2026, 8, 22, 10)),  # Sat 22/08 is a make-up working day
        (at(2026, 8, 22, 6), 0, at(2026, 8, 22, 7, 30)),  # ... so a dossier is received on it
        (at(2026, 11, 23, 10), 1, at(2026, 11, 25, 10)),  # 24/11 Vietnam Culture Day
        (at(2025, 12, 31, 15), 1, at(2026, 1, 2, 15)),  # New Year's Day
    ],
)
def test_deadlines_across_holidays(start: datetime, n: int, due: datetime) -> None:
    assert CAL.add_working_days(start, n) == due


def test_days_off_and_make_up_day_2026() -> None:
    for day in (16, 17, 18, 19, 20):
        assert not CAL.is_working_day(date(2026, 2, day))
    for day_off in (date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1), date(2026, 8, 31)):
        assert not CAL.is_working_day(day_off)
    assert not CAL.is_working_day(date(2026, 9, 2))
    assert CAL.is_working_day(date(2026, 8, 22))
    assert not CAL.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert CAL.is_working_day(date(2026, 9, 3))
    assert "Tết" in (CAL.holiday_name(date(2026, 2, 17)) or "")
    assert "Hùng Vương" in (CAL.holiday_name(date(2026, 4, 27)) or "")
    assert CAL.holiday_name(date(2026, 8, 22)) is None
    assert CAL.holiday_name(date(2026, 3, 18)) is None
    with pytest.raises(TypeError):
        CAL.is_working_day(at(2026, 3, 18, 9))


def test_matches_the_holidays_package_without_overrides() -> None:
    package = holidays.country_holidays("VN")
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        assert CAL.is_working_day(day) == package.is_working_day(day), day
        day += timedelta(days=1)


def test_days_in_year_2026() -> None:
    rows = CAL.days_in_year(2026)
    assert rows == sorted(rows)
    by_day = {row.day: row for row in rows}
    assert by_day[date(2026, 8, 22)].kind == "working_day"
    assert by_day[date(2026, 8, 31)].kind == "holiday"
    assert by_day[date(2026, 11, 24)].kind == "holiday"
    assert {d for d, row in by_day.items() if row.kind == "holiday" and d.month == 2} == {
        date(2026, 2, d) for d in (16, 17, 18, 19, 20)
    }
    assert all(isinstance(row, CalendarDay) and row.name for row in rows)


# -- working time -----------------------------------------------------------------------------


def test_add_working_time_and_working_time_between() -> None:
    assert CAL.add_working_time(at(2026, 1, 20, 10), timedelta(hours=3)) == at(2026, 1, 20, 15)
    assert CAL.add_working_time(at(2026, 1, 20, 10), timedelta(hours=1, minutes=30)) == at(
        2026, 1, 20, 11, 30
    )
    assert CAL.add_working_time(at(2026, 1, 16, 16), timedelta(hours=2)) == at(2026, 1, 19, 8, 30)
    assert CAL.add_working_time(at(2026, 1, 17, 9), timedelta(0)) == at(2026, 1, 17, 9)
    assert CAL.working_time_between(at(2026, 1, 20, 0), at(2026, 1, 21, 0)) == timedelta(hours=7, minutes=30)
    assert CAL.working_time_between(at(2026, 1, 16, 17), at(2026, 1, 19, 7, 30)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 1, 21), at(2026, 1, 20)) == timedelta(0)
    # Tết week: nothing counts
    assert CAL.working_time_between(at(2026, 2, 14), at(2026, 2, 23)) == timedelta(0)
    with pytest.raises(ValueError):
        CAL.add_working_time(at(2026, 1, 20, 10), timedelta(minutes=-1))
    with pytest.raises(ValueError):
        CAL.add_working_days(at(2026, 1, 20, 10), -1)


# -- overrides file ---------------------------------------------------------------------------


def test_overrides_add_a_day_off_and_a_make_up_saturday(tmp_path: Path) -> None:
    start = at(2026, 12, 29, 10)  # Tue; 01/01/2027 is a holiday
    assert CAL.add_working_days(start, 3) == at(2027, 1, 4, 10)

    day_off = WorkingCalendar(ZONE, overrides_path=write(tmp_path, 'days_off = ["2026-12-31"]\n'))
    assert not day_off.is_working_day(date(2026, 12, 31))
    assert day_off.add_working_days(start, 3) == at(2027, 1, 5, 10)

    both = WorkingCalendar(
        ZONE,
        overrides_path=write(
            tmp_path,
            'days_off = [{ date = 2026-12-31, name = "Nghỉ theo quyết định của tỉnh" }]\n'
            "[[working_days]]\n"
            "date = 2027-01-02\n",
        ),
    )
    assert both.is_working_day(date(2027, 1, 2))
    assert both.add_working_days(start, 3) == at(2027, 1, 4, 10)  # 30/12, Sat 02/01, 04/01
    assert both.add_working_days(start, 2) == at(2027, 1, 2, 10)
    assert both.holiday_name(date(2026, 12, 31)) == "Nghỉ theo quyết định của tỉnh"
    kinds = {row.day: row.kind for row in both.days_in_year(2026) + both.days_in_year(2027)}
    assert kinds[date(2026, 12, 31)] == "day_off"
    assert kinds[date(2027, 1, 2)] == "working_day"


def test_overrides_win_over_the_package(tmp_path: Path) -> None:
    path = write(tmp_path, "days_off = [2026-08-22]\nworking_days = [2026-11-24]\n")
    cal = WorkingCalendar(ZONE, overrides_path=path)
    assert not cal.is_working_day(date(2026, 8, 22))
    assert cal.is_working_day(date(2026, 11, 24))
    assert cal.holiday_name(date(2026, 11, 24)) is None


def test_missing_overrides_file_means_none(tmp_path: Path) -> None:
    cal = WorkingCalendar(ZONE, overrides_path=tmp_path / "absent.toml")
    assert cal.days_in_year(2026) == CAL.days_in_year(2026)


def test_shipped_overrides_file_loads() -> None:
    cal = WorkingCalendar(ZONE, overrides_path=PROJECT_ROOT / "bpmn" / "calendar_overrides.toml")
    assert cal.add_working_days(at(2026, 2, 13, 10), 5) == at(2026, 2, 27, 10)


def test_the_new_year_2026_swap_of_official_letter_12729_moves_deadlines() -> None:
    """Friday 02/01/2026 off, Saturday 10/01/2026 worked (12729/VPCP-KGVX): the package alone
    counted a dossier received on 31/12/2025 due a working day early."""
    shipped = WorkingCalendar(ZONE, overrides_path=PROJECT_ROOT / "bpmn" / "calendar_overrides.toml")
    assert not shipped.is_working_day(date(2026, 1, 2)) and shipped.is_working_day(date(2026, 1, 10))
    assert "12729/VPCP-KGVX" in (shipped.holiday_name(date(2026, 1, 2)) or "")
    # Wed 31/12/2025 10:00 + 1 working day: Mon 05/01 (the package alone says Fri 02/01).
    assert shipped.add_working_days(at(2025, 12, 31, 10), 1) == at(2026, 1, 5, 10)
    assert CAL.add_working_days(at(2025, 12, 31, 10), 1) == at(2026, 1, 2, 10)
    # A dossier received Fri 09/01 is due Sat 10/01 with one working day.
    assert shipped.add_working_days(at(2026, 1, 9, 10), 1) == at(2026, 1, 10, 10)


def test_culture_day_is_a_setting_an_administrator_can_turn_off() -> None:
    assert not CAL.is_working_day(date(2026, 11, 24))  # Tuesday 24/11/2026, a day off by default
    worked = WorkingCalendar(ZONE, culture_day_off=False)
    assert worked.is_working_day(date(2026, 11, 24)) and worked.holiday_name(date(2026, 11, 24)) is None
    assert not worked.is_working_day(date(2026, 9, 2))  # other holidays stay
    assert CAL.add_working_days(at(2026, 11, 23, 9), 1) == at(2026, 11, 25, 9)
    assert worked.add_working_days(at(2026, 11, 23, 9), 1) == at(2026, 11, 24, 9)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("days_off = [2026-12-31", "not valid TOML"),
        ('days_off = ["2026-02-30"]', "days_off[0]"),
        ('days_off = ["2026-12-31", "31/12/2026"]', "days_off[1]"),
        ("working_days = [2026-08-22T08:00:00]", "working_days[0]"),
        ("working_days = [{ day = 2026-08-22 }]", "working_days[0]"),
        ('working_days = [{ date = 2026-08-22, name = "" }]', "working_days[0]"),
        ("days_off = [2026-12-31, 2026-12-31]", "listed twice"),
        ("days_off = 2026-12-31", "days_off must be a list"),
        ("day_off = [2026-12-31]", "'day_off'"),
        ("days_off = [2026-12-31]\nworking_days = [2026-12-31]", "2026-12-31 is in both"),
    ],
)
def test_malformed_overrides_raise(tmp_path: Path, text: str, names: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CalendarConfigError) as error:
        WorkingCalendar(ZONE, overrides_path=path)
    assert str(path) in str(error.value)
    assert names in str(error.value)


def test_bad_periods_raise() -> None:
    with pytest.raises(CalendarConfigError):
        WorkingCalendar(ZONE, periods=[(time(13, 30), time(17)), (time(7, 30), time(11, 30))])
    with pytest.raises(CalendarConfigError):
        WorkingCalendar(ZONE, periods=[(time(17), time(13, 30))])


def test_get_calendar_is_cached_and_reads_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "working_days = [2026-08-29]\n")
    monkeypatch.setenv("TDCFLOW_CALENDAR_OVERRIDES", str(path))
    get_settings.cache_clear()
    get_calendar.cache_clear()
    try:
        cal = get_calendar()
        assert get_calendar() is cal
        assert cal.overrides_path == path
        assert cal.is_working_day(date(2026, 8, 29))
    finally:
        get_settings.cache_clear()
        get_calendar.cache_clear()


# -- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)
deltas = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=7.5 * 30))
days = st.integers(min_value=0, max_value=40)
ONE_MICROSECOND = timedelta(microseconds=1)
BOUNDARIES = {t for period in CAL.periods for t in period}


@settings(max_examples=150, deadline=None)
@given(instants, deltas)
def test_add_working_time_is_inverse_of_working_time_between(start: datetime, delta: timedelta) -> None:
    end = CAL.add_working_time(start, delta)
    assert end.tzinfo is UTC
    assert end >= start
    assert CAL.working_time_between(start, end) == delta
    if delta:  # the earliest such instant
        assert CAL.working_time_between(start, end - ONE_MICROSECOND) < delta


@settings(max_examples=150, deadline=None)
@given(instants)
def test_receipt_is_the_first_office_instant(start: datetime) -> None:
    received = CAL.receipt_instant(start)
    assert received >= start
    assert CAL.is_working_time(received)
    assert CAL.working_time_between(start, received) == timedelta(0)
    assert received == start or not CAL.is_working_time(start)


@settings(max_examples=150, deadline=None)
@given(instants, days)
def test_add_working_days_lands_in_office_hours(start: datetime, n: int) -> None:
    received = CAL.receipt_instant(start).astimezone(ZONE)
    due = CAL.add_working_days(start, n).astimezone(ZONE)
    assert due.time() == received.time()
    assert CAL.is_working_day(due.date())
    assert CAL.is_working_time(due) or (due.time() in BOUNDARIES and due.time() == received.time())
    assert due >= received
    assert (due.date() - received.date()).days >= n


@settings(max_examples=150, deadline=None)
@given(instants, days, days)
def test_add_working_days_is_monotonic_in_n(start: datetime, n1: int, n2: int) -> None:
    n1, n2 = sorted((n1, n2))
    first, second = CAL.add_working_days(start, n1), CAL.add_working_days(start, n2)
    assert first < second if n1 < n2 else first == second


@settings(max_examples=150, deadline=None)
@given(instants, instants, days)
def test_add_working_days_is_monotonic_in_start(a: datetime, b: datetime, n: int) -> None:
    a, b = sorted((a, b))
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)


def test_office_hours_come_from_the_settings(tmp_path):
    from workflows.calendar import calendar_for, parse_periods
    from workflows.config import Settings

    calendar = calendar_for(Settings(office_hours="08:00-12:00,13:00-17:00", bpmn_dir=tmp_path))
    monday_noon_thirty = datetime(2026, 3, 2, 12, 30, tzinfo=ZONE)
    assert calendar.receipt_instant(monday_noon_thirty) == datetime(2026, 3, 2, 13, 0, tzinfo=ZONE)
    with pytest.raises(CalendarConfigError, match="not HH:MM-HH:MM"):
        parse_periods("8h-12h")
