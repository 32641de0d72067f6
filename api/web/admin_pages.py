"""Administration: officer accounts and roles, the catalogue as loaded, the working calendar (its
days off and make-up working days: add or remove one after seeing what it moves), login locks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import select
from starlette.responses import Response

from api.bounds import LAST_PAGE, PageNumber
from api.deps import RowId, RuntimeDep
from api.routes.calendar import ChangeIn, change_of
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import AdminUser, PagePermitted
from api.web.templating import render
from workflows import (
    account_lists,
    accounts,
    audit_root,
    calendar_change,
    login_throttle,
    password_reset,
    permissions,
    tax_codes,
)
from workflows.calendar_entries import all_entries
from workflows.clock import now, to_local
from workflows.db import reading
from workflows.errors import Conflict, DomainError, InvalidInput, NotFound, not_found
from workflows.models import ModelVersion, User, officer_roles, role_labels

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
CalendarAdmin = Annotated[User, Depends(PagePermitted(permissions.CALENDAR_MANAGE))]
LocksAdmin = Annotated[User, Depends(PagePermitted(permissions.LOGIN_LOCKS_MANAGE))]
AccountsAdmin = Annotated[User, Depends(PagePermitted(permissions.ACCOUNT_MANAGE))]


UserList = Annotated[account_lists.Kind, Query(description="officers, businesses or visitors")]
SearchText = Annotated[str, Query(max_length=200)]


def _users_page(
    request: Request,
    rt: Any,
    user: User,
    kind: account_lists.Kind = "officers",
    q: str = "",
    page: int = 1,
    **context: Any,
) -> Response:
    listing = account_lists.account_page(rt, kind, q.strip(), page)
    values = {
        "listing": listing,
        # Who may be sent a password reset link: the active accounts that log in with a password.
        "resettable": {u.id for u in listing.accounts if u.is_active and accounts.has_password(u)},
        "roles": officer_roles(),
        "role_names": {role: i18n.pick(*labels) for role, labels in role_labels().items()},
        "tax_code_states": {
            state: i18n.pick(*tax_codes.state_label(state))
            for state in {u.tax_code_status for u in listing.accounts if u.tax_code_status}
        },
        "values": {},
        "errors": {},
        "edit_errors": {},
        "chosen": [],
    }
    values.update(context)
    failed = context.get("errors") or context.get("edit_errors")
    return render(request, "admin_users.html", user, values, status_code=422 if failed else 200)


async def _list_state(request: Request) -> dict[str, Any]:
    """The list a form was sent from (its hidden fields), to show it again after the act."""
    form = await request.form()
    kind = str(form.get("kind", "officers"))
    try:
        page = int(str(form.get("page", "1")))
    except ValueError:
        page = 1
    return {
        "kind": kind if kind in account_lists.KINDS else "officers",
        "q": str(form.get("q", ""))[:200],
        "page": min(max(page, 1), LAST_PAGE),
    }


def _list_url(state: dict[str, Any]) -> str:
    return "/admin/users?" + urlencode({k: v for k, v in state.items() if v not in ("", 1, "officers")})


@router.get("/admin/users")
def users(
    request: Request,
    rt: RuntimeDep,
    user: AccountsAdmin,
    kind: UserList = "officers",
    q: SearchText = "",
    page: PageNumber = 1,
) -> Response:
    """The accounts, in three lists: officers, businesses (with their tax code's state) and TBT
    visitors; each searchable and paged."""
    return _users_page(request, rt, user, kind, q, page)


@router.post("/admin/users", dependencies=[Csrf])
async def create_officer(request: Request, rt: RuntimeDep, user: AccountsAdmin) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, ""))[:300] for k in ("email", "full_name", "job_title")}
    chosen = [str(r) for r in form.getlist("roles")]
    password = str(form.get("password", ""))[:200]
    errors: dict[str, str] = {}
    if len(password) < accounts.MIN_PASSWORD:
        errors["password"] = i18n._("Mật khẩu phải có ít nhất %(n)s ký tự.", n=accounts.MIN_PASSWORD)
    if not accounts.EMAIL.match(values["email"].strip()):
        errors["email"] = i18n._("Địa chỉ thư điện tử không hợp lệ.")
    if not values["full_name"].strip():
        errors["full_name"] = i18n._("Họ tên là bắt buộc.")
    if errors:
        return _users_page(request, rt, user, values=values, chosen=chosen, errors=errors)
    try:
        accounts.create_officer(
            rt,
            user,
            email=values["email"],
            password=password,
            full_name=values["full_name"].strip(),
            roles=chosen,
            job_title=values["job_title"].strip(),
        )
    except DomainError as exc:
        return _users_page(request, rt, user, values=values, chosen=chosen, errors=field_errors(exc))
    return _users_page(
        request,
        rt,
        user,
        flash=i18n._("Đã tạo tài khoản %(email)s.", email=values["email"]),
        flash_kind="success",
    )


@router.post("/admin/users/{user_id}/roles", dependencies=[Csrf])
async def update_officer(user_id: RowId, request: Request, rt: RuntimeDep, user: AccountsAdmin) -> Response:
    """Change an officer's roles and job title (audited, before and after)."""
    form = await request.form()
    state = await _list_state(request)
    roles = [str(r) for r in form.getlist("roles")]
    job_title = str(form.get("job_title", ""))[:300]
    try:
        target = accounts.update_officer(rt, user, user_id, roles=roles, job_title=job_title)
    except DomainError as exc:
        return _users_page(
            request,
            rt,
            user,
            **state,
            edit_errors={user_id: i18n.pick(exc.message, exc.message_en)},
            flash=i18n.pick(exc.message, exc.message_en),
            flash_kind="error",
        )
    return _users_page(
        request,
        rt,
        user,
        **state,
        flash=i18n._("Đã lưu vai trò và chức vụ của %(email)s.", email=target.email),
        flash_kind="success",
    )


@router.post("/admin/users/{user_id}/active", dependencies=[Csrf])
async def set_active(user_id: RowId, request: Request, rt: RuntimeDep, user: AccountsAdmin) -> Response:
    form = await request.form()
    state = await _list_state(request)
    try:
        accounts.set_active(rt, user, user_id, form.get("active") == "1")
    except DomainError as exc:
        return _users_page(
            request, rt, user, **state, flash=i18n.pick(exc.message, exc.message_en), flash_kind="error"
        )
    return RedirectResponse(_list_url(state), status_code=303)


@router.post("/admin/users/{user_id}/password-reset", dependencies=[Csrf])
async def send_password_reset(
    user_id: RowId, request: Request, rt: RuntimeDep, user: AccountsAdmin
) -> Response:
    """E-mail the account a password reset link (audited with the administrator)."""
    state = await _list_state(request)
    try:
        target = password_reset.send_reset_link(rt, user, user_id)
    except DomainError as exc:
        return _users_page(
            request, rt, user, **state, flash=i18n.pick(exc.message, exc.message_en), flash_kind="error"
        )
    return _users_page(
        request,
        rt,
        user,
        **state,
        flash=i18n._("Đã gửi liên kết đặt lại mật khẩu tới %(email)s.", email=target.email),
        flash_kind="success",
    )


@router.get("/admin/catalogue")
def catalogue(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    with reading(rt.engine) as session:
        versions = session.exec(select(ModelVersion).order_by(ModelVersion.process_id, ModelVersion.id)).all()
    return render(
        request,
        "admin_catalogue.html",
        user,
        {
            "procedures": list(rt.catalogue.procedures.values()),
            "versions": versions,
            "current": rt.current_versions,
        },
    )


def _calendar_page(
    request: Request, rt: Any, user: User, year: int = 0, status_code: int = 200, **context: Any
) -> Response:
    today = to_local(now()).date()
    year = year if 2000 <= year <= 2100 else today.year
    with reading(rt.engine) as session:
        entries = all_entries(session)
        ids = {e.created_by_id for e in entries} | {e.removed_by_id for e in entries}
        people = {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_(ids - {None})))}
    values: dict[str, Any] = {
        "year": year,
        "today": today,
        "days": rt.calendar.days_in_year(year),
        "periods": rt.calendar.periods,
        "entries": entries,
        "people": people,
        "unplanned_year": calendar_change.next_year_unplanned(rt, today),
        "kinds": _calendar_kinds(),
        "values": {"kind": "day_off"},
        "errors": {},
        "flash": None,
        "flash_kind": "success",
    }
    values.update(context)
    return render(request, "admin_calendar.html", user, values, status_code=status_code)


def _calendar_kinds() -> list[tuple[str, str]]:
    return [("day_off", i18n._("Ngày nghỉ")), ("working_day", i18n._("Ngày làm việc bù"))]


@router.get("/admin/calendar")
def calendar(
    request: Request,
    rt: RuntimeDep,
    user: CalendarAdmin,
    year: Annotated[int, Query(ge=0, le=9999)] = 0,
    saved: Annotated[int, Query(ge=-1, le=1_000_000)] = -1,
) -> Response:
    flash = None
    if saved >= 0:
        flash = i18n._("Đã lưu thay đổi lịch làm việc; %(n)s thời hạn đã được tính lại.", n=saved)
    return _calendar_page(request, rt, user, year, flash=flash)


CHANGE_FIELDS = ("action", "day", "kind", "name", "decided_by", "entry_id", "token")


async def _change_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, ""))[:1000] for k in CHANGE_FIELDS}


def _change(rt: Any, user: User, values: dict[str, str]) -> calendar_change.Change:
    entry_id = (
        int(values["entry_id"]) if values["entry_id"].isdigit() and len(values["entry_id"]) < 10 else None
    )
    body = ChangeIn(
        action="remove" if values["action"] == "remove" else "add",
        day=values["day"][:40],
        kind=values["kind"][:20],
        name=values["name"],
        decided_by=values["decided_by"],
        entry_id=entry_id or None,
    )
    if body.action == "remove" and entry_id is None:
        raise not_found("ngày trong lịch", "Calendar entry")
    return change_of(rt, user, body)


def _change_errors(
    request: Request, rt: Any, user: User, values: dict[str, str], exc: DomainError
) -> Response:
    errors = field_errors(exc)
    if values["action"] == "remove":  # the removal form is a row of the entries' table
        errors = {
            f"remove-{values['entry_id']}": "; ".join(errors.values())
            or i18n.pick(exc.message, exc.message_en)
        }
    status_code = 404 if isinstance(exc, NotFound) else 422
    return _calendar_page(request, rt, user, values=values, errors=errors, status_code=status_code)


def _preview_page(
    request: Request, user: User, preview: calendar_change.Preview, status_code: int = 200, **context: Any
) -> Response:
    values = {"preview": preview, "change": preview.change, "flash": None, "flash_kind": "error"}
    values.update(context)
    return render(request, "admin_calendar_preview.html", user, values, status_code=status_code)


@router.post("/admin/calendar/preview", dependencies=[Csrf])
async def calendar_preview(request: Request, rt: RuntimeDep, user: CalendarAdmin) -> Response:
    """A day to add (or an entry to remove): what it moves, and the button that saves it."""
    values = await _change_form(request)
    try:
        change = _change(rt, user, values)
    except (InvalidInput, NotFound) as exc:
        return _change_errors(request, rt, user, values, exc)
    return _preview_page(request, user, calendar_change.preview(rt, user, change))


@router.post("/admin/calendar/apply", dependencies=[Csrf])
async def calendar_apply(request: Request, rt: RuntimeDep, user: CalendarAdmin) -> Response:
    values = await _change_form(request)
    try:
        change = _change(rt, user, values)
        done = calendar_change.apply(rt, user, change, values["token"])
    except (InvalidInput, NotFound) as exc:
        return _change_errors(request, rt, user, values, exc)
    except Conflict as exc:
        # The preview went stale: show the change's preview as it stands now.
        fresh = calendar_change.preview(rt, user, change)
        return _preview_page(
            request, user, fresh, status_code=409, flash=i18n.pick(exc.message, exc.message_en)
        )
    return RedirectResponse(f"/admin/calendar?year={change.day.year}&saved={done.count}", status_code=303)


@router.get("/admin/login-locks")
def login_locks(request: Request, rt: RuntimeDep, user: LocksAdmin, lifted: bool = False) -> Response:
    """The login locks and delays in force (login throttling), each with the button that lifts it."""
    return render(
        request,
        "admin_login_locks.html",
        user,
        {
            "locks": login_throttle.current_locks(rt),
            "flash": i18n._("Đã gỡ khóa; bộ đếm bắt đầu lại từ đầu.") if lifted else None,
            "flash_kind": "success",
        },
    )


@router.post("/admin/login-locks/{lock_id}/lift", dependencies=[Csrf])
def lift_login_lock(lock_id: RowId, rt: RuntimeDep, user: LocksAdmin) -> Response:
    login_throttle.lift(rt, user, lock_id)
    return RedirectResponse("/admin/login-locks?lifted=1", status_code=303)


@router.get("/admin/audit")
def audit_trail(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    """The latest daily root hashes of the audit trail and the verification each day's job ran."""
    with reading(rt.engine) as session:
        roots = audit_root.latest_roots(session)
    return render(request, "admin_audit.html", user, {"roots": roots, "latest": roots[0] if roots else None})
