"""The Jinja2 environment of the pages: i18n, date filters, labels, the form macros."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    TemplateNotFound,
    select_autoescape,
)
from starlette.responses import Response

from api.web import i18n
from api.web.csrf import CSRF_FIELD, csrf_token
from notifications.inbox_queries import unread_count
from workflows import permissions, tax_codes
from workflows.calendar import get_calendar
from workflows.clock import as_utc, format_date, format_datetime, now, to_local
from workflows.documents import DOCUMENT_KINDS
from workflows.models import User
from workflows.plugins import NavLink, nav_links, template_folders
from workflows.sla import working_day_length
from workflows.statuses import status_label

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FORMS_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "forms" / "templates"


class _ProcedurePages(BaseLoader):
    """The pages and fragments of the procedures loaded (each plug-in's ``templates/pages``),
    looked up when asked for: the plug-ins register when the catalogue loads, after this module."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        for folder in template_folders():
            pages = folder / "pages"
            if (pages / template).is_file():
                return FileSystemLoader(pages).get_source(environment, template)
        raise TemplateNotFound(template)


_env = Environment(
    loader=ChoiceLoader(
        [FileSystemLoader(TEMPLATES_DIR), FileSystemLoader(FORMS_TEMPLATES_DIR), _ProcedurePages()]
    ),
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
    """Office time left before a deadline (or past it), as a person would say it."""
    if due is None:
        return ""
    calendar = get_calendar()
    instant, due_utc = now(), as_utc(due)
    late = due_utc < instant
    span = calendar.working_time_between(*(sorted((instant, due_utc))))
    minutes = int(span.total_seconds() // 60)
    day_minutes = int(working_day_length(calendar).total_seconds() // 60)
    days, rest = divmod(minutes, day_minutes)
    hours = rest // 60
    text = (
        i18n._("%(d)s ngày %(h)s giờ làm việc", d=days, h=hours)
        if days
        else i18n._("%(h)s giờ %(m)s phút làm việc", h=hours, m=rest % 60)
    )
    return i18n._("trễ %(t)s", t=text) if late else i18n._("còn %(t)s", t=text)


def _working_days(n: float | int) -> str:
    """ "3 ngày làm việc" / "1 working day", "3 working days"."""
    if n == 1:
        return i18n._("1 ngày làm việc")
    return i18n._("%(n)s ngày làm việc", n=f"{n:g}" if isinstance(n, float) else n)


# A maintainer's reminder in the catalogue, e.g. "(check)" or "(check: theo biểu phí hiện hành)".
_MAINTAINER_NOTE = re.compile(r"\s*\(check(?::[^)]*)?\)", re.IGNORECASE)


def _public_text(text: str) -> str:
    """Catalogue text as the public reads it: without the maintainers' "(check …)" reminders."""
    return _MAINTAINER_NOTE.sub("", text or "").strip()


def _document_title(document: Any) -> str:
    """An issued document's title in the page's language (the stored title is the Vietnamese one
    of its kind, unless the issuer gave it its own)."""
    kind = DOCUMENT_KINDS.get(getattr(document, "kind", ""))
    title = getattr(document, "title", "")
    if kind is not None and title == kind.title_vi:
        return i18n.pick(kind.title_vi, kind.title_en)
    return title


def _pager_query(params: Any, page: int) -> str:
    from urllib.parse import urlencode

    items = [(k, v) for k, v in params.multi_items() if k != "page"]
    return urlencode([*items, ("page", str(page))])


def _thousands(n: int) -> str:
    """A count as the language writes it: 1.000 in Vietnamese, 1,000 in English."""
    grouped = f"{n:,}"
    return grouped.replace(",", ".") if i18n.current_language.get() == "vi" else grouped


templates.env.filters.update(
    pager_query=_pager_query,
    thousands=_thousands,
    date=format_date,
    # A calendar date (a certificate's day, its validity), not an instant: no time zone to convert.
    day=lambda d: d.strftime("%d/%m/%Y") if d else "",
    datetime=format_datetime,
    time=lambda instant: to_local(instant).strftime("%H:%M") if instant else "",
    status=_status,
    due_state=_due_state,
    remaining=_remaining,
    working_days=_working_days,
    public_text=_public_text,
    document_title=_document_title,
    filesize=lambda n: (
        f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"
    ),
)


def _timeliness(value: str | None) -> str:
    labels = {"early": i18n._("Trước hạn"), "on_time": i18n._("Đúng hạn"), "late": i18n._("Trễ hạn")}
    return labels.get(value or "", "")


def _procedure_links(where: str, user: User | None) -> list[NavLink]:
    """The links the procedures add to a menu ("main" | "admin") that ``user`` may follow."""

    def shown(link: NavLink) -> bool:
        if link.audience == "everyone":
            return True
        return permissions.may(user, _AUDIENCE_ACTIONS.get(link.audience, link.audience))

    return [link for link in nav_links(where) if shown(link)]


# A menu link's audience, as the policy's action whose pages it opens.
_AUDIENCE_ACTIONS = {"officers": permissions.WORK_PAGES, "admins": permissions.ADMIN_PAGES}


def _may(user: User | None, action: str) -> bool:
    """The policy for the templates: ``may(user, "work.pages")`` shows or hides a menu entry."""
    return permissions.may(user or None, action)  # a page without a user has an undefined one


def _tax_code_state(state: str | None) -> str:
    return i18n.pick(*tax_codes.state_label(state))


templates.env.globals.update(
    tax_code_state=_tax_code_state,
    timeliness_label=_timeliness,
    pick=i18n.pick,
    csrf_field=CSRF_FIELD,
    languages=i18n.LANGUAGES,
    procedure_links=_procedure_links,
    may=_may,
)


def _language_href(request: Request, code: str) -> str:
    """Where the language switch goes: this page with its query (a search, a page number) in the
    other language. A page answering a form post (its errors) has no address of its own to show
    again, so the switch goes back to the page the form was on."""
    path, params = request.url.path, list(request.query_params.multi_items())
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc in ("", request.url.netloc)
        path, params = (referer.path or "/", parse_qsl(referer.query)) if same_site else ("/", [])
    kept = [(k, v) for k, v in params if k not in ("lang", "flash")]
    return f"{path}?{urlencode([*kept, ('lang', code)])}"


def _office_periods(setting: str) -> str:
    """``"07:30-11:30,13:30-17:00"`` as the footer says it: 07:30–11:30, 13:30–17:00."""
    return ", ".join(part.strip().replace("-", "–") for part in setting.split(",") if part.strip())


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
        # The language switch keeps the page's query (a search, a page number) and changes the language.
        "lang_href": lambda code: _language_href(request, code),
        "agency_name": request.app.state.runtime.settings.agency_name,
        "agency_parent": request.app.state.runtime.settings.agency_parent,
        "office_address": request.app.state.runtime.settings.office_address,
        "office_hotline": request.app.state.runtime.settings.office_hotline,
        "office_periods": _office_periods(request.app.state.runtime.settings.office_hours),
        "max_upload_mb": f"{request.app.state.runtime.settings.max_upload_bytes / 1024 / 1024:g}",
    }
    if user is not None:
        values["unread_count"] = unread_count(request.app.state.runtime, user.id)
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
