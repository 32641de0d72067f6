"""Pages: my notifications, my channels; admin: partner webhooks and undelivered messages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.deps import RowId, RuntimeDep
from api.web import i18n
from api.web.account import field_errors
from api.web.csrf import verify_csrf
from api.web.session import AdminUser, PageUser
from api.web.templating import render
from notifications import admin_commands, retry_dead
from notifications.inbox_queries import list_for, mark_read
from workflows.errors import DomainError
from workflows.outbox import event_types

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)


@router.get("/notifications")
def notifications_page(request: Request, rt: RuntimeDep, user: PageUser) -> Response:
    rows, total = list_for(rt, user.id, limit=100)
    return render(request, "notifications.html", user, {"rows": rows, "total": total})


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


@router.get("/admin/deliveries")
def deliveries(request: Request, rt: RuntimeDep, user: AdminUser) -> Response:
    return render(
        request,
        "admin_deliveries.html",
        user,
        {
            "rows": admin_commands.dead_deliveries(rt),
            "waiting": admin_commands.waiting_deliveries(rt),
            "counts": admin_commands.delivery_counts(rt),
            "smtp_configured": bool(rt.settings.smtp_host),
        },
    )


@router.post("/admin/deliveries/{delivery_id}/retry", dependencies=[Csrf])
def retry(delivery_id: RowId, rt: RuntimeDep, user: AdminUser) -> Response:

    retry_dead(rt, delivery_id)
    return RedirectResponse("/admin/deliveries", status_code=303)
