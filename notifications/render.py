"""Messages from Jinja2 templates: an e-mail (text and HTML), an in-app title and body, an SMS.

Each event type has ``<type>.txt`` and ``<type>.html`` in ``templates/``, extending one shared
layout per format. The ``.txt`` template also holds the one-line pieces as blocks (``subject``,
``title_vi``/``title_en``, ``body_vi``/``body_en``, ``sms``), rendered one by one. HTML is
autoescaped; text is not. Vietnamese comes first, then English. Instants are shown as
dd/mm/yyyy HH:MM in the office's time zone; links are absolute, built from ``settings.base_url``
(in-app links are paths, so they work behind any host name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from workflows.catalogue import Procedure
from workflows.clock import as_utc
from workflows.models import User, WorkTask
from workflows.outbox import OutboxEvent
from workflows.plugins import template_folders
from workflows.runtime import Runtime

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Events whose link is the task page rather than the dossier page.
TASK_EVENTS = frozenset({"task_available", "task_reminder"})
SMS_LIMIT = 320  # two concatenated Unicode SMS segments (Vietnamese needs UCS-2)


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    title_vi: str
    title_en: str
    body_vi: str
    body_en: str
    link: str | None  # a path under base_url
    sms: str


def _instant(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return as_utc(value)
    raise TypeError(f"not an instant: {value!r}")


@pass_context
def _when(context: Context, value: Any) -> str:
    """HH:MM dd/mm/yyyy (as the pages write it) in the office's time zone."""
    instant = _instant(value)
    return instant.astimezone(context["zone"]).strftime("%H:%M %d/%m/%Y") if instant else ""


@pass_context
def _day(context: Context, value: Any) -> str:
    """dd/mm/yyyy (an instant in the office's time zone, or a date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    instant = _instant(value)
    return instant.astimezone(context["zone"]).strftime("%d/%m/%Y") if instant else ""


def _label(value: Any) -> str:
    """An item of a list typed by an officer (a string, or an object with a name or label)."""
    if isinstance(value, dict):
        for key in ("name", "label", "title", "text", "vi"):
            if value.get(key):
                return str(value[key])
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def environment() -> Environment:
    """The templates of the core's events, and of the events of the procedures' plug-ins (each in
    its ``templates/notifications`` folder)."""
    return _environment(tuple(folder / "notifications" for folder in template_folders()))


@lru_cache(maxsize=4)
def _environment(plugin_folders: tuple[Path, ...]) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), *(FileSystemLoader(p) for p in plugin_folders)]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(when=_when, day=_day, label=_label, as_list=_as_list)
    return env


def _block(template: Template, name: str, context: dict[str, Any], one_line: bool) -> str:
    render = template.blocks.get(name)
    if render is None:
        return ""
    text = "".join(render(template.new_context(context))).strip()
    return " ".join(text.split()) if one_line else text


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    result: list[str] = []
    for line in lines:
        if line or (result and result[-1]):
            result.append(line)
    return "\n".join(result) + "\n"


class Renderer:
    """Renders the messages of one runtime (its base URL, agency, catalogue and time zone)."""

    def __init__(self, rt: Runtime) -> None:
        self.settings = rt.settings
        self.catalogue = rt.catalogue
        self.zone = ZoneInfo(rt.settings.timezone)
        self.base_url = rt.settings.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def common(self) -> dict[str, Any]:
        """What every template may use (the layout's dossier facts are blank outside a dossier)."""
        return {
            "zone": self.zone,
            "base_url": self.base_url,
            "agency_name": self.settings.agency_name,
            "agency_parent": self.settings.agency_parent,
            "code": "",
            "procedure_vi": "",
            "procedure_en": "",
            "dossier_subject": "",
            "applicant_name": "",
            "is_applicant": False,
            "link_url": None,
        }

    def _secret_link(self, procedure: Procedure | None, user: User | None, code: str) -> str | None:
        visitor_link = procedure.plugin.visitor_link if procedure is not None else None
        if visitor_link is None or user is None or not code:
            return None
        return visitor_link(user, self.settings.signing_key(), code)

    def event_context(
        self, event: OutboxEvent, user: User | None, task: WorkTask | None = None
    ) -> dict[str, Any]:
        p: dict[str, Any] = dict(event.payload)
        code = str(p.get("code") or "")
        procedure = self.catalogue.get(str(p.get("procedure_code") or ""))
        task_id = p.get("task_id")
        role = p.get("role") or p.get("recipient_role")
        task_path = None
        if task_id:
            task_path = f"/my/tasks/{task_id}" if role == "business" else f"/work/tasks/{task_id}"
        dossier_path = f"/dossiers/{code}" if code else None
        link = task_path if event.type in TASK_EVENTS and task_path else dossier_path
        document_ids = [p["document_id"]] if p.get("document_id") else _as_list(p.get("documents"))
        documents = [{"id": d, "url": self.url(f"/files/documents/{d}")} for d in document_ids]
        secret_link = self._secret_link(procedure, user, code)
        if secret_link is not None:
            # A person without an account (a visitor) follows the dossier through a secret link.
            link = dossier_path = secret_link
            documents = [{"id": d, "url": self.url(f"{link}/documents/{d}")} for d in document_ids]
        if p.get("link_path"):  # an event about something other than a dossier (a WTO notification)
            link = str(p["link_path"])
        is_applicant = user is not None and user.id == p.get("applicant_id")
        return {
            **self.common(),
            "event": event,
            "p": p,
            "code": code,
            "procedure_vi": procedure.name_vi if procedure else p.get("procedure_code", ""),
            "procedure_en": procedure.name_en if procedure else p.get("procedure_code", ""),
            "applicant_name": p.get("applicant_name") or "",
            "dossier_subject": p.get("subject") or "",
            "recipient_name": (user.display_name if is_applicant else user.full_name) if user else "",
            "is_applicant": is_applicant,
            "dossier_url": self.url(dossier_path) if dossier_path else None,
            "task_url": self.url(task_path) if task_path else None,
            "documents": documents,
            "document_url": documents[0]["url"] if documents else None,
            "link": link,
            "link_url": self.url(link) if link else None,
            "at": event.created_at,
            "items": _as_list(p.get("items")),
            "reasons": _as_list(p.get("reasons")) or _as_list(p.get("reason")),
            "task_name": p.get("task_name") or (task.name if task else ""),
            "task_name_en": p.get("task_name_en")
            or (task.name_en if task else "")
            or p.get("task_name")
            or "",
        }

    def render(self, name: str, context: dict[str, Any], link: str | None = None) -> Message:
        env = environment()
        text_template = env.get_template(f"{name}.txt")
        html_template = env.get_template(f"{name}.html")
        subject = _block(text_template, "subject", context, one_line=True)[:500]
        return Message(
            subject=subject,
            text=_tidy(text_template.render(context)),
            html=html_template.render({**context, "email_subject": subject}).strip() + "\n",
            title_vi=_block(text_template, "title_vi", context, one_line=True)[:300],
            title_en=_block(text_template, "title_en", context, one_line=True)[:300],
            body_vi=_block(text_template, "body_vi", context, one_line=True)[:2000],
            body_en=_block(text_template, "body_en", context, one_line=True)[:2000],
            link=link,
            sms=_block(text_template, "sms", context, one_line=True)[:SMS_LIMIT],
        )

    def event_message(self, event: OutboxEvent, user: User | None, task: WorkTask | None = None) -> Message:
        context = self.event_context(event, user, task)
        return self.render(event.type, context, context["link"])
