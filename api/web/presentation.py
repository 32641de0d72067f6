"""How dossier data and history read on a page: labels of events, fields of the filed form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.web.i18n import _, current_language, pick
from forms.registry import Form
from workflows.models import AuditEvent, WorkTask
from workflows.plugins import plugin_history_labels, plugin_pause_labels


@dataclass(frozen=True)
class TimelineEntry:
    at: Any
    actor: str
    text: str
    details: str


def _action_text(event: AuditEvent, tasks: dict[str, WorkTask]) -> str:
    d = event.details
    labels = {
        "submitted": _("Nộp hồ sơ"),
        "received": _("Tiếp nhận hồ sơ, hẹn ngày trả kết quả"),
        "clock_paused": _("Yêu cầu bổ sung hồ sơ (tạm dừng tính thời gian)"),
        "clock_resumed": _("Nhận hồ sơ bổ sung (tiếp tục tính thời gian)"),
        "task_claimed": _("Nhận xử lý"),
        "task_released": _("Trả lại việc"),
        "task_assigned": _("Giao cho cán bộ đã xử lý bước trước"),
        "document_issued": _("Phát hành văn bản"),
        "closed": _("Kết thúc hồ sơ"),
        "withdrawn": _("Rút hồ sơ"),
        "attachment_added": _("Thêm tệp đính kèm"),
        "flagged": _("Cảnh báo vi phạm"),
        "violation_handled": _("Xử lý vi phạm"),
        "deadlines_recomputed": _("Tính lại thời hạn theo lịch làm việc mới"),
        "service_rated": _("Đánh giá mức độ hài lòng"),
    }
    pause = plugin_pause_labels().get(str(d.get("reason", "")))
    if event.action in ("clock_paused", "clock_resumed") and pause is not None:
        return pick(*(pause[0] if event.action == "clock_paused" else pause[1]))
    procedure_label = plugin_history_labels().get(event.action)
    if procedure_label is not None:
        return pick(*procedure_label)
    if event.action == "task_completed":
        task = tasks.get(str(d.get("task_id", "")))
        name = pick(task.name, task.name_en) if task else str(d.get("task", ""))
        return _("Hoàn thành: %(step)s", step=name)
    if event.action in ("task_claimed", "task_released", "task_assigned"):
        task = tasks.get(str(d.get("task_id", "")))
        if task:
            return f"{labels[event.action]}: {pick(task.name, task.name_en)}"
    return labels.get(event.action, event.action)


def _action_details(event: AuditEvent) -> str:
    d = event.details
    if d.get("forwarded_to"):  # a question forwarded for an outside opinion, or a reminder of it
        return str(d["forwarded_to"])
    if event.action == "clock_paused" and d.get("items"):
        return "; ".join(str(i) for i in d["items"])
    if event.action == "closed":
        reasons = d.get("reasons") or ([d["reason"]] if d.get("reason") else [])
        return "; ".join(str(r) for r in reasons)
    if event.action == "document_issued":
        return str(d.get("number", ""))
    if event.action == "withdrawn" or event.action in plugin_history_labels():
        return str(d.get("reason", ""))
    if event.action == "attachment_added":
        return str(d.get("filename", ""))
    if event.action == "task_assigned":
        return str(d.get("assignee", ""))
    if event.action == "violation_handled":
        return str(d.get("handling", ""))
    if event.action == "service_rated":
        return " — ".join(str(p) for p in (f"{d.get('score', '')}/5", d.get("comment")) if p)
    if event.action == "deadlines_recomputed":
        return f"{d.get('reason', '')} ({d.get('decided_by', '')})"
    return ""


# What the process model does by itself (its service steps), whoever's command set it going.
AUTOMATIC_ACTIONS = frozenset(
    {
        "received",
        "document_issued",
        "clock_paused",
        "clock_resumed",
        "closed",
        "flagged",
        "outcome_recorded",
        "task_assigned",
    }
)


def timeline(
    history: list[AuditEvent], tasks: list[WorkTask], applicant_id: int | None = None
) -> list[TimelineEntry]:
    """The dossier's history as people read it. A step the model took by itself right after the
    applicant's own action (a question received on submission) is the system's, not the
    applicant's: the department received it."""
    by_id = {t.id: t for t in tasks}
    return [
        TimelineEntry(
            event.at,
            _("Hệ thống (tự động)")
            if event.action in AUTOMATIC_ACTIONS
            and (event.actor_id is None or event.actor_id == applicant_id)
            else event.actor_label,
            _action_text(event, by_id),
            _action_details(event),
        )
        for event in history
    ]


@dataclass(frozen=True)
class ShownField:
    label: str
    value: Any
    children: list[ShownField]
    is_attachment: bool = False


def shown_fields(form: Form, data: dict[str, Any], path: tuple = ()) -> list[ShownField]:
    """The filed data as labelled rows, in the form's order (nested objects indented)."""
    lang_en = pick("vi", "en") == "en"
    rows: list[ShownField] = []
    names = form.field_names(path)
    for name in names:
        if name not in data:
            continue
        value = data[name]
        label = form.field_title((*path, name), "en" if lang_en else "vi")
        if isinstance(value, dict):
            rows.append(ShownField(label, None, shown_fields(form, value, (*path, name))))
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            # Repeating groups (e.g. goods lines): one numbered sub-list per item.
            items = [
                ShownField(f"{label} {index + 1}", None, shown_fields(form, item, (*path, name, index)))
                for index, item in enumerate(value)
            ]
            rows.append(ShownField(label, None, items))
        else:
            schemas = form.field_schemas((*path, name))
            is_attachment = any(s.get("format") == "attachment" for s in schemas) or any(
                isinstance(s.get("items"), dict) and s["items"].get("format") == "attachment" for s in schemas
            )
            rows.append(ShownField(label, _readable(schemas, value), [], is_attachment))
    return rows


def _readable(schemas: list, value: Any) -> Any:
    """Enum values by their label, dates as dd/mm/yyyy, yes/no for booleans."""
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    for schema in schemas:
        labels = schema.get("x-enum-labels")
        if isinstance(labels, dict) and isinstance(value, str) and value in labels:
            return pick(labels[value].get("vi", value), labels[value].get("en", value))
        if schema.get("format") == "date" and isinstance(value, str) and len(value) == 10:
            year, month, day = value.split("-")
            return f"{day}/{month}/{year}"
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> str:
    """A number as the page's language writes it: 481, 1.250,5 in Vietnamese; 1,250.5 in English."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    if current_language.get() == "en":
        return text
    return text.translate(str.maketrans({",": ".", ".": ","}))


def working_notes(forms: list[Form], start_form: Form, data: dict[str, Any]) -> list[ShownField]:
    """The officers' decisions and notes in the data, labelled by the task forms that asked for them."""
    filed = set(start_form.field_names())
    rows: list[ShownField] = []
    seen: set[str] = set()
    for form in forms:
        for name in form.field_names():
            if name in filed or name in seen or name not in data:
                continue
            seen.add(name)
            rows.append(
                ShownField(_label(form, name), _readable(form.field_schemas((name,)), data[name]), [])
            )
    return rows


def _label(form: Form, name: str) -> str:
    return form.field_title((name,), "en" if pick("vi", "en") == "en" else "vi")
