"""The metrology database's pages (issue 18): anyone checks a verification stamp (by its number or
the QR code on it); a business sees its own instruments, the most urgent first; the department's
staff search the instruments and open one with its verifications and history."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.bounds import PageNumber
from api.deps import RowId, RuntimeDep
from api.stamp_throttle import admit_stamp_lookup
from api.uploads import read_limited
from api.web import i18n
from api.web.csrf import verify_csrf
from api.web.session import MaybeUser, PagePermitted
from api.web.templating import render
from workflows import permissions
from workflows.errors import Forbidden, InvalidInput, NotFound, UploadRejected
from workflows.metrology import bodies, bulk, listing, registry, reports
from workflows.metrology.kinds import KINDS, kind
from workflows.metrology.models import Instrument
from workflows.models import AuditEvent, User

router = APIRouter(include_in_schema=False)
OwnerUser = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_MY_INSTRUMENTS))]
MetrologyStaff = Annotated[User, Depends(PagePermitted(permissions.METROLOGY_READ))]
PAGE_SIZE = 50


def kind_name(code: str) -> str:
    """An instrument kind's name in the page's language (its code, for a kind no longer listed)."""
    found = kind(code)
    return i18n.pick(found.name_vi, found.name_en) if found else code


def _helpers(today: date) -> dict[str, object]:
    def status(instrument: Instrument) -> str:
        return registry.status_of(instrument, today)

    def status_text(instrument: Instrument) -> str:
        return i18n.pick(*registry.status_label(status(instrument), instrument.current_valid_until))

    return {
        "kind_name": kind_name,
        "status_of": status,
        "status_text": status_text,
        "history_text": history_text,
        "today": today,
        "kind_choices": [(k.code, kind_name(k.code)) for k in KINDS if k.in_force(today)],
    }


def history_text(event: AuditEvent) -> str:
    """An event of an instrument's history as an officer reads it (its code, for one not named here)."""
    details = event.details or {}
    body = details.get("body") or ""
    if event.action == "instrument_registered":
        if not body:  # by its owner or an officer (workflows.metrology.registration)
            return i18n._("Đăng ký phương tiện đo (%(actor)s)", actor=event.actor_label)
        return i18n._("Đăng ký phương tiện đo (tổ chức kiểm định %(body)s)", body=body)
    if event.action == "instrument_corrected":
        fields = ", ".join(sorted(details.get("after", {})))
        return i18n._("Sửa thông tin đăng ký: %(fields)s (%(actor)s)", fields=fields, actor=event.actor_label)
    if event.action == "instrument_updated":
        fields = ", ".join(sorted(details.get("after", {})))
        return i18n._("Cập nhật thông tin: %(fields)s (tổ chức kiểm định %(body)s)", fields=fields, body=body)
    if event.action == "verification_reported":
        return i18n._(
            "Báo cáo kiểm định, giấy chứng nhận %(number)s (tổ chức kiểm định %(body)s)",
            number=details.get("certificate_number", ""),
            body=body,
        )
    return event.action


def _stamp_page(
    request: Request, user: MaybeUser, number: str, answer: registry.StampAnswer | None, asked: bool
) -> Response:
    return render(
        request,
        "stamp_lookup.html",
        user,
        {"number": number, "answer": answer, "asked": asked, "kind_name": kind_name},
        status_code=404 if asked and answer is None else 200,
    )


@router.get("/stamps")
def stamp_lookup(
    request: Request, rt: RuntimeDep, user: MaybeUser, number: Annotated[str, Query(max_length=60)] = ""
) -> Response:
    """Check a measuring instrument by its verification stamp's number."""
    if not number.strip():
        return _stamp_page(request, user, "", None, asked=False)
    admit_stamp_lookup(request)
    try:
        answer = registry.lookup_stamp(rt, number)
    except NotFound:
        return _stamp_page(request, user, number, None, asked=True)
    return _stamp_page(request, user, number, answer, asked=True)


@router.get("/stamps/qr/{token}", dependencies=[Depends(admit_stamp_lookup)])
def stamp_by_qr(
    token: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
    request: Request,
    rt: RuntimeDep,
    user: MaybeUser,
) -> Response:
    """Where the QR code on a stamp leads: the same answer as the stamp's number gives."""
    try:
        answer = registry.lookup_stamp_token(rt, token)
    except NotFound:
        return _stamp_page(request, user, "", None, asked=True)
    return _stamp_page(request, user, answer.stamp_number, answer, asked=True)


@router.get("/my/instruments")
def my_instruments(request: Request, rt: RuntimeDep, user: OwnerUser, page: PageNumber = 1) -> Response:
    """A business's instruments, those without a valid verification first, then those ending soon."""
    try:
        result = listing.own_by_urgency(rt, user, page, PAGE_SIZE)
    except Forbidden as refused:
        if refused.code != "tax_code_unverified":
            raise
        return render(
            request,
            "my_instruments.html",
            user,
            {"result": None, "refused": i18n.pick(refused.message, refused.message_en)},
            status_code=403,
        )
    return render(
        request,
        "my_instruments.html",
        user,
        {"result": result, "refused": None, **_helpers(result.today)},
    )


@router.get("/work/instruments")
def instruments(
    request: Request,
    rt: RuntimeDep,
    user: MetrologyStaff,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: PageNumber = 1,
) -> Response:
    """The department's list of instruments, searched by serial number, owner, commune."""
    chosen = status if status in registry.STATUSES else ""
    result = listing.search(rt, user, q, chosen or None, page, PAGE_SIZE)
    statuses = [(s, i18n.pick(*_STATUS_NAMES[s])) for s in registry.STATUSES]
    return render(
        request,
        "instruments.html",
        user,
        {"result": result, "q": q, "status": chosen, "statuses": statuses, **_helpers(result.today)},
    )


# A status's name in the search form's choice (the list's own labels carry the dates).
_STATUS_NAMES = {
    registry.VERIFIED_STATUS: ("Còn hiệu lực", "Verified"),
    registry.EXPIRING: ("Sắp hết hạn", "Expiring soon"),
    registry.OVERDUE: ("Quá hạn", "Overdue"),
    registry.FAILED: ("Không đạt", "Failed"),
    registry.NEVER: ("Chưa kiểm định", "Never verified"),
}


@router.get("/work/instruments/{instrument_id}")
def instrument(instrument_id: RowId, request: Request, rt: RuntimeDep, user: MetrologyStaff) -> Response:
    """An instrument, its verifications (newest first) and its history."""
    found = registry.instrument_file(rt, user, instrument_id)
    return render(request, "instrument.html", user, {"file": found, **_helpers(found.today)})


# --- a verification body's file of results --------------------------------------------------------


def _report_page(request: Request, user: User | None, status_code: int = 200, **values: object) -> Response:
    context = {"columns": reports.COLUMNS, "error": None, "outcome": None, **values}
    return render(request, "metrology_report.html", user, context, status_code=status_code)


@router.get("/metrology/report")
def report_form(request: Request, user: MaybeUser) -> Response:
    """Where a verification body's staff send a file of results without a program of their own."""
    return _report_page(request, user)


@router.post("/metrology/report", dependencies=[Depends(verify_csrf)])
async def report_file(request: Request, rt: RuntimeDep, user: MaybeUser) -> Response:
    """A file of results, sent with the body's API key typed in the form (the key stands for the
    body's sign-in, as in the API's header; the policy is asked of the body it names): the good
    rows are recorded, each bad one is listed with its row number, field and reason."""
    form = await request.form()
    key, upload = form.get("api_key"), form.get("file")
    body = await run_in_threadpool(bodies.body_of_key, rt, key if isinstance(key, str) else None)
    if body is None:
        message = i18n._("Khóa API không đúng hoặc đã bị thu hồi.")
        return _report_page(request, user, 401, error=message)
    permissions.require(body, permissions.METROLOGY_REPORT)
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _report_page(
            request, user, 422, error=i18n._("Hãy chọn tệp kết quả kiểm định (.csv hoặc .xlsx).")
        )
    try:
        content = await read_limited(upload, rt.settings.max_upload_bytes)
        rows = await run_in_threadpool(reports.read_file, upload.filename, content)
    except (UploadRejected, InvalidInput) as refused:
        return _report_page(request, user, 422, error=i18n.pick(refused.message, refused.message_en))
    outcomes = await run_in_threadpool(bulk.report_rows, rt, body, rows)
    counts = {
        name: sum(1 for o in outcomes if o.outcome == name)
        for name in (reports.CREATED, reports.UNCHANGED, reports.REJECTED)
    }
    rejected = [o for o in outcomes if o.outcome == reports.REJECTED]
    return _report_page(
        request,
        user,
        body_name=body.body_name,
        file_name=upload.filename,
        outcome=counts,
        rejected=rejected,
    )
