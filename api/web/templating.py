"""The Jinja2 environment of the pages: i18n, date filters, labels, the form macros."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response

from api.web import i18n
from api.web.csrf import CSRF_FIELD, csrf_token
from workflows.clock import format_date, format_datetime, now, to_local
from workflows.models import User
from workflows.statuses import status_label

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FORMS_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "forms" / "templates"

_env = Environment(
    loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), FileSystemLoader(FORMS_TEMPLATES_DIR)]),
    extensions=["jinja2.ext.i18n"],
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
templates = Jinja2Templates(env=_env)


def _status(status: str) -> str:
    vi, en = status_label(status)
    return i18n.pick(vi, en)


def _due_state(due: datetime | None) -> str:
    """A colour class for a deadline: overdue, due within a day, or fine."""
    if due is None:
        return "none"
    left = (to_local(due) - to_local(now())).total_seconds()
    if left < 0:
        return "overdue"
    if left < 24 * 3600:
        return "soon"
    return "ok"


def _remaining(due: datetime | None) -> str:
    if due is None:
        return ""
    seconds = int((to_local(due) - to_local(now())).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    text = i18n._("%(d)s ngày %(h)s giờ", d=days, h=hours) if days else i18n._("%(h)s giờ", h=hours)
    return i18n._("trễ %(t)s", t=text) if late else i18n._("còn %(t)s", t=text)


def _pager_query(params: Any, page: int) -> str:
    from urllib.parse import urlencode

    items = [(k, v) for k, v in params.multi_items() if k != "page"]
    return urlencode([*items, ("page", str(page))])


templates.env.filters.update(
    pager_query=_pager_query,
    date=format_date,
    datetime=format_datetime,
    status=_status,
    due_state=_due_state,
    remaining=_remaining,
    filesize=lambda n: f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB",
)
templates.env.globals.update(pick=i18n.pick, csrf_field=CSRF_FIELD, languages=i18n.LANGUAGES)


def render(
    request: Request,
    name: str,
    user: User | None,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    values = {
        "user": user,
        "lang": i18n.current_language.get(),
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "agency_name": request.app.state.runtime.settings.agency_name,
        "agency_parent": request.app.state.runtime.settings.agency_parent,
        "max_upload_mb": f"{request.app.state.runtime.settings.max_upload_bytes / 1024 / 1024:g}",
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
