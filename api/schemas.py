"""Response and request bodies of the JSON API shared by its routes (accounts: ``api.account_schemas``;
the public lookup and verification: ``api.verification_schemas``). Instants are ISO 8601 in
Asia/Ho_Chi_Minh (+07:00)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_serializer
from pydantic_core import PydanticCustomError

from forms.text import text_problem
from workflows.calendar import get_calendar
from workflows.clock import as_utc, now, to_local
from workflows.models import Attachment, AuditEvent, Document, Dossier, WorkTask
from workflows.statuses import status_label


class LocalTimes(BaseModel):
    @field_serializer("*", when_used="json")
    def _local(self, value: Any) -> Any:
        return to_local(value).isoformat() if isinstance(value, datetime) else value


def _single_line(value: str) -> str:
    found = text_problem(value, multiline=False)
    if found is not None and found.code == "single_line":
        raise PydanticCustomError("single_line", found.message_en)
    return value


# Text of one line (a name, an address, a code): no line break or tab. What no text may carry at
# all (controls, lone surrogates, bidi overrides) is refused before any model (api.text_guard).
SingleLine = Annotated[str, AfterValidator(_single_line)]


class Label(BaseModel):
    vi: str
    en: str


class RulesVersionOut(BaseModel):
    """One dated version of a procedure's rules (what a dossier received in it follows)."""

    key: str = Field(description="What a dossier records: the ISO date it took effect ('' if undated)")
    effective_from: date | None
    effective_until: date | None
    label: Label
    legal_basis: list[str]


class ProcedureOut(BaseModel):
    code: str
    name: Label
    summary: Label
    field: str
    legal_basis: list[str]
    legal_days: int
    committed_days: int
    required_documents: list[Label]
    fees: list[dict[str, Any]]
    outputs: list[str]
    start_form: str
    model_version_id: int
    rules: RulesVersionOut = Field(description="The version of the rules in force today")
    upcoming: RulesVersionOut | None = Field(
        default=None, description="The next version of the rules, when one is known"
    )


class ProcedureDetailOut(ProcedureOut):
    start_form_fields: list[str] = Field(description="Top-level fields of the start form (through its $refs)")
    start_form_schema: dict[str, Any]
    start_form_ui_schema: dict[str, Any]


def remaining_minutes(due: datetime | None) -> int | None:
    """Working (office) minutes from now to ``due``; negative once it has passed."""
    if due is None:
        return None
    calendar = get_calendar()
    instant, due = now(), as_utc(due)
    if due >= instant:
        return int(calendar.working_time_between(instant, due).total_seconds() // 60)
    return -int(calendar.working_time_between(due, instant).total_seconds() // 60)


class TaskOut(LocalTimes):
    id: str
    dossier_code: str
    step: str
    name: Label
    candidate_role: str
    form: str | None
    status: str
    assignee_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    due_at: datetime | None
    remaining_working_minutes: int | None = None

    @classmethod
    def of(cls, task: WorkTask, dossier_code: str) -> TaskOut:
        return cls(
            id=task.id,
            dossier_code=dossier_code,
            step=task.spec_name,
            name=Label(vi=task.name, en=task.name_en),
            candidate_role=task.candidate_role,
            form=task.form,
            status=task.status,
            assignee_id=task.assignee_id,
            created_at=task.created_at,
            claimed_at=task.claimed_at,
            due_at=task.due_at,
            remaining_working_minutes=remaining_minutes(task.due_at) if task.status == "open" else None,
        )


class InboxItemOut(TaskOut):
    procedure_code: str
    applicant_name: str
    subject: str
    dossier_status: str


class TaskDetailOut(BaseModel):
    task: TaskOut
    form_schema: dict[str, Any] | None
    form_ui_schema: dict[str, Any] | None
    data: dict[str, Any]


class DossierSummaryOut(LocalTimes):
    code: str
    procedure_code: str
    applicant_name: str
    applicant_tax_code: str
    subject: str
    status: str
    status_label: Label
    current_step: str | None
    outcome: str | None
    submitted_at: datetime
    received_at: datetime | None
    appointment_at: datetime | None
    legal_due_at: datetime | None
    completed_at: datetime | None
    extension_days: int = 0
    timeliness_committed: str | None = Field(
        default=None, description="early | on_time | late, at completion"
    )
    timeliness_legal: str | None = None
    remaining_working_minutes: int | None = Field(
        default=None, description="Office time left until the appointment (negative when late)"
    )

    @classmethod
    def of(cls, dossier: Dossier) -> DossierSummaryOut:
        vi, en = status_label(dossier.status)
        return cls(
            code=dossier.code,
            procedure_code=dossier.procedure_code,
            applicant_name=dossier.applicant_name,
            applicant_tax_code=dossier.applicant_tax_code,
            subject=dossier.subject,
            status=dossier.status,
            status_label=Label(vi=vi, en=en),
            current_step=dossier.current_step,
            outcome=dossier.outcome,
            submitted_at=dossier.submitted_at,
            received_at=dossier.received_at,
            appointment_at=dossier.appointment_at,
            legal_due_at=dossier.legal_due_at,
            completed_at=dossier.completed_at,
            extension_days=dossier.extension_days,
            timeliness_committed=dossier.timeliness_committed,
            timeliness_legal=dossier.timeliness_legal,
            remaining_working_minutes=remaining_minutes(dossier.appointment_at)
            if not dossier.completed_at
            else None,
        )


class DossierPageOut(BaseModel):
    items: list[DossierSummaryOut]
    total: int
    page: int
    page_size: int
    more: bool = Field(
        default=False,
        description="Lists are counted up to 1,000: true when more match (total is then a lower bound) / "
        "true khi còn nhiều hơn (total khi đó là cận dưới)",
    )


class InboxPageOut(BaseModel):
    items: list[InboxItemOut]
    total: int
    page: int
    page_size: int
    more: bool = Field(
        default=False,
        description="Lists are counted up to 1,000: true when more match (total is then a lower bound) / "
        "true khi còn nhiều hơn (total khi đó là cận dưới)",
    )


class HistoryEventOut(LocalTimes):
    seq: int
    action: str
    at: datetime
    actor: str
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent, with_details: bool) -> HistoryEventOut:
        details = (
            event.details if with_details else {k: v for k, v in event.details.items() if k in _PUBLIC_KEYS}
        )
        return cls(seq=event.seq, action=event.action, at=event.at, actor=event.actor_label, details=details)


# What a business may read of an event's details (the rest is the department's working record).
_PUBLIC_KEYS = frozenset(
    {
        "code",
        "procedure",
        "reason",
        "items",
        "reasons",
        "outcome",
        "kind",
        "number",
        "received_at",
        "appointment_at",
        "legal_due_at",
        "task",
        "filename",
    }
)


class DocumentOut(LocalTimes):
    id: str
    kind: str
    title: str
    number: str
    filename: str
    sha256: str
    size: int
    verification_code: str
    issued_at: datetime
    signed: bool = Field(description="The official copy (the PDF signed by the agency) is ready")
    signed_at: datetime | None = None
    pdf_sha256: str | None = Field(default=None, description="SHA-256 of the signed PDF, once signed")
    download_url: str = Field(description="The official copy: the signed PDF (409 while being signed)")
    editable_url: str = Field(description="The .docx it was rendered as: officers only")

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        return cls(
            id=document.id,
            kind=document.kind,
            title=document.title,
            number=document.number,
            filename=document.filename,
            sha256=document.sha256,
            size=document.size,
            verification_code=document.verification_code,
            issued_at=document.issued_at,
            signed=document.pdf_sha256 is not None,
            signed_at=document.signed_at,
            pdf_sha256=document.pdf_sha256,
            download_url=f"/api/documents/{document.id}",
            editable_url=f"/api/documents/{document.id}/docx",
        )


class AttachmentOut(LocalTimes):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            created_at=attachment.created_at,
            download_url=f"/api/attachments/{attachment.id}",
        )


class SupplementRequestOut(LocalTimes):
    requested_at: datetime
    answered_at: datetime | None
    items: list[str]


class DossierOut(DossierSummaryOut):
    data: dict[str, Any]
    open_tasks: list[TaskOut]
    history: list[HistoryEventOut]
    documents: list[DocumentOut]
    attachments: list[AttachmentOut]
    supplement_requests: list[SupplementRequestOut]


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class ExtendIn(BaseModel):
    days: int = Field(ge=1, le=30, description="Ngày làm việc gia hạn / working days added")
    reason: str = Field(min_length=10, max_length=2000, description="Lý do chậm / why the result is late")


class TimelinessOut(BaseModel):
    group: str
    total: int
    early: int
    on_time: int
    late: int
    legal_late: int
