"""Pages: my notifications, my channels; admin: partner webhooks and undelivered messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.bounds import PageNumber
from api.deps import RowId, RuntimeDep
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import AdminUser, PageUser
from api.web.templating import render
from notifications import admin_commands
from notifications.breaker import channel_key
from notifications.channel_status import ChannelStatus, channel_statuses
from notifications.dead_letters import DeadFilter, event_choices
from notifications.inbox_queries import list_for, mark_read
from workflows.clock import as_utc, format_datetime, now
from workflows.errors import DomainError, InvalidInput
from workflows.outbox import event_types
from workflows.paging import Page

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
PAGE_SIZE = 30


@router.get("/notifications")
def notifications_page(request: Request, rt: RuntimeDep, user: PageUser, page: PageNumber = 1) -> Response:
    rows, total = list_for(rt, user.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "notifications.html", user, {"result": Page(rows, total, page, PAGE_SIZE)})


@router.post("/notifications/read-all", dependencies=[Csrf])
def read_all(rt: RuntimeDep, user: PageUser) -> Response:
    mark_read(rt, user.id)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/open", dependencies=[Csrf])
def open_one(notification_id: RowId, rt: RuntimeDep, user: PageUser) -> Response:
    mark_read(rt, user.id, notification_id)
    rows, _ = list_for(rt, user.id, limit=500)
    link = next((n.link for n in rows if n.id == notification_id), None)
    safe = link if link and link.startswith("/") and not link.startswith("//") else "/notifications"
    return RedirectResponse(safe, status_code=303)


@router.get("/account/notifications")
def channels_page(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    return render(
        request, "channels.html", user, {"prefs": admin_commands.preferences_of(rt, user), "errors": {}}
    )


@router.post("/account/notifications", dependencies=[Csrf])
async def save_channels(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    form = await request.form()
    values = {
        "email": form.get("email") == "1",
        "sms": form.get("sms") == "1",
        "phone": str(form.get("phone", ""))[:30],
        "digest": form.get("digest") == "1",
    }
    try:
        admin_commands.save_preferences(rt, user, **values)
    except DomainError as exc:
        prefs = admin_commands.preferences_of(rt, user)
        prefs.email, prefs.sms, prefs.phone, prefs.digest = (
            values["email"],
            values["sms"],
            values["phone"],
            values["digest"],
        )
        return render(
            request, "channels.html", user, {"prefs": prefs, "errors": field_errors(exc)}, status_code=422
        )
    return render(
        request,
        "channels.html",
        user,
        {
            "prefs": admin_commands.preferences_of(rt, user),
            "errors": {},
            "flash": i18n._("Đã lưu cách nhận thông báo."),
            "flash_kind": "success",
        },
    )


def _webhooks_page(request: Request, rt, user, **context) -> Response:  # type: ignore[no-untyped-def]
    values = {
        "hooks": admin_commands.list_webhooks(rt),
        "event_types": sorted(event_types()),
        "errors": {},
        "values": {},
        "chosen": [],
    }
    values.update(context)
    return render(
        request, "admin_webhooks.html", user, values, status_code=422 if context.get("errors") else 200
    )


@router.get("/admin/webhooks")
def webhooks(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    return _webhooks_page(request, rt, user)


@router.post("/admin/webhooks", dependencies=[Csrf])
async def create_webhook(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, ""))[:1000] for k in ("name", "url", "purpose", "secret")}
    chosen = [str(t) for t in form.getlist("event_types")]
    try:
        hook = admin_commands.create_webhook(
            rt,
            user,
            name=values["name"],
            url=values["url"],
            event_types=chosen,
            purpose=values["purpose"] or "partner",
            secret=values["secret"],
        )
    except DomainError as exc:
        return _webhooks_page(request, rt, user, errors=field_errors(exc), values=values, chosen=chosen)
    return _webhooks_page(
        request,
        rt,
        user,
        created=hook,
        flash=i18n._("Đã tạo webhook. Lưu lại khóa bí mật để kiểm tra chữ ký."),
        flash_kind="success",
    )


@router.post("/admin/webhooks/{webhook_id}/active", dependencies=[Csrf])
async def toggle_webhook(webhook_id: RowId, request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    form = await request.form()
    admin_commands.set_webhook_active(rt, user, webhook_id, form.get("active") == "1")
    return RedirectResponse("/admin/webhooks", status_code=303)


FILTER_FIELDS = ("channel", "event_type", "since", "until")
DEAD_PAGE_SIZE = 100
FilterText = Annotated[str, Query(max_length=40)]


def _channel_label(status: ChannelStatus) -> str:
    if status.kind == "email":
        return (
            i18n._("Thư điện tử (%(server)s)", server=status.name) if status.name else i18n._("Thư điện tử")
        )
    if status.kind == "sms":
        return i18n._("Cổng SMS: %(name)s", name=status.name)
    return i18n._("Webhook: %(name)s", name=status.name)


def _paused_text(status: ChannelStatus) -> str:
    """The sentence of a paused channel: since when, and when it is tried next (only what is known)."""
    since = format_datetime(status.failing_since)
    if status.kind == "email":
        text = i18n._("Máy chủ thư không phản hồi hoặc báo lỗi từ %(since)s, đã tạm dừng gửi", since=since)
    elif status.kind == "sms":
        text = i18n._(
            "Cổng SMS %(name)s không phản hồi hoặc báo lỗi từ %(since)s, đã tạm dừng gửi",
            name=status.name,
            since=since,
        )
    else:
        text = i18n._(
            "Hệ thống đối tác %(name)s không phản hồi hoặc báo lỗi từ %(since)s, đã tạm dừng gửi",
            name=status.name,
            since=since,
        )
    if status.retry_at is None:
        return text + i18n._("; sẽ thử lại khi có thông báo cần gửi.")
    if as_utc(status.retry_at) <= now():
        return text + i18n._("; thử lại ở lượt gửi kế tiếp.")
    return text + i18n._("; thử lại lúc %(at)s.", at=format_datetime(status.retry_at))


def _state_text(status: ChannelStatus) -> str:
    if status.paused:
        return i18n._("Tạm dừng gửi")
    if not status.configured:
        return i18n._("Chưa cấu hình") if status.kind == "email" else i18n._("Đã tắt")
    if status.failures:
        return i18n._(
            "Đang lỗi: %(n)s lần liên tiếp từ %(since)s",
            n=status.failures,
            since=format_datetime(status.failing_since),
        )
    return i18n._("Bình thường")


def _deliveries_page(  # type: ignore[no-untyped-def]
    request: Request, rt, user, values: dict[str, str], page: int = 1, errors=None, **context
) -> Response:
    statuses = channel_statuses(rt)
    labels = {s.key: _channel_label(s) for s in statuses}
    errors = dict(errors or {})
    flt = DeadFilter()
    if not errors:
        try:
            flt = admin_commands.dead_filter(rt, values)
        except DomainError as exc:
            errors = field_errors(exc)
    rows, total = (
        ([], 0) if errors else admin_commands.find_dead(rt, flt, DEAD_PAGE_SIZE, (page - 1) * DEAD_PAGE_SIZE)
    )
    return render(
        request,
        "admin_deliveries.html",
        user,
        {
            "channels": [
                {"status": s, "label": labels[s.key], "state": _state_text(s)}
                | ({"paused_text": _paused_text(s)} if s.paused and s.configured else {})
                for s in statuses
            ],
            "labels": labels,
            "rows": [
                {"d": d, "event_type": event_type, "channel": channel_key(d.channel, d.webhook_id)}
                for d, event_type in rows
            ],
            "dead": {"total": total, "page": page, "page_size": DEAD_PAGE_SIZE},
            "dead_filter": flt,
            "values": values,
            "errors": errors,
            "event_types": event_choices(),
            "waiting": [
                {"d": d, "channel": channel_key(d.channel, d.webhook_id)}
                for d in admin_commands.waiting_deliveries(rt)
            ],
            "paused": {s.key for s in statuses if s.paused},
            "counts": admin_commands.delivery_counts(rt),
            "smtp_configured": bool(rt.settings.smtp_host),
            **context,
        },
        status_code=422 if errors else 200,
    )


@router.get("/admin/deliveries")
def deliveries(
    request: Request,
    rt: RuntimeDep,
    user: AdminUser,
    channel: FilterText = "",
    event_type: FilterText = "",
    since: FilterText = "",
    until: FilterText = "",
    page: PageNumber = 1,
) -> Response:
    values = {"channel": channel, "event_type": event_type, "since": since, "until": until}
    return _deliveries_page(request, rt, user, values, page)


@router.post("/admin/deliveries/retry", dependencies=[Csrf])
async def retry_matching(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    """Send again every dead message of a channel that matches the filter (one action, audited)."""
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[:40] for k in FILTER_FIELDS}
    try:
        count = admin_commands.retry_dead_matching(rt, user, admin_commands.dead_filter(rt, values))
    except InvalidInput as exc:
        return _deliveries_page(request, rt, user, values, errors=field_errors(exc))
    if count:
        flash = i18n._("Đã đưa %(n)s thông báo vào hàng đợi gửi lại.", n=count)
    else:
        flash = i18n._("Không có thông báo gửi lỗi nào khớp bộ lọc.")
    return _deliveries_page(request, rt, user, values, flash=flash, flash_kind="success" if count else "info")


@router.post("/admin/deliveries/{delivery_id}/retry", dependencies=[Csrf])
def retry(delivery_id: RowId, rt: RuntimeDep, user: AdminUser) -> Response:
    admin_commands.retry_delivery(rt, user, delivery_id)
    return RedirectResponse("/admin/deliveries", status_code=303)
