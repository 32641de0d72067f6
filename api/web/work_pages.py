"""The officers' workspace: the inbox by due time, claim/release, the task page, dossier search."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.bounds import Day, PageNumber
from api.deps import RowId, RuntimeDep
from api.files import XLSX, file_response
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import OfficerUser, StaffUser
from api.web.templating import render
from forms.limits import day_in_range
from workflows import commands, permissions, queries
from workflows.catalogue import office_day
from workflows.clock import local_zone, now
from workflows.dossier_register import register_rows, register_xlsx
from workflows.errors import Conflict, DomainError, FieldProblem, InvalidInput
from workflows.models import User
from workflows.queries import DossierFilter
from workflows.runtime import Runtime
from workflows.statuses import status_options
from workflows.violations import handle_violation, violation_list

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
LIST_PAGE_SIZE = 50


@router.get("/work/inbox")
def inbox(
    request: Request,
    rt: RuntimeDep,
    user: OfficerUser,
    mine: bool = False,
    page: PageNumber = 1,
    flash: str = "",
) -> Response:
    result = queries.inbox(rt, user, mine_only=mine, page=page, page_size=50)
    return render(
        request,
        "inbox.html",
        user,
        {
            "result": result,
            "mine": mine,
            "catalogue": rt.catalogue,
            "flash": flash or None,
        },
    )


@router.post("/work/tasks/{task_id}/claim", dependencies=[Csrf])
def claim(task_id: str, rt: RuntimeDep, user: OfficerUser) -> Response:
    commands.claim_task(rt, user, task_id)
    return RedirectResponse(f"/work/tasks/{task_id}", status_code=303)


@router.post("/work/tasks/{task_id}/release", dependencies=[Csrf])
def release(task_id: str, rt: RuntimeDep, user: OfficerUser) -> Response:
    commands.release_task(rt, user, task_id)
    return RedirectResponse("/work/inbox", status_code=303)


@router.get("/work/dossiers")
def search(
    request: Request,
    rt: RuntimeDep,
    user: OfficerUser,
    q: Annotated[str, Query(max_length=200)] = "",
    procedure: Annotated[str, Query(max_length=60)] = "",
    status: Annotated[str, Query(max_length=40)] = "",
    tax_code: Annotated[str, Query(max_length=14)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    page: PageNumber = 1,
) -> Response:
    zone = local_zone()
    statuses = status_options(rt.catalogue.versions)
    if procedure and not any(o.key == status and procedure in o.procedures for o in statuses):
        status = ""  # a status the chosen procedure never reaches (left from another choice)

    def day(value: str, shift: int = 0) -> datetime | None:
        # A day the search form cannot mean (malformed, or outside 1900..2999) filters nothing,
        # as an empty box does: the form shows it back for the officer to correct.
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            return None
        if not day_in_range(parsed):
            return None
        return datetime.combine(parsed + timedelta(days=shift), time.min, zone)

    flt = DossierFilter(
        q=q or None,
        procedure=procedure or None,
        status=status or None,
        tax_code=tax_code or None,
        submitted_from=day(date_from),
        submitted_to=day(date_to, 1),
        page=page,
    )
    return render(
        request,
        "search.html",
        user,
        {
            "result": queries.list_dossiers(rt, user, flt),
            "catalogue": rt.catalogue,
            "statuses": statuses,
            "q": q,
            "procedure": procedure,
            "status": status,
            "tax_code": tax_code,
            "date_from": date_from,
            "date_to": date_to,
        },
    )


@router.get("/work/at-risk")
def at_risk(request: Request, rt: RuntimeDep, user: StaffUser, page: PageNumber = 1) -> Response:
    """Dossiers due within a working day, or already past their appointment."""
    return render(
        request,
        "at_risk.html",
        user,
        {"result": queries.at_risk_page(rt, 1, page, LIST_PAGE_SIZE), "catalogue": rt.catalogue},
    )


def _register_period(day_from: date | None, day_to: date | None) -> tuple[date, date]:
    """The period asked for; by default the current month up to today (office days)."""
    today = office_day(now())
    end = day_to or today
    start = day_from or end.replace(day=1)
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
    if (end - start).days > 366:
        raise InvalidInput(
            "Sổ theo dõi xem tối đa một năm mỗi lần.",
            "The register shows at most a year at a time.",
            "validation_error",
            [FieldProblem("date_from", "Khoảng thời gian quá một năm.", "More than a year.", "range")],
        )
    return start, end


@router.get("/work/register")
def register(
    request: Request,
    rt: RuntimeDep,
    user: StaffUser,
    date_from: Day | None = None,
    date_to: Day | None = None,
    procedure: str | None = None,
) -> Response:
    """Sổ theo dõi hồ sơ (Mẫu số 07): the dossiers of a period, as the one-stop unit keeps them."""
    start, end = _register_period(date_from, date_to)
    code = procedure if procedure in rt.catalogue.versions else None
    rows = register_rows(rt, start, end, code)
    return render(
        request,
        "dossier_register.html",
        user,
        {
            "rows": rows,
            "date_from": start,
            "date_to": end,
            "procedure": code or "",
            "procedures": list(rt.catalogue.procedures.values()),
        },
    )


@router.get("/work/register.xlsx")
def register_download(
    rt: RuntimeDep,
    user: StaffUser,
    date_from: Day | None = None,
    date_to: Day | None = None,
    procedure: str | None = None,
) -> Response:
    start, end = _register_period(date_from, date_to)
    code = procedure if procedure in rt.catalogue.versions else None
    content = register_xlsx(register_rows(rt, start, end, code), start, end, rt.settings.agency_name)
    return file_response(content, XLSX, f"so-theo-doi-ho-so-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


def _violations_page(
    request: Request,
    rt: Runtime,
    user: User,
    handled: bool,
    page: int = 1,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "violations.html",
        user,
        {
            "result": violation_list(rt, user, handled=handled, page=page, page_size=LIST_PAGE_SIZE),
            "handled": handled,
            "may_handle": permissions.may(user, permissions.VIOLATION_HANDLE),
            "catalogue": rt.catalogue,
            "error": " ".join(
                [i18n.pick(error.message, error.message_en)]
                + [i18n.pick(f.message, f.message_en) for f in error.fields]
            )
            if error
            else None,
            "flash": i18n._("Đã ghi nhận việc xử lý vi phạm.") if request.query_params.get("done") else None,
            "flash_kind": "success",
        },
        status_code=status_code,
    )


@router.get("/work/violations")
def violations(
    request: Request, rt: RuntimeDep, user: StaffUser, show: str = "open", page: PageNumber = 1
) -> Response:
    """The violation list: what models flagged on dossiers, until an officer handles it."""
    return _violations_page(request, rt, user, handled=show == "handled", page=page)


@router.post("/work/violations/{violation_id}/handle", dependencies=[Csrf])
def handle(
    violation_id: RowId,
    request: Request,
    rt: RuntimeDep,
    user: StaffUser,
    handling: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        handle_violation(rt, user, violation_id, handling)
    except (InvalidInput, Conflict) as exc:
        return _violations_page(
            request, rt, user, False, error=exc, status_code=422 if isinstance(exc, InvalidInput) else 409
        )
    return RedirectResponse("/work/violations?done=1", status_code=303)
