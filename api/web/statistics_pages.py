"""The figures as pages: the public statistics (Decision 766/QĐ-TTg, 2022) and the officers'
reports (filters, the on-time chart, the spreadsheets). Both count with workflows.statistics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import RuntimeDep
from api.files import XLSX, file_response
from api.web.charts import timeliness_chart
from api.web.session import MaybeUser, StaffUser
from api.web.templating import render
from forms.limits import day_in_range
from workflows import statistics
from workflows.catalogue import office_day
from workflows.clock import now
from workflows.errors import FieldProblem, InvalidInput
from workflows.runtime import Runtime

router = APIRouter(include_in_schema=False)
ProcedureCode = Annotated[str, Query(max_length=60)]


DayText = Annotated[str, Query(max_length=10, description="YYYY-MM-DD; empty: the default")]
OfficerText = Annotated[str, Query(max_length=20, description="an officer's id; empty: every officer")]


def _day(value: str, name: str) -> date | None:
    """A day from a filter form: empty (the box cleared) is the default; anything else must be a
    day the pages can mean, else the field is named."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None or not day_in_range(day):
        raise InvalidInput(
            "Ngày không hợp lệ.",
            "The date is not valid.",
            "validation_error",
            [FieldProblem(name, "Ngày không hợp lệ (dd/mm/yyyy).", "Not a valid date.", "format")],
        )
    return day


def _period(date_from: str, date_to: str) -> tuple[date, date]:
    return statistics.period(_day(date_from, "date_from"), _day(date_to, "date_to"), office_day(now()))


def _procedure(rt: Runtime, code: str) -> str | None:
    """The procedure asked for; an unknown code (or none) means every procedure."""
    return code if code in rt.catalogue.procedures else None


def _names(rt: Runtime) -> dict[str, str]:
    return {code: p.name_vi for code, p in rt.catalogue.procedures.items()}


@router.get("/thong-ke")
def public_statistics(
    request: Request,
    rt: RuntimeDep,
    user: MaybeUser,
    date_from: DayText = "",
    date_to: DayText = "",
    procedure: ProcedureCode = "",
) -> Response:
    """Thống kê công khai: what Decision 766 measures, counted from the dossiers; no personal data."""
    start, end = _period(date_from, date_to)
    code = _procedure(rt, procedure)
    stats = statistics.compute(rt, start, end, code)
    return render(
        request,
        "statistics.html",
        user,
        {
            "stats": stats,
            "total": stats.total,
            "procedure": code or "",
            # The public service's procedures (an internal one, e.g. an inspection campaign, is
            # never received from anyone: the figures count none of it).
            "procedures": list(rt.catalogue.public.values()),
            "catalogue": rt.catalogue,
            "published": len(rt.catalogue.public),
        },
    )


@router.get("/thong-ke.xlsx")
def public_statistics_xlsx(
    rt: RuntimeDep,
    date_from: DayText = "",
    date_to: DayText = "",
    procedure: ProcedureCode = "",
) -> Response:
    start, end = _period(date_from, date_to)
    code = _procedure(rt, procedure)
    stats = statistics.compute(rt, start, end, code)
    title = f"THỐNG KÊ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH — {rt.settings.agency_name}"
    content = statistics.statistics_xlsx(stats, _names(rt), title, "")
    return file_response(content, XLSX, f"thong-ke-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


def _officer(officer: str, officers: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The officer chosen in the filter; none (every officer) when empty or not an officer."""
    return next((o for o in officers if str(o[0]) == officer.strip()), None) if officer.strip() else None


@router.get("/work/reports")
def reports(
    request: Request,
    rt: RuntimeDep,
    user: StaffUser,
    date_from: DayText = "",
    date_to: DayText = "",
    procedure: ProcedureCode = "",
    officer: OfficerText = "",
) -> Response:
    """Tiến độ giải quyết: early / on time / late per month (a chart and a table), filtered by
    period, procedure and the officer who worked the dossiers."""
    start, end = _period(date_from, date_to)
    code = _procedure(rt, procedure)
    officers = statistics.report_officers(rt)
    chosen = _officer(officer, officers)
    stats = statistics.compute(rt, start, end, code, chosen[0] if chosen else None)
    months = stats.by_month
    return render(
        request,
        "reports.html",
        user,
        {
            "stats": stats,
            "months": months,
            "chart": timeliness_chart(months),
            "date_from": start,
            "date_to": end,
            "procedure": code or "",
            "procedures": list(rt.catalogue.procedures.values()),
            "officers": officers,
            "officer": chosen[0] if chosen else None,
            "catalogue": rt.catalogue,
            "query": request.url.query,
        },
    )


@router.get("/work/reports.xlsx")
def reports_xlsx(
    rt: RuntimeDep,
    user: StaffUser,
    date_from: DayText = "",
    date_to: DayText = "",
    procedure: ProcedureCode = "",
    officer: OfficerText = "",
) -> Response:
    start, end = _period(date_from, date_to)
    code = _procedure(rt, procedure)
    chosen = _officer(officer, statistics.report_officers(rt))
    stats = statistics.compute(rt, start, end, code, chosen[0] if chosen else None)
    scope = f" — hồ sơ do {chosen[1]} xử lý" if chosen else ""
    title = f"BÁO CÁO TIẾN ĐỘ GIẢI QUYẾT HỒ SƠ — {rt.settings.agency_name}"
    content = statistics.statistics_xlsx(stats, _names(rt), title, scope)
    return file_response(content, XLSX, f"bao-cao-tien-do-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")
