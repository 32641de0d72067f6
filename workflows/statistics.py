"""Service figures counted from the dossiers: the one place the portal counts them, for the public
statistics page (Decision 766/QĐ-TTg, 2022), the officers' reports and their spreadsheets.

Per procedure and month (office time):

* **received**: dossiers received (``received_at``) that month; **online**: of those, the ones
  submitted through the portal — every dossier tdcflow holds was, since the one-stop desk records
  no paper dossier here, so the share is 100 % of what the system knows (the page says so);
* **resolved**: dossiers that got their result that month (``completed_at``; received first, not
  withdrawn), counted **early / on time / late** against the province's committed appointment
  (``timeliness_committed``, fixed when the dossier closed) and late against the legal limit;
* **processing time**: working days from receipt to result, the pauses (waiting on the business)
  left out, averaged over the resolved dossiers;
* **satisfaction**: the applicants' ratings (1–5, :mod:`workflows.ratings`) of the dossiers
  resolved that month.

Nothing personal leaves this module: only counts and averages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import Row
from sqlmodel import col, select

from workflows import sla
from workflows.calendar import WorkingCalendar
from workflows.clock import as_utc, to_local
from workflows.db import reading
from workflows.errors import FieldProblem, InvalidInput
from workflows.models import AuditEvent, ClockPause, Dossier, ServiceRating, User, WorkTask
from workflows.runtime import Runtime

TIMELINESS = ("early", "on_time", "late")
# Outcomes that are no result of the service: the applicant took the dossier back.
NOT_RESOLVED = ("withdrawn",)
# The widest period asked at once (a page, a spreadsheet): a few years of a department.
MAX_DAYS = 3 * 366


@dataclass
class Figures:
    """The counts of one procedure in one month (or a sum of several)."""

    procedure_code: str
    month: str  # "YYYY-MM" (office time); "" for a sum over months
    received: int = 0
    online: int = 0
    resolved: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    legal_late: int = 0
    processing_days: float = 0.0  # summed over ``processing_count`` dossiers
    processing_count: int = 0
    rating_count: int = 0
    rating_sum: int = 0

    @property
    def month_label(self) -> str:
        """ "mm/yyyy", as the pages write a month."""
        return f"{self.month[5:7]}/{self.month[:4]}" if self.month else ""

    @property
    def classified(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def in_time(self) -> int:
        """Early or on time: what Decision 766 counts as resolved by the appointment."""
        return self.early + self.on_time

    @property
    def in_time_share(self) -> float | None:
        return self.in_time / self.classified if self.classified else None

    @property
    def online_share(self) -> float | None:
        return self.online / self.received if self.received else None

    @property
    def average_processing_days(self) -> float | None:
        return round(self.processing_days / self.processing_count, 1) if self.processing_count else None

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    def add(self, other: Figures) -> None:
        for name in (
            "received",
            "online",
            "resolved",
            "early",
            "on_time",
            "late",
            "legal_late",
            "processing_days",
            "processing_count",
            "rating_count",
            "rating_sum",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Statistics:
    """The figures of a period: ``rows`` per procedure and month, sums per procedure, per month and
    over everything."""

    date_from: date
    date_to: date
    rows: list[Figures] = field(default_factory=list)

    def _sum(self, key: str, rows: Iterable[Figures], by_month: bool) -> Figures:
        total = Figures(key if not by_month else "", key if by_month else "")
        for row in rows:
            total.add(row)
        return total

    @property
    def by_procedure(self) -> list[Figures]:
        codes = sorted({r.procedure_code for r in self.rows})
        return [self._sum(c, (r for r in self.rows if r.procedure_code == c), False) for c in codes]

    @property
    def by_month(self) -> list[Figures]:
        """Every month of the period, in order, the empty ones too (a chart shows the gaps)."""
        return [
            self._sum(m, (r for r in self.rows if r.month == m), True)
            for m in months(self.date_from, self.date_to)
        ]

    @property
    def total(self) -> Figures:
        return self._sum("", self.rows, False)


def period(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The period asked for: by default from the first of January to today; refused (naming the
    field) when it ends before it starts or spans more than :data:`MAX_DAYS`."""
    end = date_to or today
    start = date_from or date(end.year, 1, 1)
    if start > end:
        raise InvalidInput(
            "Ngày bắt đầu phải trước ngày kết thúc.",
            "The start date must come before the end date.",
            "validation_error",
            [
                FieldProblem(
                    "date_from", "Ngày bắt đầu sau ngày kết thúc.", "The start is after the end.", "range"
                )
            ],
        )
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(
            "Thống kê xem tối đa ba năm mỗi lần.",
            "The statistics cover at most three years at a time.",
            "validation_error",
            [FieldProblem("date_from", "Khoảng thời gian quá ba năm.", "More than three years.", "range")],
        )
    return start, end


def months(date_from: date, date_to: date) -> list[str]:
    """The months ("YYYY-MM") from ``date_from``'s to ``date_to``'s."""
    out, year, month = [], date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month(instant: datetime) -> str:
    local = to_local(as_utc(instant))
    return f"{local.year:04d}-{local.month:02d}"


def _handled_by(session: object, officer_id: int) -> set[int]:
    """The dossiers ``officer_id`` worked on: completed a task of."""
    rows = session.exec(  # type: ignore[attr-defined]
        select(WorkTask.dossier_id).where(WorkTask.completed_by_id == officer_id).distinct()
    ).all()
    return set(rows)


def compute(
    rt: Runtime,
    date_from: date,
    date_to: date,
    procedure_code: str | None = None,
    officer_id: int | None = None,
) -> Statistics:
    """The figures of the office days ``date_from`` to ``date_to`` inclusive, of one procedure
    (``procedure_code``) or all, of the dossiers one officer worked on (``officer_id``) or all."""
    zone = rt.calendar.zone
    start = as_utc(datetime.combine(date_from, time.min, zone))
    end = as_utc(datetime.combine(date_to + timedelta(days=1), time.min, zone))
    with reading(rt.engine) as session:
        # Only the columns counted (not whole dossiers with their data): a month of a busy
        # department is tens of thousands of rows, found by the indexes on the two instants.
        received_q = select(Dossier.id, Dossier.procedure_code, Dossier.received_at).where(
            col(Dossier.received_at) >= start, col(Dossier.received_at) < end
        )
        resolved_q = select(
            Dossier.id,
            Dossier.procedure_code,
            Dossier.received_at,
            Dossier.completed_at,
            Dossier.timeliness_committed,
            Dossier.timeliness_legal,
        ).where(
            col(Dossier.completed_at) >= start,
            col(Dossier.completed_at) < end,
            col(Dossier.received_at).is_not(None),
            col(Dossier.outcome).not_in(NOT_RESOLVED),
        )
        if procedure_code:
            received_q = received_q.where(Dossier.procedure_code == procedure_code)
            resolved_q = resolved_q.where(Dossier.procedure_code == procedure_code)
        received = list(session.exec(received_q).all())
        resolved = list(session.exec(resolved_q).all())
        if officer_id is not None:
            mine = _handled_by(session, officer_id)
            received = [d for d in received if d.id in mine]
            resolved = [d for d in resolved if d.id in mine]
        ids = {d.id for d in resolved}
        pauses: dict[int, list[tuple[datetime, datetime | None]]] = {}
        ratings: dict[int, int] = {}
        if ids:
            # Joined on the period's condition, not an IN list of every id (a year holds more
            # dossiers than SQLite takes parameters).
            resolved_ids = resolved_q.with_only_columns(Dossier.id).subquery()
            for dossier_id, started, ended in session.exec(
                select(ClockPause.dossier_id, ClockPause.started_at, ClockPause.ended_at).join(
                    resolved_ids, resolved_ids.c.id == ClockPause.dossier_id
                )
            ).all():
                if dossier_id in ids:
                    pauses.setdefault(dossier_id, []).append((started, ended))
            ratings = {
                dossier_id: score
                for dossier_id, score in session.exec(
                    select(ServiceRating.dossier_id, ServiceRating.score).join(
                        resolved_ids, resolved_ids.c.id == ServiceRating.dossier_id
                    )
                ).all()
                if dossier_id in ids
            }
    cells: dict[tuple[str, str], Figures] = {}

    def cell(dossier: Row[Any], instant: datetime) -> Figures:
        key = (dossier.procedure_code, _month(instant))
        return cells.setdefault(key, Figures(*key))

    for dossier in received:
        row = cell(dossier, dossier.received_at)  # type: ignore[arg-type]
        row.received += 1
        row.online += 1  # every dossier in the system came through the portal (module docstring)
    day = sla.working_day_length(rt.calendar)
    meter = _OfficeTime(rt.calendar)
    for dossier in resolved:
        done = as_utc(dossier.completed_at)  # type: ignore[arg-type]
        row = cell(dossier, done)
        row.resolved += 1
        if dossier.timeliness_committed in TIMELINESS:
            setattr(row, dossier.timeliness_committed, getattr(row, dossier.timeliness_committed) + 1)
        row.legal_late += dossier.timeliness_legal == "late"
        worked = meter.between(as_utc(dossier.received_at), done)  # type: ignore[arg-type]
        paused = sum(
            (meter.between(as_utc(a), as_utc(b) if b else done) for a, b in pauses.get(dossier.id, [])),
            timedelta(),
        )
        row.processing_days += max(worked - paused, timedelta()) / day
        row.processing_count += 1
        if dossier.id in ratings:
            row.rating_count += 1
            row.rating_sum += ratings[dossier.id]
    rows = sorted(cells.values(), key=lambda r: (r.procedure_code, r.month))
    return Statistics(date_from, date_to, rows)


class _OfficeTime:
    """``calendar.working_time_between`` for many spans at once: the office time before an instant
    is the office time of the whole days before its day (a running sum, each day computed once)
    plus its own day's periods before it; a span is the difference of its two ends. A month of a
    busy department is tens of thousands of spans."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.periods = [(_micros(start), _micros(end)) for start, end in calendar.periods]
        self.day_length = sum(end - start for start, end in self.periods)
        self.days: dict[date, int] = {}
        self.first: date | None = None
        self.running: list[int] = []  # office microseconds of the days from ``first`` before each

    def _start_at(self, day: date) -> None:
        """Count the running sum from ``day`` at the latest (both ends of a span share it)."""
        if self.first is None or day < self.first:
            self.first, self.running = day - timedelta(days=31), []

    def _days_before(self, day: date) -> int:
        assert self.first is not None
        while len(self.running) <= (day - self.first).days:
            last = len(self.running) - 1
            previous = 0 if last < 0 else self.running[last] + self._day(self.first + timedelta(days=last))
            self.running.append(previous)
        return self.running[(day - self.first).days]

    def _day(self, day: date) -> int:
        if day not in self.days:
            self.days[day] = self.day_length if self.calendar.is_working_day(day) else 0
        return self.days[day]

    def _before(self, local: datetime) -> int:
        day = local.date()
        total = self._days_before(day)
        if self._day(day):
            now_ = _micros(local.time())
            total += sum(max(0, min(now_, end) - start) for start, end in self.periods)
        return total

    def between(self, a: datetime, b: datetime) -> timedelta:
        start, end = a.astimezone(self.zone), b.astimezone(self.zone)
        self._start_at(min(start.date(), end.date()))
        return timedelta(microseconds=max(0, self._before(end) - self._before(start)))


def _micros(moment: time) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


@dataclass(frozen=True)
class TimelinessRow:
    group: str
    total: int
    early: int
    on_time: int
    late: int
    legal_late: int


def timeliness(
    rt: Runtime, group_by: str, date_from: datetime | None = None, date_to: datetime | None = None
) -> list[TimelinessRow]:
    """Resolved dossiers counted early / on time / late (committed) and late against the legal
    limit, per procedure, per month of the result (local time, "mm/yyyy"), or per officer who
    returned the result (the actor of the closing command)."""
    with reading(rt.engine) as session:
        query = select(Dossier).where(
            col(Dossier.completed_at).is_not(None), col(Dossier.timeliness_committed).is_not(None)
        )
        if date_from:
            query = query.where(col(Dossier.completed_at) >= as_utc(date_from))
        if date_to:
            query = query.where(col(Dossier.completed_at) < as_utc(date_to))
        dossiers = session.exec(query).all()
        closers: dict[int, str] = {}
        if group_by == "officer" and dossiers:
            rows = session.exec(
                select(AuditEvent.dossier_id, AuditEvent.actor_label).where(
                    col(AuditEvent.dossier_id).in_([d.id for d in dossiers]), AuditEvent.action == "closed"
                )
            ).all()
            closers = {dossier_id: label for dossier_id, label in rows}
    counts: dict[str, Figures] = {}
    for dossier in dossiers:
        if group_by == "month":
            key = to_local(as_utc(dossier.completed_at)).strftime("%m/%Y")  # type: ignore[arg-type]
        elif group_by == "officer":
            key = closers.get(dossier.id, "—")  # type: ignore[arg-type]
        else:
            key = dossier.procedure_code
        row = counts.setdefault(key, Figures(key, ""))
        setattr(row, dossier.timeliness_committed, getattr(row, dossier.timeliness_committed) + 1)  # type: ignore[arg-type]
        row.legal_late += dossier.timeliness_legal == "late"
    return [
        TimelinessRow(key, r.classified, r.early, r.on_time, r.late, r.legal_late)
        for key, r in sorted(counts.items())
    ]


# --- the spreadsheet ----------------------------------------------------------------------------

HEADINGS = (
    "Thủ tục hành chính",
    "Tháng",
    "Số hồ sơ tiếp nhận",
    "Trong đó trực tuyến",
    "Tỷ lệ trực tuyến (%)",
    "Số hồ sơ đã giải quyết",
    "Trước hạn",
    "Đúng hạn",
    "Trễ hạn",
    "Tỷ lệ đúng hạn (%)",
    "Trễ so với thời hạn luật định",
    "Thời gian xử lý trung bình (ngày làm việc)",
    "Số lượt đánh giá",
    "Điểm hài lòng trung bình (1–5)",
)


def _percent(share: float | None) -> float | None:
    return round(share * 100, 1) if share is not None else None


def _line(label: str, month: str, row: Figures) -> list[object]:
    return [
        label,
        month,
        row.received,
        row.online,
        _percent(row.online_share),
        row.resolved,
        row.early,
        row.on_time,
        row.late,
        _percent(row.in_time_share),
        row.legal_late,
        row.average_processing_days,
        row.rating_count,
        row.average_rating,
    ]


def statistics_xlsx(stats: Statistics, procedure_names: dict[str, str], title: str, scope: str) -> bytes:
    """The figures as a spreadsheet with Vietnamese headings: one line per procedure and month,
    a sum per procedure, the total. ``procedure_names``: code → Vietnamese name; ``scope``: the
    filters, said under the title."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Thong ke"
    sheet.append([title])
    sheet.append([f"Từ ngày {stats.date_from:%d/%m/%Y} đến ngày {stats.date_to:%d/%m/%Y}{scope}"])
    sheet.append(list(HEADINGS))
    sheet["A1"].font = Font(bold=True, size=13)
    for c in sheet[3]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for row in stats.rows:
        sheet.append(_line(procedure_names.get(row.procedure_code, row.procedure_code), row.month_label, row))
    for row in stats.by_procedure:
        line = _line(procedure_names.get(row.procedure_code, row.procedure_code), "Cả kỳ", row)
        sheet.append(line)
        for c in sheet[sheet.max_row]:
            c.font = Font(bold=True)
    sheet.append(_line("Tổng cộng", "Cả kỳ", stats.total))
    for c in sheet[sheet.max_row]:
        c.font = Font(bold=True)
    sheet.append([])
    sheet.append(
        [
            "Ghi chú: hồ sơ trực tuyến là hồ sơ nộp qua cổng; hồ sơ giấy nộp trực tiếp tại bộ phận một cửa "
            "không được ghi nhận trong hệ thống này. Đúng hạn tính theo thời hạn Tỉnh cam kết; thời gian xử lý "
            "không tính thời gian chờ tổ chức, cá nhân bổ sung hồ sơ."
        ]
    )
    widths = (45, 10, 12, 12, 12, 12, 10, 10, 10, 12, 14, 16, 12, 14)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_officers(rt: Runtime) -> list[tuple[int, str]]:
    """The accounts holding an officer's role (id, name), by name: the reports' officer filter."""
    with reading(rt.engine) as session:
        users = session.exec(select(User).order_by(col(User.full_name))).all()
    return [(u.id, u.full_name) for u in users if u.id is not None and u.is_officer]
